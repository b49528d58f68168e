/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-policy.c - unit tests for the policy (src/core/policy.c,
 * policy-file.c): the file format and its errors with line numbers, the
 * built-in rules, first match wins, wildcards decided for every name they
 * match, groups, buses and limits.
 *
 * Users and groups are the ones every Debian system has: root (0) and
 * nobody (65534), groups root (0) and nogroup (65534).
 *
 * The test_core_* cases drive kbusd's core in the test process
 * (core-test.h) and assert on the exact answers it gives: refusals at
 * connect, on bind, send and bus-wide settings, logged once per ksock, and
 * a new policy applied to the connections and bindings already there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/broker/policy-load.h"
#include "core-test.h"

#define ADMIN_UID 4242u

static const PolicyPeer root = { .uid = 0, .gid = 0 };
static const PolicyPeer admin = { .uid = ADMIN_UID, .gid = ADMIN_UID };
static const PolicyPeer alice = { .uid = 1001, .gid = 1001 };
static const PolicyPeer nobody = { .uid = 65534, .gid = 65534 };
static const gid_t kbus_group[] = { 3000 };
static const PolicyPeer member = { .uid = 1002, .gid = 1002, .groups = kbus_group, .ngroups = 1 };

static Policy *parse(const char *text)
{
        Policy *p = NULL;
        char err[512] = "";
        int r = policy_parse("test.conf", text, ADMIN_UID, &policy_system_names, &p, err,
                         sizeof(err));

        if (r != 0)
                fail_msg("policy_parse: %d: %s", r, err);
        return p;
}

/* The error a bad policy text gets, which must name the file and line. */
static void expect_error(const char *text, const char *want)
{
        Policy *p = NULL;
        char err[512] = "";

        assert_int_equal(policy_parse("test.conf", text, ADMIN_UID, &policy_system_names, &p,
                                      err, sizeof(err)),
                         -EINVAL);
        assert_null(p);
        if (strcmp(err, want) != 0)
                fail_msg("error '%s', expected '%s'", err, want);
}

static int decide(const Policy *p, const PolicyPeer *who, PolicyAction a, const char *name)
{
        PolicyDecision d;

        return policy_decide(p, who, a, 0, name, name ? strlen(name) : 0, &d);
}

/* The line of the rule that decided, 0 for a built-in rule. */
static unsigned decided_by(const Policy *p, const PolicyPeer *who, PolicyAction a,
                           const char *name)
{
        PolicyDecision d;

        policy_decide(p, who, a, 0, name, name ? strlen(name) : 0, &d);
        if (!d.rule)
                assert_non_null(d.builtin);
        return d.rule ? d.rule->line : 0;
}

static void test_defaults(void **state)
{
        Policy *p;

        (void)state;
        assert_int_equal(policy_new_default(ADMIN_UID, &p), 0);
        for (PolicyAction a = POLICY_CONNECT; a <= POLICY_SEND; a++) {
                const char *name = a == POLICY_CONNECT ? NULL : "$.Sensors.Kitchen";
                assert_int_equal(decide(p, &nobody, a, name), 0);
                assert_int_equal(decide(p, &root, a, name), 0);
        }
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.*"), 0);
        assert_int_equal(decide(p, &nobody, POLICY_OWN, "$.*"), 0);
        /* bus-wide settings and new buses: root and kbusd's own uid only */
        assert_int_equal(decide(p, &root, POLICY_SET, NULL), 0);
        assert_int_equal(decide(p, &admin, POLICY_SET, NULL), 0);
        assert_int_equal(decide(p, &alice, POLICY_SET, NULL), -EPERM);
        assert_int_equal(decide(p, &root, POLICY_NEWBUS, NULL), 0);
        assert_int_equal(decide(p, &admin, POLICY_NEWBUS, NULL), 0);
        assert_int_equal(decide(p, &nobody, POLICY_NEWBUS, NULL), -EPERM);
        policy_free(p);
}

static void test_reserved(void **state)
{
        Policy *p;

        (void)state;
        assert_int_equal(policy_new_default(ADMIN_UID, &p), 0);
        static const char *const reserved[] = {
                "$.KBUS", "$.KBUS.Replier.GoneAway", "$.KBUS.ReplierBindEvent", "$.KBUS.*",
                "$.KBUS.%", "$.KBUS.Anything.Else",
        };
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
                assert_true(policy_is_reserved(reserved[i], strlen(reserved[i])));
                assert_int_equal(decide(p, &root, POLICY_OWN, reserved[i]), -EPERM);
                assert_int_equal(decide(p, &nobody, POLICY_OWN, reserved[i]), -EPERM);
                assert_int_equal(decide(p, &nobody, POLICY_LISTEN, reserved[i]), 0);
        }
        assert_int_equal(decide(p, &root, POLICY_SEND, "$.KBUS.Replier.GoneAway"), -EPERM);
        assert_int_equal(decide(p, &nobody, POLICY_SEND, "$.KBUS.ReplierBindEvent"), -EPERM);
        /* a word that only starts with KBUS is an ordinary name */
        assert_false(policy_is_reserved("$.KBUSY", 7));
        assert_int_equal(decide(p, &nobody, POLICY_SEND, "$.KBUSY"), 0);
        assert_int_equal(decide(p, &nobody, POLICY_OWN, "$.KBUSY.*"), 0);
        policy_free(p);

        /* no file can give the reserved space away */
        p = parse("allow * own,send $.*\nallow uid:0 send $.KBUS.*\n");
        assert_int_equal(decide(p, &root, POLICY_SEND, "$.KBUS.Replier.GoneAway"), -EPERM);
        assert_int_equal(decide(p, &root, POLICY_OWN, "$.KBUS.Replier.GoneAway"), -EPERM);
        assert_int_equal(decided_by(p, &root, POLICY_OWN, "$.KBUS.X"), 0);
        policy_free(p);
}

/* The example the documentation ships: one line protects a service's names. */
static void test_only_one_user(void **state)
{
        Policy *p = parse("# the sensors service alone\n"
                          "only user:nobody own,listen $.Sensors.*\n");

        (void)state;
        assert_int_equal(decide(p, &nobody, POLICY_OWN, "$.Sensors.Kitchen"), 0);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Sensors.*"), 0);
        assert_int_equal(decide(p, &alice, POLICY_OWN, "$.Sensors.Kitchen"), -EPERM);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Sensors.Kitchen"), -EPERM);
        assert_int_equal(decide(p, &root, POLICY_OWN, "$.Sensors.Kitchen"), -EPERM);
        assert_int_equal(decided_by(p, &alice, POLICY_OWN, "$.Sensors.Kitchen"), 2);
        /* a wildcard that reaches into the protected space is refused ... */
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.*"), -EPERM);
        assert_int_equal(decide(p, &alice, POLICY_OWN, "$.*"), -EPERM);
        /* ... one beside it is not, and neither is the name above it */
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Sensor.*"), 0);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Sensors"), 0);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.%"), 0);
        /* the service itself may listen to everything */
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.*"), 0);
        /* sending is not what the line is about */
        assert_int_equal(decide(p, &alice, POLICY_SEND, "$.Sensors.Kitchen"), 0);
        policy_free(p);
}

static void test_first_match_wins(void **state)
{
        Policy *p = parse("allow uid:1001 listen $.Secret.Public\n"
                          "deny * listen $.Secret.*\n"
                          "allow * listen $.Secret.Public.Sub\n");

        (void)state;
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Secret.Public"), 0);
        assert_int_equal(decided_by(p, &alice, POLICY_LISTEN, "$.Secret.Public"), 1);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Secret.Public"), -EPERM);
        assert_int_equal(decided_by(p, &nobody, POLICY_LISTEN, "$.Secret.Public"), 2);
        /* line 3 never matters: line 2 contains it */
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Secret.Public.Sub"), -EPERM);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Secret.Other"), -EPERM);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Elsewhere"), 0);
        assert_int_equal(decided_by(p, &alice, POLICY_LISTEN, "$.Elsewhere"), 0);
        policy_free(p);
}

/* A wildcard binding is allowed only if every name it matches is. */
static void test_wildcard_parts(void **state)
{
        Policy *p = parse("allow uid:1001 listen $.Team.*\n"
                          "deny * listen $.Team.Private.*\n"
                          "deny * listen $.Other.Private\n");

        (void)state;
        /* alice's earlier allow covers the denied part of $.Team.* ... */
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Team.*"), 0);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.Team.Private.X"), 0);
        /* ... but not the part of $.* outside it */
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.*"), -EPERM);
        assert_int_equal(decided_by(p, &alice, POLICY_LISTEN, "$.*"), 3);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Team.*"), -EPERM);
        assert_int_equal(decided_by(p, &nobody, POLICY_LISTEN, "$.Team.*"), 2);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Team.%"), 0);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Other.%"), -EPERM);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Other.*"), -EPERM);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Other.Public"), 0);
        policy_free(p);
}

static void test_groups_and_buses(void **state)
{
        Policy *p = parse("only gid:3000 connect bus 1\n"
                          "allow group:nogroup set\n"
                          "deny uid:0 newbus\n"
                          "deny * send $.Quiet bus 2\n");
        PolicyDecision d;

        (void)state;
        assert_int_equal(policy_may_connect(p, &member, 1, &d), 0);
        assert_int_equal(policy_may_connect(p, &alice, 1, &d), -EPERM);
        assert_int_equal(d.rule->line, 1);
        assert_int_equal(policy_may_connect(p, &alice, 0, &d), 0);
        assert_int_equal(policy_may_set(p, &nobody, 0, &d), 0); /* primary group nogroup */
        assert_int_equal(policy_may_set(p, &alice, 0, &d), -EPERM);
        assert_int_equal(policy_may_open_bus(p, &root, 0, &d), -EPERM);
        assert_int_equal(policy_may_open_bus(p, &admin, 0, &d), 0);
        assert_int_equal(policy_may_send(p, &alice, 2, "$.Quiet", 7, &d), -EPERM);
        assert_int_equal(policy_may_send(p, &alice, 0, "$.Quiet", 7, &d), 0);
        assert_int_equal(policy_may_listen(p, &alice, 2, "$.Quiet", 7, &d), 0);
        policy_free(p);
}

static void test_names_and_format(void **state)
{
        Policy *p = parse("  only   user:nobody   bind,listen   $.Sensors.*   # comment\n"
                          "allow group:root set bus 3\n"
                          "\n");
        char out[256];
        PolicyDecision d;

        (void)state;
        assert_int_equal(p->nrules, 2);
        assert_int_equal(p->rules[0].who, POLICY_UID);
        assert_int_equal(p->rules[0].id, 65534);
        assert_int_equal(p->rules[1].who, POLICY_GID);
        assert_int_equal(p->rules[1].id, 0);
        policy_rule_format(&p->rules[0], out, sizeof(out));
        assert_string_equal(out, "only user:nobody listen,own $.Sensors.*");
        policy_rule_format(&p->rules[1], out, sizeof(out));
        assert_string_equal(out, "allow group:root set bus 3");
        policy_may_own(p, &alice, 0, "$.Sensors.X", 11, &d);
        policy_decision_format(p, &d, out, sizeof(out));
        assert_string_equal(out, "deny (test.conf:1: only user:nobody listen,own $.Sensors.*)");
        policy_may_own(p, &alice, 0, "$.KBUS.X", 8, &d);
        policy_decision_format(p, &d, out, sizeof(out));
        assert_string_equal(out, "deny (built in: deny * own,send $.KBUS.* (only kbusd sends "
                                 "$.KBUS messages))");
        policy_free(p);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error("allow * listen $.A\nallw * listen $.B\n",
                     "test.conf:2: a line starts with allow, deny, only or limit, not 'allw'");
        expect_error("\n\nallow user:no-such-user-here listen $.A\n",
                     "test.conf:3: no user named 'no-such-user-here'");
        expect_error("allow group:no-such-group-here listen $.A\n",
                     "test.conf:1: no group named 'no-such-group-here'");
        /* without the shell's lookups (in-process tests, the fuzzer): numbers only */
        Policy *p = NULL;
        char err[512] = "";
        assert_int_equal(policy_parse("test.conf", "allow uid:7 listen $.A\n"
                                      "allow group:root listen $.B\n", ADMIN_UID, NULL, &p, err,
                                      sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, "test.conf:2: group:root: names are not looked up here "
                                 "(use gid:N)");
        assert_null(p);
        expect_error("allow bob listen $.A\n",
                     "test.conf:1: 'bob' is not *, user:NAME, uid:N, group:NAME or gid:N");
        expect_error("allow uid:x listen $.A\n", "test.conf:1: 'x' is not a number");
        expect_error("allow * lsten $.A\n", "test.conf:1: unknown action 'lsten' (connect, "
                                            "listen, own, send, set or newbus)");
        expect_error("allow * listen\n",
                     "test.conf:1: listen, own and send need a name such as $.Sensors.*");
        expect_error("allow * listen $.A.*.B\n",
                     "test.conf:1: '$.A.*.B' is not a message name or binding");
        expect_error("allow * listen,set $.A\n",
                     "test.conf:1: listen, own and send take a name; connect, set and newbus "
                     "do not: write them on separate lines");
        expect_error("allow * set $.A\n", "test.conf:1: unexpected '$.A'");
        expect_error("allow * send $.A bus 256\n",
                     "test.conf:1: 'bus' needs a bus number from 0 to 255");
        expect_error("allow * send $.A extra\n", "test.conf:1: unexpected 'extra'");
        expect_error("only * send $.A\n", "test.conf:1: 'only *' allows everyone: write 'allow *'");
        expect_error("allow *\n",
                     "test.conf:1: a rule is: allow|deny|only WHO ACTIONS [NAME] [bus N]");
        expect_error("limit bindings-per-uid\n", "test.conf:1: a limit is: limit NAME VALUE");
        expect_error("limit bindings-per-user 10\n",
                     "test.conf:1: bindings-per-user: unknown limit (connections, bindings, "
                     "queued-bytes, requests or partial-bytes, then -per-uid or -total)");
        expect_error("limit bindings-total 0\n", "test.conf:1: bindings-total: a limit is a "
                                                 "positive number (K, M or G may follow)");
        expect_error("limit queued-bytes-total 12X\n", "test.conf:1: queued-bytes-total: a "
                                                       "limit is a positive number (K, M or G "
                                                       "may follow)");
}

static void test_limits(void **state)
{
        Policy *p = parse("limit bindings-per-uid 100\n"
                          "limit queued-bytes-total 2G\n"
                          "limit partial-bytes-per-uid 512K\n");
        QuotaLimits defaults;

        (void)state;
        quota_limits_default(&defaults);
        assert_int_equal(p->limits.per_uid[QUOTA_BINDINGS], 100);
        assert_int_equal(p->limits_set[QUOTA_BINDINGS], 1);
        assert_true(p->limits.total[QUOTA_QUEUED_BYTES] == 2ull << 30);
        assert_int_equal(p->limits_set[QUOTA_QUEUED_BYTES], 2);
        assert_int_equal(p->limits.per_uid[QUOTA_PARTIAL_BYTES], 512 * 1024);
        assert_int_equal(p->limits.per_uid[QUOTA_CONNECTIONS],
                         defaults.per_uid[QUOTA_CONNECTIONS]);
        assert_int_equal(p->limits_set[QUOTA_CONNECTIONS], 0);
        policy_free(p);
}

/* policy_load() refuses files another user could have written. */
static void test_load_file(void **state)
{
        char dir[] = "/tmp/kbus-policy-test.XXXXXX", path[64], err[512];
        Policy *p = NULL;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/policy.conf", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        static const char text[] = "only user:nobody own $.Sensors.*\ndeny * send $.X\n";
        assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
        close(fd);
        assert_int_equal(policy_load(path, geteuid(), &p, err, sizeof(err)), 0);
        assert_int_equal(p->nrules, 2);
        assert_string_equal(p->path, path);
        p = policy_free(p);

        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(policy_load(path, geteuid(), &p, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "group or others may write to it"));
        assert_int_equal(chmod(path, 0644), 0);
        if (geteuid() == 0) {
                assert_int_equal(chown(path, 65534, 65534), 0);
                assert_int_equal(policy_load(path, 0, &p, err, sizeof(err)), -EPERM);
                assert_non_null(strstr(err, "owned by another user"));
                /* kbusd's own user may own it */
                assert_int_equal(policy_load(path, 65534, &p, err, sizeof(err)), 0);
                p = policy_free(p);
        }
        unlink(path);
        assert_int_equal(policy_load(path, geteuid(), &p, err, sizeof(err)), -ENOENT);
        rmdir(dir);
}

/* @text with every "user:X" and "group:X" naming a user or group every Debian system has. */
static char *example_with_real_names(const char *text)
{
        char *out = calloc(1, 2 * strlen(text) + 1), *o = out;

        assert_non_null(out);
        while (*text) {
                const char *name = !strncmp(text, "user:", 5)    ? "user:nobody"
                                   : !strncmp(text, "group:", 6) ? "group:nogroup"
                                                                 : NULL;
                if (!name) {
                        *o++ = *text++;
                        continue;
                }
                o = stpcpy(o, name);
                text += strcspn(text, " \t\n");
        }
        return out;
}

/* The shipped example reads as intended. */
static void test_example_file(void **state)
{
        const char *src = getenv("KBUS_SOURCE_ROOT");
        char path[4096], err[512];
        Policy *p = NULL;

        (void)state;
        assert_non_null(src);
        snprintf(path, sizeof(path), "%s/examples/policy/policy.conf", src);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char *text = calloc(1, 65536);
        assert_non_null(text);
        assert_true(fread(text, 1, 65535, f) > 0);
        fclose(f);
        char *real = example_with_real_names(text);
        assert_int_equal(
                policy_parse(path, real, ADMIN_UID, &policy_system_names, &p, err, sizeof(err)),
                0);
        free(real);
        assert_int_equal(p->nrules, 5);
        assert_int_equal(decide(p, &alice, POLICY_LISTEN, "$.*"), -EPERM);
        assert_int_equal(decide(p, &nobody, POLICY_LISTEN, "$.Sensors.Kitchen"), 0);
        assert_int_equal(decide(p, &alice, POLICY_SEND, "$.Sensors.Kitchen"), 0);
        assert_int_equal(decide(p, &alice, POLICY_SEND, "$.Door.Command.Open"), -EPERM);
        assert_int_equal(decide(p, &nobody, POLICY_SEND, "$.Door.Command.Open"), 0);
        PolicyDecision d;
        assert_int_equal(policy_may_connect(p, &alice, 1, &d), -EPERM);
        assert_int_equal(policy_may_connect(p, &alice, 0, &d), 0);
        assert_int_equal(policy_may_set(p, &nobody, 0, &d), 0);
        policy_free(p);
        free(text);
}

/* ---- The policy in the core ---------------------------------------------- */

static TestCore t;
static TestFrame f;

static void core_ctl(TestConn *tc, uint32_t op, uint32_t arg, int32_t status, uint32_t v0)
{
        tc_ctl(tc, op, arg);
        tc_expect_result(tc, status, v0, 0);
}

/* Who may not connect gets a WELCOME with -EPERM and nothing else. */
static void test_core_connect_refused(void **state)
{
        uint8_t want[WELCOME_LEN];
        TestConn *no, *yes;

        (void)state;
        tc_start(&t, parse("deny uid:1001 connect\n"), NULL);
        no = tc_connect_raw(&t, 1001);
        codec_welcome_encode(want, &(Welcome){ .magic = KBUS_PROTO_MAGIC,
                                               .version = KBUS_PROTO_VERSION,
                                               .status = -EPERM, .bus = 0 });
        tc_expect_frame(no, FRAME_WELCOME, 0, want, sizeof(want));
        tc_expect_nothing(no);
        assert_true(no->gone);
        assert_int_equal(tc_log_count(&t, "bus 0: pid 1000 uid 1001 may not connect: deny "
                                          "(test.conf:1: deny uid:1001 connect)"), 1);
        yes = tc_connect(&t, 1000, true);
        assert_false(yes->gone);
        tc_stop(&t);
}

/* Binding, owning and sending as the rules say; $.KBUS is kbusd's alone; one log line. */
static void test_core_refusals(void **state)
{
        TestConn *a, *b;

        (void)state;
        tc_start(&t, parse("deny uid:1001 own $.svc\n"
                           "deny uid:1001 listen $.secret.*\n"
                           "deny uid:1001 send $.cmd.*\n"), NULL);
        a = tc_connect(&t, 1001, true);
        b = tc_connect(&t, 1000, true);
        tc_bind(a, "$.svc", true, -EPERM);
        tc_bind(a, "$.svc", false, 0);
        tc_bind(a, "$.secret.x", false, -EPERM);
        tc_bind(a, "$.*", false, -EPERM); /* it would hear $.secret names too */
        tc_bind(a, "$.public.*", false, 0);
        tc_send(a, 0, "$.cmd.go", "x", 0, 0, 0);
        tc_expect_result(a, -EPERM, 0, 0);
        tc_send(a, FRAME_SEND_POST, "$.cmd.go", "x", 0, 0, 0);
        tc_expect_error(a, -EPERM, FRAME_SEND, FRAME_SEND_POST, "posted message rejected");
        tc_send(a, 0, "$.cmdx", "x", 0, 0, 0);
        tc_expect_result(a, 0, 0, 1);
        tc_expect_nothing(a);
        assert_int_equal(tc_log_count(&t, "may not"), 1);
        assert_int_equal(tc_log_count(&t, "bus 0: ksock 1 (pid 1000 uid 1001) may not own $.svc: "
                                          "deny (test.conf:1: deny uid:1001 own $.svc) "
                                          "(logged once per ksock)"), 1);

        /* the reserved space, for everyone */
        tc_bind(b, "$.svc", true, 0);
        tc_bind(b, "$.KBUS.Replier.GoneAway", true, -EPERM);
        tc_send(b, 0, "$.KBUS.Replier.GoneAway", NULL, 0, a->id, 1);
        tc_expect_result(b, -ECONNREFUSED, 0, 0); /* a status name as a reply: if owed */
        tc_send(b, 0, "$.KBUS.Anything", NULL, 0, 0, 0);
        tc_expect_result(b, -EPERM, 0, 0);
        tc_bind(b, "$.KBUS.ReplierBindEvent", false, 0); /* listening is fine */
        tc_expect_nothing(b);
        assert_int_equal(tc_log_count(&t, "may not"), 2);
        tc_stop(&t);
}

/* Bus-wide settings and new buses: root and kbusd's user only, by default. */
static void test_core_admin(void **state)
{
        TestConn *a, *adm;

        (void)state;
        tc_start(&t, NULL, NULL);
        a = tc_connect(&t, 1001, true);
        adm = tc_connect(&t, ADMIN_UID, true);
        core_ctl(a, CTL_MAX_MSG_SIZE, 1000, -EPERM, 0);
        core_ctl(a, CTL_MAX_MSG_SIZE, 0, 0, 65536); /* asking is fine */
        core_ctl(a, CTL_VERBOSE, 1, -EPERM, 0);
        core_ctl(a, CTL_VERBOSE, CTL_ASK, 0, 0);
        core_ctl(a, CTL_NEW_BUS, 0, -EPERM, 0);
        core_ctl(adm, CTL_MAX_MSG_SIZE, 1000, 0, 1000);
        core_ctl(a, CTL_MAX_MSG_SIZE, 0, 0, 1000);
        core_ctl(adm, CTL_NEW_BUS, 0, 0, 1);
        assert_non_null(t.core->buses[1]);
        core_ctl(adm, CTL_NEW_BUS, 0, 0, 2);
        tc_stop(&t);
}

/* A new policy applies to connections and bindings already made. */
static void test_core_reload(void **state)
{
        TestConn *a, *b;

        (void)state;
        tc_start(&t, NULL, NULL);
        a = tc_connect(&t, 1001, true);
        b = tc_connect(&t, 1000, true);
        tc_bind(a, "$.a", false, 0);
        tc_bind(a, "$.b", true, 0);
        tc_send(b, 0, "$.b", "q", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_expect_result(b, 0, 0, 1);
        tc_expect_msg(a, &f, "$.b", b->id);

        core_set_policy(t.core, parse("deny uid:1001 listen $.a\n"));
        core_settle(t.core, NULL);
        assert_int_equal(tc_log_count(&t, "ksock 1 (pid 1000 uid 1001): binding $.a removed: "
                                          "the policy no longer allows it"), 1);
        tc_send(b, 0, "$.a", "x", 0, 0, 0);
        tc_expect_result(b, 0, 0, 2);
        tc_expect_nothing(a);
        tc_frame(b, FRAME_REPLIER, 0, "$.b", 3);
        tc_expect_result(b, 0, a->id, 0);

        core_set_policy(t.core, parse("deny uid:1001 connect\n"));
        core_settle(t.core, NULL);
        assert_true(a->gone);
        assert_int_equal(tc_log_count(&t, "ksock 1 (pid 1000 uid 1001) may no longer connect"),
                         1);
        WireMsg m = tc_expect_msg(b, &f, KBUS_MSG_NAME_REPLIER_GONEAWAY, a->id);
        assert_int_equal(m.irt_serial, 1);
        tc_expect_nothing(b);
        tc_stop(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_core_connect_refused),
                cmocka_unit_test(test_core_refusals),
                cmocka_unit_test(test_core_admin),
                cmocka_unit_test(test_core_reload),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_reserved),
                cmocka_unit_test(test_only_one_user),
                cmocka_unit_test(test_first_match_wins),
                cmocka_unit_test(test_wildcard_parts),
                cmocka_unit_test(test_groups_and_buses),
                cmocka_unit_test(test_names_and_format),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_load_file),
                cmocka_unit_test(test_example_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
