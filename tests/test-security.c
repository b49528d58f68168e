/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-security.c - who may do what on a bus, against a real kbusd (semantics
 * §18; docs/design.md "Security model"): the default policy, policy files
 * and their reload, the reserved $.KBUS space, bus-wide settings.
 *
 * Attackers are forked children that drop to uid/gid 65534 (nobody) with
 * setresgid/setresuid; a service owner is uid 1 (daemon).  A child cannot
 * use cmocka's asserts, so it checks with CHILD_CHECK, which prints the
 * failed condition and exits non-zero; the parent asserts the exit status.
 * Children and parent take turns through a socketpair (child_signal(),
 * child_wait()), never sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../src/lib/query.h"
#include "kbus-test.h"
#include "security-test.h"

#define NOBODY 65534u
#define OWNER 1u /* daemon */

/* ---- tests -------------------------------------------------------------- */

/* A client that is not root does the ordinary things on the default policy. */
static int nobody_serves(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *m, *reply;
        bool answered = false, heard = false;

        (void)arg;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sec.Nobody", 1) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sec.*", 0) == 0);
        child_signal(ctl);
        while (!answered || !heard) {
                CHILD_CHECK(sec_next_msg(ks, 10000, &m) == 0);
                if (kbus_msg_wants_us_to_reply(m)) {
                        CHILD_CHECK(kbus_msg_create_reply_to(&reply, m, "from nobody", 11, 0) == 0);
                        CHILD_CHECK(kbus_ksock_send_msg(ks, reply, NULL) == 0);
                        kbus_msg_delete(&reply);
                        answered = true;
                } else if (!kbus_msg_is_request(m)) {
                        heard |= strcmp(kbus_msg_name_ptr(m), "$.Sec.Hello") == 0;
                }
                kbus_msg_delete(&m);
        }
        CHILD_CHECK(kbus_msg_create(&m, "$.Sec.FromNobody", 16, "hi", 2, 0) == 0);
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == 0);
        kbus_msg_delete(&m);
        kbus_ksock_close(ks);
        return 0;
}

static void test_default_everyone_works(void **state)
{
        (void)state;
        sec_start(NULL);
        kbus_ksock_t root = kt_open_rw(), lst = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(lst, "$.Sec.FromNobody", 0), 0);
        Child ch = child_start(NOBODY, nobody_serves, NULL);
        child_wait(&ch);
        kt_send(root, "$.Sec.Hello", "hello", 0);
        kt_send(root, "$.Sec.Nobody", "ask", KBUS_BIT_WANT_A_REPLY);
        kbus_message_t *m = kt_wait_msg(root);
        assert_string_equal(kbus_msg_name_ptr(m), "$.Sec.Nobody");
        assert_int_equal(m->data_len, 11);
        assert_memory_equal(kbus_msg_data_ptr(m), "from nobody", 11);
        kbus_msg_delete(&m);
        m = kt_wait_msg(lst);
        assert_string_equal(kbus_msg_name_ptr(m), "$.Sec.FromNobody");
        kbus_msg_delete(&m);
        assert_int_equal(child_finish(&ch), 0);
        KT_CLOSE(root, lst);
        sec_stop();
}

/*
 * Nobody but kbusd produces $.KBUS messages or owns such a name, whoever
 * asks; listening there is fine.  Run as root and as nobody.
 */
static int reserved_checks(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        uint32_t fake[4] = { 0, 1, 12, 0 };
        kbus_message_t *m;

        (void)arg;
        (void)ctl;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.KBUS.Replier.GoneAway", 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.KBUS.*", 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.KBUS", 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.KBUS.ReplierBindEvent", 1) == -EBADMSG);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.KBUS.*", 0) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.*", 1) == 0); /* owns nothing of $.KBUS: nobody sends there */
        CHILD_CHECK(kbus_ksock_unbind(ks, "$.*", 1) == 0);
        CHILD_CHECK(kbus_msg_create(&m, "$.KBUS.Replier.GoneAway", 23, NULL, 0, 0) == 0);
        m->in_reply_to = (kbus_msg_id_t){ 0, 1 };
        m->to = 1;
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == -ECONNREFUSED); /* owes no such reply */
        m->in_reply_to = (kbus_msg_id_t){ 0, 0 };
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == -EPERM); /* not a reply at all */
        kbus_msg_delete(&m);
        CHILD_CHECK(kbus_msg_create(&m, "$.KBUS.ReplierBindEvent", 23, fake, sizeof(fake), 0) == 0);
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == -EPERM);
        kbus_msg_delete(&m);
        CHILD_CHECK(kbus_msg_create(&m, "$.KBUS.Private", 14, NULL, 0, KBUS_BIT_WANT_A_REPLY) == 0);
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == -EPERM);
        kbus_msg_delete(&m);
        CHILD_CHECK(kbus_msg_create(&m, "$.KBUSY", 7, NULL, 0, 0) == 0); /* an ordinary name */
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == 0);
        kbus_msg_delete(&m);
        kbus_ksock_close(ks);
        return 0;
}

/*
 * A replier may answer a request it owes with a status name (that is how a
 * Limpet relays one), but it cannot pass for kbusd: the reply is from the
 * replier, without SYNTHETIC, and goes to the requester only.
 */
static int forged_status_reply(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *req, *fake, *reply;

        (void)arg;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sec.Ask", 1) == 0);
        child_signal(ctl);
        CHILD_CHECK(sec_next_msg(ks, 10000, &req) == 0);
        CHILD_CHECK(kbus_msg_create(&fake, "$.KBUS.Replier.Ignored", 22, NULL, 0, 0) == 0);
        fake->in_reply_to = req->id;
        fake->to = req->from;
        fake->flags = KBUS_BIT_SYNTHETIC;
        CHILD_CHECK(kbus_ksock_send_msg(ks, fake, NULL) == 0);
        kbus_msg_delete(&fake);
        CHILD_CHECK(kbus_msg_create_reply_to(&reply, req, "real", 4, 0) == 0);
        CHILD_CHECK(kbus_ksock_send_msg(ks, reply, NULL) == -ECONNREFUSED); /* answered */
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        kbus_ksock_close(ks);
        return 0;
}

static void test_reserved_names(void **state)
{
        (void)state;
        sec_start(NULL);
        kbus_ksock_t spy = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(spy, "$.KBUS.*", 0), 0);
        assert_int_equal(reserved_checks(NULL, -1), 0);
        assert_int_equal(child_run(NOBODY, reserved_checks, NULL), 0);

        kbus_ksock_t asker = kt_open_rw();
        Child ch = child_start(NOBODY, forged_status_reply, NULL);
        child_wait(&ch);
        kbus_msg_id_t id = kt_send(asker, "$.Sec.Ask", "?", KBUS_BIT_WANT_A_REPLY);
        kbus_message_t *m = kt_wait_msg(asker);
        assert_string_equal(kbus_msg_name_ptr(m), "$.KBUS.Replier.Ignored");
        assert_true(m->in_reply_to.serial_num == id.serial_num);
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
        assert_int_not_equal(m->from, 0); /* from the replier that sent it */
        kbus_msg_delete(&m);
        assert_int_equal(child_finish(&ch), 0);
        kt_expect_quiet(asker, KT_QUIET_MS);
        kt_expect_quiet(spy, 0); /* not one forged $.KBUS message was delivered */
        KT_CLOSE(spy, asker);
        sec_stop();
}

/* Bus-wide settings and new buses are root's (and kbusd's own uid's). */
static int settings_refused(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        uint32_t size = 100, bus = 0;

        (void)arg;
        (void)ctl;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_max_message_size(ks, &size) == -EPERM);
        size = 0;
        CHILD_CHECK(kbus_ksock_max_message_size(ks, &size) == 0 && size == 65536);
        size = 1;
        CHILD_CHECK(kbus_ksock_max_message_size(ks, &size) == 0 && size == 16u << 20);
        CHILD_CHECK(kbus_ksock_kernel_module_verbose(ks, 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_kernel_module_verbose(ks, 0) == -EPERM);
        CHILD_CHECK(kbus_ksock_kernel_module_verbose(ks, 0xFFFFFFFFu) == 0);
        CHILD_CHECK(kbus_ksock_kernel_module_verbose(ks, 7) == -EINVAL);
        CHILD_CHECK(kbus_ksock_new_device(ks, &bus) == -EPERM);
        uint32_t id;
        CHILD_CHECK(kbus_ksock_id(ks, &id) == 0);
        child_signal_value(ctl, id);
        kbus_ksock_close(ks);
        return 0;
}

static void test_settings_refused(void **state)
{
        char text[300];
        kbus_message_t *m;

        (void)state;
        sec_start(NULL);
        kbus_ksock_t root = kt_open_rw(), lst = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(lst, "$.Sec.Big", 0), 0);
        Child ch = child_start(NOBODY, settings_refused, NULL);
        uint32_t id = child_wait_value(&ch);
        assert_int_equal(child_finish(&ch), 0);
        /* the bus is as it was: root's 300-byte messages still go */
        memset(text, 'x', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        kt_send(root, "$.Sec.Big", text, 0);
        m = kt_wait_msg(lst);
        assert_int_equal(m->data_len, sizeof(text) - 1);
        kbus_msg_delete(&m);
        uint32_t size = 1000, bus = 0;
        assert_int_equal(kbus_ksock_max_message_size(root, &size), 0);
        assert_int_equal(size, 1000);
        assert_int_equal(kbus_ksock_new_device(root, &bus), 0);
        assert_int_equal(bus, 1);
        /* each refused ksock is logged once, with the rule */
        char want[128];
        snprintf(want, sizeof(want), "ksock %u (pid ", id);
        assert_int_equal(sec_log_count(want), 1);
        assert_int_equal(sec_log_count("may not set: deny (built in: deny * set,newbus)"), 1);
        KT_CLOSE(root, lst);
        sec_stop();
}

/* ---- a policy file ------------------------------------------------------- */

static int squatter(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);

        (void)arg;
        (void)ctl;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sensors.Temp", 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sensors.*", 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.*", 1) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sensors.Temp", 0) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sensors.%", 0) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.*", 0) == -EPERM);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.%", 0) == 0);      /* one level: not $.Sensors.X */
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Other.*", 0) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Other.Svc", 1) == 0);
        kbus_ksock_close(ks);
        return 0;
}

static int sensors_service(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *req, *reply;

        (void)arg;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Sensors.Temp", 1) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.*", 0) == 0); /* the owner may hear everything */
        child_signal(ctl);
        do {
                CHILD_CHECK(sec_next_msg(ks, 10000, &req) == 0);
                if (!kbus_msg_wants_us_to_reply(req))
                        kbus_msg_delete(&req);
        } while (!req);
        CHILD_CHECK(kbus_msg_create_reply_to(&reply, req, "21.5", 4, 0) == 0);
        CHILD_CHECK(kbus_ksock_send_msg(ks, reply, NULL) == 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        kbus_ksock_close(ks);
        return 0;
}

static void test_policy_reserves_names(void **state)
{
        (void)state;
        sec_write_policy("# the sensors service alone owns and hears its names\n"
                         "only uid:1 own,listen $.Sensors.*\n");
        sec_start_policy(NULL);
        /* the squatter comes first, and gets nothing */
        assert_int_equal(child_run(NOBODY, squatter, NULL), 0);
        Child svc = child_start(OWNER, sensors_service, NULL);
        child_wait(&svc);
        kbus_ksock_t root = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(root, "$.Sensors.*", 0), -EPERM); /* root too */
        kt_send(root, "$.Sensors.Temp", "?", KBUS_BIT_WANT_A_REPLY);
        kbus_message_t *m = kt_wait_msg(root);
        assert_memory_equal(kbus_msg_data_ptr(m), "21.5", 4);
        kbus_msg_delete(&m);
        assert_int_equal(child_finish(&svc), 0);
        assert_int_equal(sec_log_count("may not own $.Sensors.Temp: deny"), 1);
        kt_close(root);
        sec_stop();
}

static int hold_secret_bindings(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);

        (void)arg;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Secret.Plans", 0) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Secret.Svc", 1) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Public.News", 0) == 0);
        child_signal(ctl);
        child_wait_parent(ctl); /* the policy changes meanwhile */
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Secret.Plans", 0) == -EPERM);
        CHILD_CHECK(kbus_ksock_unbind(ks, "$.Public.News", 0) == 0); /* still its own */
        kbus_ksock_close(ks);
        return 0;
}

static int secret_bind_refused(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);

        (void)arg;
        (void)ctl;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Secret.Plans", 0) == -EPERM);
        kbus_ksock_close(ks);
        return 0;
}

static bool nobody_binds_secrets(kbus_ksock_t ks)
{
        KbusBindingInfo *b;
        size_t n;
        bool found = false;

        assert_int_equal(kbus_query_bindings(ks, &b, &n), 0);
        for (size_t i = 0; i < n; i++)
                found |= b[i].uid == NOBODY && strncmp(b[i].name, "$.Secret.", 9) == 0;
        kbus_query_bindings_free(b, n);
        return found;
}

static void test_policy_reload(void **state)
{
        char *text;

        (void)state;
        sec_write_policy("# nothing yet\n");
        sec_start_policy(NULL);
        kbus_ksock_t root = kt_open_rw();
        Child ch = child_start(NOBODY, hold_secret_bindings, NULL);
        child_wait(&ch);
        assert_true(nobody_binds_secrets(root));
        assert_int_equal(kt_replier_of(root, "$.Secret.Svc") != 0, 1);
        kt_send(root, "$.Secret.Note", "", 0);
        kt_send(root, "$.Secret.Note", "", 0); /* the second send reuses the answer */

        /* a stricter policy takes the bindings it no longer allows away */
        sec_write_policy("only uid:0 own,listen $.Secret.*\ndeny uid:0 send $.Secret.Note\n");
        sec_reload();
        assert_true(sec_log_wait("policy reloaded from"));
        assert_int_equal(kt_try_send(root, "$.Secret.Note", "", 0, NULL), -EPERM);
        assert_false(nobody_binds_secrets(root));
        assert_int_equal(kt_replier_of(root, "$.Secret.Svc"), 0);
        assert_int_equal(kbus_ksock_bind(root, "$.Secret.Svc", 1), 0);
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        assert_int_equal(sec_log_count("replier binding $.Secret.Svc removed: the policy no "
                                       "longer allows it"), 1);

        /* a file that does not parse leaves the policy in force as it was */
        sec_write_policy("only uid:0 own,listen $.Secret.*\nonly uid:0 listen\n");
        sec_reload();
        assert_true(sec_log_wait("policy not reloaded, the one in force stays: "));
        assert_int_equal(sec_log_count("policy.conf:2: listen, own and send need a name"), 1);
        assert_int_equal(kbus_query_policy(root, &text), 0);
        assert_non_null(strstr(text, "only uid:0 listen,own $.Secret.*"));
        free(text);
        assert_int_equal(child_run(NOBODY, secret_bind_refused, NULL), 0);
        kt_close(root);
        sec_stop();
}

static int open_refused(void *arg, int ctl)
{
        (void)ctl;
        CHILD_CHECK(kbus_ksock_open(0, O_RDWR) == *(int *)arg);
        return 0;
}

static void test_policy_connect(void **state)
{
        int eperm = -EPERM;

        (void)state;
        sec_write_policy("only uid:0 connect\n");
        sec_start_policy(NULL);
        assert_int_equal(child_run(NOBODY, open_refused, &eperm), 0);
        assert_int_equal(child_run(NOBODY, open_refused, &eperm), 0);
        kbus_ksock_t root = kt_open_rw();
        kt_close(root);
        /* refused connections are logged, and a refusal costs nothing afterwards */
        assert_int_equal(sec_log_count("uid 65534 may not connect: deny ("), 2);
        sec_stop();
}

/* kbusd refuses to start on a policy file it cannot use, saying where and why. */
static void test_bad_policy_at_start(void **state)
{
        char out[4096];

        (void)state;
        sec_write_policy("allow * listen $.A\nalow * send $.B\n");
        assert_int_equal(sec_run_kbusd_fails(out, sizeof(out)), 1);
        assert_non_null(strstr(out, "policy.conf:2: a line starts with allow, deny, only or "
                                    "limit, not 'alow'"));
        sec_write_policy("allow * listen $.A\n");
        sec_chmod_policy(0666);
        assert_int_equal(sec_run_kbusd_fails(out, sizeof(out)), 1);
        assert_non_null(strstr(out, "group or others may write to it"));
        sec_remove_policy();
        assert_int_equal(sec_run_kbusd_fails(out, sizeof(out)), 1);
        assert_non_null(strstr(out, "No such file or directory"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_everyone_works),
                cmocka_unit_test(test_reserved_names),
                cmocka_unit_test(test_settings_refused),
                cmocka_unit_test(test_policy_reserves_names),
                cmocka_unit_test(test_policy_reload),
                cmocka_unit_test(test_policy_connect),
                cmocka_unit_test(test_bad_policy_at_start),
        };

        alarm(240);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
