/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-status.c - "a reply for every request" (semantics §9), against a real
 * kbusd.
 *
 * Every row of the §9 table is made to happen and the status checked field
 * by field: name, in_reply_to = the request's id, from (the replier, or 0
 * for the held-send statuses), to = the requester, SYNTHETIC set, no data.
 * Around them: a request the replier has read is not answered by an
 * unbind; a requester that closes first makes the replier's reply fail with
 * EADDRNOTAVAIL and reach nobody; a request gets exactly one reply or
 * status, never two; stateful requests get statuses too; and a status goes
 * into the place the request reserved, even when the requester's queue is
 * otherwise full (semantics §7).
 *
 * Each test gets its own kbusd, so no state leaks between them, and each
 * stop checks that kbusd shut down cleanly.  Nothing sleeps: sends and
 * controls are synchronous, kbus_wait_for_message() blocks until a status
 * arrives, and "kbusd has seen that socket close" is learnt by asking
 * find_replier until the closed ksock's replier binding has gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define ASK KBUS_BIT_WANT_A_REPLY

/* ---- helpers ------------------------------------------------------------ */

/* Takes the replier's copy of request @id. */
static kbus_message_t *take_request(kbus_ksock_t ks, kbus_msg_id_t id)
{
        kbus_message_t *m = kt_take(ks);

        assert_true(kbus_msg_wants_us_to_reply(m));
        assert_int_equal(m->id.network_id, id.network_id);
        assert_int_equal(m->id.serial_num, id.serial_num);
        return m;
}

static void check_irt(const kbus_message_t *m, kbus_msg_id_t req)
{
        assert_int_equal(m->in_reply_to.network_id, req.network_id);
        assert_int_equal(m->in_reply_to.serial_num, req.serial_num);
}

/* A §9 status: the table's name and from, to = requester, no data. */
static void check_status(const kbus_message_t *m, const char *name, kbus_msg_id_t req,
                         uint32_t from, uint32_t to)
{
        assert_string_equal(kbus_msg_name_ptr(m), name);
        assert_int_equal(m->name_len, strlen(name));
        check_irt(m, req);
        assert_int_equal(m->from, from);
        assert_int_equal(m->to, to);
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, KBUS_BIT_SYNTHETIC);
        assert_int_equal(m->flags & (KBUS_BIT_WANT_A_REPLY | KBUS_BIT_WANT_YOU_TO_REPLY), 0);
        assert_int_equal(m->data_len, 0);
        assert_null(kbus_msg_data_ptr(m));
        /* semantics §8: queued like any message when made, so after the request. */
        assert_int_equal(m->id.network_id, 0);
        assert_true(m->id.serial_num > req.serial_num);
}

static void wait_status(kbus_ksock_t ks, const char *name, kbus_msg_id_t req, uint32_t from,
                        uint32_t to)
{
        kbus_message_t *m = kt_wait_msg(ks);

        check_status(m, name, req, from, to);
        kbus_msg_delete(&m);
}

/* A real reply from @from to request @req. */
static void check_reply(const kbus_message_t *m, kbus_msg_id_t req, uint32_t from, uint32_t to)
{
        check_irt(m, req);
        assert_int_equal(m->from, from);
        assert_int_equal(m->to, to);
        assert_int_equal(m->flags & KBUS_BIT_SYNTHETIC, 0);
        assert_int_equal(m->data_len, 3);
        assert_memory_equal(kbus_msg_data_ptr(m), "ans", 3);
}

/* ---- the §9 table ------------------------------------------------------- */

/* Unbound: only the unread request is answered; the read one stays owed. */
static void test_unbound(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p), who;
        kbus_message_t *r1, *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Unbound", 1), 0);
        kbus_msg_id_t id1 = kt_send(q, "$.St.Unbound", "ask", ASK);
        kbus_msg_id_t id2 = kt_send(q, "$.St.Unbound", "ask", ASK);
        r1 = take_request(p, id1);
        assert_int_equal(kt_num_messages(q), 0);

        assert_int_equal(kbus_ksock_unbind(p, "$.St.Unbound", 1), 0);
        assert_int_equal(kbus_ksock_find_replier(q, "$.St.Unbound", &who), 0);
        assert_int_equal(who, 0);
        /* The unread request left p's queue with the binding (semantics §6). */
        assert_int_equal(kt_num_messages(p), 0);
        assert_int_equal(kt_num_unreplied(p), 1);
        assert_int_equal(kt_num_messages(q), 1);
        wait_status(q, KBUS_MSG_NAME_REPLIER_UNBOUND, id2, pid, qid);
        kt_expect_quiet(q, KT_QUIET_MS);

        /* The request p had read still gets p's own reply, and only that. */
        kbus_msg_id_t rid;
        assert_int_equal(kt_try_reply(p, r1, "ans", 0, &rid), 0);
        assert_int_equal(kt_num_unreplied(p), 0);
        m = kt_wait_msg(q);
        check_reply(m, id1, pid, qid);
        assert_int_equal(m->id.serial_num, rid.serial_num);
        kbus_msg_delete(&m);
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(p, KT_QUIET_MS);
        kbus_msg_delete(&r1);
        kbus_ksock_close(q);
        kbus_ksock_close(p);
}

/* GoneAway: the replier closes without reading; one status per request. */
static void test_gone_away(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p);
        kbus_msg_id_t ids[3];
        int seen[3] = { 0, 0, 0 };

        assert_int_equal(kbus_ksock_bind(p, "$.St.Gone", 1), 0);
        for (int i = 0; i < 3; i++)
                ids[i] = kt_send(q, "$.St.Gone", "ask", ASK);
        assert_int_equal(kt_num_messages(p), 3);
        assert_int_equal(kbus_ksock_close(p), 0);
        kt_wait_replier_gone(q, "$.St.Gone");
        assert_int_equal(kt_num_messages(q), 3);
        for (int n = 0; n < 3; n++) {
                kbus_message_t *m = kt_take(q);
                int i;
                for (i = 0; i < 3; i++)
                        if (m->in_reply_to.serial_num == ids[i].serial_num)
                                break;
                assert_true(i < 3);
                seen[i]++;
                check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, ids[i], pid, qid);
                kbus_msg_delete(&m);
        }
        assert_int_equal(seen[0], 1);
        assert_int_equal(seen[1], 1);
        assert_int_equal(seen[2], 1);
        kt_expect_quiet(q, KT_QUIET_MS);
        kbus_ksock_close(q);
}

/* Ignored: read, then closed without a reply; the unread one is GoneAway. */
static void test_ignored(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p);
        kbus_message_t *r1, *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Ign", 1), 0);
        kbus_msg_id_t id1 = kt_send(q, "$.St.Ign", "ask", ASK);
        kbus_msg_id_t id2 = kt_send(q, "$.St.Ign", "ask", ASK);
        r1 = take_request(p, id1);
        assert_int_equal(kt_num_unreplied(p), 1);
        assert_int_equal(kbus_ksock_close(p), 0);
        kbus_msg_delete(&r1);
        kt_wait_replier_gone(q, "$.St.Ign");
        assert_int_equal(kt_num_messages(q), 2);
        for (int n = 0; n < 2; n++) {
                m = kt_take(q);
                if (m->in_reply_to.serial_num == id1.serial_num)
                        check_status(m, KBUS_MSG_NAME_REPLIER_IGNORED, id1, pid, qid);
                else
                        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, id2, pid, qid);
                kbus_msg_delete(&m);
        }
        kt_expect_quiet(q, KT_QUIET_MS);
        kbus_ksock_close(q);
}

/*
 * Makes @l (a listener of @name) full with one message, so that an
 * ALL_OR_WAIT send to @name is held (semantics §7).
 */
static kbus_ksock_t full_listener(const char *name)
{
        kbus_ksock_t l = kt_open_rw(), s = kt_open_rw();

        kt_set_max(l, 1);
        assert_int_equal(kbus_ksock_bind(l, name, 0), 0);
        kt_send(s, name, "x", 0);
        assert_int_equal(kt_num_messages(l), 1);
        kbus_ksock_close(s);
        return l;
}

/* Sends a held ALL_OR_WAIT request from non-blocking @q: -EAGAIN, then
 * -EALREADY for anything else while it is held. */
static void send_held(kbus_ksock_t q, kbus_message_t *req)
{
        kbus_msg_id_t id = { 77, 77 };

        assert_int_equal(kbus_ksock_send_msg(q, req, &id), -EAGAIN);
        assert_int_equal(id.network_id, 77); /* untouched: no id yet */
        assert_int_equal(id.serial_num, 77);
        assert_int_equal(kt_try_send(q, "$.St.Other", "ask", ASK, NULL), -EALREADY);
}

/* The held send completed (the ksock is writable again): its id. */
static kbus_msg_id_t held_done(kbus_ksock_t q)
{
        kbus_msg_id_t id = { 0, 0 };
        int r = kbus_wait_for_message(q, KBUS_KSOCK_WRITABLE);

        assert_int_equal(r & KBUS_KSOCK_WRITABLE, KBUS_KSOCK_WRITABLE);
        assert_int_equal(kbus_ksock_last_msg_id(q, &id), 0);
        assert_int_equal(id.network_id, 0);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

/* Disappeared: the replier of a held request closes before delivery. */
static void test_disappeared_close(void **state)
{
        (void)state;
        kbus_ksock_t l = full_listener("$.St.Dis");
        kbus_ksock_t q = kt_open(0, O_RDWR | O_NONBLOCK), p = kt_open_rw();
        uint32_t qid = kt_id(q);
        kbus_message_t *req;
        kbus_msg_id_t last;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Dis", 1), 0);
        assert_int_equal(kbus_msg_create_request(&req, "$.St.Dis", 8, "w", 1,
                                                 KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);
        assert_int_equal(kt_num_messages(p), 0);
        assert_int_equal(kbus_ksock_last_msg_id(q, &last), 0);
        assert_int_equal(last.serial_num, 0);

        assert_int_equal(kbus_ksock_close(p), 0);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_REPLIER_DISAPPEARED, id, 0, qid);
        kt_expect_quiet(q, KT_QUIET_MS);
        /* Never delivered: the listener holds only what filled it. */
        assert_int_equal(kt_num_messages(l), 1);
        kbus_message_t *m = kt_take(l);
        assert_false(kbus_msg_is_request(m));
        kbus_msg_delete(&m);
        kt_expect_quiet(l, KT_QUIET_MS);
        /* And the requester may send again. */
        assert_int_equal(kt_try_send(q, "$.St.Dis", "ask", ASK, NULL), -EADDRNOTAVAIL);
        kbus_ksock_close(q);
        kbus_ksock_close(l);
}

/* Disappeared again: the replier unbinds, then room appears. */
static void test_disappeared_unbind(void **state)
{
        (void)state;
        kbus_ksock_t l = full_listener("$.St.Dis2");
        kbus_ksock_t q = kt_open(0, O_RDWR | O_NONBLOCK), p = kt_open_rw();
        uint32_t qid = kt_id(q);
        kbus_message_t *req, *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Dis2", 1), 0);
        assert_int_equal(kbus_msg_create_request(&req, "$.St.Dis2", 9, "w", 1,
                                                 KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);
        assert_int_equal(kbus_ksock_unbind(p, "$.St.Dis2", 1), 0);
        m = kt_take(l); /* room: the held send is tried again, with no replier */
        kbus_msg_delete(&m);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_REPLIER_DISAPPEARED, id, 0, qid);
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(l, KT_QUIET_MS);
        kt_expect_quiet(p, KT_QUIET_MS);
        kbus_ksock_close(p);
        kbus_ksock_close(q);
        kbus_ksock_close(l);
}

/*
 * Starts a conversation: @q asks @a (replier of @name) once and keeps the
 * reply, from which a stateful request to @a can be made.
 */
static kbus_message_t *converse(kbus_ksock_t q, kbus_ksock_t a, const char *name)
{
        kbus_msg_id_t id = kt_send(q, name, "ask", ASK);
        kbus_message_t *r = take_request(a, id), *reply;

        assert_int_equal(kt_try_reply(a, r, "ans", 0, NULL), 0);
        kbus_msg_delete(&r);
        reply = kt_wait_msg(q);
        check_reply(reply, id, kt_id(a), kt_id(q));
        return reply;
}

/*
 * ErrorSending: a held stateful request to replier A (bound to a wildcard),
 * and B binds the exact name, so B is now the replier of that name.  kbusd
 * re-evaluates held requests whenever a replier binding changes, so the
 * request fails at once (its `to` is no longer the replier), while the
 * listener that held it up is still full.
 */
static void test_error_sending(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open(0, O_RDWR | O_NONBLOCK), a = kt_open_rw(), b = kt_open_rw();
        kbus_ksock_t l = kt_open_rw();
        uint32_t qid = kt_id(q), max = 1, who;
        kbus_message_t *reply, *req;

        assert_int_equal(kbus_ksock_max_messages(l, &max), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Err.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.St.Err.*", 1), 0);
        reply = converse(q, a, "$.St.Err.X"); /* l now holds its copy: full */
        assert_int_equal(kt_num_messages(l), 1);
        assert_int_equal(kbus_msg_create_stateful_request(&req, reply, "$.St.Err.X", 10, "s", 1,
                                                          KBUS_BIT_ALL_OR_WAIT), 0);
        assert_int_equal(req->to, kt_id(a));
        send_held(q, req);
        kbus_msg_delete(&req);

        assert_int_equal(kbus_ksock_bind(b, "$.St.Err.X", 1), 0);
        assert_int_equal(kbus_ksock_find_replier(q, "$.St.Err.X", &who), 0);
        assert_int_equal(who, kt_id(b));
        kbus_msg_id_t id = held_done(q);
        assert_true(id.serial_num > reply->id.serial_num);
        wait_status(q, KBUS_MSG_NAME_ERROR_SENDING, id, 0, qid);
        assert_int_equal(kt_num_messages(l), 1); /* still full: nothing was delivered */
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(b, KT_QUIET_MS);
        kt_expect_quiet(a, KT_QUIET_MS);
        kbus_msg_delete(&reply);
        kbus_ksock_close(q);
        kbus_ksock_close(a);
        kbus_ksock_close(b);
        kbus_ksock_close(l);
}

/*
 * Disappeared at once: the replier of a held request unbinds while the
 * listener that holds it up is still full; kbusd does not wait for room to
 * find out that the request can never be delivered.
 */
static void test_disappeared_at_once(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open(0, O_RDWR | O_NONBLOCK), a = kt_open_rw();
        kbus_ksock_t l = kt_open_rw(), c = kt_open_rw();
        uint32_t qid = kt_id(q), max = 1;
        kbus_message_t *req;

        assert_int_equal(kbus_ksock_max_messages(l, &max), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Gone", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.St.Gone", 1), 0);
        kt_send(c, "$.St.Gone", "x", 0); /* fills l */
        assert_int_equal(kbus_msg_create_request(&req, "$.St.Gone", 9, "s", 1,
                                                 KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);
        assert_int_equal(kbus_ksock_unbind(a, "$.St.Gone", 1), 0);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_REPLIER_DISAPPEARED, id, 0, qid);
        assert_int_equal(kt_num_messages(l), 1);
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(a, KT_QUIET_MS);
        kbus_ksock_close(q);
        kbus_ksock_close(a);
        kbus_ksock_close(l);
        kbus_ksock_close(c);
}

/*
 * ErrorSending when replier A closes while B is bound to a wildcard that
 * matches: the held stateful request now finds B, which is not its `to`.
 */
static void test_error_sending_close(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open(0, O_RDWR | O_NONBLOCK), a = kt_open_rw(), b = kt_open_rw();
        kbus_ksock_t l = kt_open_rw();
        uint32_t qid = kt_id(q), max = 1, who;
        kbus_message_t *reply, *req;

        assert_int_equal(kbus_ksock_max_messages(l, &max), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Err2.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.St.Err2.*", 1), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.St.Err2.X", 1), 0);
        reply = converse(q, a, "$.St.Err2.X");
        assert_int_equal(kbus_msg_create_stateful_request(&req, reply, "$.St.Err2.X", 11, "s", 1,
                                                          KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);

        assert_int_equal(kbus_ksock_close(a), 0);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_ERROR_SENDING, id, 0, qid);
        assert_int_equal(kbus_ksock_find_replier(q, "$.St.Err2.X", &who), 0);
        assert_int_equal(who, kt_id(b));
        kt_expect_quiet(q, KT_QUIET_MS);
        kt_expect_quiet(b, KT_QUIET_MS);
        assert_int_equal(kt_num_messages(l), 1); /* only the first request's copy */
        kbus_msg_delete(&reply);
        kbus_ksock_close(q);
        kbus_ksock_close(b);
        kbus_ksock_close(l);
}

/* ---- around the table --------------------------------------------------- */

/* The requester closes first: its replies are dropped, EADDRNOTAVAIL. */
static void test_requester_closes_first(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw(), l = kt_open_rw();
        kbus_message_t *r1, *r2, *m;
        kbus_msg_id_t last = { 9, 9 };

        assert_int_equal(kbus_ksock_bind(q, "$.St.QMark", 1), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Rcf", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Rcf", 0), 0);
        kbus_msg_id_t id1 = kt_send(q, "$.St.Rcf", "ask", ASK);
        kbus_msg_id_t id2 = kt_send(q, "$.St.Rcf", "ask", ASK);
        r1 = take_request(p, id1);
        assert_int_equal(kbus_ksock_close(q), 0);
        kt_wait_replier_gone(p, "$.St.QMark");

        assert_int_equal(kt_try_reply(p, r1, "ans", 0, NULL), -EADDRNOTAVAIL);
        /* The unread request is still p's to read; answering it fails too. */
        assert_int_equal(kt_num_messages(p), 1);
        r2 = take_request(p, id2);
        assert_int_equal(kt_try_reply(p, r2, "ans", 0, NULL), -EADDRNOTAVAIL);
        /* semantics §7: a failed send uses no id. */
        assert_int_equal(kbus_ksock_last_msg_id(p, &last), 0);
        assert_int_equal(last.network_id, 0);
        assert_int_equal(last.serial_num, 0);
        /* Nobody got the replies: the listener has just the two requests. */
        assert_int_equal(kt_num_messages(l), 2);
        for (int i = 0; i < 2; i++) {
                m = kt_take(l);
                assert_true(kbus_msg_is_request(m));
                assert_false(kbus_msg_wants_us_to_reply(m));
                assert_int_equal(m->id.serial_num, (i ? id2 : id1).serial_num);
                kbus_msg_delete(&m);
        }
        kt_expect_quiet(l, KT_QUIET_MS);
        kt_expect_quiet(p, KT_QUIET_MS);
        kbus_msg_delete(&r1);
        kbus_msg_delete(&r2);
        kbus_ksock_close(p);
        kbus_ksock_close(l);
}

/*
 * Exactly one answer each: replied requests get no status when the replier
 * later unbinds or closes; only the read-and-unanswered one is Ignored.
 */
static void test_exactly_one(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p);
        kbus_msg_id_t id[4];
        kbus_message_t *r[4], *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.One", 1), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Two", 1), 0);
        for (int i = 0; i < 3; i++)
                id[i] = kt_send(q, "$.St.One", "ask", ASK);
        id[3] = kt_send(q, "$.St.Two", "ask", ASK);
        for (int i = 0; i < 4; i++)
                r[i] = take_request(p, id[i]);
        assert_int_equal(kt_try_reply(p, r[0], "ans", 0, NULL), 0);
        assert_int_equal(kt_try_reply(p, r[1], "ans", 0, NULL), 0);
        assert_int_equal(kt_try_reply(p, r[3], "ans", 0, NULL), 0);
        /* A second reply to the same request is refused (semantics §7). */
        assert_int_equal(kt_try_reply(p, r[0], "ans", 0, NULL), -ECONNREFUSED);
        assert_int_equal(kt_num_unreplied(p), 1);
        /* Unbinding after replying makes no status. */
        assert_int_equal(kbus_ksock_unbind(p, "$.St.Two", 1), 0);
        assert_int_equal(kt_num_messages(q), 3);

        assert_int_equal(kbus_ksock_close(p), 0);
        kt_wait_replier_gone(q, "$.St.One");
        assert_int_equal(kt_num_messages(q), 4);
        for (int i = 0; i < 3; i++) {
                m = kt_take(q);
                check_reply(m, id[i == 2 ? 3 : i], pid, qid);
                kbus_msg_delete(&m);
        }
        m = kt_take(q);
        check_status(m, KBUS_MSG_NAME_REPLIER_IGNORED, id[2], pid, qid);
        kbus_msg_delete(&m);
        kt_expect_quiet(q, KT_QUIET_MS);
        for (int i = 0; i < 4; i++)
                kbus_msg_delete(&r[i]);
        kbus_ksock_close(q);
}

/* Stateful requests get Unbound, Ignored and GoneAway like any other. */
static void test_stateful_statuses(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p);
        kbus_message_t *reply, *req, *s1, *m;
        kbus_msg_id_t sid[3];

        assert_int_equal(kbus_ksock_bind(p, "$.St.Sf.A", 1), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Sf.B", 1), 0);
        reply = converse(q, p, "$.St.Sf.A");
        const char *names[3] = { "$.St.Sf.A", "$.St.Sf.B", "$.St.Sf.A" };
        for (int i = 0; i < 3; i++) {
                assert_int_equal(kbus_msg_create_stateful_request(&req, reply, names[i], 9, "s",
                                                                  1, 0), 0);
                assert_int_equal(req->to, pid);
                assert_int_equal(kbus_ksock_send_msg(q, req, &sid[i]), 0);
                kbus_msg_delete(&req);
        }
        s1 = take_request(p, sid[0]);
        assert_int_equal(s1->to, pid);
        /* sid[1] unread, unbound: Unbound. */
        assert_int_equal(kbus_ksock_unbind(p, "$.St.Sf.B", 1), 0);
        wait_status(q, KBUS_MSG_NAME_REPLIER_UNBOUND, sid[1], pid, qid);
        assert_int_equal(kt_num_messages(q), 0);
        /* sid[0] read, sid[2] unread: Ignored and GoneAway on close. */
        assert_int_equal(kbus_ksock_close(p), 0);
        kt_wait_replier_gone(q, "$.St.Sf.A");
        assert_int_equal(kt_num_messages(q), 2);
        for (int n = 0; n < 2; n++) {
                m = kt_take(q);
                if (m->in_reply_to.serial_num == sid[0].serial_num)
                        check_status(m, KBUS_MSG_NAME_REPLIER_IGNORED, sid[0], pid, qid);
                else
                        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, sid[2], pid, qid);
                kbus_msg_delete(&m);
        }
        kt_expect_quiet(q, KT_QUIET_MS);
        kbus_msg_delete(&s1);
        kbus_msg_delete(&reply);
        kbus_ksock_close(q);
}

/*
 * The status goes into the place the request reserved: q's queue is full
 * of announcements (later ones are missed), yet GoneAway still arrives.
 */
static void test_reserved_place(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw(), s = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p);
        kbus_msg_id_t f[3];
        kbus_message_t *m;

        kt_set_max(q, 4);
        assert_int_equal(kbus_ksock_bind(q, "$.St.Fill", 0), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Res", 1), 0);
        f[0] = kt_send(s, "$.St.Fill", "x", 0);
        f[1] = kt_send(s, "$.St.Fill", "x", 0);
        kbus_msg_id_t id = kt_send(q, "$.St.Res", "ask", ASK); /* 2 live + 1 reserved */
        f[2] = kt_send(s, "$.St.Fill", "x", 0);                /* 3 live + 1 reserved: full */
        assert_int_equal(kt_num_messages(q), 3);
        kt_send(s, "$.St.Fill", "x", 0); /* missed: no room */
        assert_int_equal(kt_num_messages(q), 3);
        assert_int_equal(kt_try_send(q, "$.St.Res", "ask", ASK, NULL), -ENOLCK);

        assert_int_equal(kbus_ksock_close(p), 0);
        kt_wait_replier_gone(q, "$.St.Res");
        assert_int_equal(kt_num_messages(q), 4);
        for (int i = 0; i < 3; i++) {
                m = kt_take(q);
                assert_string_equal(kbus_msg_name_ptr(m), "$.St.Fill");
                assert_int_equal(m->id.serial_num, f[i].serial_num);
                kbus_msg_delete(&m);
        }
        m = kt_take(q);
        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, id, pid, qid);
        kbus_msg_delete(&m);
        kt_expect_quiet(q, KT_QUIET_MS);
        kbus_ksock_close(q);
        kbus_ksock_close(s);
}

/*
 * The last free place of a queue can be reserved (semantics §7: room for every
 * reply owed plus this one; ENOLCK only when live + reserved + 1 > max),
 * and the status then arrives in it although the queue is full.
 */
static void test_last_place_reserved(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), p = kt_open_rw(), s = kt_open_rw();
        uint32_t qid = kt_id(q), pid = kt_id(p);
        kbus_message_t *m;

        kt_set_max(q, 3);
        assert_int_equal(kbus_ksock_bind(q, "$.St.Fill", 0), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Res", 1), 0);
        kt_send(s, "$.St.Fill", "x", 0);
        kt_send(s, "$.St.Fill", "x", 0);
        assert_int_equal(kt_num_messages(q), 2);
        kbus_msg_id_t id = kt_send(q, "$.St.Res", "ask", ASK); /* 2 + 0 + 1 = 3 <= 3 */
        assert_int_equal(kt_try_send(q, "$.St.Res", "ask", ASK, NULL), -ENOLCK); /* 4 > 3 */
        kt_send(s, "$.St.Fill", "x", 0); /* missed: full */
        assert_int_equal(kt_num_messages(q), 2);
        assert_int_equal(kbus_ksock_close(p), 0);
        kt_wait_replier_gone(q, "$.St.Res");
        assert_int_equal(kt_num_messages(q), 3);
        for (int i = 0; i < 2; i++) {
                m = kt_take(q);
                assert_string_equal(kbus_msg_name_ptr(m), "$.St.Fill");
                kbus_msg_delete(&m);
        }
        m = kt_take(q);
        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, id, pid, qid);
        kbus_msg_delete(&m);
        kt_expect_quiet(q, KT_QUIET_MS);
        kbus_ksock_close(q);
        kbus_ksock_close(s);
}

int main(void)
{
        alarm(120);
        const struct CMUnitTest tests[] = {
                KT_TEST(test_unbound),
                KT_TEST(test_gone_away),
                KT_TEST(test_ignored),
                KT_TEST(test_disappeared_close),
                KT_TEST(test_disappeared_unbind),
                KT_TEST(test_error_sending),
                KT_TEST(test_disappeared_at_once),
                KT_TEST(test_error_sending_close),
                KT_TEST(test_requester_closes_first),
                KT_TEST(test_exactly_one),
                KT_TEST(test_stateful_statuses),
                KT_TEST(test_reserved_place),
                KT_TEST(test_last_place_reserved),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
