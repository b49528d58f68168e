/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-kill.c - clients that die without saying goodbye (SPEC §1, §9, §16).
 *
 * kbusd learns that a client is gone only from its socket closing, so a
 * SIGKILLed client must be settled exactly as a polite close would be:
 *
 * - a replier killed while holding requests: each request it never read
 *   gets $.KBUS.Replier.GoneAway, each it read and did not answer gets
 *   $.KBUS.Replier.Ignored, the one it answered gets only its reply; one
 *   answer per request, matched by in_reply_to.  The child reads through
 *   libkbus, whose read-ahead means kbusd must still tell "read" from
 *   "pushed but not read" (SPEC §9's last paragraph);
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
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "kbus/kbus.h"

static Kbusd kbusd;

static int setup(void **state)
{
        (void)state;
        return kbusd_start(&kbusd, NULL);
}

static int teardown(void **state)
{
        (void)state;
        return kbusd_stop(&kbusd);
}

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

static kbus_ksock_t open_ks(void)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);

        assert_true(ks >= 0);
        return ks;
}

static uint32_t id_of(kbus_ksock_t ks)
{
        uint32_t id = 0;

        assert_int_equal(kbus_ksock_id(ks, &id), 0);
        assert_int_not_equal(id, 0);
        return id;
}

static uint32_t num_messages(kbus_ksock_t ks)
{
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_num_messages(ks, &n), 0);
        return n;
}

static kbus_msg_id_t request_ok(kbus_ksock_t ks, const char *name)
{
        kbus_message_t *msg;
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(kbus_msg_create_request(&msg, name, (uint32_t)strlen(name), "ask", 3, 0),
                         0);
        assert_int_equal(kbus_ksock_send_msg(ks, msg, &id), 0);
        kbus_msg_delete(&msg);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

static int send_reply(kbus_ksock_t ks, const kbus_message_t *req)
{
        kbus_message_t *reply;

        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "ans", 3, 0), 0);
        int r = kbus_ksock_send_msg(ks, reply, NULL);
        kbus_msg_delete(&reply);
        return r;
}

static kbus_message_t *take(kbus_ksock_t ks)
{
        kbus_message_t *m = NULL;

        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_non_null(m);
        return m;
}

static kbus_message_t *wait_msg(kbus_ksock_t ks)
{
        int r = kbus_wait_for_message(ks, KBUS_KSOCK_READABLE);

        assert_int_equal(r & KBUS_KSOCK_READABLE, KBUS_KSOCK_READABLE);
        return take(ks);
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Synchronous questions until @name has no replier: kbusd has settled the
 * close of the ksock that was its replier. */
static void wait_replier_gone(kbus_ksock_t ks, const char *name)
{
        long deadline = now_ms() + 20000;
        uint32_t who;

        for (;;) {
                assert_int_equal(kbus_ksock_find_replier(ks, name, &who), 0);
                if (who == 0)
                        return;
                assert_true(now_ms() < deadline);
        }
}

static void expect_quiet(kbus_ksock_t ks)
{
        struct pollfd p = { .fd = ks, .events = POLLIN };
        kbus_message_t *m = NULL;

        (void)poll(&p, 1, 100);
        assert_int_equal(num_messages(ks), 0);
        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_null(m);
}

/* A plain request and reply between two new ksocks: kbusd still serves. */
static void round_trip(const char *name)
{
        kbus_ksock_t q = open_ks(), p = open_ks();
        kbus_message_t *r, *m;

        assert_int_equal(kbus_ksock_bind(p, name, 1), 0);
        kbus_msg_id_t id = request_ok(q, name);
        r = take(p);
        assert_true(kbus_msg_wants_us_to_reply(r));
        assert_int_equal(r->id.serial_num, id.serial_num);
        assert_int_equal(r->from, id_of(q));
        assert_int_equal(send_reply(p, r), 0);
        m = wait_msg(q);
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(m->from, id_of(p));
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
        assert_memory_equal(kbus_msg_data_ptr(m), "ans", 3);
        kbus_msg_delete(&m);
        kbus_msg_delete(&r);
        expect_quiet(q);
        expect_quiet(p);
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
        kbus_ksock_t q = open_ks();
        uint32_t qid = id_of(q), who;
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Svc", &who), 0);
        assert_int_equal(who, pid);
        for (int i = 0; i < KILL_NREQ; i++)
                ids[i] = request_ok(q, "$.Kill.Svc");
        child_go(&ch);
        for (int i = 0; i < KILL_NREAD; i++)
                assert_int_equal(child_get(&ch), ids[i].serial_num);
        child_kill(&ch);

        /* One reply (request 1), Ignored (0, 2), GoneAway (3, 4). */
        for (int n = 0; n < KILL_NREQ; n++) {
                kbus_message_t *m = wait_msg(q);
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
        expect_quiet(q);
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
        kbus_ksock_t p = open_ks(), l = open_ks();
        assert_int_equal(kbus_ksock_bind(p, "$.Kill.Svc2", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Kill.Svc2", 0), 0);
        child_go(&ch);
        uint32_t qid = child_get(&ch);
        for (int i = 0; i < 3; i++)
                serial[i] = child_get(&ch);
        for (int i = 0; i < 2; i++) {
                r[i] = take(p);
                assert_true(kbus_msg_wants_us_to_reply(r[i]));
                assert_int_equal(r[i]->id.serial_num, serial[i]);
                assert_int_equal(r[i]->from, qid);
        }
        child_kill(&ch);
        wait_replier_gone(p, "$.Kill.QMark");

        assert_int_equal(send_reply(p, r[0]), -EADDRNOTAVAIL);
        assert_int_equal(send_reply(p, r[1]), -EADDRNOTAVAIL);
        assert_int_equal(num_messages(p), 1); /* the unread one is still p's */
        r[2] = take(p);
        assert_int_equal(r[2]->id.serial_num, serial[2]);
        assert_int_equal(send_reply(p, r[2]), -EADDRNOTAVAIL);
        assert_int_equal(kbus_ksock_last_msg_id(p, &last), 0);
        assert_int_equal(last.serial_num, 0); /* no reply was given an id */
        expect_quiet(p);
        /* The listener saw the three requests and no reply. */
        for (int i = 0; i < 3; i++) {
                m = take(l);
                assert_int_equal(m->id.serial_num, serial[i]);
                assert_true(kbus_msg_is_request(m));
                assert_false(kbus_msg_wants_us_to_reply(m));
                kbus_msg_delete(&m);
        }
        expect_quiet(l);
        for (int i = 0; i < 3; i++)
                kbus_msg_delete(&r[i]);

        /* p still answers a live requester. */
        kbus_ksock_t q = open_ks();
        kbus_msg_id_t id = request_ok(q, "$.Kill.Svc2");
        m = take(p);
        assert_int_equal(m->id.serial_num, id.serial_num);
        assert_int_equal(send_reply(p, m), 0);
        kbus_msg_delete(&m);
        m = wait_msg(q);
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(m->from, id_of(p));
        kbus_msg_delete(&m);
        m = take(l); /* the new request */
        kbus_msg_delete(&m);
        m = take(l); /* and its reply */
        assert_true(kbus_msg_is_reply(m));
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        kbus_msg_delete(&m);
        expect_quiet(l);
        expect_quiet(q);
        kbus_ksock_close(q);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

/* ---- killed in the middle of a frame (docs/protocol.md) ------------------ */

static void put_le32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void raw_header(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags)
{
        put_le32(p, len);
        p[4] = (uint8_t)type;
        p[5] = (uint8_t)(type >> 8);
        p[6] = (uint8_t)flags;
        p[7] = (uint8_t)(flags >> 8);
}

static void raw_write(int fd, const uint8_t *p, size_t len)
{
        CHILD_CHECK(write(fd, p, len) == (ssize_t)len);
}

static void raw_read(int fd, uint8_t *p, size_t len)
{
        while (len) {
                ssize_t n = read(fd, p, len);
                CHILD_CHECK(n > 0);
                p += n;
                len -= (size_t)n;
        }
}

/* Reads frames until one of @type; returns its i32 status (first body word). */
static int32_t raw_answer(int fd, uint16_t type)
{
        uint8_t h[8], body[256];

        for (;;) {
                raw_read(fd, h, 8);
                uint32_t len = get_le32(h);
                CHILD_CHECK(len >= 8 && len - 8 <= sizeof(body));
                raw_read(fd, body, len - 8);
                if ((uint16_t)(h[4] | h[5] << 8) == type) {
                        CHILD_CHECK(len >= 12);
                        return (int32_t)get_le32(body + (type == 0x81 ? 8 : 0));
                }
        }
}

static int raw_connect(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        CHILD_CHECK(fd >= 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/kbus0", getenv("KBUS_SOCKET_DIR"));
        CHILD_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        return fd;
}

/* A greeted raw connection that is the replier for @marker. */
static int raw_open(const char *marker)
{
        int fd = raw_connect();
        uint8_t f[64];
        size_t n = strlen(marker);

        raw_header(f, 24, 1, 0); /* HELLO */
        put_le32(f + 8, 0x5355424Bu);
        put_le32(f + 12, 1u | 3u << 16); /* version 1, mode rw */
        put_le32(f + 16, 0);
        put_le32(f + 20, 0);
        raw_write(fd, f, 24);
        CHILD_CHECK(raw_answer(fd, 0x81) == 0);
        raw_header(f, (uint32_t)(8 + n), 3, 1); /* BIND, replier */
        memcpy(f + 8, marker, n);
        raw_write(fd, f, 8 + n);
        CHILD_CHECK(raw_answer(fd, 0x82) == 0);
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

        raw_header(f, 24, 1, 0);
        raw_write(c0, f, 6);

        raw_header(f, 8 + 56 + 16 + 11, 2, 0);
        raw_write(c1, f, 5);

        memset(f + 8, 0, 56 + 16);
        put_le32(f + 8 + 48, sizeof(name) - 1);
        put_le32(f + 8 + 52, 11);
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
        kbus_ksock_t l = open_ks(), q = open_ks(), p = open_ks();
        assert_int_equal(kbus_ksock_bind(l, "$.Kill.Partial", 0), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.Kill.Svc3", 1), 0);
        kbus_msg_id_t id = request_ok(q, "$.Kill.Svc3"); /* outstanding meanwhile */
        assert_int_equal(child_get(&ch), 1);
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Raw1", &who), 0);
        assert_int_not_equal(who, 0);
        assert_int_equal(kbus_ksock_find_replier(q, "$.Kill.Raw2", &who), 0);
        assert_int_not_equal(who, 0);
        child_kill(&ch);
        wait_replier_gone(q, "$.Kill.Raw1");
        wait_replier_gone(q, "$.Kill.Raw2");

        /* The cut-off announcement went nowhere. */
        expect_quiet(l);
        /* The conversation in progress is undisturbed. */
        r = take(p);
        assert_int_equal(r->id.serial_num, id.serial_num);
        assert_int_equal(send_reply(p, r), 0);
        kbus_msg_delete(&r);
        m = wait_msg(q);
        assert_int_equal(m->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
        kbus_msg_delete(&m);
        /* And the listener still hears a whole announcement. */
        assert_int_equal(kbus_msg_create(&m, "$.Kill.Partial", 14, "hello world", 11, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(q, m, &id), 0);
        kbus_msg_delete(&m);
        m = take(l);
        assert_int_equal(m->id.serial_num, id.serial_num);
        assert_int_equal(m->from, id_of(q));
        assert_int_equal(m->data_len, 11);
        assert_memory_equal(kbus_msg_data_ptr(m), "hello world", 11);
        kbus_msg_delete(&m);
        expect_quiet(l);
        expect_quiet(q);
        expect_quiet(p);
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
        return cmocka_run_group_tests(tests, setup, teardown);
}
