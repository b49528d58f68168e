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

#include "caps.h"

bool inbox_lacks_room_refreshed(Client *c, uint32_t places);
int inbox_push(Client *c, const Message *m, uint32_t binding_id, bool you_reply,
               ReplySlot *slot);
void inbox_charge(Client *c);
void inbox_reconcile(Client *c);
void inbox_reconcile_if_due(Client *c);
void inbox_take(Client *c, uint32_t seq);
bool inbox_room_or_watch(Client *c);

/*
 * The room checks below run for every message routed, so they are inline.
 */

/* Places reserved in @c's queue for replies it is owed, one for a held request too. */
static inline uint32_t inbox_reserved(const Client *c)
{
        return c->owed.count + (c->held && c->held->reserved ? 1u : 0u);
}

/* Whether @c's queue lacks @places more places, by what kbusd knows now. */
static inline bool inbox_looks_short(const Client *c, uint32_t places)
{
        return (uint64_t)c->queue.live + inbox_reserved(c) + places > c->max_messages ||
               c->queue.live_bytes >= KBUS_QUEUE_BYTES_MAX ||
               quota_is_spent(c->quser, QUOTA_QUEUED_BYTES);
}

/**
 * inbox_lacks_room() - whether @c's queue lacks @places places for what is
 * being sent (semantics §7); a closing client lacks room.  A queue that looks
 * short is refreshed first: the takes its application logged are applied.
 * @c:      the client
 * @places: places needed (a copy, and a reply place it reserves itself)
 *
 * Return: true if it lacks room.
 */
static inline bool inbox_lacks_room(Client *c, uint32_t places)
{
        if (c->closing)
                return true;
        return inbox_looks_short(c, places) && inbox_lacks_room_refreshed(c, places);
}

/* Whether a message for @c must be refused for want of room (one place). */
static inline bool inbox_refresh_full(Client *c)
{
        return inbox_lacks_room(c, 1);
}

#endif
