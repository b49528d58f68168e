/* SPDX-License-Identifier: MPL-2.0 */
/*
 * message.c - a message being routed.
 *
 * A Message holds the encoded bytes exactly as they will be written to each
 * recipient, plus the decoded fields.  kbusd changes only id, from, flags and
 * extra (semantics §4), and does so once, before delivery, through the setters here,
 * which keep bytes and fields in step.  Per-recipient differences (the
 * WANT_YOU_TO_REPLY bit, the binding) travel in the MSG frame's header and
 * prefix, so one Message serves every recipient.  Reference counted: a held
 * ALL_OR_WAIT send and each set-aside unbind event keep a reference.
 */
#include "message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/**
 * message_new_decoded() - copy and decode an encoded message from a client.
 * @p:   the bytes
 * @len: their length
 * @ret: the message, with one reference
 *
 * Return: 0, CODEC_E_MALFORMED, or -ENOMEM.
 */
int message_new_decoded(const uint8_t *p, size_t len, Message **ret)
{
        WireMsg v;
        int r = codec_msg_decode(p, len, &v);

        if (r)
                return r;
        Message *m = malloc(sizeof(*m) + len);
        if (!m)
                return error_origin(-ENOMEM);
        m->refs = 1;
        m->size = (uint32_t)len;
        memcpy(m->wire, p, len);
        m->v = v; /* the fields, with name and data moved into our copy */
        m->v.name = (const char *)m->wire + (v.name - (const char *)p);
        m->v.data = m->wire + ((const uint8_t *)v.data - p);
        *ret = m;
        return 0;
}

/**
 * message_new_synthetic() - a message kbusd makes (semantics §4: SYNTHETIC set).
 * @name:       its name
 * @to:         recipient ksock id, or 0
 * @from:       sender ksock id, or 0 for kbusd
 * @irt_net:    in_reply_to network id
 * @irt_serial: in_reply_to serial
 * @data:       data, or NULL
 * @data_len:   data length
 * @ret:        the message (id unset), with one reference
 *
 * Return: 0, or -ENOMEM.
 */
int message_new_synthetic(const char *name, uint32_t to, uint32_t from, uint32_t irt_net,
                          uint32_t irt_serial, const void *data, uint32_t data_len,
                          Message **ret)
{
        WireMsg v = { .to = to, .from = from, .irt_net = irt_net, .irt_serial = irt_serial,
                      .flags = KBUS_FLAG_SYNTHETIC, .name = name,
                      .name_len = (uint32_t)strlen(name), .data = data, .data_len = data_len };
        size_t size = (size_t)codec_msg_size(&v);
        Message *m = malloc(sizeof(*m) + size);

        if (!m)
                return error_origin(-ENOMEM);
        m->refs = 1;
        m->size = (uint32_t)size;
        codec_msg_encode(m->wire, &v);
        codec_msg_decode(m->wire, size, &m->v);
        *ret = m;
        return 0;
}

/**
 * message_ref() - take a reference.
 * @m: the message
 *
 * Return: @m.
 */
Message *message_ref(Message *m)
{
        m->refs++;
        return m;
}

/**
 * message_unref() - drop a reference; frees on the last.
 * @m: the message, or NULL
 *
 * Return: NULL.
 */
Message *message_unref(Message *m)
{
        if (m && --m->refs == 0)
                free(m);
        return NULL;
}

/**
 * message_set_id() - set the id.
 * @m:      the message
 * @net:    network id
 * @serial: serial
 */
void message_set_id(Message *m, uint32_t net, uint32_t serial)
{
        m->v.id_net = net;
        m->v.id_serial = serial;
        put_le32(m->wire + WMSG_ID_NET, net);
        put_le32(m->wire + WMSG_ID_SERIAL, serial);
}

/**
 * message_own_fields() - set what kbusd owns in a message a client sent
 * (docs/protocol.md, "Fields kbusd owns"): the sender, and no SYNTHETIC,
 * WANT_YOU_TO_REPLY or extra; everything else is the sender's.
 * @m:    the message
 * @from: the sender's ksock id
 */
void message_own_fields(Message *m, uint32_t from)
{
        m->v.from = from;
        m->v.flags &= ~(KBUS_FLAG_SYNTHETIC | KBUS_FLAG_WANT_YOU_TO_REPLY);
        m->v.extra = 0;
        put_le32(m->wire + WMSG_FROM, from);
        put_le32(m->wire + WMSG_FLAGS, m->v.flags);
        put_le32(m->wire + WMSG_EXTRA, 0);
}
