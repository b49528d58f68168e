/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-request.c - what kbusd answers to each frame (docs/protocol.md),
 * byte for byte, with its core in the test process (core-test.h): the
 * handshake, one answer per request and in order, the frames that get no
 * answer or a NOP, ERROR frames for bodies that make no sense, frames too
 * long for their type skipped without losing the stream, frames arriving a
 * byte at a time, and what a connection that breaks the framing gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-test.h"

static TestCore t;

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

/* The WELCOME is exactly what the protocol says, ksock ids count from 1. */
static void test_welcome(void **state)
{
        uint8_t hello[HELLO_LEN], want[WELCOME_LEN];
        TestConn *a, *b;

        (void)state;
        a = tc_connect(&t, 1000, true);
        b = tc_connect_raw(&t, 1000);
        tc_expect_nothing(b); /* nothing before its HELLO */
        codec_hello_encode(hello, &(Hello){ .magic = KBUS_PROTO_MAGIC,
                                            .version = KBUS_PROTO_VERSION,
                                            .mode = HELLO_MODE_READ });
        tc_frame(b, FRAME_HELLO, 0, hello, sizeof(hello));
        codec_welcome_encode(want, &(Welcome){ .magic = KBUS_PROTO_MAGIC,
                                               .version = KBUS_PROTO_VERSION, .status = 0,
                                               .ksock_id = 2, .bus = 0, .max_msg_size = 65536,
                                               .max_messages = 100, .shm_size = 0 });
        tc_expect_frame(b, FRAME_WELCOME, 0, want, sizeof(want));
        tc_expect_nothing(b);
        assert_int_equal(a->id, 1);
}

/* A HELLO of another version, or without read mode, is refused and closed. */
static void test_hello_refused(void **state)
{
        static const struct {
                uint16_t version, mode;
                int32_t status;
        } cases[] = {
                { KBUS_PROTO_VERSION + 1, HELLO_MODE_READ, -EPROTONOSUPPORT },
                { KBUS_PROTO_VERSION, HELLO_MODE_WRITE, -EINVAL },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                TestConn *tc = tc_connect_raw(&t, 1000);
                uint8_t hello[HELLO_LEN];
                TestFrame f;
                Welcome w;
                codec_hello_encode(hello, &(Hello){ .magic = KBUS_PROTO_MAGIC,
                                                    .version = cases[i].version,
                                                    .mode = cases[i].mode });
                tc_frame(tc, FRAME_HELLO, 0, hello, sizeof(hello));
                assert_true(tc_read(tc, &f));
                assert_int_equal(f.type, FRAME_WELCOME);
                assert_int_equal(codec_welcome_decode(f.body, f.len, &w), 0);
                assert_int_equal(w.status, cases[i].status);
                assert_true(tc->gone);
                tc_expect_nothing(tc);
        }
}

/* Anything but a HELLO first: an ERROR saying so, then the end. */
static void test_not_hello_first(void **state)
{
        TestConn *tc, *big;
        uint8_t junk[64] = { 0 };

        (void)state;
        tc = tc_connect_raw(&t, 1000);
        tc_frame(tc, FRAME_BIND, 0, "$.a", 3);
        tc_expect_error(tc, -EPROTO, FRAME_BIND, 0, "expected a kbus HELLO");
        tc_expect_nothing(tc);
        assert_true(tc->gone);

        /* longer than any HELLO: closed without reading it */
        big = tc_connect_raw(&t, 1000);
        tc_frame(big, FRAME_HELLO, 0, junk, sizeof(junk));
        tc_expect_nothing(big);
        assert_true(big->gone);
        assert_int_equal(tc_log_count(&t, "first frame is not a kbus HELLO"), 2);
}

/* BIND, UNBIND and REPLIER, with their values and their errnos. */
static void test_bind_unbind(void **state)
{
        TestConn *a, *b;
        char long_name[KBUS_NAME_LEN_MAX + 2] = "$.";

        (void)state;
        a = tc_connect(&t, 1000, true);
        b = tc_connect(&t, 1001, true);
        tc_frame(a, FRAME_BIND, 0, "$.a", 3);
        tc_expect_result(a, 0, 1, 0);
        tc_frame(a, FRAME_BIND, FRAME_BIND_REPLIER, "$.a", 3);
        tc_expect_result(a, 0, 2, 0);
        tc_frame(b, FRAME_BIND, FRAME_BIND_REPLIER, "$.a", 3);
        tc_expect_result(b, -EADDRINUSE, 0, 0);
        tc_frame(b, FRAME_REPLIER, 0, "$.a", 3);
        tc_expect_result(b, 0, a->id, 0);
        tc_frame(b, FRAME_REPLIER, 0, "$.b", 3);
        tc_expect_result(b, 0, 0, 0);
        tc_frame(b, FRAME_REPLIER, 0, "$.*", 3);
        tc_expect_result(b, -EBADMSG, 0, 0);
        tc_frame(a, FRAME_BIND, 0, "a.b", 3);
        tc_expect_result(a, -EBADMSG, 0, 0);
        tc_frame(a, FRAME_BIND, FRAME_BIND_REPLIER, KBUS_MSG_NAME_REPLIER_BIND_EVENT,
                 strlen(KBUS_MSG_NAME_REPLIER_BIND_EVENT));
        tc_expect_result(a, -EBADMSG, 0, 0);
        memset(long_name + 2, 'x', KBUS_NAME_LEN_MAX - 1);
        tc_frame(a, FRAME_BIND, 0, long_name, KBUS_NAME_LEN_MAX + 1);
        tc_expect_result(a, -ENAMETOOLONG, 0, 0);
        tc_frame(a, FRAME_UNBIND, 0, "$.b", 3);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_frame(a, FRAME_UNBIND, 0, "$.a", 3); /* the listener binding, not the replier's */
        tc_expect_result(a, 0, 1, 0);
        tc_frame(a, FRAME_UNBIND, FRAME_BIND_REPLIER, "$.a", 3);
        tc_expect_result(a, 0, 2, 0);
        tc_frame(b, FRAME_BIND, FRAME_BIND_REPLIER, "$.a", 3);
        tc_expect_result(b, 0, 1, 0); /* binding ids count per ksock */
        tc_expect_nothing(a);
        tc_expect_nothing(b);
}

/* CTL: an 8-byte body or an ERROR; unknown ops EINVAL; the switches give the old state. */
static void test_ctl(void **state)
{
        TestConn *a;
        uint8_t short_body[4] = { 0 };

        (void)state;
        a = tc_connect(&t, 1000, true);
        tc_frame(a, FRAME_CTL, 0, short_body, sizeof(short_body));
        tc_expect_error(a, -EPROTO, FRAME_CTL, 0, "CTL body must be 8 bytes");
        tc_ctl(a, CTL_OP_MAX + 1, 0);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_ctl(a, 0, 0);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_ctl(a, CTL_MAX_MESSAGES, 0);
        tc_expect_result(a, 0, 100, 0);
        tc_ctl(a, CTL_MAX_MESSAGES, 7);
        tc_expect_result(a, 0, 7, 0);
        tc_ctl(a, CTL_ONLY_ONCE, 1);
        tc_expect_result(a, 0, 0, 0);
        tc_ctl(a, CTL_ONLY_ONCE, 0xffffffffu);
        tc_expect_result(a, 0, 1, 0);
        tc_ctl(a, CTL_ONLY_ONCE, 2);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_ctl(a, CTL_MAX_MSG_SIZE, 0);
        tc_expect_result(a, 0, 65536, 0);
        tc_ctl(a, CTL_MAX_MSG_SIZE, 10);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_ctl(a, CTL_NUM_MESSAGES, 0);
        tc_expect_result(a, 0, 0, 0);
        tc_ctl(a, CTL_LAST_SENT, 0);
        tc_expect_result(a, 0, 0, 0);
        tc_expect_nothing(a);
}

/* Frame types no client may send, and bodies that make no sense: an ERROR each. */
static void test_proto_errors(void **state)
{
        static const uint16_t bad_types[] = { 0, FRAME_CLIENT_MAX + 1, FRAME_WELCOME,
                                              FRAME_RESULT, FRAME_MSG, 0xffff };
        TestConn *a;
        uint8_t three[3] = { 0 };

        (void)state;
        a = tc_connect(&t, 1000, true);
        for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
                tc_frame(a, bad_types[i], 0x5a, NULL, 0);
                tc_expect_error(a, -EPROTO, bad_types[i], 0x5a, "unknown frame type");
        }
        tc_frame(a, FRAME_HELLO, 0, NULL, 0); /* a second HELLO */
        tc_expect_error(a, -EPROTO, FRAME_HELLO, 0, "unknown frame type");
        tc_frame(a, FRAME_TAKE, 0, three, sizeof(three));
        tc_expect_error(a, -EPROTO, FRAME_TAKE, 0, "TAKE body must be 4 bytes");
        tc_frame(a, FRAME_QUERY, 0, three, sizeof(three));
        tc_expect_error(a, -EPROTO, FRAME_QUERY, 0, "QUERY body must start with 4 bytes");
        tc_expect_nothing(a);
        assert_false(a->gone); /* the stream is still good */
        tc_ctl(a, CTL_MAX_MESSAGES, 0);
        tc_expect_result(a, 0, 100, 0);
}

/* TAKE, WAKE and a posted send that goes get no answer; POKE and WAKE SYNC a NOP. */
static void test_unanswered_and_nop(void **state)
{
        TestConn *a;
        uint8_t zero[4] = { 0 };

        (void)state;
        a = tc_connect(&t, 1000, true);
        tc_frame(a, FRAME_TAKE, 0, zero, sizeof(zero));
        tc_expect_nothing(a);
        tc_frame(a, FRAME_WAKE, 0, NULL, 0);
        tc_expect_nothing(a);
        tc_send(a, FRAME_SEND_POST, "$.a", "x", 0, 0, 0);
        tc_expect_nothing(a);
        tc_frame(a, FRAME_POKE, 0, NULL, 0);
        tc_expect_frame(a, FRAME_NOP, 0, NULL, 0);
        tc_frame(a, FRAME_WAKE, FRAME_WAKE_SYNC, NULL, 0);
        tc_expect_frame(a, FRAME_NOP, 0, NULL, 0);
        tc_frame(a, FRAME_DISCARD, 0, NULL, 0); /* nothing held: still a RESULT */
        tc_expect_result(a, 0, 0, 0);
        tc_expect_nothing(a);
}

/* SEND: the id in the RESULT, the errnos of the message, and of posting. */
static void test_send(void **state)
{
        TestConn *a, *r;
        uint8_t garbage[20] = { 0 };

        (void)state;
        a = tc_connect(&t, 1000, true);
        r = tc_connect(&t, 1000, false);
        tc_send(a, 0, "$.a", "x", 0, 0, 0);
        tc_expect_result(a, 0, 0, 1);
        tc_send(a, FRAME_SEND_POST, "$.a", "x", 0, 0, 0); /* serial 2, unanswered */
        tc_send(a, 0, "$.a", NULL, 0, 0, 0);
        tc_expect_result(a, 0, 0, 3);
        tc_ctl(a, CTL_LAST_SENT, 0);
        tc_expect_result(a, 0, 0, 3);
        tc_send(r, 0, "$.a", "x", 0, 0, 0);
        tc_expect_result(r, -EBADF, 0, 0);
        tc_send(a, 0, "$.a.*", "x", 0, 0, 0);
        tc_expect_result(a, -EBADMSG, 0, 0);
        tc_send(a, 0, "$.a", "x", KBUS_FLAG_ALL_OR_WAIT | KBUS_FLAG_ALL_OR_FAIL, 0, 0);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_send(a, 0, "$.a", "x", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_expect_result(a, -EADDRNOTAVAIL, 0, 0);
        tc_send(a, 0xfc, "$.a", "x", 0, 0, 0);
        tc_expect_result(a, -EINVAL, 0, 0);
        tc_frame(a, FRAME_SEND, 0, garbage, sizeof(garbage));
        tc_expect_result(a, -EBADMSG, 0, 0);
        /* a posted send that fails gets an ERROR about the posted frame */
        tc_send(a, FRAME_SEND_POST, "$.a", "x", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_expect_error(a, -EINVAL, FRAME_SEND, FRAME_SEND_POST, "posted message rejected");
        tc_send(a, FRAME_SEND_POST, "$.a.%", "x", 0, 0, 0);
        tc_expect_error(a, -EBADMSG, FRAME_SEND, FRAME_SEND_POST, "posted message rejected");
        tc_expect_nothing(a);
        tc_expect_nothing(r);
}

/* Frames that arrive together are answered once each, in order. */
static void test_pipelined(void **state)
{
        uint8_t bytes[1024], ctlb[8], *p = bytes;
        TestConn *a;

        (void)state;
        a = tc_connect(&t, 1000, true);
        const char *names[] = { "$.a", "$.b", "bad", "$.c" };
        for (int i = 0; i < 4; i++) {
                codec_header_encode(p, KBUS_FRAME_HDR_LEN + 3, FRAME_BIND, 0);
                memcpy(p + KBUS_FRAME_HDR_LEN, names[i], 3);
                p += KBUS_FRAME_HDR_LEN + 3;
        }
        codec_header_encode(p, KBUS_FRAME_HDR_LEN, FRAME_POKE, 0);
        p += KBUS_FRAME_HDR_LEN;
        put_le32(ctlb, CTL_MAX_MESSAGES);
        put_le32(ctlb + 4, 0);
        codec_header_encode(p, KBUS_FRAME_HDR_LEN + 8, FRAME_CTL, 0);
        memcpy(p + KBUS_FRAME_HDR_LEN, ctlb, 8);
        p += KBUS_FRAME_HDR_LEN + 8;
        codec_header_encode(p, KBUS_FRAME_HDR_LEN, 99, 0);
        p += KBUS_FRAME_HDR_LEN;
        tc_feed(a, bytes, (size_t)(p - bytes));
        tc_expect_result(a, 0, 1, 0);
        tc_expect_result(a, 0, 2, 0);
        tc_expect_result(a, -EBADMSG, 0, 0);
        tc_expect_result(a, 0, 3, 0);
        tc_expect_frame(a, FRAME_NOP, 0, NULL, 0);
        tc_expect_result(a, 0, 100, 0);
        tc_expect_error(a, -EPROTO, 99, 0, "unknown frame type");
        tc_expect_nothing(a);
}

/* More frames in one read than one wakeup's share: all answered, in order. */
static void test_many_frames_one_read(void **state)
{
        size_t n = KBUS_FRAMES_PER_WAKEUP * 2 + 17;
        uint8_t *bytes = malloc(n * KBUS_FRAME_HDR_LEN);
        TestConn *a;

        (void)state;
        assert_non_null(bytes);
        a = tc_connect(&t, 1000, true);
        for (size_t i = 0; i < n; i++)
                codec_header_encode(bytes + i * KBUS_FRAME_HDR_LEN, KBUS_FRAME_HDR_LEN,
                                    FRAME_POKE, 0);
        tc_feed(a, bytes, n * KBUS_FRAME_HDR_LEN);
        free(bytes);
        for (size_t i = 0; i < n; i++)
                tc_expect_frame(a, FRAME_NOP, 0, NULL, 0);
        tc_expect_nothing(a);
}

/* A frame fed one byte at a time is answered once, when its last byte comes. */
static void test_byte_at_a_time(void **state)
{
        uint8_t frame[KBUS_FRAME_HDR_LEN + 5];
        TestConn *a;

        (void)state;
        a = tc_connect(&t, 1000, true);
        codec_header_encode(frame, sizeof(frame), FRAME_BIND, FRAME_BIND_REPLIER);
        memcpy(frame + KBUS_FRAME_HDR_LEN, "$.abc", 5);
        for (size_t i = 0; i < sizeof(frame); i++) {
                tc_expect_nothing(a);
                tc_feed(a, frame + i, 1);
        }
        tc_expect_result(a, 0, 1, 0);
        tc_expect_nothing(a);
}

/* Feeds a frame of @len bytes with @type whose body is zeros, in chunks. */
static void feed_long_frame(TestConn *tc, uint16_t type, uint16_t flags, size_t len)
{
        static uint8_t zeros[8192];
        uint8_t hdr[KBUS_FRAME_HDR_LEN];

        codec_header_encode(hdr, (uint32_t)len, type, flags);
        tc_feed(tc, hdr, sizeof(hdr));
        for (size_t left = len - sizeof(hdr); left;) {
                size_t n = left < sizeof(zeros) ? left : sizeof(zeros);
                tc_expect_nothing(tc);
                tc_feed(tc, zeros, n);
                left -= n;
        }
}

/* Frames longer than their type allows are skipped as they come and answered. */
static void test_too_long_skipped(void **state)
{
        TestConn *a;

        (void)state;
        a = tc_connect(&t, 1000, true);
        feed_long_frame(a, FRAME_SEND, 0, KBUS_FRAME_HDR_LEN + 65536 + 1);
        tc_expect_result(a, -EMSGSIZE, 0, 0);
        feed_long_frame(a, FRAME_SEND, FRAME_SEND_POST, 200000);
        tc_expect_error(a, -EMSGSIZE, FRAME_SEND, FRAME_SEND_POST, "message too big");
        feed_long_frame(a, FRAME_BIND, 0, KBUS_FRAME_HDR_LEN + KBUS_SMALL_FRAME_MAX + 1);
        tc_expect_result(a, -ENAMETOOLONG, 0, 0);
        feed_long_frame(a, FRAME_CTL, 0, 10000);
        tc_expect_error(a, -EPROTO, FRAME_CTL, 0, "frame too long");
        tc_expect_nothing(a);
        assert_int_equal(buf_len(&a->c->in), 0); /* nothing of them was kept */
        tc_frame(a, FRAME_BIND, 0, "$.a", 3);
        tc_expect_result(a, 0, 1, 0);
}

/* A header that cannot be trusted ends the connection; the others go on. */
static void test_impossible_length(void **state)
{
        static const uint32_t lengths[] = { 0, KBUS_FRAME_HDR_LEN - 1, KBUS_FRAME_LEN_MAX + 1 };
        TestConn *other;

        (void)state;
        other = tc_connect(&t, 1000, true);
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                TestConn *a = tc_connect(&t, 1000, true);
                uint8_t hdr[KBUS_FRAME_HDR_LEN];
                codec_header_encode(hdr, lengths[i], FRAME_POKE, 0);
                tc_feed(a, hdr, sizeof(hdr));
                tc_expect_nothing(a);
                assert_true(a->gone);
        }
        tc_frame(other, FRAME_POKE, 0, NULL, 0);
        tc_expect_frame(other, FRAME_NOP, 0, NULL, 0);
}

/* What a client sent before closing still counts; a partial frame does not. */
static void test_eof(void **state)
{
        uint8_t bytes[2048];
        TestConn *a, *l;
        TestFrame f;

        (void)state;
        l = tc_connect(&t, 1000, false);
        tc_bind(l, "$.a", false, 0);
        a = tc_connect(&t, 1000, true);
        size_t n = tc_msg_encode(bytes + KBUS_FRAME_HDR_LEN, "$.a", "last", 0, 0, 0);
        codec_header_encode(bytes, (uint32_t)(KBUS_FRAME_HDR_LEN + n), FRAME_SEND,
                            FRAME_SEND_POST);
        codec_header_encode(bytes + KBUS_FRAME_HDR_LEN + n, 100, FRAME_SEND, 0); /* cut short */
        tc_feed(a, bytes, KBUS_FRAME_HDR_LEN + n + KBUS_FRAME_HDR_LEN + 10);
        WireMsg m = tc_expect_msg(l, &f, "$.a", a->id);
        assert_int_equal(m.data_len, 4);
        assert_memory_equal(m.data, "last", 4);
        tc_close(a);
        assert_true(a->gone);
        tc_expect_nothing(a);
        tc_expect_nothing(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_welcome, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hello_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_hello_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_unbind, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctl, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proto_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unanswered_and_nop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_send, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_frames_one_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_byte_at_a_time, setup, teardown),
                cmocka_unit_test_setup_teardown(test_too_long_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_impossible_length, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
