/* SPDX-License-Identifier: MPL-2.0 */
/*
 * codec.h - encode and decode kbus frames (see wire.h, docs/protocol.md).
 */
#ifndef KBUS_PROTO_CODEC_H
#define KBUS_PROTO_CODEC_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "wire.h"

/* Conditions the decoders report. */
enum {
        CODEC_E_SHORT = 1,     /* not enough bytes yet */
        CODEC_E_MALFORMED = 2, /* the bytes can never be a valid frame/field */
};

typedef struct FrameHdr {
        uint32_t len; /* whole frame, header included */
        uint16_t type;
        uint16_t flags;
} FrameHdr;

/* A decoded message; name and data point into the decoded bytes. */
typedef struct WireMsg {
        uint32_t id_net, id_serial;
        uint32_t irt_net, irt_serial;
        uint32_t to, from;
        uint32_t orig_net, orig_local;
        uint32_t final_net, final_local;
        uint32_t extra, flags;
        uint32_t name_len, data_len;
        const char *name;
        const uint8_t *data;
} WireMsg;

typedef struct Hello {
        uint32_t magic;
        uint16_t version;
        uint16_t mode;
        uint32_t options;
} Hello;

typedef struct Welcome {
        uint32_t magic;
        uint16_t version;
        int32_t status;
        uint32_t ksock_id;
        uint32_t bus;
        uint32_t max_msg_size;
        uint32_t max_messages;
        uint32_t shm_size;
} Welcome;

typedef struct Result {
        int32_t status;
        uint32_t value0, value1;
} Result;

static inline uint32_t get_le32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, 4);
        return le32toh(v);
}

static inline uint16_t get_le16(const uint8_t *p)
{
        uint16_t v;
        memcpy(&v, p, 2);
        return le16toh(v);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
        v = htole32(v);
        memcpy(p, &v, 4);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
        v = htole16(v);
        memcpy(p, &v, 2);
}

int codec_header_decode(const uint8_t *p, size_t avail, FrameHdr *ret);
void codec_header_encode(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags);

int codec_msg_decode(const uint8_t *p, size_t len, WireMsg *ret);
size_t codec_msg_encode(uint8_t *p, const WireMsg *m);
uint64_t codec_msg_size(const WireMsg *m);

int codec_hello_decode(const uint8_t *body, size_t len, Hello *ret);
void codec_hello_encode(uint8_t *body, const Hello *h);
int codec_welcome_decode(const uint8_t *body, size_t len, Welcome *ret);
void codec_welcome_encode(uint8_t *body, const Welcome *w);
int codec_result_decode(const uint8_t *body, size_t len, Result *ret);
void codec_result_encode(uint8_t *body, const Result *r);

/*
 * Appends a frame's header to @b and room for its @body_len bytes of body;
 * returns where to write the body, or NULL without memory (@b unchanged).
 * Inline: kbusd frames every message it delivers with it.
 */
static inline uint8_t *codec_frame_begin(Buf *b, uint16_t type, uint16_t flags, size_t body_len)
{
        if (body_len > KBUS_FRAME_LEN_MAX - KBUS_FRAME_HDR_LEN ||
            buf_reserve(b, KBUS_FRAME_HDR_LEN + body_len) < 0)
                return NULL;
        codec_header_encode(buf_tail(b), (uint32_t)(KBUS_FRAME_HDR_LEN + body_len), type, flags);
        uint8_t *body = buf_tail(b) + KBUS_FRAME_HDR_LEN;
        b->tail += KBUS_FRAME_HDR_LEN + body_len;
        return body;
}

#endif
