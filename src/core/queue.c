/* SPDX-License-Identifier: MPL-2.0 */
/*
 * queue.c - one client's message queue, as kbusd sees it.
 *
 * kbusd writes every message to the client's socket as soon as it is queued
 * (so the client can read ahead without a round trip), but a message stays
 * in the queue of semantics §5 until the application takes it.  The client tells
 * kbusd which ones it took, by sequence number, through the take log of its
 * shared page (see shm.h) or FRAME_TAKE.  So this queue does not hold
 * message bytes: it holds one small entry per pushed message, recording the
 * binding that queued it (for unbind removal, semantics §6), the reply slot of a
 * request this client must answer (for GoneAway vs Ignored, semantics §9), and
 * whether it is still LIVE.  `live` is the queue length.
 *
 * The take log is written by another process and is untrusted: an entry
 * that does not name a LIVE message stops the scan, and is looked at again
 * next time (the client may not have finished writing it).
 */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>

#define QUEUE_CAP_MIN 64u

static QueueEntry *queue_slot(MsgQueue *q, uint64_t seq)
{
        return &q->ring[seq & (q->cap - 1)];
}

/**
 * queue_deinit() - free the queue's memory (the caller has dealt with the
 * entries' reply slots).
 * @q: the queue (safe on MSG_QUEUE_INIT and twice)
 */
void queue_deinit(MsgQueue *q)
{
        free(q->ring);
        *q = MSG_QUEUE_INIT;
}

static void queue_reclaim(MsgQueue *q)
{
        while (q->first_seq < q->next_seq && queue_slot(q, q->first_seq)->state != ENTRY_LIVE)
                q->first_seq++;
}

static int queue_grow(MsgQueue *q)
{
        size_t cap = q->cap ? q->cap * 2 : QUEUE_CAP_MIN;
        QueueEntry *ring = malloc(cap * sizeof(*ring));

        if (!ring)
                return -ENOMEM;
        for (uint64_t s = q->first_seq; s < q->next_seq; s++)
                ring[s & (cap - 1)] = *queue_slot(q, s);
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        return 0;
}

/**
 * queue_push() - add a LIVE entry for the next message pushed to the client.
 * @q:          the queue
 * @binding_id: the binding that queued it, or 0
 * @slot:       the reply slot if this is the replier's copy of a request
 * @bytes:      the message's size, for the byte cap
 * @ret_seq:    the message's sequence number
 *
 * The caller reconciles first when the ring is full, so that entries already
 * taken are reclaimed instead of growing the ring.
 *
 * Return: 0, or -ENOMEM.
 */
int queue_push(MsgQueue *q, uint32_t binding_id, struct ReplySlot *slot, uint32_t bytes,
               uint64_t *ret_seq)
{
        queue_reclaim(q);
        if (q->next_seq - q->first_seq >= q->cap) {
                int r = queue_grow(q);
                if (r < 0)
                        return r;
        }
        QueueEntry *e = queue_slot(q, q->next_seq);
        *e = (QueueEntry){ .slot = slot, .binding_id = binding_id, .bytes = bytes,
                           .state = ENTRY_LIVE };
        q->live++;
        q->live_bytes += bytes;
        *ret_seq = q->next_seq++;
        return 0;
}

/**
 * queue_entry() - the entry for @seq, if it has not been reclaimed.
 * @q:   the queue
 * @seq: a sequence number
 *
 * Return: the entry, or NULL.
 */
QueueEntry *queue_entry(MsgQueue *q, uint64_t seq)
{
        if (seq < q->first_seq || seq >= q->next_seq)
                return NULL;
        return queue_slot(q, seq);
}

/* The full sequence number whose low 32 bits are @seq32, if in the ring. */
static QueueEntry *queue_find32(MsgQueue *q, uint32_t seq32)
{
        uint64_t seq = q->first_seq + (uint32_t)(seq32 - (uint32_t)q->first_seq);

        return queue_entry(q, seq);
}

/**
 * queue_take() - mark the message with sequence number @seq as taken.
 * @q:   the queue
 * @seq: low 32 bits of the sequence number (as the take log and TAKE carry it)
 * @fn:  called if the entry becomes TAKEN
 * @ctx: passed to @fn
 *
 * Return: the entry, or NULL if @seq names no LIVE message.
 */
QueueEntry *queue_take(MsgQueue *q, uint32_t seq, QueueTakenFn fn, void *ctx)
{
        QueueEntry *e = queue_find32(q, seq);

        if (!e || e->state != ENTRY_LIVE)
                return NULL;
        e->state = ENTRY_TAKEN;
        q->live--;
        q->live_bytes -= e->bytes;
        if (fn)
                fn(e, ctx);
        return e;
}

/* Whether @seq32 names a message pushed already (within 2^31 behind the next). */
static bool queue_seq_pushed(const MsgQueue *q, uint32_t seq32)
{
        return (int32_t)(seq32 - (uint32_t)q->next_seq) < 0;
}

/**
 * queue_reconcile() - apply the takes the client logged in its shared page.
 * @q:   the queue
 * @shm: the client's shared page
 * @fn:  called for each entry that becomes TAKEN
 * @ctx: passed to @fn
 *
 * The page is the client's to write, so nothing in it is trusted.  An entry
 * naming a message not pushed yet cannot have been written by the library
 * yet: the scan stops there and tries again next time.  An entry naming a
 * message pushed but no longer LIVE is passed over: the library may take a
 * message kbusd removed behind its back (a binding the policy no longer
 * allows), and stopping there would stall the log for good.  At most
 * SHM_LOG_LEN entries are read, however far ahead `taken` claims to be.
 *
 * Return: how many messages were newly taken.
 */
size_t queue_reconcile(MsgQueue *q, KbusShm *shm, QueueTakenFn fn, void *ctx)
{
        uint64_t taken = __atomic_load_n(&shm->taken, __ATOMIC_ACQUIRE);
        size_t n = 0;

        if (taken < q->log_seen)
                taken = q->log_seen; /* a client going back: nothing new */
        else if (taken - q->log_seen > SHM_LOG_LEN)
                taken = q->log_seen + SHM_LOG_LEN;
        while (q->log_seen < taken) {
                uint32_t seq = __atomic_load_n(&shm->log[q->log_seen & (SHM_LOG_LEN - 1)],
                                               __ATOMIC_RELAXED);
                if (queue_take(q, seq, fn, ctx))
                        n++;
                else if (!queue_seq_pushed(q, seq))
                        break;
                q->log_seen++;
        }
        __atomic_store_n(&shm->consumed, q->log_seen, __ATOMIC_RELEASE);
        queue_reclaim(q);
        return n;
}

/**
 * queue_remove_binding() - remove the LIVE entries queued by one binding.
 * @q:          the queue
 * @binding_id: the binding
 * @fn:         called for each removed entry, after it is marked REMOVED
 * @ctx:        passed to @fn
 *
 * Return: how many entries were removed.
 */
size_t queue_remove_binding(MsgQueue *q, uint32_t binding_id, QueueRemovedFn fn, void *ctx)
{
        size_t n = 0;

        for (uint64_t s = q->first_seq; s < q->next_seq; s++) {
                QueueEntry *e = queue_slot(q, s);
                if (e->state != ENTRY_LIVE || e->binding_id != binding_id)
                        continue;
                e->state = ENTRY_REMOVED;
                q->live--;
                q->live_bytes -= e->bytes;
                n++;
                if (fn)
                        fn(e, ctx);
        }
        queue_reclaim(q);
        return n;
}

/**
 * queue_trim() - free the entry ring if no entry in it is LIVE (an idle
 * client's queue holds no memory); it is made again at the next push.
 * @q: the queue
 */
void queue_trim(MsgQueue *q)
{
        queue_reclaim(q);
        if (q->first_seq != q->next_seq || !q->ring)
                return;
        free(q->ring);
        q->ring = NULL;
        q->cap = 0;
}
