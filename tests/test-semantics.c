/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-semantics.c - who gets what, in which order, against a real kbusd.
 *
 * Covers names and wildcards as delivered (semantics §3), bindings and the exact
 * unbind rule of KBUS issue 23 (semantics §6), the delivery rules of a send
 * (semantics §7: replier copy before listener copies, replies not echoed to the
 * replier, ALL_OR_FAIL and ALL_OR_WAIT, reserved reply places), total order
 * and URGENT (semantics §8), only-once (semantics §10), the per-ksock controls of
 * semantics §5 and what kbusd may and may not change in a message (semantics §4).
 *
 * Every test gets its own kbusd, so serials and ksock ids are exact and no
 * binding of one test (a closed ksock's, say, which kbusd drops whenever it
 * sees the close) can reach into another.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define F_REQ KBUS_BIT_WANT_A_REPLY
#define F_YOU KBUS_BIT_WANT_YOU_TO_REPLY

/* ---- names, wildcards, bindings (semantics §3, §6) ------------------------------ */

static void test_wildcards(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), star = kt_open_rw(), pct = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(star, "$.W.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(pct, "$.W.%", 0), 0);
        kbus_msg_id_t top = kt_send(tx, "$.W", NULL, 0);
        kbus_msg_id_t one = kt_send(tx, "$.W.a", NULL, 0);
        kbus_msg_id_t two = kt_send(tx, "$.W.a.b", NULL, 0);
        kbus_msg_id_t other = kt_send(tx, "$.Wx.a", NULL, 0); /* words, not characters */
        assert_int_equal(one.serial_num, top.serial_num + 1);
        assert_int_equal(other.serial_num, two.serial_num + 1);
        /* `*` matches that level and every level below, not the level above. */
        assert_int_equal(kt_num_messages(star), 2);
        kt_expect(star, "$.W.a", one, KT_ANY, NULL, 0);
        kt_expect(star, "$.W.a.b", two, KT_ANY, NULL, 0);
        kt_expect_quiet(star, 0);
        /* `%` matches exactly one word. */
        assert_int_equal(kt_num_messages(pct), 1);
        kt_expect(pct, "$.W.a", one, KT_ANY, NULL, 0);
        kt_expect_quiet(pct, 0);
        KT_CLOSE(tx, star, pct);
}

static void test_all_gets_everything(void **state)
{
        (void)state;
        kbus_ksock_t all = kt_open_rw(), q = kt_open_rw(), r = kt_open_rw();
        uint32_t qid = kt_id(q), rid = kt_id(r);

        assert_int_equal(kbus_ksock_bind(all, "$.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.Ask", 1), 0);
        kbus_msg_id_t a = kt_send(q, "$.Ev.News", NULL, 0);
        kbus_msg_id_t rq = kt_send(q, "$.Ev.Ask", NULL, F_REQ);
        kbus_message_t *got = kt_take(r);
        assert_true(kbus_msg_wants_us_to_reply(got));
        kbus_msg_id_t rp = kt_reply(r, got, NULL, 0);
        kbus_msg_delete(&got);
        got = kt_take(q);
        assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
        kbus_msg_delete(&got);

        /* semantics §3: `$.*` gets all three, the request and reply as plain copies. */
        assert_int_equal(kt_num_messages(all), 3);
        kt_expect(all, "$.Ev.News", a, KT_ANY, NULL, 0);
        kt_expect(all, "$.Ev.Ask", rq, KT_ANY, NULL, F_REQ);
        got = kt_take(all);
        assert_string_equal(kbus_msg_name_ptr(got), "$.Ev.Ask");
        assert_int_equal(got->id.serial_num, rp.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
        assert_int_equal(got->from, rid);
        assert_int_equal(got->to, qid);
        assert_int_equal(got->flags, 0);
        kbus_msg_delete(&got);
        kt_expect_quiet(all, 0);
        KT_CLOSE(all, q, r);
}

static void test_bind_twice(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(rx, "$.Twice.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(rx, "$.Twice.X", 0), 0);
        kbus_msg_id_t id = kt_send(tx, "$.Twice.X", NULL, 0);
        assert_int_equal(kt_num_messages(rx), 2); /* semantics §6: one copy per binding */
        kt_expect(rx, "$.Twice.X", id, KT_ANY, NULL, 0);
        kt_expect(rx, "$.Twice.X", id, KT_ANY, NULL, 0);
        kt_expect_quiet(rx, 0);
        KT_CLOSE(tx, rx);
}

static void test_replier_specificity(void **state)
{
        (void)state;
        static const char *const binds[] = { "$.Fred.Jim", "$.Fred.%", "$.Fred.*", "$.*" };
        kbus_ksock_t rep[4], q = kt_open_rw();
        uint32_t id[4];

        for (int i = 0; i < 4; i++) {
                rep[i] = kt_open_rw();
                id[i] = kt_id(rep[i]);
                assert_int_equal(kbus_ksock_bind(rep[i], binds[i], 1), 0);
        }
        /* semantics §6: exact, then `%` at the deepest level, then `*`, walking up. */
        assert_int_equal(kt_replier_of(q, "$.Fred.Jim"), id[0]);
        assert_int_equal(kt_replier_of(q, "$.Fred.Bob"), id[1]);
        assert_int_equal(kt_replier_of(q, "$.Fred.Bob.X"), id[2]);
        assert_int_equal(kt_replier_of(q, "$.Other"), id[3]);
        assert_int_equal(kt_replier_of(q, "$.Fred"), id[3]);

        kbus_msg_id_t jim = kt_send(q, "$.Fred.Jim", NULL, F_REQ);
        kbus_msg_id_t bob = kt_send(q, "$.Fred.Bob", NULL, F_REQ);
        kbus_msg_id_t bobx = kt_send(q, "$.Fred.Bob.X", NULL, F_REQ);
        kbus_msg_id_t other = kt_send(q, "$.Other", NULL, F_REQ);
        kbus_msg_id_t fred = kt_send(q, "$.Fred", NULL, F_REQ);
        assert_int_equal(kt_num_messages(rep[0]), 1);
        assert_int_equal(kt_num_messages(rep[1]), 1);
        assert_int_equal(kt_num_messages(rep[2]), 1);
        assert_int_equal(kt_num_messages(rep[3]), 2);
        kt_expect(rep[0], "$.Fred.Jim", jim, KT_ANY, NULL, F_REQ | F_YOU);
        kt_expect(rep[1], "$.Fred.Bob", bob, KT_ANY, NULL, F_REQ | F_YOU);
        kt_expect(rep[2], "$.Fred.Bob.X", bobx, KT_ANY, NULL, F_REQ | F_YOU);
        kt_expect(rep[3], "$.Other", other, KT_ANY, NULL, F_REQ | F_YOU);
        kt_expect(rep[3], "$.Fred", fred, KT_ANY, NULL, F_REQ | F_YOU);

        /* Without the exact replier, `%` is next; without `%`, `*`; then `$.*`. */
        assert_int_equal(kbus_ksock_unbind(rep[0], "$.Fred.Jim", 1), 0);
        assert_int_equal(kt_replier_of(q, "$.Fred.Jim"), id[1]);
        assert_int_equal(kbus_ksock_unbind(rep[1], "$.Fred.%", 1), 0);
        assert_int_equal(kt_replier_of(q, "$.Fred.Jim"), id[2]);
        assert_int_equal(kbus_ksock_unbind(rep[2], "$.Fred.*", 1), 0);
        assert_int_equal(kt_replier_of(q, "$.Fred.Jim"), id[3]);
        assert_int_equal(kbus_ksock_unbind(rep[3], "$.*", 1), 0);
        assert_int_equal(kt_replier_of(q, "$.Fred.Jim"), 0);
        for (int i = 0; i < 4; i++)
                kt_close(rep[i]);
        kt_close(q);
}

/* KBUS issue 23: unbinding removes only the copies that binding queued. */
static void check_unbind_one_of_two(const char *first, const char *second, const char *gone)
{
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(rx, first, 0), 0);
        assert_int_equal(kbus_ksock_bind(rx, second, 0), 0);
        kbus_msg_id_t id = kt_send(tx, "$.A.B", NULL, 0);
        assert_int_equal(kt_num_messages(rx), 2);
        assert_int_equal(kbus_ksock_unbind(rx, gone, 0), 0);
        assert_int_equal(kt_num_messages(rx), 1);
        kt_expect(rx, "$.A.B", id, KT_ANY, NULL, 0);
        kt_expect_quiet(rx, 0);
        KT_CLOSE(tx, rx);
}

static void test_unbind_issue23(void **state)
{
        (void)state;
        check_unbind_one_of_two("$.A.*", "$.A.B", "$.A.*");
        check_unbind_one_of_two("$.A.*", "$.A.B", "$.A.B");
        check_unbind_one_of_two("$.A.B", "$.A.*", "$.A.*");
}

static void test_unbind_identical(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(rx, "$.U.X", 0), 0);
        kbus_msg_id_t m1 = kt_send(tx, "$.U.X", NULL, 0); /* one copy, first binding */
        assert_int_equal(kbus_ksock_bind(rx, "$.U.X", 0), 0);
        kbus_msg_id_t m2 = kt_send(tx, "$.U.X", NULL, 0); /* two copies */
        assert_int_equal(kt_num_messages(rx), 3);
        /* The most recent binding goes, with its one copy of m2 only. */
        assert_int_equal(kbus_ksock_unbind(rx, "$.U.X", 0), 0);
        assert_int_equal(kt_num_messages(rx), 2);
        kt_expect(rx, "$.U.X", m1, KT_ANY, NULL, 0);
        kt_expect(rx, "$.U.X", m2, KT_ANY, NULL, 0);
        kt_expect_quiet(rx, 0);
        kbus_msg_id_t m3 = kt_send(tx, "$.U.X", NULL, 0);
        assert_int_equal(kt_num_messages(rx), 1);
        assert_int_equal(kbus_ksock_unbind(rx, "$.U.X", 0), 0);
        kt_expect_quiet(rx, 0);
        assert_int_equal(kbus_ksock_unbind(rx, "$.U.X", 0), -EINVAL);
        kt_send(tx, "$.U.X", NULL, 0);
        kt_expect_quiet(rx, 0);
        assert_int_equal(m3.serial_num, m2.serial_num + 1);
        KT_CLOSE(tx, rx);
}

/* ---- requests and replies (semantics §7) ---------------------------------------- */

static void test_replier_copy_first(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), k = kt_open_rw(), l = kt_open_rw();

        /* Listener bindings first, so binding order can't explain the result. */
        assert_int_equal(kbus_ksock_bind(k, "$.RL.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.RL.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.RL.X", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.RL.X", 0), 0);
        kbus_msg_id_t id = kt_send(q, "$.RL.X", NULL, F_REQ);
        assert_int_equal(kt_num_messages(k), 3);
        kt_expect(k, "$.RL.X", id, KT_ANY, NULL, F_REQ | F_YOU);
        kt_expect(k, "$.RL.X", id, KT_ANY, NULL, F_REQ);
        kt_expect(k, "$.RL.X", id, KT_ANY, NULL, F_REQ);
        kt_expect_quiet(k, 0);
        kt_expect(l, "$.RL.X", id, KT_ANY, NULL, F_REQ);
        kt_expect_quiet(l, 0);
        uint32_t n = 0xdeadbeef;
        assert_int_equal(kbus_ksock_num_unreplied_to(k, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(kbus_ksock_num_unreplied_to(l, &n), 0);
        assert_int_equal(n, 0);
        KT_CLOSE(q, k, l);
}

static void test_reply_routing(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw(), l = kt_open_rw(), l2 = kt_open_rw();
        uint32_t qid = kt_id(q), rid = kt_id(r);

        assert_int_equal(kbus_ksock_bind(r, "$.RR.X", 1), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.RR.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.RR.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(l2, "$.RR.*", 0), 0);
        kbus_msg_id_t rq = kt_send(q, "$.RR.X", NULL, F_REQ);
        kbus_message_t *req = kt_take(r);
        assert_int_equal(req->flags, F_REQ | F_YOU);
        kt_expect(r, "$.RR.X", rq, KT_ANY, NULL, F_REQ);
        kbus_msg_id_t rp = kt_reply(r, req, NULL, 0);
        kbus_msg_delete(&req);
        assert_int_equal(rp.serial_num, rq.serial_num + 1);

        /* The requester gets the reply, and only it. */
        assert_int_equal(kt_num_messages(q), 1);
        kbus_message_t *got = kt_take(q);
        assert_int_equal(got->id.serial_num, rp.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
        assert_int_equal(got->from, rid);
        assert_int_equal(got->to, qid);
        kbus_msg_delete(&got);
        kt_expect_quiet(q, 0);
        /* Listeners of the name get the request and the reply as plain copies. */
        kbus_ksock_t ls[2] = { l, l2 };
        for (int i = 0; i < 2; i++) {
                kt_expect(ls[i], "$.RR.X", rq, KT_ANY, NULL, F_REQ);
                got = kt_take(ls[i]);
                assert_int_equal(got->id.serial_num, rp.serial_num);
                assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
                assert_int_equal(got->flags, 0);
                kbus_msg_delete(&got);
                kt_expect_quiet(ls[i], 0);
        }
        /* Not back to the replier, although it listens to the name. */
        kt_expect_quiet(r, 0);
        KT_CLOSE(q, r, l, l2);
}

static void test_announce_nowhere(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw();
        kbus_msg_id_t last;

        kbus_msg_id_t a = kt_send(tx, "$.Nobody.Home", NULL, 0);
        kbus_msg_id_t b = kt_send(tx, "$.Nobody.Home", NULL, 0);
        assert_int_equal(a.serial_num, 1); /* a fresh bus: serials start at 1 */
        assert_int_equal(b.serial_num, 2);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, b.serial_num);
        kt_expect_quiet(tx, 0);
        kt_close(tx);
}

/* ---- order (semantics §8) ------------------------------------------------------- */

#define ORDER_SENDS 50

/* A child: waits for "go", then sends ORDER_SENDS messages alternating names. */
static void order_child(int go_fd, const char *first, const char *second)
{
        char c;
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);

        if (ks < 0 || read(go_fd, &c, 1) != 0)
                _exit(2);
        for (uint32_t i = 0; i < ORDER_SENDS; i++) {
                const char *name = (i % 2) ? second : first;
                kbus_message_t *m;
                if (kbus_msg_create(&m, name, (uint32_t)strlen(name), &i, sizeof(i), 0) ||
                    kbus_ksock_send_msg(ks, m, NULL))
                        _exit(3);
                kbus_msg_delete(&m);
        }
        _exit(0);
}

static void test_total_order(void **state)
{
        (void)state;
        kbus_ksock_t l[2] = { kt_open_rw(), kt_open_rw() };
        uint32_t seq[2][2 * ORDER_SENDS], from[2][2 * ORDER_SENDS], idx[2][2 * ORDER_SENDS];
        int go[2];
        pid_t kids[2];

        for (int i = 0; i < 2; i++) {
                kt_set_max(l[i], 1000);
                assert_int_equal(kbus_ksock_bind(l[i], "$.TO.A", 0), 0);
                assert_int_equal(kbus_ksock_bind(l[i], "$.TO.B", 0), 0);
        }
        assert_int_equal(pipe(go), 0);
        for (int k = 0; k < 2; k++) {
                kids[k] = fork();
                assert_true(kids[k] >= 0);
                if (kids[k] == 0) {
                        close(go[1]);
                        order_child(go[0], k ? "$.TO.B" : "$.TO.A", k ? "$.TO.A" : "$.TO.B");
                }
        }
        close(go[0]);
        close(go[1]); /* both start at once */
        for (int k = 0; k < 2; k++) {
                int status;
                assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        for (int i = 0; i < 2; i++) {
                assert_int_equal(kt_num_messages(l[i]), 2 * ORDER_SENDS);
                for (int n = 0; n < 2 * ORDER_SENDS; n++) {
                        kbus_message_t *m = kt_take(l[i]);
                        assert_int_equal(m->data_len, sizeof(uint32_t));
                        seq[i][n] = m->id.serial_num;
                        from[i][n] = m->from;
                        memcpy(&idx[i][n], kbus_msg_data_ptr(m), sizeof(uint32_t));
                        kbus_msg_delete(&m);
                }
                kt_expect_quiet(l[i], 0);
        }
        /* Both listeners saw the same sequence, in serial order, and each
         * sender's messages in the order it sent them. */
        assert_memory_equal(seq[0], seq[1], sizeof(seq[0]));
        assert_memory_equal(from[0], from[1], sizeof(from[0]));
        assert_memory_equal(idx[0], idx[1], sizeof(idx[0]));
        uint32_t next_idx[2] = { 0, 0 }, sender[2] = { from[0][0], 0 };
        for (int n = 0; n < 2 * ORDER_SENDS; n++) {
                if (n > 0)
                        assert_true(seq[0][n] > seq[0][n - 1]);
                if (from[0][n] != sender[0] && sender[1] == 0)
                        sender[1] = from[0][n];
                int s = from[0][n] == sender[0] ? 0 : 1;
                assert_int_equal(from[0][n], sender[s]);
                assert_int_equal(idx[0][n], next_idx[s]++);
        }
        assert_int_equal(next_idx[0], ORDER_SENDS);
        assert_int_equal(next_idx[1], ORDER_SENDS);
        KT_CLOSE(l[0], l[1]);
}

static void test_urgent(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();
        kbus_msg_id_t m1, u1, m2, u2;

        assert_int_equal(kbus_ksock_bind(rx, "$.Urg.*", 0), 0);
        m1 = kt_send(tx, "$.Urg.A", NULL, 0);
        assert_int_equal(kt_try_send(tx, "$.Urg.B", NULL, KBUS_BIT_URGENT, &u1), 0);
        m2 = kt_send(tx, "$.Urg.C", NULL, 0);
        assert_int_equal(kt_try_send(tx, "$.Urg.D", NULL, KBUS_BIT_URGENT, &u2), 0);
        assert_int_equal(kt_num_messages(rx), 4);
        /* URGENT to the front, two of them newest first (semantics §8). */
        kt_expect(rx, "$.Urg.D", u2, KT_ANY, NULL, KBUS_BIT_URGENT);
        kt_expect(rx, "$.Urg.B", u1, KT_ANY, NULL, KBUS_BIT_URGENT);
        kt_expect(rx, "$.Urg.A", m1, KT_ANY, NULL, 0);
        kt_expect(rx, "$.Urg.C", m2, KT_ANY, NULL, 0);
        kt_expect_quiet(rx, 0);
        KT_CLOSE(tx, rx);
}

/* ---- only once (semantics §10) --------------------------------------------------- */

static void test_only_once(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), k = kt_open_rw(), m = kt_open_rw();

        assert_int_equal(kbus_ksock_only_once(k, 0xFFFFFFFF), 0); /* off by default */
        assert_int_equal(kbus_ksock_only_once(k, 1), 0);
        assert_int_equal(kbus_ksock_only_once(k, 0xFFFFFFFF), 1);
        assert_int_equal(kbus_ksock_only_once(k, 1), 1);
        assert_int_equal(kbus_ksock_only_once(k, 2), -EINVAL);
        assert_int_equal(kbus_ksock_only_once(m, 1), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.OO.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.OO.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.OO.X", 1), 0);
        assert_int_equal(kbus_ksock_bind(m, "$.OY.Y", 0), 0);
        assert_int_equal(kbus_ksock_bind(m, "$.OY.Y", 0), 0);

        kbus_msg_id_t rq = kt_send(q, "$.OO.X", NULL, F_REQ);
        assert_int_equal(kt_num_messages(k), 1); /* just the copy to answer */
        kt_expect(k, "$.OO.X", rq, KT_ANY, NULL, F_REQ | F_YOU);
        kbus_msg_id_t a = kt_send(q, "$.OO.X", NULL, 0);
        kt_expect(k, "$.OO.X", a, KT_ANY, NULL, 0);
        kt_expect_quiet(k, 0);
        kbus_msg_id_t b = kt_send(q, "$.OY.Y", NULL, 0);
        kt_expect(m, "$.OY.Y", b, KT_ANY, NULL, 0);
        kt_expect_quiet(m, 0);

        assert_int_equal(kbus_ksock_only_once(k, 0), 1);
        assert_int_equal(kbus_ksock_only_once(m, 0), 1);
        a = kt_send(q, "$.OO.X", NULL, 0);
        kt_expect(k, "$.OO.X", a, KT_ANY, NULL, 0);
        kt_expect(k, "$.OO.X", a, KT_ANY, NULL, 0);
        kt_expect_quiet(k, 0);
        b = kt_send(q, "$.OY.Y", NULL, 0);
        kt_expect(m, "$.OY.Y", b, KT_ANY, NULL, 0);
        kt_expect(m, "$.OY.Y", b, KT_ANY, NULL, 0);
        kt_expect_quiet(m, 0);
        KT_CLOSE(q, k, m);
}

/* ---- ALL_OR_FAIL, ALL_OR_WAIT (semantics §7 step 4) ------------------------------ */

static void test_all_or_fail(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), full = kt_open_rw(), roomy = kt_open_rw();
        kbus_msg_id_t id;

        kt_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.AF.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(roomy, "$.AF.X", 0), 0);
        kbus_msg_id_t m0 = kt_send(tx, "$.AF.X", NULL, 0);
        assert_int_equal(kt_try_send(tx, "$.AF.X", NULL, KBUS_BIT_ALL_OR_FAIL, &id), -EBUSY);
        assert_int_equal(kt_num_messages(roomy), 1); /* delivered to none */
        kbus_msg_id_t m1 = kt_send(tx, "$.AF.X", NULL, 0); /* plain: the full one misses it */
        assert_int_equal(m1.serial_num, m0.serial_num + 1); /* EBUSY used no serial */
        assert_int_equal(kt_num_messages(full), 1);
        assert_int_equal(kt_num_messages(roomy), 2);
        kt_expect(full, "$.AF.X", m0, KT_ANY, NULL, 0);
        assert_int_equal(kt_try_send(tx, "$.AF.X", NULL, KBUS_BIT_ALL_OR_FAIL, &id), 0);
        assert_int_equal(id.serial_num, m1.serial_num + 1);
        kt_expect(full, "$.AF.X", id, KT_ANY, NULL, KBUS_BIT_ALL_OR_FAIL);
        kt_expect_quiet(full, 0);
        kt_expect(roomy, "$.AF.X", m0, KT_ANY, NULL, 0);
        kt_expect(roomy, "$.AF.X", m1, KT_ANY, NULL, 0);
        kt_expect(roomy, "$.AF.X", id, KT_ANY, NULL, KBUS_BIT_ALL_OR_FAIL);
        kt_expect_quiet(roomy, 0);
        KT_CLOSE(tx, full, roomy);
}

typedef struct WaitResult {
        int rc;
        kbus_msg_id_t id;
} WaitResult;

static void test_all_or_wait_blocking(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), full = kt_open_rw(), roomy = kt_open_rw();
        int ready[2], res[2];
        WaitResult wr;
        char c;

        kt_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.AWB.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(roomy, "$.AWB.X", 0), 0);
        kbus_msg_id_t m0 = kt_send(tx, "$.AWB.X", NULL, 0);
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(res), 0);
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
                kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR); /* blocking */
                kbus_message_t *m;
                if (ks < 0 || kbus_msg_create(&m, "$.AWB.X", 7, NULL, 0, KBUS_BIT_ALL_OR_WAIT))
                        _exit(2);
                if (write(ready[1], "r", 1) != 1)
                        _exit(3);
                wr.id = (kbus_msg_id_t){ 0, 0 };
                wr.rc = kbus_ksock_send_msg(ks, m, &wr.id);
                _exit(write(res[1], &wr, sizeof(wr)) == sizeof(wr) ? 0 : 4);
        }
        close(ready[1]);
        close(res[1]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        /* While the listener is full the send must not return. */
        struct pollfd p = { .fd = res[0], .events = POLLIN };
        assert_int_equal(poll(&p, 1, 300), 0);
        assert_int_equal(kt_num_messages(roomy), 1); /* delivered to nobody yet */
        kt_expect(full, "$.AWB.X", m0, KT_ANY, NULL, 0);
        assert_int_equal(read(res[0], &wr, sizeof(wr)), sizeof(wr));
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(wr.rc, 0);
        assert_int_equal(wr.id.serial_num, m0.serial_num + 1);
        kt_expect(full, "$.AWB.X", wr.id, KT_ANY, NULL, KBUS_BIT_ALL_OR_WAIT);
        kt_expect_quiet(full, 0);
        kt_expect(roomy, "$.AWB.X", m0, KT_ANY, NULL, 0);
        kt_expect(roomy, "$.AWB.X", wr.id, KT_ANY, NULL, KBUS_BIT_ALL_OR_WAIT);
        kt_expect_quiet(roomy, 0);
        close(ready[0]);
        close(res[0]);
        KT_CLOSE(tx, full, roomy);
}

static void test_all_or_wait_nonblocking(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open(0, O_RDWR | O_NONBLOCK), other = kt_open_rw();
        kbus_ksock_t full = kt_open_rw(), roomy = kt_open_rw();
        kbus_msg_id_t id, held;

        kt_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.AWN.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(roomy, "$.AWN.*", 0), 0);
        kbus_msg_id_t m0 = kt_send(tx, "$.AWN.X", NULL, 0);
        assert_int_equal(kt_try_send(tx, "$.AWN.X", NULL, KBUS_BIT_ALL_OR_WAIT, &id), -EAGAIN);
        assert_int_equal(kt_try_send(tx, "$.AWN.Y", NULL, 0, &id), -EALREADY);
        assert_int_equal(kt_num_messages(roomy), 1);
        /* Another ksock's send meanwhile: the held one gets its serial later. */
        kbus_msg_id_t y = kt_send(other, "$.AWN.Y", NULL, 0);
        kt_expect(full, "$.AWN.X", m0, KT_ANY, NULL, 0);
        assert_int_equal(kbus_wait_for_message(tx, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &held), 0);
        assert_int_equal(held.serial_num, y.serial_num + 1);
        kt_expect(full, "$.AWN.X", held, KT_ANY, NULL, KBUS_BIT_ALL_OR_WAIT);
        kt_expect_quiet(full, 0);
        kt_expect(roomy, "$.AWN.X", m0, KT_ANY, NULL, 0);
        kt_expect(roomy, "$.AWN.Y", y, KT_ANY, NULL, 0);
        kt_expect(roomy, "$.AWN.X", held, KT_ANY, NULL, KBUS_BIT_ALL_OR_WAIT);
        kt_expect_quiet(roomy, 0);

        /* A held send that is discarded goes nowhere. */
        kbus_msg_id_t m3 = kt_send(tx, "$.AWN.X", NULL, 0);
        assert_int_equal(kt_try_send(tx, "$.AWN.X", NULL, KBUS_BIT_ALL_OR_WAIT, &id), -EAGAIN);
        assert_int_equal(kbus_ksock_discard(tx), 0);
        assert_int_equal(kbus_wait_for_message(tx, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        kt_expect(full, "$.AWN.X", m3, KT_ANY, NULL, 0);
        kbus_msg_id_t m4 = kt_send(tx, "$.AWN.Y", NULL, 0);
        assert_int_equal(m4.serial_num, m3.serial_num + 1);
        kt_expect(roomy, "$.AWN.X", m3, KT_ANY, NULL, 0);
        kt_expect(roomy, "$.AWN.Y", m4, KT_ANY, NULL, 0);
        kt_expect_quiet(roomy, 0);
        kt_expect_quiet(full, 0);
        KT_CLOSE(tx, other, full, roomy);
}

static void test_flags_ignored_on_replies(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open(0, O_RDWR | O_NONBLOCK), full = kt_open_rw();
        static const uint32_t flags[2] = { KBUS_BIT_ALL_OR_FAIL, KBUS_BIT_ALL_OR_WAIT };
        kbus_msg_id_t first = { 0, 0 };

        kt_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(r, "$.FI.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(full, "$.FI.Ask", 0), 0);
        for (int i = 0; i < 2; i++) {
                kbus_msg_id_t rq = kt_send(q, "$.FI.Ask", NULL, F_REQ); /* the first fills `full` */
                if (i == 0)
                        first = rq;
                kbus_message_t *req = kt_take(r);
                kbus_msg_id_t rp = kt_reply(r, req, NULL, flags[i]); /* 0, not EBUSY/EAGAIN */
                kbus_msg_delete(&req);
                kbus_message_t *got = kt_take(q);
                assert_int_equal(got->id.serial_num, rp.serial_num);
                assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
                assert_int_equal(got->flags, flags[i]);
                kbus_msg_delete(&got);
                assert_int_equal(kbus_wait_for_message(r, KBUS_KSOCK_WRITABLE),
                                 KBUS_KSOCK_WRITABLE);
        }
        kt_send(r, "$.FI.Other", NULL, 0); /* nothing held: not EALREADY */
        kt_expect(full, "$.FI.Ask", first, KT_ANY, NULL, F_REQ);
        kt_expect_quiet(full, 0);
        kt_expect_quiet(q, 0);
        KT_CLOSE(q, r, full);
}

/* ---- reserved reply places and queue controls (semantics §5, §7) ----------------- */

static void test_reply_reservation(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw(), tx = kt_open_rw();
        kbus_msg_id_t rq[3], id;

        kt_set_max(q, 3);
        assert_int_equal(kbus_ksock_bind(r, "$.RS.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(q, "$.RS.News", 0), 0);
        for (int i = 0; i < 3; i++)
                rq[i] = kt_send(q, "$.RS.Ask", NULL, F_REQ);
        assert_int_equal(kt_try_send(q, "$.RS.Ask", NULL, F_REQ, &id), -ENOLCK);
        /* Three reserved places fill a queue of three: an announcement is missed. */
        kbus_msg_id_t n1 = kt_send(tx, "$.RS.News", NULL, 0);
        assert_int_equal(n1.serial_num, rq[2].serial_num + 1); /* ENOLCK used no serial */
        assert_int_equal(kt_num_messages(q), 0);
        /* A reply takes its reserved place: still full. */
        kbus_message_t *req = kt_take(r);
        assert_int_equal(req->id.serial_num, rq[0].serial_num);
        kbus_msg_id_t rp = kt_reply(r, req, NULL, 0);
        kbus_msg_delete(&req);
        kt_send(tx, "$.RS.News", NULL, 0);
        assert_int_equal(kt_num_messages(q), 1);
        kbus_message_t *got = kt_take(q);
        assert_int_equal(got->id.serial_num, rp.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, rq[0].serial_num);
        kbus_msg_delete(&got);
        /* Now 0 queued + 2 reserved: room for one. */
        kbus_msg_id_t n3 = kt_send(tx, "$.RS.News", NULL, 0);
        kt_send(tx, "$.RS.News", NULL, 0);
        assert_int_equal(kt_num_messages(q), 1);
        kt_expect(q, "$.RS.News", n3, KT_ANY, NULL, 0);
        kt_expect_quiet(q, 0);
        assert_int_equal(kt_num_messages(r), 2);
        KT_CLOSE(q, r, tx);
}

static void test_max_and_num_messages(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();
        kbus_msg_id_t ids[7];
        uint32_t v = 0;

        assert_int_equal(kbus_ksock_max_messages(rx, &v), 0);
        assert_int_equal(v, 100); /* the default; 0 only asks */
        kt_set_max(rx, 5);
        v = 0;
        assert_int_equal(kbus_ksock_max_messages(rx, &v), 0);
        assert_int_equal(v, 5);
        v = 2000000;
        assert_int_equal(kbus_ksock_max_messages(rx, &v), 0);
        assert_int_equal(v, 1048576); /* clamped: the value in force is returned */
        kt_set_max(rx, 5);
        assert_int_equal(kbus_ksock_bind(rx, "$.MM.X", 0), 0);
        assert_int_equal(kt_num_messages(rx), 0);
        for (int i = 0; i < 7; i++) {
                ids[i] = kt_send(tx, "$.MM.X", NULL, 0);
                assert_int_equal(kt_num_messages(rx), i < 5 ? i + 1 : 5);
        }
        for (int i = 0; i < 5; i++) {
                kt_expect(rx, "$.MM.X", ids[i], KT_ANY, NULL, 0);
                assert_int_equal(kt_num_messages(rx), 4 - i);
        }
        kt_expect_quiet(rx, 0);
        KT_CLOSE(tx, rx);
}

static void test_num_unreplied_to(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw();
        kbus_message_t *req[2];
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_bind(r, "$.NU.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.NU.Ask", 0), 0);
        kt_send(q, "$.NU.Ask", NULL, F_REQ);
        kt_send(q, "$.NU.Ask", NULL, F_REQ);
        assert_int_equal(kbus_ksock_num_unreplied_to(r, &n), 0);
        assert_int_equal(n, 0); /* queued is not taken */
        assert_int_equal(kt_num_messages(r), 4);
        for (int i = 0; i < 2; i++) {
                req[i] = kt_take(r);
                assert_true(kbus_msg_wants_us_to_reply(req[i]));
                kbus_message_t *copy = kt_take(r); /* listener copy: owes nothing */
                assert_false(kbus_msg_wants_us_to_reply(copy));
                kbus_msg_delete(&copy);
                assert_int_equal(kbus_ksock_num_unreplied_to(r, &n), 0);
                assert_int_equal(n, (uint32_t)i + 1);
        }
        for (int i = 0; i < 2; i++) {
                kt_reply(r, req[i], NULL, 0);
                kbus_msg_delete(&req[i]);
                assert_int_equal(kbus_ksock_num_unreplied_to(r, &n), 0);
                assert_int_equal(n, 1 - (uint32_t)i);
        }
        assert_int_equal(kbus_ksock_num_unreplied_to(q, &n), 0);
        assert_int_equal(n, 0);
        KT_CLOSE(q, r);
}

static void test_last_msg_id(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), r = kt_open_rw();
        kbus_msg_id_t last = { 9, 9 }, id;

        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.network_id, 0);
        assert_int_equal(last.serial_num, 0);
        kbus_msg_id_t a = kt_send(tx, "$.LM.A", NULL, 0);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, a.serial_num);
        assert_int_equal(kt_try_send(tx, "$.LM.Ask", NULL, F_REQ, &id), -EADDRNOTAVAIL);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, a.serial_num); /* a refused send is not "sent" */
        kbus_msg_id_t b = kt_send(r, "$.LM.B", NULL, 0); /* another ksock's send */
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, a.serial_num);
        assert_int_equal(kbus_ksock_last_msg_id(r, &last), 0);
        assert_int_equal(last.serial_num, b.serial_num);
        KT_CLOSE(tx, r);
}

static void check_max_size(kbus_ksock_t ks, uint32_t in, int rc, uint32_t out)
{
        uint32_t v = in;

        assert_int_equal(kbus_ksock_max_message_size(ks, &v), rc);
        if (rc == 0)
                assert_int_equal(v, out);
}

static int send_data(kbus_ksock_t ks, const char *name, uint32_t len)
{
        static uint8_t data[256];
        kbus_message_t *m;

        assert_int_equal(kbus_msg_create(&m, name, (uint32_t)strlen(name), data, len, 0), 0);
        int r = kbus_ksock_send_msg(ks, m, NULL);
        kbus_msg_delete(&m);
        return r;
}

static void test_max_message_size(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open_rw(), b = kt_open_rw(), rx = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(rx, "$.MS.X", 0), 0);
        check_max_size(a, 0, 0, 64 * 1024);        /* 0 asks */
        check_max_size(a, 1, 0, 16 * 1024 * 1024); /* 1 asks the absolute maximum */
        check_max_size(a, 0, 0, 64 * 1024);        /* ... without setting it */
        check_max_size(a, 50, -EINVAL, 0);
        check_max_size(a, 99, -EINVAL, 0);
        check_max_size(a, 16 * 1024 * 1024 + 1, -EINVAL, 0);
        check_max_size(a, 0, 0, 64 * 1024); /* a refused setting changes nothing */
        check_max_size(a, 100, 0, 100);
        check_max_size(a, 200, 0, 200);
        check_max_size(b, 0, 0, 200); /* per bus, not per ksock */
        /* Size = 56 + name padded (6 -> 8) + data: 136 bytes of data make 200. */
        assert_int_equal(send_data(a, "$.MS.X", 136), 0);
        assert_int_equal(send_data(a, "$.MS.X", 137), -EMSGSIZE);
        assert_int_equal(send_data(b, "$.MS.X", 137), -EMSGSIZE);
        assert_int_equal(send_data(b, "$.MS.X", 1), 0); /* still usable */
        assert_int_equal(kt_num_messages(rx), 2);
        kbus_message_t *m = kt_take(rx);
        assert_int_equal(m->data_len, 136);
        kbus_msg_delete(&m);
        m = kt_take(rx);
        assert_int_equal(m->data_len, 1);
        kbus_msg_delete(&m);
        check_max_size(b, 16 * 1024 * 1024, 0, 16 * 1024 * 1024);
        check_max_size(a, 0, 0, 16 * 1024 * 1024);
        KT_CLOSE(a, b, rx);
}

static void test_new_device(void **state)
{
        (void)state;
        kbus_ksock_t ks0 = kt_open_rw(), l0 = kt_open_rw();
        uint32_t bus = 0xdeadbeef, id = 0;
        char path[PATH_MAX + 16];
        struct stat st;

        assert_int_equal(kbus_ksock_new_device(ks0, &bus), 0);
        assert_int_equal(bus, 1); /* kbusd started with bus 0 only */
        snprintf(path, sizeof(path), "%s/kbus1", kt_kbusd.dir);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        kbus_ksock_t tx = kbus_ksock_open(bus, O_RDWR), rx = kbus_ksock_open(bus, O_RDWR);
        assert_true(tx >= 0);
        assert_true(rx >= 0);
        assert_int_equal(kbus_ksock_id(tx, &id), 0);
        assert_int_equal(id, 1); /* the new bus numbers its own ksocks */
        assert_int_equal(kbus_ksock_bind(rx, "$.ND.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(l0, "$.ND.X", 0), 0);
        kbus_msg_id_t m = kt_send(tx, "$.ND.X", NULL, 0);
        assert_int_equal(m.serial_num, 1); /* and its own serials */
        kt_expect(rx, "$.ND.X", m, KT_ANY, NULL, 0);
        kt_expect_quiet(rx, 0);
        kt_expect_quiet(l0, 0); /* buses are separate */
        assert_int_equal(kbus_ksock_new_device(ks0, &bus), 0);
        assert_int_equal(bus, 2);
        KT_CLOSE(tx, rx, ks0, l0);
}

static void test_verbose(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open_rw(), b = kt_open_rw();

        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 1), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(b, 0xFFFFFFFF), 1); /* kbusd-wide */
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 1), 1);
        assert_int_equal(kbus_ksock_kernel_module_verbose(b, 0), 1);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 2), -EINVAL);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        KT_CLOSE(a, b);
}

/* ---- what kbusd changes in a message (semantics §4) ------------------------------ */

static void test_network_id_kept(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();
        kbus_message_t *m;
        kbus_msg_id_t id = { 0, 0 }, last;

        assert_int_equal(kbus_ksock_bind(rx, "$.NI.X", 0), 0);
        kbus_msg_id_t before = kt_send(tx, "$.NI.X", NULL, 0);
        assert_int_equal(kbus_msg_create(&m, "$.NI.X", 6, NULL, 0, 0), 0);
        m->id = (kbus_msg_id_t){ 7, 1234 };
        assert_int_equal(kbus_ksock_send_msg(tx, m, &id), 0);
        kbus_msg_delete(&m);
        assert_int_equal(id.network_id, 7);
        assert_int_equal(id.serial_num, 1234);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.network_id, 7);
        assert_int_equal(last.serial_num, 1234);
        kbus_msg_id_t after = kt_send(tx, "$.NI.X", NULL, 0);
        assert_int_equal(after.serial_num, before.serial_num + 1); /* no serial used */
        kt_expect(rx, "$.NI.X", before, KT_ANY, NULL, 0);
        kt_expect(rx, "$.NI.X", id, KT_ANY, NULL, 0);
        kt_expect(rx, "$.NI.X", after, KT_ANY, NULL, 0);
        kt_expect_quiet(rx, 0);
        KT_CLOSE(tx, rx);
}

static void check_fields(const kbus_message_t *m, uint32_t from, uint32_t flags)
{
        assert_int_equal(m->from, from);
        assert_int_equal(m->flags, flags);
        assert_int_equal(m->orig_from.network_id, 3);
        assert_int_equal(m->orig_from.local_id, 4);
        assert_int_equal(m->final_to.network_id, 5);
        assert_int_equal(m->final_to.local_id, 6);
        assert_int_equal(m->extra, 0); /* kbusd zeroes it, as the kernel module did */
}

static void forge(kbus_message_t *m)
{
        m->from = 4242;
        m->orig_from = (kbus_orig_from_t){ 3, 4 };
        m->final_to = (kbus_orig_from_t){ 5, 6 };
        m->extra = 0x55AA;
}

static void test_kbusd_changes_only(void **state)
{
        (void)state;
        const uint32_t user = 0xABCD0000u, forged = KBUS_BIT_SYNTHETIC | F_YOU;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw(), r = kt_open_rw();
        uint32_t txid = kt_id(tx), rid = kt_id(r);
        kbus_message_t *m, *got, *req;

        assert_int_equal(kbus_ksock_bind(rx, "$.KC.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.KC.Ask", 1), 0);
        assert_int_equal(kbus_msg_create(&m, "$.KC.News", 9, "hi", 2, user | forged), 0);
        forge(m);
        assert_int_equal(kbus_ksock_send_msg(tx, m, NULL), 0);
        kbus_msg_delete(&m);
        got = kt_take(rx);
        check_fields(got, txid, user); /* from set, SYNTHETIC and YOU cleared */
        assert_int_equal(got->to, 0);
        assert_memory_equal(kbus_msg_data_ptr(got), "hi", 2);
        kbus_msg_delete(&got);

        assert_int_equal(kbus_msg_create(&m, "$.KC.Ask", 8, NULL, 0, user | forged | F_REQ), 0);
        forge(m);
        assert_int_equal(kbus_ksock_send_msg(tx, m, NULL), 0);
        kbus_msg_delete(&m);
        req = kt_take(r);
        check_fields(req, txid, user | F_REQ | F_YOU); /* YOU on the replier's copy only */
        got = kt_take(rx);
        check_fields(got, txid, user | F_REQ);
        kbus_msg_delete(&got);

        assert_int_equal(kbus_msg_create_reply_to(&m, req, NULL, 0, user | forged), 0);
        forge(m);
        assert_int_equal(kbus_ksock_send_msg(r, m, NULL), 0);
        kbus_msg_delete(&m);
        kbus_msg_delete(&req);
        got = kt_take(tx);
        check_fields(got, rid, user);
        assert_int_equal(got->to, txid);
        kbus_msg_delete(&got);
        got = kt_take(rx);
        check_fields(got, rid, user);
        kbus_msg_delete(&got);
        kt_expect_quiet(rx, 0);
        KT_CLOSE(tx, rx, r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                KT_TEST(test_wildcards),
                KT_TEST(test_all_gets_everything),
                KT_TEST(test_bind_twice),
                KT_TEST(test_replier_specificity),
                KT_TEST(test_unbind_issue23),
                KT_TEST(test_unbind_identical),
                KT_TEST(test_replier_copy_first),
                KT_TEST(test_reply_routing),
                KT_TEST(test_announce_nowhere),
                KT_TEST(test_total_order),
                KT_TEST(test_urgent),
                KT_TEST(test_only_once),
                KT_TEST(test_all_or_fail),
                KT_TEST(test_all_or_wait_blocking),
                KT_TEST(test_all_or_wait_nonblocking),
                KT_TEST(test_flags_ignored_on_replies),
                KT_TEST(test_reply_reservation),
                KT_TEST(test_max_and_num_messages),
                KT_TEST(test_num_unreplied_to),
                KT_TEST(test_last_msg_id),
                KT_TEST(test_max_message_size),
                KT_TEST(test_new_device),
                KT_TEST(test_verbose),
                KT_TEST(test_network_id_kept),
                KT_TEST(test_kbusd_changes_only),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
