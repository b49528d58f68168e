/* SPDX-License-Identifier: MPL-2.0 */
/*
 * message.h - a message being routed: decoded once, shared by reference.
 */
#ifndef KBUS_CORE_MESSAGE_H
#define KBUS_CORE_MESSAGE_H

#include <stdint.h>

#include "../proto/cleanup.h"
#include "../proto/codec.h"

typedef struct Message {
        unsigned refs;
        uint32_t size; /* bytes in wire[] */
        WireMsg v;     /* the fields; v.name and v.data point into wire[] */
        uint8_t wire[];
} Message;

int message_new_decoded(const uint8_t *p, size_t len, Message **ret);
int message_new_synthetic(const char *name, uint32_t to, uint32_t from, uint32_t irt_net,
                          uint32_t irt_serial, const void *data, uint32_t data_len,
                          Message **ret);
Message *message_ref(Message *m);
Message *message_unref(Message *m);
KBUS_DEFINE_CLEANUP(Message *, message_unref)
void message_set_id(Message *m, uint32_t net, uint32_t serial);
void message_own_fields(Message *m, uint32_t from);

static inline int message_is_request(const Message *m)
{
        return (m->v.flags & KBUS_FLAG_WANT_A_REPLY) != 0;
}

static inline int message_is_reply(const Message *m)
{
        return m->v.irt_net != 0 || m->v.irt_serial != 0;
}

#endif
