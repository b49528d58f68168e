/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-reply.c - unit tests for reply slots (src/core/reply.c, semantics §7, §9).
 *
 * A ReplySlot records that a replier owes a requester a reply.  It is linked
 * into the requester's book (one reserved queue place each: `count`) and the
 * replier's book (found by request id; `taken` is UNREPLIEDTO).  These tests
 * check both links, lookup by id, the taken count, a requester leaving first
 * (the slot stays findable so the replier's reply can be refused), freeing
 * from either state, duplicate ids, and draining a replier's book.  Clients
 * are fake pointers that are never dereferenced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "../src/core/reply.h"

static char fake_clients[4];
#define CL(i) ((struct Client *)&fake_clients[i])

static size_t requester_list_len(RequesterBook *b)
{
        size_t n = 0;
        ReplySlot *s;

        TAILQ_FOREACH(s, &b->slots, requester_link)
                n++;
        return n;
}

static bool requester_list_has(RequesterBook *b, const ReplySlot *want)
{
        ReplySlot *s;

        TAILQ_FOREACH(s, &b->slots, requester_link)
                if (s == want)
                        return true;
        return false;
}

static ReplySlot *new_slot(RequesterBook *owed, ReplierBook *owing, struct Client *rq,
                           uint32_t rq_id, struct Client *rp, uint32_t rp_id, uint32_t net,
                           uint32_t serial)
{
        ReplySlot *s = NULL;

        assert_int_equal(reply_slot_new(owed, owing, rq, rq_id, rp, rp_id, net, serial, &s), 0);
        assert_non_null(s);
        return s;
}

/* Empty books: two requesters' and two repliers'. */
static void books_init(RequesterBook *qa, RequesterBook *qb, ReplierBook *rr, ReplierBook *rs)
{
        requester_book_init(qa);
        requester_book_init(qb);
        replier_book_init(rr);
        replier_book_init(rs);
}

/* Empty books @qa and @rr, then three slots in them: requests [0:1], [0:2]
 * and [0:3] that CL(0) (ksock 10) is owed by CL(2) (ksock 20). */
static void three_slots(RequesterBook *qa, ReplierBook *rr, ReplySlot **s1, ReplySlot **s2,
                        ReplySlot **s3)
{
        requester_book_init(qa);
        replier_book_init(rr);
        *s1 = new_slot(qa, rr, CL(0), 10, CL(2), 20, 0, 1);
        *s2 = new_slot(qa, rr, CL(0), 10, CL(2), 20, 0, 2);
        *s3 = new_slot(qa, rr, CL(0), 10, CL(2), 20, 0, 3);
}

static void test_new_and_find(void **state)
{
        RequesterBook qa, qb;
        ReplierBook rr, rs;

        books_init(&qa, &qb, &rr, &rs);
        assert_null(replier_book_first(&rr));
        assert_null(reply_slot_find(&rr, 0, 1));

        ReplySlot *s1 = new_slot(&qa, &rr, CL(0), 10, CL(2), 20, 0, 5);
        assert_int_equal(s1->id_net, 0);
        assert_int_equal(s1->id_serial, 5);
        assert_ptr_equal(s1->requester, CL(0));
        assert_int_equal(s1->requester_id, 10);
        assert_ptr_equal(s1->replier, CL(2));
        assert_int_equal(s1->replier_id, 20);
        assert_false(s1->taken);
        assert_int_equal(s1->seq, 0);

        ReplySlot *s2 = new_slot(&qa, &rs, CL(0), 10, CL(3), 30, 0, 6);
        ReplySlot *s3 = new_slot(&qb, &rr, CL(1), 11, CL(2), 20, 7, 5);
        ReplySlot *s4 = new_slot(&qb, &rr, CL(1), 11, CL(2), 20, 0, 4);

        /* requester books, in order */
        assert_int_equal(qa.count, 2);
        assert_int_equal(qb.count, 2);
        assert_ptr_equal(TAILQ_FIRST(&qa.slots), s1);
        assert_ptr_equal(TAILQ_NEXT(s1, requester_link), s2);
        assert_null(TAILQ_NEXT(s2, requester_link));
        assert_ptr_equal(TAILQ_FIRST(&qb.slots), s3);
        assert_ptr_equal(TAILQ_NEXT(s3, requester_link), s4);

        /* replier books, by id */
        assert_ptr_equal(reply_slot_find(&rr, 0, 5), s1);
        assert_ptr_equal(reply_slot_find(&rr, 7, 5), s3);
        assert_ptr_equal(reply_slot_find(&rr, 0, 4), s4);
        assert_null(reply_slot_find(&rr, 0, 6)); /* that one is owed by the other replier */
        assert_ptr_equal(reply_slot_find(&rs, 0, 6), s2);
        assert_null(reply_slot_find(&rs, 0, 5));
        assert_null(reply_slot_find(&rr, 5, 0));
        assert_null(reply_slot_find(&rr, 7, 4));
        assert_null(reply_slot_find(&rr, 0, 0));
        assert_int_equal(rr.taken, 0);

        reply_slot_free(s1);
        reply_slot_free(s2);
        reply_slot_free(s3);
        reply_slot_free(s4);
        assert_int_equal(qa.count, 0);
        assert_int_equal(qb.count, 0);
        assert_true(TAILQ_EMPTY(&qa.slots));
        assert_null(replier_book_first(&rr));
        assert_null(replier_book_first(&rs));
}

static void test_duplicate_id(void **state)
{
        RequesterBook qa, qb;
        ReplierBook rr, rs;

        books_init(&qa, &qb, &rr, &rs);
        ReplySlot *s1 = new_slot(&qa, &rr, CL(0), 10, CL(2), 20, 3, 9);

        ReplySlot *ret = (ReplySlot *)&fake_clients[3];
        assert_int_equal(reply_slot_new(&qb, &rr, CL(1), 11, CL(2), 20, 3, 9, &ret), -EEXIST);
        assert_ptr_equal(ret, (ReplySlot *)&fake_clients[3]); /* not written */
        assert_int_equal(qb.count, 0);
        assert_true(TAILQ_EMPTY(&qb.slots));
        assert_int_equal(reply_slot_new(&qa, &rr, CL(0), 10, CL(2), 20, 3, 9, &ret), -EEXIST);
        assert_int_equal(qa.count, 1);
        assert_int_equal(requester_list_len(&qa), 1);
        assert_ptr_equal(reply_slot_find(&rr, 3, 9), s1);

        /* the same id owed by another replier is a different slot */
        ReplySlot *s2 = new_slot(&qb, &rs, CL(1), 11, CL(3), 30, 3, 9);
        assert_ptr_equal(reply_slot_find(&rs, 3, 9), s2);
        assert_ptr_equal(reply_slot_find(&rr, 3, 9), s1);

        /* once freed, the id may be used again */
        reply_slot_free(s1);
        assert_null(reply_slot_find(&rr, 3, 9));
        s1 = new_slot(&qb, &rr, CL(1), 11, CL(2), 20, 3, 9);
        assert_ptr_equal(reply_slot_find(&rr, 3, 9), s1);
        assert_int_equal(qb.count, 2);

        reply_slot_free(s1);
        reply_slot_free(s2);
        assert_int_equal(qb.count, 0);
        assert_null(replier_book_first(&rr));
        assert_null(replier_book_first(&rs));
}

static void test_mark_taken(void **state)
{
        RequesterBook qa;
        ReplierBook rr;
        ReplySlot *s1, *s2, *s3;

        three_slots(&qa, &rr, &s1, &s2, &s3);

        reply_slot_mark_taken(s2);
        assert_true(s2->taken);
        assert_false(s1->taken);
        assert_int_equal(rr.taken, 1);
        reply_slot_mark_taken(s2); /* counted once */
        assert_int_equal(rr.taken, 1);
        reply_slot_mark_taken(s3);
        assert_int_equal(rr.taken, 2);

        /* freeing a taken slot uncounts it; an untaken one does not */
        reply_slot_free(s2);
        assert_int_equal(rr.taken, 1);
        reply_slot_free(s1);
        assert_int_equal(rr.taken, 1);
        reply_slot_free(s3);
        assert_int_equal(rr.taken, 0);
        assert_int_equal(qa.count, 0);
}

static void test_forget_requester(void **state)
{
        RequesterBook qa;
        ReplierBook rr;
        ReplySlot *s1, *s2, *s3;

        three_slots(&qa, &rr, &s1, &s2, &s3);
        reply_slot_mark_taken(s2);

        /* the requester goes: every slot it is owed loses its requester */
        reply_slot_forget_requester(s2);
        assert_null(s2->requester);
        assert_int_equal(s2->requester_id, 10); /* still known, for logging */
        assert_int_equal(qa.count, 2);
        assert_false(requester_list_has(&qa, s2));
        assert_int_equal(requester_list_len(&qa), 2);
        assert_ptr_equal(reply_slot_find(&rr, 0, 2), s2); /* the replier still owes it */
        assert_true(s2->taken);
        assert_int_equal(rr.taken, 1);
        reply_slot_forget_requester(s1);
        reply_slot_forget_requester(s3);
        assert_int_equal(qa.count, 0);
        assert_true(TAILQ_EMPTY(&qa.slots));
        assert_ptr_equal(reply_slot_find(&rr, 0, 1), s1);
        assert_ptr_equal(reply_slot_find(&rr, 0, 3), s3);

        /* the replier answers one (its reply is refused), then goes itself */
        assert_null(reply_slot_free(s2));
        assert_int_equal(rr.taken, 0);
        assert_null(reply_slot_find(&rr, 0, 2));
        assert_null(reply_slot_free(s1));
        assert_null(reply_slot_free(s3));
        assert_null(replier_book_first(&rr));
        assert_int_equal(qa.count, 0);
}

/* Closing a replier: take slots from its book until it is empty. */
static void test_drain(void **state)
{
        enum { N = 500 };
        RequesterBook q[2];
        ReplierBook rr;
        ReplySlot *slots[N];
        uint32_t x = 12345;

        requester_book_init(&q[0]);
        requester_book_init(&q[1]);
        replier_book_init(&rr);
        for (uint32_t i = 0; i < N; i++) {
                x = x * 1103515245u + 12345u; /* ids in no particular order */
                uint32_t serial = ((x >> 8) & 0xffffu) * N + i; /* unique: i < N */
                slots[i] = new_slot(&q[i % 2], &rr, CL(i % 2), 10 + i % 2, CL(2), 20,
                                    i % 3, serial);
                if (i % 5 == 0)
                        reply_slot_mark_taken(slots[i]);
        }
        assert_int_equal(q[0].count, N / 2);
        assert_int_equal(q[1].count, N / 2);
        assert_int_equal(rr.taken, N / 5);
        for (uint32_t i = 0; i < N; i++)
                assert_ptr_equal(reply_slot_find(&rr, slots[i]->id_net, slots[i]->id_serial),
                                 slots[i]);
        /* requester 1 has gone already */
        for (uint32_t i = 1; i < N; i += 2)
                reply_slot_forget_requester(slots[i]);
        assert_int_equal(q[1].count, 0);

        size_t freed = 0;
        ReplySlot *s;
        while ((s = replier_book_first(&rr))) {
                assert_true(s->requester == NULL || s->requester == CL(0));
                assert_ptr_equal(reply_slot_find(&rr, s->id_net, s->id_serial), s);
                reply_slot_free(s);
                freed++;
                assert_true(freed <= N);
        }
        assert_int_equal(freed, N);
        assert_int_equal(rr.taken, 0);
        assert_int_equal(q[0].count, 0);
        assert_true(TAILQ_EMPTY(&q[0].slots));
        assert_true(TAILQ_EMPTY(&q[1].slots));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_and_find),
                cmocka_unit_test(test_duplicate_id),
                cmocka_unit_test(test_mark_taken),
                cmocka_unit_test(test_forget_requester),
                cmocka_unit_test(test_drain),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
