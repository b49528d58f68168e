/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-ctl - look at and adjust a live bus (semantics §12, §2, §4).
 *
 * `bindings` and `stats` are the old /proc/kbus/bindings and
 * /proc/kbus/stats, as aligned tables or one JSON object; `replier NAME`,
 * `new-bus` and `max-message-size [N]` print one number (or one JSON
 * object).  kbus-ctl is a client of the bus while it asks, so its own ksock
 * appears in `stats` (the JSON "self" field and the summary line say
 * which).  `policy` prints the policy kbusd enforces and `explain` asks it
 * what that policy decides for a uid, and which rule decides.  `version`
 * prints kbusd's version; `doctor` checks the machine (ctl-doctor.c) and
 * runs even when no kbusd does.  It links
 * libkbus's internal library for the queries, which the shared libkbus does
 * not export.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/broker/policy-load.h"
#include "../src/lib/query.h"
#include "common.h"
#include "ctl-doctor.h"
#include "errors.h"
#include "format.h"
#include "table.h"

#define CTL_GROUPS_MAX 256

typedef struct CtlOptions {
        ToolBus bus;
        bool json;
        const char *uid;                   /* explain --uid */
        const char *policy;                /* doctor --policy, or NULL: the default file */
        const char *gids[CTL_GROUPS_MAX];  /* explain --gid, the first is the primary */
        int ngids;
        const char *command;
        char **args;
        int nargs;
} CtlOptions;

/* One command: its name, how many arguments it takes, and what it does. */
typedef struct CtlCommand {
        const char *name;
        int min_args, max_args;
        void (*check)(const CtlOptions *o); /* usage checks before opening, or NULL */
        int (*run)(const CtlOptions *o, kbus_ksock_t ks); /* ks is -1 for doctor */
        bool no_ksock;                      /* runs without opening the bus */
} CtlCommand;

static void ctl_usage(FILE *f)
{
        fprintf(f,
                "Usage: kbus-ctl [--bus N] [--json] COMMAND\n"
                "Look at and adjust a live KBUS bus, or check this machine (doctor).\n"
                "\n"
                "  bindings              every binding: bus, ksock, pid, uid, R/L, name\n"
                "  stats                 the bus's counters; each ksock's queue and traffic\n"
                "  replier NAME          the ksock id of NAME's replier (status 1 if none)\n"
                "  new-bus               open a new bus and print its number\n"
                "  max-message-size [N]  the bus's maximum message size, set to N if given\n"
                "  policy                the policy kbusd enforces, and the quota limits\n"
                "  explain ACTION [NAME] what the policy decides for --uid in --gid groups,\n"
                "                        and why (connect, listen, own, send, set, newbus)\n"
                "  version               the version of the kbusd serving the bus\n"
                "  doctor                check the socket directory, kbusd, the policy and\n"
                "                        systemd; say how to fix what is wrong\n"
                "  -b, --bus N           bus number, /dev/kbusN, or socket path (default 0)\n"
                "  -j, --json            print one JSON object instead of text\n"
                "  -u, --uid USER        explain: a user name or uid (default: you)\n"
                "  -g, --gid GROUP       explain: a group, repeatable (default: USER's)\n"
                "  -p, --policy FILE     doctor: the policy file (default %s)\n"
                "  -h, --help            show this help and exit\n"
                "  -V, --version         show the version and exit\n"
                "Exit status: 0 success, 1 failure (denied, no replier, a check failed), 2\n"
                "usage error. KBUS_SOCKET_DIR overrides the socket directory. See kbus-ctl(1).\n",
                KBUS_POLICY_DEFAULT);
}

static void ctl_parse(int argc, char **argv, CtlOptions *o)
{
        static const struct option opts[] = {
                { "bus", required_argument, NULL, 'b' },
                { "json", no_argument, NULL, 'j' },
                { "uid", required_argument, NULL, 'u' },
                { "gid", required_argument, NULL, 'g' },
                { "policy", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":b:ju:g:p:hV", opts, NULL)) != -1) {
                switch (c) {
                case 'b':
                        tool_option_bus(optarg, &o->bus);
                        break;
                case 'j': o->json = true; break;
                case 'u': o->uid = optarg; break;
                case 'p': o->policy = optarg; break;
                case 'g':
                        if (o->ngids == CTL_GROUPS_MAX)
                                tool_usage_error("more than %d --gid options", CTL_GROUPS_MAX);
                        o->gids[o->ngids++] = optarg;
                        break;
                case 'h': ctl_usage(stdout); exit(TOOL_EXIT_OK);
                case 'V': tool_print_version(); exit(TOOL_EXIT_OK);
                default: tool_bad_option(c, argv, opts);
                }
        }
        if (optind >= argc)
                tool_usage_error("missing the COMMAND");
        o->command = argv[optind];
        o->args = argv + optind + 1;
        o->nargs = argc - optind - 1;
}

static void ctl_context(const CtlOptions *o, char *out, size_t outlen)
{
        tool_bus_label(&o->bus, out, outlen);
}

/* Reports a failed call; returns the exit status. */
static int ctl_fail(const CtlOptions *o, int err)
{
        char label[300];

        ctl_context(o, label, sizeof(label));
        tool_error(label, err, TOOL_OP_CONTROL);
        return TOOL_EXIT_FAIL;
}

/* ---- bindings ------------------------------------------------------------ */

static void ctl_bindings_json(const KbusBindingInfo *b, size_t n)
{
        printf("{\"bindings\":[");
        for (size_t i = 0; i < n; i++) {
                printf("%s{\"bus\":%u,\"ksock\":%u,\"pid\":%u,\"uid\":%u,\"replier\":%s,\"name\":",
                       i ? "," : "", b[i].bus, b[i].ksock_id, b[i].pid, b[i].uid,
                       b[i].is_replier ? "true" : "false");
                fmt_json_string(stdout, b[i].name, strlen(b[i].name));
                putchar('}');
        }
        printf("]}\n");
}

static int ctl_bindings_table(const KbusBindingInfo *b, size_t n)
{
        static const char *const headers[] = { "BUS", "KSOCK", "PID", "UID", "R/L", "NAME" };
        Table *t;
        int r = table_new(&t, 6, headers, 0xf);

        for (size_t i = 0; r == 0 && i < n; i++) {
                r = table_cell(t, "%u", b[i].bus);
                r = r ? r : table_cell(t, "%u", b[i].ksock_id);
                r = r ? r : table_cell(t, "%u", b[i].pid);
                r = r ? r : table_cell(t, "%u", b[i].uid);
                r = r ? r : table_cell(t, "%s", b[i].is_replier ? "R" : "L");
                r = r ? r : table_cell(t, "%s", b[i].name);
        }
        if (r == 0)
                table_print(t, stdout);
        table_free(t);
        return r;
}

/* By name, then ksock id, listeners before repliers: a stable order to read and test. */
static int ctl_binding_cmp(const void *pa, const void *pb)
{
        const KbusBindingInfo *a = pa, *b = pb;
        int c = strcmp(a->name, b->name);

        if (c)
                return c;
        if (a->ksock_id != b->ksock_id)
                return a->ksock_id < b->ksock_id ? -1 : 1;
        return (a->is_replier > b->is_replier) - (a->is_replier < b->is_replier);
}

static int ctl_bindings(const CtlOptions *o, kbus_ksock_t ks)
{
        KbusBindingInfo *b;
        size_t n;
        int r = kbus_query_bindings(ks, &b, &n);

        if (r < 0)
                return ctl_fail(o, r);
        qsort(b, n, sizeof(*b), ctl_binding_cmp);
        if (o->json)
                ctl_bindings_json(b, n);
        else
                r = ctl_bindings_table(b, n);
        kbus_query_bindings_free(b, n);
        return r < 0 ? ctl_fail(o, r) : TOOL_EXIT_OK;
}

/* ---- stats --------------------------------------------------------------- */

static void ctl_stats_json_ksock(const KbusKsockStats *k)
{
        printf("{\"ksock\":%u,\"pid\":%u,\"uid\":%u,\"queued\":%u,\"max_messages\":%u,"
               "\"reserved\":%u,\"unreplied\":%u,\"held\":%u,\"set_aside\":%u,\"bindings\":%u,"
               "\"sent\":%llu,\"received\":%llu,\"missed\":%llu}",
               k->id, k->pid, k->uid, k->queued, k->max_messages, k->reserved, k->unreplied,
               k->held, k->set_aside, k->bindings, (unsigned long long)k->sent,
               (unsigned long long)k->received, (unsigned long long)k->missed);
}

static void ctl_users_json(const KbusQuotaStats *q);

static void ctl_stats_json(const KbusBusStats *s, uint32_t self, const KbusQuotaStats *q)
{
        printf("{\"bus\":%u,\"self\":%u,\"ksocks\":%u,\"bindings\":%u,\"max_message_size\":%u,"
               "\"held\":%u,\"set_aside\":%u,\"last_serial\":%u,\"reporting_binds\":%u,"
               "\"ksock_stats\":[",
               s->bus, self, s->ksocks, s->bindings, s->max_msg_size, s->held, s->set_aside,
               s->last_serial, s->reporting);
        for (uint32_t i = 0; i < s->nksocks; i++) {
                if (i)
                        putchar(',');
                ctl_stats_json_ksock(&s->ksocks_stats[i]);
        }
        putchar(']');
        ctl_users_json(q);
        printf("}\n");
}

static int ctl_stats_row(Table *t, const KbusKsockStats *k)
{
        int r = table_cell(t, "%u", k->id);

        r = r ? r : table_cell(t, "%u", k->pid);
        r = r ? r : table_cell(t, "%u", k->uid);
        r = r ? r : table_cell(t, "%u", k->queued);
        r = r ? r : table_cell(t, "%u", k->max_messages);
        r = r ? r : table_cell(t, "%u", k->reserved);
        r = r ? r : table_cell(t, "%u", k->unreplied);
        r = r ? r : table_cell(t, "%llu", (unsigned long long)k->sent);
        r = r ? r : table_cell(t, "%llu", (unsigned long long)k->received);
        r = r ? r : table_cell(t, "%llu", (unsigned long long)k->missed);
        r = r ? r : table_cell(t, "%u", k->held);
        r = r ? r : table_cell(t, "%u", k->set_aside);
        r = r ? r : table_cell(t, "%u", k->bindings);
        return r;
}

static int ctl_stats_table(const KbusBusStats *s, uint32_t self)
{
        static const char *const headers[] = { "KSOCK", "PID", "UID", "QUEUED", "MAX",
                                               "RESERVED", "UNREPLIED", "SENT", "RECEIVED",
                                               "MISSED", "HELD", "SET-ASIDE", "BINDINGS" };
        Table *t;
        int r = table_new(&t, 13, headers, 0x1fff);

        for (uint32_t i = 0; r == 0 && i < s->nksocks; i++)
                r = ctl_stats_row(t, &s->ksocks_stats[i]);
        if (r == 0) {
                printf("bus %u: %u ksocks (ksock %u is this kbus-ctl), %u bindings, max message "
                       "size %u, last serial %u, held sends %u, set-aside unbind events %u, "
                       "ksocks reporting replier binds %u\n",
                       s->bus, s->ksocks, self, s->bindings, s->max_msg_size, s->last_serial,
                       s->held, s->set_aside, s->reporting);
                table_print(t, stdout);
        }
        table_free(t);
        return r;
}

static const char *const ctl_quota_names[KBUS_QUOTA_KINDS] = {
        "connections", "bindings", "queued_bytes", "requests", "partial_bytes",
};

static void ctl_users_json_counts(const uint64_t *used, const uint64_t *refused)
{
        for (unsigned k = 0; k < KBUS_QUOTA_KINDS; k++)
                printf("%s\"%s\":%llu,\"%s_refused\":%llu", k ? "," : "", ctl_quota_names[k],
                       (unsigned long long)used[k], ctl_quota_names[k],
                       (unsigned long long)refused[k]);
}

static void ctl_users_json(const KbusQuotaStats *q)
{
        printf(",\"quota\":{\"limits\":{");
        for (unsigned k = 0; k < KBUS_QUOTA_KINDS; k++)
                printf("%s\"%s_per_uid\":%llu,\"%s_total\":%llu", k ? "," : "",
                       ctl_quota_names[k], (unsigned long long)q->per_uid[k], ctl_quota_names[k],
                       (unsigned long long)q->total[k]);
        printf("},\"total\":{");
        ctl_users_json_counts(q->used, q->refused);
        printf("},\"users\":[");
        for (uint32_t i = 0; i < q->nusers; i++) {
                printf("%s{\"uid\":%u,", i ? "," : "", q->users[i].uid);
                ctl_users_json_counts(q->users[i].used, q->users[i].refused);
                putchar('}');
        }
        printf("]}");
}

static int ctl_users_row(Table *t, uint32_t uid, const uint64_t *used, const uint64_t *refused)
{
        int r = uid == UINT32_MAX ? table_cell(t, "all") : table_cell(t, "%u", uid);

        for (unsigned k = 0; r == 0 && k < KBUS_QUOTA_KINDS; k++)
                r = table_cell(t, "%llu", (unsigned long long)used[k]);
        uint64_t n = 0;
        for (unsigned k = 0; k < KBUS_QUOTA_KINDS; k++)
                n += refused[k];
        return r ? r : table_cell(t, "%llu", (unsigned long long)n);
}

static int ctl_users_table(const KbusQuotaStats *q)
{
        static const char *const headers[] = { "UID", "CONNECTIONS", "BINDINGS", "QUEUED-BYTES",
                                               "REQUESTS", "PARTIAL-BYTES", "REFUSED" };
        Table *t;
        int r = table_new(&t, 7, headers, 0x7f);

        for (uint32_t i = 0; r == 0 && i < q->nusers; i++)
                r = ctl_users_row(t, q->users[i].uid, q->users[i].used, q->users[i].refused);
        if (r == 0)
                r = ctl_users_row(t, UINT32_MAX, q->used, q->refused);
        if (r == 0) {
                printf("\nkbusd's quotas per uid (all buses); limits per uid / in total: "
                       "%llu/%llu connections, %llu/%llu bindings, %llu/%llu queued bytes, "
                       "%llu/%llu requests, %llu/%llu partial bytes\n",
                       (unsigned long long)q->per_uid[0], (unsigned long long)q->total[0],
                       (unsigned long long)q->per_uid[1], (unsigned long long)q->total[1],
                       (unsigned long long)q->per_uid[2], (unsigned long long)q->total[2],
                       (unsigned long long)q->per_uid[3], (unsigned long long)q->total[3],
                       (unsigned long long)q->per_uid[4], (unsigned long long)q->total[4]);
                table_print(t, stdout);
        }
        table_free(t);
        return r;
}

static int ctl_stats(const CtlOptions *o, kbus_ksock_t ks)
{
        KbusBusStats s;
        KbusQuotaStats q;
        uint32_t self;
        int r = kbus_ksock_id(ks, &self);

        if (r == 0)
                r = kbus_query_stats(ks, &s);
        if (r < 0)
                return ctl_fail(o, r);
        r = kbus_query_users(ks, &q);
        if (r < 0) {
                kbus_query_stats_free(&s);
                return ctl_fail(o, r);
        }
        if (o->json) {
                ctl_stats_json(&s, self, &q);
        } else {
                r = ctl_stats_table(&s, self);
                if (r == 0)
                        r = ctl_users_table(&q);
        }
        kbus_query_users_free(&q);
        kbus_query_stats_free(&s);
        return r < 0 ? ctl_fail(o, r) : TOOL_EXIT_OK;
}

/* ---- replier ------------------------------------------------------------- */

/* The pid and uid of ksock @id, from the stats (0 if it has gone meanwhile). */
static void ctl_ksock_creds(kbus_ksock_t ks, uint32_t id, uint32_t *pid, uint32_t *uid)
{
        KbusBusStats s;

        *pid = *uid = 0;
        if (kbus_query_stats(ks, &s) < 0)
                return;
        for (uint32_t i = 0; i < s.nksocks; i++) {
                if (s.ksocks_stats[i].id == id) {
                        *pid = s.ksocks_stats[i].pid;
                        *uid = s.ksocks_stats[i].uid;
                }
        }
        kbus_query_stats_free(&s);
}

static int ctl_replier(const CtlOptions *o, kbus_ksock_t ks)
{
        const char *name = o->args[0];
        uint32_t id, pid, uid;
        int r = kbus_ksock_find_replier(ks, name, &id);

        if (r < 0) {
                tool_error(name, r, TOOL_OP_CONTROL);
                return TOOL_EXIT_FAIL;
        }
        if (id == 0) {
                tool_fail(name, "EADDRNOTAVAIL", "%s",
                          tool_errno_meaning(EADDRNOTAVAIL, TOOL_OP_REQUEST));
                return TOOL_EXIT_FAIL;
        }
        if (!o->json) {
                printf("%u\n", id);
                return TOOL_EXIT_OK;
        }
        ctl_ksock_creds(ks, id, &pid, &uid);
        printf("{\"name\":");
        fmt_json_string(stdout, name, strlen(name));
        printf(",\"replier\":%u,\"pid\":%u,\"uid\":%u}\n", id, pid, uid);
        return TOOL_EXIT_OK;
}

/* ---- new-bus, max-message-size ------------------------------------------- */

static int ctl_new_bus(const CtlOptions *o, kbus_ksock_t ks)
{
        uint32_t bus;
        int r = kbus_ksock_new_device(ks, &bus);

        if (r < 0)
                return ctl_fail(o, r);
        printf(o->json ? "{\"bus\":%u}\n" : "%u\n", bus);
        return TOOL_EXIT_OK;
}

static void ctl_max_message_size_check(const CtlOptions *o)
{
        uint32_t n;

        if (o->nargs && tool_parse_u32(o->args[0], 0, UINT32_MAX, &n) == -EINVAL)
                tool_usage_error("max-message-size takes a number of bytes, not '%s'",
                                 o->args[0]);
}

static int ctl_max_message_size(const CtlOptions *o, kbus_ksock_t ks)
{
        uint32_t absolute = 1, want = 0, size;
        int r = kbus_ksock_max_message_size(ks, &absolute);

        if (r < 0)
                return ctl_fail(o, r);
        if (o->nargs && (tool_parse_u32(o->args[0], 100, absolute, &want) < 0)) {
                tool_fail("max-message-size", "EINVAL", "N must be a number from 100 to %u, not '%s'",
                          absolute, o->args[0]);
                return TOOL_EXIT_FAIL;
        }
        size = want;
        r = kbus_ksock_max_message_size(ks, &size);
        if (r < 0)
                return ctl_fail(o, r);
        if (o->json)
                printf("{\"max_message_size\":%u,\"absolute_max\":%u}\n", size, absolute);
        else
                printf("%u\n", size);
        return TOOL_EXIT_OK;
}

/* ---- policy, explain ------------------------------------------------------ */

static int ctl_policy(const CtlOptions *o, kbus_ksock_t ks)
{
        char *text;
        int r = kbus_query_policy(ks, &text);

        if (r < 0)
                return ctl_fail(o, r);
        if (o->json) {
                printf("{\"policy\":");
                fmt_json_string(stdout, text, strlen(text));
                printf("}\n");
        } else {
                fputs(text, stdout);
        }
        free(text);
        return TOOL_EXIT_OK;
}

static const char *const ctl_actions[] = { "connect", "listen", "own", "send", "set",
                                           "newbus" };

static int ctl_action(const char *word)
{
        if (strcmp(word, "bind") == 0)
                return 2;
        for (int i = 0; i < 6; i++)
                if (strcmp(word, ctl_actions[i]) == 0)
                        return i;
        return -1;
}

static void ctl_explain_check(const CtlOptions *o)
{
        int a = ctl_action(o->args[0]);
        bool named = a == 1 || a == 2 || a == 3;

        if (a < 0)
                tool_usage_error("explain: ACTION is connect, listen, own, bind, send, set or "
                                 "newbus, not '%s'", o->args[0]);
        if (named && o->nargs != 2)
                tool_usage_error("explain %s needs a NAME", o->args[0]);
        if (!named && o->nargs != 1)
                tool_usage_error("explain %s takes no NAME", o->args[0]);
}

/* A user (or, with @group, a group) by name or by number. */
static uint32_t ctl_lookup_id(const char *s, bool group)
{
        struct passwd *pw = group ? NULL : getpwnam(s);
        struct group *gr = group ? getgrnam(s) : NULL;
        uint32_t n;

        if (pw || gr)
                return pw ? (uint32_t)pw->pw_uid : (uint32_t)gr->gr_gid;
        if (tool_parse_u32(s, 0, UINT32_MAX - 1, &n) < 0)
                tool_usage_error("--%s: no %s '%s'", group ? "gid" : "uid",
                                 group ? "group" : "user", s);
        return n;
}

/* Whom to ask about: --uid/--gid, else the user's own groups (or the caller's). */
static uint32_t ctl_explain_groups(const CtlOptions *o, uint32_t uid, uint32_t *groups,
                                   uint32_t *ret_gid)
{
        gid_t g[CTL_GROUPS_MAX];
        int n = CTL_GROUPS_MAX;

        if (o->ngids) {
                *ret_gid = ctl_lookup_id(o->gids[0], true);
                for (int i = 1; i < o->ngids; i++)
                        groups[i - 1] = ctl_lookup_id(o->gids[i], true);
                return (uint32_t)o->ngids - 1;
        }
        struct passwd *pw = getpwuid(uid);
        if (!o->uid) {
                *ret_gid = getgid();
                n = getgroups(CTL_GROUPS_MAX, g);
        } else if (pw) {
                *ret_gid = pw->pw_gid;
                if (getgrouplist(pw->pw_name, pw->pw_gid, g, &n) < 0)
                        n = 0;
        } else {
                *ret_gid = uid; /* a uid with no passwd entry: no groups known */
                n = 0;
        }
        for (int i = 0; i < n; i++)
                groups[i] = g[i];
        return n > 0 ? (uint32_t)n : 0;
}

static int ctl_explain(const CtlOptions *o, kbus_ksock_t ks)
{
        uint32_t groups[CTL_GROUPS_MAX], deny;
        KbusExplain q = { .action = (uint32_t)ctl_action(o->args[0]), .groups = groups,
                          .name = o->nargs > 1 ? o->args[1] : NULL };
        char *text;

        q.uid = o->uid ? ctl_lookup_id(o->uid, false) : getuid();
        q.ngroups = ctl_explain_groups(o, q.uid, groups, &q.gid);
        int r = kbus_query_explain(ks, &q, &deny, &text);
        if (r < 0)
                return ctl_fail(o, r);
        if (o->json) {
                printf("{\"uid\":%u,\"gid\":%u,\"action\":\"%s\",\"name\":", q.uid, q.gid,
                       ctl_actions[q.action]);
                if (q.name)
                        fmt_json_string(stdout, q.name, strlen(q.name));
                else
                        printf("null");
                printf(",\"allowed\":%s,\"decision\":", deny ? "false" : "true");
                fmt_json_string(stdout, text, strlen(text));
                printf("}\n");
        } else {
                printf("uid %u %s%s%s: %s\n", q.uid, ctl_actions[q.action], q.name ? " " : "",
                       q.name ? q.name : "", text);
        }
        free(text);
        return deny ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

static int ctl_version(const CtlOptions *o, kbus_ksock_t ks)
{
        char *version = NULL;
        int r = kbus_query_version(ks, &version);

        if (r < 0)
                return ctl_fail(o, r);
        if (o->json) {
                printf("{\"kbusd\":");
                fmt_json_string(stdout, version, strlen(version));
                printf(",\"tools\":\"%s\"}\n", kbus_version());
        } else {
                printf("kbusd %s\n", version);
        }
        free(version);
        return TOOL_EXIT_OK;
}

static int ctl_doctor_run(const CtlOptions *o, kbus_ksock_t ks)
{
        (void)ks;
        return ctl_doctor(&o->bus, o->policy, o->json);
}

static const CtlCommand ctl_commands[] = {
        { "bindings", 0, 0, NULL, ctl_bindings, false },
        { "stats", 0, 0, NULL, ctl_stats, false },
        { "replier", 1, 1, NULL, ctl_replier, false },
        { "new-bus", 0, 0, NULL, ctl_new_bus, false },
        { "max-message-size", 0, 1, ctl_max_message_size_check, ctl_max_message_size, false },
        { "policy", 0, 0, NULL, ctl_policy, false },
        { "explain", 1, 2, ctl_explain_check, ctl_explain, false },
        { "version", 0, 0, NULL, ctl_version, false },
        { "doctor", 0, 0, NULL, ctl_doctor_run, true },
};

static const CtlCommand *ctl_find(const CtlOptions *o)
{
        for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++) {
                const CtlCommand *c = &ctl_commands[i];
                if (strcmp(c->name, o->command) != 0)
                        continue;
                if (o->nargs < c->min_args)
                        tool_usage_error("%s: missing an argument", c->name);
                if (o->nargs > c->max_args)
                        tool_usage_error("%s: too many arguments", c->name);
                if (c->check)
                        c->check(o);
                return c;
        }
        tool_usage_error("unknown command '%s'", o->command);
}

int main(int argc, char **argv)
{
        CtlOptions o = { .bus = TOOL_BUS_INIT };
        kbus_ksock_t ks;

        tool_init("kbus-ctl");
        ctl_parse(argc, argv, &o);
        const CtlCommand *cmd = ctl_find(&o);
        if (cmd->no_ksock)
                return cmd->run(&o, -1);
        if (tool_open(&o.bus, O_RDONLY, 0, &ks) < 0)
                return TOOL_EXIT_FAIL;
        int status = cmd->run(&o, ks);
        kbus_ksock_close(ks);
        return status;
}
