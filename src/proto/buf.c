/* SPDX-License-Identifier: MPL-2.0 */
/*
 * buf.c - a growable byte buffer with a consumed head.
 *
 * Bytes are appended at the tail and consumed from the head.  Consumed space
 * is reclaimed by moving the live bytes down only when room is needed, so a
 * buffer that is drained as fast as it fills never moves anything; and only
 * when the consumed head is at least as long as what would move, so that a
 * buffer drained a little at a time (a slow reader's output) does not move
 * all it holds for every few bytes it gains: each byte moves at most once
 * for every byte consumed before it.
 */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/**
 * buf_deinit() - free the buffer's memory; safe on BUF_INIT and twice.
 * @b: the buffer
 */
void buf_deinit(Buf *b)
{
        free(b->data);
        *b = BUF_INIT;
}

/* A new buffer's first size: small, since most hold a frame or two (an idle
 * ksock's WELCOME and answers); a busy one doubles to what it needs. */
#define BUF_FIRST_CAP 256u

/**
 * buf_reserve() - make room for @n more bytes after the tail.
 * @b: the buffer
 * @n: bytes wanted
 *
 * Return: 0, or -ENOMEM (the buffer is unchanged).
 */
int buf_reserve(Buf *b, size_t n)
{
        size_t len = buf_len(b);

        if (b->cap - b->tail >= n)
                return 0;
        if (b->head > 0 && b->head >= len) {
                memmove(b->data, b->data + b->head, len);
                b->head = 0;
                b->tail = len;
                if (b->cap - b->tail >= n)
                        return 0;
        }
        size_t used = b->tail; /* the head may still hold consumed bytes */
        if (n > SIZE_MAX / 2 - used)
                return -ENOMEM;
        size_t cap = b->cap ? b->cap : BUF_FIRST_CAP;
        while (cap - used < n)
                cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

/**
 * buf_append() - copy @n bytes to the tail.
 * @b: the buffer
 * @p: the bytes
 * @n: how many
 *
 * Return: 0, or -ENOMEM (nothing appended).
 */
int buf_append(Buf *b, const void *p, size_t n)
{
        int r = buf_reserve(b, n);

        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->tail, p, n);
        b->tail += n;
        return 0;
}

/**
 * buf_consume() - drop @n bytes from the head.
 * @b: the buffer
 * @n: at most buf_len(@b)
 */
void buf_consume(Buf *b, size_t n)
{
        b->head += n;
        if (b->head == b->tail)
                b->head = b->tail = 0;
}

/**
 * buf_shrink() - give memory back when an empty buffer grew past @keep_cap.
 * @b:        the buffer
 * @keep_cap: capacity worth keeping
 */
void buf_shrink(Buf *b, size_t keep_cap)
{
        if (buf_len(b) == 0 && b->cap > keep_cap)
                buf_deinit(b);
}
