/* SPDX-License-Identifier: MPL-2.0 */
/*
 * watch.c - $.KBUS.ListenerBindsChanged for the ksocks that asked.
 *
 * A watcher gets one notice when some other ksock binds or unbinds as a
 * listener, and no more until it has looked (QUERY_BINDINGS): at most one
 * notice waits in its queue, whatever the churn, so a watcher that never
 * looks costs one message.  A change after its query brings a new notice,
 * so what it last read plus the notices that follow always add up to the
 * bindings in force.  The notice may take the watcher's queue one past its
 * limit, as a status may: it must not be lost.
 */
#include "watch.h"

#include "bus.h"
#include "client.h"
#include "inbox.h"
#include "log.h"
#include "message.h"

/**
 * watch_switch() - start or stop watching @c's bus for listener changes.
 * @c:  the client
 * @on: the new state
 *
 * Return: 0.
 */
int watch_switch(Client *c, bool on)
{
        if (on == c->watch_listeners)
                return 0;
        c->watch_listeners = on;
        c->watch_due = false;
        if (on)
                TAILQ_INSERT_TAIL(&c->bus->watchers, c, watch_link);
        else
                TAILQ_REMOVE(&c->bus->watchers, c, watch_link);
        return 0;
}

static void watch_notify(Client *c, const Message *m)
{
        if (c->closing || c->watch_due)
                return;
        if (inbox_push(c, m, 0, false, NULL) < 0) {
                log_err("bus %u: ksock %u: a listener change notice is lost (no memory)",
                        c->bus->number, c->id);
                return;
        }
        c->watch_due = true;
}

/**
 * watch_listeners_changed() - @changer bound or unbound as a listener: tell
 * every other watcher of its bus that has looked since its last notice.
 * @changer: the client whose bindings changed
 */
void watch_listeners_changed(Client *changer)
{
        Bus *bus = changer->bus;
        Message *m = NULL;
        Client *c;

        TAILQ_FOREACH(c, &bus->watchers, watch_link) {
                if (c == changer || c->closing || c->watch_due)
                        continue;
                if (!m && message_new_synthetic(KBUS_MSG_NAME_LISTENER_BINDS_CHANGED, 0, 0, 0, 0,
                                                NULL, 0, &m) < 0) {
                        log_err("bus %u: listener change notices are lost (no memory)",
                                bus->number);
                        return;
                }
                if (m->v.id_serial == 0) /* one message for them all, as one change */
                        message_set_id(m, 0, bus_next_serial(bus));
                watch_notify(c, m);
        }
        if (m)
                message_unref(m);
}

/**
 * watch_queried() - @c has read the bus's bindings: the next change is news.
 * @c: the client
 */
void watch_queried(Client *c)
{
        c->watch_due = false;
}
