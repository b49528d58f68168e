/* SPDX-License-Identifier: MPL-2.0 */
/*
 * codec.c - encode and decode kbus frames.
 *
 * The one codec both kbusd and libkbus use, so the two sides cannot disagree
 * about a layout.  Every decoder takes untrusted bytes and a length, checks
 * each length in 64-bit arithmetic before it uses it, and never reads outside
 * [p, p + len).  Decoders check layout only; meaning (name syntax, flag
 * combinations, the bus size limit) is checked by the caller that knows the
 * context.  No allocation, no I/O.
 */
#include "codec.h"

/**
 * codec_header_decode() - decode a frame header.
 * @p:     the bytes received so far
 * @avail: how many
 * @ret:   the header, on success
 *
 * Return: 0; CODEC_E_SHORT if fewer than KBUS_FRAME_HDR_LEN bytes;
 * CODEC_E_MALFORMED if the length field is impossible (the stream can no
 * longer be trusted).
 */
int codec_header_decode(const uint8_t *p, size_t avail, FrameHdr *ret)
{
        if (avail < KBUS_FRAME_HDR_LEN)
                return CODEC_E_SHORT;
        uint32_t len = get_le32(p);
        if (len < KBUS_FRAME_HDR_LEN || len > KBUS_FRAME_LEN_MAX)
                return CODEC_E_MALFORMED;
        ret->len = len;
        ret->type = get_le16(p + 4);
        ret->flags = get_le16(p + 6);
        return 0;
}

/**
 * codec_header_encode() - write a frame header.
 * @p:     at least KBUS_FRAME_HDR_LEN bytes
 * @len:   whole frame length
 * @type:  FRAME_*
 * @flags: type-specific flags
 */
void codec_header_encode(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags)
{
        put_le32(p, len);
        put_le16(p + 4, type);
        put_le16(p + 6, flags);
}

static int codec_padding_is_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return 0;
        return 1;
}

/**
 * codec_msg_decode() - decode an encoded message.
 * @p:   the message bytes (a SEND body, or a MSG body after its prefix)
 * @len: exactly the message's length
 * @ret: the fields; name and data point into @p
 *
 * Checks that the fixed part is present, that name_len and data_len add up
 * to exactly @len, and that the name padding is all NUL bytes.  It does not
 * check the name's syntax.
 *
 * Return: 0, or CODEC_E_MALFORMED.
 */
int codec_msg_decode(const uint8_t *p, size_t len, WireMsg *ret)
{
        if (len < WMSG_FIXED_LEN)
                return CODEC_E_MALFORMED;
        uint32_t name_len = get_le32(p + WMSG_NAME_LEN);
        uint32_t data_len = get_le32(p + WMSG_DATA_LEN);
        uint64_t pad = wire_name_pad(name_len);
        if (name_len == 0 || WMSG_FIXED_LEN + pad + data_len != (uint64_t)len)
                return CODEC_E_MALFORMED;
        const uint8_t *name = p + WMSG_FIXED_LEN;
        if (!codec_padding_is_zero(name + name_len, (size_t)(pad - name_len)))
                return CODEC_E_MALFORMED;

        ret->id_net = get_le32(p + WMSG_ID_NET);
        ret->id_serial = get_le32(p + WMSG_ID_SERIAL);
        ret->irt_net = get_le32(p + WMSG_IRT_NET);
        ret->irt_serial = get_le32(p + WMSG_IRT_SERIAL);
        ret->to = get_le32(p + WMSG_TO);
        ret->from = get_le32(p + WMSG_FROM);
        ret->orig_net = get_le32(p + WMSG_ORIG_NET);
        ret->orig_local = get_le32(p + WMSG_ORIG_LOCAL);
        ret->final_net = get_le32(p + WMSG_FINAL_NET);
        ret->final_local = get_le32(p + WMSG_FINAL_LOCAL);
        ret->extra = get_le32(p + WMSG_EXTRA);
        ret->flags = get_le32(p + WMSG_FLAGS);
        ret->name_len = name_len;
        ret->data_len = data_len;
        ret->name = (const char *)name;
        ret->data = name + pad;
        return 0;
}

/**
 * codec_msg_size() - the encoded size of @m.
 * @m: the message
 *
 * Return: bytes codec_msg_encode() writes (64-bit: the caller checks limits).
 */
uint64_t codec_msg_size(const WireMsg *m)
{
        return wire_msg_size(m->name_len, m->data_len);
}

/**
 * codec_msg_encode() - encode a message.
 * @p: room for codec_msg_size(@m) bytes
 * @m: the message; name_len and data_len must already be within limits
 *
 * Return: the number of bytes written.
 */
size_t codec_msg_encode(uint8_t *p, const WireMsg *m)
{
        uint32_t pad = (uint32_t)wire_name_pad(m->name_len); /* a checked name */

        put_le32(p + WMSG_ID_NET, m->id_net);
        put_le32(p + WMSG_ID_SERIAL, m->id_serial);
        put_le32(p + WMSG_IRT_NET, m->irt_net);
        put_le32(p + WMSG_IRT_SERIAL, m->irt_serial);
        put_le32(p + WMSG_TO, m->to);
        put_le32(p + WMSG_FROM, m->from);
        put_le32(p + WMSG_ORIG_NET, m->orig_net);
        put_le32(p + WMSG_ORIG_LOCAL, m->orig_local);
        put_le32(p + WMSG_FINAL_NET, m->final_net);
        put_le32(p + WMSG_FINAL_LOCAL, m->final_local);
        put_le32(p + WMSG_EXTRA, m->extra);
        put_le32(p + WMSG_FLAGS, m->flags);
        put_le32(p + WMSG_NAME_LEN, m->name_len);
        put_le32(p + WMSG_DATA_LEN, m->data_len);
        memcpy(p + WMSG_FIXED_LEN, m->name, m->name_len);
        memset(p + WMSG_FIXED_LEN + m->name_len, 0, pad - m->name_len);
        if (m->data_len)
                memcpy(p + WMSG_FIXED_LEN + pad, m->data, m->data_len);
        return WMSG_FIXED_LEN + pad + m->data_len;
}

/**
 * codec_hello_decode() - decode a HELLO body.
 * @body: the body
 * @len:  its length
 * @ret:  the fields
 *
 * Return: 0, or CODEC_E_MALFORMED if the length is wrong.  Magic and version
 * are returned for the caller to judge.
 */
int codec_hello_decode(const uint8_t *body, size_t len, Hello *ret)
{
        if (len != HELLO_LEN)
                return CODEC_E_MALFORMED;
        ret->magic = get_le32(body);
        ret->version = get_le16(body + 4);
        ret->mode = get_le16(body + 6);
        ret->options = get_le32(body + 8);
        return 0;
}

/**
 * codec_hello_encode() - encode a HELLO body.
 * @body: HELLO_LEN bytes
 * @h:    the fields
 */
void codec_hello_encode(uint8_t *body, const Hello *h)
{
        put_le32(body, h->magic);
        put_le16(body + 4, h->version);
        put_le16(body + 6, h->mode);
        put_le32(body + 8, h->options);
        put_le32(body + 12, 0);
}

/**
 * codec_welcome_decode() - decode a WELCOME body.
 * @body: the body
 * @len:  its length
 * @ret:  the fields
 *
 * Return: 0, or CODEC_E_MALFORMED.
 */
int codec_welcome_decode(const uint8_t *body, size_t len, Welcome *ret)
{
        if (len != WELCOME_LEN)
                return CODEC_E_MALFORMED;
        ret->magic = get_le32(body);
        ret->version = get_le16(body + 4);
        ret->status = (int32_t)get_le32(body + 8);
        ret->ksock_id = get_le32(body + 12);
        ret->bus = get_le32(body + 16);
        ret->max_msg_size = get_le32(body + 20);
        ret->max_messages = get_le32(body + 24);
        ret->shm_size = get_le32(body + 28);
        return 0;
}

/**
 * codec_welcome_encode() - encode a WELCOME body.
 * @body: WELCOME_LEN bytes
 * @w:    the fields
 */
void codec_welcome_encode(uint8_t *body, const Welcome *w)
{
        put_le32(body, w->magic);
        put_le16(body + 4, w->version);
        put_le16(body + 6, 0);
        put_le32(body + 8, (uint32_t)w->status);
        put_le32(body + 12, w->ksock_id);
        put_le32(body + 16, w->bus);
        put_le32(body + 20, w->max_msg_size);
        put_le32(body + 24, w->max_messages);
        put_le32(body + 28, w->shm_size);
}

/**
 * codec_result_decode() - decode the fixed part of a RESULT or DONE body.
 * @body: the body
 * @len:  its length (a RESULT may carry a payload after RESULT_LEN bytes)
 * @ret:  the fields
 *
 * Return: 0, or CODEC_E_MALFORMED.
 */
int codec_result_decode(const uint8_t *body, size_t len, Result *ret)
{
        if (len < RESULT_LEN)
                return CODEC_E_MALFORMED;
        ret->status = (int32_t)get_le32(body);
        ret->value0 = get_le32(body + 4);
        ret->value1 = get_le32(body + 8);
        return 0;
}

/**
 * codec_result_encode() - encode the fixed part of a RESULT or DONE body.
 * @body: RESULT_LEN bytes
 * @r:    the fields
 */
void codec_result_encode(uint8_t *body, const Result *r)
{
        put_le32(body, (uint32_t)r->status);
        put_le32(body + 4, r->value0);
        put_le32(body + 8, r->value1);
}
