/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-limpet.c - the Limpet API (include/kbus/limpet.h) against a real
 * kbusd with two buses: Limpet 1 on bus 0 and Limpet 2 on bus 1, joined in
 * this process by pump(), which does what kbus-limpet does with a socket
 * between them: read from one bus, amend, put through the link's bytes,
 * amend, send on the other bus (or send the error back).  Then the link
 * codec alone: byte order, partial input, and malformed input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include "kbus-test.h"
#include "kbus/kbus.h"
#include "kbus/limpet.h"

typedef struct Side {
        kbus_ksock_t ks;
        kbus_limpet_context_t *ctx;
} Side;

typedef struct Pair {
        Kbusd k;
        Side side[2]; /* [0] on bus 0, network id 1; [1] on bus 1, network id 2 */
} Pair;

static Pair pair;

/* Through the link's bytes, as kbus-limpet sends them. */
static kbus_message_t *over_the_link(const kbus_message_t *msg)
{
        kbus_message_t *got;
        uint8_t *bytes;
        size_t len, used;

        assert_int_equal(kbus_limpet_msg_to_link(msg, &bytes, &len), 0);
        assert_int_equal(kbus_limpet_msg_from_link(bytes, len - 1, &got, &used), 0);
        assert_null(got); /* one byte short: not yet */
        assert_int_equal(kbus_limpet_msg_from_link(bytes, len, &got, &used), 0);
        assert_int_equal(used, len);
        free(bytes);
        return got;
}

/* @msg arrived at side @to from the link: amend it and send it on its bus. */
static void deliver(int to, kbus_message_t *msg)
{
        Side *s = &pair.side[to];
        kbus_message_t *error = NULL;
        int r = kbus_limpet_amend_msg_to_kbus(s->ctx, msg, &error);

        assert_true(r >= 0 && r <= 2);
        if (r == 0) {
                int sent = kbus_ksock_send_msg(s->ks, msg, NULL);
                if (sent < 0) {
                        r = kbus_limpet_could_not_send_to_kbus_msg(s->ctx, msg, sent, &error);
                        assert_true(r == 0 || r == 1);
                }
        }
        if (error) { /* back over the link, to the other side's bus */
                kbus_message_t *back = over_the_link(error);
                kbus_msg_delete(&error);
                deliver(!to, back);
                kbus_msg_delete(&back);
        }
}

/* Moves everything waiting on either Limpet's ksock across, until both are quiet. */
static void pump(void)
{
        for (int moved = 1; moved;) {
                moved = 0;
                for (int from = 0; from < 2; from++) {
                        kbus_message_t *msg;
                        assert_int_equal(kbus_ksock_read_next_msg(pair.side[from].ks, &msg), 0);
                        if (!msg)
                                continue;
                        moved = 1;
                        if (kbus_limpet_amend_msg_from_kbus(pair.side[from].ctx, msg) == 0) {
                                kbus_message_t *across = over_the_link(msg);
                                deliver(!from, across);
                                kbus_msg_delete(&across);
                        }
                        kbus_msg_delete(&msg);
                }
        }
}

static int pair_setup(void **state)
{
        static const char *const args[] = { "--buses", "2", NULL };
        (void)state;

        if (kbusd_start(&pair.k, args) < 0)
                return -1;
        for (int i = 0; i < 2; i++) {
                pair.side[i].ks = kbus_ksock_open((uint32_t)i, O_RDWR);
                if (pair.side[i].ks < 0 ||
                    kbus_limpet_new_context(pair.side[i].ks, (uint32_t)i + 1, 2 - (uint32_t)i,
                                            "$.*", 0, &pair.side[i].ctx) < 0)
                        return -1;
        }
        return 0;
}

static int pair_teardown(void **state)
{
        (void)state;
        for (int i = 0; i < 2; i++) {
                kbus_limpet_free_context(&pair.side[i].ctx);
                kbus_ksock_close(pair.side[i].ks);
        }
        return kbusd_stop(&pair.k);
}

static void test_announcement_crosses(void **state)
{
        (void)state;
        kbus_ksock_t sender = kt_open(0, O_RDWR), listener = kt_open(1, O_RDWR);

        assert_int_equal(kbus_ksock_bind(listener, "$.Lim.Hello", 0), 0);
        kbus_msg_id_t id = kt_send(sender, "$.Lim.Hello", "hi", 0);
        pump();
        kbus_message_t *got = kt_take(listener);
        assert_string_equal(kbus_msg_name_ptr(got), "$.Lim.Hello");
        assert_int_equal(got->id.network_id, 1); /* Limpet 1 named it */
        assert_int_equal(got->id.serial_num, id.serial_num);
        assert_int_equal(got->orig_from.network_id, 1);
        assert_int_equal(got->orig_from.local_id, kt_id(sender));
        assert_int_equal(got->from, kt_id(pair.side[1].ks));
        kbus_msg_delete(&got);
        pump(); /* Limpet 2 heard its own send: not passed back */
        kt_expect_quiet(sender, KT_QUIET_MS);
        KT_CLOSE(sender, listener);
}

static void test_request_and_reply_cross(void **state)
{
        (void)state;
        kbus_ksock_t asker = kt_open(0, O_RDWR), replier = kt_open(1, O_RDWR);

        assert_int_equal(kbus_ksock_bind(replier, "$.Lim.Ask", 1), 0);
        pump(); /* the bind event: Limpet 1 becomes proxy replier on bus 0 */
        assert_int_equal(kt_replier_of(asker, "$.Lim.Ask"), kt_id(pair.side[0].ks));

        kbus_msg_id_t id = kt_send(asker, "$.Lim.Ask", "q", KBUS_BIT_WANT_A_REPLY);
        pump();
        kbus_message_t *req = kt_take(replier);
        assert_true(kbus_msg_wants_us_to_reply(req));
        assert_int_equal(req->id.network_id, 1);
        assert_int_equal(req->id.serial_num, id.serial_num);
        kt_reply(replier, req, "a", 0);
        pump();
        kbus_message_t *rep = kt_take(asker);
        assert_true(kbus_msg_is_reply(rep));
        assert_int_equal(rep->in_reply_to.network_id, 0); /* the id bus 0 gave */
        assert_int_equal(rep->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(rep->from, kt_id(pair.side[0].ks));
        assert_int_equal(rep->orig_from.network_id, 2);
        assert_int_equal(rep->orig_from.local_id, kt_id(replier));
        assert_memory_equal(kbus_msg_data_ptr(rep), "a", 1);

        /* A stateful request to that very replier, through final_to. */
        kbus_message_t *st;
        assert_int_equal(kbus_msg_create_stateful_request(&st, rep, "$.Lim.Ask", 9, "s", 1, 0), 0);
        assert_int_equal(st->final_to.network_id, 2);
        assert_int_equal(kbus_ksock_send_msg(asker, st, NULL), 0);
        pump();
        kbus_message_t *got = kt_take(replier);
        assert_true(kbus_msg_is_stateful_request(got) && kbus_msg_wants_us_to_reply(got));
        assert_int_equal(got->to, kt_id(replier));
        kt_reply(replier, got, "b", 0);
        pump();
        kbus_msg_delete(&got);
        got = kt_take(asker);
        assert_memory_equal(kbus_msg_data_ptr(got), "b", 1);
        kbus_msg_delete(&got);

        /* Another replier now: the stateful request gets NotSameKsock. */
        kbus_ksock_t other = kt_open(1, O_RDWR);
        kt_close(replier);
        kt_wait_replier_gone(other, "$.Lim.Ask"); /* kbusd has acted on the close */
        pump();
        assert_int_equal(kt_replier_of(asker, "$.Lim.Ask"), 0); /* the proxy went too */
        assert_int_equal(kbus_ksock_bind(other, "$.Lim.Ask", 1), 0);
        pump();
        assert_int_equal(kbus_ksock_send_msg(asker, st, &id), 0);
        pump();
        got = kt_take(asker);
        assert_string_equal(kbus_msg_name_ptr(got), KBUS_MSG_NOT_SAME_KSOCK);
        assert_int_equal(got->in_reply_to.network_id, 0);
        assert_int_equal(got->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(got->from, kt_id(pair.side[0].ks)); /* relayed by Limpet 1 */
        assert_int_equal(got->flags & KBUS_BIT_SYNTHETIC, 0);
        kbus_msg_delete(&got);
        kt_expect_quiet(other, 0);
        kbus_msg_delete(&st);
        kbus_msg_delete(&rep);
        kbus_msg_delete(&req);
        KT_CLOSE(asker, other);
}

static void test_request_that_fails_on_the_far_bus(void **state)
{
        (void)state;
        kbus_ksock_t asker = kt_open(0, O_RDWR), replier = kt_open(1, O_RDWR);
        kbus_ksock_t filler = kt_open(1, O_RDWR);

        assert_int_equal(kbus_ksock_bind(replier, "$.Lim.Full", 1), 0);
        assert_int_equal(kbus_ksock_bind(replier, "$.Lim.Fill", 0), 0);
        kt_set_max(replier, 1);
        kt_send(filler, "$.Lim.Fill", NULL, 0); /* the replier's queue is full now */
        pump();
        kbus_msg_id_t id = kt_send(asker, "$.Lim.Full", NULL, KBUS_BIT_WANT_A_REPLY);
        pump(); /* on bus 1: EBUSY, so Limpet 2 sends RemoteError back */
        kbus_message_t *got = kt_take(asker);
        assert_string_equal(kbus_msg_name_ptr(got), KBUS_MSG_REMOTE_ERROR_PREFIX "16");
        assert_true(kbus_msg_is_reply(got));
        assert_int_equal(got->in_reply_to.serial_num, id.serial_num);
        kbus_msg_delete(&got);
        assert_int_equal(kt_num_unreplied(pair.side[0].ks), 0); /* Limpet 1 owes nothing */
        KT_CLOSE(asker, replier, filler);
}

/* A new link: the repliers already bound, as bind events; not the Limpet's own proxies. */
static void test_current_repliers(void **state)
{
        (void)state;
        kbus_ksock_t replier = kt_open(1, O_RDWR);
        kbus_message_t **events;
        uint32_t is_bind, binder;
        char *name;
        size_t n;

        assert_int_equal(kbus_ksock_bind(replier, "$.Pre.Ask", 1), 0);
        assert_int_equal(kbus_ksock_bind(replier, "$.Pre.Listen", 0), 0);
        assert_int_equal(kbus_limpet_current_repliers(pair.side[1].ctx, &events, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(kbus_msg_split_bind_event(events[0], &is_bind, &binder, &name), 0);
        assert_int_equal(is_bind, 1);
        assert_int_equal(binder, kt_id(replier));
        assert_string_equal(name, "$.Pre.Ask");
        free(name);
        assert_true(events[0]->flags & KBUS_BIT_SYNTHETIC);
        /* over the link it makes Limpet 1 the proxy on bus 0 */
        kbus_message_t *across = over_the_link(events[0]);
        deliver(0, across);
        kbus_msg_delete(&across);
        kbus_msg_delete(&events[0]);
        free(events);
        kbus_ksock_t asker = kt_open(0, O_RDWR);
        assert_int_equal(kt_replier_of(asker, "$.Pre.Ask"), kt_id(pair.side[0].ks));
        /* ...which Limpet 1 does not announce back: it is its own proxy */
        assert_int_equal(kbus_limpet_current_repliers(pair.side[0].ctx, &events, &n), 0);
        assert_int_equal(n, 0);
        free(events);
        pump();
        KT_CLOSE(asker, replier);
}

/* What amend_msg_from_kbus() does not pass on. */
static void test_not_passed_on(void **state)
{
        (void)state;
        kbus_limpet_context_t *ctx = pair.side[0].ctx; /* network id 1, the other 2 */
        kbus_message_t *m;

        assert_int_equal(kbus_msg_create_entire(&m, "$.Lim.X", 7, NULL, 0, 0), 0);
        m->from = 77;
        m->id = (kbus_msg_id_t){ 2, 5 }; /* from the other Limpet */
        assert_int_equal(kbus_limpet_amend_msg_from_kbus(ctx, m), 1);
        m->id = (kbus_msg_id_t){ 1, 5 }; /* it left through us: a loop */
        assert_int_equal(kbus_limpet_amend_msg_from_kbus(ctx, m), 1);
        m->id = (kbus_msg_id_t){ 3, 5 }; /* from further away: on */
        assert_int_equal(kbus_limpet_amend_msg_from_kbus(ctx, m), 0);
        assert_int_equal(m->id.network_id, 3);
        assert_int_equal(m->orig_from.network_id, 1);
        assert_int_equal(m->orig_from.local_id, 77);
        m->id = (kbus_msg_id_t){ 0, 6 };
        m->from = kt_id(pair.side[0].ks); /* our own send */
        assert_int_equal(kbus_limpet_amend_msg_from_kbus(ctx, m), 1);
        kbus_msg_delete(&m);

        /* kbusd does not even echo a Limpet's sends to it (CTL_NO_ECHO); others hear them */
        kbus_ksock_t other = kt_open(0, O_RDWR);
        assert_int_equal(kbus_ksock_bind(other, "$.Lim.Self", 0), 0);
        kt_send(pair.side[0].ks, "$.Lim.Self", "x", 0);
        assert_int_equal(kt_num_messages(pair.side[0].ks), 0);
        assert_int_equal(kt_num_messages(other), 1);
        kt_close(other);
}

/* What the listeners of a bus are bound to: for the far Limpet, so it sends no more. */
static void test_listened_names(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open(0, O_RDWR), b = kt_open(0, O_RDWR);
        char **names;
        size_t n;

        assert_int_equal(kbus_ksock_bind(a, "$.Ln.B", 0), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Ln.B", 0), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Ln.A.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Ln.R", 1), 0); /* a replier: not listening */
        assert_int_equal(kbus_limpet_listened_names(pair.side[0].ctx, &names, &n), 0);
        assert_int_equal(n, 2); /* not Limpet 1's own $.* and bind events */
        assert_string_equal(names[0], "$.Ln.A.*");
        assert_string_equal(names[1], "$.Ln.B");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        KT_CLOSE(a, b);
        pump();
}

/* Sends @name on @from and says whether @to got it (exactly once). */
static bool heard(kbus_ksock_t from, kbus_ksock_t to, const char *name)
{
        kt_send(from, name, "x", 0);
        kt_send(from, "$.Lf.Marker", NULL, 0);
        kbus_message_t *m = kt_wait_msg(to);
        bool got = strcmp(kbus_msg_name_ptr(m), name) == 0;
        if (got) {
                kbus_msg_delete(&m);
                m = kt_wait_msg(to);
        }
        assert_string_equal(kbus_msg_name_ptr(m), "$.Lf.Marker");
        kbus_msg_delete(&m);
        return got;
}

/* A Limpet listens to what the far bus listens to, within its message name. */
static void test_listen_for(void **state)
{
        (void)state;
        kbus_limpet_context_t *ctx = pair.side[0].ctx;
        kbus_ksock_t lks = pair.side[0].ks, s = kt_open(0, O_RDWR);
        char *far[] = { "$.Lf.A", "$.Lf.Sub.*", "not a name", "$.Lf.A", "$.Lf.Marker" };
        char *marker[] = { "$.Lf.Marker" };

        assert_true(heard(s, lks, "$.Lf.B")); /* the message name, $.*, as the original */
        kt_send(s, "$.Lf.A", "early", 0); /* brought by $.*: stays when $.* goes */
        assert_int_equal(kbus_limpet_listen_for(ctx, far, 5), 0);
        kbus_message_t *early = kt_take(lks);
        assert_string_equal(kbus_msg_name_ptr(early), "$.Lf.A");
        kbus_msg_delete(&early);
        assert_false(heard(s, lks, "$.Lf.B"));
        assert_true(heard(s, lks, "$.Lf.A"));
        assert_true(heard(s, lks, "$.Lf.Sub.X"));
        assert_int_equal(kbus_limpet_listen_for(ctx, marker, 1), 0);
        assert_false(heard(s, lks, "$.Lf.A"));

        /* within a narrower message name */
        kbus_ksock_t nks = kt_open(0, O_RDWR);
        kbus_limpet_context_t *narrow;
        char *wide[] = { "$.*", "$.Other", "$.Lf.Marker" };
        assert_int_equal(kbus_limpet_new_context(nks, 5, 6, "$.Lf.*", 0, &narrow), 0);
        assert_int_equal(kbus_limpet_listen_for(narrow, wide, 3), 0);
        assert_true(heard(s, nks, "$.Lf.Q"));   /* $.* narrowed to $.Lf.* */
        assert_false(heard(s, nks, "$.Other")); /* outside $.Lf.* */
        kbus_limpet_free_context(&narrow);
        KT_CLOSE(s, nks);
}

/* kbusd says when the listeners changed; the notice is not for the link. */
static void test_listeners_changed(void **state)
{
        (void)state;
        kbus_limpet_context_t *ctx = pair.side[0].ctx;
        kbus_ksock_t a = kt_open(0, O_RDWR);
        char **names;
        size_t n;

        assert_int_equal(kbus_ksock_bind(a, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        assert_int_equal(kbus_limpet_listened_names(ctx, &names, &n), 0);
        assert_int_equal(n, 0); /* kbusd's own names are not for the far side */
        assert_null(names);
        assert_int_equal(kbus_ksock_bind(a, "$.Lc.A", 0), 0);
        kbus_message_t *m = kt_wait_msg(pair.side[0].ks);
        assert_string_equal(kbus_msg_name_ptr(m), KBUS_MSG_NAME_LISTENER_BINDS_CHANGED);
        assert_int_equal(kbus_limpet_amend_msg_from_kbus(ctx, m), 1);
        kbus_msg_delete(&m);
        assert_int_equal(kbus_limpet_listened_names(ctx, &names, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "$.Lc.A");
        free(names[0]);
        free(names);
        kt_close(a);
        m = kt_wait_msg(pair.side[0].ks);
        assert_string_equal(kbus_msg_name_ptr(m), KBUS_MSG_NAME_LISTENER_BINDS_CHANGED);
        kbus_msg_delete(&m);
        pump();
}

/* The ids another context's Reach says, as @ctx reads them, in one string. */
static void expect_reach(kbus_limpet_context_t *ctx, const char *want)
{
        char got[128] = "";
        uint32_t *ids;
        size_t n;

        assert_int_equal(kbus_limpet_reachable_ids(ctx, &ids, &n), 0);
        for (size_t i = 0; i < n; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u", i ? " " : "",
                         (unsigned)ids[i]);
        free(ids);
        assert_string_equal(got, want);
}

/* Which Limpets a bus leads to, from each Limpet's Reach bindings. */
static void test_reach(void **state)
{
        (void)state;
        kbus_limpet_context_t *ctx = pair.side[0].ctx, *other; /* ids 1 (2) and 5 (6) */
        kbus_ksock_t ks = kt_open(0, O_RDWR);
        const uint32_t far[] = { 8, 7, 0, 7 }, mine[] = { 3 };
        static uint32_t many[KBUS_LIMPET_REACH_MAX + 1];

        expect_reach(ctx, "");
        assert_int_equal(kbus_limpet_new_context(ks, 5, 6, "$.*", 0, &other), 0);
        expect_reach(ctx, ""); /* a Limpet says nothing until it has a link */
        assert_int_equal(kbus_limpet_set_reach(other, far, 4), 0);
        expect_reach(ctx, "5 6 7 8");
        assert_int_equal(kbus_limpet_set_reach(ctx, mine, 1), 0);
        expect_reach(ctx, "5 6 7 8"); /* not its own */
        expect_reach(other, "1 2 3");
        assert_int_equal(kbus_limpet_set_reach(other, NULL, 0), 0);
        expect_reach(ctx, "5 6");
        assert_int_equal(kbus_limpet_set_reach(other, many, KBUS_LIMPET_REACH_MAX + 1), -E2BIG);
        expect_reach(ctx, "5 6");
        kbus_limpet_free_context(&other);
        kt_close(ks); /* its bindings go with it, once kbusd has seen the close */
        uint32_t *ids = NULL;
        size_t n = 1;
        for (int i = 0; i < 2000 && n; i++) {
                free(ids);
                assert_int_equal(kbus_limpet_reachable_ids(ctx, &ids, &n), 0);
                if (n)
                        usleep(1000);
        }
        assert_int_equal(n, 0);
        assert_null(ids);
        pump();
}

static void test_new_context_errors(void **state)
{
        kbus_limpet_context_t *ctx = (kbus_limpet_context_t *)1;
        kbus_ksock_t ks = kt_open(0, O_RDWR);
        (void)state;

        assert_int_equal(kbus_limpet_new_context(ks, 1, 2, NULL, 0, &ctx), -EBADMSG);
        assert_null(ctx);
        assert_int_equal(kbus_limpet_new_context(ks, 1, 2, "$.", 0, &ctx), -EBADMSG);
        assert_int_equal(kbus_limpet_new_context(ks, 1, 2, "$.a..b", 0, &ctx), -EBADMSG);
        assert_int_equal(kbus_limpet_new_context(ks, 0, 2, "$.*", 0, &ctx), -EINVAL);
        assert_int_equal(kbus_limpet_new_context(ks, 3, 3, "$.*", 0, &ctx), -EINVAL);
        assert_int_equal(kbus_limpet_new_context(999, 1, 2, "$.*", 0, &ctx), -EBADF);
        assert_int_equal(errno, EBADF);
        assert_null(ctx);
        kbus_limpet_free_context(&ctx); /* NULL: nothing */
        kt_close(ks);
}

static void test_header_serialisation(void **state)
{
        kbus_message_t m = { .start_guard = KBUS_MSG_START_GUARD, .id = { 1, 2 },
                             .in_reply_to = { 3, 4 }, .to = 5, .from = 6,
                             .orig_from = { 7, 8 }, .final_to = { 9, 10 }, .extra = 11,
                             .flags = 12, .name_len = 13, .data_len = 14,
                             .name = (char *)"x", .end_guard = KBUS_MSG_END_GUARD };
        uint32_t s[KBUS_SERIALISED_HDR_LEN];
        kbus_message_t back;
        (void)state;

        kbus_serialise_message_header(&m, s);
        assert_int_equal(ntohl(s[0]), KBUS_MSG_START_GUARD);
        for (uint32_t i = 1; i <= 14; i++)
                assert_int_equal(ntohl(s[i]), i);
        assert_int_equal(ntohl(s[15]), KBUS_MSG_END_GUARD);
        kbus_unserialise_message_header(s, &back);
        assert_null(back.name);
        assert_null(back.data);
        /* field by field: the struct's padding bytes are not part of it */
        const uint32_t want[] = { KBUS_MSG_START_GUARD, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                  13, 14, KBUS_MSG_END_GUARD };
        const uint32_t got[] = { back.start_guard, back.id.network_id, back.id.serial_num,
                                 back.in_reply_to.network_id, back.in_reply_to.serial_num,
                                 back.to, back.from, back.orig_from.network_id,
                                 back.orig_from.local_id, back.final_to.network_id,
                                 back.final_to.local_id, back.extra, back.flags, back.name_len,
                                 back.data_len, back.end_guard };
        assert_memory_equal(want, got, sizeof(want));
}

static void test_bind_event_byte_order(void **state)
{
        uint32_t data[4] = { 1, 0x01020304, 2, 0 };
        kbus_message_t *m, *got;
        uint8_t *bytes;
        size_t len, used;
        (void)state;

        memcpy(&data[3], "$.A", 4);
        assert_int_equal(kbus_msg_create_entire(&m, KBUS_MSG_NAME_REPLIER_BIND_EVENT,
                                                sizeof(KBUS_MSG_NAME_REPLIER_BIND_EVENT) - 1,
                                                data, sizeof(data), 0), 0);
        assert_int_equal(kbus_limpet_msg_to_link(m, &bytes, &len), 0);
        uint32_t on_link;
        memcpy(&on_link, bytes + 64 + KBUS_PADDED_NAME_LEN(m->name_len) + 4, 4);
        assert_int_equal(on_link, htonl(0x01020304)); /* network order on the link */
        assert_int_equal(kbus_limpet_msg_from_link(bytes, len, &got, &used), 0);
        assert_memory_equal(kbus_msg_data_ptr(got), data, sizeof(data)); /* host order again */
        kbus_limpet_ReplierBindEvent_hton(got);
        assert_int_equal(((uint32_t *)kbus_msg_data_ptr(got))[1], htonl(0x01020304));
        kbus_limpet_ReplierBindEvent_ntoh(got);
        assert_int_equal(((uint32_t *)kbus_msg_data_ptr(got))[1], 0x01020304);
        free(bytes);
        kbus_msg_delete(&got);
        kbus_msg_delete(&m);
}

/* Every way the link's bytes can be wrong gets -EBADMSG (or -EMSGSIZE), never a crash. */
static void test_link_bytes_checked(void **state)
{
        kbus_message_t *m, *got;
        uint8_t *bytes;
        size_t len, used;
        (void)state;

        assert_int_equal(kbus_msg_create_entire(&m, "$.Lim.X", 7, "data", 4, 0), 0);
        assert_int_equal(kbus_limpet_msg_to_link(m, &bytes, &len), 0);
        assert_int_equal(len, 64 + 8 + 4 + 4);
        struct { size_t at; uint8_t value; int err; } bad[] = {
                { 0, 0, -EBADMSG },          /* start guard */
                { 60, 0, -EBADMSG },         /* header end guard */
                { 64 + 7, 'x', -EBADMSG },   /* name padding */
                { 64 + 2, '*', -EBADMSG },   /* not a message name */
                { len - 1, 0, -EBADMSG },    /* final end guard */
                { 52, 0, -EBADMSG },         /* name_len 0 (its low byte is 7) */
                { 56, 0x01, -EMSGSIZE },     /* data_len past 16 MiB */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint8_t *copy = malloc(len);
                memcpy(copy, bytes, len);
                if (bad[i].at == 52)
                        memset(copy + 52, 0, 4);
                else
                        copy[bad[i].at] = bad[i].value;
                assert_int_equal(kbus_limpet_msg_from_link(copy, len, &got, &used), bad[i].err);
                assert_null(got);
                free(copy);
        }
        assert_int_equal(kbus_limpet_msg_from_link(bytes, 10, &got, &used), 0);
        assert_null(got);
        assert_int_equal(used, 0);
        assert_int_equal(kbus_limpet_msg_from_link(bytes, len, &got, &used), 0);
        assert_string_equal(kbus_msg_name_ptr(got), "$.Lim.X");
        assert_memory_equal(kbus_msg_data_ptr(got), "data", 4);
        free(bytes);
        kbus_msg_delete(&got);
        kbus_msg_delete(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_announcement_crosses, pair_setup,
                                                pair_teardown),
                cmocka_unit_test_setup_teardown(test_request_and_reply_cross, pair_setup,
                                                pair_teardown),
                cmocka_unit_test_setup_teardown(test_request_that_fails_on_the_far_bus,
                                                pair_setup, pair_teardown),
                cmocka_unit_test_setup_teardown(test_current_repliers, pair_setup,
                                                pair_teardown),
                cmocka_unit_test_setup_teardown(test_not_passed_on, pair_setup, pair_teardown),
                cmocka_unit_test_setup_teardown(test_listened_names, pair_setup, pair_teardown),
                cmocka_unit_test_setup_teardown(test_listen_for, pair_setup, pair_teardown),
                cmocka_unit_test_setup_teardown(test_listeners_changed, pair_setup,
                                                pair_teardown),
                cmocka_unit_test_setup_teardown(test_reach, pair_setup, pair_teardown),
                cmocka_unit_test_setup_teardown(test_new_context_errors, pair_setup,
                                                pair_teardown),
                cmocka_unit_test(test_header_serialisation),
                cmocka_unit_test(test_bind_event_byte_order),
                cmocka_unit_test(test_link_bytes_checked),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
