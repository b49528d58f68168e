/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-readiness.c - a ksock's file descriptor as poll()/select() see it
 * (semantics §14: kbus_ksock_t works with poll/select), kbus_wait_for_message(),
 * and the queue as the application sees it while the library reads ahead
 * (semantics §5 num_messages, semantics §8 URGENT order), against a real kbusd.
 *
 * The library reads kbusd's pushed messages in bulk and keeps them until the
 * application takes them, so the socket can be empty while messages wait in
 * the library; it then pokes kbusd, whose NOP answer keeps the socket
 * readable (docs/protocol.md, "POKE and NOP").  Once the application has
 * taken everything the socket is not readable: the library has read the NOP
 * of any POKE still out, so a program that trusts poll(), as KBUS programs
 * did, never finds "readable" with no message.  A send returns
 * only when the message is in the recipient's socket (docs/protocol.md,
 * "Exactness"), so "readable" is asserted with a long timeout and "not
 * readable" with a short one; nothing here sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define READABLE_MS 1000  /* something is there: poll returns at once */
#define QUIET_MS 100      /* nothing is there: poll must time out */
#define SETTLE_ROUNDS 0   /* "readable" with no message: never */
#define BLOCKED_MS 300    /* how long the waiter must stay blocked */

/* ---- helpers ------------------------------------------------------------ */

/* poll() for POLLIN: 1 readable, 0 timed out. */
static int poll_in(int fd, int timeout_ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r;

        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        assert_true(r >= 0);
        if (r > 0)
                assert_true(p.revents & POLLIN);
        return r;
}

/* select() for reading: 1 readable, 0 timed out. */
static int select_in(int fd, int timeout_ms)
{
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        fd_set set;

        FD_ZERO(&set);
        FD_SET(fd, &set);
        int r = select(fd + 1, &set, NULL, NULL, &tv);
        assert_true(r >= 0);
        assert_int_equal(r > 0, FD_ISSET(fd, &set) != 0);
        return r;
}

/*
 * The application has taken every message: after at most SETTLE_ROUNDS
 * rounds of "readable, but read_next_msg finds nothing", poll() must say
 * "not readable" and stay so.  The final check follows a round trip to
 * kbusd (num_messages), after which no answer to an earlier POKE can still
 * be on its way, so a slow kbusd can't make it fail.
 */
static void assert_settles(kbus_ksock_t ks)
{
        int rounds = 0;

        while (poll_in(ks, QUIET_MS) > 0) {
                kbus_message_t *msg = (kbus_message_t *)1;
                assert_int_equal(kbus_ksock_read_next_msg(ks, &msg), 0);
                assert_null(msg);
                rounds++;
                if (rounds > SETTLE_ROUNDS)
                        fail_msg("ksock still readable after %d empty reads", rounds);
        }
        assert_int_equal(kt_num_messages(ks), 0);
        assert_int_equal(poll_in(ks, 0), 0);
        assert_int_equal(select_in(ks, 0), 0);
}

/* ---- poll() and select() ------------------------------------------------ */

static void test_poll_empty_then_readable(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.One", 0), 0);
        assert_int_equal(poll_in(l, QUIET_MS), 0);
        assert_int_equal(select_in(l, QUIET_MS), 0);
        /* a message for someone else does not wake it */
        kt_send(s, "$.Ready.Other", "x", 0);
        assert_int_equal(poll_in(l, QUIET_MS), 0);

        kbus_msg_id_t id = kt_send(s, "$.Ready.One", "one", 0);
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        assert_int_equal(select_in(l, READABLE_MS), 1);
        /* polling does not consume */
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        assert_int_equal(kt_num_messages(l), 1);
        kt_expect(l, NULL, id, KT_ANY, "one", KT_ANY);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

static void test_readable_while_library_holds(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Three", 0), 0);
        kbus_msg_id_t a = kt_send(s, "$.Ready.Three", "a", 0);
        kbus_msg_id_t b = kt_send(s, "$.Ready.Three", "b", 0);
        kbus_msg_id_t c = kt_send(s, "$.Ready.Three", "c", 0);
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        /* this read takes all three off the socket; two wait in the library */
        kt_expect(l, NULL, a, KT_ANY, "a", KT_ANY);
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        assert_int_equal(select_in(l, READABLE_MS), 1);
        kt_expect(l, NULL, b, KT_ANY, "b", KT_ANY);
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        kt_expect(l, NULL, c, KT_ANY, "c", KT_ANY);
        assert_settles(l);

        /* and it wakes up again for the next one */
        kbus_msg_id_t d = kt_send(s, "$.Ready.Three", "d", 0);
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        kt_expect(l, NULL, d, KT_ANY, "d", KT_ANY);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

/*
 * What an original KBUS program does (the Limpet's loop): poll, then read
 * the message, trusting that "readable" means one is there.  The ksock
 * hears its own sends, which the library reads while waiting for the send's
 * answer; it must then be readable at once, and not readable once taken.
 */
static void test_readable_means_a_message(void **state)
{
        (void)state;
        kbus_ksock_t k = kt_open_rw(), s = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(k, "$.*", 0), 0);
        for (int i = 0; i < 2000; i++) {
                kbus_message_t *msg;
                kt_send(i % 2 ? s : k, "$.Ready.Self", NULL, 0);
                assert_int_equal(poll_in(k, 0), 1);
                assert_int_equal(kbus_ksock_read_next_msg(k, &msg), 0);
                assert_non_null(msg);
                kbus_msg_delete(&msg);
                if (poll_in(k, 0) != 0)
                        fail_msg("readable with no message, round %d", i);
        }
        KT_CLOSE(k, s);
}

/* ---- kbus_wait_for_message() -------------------------------------------- */

static void test_wait_readable_immediate(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Wait", 0), 0);
        kbus_msg_id_t id = kt_send(s, "$.Ready.Wait", "w", 0);
        assert_int_equal(kbus_wait_for_message(l, KBUS_KSOCK_READABLE), KBUS_KSOCK_READABLE);
        assert_int_equal(kbus_wait_for_message(l, KBUS_KSOCK_READABLE | KBUS_KSOCK_WRITABLE),
                         KBUS_KSOCK_READABLE | KBUS_KSOCK_WRITABLE);
        /* waiting does not take the message */
        assert_int_equal(kbus_wait_for_message(l, KBUS_KSOCK_READABLE), KBUS_KSOCK_READABLE);
        assert_int_equal(kt_num_messages(l), 1);
        kt_expect(l, NULL, id, KT_ANY, "w", KT_ANY);
        /* with nothing queued, READABLE|WRITABLE is just WRITABLE */
        assert_int_equal(kbus_wait_for_message(l, KBUS_KSOCK_READABLE | KBUS_KSOCK_WRITABLE),
                         KBUS_KSOCK_WRITABLE);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

/* The child: once told the parent is about to wait, it checks for
 * BLOCKED_MS that the parent has not woken, then sends.  Exit status 0,
 * or which step failed. */
static void child_send_late(int go, int woke)
{
        kbus_ksock_t s = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *msg;
        char c;

        if (s < 0)
                _exit(10);
        if (read(go, &c, 1) != 1)
                _exit(11);
        struct pollfd p = { .fd = woke, .events = POLLIN };
        if (poll(&p, 1, BLOCKED_MS) != 0)
                _exit(12); /* the parent's wait returned with nothing queued */
        if (kbus_msg_create(&msg, "$.Ready.Block", 13, "late", 4, 0) < 0 ||
            kbus_ksock_send_msg(s, msg, NULL) < 0)
                _exit(13);
        kbus_msg_delete(&msg);
        kbus_ksock_close(s);
        _exit(0);
}

static void test_wait_readable_blocks(void **state)
{
        (void)state;
        kbus_ksock_t l = kt_open_rw();
        int go[2], woke[2], status;
        kbus_message_t *msg = NULL;

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Block", 0), 0);
        assert_int_equal(pipe(go), 0);
        assert_int_equal(pipe(woke), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                child_send_late(go[0], woke[0]);

        assert_int_equal(write(go[1], "g", 1), 1);
        int r = kbus_wait_for_message(l, KBUS_KSOCK_READABLE);
        assert_int_equal(write(woke[1], "w", 1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(go[0]);
        close(go[1]);
        close(woke[0]);
        close(woke[1]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(r, KBUS_KSOCK_READABLE);

        assert_int_equal(kbus_ksock_read_next_msg(l, &msg), 0);
        assert_non_null(msg);
        assert_string_equal(kbus_msg_name_ptr(msg), "$.Ready.Block");
        assert_int_equal(msg->data_len, 4);
        assert_memory_equal(kbus_msg_data_ptr(msg), "late", 4);
        kbus_msg_delete(&msg);
        assert_settles(l);
        kbus_ksock_close(l);
}

static void test_wait_writable(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open(0, O_RDWR | O_NONBLOCK), l = kt_open_rw();

        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Write", 0), 0);
        kt_set_max(l, 1);
        kbus_msg_id_t fill = kt_send(s, "$.Ready.Write", "f", 0);
        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);

        /* a held ALL_OR_WAIT send: not writable; discard makes it so again */
        kbus_message_t *msg;
        assert_int_equal(kbus_msg_create(&msg, "$.Ready.Write", 13, "h", 1,
                                         KBUS_BIT_ALL_OR_WAIT), 0);
        assert_int_equal(kbus_ksock_send_msg(s, msg, NULL), -EAGAIN);
        kbus_msg_delete(&msg);
        assert_int_equal(kbus_ksock_discard(s), 0);
        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_READABLE | KBUS_KSOCK_WRITABLE),
                         KBUS_KSOCK_WRITABLE);
        kt_expect(l, NULL, fill, KT_ANY, "f", KT_ANY);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

/* ---- the queue while the library reads ahead ----------------------------- */

static void test_num_messages_read_ahead(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();
        kbus_msg_id_t id[5];
        static const char *const data[5] = { "0", "1", "2", "3", "4" };

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Count", 0), 0);
        for (int i = 0; i < 5; i++)
                id[i] = kt_send(s, "$.Ready.Count", data[i], 0);
        assert_int_equal(kt_num_messages(l), 5);
        kt_expect(l, NULL, id[0], KT_ANY, data[0], KT_ANY);
        kt_expect(l, NULL, id[1], KT_ANY, data[1], KT_ANY);
        /* the library holds all five; the application took two */
        assert_int_equal(kt_num_messages(l), 3);
        assert_int_equal(poll_in(l, READABLE_MS), 1);
        kt_expect(l, NULL, id[2], KT_ANY, data[2], KT_ANY);
        assert_int_equal(kt_num_messages(l), 2);
        kt_expect(l, NULL, id[3], KT_ANY, data[3], KT_ANY);
        kt_expect(l, NULL, id[4], KT_ANY, data[4], KT_ANY);
        assert_int_equal(kt_num_messages(l), 0);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

static void test_urgent_after_read_ahead(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Urgent", 0), 0);
        kbus_msg_id_t a = kt_send(s, "$.Ready.Urgent", "A", 0);
        kbus_msg_id_t b = kt_send(s, "$.Ready.Urgent", "B", 0);
        kt_expect(l, NULL, a, KT_ANY, "A", KT_ANY); /* B now waits in the library */
        kbus_msg_id_t u1 = kt_send(s, "$.Ready.Urgent", "U1", KBUS_BIT_URGENT);
        kbus_msg_id_t u2 = kt_send(s, "$.Ready.Urgent", "U2", KBUS_BIT_URGENT);
        assert_int_equal(u1.serial_num, b.serial_num + 1);
        assert_int_equal(u2.serial_num, b.serial_num + 2);
        assert_int_equal(kt_num_messages(l), 3);
        /* semantics §8: urgent ones first, newest first */
        kt_expect(l, NULL, u2, KT_ANY, "U2", KT_ANY);
        kt_expect(l, NULL, u1, KT_ANY, "U1", KT_ANY);
        kt_expect(l, NULL, b, KT_ANY, "B", KT_ANY);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

static void test_urgent_nothing_read(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();
        kbus_message_t *msg = NULL;

        assert_int_equal(kbus_ksock_bind(l, "$.Ready.Urgent2", 0), 0);
        kbus_msg_id_t a = kt_send(s, "$.Ready.Urgent2", "A", 0);
        kbus_msg_id_t u1 = kt_send(s, "$.Ready.Urgent2", "U1", KBUS_BIT_URGENT);
        kbus_msg_id_t b = kt_send(s, "$.Ready.Urgent2", "B", 0);
        kbus_msg_id_t u2 = kt_send(s, "$.Ready.Urgent2", "U2", KBUS_BIT_URGENT);
        assert_int_equal(kbus_ksock_read_next_msg(l, &msg), 0);
        assert_non_null(msg);
        assert_int_equal(msg->id.serial_num, u2.serial_num);
        assert_true(msg->flags & KBUS_BIT_URGENT);
        kbus_msg_delete(&msg);
        kt_expect(l, NULL, u1, KT_ANY, "U1", KT_ANY);
        kt_expect(l, NULL, a, KT_ANY, "A", KT_ANY);
        kt_expect(l, NULL, b, KT_ANY, "B", KT_ANY);
        assert_settles(l);
        kbus_ksock_close(s);
        kbus_ksock_close(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_poll_empty_then_readable),
                cmocka_unit_test(test_readable_while_library_holds),
                cmocka_unit_test(test_readable_means_a_message),
                cmocka_unit_test(test_wait_readable_immediate),
                cmocka_unit_test(test_wait_readable_blocks),
                cmocka_unit_test(test_wait_writable),
                cmocka_unit_test(test_num_messages_read_ahead),
                cmocka_unit_test(test_urgent_after_read_ahead),
                cmocka_unit_test(test_urgent_nothing_read),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, kt_setup, kt_teardown);
}
