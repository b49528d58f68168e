/* SPDX-License-Identifier: MPL-2.0 */
/*
 * buf.h - a growable byte buffer with a consumed head, for socket I/O.
 */
#ifndef KBUS_PROTO_BUF_H
#define KBUS_PROTO_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct Buf {
        uint8_t *data;
        size_t head; /* first unconsumed byte */
        size_t tail; /* one past the last byte */
        size_t cap;
} Buf;

#define BUF_INIT ((Buf){ 0 })

void buf_deinit(Buf *b);
int buf_reserve(Buf *b, size_t n);
int buf_append(Buf *b, const void *p, size_t n);
void buf_consume(Buf *b, size_t n);
void buf_shrink(Buf *b, size_t keep_cap);

/* For _cleanup_(buf_deinitp) Buf b = BUF_INIT; (cleanup.h). */
static inline void buf_deinitp(Buf *b)
{
        buf_deinit(b);
}

static inline size_t buf_len(const Buf *b)
{
        return b->tail - b->head;
}

/* NULL for a buffer never grown: NULL + 0 is undefined behaviour in C. */
static inline uint8_t *buf_head(const Buf *b)
{
        return b->data ? b->data + b->head : NULL;
}

/* Room after the tail; valid after buf_reserve(). */
static inline uint8_t *buf_tail(const Buf *b)
{
        return b->data ? b->data + b->tail : NULL;
}

static inline size_t buf_room(const Buf *b)
{
        return b->cap - b->tail;
}

#endif
