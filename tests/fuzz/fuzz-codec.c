/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz-codec.c - libFuzzer target for the frame codec (src/proto/codec.c).
 *
 * Every input is tried three ways, since kbusd and libkbus meet untrusted
 * bytes in each of them (STYLE §6, semantics §16):
 *
 *  - as a byte stream cut into frames the way client.c does it: header
 *    first, then the body the header claims, each body handed to the
 *    decoder for its type (a MSG body after its 8-byte prefix);
 *  - as one bare encoded message (a SEND body);
 *  - as the bare body of a HELLO, WELCOME and RESULT.
 *
 * Besides "no crash, no out-of-bounds access, no undefined behaviour"
 * (ASan/UBSan), each successful decode must satisfy the documented layout
 * (docs/protocol.md): lengths add up exactly, the name and data lie inside
 * the input, the padding is NUL, and encoding the decoded value gives the
 * same bytes back.  A violation aborts, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "name.h"

#define CHECK(cond)                      \
        do {                             \
                if (!(cond))             \
                        __builtin_trap(); \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_msg(const uint8_t *p, size_t len)
{
        WireMsg m;

        if (codec_msg_decode(p, len, &m) != 0)
                return;
        uint64_t pad = ((uint64_t)m.name_len + 4u) & ~(uint64_t)3u;
        CHECK(m.name_len > 0);
        CHECK(codec_msg_size(&m) == len);
        CHECK(WMSG_FIXED_LEN + pad + m.data_len == len);
        CHECK((const uint8_t *)m.name == p + WMSG_FIXED_LEN);
        CHECK(m.data == p + WMSG_FIXED_LEN + pad);
        for (uint64_t i = m.name_len; i < pad; i++)
                CHECK(m.name[i] == '\0');

        /* the encoding is canonical: decode then encode is the identity */
        uint8_t *out = malloc(len);
        CHECK(out != NULL);
        CHECK(codec_msg_encode(out, &m) == len);
        CHECK(memcmp(out, p, len) == 0);
        free(out);

        /* the name, as kbusd would check it next */
        NameKind kind;
        int plain = name_check(m.name, m.name_len, false, &kind);
        if (plain == 0)
                CHECK(kind == NAME_PLAIN);
        (void)name_check(m.name, m.name_len, true, NULL);
}

static void fuzz_hello(const uint8_t *p, size_t len)
{
        uint8_t out[HELLO_LEN];
        Hello h;

        if (codec_hello_decode(p, len, &h) != 0)
                return;
        CHECK(len == HELLO_LEN);
        codec_hello_encode(out, &h);
        CHECK(memcmp(out, p, 12) == 0); /* the last 4 bytes are reserved */
}

static void fuzz_welcome(const uint8_t *p, size_t len)
{
        uint8_t out[WELCOME_LEN];
        Welcome w;

        if (codec_welcome_decode(p, len, &w) != 0)
                return;
        CHECK(len == WELCOME_LEN);
        codec_welcome_encode(out, &w);
        CHECK(memcmp(out, p, 6) == 0); /* bytes 6-7 are reserved */
        CHECK(memcmp(out + 8, p + 8, WELCOME_LEN - 8) == 0);
}

static void fuzz_result(const uint8_t *p, size_t len)
{
        uint8_t out[RESULT_LEN];
        Result r;

        if (codec_result_decode(p, len, &r) != 0)
                return;
        CHECK(len >= RESULT_LEN);
        codec_result_encode(out, &r);
        CHECK(memcmp(out, p, RESULT_LEN) == 0);
}

static void fuzz_body(const FrameHdr *h, const uint8_t *body, size_t len)
{
        switch (h->type) {
        case FRAME_SEND:
                fuzz_msg(body, len);
                break;
        case FRAME_MSG:
                if (len >= MSG_PREFIX_LEN)
                        fuzz_msg(body + MSG_PREFIX_LEN, len - MSG_PREFIX_LEN);
                break;
        case FRAME_HELLO:
                fuzz_hello(body, len);
                break;
        case FRAME_WELCOME:
                fuzz_welcome(body, len);
                break;
        case FRAME_RESULT:
        case FRAME_DONE:
                fuzz_result(body, len);
                break;
        default:
                break;
        }
}

static void fuzz_stream(const uint8_t *p, size_t size)
{
        FrameHdr h;
        uint8_t again[KBUS_FRAME_HDR_LEN];

        while (codec_header_decode(p, size, &h) == 0) {
                CHECK(h.len >= KBUS_FRAME_HDR_LEN && h.len <= KBUS_FRAME_LEN_MAX);
                codec_header_encode(again, h.len, h.type, h.flags);
                CHECK(memcmp(again, p, KBUS_FRAME_HDR_LEN) == 0);
                if (h.len > size)
                        return; /* a truncated frame: the reader would wait for more */
                fuzz_body(&h, p + KBUS_FRAME_HDR_LEN, h.len - KBUS_FRAME_HDR_LEN);
                p += h.len;
                size -= h.len;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_stream(data, size);
        fuzz_msg(data, size);
        fuzz_hello(data, size);
        fuzz_welcome(data, size);
        fuzz_result(data, size);
        return 0;
}
