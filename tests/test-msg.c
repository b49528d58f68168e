/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-msg.c - libkbus messages (src/lib/msg.c): the kbus_msg_* helpers on
 * pointy and entire messages, the conversion to and from the wire form and
 * its checks, replier bind event splitting, and the kbus_msg_print() format
 * of the original libkbus.  No sockets.
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

#include "../src/lib/msg.h"
#include "kbus/kbus.h"

#define NAME "$.Actor.Speak"
#define NAME_LEN ((uint32_t)(sizeof(NAME) - 1))

/* An entire message as msg_from_wire() makes them. */
static kbus_message_t *entire_new(const char *name, const void *data, uint32_t data_len,
                                  uint32_t flags)
{
        WireMsg w = {
                .flags = flags,
                .name_len = (uint32_t)strlen(name),
                .data_len = data_len,
                .name = name,
                .data = data,
        };
        kbus_message_t *m = NULL;

        assert_int_equal(msg_from_wire(&w, 0, &m), 0);
        assert_non_null(m);
        return m;
}

/* kbus_msg_print() output as a string (free it). */
static char *print_str(const kbus_message_t *msg)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        kbus_msg_print(f, msg);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_prints(const kbus_message_t *msg, const char *expected)
{
        char *s = print_str(msg);

        assert_string_equal(s, expected);
        free(s);
}

/* Bind event data: is_bind, binder, name_len (host order), name, padding. */
static size_t bind_data(uint8_t *buf, uint32_t is_bind, uint32_t binder, const char *name)
{
        uint32_t fixed[3] = { is_bind, binder, (uint32_t)strlen(name) };
        size_t padded = (strlen(name) + 4) & ~(size_t)3;

        memset(buf, 0, 12 + padded);
        memcpy(buf, fixed, sizeof(fixed));
        memcpy(buf + 12, name, strlen(name));
        return 12 + padded;
}

/* kbus_msg_split_bind_event() of @m gives {@is_bind, @binder, @name}. */
static void assert_splits(const kbus_message_t *m, uint32_t is_bind, uint32_t binder,
                          const char *name)
{
        uint32_t got_bind = 99, got_binder = 99;
        char *got_name = NULL;

        assert_int_equal(kbus_msg_split_bind_event(m, &got_bind, &got_binder, &got_name), 0);
        assert_int_equal(got_bind, is_bind);
        assert_int_equal(got_binder, binder);
        assert_string_equal(got_name, name);
        free(got_name);
}

/* The header fields kbusd fills in, for the print tests. */
typedef struct Sent {
        kbus_msg_id_t id, in_reply_to;
        uint32_t to, from;
} Sent;

/* kbus_msg_print() of an entire message with @sent's fields prints @expected. */
static void assert_entire_prints(const char *name, const void *data, uint32_t data_len,
                                 uint32_t flags, Sent sent, const char *expected)
{
        kbus_message_t *m = entire_new(name, data, data_len, flags);

        m->id = sent.id;
        m->in_reply_to = sent.in_reply_to;
        m->to = sent.to;
        m->from = sent.from;
        assert_prints(m, expected);
        kbus_msg_delete(&m);
}

/* ---- creating ---------------------------------------------------------- */

static void test_create(void **state)
{
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, "Ahem", 4, 0x10008), 0);
        assert_non_null(m);
        assert_int_equal(m->start_guard, KBUS_MSG_START_GUARD);
        assert_int_equal(m->end_guard, KBUS_MSG_END_GUARD);
        assert_int_equal(m->id.network_id, 0);
        assert_int_equal(m->id.serial_num, 0);
        assert_int_equal(m->in_reply_to.network_id, 0);
        assert_int_equal(m->in_reply_to.serial_num, 0);
        assert_int_equal(m->to, 0);
        assert_int_equal(m->from, 0);
        assert_int_equal(m->orig_from.network_id, 0);
        assert_int_equal(m->orig_from.local_id, 0);
        assert_int_equal(m->final_to.network_id, 0);
        assert_int_equal(m->final_to.local_id, 0);
        assert_int_equal(m->extra, 0);
        assert_int_equal(m->flags, 0x10008);
        assert_int_equal(m->name_len, NAME_LEN);
        assert_int_equal(m->data_len, 4);
        assert_memory_equal(m->name, NAME, NAME_LEN);
        assert_memory_equal(m->data, "Ahem", 4);
        assert_false(kbus_msg_is_request(m));
        assert_false(kbus_msg_is_reply(m));
        assert_false(kbus_msg_wants_us_to_reply(m));
        kbus_msg_delete(&m);
        assert_null(m);

        /* No data: the data pointer is NULL even if one was given. */
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, "x", 0, 0), 0);
        assert_null(m->data);
        assert_int_equal(m->data_len, 0);
        kbus_msg_delete(&m);
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, NULL, 0, 0), 0);
        assert_null(m->data);
        kbus_msg_delete(&m);
}

static void test_create_errors(void **state)
{
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(kbus_msg_create(&m, NULL, 5, NULL, 0, 0), -EINVAL);
        assert_int_equal(kbus_msg_create(&m, NAME, 0, NULL, 0, 0), -EINVAL);
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, NULL, 3, 0), -EINVAL);
        assert_int_equal(kbus_msg_create(NULL, NAME, NAME_LEN, NULL, 0, 0), -EINVAL);
        assert_int_equal(kbus_msg_create_request(&m, NULL, 5, NULL, 0, 0), -EINVAL);
        assert_int_equal(kbus_msg_create_request(&m, NAME, NAME_LEN, NULL, 1, 0), -EINVAL);
        assert_null(m);

        /* Deleting nothing is fine. */
        kbus_msg_delete(&m);
        kbus_msg_delete(NULL);
}

static void test_create_request(void **state)
{
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(kbus_msg_create_request(&m, NAME, NAME_LEN, "?", 1, KBUS_BIT_URGENT), 0);
        assert_int_equal(m->flags, KBUS_BIT_WANT_A_REPLY | KBUS_BIT_URGENT);
        assert_int_equal(m->to, 0);
        assert_ptr_equal(m->name, NAME);
        assert_true(kbus_msg_is_request(m));
        assert_false(kbus_msg_is_reply(m));
        assert_false(kbus_msg_wants_us_to_reply(m));
        m->flags |= KBUS_BIT_WANT_YOU_TO_REPLY;
        assert_true(kbus_msg_wants_us_to_reply(m));
        kbus_msg_delete(&m);

        assert_false(kbus_msg_is_request(NULL));
        assert_false(kbus_msg_is_reply(NULL));
        assert_false(kbus_msg_wants_us_to_reply(NULL));
}

static void test_create_reply_to(void **state)
{
        const uint32_t you = KBUS_BIT_WANT_A_REPLY | KBUS_BIT_WANT_YOU_TO_REPLY;
        kbus_message_t *req = entire_new("$.Actor.Ask", "?", 1, you);
        kbus_message_t *rep = NULL;

        (void)state;
        req->id = (kbus_msg_id_t){ 0, 342 };
        req->from = 113;
        req->orig_from = (kbus_orig_from_t){ 4, 5 };
        assert_int_equal(kbus_msg_create_reply_to(&rep, req, "yes", 3, KBUS_BIT_URGENT), 0);
        assert_ptr_equal(rep->name, kbus_msg_name_ptr(req));
        assert_int_equal(rep->name_len, 11);
        assert_memory_equal(rep->data, "yes", 3);
        assert_int_equal(rep->data_len, 3);
        assert_int_equal(rep->to, 113);
        assert_int_equal(rep->from, 0);
        assert_int_equal(rep->in_reply_to.network_id, 0);
        assert_int_equal(rep->in_reply_to.serial_num, 342);
        assert_int_equal(rep->id.serial_num, 0);
        assert_int_equal(rep->flags, KBUS_BIT_URGENT);
        assert_int_equal(rep->final_to.network_id, 0);
        assert_int_equal(rep->orig_from.network_id, 0);
        assert_true(kbus_msg_is_reply(rep));
        assert_false(kbus_msg_is_request(rep));
        kbus_msg_delete(&rep);

        /* Errors leave *msg alone. */
        assert_int_equal(kbus_msg_create_reply_to(&rep, req, NULL, 2, 0), -EINVAL);
        assert_int_equal(kbus_msg_create_reply_to(NULL, req, NULL, 0, 0), -EINVAL);
        assert_int_equal(kbus_msg_create_reply_to(&rep, NULL, NULL, 0, 0), -EINVAL);
        req->flags = KBUS_BIT_WANT_A_REPLY; /* a listener's copy */
        assert_int_equal(kbus_msg_create_reply_to(&rep, req, NULL, 0, 0), -EBADMSG);
        req->flags = KBUS_BIT_WANT_YOU_TO_REPLY;
        assert_int_equal(kbus_msg_create_reply_to(&rep, req, NULL, 0, 0), -EBADMSG);
        req->flags = 0;
        assert_int_equal(kbus_msg_create_reply_to(&rep, req, NULL, 0, 0), -EBADMSG);
        assert_null(rep);
        kbus_msg_delete(&req);
}

static void test_create_stateful_request(void **state)
{
        kbus_message_t *rep = entire_new("$.Actor.Ask", "yes", 3, 0);
        kbus_message_t *sreq = NULL, *sreq2 = NULL;

        (void)state;
        rep->in_reply_to = (kbus_msg_id_t){ 0, 344 };
        rep->from = 115;
        rep->to = 113;
        rep->orig_from = (kbus_orig_from_t){ 2, 9 };
        rep->final_to = (kbus_orig_from_t){ 7, 7 };
        assert_int_equal(kbus_msg_create_stateful_request(&sreq, rep, "$.Actor.CoinToss", 16,
                                                          "Head", 4, KBUS_BIT_URGENT), 0);
        assert_int_equal(sreq->to, 115);
        assert_int_equal(sreq->final_to.network_id, 2);
        assert_int_equal(sreq->final_to.local_id, 9);
        assert_int_equal(sreq->orig_from.network_id, 0);
        assert_int_equal(sreq->in_reply_to.serial_num, 0);
        assert_int_equal(sreq->flags, KBUS_BIT_WANT_A_REPLY | KBUS_BIT_URGENT);
        assert_memory_equal(sreq->name, "$.Actor.CoinToss", 16);
        assert_memory_equal(sreq->data, "Head", 4);
        kbus_msg_delete(&rep);

        /* From an earlier stateful request: to and final_to are copied. */
        assert_int_equal(kbus_msg_create_stateful_request(&sreq2, sreq, "$.Actor.CoinToss", 16,
                                                          "Tail", 4, 0), 0);
        assert_int_equal(sreq2->to, 115);
        assert_int_equal(sreq2->final_to.network_id, 2);
        assert_int_equal(sreq2->final_to.local_id, 9);
        assert_int_equal(sreq2->flags, KBUS_BIT_WANT_A_REPLY);
        kbus_msg_delete(&sreq2);

        /* A request to anyone, and an announcement, are neither. */
        sreq->to = 0;
        assert_int_equal(kbus_msg_create_stateful_request(&sreq2, sreq, "$.A", 3, NULL, 0, 0),
                         -EBADMSG);
        sreq->to = 115;
        sreq->flags = 0;
        assert_int_equal(kbus_msg_create_stateful_request(&sreq2, sreq, "$.A", 3, NULL, 0, 0),
                         -EBADMSG);
        sreq->flags = KBUS_BIT_WANT_A_REPLY;
        assert_int_equal(kbus_msg_create_stateful_request(&sreq2, NULL, "$.A", 3, NULL, 0, 0),
                         -EINVAL);
        assert_int_equal(kbus_msg_create_stateful_request(&sreq2, sreq, NULL, 3, NULL, 0, 0),
                         -EINVAL);
        assert_int_equal(kbus_msg_create_stateful_request(&sreq2, sreq, "$.A", 3, NULL, 1, 0),
                         -EINVAL);
        assert_null(sreq2);
        kbus_msg_delete(&sreq);
}

/* ---- name and data ----------------------------------------------------- */

static void test_ptrs_pointy(void **state)
{
        char data[] = "Ahem";
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, data, 4, 0), 0);
        assert_ptr_equal(kbus_msg_name_ptr(m), NAME);
        assert_ptr_equal(kbus_msg_data_ptr(m), data);
        m->data_len = 0;
        assert_null(kbus_msg_data_ptr(m));
        kbus_msg_delete(&m);
        assert_null(kbus_msg_name_ptr(NULL));
        assert_null(kbus_msg_data_ptr(NULL));
}

static void test_ptrs_entire(void **state)
{
        kbus_message_t *m = entire_new("$.Fred", "hello", 5, KBUS_BIT_URGENT);
        const char *base = (const char *)m;
        uint32_t guard;

        (void)state;
        assert_null(m->name);
        assert_null(m->data);
        assert_int_equal(m->start_guard, KBUS_MSG_START_GUARD);
        assert_int_equal(m->end_guard, KBUS_MSG_END_GUARD);
        assert_int_equal(m->flags, KBUS_BIT_URGENT);
        assert_int_equal(m->name_len, 6);
        assert_int_equal(m->data_len, 5);
        /* Name padded to 8 (at least one NUL), data padded to 8, then the guard. */
        assert_ptr_equal(kbus_msg_name_ptr(m), base + sizeof(kbus_message_t));
        assert_string_equal(kbus_msg_name_ptr(m), "$.Fred");
        assert_memory_equal(base + sizeof(kbus_message_t) + 6, "\0\0", 2);
        assert_ptr_equal(kbus_msg_data_ptr(m), base + sizeof(kbus_message_t) + 8);
        assert_memory_equal(kbus_msg_data_ptr(m), "hello\0\0\0", 8);
        memcpy(&guard, base + sizeof(kbus_message_t) + 16, 4);
        assert_int_equal(guard, KBUS_MSG_END_GUARD);
        kbus_msg_delete(&m);

        /* A name that is a multiple of 4 still gets a NUL; no data. */
        m = entire_new("$.Fr", NULL, 0, 0);
        base = (const char *)m;
        assert_string_equal(kbus_msg_name_ptr(m), "$.Fr");
        assert_memory_equal(base + sizeof(kbus_message_t) + 4, "\0\0\0\0", 4);
        assert_null(kbus_msg_data_ptr(m));
        memcpy(&guard, base + sizeof(kbus_message_t) + 8, 4);
        assert_int_equal(guard, KBUS_MSG_END_GUARD);
        kbus_msg_delete(&m);
}

static void test_entire_size(void **state)
{
        (void)state;
        assert_int_equal(msg_entire_size(6, 5), sizeof(kbus_message_t) + 8 + 8 + 4);
        assert_int_equal(msg_entire_size(4, 0), sizeof(kbus_message_t) + 8 + 0 + 4);
        assert_int_equal(msg_entire_size(3, 4), sizeof(kbus_message_t) + 4 + 4 + 4);
        assert_int_equal(msg_entire_size(1000, 1), sizeof(kbus_message_t) + 1004 + 4 + 4);
}

/* ---- msg_to_wire ------------------------------------------------------- */

static void fill_fields(kbus_message_t *m)
{
        m->id = (kbus_msg_id_t){ 1, 2 };
        m->in_reply_to = (kbus_msg_id_t){ 3, 4 };
        m->to = 5;
        m->from = 6;
        m->orig_from = (kbus_orig_from_t){ 7, 8 };
        m->final_to = (kbus_orig_from_t){ 9, 10 };
        m->extra = 11;
}

static void assert_wire_fields(const WireMsg *w, uint32_t flags)
{
        assert_int_equal(w->id_net, 1);
        assert_int_equal(w->id_serial, 2);
        assert_int_equal(w->irt_net, 3);
        assert_int_equal(w->irt_serial, 4);
        assert_int_equal(w->to, 5);
        assert_int_equal(w->from, 6);
        assert_int_equal(w->orig_net, 7);
        assert_int_equal(w->orig_local, 8);
        assert_int_equal(w->final_net, 9);
        assert_int_equal(w->final_local, 10);
        assert_int_equal(w->extra, 11);
        assert_int_equal(w->flags, flags);
}

static void test_to_wire_pointy(void **state)
{
        const char data[] = "Ahem";
        kbus_message_t *m = NULL;
        WireMsg w;

        (void)state;
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, data, 4, 0x20001), 0);
        fill_fields(m);
        assert_int_equal(msg_to_wire(m, &w), 0);
        assert_wire_fields(&w, 0x20001);
        assert_int_equal(w.name_len, NAME_LEN);
        assert_int_equal(w.data_len, 4);
        assert_ptr_equal(w.name, NAME);
        assert_ptr_equal(w.data, data);

        m->data_len = 0;
        assert_int_equal(msg_to_wire(m, &w), 0);
        assert_int_equal(w.data_len, 0);
        assert_null(w.data);
        kbus_msg_delete(&m);
}

static void test_to_wire_entire(void **state)
{
        kbus_message_t *m = entire_new("$.Fred", "hello", 5, 0x30000);
        WireMsg w;

        (void)state;
        fill_fields(m);
        assert_int_equal(msg_to_wire(m, &w), 0);
        assert_wire_fields(&w, 0x30000);
        assert_int_equal(w.name_len, 6);
        assert_int_equal(w.data_len, 5);
        assert_ptr_equal(w.name, kbus_msg_name_ptr(m));
        assert_ptr_equal(w.data, kbus_msg_data_ptr(m));
        kbus_msg_delete(&m);

        m = entire_new("$.Fred", NULL, 0, 0);
        assert_int_equal(msg_to_wire(m, &w), 0);
        assert_int_equal(w.data_len, 0);
        assert_null(w.data);
        kbus_msg_delete(&m);
}

/* msg_to_wire() fails with @err and leaves its output alone. */
static void assert_to_wire_fails(const kbus_message_t *m, int err)
{
        WireMsg w, before;

        memset(&w, 0xa5, sizeof(w));
        before = w;
        assert_int_equal(msg_to_wire(m, &w), err);
        assert_memory_equal(&w, &before, sizeof(w));
}

static void test_to_wire_errors(void **state)
{
        kbus_message_t *m = NULL;

        (void)state;
        assert_to_wire_fails(NULL, -EINVAL);
        assert_int_equal(kbus_msg_create(&m, NAME, NAME_LEN, "Ahem", 4, 0), 0);
        m->start_guard = 0;
        assert_to_wire_fails(m, -EINVAL);
        m->start_guard = KBUS_MSG_START_GUARD;
        m->end_guard = KBUS_MSG_START_GUARD;
        assert_to_wire_fails(m, -EINVAL);
        m->end_guard = KBUS_MSG_END_GUARD;
        m->name_len = 0;
        assert_to_wire_fails(m, -EBADMSG);
        m->name_len = KBUS_MAX_NAME_LEN + 1;
        assert_to_wire_fails(m, -ENAMETOOLONG);
        m->name_len = NAME_LEN;
        m->data = NULL;
        assert_to_wire_fails(m, -EINVAL);
        kbus_msg_delete(&m);

        /* Entire: no data pointer, and the final guard must be in place. */
        m = entire_new("$.Fred", "hello", 5, 0);
        m->data = (void *)"hello";
        assert_to_wire_fails(m, -EINVAL);
        m->data = NULL;
        m->data_len = 4; /* the final guard is no longer where data_len says */
        assert_to_wire_fails(m, -EINVAL);
        m->data_len = 5;
        m->name_len = 0;
        assert_to_wire_fails(m, -EBADMSG);
        m->name_len = KBUS_MAX_NAME_LEN + 1;
        assert_to_wire_fails(m, -ENAMETOOLONG);
        kbus_msg_delete(&m);
}

/* ---- msg_from_wire: a round trip through the codec ---------------------- */

static void round_trip(const char *name, const void *data, uint32_t data_len)
{
        const WireMsg in = {
                .id_net = 0x01020304, .id_serial = 0x05060708,
                .irt_net = 11, .irt_serial = 12,
                .to = 13, .from = 14,
                .orig_net = 15, .orig_local = 16,
                .final_net = 17, .final_local = 18,
                .extra = 19, .flags = 0xabcd0009,
                .name_len = (uint32_t)strlen(name), .data_len = data_len,
                .name = name, .data = data,
        };
        size_t size = (size_t)codec_msg_size(&in);
        uint8_t *buf = malloc(size);
        kbus_message_t *m = NULL;
        WireMsg dec, out;

        assert_non_null(buf);
        assert_int_equal(codec_msg_encode(buf, &in), size);
        assert_int_equal(codec_msg_decode(buf, size, &dec), 0);
        assert_int_equal(msg_from_wire(&dec, KBUS_BIT_WANT_YOU_TO_REPLY, &m), 0);
        free(buf); /* the message is a copy */
        assert_null(m->name);
        assert_null(m->data);
        assert_int_equal(m->start_guard, KBUS_MSG_START_GUARD);
        assert_int_equal(m->end_guard, KBUS_MSG_END_GUARD);

        assert_int_equal(msg_to_wire(m, &out), 0);
        assert_int_equal(out.id_net, in.id_net);
        assert_int_equal(out.id_serial, in.id_serial);
        assert_int_equal(out.irt_net, in.irt_net);
        assert_int_equal(out.irt_serial, in.irt_serial);
        assert_int_equal(out.to, in.to);
        assert_int_equal(out.from, in.from);
        assert_int_equal(out.orig_net, in.orig_net);
        assert_int_equal(out.orig_local, in.orig_local);
        assert_int_equal(out.final_net, in.final_net);
        assert_int_equal(out.final_local, in.final_local);
        assert_int_equal(out.extra, in.extra);
        assert_int_equal(out.flags, in.flags | KBUS_BIT_WANT_YOU_TO_REPLY);
        assert_int_equal(out.name_len, in.name_len);
        assert_int_equal(out.data_len, in.data_len);
        assert_memory_equal(out.name, name, in.name_len);
        assert_int_equal(out.name[in.name_len], '\0');
        if (data_len)
                assert_memory_equal(out.data, data, data_len);
        else
                assert_null(out.data);
        kbus_msg_delete(&m);
}

static void test_from_wire_round_trip(void **state)
{
        const uint8_t bin[] = { 0, 1, 2, 0xff, 0x80, 'x', 0 };
        char long_name[KBUS_MAX_NAME_LEN + 1];

        (void)state;
        round_trip("$.Actor.Speak", "Ahem", 4);
        round_trip("$.A.B", bin, sizeof(bin));
        round_trip("$.ABC.DEFG", NULL, 0);
        memset(long_name, 'x', KBUS_MAX_NAME_LEN);
        memcpy(long_name, "$.", 2);
        long_name[KBUS_MAX_NAME_LEN] = '\0';
        round_trip(long_name, "12345678", 8);
}

/* ---- msg_check --------------------------------------------------------- */

static int check(const char *name, uint32_t flags, uint32_t irt_serial, int allow_reply)
{
        WireMsg w = {
                .flags = flags,
                .irt_serial = irt_serial,
                .name_len = (uint32_t)strlen(name),
                .name = name,
        };

        return msg_check(&w, allow_reply);
}

static void test_check(void **state)
{
        const uint32_t req = KBUS_BIT_WANT_A_REPLY;
        const uint32_t aw = KBUS_BIT_ALL_OR_WAIT, af = KBUS_BIT_ALL_OR_FAIL;
        char long_name[KBUS_MAX_NAME_LEN + 2];

        (void)state;
        assert_int_equal(check("$.Actor.Speak", 0, 0, 1), 0);
        assert_int_equal(check("$.Actor.Speak", 0, 0, 0), 0);
        assert_int_equal(check("$.Actor.Speak", 0xffff0000u | KBUS_BIT_URGENT, 0, 0), 0);
        assert_int_equal(check("$.Actor.Speak", req, 0, 1), 0);
        assert_int_equal(check("$.Actor.Speak", 0, 7, 1), 0);
        assert_int_equal(check("$.Actor.Speak", aw, 0, 1), 0);
        assert_int_equal(check("$.Actor.Speak", af, 0, 1), 0);

        /* Names: syntax, wildcards, length. */
        assert_int_equal(check("Fred", 0, 0, 1), -EBADMSG);
        assert_int_equal(check("$.", 0, 0, 1), -EBADMSG);
        assert_int_equal(check("$.Fred.", 0, 0, 1), -EBADMSG);
        assert_int_equal(check("$.Fred.*", 0, 0, 1), -EBADMSG);
        assert_int_equal(check("$.Fred.%", 0, 0, 1), -EBADMSG);
        memset(long_name, 'x', KBUS_MAX_NAME_LEN + 1);
        memcpy(long_name, "$.", 2);
        long_name[KBUS_MAX_NAME_LEN + 1] = '\0';
        assert_int_equal(check(long_name, 0, 0, 1), -ENAMETOOLONG);
        long_name[KBUS_MAX_NAME_LEN] = '\0';
        assert_int_equal(check(long_name, 0, 0, 1), 0);

        /* Flag combinations. */
        assert_int_equal(check("$.A", aw | af, 0, 1), -EINVAL);
        assert_int_equal(check("$.A", req, 7, 1), -EINVAL);
        /* The name is checked first. */
        assert_int_equal(check("$.A.*", aw | af, 0, 1), -EBADMSG);

        /* Posting: announcements only. */
        assert_int_equal(check("$.A", req, 0, 0), -EINVAL);
        assert_int_equal(check("$.A", 0, 7, 0), -EINVAL);
        assert_int_equal(check("$.A", aw, 0, 0), -EINVAL);
        assert_int_equal(check("$.A", af, 0, 0), -EINVAL);
        WireMsg w = { .irt_net = 1, .name_len = 3, .name = "$.A" };
        assert_int_equal(msg_check(&w, 0), -EINVAL);
        assert_int_equal(msg_check(&w, 1), 0);
}

/* ---- replier bind events ----------------------------------------------- */

static void test_split_bind_event(void **state)
{
        uint8_t data[64];
        size_t len = bind_data(data, 1, 7, "$.Fred.X");
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(len, 24);
        assert_int_equal(kbus_msg_create(&m, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 23, data,
                                         (uint32_t)len, KBUS_BIT_SYNTHETIC), 0);
        assert_splits(m, 1, 7, "$.Fred.X");

        /* Unpadded data that just fits is fine too. */
        bind_data(data, 0, 3, "$.Jim");
        m->data_len = 12 + 5;
        assert_splits(m, 0, 3, "$.Jim");
        kbus_msg_delete(&m);

        /* And an entire one. */
        len = bind_data(data, 1, 12, "$.A.B");
        m = entire_new(KBUS_MSG_NAME_REPLIER_BIND_EVENT, data, (uint32_t)len, 0);
        assert_splits(m, 1, 12, "$.A.B");
        kbus_msg_delete(&m);
}

static void test_split_bind_event_errors(void **state)
{
        uint8_t data[64];
        size_t len = bind_data(data, 1, 7, "$.Fred.X");
        kbus_message_t *m = NULL;
        uint32_t is_bind = 99, binder = 99;
        char *name = NULL;

        (void)state;
        /* Not the event's name (a prefix of it, and another name). */
        assert_int_equal(kbus_msg_create(&m, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 22, data,
                                         (uint32_t)len, 0), 0);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), -EBADMSG);
        m->name = "$.KBUS.ReplierBindEvenT";
        m->name_len = 23;
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), -EBADMSG);
        m->name = KBUS_MSG_NAME_REPLIER_BIND_EVENT;

        /* No data, data shorter than the fixed part, a name_len beyond the data. */
        m->data_len = 0;
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), -EBADMSG);
        m->data_len = 11;
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), -EBADMSG);
        m->data_len = 12 + 7;
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), -EBADMSG);
        m->data_len = (uint32_t)len;
        uint32_t huge = 0xfffffff8u;
        memcpy(data + 8, &huge, 4);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), -EBADMSG);

        /* NULL arguments. */
        assert_int_equal(kbus_msg_split_bind_event(NULL, &is_bind, &binder, &name), -EINVAL);
        assert_int_equal(kbus_msg_split_bind_event(m, NULL, &binder, &name), -EINVAL);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, NULL, &name), -EINVAL);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, NULL), -EINVAL);

        /* Nothing stored on failure. */
        assert_int_equal(is_bind, 99);
        assert_int_equal(binder, 99);
        assert_null(name);
        kbus_msg_delete(&m);
}

/* ---- kbus_msg_print ---------------------------------------------------- */

static void test_print_announcement(void **state)
{
        kbus_message_t *m = NULL;

        (void)state;
        assert_entire_prints("$.Actor.Speak", "Ahem", 4, 0,
                             (Sent){ .id = { 0, 338 }, .from = 113 },
                             "<Announcement '$.Actor.Speak' id=[0:338] from=113 data=Ahem>");

        /* Nothing but the name. */
        assert_int_equal(kbus_msg_create(&m, "$.A", 3, NULL, 0, 0), 0);
        assert_prints(m, "<Announcement '$.A'>");

        /* Every field; user flags and the ALL_OR_* and URGENT labels. */
        m->id = (kbus_msg_id_t){ 3, 4 };
        m->to = 5;
        m->from = 6;
        m->orig_from = (kbus_orig_from_t){ 7, 8 };
        m->final_to = (kbus_orig_from_t){ 9, 10 };
        m->flags = 0x10000 | KBUS_BIT_URGENT | KBUS_BIT_ALL_OR_FAIL | KBUS_BIT_ALL_OR_WAIT;
        assert_prints(m, "<Announcement '$.A' id=[3:4] to=5 from=6 orig_from=(7,8) "
                         "final_to=(9,10) flags=0x10308 URG aFL aWT>");
        m->flags = 0x80000000u;
        assert_prints(m, "<Announcement '$.A' id=[3:4] to=5 from=6 orig_from=(7,8) "
                         "final_to=(9,10) flags=0x80000000>");
        kbus_msg_delete(&m);
}

static void test_print_request(void **state)
{
        const char *text = "Were you speaking to me?";
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(kbus_msg_create_request(&m, "$.Actor.Ask.Guildenstern", 24, text,
                                                 (uint32_t)strlen(text), 0), 0);
        m->id = (kbus_msg_id_t){ 0, 342 };
        m->from = 113;
        m->flags |= KBUS_BIT_WANT_YOU_TO_REPLY;
        assert_prints(m, "<Request '$.Actor.Ask.Guildenstern' id=[0:342] from=113 "
                         "flags=0x3 REQ YOU data=Were you speaking to...>");

        /* A stateful request shows its "to". */
        m->flags = KBUS_BIT_WANT_A_REPLY;
        m->id = (kbus_msg_id_t){ 0, 0 };
        m->from = 0;
        m->to = 115;
        m->data = (void *)"Head";
        m->data_len = 4;
        assert_prints(m, "<Request '$.Actor.Ask.Guildenstern' to=115 flags=0x1 REQ "
                         "data=Head>");
        kbus_msg_delete(&m);
}

static void test_print_reply(void **state)
{
        kbus_message_t *m = NULL;

        (void)state;
        assert_entire_prints("$.Actor.Ask.Guildenstern", "Yes, yes I was", 14, 0,
                             (Sent){ .id = { 0, 343 }, .in_reply_to = { 0, 342 }, .to = 113,
                                     .from = 115 },
                             "<Reply '$.Actor.Ask.Guildenstern' id=[0:343] to=113 from=115 "
                             "in_reply_to=[0:342] data=Yes, yes I was>");

        /* A reply named just "$.KBUS." is not a status. */
        assert_int_equal(kbus_msg_create(&m, "$.KBUS.", 7, NULL, 0, 0), 0);
        m->in_reply_to = (kbus_msg_id_t){ 1, 0 };
        assert_prints(m, "<Reply '$.KBUS.' in_reply_to=[1:0]>");
        kbus_msg_delete(&m);
}

static void test_print_status(void **state)
{
        (void)state;
        assert_entire_prints(KBUS_MSG_NAME_REPLIER_GONEAWAY, NULL, 0, KBUS_BIT_SYNTHETIC,
                             (Sent){ .id = { 0, 6 }, .in_reply_to = { 0, 5 }, .to = 3,
                                     .from = 4 },
                             "<Status '$.KBUS.Replier.GoneAway' id=[0:6] to=3 from=4 "
                             "in_reply_to=[0:5] flags=0x4 SYN>");
}

static void test_print_bind_event(void **state)
{
        uint8_t data[64];
        size_t len = bind_data(data, 1, 7, "$.Fred.X");
        kbus_message_t *m = NULL;

        (void)state;
        assert_entire_prints(KBUS_MSG_NAME_REPLIER_BIND_EVENT, data, (uint32_t)len,
                             KBUS_BIT_SYNTHETIC, (Sent){ .id = { 0, 9 } },
                             "<ReplierBindEvent id=[0:9] flags=0x4 SYN "
                             "data= [Bind '$.Fred.X' for 7]>");

        len = bind_data(data, 0, 12, "$.A");
        assert_int_equal(kbus_msg_create(&m, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 23, data,
                                         (uint32_t)len, 0), 0);
        assert_prints(m, "<ReplierBindEvent data= [Unbind '$.A' for 12]>");

        /* Without data; and malformed data is shown as plain bytes. */
        m->data_len = 0;
        assert_prints(m, "<ReplierBindEvent>");
        m->data_len = 4;
        assert_prints(m, "<ReplierBindEvent data=\\x00\\x00\\x00\\x00>");
        kbus_msg_delete(&m);
}

static void test_print_data(void **state)
{
        const uint8_t bin[] = { 0, 1, 'a', 'b', ' ', '~', 0x7f, 0x80, 0xff, '\n', '\\', '\'' };
        kbus_message_t *m = NULL;

        (void)state;
        assert_int_equal(kbus_msg_create(&m, "$.D", 3, bin, sizeof(bin), 0), 0);
        assert_prints(m, "<Announcement '$.D' data=\\x00\\x01ab ~\\x7f\\x80\\xff\\x0a\\'>");

        /* Exactly 20 bytes: no ellipsis; 21: the first 20 and "...". */
        m->data = (void *)"0123456789abcdefghijKLMN";
        m->data_len = 20;
        assert_prints(m, "<Announcement '$.D' data=0123456789abcdefghij>");
        m->data_len = 21;
        assert_prints(m, "<Announcement '$.D' data=0123456789abcdefghij...>");

        /* Unprintable bytes past the 20th are not shown. */
        uint8_t zeros[40] = { 0 };
        m->data = zeros;
        m->data_len = sizeof(zeros);
        assert_prints(m, "<Announcement '$.D' data=\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
                         "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00...>");
        kbus_msg_delete(&m);
}

/* Each entire variant gives the header its pointy twin has, in one block. */
static void assert_entire_twin(kbus_message_t *entire, kbus_message_t *pointy)
{
        kbus_entire_message_t *e = (kbus_entire_message_t *)entire;
        uint32_t name_len = pointy->name_len, data_len = pointy->data_len;

        assert_true(kbus_msg_is_entire(entire) && !kbus_msg_is_entire(pointy));
        assert_null(entire->data);
        assert_int_equal(kbus_msg_sizeof(entire), KBUS_ENTIRE_MSG_LEN(name_len, data_len));
        assert_int_equal(kbus_msg_sizeof(pointy), sizeof(kbus_message_t));
        assert_ptr_equal(kbus_msg_name_ptr(entire), (char *)&e->rest[0]);
        assert_memory_equal(kbus_msg_name_ptr(entire), pointy->name, name_len);
        assert_int_equal(kbus_msg_name_ptr(entire)[name_len], 0);
        if (data_len) {
                assert_ptr_equal(kbus_msg_data_ptr(entire),
                                 &e->rest[KBUS_ENTIRE_MSG_DATA_INDEX(name_len)]);
                assert_memory_equal(kbus_msg_data_ptr(entire), pointy->data, data_len);
        }
        assert_int_equal(*kbus_msg_end_ptr(e), KBUS_MSG_END_GUARD);
        assert_int_equal(entire->flags, pointy->flags);
        assert_int_equal(entire->to, pointy->to);
        assert_memory_equal(&entire->in_reply_to, &pointy->in_reply_to, sizeof(kbus_msg_id_t));
        assert_memory_equal(&entire->final_to, &pointy->final_to, sizeof(kbus_orig_from_t));
        kbus_msg_delete(&entire);
        kbus_msg_delete(&pointy);
}

static void test_create_entire(void **state)
{
        kbus_message_t *e, *p, *req = entire_new("$.Ask", NULL, 0, 3);
        kbus_message_t *reply;
        (void)state;

        req->from = 7;
        req->id = (kbus_msg_id_t){ 0, 12 };
        assert_int_equal(kbus_msg_create_entire(&e, "$.Abc", 5, "datum", 5, 0x10000), 0);
        assert_int_equal(kbus_msg_create(&p, "$.Abc", 5, "datum", 5, 0x10000), 0);
        assert_entire_twin(e, p);
        assert_int_equal(kbus_msg_create_entire_request(&e, "$.Abcd", 6, NULL, 0, 0), 0);
        assert_int_equal(kbus_msg_create_request(&p, "$.Abcd", 6, NULL, 0, 0), 0);
        assert_entire_twin(e, p);
        assert_int_equal(kbus_msg_create_entire_reply_to(&e, req, "r", 1, 0), 0);
        assert_int_equal(kbus_msg_create_reply_to(&p, req, "r", 1, 0), 0);
        assert_int_equal(e->to, 7);
        assert_entire_twin(e, p);
        assert_int_equal(kbus_msg_create_entire_reply_to(&reply, req, NULL, 0, 0), 0);
        reply->from = 9; /* as if received */
        assert_int_equal(kbus_msg_create_entire_stateful_request(&e, reply, "$.Ask", 5, "s", 1, 0),
                         0);
        assert_int_equal(kbus_msg_create_stateful_request(&p, reply, "$.Ask", 5, "s", 1, 0), 0);
        assert_true(kbus_msg_is_stateful_request(e));
        assert_entire_twin(e, p);

        /* Errors leave no message, and set errno. */
        e = req;
        errno = 0;
        assert_int_equal(kbus_msg_create_entire(&e, NULL, 3, NULL, 0, 0), -EINVAL);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(kbus_msg_create_entire(&e, "$.A", 3, "", 20 * 1024 * 1024, 0), -EMSGSIZE);
        assert_null(e);
        assert_int_equal(kbus_msg_create_entire_reply_to(&e, reply, NULL, 0, 0), -EBADMSG);
        assert_int_equal(kbus_msg_sizeof(NULL), -EINVAL);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
}

/* kbus_msg_delete_all() frees a pointy message's name and data (ASan and
 * valgrind see a leak otherwise), and only the block of an entire one. */
static void test_delete_all(void **state)
{
        kbus_message_t *m;
        (void)state;

        assert_int_equal(kbus_msg_create(&m, strdup("$.A"), 3, strdup("d"), 1, 0), 0);
        kbus_msg_delete_all(&m);
        assert_null(m);
        assert_int_equal(kbus_msg_create_entire(&m, "$.A", 3, "d", 1, 0), 0);
        kbus_msg_delete_all(&m);
        assert_null(m);
        kbus_msg_delete_all(&m);
        kbus_msg_delete_all(NULL);
}

static void test_inline_helpers(void **state)
{
        kbus_msg_id_t a = { 1, 5 }, b = { 1, 6 }, c = { 2, 0 };
        kbus_message_t *m;
        (void)state;

        assert_int_equal(kbus_msg_compare_ids(&a, &b), -1);
        assert_int_equal(kbus_msg_compare_ids(&b, &a), 1);
        assert_int_equal(kbus_msg_compare_ids(&b, &c), -1);
        assert_int_equal(kbus_msg_compare_ids(&c, &a), 1);
        assert_int_equal(kbus_msg_compare_ids(&a, &a), 0);
        assert_int_equal(kbus_msg_create_request(&m, "$.A", 3, NULL, 0, 0), 0);
        assert_false(kbus_msg_is_stateful_request(m));
        m->to = 4;
        assert_true(kbus_msg_is_stateful_request(m));
        m->flags = 0;
        assert_false(kbus_msg_is_stateful_request(m));
        kbus_msg_delete(&m);
        assert_int_equal(KBUS_PADDED_NAME_LEN(3), 4);
        assert_int_equal(KBUS_PADDED_NAME_LEN(4), 8);
        assert_int_equal(KBUS_PADDED_DATA_LEN(0), 0);
        assert_int_equal(KBUS_PADDED_DATA_LEN(5), 8);
        assert_int_equal(KBUS_ENTIRE_MSG_END_GUARD_INDEX(4, 5), 4);
}

/* print2 without ABBREVIATE shows all the data. */
static void test_print2(void **state)
{
        char *buf = NULL;
        size_t len = 0;
        kbus_message_t *m;
        (void)state;

        assert_int_equal(kbus_msg_create(&m, "$.D", 3, "0123456789abcdefghijKL", 22, 0), 0);
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        kbus_msg_print2(f, m, 0);
        fputc('|', f);
        kbus_msg_print2(f, m, KBUS_MSG_PRINT_FLAGS_ABBREVIATE);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "<Announcement '$.D' data=0123456789abcdefghijKL>|"
                                 "<Announcement '$.D' data=0123456789abcdefghij...>");
        free(buf);
        kbus_msg_delete(&m);
}

/* kbus_msg_dump() prints on stdout: catch it in a temporary file. */
static char *dump_str(const kbus_message_t *m, int dump_data)
{
        static char out[4096];
        FILE *tmp = tmpfile();
        int saved = dup(STDOUT_FILENO);

        assert_non_null(tmp);
        fflush(stdout);
        assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
        kbus_msg_dump(m, dump_data);
        fflush(stdout);
        assert_true(dup2(saved, STDOUT_FILENO) >= 0);
        close(saved);
        rewind(tmp);
        size_t n = fread(out, 1, sizeof(out) - 1, tmp);
        out[n] = 0;
        fclose(tmp);
        return out;
}

static void test_dump(void **state)
{
        kbus_message_t *m;
        (void)state;

        assert_int_equal(kbus_msg_create_entire(&m, "$.D", 3, "a\x01", 2, 0x3), 0);
        char *out = dump_str(m, 0);
        assert_non_null(strstr(out, "(entire, 100 bytes)\n"));
        assert_non_null(strstr(out, "  flags        0x3\n"));
        assert_non_null(strstr(out, "  name_len     3\n  data_len     2\n"));
        assert_non_null(strstr(out, "  the name:    $.D\n"));
        assert_null(strstr(out, "the data"));
        out = dump_str(m, 1);
        assert_non_null(strstr(out, "  the data:    a?\n  data bytes:\n    61 01\n"));
        assert_non_null(strstr(out, "  message bytes:\n    4b 62 75 73 00 00"));
        kbus_msg_delete(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create),
                cmocka_unit_test(test_create_errors),
                cmocka_unit_test(test_create_request),
                cmocka_unit_test(test_create_reply_to),
                cmocka_unit_test(test_create_stateful_request),
                cmocka_unit_test(test_ptrs_pointy),
                cmocka_unit_test(test_ptrs_entire),
                cmocka_unit_test(test_entire_size),
                cmocka_unit_test(test_to_wire_pointy),
                cmocka_unit_test(test_to_wire_entire),
                cmocka_unit_test(test_to_wire_errors),
                cmocka_unit_test(test_from_wire_round_trip),
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_split_bind_event),
                cmocka_unit_test(test_split_bind_event_errors),
                cmocka_unit_test(test_print_announcement),
                cmocka_unit_test(test_print_request),
                cmocka_unit_test(test_print_reply),
                cmocka_unit_test(test_print_status),
                cmocka_unit_test(test_print_bind_event),
                cmocka_unit_test(test_print_data),
                cmocka_unit_test(test_create_entire),
                cmocka_unit_test(test_delete_all),
                cmocka_unit_test(test_inline_helpers),
                cmocka_unit_test(test_print2),
                cmocka_unit_test(test_dump),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
