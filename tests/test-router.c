/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-router.c - the delivery rules (semantics §7-§11) with kbusd's core in the
 * test process (core-test.h): recipients written before the sender is
 * answered, requests and replies, every status of semantics §9 exactly once and
 * in its reserved place, held ALL_OR_WAIT sends and the serial they take,
 * ALL_OR_FAIL, full listeners, only-once, and replier bind events set aside
 * and delivered in order, with UnbindEventsLost past the limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-test.h"

static TestCore t;
static TestFrame f;

static int setup(void **state)
{
        (void)state;
        tc_start(&t, NULL, NULL);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        tc_stop(&t);
        return 0;
}

/* A CTL that must succeed with @want. */
static void ctl(TestConn *tc, uint32_t op, uint32_t arg, uint32_t want)
{
        tc_ctl(tc, op, arg);
        tc_expect_result(tc, 0, want, 0);
}

/* Sends and expects RESULT 0; returns the serial. */
static uint32_t send_ok(TestConn *tc, const char *name, uint32_t flags, uint32_t to,
                        uint32_t irt)
{
        Result res;

        tc_send(tc, 0, name, "data", flags, to, irt);
        assert_true(tc_read(tc, &f));
        assert_int_equal(f.type, FRAME_RESULT);
        assert_int_equal(codec_result_decode(f.body, f.len, &res), 0);
        assert_int_equal(res.status, 0);
        assert_int_equal(res.value0, 0);
        assert_int_not_equal(res.value1, 0);
        return res.value1;
}

static void send_fails(TestConn *tc, const char *name, uint32_t flags, uint32_t to,
                       uint32_t irt, int err)
{
        tc_send(tc, 0, name, "data", flags, to, irt);
        tc_expect_result(tc, err, 0, 0);
}

/* The next frame is a status of semantics §9 answering [0:@irt], from @from. */
static void expect_status(TestConn *tc, const char *name, uint32_t from, uint32_t irt)
{
        WireMsg m = tc_expect_msg(tc, &f, name, from);

        assert_int_equal(f.flags, 0);
        assert_int_equal(m.flags, KBUS_FLAG_SYNTHETIC);
        assert_int_equal(m.to, tc->id);
        assert_int_equal(m.irt_net, 0);
        assert_int_equal(m.irt_serial, irt);
        assert_int_equal(m.data_len, 0);
}

/* The next frame is the message [0:@serial] named @name from @from. */
static WireMsg expect_msg(TestConn *tc, const char *name, uint32_t from, uint32_t serial,
                          uint16_t frame_flags)
{
        WireMsg m = tc_expect_msg(tc, &f, name, from);

        assert_int_equal(f.flags, frame_flags);
        assert_int_equal(m.id_net, 0);
        assert_int_equal(m.id_serial, serial);
        return m;
}

/* semantics §7: when the sender is answered, the message is in every recipient's socket. */
static void test_recipients_written_first(void **state)
{
        TestConn *l1, *s, *l2;

        (void)state;
        l1 = tc_connect(&t, 1000, false);
        s = tc_connect(&t, 1001, true);
        l2 = tc_connect(&t, 1002, false);
        tc_bind(l1, "$.a", false, 0);
        tc_bind(l2, "$.*", false, 0);
        size_t from = t.nflushes;
        uint32_t serial = send_ok(s, "$.a", 0, 0, 0);
        size_t at_s = tc_flush_index(&t, s->id, from);
        assert_true(at_s != SIZE_MAX);
        assert_true(tc_flush_index(&t, l1->id, from) < at_s);
        assert_true(tc_flush_index(&t, l2->id, from) < at_s);
        WireMsg m = expect_msg(l1, "$.a", s->id, serial, 0);
        assert_int_equal(m.data_len, 4);
        assert_memory_equal(m.data, "data", 4);
        expect_msg(l2, "$.a", s->id, serial, 0);
        tc_expect_nothing(l1);
        tc_expect_nothing(l2);
        tc_expect_nothing(s);
}

/* semantics §8: every recipient sees the serial order, whoever sent. */
static void test_same_order(void **state)
{
        TestConn *l1, *l2, *s1, *s2;
        uint32_t serials[6];

        (void)state;
        l1 = tc_connect(&t, 1000, false);
        l2 = tc_connect(&t, 1000, false);
        s1 = tc_connect(&t, 1000, true);
        s2 = tc_connect(&t, 1000, true);
        tc_bind(l1, "$.a.*", false, 0);
        tc_bind(l2, "$.a.x", false, 0);
        tc_bind(l2, "$.a.y", false, 0);
        for (int i = 0; i < 6; i++)
                serials[i] = send_ok(i % 2 ? s1 : s2, i % 3 ? "$.a.x" : "$.a.y", 0, 0, 0);
        for (int i = 0; i < 6; i++) {
                uint32_t from = i % 2 ? s1->id : s2->id;
                const char *name = i % 3 ? "$.a.x" : "$.a.y";
                assert_int_equal(serials[i], (uint32_t)i + 1);
                expect_msg(l1, name, from, serials[i], 0);
                expect_msg(l2, name, from, serials[i], 0);
        }
        tc_expect_nothing(l1);
        tc_expect_nothing(l2);
}

/* A request to its replier (flagged), to listeners as a plain copy; the reply back. */
static void test_request_reply(void **state)
{
        TestConn *r, *l, *s;
        WireMsg m;

        (void)state;
        r = tc_connect(&t, 1000, true);
        l = tc_connect(&t, 1001, false);
        s = tc_connect(&t, 1002, true);
        tc_bind(r, "$.svc", true, 0);
        tc_bind(r, "$.svc", false, 0); /* replier copy first, then its listener copy */
        tc_bind(l, "$.svc", false, 0);
        send_fails(s, "$.nobody", KBUS_FLAG_WANT_A_REPLY, 0, 0, -EADDRNOTAVAIL);
        send_fails(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, s->id, 0, -EPIPE);
        uint32_t req = send_ok(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        assert_int_equal(req, 1); /* the failed sends used no id */
        m = expect_msg(r, "$.svc", s->id, req, FRAME_MSG_YOU_REPLY);
        assert_int_equal(m.flags, KBUS_FLAG_WANT_A_REPLY);
        expect_msg(r, "$.svc", s->id, req, 0);
        expect_msg(l, "$.svc", s->id, req, 0);
        tc_expect_nothing(r);

        /* a reply must answer a request r received, from the ksock in `to` */
        send_fails(r, "$.svc", 0, l->id, req, -ECONNREFUSED);
        send_fails(r, "$.svc", 0, s->id, req + 100, -ECONNREFUSED);
        send_fails(l, "$.svc", 0, s->id, req, -EBADF); /* read-only */
        tc_take(r, 1);
        ctl(r, CTL_UNREPLIED_TO, 0, 1);
        uint32_t rep = send_ok(r, "$.svc", 0, s->id, req);
        m = expect_msg(s, "$.svc", r->id, rep, 0);
        assert_int_equal(m.irt_serial, req);
        assert_int_equal(m.to, s->id);
        expect_msg(l, "$.svc", r->id, rep, 0); /* listeners of the name see it */
        tc_expect_nothing(r);                  /* not back to the replier */
        ctl(r, CTL_UNREPLIED_TO, 0, 0);
        send_fails(r, "$.svc", 0, s->id, req, -ECONNREFUSED); /* answered already */
        tc_expect_nothing(s);
        tc_expect_nothing(l);
}

/* semantics §9: Unbound, GoneAway and Ignored, each once, from the replier. */
static void test_replier_statuses(void **state)
{
        TestConn *r, *s;

        (void)state;
        r = tc_connect(&t, 1000, true);
        s = tc_connect(&t, 1001, true);
        tc_bind(r, "$.one", true, 0);
        tc_bind(r, "$.two", true, 0);
        uint32_t q1 = send_ok(s, "$.one", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        uint32_t q2 = send_ok(s, "$.two", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        uint32_t q3 = send_ok(s, "$.one", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_frame(r, FRAME_UNBIND, FRAME_BIND_REPLIER, "$.two", 5);
        tc_expect_msg(r, &f, "$.one", s->id);
        tc_expect_msg(r, &f, "$.two", s->id);
        tc_expect_msg(r, &f, "$.one", s->id);
        tc_expect_result(r, 0, 2, 0);
        expect_status(s, KBUS_MSG_NAME_REPLIER_UNBOUND, r->id, q2);
        tc_take(r, 1); /* q1 read, q3 not */
        tc_close(r);
        expect_status(s, KBUS_MSG_NAME_REPLIER_IGNORED, r->id, q1);
        expect_status(s, KBUS_MSG_NAME_REPLIER_GONEAWAY, r->id, q3);
        tc_expect_nothing(s);
        ctl(s, CTL_NUM_MESSAGES, 0, 3);
}

/* A requester that goes first: its reply is dropped, the replier told EADDRNOTAVAIL. */
static void test_requester_gone(void **state)
{
        TestConn *r, *s;

        (void)state;
        r = tc_connect(&t, 1000, true);
        s = tc_connect(&t, 1001, true);
        tc_bind(r, "$.svc", true, 0);
        uint32_t req = send_ok(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        uint32_t sid = s->id;
        tc_expect_msg(r, &f, "$.svc", sid);
        tc_close(s);
        tc_take(r, 1);
        send_fails(r, "$.svc", 0, sid, req, -EADDRNOTAVAIL);
        send_fails(r, "$.svc", 0, sid, req, -ECONNREFUSED); /* forgotten now */
        ctl(r, CTL_UNREPLIED_TO, 0, 0);
}

/* Each request reserves a place in its sender's queue: ENOLCK, and the status fits. */
static void test_reserved_place(void **state)
{
        TestConn *r, *s, *other;

        (void)state;
        r = tc_connect(&t, 1000, true);
        s = tc_connect(&t, 1001, true);
        other = tc_connect(&t, 1002, true);
        tc_bind(r, "$.svc", true, 0);
        tc_bind(s, "$.news", false, 0);
        ctl(s, CTL_MAX_MESSAGES, 2, 2);
        uint32_t req = send_ok(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        uint32_t news = send_ok(other, "$.news", 0, 0, 0); /* s: 1 queued + 1 reserved */
        send_ok(other, "$.news", 0, 0, 0);                  /* s misses it */
        expect_msg(s, "$.news", other->id, news, 0);
        tc_expect_nothing(s);
        send_fails(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0, -ENOLCK);
        tc_close(r);
        expect_status(s, KBUS_MSG_NAME_REPLIER_GONEAWAY, r->id, req);
        tc_expect_nothing(s);
}

/* A replier whose queue is full: EBUSY, and the request used an id. */
static void test_replier_full(void **state)
{
        TestConn *r, *s;

        (void)state;
        r = tc_connect(&t, 1000, true);
        s = tc_connect(&t, 1001, true);
        tc_bind(r, "$.svc", true, 0);
        ctl(r, CTL_MAX_MESSAGES, 1, 1);
        uint32_t first = send_ok(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        send_fails(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0, -EBUSY);
        uint32_t next = send_ok(s, "$.other", 0, 0, 0);
        assert_int_equal(next, first + 2);
}

/* A request to itself needs two places: its replier copy and the reply's. */
static void test_request_to_self(void **state)
{
        TestConn *a;

        (void)state;
        a = tc_connect(&t, 1000, true);
        tc_bind(a, "$.me", true, 0);
        ctl(a, CTL_MAX_MESSAGES, 1, 1);
        send_fails(a, "$.me", KBUS_FLAG_WANT_A_REPLY, 0, 0, -EBUSY);
        ctl(a, CTL_MAX_MESSAGES, 2, 2);
        tc_send(a, 0, "$.me", "data", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        expect_msg(a, "$.me", a->id, 2, FRAME_MSG_YOU_REPLY); /* the refused one used 1 */
        tc_expect_result(a, 0, 0, 2);
        send_fails(a, "$.me", KBUS_FLAG_WANT_A_REPLY, 0, 0, -ENOLCK);
        tc_take(a, 1);
        tc_send(a, 0, "$.me", "data", 0, a->id, 2);
        WireMsg m = expect_msg(a, "$.me", a->id, 3, 0);
        assert_int_equal(m.irt_serial, 2);
        tc_expect_result(a, 0, 0, 3);
        tc_expect_nothing(a);
}

/* ALL_OR_FAIL to a full listener: EBUSY, no id used, nobody gets it. */
static void test_all_or_fail(void **state)
{
        TestConn *full, *roomy, *s;

        (void)state;
        full = tc_connect(&t, 1000, false);
        roomy = tc_connect(&t, 1000, false);
        s = tc_connect(&t, 1001, true);
        tc_bind(full, "$.a", false, 0);
        tc_bind(roomy, "$.a", false, 0);
        ctl(full, CTL_MAX_MESSAGES, 1, 1);
        uint32_t first = send_ok(s, "$.a", 0, 0, 0);
        send_fails(s, "$.a", KBUS_FLAG_ALL_OR_FAIL, 0, 0, -EBUSY);
        uint32_t plain = send_ok(s, "$.a", 0, 0, 0); /* full misses it, roomy gets it */
        assert_int_equal(plain, first + 1);
        expect_msg(full, "$.a", s->id, first, 0);
        tc_expect_nothing(full);
        expect_msg(roomy, "$.a", s->id, first, 0);
        expect_msg(roomy, "$.a", s->id, plain, 0);
        tc_expect_nothing(roomy);
}

/*
 * ALL_OR_WAIT to a full listener, blocking: no answer until it has room;
 * meanwhile the sender may send nothing else (EALREADY); the message takes
 * its serial when it goes, and reaches the listener before its sender hears.
 */
static void test_all_or_wait_blocking(void **state)
{
        TestConn *l, *s, *other;

        (void)state;
        l = tc_connect(&t, 1000, false);
        s = tc_connect(&t, 1001, true);
        other = tc_connect(&t, 1002, true);
        tc_bind(l, "$.a", false, 0);
        ctl(l, CTL_MAX_MESSAGES, 1, 1);
        uint32_t first = send_ok(other, "$.a", 0, 0, 0);
        tc_send(s, FRAME_SEND_WAIT, "$.a", "held", KBUS_FLAG_ALL_OR_WAIT, 0, 0);
        tc_expect_nothing(s);
        send_fails(s, "$.b", 0, 0, 0, -EALREADY);
        uint32_t between = send_ok(other, "$.b", 0, 0, 0);
        tc_frame(s, FRAME_POKE, 0, NULL, 0); /* other requests are answered */
        tc_expect_frame(s, FRAME_NOP, 0, NULL, 0);
        expect_msg(l, "$.a", other->id, first, 0);
        tc_expect_nothing(l);

        size_t from = t.nflushes;
        tc_take(l, 1);
        size_t at_s = tc_flush_index(&t, s->id, from);
        assert_true(at_s != SIZE_MAX);
        assert_true(tc_flush_index(&t, l->id, from) < at_s);
        WireMsg m = expect_msg(l, "$.a", s->id, between + 1, 0);
        assert_memory_equal(m.data, "held", 4);
        tc_expect_result(s, 0, 0, between + 1);
        tc_expect_nothing(s);
}

/*
 * Two held sends that complete together, each the other's recipient: each
 * message is in its recipient's socket before its sender is told, which
 * takes completing them one at a time.
 */
static void test_held_sends_complete_in_turn(void **state)
{
        uint8_t takes[2 * (KBUS_FRAME_HDR_LEN + 4)];
        TestConn *l, *a, *b;

        (void)state;
        l = tc_connect(&t, 1000, false);
        a = tc_connect(&t, 1001, true);
        b = tc_connect(&t, 1002, true);
        tc_bind(l, "$.*", false, 0);
        tc_bind(a, "$.to-a", false, 0);
        tc_bind(b, "$.to-b", false, 0);
        ctl(l, CTL_MAX_MESSAGES, 2, 2);
        send_ok(a, "$.fill", 0, 0, 0);
        send_ok(a, "$.fill", 0, 0, 0);
        tc_send(a, FRAME_SEND_WAIT, "$.to-b", "from a", KBUS_FLAG_ALL_OR_WAIT, 0, 0);
        tc_send(b, FRAME_SEND_WAIT, "$.to-a", "from b", KBUS_FLAG_ALL_OR_WAIT, 0, 0);
        tc_expect_nothing(a);
        tc_expect_nothing(b);
        for (int i = 0; i < 2; i++) { /* l takes both at once: room for both */
                codec_header_encode(takes + i * 12, 12, FRAME_TAKE, 0);
                put_le32(takes + i * 12 + KBUS_FRAME_HDR_LEN, (uint32_t)i + 1);
        }
        size_t from = t.nflushes;
        tc_feed(l, takes, sizeof(takes));
        size_t a1 = tc_flush_index(&t, a->id, from), b1 = tc_flush_index(&t, b->id, from);
        size_t a2 = tc_flush_index(&t, a->id, a1 + 1), b2 = tc_flush_index(&t, b->id, b1 + 1);
        assert_true(b1 < a1); /* a's message to b, then a told */
        assert_true(a2 < b2); /* b's message to a, then b told */
        tc_expect_result(a, 0, 0, 3);
        expect_msg(a, "$.to-a", b->id, 4, 0);
        expect_msg(b, "$.to-b", a->id, 3, 0);
        tc_expect_result(b, 0, 0, 4);
        tc_expect_nothing(a);
        tc_expect_nothing(b);
}

/* Non-blocking ALL_OR_WAIT: EAGAIN now, DONE later; DISCARD drops it for good. */
static void test_all_or_wait_nonblocking(void **state)
{
        uint8_t done[DONE_LEN];
        TestConn *l, *s;

        (void)state;
        l = tc_connect(&t, 1000, false);
        s = tc_connect(&t, 1001, true);
        tc_bind(l, "$.a", false, 0);
        ctl(l, CTL_MAX_MESSAGES, 1, 1);
        uint32_t first = send_ok(s, "$.a", 0, 0, 0);
        send_fails(s, "$.a", KBUS_FLAG_ALL_OR_WAIT, 0, 0, -EAGAIN);
        tc_frame(s, FRAME_DISCARD, 0, NULL, 0);
        tc_expect_result(s, 0, 0, 0);
        send_fails(s, "$.a", KBUS_FLAG_ALL_OR_WAIT, 0, 0, -EAGAIN);
        expect_msg(l, "$.a", s->id, first, 0);
        tc_take(l, 1);
        expect_msg(l, "$.a", s->id, first + 1, 0); /* the discarded one never went */
        tc_expect_nothing(l);
        codec_result_encode(done, &(Result){ .status = 0, .value0 = 0, .value1 = first + 1 });
        tc_expect_frame(s, FRAME_DONE, 0, done, sizeof(done));
        tc_expect_nothing(s);
}

/* A held request whose replier goes: the send completes, with Disappeared. */
static void test_held_request_disappeared(void **state)
{
        TestConn *r, *s;

        (void)state;
        r = tc_connect(&t, 1000, true);
        s = tc_connect(&t, 1001, true);
        tc_bind(r, "$.svc", true, 0);
        ctl(r, CTL_MAX_MESSAGES, 1, 1);
        uint32_t first = send_ok(s, "$.svc", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_send(s, FRAME_SEND_WAIT, "$.svc", "x", KBUS_FLAG_WANT_A_REPLY | KBUS_FLAG_ALL_OR_WAIT,
                0, 0);
        tc_expect_nothing(s);
        tc_close(r); /* first was not read: GoneAway; the held one: Disappeared */
        expect_status(s, KBUS_MSG_NAME_REPLIER_GONEAWAY, r->id, first);
        expect_status(s, KBUS_MSG_NAME_REPLIER_DISAPPEARED, 0, first + 2);
        tc_expect_result(s, 0, 0, first + 2);
        tc_expect_nothing(s);
}

/* semantics §10: one copy per message for a ksock that asks, the replier's copy first. */
static void test_only_once(void **state)
{
        TestConn *a, *s;

        (void)state;
        a = tc_connect(&t, 1000, true);
        s = tc_connect(&t, 1001, true);
        tc_bind(a, "$.a", false, 0);
        tc_bind(a, "$.*", false, 0);
        tc_bind(a, "$.a", true, 0);
        uint32_t n1 = send_ok(s, "$.a", 0, 0, 0);
        expect_msg(a, "$.a", s->id, n1, 0);
        expect_msg(a, "$.a", s->id, n1, 0);
        tc_expect_nothing(a);
        ctl(a, CTL_ONLY_ONCE, 1, 0);
        uint32_t n2 = send_ok(s, "$.a", 0, 0, 0);
        expect_msg(a, "$.a", s->id, n2, 0);
        tc_expect_nothing(a);
        uint32_t q = send_ok(s, "$.a", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        expect_msg(a, "$.a", s->id, q, FRAME_MSG_YOU_REPLY);
        tc_expect_nothing(a);
        /* the reply is s's one copy even if s also listens */
        tc_bind(s, "$.a", false, 0);
        ctl(s, CTL_ONLY_ONCE, 1, 0);
        tc_take(a, 1);
        tc_take(a, 2);
        tc_take(a, 3);
        tc_take(a, 4);
        uint32_t rep = send_ok(a, "$.a", 0, s->id, q);
        expect_msg(s, "$.a", a->id, rep, 0);
        tc_expect_nothing(s);
}

/* Bind event data: is_bind, binder, name_len, the name and zeros to a multiple of 4. */
static void expect_bind_event(TestConn *tc, bool is_bind, uint32_t binder, const char *name)
{
        WireMsg m = tc_expect_msg(tc, &f, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0);
        uint32_t head[3], len = (uint32_t)strlen(name);

        assert_int_equal(m.flags, KBUS_FLAG_SYNTHETIC);
        /* the name is padded as in a message: NUL-terminated, to 4 bytes */
        assert_int_equal(m.data_len, BIND_EVENT_FIXED_LEN + ((len + 4) & ~3u));
        memcpy(head, m.data, sizeof(head));
        assert_int_equal(head[0], is_bind);
        assert_int_equal(head[1], binder);
        assert_int_equal(head[2], len);
        assert_memory_equal(m.data + BIND_EVENT_FIXED_LEN, name, len);
        for (uint32_t i = BIND_EVENT_FIXED_LEN + len; i < m.data_len; i++)
                assert_int_equal(m.data[i], 0);
}

/* semantics §11: binds refused while an event listener is full, unbinds set aside. */
static void test_bind_events(void **state)
{
        TestConn *e, *r;

        (void)state;
        e = tc_connect(&t, 1000, false);
        r = tc_connect(&t, 1001, true);
        tc_bind(r, "$.quiet", true, 0); /* nobody asked: no event */
        ctl(e, CTL_REPORT_BINDS, 1, 0);
        tc_bind(e, KBUS_MSG_NAME_REPLIER_BIND_EVENT, false, 0);
        ctl(e, CTL_MAX_MESSAGES, 1, 1);
        tc_bind(r, "$.r1", true, 0);
        tc_bind(r, "$.r2", true, -EAGAIN); /* e is full */
        tc_frame(r, FRAME_REPLIER, 0, "$.r2", 4);
        tc_expect_result(r, 0, 0, 0); /* and the bind was not made */
        tc_frame(r, FRAME_UNBIND, FRAME_BIND_REPLIER, "$.r1", 4);
        tc_expect_result(r, 0, 2, 0); /* unbinding succeeds; its event is set aside */
        expect_bind_event(e, true, r->id, "$.r1");
        tc_expect_nothing(e);
        tc_take(e, 1);
        expect_bind_event(e, false, r->id, "$.r1");
        tc_expect_nothing(e);
        tc_take(e, 2);
        tc_close(r); /* $.quiet unbound: announced */
        expect_bind_event(e, false, r->id, "$.quiet");
        tc_expect_nothing(e);
}

/* Past 1000 set aside on a bus, events are dropped and one UnbindEventsLost follows. */
static void test_unbind_events_lost(void **state)
{
        enum { N = 1003 };
        TestConn *e, *r, *filler;
        char name[32];

        (void)state;
        e = tc_connect(&t, 1000, false);
        r = tc_connect(&t, 1001, true);
        filler = tc_connect(&t, 1001, true);
        for (int i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "$.n%d", i);
                tc_bind(r, name, true, 0);
        }
        ctl(e, CTL_REPORT_BINDS, 1, 0);
        tc_bind(e, KBUS_MSG_NAME_REPLIER_BIND_EVENT, false, 0);
        ctl(e, CTL_MAX_MESSAGES, 1, 1);
        tc_bind(filler, "$.f", true, 0);
        expect_bind_event(e, true, filler->id, "$.f");
        tc_close(r);
        tc_expect_nothing(e);
        for (uint64_t seq = 1; seq <= 1000; seq++) {
                tc_take(e, seq);
                snprintf(name, sizeof(name), "$.n%d", (int)seq - 1);
                expect_bind_event(e, false, r->id, name);
                tc_expect_nothing(e);
        }
        tc_take(e, 1001);
        WireMsg m = tc_expect_msg(e, &f, KBUS_MSG_NAME_UNBIND_EVENTS_LOST, 0);
        assert_int_equal(m.data_len, 0);
        tc_expect_nothing(e);
        tc_take(e, 1002);
        tc_bind(filler, "$.g", true, 0);
        expect_bind_event(e, true, filler->id, "$.g");
        tc_expect_nothing(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_recipients_written_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_same_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replier_statuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_requester_gone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reserved_place, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replier_full, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_to_self, setup, teardown),
                cmocka_unit_test_setup_teardown(test_all_or_fail, setup, teardown),
                cmocka_unit_test_setup_teardown(test_all_or_wait_blocking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_held_sends_complete_in_turn, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_all_or_wait_nonblocking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_held_request_disappeared, setup, teardown),
                cmocka_unit_test_setup_teardown(test_only_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unbind_events_lost, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
