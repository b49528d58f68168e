/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core.h - kbusd's state machine: buses, ksocks, routing, policy, quotas;
 * no file descriptors, no event loop.
 */
#ifndef KBUS_CORE_CORE_H
#define KBUS_CORE_CORE_H

#include <bsd/sys/queue.h>
#include <stdbool.h>
#include <stdint.h>

#include "../proto/shm.h"
#include "caps.h"
#include "policy.h"
#include "quota.h"

struct Bus;
struct Client;

/*
 * What the core needs from the world outside it.  kbusd's shell (src/broker)
 * fills these in with sockets and memfds; the in-process tests with buffers.
 * @ctx is CoreConfig.ops_ctx.
 */
typedef struct CoreOps {
        /* Make bus @number reachable (NEW_BUS): 0, CORE_E_TAKEN if another
         * kbusd serves it, or a negative errno.  On 0 the shell has called
         * core_add_bus(). */
        int (*open_bus)(void *ctx, unsigned number);
        /* A take-log page to share with a client (shm.h): its descriptor
         * (given to the client with the WELCOME) and its mapping. */
        int (*make_page)(void *ctx, int *ret_fd, KbusShm **ret_page);
        void (*unmap_page)(void *ctx, KbusShm *page);
        /* Write what @c has in c->out (and c->pass_fd with its first byte) as
         * far as the connection takes it now; consume what went out.  On a
         * write error, call core_client_close(). */
        void (*flush)(void *ctx, struct Client *c);
        /* @c is about to be freed: end its I/O (a last try at c->out may go). */
        void (*gone)(void *ctx, struct Client *c);
} CoreOps;

enum {
        CORE_E_TAKEN = 1, /* open_bus: another kbusd holds the bus */
};

typedef struct CoreConfig {
        const CoreOps *ops;
        void *ops_ctx;
        uint32_t max_messages;      /* the queue limit of a new ksock */
        uint32_t max_msg_size;      /* the maximum message size of a new bus */
        uid_t admin_uid;            /* kbusd's own uid (the default policy's admin) */
        QuotaLimits limits;         /* command-line limits: those marked in limits_set */
        unsigned limits_set[QUOTA_NKINDS]; /* bit 0 per uid, bit 1 total */
} CoreConfig;

typedef struct Core {
        const CoreOps *ops;
        void *ops_ctx;
        uint32_t max_messages;
        uint32_t max_msg_size;
        Policy *policy;
        uint64_t policy_gen;        /* changes with every policy set */
        Quota quota;
        QuotaLimits cli_limits;     /* outrank the policy file's */
        unsigned cli_limits_set[QUOTA_NKINDS];
        bool trim_due;              /* much memory was freed: give it back (malloc_trim) */
        struct Bus *buses[KBUS_BUSES_MAX];
        unsigned buses_top;         /* one past the highest open bus */
        TAILQ_HEAD(ClientList, Client) dirty;
        struct ClientList late;     /* dirty, but written after every other client */
        struct ClientList closing;
} Core;

int core_new(const CoreConfig *cfg, Policy *policy, Core **ret);
Core *core_free(Core *core);
void core_set_policy(Core *core, Policy *policy);
int core_add_bus(Core *core, unsigned number, struct Bus **ret);
void core_remove_bus(Core *core, struct Bus *bus);
int core_new_bus(Core *core, unsigned *ret_number);
void core_mark_dirty(Core *core, struct Client *c);
void core_mark_late(Core *core, struct Client *c);
void core_defer_close(Core *core, struct Client *c);
bool core_settle(Core *core, struct Client *last);
void core_sweep(Core *core);

#endif
