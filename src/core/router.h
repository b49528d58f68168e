/* SPDX-License-Identifier: MPL-2.0 */
/*
 * router.h - who gets a message, and what a send returns (semantics §7-§9).
 */
#ifndef KBUS_CORE_ROUTER_H
#define KBUS_CORE_ROUTER_H

#include <stdbool.h>

#include "../proto/codec.h"
#include "bus.h"
#include "reply.h"

struct Client;

enum {
        ROUTER_HELD = 1, /* an ALL_OR_WAIT send is waiting for room */
};

int router_send(Bus *bus, struct Client *s, Message *m, bool wait, Result *ret);
void router_status(Bus *bus, ReplySlot *slot, const char *name, uint32_t from);
void router_drop_held(Bus *bus, HeldSend *h);
void router_retry_held(Bus *bus);
int router_event_deliverable(Bus *bus);
int router_bind_event(Bus *bus, struct Client *binder, const char *name, uint32_t len);
void router_unbind_event(Bus *bus, struct Client *binder, const char *name, uint32_t len);
void router_deliver_set_aside(Bus *bus);
void router_forget_set_aside(Bus *bus, struct Client *c, uint32_t binding_id);

#endif
