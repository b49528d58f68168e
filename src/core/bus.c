/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bus.c - one bus: its clients, bindings, serial counter and pending work.
 *
 * Buses share nothing (semantics §2): each has its own trie, ksock ids and
 * serials.  Clients are owned by the bus list and freed by the core.
 */
#include "bus.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "client.h"

/**
 * bus_new() - an empty bus.
 * @core:         the core
 * @number:       its number
 * @max_msg_size: its maximum message size
 * @ret:          the bus
 *
 * Return: 0, or -ENOMEM.
 */
int bus_new(struct Core *core, unsigned number, uint32_t max_msg_size, Bus **ret)
{
        Bus *bus = calloc(1, sizeof(*bus));

        if (!bus)
                return -ENOMEM;
        bus->core = core;
        bus->number = number;
        bus->max_msg_size = max_msg_size;
        TAILQ_INIT(&bus->clients);
        TAILQ_INIT(&bus->watchers);
        TAILQ_INIT(&bus->held);
        TAILQ_INIT(&bus->set_aside);
        if (trie_init(&bus->trie) < 0) {
                free(bus);
                return -ENOMEM;
        }
        *ret = bus;
        return 0;
}

/**
 * bus_free() - free a bus whose clients and listener are gone.
 * @bus: the bus, or NULL
 *
 * Return: NULL.
 */
Bus *bus_free(Bus *bus)
{
        if (!bus)
                return NULL;
        assert(TAILQ_EMPTY(&bus->clients) && bus->nclients == 0);
        assert(TAILQ_EMPTY(&bus->held) && bus->nheld == 0);
        assert(TAILQ_EMPTY(&bus->set_aside) && bus->nset_aside == 0 && bus->nlost == 0);
        assert(!bus->lost_msg);
        trie_deinit(&bus->trie);
        free(bus->targets);
        free(bus);
        return NULL;
}

/**
 * bus_lost_paid() - one client less is owed an UnbindEventsLost; when none
 * is, the next loss gets a new message.
 * @bus: the bus
 */
void bus_lost_paid(Bus *bus)
{
        assert(bus->nlost > 0);
        if (--bus->nlost == 0)
                bus->lost_msg = message_unref(bus->lost_msg);
}

/**
 * bus_next_serial() - the next message serial of this bus (never 0).
 * @bus: the bus
 *
 * Return: the serial.
 */
uint32_t bus_next_serial(Bus *bus)
{
        if (++bus->last_serial == 0)
                bus->last_serial = 1;
        return bus->last_serial;
}

/**
 * bus_targets_add() - append to the routing scratch list.
 * @bus:        the bus
 * @c:          a recipient
 * @binding_id: the binding that selected it
 *
 * Return: 0, or -ENOMEM.
 */
int bus_targets_add(Bus *bus, struct Client *c, uint32_t binding_id)
{
        if (bus->ntargets == bus->targets_cap) {
                size_t cap = bus->targets_cap ? bus->targets_cap * 2 : 64;
                Target *t = realloc(bus->targets, cap * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                bus->targets = t;
                bus->targets_cap = cap;
        }
        bus->targets[bus->ntargets++] = (Target){ .client = c, .binding_id = binding_id };
        return 0;
}
