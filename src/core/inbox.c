/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inbox.c - a client's queue as the rest of the bus sees it.
 *
 * Pushing a message writes its MSG frame to the client's output buffer at
 * once (the shell writes it when the core settles, once per batch)
 * and adds a LIVE queue entry.  The queue is full when its LIVE messages
 * plus the reply places reserved for the client's outstanding requests
 * reach its limit (semantics §7), when it holds KBUS_QUEUE_BYTES_MAX bytes, or
 * when the bytes queued for its uid reach that uid's share or kbusd's total
 * (quota.c): queued bytes are charged to the uid that must read them.
 *
 * What the application has taken is learnt lazily: the take log is applied
 * only when a queue looks full, when the entry ring needs room, and before
 * anything that depends on it exactly (unbind, close, counts).  A queue that
 * looks full is therefore always checked against the log before kbusd acts
 * on it, so laziness never changes an outcome.
 */
#include "inbox.h"

#include <errno.h>

#include "core.h"
#include "caps.h"
#include "log.h"

static void inbox_on_taken(QueueEntry *e, void *ctx)
{
        Client *c = ctx;

        if (e->slot)
                reply_slot_mark_taken(e->slot);
        if (bus_waits_for_room(c->bus))
                c->bus->recheck = true;
}

/**
 * inbox_charge() - bring the queued bytes charged to @c's uid in line with
 * its queue, after messages were queued, taken or removed.
 * @c: the client
 */
void inbox_charge(Client *c)
{
        uint64_t now = c->queue.live_bytes;

        if (now > c->queued_charged)
                quota_force(c->quser, QUOTA_QUEUED_BYTES, now - c->queued_charged);
        else if (now < c->queued_charged)
                quota_release(c->quser, QUOTA_QUEUED_BYTES, c->queued_charged - now);
        c->queued_charged = now;
}

/*
 * Whether @c's take log may hold anything: it has the page, and kbusd has
 * pushed it a message.  Until then the page is not looked at, so an idle
 * ksock's page is never brought into kbusd's memory.
 */
static bool inbox_has_log(const Client *c)
{
        return c->shm && c->queue.next_seq > 1;
}

/**
 * inbox_reconcile() - apply the takes @c has logged since last time.
 * @c: the client
 */
void inbox_reconcile(Client *c)
{
        if (inbox_has_log(c) && queue_reconcile(&c->queue, c->shm, inbox_on_taken, c))
                inbox_charge(c);
}

/**
 * inbox_reconcile_if_due() - apply the take log if it is half full, so the
 * library seldom has to wait for room in it (called when @c is written to).
 * @c: the client
 */
void inbox_reconcile_if_due(Client *c)
{
        if (inbox_has_log(c) && __atomic_load_n(&c->shm->taken, __ATOMIC_RELAXED) - c->queue.log_seen >=
                              SHM_LOG_LEN / 2)
                inbox_reconcile(c);
}

/**
 * inbox_lacks_room_refreshed() - inbox_lacks_room() for a queue that looks
 * short: apply the takes its application logged, and look again.
 * @c:      the client
 * @places: places needed
 *
 * Return: true if it lacks room.
 */
bool inbox_lacks_room_refreshed(Client *c, uint32_t places)
{
        inbox_reconcile(c);
        return inbox_looks_short(c, places);
}

/**
 * inbox_push() - queue a message for @c and write its MSG frame.
 * @c:          the client (not closing)
 * @m:          the message, id and from already set
 * @binding_id: the binding that selected @c, or 0 (replies, statuses)
 * @you_reply:  this copy carries WANT_YOU_TO_REPLY
 * @slot:       for the replier's copy of a request, its reply slot
 *
 * The caller has checked for room, or is using a reserved place.
 *
 * Return: 0, or -ENOMEM (nothing queued).
 */
int inbox_push(Client *c, const Message *m, uint32_t binding_id, bool you_reply,
               ReplySlot *slot)
{
        uint64_t seq;

        if (c->queue.next_seq - c->queue.first_seq >= c->queue.cap)
                inbox_reconcile(c);
        uint8_t *p = codec_frame_begin(&c->out, FRAME_MSG, you_reply ? FRAME_MSG_YOU_REPLY : 0,
                                       MSG_PREFIX_LEN + m->size);
        if (!p)
                return error_origin(-ENOMEM);
        int r = queue_push(&c->queue, binding_id, slot, m->size, &seq);
        if (r < 0) {
                c->out.tail -= KBUS_FRAME_HDR_LEN + MSG_PREFIX_LEN + m->size; /* unwritten */
                return error_origin(r);
        }
        put_le32(p, binding_id);
        put_le32(p + 4, 0);
        memcpy(p + MSG_PREFIX_LEN, m->wire, m->size);
        if (slot)
                slot->seq = seq;
        if (c->shm) {
                if (m->v.flags & KBUS_FLAG_URGENT)
                        __atomic_store_n(&c->shm->urgent_seq, seq, __ATOMIC_RELEASE);
                __atomic_store_n(&c->shm->pushed, seq, __ATOMIC_RELEASE);
        }
        c->nreceived++;
        c->queued_charged += m->size; /* room was checked: this may pass the share by one */
        quota_force(c->quser, QUOTA_QUEUED_BYTES, m->size);
        core_mark_dirty(c->bus->core, c);
        return 0;
}

/**
 * inbox_take() - the client says (FRAME_TAKE) its application took @seq.
 * @c:   the client
 * @seq: low 32 bits of the message's sequence number
 */
void inbox_take(Client *c, uint32_t seq)
{
        inbox_reconcile(c);
        if (queue_take(&c->queue, seq, inbox_on_taken, c))
                inbox_charge(c);
}

/**
 * inbox_room_or_watch() - whether @c has room now; and in any case ask to be
 * told when its application next takes a message, because a held send or a
 * set-aside event waits for room there.
 * @c: the client
 *
 * Sets the shared notify flag and then looks at the take log again, so a
 * take that raced with setting the flag is not missed (the library takes,
 * then reads the flag; both sides fence between store and load).  Clients
 * without a shared page send FRAME_TAKE for every take anyway.
 *
 * Return: true if @c has room now.
 */
bool inbox_room_or_watch(Client *c)
{
        if (c->shm) {
                __atomic_store_n(&c->shm->notify, 1, __ATOMIC_SEQ_CST);
                __atomic_thread_fence(__ATOMIC_SEQ_CST);
        }
        return !inbox_refresh_full(c);
}
