/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-post.c - kbus_ksock_post_msg() and kbus_ksock_flush(), the kbus
 * extension for pipelined announcements (include/kbus/kbus.h), against a
 * real kbusd.
 *
 * A posted message gets no answer, so these tests learn that kbusd has
 * handled everything posted so far the way any client can: kbusd handles a
 * ksock's frames in order (docs/protocol.md), so once a synchronous call on
 * the same ksock (kbus_ksock_last_msg_id()) has its answer, every message
 * posted before it has been delivered, and kbus_ksock_last_msg_id() gives
 * the id of the last one.  Posted messages must keep their order with
 * synchronous sends and get consecutive serials (SPEC §8); what post_msg
 * refuses it refuses as kbus_ksock_send() would (SPEC §7, §15); closing the
 * ksock still delivers what was posted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "kbus/kbus.h"

#define BIG_COUNT 100000u

static Kbusd kbusd;
static uint32_t default_max_size;

static int setup(void **state)
{
        (void)state;
        int r = kbusd_start(&kbusd, NULL);
        if (r < 0)
                return r;
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        if (ks < 0)
                return ks;
        r = kbus_ksock_max_message_size(ks, &default_max_size);
        kbus_ksock_close(ks);
        return r;
}

static int teardown(void **state)
{
        (void)state;
        return kbusd_stop(&kbusd);
}

/* Every test leaves the bus maximum as it found it. */
static int restore_max_size(void **state)
{
        (void)state;
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        uint32_t v = default_max_size;

        if (ks < 0)
                return ks;
        int r = kbus_ksock_max_message_size(ks, &v);
        kbus_ksock_close(ks);
        return r < 0 ? r : (v == default_max_size ? 0 : -1);
}

/* ---- helpers ------------------------------------------------------------ */

static kbus_ksock_t open_mode(int flags)
{
        kbus_ksock_t ks = kbus_ksock_open(0, flags);

        assert_true(ks >= 0);
        return ks;
}

static kbus_ksock_t open_rw(void)
{
        return open_mode(O_RDWR);
}

static uint32_t ksock_id(kbus_ksock_t ks)
{
        uint32_t id = 0;

        assert_int_equal(kbus_ksock_id(ks, &id), 0);
        return id;
}

static uint32_t num_messages(kbus_ksock_t ks)
{
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_num_messages(ks, &n), 0);
        return n;
}

static int post(kbus_ksock_t ks, const char *name, const void *data, uint32_t data_len,
                uint32_t flags)
{
        kbus_message_t *msg;

        assert_int_equal(kbus_msg_create(&msg, name, (uint32_t)strlen(name), data, data_len,
                                         flags), 0);
        int r = kbus_ksock_post_msg(ks, msg);
        kbus_msg_delete(&msg);
        return r;
}

static kbus_msg_id_t send_ok(kbus_ksock_t ks, const char *name, const char *data)
{
        kbus_message_t *msg;
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(kbus_msg_create(&msg, name, (uint32_t)strlen(name), data,
                                         (uint32_t)strlen(data), 0), 0);
        assert_int_equal(kbus_ksock_send_msg(ks, msg, &id), 0);
        kbus_msg_delete(&msg);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

/* Returns once kbusd has handled everything @ks posted; gives the last id. */
static kbus_msg_id_t settle(kbus_ksock_t ks)
{
        kbus_msg_id_t id = { 0xffffffffu, 0xffffffffu };

        assert_int_equal(kbus_ksock_flush(ks), 0);
        assert_int_equal(kbus_ksock_last_msg_id(ks, &id), 0);
        return id;
}

static kbus_message_t *read_one(kbus_ksock_t ks)
{
        kbus_message_t *msg = NULL;

        assert_int_equal(kbus_ksock_read_next_msg(ks, &msg), 0);
        assert_non_null(msg);
        return msg;
}

/* Reads the next message: @name, serial @serial, data the string @data. */
static void expect(kbus_ksock_t ks, const char *name, uint32_t serial, uint32_t from,
                   const char *data)
{
        kbus_message_t *msg = read_one(ks);

        assert_string_equal(kbus_msg_name_ptr(msg), name);
        assert_int_equal(msg->id.network_id, 0);
        assert_int_equal(msg->id.serial_num, serial);
        assert_int_equal(msg->from, from);
        assert_int_equal(msg->data_len, strlen(data));
        if (*data)
                assert_memory_equal(kbus_msg_data_ptr(msg), data, strlen(data));
        kbus_msg_delete(&msg);
}

static void assert_no_message(kbus_ksock_t ks)
{
        kbus_message_t *msg = (kbus_message_t *)1;

        assert_int_equal(num_messages(ks), 0);
        assert_int_equal(kbus_ksock_read_next_msg(ks, &msg), 0);
        assert_null(msg);
}

/* ---- tests -------------------------------------------------------------- */

static void test_post_order_and_serials(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), l = open_rw();
        uint32_t pid = ksock_id(p);
        char data[16];

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Order", 0), 0);
        kbus_msg_id_t base = send_ok(p, "$.Post.Order", "base");
        for (unsigned i = 0; i < 10; i++) {
                snprintf(data, sizeof(data), "p%u", i);
                assert_int_equal(post(p, "$.Post.Order", data, (uint32_t)strlen(data), 0), 0);
        }
        kbus_msg_id_t last = settle(p);
        assert_int_equal(last.network_id, 0);
        assert_int_equal(last.serial_num, base.serial_num + 10);
        assert_int_equal(num_messages(l), 11);

        expect(l, "$.Post.Order", base.serial_num, pid, "base");
        for (unsigned i = 0; i < 10; i++) {
                snprintf(data, sizeof(data), "p%u", i);
                expect(l, "$.Post.Order", base.serial_num + 1 + i, pid, data);
        }
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

static void test_post_order_with_send(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), l = open_rw();
        uint32_t pid = ksock_id(p);

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Mix.*", 0), 0);
        assert_int_equal(post(p, "$.Post.Mix.A", "1", 1, 0), 0);
        assert_int_equal(post(p, "$.Post.Mix.B", "2", 1, 0), 0);
        /* the send goes after the posted ones, without an explicit flush */
        kbus_msg_id_t s = send_ok(p, "$.Post.Mix.C", "3");
        assert_int_equal(post(p, "$.Post.Mix.D", "4", 1, 0), 0);
        assert_int_equal(post(p, "$.Post.Mix.E", "5", 1, 0), 0);
        kbus_msg_id_t last = settle(p);
        assert_int_equal(last.serial_num, s.serial_num + 2);

        expect(l, "$.Post.Mix.A", s.serial_num - 2, pid, "1");
        expect(l, "$.Post.Mix.B", s.serial_num - 1, pid, "2");
        expect(l, "$.Post.Mix.C", s.serial_num, pid, "3");
        expect(l, "$.Post.Mix.D", s.serial_num + 1, pid, "4");
        expect(l, "$.Post.Mix.E", s.serial_num + 2, pid, "5");
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

static void test_post_refused(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), ro = open_mode(O_RDONLY), l = open_rw(), r = open_rw();
        kbus_message_t *msg;
        char long_name[1002];

        assert_int_equal(kbus_ksock_bind(l, "$.Post.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Post.Bad.Ask", 1), 0);
        kbus_msg_id_t before = send_ok(p, "$.Post.Bad.Before", "");

        /* not an announcement, or an ALL_OR_* flag: EINVAL */
        assert_int_equal(post(p, "$.Post.Bad.Ask", "q", 1, KBUS_BIT_WANT_A_REPLY), -EINVAL);
        assert_int_equal(post(p, "$.Post.Bad.A", "w", 1, KBUS_BIT_ALL_OR_WAIT), -EINVAL);
        assert_int_equal(post(p, "$.Post.Bad.A", "f", 1, KBUS_BIT_ALL_OR_FAIL), -EINVAL);
        assert_int_equal(post(p, "$.Post.Bad.A", "b", 1,
                              KBUS_BIT_ALL_OR_WAIT | KBUS_BIT_ALL_OR_FAIL), -EINVAL);
        assert_int_equal(kbus_msg_create(&msg, "$.Post.Bad.Ask", 14, "r", 1, 0), 0);
        msg->in_reply_to = before;
        msg->to = ksock_id(r);
        assert_int_equal(kbus_ksock_post_msg(p, msg), -EINVAL);
        kbus_msg_delete(&msg);
        /* read-only: EBADF */
        assert_int_equal(post(ro, "$.Post.Bad.A", "o", 1, 0), -EBADF);
        /* names */
        assert_int_equal(post(p, "$.Post..Bad", "n", 1, 0), -EBADMSG);
        assert_int_equal(post(p, "Post.Bad", "n", 1, 0), -EBADMSG);
        assert_int_equal(post(p, "$.Post.Bad.*", "n", 1, 0), -EBADMSG);
        assert_int_equal(post(p, "$.Post.%", "n", 1, 0), -EBADMSG);
        memset(long_name, 'a', sizeof(long_name));
        memcpy(long_name, "$.Post.", 7);
        long_name[1001] = '\0';
        assert_int_equal(post(p, long_name, "n", 1, 0), -ENAMETOOLONG);

        /* none of it reached kbusd: nothing delivered, no id used, no error
         * left waiting for the next flush */
        assert_int_equal(kbus_ksock_flush(p), 0);
        kbus_msg_id_t after = send_ok(p, "$.Post.Bad.After", "");
        assert_int_equal(after.serial_num, before.serial_num + 1);
        expect(l, "$.Post.Bad.Before", before.serial_num, ksock_id(p), "");
        expect(l, "$.Post.Bad.After", after.serial_num, ksock_id(p), "");
        assert_no_message(l);
        assert_no_message(r);
        assert_int_equal(kbus_ksock_flush(p), 0);
        kbus_ksock_close(p);
        kbus_ksock_close(ro);
        kbus_ksock_close(l);
        kbus_ksock_close(r);
}

static void test_post_many(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), l = open_rw();
        uint32_t pid = ksock_id(p), v;

        /* the limit is clamped to 1048576 (docs/protocol.md); 200000 is kept */
        v = 2000000;
        assert_int_equal(kbus_ksock_max_messages(l, &v), 0);
        assert_int_equal(v, 1048576);
        v = 200000;
        assert_int_equal(kbus_ksock_max_messages(l, &v), 0);
        assert_int_equal(v, 200000);
        v = 0;
        assert_int_equal(kbus_ksock_max_messages(l, &v), 0);
        assert_int_equal(v, 200000);

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Many", 0), 0);
        kbus_msg_id_t base = send_ok(p, "$.Post.Many", "base");
        for (uint32_t i = 0; i < BIG_COUNT; i++)
                assert_int_equal(post(p, "$.Post.Many", &i, sizeof(i), 0), 0);
        kbus_msg_id_t last = settle(p);
        assert_int_equal(last.serial_num, base.serial_num + BIG_COUNT);
        assert_int_equal(num_messages(l), BIG_COUNT + 1);

        expect(l, "$.Post.Many", base.serial_num, pid, "base");
        for (uint32_t i = 0; i < BIG_COUNT; i++) {
                kbus_message_t *msg = read_one(l);
                uint32_t got;
                if (msg->id.serial_num != base.serial_num + 1 + i || msg->data_len != 4)
                        fail_msg("message %u: serial %u (want %u), data_len %u", i,
                                 msg->id.serial_num, base.serial_num + 1 + i, msg->data_len);
                memcpy(&got, kbus_msg_data_ptr(msg), sizeof(got));
                if (got != i || msg->from != pid)
                        fail_msg("message %u: data %u, from %u", i, got, msg->from);
                kbus_msg_delete(&msg);
        }
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

/*
 * A backlog several times the library's take log (1024 entries), drained
 * while nothing new is pushed to the reader: the library must wait for
 * kbusd to read the log (WAKE with SYNC) instead of losing takes, so the
 * queue length stays exact at every step (SPEC §5, docs/protocol.md).
 */
static void test_drain_backlog_exact(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), l = open_rw();
        uint32_t v = 10000;

        assert_int_equal(kbus_ksock_max_messages(l, &v), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Post.Backlog", 0), 0);
        for (uint32_t i = 0; i < 5000; i++)
                assert_int_equal(post(p, "$.Post.Backlog", &i, sizeof(i), 0), 0);
        settle(p);
        assert_int_equal(num_messages(l), 5000);
        for (uint32_t i = 0; i < 5000; i++) {
                kbus_message_t *msg = read_one(l);
                uint32_t got;
                memcpy(&got, kbus_msg_data_ptr(msg), sizeof(got));
                if (got != i)
                        fail_msg("message %u carries %u", i, got);
                kbus_msg_delete(&msg);
                if (i == 1023 || i == 1024 || i == 2047 || i == 3999)
                        assert_int_equal(num_messages(l), 5000 - (i + 1));
        }
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

static void test_close_flushes(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), l = open_rw();
        uint32_t pid = ksock_id(p);
        kbus_message_t *got[3];

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Close", 0), 0);
        kbus_msg_id_t base = send_ok(p, "$.Post.Close", "base");
        expect(l, "$.Post.Close", base.serial_num, pid, "base");
        assert_int_equal(post(p, "$.Post.Close", "a", 1, 0), 0);
        assert_int_equal(post(p, "$.Post.Close", "b", 1, 0), 0);
        assert_int_equal(post(p, "$.Post.Close", "c", 1, 0), 0);
        assert_int_equal(kbus_ksock_close(p), 0); /* no flush before it */

        /* p is gone, so nothing tells us when kbusd has them: wait on l
         * (a time limit, so that a close which lost them fails, not hangs) */
        for (int n = 0, empty = 0; n < 3;) {
                assert_int_equal(kbus_ksock_read_next_msg(l, &got[n]), 0);
                if (got[n]) {
                        n++;
                        continue;
                }
                struct pollfd pfd = { .fd = l, .events = POLLIN };
                if (++empty > 100 || poll(&pfd, 1, 10000) != 1)
                        fail_msg("only %d of 3 posted messages arrived", n);
        }
        for (int n = 0; n < 3; n++) {
                char want = (char)('a' + n);
                assert_string_equal(kbus_msg_name_ptr(got[n]), "$.Post.Close");
                assert_int_equal(got[n]->id.serial_num, base.serial_num + 1 + (uint32_t)n);
                assert_int_equal(got[n]->from, pid);
                assert_int_equal(got[n]->data_len, 1);
                assert_memory_equal(kbus_msg_data_ptr(got[n]), &want, 1);
                kbus_msg_delete(&got[n]);
        }
        assert_no_message(l);
        kbus_ksock_close(l);
}

/* A message named "$.Post.Size" (11 bytes, 12 padded) with @size - 68
 * bytes of data has the encoded size @size (kbus.h). */
static int post_sized(kbus_ksock_t ks, uint32_t size)
{
        static char data[2048];

        assert_true(size >= 68 && size - 68 <= sizeof(data));
        memset(data, 's', sizeof(data));
        return post(ks, "$.Post.Size", data, size - 68, 0);
}

static void set_max_size(kbus_ksock_t ks, uint32_t size)
{
        uint32_t v = size;

        assert_int_equal(kbus_ksock_max_message_size(ks, &v), 0);
        assert_int_equal(v, size);
}

static void test_post_too_big(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), l = open_rw();
        uint32_t v = 0;

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Size", 0), 0);
        set_max_size(l, 1000);
        v = 0; /* p learns the maximum */
        assert_int_equal(kbus_ksock_max_message_size(p, &v), 0);
        assert_int_equal(v, 1000);
        assert_int_equal(post_sized(p, 1001), -EMSGSIZE);
        assert_int_equal(post_sized(p, 2000), -EMSGSIZE);
        assert_int_equal(post_sized(p, 1000), 0);
        kbus_msg_id_t last = settle(p);
        kbus_message_t *got = read_one(l);
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 1000 - 68);
        kbus_msg_delete(&got);
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

/*
 * The maximum is lowered by another ksock after the poster learnt it.  The
 * poster can't know without asking, and kbus.h says what happens: the post
 * is accepted and buffered, kbusd rejects it, and the error comes back once,
 * from the next kbus_ksock_post_msg() or kbus_ksock_flush() after the
 * library has read kbusd's answer.  Nothing is delivered, no id is used.
 */
static void test_post_max_lowered(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), o = open_rw(), l = open_rw();
        uint32_t v = 0;

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Size", 0), 0);
        set_max_size(o, 1000);
        assert_int_equal(kbus_ksock_max_message_size(p, &v), 0);
        assert_int_equal(v, 1000);
        set_max_size(o, 200);

        kbus_msg_id_t before = settle(p);
        assert_int_equal(post_sized(p, 500), 0);
        assert_int_equal(kbus_ksock_flush(p), 0);
        kbus_msg_id_t still = settle(p); /* reads kbusd's rejection */
        assert_int_equal(still.serial_num, before.serial_num);
        assert_int_equal(kbus_ksock_flush(p), -EMSGSIZE);
        assert_int_equal(kbus_ksock_flush(p), 0); /* once */
        assert_no_message(l);

        /* the ksock goes on working; a post that fits is delivered */
        assert_int_equal(post_sized(p, 200), 0);
        kbus_msg_id_t last = settle(p);
        kbus_message_t *got = read_one(l);
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 200 - 68);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_ksock_flush(p), 0);
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(o);
        kbus_ksock_close(l);
}

/* The maximum is raised by another ksock: post_msg asks kbusd again before
 * refusing a message bigger than the maximum it knew (kbus.h). */
static void test_post_max_raised(void **state)
{
        (void)state;
        kbus_ksock_t p = open_rw(), o = open_rw(), l = open_rw();
        uint32_t v = 0;

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Size", 0), 0);
        set_max_size(o, 200);
        assert_int_equal(kbus_ksock_max_message_size(p, &v), 0);
        assert_int_equal(v, 200);
        assert_int_equal(post_sized(p, 500), -EMSGSIZE);
        set_max_size(o, 1000);
        assert_int_equal(post_sized(p, 500), 0);
        assert_int_equal(post_sized(p, 1000), 0);
        assert_int_equal(post_sized(p, 1001), -EMSGSIZE);
        kbus_msg_id_t last = settle(p);
        assert_int_equal(kbus_ksock_flush(p), 0);

        kbus_message_t *got = read_one(l);
        assert_int_equal(got->id.serial_num, last.serial_num - 1);
        assert_int_equal(got->data_len, 500 - 68);
        kbus_msg_delete(&got);
        got = read_one(l);
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 1000 - 68);
        kbus_msg_delete(&got);
        assert_no_message(l);
        kbus_ksock_close(p);
        kbus_ksock_close(o);
        kbus_ksock_close(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_post_order_and_serials),
                cmocka_unit_test(test_post_order_with_send),
                cmocka_unit_test(test_post_refused),
                cmocka_unit_test(test_post_many),
                cmocka_unit_test(test_drain_backlog_exact),
                cmocka_unit_test(test_close_flushes),
                cmocka_unit_test_teardown(test_post_too_big, restore_max_size),
                cmocka_unit_test_teardown(test_post_max_lowered, restore_max_size),
                cmocka_unit_test_teardown(test_post_max_raised, restore_max_size),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, setup, teardown);
}
