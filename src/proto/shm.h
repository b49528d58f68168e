/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shm.h - the page kbusd shares with one client: push counters and take log.
 *
 * kbusd pushes queued messages to the client's socket ahead of the
 * application's reads (semantics §9's "read" is the application taking a message
 * from the library).  So that kbusd knows exactly which messages were taken
 * (queue length, GoneAway vs Ignored, unbind removal) without a syscall per
 * message, the library appends the sequence number of each message it hands
 * to the application to a ring in memory kbusd also maps.  kbusd creates the
 * memfd, seals its size and passes it in the WELCOME frame; it reads the
 * client-written half as untrusted input.
 *
 * Sequence numbers: the n-th MSG frame kbusd sends a client has seq n
 * (starting at 1); both sides count, nothing carries it on the wire.
 */
#ifndef KBUS_PROTO_SHM_H
#define KBUS_PROTO_SHM_H

#include <stdint.h>

#define SHM_LOG_LEN 1024u /* power of two */

/*
 * One cache line for each pace of writing: kbusd writes pushed with every
 * message, the second line seldom, the client writes taken with every take.
 * The library reads urgent_seq and consumed for every message it hands out;
 * kept off pushed's line, those reads hit its cache instead of missing it.
 */
typedef struct KbusShm {
        /* Written by kbusd, with every message. */
        uint64_t pushed;     /* MSG frames queued for the client so far (its newest seq) */
        uint8_t pad0[64 - 8];
        /* Written by kbusd, seldom. */
        uint64_t urgent_seq; /* seq of the newest URGENT message queued */
        uint64_t consumed;   /* take-log entries kbusd has read */
        uint32_t notify;     /* kbusd sets 1 (the client 0): send FRAME_WAKE after the next take */
        uint8_t pad1[64 - 20];
        /* Written by the client. */
        uint64_t taken;      /* take-log entries written so far */
        uint8_t pad2[64 - 8];
        uint32_t log[SHM_LOG_LEN]; /* log[i % SHM_LOG_LEN] = seq of the i-th take */
} KbusShm;

_Static_assert(sizeof(KbusShm) == 192 + 4 * SHM_LOG_LEN, "docs/protocol.md's layout");

#define SHM_SIZE ((sizeof(KbusShm) + 4095u) & ~(size_t)4095u)

#endif
