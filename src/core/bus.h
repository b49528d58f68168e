/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bus.h - one bus: its clients, bindings, serial counter and pending work.
 */
#ifndef KBUS_CORE_BUS_H
#define KBUS_CORE_BUS_H

#include <bsd/sys/queue.h>
#include <stdbool.h>
#include <stdint.h>

#include "message.h"
#include "trie.h"

struct Client;
struct Core;

/* One recipient of a message being routed. */
typedef struct Target {
        struct Client *client;
        uint32_t binding_id;
} Target;

/* An ALL_OR_WAIT send waiting for room (semantics §7.4). */
typedef struct HeldSend {
        Message *msg;
        struct Client *sender;
        bool wait;     /* the sender is blocked in send: answer with RESULT */
        bool reserved; /* a request: one place reserved in the sender's queue */
        TAILQ_ENTRY(HeldSend) link;
} HeldSend;

/* An unbind event that found a full queue (semantics §11). */
typedef struct SetAside {
        struct Client *to;
        uint32_t binding_id;
        Message *msg;
        TAILQ_ENTRY(SetAside) link;
} SetAside;

typedef struct Bus {
        struct Core *core;
        unsigned number;
        uint32_t next_ksock_id;
        uint32_t last_serial;
        uint32_t max_msg_size;
        uint32_t report_binds; /* ksocks that asked for replier bind events */
        uint32_t nclients;
        Trie trie;
        TAILQ_HEAD(, Client) clients;
        TAILQ_HEAD(, Client) watchers; /* of listener changes (watch.c) */
        TAILQ_HEAD(, HeldSend) held;
        uint32_t nheld;
        TAILQ_HEAD(, SetAside) set_aside;
        uint32_t nset_aside;
        uint32_t nlost;     /* clients owed an UnbindEventsLost */
        Message *lost_msg;  /* the one they all get, as from the kernel module (or NULL) */
        bool recheck;       /* room appeared or a replier changed: retry held work */
        uint64_t stamp;     /* numbers deliveries and scans, for the clients' marks */
        Target *targets;    /* scratch for routing */
        size_t ntargets, targets_cap;
} Bus;

int bus_new(struct Core *core, unsigned number, uint32_t max_msg_size, Bus **ret);
Bus *bus_free(Bus *bus);
uint32_t bus_next_serial(Bus *bus);
void bus_lost_paid(Bus *bus);
int bus_targets_add(Bus *bus, struct Client *c, uint32_t binding_id);

/* Whether something on the bus waits for room in a queue. */
static inline bool bus_waits_for_room(const Bus *bus)
{
        return bus->nheld || bus->nset_aside || bus->nlost;
}

#endif
