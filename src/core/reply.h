/* SPDX-License-Identifier: MPL-2.0 */
/*
 * reply.h - outstanding requests: who owes whom a reply (semantics §7, §9).
 */
#ifndef KBUS_CORE_REPLY_H
#define KBUS_CORE_REPLY_H

#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "../proto/cleanup.h"
#include "quota.h"

struct Client;

typedef struct ReplySlot {
        uint32_t id_net, id_serial;  /* the request's id */
        struct Client *requester;    /* NULL once the requester has gone */
        struct Client *replier;
        uint32_t requester_id;
        uint32_t replier_id;
        uint64_t seq;                /* the replier copy's seq in the replier's queue */
        bool taken;                  /* the replier's application took the request */
        QuotaUser *charged;          /* whose requests quota it counts against, or NULL */
        struct RequesterBook *owed;  /* the requester's book; NULL once the requester has gone */
        struct ReplierBook *owing;   /* the replier's book */
        TAILQ_ENTRY(ReplySlot) requester_link;
        RB_ENTRY(ReplySlot) replier_link;
} ReplySlot;

RB_HEAD(ReplyTree, ReplySlot);

/* What a client owes as replier: slots keyed by request id. */
typedef struct ReplierBook {
        struct ReplyTree slots;
        uint32_t taken; /* slots whose request was taken: UNREPLIEDTO */
} ReplierBook;

/* What a client is owed as requester: one reserved queue slot each. */
typedef struct RequesterBook {
        TAILQ_HEAD(, ReplySlot) slots;
        uint32_t count;
} RequesterBook;


void replier_book_init(ReplierBook *b);
void replier_book_deinit(ReplierBook *b);
void requester_book_init(RequesterBook *b);
void requester_book_deinit(RequesterBook *b);

int reply_slot_new(RequesterBook *owed, ReplierBook *owing, struct Client *requester,
                   uint32_t requester_id, struct Client *replier, uint32_t replier_id,
                   uint32_t id_net, uint32_t id_serial, ReplySlot **ret);
ReplySlot *reply_slot_find(ReplierBook *owing, uint32_t id_net, uint32_t id_serial);
void reply_slot_mark_taken(ReplySlot *s);
void reply_slot_forget_requester(ReplySlot *s);
void reply_slot_charge(ReplySlot *s, QuotaUser *u);
ReplySlot *reply_slot_free(ReplySlot *s);
KBUS_DEFINE_CLEANUP(ReplySlot *, reply_slot_free)
ReplySlot *replier_book_first(ReplierBook *owing);
ReplySlot *replier_book_next(ReplySlot *s);

#endif
