/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-status.c - "a reply for every request" (SPEC §9), against a real
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
 * otherwise full (SPEC §7).
 *
 * Each test gets its own kbusd, so no state leaks between them, and each
 * stop checks that kbusd shut down cleanly.  Nothing sleeps: sends and
 * controls are synchronous, kbus_wait_for_message() blocks until a status
 * arrives, and "kbusd has seen that socket close" is learnt by asking
 * find_replier until the closed ksock's replier binding has gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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

/* ---- helpers ------------------------------------------------------------ */

static kbus_ksock_t open_ks(int flags)
{
        kbus_ksock_t ks = kbus_ksock_open(0, flags);

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

static uint32_t num_unreplied(kbus_ksock_t ks)
{
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_num_unreplied_to(ks, &n), 0);
        return n;
}

static int send_request(kbus_ksock_t ks, const char *name, uint32_t flags, kbus_msg_id_t *id)
{
        kbus_message_t *msg;

        assert_int_equal(kbus_msg_create_request(&msg, name, (uint32_t)strlen(name), "ask", 3,
                                                 flags), 0);
        int r = kbus_ksock_send_msg(ks, msg, id);
        kbus_msg_delete(&msg);
        return r;
}

static kbus_msg_id_t request_ok(kbus_ksock_t ks, const char *name)
{
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(send_request(ks, name, 0, &id), 0);
        assert_int_equal(id.network_id, 0);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

static kbus_msg_id_t announce(kbus_ksock_t ks, const char *name)
{
        kbus_message_t *msg;
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(kbus_msg_create(&msg, name, (uint32_t)strlen(name), "x", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(ks, msg, &id), 0);
        kbus_msg_delete(&msg);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

static int send_reply(kbus_ksock_t ks, const kbus_message_t *req, kbus_msg_id_t *id)
{
        kbus_message_t *reply;

        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "ans", 3, 0), 0);
        int r = kbus_ksock_send_msg(ks, reply, id);
        kbus_msg_delete(&reply);
        return r;
}

/* Takes the next message (already queued, so no waiting) and checks it. */
static kbus_message_t *take(kbus_ksock_t ks)
{
        kbus_message_t *m = NULL;

        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_non_null(m);
        return m;
}

/* Takes the replier's copy of request @id. */
static kbus_message_t *take_request(kbus_ksock_t ks, kbus_msg_id_t id)
{
        kbus_message_t *m = take(ks);

        assert_true(kbus_msg_wants_us_to_reply(m));
        assert_int_equal(m->id.network_id, id.network_id);
        assert_int_equal(m->id.serial_num, id.serial_num);
        return m;
}

/* Blocks until a message is queued, then takes it. */
static kbus_message_t *wait_msg(kbus_ksock_t ks)
{
        int r = kbus_wait_for_message(ks, KBUS_KSOCK_READABLE);

        assert_int_equal(r & KBUS_KSOCK_READABLE, KBUS_KSOCK_READABLE);
        return take(ks);
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
        /* SPEC §8: queued like any message when made, so after the request. */
        assert_int_equal(m->id.network_id, 0);
        assert_true(m->id.serial_num > req.serial_num);
}

static void wait_status(kbus_ksock_t ks, const char *name, kbus_msg_id_t req, uint32_t from,
                        uint32_t to)
{
        kbus_message_t *m = wait_msg(ks);

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

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Asks kbusd, synchronously, until nobody is the replier for @name: once a
 * closed ksock's replier binding has gone, kbusd has finished with its
 * close (SPEC §1: it acts on it at once, statuses included).
 */
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

/* Nothing is queued for @ks, and nothing turns up for a while either. */
static void expect_quiet(kbus_ksock_t ks)
{
        struct pollfd p = { .fd = ks, .events = POLLIN };
        kbus_message_t *m = NULL;

        (void)poll(&p, 1, 100);
        assert_int_equal(num_messages(ks), 0);
        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_null(m);
}

/* ---- the §9 table ------------------------------------------------------- */

/* Unbound: only the unread request is answered; the read one stays owed. */
static void test_unbound(void **state)
{
        (void)state;
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p), who;
        kbus_message_t *r1, *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Unbound", 1), 0);
        kbus_msg_id_t id1 = request_ok(q, "$.St.Unbound");
        kbus_msg_id_t id2 = request_ok(q, "$.St.Unbound");
        r1 = take_request(p, id1);
        assert_int_equal(num_messages(q), 0);

        assert_int_equal(kbus_ksock_unbind(p, "$.St.Unbound", 1), 0);
        assert_int_equal(kbus_ksock_find_replier(q, "$.St.Unbound", &who), 0);
        assert_int_equal(who, 0);
        /* The unread request left p's queue with the binding (SPEC §6). */
        assert_int_equal(num_messages(p), 0);
        assert_int_equal(num_unreplied(p), 1);
        assert_int_equal(num_messages(q), 1);
        wait_status(q, KBUS_MSG_NAME_REPLIER_UNBOUND, id2, pid, qid);
        expect_quiet(q);

        /* The request p had read still gets p's own reply, and only that. */
        kbus_msg_id_t rid;
        assert_int_equal(send_reply(p, r1, &rid), 0);
        assert_int_equal(num_unreplied(p), 0);
        m = wait_msg(q);
        check_reply(m, id1, pid, qid);
        assert_int_equal(m->id.serial_num, rid.serial_num);
        kbus_msg_delete(&m);
        expect_quiet(q);
        expect_quiet(p);
        kbus_msg_delete(&r1);
        kbus_ksock_close(q);
        kbus_ksock_close(p);
}

/* GoneAway: the replier closes without reading; one status per request. */
static void test_gone_away(void **state)
{
        (void)state;
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p);
        kbus_msg_id_t ids[3];
        int seen[3] = { 0, 0, 0 };

        assert_int_equal(kbus_ksock_bind(p, "$.St.Gone", 1), 0);
        for (int i = 0; i < 3; i++)
                ids[i] = request_ok(q, "$.St.Gone");
        assert_int_equal(num_messages(p), 3);
        assert_int_equal(kbus_ksock_close(p), 0);
        wait_replier_gone(q, "$.St.Gone");
        assert_int_equal(num_messages(q), 3);
        for (int n = 0; n < 3; n++) {
                kbus_message_t *m = take(q);
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
        expect_quiet(q);
        kbus_ksock_close(q);
}

/* Ignored: read, then closed without a reply; the unread one is GoneAway. */
static void test_ignored(void **state)
{
        (void)state;
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p);
        kbus_message_t *r1, *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Ign", 1), 0);
        kbus_msg_id_t id1 = request_ok(q, "$.St.Ign");
        kbus_msg_id_t id2 = request_ok(q, "$.St.Ign");
        r1 = take_request(p, id1);
        assert_int_equal(num_unreplied(p), 1);
        assert_int_equal(kbus_ksock_close(p), 0);
        kbus_msg_delete(&r1);
        wait_replier_gone(q, "$.St.Ign");
        assert_int_equal(num_messages(q), 2);
        for (int n = 0; n < 2; n++) {
                m = take(q);
                if (m->in_reply_to.serial_num == id1.serial_num)
                        check_status(m, KBUS_MSG_NAME_REPLIER_IGNORED, id1, pid, qid);
                else
                        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, id2, pid, qid);
                kbus_msg_delete(&m);
        }
        expect_quiet(q);
        kbus_ksock_close(q);
}

/*
 * Makes @l (a listener of @name) full with one message, so that an
 * ALL_OR_WAIT send to @name is held (SPEC §7).
 */
static kbus_ksock_t full_listener(const char *name)
{
        kbus_ksock_t l = open_ks(O_RDWR), s = open_ks(O_RDWR);
        uint32_t max = 1;

        assert_int_equal(kbus_ksock_max_messages(l, &max), 0);
        assert_int_equal(max, 1);
        assert_int_equal(kbus_ksock_bind(l, name, 0), 0);
        announce(s, name);
        assert_int_equal(num_messages(l), 1);
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
        assert_int_equal(send_request(q, "$.St.Other", 0, NULL), -EALREADY);
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
        kbus_ksock_t q = open_ks(O_RDWR | O_NONBLOCK), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q);
        kbus_message_t *req;
        kbus_msg_id_t last;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Dis", 1), 0);
        assert_int_equal(kbus_msg_create_request(&req, "$.St.Dis", 8, "w", 1,
                                                 KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);
        assert_int_equal(num_messages(p), 0);
        assert_int_equal(kbus_ksock_last_msg_id(q, &last), 0);
        assert_int_equal(last.serial_num, 0);

        assert_int_equal(kbus_ksock_close(p), 0);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_REPLIER_DISAPPEARED, id, 0, qid);
        expect_quiet(q);
        /* Never delivered: the listener holds only what filled it. */
        assert_int_equal(num_messages(l), 1);
        kbus_message_t *m = take(l);
        assert_false(kbus_msg_is_request(m));
        kbus_msg_delete(&m);
        expect_quiet(l);
        /* And the requester may send again. */
        assert_int_equal(send_request(q, "$.St.Dis", 0, NULL), -EADDRNOTAVAIL);
        kbus_ksock_close(q);
        kbus_ksock_close(l);
}

/* Disappeared again: the replier unbinds, then room appears. */
static void test_disappeared_unbind(void **state)
{
        (void)state;
        kbus_ksock_t l = full_listener("$.St.Dis2");
        kbus_ksock_t q = open_ks(O_RDWR | O_NONBLOCK), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q);
        kbus_message_t *req, *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.Dis2", 1), 0);
        assert_int_equal(kbus_msg_create_request(&req, "$.St.Dis2", 9, "w", 1,
                                                 KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);
        assert_int_equal(kbus_ksock_unbind(p, "$.St.Dis2", 1), 0);
        m = take(l); /* room: the held send is tried again, with no replier */
        kbus_msg_delete(&m);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_REPLIER_DISAPPEARED, id, 0, qid);
        expect_quiet(q);
        expect_quiet(l);
        expect_quiet(p);
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
        kbus_msg_id_t id = request_ok(q, name);
        kbus_message_t *r = take_request(a, id), *reply;

        assert_int_equal(send_reply(a, r, NULL), 0);
        kbus_msg_delete(&r);
        reply = wait_msg(q);
        check_reply(reply, id, id_of(a), id_of(q));
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
        kbus_ksock_t q = open_ks(O_RDWR | O_NONBLOCK), a = open_ks(O_RDWR), b = open_ks(O_RDWR);
        kbus_ksock_t l = open_ks(O_RDWR);
        uint32_t qid = id_of(q), max = 1, who;
        kbus_message_t *reply, *req;

        assert_int_equal(kbus_ksock_max_messages(l, &max), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Err.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.St.Err.*", 1), 0);
        reply = converse(q, a, "$.St.Err.X"); /* l now holds its copy: full */
        assert_int_equal(num_messages(l), 1);
        assert_int_equal(kbus_msg_create_stateful_request(&req, reply, "$.St.Err.X", 10, "s", 1,
                                                          KBUS_BIT_ALL_OR_WAIT), 0);
        assert_int_equal(req->to, id_of(a));
        send_held(q, req);
        kbus_msg_delete(&req);

        assert_int_equal(kbus_ksock_bind(b, "$.St.Err.X", 1), 0);
        assert_int_equal(kbus_ksock_find_replier(q, "$.St.Err.X", &who), 0);
        assert_int_equal(who, id_of(b));
        kbus_msg_id_t id = held_done(q);
        assert_true(id.serial_num > reply->id.serial_num);
        wait_status(q, KBUS_MSG_NAME_ERROR_SENDING, id, 0, qid);
        assert_int_equal(num_messages(l), 1); /* still full: nothing was delivered */
        expect_quiet(q);
        expect_quiet(b);
        expect_quiet(a);
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
        kbus_ksock_t q = open_ks(O_RDWR | O_NONBLOCK), a = open_ks(O_RDWR);
        kbus_ksock_t l = open_ks(O_RDWR), c = open_ks(O_RDWR);
        uint32_t qid = id_of(q), max = 1;
        kbus_message_t *req;

        assert_int_equal(kbus_ksock_max_messages(l, &max), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Gone", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.St.Gone", 1), 0);
        announce(c, "$.St.Gone"); /* fills l */
        assert_int_equal(kbus_msg_create_request(&req, "$.St.Gone", 9, "s", 1,
                                                 KBUS_BIT_ALL_OR_WAIT), 0);
        send_held(q, req);
        kbus_msg_delete(&req);
        assert_int_equal(kbus_ksock_unbind(a, "$.St.Gone", 1), 0);
        kbus_msg_id_t id = held_done(q);
        wait_status(q, KBUS_MSG_NAME_REPLIER_DISAPPEARED, id, 0, qid);
        assert_int_equal(num_messages(l), 1);
        expect_quiet(q);
        expect_quiet(a);
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
        kbus_ksock_t q = open_ks(O_RDWR | O_NONBLOCK), a = open_ks(O_RDWR), b = open_ks(O_RDWR);
        kbus_ksock_t l = open_ks(O_RDWR);
        uint32_t qid = id_of(q), max = 1, who;
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
        assert_int_equal(who, id_of(b));
        expect_quiet(q);
        expect_quiet(b);
        assert_int_equal(num_messages(l), 1); /* only the first request's copy */
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
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR), l = open_ks(O_RDWR);
        kbus_message_t *r1, *r2, *m;
        kbus_msg_id_t last = { 9, 9 };

        assert_int_equal(kbus_ksock_bind(q, "$.St.QMark", 1), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Rcf", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.St.Rcf", 0), 0);
        kbus_msg_id_t id1 = request_ok(q, "$.St.Rcf");
        kbus_msg_id_t id2 = request_ok(q, "$.St.Rcf");
        r1 = take_request(p, id1);
        assert_int_equal(kbus_ksock_close(q), 0);
        wait_replier_gone(p, "$.St.QMark");

        assert_int_equal(send_reply(p, r1, NULL), -EADDRNOTAVAIL);
        /* The unread request is still p's to read; answering it fails too. */
        assert_int_equal(num_messages(p), 1);
        r2 = take_request(p, id2);
        assert_int_equal(send_reply(p, r2, NULL), -EADDRNOTAVAIL);
        /* SPEC §7: a failed send uses no id. */
        assert_int_equal(kbus_ksock_last_msg_id(p, &last), 0);
        assert_int_equal(last.network_id, 0);
        assert_int_equal(last.serial_num, 0);
        /* Nobody got the replies: the listener has just the two requests. */
        assert_int_equal(num_messages(l), 2);
        for (int i = 0; i < 2; i++) {
                m = take(l);
                assert_true(kbus_msg_is_request(m));
                assert_false(kbus_msg_wants_us_to_reply(m));
                assert_int_equal(m->id.serial_num, (i ? id2 : id1).serial_num);
                kbus_msg_delete(&m);
        }
        expect_quiet(l);
        expect_quiet(p);
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
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p);
        kbus_msg_id_t id[4];
        kbus_message_t *r[4], *m;

        assert_int_equal(kbus_ksock_bind(p, "$.St.One", 1), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Two", 1), 0);
        for (int i = 0; i < 3; i++)
                id[i] = request_ok(q, "$.St.One");
        id[3] = request_ok(q, "$.St.Two");
        for (int i = 0; i < 4; i++)
                r[i] = take_request(p, id[i]);
        assert_int_equal(send_reply(p, r[0], NULL), 0);
        assert_int_equal(send_reply(p, r[1], NULL), 0);
        assert_int_equal(send_reply(p, r[3], NULL), 0);
        /* A second reply to the same request is refused (SPEC §7). */
        assert_int_equal(send_reply(p, r[0], NULL), -ECONNREFUSED);
        assert_int_equal(num_unreplied(p), 1);
        /* Unbinding after replying makes no status. */
        assert_int_equal(kbus_ksock_unbind(p, "$.St.Two", 1), 0);
        assert_int_equal(num_messages(q), 3);

        assert_int_equal(kbus_ksock_close(p), 0);
        wait_replier_gone(q, "$.St.One");
        assert_int_equal(num_messages(q), 4);
        for (int i = 0; i < 3; i++) {
                m = take(q);
                check_reply(m, id[i == 2 ? 3 : i], pid, qid);
                kbus_msg_delete(&m);
        }
        m = take(q);
        check_status(m, KBUS_MSG_NAME_REPLIER_IGNORED, id[2], pid, qid);
        kbus_msg_delete(&m);
        expect_quiet(q);
        for (int i = 0; i < 4; i++)
                kbus_msg_delete(&r[i]);
        kbus_ksock_close(q);
}

/* Stateful requests get Unbound, Ignored and GoneAway like any other. */
static void test_stateful_statuses(void **state)
{
        (void)state;
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p);
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
        assert_int_equal(num_messages(q), 0);
        /* sid[0] read, sid[2] unread: Ignored and GoneAway on close. */
        assert_int_equal(kbus_ksock_close(p), 0);
        wait_replier_gone(q, "$.St.Sf.A");
        assert_int_equal(num_messages(q), 2);
        for (int n = 0; n < 2; n++) {
                m = take(q);
                if (m->in_reply_to.serial_num == sid[0].serial_num)
                        check_status(m, KBUS_MSG_NAME_REPLIER_IGNORED, sid[0], pid, qid);
                else
                        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, sid[2], pid, qid);
                kbus_msg_delete(&m);
        }
        expect_quiet(q);
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
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR), s = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p), max = 4;
        kbus_msg_id_t f[3];
        kbus_message_t *m;

        assert_int_equal(kbus_ksock_max_messages(q, &max), 0);
        assert_int_equal(max, 4);
        assert_int_equal(kbus_ksock_bind(q, "$.St.Fill", 0), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Res", 1), 0);
        f[0] = announce(s, "$.St.Fill");
        f[1] = announce(s, "$.St.Fill");
        kbus_msg_id_t id = request_ok(q, "$.St.Res"); /* 2 live + 1 reserved */
        f[2] = announce(s, "$.St.Fill");              /* 3 live + 1 reserved: full */
        assert_int_equal(num_messages(q), 3);
        announce(s, "$.St.Fill"); /* missed: no room */
        assert_int_equal(num_messages(q), 3);
        assert_int_equal(send_request(q, "$.St.Res", 0, NULL), -ENOLCK);

        assert_int_equal(kbus_ksock_close(p), 0);
        wait_replier_gone(q, "$.St.Res");
        assert_int_equal(num_messages(q), 4);
        for (int i = 0; i < 3; i++) {
                m = take(q);
                assert_string_equal(kbus_msg_name_ptr(m), "$.St.Fill");
                assert_int_equal(m->id.serial_num, f[i].serial_num);
                kbus_msg_delete(&m);
        }
        m = take(q);
        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, id, pid, qid);
        kbus_msg_delete(&m);
        expect_quiet(q);
        kbus_ksock_close(q);
        kbus_ksock_close(s);
}

/*
 * The last free place of a queue can be reserved (SPEC §7: room for every
 * reply owed plus this one; ENOLCK only when live + reserved + 1 > max),
 * and the status then arrives in it although the queue is full.
 */
static void test_last_place_reserved(void **state)
{
        (void)state;
        kbus_ksock_t q = open_ks(O_RDWR), p = open_ks(O_RDWR), s = open_ks(O_RDWR);
        uint32_t qid = id_of(q), pid = id_of(p), max = 3;
        kbus_message_t *m;

        assert_int_equal(kbus_ksock_max_messages(q, &max), 0);
        assert_int_equal(max, 3);
        assert_int_equal(kbus_ksock_bind(q, "$.St.Fill", 0), 0);
        assert_int_equal(kbus_ksock_bind(p, "$.St.Res", 1), 0);
        announce(s, "$.St.Fill");
        announce(s, "$.St.Fill");
        assert_int_equal(num_messages(q), 2);
        kbus_msg_id_t id = request_ok(q, "$.St.Res"); /* 2 + 0 + 1 = 3 <= 3 */
        assert_int_equal(send_request(q, "$.St.Res", 0, NULL), -ENOLCK); /* 4 > 3 */
        announce(s, "$.St.Fill"); /* missed: full */
        assert_int_equal(num_messages(q), 2);
        assert_int_equal(kbus_ksock_close(p), 0);
        wait_replier_gone(q, "$.St.Res");
        assert_int_equal(num_messages(q), 3);
        for (int i = 0; i < 2; i++) {
                m = take(q);
                assert_string_equal(kbus_msg_name_ptr(m), "$.St.Fill");
                kbus_msg_delete(&m);
        }
        m = take(q);
        check_status(m, KBUS_MSG_NAME_REPLIER_GONEAWAY, id, pid, qid);
        kbus_msg_delete(&m);
        expect_quiet(q);
        kbus_ksock_close(q);
        kbus_ksock_close(s);
}

int main(void)
{
        alarm(120);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_unbound, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gone_away, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disappeared_close, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disappeared_unbind, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_sending, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disappeared_at_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_sending_close, setup, teardown),
                cmocka_unit_test_setup_teardown(test_requester_closes_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exactly_one, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stateful_statuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reserved_place, setup, teardown),
                cmocka_unit_test_setup_teardown(test_last_place_reserved, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
