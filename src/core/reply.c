/* SPDX-License-Identifier: MPL-2.0 */
/*
 * reply.c - outstanding requests: who owes whom a reply.
 *
 * Every request that reaches a replier gets a ReplySlot, linked into the
 * requester's book (it reserves one place in the requester's queue, so the
 * reply can never fail for want of room) and into the replier's book (keyed
 * by request id, to validate the reply).  The slot lives until exactly one
 * reply or status has been queued for the requester, or until both sides
 * are gone: a requester that leaves first only unlinks itself, so that the
 * replier's later reply can be told EADDRNOTAVAIL (semantics §9).  Plain data
 * structure: the caller decides what to send.
 */
#include "reply.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

static int reply_slot_cmp(const ReplySlot *a, const ReplySlot *b)
{
        if (a->id_net != b->id_net)
                return a->id_net < b->id_net ? -1 : 1;
        if (a->id_serial != b->id_serial)
                return a->id_serial < b->id_serial ? -1 : 1;
        return 0;
}

/* RB_GENERATE_STATIC needs an __unused that libbsd leaves undefined. */
RB_GENERATE_INTERNAL(ReplyTree, ReplySlot, replier_link, reply_slot_cmp,
                     static __attribute__((unused)))

/**
 * replier_book_init() - an empty replier book.
 * @b: the book
 */
void replier_book_init(ReplierBook *b)
{
        RB_INIT(&b->slots);
        b->taken = 0;
}

/**
 * replier_book_deinit() - a book whose client is going; it must be empty.
 * @b: the book
 */
void replier_book_deinit(ReplierBook *b)
{
        assert(RB_EMPTY(&b->slots) && b->taken == 0);
        (void)b;
}

/**
 * requester_book_init() - an empty requester book.
 * @b: the book
 */
void requester_book_init(RequesterBook *b)
{
        TAILQ_INIT(&b->slots);
        b->count = 0;
}

/**
 * requester_book_deinit() - a book whose client is going; it must be empty.
 * @b: the book
 */
void requester_book_deinit(RequesterBook *b)
{
        assert(TAILQ_EMPTY(&b->slots) && b->count == 0);
        (void)b;
}

/**
 * reply_slot_new() - record that @replier owes @requester a reply.
 * @owed:         the requester's book
 * @owing:        the replier's book
 * @requester:    the requester
 * @requester_id: its ksock id
 * @replier:      the replier
 * @replier_id:   its ksock id
 * @id_net:       the request's network id
 * @id_serial:    the request's serial
 * @ret:          the slot
 *
 * Return: 0, or -EEXIST (the replier already owes a reply to a request with
 * this id: ids from Limpets need not be unique), -ENOMEM.
 */
int reply_slot_new(RequesterBook *owed, ReplierBook *owing, struct Client *requester,
                   uint32_t requester_id, struct Client *replier, uint32_t replier_id,
                   uint32_t id_net, uint32_t id_serial, ReplySlot **ret)
{
        ReplySlot *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->id_net = id_net;
        s->id_serial = id_serial;
        s->requester = requester;
        s->requester_id = requester_id;
        s->replier = replier;
        s->replier_id = replier_id;
        s->owed = owed;
        s->owing = owing;
        if (RB_INSERT(ReplyTree, &owing->slots, s)) {
                free(s);
                return -EEXIST;
        }
        TAILQ_INSERT_TAIL(&owed->slots, s, requester_link);
        owed->count++;
        *ret = s;
        return 0;
}

/**
 * reply_slot_find() - the slot for the request with this id.
 * @owing:     the replier's book
 * @id_net:    the request's network id
 * @id_serial: the request's serial
 *
 * Return: the slot, or NULL.
 */
ReplySlot *reply_slot_find(ReplierBook *owing, uint32_t id_net, uint32_t id_serial)
{
        ReplySlot key = { .id_net = id_net, .id_serial = id_serial };

        return RB_FIND(ReplyTree, &owing->slots, &key);
}

/**
 * reply_slot_mark_taken() - the replier's application took the request.
 * @s: the slot
 */
void reply_slot_mark_taken(ReplySlot *s)
{
        if (!s->taken) {
                s->taken = true;
                s->owing->taken++;
        }
}

/**
 * reply_slot_forget_requester() - the requester has gone; its reservation
 * goes with it but the slot stays until the replier answers or goes.
 * @s: the slot
 */
void reply_slot_forget_requester(ReplySlot *s)
{
        TAILQ_REMOVE(&s->owed->slots, s, requester_link);
        s->owed->count--;
        s->owed = NULL;
        s->requester = NULL;
}

/**
 * reply_slot_charge() - count the slot against @u's requests quota from now
 * on (the requester's while it lives, then the replier's, who alone can end
 * it); the move is never refused.
 * @s: the slot
 * @u: the new payer
 */
void reply_slot_charge(ReplySlot *s, QuotaUser *u)
{
        if (s->charged)
                quota_release(s->charged, QUOTA_REQUESTS, 1);
        quota_force(u, QUOTA_REQUESTS, 1);
        s->charged = u;
}

/**
 * reply_slot_free() - the request has its reply or status; forget it, in
 * both books.
 * @s: the slot
 *
 * Return: NULL.
 */
ReplySlot *reply_slot_free(ReplySlot *s)
{
        if (s->owed)
                reply_slot_forget_requester(s);
        if (s->taken)
                s->owing->taken--;
        if (s->charged)
                quota_release(s->charged, QUOTA_REQUESTS, 1);
        RB_REMOVE(ReplyTree, &s->owing->slots, s);
        free(s);
        return NULL;
}

/**
 * replier_book_first() - the slot with the lowest request id in the book.
 * @owing: the replier's book
 *
 * Return: a slot, or NULL if the book is empty.
 */
ReplySlot *replier_book_first(ReplierBook *owing)
{
        return RB_MIN(ReplyTree, &owing->slots);
}

/**
 * replier_book_next() - the slot after @s in its book (request id order).
 * @s: a slot
 *
 * Return: the next slot, or NULL.
 */
ReplySlot *replier_book_next(ReplySlot *s)
{
        return RB_NEXT(ReplyTree, &s->owing->slots, s);
}
