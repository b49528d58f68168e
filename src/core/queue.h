/* SPDX-License-Identifier: MPL-2.0 */
/*
 * queue.h - one client's message queue, as kbusd sees it (semantics §5, §7, §9).
 */
#ifndef KBUS_CORE_QUEUE_H
#define KBUS_CORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/shm.h"

struct ReplySlot;

enum {
        ENTRY_LIVE = 0,    /* in the queue: pushed, not taken by the application */
        ENTRY_TAKEN = 1,   /* the application took it */
        ENTRY_REMOVED = 2, /* removed by an unbind, never taken */
};

typedef struct QueueEntry {
        struct ReplySlot *slot; /* the request this replier copy must answer, or NULL */
        uint32_t binding_id;    /* 0: not removable by unbind (replies, statuses) */
        uint32_t bytes;
        uint8_t state;
} QueueEntry;

/*
 * Entries for seqs [first_seq, next_seq) live in a power-of-two ring.  An
 * entry is reclaimed once it and every older one are no longer LIVE.
 */
typedef struct MsgQueue {
        QueueEntry *ring;
        size_t cap;
        uint64_t first_seq;
        uint64_t next_seq;
        uint32_t live;        /* the queue length of semantics §5 */
        uint64_t live_bytes;
        uint64_t log_seen;    /* take-log entries consumed */
} MsgQueue;

#define MSG_QUEUE_INIT ((MsgQueue){ .first_seq = 1, .next_seq = 1 })

/* Called for each entry that becomes TAKEN. */
typedef void (*QueueTakenFn)(QueueEntry *e, void *ctx);
/* Called for each entry removed by queue_remove_binding(). */
typedef void (*QueueRemovedFn)(QueueEntry *e, void *ctx);

void queue_deinit(MsgQueue *q);
int queue_push(MsgQueue *q, uint32_t binding_id, struct ReplySlot *slot, uint32_t bytes,
               uint64_t *ret_seq);
QueueEntry *queue_take(MsgQueue *q, uint32_t seq, QueueTakenFn fn, void *ctx);
size_t queue_reconcile(MsgQueue *q, KbusShm *shm, QueueTakenFn fn, void *ctx);
size_t queue_remove_binding(MsgQueue *q, uint32_t binding_id, QueueRemovedFn fn, void *ctx);
QueueEntry *queue_entry(MsgQueue *q, uint64_t seq);
void queue_trim(MsgQueue *q);

#endif
