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
 * synchronous sends and get consecutive serials (semantics §8); what post_msg
 * refuses it refuses as kbus_ksock_send() would (semantics §7, §15); closing the
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

#include "kbus-test.h"

#define BIG_COUNT 100000u

/* ---- helpers ------------------------------------------------------------ */

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

/* Returns once kbusd has handled everything @ks posted; gives the last id. */
static kbus_msg_id_t settle(kbus_ksock_t ks)
{
        kbus_msg_id_t id = { 0xffffffffu, 0xffffffffu };

        assert_int_equal(kbus_ksock_flush(ks), 0);
        assert_int_equal(kbus_ksock_last_msg_id(ks, &id), 0);
        return id;
}

/* ---- tests -------------------------------------------------------------- */

static void test_post_order_and_serials(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
        uint32_t pid = kt_id(p);
        char data[16];

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Order", 0), 0);
        kbus_msg_id_t base = kt_send(p, "$.Post.Order", "base", 0);
        for (unsigned i = 0; i < 10; i++) {
                snprintf(data, sizeof(data), "p%u", i);
                assert_int_equal(post(p, "$.Post.Order", data, (uint32_t)strlen(data), 0), 0);
        }
        kbus_msg_id_t last = settle(p);
        assert_int_equal(last.network_id, 0);
        assert_int_equal(last.serial_num, base.serial_num + 10);
        assert_int_equal(kt_num_messages(l), 11);

        kt_expect(l, "$.Post.Order", base, pid, "base", KT_ANY);
        for (unsigned i = 0; i < 10; i++) {
                snprintf(data, sizeof(data), "p%u", i);
                kt_expect(l, "$.Post.Order", KT_ID(base.serial_num + 1 + i), pid, data, KT_ANY);
        }
        kt_expect_quiet(l, 0);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

static void test_post_order_with_send(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
        uint32_t pid = kt_id(p);

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Mix.*", 0), 0);
        assert_int_equal(post(p, "$.Post.Mix.A", "1", 1, 0), 0);
        assert_int_equal(post(p, "$.Post.Mix.B", "2", 1, 0), 0);
        /* the send goes after the posted ones, without an explicit flush */
        kbus_msg_id_t s = kt_send(p, "$.Post.Mix.C", "3", 0);
        assert_int_equal(post(p, "$.Post.Mix.D", "4", 1, 0), 0);
        assert_int_equal(post(p, "$.Post.Mix.E", "5", 1, 0), 0);
        kbus_msg_id_t last = settle(p);
        assert_int_equal(last.serial_num, s.serial_num + 2);

        kt_expect(l, "$.Post.Mix.A", KT_ID(s.serial_num - 2), pid, "1", KT_ANY);
        kt_expect(l, "$.Post.Mix.B", KT_ID(s.serial_num - 1), pid, "2", KT_ANY);
        kt_expect(l, "$.Post.Mix.C", s, pid, "3", KT_ANY);
        kt_expect(l, "$.Post.Mix.D", KT_ID(s.serial_num + 1), pid, "4", KT_ANY);
        kt_expect(l, "$.Post.Mix.E", KT_ID(s.serial_num + 2), pid, "5", KT_ANY);
        kt_expect_quiet(l, 0);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

static void test_post_refused(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), ro = kt_open(0, O_RDONLY), l = kt_open_rw(),
                     r = kt_open_rw();
        kbus_message_t *msg;
        char long_name[1002];

        assert_int_equal(kbus_ksock_bind(l, "$.Post.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Post.Bad.Ask", 1), 0);
        kbus_msg_id_t before = kt_send(p, "$.Post.Bad.Before", "", 0);

        /* not an announcement, or an ALL_OR_* flag: EINVAL */
        assert_int_equal(post(p, "$.Post.Bad.Ask", "q", 1, KBUS_BIT_WANT_A_REPLY), -EINVAL);
        assert_int_equal(post(p, "$.Post.Bad.A", "w", 1, KBUS_BIT_ALL_OR_WAIT), -EINVAL);
        assert_int_equal(post(p, "$.Post.Bad.A", "f", 1, KBUS_BIT_ALL_OR_FAIL), -EINVAL);
        assert_int_equal(post(p, "$.Post.Bad.A", "b", 1,
                              KBUS_BIT_ALL_OR_WAIT | KBUS_BIT_ALL_OR_FAIL), -EINVAL);
        assert_int_equal(kbus_msg_create(&msg, "$.Post.Bad.Ask", 14, "r", 1, 0), 0);
        msg->in_reply_to = before;
        msg->to = kt_id(r);
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
        kbus_msg_id_t after = kt_send(p, "$.Post.Bad.After", "", 0);
        assert_int_equal(after.serial_num, before.serial_num + 1);
        kt_expect(l, "$.Post.Bad.Before", before, kt_id(p), "", KT_ANY);
        kt_expect(l, "$.Post.Bad.After", after, kt_id(p), "", KT_ANY);
        kt_expect_quiet(l, 0);
        kt_expect_quiet(r, 0);
        assert_int_equal(kbus_ksock_flush(p), 0);
        kbus_ksock_close(p);
        kbus_ksock_close(ro);
        kbus_ksock_close(l);
        kbus_ksock_close(r);
}

static void test_post_many(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
        uint32_t pid = kt_id(p), v;

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
        kbus_msg_id_t base = kt_send(p, "$.Post.Many", "base", 0);
        for (uint32_t i = 0; i < BIG_COUNT; i++)
                assert_int_equal(post(p, "$.Post.Many", &i, sizeof(i), 0), 0);
        kbus_msg_id_t last = settle(p);
        assert_int_equal(last.serial_num, base.serial_num + BIG_COUNT);
        assert_int_equal(kt_num_messages(l), BIG_COUNT + 1);

        kt_expect(l, "$.Post.Many", base, pid, "base", KT_ANY);
        for (uint32_t i = 0; i < BIG_COUNT; i++) {
                kbus_message_t *msg = kt_take(l);
                uint32_t got;
                if (msg->id.serial_num != base.serial_num + 1 + i || msg->data_len != 4)
                        fail_msg("message %u: serial %u (want %u), data_len %u", i,
                                 msg->id.serial_num, base.serial_num + 1 + i, msg->data_len);
                memcpy(&got, kbus_msg_data_ptr(msg), sizeof(got));
                if (got != i || msg->from != pid)
                        fail_msg("message %u: data %u, from %u", i, got, msg->from);
                kbus_msg_delete(&msg);
        }
        kt_expect_quiet(l, 0);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

/*
 * A backlog several times the library's take log (1024 entries), drained
 * while nothing new is pushed to the reader: the library must wait for
 * kbusd to read the log (WAKE with SYNC) instead of losing takes, so the
 * queue length stays exact at every step (semantics §5, docs/protocol.md).
 */
static void test_drain_backlog_exact(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
        uint32_t v = 10000;

        assert_int_equal(kbus_ksock_max_messages(l, &v), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Post.Backlog", 0), 0);
        for (uint32_t i = 0; i < 5000; i++)
                assert_int_equal(post(p, "$.Post.Backlog", &i, sizeof(i), 0), 0);
        settle(p);
        assert_int_equal(kt_num_messages(l), 5000);
        for (uint32_t i = 0; i < 5000; i++) {
                kbus_message_t *msg = kt_take(l);
                uint32_t got;
                memcpy(&got, kbus_msg_data_ptr(msg), sizeof(got));
                if (got != i)
                        fail_msg("message %u carries %u", i, got);
                kbus_msg_delete(&msg);
                if (i == 1023 || i == 1024 || i == 2047 || i == 3999)
                        assert_int_equal(kt_num_messages(l), 5000 - (i + 1));
        }
        kt_expect_quiet(l, 0);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

static void test_close_flushes(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
        uint32_t pid = kt_id(p);
        kbus_message_t *got[3];

        assert_int_equal(kbus_ksock_bind(l, "$.Post.Close", 0), 0);
        kbus_msg_id_t base = kt_send(p, "$.Post.Close", "base", 0);
        kt_expect(l, "$.Post.Close", base, pid, "base", KT_ANY);
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
        kt_expect_quiet(l, 0);
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
        kbus_ksock_t p = kt_open_rw(), l = kt_open_rw();
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
        kbus_message_t *got = kt_take(l);
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 1000 - 68);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
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
        kbus_ksock_t p = kt_open_rw(), o = kt_open_rw(), l = kt_open_rw();
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
        kt_expect_quiet(l, 0);

        /* the ksock goes on working; a post that fits is delivered */
        assert_int_equal(post_sized(p, 200), 0);
        kbus_msg_id_t last = settle(p);
        kbus_message_t *got = kt_take(l);
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 200 - 68);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_ksock_flush(p), 0);
        kt_expect_quiet(l, 0);
        kbus_ksock_close(p);
        kbus_ksock_close(o);
        kbus_ksock_close(l);
}

/* The maximum is raised by another ksock: post_msg asks kbusd again before
 * refusing a message bigger than the maximum it knew (kbus.h). */
static void test_post_max_raised(void **state)
{
        (void)state;
        kbus_ksock_t p = kt_open_rw(), o = kt_open_rw(), l = kt_open_rw();
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

        kbus_message_t *got = kt_take(l);
        assert_int_equal(got->id.serial_num, last.serial_num - 1);
        assert_int_equal(got->data_len, 500 - 68);
        kbus_msg_delete(&got);
        got = kt_take(l);
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 1000 - 68);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
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
                cmocka_unit_test_teardown(test_post_too_big, kt_restore_max_size),
                cmocka_unit_test_teardown(test_post_max_lowered, kt_restore_max_size),
                cmocka_unit_test_teardown(test_post_max_raised, kt_restore_max_size),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, kt_setup_max_size, kt_teardown);
}
