/* SPDX-License-Identifier: MPL-2.0 */
/*
 * router.c - who gets a message, and what a send returns (semantics §7-§9).
 *
 * The only place delivery policy lives.  A send is checked in the order of
 * semantics §7, then either delivered to every target at once, refused with
 * nothing delivered, or (ALL_OR_WAIT) held until every target has room.
 * Delivery happens inside this call, so when the sender is answered the
 * message is in every recipient's queue; writes to the sockets follow when
 * the core settles.  Messages get their serial when they are delivered,
 * which is why every recipient sees the serial order (semantics §8): a held send
 * takes its serial when it completes, not when it was first tried.
 *
 * Statuses (semantics §9) are made here too: each answers one ReplySlot, goes
 * only to the requester, into the place the slot reserved, and frees it.
 */
#include "router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "client.h"
#include "inbox.h"
#include "caps.h"
#include "log.h"
#include "policy.h"

enum {
        ROUTE_ROOM = 0,
        ROUTE_REPLIER_FULL = 1,
        ROUTE_LISTENER_FULL = 2,
};

typedef struct Collect {
        Bus *bus;
        Client *exclude;
        int err;
} Collect;

static void router_collect_one(Binding *b, void *ctx)
{
        Collect *col = ctx;
        Client *c = b->client;

        if (c == col->exclude || c->closing)
                return;
        if (bus_targets_add(col->bus, c, b->id) < 0)
                col->err = -ENOMEM;
}

/* Fills bus->targets with the listener bindings matching @name, but @exclude's. */
static int router_collect_name(Bus *bus, const char *name, size_t len, Client *exclude)
{
        Collect col = { .bus = bus, .exclude = exclude };

        bus->ntargets = 0;
        trie_match(&bus->trie, name, len, router_collect_one, &col);
        return col.err;
}

static int router_collect(Bus *bus, const Message *m, Client *exclude)
{
        return router_collect_name(bus, m->v.name, m->v.name_len, exclude);
}

/*
 * The replier a request must reach: the one bound now, and the one its `to`
 * names for a stateful request (semantics §7.2).  Return: 0, -EADDRNOTAVAIL (no
 * replier) or -EPIPE (not the one `to` names).
 */
static int router_replier_for(Bus *bus, const Message *m, Binding **ret)
{
        Binding *rb = trie_find_replier(&bus->trie, m->v.name, m->v.name_len);

        if (!rb || rb->client->closing)
                return -EADDRNOTAVAIL;
        if (m->v.to && m->v.to != rb->client->id)
                return -EPIPE;
        *ret = rb;
        return 0;
}

/*
 * Only once (semantics §10): a client that asked gets one try per delivery, its
 * first matching binding's, whether that copy is queued, set aside or
 * missed.  Returns true if @c has had its try at the delivery @stamp.
 */
static bool router_once_done(Client *c, uint64_t stamp)
{
        if (!c->only_once)
                return false;
        if (c->once_stamp == stamp)
                return true;
        c->once_stamp = stamp;
        return false;
}

/* A message kbusd makes (semantics §4: SYNTHETIC), with the next serial of the bus. */
static int router_new_synthetic(Bus *bus, const char *name, uint32_t to, uint32_t from,
                                uint32_t irt_net, uint32_t irt_serial, const void *data,
                                uint32_t len, Message **ret)
{
        int r = message_new_synthetic(name, to, from, irt_net, irt_serial, data, len, ret);

        if (r == 0)
                message_set_id(*ret, 0, bus_next_serial(bus));
        return r;
}

/* A status (semantics §9) for @q's request [@irt_net:@irt_serial], into its reserved place. */
static void router_push_status(Bus *bus, Client *q, const char *name, uint32_t from,
                               uint32_t irt_net, uint32_t irt_serial)
{
        _cleanup_(message_unrefp) Message *st = NULL;

        /* without memory it is lost: the origin is logged */
        if (router_new_synthetic(bus, name, q->id, from, irt_net, irt_serial, NULL, 0, &st) == 0)
                (void)inbox_push(q, st, 0, false, NULL);
}

/*
 * Places @c needs for @m: its copy; a replier copy before it if @c is also
 * the replier (and keeps more than one copy); and the reply place if @c is
 * the sender @s of a request and has not reserved it yet (a held send has).
 */
static uint32_t router_places(const Client *c, const Client *s, const Binding *replier,
                              bool listener)
{
        uint32_t places = 1;

        if (replier && c == s)
                places++;
        if (listener && replier && c == replier->client && !c->only_once)
                places++;
        return places;
}

/* @s: the sender, if its request's reply place is not reserved yet (else NULL). */
static int router_blocked(Bus *bus, const Message *m, Binding *replier, const Client *s)
{
        if (replier && inbox_lacks_room(replier->client,
                                        router_places(replier->client, s, replier, false)))
                return ROUTE_REPLIER_FULL;
        if (!(m->v.flags & (KBUS_FLAG_ALL_OR_WAIT | KBUS_FLAG_ALL_OR_FAIL)))
                return ROUTE_ROOM;
        for (size_t i = 0; i < bus->ntargets; i++) {
                Client *c = bus->targets[i].client;
                if (inbox_lacks_room(c, router_places(c, s, replier, true)))
                        return ROUTE_LISTENER_FULL;
        }
        return ROUTE_ROOM;
}

/* Gives @m its id (unless a Limpet already did) and records it as sent. */
static void router_use_id(Bus *bus, Client *s, Message *m)
{
        if (m->v.id_net == 0)
                message_set_id(m, 0, bus_next_serial(bus));
        s->last_net = m->v.id_net;
        s->last_serial = m->v.id_serial;
        s->nsent++;
}

static void router_deliver_listeners(Bus *bus, const Message *m, uint64_t stamp)
{
        for (size_t i = 0; i < bus->ntargets; i++) {
                Client *c = bus->targets[i].client;
                if (router_once_done(c, stamp))
                        continue;
                if (inbox_refresh_full(c) || inbox_push(c, m, bus->targets[i].binding_id, false, NULL)) {
                        c->nmissed++;
                        log_debug("bus %u: ksock %u missed [%u:%u] (queue full)", bus->number,
                                  c->id, m->v.id_net, m->v.id_serial);
                }
        }
}

/*
 * Charges a request to its sender's uid (quota.c).  The charge goes with the
 * request: to its reply slot once delivered, to the held send while held;
 * whoever drops the request releases it.
 */
static int router_charge_request(Client *s)
{
        int r = quota_charge(s->quser, QUOTA_REQUESTS, 1);

        if (r)
                client_quota_refused(s, QUOTA_REQUESTS, r);
        return quota_errno(r);
}

static void router_uncharge_request(Client *s)
{
        quota_release(s->quser, QUOTA_REQUESTS, 1);
}

/* The replier's copy of a request, with its reply slot (which takes the charge). */
static int router_deliver_request(Bus *bus, Client *s, const Message *m, Binding *rb,
                                  uint64_t stamp)
{
        Client *p = rb->client;
        _cleanup_(reply_slot_freep) ReplySlot *slot = NULL;
        int r = reply_slot_new(&s->owed, &p->owing, s, s->id, p, p->id, m->v.id_net,
                               m->v.id_serial, &slot);

        if (r < 0) {
                router_uncharge_request(s);
                return r;
        }
        slot->charged = s->quser; /* freeing the slot now releases the charge */
        r = inbox_push(p, m, rb->id, true, slot);
        if (r < 0)
                return r;
        (void)TAKE_PTR(slot); /* the replier's queue entry holds it */
        p->once_stamp = stamp; /* its replier copy is its one copy */
        return 0;
}

/* Delivers an announcement or request whose checks have passed. */
static int router_deliver(Bus *bus, Client *s, Message *m, Binding *rb, Result *ret)
{
        uint64_t stamp = ++bus->stamp;

        router_use_id(bus, s, m);
        if (rb) {
                int r = router_deliver_request(bus, s, m, rb, stamp);
                if (r < 0)
                        return r;
        }
        router_deliver_listeners(bus, m, stamp);
        *ret = (Result){ .status = 0, .value0 = m->v.id_net, .value1 = m->v.id_serial };
        return 0;
}

/* Asks each full target to report its next take; notes any that has room now. */
static void router_want_room_of(Bus *bus, Client *c)
{
        if (inbox_refresh_full(c) && inbox_room_or_watch(c))
                bus->recheck = true;
}

static void router_want_room(Bus *bus, Binding *rb)
{
        if (rb)
                router_want_room_of(bus, rb->client);
        for (size_t i = 0; i < bus->ntargets; i++)
                router_want_room_of(bus, bus->targets[i].client);
}

static int router_hold(Bus *bus, Client *s, Message *m, Binding *rb, bool wait)
{
        HeldSend *h = calloc(1, sizeof(*h));

        if (!h) {
                if (rb)
                        router_uncharge_request(s);
                return -ENOMEM;
        }
        h->msg = message_ref(m);
        h->sender = s;
        h->wait = wait;
        h->reserved = rb != NULL;
        s->held = h;
        TAILQ_INSERT_TAIL(&bus->held, h, link);
        bus->nheld++;
        router_want_room(bus, rb);
        return ROUTER_HELD;
}

static void router_clear_entry_slot(ReplySlot *slot)
{
        QueueEntry *e = queue_entry(&slot->replier->queue, slot->seq);

        if (e && e->slot == slot)
                e->slot = NULL;
}

static int router_send_reply(Bus *bus, Client *s, Message *m, Result *ret)
{
        ReplySlot *slot = reply_slot_find(&s->owing, m->v.irt_net, m->v.irt_serial);
        Client *q;

        if (!slot || slot->requester_id != m->v.to)
                return -ECONNREFUSED;
        q = slot->requester;
        if (!q || q->closing) {
                router_clear_entry_slot(slot);
                reply_slot_free(slot);
                return -EADDRNOTAVAIL;
        }
        int r = router_collect(bus, m, s);
        if (r < 0)
                return r;
        if (policy_is_status_name(m->v.name, m->v.name_len))
                bus->ntargets = 0; /* a relayed status goes to the requester only, as kbusd's */
        uint64_t stamp = ++bus->stamp;
        router_use_id(bus, s, m);
        r = inbox_push(q, m, 0, false, NULL); /* into the reserved place */
        if (r < 0)
                return r;
        q->once_stamp = stamp; /* the reply is the requester's one copy */
        router_clear_entry_slot(slot);
        reply_slot_free(slot);
        router_deliver_listeners(bus, m, stamp);
        *ret = (Result){ .status = 0, .value0 = m->v.id_net, .value1 = m->v.id_serial };
        return 0;
}

/**
 * router_send() - route a message a client sent (semantics §7).
 * @bus:  the bus
 * @s:    the sender
 * @m:    the message: well-formed, from and flags already set by the caller
 * @wait: the sender blocks until an ALL_OR_WAIT send completes
 * @ret:  status 0 and the message id, when delivered
 *
 * Return: 0 (delivered); ROUTER_HELD (ALL_OR_WAIT: held, @s->held set);
 * -EADDRNOTAVAIL, -EPIPE, -ENOLCK, -EBUSY, -ECONNREFUSED, -EINVAL (a
 * duplicate request id from a Limpet) or -ENOMEM.
 */
int router_send(Bus *bus, Client *s, Message *m, bool wait, Result *ret)
{
        Binding *rb = NULL;
        int r;

        if (message_is_reply(m))
                return router_send_reply(bus, s, m, ret);
        if (message_is_request(m)) {
                if ((r = router_replier_for(bus, m, &rb)) < 0)
                        return r;
                if (inbox_refresh_full(s)) /* no room left to reserve for the reply */
                        return -ENOLCK;
                if (m->v.id_net != 0 &&
                    reply_slot_find(&rb->client->owing, m->v.id_net, m->v.id_serial))
                        return -EINVAL;
                if ((r = router_charge_request(s)) < 0)
                        return r;
        }
        r = router_collect(bus, m, s->no_echo ? s : NULL);
        if (r == 0)
                r = router_blocked(bus, m, rb, s);
        if (r == ROUTE_ROOM)
                return router_deliver(bus, s, m, rb, ret);
        if (r > 0 && (m->v.flags & KBUS_FLAG_ALL_OR_WAIT))
                return router_hold(bus, s, m, rb, wait);
        if (rb)
                router_uncharge_request(s);
        if (r < 0)
                return r;
        if (r == ROUTE_REPLIER_FULL)
                router_use_id(bus, s, m); /* semantics §7: this one uses an id */
        return -EBUSY;
}

/**
 * router_status() - answer a request with a status and forget its slot.
 * @bus:  the bus
 * @slot: the outstanding request
 * @name: the status name ($.KBUS.Replier.*)
 * @from: the replier's id, or 0 for kbusd
 *
 * The status goes only to the requester, into its reserved place; if the
 * requester has gone, the slot is just forgotten.
 */
void router_status(Bus *bus, ReplySlot *slot, const char *name, uint32_t from)
{
        Client *q = slot->requester;

        if (q && !q->closing)
                router_push_status(bus, q, name, from, slot->id_net, slot->id_serial);
        router_clear_entry_slot(slot);
        reply_slot_free(slot);
}

/* Unlinks @h from the bus and its sender; returns the message (a reference). */
static Message *router_unhold(Bus *bus, HeldSend *h)
{
        Message *m = h->msg;

        TAILQ_REMOVE(&bus->held, h, link);
        bus->nheld--;
        h->sender->held = NULL;
        free(h);
        return m;
}

/**
 * router_drop_held() - forget a held send (discarded, or its sender closed).
 * @bus: the bus
 * @h:   the held send
 */
void router_drop_held(Bus *bus, HeldSend *h)
{
        if (h->reserved)
                router_uncharge_request(h->sender);
        message_unref(router_unhold(bus, h));
        bus->recheck = true; /* its reserved place is free again */
}

/* Tells the sender its held send is done, after the recipients are written. */
static void router_complete_held(Client *s, bool wait, int32_t status, const Message *m)
{
        if (wait)
                client_answer(s, status, m->v.id_net, m->v.id_serial);
        else
                client_send_done(s, status, m->v.id_net, m->v.id_serial);
        core_mark_late(s->bus->core, s);
}

/* A held request that can no longer be delivered: it is sent, and answered with a status. */
static void router_fail_held(Bus *bus, HeldSend *h, const char *status)
{
        Client *s = h->sender;
        bool wait = h->wait, charged = h->reserved;
        Message *m = router_unhold(bus, h);

        if (charged)
                router_uncharge_request(s);
        router_use_id(bus, s, m);
        router_push_status(bus, s, status, 0, m->v.id_net, m->v.id_serial);
        router_complete_held(s, wait, 0, m);
        message_unref(m);
}

/* Tries @h again; returns true if it completed (delivered, or failed for good). */
static bool router_retry_one(Bus *bus, HeldSend *h)
{
        Message *m = h->msg;
        Binding *rb = NULL;
        Result res;

        if (message_is_request(m)) {
                int r = router_replier_for(bus, m, &rb);
                if (r < 0) {
                        router_fail_held(bus, h, r == -EADDRNOTAVAIL
                                                         ? KBUS_MSG_NAME_REPLIER_DISAPPEARED
                                                         : KBUS_MSG_NAME_ERROR_SENDING);
                        return true;
                }
        }
        if (router_collect(bus, m, h->sender->no_echo ? h->sender : NULL) < 0) {
                if (rb)
                        router_fail_held(bus, h, KBUS_MSG_NAME_ERROR_SENDING);
                return rb != NULL;
        }
        if (router_blocked(bus, m, rb, NULL) != ROUTE_ROOM) { /* its place is reserved */
                router_want_room(bus, rb);
                return false;
        }
        Client *s = h->sender;
        bool wait = h->wait;
        m = router_unhold(bus, h);
        int r = router_deliver(bus, s, m, rb, &res);
        router_complete_held(s, wait, r, m);
        message_unref(m);
        return true;
}

/**
 * router_retry_held() - try the held sends again, oldest first, until one
 * completes.
 * @bus: the bus
 *
 * One completion per call: its recipients, then its sender, are written
 * before the next one completes (core_settle() calls again while
 * bus->recheck is set).  Two that completed together could each be the
 * other's recipient, and then no order of writes would put every message
 * in its recipients' sockets before its sender hears (semantics §7).
 */
void router_retry_held(Bus *bus)
{
        HeldSend *h, *next;

        TAILQ_FOREACH_SAFE(h, &bus->held, link, next) {
                if (router_retry_one(bus, h)) {
                        if (bus->nheld)
                                bus->recheck = true;
                        return;
                }
        }
}

/* ---- Replier bind events (semantics §11) ------------------------------------ */

static int router_bind_event_new(Bus *bus, Client *binder, const char *name, uint32_t len,
                                 bool is_bind, Message **ret)
{
        uint32_t pad = (uint32_t)wire_name_pad(len);
        uint32_t size = BIND_EVENT_FIXED_LEN + pad;
        uint8_t *data = calloc(1, size);
        uint32_t head[3] = { is_bind ? 1u : 0u, binder->id, len };

        if (!data)
                return -ENOMEM;
        memcpy(data, head, sizeof(head)); /* host order, as semantics §11 says */
        memcpy(data + BIND_EVENT_FIXED_LEN, name, len);
        int r = router_new_synthetic(bus, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0, 0, 0, 0, data,
                                     size, ret);
        free(data);
        return r;
}

static bool router_event_blocked(Client *c)
{
        return c->set_aside > 0 || inbox_refresh_full(c);
}

static int router_collect_event_listeners(Bus *bus)
{
        static const char name[] = KBUS_MSG_NAME_REPLIER_BIND_EVENT;

        return router_collect_name(bus, name, sizeof(name) - 1, NULL);
}

/**
 * router_event_deliverable() - whether a replier bind event could go now.
 * @bus: the bus
 *
 * Return: 0 if nobody asked for events or every listener of the event has
 * room; -EAGAIN if one has a full queue (or events already set aside for
 * it); -ENOMEM.
 */
int router_event_deliverable(Bus *bus)
{
        if (bus->report_binds == 0)
                return 0;
        int r = router_collect_event_listeners(bus);
        if (r < 0)
                return r;
        for (size_t i = 0; i < bus->ntargets; i++)
                if (router_event_blocked(bus->targets[i].client))
                        return -EAGAIN;
        return 0;
}

/**
 * router_bind_event() - announce a replier bind, before it is made.
 * @bus:    the bus
 * @binder: the client binding
 * @name:   the binding name
 * @len:    its length
 *
 * Return: 0 (announced, or nobody asked for events); -EAGAIN if a listener
 * of the event has a full queue, in which case nothing is sent and the bind
 * must not be made; -ENOMEM.
 */
int router_bind_event(Bus *bus, Client *binder, const char *name, uint32_t len)
{
        Message *m;

        if (bus->report_binds == 0)
                return 0;
        int r = router_event_deliverable(bus);
        if (r < 0)
                return r;
        r = router_bind_event_new(bus, binder, name, len, true, &m);
        if (r < 0)
                return r;
        router_deliver_listeners(bus, m, ++bus->stamp);
        message_unref(m);
        return 0;
}

static void router_set_aside(Bus *bus, Client *c, uint32_t binding_id, Message *m)
{
        SetAside *e = NULL;

        if (bus->nset_aside < KBUS_SET_ASIDE_MAX)
                e = calloc(1, sizeof(*e));
        if (!e) {
                if (!c->events_lost)
                        bus->nlost++;
                c->events_lost = true;
        } else {
                *e = (SetAside){ .to = c, .binding_id = binding_id, .msg = message_ref(m) };
                TAILQ_INSERT_TAIL(&bus->set_aside, e, link);
                bus->nset_aside++;
                c->set_aside++;
        }
        if (inbox_room_or_watch(c))
                bus->recheck = true;
}

/**
 * router_unbind_event() - announce a replier unbind; where a listener's
 * queue is full the event is set aside for it (semantics §11).
 * @bus:    the bus
 * @binder: the client unbinding (or closing)
 * @name:   the binding name
 * @len:    its length
 */
void router_unbind_event(Bus *bus, Client *binder, const char *name, uint32_t len)
{
        Message *m;

        if (bus->report_binds == 0 || router_collect_event_listeners(bus) < 0 ||
            router_bind_event_new(bus, binder, name, len, false, &m) < 0) {
                if (bus->report_binds)
                        log_err("bus %u: an unbind event is lost (see above)", bus->number);
                return;
        }
        uint64_t stamp = ++bus->stamp;
        for (size_t i = 0; i < bus->ntargets; i++) {
                Target *t = &bus->targets[i];
                Client *c = t->client;
                if (router_once_done(c, stamp))
                        continue;
                if (router_event_blocked(c) || inbox_push(c, m, t->binding_id, false, NULL) < 0)
                        router_set_aside(bus, c, t->binding_id, m);
        }
        message_unref(m);
}

static void router_set_aside_free(Bus *bus, SetAside *e)
{
        TAILQ_REMOVE(&bus->set_aside, e, link);
        bus->nset_aside--;
        e->to->set_aside--;
        message_unref(e->msg);
        free(e);
}

static void router_deliver_lost(Bus *bus, Client *c)
{
        if (!c->events_lost || c->set_aside > 0)
                return;
        if (inbox_refresh_full(c)) {
                if (inbox_room_or_watch(c))
                        bus->recheck = true;
                return;
        }
        if (!bus->lost_msg &&
            router_new_synthetic(bus, KBUS_MSG_NAME_UNBIND_EVENTS_LOST, 0, 0, 0, 0, NULL, 0,
                                 &bus->lost_msg))
                return;
        if (inbox_push(c, bus->lost_msg, 0, false, NULL) == 0) {
                c->events_lost = false;
                bus_lost_paid(bus);
        }
}

/**
 * router_deliver_set_aside() - deliver set-aside unbind events to clients
 * that have room now, in order, then the UnbindEventsLost each is owed.
 * @bus: the bus
 */
void router_deliver_set_aside(Bus *bus)
{
        uint64_t blocked = ++bus->stamp;
        SetAside *e, *next;
        Client *c;

        TAILQ_FOREACH_SAFE(e, &bus->set_aside, link, next) {
                c = e->to;
                if (c->aside_stamp == blocked)
                        continue; /* an older event for c is still waiting */
                if (inbox_refresh_full(c) || inbox_push(c, e->msg, e->binding_id, false, NULL) < 0) {
                        c->aside_stamp = blocked;
                        if (inbox_room_or_watch(c))
                                bus->recheck = true;
                        continue;
                }
                router_set_aside_free(bus, e);
        }
        if (bus->nlost == 0)
                return;
        TAILQ_FOREACH(c, &bus->clients, bus_link)
                if (!c->closing)
                        router_deliver_lost(bus, c);
}

/**
 * router_forget_set_aside() - drop the events set aside for @c, all of them
 * (@binding_id 0) or those for one binding being unbound.
 * @bus:        the bus
 * @c:          the client
 * @binding_id: a binding of @c, or 0
 */
void router_forget_set_aside(Bus *bus, Client *c, uint32_t binding_id)
{
        SetAside *e, *next;

        if (c->set_aside == 0)
                return;
        TAILQ_FOREACH_SAFE(e, &bus->set_aside, link, next)
                if (e->to == c && (binding_id == 0 || e->binding_id == binding_id))
                        router_set_aside_free(bus, e);
}
