/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inbox.h - a client's queue as the rest of the bus sees it: room, pushes,
 * takes.
 */
#ifndef KBUS_CORE_INBOX_H
#define KBUS_CORE_INBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "message.h"

uint32_t inbox_reserved(const Client *c);
bool inbox_lacks_room(Client *c, uint32_t places);
bool inbox_refresh_full(Client *c);
int inbox_push(Client *c, const Message *m, uint32_t binding_id, bool you_reply,
               ReplySlot *slot);
void inbox_charge(Client *c);
void inbox_reconcile(Client *c);
void inbox_reconcile_if_due(Client *c);
void inbox_take(Client *c, uint32_t seq);
bool inbox_room_or_watch(Client *c);

#endif
