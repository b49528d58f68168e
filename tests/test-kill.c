/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-kill.c - clients that die without saying goodbye (semantics §1, §9, §16).
 *
 * kbusd learns that a client is gone only from its socket closing, so a
 * SIGKILLed client must be settled exactly as a polite close would be:
 *
 * - a replier killed while holding requests: each request it never read
 *   gets $.KBUS.Replier.GoneAway, each it read and did not answer gets
 *   $.KBUS.Replier.Ignored, the one it answered gets only its reply; one
 *   answer per request, matched by in_reply_to.  The child reads through
 *   libkbus, whose read-ahead means kbusd must still tell "read" from
 *   "pushed but not read" (semantics §9's last paragraph);
 * - a requester killed with requests outstanding: the replier's replies
 *   get EADDRNOTAVAIL and reach nobody;
 * - a raw connection killed in the middle of writing a frame: the partial
 *   frame is dropped and nobody else notices.
 *
 * After all of that the same kbusd still serves a plain request and reply,
 * and shuts down cleanly.  Children are forked, open their own ksocks and
 * talk to the parent through pipes; nothing sleeps.  "kbusd has finished
 * with the dead child" is learnt by asking find_replier until the child's
 * marker replier binding has gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

/* ---- children ------------------------------------------------------------ */

typedef struct Child {
        pid_t pid;
        int from; /* the parent reads what the child says */
        int to;   /* the parent writes to the child */
} Child;

/* In a child cmocka can't be used: a failed check exits, and the parent,
 * which expects the child to live until it is killed, sees that. */
#define CHILD_CHECK(cond)                                                          \
        do {                                                                       \
                if (!(cond)) {                                                     \
                        fprintf(stderr, "child: check failed at line %d\n", __LINE__); \
                        _exit(3);                                                  \
                }                                                                  \
        } while (0)

static void child_put(int fd, uint32_t v)
{
        CHILD_CHECK(write(fd, &v, sizeof(v)) == (ssize_t)sizeof(v));
}

static void child_wait_go(int fd)
{
        char b;

        CHILD_CHECK(read(fd, &b, 1) == 1);
}

/* Blocks until killed (or until the parent goes away). */
static void child_hold(int fd)
{
        char b;

        while (read(fd, &b, 1) > 0)
                ;
        _exit(4);
}

static void child_start(Child *ch, void (*fn)(int rd, int wr))
{
        int up[2], down[2];

        assert_int_equal(pipe2(up, O_CLOEXEC), 0);
        assert_int_equal(pipe2(down, O_CLOEXEC), 0);
        fflush(NULL);
        ch->pid = fork();
        assert_true(ch->pid >= 0);
        if (ch->pid == 0) {
                close(up[0]);
                close(down[1]);
                fn(down[0], up[1]);
                _exit(5);
        }
        close(up[1]);
        close(down[0]);
        ch->from = up[0];
        ch->to = down[1];
}

static uint32_t child_get(const Child *ch)
{
        uint32_t v;

        assert_int_equal(read(ch->from, &v, sizeof(v)), sizeof(v));
        return v;
}

static void child_go(const Child *ch)
{
        assert_int_equal(write(ch->to, "g", 1), 1);
}

/* SIGKILLs the child, which must still have been alive, and reaps it. */
static void child_kill(Child *ch)
{
        int status;

        assert_int_equal(kill(ch->pid, SIGKILL), 0);
        assert_int_equal(waitpid(ch->pid, &status, 0), ch->pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        close(ch->from);
        close(ch->to);
}

/* ---- helpers (parent) ----------------------------------------------------- */

/* A plain request and reply between two new ksocks: kbusd still serves. */
static void round_trip(const char *name)
{
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw();
        kbus_message_t *r, *m;

        assert_int_equal(kbus_ksock_bind(p, name, 1), 0);
        kbus_msg_id_t id = kt_send(q, name, "ask", KBUS_BIT_WANT_A_REPLY);
        r = kt_take(p);
        assert_true(kbus_msg_wants_us_to_reply(r));
        assert_int_equal(r->id.serial_num, id.serial_num);
        assert_int_equal(r->from, kt_id(q));
        assert_int_equal(kt_try_reply(p, r, "ans", 0, NULL), 0);
        m = kt_wait_msg(q);
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(m->from, kt_id(p));
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
        assert_memory_equal(kbus_msg_data_ptr(m), "ans", 3);
        kbus_msg_delete(&m);
        kbus_msg_delete(&r);
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(p, KT_QUIET_MS);
        kbus_ksock_close(q);
        kbus_ksock_close(p);
}

/* ---- a killed replier ------------------------------------------------------ */

#define KILL_NREQ 5
#define KILL_NREAD 3

/*
 * Binds as replier, says its id, and on "go" reads the first KILL_NREAD
 * requests (the rest stay unread), answers the second, says which it read,
 * and waits to be killed.
 */
static void child_replier(int rd, int wr)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        uint32_t id;

        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Kill.Svc", 1) == 0);
        CHILD_CHECK(kbus_ksock_id(ks, &id) == 0);
        child_put(wr, id);
        child_wait_go(rd);
        for (int i = 0; i < KILL_NREAD; i++) {
                kbus_message_t *m = NULL, *reply;
                CHILD_CHECK(kbus_ksock_read_next_msg(ks, &m) == 0 && m);
                CHILD_CHECK(kbus_msg_wants_us_to_reply(m));
                if (i == 1) {
                        CHILD_CHECK(kbus_msg_create_reply_to(&reply, m, "ans", 3, 0) == 0);
                        CHILD_CHECK(kbus_ksock_send_msg(ks, reply, NULL) == 0);
                        kbus_msg_delete(&reply);
                }
                child_put(wr, m->id.serial_num);
                kbus_msg_delete(&m);
        }
        child_hold(rd);
}

static void test_killed_replier(void **state)
{
        (void)state;
        Child ch;
        kbus_msg_id_t ids[KILL_NREQ];
        int seen[KILL_NREQ] = { 0 };

        child_start(&ch, child_replier);
        uint32_t pid = child_get(&ch);
        kbus_ksock_t q = kt_open_rw();
        uint32_t qid = kt_id(q), who;
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Svc", &who), 0);
        assert_int_equal(who, pid);
        for (int i = 0; i < KILL_NREQ; i++)
                ids[i] = kt_send(q, "$.Kill.Svc", "ask", KBUS_BIT_WANT_A_REPLY);
        child_go(&ch);
        for (int i = 0; i < KILL_NREAD; i++)
                assert_int_equal(child_get(&ch), ids[i].serial_num);
        child_kill(&ch);

        /* One reply (request 1), Ignored (0, 2), GoneAway (3, 4). */
        for (int n = 0; n < KILL_NREQ; n++) {
                kbus_message_t *m = kt_wait_msg(q);
                int i;
                for (i = 0; i < KILL_NREQ; i++)
                        if (m->in_reply_to.network_id == ids[i].network_id &&
                            m->in_reply_to.serial_num == ids[i].serial_num)
                                break;
                assert_true(i < KILL_NREQ);
                seen[i]++;
                assert_int_equal(m->from, pid);
                assert_int_equal(m->to, qid);
                if (i == 1) {
                        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
                        assert_int_equal(m->data_len, 3);
                        assert_memory_equal(kbus_msg_data_ptr(m), "ans", 3);
                } else {
                        assert_string_equal(kbus_msg_name_ptr(m),
                                            i < KILL_NREAD ? KBUS_MSG_NAME_REPLIER_IGNORED
                                                           : KBUS_MSG_NAME_REPLIER_GONEAWAY);
                        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, KBUS_BIT_SYNTHETIC);
                        assert_int_equal(m->data_len, 0);
                }
                kbus_msg_delete(&m);
        }
        for (int i = 0; i < KILL_NREQ; i++)
                assert_int_equal(seen[i], 1);
        kt_expect_quiet(q, KT_QUIET_MS);
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Svc", &who), 0);
        assert_int_equal(who, 0);
        kbus_ksock_close(q);
        round_trip("$.Kill.After1");
}

/* ---- a killed requester ---------------------------------------------------- */

/* On "go": binds a marker, sends three requests, says its id and their
 * serials, and waits to be killed. */
static void child_requester(int rd, int wr)
{
        kbus_ksock_t ks;
        uint32_t id;

        child_wait_go(rd);
        ks = kbus_ksock_open(0, O_RDWR);
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Kill.QMark", 1) == 0);
        CHILD_CHECK(kbus_ksock_id(ks, &id) == 0);
        child_put(wr, id);
        for (int i = 0; i < 3; i++) {
                kbus_message_t *msg;
                kbus_msg_id_t mid;
                CHILD_CHECK(kbus_msg_create_request(&msg, "$.Kill.Svc2", 11, "ask", 3, 0) == 0);
                CHILD_CHECK(kbus_ksock_send_msg(ks, msg, &mid) == 0);
                kbus_msg_delete(&msg);
                child_put(wr, mid.serial_num);
        }
        child_hold(rd);
}

static void test_killed_requester(void **state)
{
        (void)state;
        Child ch;
        kbus_message_t *r[3], *m;
        uint32_t serial[3];
        kbus_msg_id_t last;

        child_start(&ch, child_requester);
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(p, "$.Kill.Svc2", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Kill.Svc2", 0), 0);
        child_go(&ch);
        uint32_t qid = child_get(&ch);
        for (int i = 0; i < 3; i++)
                serial[i] = child_get(&ch);
        for (int i = 0; i < 2; i++) {
                r[i] = kt_take(p);
                assert_true(kbus_msg_wants_us_to_reply(r[i]));
                assert_int_equal(r[i]->id.serial_num, serial[i]);
                assert_int_equal(r[i]->from, qid);
        }
        child_kill(&ch);
        kt_wait_replier_gone(p, "$.Kill.QMark");

        assert_int_equal(kt_try_reply(p, r[0], "ans", 0, NULL), -EADDRNOTAVAIL);
        assert_int_equal(kt_try_reply(p, r[1], "ans", 0, NULL), -EADDRNOTAVAIL);
        assert_int_equal(kt_num_messages(p), 1); /* the unread one is still p's */
        r[2] = kt_take(p);
        assert_int_equal(r[2]->id.serial_num, serial[2]);
        assert_int_equal(kt_try_reply(p, r[2], "ans", 0, NULL), -EADDRNOTAVAIL);
        assert_int_equal(kbus_ksock_last_msg_id(p, &last), 0);
        assert_int_equal(last.serial_num, 0); /* no reply was given an id */
        kt_expect_quiet(p, KT_QUIET_MS);
        /* The listener saw the three requests and no reply. */
        for (int i = 0; i < 3; i++) {
                m = kt_take(l);
                assert_int_equal(m->id.serial_num, serial[i]);
                assert_true(kbus_msg_is_request(m));
                assert_false(kbus_msg_wants_us_to_reply(m));
                kbus_msg_delete(&m);
        }
        kt_expect_quiet(l, KT_QUIET_MS);
        for (int i = 0; i < 3; i++)
                kbus_msg_delete(&r[i]);

        /* p still answers a live requester. */
        kbus_ksock_t q = kt_open_rw();
        kbus_msg_id_t id = kt_send(q, "$.Kill.Svc2", "ask", KBUS_BIT_WANT_A_REPLY);
        m = kt_take(p);
        assert_int_equal(m->id.serial_num, id.serial_num);
        assert_int_equal(kt_try_reply(p, m, "ans", 0, NULL), 0);
        kbus_msg_delete(&m);
        m = kt_wait_msg(q);
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(m->from, kt_id(p));
        kbus_msg_delete(&m);
        m = kt_take(l); /* the new request */
        kbus_msg_delete(&m);
        m = kt_take(l); /* and its reply */
        assert_true(kbus_msg_is_reply(m));
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        kbus_msg_delete(&m);
        kt_expect_quiet(l, KT_QUIET_MS);
        kt_expect_quiet(q, KT_QUIET_MS);
        kbus_ksock_close(q);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

/* ---- killed in the middle of a frame (docs/protocol.md) ------------------ */

static void raw_write(int fd, const uint8_t *p, size_t len)
{
        CHILD_CHECK(kt_raw_write(fd, p, len) == 0);
}

/* Reads frames until one of @type; returns its i32 status (first body word,
 * third for WELCOME). */
static int32_t raw_answer(int fd, uint16_t type)
{
        size_t at = type == KT_WELCOME ? 8 : 0;
        KtRawFrame f;

        for (;;) {
                CHILD_CHECK(kt_raw_read_frame(fd, &f) == 1);
                CHILD_CHECK(f.body_len <= 256); /* kbusd's answers here are small */
                if (f.type == type) {
                        CHILD_CHECK(f.body_len >= at + 4);
                        int32_t status = (int32_t)kt_rd32(f.body + at);
                        kt_raw_frame_free(&f);
                        return status;
                }
                kt_raw_frame_free(&f);
        }
}

static int raw_connect(void)
{
        int fd = kt_raw_connect(kt_kbusd.dir, 0);

        CHILD_CHECK(fd >= 0);
        return fd;
}

/* A greeted raw connection that is the replier for @marker. */
static int raw_open(const char *marker)
{
        int fd = raw_connect();
        uint8_t hello[16];

        kt_raw_hello_body(hello, KT_MAGIC, 1, 3); /* version 1, mode rw */
        CHILD_CHECK(kt_raw_frame(fd, KT_HELLO, 0, hello, sizeof(hello)) == 0);
        CHILD_CHECK(raw_answer(fd, KT_WELCOME) == 0);
        CHILD_CHECK(kt_raw_frame(fd, KT_BIND, 1, marker, strlen(marker)) == 0); /* replier */
        CHILD_CHECK(raw_answer(fd, KT_RESULT) == 0);
        return fd;
}

/*
 * Three raw connections, each left in the middle of a frame: a HELLO cut
 * short, a frame header cut short, and an announcement to $.Kill.Partial
 * whose last bytes never come.  Then says so and waits to be killed.
 */
static void child_partial(int rd, int wr)
{
        static const char name[] = "$.Kill.Partial"; /* 14 bytes, padded to 16 */
        uint8_t f[8 + 56 + 16 + 11];
        int c0 = raw_connect(), c1 = raw_open("$.Kill.Raw1"), c2 = raw_open("$.Kill.Raw2");

        kt_raw_header(f, 24, KT_HELLO, 0);
        raw_write(c0, f, 6);

        kt_raw_header(f, 8 + 56 + 16 + 11, KT_SEND, 0);
        raw_write(c1, f, 5);

        memset(f + 8, 0, 56 + 16);
        kt_le32(f + 8 + 48, sizeof(name) - 1);
        kt_le32(f + 8 + 52, 11);
        memcpy(f + 8 + 56, name, sizeof(name) - 1);
        memcpy(f + 8 + 56 + 16, "hello world", 11);
        raw_write(c2, f, sizeof(f) - 3);

        child_put(wr, 1);
        child_hold(rd);
}

static void test_killed_mid_frame(void **state)
{
        (void)state;
        Child ch;
        kbus_message_t *r, *m;
        uint32_t who;

        child_start(&ch, child_partial);
        kbus_ksock_t l = kt_open_rw(), q = kt_open_rw(), p = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(l, "$.Kill.Partial", 0), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.Kill.Svc3", 1), 0);
        /* outstanding meanwhile */
        kbus_msg_id_t id = kt_send(q, "$.Kill.Svc3", "ask", KBUS_BIT_WANT_A_REPLY);
        assert_int_equal(child_get(&ch), 1);
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Raw1", &who), 0);
        assert_int_not_equal(who, 0);
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Raw2", &who), 0);
        assert_int_not_equal(who, 0);
        child_kill(&ch);
        kt_wait_replier_gone(q, "$.Kill.Raw1");
        kt_wait_replier_gone(q, "$.Kill.Raw2");

        /* The cut-off announcement went nowhere. */
        kt_expect_quiet(l, KT_QUIET_MS);
        /* The conversation in progress is undisturbed. */
        r = kt_take(p);
        assert_int_equal(r->id.serial_num, id.serial_num);
        assert_int_equal(kt_try_reply(p, r, "ans", 0, NULL), 0);
        kbus_msg_delete(&r);
        m = kt_wait_msg(q);
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
        kbus_msg_delete(&m);
        /* And the listener still hears a whole announcement. */
        assert_int_equal(kbus_msg_create(&m, "$.Kill.Partial", 14, "hello world", 11, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(q, m, &id), 0);
        kbus_msg_delete(&m);
        m = kt_take(l);
        assert_int_equal(m->id.serial_num, id.serial_num);
        assert_int_equal(m->from, kt_id(q));
        assert_int_equal(m->data_len, 11);
        assert_memory_equal(kbus_msg_data_ptr(m), "hello world", 11);
        kbus_msg_delete(&m);
        kt_expect_quiet(l, KT_QUIET_MS);
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(p, KT_QUIET_MS);
        kbus_ksock_close(l);
        kbus_ksock_close(q);
        kbus_ksock_close(p);
}

/* After everything above, on the same kbusd. */
static void test_still_serving(void **state)
{
        (void)state;
        round_trip("$.Kill.Final");
}

int main(void)
{
        alarm(120);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_killed_replier),
                cmocka_unit_test(test_killed_requester),
                cmocka_unit_test(test_killed_mid_frame),
                cmocka_unit_test(test_still_serving),
        };
        return cmocka_run_group_tests(tests, kt_setup, kt_teardown);
}
