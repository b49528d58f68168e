/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-semantics.c - who gets what, in which order, against a real kbusd.
 *
 * Covers names and wildcards as delivered (SPEC §3), bindings and the exact
 * unbind rule of KBUS issue 23 (SPEC §6), the delivery rules of a send
 * (SPEC §7: replier copy before listener copies, replies not echoed to the
 * replier, ALL_OR_FAIL and ALL_OR_WAIT, reserved reply places), total order
 * and URGENT (SPEC §8), only-once (SPEC §10), the per-ksock controls of
 * SPEC §5 and what kbusd may and may not change in a message (SPEC §4).
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

#include "harness.h"
#include "kbus/kbus.h"

#define F_REQ KBUS_BIT_WANT_A_REPLY
#define F_YOU KBUS_BIT_WANT_YOU_TO_REPLY

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

/* ---- helpers --------------------------------------------------------------- */

static kbus_ksock_t ks_open(int flags)
{
        kbus_ksock_t ks = kbus_ksock_open(0, flags);

        assert_true(ks >= 0);
        return ks;
}

static kbus_ksock_t ks_rw(void)
{
        return ks_open(O_RDWR);
}

static uint32_t ks_id(kbus_ksock_t ks)
{
        uint32_t id = 0;

        assert_int_equal(kbus_ksock_id(ks, &id), 0);
        assert_int_not_equal(id, 0);
        return id;
}

static uint32_t ks_queued(kbus_ksock_t ks)
{
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_num_messages(ks, &n), 0);
        return n;
}

static void ks_set_max(kbus_ksock_t ks, uint32_t max)
{
        uint32_t v = max;

        assert_int_equal(kbus_ksock_max_messages(ks, &v), 0);
        assert_int_equal(v, max);
}

static void ks_close(kbus_ksock_t ks)
{
        assert_int_equal(kbus_ksock_close(ks), 0);
}

static void ks_close_all(const kbus_ksock_t *ks, size_t n)
{
        for (size_t i = 0; i < n; i++)
                ks_close(ks[i]);
}

#define CLOSE(...)                                                                         \
        ks_close_all((const kbus_ksock_t[]){ __VA_ARGS__ },                                \
                     sizeof((const kbus_ksock_t[]){ __VA_ARGS__ }) / sizeof(kbus_ksock_t))

/* Sends a message named @name with @flags and no data; returns the send's result. */
static int send_flags(kbus_ksock_t ks, const char *name, uint32_t flags, kbus_msg_id_t *id)
{
        kbus_message_t *msg;

        assert_int_equal(kbus_msg_create(&msg, name, (uint32_t)strlen(name), NULL, 0, flags), 0);
        int r = kbus_ksock_send_msg(ks, msg, id);
        kbus_msg_delete(&msg);
        return r;
}

static kbus_msg_id_t announce(kbus_ksock_t ks, const char *name)
{
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(send_flags(ks, name, 0, &id), 0);
        assert_int_equal(id.network_id, 0);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

static kbus_msg_id_t request(kbus_ksock_t ks, const char *name)
{
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(send_flags(ks, name, F_REQ, &id), 0);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

/* The next message of @ks, which must be there. */
static kbus_message_t *take(kbus_ksock_t ks)
{
        kbus_message_t *m = NULL;

        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_non_null(m);
        return m;
}

/* Reads the next message and checks its name, id and flags exactly. */
static void expect_msg(kbus_ksock_t ks, const char *name, kbus_msg_id_t id, uint32_t flags)
{
        kbus_message_t *m = take(ks);

        assert_string_equal(kbus_msg_name_ptr(m), name);
        assert_int_equal(m->id.network_id, id.network_id);
        assert_int_equal(m->id.serial_num, id.serial_num);
        assert_int_equal(m->flags, flags);
        kbus_msg_delete(&m);
}

static void expect_empty(kbus_ksock_t ks)
{
        kbus_message_t *m = (kbus_message_t *)&m;

        assert_int_equal(ks_queued(ks), 0);
        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_null(m);
}

/* Answers @req (the replier's copy); returns the reply's id. */
static kbus_msg_id_t reply_to(kbus_ksock_t ks, const kbus_message_t *req, uint32_t flags)
{
        kbus_message_t *rep;
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(kbus_msg_create_reply_to(&rep, req, NULL, 0, flags), 0);
        assert_int_equal(kbus_ksock_send_msg(ks, rep, &id), 0);
        kbus_msg_delete(&rep);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

/* ---- names, wildcards, bindings (SPEC §3, §6) ------------------------------ */

static void test_wildcards(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), star = ks_rw(), pct = ks_rw();

        assert_int_equal(kbus_ksock_bind(star, "$.W.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(pct, "$.W.%", 0), 0);
        kbus_msg_id_t top = announce(tx, "$.W");
        kbus_msg_id_t one = announce(tx, "$.W.a");
        kbus_msg_id_t two = announce(tx, "$.W.a.b");
        kbus_msg_id_t other = announce(tx, "$.Wx.a"); /* words, not characters */
        assert_int_equal(one.serial_num, top.serial_num + 1);
        assert_int_equal(other.serial_num, two.serial_num + 1);
        /* `*` matches that level and every level below, not the level above. */
        assert_int_equal(ks_queued(star), 2);
        expect_msg(star, "$.W.a", one, 0);
        expect_msg(star, "$.W.a.b", two, 0);
        expect_empty(star);
        /* `%` matches exactly one word. */
        assert_int_equal(ks_queued(pct), 1);
        expect_msg(pct, "$.W.a", one, 0);
        expect_empty(pct);
        CLOSE(tx, star, pct);
}

static void test_all_gets_everything(void **state)
{
        (void)state;
        kbus_ksock_t all = ks_rw(), q = ks_rw(), r = ks_rw();
        uint32_t qid = ks_id(q), rid = ks_id(r);

        assert_int_equal(kbus_ksock_bind(all, "$.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.Ask", 1), 0);
        kbus_msg_id_t a = announce(q, "$.Ev.News");
        kbus_msg_id_t rq = request(q, "$.Ev.Ask");
        kbus_message_t *got = take(r);
        assert_true(kbus_msg_wants_us_to_reply(got));
        kbus_msg_id_t rp = reply_to(r, got, 0);
        kbus_msg_delete(&got);
        got = take(q);
        assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
        kbus_msg_delete(&got);

        /* SPEC §3: `$.*` gets all three, the request and reply as plain copies. */
        assert_int_equal(ks_queued(all), 3);
        expect_msg(all, "$.Ev.News", a, 0);
        expect_msg(all, "$.Ev.Ask", rq, F_REQ);
        got = take(all);
        assert_string_equal(kbus_msg_name_ptr(got), "$.Ev.Ask");
        assert_int_equal(got->id.serial_num, rp.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
        assert_int_equal(got->from, rid);
        assert_int_equal(got->to, qid);
        assert_int_equal(got->flags, 0);
        kbus_msg_delete(&got);
        expect_empty(all);
        CLOSE(all, q, r);
}

static void test_bind_twice(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), rx = ks_rw();

        assert_int_equal(kbus_ksock_bind(rx, "$.Twice.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(rx, "$.Twice.X", 0), 0);
        kbus_msg_id_t id = announce(tx, "$.Twice.X");
        assert_int_equal(ks_queued(rx), 2); /* SPEC §6: one copy per binding */
        expect_msg(rx, "$.Twice.X", id, 0);
        expect_msg(rx, "$.Twice.X", id, 0);
        expect_empty(rx);
        CLOSE(tx, rx);
}

static void check_replier(kbus_ksock_t q, const char *name, uint32_t want)
{
        uint32_t got = 0xdeadbeef;

        assert_int_equal(kbus_ksock_find_replier(q, name, &got), 0);
        assert_int_equal(got, want);
}

static void test_replier_specificity(void **state)
{
        (void)state;
        static const char *const binds[] = { "$.Fred.Jim", "$.Fred.%", "$.Fred.*", "$.*" };
        kbus_ksock_t rep[4], q = ks_rw();
        uint32_t id[4];

        for (int i = 0; i < 4; i++) {
                rep[i] = ks_rw();
                id[i] = ks_id(rep[i]);
                assert_int_equal(kbus_ksock_bind(rep[i], binds[i], 1), 0);
        }
        /* SPEC §6: exact, then `%` at the deepest level, then `*`, walking up. */
        check_replier(q, "$.Fred.Jim", id[0]);
        check_replier(q, "$.Fred.Bob", id[1]);
        check_replier(q, "$.Fred.Bob.X", id[2]);
        check_replier(q, "$.Other", id[3]);
        check_replier(q, "$.Fred", id[3]);

        kbus_msg_id_t jim = request(q, "$.Fred.Jim");
        kbus_msg_id_t bob = request(q, "$.Fred.Bob");
        kbus_msg_id_t bobx = request(q, "$.Fred.Bob.X");
        kbus_msg_id_t other = request(q, "$.Other");
        kbus_msg_id_t fred = request(q, "$.Fred");
        assert_int_equal(ks_queued(rep[0]), 1);
        assert_int_equal(ks_queued(rep[1]), 1);
        assert_int_equal(ks_queued(rep[2]), 1);
        assert_int_equal(ks_queued(rep[3]), 2);
        expect_msg(rep[0], "$.Fred.Jim", jim, F_REQ | F_YOU);
        expect_msg(rep[1], "$.Fred.Bob", bob, F_REQ | F_YOU);
        expect_msg(rep[2], "$.Fred.Bob.X", bobx, F_REQ | F_YOU);
        expect_msg(rep[3], "$.Other", other, F_REQ | F_YOU);
        expect_msg(rep[3], "$.Fred", fred, F_REQ | F_YOU);

        /* Without the exact replier, `%` is next; without `%`, `*`; then `$.*`. */
        assert_int_equal(kbus_ksock_unbind(rep[0], "$.Fred.Jim", 1), 0);
        check_replier(q, "$.Fred.Jim", id[1]);
        assert_int_equal(kbus_ksock_unbind(rep[1], "$.Fred.%", 1), 0);
        check_replier(q, "$.Fred.Jim", id[2]);
        assert_int_equal(kbus_ksock_unbind(rep[2], "$.Fred.*", 1), 0);
        check_replier(q, "$.Fred.Jim", id[3]);
        assert_int_equal(kbus_ksock_unbind(rep[3], "$.*", 1), 0);
        check_replier(q, "$.Fred.Jim", 0);
        for (int i = 0; i < 4; i++)
                ks_close(rep[i]);
        ks_close(q);
}

/* KBUS issue 23: unbinding removes only the copies that binding queued. */
static void check_unbind_one_of_two(const char *first, const char *second, const char *gone)
{
        kbus_ksock_t tx = ks_rw(), rx = ks_rw();

        assert_int_equal(kbus_ksock_bind(rx, first, 0), 0);
        assert_int_equal(kbus_ksock_bind(rx, second, 0), 0);
        kbus_msg_id_t id = announce(tx, "$.A.B");
        assert_int_equal(ks_queued(rx), 2);
        assert_int_equal(kbus_ksock_unbind(rx, gone, 0), 0);
        assert_int_equal(ks_queued(rx), 1);
        expect_msg(rx, "$.A.B", id, 0);
        expect_empty(rx);
        CLOSE(tx, rx);
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
        kbus_ksock_t tx = ks_rw(), rx = ks_rw();

        assert_int_equal(kbus_ksock_bind(rx, "$.U.X", 0), 0);
        kbus_msg_id_t m1 = announce(tx, "$.U.X"); /* one copy, first binding */
        assert_int_equal(kbus_ksock_bind(rx, "$.U.X", 0), 0);
        kbus_msg_id_t m2 = announce(tx, "$.U.X"); /* two copies */
        assert_int_equal(ks_queued(rx), 3);
        /* The most recent binding goes, with its one copy of m2 only. */
        assert_int_equal(kbus_ksock_unbind(rx, "$.U.X", 0), 0);
        assert_int_equal(ks_queued(rx), 2);
        expect_msg(rx, "$.U.X", m1, 0);
        expect_msg(rx, "$.U.X", m2, 0);
        expect_empty(rx);
        kbus_msg_id_t m3 = announce(tx, "$.U.X");
        assert_int_equal(ks_queued(rx), 1);
        assert_int_equal(kbus_ksock_unbind(rx, "$.U.X", 0), 0);
        expect_empty(rx);
        assert_int_equal(kbus_ksock_unbind(rx, "$.U.X", 0), -EINVAL);
        announce(tx, "$.U.X");
        expect_empty(rx);
        assert_int_equal(m3.serial_num, m2.serial_num + 1);
        CLOSE(tx, rx);
}

/* ---- requests and replies (SPEC §7) ---------------------------------------- */

static void test_replier_copy_first(void **state)
{
        (void)state;
        kbus_ksock_t q = ks_rw(), k = ks_rw(), l = ks_rw();

        /* Listener bindings first, so binding order can't explain the result. */
        assert_int_equal(kbus_ksock_bind(k, "$.RL.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.RL.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(k, "$.RL.X", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.RL.X", 0), 0);
        kbus_msg_id_t id = request(q, "$.RL.X");
        assert_int_equal(ks_queued(k), 3);
        expect_msg(k, "$.RL.X", id, F_REQ | F_YOU);
        expect_msg(k, "$.RL.X", id, F_REQ);
        expect_msg(k, "$.RL.X", id, F_REQ);
        expect_empty(k);
        expect_msg(l, "$.RL.X", id, F_REQ);
        expect_empty(l);
        uint32_t n = 0xdeadbeef;
        assert_int_equal(kbus_ksock_num_unreplied_to(k, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(kbus_ksock_num_unreplied_to(l, &n), 0);
        assert_int_equal(n, 0);
        CLOSE(q, k, l);
}

static void test_reply_routing(void **state)
{
        (void)state;
        kbus_ksock_t q = ks_rw(), r = ks_rw(), l = ks_rw(), l2 = ks_rw();
        uint32_t qid = ks_id(q), rid = ks_id(r);

        assert_int_equal(kbus_ksock_bind(r, "$.RR.X", 1), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.RR.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.RR.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(l2, "$.RR.*", 0), 0);
        kbus_msg_id_t rq = request(q, "$.RR.X");
        kbus_message_t *req = take(r);
        assert_int_equal(req->flags, F_REQ | F_YOU);
        expect_msg(r, "$.RR.X", rq, F_REQ);
        kbus_msg_id_t rp = reply_to(r, req, 0);
        kbus_msg_delete(&req);
        assert_int_equal(rp.serial_num, rq.serial_num + 1);

        /* The requester gets the reply, and only it. */
        assert_int_equal(ks_queued(q), 1);
        kbus_message_t *got = take(q);
        assert_int_equal(got->id.serial_num, rp.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
        assert_int_equal(got->from, rid);
        assert_int_equal(got->to, qid);
        kbus_msg_delete(&got);
        expect_empty(q);
        /* Listeners of the name get the request and the reply as plain copies. */
        kbus_ksock_t ls[2] = { l, l2 };
        for (int i = 0; i < 2; i++) {
                expect_msg(ls[i], "$.RR.X", rq, F_REQ);
                got = take(ls[i]);
                assert_int_equal(got->id.serial_num, rp.serial_num);
                assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
                assert_int_equal(got->flags, 0);
                kbus_msg_delete(&got);
                expect_empty(ls[i]);
        }
        /* Not back to the replier, although it listens to the name. */
        expect_empty(r);
        CLOSE(q, r, l, l2);
}

static void test_announce_nowhere(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw();
        kbus_msg_id_t last;

        kbus_msg_id_t a = announce(tx, "$.Nobody.Home");
        kbus_msg_id_t b = announce(tx, "$.Nobody.Home");
        assert_int_equal(a.serial_num, 1); /* a fresh bus: serials start at 1 */
        assert_int_equal(b.serial_num, 2);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, b.serial_num);
        expect_empty(tx);
        ks_close(tx);
}

/* ---- order (SPEC §8) ------------------------------------------------------- */

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
        kbus_ksock_t l[2] = { ks_rw(), ks_rw() };
        uint32_t seq[2][2 * ORDER_SENDS], from[2][2 * ORDER_SENDS], idx[2][2 * ORDER_SENDS];
        int go[2];
        pid_t kids[2];

        for (int i = 0; i < 2; i++) {
                ks_set_max(l[i], 1000);
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
                assert_int_equal(ks_queued(l[i]), 2 * ORDER_SENDS);
                for (int n = 0; n < 2 * ORDER_SENDS; n++) {
                        kbus_message_t *m = take(l[i]);
                        assert_int_equal(m->data_len, sizeof(uint32_t));
                        seq[i][n] = m->id.serial_num;
                        from[i][n] = m->from;
                        memcpy(&idx[i][n], kbus_msg_data_ptr(m), sizeof(uint32_t));
                        kbus_msg_delete(&m);
                }
                expect_empty(l[i]);
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
        CLOSE(l[0], l[1]);
}

static void test_urgent(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), rx = ks_rw();
        kbus_msg_id_t m1, u1, m2, u2;

        assert_int_equal(kbus_ksock_bind(rx, "$.Urg.*", 0), 0);
        m1 = announce(tx, "$.Urg.A");
        assert_int_equal(send_flags(tx, "$.Urg.B", KBUS_BIT_URGENT, &u1), 0);
        m2 = announce(tx, "$.Urg.C");
        assert_int_equal(send_flags(tx, "$.Urg.D", KBUS_BIT_URGENT, &u2), 0);
        assert_int_equal(ks_queued(rx), 4);
        /* URGENT to the front, two of them newest first (SPEC §8). */
        expect_msg(rx, "$.Urg.D", u2, KBUS_BIT_URGENT);
        expect_msg(rx, "$.Urg.B", u1, KBUS_BIT_URGENT);
        expect_msg(rx, "$.Urg.A", m1, 0);
        expect_msg(rx, "$.Urg.C", m2, 0);
        expect_empty(rx);
        CLOSE(tx, rx);
}

/* ---- only once (SPEC §10) --------------------------------------------------- */

static void test_only_once(void **state)
{
        (void)state;
        kbus_ksock_t q = ks_rw(), k = ks_rw(), m = ks_rw();

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

        kbus_msg_id_t rq = request(q, "$.OO.X");
        assert_int_equal(ks_queued(k), 1); /* just the copy to answer */
        expect_msg(k, "$.OO.X", rq, F_REQ | F_YOU);
        kbus_msg_id_t a = announce(q, "$.OO.X");
        expect_msg(k, "$.OO.X", a, 0);
        expect_empty(k);
        kbus_msg_id_t b = announce(q, "$.OY.Y");
        expect_msg(m, "$.OY.Y", b, 0);
        expect_empty(m);

        assert_int_equal(kbus_ksock_only_once(k, 0), 1);
        assert_int_equal(kbus_ksock_only_once(m, 0), 1);
        a = announce(q, "$.OO.X");
        expect_msg(k, "$.OO.X", a, 0);
        expect_msg(k, "$.OO.X", a, 0);
        expect_empty(k);
        b = announce(q, "$.OY.Y");
        expect_msg(m, "$.OY.Y", b, 0);
        expect_msg(m, "$.OY.Y", b, 0);
        expect_empty(m);
        CLOSE(q, k, m);
}

/* ---- ALL_OR_FAIL, ALL_OR_WAIT (SPEC §7 step 4) ------------------------------ */

static void test_all_or_fail(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), full = ks_rw(), roomy = ks_rw();
        kbus_msg_id_t id;

        ks_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.AF.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(roomy, "$.AF.X", 0), 0);
        kbus_msg_id_t m0 = announce(tx, "$.AF.X");
        assert_int_equal(send_flags(tx, "$.AF.X", KBUS_BIT_ALL_OR_FAIL, &id), -EBUSY);
        assert_int_equal(ks_queued(roomy), 1); /* delivered to none */
        kbus_msg_id_t m1 = announce(tx, "$.AF.X"); /* plain: the full one misses it */
        assert_int_equal(m1.serial_num, m0.serial_num + 1); /* EBUSY used no serial */
        assert_int_equal(ks_queued(full), 1);
        assert_int_equal(ks_queued(roomy), 2);
        expect_msg(full, "$.AF.X", m0, 0);
        assert_int_equal(send_flags(tx, "$.AF.X", KBUS_BIT_ALL_OR_FAIL, &id), 0);
        assert_int_equal(id.serial_num, m1.serial_num + 1);
        expect_msg(full, "$.AF.X", id, KBUS_BIT_ALL_OR_FAIL);
        expect_empty(full);
        expect_msg(roomy, "$.AF.X", m0, 0);
        expect_msg(roomy, "$.AF.X", m1, 0);
        expect_msg(roomy, "$.AF.X", id, KBUS_BIT_ALL_OR_FAIL);
        expect_empty(roomy);
        CLOSE(tx, full, roomy);
}

typedef struct WaitResult {
        int rc;
        kbus_msg_id_t id;
} WaitResult;

static void test_all_or_wait_blocking(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), full = ks_rw(), roomy = ks_rw();
        int ready[2], res[2];
        WaitResult wr;
        char c;

        ks_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.AWB.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(roomy, "$.AWB.X", 0), 0);
        kbus_msg_id_t m0 = announce(tx, "$.AWB.X");
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
        assert_int_equal(ks_queued(roomy), 1); /* delivered to nobody yet */
        expect_msg(full, "$.AWB.X", m0, 0);
        assert_int_equal(read(res[0], &wr, sizeof(wr)), sizeof(wr));
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(wr.rc, 0);
        assert_int_equal(wr.id.serial_num, m0.serial_num + 1);
        expect_msg(full, "$.AWB.X", wr.id, KBUS_BIT_ALL_OR_WAIT);
        expect_empty(full);
        expect_msg(roomy, "$.AWB.X", m0, 0);
        expect_msg(roomy, "$.AWB.X", wr.id, KBUS_BIT_ALL_OR_WAIT);
        expect_empty(roomy);
        close(ready[0]);
        close(res[0]);
        CLOSE(tx, full, roomy);
}

static void test_all_or_wait_nonblocking(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_open(O_RDWR | O_NONBLOCK), other = ks_rw(), full = ks_rw(),
                     roomy = ks_rw();
        kbus_msg_id_t id, held;

        ks_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.AWN.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(roomy, "$.AWN.*", 0), 0);
        kbus_msg_id_t m0 = announce(tx, "$.AWN.X");
        assert_int_equal(send_flags(tx, "$.AWN.X", KBUS_BIT_ALL_OR_WAIT, &id), -EAGAIN);
        assert_int_equal(send_flags(tx, "$.AWN.Y", 0, &id), -EALREADY);
        assert_int_equal(ks_queued(roomy), 1);
        /* Another ksock's send meanwhile: the held one gets its serial later. */
        kbus_msg_id_t y = announce(other, "$.AWN.Y");
        expect_msg(full, "$.AWN.X", m0, 0);
        assert_int_equal(kbus_wait_for_message(tx, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &held), 0);
        assert_int_equal(held.serial_num, y.serial_num + 1);
        expect_msg(full, "$.AWN.X", held, KBUS_BIT_ALL_OR_WAIT);
        expect_empty(full);
        expect_msg(roomy, "$.AWN.X", m0, 0);
        expect_msg(roomy, "$.AWN.Y", y, 0);
        expect_msg(roomy, "$.AWN.X", held, KBUS_BIT_ALL_OR_WAIT);
        expect_empty(roomy);

        /* A held send that is discarded goes nowhere. */
        kbus_msg_id_t m3 = announce(tx, "$.AWN.X");
        assert_int_equal(send_flags(tx, "$.AWN.X", KBUS_BIT_ALL_OR_WAIT, &id), -EAGAIN);
        assert_int_equal(kbus_ksock_discard(tx), 0);
        assert_int_equal(kbus_wait_for_message(tx, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        expect_msg(full, "$.AWN.X", m3, 0);
        kbus_msg_id_t m4 = announce(tx, "$.AWN.Y");
        assert_int_equal(m4.serial_num, m3.serial_num + 1);
        expect_msg(roomy, "$.AWN.X", m3, 0);
        expect_msg(roomy, "$.AWN.Y", m4, 0);
        expect_empty(roomy);
        expect_empty(full);
        CLOSE(tx, other, full, roomy);
}

static void test_flags_ignored_on_replies(void **state)
{
        (void)state;
        kbus_ksock_t q = ks_rw(), r = ks_open(O_RDWR | O_NONBLOCK), full = ks_rw();
        static const uint32_t flags[2] = { KBUS_BIT_ALL_OR_FAIL, KBUS_BIT_ALL_OR_WAIT };
        kbus_msg_id_t first = { 0, 0 };

        ks_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(r, "$.FI.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(full, "$.FI.Ask", 0), 0);
        for (int i = 0; i < 2; i++) {
                kbus_msg_id_t rq = request(q, "$.FI.Ask"); /* the first fills `full` */
                if (i == 0)
                        first = rq;
                kbus_message_t *req = take(r);
                kbus_msg_id_t rp = reply_to(r, req, flags[i]); /* 0, not EBUSY/EAGAIN */
                kbus_msg_delete(&req);
                kbus_message_t *got = take(q);
                assert_int_equal(got->id.serial_num, rp.serial_num);
                assert_int_equal(got->in_reply_to.serial_num, rq.serial_num);
                assert_int_equal(got->flags, flags[i]);
                kbus_msg_delete(&got);
                assert_int_equal(kbus_wait_for_message(r, KBUS_KSOCK_WRITABLE),
                                 KBUS_KSOCK_WRITABLE);
        }
        announce(r, "$.FI.Other"); /* nothing held: not EALREADY */
        expect_msg(full, "$.FI.Ask", first, F_REQ);
        expect_empty(full);
        expect_empty(q);
        CLOSE(q, r, full);
}

/* ---- reserved reply places and queue controls (SPEC §5, §7) ----------------- */

static void test_reply_reservation(void **state)
{
        (void)state;
        kbus_ksock_t q = ks_rw(), r = ks_rw(), tx = ks_rw();
        kbus_msg_id_t rq[3], id;

        ks_set_max(q, 3);
        assert_int_equal(kbus_ksock_bind(r, "$.RS.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(q, "$.RS.News", 0), 0);
        for (int i = 0; i < 3; i++)
                rq[i] = request(q, "$.RS.Ask");
        assert_int_equal(send_flags(q, "$.RS.Ask", F_REQ, &id), -ENOLCK);
        /* Three reserved places fill a queue of three: an announcement is missed. */
        kbus_msg_id_t n1 = announce(tx, "$.RS.News");
        assert_int_equal(n1.serial_num, rq[2].serial_num + 1); /* ENOLCK used no serial */
        assert_int_equal(ks_queued(q), 0);
        /* A reply takes its reserved place: still full. */
        kbus_message_t *req = take(r);
        assert_int_equal(req->id.serial_num, rq[0].serial_num);
        kbus_msg_id_t rp = reply_to(r, req, 0);
        kbus_msg_delete(&req);
        announce(tx, "$.RS.News");
        assert_int_equal(ks_queued(q), 1);
        kbus_message_t *got = take(q);
        assert_int_equal(got->id.serial_num, rp.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, rq[0].serial_num);
        kbus_msg_delete(&got);
        /* Now 0 queued + 2 reserved: room for one. */
        kbus_msg_id_t n3 = announce(tx, "$.RS.News");
        announce(tx, "$.RS.News");
        assert_int_equal(ks_queued(q), 1);
        expect_msg(q, "$.RS.News", n3, 0);
        expect_empty(q);
        assert_int_equal(ks_queued(r), 2);
        CLOSE(q, r, tx);
}

static void test_max_and_num_messages(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), rx = ks_rw();
        kbus_msg_id_t ids[7];
        uint32_t v = 0;

        assert_int_equal(kbus_ksock_max_messages(rx, &v), 0);
        assert_int_equal(v, 100); /* the default; 0 only asks */
        ks_set_max(rx, 5);
        v = 0;
        assert_int_equal(kbus_ksock_max_messages(rx, &v), 0);
        assert_int_equal(v, 5);
        v = 2000000;
        assert_int_equal(kbus_ksock_max_messages(rx, &v), 0);
        assert_int_equal(v, 1048576); /* clamped: the value in force is returned */
        ks_set_max(rx, 5);
        assert_int_equal(kbus_ksock_bind(rx, "$.MM.X", 0), 0);
        assert_int_equal(ks_queued(rx), 0);
        for (int i = 0; i < 7; i++) {
                ids[i] = announce(tx, "$.MM.X");
                assert_int_equal(ks_queued(rx), i < 5 ? i + 1 : 5);
        }
        for (int i = 0; i < 5; i++) {
                expect_msg(rx, "$.MM.X", ids[i], 0);
                assert_int_equal(ks_queued(rx), 4 - i);
        }
        expect_empty(rx);
        CLOSE(tx, rx);
}

static void test_num_unreplied_to(void **state)
{
        (void)state;
        kbus_ksock_t q = ks_rw(), r = ks_rw();
        kbus_message_t *req[2];
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_bind(r, "$.NU.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.NU.Ask", 0), 0);
        request(q, "$.NU.Ask");
        request(q, "$.NU.Ask");
        assert_int_equal(kbus_ksock_num_unreplied_to(r, &n), 0);
        assert_int_equal(n, 0); /* queued is not taken */
        assert_int_equal(ks_queued(r), 4);
        for (int i = 0; i < 2; i++) {
                req[i] = take(r);
                assert_true(kbus_msg_wants_us_to_reply(req[i]));
                kbus_message_t *copy = take(r); /* listener copy: owes nothing */
                assert_false(kbus_msg_wants_us_to_reply(copy));
                kbus_msg_delete(&copy);
                assert_int_equal(kbus_ksock_num_unreplied_to(r, &n), 0);
                assert_int_equal(n, (uint32_t)i + 1);
        }
        for (int i = 0; i < 2; i++) {
                reply_to(r, req[i], 0);
                kbus_msg_delete(&req[i]);
                assert_int_equal(kbus_ksock_num_unreplied_to(r, &n), 0);
                assert_int_equal(n, 1 - (uint32_t)i);
        }
        assert_int_equal(kbus_ksock_num_unreplied_to(q, &n), 0);
        assert_int_equal(n, 0);
        CLOSE(q, r);
}

static void test_last_msg_id(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), r = ks_rw();
        kbus_msg_id_t last = { 9, 9 }, id;

        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.network_id, 0);
        assert_int_equal(last.serial_num, 0);
        kbus_msg_id_t a = announce(tx, "$.LM.A");
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, a.serial_num);
        assert_int_equal(send_flags(tx, "$.LM.Ask", F_REQ, &id), -EADDRNOTAVAIL);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, a.serial_num); /* a refused send is not "sent" */
        kbus_msg_id_t b = announce(r, "$.LM.B"); /* another ksock's send */
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.serial_num, a.serial_num);
        assert_int_equal(kbus_ksock_last_msg_id(r, &last), 0);
        assert_int_equal(last.serial_num, b.serial_num);
        CLOSE(tx, r);
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
        kbus_ksock_t a = ks_rw(), b = ks_rw(), rx = ks_rw();

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
        assert_int_equal(ks_queued(rx), 2);
        kbus_message_t *m = take(rx);
        assert_int_equal(m->data_len, 136);
        kbus_msg_delete(&m);
        m = take(rx);
        assert_int_equal(m->data_len, 1);
        kbus_msg_delete(&m);
        check_max_size(b, 16 * 1024 * 1024, 0, 16 * 1024 * 1024);
        check_max_size(a, 0, 0, 16 * 1024 * 1024);
        CLOSE(a, b, rx);
}

static void test_new_device(void **state)
{
        (void)state;
        kbus_ksock_t ks0 = ks_rw(), l0 = ks_rw();
        uint32_t bus = 0xdeadbeef, id = 0;
        char path[PATH_MAX + 16];
        struct stat st;

        assert_int_equal(kbus_ksock_new_device(ks0, &bus), 0);
        assert_int_equal(bus, 1); /* kbusd started with bus 0 only */
        snprintf(path, sizeof(path), "%s/kbus1", kbusd.dir);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        kbus_ksock_t tx = kbus_ksock_open(bus, O_RDWR), rx = kbus_ksock_open(bus, O_RDWR);
        assert_true(tx >= 0);
        assert_true(rx >= 0);
        assert_int_equal(kbus_ksock_id(tx, &id), 0);
        assert_int_equal(id, 1); /* the new bus numbers its own ksocks */
        assert_int_equal(kbus_ksock_bind(rx, "$.ND.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(l0, "$.ND.X", 0), 0);
        kbus_msg_id_t m = announce(tx, "$.ND.X");
        assert_int_equal(m.serial_num, 1); /* and its own serials */
        expect_msg(rx, "$.ND.X", m, 0);
        expect_empty(rx);
        expect_empty(l0); /* buses are separate */
        assert_int_equal(kbus_ksock_new_device(ks0, &bus), 0);
        assert_int_equal(bus, 2);
        CLOSE(tx, rx, ks0, l0);
}

static void test_verbose(void **state)
{
        (void)state;
        kbus_ksock_t a = ks_rw(), b = ks_rw();

        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 1), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(b, 0xFFFFFFFF), 1); /* kbusd-wide */
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 1), 1);
        assert_int_equal(kbus_ksock_kernel_module_verbose(b, 0), 1);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 2), -EINVAL);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        CLOSE(a, b);
}

/* ---- what kbusd changes in a message (SPEC §4) ------------------------------ */

static void test_network_id_kept(void **state)
{
        (void)state;
        kbus_ksock_t tx = ks_rw(), rx = ks_rw();
        kbus_message_t *m;
        kbus_msg_id_t id = { 0, 0 }, last;

        assert_int_equal(kbus_ksock_bind(rx, "$.NI.X", 0), 0);
        kbus_msg_id_t before = announce(tx, "$.NI.X");
        assert_int_equal(kbus_msg_create(&m, "$.NI.X", 6, NULL, 0, 0), 0);
        m->id = (kbus_msg_id_t){ 7, 1234 };
        assert_int_equal(kbus_ksock_send_msg(tx, m, &id), 0);
        kbus_msg_delete(&m);
        assert_int_equal(id.network_id, 7);
        assert_int_equal(id.serial_num, 1234);
        assert_int_equal(kbus_ksock_last_msg_id(tx, &last), 0);
        assert_int_equal(last.network_id, 7);
        assert_int_equal(last.serial_num, 1234);
        kbus_msg_id_t after = announce(tx, "$.NI.X");
        assert_int_equal(after.serial_num, before.serial_num + 1); /* no serial used */
        expect_msg(rx, "$.NI.X", before, 0);
        expect_msg(rx, "$.NI.X", id, 0);
        expect_msg(rx, "$.NI.X", after, 0);
        expect_empty(rx);
        CLOSE(tx, rx);
}

static void check_fields(const kbus_message_t *m, uint32_t from, uint32_t flags)
{
        assert_int_equal(m->from, from);
        assert_int_equal(m->flags, flags);
        assert_int_equal(m->orig_from.network_id, 3);
        assert_int_equal(m->orig_from.local_id, 4);
        assert_int_equal(m->final_to.network_id, 5);
        assert_int_equal(m->final_to.local_id, 6);
        assert_int_equal(m->extra, 0x55AA);
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
        kbus_ksock_t tx = ks_rw(), rx = ks_rw(), r = ks_rw();
        uint32_t txid = ks_id(tx), rid = ks_id(r);
        kbus_message_t *m, *got, *req;

        assert_int_equal(kbus_ksock_bind(rx, "$.KC.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.KC.Ask", 1), 0);
        assert_int_equal(kbus_msg_create(&m, "$.KC.News", 9, "hi", 2, user | forged), 0);
        forge(m);
        assert_int_equal(kbus_ksock_send_msg(tx, m, NULL), 0);
        kbus_msg_delete(&m);
        got = take(rx);
        check_fields(got, txid, user); /* from set, SYNTHETIC and YOU cleared */
        assert_int_equal(got->to, 0);
        assert_memory_equal(kbus_msg_data_ptr(got), "hi", 2);
        kbus_msg_delete(&got);

        assert_int_equal(kbus_msg_create(&m, "$.KC.Ask", 8, NULL, 0, user | forged | F_REQ), 0);
        forge(m);
        assert_int_equal(kbus_ksock_send_msg(tx, m, NULL), 0);
        kbus_msg_delete(&m);
        req = take(r);
        check_fields(req, txid, user | F_REQ | F_YOU); /* YOU on the replier's copy only */
        got = take(rx);
        check_fields(got, txid, user | F_REQ);
        kbus_msg_delete(&got);

        assert_int_equal(kbus_msg_create_reply_to(&m, req, NULL, 0, user | forged), 0);
        forge(m);
        assert_int_equal(kbus_ksock_send_msg(r, m, NULL), 0);
        kbus_msg_delete(&m);
        kbus_msg_delete(&req);
        got = take(tx);
        check_fields(got, rid, user);
        assert_int_equal(got->to, txid);
        kbus_msg_delete(&got);
        got = take(rx);
        check_fields(got, rid, user);
        kbus_msg_delete(&got);
        expect_empty(rx);
        CLOSE(tx, rx, r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_wildcards),
                T(test_all_gets_everything),
                T(test_bind_twice),
                T(test_replier_specificity),
                T(test_unbind_issue23),
                T(test_unbind_identical),
                T(test_replier_copy_first),
                T(test_reply_routing),
                T(test_announce_nowhere),
                T(test_total_order),
                T(test_urgent),
                T(test_only_once),
                T(test_all_or_fail),
                T(test_all_or_wait_blocking),
                T(test_all_or_wait_nonblocking),
                T(test_flags_ignored_on_replies),
                T(test_reply_reservation),
                T(test_max_and_num_messages),
                T(test_num_unreplied_to),
                T(test_last_msg_id),
                T(test_max_message_size),
                T(test_new_device),
                T(test_verbose),
                T(test_network_id_kept),
                T(test_kbusd_changes_only),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
