/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy-file.c - reading a policy file (kbus-policy(5)).
 *
 * One rule or limit per line; '#' starts a comment:
 *
 *     VERDICT WHO ACTIONS [NAME] [bus N]
 *     limit LIMIT VALUE
 *
 * VERDICT is allow, deny or only ("only" allows WHO and denies everyone
 * else); WHO is *, user:NAME, uid:N, group:NAME or gid:N; ACTIONS is a
 * comma-separated list of connect, listen, own (also spelled bind), send,
 * set and newbus.  listen, own and send take a NAME (a name or a binding
 * with a trailing * or %); the others take none.  User and group names are
 * looked up once, when the file is read, so a rule never waits on NSS while
 * kbusd routes.  Anything wrong refuses the whole file, with the line and
 * the reason: a policy that is half read would protect half of what its
 * author meant.
 */
#include "policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/name.h"

#define POLICY_RULES_MAX 100000u
#define POLICY_WORDS_MAX 8

#define POLICY_NAMED ((1u << POLICY_LISTEN) | (1u << POLICY_OWN) | (1u << POLICY_SEND))

typedef struct PolicyParser {
        Policy *p;
        const PolicyNames *names;
        const char *path;
        unsigned line;
        char *err;
        size_t errlen;
} PolicyParser;

static int policy_error(PolicyParser *ps, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int policy_error(PolicyParser *ps, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->path, ps->line);

        if (n >= 0 && (size_t)n < ps->errlen) {
                va_start(ap, fmt);
                vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* A user's or group's name as an id, through the names the shell gave. */
static int policy_lookup(PolicyParser *ps, bool group, const char *name, uint32_t *ret)
{
        int (*lookup)(const char *, uint32_t *) = !ps->names ? NULL
                                                  : group    ? ps->names->group
                                                             : ps->names->user;

        if (!lookup)
                return policy_error(ps, "%s:%s: names are not looked up here (use %s:N)",
                                    group ? "group" : "user", name, group ? "gid" : "uid");
        if (lookup(name, ret) < 0)
                return policy_error(ps, "no %s named '%s'", group ? "group" : "user", name);
        return 0;
}

static int policy_id_number(const char *s, uint32_t *ret)
{
        char *end;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v >= UINT32_MAX) /* (uid_t)-1 means "no uid" */
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

static int policy_parse_who(PolicyParser *ps, const char *word, PolicyRule *r)
{
        const char *colon = strchr(word, ':');
        const char *arg = colon ? colon + 1 : "";
        size_t kind_len = colon ? (size_t)(colon - word) : strlen(word);

        if (strcmp(word, "*") == 0) {
                r->who = POLICY_ANYONE;
                return 0;
        }
        if (!colon || !*arg)
                return policy_error(ps, "'%s' is not *, user:NAME, uid:N, group:NAME or gid:N",
                                    word);
        if (kind_len == 4 && !strncmp(word, "user", 4)) {
                r->who = POLICY_UID;
                return policy_lookup(ps, false, arg, &r->id);
        }
        if (kind_len == 5 && !strncmp(word, "group", 5)) {
                r->who = POLICY_GID;
                return policy_lookup(ps, true, arg, &r->id);
        }
        if ((kind_len == 3 && !strncmp(word, "uid", 3)) ||
            (kind_len == 3 && !strncmp(word, "gid", 3))) {
                r->who = word[0] == 'u' ? POLICY_UID : POLICY_GID;
                if (policy_id_number(arg, &r->id) < 0)
                        return policy_error(ps, "'%s' is not a number", arg);
                return 0;
        }
        return policy_error(ps, "'%s' is not *, user:NAME, uid:N, group:NAME or gid:N", word);
}

static int policy_parse_actions(PolicyParser *ps, char *word, unsigned *ret)
{
        unsigned actions = 0;
        char *save = NULL;

        for (char *a = strtok_r(word, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
                PolicyAction act;
                if (policy_action_parse(a, &act) < 0)
                        return policy_error(ps, "unknown action '%s' (connect, listen, own, "
                                                "send, set or newbus)", a);
                actions |= 1u << act;
        }
        if (!actions)
                return policy_error(ps, "no action given");
        *ret = actions;
        return 0;
}

static int policy_parse_name(PolicyParser *ps, const char *word, PolicyRule *r)
{
        size_t len = strlen(word);

        if (name_check(word, len, true, NULL) != 0)
                return policy_error(ps, "'%s' is not a message name or binding", word);
        r->name = strdup(word);
        if (!r->name)
                return -ENOMEM;
        r->name_len = len;
        return 0;
}

static int policy_parse_bus(PolicyParser *ps, char **w, int n, int *i, PolicyRule *r)
{
        uint32_t bus;

        r->bus = -1;
        if (*i >= n)
                return 0;
        if (strcmp(w[*i], "bus") != 0)
                return policy_error(ps, "unexpected '%s'", w[*i]);
        if (*i + 1 >= n || policy_id_number(w[*i + 1], &bus) < 0 || bus > 255)
                return policy_error(ps, "'bus' needs a bus number from 0 to 255");
        r->bus = (int)bus;
        *i += 2;
        return 0;
}

static int policy_parse_verdict(PolicyParser *ps, const char *word, PolicyVerdict *ret)
{
        if (strcmp(word, "allow") == 0)
                *ret = POLICY_ALLOW;
        else if (strcmp(word, "deny") == 0)
                *ret = POLICY_DENY;
        else if (strcmp(word, "only") == 0)
                *ret = POLICY_ONLY;
        else
                return policy_error(ps, "a line starts with allow, deny, only or limit, not '%s'",
                                    word);
        return 0;
}

/* The parts of a rule after its verdict and who. */
static int policy_parse_rule_tail(PolicyParser *ps, char **w, int n, PolicyRule *r)
{
        int i = 3, err;

        if (n < 3)
                return policy_error(ps, "a rule is: allow|deny|only WHO ACTIONS [NAME] [bus N]");
        if ((err = policy_parse_actions(ps, w[2], &r->actions)) < 0)
                return err;
        bool named = r->actions & POLICY_NAMED;
        if (named && (r->actions & ~POLICY_NAMED))
                return policy_error(ps, "listen, own and send take a name; connect, set and "
                                        "newbus do not: write them on separate lines");
        if (named) {
                if (i >= n || w[i][0] != '$')
                        return policy_error(ps, "listen, own and send need a name such as "
                                                "$.Sensors.*");
                if ((err = policy_parse_name(ps, w[i++], r)) < 0)
                        return err;
        }
        if ((err = policy_parse_bus(ps, w, n, &i, r)) < 0)
                return err;
        if (i < n)
                return policy_error(ps, "unexpected '%s'", w[i]);
        return 0;
}

static int policy_add_rule(PolicyParser *ps, char **w, int n)
{
        Policy *p = ps->p;
        PolicyRule r = { .line = ps->line };
        int err;

        if (p->nrules >= POLICY_RULES_MAX)
                return policy_error(ps, "more than %u rules", POLICY_RULES_MAX);
        if ((err = policy_parse_verdict(ps, w[0], &r.verdict)) < 0)
                return err;
        if (n < 2)
                return policy_error(ps, "a rule is: allow|deny|only WHO ACTIONS [NAME] [bus N]");
        if ((err = policy_parse_who(ps, w[1], &r)) < 0)
                return err;
        if (r.verdict == POLICY_ONLY && r.who == POLICY_ANYONE)
                return policy_error(ps, "'only *' allows everyone: write 'allow *'");
        if ((err = policy_parse_rule_tail(ps, w, n, &r)) < 0 ||
            !(r.who_text = strdup(w[1]))) {
                free(r.name);
                return err < 0 ? err : -ENOMEM;
        }
        PolicyRule *rules = realloc(p->rules, (p->nrules + 1) * sizeof(*rules));
        if (!rules) {
                free(r.name);
                free(r.who_text);
                return -ENOMEM;
        }
        p->rules = rules;
        p->rules[p->nrules++] = r;
        p->used_actions |= r.actions;
        return 0;
}

static int policy_add_limit(PolicyParser *ps, char **w, int n)
{
        QuotaKind kind;
        bool total;
        uint64_t value;
        const char *why;

        if (n != 3)
                return policy_error(ps, "a limit is: limit NAME VALUE");
        if (quota_limit_parse(w[1], w[2], &kind, &total, &value, &why) < 0)
                return policy_error(ps, "%s: %s", w[1], why);
        if (total)
                ps->p->limits.total[kind] = value;
        else
                ps->p->limits.per_uid[kind] = value;
        ps->p->limits_set[kind] |= total ? 2u : 1u;
        return 0;
}

static int policy_parse_line(PolicyParser *ps, char *line)
{
        char *w[POLICY_WORDS_MAX + 1], *save = NULL;
        int n = 0;
        char *hash = strchr(line, '#');

        if (hash)
                *hash = '\0';
        for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
                if (n == POLICY_WORDS_MAX)
                        return policy_error(ps, "too many words");
                w[n++] = t;
        }
        if (n == 0)
                return 0;
        if (strcmp(w[0], "limit") == 0)
                return policy_add_limit(ps, w, n);
        return policy_add_rule(ps, w, n);
}

/**
 * policy_new_default() - the policy with no file: the built-in rules alone.
 * @admin_uid: kbusd's own uid
 * @ret:       the policy
 *
 * Return: 0, or -ENOMEM.
 */
int policy_new_default(uid_t admin_uid, Policy **ret)
{
        Policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->admin_uid = admin_uid;
        quota_limits_default(&p->limits);
        *ret = p;
        return 0;
}

/**
 * policy_parse() - read a policy from text.
 * @path:      the file it came from (for messages and `kbus-ctl policy`)
 * @text:      its contents, NUL-terminated
 * @admin_uid: kbusd's own uid
 * @names:     how user and group names become ids (the shell's lookups in the
 *             system's databases), or NULL: only uid:N and gid:N are accepted
 * @ret:       the policy
 * @err:       on -EINVAL, "PATH:LINE: what is wrong"
 * @errlen:    size of @err
 *
 * Return: 0, -EINVAL (see @err) or -ENOMEM.
 */
int policy_parse(const char *path, const char *text, uid_t admin_uid, const PolicyNames *names,
                 Policy **ret, char *err, size_t errlen)
{
        PolicyParser ps = { .path = path, .names = names, .err = err, .errlen = errlen };
        char *copy = strdup(text), *rest = copy, *line;
        int r = copy ? policy_new_default(admin_uid, &ps.p) : -ENOMEM;

        if (r == 0 && !(ps.p->path = strdup(path)))
                r = -ENOMEM;
        while (r == 0 && (line = strsep(&rest, "\n")) != NULL) {
                ps.line++;
                r = policy_parse_line(&ps, line);
        }
        free(copy);
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(err, errlen, "%s: out of memory", path);
                policy_free(ps.p);
                return r;
        }
        *ret = ps.p;
        return 0;
}

/**
 * policy_free() - free a policy.
 * @p: the policy, or NULL
 *
 * Return: NULL.
 */
Policy *policy_free(Policy *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->nrules; i++) {
                free(p->rules[i].name);
                free(p->rules[i].who_text);
        }
        free(p->rules);
        free(p->path);
        free(p);
        return NULL;
}
