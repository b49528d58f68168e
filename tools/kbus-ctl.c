/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-ctl - look at and adjust a live bus (SPEC §12, §2, §4).
 *
 * `bindings` and `stats` are the old /proc/kbus/bindings and
 * /proc/kbus/stats, as aligned tables or one JSON object; `replier NAME`,
 * `new-bus` and `max-message-size [N]` print one number (or one JSON
 * object).  kbus-ctl is a client of the bus while it asks, so its own ksock
 * appears in `stats` (the JSON "self" field and the summary line say
 * which).  It links libkbus's internal library for the queries, which the
 * shared libkbus does not export.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/query.h"
#include "common.h"
#include "errors.h"
#include "format.h"
#include "table.h"

typedef struct CtlOptions {
        ToolBus bus;
        bool json;
        const char *command;
        char **args;
        int nargs;
} CtlOptions;

/* One command: its name, how many arguments it takes, and what it does. */
typedef struct CtlCommand {
        const char *name;
        int min_args, max_args;
        void (*check)(const CtlOptions *o); /* usage checks before opening, or NULL */
        int (*run)(const CtlOptions *o, kbus_ksock_t ks);
} CtlCommand;

static void ctl_usage(FILE *f)
{
        fprintf(f,
                "Usage: kbus-ctl [--bus N] [--json] COMMAND\n"
                "Look at and adjust a live KBUS bus.\n"
                "\n"
                "Commands:\n"
                "  bindings               every binding: bus, ksock, pid, uid, R(eplier) or\n"
                "                         L(istener), name\n"
                "  stats                  the bus's counters, and each ksock's queue, limits,\n"
                "                         requests and messages sent, received and missed\n"
                "  replier NAME           the ksock id of the replier for messages named NAME\n"
                "                         (exit status 1 if there is none)\n"
                "  new-bus                open a new bus; print its number\n"
                "  max-message-size [N]   print the bus's maximum message size, after setting\n"
                "                         it to N bytes if given\n"
                "\n"
                "Options:\n"
                "  -b, --bus N            bus number, /dev/kbusN, or socket path (default 0)\n"
                "  -j, --json             print one JSON object instead of text\n"
                "  -h, --help             show this help and exit\n"
                "  -V, --version          show the version and exit\n"
                "\n"
                "Exit status: 0 success, 1 failure, 2 usage error. KBUS_SOCKET_DIR overrides\n"
                "the socket directory. See kbus-ctl(1).\n");
}

static void ctl_parse(int argc, char **argv, CtlOptions *o)
{
        static const struct option opts[] = {
                { "bus", required_argument, NULL, 'b' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":b:jhV", opts, NULL)) != -1) {
                switch (c) {
                case 'b':
                        tool_option_bus(optarg, &o->bus);
                        break;
                case 'j': o->json = true; break;
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

static void ctl_stats_json(const KbusBusStats *s, uint32_t self)
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
        printf("]}\n");
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

static int ctl_stats(const CtlOptions *o, kbus_ksock_t ks)
{
        KbusBusStats s;
        uint32_t self;
        int r = kbus_ksock_id(ks, &self);

        if (r == 0)
                r = kbus_query_stats(ks, &s);
        if (r < 0)
                return ctl_fail(o, r);
        if (o->json)
                ctl_stats_json(&s, self);
        else
                r = ctl_stats_table(&s, self);
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

static const CtlCommand ctl_commands[] = {
        { "bindings", 0, 0, NULL, ctl_bindings },
        { "stats", 0, 0, NULL, ctl_stats },
        { "replier", 1, 1, NULL, ctl_replier },
        { "new-bus", 0, 0, NULL, ctl_new_bus },
        { "max-message-size", 0, 1, ctl_max_message_size_check, ctl_max_message_size },
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
        if (tool_open(&o.bus, O_RDONLY, 0, &ks) < 0)
                return TOOL_EXIT_FAIL;
        int status = cmd->run(&o, ks);
        kbus_ksock_close(ks);
        return status;
}
