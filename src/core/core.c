/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core.c - kbusd's state machine, without file descriptors or an event loop.
 *
 * The core holds the buses, their ksocks, the policy and the quota books.
 * Everything happens in it as the answer to an event the shell gives it: a
 * connection came (core_client_new()), bytes came (core_client_feed()), a
 * connection ended, a timer fired, the policy changed.  Each event ends
 * with core_settle(), which decides what must be written and freed, in
 * which order, and asks the shell (CoreOps) to do the writing: held sends
 * and set-aside events are retried, every client with output is written
 * once, the one whose request caused the work last of all, and a client
 * told that its held send completed after everyone else; so by the time a
 * sender learns its message went, the message is in every recipient's
 * socket (semantics §7).  Clients that closed are freed there too, outside any
 * code that may still hold a pointer to them.
 *
 * The few things that need the system go through CoreOps: opening a bus
 * socket, making the take-log page, writing, ending a connection.
 * Logging goes through log.c's sink.
 */
#include "core.h"

#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "client.h"
#include "inbox.h"
#include "log.h"
#include "router.h"

#define CORE_SETTLE_ROUNDS 8

/* The quota limits: built in, then the policy file's, then the command line's. */
static void core_apply_limits(Core *core)
{
        core->quota.limits = core->policy->limits;
        for (QuotaKind k = 0; k < QUOTA_NKINDS; k++) {
                if (core->cli_limits_set[k] & 1u)
                        core->quota.limits.per_uid[k] = core->cli_limits.per_uid[k];
                if (core->cli_limits_set[k] & 2u)
                        core->quota.limits.total[k] = core->cli_limits.total[k];
        }
}

/**
 * core_new() - an empty core, with no bus yet.
 * @cfg:    the configuration (copied)
 * @policy: the policy in force (the core owns it from now on)
 * @ret:    the core
 *
 * Return: 0, or -ENOMEM (@policy is freed).
 */
int core_new(const CoreConfig *cfg, Policy *policy, Core **ret)
{
        Core *core = calloc(1, sizeof(*core));

        if (!core) {
                policy_free(policy);
                return -ENOMEM;
        }
        core->ops = cfg->ops;
        core->ops_ctx = cfg->ops_ctx;
        core->max_messages = cfg->max_messages;
        core->max_msg_size = cfg->max_msg_size;
        core->cli_limits = cfg->limits;
        memcpy(core->cli_limits_set, cfg->limits_set, sizeof(core->cli_limits_set));
        TAILQ_INIT(&core->dirty);
        TAILQ_INIT(&core->late);
        TAILQ_INIT(&core->closing);
        core->policy = policy;
        core->policy_gen = 1;
        quota_init(&core->quota, &policy->limits);
        core_apply_limits(core);
        *ret = core;
        return 0;
}

/**
 * core_free() - close every ksock, free every bus, and the core.
 * @core: the core, or NULL
 *
 * Return: NULL.
 */
Core *core_free(Core *core)
{
        if (!core)
                return NULL;
        for (unsigned i = 0; i < core->buses_top; i++)
                if (core->buses[i])
                        core_remove_bus(core, core->buses[i]);
        quota_deinit(&core->quota);
        policy_free(core->policy);
        free(core);
        return NULL;
}

/**
 * core_set_policy() - a new policy (SIGHUP), applied to what exists:
 * connections and bindings it no longer allows end.
 * @core:   the core
 * @policy: the new policy (the core owns it from now on)
 */
void core_set_policy(Core *core, Policy *policy)
{
        policy_free(core->policy);
        core->policy = policy;
        core->policy_gen++;
        core_apply_limits(core);
        for (unsigned i = 0; i < core->buses_top; i++) {
                Client *c, *next;
                if (!core->buses[i])
                        continue;
                TAILQ_FOREACH_SAFE(c, &core->buses[i]->clients, bus_link, next)
                        client_recheck(c);
        }
}

/**
 * core_add_bus() - bus @number exists from now on (the shell listens for it).
 * @core:   the core
 * @number: below KBUS_BUSES_MAX, not open yet
 * @ret:    the bus
 *
 * Return: 0, -EEXIST if it is open already, or -ENOMEM.
 */
int core_add_bus(Core *core, unsigned number, Bus **ret)
{
        Bus *bus;

        assert(number < KBUS_BUSES_MAX);
        if (core->buses[number])
                return -EEXIST;
        int r = bus_new(core, number, core->max_msg_size, &bus);
        if (r < 0)
                return r;
        core->buses[number] = bus;
        if (number >= core->buses_top)
                core->buses_top = number + 1;
        *ret = bus;
        return 0;
}

/**
 * core_remove_bus() - close every ksock of @bus and free it.
 * @core: the core
 * @bus:  the bus
 */
void core_remove_bus(Core *core, Bus *bus)
{
        Client *c, *next;

        TAILQ_FOREACH_SAFE(c, &bus->clients, bus_link, next)
                client_close(c, "kbusd is stopping");
        while ((c = TAILQ_FIRST(&core->closing))) {
                TAILQ_REMOVE(&core->closing, c, closing_link);
                client_free(c);
        }
        core->buses[bus->number] = NULL; /* before the free: bus->number goes with it */
        bus_free(bus);
}

/**
 * core_new_bus() - open the lowest-numbered bus no kbusd serves (NEWDEVICE).
 * @core:       the core
 * @ret_number: its number
 *
 * Return: 0, -ENFILE if every number is taken, or the negative errno of
 * opening it (the shell logs it).
 */
int core_new_bus(Core *core, unsigned *ret_number)
{
        for (unsigned i = 0; i < KBUS_BUSES_MAX; i++) {
                if (core->buses[i])
                        continue;
                int r = core->ops->open_bus(core->ops_ctx, i);
                if (r == CORE_E_TAKEN) {
                        log_debug("bus %u is served by another kbusd: trying the next", i);
                        continue;
                }
                if (r < 0)
                        return r;
                log_info("bus %u opened on request", i);
                *ret_number = i;
                return 0;
        }
        return -ENFILE;
}

/**
 * core_mark_dirty() - @c has output to write when the core settles.
 * @core: the core
 * @c:    the client
 */
void core_mark_dirty(Core *core, Client *c)
{
        if (c->dirty || c->closing)
                return;
        c->dirty = true;
        TAILQ_INSERT_TAIL(&core->dirty, c, dirty_link);
}

/**
 * core_mark_late() - like core_mark_dirty(), but @c is written after every
 * other client: it is being told that a send of its completed, and the
 * message must reach its recipients' sockets first (semantics §7).
 * @core: the core
 * @c:    the client
 */
void core_mark_late(Core *core, Client *c)
{
        if (c->closing || c->late)
                return;
        if (c->dirty)
                TAILQ_REMOVE(&core->dirty, c, dirty_link);
        c->dirty = true;
        c->late = true;
        TAILQ_INSERT_TAIL(&core->late, c, dirty_link);
}

/**
 * core_defer_close() - free @c when the current event is done with it.
 * @core: the core
 * @c:    a client marked closing
 */
void core_defer_close(Core *core, Client *c)
{
        if (c->dirty) {
                TAILQ_REMOVE(c->late ? &core->late : &core->dirty, c, dirty_link);
                c->dirty = c->late = false;
        }
        TAILQ_INSERT_TAIL(&core->closing, c, closing_link);
}

static bool core_retry_waiting(Core *core)
{
        bool any = false;

        for (unsigned i = 0; i < core->buses_top; i++) {
                Bus *bus = core->buses[i];
                if (!bus || !bus->recheck)
                        continue;
                bus->recheck = false;
                any = true;
                if (bus->nset_aside || bus->nlost)
                        router_deliver_set_aside(bus);
                if (bus->nheld)
                        router_retry_held(bus);
        }
        return any;
}

static void core_write(Core *core, Client *c)
{
        inbox_reconcile_if_due(c);
        if (buf_len(&c->out) || c->pass_fd >= 0)
                core->ops->flush(core->ops_ctx, c);
}

/* Writes every dirty client, @last after the others, the late ones last of all. */
static void core_flush(Core *core, Client *last)
{
        bool last_dirty = false;
        Client *c;

        while ((c = TAILQ_FIRST(&core->dirty))) {
                TAILQ_REMOVE(&core->dirty, c, dirty_link);
                c->dirty = false;
                if (c == last)
                        last_dirty = true;
                else
                        core_write(core, c);
        }
        if (last_dirty && !last->closing)
                core_write(core, last);
        while ((c = TAILQ_FIRST(&core->late))) {
                TAILQ_REMOVE(&core->late, c, dirty_link);
                c->dirty = c->late = false;
                core_write(core, c);
        }
}

static void core_free_closed(Core *core)
{
        Client *c;

        while ((c = TAILQ_FIRST(&core->closing))) {
                TAILQ_REMOVE(&core->closing, c, closing_link);
                client_free(c);
        }
        if (core->trim_due) {
                core->trim_due = false;
                malloc_trim(0); /* freed bindings are scattered through the heap */
        }
}

/**
 * core_settle() - finish the work an event started: write its output (@last
 * last), free closed clients, then retry what waits for room and write what
 * that did, round after round.
 * @core: the core
 * @last: the client whose request caused the work, or NULL
 *
 * The event's own output is written before anything is retried, and each
 * retry round completes at most one held send (router_retry_held()), so
 * the clients told that a send completed (the "late" ones) are never
 * recipients of a message whose sender is written before them.
 *
 * Return: true if all is settled; false if work is left after a bounded
 * number of rounds (the shell calls again on its next turn, so that other
 * clients run meanwhile).
 */
bool core_settle(Core *core, Client *last)
{
        for (int round = 0; round < CORE_SETTLE_ROUNDS; round++) {
                core_flush(core, last);
                last = NULL;
                core_free_closed(core);
                bool retried = core_retry_waiting(core);
                if (!retried && TAILQ_EMPTY(&core->dirty) && TAILQ_EMPTY(&core->late) &&
                    TAILQ_EMPTY(&core->closing))
                        return true;
        }
        return false;
}

/**
 * core_sweep() - the idle sweep (every KBUS_IDLE_SWEEP_MS): ksocks that
 * wrote nothing since the last one give back the buffers a busy ksock keeps.
 * @core: the core
 */
void core_sweep(Core *core)
{
        for (unsigned i = 0; i < core->buses_top; i++) {
                Client *c;
                if (core->buses[i])
                        TAILQ_FOREACH(c, &core->buses[i]->clients, bus_link)
                                client_sweep(c);
        }
}
