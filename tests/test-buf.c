/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-buf.c - unit tests for the growable byte buffer (src/proto/buf.c).
 *
 * Bytes come out in the order they went in, whatever the pattern of
 * appending and consuming; a buffer drained as fast as it fills never
 * moves its bytes; and one drained a little at a time (a slow reader's
 * output) grows rather than moving everything it holds for a few bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../src/proto/buf.h"

/* Appends @n bytes numbered from *@next on. */
static void append_numbered(Buf *b, size_t n, unsigned *next)
{
        uint8_t chunk[512];
        assert_true(n <= sizeof(chunk));
        for (size_t i = 0; i < n; i++)
                chunk[i] = (uint8_t)(*next)++;
        assert_int_equal(buf_append(b, chunk, n), 0);
}

/* Consumes @n bytes, checking they are the ones numbered from *@next on. */
static void consume_numbered(Buf *b, size_t n, unsigned *next)
{
        assert_true(buf_len(b) >= n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(buf_head(b)[i], (uint8_t)(*next)++);
        buf_consume(b, n);
}

static void test_drained_as_filled_never_moves(void **state)
{
        Buf b = BUF_INIT;
        unsigned in = 0, out = 0;
        (void)state;

        append_numbered(&b, 100, &in);
        const uint8_t *first = b.data;
        for (int i = 0; i < 1000; i++) {
                consume_numbered(&b, 100, &out);
                append_numbered(&b, 100, &in);
        }
        assert_ptr_equal(b.data, first);
        assert_int_equal(b.cap, 256);
        buf_deinit(&b);
}

static void test_slow_drain_keeps_order(void **state)
{
        Buf b = BUF_INIT;
        unsigned in = 0, out = 0;
        (void)state;

        /* Three in, one out: the head never catches up with what is held. */
        for (int i = 0; i < 2000; i++) {
                append_numbered(&b, 300, &in);
                consume_numbered(&b, 100, &out);
        }
        consume_numbered(&b, buf_len(&b), &out);
        assert_int_equal(in, out);
        assert_int_equal(buf_len(&b), 0);
        buf_deinit(&b);
}

static void test_moves_when_the_head_is_long(void **state)
{
        Buf b = BUF_INIT;
        unsigned in = 0, out = 0;
        (void)state;

        append_numbered(&b, 200, &in);
        consume_numbered(&b, 150, &out); /* 150 consumed, 50 held, 56 free */
        append_numbered(&b, 100, &in);   /* room by moving the 50 down */
        assert_int_equal(b.cap, 256);
        assert_int_equal(b.head, 0);
        consume_numbered(&b, 150, &out);
        buf_deinit(&b);
}

static void test_grows_when_the_head_is_short(void **state)
{
        Buf b = BUF_INIT;
        unsigned in = 0, out = 0;
        (void)state;

        append_numbered(&b, 250, &in);
        consume_numbered(&b, 5, &out); /* 5 consumed, 245 held, 6 free at the tail */
        append_numbered(&b, 8, &in);   /* moving 245 to gain 5: grow instead */
        assert_int_equal(b.cap, 512);
        assert_int_equal(b.head, 5);
        consume_numbered(&b, 253, &out);
        buf_deinit(&b);
}

static void test_shrink(void **state)
{
        Buf b = BUF_INIT;
        unsigned in = 0, out = 0;
        (void)state;

        append_numbered(&b, 500, &in);
        buf_shrink(&b, 256); /* not empty: kept */
        assert_non_null(b.data);
        consume_numbered(&b, 500, &out);
        buf_shrink(&b, 1024); /* small enough to keep */
        assert_non_null(b.data);
        buf_shrink(&b, 256);
        assert_null(b.data);
        buf_deinit(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_drained_as_filled_never_moves),
                cmocka_unit_test(test_slow_drain_keeps_order),
                cmocka_unit_test(test_moves_when_the_head_is_long),
                cmocka_unit_test(test_grows_when_the_head_is_short),
                cmocka_unit_test(test_shrink),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
