/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-codec.c - unit tests for the frame and message codec (src/proto/codec.c).
 *
 * The codec is the first thing untrusted bytes meet, so besides round trips
 * these tests feed it every kind of malformed input: short headers,
 * impossible frame lengths, messages whose name_len/data_len do not add up
 * (including values that would wrap 32-bit arithmetic), non-zero padding and
 * every prefix of a valid message.  Inputs are copied into heap buffers of
 * exactly the length passed to the decoder, so that an out-of-bounds read
 * shows up under valgrind or ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../src/proto/codec.h"

/* A heap copy of @n bytes of @src, exactly @n bytes long (never NULL). */
static uint8_t *dup_exact(const uint8_t *src, size_t n)
{
        uint8_t *p = malloc(n ? n : 1);

        assert_non_null(p);
        if (n)
                memcpy(p, src, n);
        return p;
}

/* Decodes @n bytes of @src from an exactly sized heap copy. */
static int msg_decode_exact(const uint8_t *src, size_t n, WireMsg *ret)
{
        uint8_t *p = dup_exact(src, n);
        int r = codec_msg_decode(p, n, ret);

        free(p);
        return r;
}

static WireMsg sample_msg(const char *name, uint32_t name_len, const uint8_t *data,
                          uint32_t data_len)
{
        return (WireMsg){
                .id_net = 0x01020304, .id_serial = 0x05060708,
                .irt_net = 0x11121314, .irt_serial = 0x15161718,
                .to = 0x21222324, .from = 0x25262728,
                .orig_net = 0x31323334, .orig_local = 0x35363738,
                .final_net = 0x41424344, .final_local = 0x45464748,
                .extra = 0x51525354, .flags = 0xffff0309u,
                .name_len = name_len, .data_len = data_len,
                .name = name, .data = data,
        };
}

/* Encodes @m into a fresh heap buffer; returns it and its length. */
static uint8_t *encode_alloc(const WireMsg *m, size_t *ret_len)
{
        uint64_t size = codec_msg_size(m);
        uint8_t *p = malloc((size_t)size);

        assert_non_null(p);
        memset(p, 0xa5, (size_t)size);
        assert_int_equal(codec_msg_encode(p, m), size);
        *ret_len = (size_t)size;
        return p;
}

static void assert_fixed_fields_equal(const WireMsg *a, const WireMsg *b)
{
        assert_int_equal(a->id_net, b->id_net);
        assert_int_equal(a->id_serial, b->id_serial);
        assert_int_equal(a->irt_net, b->irt_net);
        assert_int_equal(a->irt_serial, b->irt_serial);
        assert_int_equal(a->to, b->to);
        assert_int_equal(a->from, b->from);
        assert_int_equal(a->orig_net, b->orig_net);
        assert_int_equal(a->orig_local, b->orig_local);
        assert_int_equal(a->final_net, b->final_net);
        assert_int_equal(a->final_local, b->final_local);
        assert_int_equal(a->extra, b->extra);
        assert_int_equal(a->flags, b->flags);
        assert_int_equal(a->name_len, b->name_len);
        assert_int_equal(a->data_len, b->data_len);
}

/* ---- frame header ---- */

static void test_header_round_trip(void **state)
{
        static const uint32_t lens[] = { KBUS_FRAME_HDR_LEN, 9, 1234, 0x00ab12cd,
                                         KBUS_FRAME_LEN_MAX };
        uint8_t buf[KBUS_FRAME_HDR_LEN];
        FrameHdr h;

        codec_header_encode(buf, 0x01020304, 0x0506, 0x0708);
        const uint8_t expect[] = { 0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x07 };
        assert_memory_equal(buf, expect, sizeof(expect));
        assert_int_equal(codec_header_decode(buf, sizeof(buf), &h), 0);
        assert_int_equal(h.len, 0x01020304);
        assert_int_equal(h.type, 0x0506);
        assert_int_equal(h.flags, 0x0708);

        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                codec_header_encode(buf, lens[i], FRAME_SEND, 0xabcd);
                uint8_t *p = dup_exact(buf, sizeof(buf));
                memset(&h, 0, sizeof(h));
                assert_int_equal(codec_header_decode(p, sizeof(buf), &h), 0);
                assert_int_equal(h.len, lens[i]);
                assert_int_equal(h.type, FRAME_SEND);
                assert_int_equal(h.flags, 0xabcd);
                free(p);
        }

        /* Bytes after the header are not the header's business. */
        uint8_t longer[12] = { 0 };
        codec_header_encode(longer, 12, FRAME_RESULT, 0);
        assert_int_equal(codec_header_decode(longer, sizeof(longer), &h), 0);
        assert_int_equal(h.len, 12);
        assert_int_equal(h.type, FRAME_RESULT);
        assert_int_equal(h.flags, 0);
}

static void test_header_short(void **state)
{
        uint8_t buf[KBUS_FRAME_HDR_LEN];

        codec_header_encode(buf, 100, FRAME_BIND, 1);
        for (size_t n = 0; n < KBUS_FRAME_HDR_LEN; n++) {
                FrameHdr h = { .len = 0xdead, .type = 0xbe, .flags = 0xef };
                uint8_t *p = dup_exact(buf, n);
                assert_int_equal(codec_header_decode(p, n, &h), CODEC_E_SHORT);
                /* ret is not written on failure */
                assert_int_equal(h.len, 0xdead);
                assert_int_equal(h.type, 0xbe);
                assert_int_equal(h.flags, 0xef);
                free(p);
        }
}

static void test_header_bad_length(void **state)
{
        static const uint32_t bad[] = { 0, 1, 2, 3, 4, 5, 6, 7, KBUS_FRAME_LEN_MAX + 1,
                                        KBUS_FRAME_LEN_MAX * 2u, 0x80000000u, 0xffffffffu };
        uint8_t buf[KBUS_FRAME_HDR_LEN];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                FrameHdr h = { .len = 0xdead };
                codec_header_encode(buf, bad[i], FRAME_SEND, 0);
                assert_int_equal(codec_header_decode(buf, sizeof(buf), &h), CODEC_E_MALFORMED);
                assert_int_equal(h.len, 0xdead);
        }
}

/* ---- messages ---- */

static void test_msg_round_trip_empty_data(void **state)
{
        const char *name = "$.Sensors.Kitchen"; /* 17 bytes: padded to 20 */
        WireMsg m = sample_msg(name, 17, NULL, 0), d;
        size_t len;
        uint8_t *p = encode_alloc(&m, &len);

        assert_int_equal(len, WMSG_FIXED_LEN + 20);
        assert_int_equal(get_le32(p + WMSG_NAME_LEN), 17);
        assert_int_equal(get_le32(p + WMSG_DATA_LEN), 0);
        assert_int_equal(get_le32(p + WMSG_FLAGS), 0xffff0309u);
        assert_int_equal(codec_msg_decode(p, len, &d), 0);
        assert_fixed_fields_equal(&d, &m);
        assert_ptr_equal(d.name, (const char *)p + WMSG_FIXED_LEN);
        assert_memory_equal(d.name, name, 17);
        assert_int_equal(d.name[17], '\0');
        assert_ptr_equal(d.data, p + len); /* empty data: just past the name */
        free(p);
}

static void test_msg_round_trip_data(void **state)
{
        uint8_t data[37];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 7); /* includes a NUL byte */
        WireMsg m = sample_msg("$.a", 3, data, sizeof(data)), d;
        size_t len;
        uint8_t *p = encode_alloc(&m, &len);

        assert_int_equal(len, WMSG_FIXED_LEN + 4 + sizeof(data));
        assert_int_equal(codec_msg_decode(p, len, &d), 0);
        assert_fixed_fields_equal(&d, &m);
        assert_memory_equal(d.name, "$.a", 4); /* and the NUL */
        assert_ptr_equal(d.data, p + WMSG_FIXED_LEN + 4);
        assert_memory_equal(d.data, data, sizeof(data));
        free(p);
}

static void test_msg_name_padding(void **state)
{
        /* name_len -> padded length: always at least one NUL, multiple of 4 */
        static const uint32_t padded[] = { 0, 4, 4, 4, 8, 8, 8, 8, 12 };
        const char *name = "abcdefgh";
        const uint8_t data[] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };

        for (uint32_t n = 1; n <= 8; n++) {
                WireMsg m = sample_msg(name, n, data, sizeof(data)), d;
                size_t len;
                uint8_t *p = encode_alloc(&m, &len);

                assert_int_equal(wire_name_pad(n), padded[n]);
                assert_int_equal(len, WMSG_FIXED_LEN + padded[n] + sizeof(data));
                assert_memory_equal(p + WMSG_FIXED_LEN, name, n);
                for (uint32_t i = n; i < padded[n]; i++)
                        assert_int_equal(p[WMSG_FIXED_LEN + i], 0);
                assert_memory_equal(p + WMSG_FIXED_LEN + padded[n], data, sizeof(data));

                memset(&d, 0, sizeof(d));
                assert_int_equal(msg_decode_exact(p, len, &d), 0);
                assert_fixed_fields_equal(&d, &m);
                assert_int_equal(codec_msg_decode(p, len, &d), 0);
                assert_ptr_equal(d.data, p + WMSG_FIXED_LEN + padded[n]);
                free(p);
        }
}

static void test_msg_max_name(void **state)
{
        char name[KBUS_NAME_LEN_MAX];
        memset(name, 'x', sizeof(name));
        name[0] = '$';
        name[1] = '.';
        const uint8_t data[] = { 9, 8, 7 };
        WireMsg m = sample_msg(name, KBUS_NAME_LEN_MAX, data, sizeof(data)), d;
        size_t len;
        uint8_t *p = encode_alloc(&m, &len);

        assert_int_equal(len, WMSG_FIXED_LEN + KBUS_NAME_LEN_MAX + 4 + sizeof(data));
        assert_int_equal(codec_msg_decode(p, len, &d), 0);
        assert_fixed_fields_equal(&d, &m);
        assert_memory_equal(d.name, name, KBUS_NAME_LEN_MAX);
        assert_memory_equal(d.data, data, sizeof(data));
        free(p);
}

static void test_msg_too_short(void **state)
{
        uint8_t fixed[WMSG_FIXED_LEN + 4];
        WireMsg d;

        memset(fixed, 0, sizeof(fixed));
        put_le32(fixed + WMSG_NAME_LEN, 1);
        fixed[WMSG_FIXED_LEN] = 'a';
        assert_int_equal(msg_decode_exact(fixed, sizeof(fixed), &d), 0); /* sanity */
        for (size_t n = 0; n < WMSG_FIXED_LEN; n++)
                assert_int_equal(msg_decode_exact(fixed, n, &d), CODEC_E_MALFORMED);
}

/* A message with the given length fields and @len bytes in all. */
static int decode_with_lengths(uint32_t name_len, uint32_t data_len, size_t len)
{
        uint8_t *p = calloc(1, len);
        WireMsg d = { .name_len = 0xdead };

        assert_non_null(p);
        put_le32(p + WMSG_NAME_LEN, name_len);
        put_le32(p + WMSG_DATA_LEN, data_len);
        /* up to 3 name bytes, never into the padding: all-NUL padding passes */
        size_t n = len - WMSG_FIXED_LEN < 3 ? len - WMSG_FIXED_LEN : 3;
        memset(p + WMSG_FIXED_LEN, 'n', name_len < n ? name_len : n);
        int r = codec_msg_decode(p, len, &d);
        free(p);
        if (r)
                assert_int_equal(d.name_len, 0xdead); /* ret is not written on failure */
        return r;
}

static void test_msg_bad_lengths(void **state)
{
        /* sanity: "nnn" + NUL, 8 data bytes */
        assert_int_equal(decode_with_lengths(3, 8, WMSG_FIXED_LEN + 4 + 8), 0);

        /* name_len 0, whatever the rest says */
        assert_int_equal(decode_with_lengths(0, 0, WMSG_FIXED_LEN), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(0, 0, WMSG_FIXED_LEN + 4), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(0, 8, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);

        /* lengths that need more bytes than there are */
        assert_int_equal(decode_with_lengths(3, 9, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(4, 8, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(3, 0, WMSG_FIXED_LEN), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(1000, 0, WMSG_FIXED_LEN + 4), CODEC_E_MALFORMED);

        /* lengths that leave bytes over */
        assert_int_equal(decode_with_lengths(3, 7, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(3, 0, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(3, 8, WMSG_FIXED_LEN + 4 + 9), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(3, 4, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(5, 3, WMSG_FIXED_LEN + 4 + 8), CODEC_E_MALFORMED);
}

static void test_msg_huge_lengths(void **state)
{
        /* 56 + pad(0x80000000) + 0x80000004 == 2^32 + 64: wraps to 64 in 32 bits */
        assert_int_equal(decode_with_lengths(0x80000000u, 0x80000004u, 64), CODEC_E_MALFORMED);
        /* name padding alone wraps: (0xfffffffc + 4) & ~3 == 0 in 32 bits */
        for (uint32_t nl = 0xfffffffcu; nl != 0; nl++) {
                assert_int_equal(decode_with_lengths(nl, 4, WMSG_FIXED_LEN + 4),
                                 CODEC_E_MALFORMED);
                assert_int_equal(decode_with_lengths(nl, 0, WMSG_FIXED_LEN + 4),
                                 CODEC_E_MALFORMED);
                assert_int_equal(decode_with_lengths(nl, 8, WMSG_FIXED_LEN + 8),
                                 CODEC_E_MALFORMED);
        }
        /* data_len alone near 2^32 */
        assert_int_equal(decode_with_lengths(3, 0xffffffffu, WMSG_FIXED_LEN + 4),
                         CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(3, 0xfffffffcu, WMSG_FIXED_LEN + 4 + 8),
                         CODEC_E_MALFORMED);
        /* 56 + 4 + 0xffffffc8 == 2^32 + 4: wraps below the fixed part */
        assert_int_equal(decode_with_lengths(3, 0xffffffc8u, WMSG_FIXED_LEN + 4),
                         CODEC_E_MALFORMED);
        assert_int_equal(decode_with_lengths(0xffffffffu, 0xffffffffu, WMSG_FIXED_LEN + 4),
                         CODEC_E_MALFORMED);

        /* the size a sender checks against the bus maximum does not wrap either */
        WireMsg m = { .name_len = 0xfffffffdu, .data_len = 4 };
        assert_int_equal(codec_msg_size(&m), WMSG_FIXED_LEN + 0x100000000ull + 4);
        m = (WireMsg){ .name_len = 0xffffffffu, .data_len = 0xffffffffu };
        assert_int_equal(codec_msg_size(&m), WMSG_FIXED_LEN + 0x100000000ull + 0xffffffffull);
}

static void test_msg_nonzero_padding(void **state)
{
        const char *name = "abcdefgh";

        for (uint32_t n = 1; n <= 8; n++) {
                WireMsg m = sample_msg(name, n, (const uint8_t *)"xy", 2), d;
                size_t len;
                uint8_t *p = encode_alloc(&m, &len);

                for (uint32_t i = n; i < wire_name_pad(n); i++) {
                        p[WMSG_FIXED_LEN + i] = 0x01;
                        assert_int_equal(msg_decode_exact(p, len, &d), CODEC_E_MALFORMED);
                        p[WMSG_FIXED_LEN + i] = 0x80;
                        assert_int_equal(msg_decode_exact(p, len, &d), CODEC_E_MALFORMED);
                        p[WMSG_FIXED_LEN + i] = 0;
                }
                assert_int_equal(msg_decode_exact(p, len, &d), 0);
                free(p);
        }
}

/* Every prefix of a valid message is rejected, read only within its bounds. */
static void test_msg_every_prefix(void **state)
{
        const uint8_t data[] = "some data\0with a NUL";
        WireMsg m = sample_msg("$.Sensors.Kitchen.Toaster", 25, data, sizeof(data)), d;
        size_t len;
        uint8_t *p = encode_alloc(&m, &len);

        for (size_t n = 0; n < len; n++)
                assert_int_equal(msg_decode_exact(p, n, &d), CODEC_E_MALFORMED);
        assert_int_equal(msg_decode_exact(p, len, &d), 0);
        assert_fixed_fields_equal(&d, &m);

        /* and with trailing bytes */
        uint8_t *q = malloc(len + 8);
        assert_non_null(q);
        memcpy(q, p, len);
        memset(q + len, 0, 8);
        for (size_t n = len + 1; n <= len + 8; n++)
                assert_int_equal(msg_decode_exact(q, n, &d), CODEC_E_MALFORMED);
        free(q);
        free(p);
}

/* ---- HELLO, WELCOME, RESULT ---- */

static void test_hello(void **state)
{
        uint8_t body[HELLO_LEN + 1];
        Hello h = { .magic = KBUS_PROTO_MAGIC, .version = KBUS_PROTO_VERSION,
                    .mode = HELLO_MODE_READ | HELLO_MODE_WRITE, .options = HELLO_OPT_SHM };
        Hello d;

        memset(body, 0xff, sizeof(body));
        codec_hello_encode(body, &h);
        assert_memory_equal(body, "KBUS", 4);
        assert_int_equal(get_le32(body + 12), 0); /* reserved */
        assert_int_equal(body[HELLO_LEN], 0xff);  /* nothing written past the body */
        assert_int_equal(codec_hello_decode(body, HELLO_LEN, &d), 0);
        assert_int_equal(d.magic, KBUS_PROTO_MAGIC);
        assert_int_equal(d.version, KBUS_PROTO_VERSION);
        assert_int_equal(d.mode, HELLO_MODE_READ | HELLO_MODE_WRITE);
        assert_int_equal(d.options, HELLO_OPT_SHM);

        h = (Hello){ .magic = 0xcafebabe, .version = 0xfffe, .mode = 0x8001,
                     .options = 0xffffffffu };
        codec_hello_encode(body, &h);
        assert_int_equal(codec_hello_decode(body, HELLO_LEN, &d), 0);
        assert_int_equal(d.magic, 0xcafebabe); /* judged by the caller */
        assert_int_equal(d.version, 0xfffe);
        assert_int_equal(d.mode, 0x8001);
        assert_int_equal(d.options, 0xffffffffu);

        for (size_t n = 0; n <= HELLO_LEN + 1; n++) {
                if (n == HELLO_LEN)
                        continue;
                uint8_t *p = dup_exact(body, n);
                assert_int_equal(codec_hello_decode(p, n, &d), CODEC_E_MALFORMED);
                free(p);
        }
}

static void test_welcome(void **state)
{
        uint8_t body[WELCOME_LEN + 1];
        Welcome w = { .magic = KBUS_PROTO_MAGIC, .version = KBUS_PROTO_VERSION,
                      .status = -71, .ksock_id = 0x12345678, .bus = 255,
                      .max_msg_size = KBUS_MSG_SIZE_DEFAULT, .max_messages = 100,
                      .shm_size = 8192 };
        Welcome d;

        memset(body, 0xff, sizeof(body));
        codec_welcome_encode(body, &w);
        assert_int_equal(get_le16(body + 6), 0); /* reserved */
        assert_int_equal(body[WELCOME_LEN], 0xff);
        memset(&d, 0, sizeof(d));
        assert_int_equal(codec_welcome_decode(body, WELCOME_LEN, &d), 0);
        assert_int_equal(d.magic, KBUS_PROTO_MAGIC);
        assert_int_equal(d.version, KBUS_PROTO_VERSION);
        assert_int_equal(d.status, -71);
        assert_int_equal(d.ksock_id, 0x12345678);
        assert_int_equal(d.bus, 255);
        assert_int_equal(d.max_msg_size, KBUS_MSG_SIZE_DEFAULT);
        assert_int_equal(d.max_messages, 100);
        assert_int_equal(d.shm_size, 8192);

        for (size_t n = 0; n <= WELCOME_LEN + 1; n++) {
                if (n == WELCOME_LEN)
                        continue;
                uint8_t *p = dup_exact(body, n);
                assert_int_equal(codec_welcome_decode(p, n, &d), CODEC_E_MALFORMED);
                free(p);
        }
}

static void test_result(void **state)
{
        uint8_t body[RESULT_LEN + 4];
        Result r = { .status = -98, .value0 = 0xfedcba98u, .value1 = 7 };
        Result d;

        memset(body, 0xff, sizeof(body));
        codec_result_encode(body, &r);
        assert_int_equal(body[RESULT_LEN], 0xff);
        assert_int_equal(codec_result_decode(body, RESULT_LEN, &d), 0);
        assert_int_equal(d.status, -98);
        assert_int_equal(d.value0, 0xfedcba98u);
        assert_int_equal(d.value1, 7);

        /* a RESULT may carry a payload after its fixed part */
        memset(&d, 0, sizeof(d));
        assert_int_equal(codec_result_decode(body, sizeof(body), &d), 0);
        assert_int_equal(d.status, -98);
        assert_int_equal(d.value0, 0xfedcba98u);
        assert_int_equal(d.value1, 7);

        r = (Result){ .status = 0, .value0 = 0, .value1 = 0xffffffffu };
        codec_result_encode(body, &r);
        assert_int_equal(codec_result_decode(body, RESULT_LEN, &d), 0);
        assert_int_equal(d.status, 0);
        assert_int_equal(d.value0, 0);
        assert_int_equal(d.value1, 0xffffffffu);

        for (size_t n = 0; n < RESULT_LEN; n++) {
                uint8_t *p = dup_exact(body, n);
                assert_int_equal(codec_result_decode(p, n, &d), CODEC_E_MALFORMED);
                free(p);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_round_trip),
                cmocka_unit_test(test_header_short),
                cmocka_unit_test(test_header_bad_length),
                cmocka_unit_test(test_msg_round_trip_empty_data),
                cmocka_unit_test(test_msg_round_trip_data),
                cmocka_unit_test(test_msg_name_padding),
                cmocka_unit_test(test_msg_max_name),
                cmocka_unit_test(test_msg_too_short),
                cmocka_unit_test(test_msg_bad_lengths),
                cmocka_unit_test(test_msg_huge_lengths),
                cmocka_unit_test(test_msg_nonzero_padding),
                cmocka_unit_test(test_msg_every_prefix),
                cmocka_unit_test(test_hello),
                cmocka_unit_test(test_welcome),
                cmocka_unit_test(test_result),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
