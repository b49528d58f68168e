/* SPDX-License-Identifier: MPL-2.0 */
/*
 * request.h - what each client request does.
 */
#ifndef KBUS_CORE_REQUEST_H
#define KBUS_CORE_REQUEST_H

#include <stdbool.h>

#include "../proto/buf.h"
#include "../proto/codec.h"

struct Client;
struct Binding;

/* What a request frame gets back; request_dispatch() writes it, once. */
typedef enum AnswerKind {
        ANSWER_RESULT = 0, /* a RESULT: status, value0, value1, or a payload */
        ANSWER_ERROR,      /* an ERROR frame about the request: status is the errno */
        ANSWER_NOP,        /* a NOP frame (POKE, WAKE with SYNC) */
        ANSWER_NONE,       /* nothing now: TAKE, WAKE, a posted send that went, a held send */
} AnswerKind;

typedef struct Answer {
        AnswerKind kind;
        int32_t status;         /* 0, or a negative errno */
        uint32_t value0, value1;
        const char *text;       /* ANSWER_ERROR: what was wrong, for humans */
        bool has_payload;       /* the RESULT carries payload (value0 is its length) */
        Buf payload;
} Answer;

#define ANSWER_INIT ((Answer){ .kind = ANSWER_RESULT, .payload = BUF_INIT })

static inline void answer_deinit(Answer *a)
{
        buf_deinit(&a->payload);
}

void request_dispatch(struct Client *c, const FrameHdr *h, const uint8_t *body);
void request_remove_binding(struct Client *c, struct Binding *b);
void request_recheck_bindings(struct Client *c);

#endif
