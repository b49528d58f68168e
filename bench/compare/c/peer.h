/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer.h - one message system, seen through the few calls the comparison
 * needs.  peer.c times the workloads; each peer-*.c implements these calls
 * with its system's own C library, the way its users would.
 */
#ifndef KBUS_COMPARE_PEER_H
#define KBUS_COMPARE_PEER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Peer Peer;

/* The system's name, for the output line. */
extern const char peer_name[];

/* A connection to @address (each system reads its own kind).  @latency:
 * tune for round trips rather than for throughput, if the system can. */
Peer *peer_open(const char *address, bool latency);

/* Answer every request with its own bytes, forever; write one byte to
 * @ready_fd once requests can arrive. */
void peer_serve(Peer *p, int ready_fd);

/* One request of @n bytes, returning once its answer has arrived. */
void peer_request(Peer *p, const void *buf, size_t n);

/* Get ready to announce (a brokerless system binds here). */
void peer_prepare_announce(Peer *p);

/* Listen for announcements; returns once the system will deliver them. */
void peer_subscribe(Peer *p);

/* Wait up to @timeout_ms for the next announcement: false if none came. */
bool peer_next(Peer *p, int timeout_ms);

/* Announce @n bytes, pipelined: without waiting for anything. */
void peer_announce(Peer *p, const void *buf, size_t n);

/* Return once everything announced has left this process. */
void peer_flush(Peer *p);

/* Give up, saying why. */
void peer_die(const char *what, const char *why);

#endif
