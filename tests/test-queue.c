/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-queue.c - unit tests for a client's message queue (src/core/queue.c).
 *
 * The queue holds one entry per message pushed to the client, LIVE until
 * the application takes it (FRAME_TAKE, or the take log in the shared page)
 * or an unbind removes it.  These tests check sequence numbering, the
 * live/live_bytes accounting that is the queue length of semantics §5, that each
 * message is taken at most once, that the take log is treated as untrusted
 * (an entry that names no LIVE message stops the scan until it is fixed),
 * that unbind removal touches only LIVE entries of that binding, and that
 * the ring reclaims taken entries instead of growing.  The shared page is a
 * calloc'd KbusShm written here the way a client would write it.  Each
 * message is pushed with bytes = 1000 + seq so callbacks can tell entries
 * apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../src/core/queue.h"

#define BYTES(seq) ((uint32_t)(1000 + (seq)))
#define SEQ_OF(e) ((uint64_t)(e)->bytes - 1000)

typedef struct Calls {
        size_t n;
        uint64_t seqs[64];
        uint8_t states[64];
} Calls;

static void record(QueueEntry *e, void *ctx)
{
        Calls *c = ctx;

        assert_true(c->n < 64);
        c->seqs[c->n] = SEQ_OF(e);
        c->states[c->n] = e->state;
        c->n++;
}

static uint64_t push(MsgQueue *q, uint32_t binding_id, struct ReplySlot *slot)
{
        uint64_t seq = 0;

        assert_int_equal(queue_push(q, binding_id, slot, BYTES(q->next_seq), &seq), 0);
        return seq;
}

/* The client's side of the take log: it took @seq. */
static void client_log(KbusShm *shm, uint32_t seq)
{
        shm->log[shm->taken % SHM_LOG_LEN] = seq;
        shm->taken++;
}

static KbusShm *shm_new(void)
{
        KbusShm *shm = calloc(1, sizeof(*shm));

        assert_non_null(shm);
        return shm;
}

static void test_push(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        char slot_obj;
        struct ReplySlot *slot = (struct ReplySlot *)&slot_obj;
        uint64_t bytes = 0;

        queue_deinit(&q); /* safe on MSG_QUEUE_INIT */
        assert_null(queue_entry(&q, 0));
        assert_null(queue_entry(&q, 1));
        assert_null(queue_take(&q, 1, record, NULL));
        assert_int_equal(q.live, 0);

        for (uint64_t i = 1; i <= 10; i++) {
                uint64_t seq = push(&q, (uint32_t)i % 3, i == 4 ? slot : NULL);
                assert_int_equal(seq, i);
                bytes += BYTES(i);
                assert_int_equal(q.live, i);
                assert_int_equal(q.live_bytes, bytes);
        }
        for (uint64_t i = 1; i <= 10; i++) {
                QueueEntry *e = queue_entry(&q, i);
                assert_non_null(e);
                assert_int_equal(e->state, ENTRY_LIVE);
                assert_int_equal(e->binding_id, i % 3);
                assert_int_equal(e->bytes, BYTES(i));
                assert_ptr_equal(e->slot, i == 4 ? slot : NULL);
        }
        assert_int_equal(q.first_seq, 1);
        assert_int_equal(q.next_seq, 11);
        queue_deinit(&q);
        assert_null(q.ring);
        assert_int_equal(q.live, 0);
        assert_int_equal(q.next_seq, 1);
        queue_deinit(&q); /* and twice */
}

static void test_take(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        Calls calls = { 0 };

        for (int i = 0; i < 5; i++)
                push(&q, 1, NULL);
        uint64_t bytes = q.live_bytes;

        QueueEntry *e = queue_take(&q, 3, record, &calls);
        assert_ptr_equal(e, queue_entry(&q, 3));
        assert_int_equal(e->state, ENTRY_TAKEN);
        assert_int_equal(calls.n, 1);
        assert_int_equal(calls.seqs[0], 3);
        assert_int_equal(calls.states[0], ENTRY_TAKEN); /* marked before the call */
        assert_int_equal(q.live, 4);
        assert_int_equal(q.live_bytes, bytes - BYTES(3));

        /* only once */
        assert_null(queue_take(&q, 3, record, &calls));
        assert_int_equal(calls.n, 1);
        assert_int_equal(q.live, 4);
        assert_int_equal(q.live_bytes, bytes - BYTES(3));

        /* unknown seqs */
        assert_null(queue_take(&q, 0, record, &calls));
        assert_null(queue_take(&q, 6, record, &calls));
        assert_null(queue_take(&q, 1000, record, &calls));
        assert_null(queue_take(&q, 0xffffffffu, record, &calls));
        assert_int_equal(calls.n, 1);
        assert_int_equal(q.live, 4);

        /* no callback is fine */
        assert_non_null(queue_take(&q, 1, NULL, NULL));
        assert_int_equal(q.live, 3);
        assert_int_equal(queue_entry(&q, 1)->state, ENTRY_TAKEN);
        assert_int_equal(queue_entry(&q, 2)->state, ENTRY_LIVE);

        /* the next push reclaims seq 1 but not 2 (LIVE) nor 3 (after it) */
        assert_int_equal(push(&q, 1, NULL), 6);
        assert_int_equal(q.first_seq, 2);
        assert_null(queue_entry(&q, 1));
        assert_null(queue_take(&q, 1, record, &calls));
        assert_non_null(queue_take(&q, 2, record, &calls));
        assert_int_equal(push(&q, 1, NULL), 7);
        assert_int_equal(q.first_seq, 4);
        assert_int_equal(q.live, 4);
        assert_int_equal(calls.n, 2);
        queue_deinit(&q);
}

/* Sequence numbers past 2^32: TAKE and the take log carry the low 32 bits. */
static void test_take_seq32(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        Calls calls = { 0 };
        const uint64_t base = (1ull << 32) - 3;

        q.first_seq = q.next_seq = base;
        for (int i = 0; i < 6; i++)
                assert_int_equal(push(&q, 0, NULL), base + (uint64_t)i);
        assert_non_null(queue_take(&q, (uint32_t)(base + 4), record, &calls)); /* low 32: 1 */
        assert_int_equal(calls.n, 1);
        assert_int_equal(queue_entry(&q, base + 4)->state, ENTRY_TAKEN);
        assert_int_equal(queue_entry(&q, base + 3)->state, ENTRY_LIVE);
        assert_non_null(queue_take(&q, 0xfffffffdu, record, &calls)); /* base itself */
        assert_int_equal(queue_entry(&q, base)->state, ENTRY_TAKEN);
        assert_null(queue_take(&q, 3, record, &calls));           /* base + 6: not pushed */
        assert_null(queue_take(&q, 0xfffffffcu, record, &calls)); /* base - 1 */
        assert_int_equal(q.live, 4);
        queue_deinit(&q);
}

static void test_reconcile(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        KbusShm *shm = shm_new();
        Calls calls = { 0 };

        for (int i = 0; i < 8; i++)
                push(&q, 1, NULL);

        /* nothing logged */
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 0);
        assert_int_equal(shm->consumed, 0);

        /* in order */
        client_log(shm, 1);
        client_log(shm, 2);
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 2);
        assert_int_equal(calls.n, 2);
        assert_int_equal(calls.seqs[0], 1);
        assert_int_equal(calls.seqs[1], 2);
        assert_int_equal(shm->consumed, 2);
        assert_int_equal(q.log_seen, 2);
        assert_int_equal(q.live, 6);
        assert_int_equal(q.first_seq, 3); /* reclaimed */
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 0);
        assert_int_equal(calls.n, 2);

        /* out of order: an urgent message went to the front */
        client_log(shm, 8);
        client_log(shm, 3);
        client_log(shm, 5);
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 3);
        assert_int_equal(calls.n, 5);
        assert_int_equal(calls.seqs[2], 8);
        assert_int_equal(calls.seqs[3], 3);
        assert_int_equal(calls.seqs[4], 5);
        assert_int_equal(shm->consumed, 5);
        assert_int_equal(q.live, 3);
        assert_int_equal(q.first_seq, 4); /* 4 is still LIVE */
        assert_int_equal(queue_entry(&q, 8)->state, ENTRY_TAKEN);
        assert_int_equal(queue_entry(&q, 4)->state, ENTRY_LIVE);

        queue_deinit(&q);
        free(shm);
}

static void test_reconcile_invalid(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        KbusShm *shm = shm_new();
        Calls calls = { 0 };

        for (int i = 0; i < 6; i++)
                push(&q, 1, NULL);

        /* an entry naming a message not pushed yet is not written yet: stop there */
        client_log(shm, 1);
        client_log(shm, 7);
        client_log(shm, 3);
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 1);
        assert_int_equal(shm->consumed, 1);
        assert_int_equal(q.log_seen, 1);
        assert_int_equal(q.live, 5);
        /* retried, and still stuck, while the entry is unwritten */
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 0);
        assert_int_equal(shm->consumed, 1);
        assert_int_equal(queue_entry(&q, 3)->state, ENTRY_LIVE);
        /* once written, the scan goes on past it */
        shm->log[1] = 2;
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 2);
        assert_int_equal(calls.n, 3);
        assert_int_equal(calls.seqs[1], 2);
        assert_int_equal(calls.seqs[2], 3);
        assert_int_equal(shm->consumed, 3);
        assert_int_equal(q.live, 3);

        /* entries naming a message taken already, or removed, are passed over */
        queue_remove_binding(&q, 1, NULL, NULL);
        for (int i = 0; i < 3; i++)
                push(&q, 2, NULL); /* seqs 7, 8, 9 */
        client_log(shm, 2);
        client_log(shm, 5); /* removed */
        client_log(shm, 8);
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 1);
        assert_int_equal(calls.seqs[3], 8);
        assert_int_equal(shm->consumed, 6);
        assert_int_equal(q.live, 2);

        /* far in the future: not written yet, however often it is retried */
        static const uint32_t future[] = { 10, 100, 0x7fffffffu };
        for (size_t i = 0; i < sizeof(future) / sizeof(future[0]); i++) {
                client_log(shm, future[i]);
                client_log(shm, 7);
                assert_int_equal(queue_reconcile(&q, shm, record, &calls), 0);
                assert_int_equal(shm->consumed, 6);
                shm->taken -= 2;
        }
        /* a client going back is not followed */
        shm->taken = 2;
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 0);
        assert_int_equal(shm->consumed, 6);
        shm->taken = 6;
        assert_int_equal(calls.n, 4);

        /* a `taken` far ahead of what was written: at most SHM_LOG_LEN entries read */
        client_log(shm, 7);
        client_log(shm, 9);
        shm->taken = UINT64_MAX;
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 2);
        assert_int_equal(shm->consumed, 6 + SHM_LOG_LEN);
        assert_int_equal(q.live, 0);

        queue_deinit(&q);
        free(shm);
}

static void test_remove_binding(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        Calls calls = { 0 };
        static const uint32_t bindings[] = { 7, 8, 7, 0, 7, 9, 7 };
        KbusShm *shm = shm_new();

        for (size_t i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++)
                push(&q, bindings[i], NULL);
        assert_non_null(queue_take(&q, 3, NULL, NULL)); /* binding 7, taken */
        uint64_t bytes = q.live_bytes;

        assert_int_equal(queue_remove_binding(&q, 7, record, &calls), 3);
        assert_int_equal(calls.n, 3);
        assert_int_equal(calls.seqs[0], 1);
        assert_int_equal(calls.seqs[1], 5);
        assert_int_equal(calls.seqs[2], 7);
        for (int i = 0; i < 3; i++)
                assert_int_equal(calls.states[i], ENTRY_REMOVED);
        assert_int_equal(q.live, 3);
        assert_int_equal(q.live_bytes, bytes - BYTES(1) - BYTES(5) - BYTES(7));
        assert_int_equal(q.first_seq, 2); /* seq 1 reclaimed, 2 is LIVE */
        assert_int_equal(queue_entry(&q, 2)->state, ENTRY_LIVE);
        assert_int_equal(queue_entry(&q, 3)->state, ENTRY_TAKEN);
        assert_int_equal(queue_entry(&q, 4)->state, ENTRY_LIVE);
        assert_int_equal(queue_entry(&q, 5)->state, ENTRY_REMOVED);
        assert_int_equal(queue_entry(&q, 6)->state, ENTRY_LIVE);

        /* nothing more of that binding; unknown bindings remove nothing */
        assert_int_equal(queue_remove_binding(&q, 7, record, &calls), 0);
        assert_int_equal(queue_remove_binding(&q, 12345, record, &calls), 0);
        assert_int_equal(calls.n, 3);

        /* a removed message cannot be taken, by TAKE or the log */
        assert_null(queue_take(&q, 5, record, &calls));
        client_log(shm, 7);
        assert_int_equal(queue_reconcile(&q, shm, record, &calls), 0);
        assert_int_equal(calls.n, 3);
        assert_int_equal(q.live, 3);

        /* no callback is fine */
        assert_int_equal(queue_remove_binding(&q, 8, NULL, NULL), 1);
        assert_int_equal(q.live, 2);
        assert_int_equal(q.first_seq, 4);
        queue_deinit(&q);
        free(shm);
}

/* An idle queue gives its ring back, and works as before when used again. */
static void test_trim(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;

        (void)state;
        for (int i = 0; i < 100; i++)
                push(&q, (uint32_t)i, NULL);
        queue_trim(&q); /* entries are live: nothing goes */
        assert_non_null(q.ring);
        for (uint32_t seq = 1; seq <= 99; seq++)
                queue_take(&q, seq, NULL, NULL);
        queue_trim(&q);
        assert_non_null(q.ring); /* seq 100 is still live */
        queue_take(&q, 100, NULL, NULL);
        queue_trim(&q);
        assert_null(q.ring);
        assert_int_equal(q.cap, 0);
        assert_int_equal(q.live, 0);
        assert_int_equal(push(&q, 7, NULL), 101); /* seqs go on where they were */
        assert_int_equal(q.live, 1);
        queue_take(&q, 101, NULL, NULL);
        assert_int_equal(q.live, 0);
        queue_deinit(&q);
}

/* Growing keeps every entry, also when the live part wraps round the ring. */
static void test_grow(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;

        for (int i = 0; i < 40; i++)
                push(&q, 1, NULL);
        for (uint32_t s = 1; s <= 30; s++)
                assert_non_null(queue_take(&q, s, NULL, NULL));
        for (int i = 0; i < 54; i++) /* seqs 41..94: wraps past the end of 64 */
                push(&q, (uint32_t)q.next_seq, NULL);
        assert_int_equal(q.first_seq, 31);
        assert_int_equal(q.cap, 64);
        assert_int_equal(q.next_seq - q.first_seq, 64); /* full */
        assert_int_equal(push(&q, 95, NULL), 95);
        assert_int_equal(q.cap, 128);
        assert_int_equal(q.live, 65);
        for (uint64_t s = 31; s <= 95; s++) {
                QueueEntry *e = queue_entry(&q, s);
                assert_non_null(e);
                assert_int_equal(e->state, ENTRY_LIVE);
                assert_int_equal(e->bytes, BYTES(s));
                assert_int_equal(e->binding_id, s <= 40 ? 1 : s);
        }
        assert_null(queue_entry(&q, 30));
        assert_null(queue_entry(&q, 96));
        assert_null(queue_entry(&q, 0));
        assert_null(queue_entry(&q, UINT64_MAX));
        queue_deinit(&q);
}

/* 10000 messages, taken as fast as they come: the ring stays at its minimum. */
static void test_ring_reclaim(void **state)
{
        MsgQueue q = MSG_QUEUE_INIT;
        KbusShm *shm = shm_new();
        uint64_t taken = 0, max_live = 0;

        for (uint64_t i = 1; i <= 10000; i++) {
                assert_int_equal(push(&q, (uint32_t)(i % 4), NULL), i);
                if (q.live > max_live)
                        max_live = q.live;
                if (i % 7 == 0) {
                        /* the client takes all but the newest few, newest-but-one first */
                        uint64_t upto = i - 3;
                        if (taken + 1 < upto) {
                                client_log(shm, (uint32_t)(upto - 1));
                                for (uint64_t s = taken + 1; s < upto - 1; s++)
                                        client_log(shm, (uint32_t)s);
                                client_log(shm, (uint32_t)upto);
                        }
                        size_t n = queue_reconcile(&q, shm, NULL, NULL);
                        assert_int_equal(n, upto - taken);
                        taken = upto;
                        assert_int_equal(shm->consumed, shm->taken);
                        assert_int_equal(q.live, i - taken);
                } else if (i % 11 == 0) {
                        /* or says so with FRAME_TAKE */
                        assert_non_null(queue_take(&q, (uint32_t)++taken, NULL, NULL));
                }
        }
        assert_int_equal(q.cap, 64);
        assert_true(max_live < 16);
        assert_true(shm->taken > SHM_LOG_LEN); /* the log ring wrapped */

        while (taken < 10000)
                assert_non_null(queue_take(&q, (uint32_t)++taken, NULL, NULL));
        assert_int_equal(q.live, 0);
        assert_int_equal(q.live_bytes, 0);

        /* one message never taken pins the ring: it must grow, and keep everything */
        uint64_t pinned = push(&q, 99, NULL);
        for (int i = 0; i < 200; i++) {
                uint64_t s = push(&q, 1, NULL);
                assert_non_null(queue_take(&q, (uint32_t)s, NULL, NULL));
        }
        assert_int_equal(q.cap, 256);
        assert_int_equal(queue_entry(&q, pinned)->state, ENTRY_LIVE);
        assert_int_equal(queue_entry(&q, pinned)->binding_id, 99);
        assert_int_equal(queue_remove_binding(&q, 99, NULL, NULL), 1);
        push(&q, 1, NULL);
        assert_int_equal(q.first_seq, q.next_seq - 1);
        queue_deinit(&q);
        free(shm);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_push),
                cmocka_unit_test(test_take),
                cmocka_unit_test(test_take_seq32),
                cmocka_unit_test(test_reconcile),
                cmocka_unit_test(test_reconcile_invalid),
                cmocka_unit_test(test_remove_binding),
                cmocka_unit_test(test_trim),
                cmocka_unit_test(test_grow),
                cmocka_unit_test(test_ring_reclaim),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
