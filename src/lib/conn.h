/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conn.h - libkbus internals: one ksock's connection to kbusd.
 */
#ifndef KBUS_LIB_CONN_H
#define KBUS_LIB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/buf.h"
#include "../proto/codec.h"
#include "../proto/shm.h"
#include "kbus/kbus.h"

/* A message kbusd pushed that the application has not taken yet. */
typedef struct Prefetched {
        kbus_message_t *msg;
        uint32_t seq;        /* low 32 bits of its sequence number */
        uint32_t binding_id; /* the binding that queued it, 0 if none */
        uint32_t size;       /* bytes of the entire message */
} Prefetched;

typedef struct Conn {
        int fd;
        uint32_t ksock_id;
        uint32_t bus;
        uint32_t max_msg_size; /* as last heard from kbusd */
        bool can_write;
        bool held;             /* an ALL_OR_WAIT send is waiting in kbusd */
        uint64_t nops_asked;   /* frames sent that kbusd answers with a NOP (POKE, WAKE SYNC) */
        uint64_t nops_got;     /* NOPs read; a POKE is pending while they differ */
        bool have_answer;
        bool awaiting;         /* a request is out; its answer not yet read */
        int dead;              /* 0, or why kbusd can no longer be used */
        int post_error;        /* kbusd rejected a posted message: report once */
        KbusShm *shm;          /* NULL: takes are sent as FRAME_TAKE */
        uint64_t received;     /* MSG frames parsed: the newest seq */
        uint64_t pushed_seen;  /* the page's pushed, when we last read it */
        uint64_t taken;        /* take-log entries written (our count, not the page's) */
        uint64_t skip;         /* bytes still to drop of a frame of unknown type */
        Result answer;
        Buf payload;           /* the answer's payload, if any */
        Buf in;                /* received bytes not yet parsed */
        Buf post;              /* posted frames not yet written */
        Prefetched *pf;        /* ring of pushed messages, oldest first */
        size_t pf_head, pf_len, pf_cap;
        kbus_message_t *being_read; /* taken by next_msg, not yet read */
        uint32_t being_read_len;
        uint8_t *written;      /* encoded message waiting for send */
        size_t written_len;
        Buf partial;           /* kbus_ksock_write_data(): a message's bytes so far */
} Conn;

/* An errno kbusd reports is in [-CONN_ERRNO_MAX, -1]. */
#define CONN_ERRNO_MAX 4095
/* How long a POKE's NOP is waited for (kbusd answers at once). */
#define CONN_NOP_WAIT_MS 5000

/* A status kbusd may send: 0 or a negative errno. */
static inline bool conn_status_ok(int32_t status)
{
        return status <= 0 && status >= -CONN_ERRNO_MAX;
}

int conn_check_flags(int flags);
int conn_open(const char *path, int flags, int timeout_ms, bool check_peer, Conn **ret);
Conn *conn_free(Conn *c);
int conn_request(Conn *c, uint16_t type, uint16_t flags, const void *body, size_t len,
                 const void *tail, size_t tail_len, Result *ret);
uint8_t *conn_post_begin(Conn *c, uint16_t type, uint16_t flags, size_t len);
int conn_post_end(Conn *c);
int conn_flush(Conn *c);
int conn_next(Conn *c, Prefetched *ret);
int conn_take(Conn *c, const Prefetched *p);
void conn_drop_binding(Conn *c, uint32_t binding_id);
int conn_wait_input(Conn *c);
int conn_pending(Conn *c);
void conn_keep_readable(Conn *c);
void conn_settle_poke(Conn *c);

#endif
