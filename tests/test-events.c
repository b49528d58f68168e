/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-events.c - replier bind events (semantics §11), against a real kbusd.
 *
 * While at least one ksock has switched reporting on, every replier bind and
 * unbind (explicit, or implied by the replier's close) is announced as a
 * $.KBUS.ReplierBindEvent to the listeners of that name; listener binds are
 * never announced.  The switch answers with the state of the asking ksock
 * before the call.  A replier bind that can't be announced because an event
 * listener is full fails with EAGAIN and is not made; an unbind that can't
 * be announced is set aside and delivered, in order, when the listener
 * makes room; past 1000 set aside on the bus the rest are dropped and one
 * $.KBUS.UnbindEventsLost follows the set-aside ones.
 *
 * Each test gets its own kbusd (the bus-wide reporting state and the
 * set-aside store must start empty).  Events are made inside the bind,
 * unbind or close that causes them, so after a bind or unbind returns the
 * listener's num_messages is exact; after a close, the test waits for the
 * event itself, or asks find_replier until kbusd has settled the close.
 */
#include <errno.h>
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

#define EV KBUS_MSG_NAME_REPLIER_BIND_EVENT
#define ASK 0xFFFFFFFFu

/* ---- helpers ------------------------------------------------------------ */

/* A listener of the event name with reporting switched on (it was off). */
static kbus_ksock_t event_listener(void)
{
        kbus_ksock_t w = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(w, EV, 0), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 1), 0);
        return w;
}

/* @m is the event {is_bind, binder, name}, made by kbusd, data as §11 says. */
static void check_event(const kbus_message_t *m, uint32_t is_bind, uint32_t binder,
                        const char *name)
{
        uint32_t got_bind = 99, got_binder = 0;
        char *got_name = NULL;
        uint32_t len = (uint32_t)strlen(name);

        assert_string_equal(kbus_msg_name_ptr(m), EV);
        assert_int_equal(m->from, 0);
        assert_int_equal(m->in_reply_to.serial_num, 0);
        assert_int_equal(m->flags & KBUS_BIT_WANT_A_REPLY, 0);
        assert_int_equal(m->data_len, 12 + ((len + 4) & ~3u));
        assert_int_equal(kbus_msg_split_bind_event(m, &got_bind, &got_binder, &got_name), 0);
        assert_int_equal(got_bind, is_bind);
        assert_int_equal(got_binder, binder);
        assert_string_equal(got_name, name);
        free(got_name);
        const uint8_t *d = kbus_msg_data_ptr(m);
        for (uint32_t i = 12 + len; i < m->data_len; i++)
                assert_int_equal(d[i], 0);
}

static void take_event(kbus_ksock_t ks, uint32_t is_bind, uint32_t binder, const char *name)
{
        kbus_message_t *m = kt_take(ks);

        check_event(m, is_bind, binder, name);
        kbus_msg_delete(&m);
}

static void wait_event(kbus_ksock_t ks, uint32_t is_bind, uint32_t binder, const char *name)
{
        kbus_message_t *m = kt_wait_msg(ks);

        check_event(m, is_bind, binder, name);
        kbus_msg_delete(&m);
}

/* ---- tests -------------------------------------------------------------- */

/* Nobody asked: replier binds and unbinds are not announced. */
static void test_off_by_default(void **state)
{
        (void)state;
        kbus_ksock_t w = kt_open_rw(), r = kt_open_rw();

        assert_int_equal(kbus_ksock_bind(w, EV, 0), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(r, ASK), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.Off", 1), 0);
        assert_int_equal(kt_num_messages(w), 0);
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.Off", 1), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.Off2", 1), 0);
        assert_int_equal(kbus_ksock_close(r), 0);
        kt_wait_replier_gone(w, "$.Ev.Off2");
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(w);
}

/* The switch returns the state before; asking changes nothing (semantics §5). */
static void test_switch(void **state)
{
        (void)state;
        kbus_ksock_t w = kt_open_rw();

        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 1), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 1), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 2), -EINVAL);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 0), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 0), 0);
        kbus_ksock_close(w);
}

/* Bind, unbind, and the unbind implied by a close, each announced once. */
static void test_bind_unbind_close(void **state)
{
        (void)state;
        kbus_ksock_t w = event_listener(), r = kt_open_rw();
        uint32_t rid = kt_id(r);

        assert_int_equal(kbus_ksock_bind(r, "$.Ev.One", 1), 0);
        assert_int_equal(kt_num_messages(w), 1);
        take_event(w, 1, rid, "$.Ev.One");
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.One", 1), 0);
        assert_int_equal(kt_num_messages(w), 1);
        take_event(w, 0, rid, "$.Ev.One");
        /* Names of every padding length, and a wildcard binding. */
        const char *names[] = { "$.Ev.Two", "$.Ev.Three", "$.Ev.Fours", "$.Ev.Fives1", "$.Ev.*" };
        for (int i = 0; i < 5; i++) {
                assert_int_equal(kbus_ksock_bind(r, names[i], 1), 0);
                take_event(w, 1, rid, names[i]);
        }
        assert_int_equal(kbus_ksock_close(r), 0);
        for (int i = 0; i < 5; i++) {
                /* semantics §11 promises no order within one close. */
                kbus_message_t *m = kt_wait_msg(w);
                uint32_t b, who;
                char *name;
                int j;
                assert_int_equal(kbus_msg_split_bind_event(m, &b, &who, &name), 0);
                for (j = 0; j < 5; j++)
                        if (names[j] && strcmp(name, names[j]) == 0)
                                break;
                assert_true(j < 5);
                check_event(m, 0, rid, names[j]);
                names[j] = NULL;
                free(name);
                kbus_msg_delete(&m);
        }
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(w);
}

/* Listener binds, unbinds and closes are never announced. */
static void test_listener_binds_silent(void **state)
{
        (void)state;
        kbus_ksock_t w = event_listener(), r = kt_open_rw();
        uint32_t rid = kt_id(r);

        assert_int_equal(kbus_ksock_bind(r, "$.Ev.L", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.%", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, EV, 0), 0);
        assert_int_equal(kt_num_messages(w), 0);
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.L", 0), 0);
        assert_int_equal(kt_num_messages(w), 0);
        /* One replier binding, so that its close is seen: only it is announced. */
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.Mark", 1), 0);
        take_event(w, 1, rid, "$.Ev.Mark");
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.L", 0), 0);
        assert_int_equal(kbus_ksock_close(r), 0);
        wait_event(w, 0, rid, "$.Ev.Mark");
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(w);
}

/* A full event listener refuses a replier bind: EAGAIN, and not bound. */
static void test_bind_refused_when_full(void **state)
{
        (void)state;
        kbus_ksock_t w = event_listener(), r = kt_open_rw(), q = kt_open_rw();
        uint32_t rid = kt_id(r);
        kbus_message_t *req;

        kt_set_max(w, 1);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.F1", 1), 0);
        assert_int_equal(kt_num_messages(w), 1); /* full now */
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.F2", 1), -EAGAIN);
        assert_int_equal(kt_replier_of(q, "$.Ev.F2"), 0);
        assert_int_equal(kbus_msg_create_request(&req, "$.Ev.F2", 7, NULL, 0, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(q, req, NULL), -EADDRNOTAVAIL);
        /* Not made, so there is nothing to unbind. */
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.F2", 1), -EINVAL);
        /* Listener binds are not announced, so they are not refused. */
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.F2", 0), 0);
        assert_int_equal(kt_num_messages(w), 1);

        take_event(w, 1, rid, "$.Ev.F1");
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.F2", 1), 0);
        assert_int_equal(kt_replier_of(q, "$.Ev.F2"), rid);
        take_event(w, 1, rid, "$.Ev.F2");
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_msg_delete(&req);
        kbus_ksock_close(q);
        kbus_ksock_close(r);
        kbus_ksock_close(w);
}

/* Unbinds a full listener can't take are set aside, then delivered in order. */
static void test_unbinds_set_aside(void **state)
{
        (void)state;
        kbus_ksock_t w = event_listener(), s = kt_open_rw(), r[3];
        const char *names[3] = { "$.Ev.S1", "$.Ev.S2", "$.Ev.S3" };
        uint32_t rid[3];
        kbus_message_t *m;

        assert_int_equal(kbus_ksock_bind(w, "$.Ev.Fill", 0), 0);
        for (int i = 0; i < 3; i++) {
                r[i] = kt_open_rw();
                rid[i] = kt_id(r[i]);
                assert_int_equal(kbus_ksock_bind(r[i], names[i], 1), 0);
                take_event(w, 1, rid[i], names[i]);
        }
        kt_set_max(w, 1);
        kt_send(s, "$.Ev.Fill", "x", 0);
        assert_int_equal(kt_num_messages(w), 1);

        assert_int_equal(kbus_ksock_unbind(r[0], names[0], 1), 0);
        assert_int_equal(kbus_ksock_close(r[1]), 0); /* the implied unbind */
        kt_wait_replier_gone(s, names[1]);
        assert_int_equal(kbus_ksock_unbind(r[2], names[2], 1), 0);
        /* the queued one and the three set aside, as the kernel module counted */
        assert_int_equal(kt_num_messages(w), 4);

        m = kt_take(w);
        assert_string_equal(kbus_msg_name_ptr(m), "$.Ev.Fill");
        kbus_msg_delete(&m);
        for (int i = 0; i < 3; i++)
                wait_event(w, 0, rid[i], names[i]);
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(r[0]);
        kbus_ksock_close(r[2]);
        kbus_ksock_close(s);
        kbus_ksock_close(w);
}

/*
 * The set-aside events are in the queue by the next read after the take that
 * made room, without waiting, as with the kernel module's NEXTMSG: the take
 * that frees a place a set-aside event waits for makes the library wait for
 * kbusd to act (a WAKE with SYNC), not just tell it.
 */
static void test_set_aside_ready_at_next_read(void **state)
{
        (void)state;
        kbus_ksock_t w = event_listener(), s = kt_open_rw();
        const char *name = "$.Ev.Next";

        assert_int_equal(kbus_ksock_bind(w, "$.Ev.Fill", 0), 0);
        kt_set_max(w, 1);
        for (int round = 0; round < 50; round++) {
                kbus_ksock_t r = kt_open_rw();
                uint32_t rid = kt_id(r);
                assert_int_equal(kbus_ksock_bind(r, name, 1), 0);
                take_event(w, 1, rid, name);
                kt_send(s, "$.Ev.Fill", "x", 0);
                assert_int_equal(kbus_ksock_unbind(r, name, 1), 0); /* set aside: w is full */
                kbus_message_t *m = kt_take(w);
                assert_string_equal(kbus_msg_name_ptr(m), "$.Ev.Fill");
                kbus_msg_delete(&m);
                take_event(w, 0, rid, name); /* at once: no waiting */
                kbus_ksock_close(r);
        }
        kbus_ksock_close(s);
        kbus_ksock_close(w);
}

#define LOTS 1005
#define SET_ASIDE_MAX 1000

static void lots_name(char *buf, size_t len, int i)
{
        snprintf(buf, len, "$.Ev.Lots.N%04d", i);
}

/*
 * Binds LOTS replier names on @r while nobody reports, then makes @w (the
 * reporting event listener) full.
 */
static kbus_ksock_t lots_prepare(kbus_ksock_t r, kbus_ksock_t s)
{
        kbus_ksock_t w = kt_open_rw();
        char name[32];

        for (int i = 0; i < LOTS; i++) {
                lots_name(name, sizeof(name), i);
                assert_int_equal(kbus_ksock_bind(r, name, 1), 0);
        }
        assert_int_equal(kbus_ksock_bind(w, EV, 0), 0);
        assert_int_equal(kbus_ksock_bind(w, "$.Ev.Fill", 0), 0);
        assert_int_equal(kt_num_messages(w), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, 1), 0);
        kt_set_max(w, 1);
        kt_send(s, "$.Ev.Fill", "x", 0);
        assert_int_equal(kt_num_messages(w), 1);
        return w;
}

/* Drains @w: the filler, then (up to) 1000 events, then UnbindEventsLost.
 * @seen[i] counts event i; with @in_order they must come 0, 1, 2... */
static void lots_drain(kbus_ksock_t w, uint32_t rid, int in_order, int *seen)
{
        kbus_message_t *m = kt_take(w);
        char name[32];

        assert_string_equal(kbus_msg_name_ptr(m), "$.Ev.Fill");
        kbus_msg_delete(&m);
        for (int n = 0; n < SET_ASIDE_MAX; n++) {
                uint32_t b, who;
                char *got;
                int i;
                m = kt_wait_msg(w);
                assert_int_equal(kbus_msg_split_bind_event(m, &b, &who, &got), 0);
                assert_int_equal(sscanf(got, "$.Ev.Lots.N%d", &i), 1);
                free(got);
                assert_true(i >= 0 && i < LOTS);
                if (in_order)
                        assert_int_equal(i, n);
                lots_name(name, sizeof(name), i);
                check_event(m, 0, rid, name);
                seen[i]++;
                kbus_msg_delete(&m);
        }
        m = kt_wait_msg(w);
        assert_string_equal(kbus_msg_name_ptr(m), KBUS_MSG_NAME_UNBIND_EVENTS_LOST);
        assert_int_equal(m->data_len, 0);
        assert_int_equal(m->from, 0);
        kbus_msg_delete(&m);
        kt_expect_quiet(w, KT_QUIET_MS);
}

/* More than 1000 explicit unbinds for a full listener. */
static void test_events_lost(void **state)
{
        (void)state;
        kbus_ksock_t r = kt_open_rw(), s = kt_open_rw();
        kbus_ksock_t w = lots_prepare(r, s);
        uint32_t rid = kt_id(r);
        int seen[LOTS] = { 0 };
        char name[32];

        for (int i = 0; i < LOTS; i++) {
                lots_name(name, sizeof(name), i);
                assert_int_equal(kbus_ksock_unbind(r, name, 1), 0);
        }
        assert_int_equal(kt_num_messages(w), 1 + SET_ASIDE_MAX + 1); /* filler, events, lost */
        lots_drain(w, rid, 1, seen);
        for (int i = 0; i < LOTS; i++)
                assert_int_equal(seen[i], i < SET_ASIDE_MAX ? 1 : 0);

        /* Back to normal: the next unbind is announced at once. */
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.Again", 1), 0);
        take_event(w, 1, rid, "$.Ev.Again");
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.Again", 1), 0);
        take_event(w, 0, rid, "$.Ev.Again");
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(r);
        kbus_ksock_close(s);
        kbus_ksock_close(w);
}

/* The same through a close: 1005 implied unbinds at once. */
static void test_events_lost_on_close(void **state)
{
        (void)state;
        kbus_ksock_t r = kt_open_rw(), s = kt_open_rw();
        kbus_ksock_t w = lots_prepare(r, s);
        uint32_t rid = kt_id(r);
        int seen[LOTS] = { 0 }, total = 0;
        char name[32];

        assert_int_equal(kbus_ksock_close(r), 0);
        lots_name(name, sizeof(name), LOTS - 1);
        kt_wait_replier_gone(s, name);
        assert_int_equal(kt_num_messages(w), 1 + SET_ASIDE_MAX + 1);
        lots_drain(w, rid, 0, seen);
        for (int i = 0; i < LOTS; i++) {
                assert_true(seen[i] <= 1);
                total += seen[i];
        }
        assert_int_equal(total, SET_ASIDE_MAX);
        kbus_ksock_close(s);
        kbus_ksock_close(w);
}

/* Switched off by the only reporting ksock: no more events. */
static void test_switch_off_stops(void **state)
{
        (void)state;
        kbus_ksock_t w = event_listener(), r = kt_open_rw();
        uint32_t rid = kt_id(r);

        assert_int_equal(kbus_ksock_bind(r, "$.Ev.A", 1), 0);
        take_event(w, 1, rid, "$.Ev.A");
        assert_int_equal(kbus_ksock_report_replier_binds(w, 0), 1);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.B", 1), 0);
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.A", 1), 0);
        assert_int_equal(kt_num_messages(w), 0);
        assert_int_equal(kbus_ksock_close(r), 0);
        kt_wait_replier_gone(w, "$.Ev.B");
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(w);
}

/*
 * The state is per ksock: each answers for itself; events flow while any
 * ksock (not necessarily a listener) has asked, and stop when the last one
 * switches off or closes.
 */
static void test_state_per_ksock(void **state)
{
        (void)state;
        kbus_ksock_t w = kt_open_rw(), x = kt_open_rw(), y = kt_open_rw(), r = kt_open_rw();
        uint32_t rid = kt_id(r);

        assert_int_equal(kbus_ksock_bind(w, EV, 0), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(x, 1), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(y, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(x, ASK), 1);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.P1", 1), 0);
        take_event(w, 1, rid, "$.Ev.P1");

        assert_int_equal(kbus_ksock_report_replier_binds(y, 1), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(x, 0), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(x, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(y, ASK), 1);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.P2", 1), 0); /* y still asks */
        take_event(w, 1, rid, "$.Ev.P2");

        /* The last reporter goes away: silence. */
        uint32_t yid = kt_id(y);
        assert_int_equal(kbus_ksock_bind(y, "$.Ev.YMark", 1), 0);
        take_event(w, 1, yid, "$.Ev.YMark");
        assert_int_equal(kbus_ksock_close(y), 0);
        kt_wait_replier_gone(w, "$.Ev.YMark"); /* announced or not: semantics §11 leaves it open */
        kbus_message_t *m = NULL;
        assert_int_equal(kbus_ksock_read_next_msg(w, &m), 0);
        if (m)
                check_event(m, 0, yid, "$.Ev.YMark");
        kbus_msg_delete(&m);
        assert_int_equal(kbus_ksock_bind(r, "$.Ev.P3", 1), 0);
        assert_int_equal(kbus_ksock_unbind(r, "$.Ev.P1", 1), 0);
        assert_int_equal(kt_num_messages(w), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(x, ASK), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(w, ASK), 0);
        kt_expect_quiet(w, KT_QUIET_MS);
        kbus_ksock_close(w);
        kbus_ksock_close(x);
        kbus_ksock_close(r);
}

int main(void)
{
        alarm(120);
        const struct CMUnitTest tests[] = {
                KT_TEST(test_off_by_default),
                KT_TEST(test_switch),
                KT_TEST(test_bind_unbind_close),
                KT_TEST(test_listener_binds_silent),
                KT_TEST(test_bind_refused_when_full),
                KT_TEST(test_unbinds_set_aside),
                KT_TEST(test_set_aside_ready_at_next_read),
                KT_TEST(test_events_lost),
                KT_TEST(test_events_lost_on_close),
                KT_TEST(test_switch_off_stops),
                KT_TEST(test_state_per_ksock),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
