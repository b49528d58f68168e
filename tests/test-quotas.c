/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-quotas.c - one uid cannot exhaust kbusd (semantics §18): connections,
 * bindings, queued bytes, outstanding requests and partly received frames
 * are counted per uid and in total, against a real kbusd.
 *
 * For each quota an attacker (a child running as uid 65534) goes past its
 * limit and the test checks: the errno of the refusal (EDQUOT for the uid's
 * share, ENOBUFS for kbusd's total), the counters of `kbus-ctl stats`
 * (QUERY_USERS), that a well-behaved client (root) is served meanwhile, that
 * kbusd's memory stays bounded, and that everything is given back when the
 * attacker goes.  Limits are set low with --limit so the tests are quick.
 *
 * kbusd's RSS is checked only when it runs on its own: under $KBUSD_WRAPPER
 * (CI's valgrind run) the resident size is valgrind's, not kbusd's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../src/lib/query.h"
#include "kbus-test.h"
#include "security-test.h"

#define NOBODY 65534u
#define Q_CONNECTIONS 0
#define Q_BINDINGS 1
#define Q_QUEUED 2
#define Q_REQUESTS 3
#define Q_PARTIAL 4

/* ---- helpers ------------------------------------------------------------ */

/* What the quota books say of @uid (zeros if it holds nothing), and in total. */
static KbusQuotaUser books(kbus_ksock_t ks, uint32_t uid, KbusQuotaUser *total)
{
        KbusQuotaStats q;
        KbusQuotaUser u = { .uid = uid };

        assert_int_equal(kbus_query_users(ks, &q), 0);
        for (uint32_t i = 0; i < q.nusers; i++)
                if (q.users[i].uid == uid)
                        u = q.users[i];
        if (total) {
                memcpy(total->used, q.used, sizeof(q.used));
                memcpy(total->refused, q.refused, sizeof(q.refused));
        }
        kbus_query_users_free(&q);
        return u;
}

/* Waits until @uid holds nothing at all (its last connection has been freed). */
static void wait_uid_gone(kbus_ksock_t ks, uint32_t uid)
{
        long deadline = harness_now_ms() + 20000;

        for (;;) {
                KbusQuotaStats q;
                bool present = false;
                assert_int_equal(kbus_query_users(ks, &q), 0);
                for (uint32_t i = 0; i < q.nusers; i++)
                        present |= q.users[i].uid == uid;
                kbus_query_users_free(&q);
                if (!present)
                        return;
                assert_true(harness_now_ms() < deadline);
                struct timespec ts = { 0, 2 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

/* Waits until kbusd counts @n connections in all (closes are seen asynchronously). */
static void wait_connections(kbus_ksock_t ks, uint64_t n)
{
        long deadline = harness_now_ms() + 20000;
        KbusQuotaUser total;

        for (books(ks, 0, &total); total.used[Q_CONNECTIONS] != n; books(ks, 0, &total)) {
                assert_true(harness_now_ms() < deadline);
                struct timespec ts = { 0, 2 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

/* A request answered between two root ksocks: the good client is served. */
static void good_client_served(void)
{
        kbus_ksock_t asker = kt_open_rw(), answerer = kt_open_rw();
        kbus_message_t *m;

        assert_int_equal(kbus_ksock_bind(answerer, "$.Good.Ask", 1), 0);
        kt_send(asker, "$.Good.Ask", "?", KBUS_BIT_WANT_A_REPLY);
        m = kt_wait_msg(answerer);
        kt_reply(answerer, m, "yes", 0);
        kbus_msg_delete(&m);
        m = kt_wait_msg(asker);
        assert_memory_equal(kbus_msg_data_ptr(m), "yes", 3);
        kbus_msg_delete(&m);
        KT_CLOSE(asker, answerer);
}

static bool rss_checked(void)
{
        const char *w = getenv("KBUSD_WRAPPER");

        return !w || !*w;
}

static long rss_mb(void)
{
        long kb = harness_rss_kb(sec_kbusd_pid());

        assert_true(kb > 0);
        return kb / 1024;
}

/* ---- connections --------------------------------------------------------- */

static int hold_connections(void *arg, int ctl)
{
        kbus_ksock_t ks[8];
        int n = 0, r;

        (void)arg;
        while (n < 8 && (r = kbus_ksock_open(0, O_RDWR)) >= 0)
                ks[n++] = r;
        CHILD_CHECK(n == 4);
        CHILD_CHECK(r == -EDQUOT);
        for (int i = 0; i < 200; i++) /* a flood of refused connections */
                CHILD_CHECK(kbus_ksock_open(0, O_RDWR) == -EDQUOT);
        child_signal(ctl);
        child_wait_parent(ctl);
        for (int i = 0; i < n; i++)
                kbus_ksock_close(ks[i]);
        return 0;
}

static void test_connections(void **state)
{
        static const char *const args[] = { "--limit", "connections-per-uid=4", "--limit",
                                            "connections-total=7", NULL };
        KbusQuotaUser total;

        (void)state;
        sec_start(args);
        Child ch = child_start(NOBODY, hold_connections, NULL);
        child_wait(&ch);
        kbus_ksock_t root[3];
        root[0] = kt_open_rw();
        good_client_served(); /* two more, for a moment: 7 in all */
        wait_connections(root[0], 5);
        root[1] = kt_open_rw();
        root[2] = kt_open_rw();
        assert_int_equal(kbus_ksock_open(0, O_RDWR), -ENOBUFS); /* kbusd's total */
        KbusQuotaUser u = books(root[0], NOBODY, &total);
        assert_int_equal(u.used[Q_CONNECTIONS], 4);
        assert_int_equal(u.refused[Q_CONNECTIONS], 201);
        assert_int_equal(total.used[Q_CONNECTIONS], 7);
        assert_int_equal(total.refused[Q_CONNECTIONS], 202);
        /* a flood is logged at its 1st, 2nd, 4th ... 128th refusal, not each time */
        assert_int_equal(sec_log_count("connections quota of the uid used up"), 8);
        assert_int_equal(sec_log_count("connections limit of kbusd reached"), 1);
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        wait_uid_gone(root[0], NOBODY);
        kbus_ksock_t again = kt_open_rw(); /* what the attacker held is free again */
        kt_close(again);
        for (int i = 0; i < 3; i++)
                kt_close(root[i]);
        sec_stop();
}

/* ---- bindings ------------------------------------------------------------ */

static int hold_bindings(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        char name[64];

        (void)arg;
        CHILD_CHECK(ks >= 0);
        for (int i = 0; i < 50; i++) {
                snprintf(name, sizeof(name), "$.Many.N%d", i);
                CHILD_CHECK(kbus_ksock_bind(ks, name, 0) == 0);
        }
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Many.One.More", 0) == -EDQUOT);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Many.Replier", 1) == -EDQUOT);
        CHILD_CHECK(kbus_ksock_unbind(ks, "$.Many.N0", 0) == 0);
        CHILD_CHECK(kbus_ksock_bind(ks, "$.Many.Replier", 1) == 0);
        child_signal(ctl);
        child_wait_parent(ctl);
        kbus_ksock_close(ks);
        return 0;
}

static void test_bindings(void **state)
{
        static const char *const args[] = { "--limit", "bindings-per-uid=50", "--limit",
                                            "bindings-total=80", NULL };
        char name[64];
        KbusQuotaUser total;

        (void)state;
        sec_start(args);
        Child ch = child_start(NOBODY, hold_bindings, NULL);
        child_wait(&ch);
        kbus_ksock_t root = kt_open_rw();
        for (int i = 0; i < 30; i++) {
                snprintf(name, sizeof(name), "$.Root.N%d", i);
                assert_int_equal(kbus_ksock_bind(root, name, 0), 0);
        }
        assert_int_equal(kbus_ksock_bind(root, "$.Root.Extra", 0), -ENOBUFS);
        KbusQuotaUser u = books(root, NOBODY, &total);
        assert_int_equal(u.used[Q_BINDINGS], 50);
        assert_int_equal(u.refused[Q_BINDINGS], 2);
        assert_int_equal(total.used[Q_BINDINGS], 80);
        assert_int_equal(total.refused[Q_BINDINGS], 3);
        assert_int_equal(kbus_ksock_unbind(root, "$.Root.N0", 0), 0);
        assert_int_equal(kbus_ksock_bind(root, "$.Root.Extra", 0), 0);
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        wait_uid_gone(root, NOBODY);
        books(root, NOBODY, &total);
        assert_int_equal(total.used[Q_BINDINGS], 30);
        kt_close(root);
        sec_stop();
}

/*
 * Binds with raw frames, all written at once: @n names, each a fresh branch
 * of the trie.  Returns how many were bound before the first refusal, and
 * that refusal's errno.
 */
static int raw_bind_many(int fd, unsigned n, unsigned *ret_bound, int *ret_err)
{
        enum { NAME_LEN = 24 }; /* "$.Memory.Bx00000000.Leaf" */
        size_t frame = 8 + NAME_LEN;
        uint8_t *buf = malloc(n * frame);
        char name[NAME_LEN + 1];

        CHILD_CHECK(buf);
        for (unsigned i = 0; i < n; i++) {
                CHILD_CHECK(snprintf(name, sizeof(name), "$.Memory.Bx%08u.Leaf", i) == NAME_LEN);
                kt_raw_header(buf + i * frame, (uint32_t)frame, KT_BIND, 0);
                memcpy(buf + i * frame + 8, name, NAME_LEN);
        }
        CHILD_CHECK(kt_raw_write(fd, buf, n * frame) == 0);
        free(buf);
        *ret_bound = 0;
        *ret_err = 0;
        for (unsigned i = 0; i < n; i++) {
                KtRawFrame f;
                CHILD_CHECK(kt_raw_read_frame(fd, &f) == 1 && f.type == KT_RESULT);
                int32_t status = (int32_t)kt_rd32(f.body);
                kt_raw_frame_free(&f);
                if (status == 0 && *ret_err == 0)
                        (*ret_bound)++;
                else if (status < 0 && *ret_err == 0)
                        *ret_err = status;
        }
        return 0;
}

static int raw_greet(int fd)
{
        uint8_t hello[16];
        KtRawFrame f;

        kt_raw_hello_body(hello, KT_MAGIC, 1, 3);
        CHILD_CHECK(kt_raw_frame(fd, KT_HELLO, 0, hello, sizeof(hello)) == 0);
        CHILD_CHECK(kt_raw_read_frame(fd, &f) == 1 && f.type == KT_WELCOME);
        CHILD_CHECK(kt_rd32(f.body + 8) == 0);
        kt_raw_frame_free(&f);
        return 0;
}

static int bind_until_refused(void *arg, int ctl)
{
        const char *dir = arg;
        int fd = kt_raw_connect(dir, 60000);
        unsigned bound;
        int err;

        CHILD_CHECK(fd >= 0);
        CHILD_CHECK(raw_greet(fd) == 0);
        CHILD_CHECK(raw_bind_many(fd, 42000, &bound, &err) == 0);
        CHILD_CHECK(bound == 40000);
        CHILD_CHECK(err == -EDQUOT);
        child_signal(ctl);
        child_wait_parent(ctl);
        close(fd);
        return 0;
}

/* Under ASan, freed memory would sit in its quarantine instead of going back. */
static void asan_returns_memory(void)
{
        char opts[512];
        const char *old = getenv("ASAN_OPTIONS");

        snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0:"
                 "allocator_release_to_os_interval_ms=0", old ? old : "", old ? ":" : "");
        setenv("ASAN_OPTIONS", opts, 1);
}

static void test_bindings_memory(void **state)
{
        static const char *const args[] = { "--limit", "bindings-per-uid=40000", NULL };

        (void)state;
        asan_returns_memory();
        sec_start(args);
        kbus_ksock_t root = kt_open_rw();
        long before = rss_mb();
        Child ch = child_start(NOBODY, bind_until_refused, kt_kbusd.dir);
        child_wait(&ch);
        long peak = rss_mb();
        KbusQuotaUser u = books(root, NOBODY, NULL);
        assert_int_equal(u.used[Q_BINDINGS], 40000);
        assert_int_equal(u.refused[Q_BINDINGS], 2000);
        good_client_served();
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        wait_uid_gone(root, NOBODY);
        long after = rss_mb();
        printf("kbusd RSS: %ld MiB before, %ld MiB with 40000 bindings, %ld MiB after they "
               "went\n", before, peak, after);
        if (rss_checked()) {
                assert_true(peak - before < 64); /* bounded: about 400 bytes a binding */
                assert_true(after - before <= (peak - before) / 4 + 1); /* and it comes back */
        }
        kt_close(root);
        sec_stop();
}

/* ---- outstanding requests ------------------------------------------------- */

static int ask_too_much(void *arg, int ctl)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *m;

        (void)arg;
        CHILD_CHECK(ks >= 0);
        CHILD_CHECK(kbus_msg_create(&m, "$.Q.Ask", 7, NULL, 0, KBUS_BIT_WANT_A_REPLY) == 0);
        for (int i = 0; i < 3; i++)
                CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == 0);
        CHILD_CHECK(kbus_ksock_send_msg(ks, m, NULL) == -EDQUOT);
        kbus_msg_delete(&m);
        child_signal(ctl);
        child_wait_parent(ctl);
        kbus_ksock_close(ks);
        return 0;
}

static void test_requests(void **state)
{
        static const char *const args[] = { "--limit", "requests-per-uid=3", NULL };
        KbusQuotaUser total;
        kbus_message_t *m;

        (void)state;
        sec_start(args);
        kbus_ksock_t replier = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(replier, "$.Q.Ask", 1), 0);
        Child ch = child_start(NOBODY, ask_too_much, NULL);
        child_wait(&ch);
        KbusQuotaUser u = books(replier, NOBODY, &total);
        assert_int_equal(u.used[Q_REQUESTS], 3);
        assert_int_equal(u.refused[Q_REQUESTS], 1);
        good_client_served();
        /* the requester goes: the replier, who alone can end them, now pays */
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        wait_uid_gone(replier, NOBODY);
        u = books(replier, 0, &total);
        assert_int_equal(u.used[Q_REQUESTS], 3);
        m = kt_wait_msg(replier);
        assert_int_equal(kt_try_reply(replier, m, NULL, 0, NULL), -EADDRNOTAVAIL);
        kbus_msg_delete(&m);
        assert_int_equal(books(replier, 0, NULL).used[Q_REQUESTS], 2);
        kt_close(replier);
        kbus_ksock_t probe = kt_open_rw();
        books(probe, 0, &total);
        assert_int_equal(total.used[Q_REQUESTS], 0);
        kt_close(probe);
        sec_stop();
}

/* ---- queued bytes ---------------------------------------------------------- */

static int listen_never_read(void *arg, int ctl)
{
        kbus_ksock_t ks[4];

        (void)arg;
        for (int i = 0; i < 4; i++) {
                ks[i] = kbus_ksock_open(0, O_RDWR);
                CHILD_CHECK(ks[i] >= 0);
                CHILD_CHECK(kbus_ksock_bind(ks[i], "$.*", 0) == 0);
        }
        child_signal(ctl);
        child_wait_parent(ctl); /* reads nothing meanwhile */
        for (int i = 0; i < 4; i++)
                kbus_ksock_close(ks[i]);
        return 0;
}

static void test_queued_bytes(void **state)
{
        static const char *const args[] = { "--limit", "queued-bytes-per-uid=256K", NULL };
        char data[1025];
        kbus_message_t *m;

        (void)state;
        sec_start(args);
        long before = rss_mb();
        Child ch = child_start(NOBODY, listen_never_read, NULL);
        child_wait(&ch);
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(rx, "$.Flood.*", 0), 0);
        memset(data, 'q', sizeof(data) - 1);
        data[sizeof(data) - 1] = '\0';
        for (int i = 0; i < 600; i++) {
                kt_send(tx, "$.Flood.X", data, 0);
                m = kt_wait_msg(rx); /* the good listener gets every one */
                kbus_msg_delete(&m);
        }
        /* ALL_OR_FAIL sees the attacker's queues full */
        assert_int_equal(kt_try_send(tx, "$.Flood.X", data, KBUS_BIT_ALL_OR_FAIL, NULL), -EBUSY);
        KbusBusStats s;
        uint64_t received = 0, missed = 0;
        assert_int_equal(kbus_query_stats(tx, &s), 0);
        for (uint32_t i = 0; i < s.nksocks; i++) {
                if (s.ksocks_stats[i].uid != NOBODY)
                        continue;
                assert_int_equal(s.ksocks_stats[i].received + s.ksocks_stats[i].missed, 600);
                received += s.ksocks_stats[i].received;
                missed += s.ksocks_stats[i].missed;
        }
        kbus_query_stats_free(&s);
        uint64_t size = 56 + 12 + 1024; /* one message, encoded */
        KbusQuotaUser u = books(tx, NOBODY, NULL);
        assert_true(u.used[Q_QUEUED] <= 256 * 1024 + size);
        assert_true(u.used[Q_QUEUED] == received * size);
        assert_true(received >= 256 * 1024 / size && received <= 256 * 1024 / size + 1);
        assert_int_equal(received + missed, 2400);
        good_client_served();
        long during = rss_mb();
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        wait_uid_gone(tx, NOBODY);
        printf("kbusd RSS: %ld MiB before, %ld MiB with 4 stuck listeners\n", before, during);
        if (rss_checked())
                assert_true(during - before < 32);
        KT_CLOSE(tx, rx);
        sec_stop();
}

/* ---- partly received frames ------------------------------------------------ */

#define BIG (16u << 20) /* the largest message a bus may allow */

/* Starts a SEND frame of BIG bytes and sends one byte of it. */
static int start_big_frame(int fd)
{
        uint8_t head[9];

        kt_raw_header(head, 8 + BIG, KT_SEND, 0);
        head[8] = 0;
        return kt_raw_write(fd, head, sizeof(head));
}

static int hold_partial_frames(void *arg, int ctl)
{
        const char *dir = arg;
        int fd[20];

        for (int i = 0; i < 20; i++) {
                fd[i] = kt_raw_connect(dir, 20000);
                CHILD_CHECK(fd[i] >= 0);
                CHILD_CHECK(raw_greet(fd[i]) == 0);
                CHILD_CHECK(start_big_frame(fd[i]) == 0);
        }
        child_signal(ctl);
        child_wait_parent(ctl);
        /* a refused frame is still read (and dropped) to its end, then answered */
        uint8_t *rest = calloc(1, BIG - 1);
        KtRawFrame f;
        CHILD_CHECK(rest);
        CHILD_CHECK(kt_raw_write(fd[19], rest, BIG - 1) == 0);
        free(rest);
        CHILD_CHECK(kt_raw_read_frame(fd[19], &f) == 1 && f.type == KT_RESULT);
        CHILD_CHECK((int32_t)kt_rd32(f.body) == -EDQUOT);
        kt_raw_frame_free(&f);
        for (int i = 0; i < 20; i++)
                close(fd[i]);
        return 0;
}

static void test_partial_frames(void **state)
{
        static const char *const args[] = { "--max-message-size", "16777216", "--limit",
                                            "partial-bytes-per-uid=40M", NULL };

        (void)state;
        sec_start(args);
        kbus_ksock_t root = kt_open_rw();
        long before = rss_mb();
        Child ch = child_start(NOBODY, hold_partial_frames, kt_kbusd.dir);
        child_wait(&ch);
        KbusQuotaUser u = books(root, NOBODY, NULL);
        /* two 16 MiB frames fit in 40 MiB; the other 18 are refused */
        assert_int_equal(u.used[Q_PARTIAL], 2ull * (8 + BIG));
        assert_int_equal(u.refused[Q_PARTIAL], 18);
        good_client_served();
        long during = rss_mb();
        printf("kbusd RSS: %ld MiB before, %ld MiB with 20 frames of 16 MiB begun\n", before,
               during);
        if (rss_checked())
                assert_true(during - before < 16); /* only what arrived is buffered */
        child_release(&ch);
        assert_int_equal(child_finish(&ch), 0);
        wait_uid_gone(root, NOBODY);
        kt_close(root);
        sec_stop();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_connections),
                cmocka_unit_test(test_bindings),
                cmocka_unit_test(test_bindings_memory),
                cmocka_unit_test(test_requests),
                cmocka_unit_test(test_queued_bytes),
                cmocka_unit_test(test_partial_frames),
        };

        alarm(400);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
