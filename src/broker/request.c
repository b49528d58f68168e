/* SPDX-License-Identifier: MPL-2.0 */
/*
 * request.c - what each client request does (SPEC §5-§7, §10-§12).
 *
 * One handler per frame type, each given a frame whose length is already
 * within bounds.  A handler validates the body, acts, and answers with
 * exactly one RESULT, or an ERROR for a body it cannot understand, except
 * for the frames that are never answered (TAKE, WAKE, posted SEND).  The
 * stream stays usable after any of these errors: only a bad frame header,
 * which client.c deals with, makes the stream untrustworthy.
 */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/name.h"
#include "broker.h"
#include "client.h"
#include "inbox.h"
#include "caps.h"
#include "log.h"
#include "query.h"
#include "router.h"

static int request_malformed(Client *c, const FrameHdr *h, const char *what)
{
        client_send_error(c, EPROTO, h->type, h->flags, what);
        return 0;
}

/* SPEC §7 step 1: everything about the message itself. */
static int request_check_message(Client *c, const Message *m)
{
        int r = name_errno(name_check(m->v.name, m->v.name_len, false, NULL));

        if (r < 0)
                return r;
        if (m->size > c->bus->max_msg_size)
                return -EMSGSIZE;
        if ((m->v.flags & KBUS_FLAG_ALL_OR_WAIT) && (m->v.flags & KBUS_FLAG_ALL_OR_FAIL))
                return -EINVAL;
        if (message_is_request(m) && message_is_reply(m))
                return -EINVAL;
        return 0;
}

/*
 * Whether the policy lets @c send a message named like @m.  The reserved
 * space is checked on every send (a few bytes).  The rules are consulted
 * only if one of them may decide what @c sends (worked out once per policy),
 * and then once per name in a row: a client that sends the same name again
 * reuses the answer until the policy changes.
 */
static int request_may_send(Client *c, const Message *m)
{
        Broker *b = c->bus->broker;
        const char *name = m->v.name;
        uint32_t len = m->v.name_len;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;

        if (c->send_gen != b->policy_gen) {
                c->send_gen = b->policy_gen;
                c->send_rules = policy_concerns(b->policy, &peer, POLICY_SEND);
                c->send_ok_len = 0;
        }
        if (!c->send_rules && !policy_is_reserved(name, len))
                return 0;
        if (c->send_ok_len == len && len && memcmp(c->send_ok, name, len) == 0)
                return 0;
        if (policy_may_send(b->policy, &peer, c->bus->number, name, len, &d) < 0) {
                client_policy_refused(c, POLICY_SEND, name, len, &d);
                return d.result;
        }
        char *copy = realloc(c->send_ok, len);
        if (copy) { /* without it, the next send is decided again */
                memcpy(copy, name, len);
                c->send_ok = copy;
                c->send_ok_len = len;
        }
        return 0;
}

static void request_send_failed(Client *c, const FrameHdr *h, int r)
{
        if (h->flags & FRAME_SEND_POST)
                client_send_error(c, -r, h->type, h->flags, "posted message rejected");
        else
                client_answer(c, r, 0, 0);
}

static int request_post_allowed(const Message *m)
{
        return !message_is_request(m) && !message_is_reply(m) &&
               !(m->v.flags & (KBUS_FLAG_ALL_OR_WAIT | KBUS_FLAG_ALL_OR_FAIL));
}

static int request_send(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        Message *m = NULL;
        Result res;
        int r;

        if (!c->can_write)
                r = -EBADF;
        else if (c->held)
                r = -EALREADY;
        else if (h->flags & ~FRAME_SEND_FLAGS)
                r = -EINVAL;
        else
                r = message_new_decoded(body, len, &m);
        if (r == CODEC_E_MALFORMED)
                r = -EBADMSG; /* -ENOMEM stays what it is */
        if (r == 0)
                r = request_check_message(c, m);
        if (r == 0 && (h->flags & FRAME_SEND_POST) && !request_post_allowed(m))
                r = -EINVAL;
        if (r == 0)
                r = request_may_send(c, m);
        if (r == 0) {
                message_own_fields(m, c->id);
                r = router_send(c->bus, c, m, h->flags & FRAME_SEND_WAIT, &res);
        }
        if (r == ROUTER_HELD) {
                if (!(h->flags & FRAME_SEND_WAIT))
                        client_answer(c, -EAGAIN, 0, 0);
        } else if (r < 0) {
                request_send_failed(c, h, r);
        } else if (!(h->flags & FRAME_SEND_POST)) {
                client_answer(c, 0, res.value0, res.value1);
        }
        message_unref(m);
        return 0;
}

static int request_name(const uint8_t *body, size_t len, bool wildcard)
{
        return name_errno(name_check((const char *)body, len, wildcard, NULL));
}

/* Whether the policy lets @c bind @name (a listener, or a replier: owning it). */
static int request_may_bind(Client *c, const char *name, size_t len, bool replier)
{
        Broker *b = c->bus->broker;
        PolicyPeer peer = client_peer(c);
        PolicyAction action = replier ? POLICY_OWN : POLICY_LISTEN;
        PolicyDecision d;

        if (policy_decide(b->policy, &peer, action, c->bus->number, name, len, &d) == 0)
                return 0;
        client_policy_refused(c, action, name, len, &d);
        return d.result;
}

static int request_charge_binding(Client *c)
{
        int r = quota_charge(c->quser, QUOTA_BINDINGS, 1);

        if (r)
                client_quota_refused(c, QUOTA_BINDINGS, r);
        return quota_errno(r);
}

static int request_bind(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        static const char event_name[] = KBUS_MSG_NAME_REPLIER_BIND_EVENT;
        const char *name = (const char *)body;
        bool replier = h->flags & FRAME_BIND_REPLIER;
        Binding *b;
        int r = request_name(body, len, true);

        if (r == 0 && replier && len == sizeof(event_name) - 1 && !memcmp(name, event_name, len))
                r = -EBADMSG;
        if (r == 0)
                r = request_may_bind(c, name, len, replier);
        if (r == 0 && replier && trie_replier_of(&c->bus->trie, name, len))
                r = -EADDRINUSE;
        if (r == 0)
                r = request_charge_binding(c);
        if (r < 0) {
                client_answer(c, r, 0, 0);
                return 0;
        }
        if (replier)
                r = router_bind_event(c->bus, c, name, (uint32_t)len);
        if (r == 0) {
                r = trie_add(&c->bus->trie, name, len, replier, c, c->next_binding_id + 1, &b);
                if (r == TRIE_E_REPLIER_EXISTS)
                        r = -EADDRINUSE;
        }
        if (r < 0) {
                quota_release(c->quser, QUOTA_BINDINGS, 1);
                client_answer(c, r, 0, 0);
                return 0;
        }
        c->next_binding_id++;
        TAILQ_INSERT_TAIL(&c->bindings, b, client_link);
        if (replier && c->bus->nheld)
                c->bus->recheck = true; /* a held request may have a new replier */
        log_debug("bus %u: ksock %u bound %s %s", c->bus->number, c->id, replier ? "R" : "L",
                  b->name);
        client_answer(c, 0, b->id, 0);
        return 0;
}

static void request_unbound(QueueEntry *e, void *ctx)
{
        Client *c = ctx;

        if (e->slot)
                router_status(c->bus, e->slot, KBUS_MSG_NAME_REPLIER_UNBOUND, c->id);
}

/**
 * request_remove_binding() - remove one binding of @c and everything it
 * queued (SPEC §6); announce it if it was a replier binding (SPEC §11).
 * @c: the client
 * @b: one of its bindings
 */
void request_remove_binding(Client *c, Binding *b)
{
        Bus *bus = c->bus;

        inbox_reconcile(c);
        if (queue_remove_binding(&c->queue, b->id, request_unbound, c) > 0) {
                inbox_charge(c);
                bus->recheck = true;
        }
        router_forget_set_aside(bus, c, b->id);
        TAILQ_REMOVE(&c->bindings, b, client_link);
        if (b->replier) {
                router_unbind_event(bus, c, b->name, b->name_len);
                if (bus->nheld)
                        bus->recheck = true; /* a held request may have lost its replier */
        }
        trie_remove(&bus->trie, b);
        quota_release(c->quser, QUOTA_BINDINGS, 1);
}

/**
 * request_recheck_bindings() - after the policy changed: remove each binding
 * of @c the policy no longer allows, as an unbind would (SPEC §6).
 * @c: the client
 */
void request_recheck_bindings(Client *c)
{
        Binding *b, *next;

        TAILQ_FOREACH_SAFE(b, &c->bindings, client_link, next) {
                if (request_may_bind(c, b->name, b->name_len, b->replier) == 0)
                        continue;
                log_info("bus %u: ksock %u (pid %d uid %u): %s %s removed: the policy no longer "
                         "allows it", c->bus->number, c->id, (int)c->pid, (unsigned)c->uid,
                         b->replier ? "replier binding" : "binding", b->name);
                request_remove_binding(c, b);
        }
}

static int request_unbind(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        bool replier = h->flags & FRAME_BIND_REPLIER;
        Binding *b;
        int r = request_name(body, len, true);

        if (r < 0) {
                client_answer(c, r, 0, 0);
                return 0;
        }
        TAILQ_FOREACH_REVERSE(b, &c->bindings, BindingList, client_link)
                if (b->replier == replier && b->name_len == len && !memcmp(b->name, body, len))
                        break;
        if (!b) {
                client_answer(c, -EINVAL, 0, 0);
                return 0;
        }
        uint32_t id = b->id;
        log_debug("bus %u: ksock %u unbound %s %s", c->bus->number, c->id, replier ? "R" : "L",
                  b->name);
        request_remove_binding(c, b);
        client_answer(c, 0, id, 0);
        return 0;
}

static int request_replier(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        int r = request_name(body, len, false);
        Binding *b;

        (void)h;
        if (r < 0) {
                client_answer(c, r, 0, 0);
                return 0;
        }
        b = trie_find_replier(&c->bus->trie, (const char *)body, len);
        client_answer(c, 0, b ? b->client->id : 0, 0);
        return 0;
}

/* The on/off/ask switches of SPEC §5: the answer is the state before. */
static int request_switch(uint32_t arg, bool *state)
{
        bool old = *state;

        if (arg != 0 && arg != 1 && arg != CTL_ASK)
                return -EINVAL;
        if (arg != CTL_ASK)
                *state = arg;
        return old;
}

static int request_ctl_max_messages(Client *c, uint32_t arg)
{
        if (arg > KBUS_QUEUE_LEN_MAX)
                arg = KBUS_QUEUE_LEN_MAX;
        if (arg > c->max_messages)
                c->bus->recheck = true;
        if (arg)
                c->max_messages = arg;
        return (int)c->max_messages;
}

/* Whether the policy lets @c change a bus-wide setting, or open a bus. */
static int request_may_admin(Client *c, PolicyAction action)
{
        Broker *b = c->bus->broker;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;

        if (policy_decide(b->policy, &peer, action, c->bus->number, NULL, 0, &d) == 0)
                return 0;
        client_policy_refused(c, action, NULL, 0, &d);
        return d.result;
}

static int request_ctl_max_msg_size(Client *c, uint32_t arg)
{
        if (arg == 0)
                return (int)c->bus->max_msg_size;
        if (arg == 1)
                return (int)KBUS_MSG_SIZE_ABS_MAX;
        if (arg < KBUS_MSG_SIZE_MIN || arg > KBUS_MSG_SIZE_ABS_MAX)
                return -EINVAL;
        int r = request_may_admin(c, POLICY_SET);
        if (r < 0)
                return r;
        c->bus->max_msg_size = arg;
        return (int)arg;
}

static int request_ctl_report_binds(Client *c, uint32_t arg)
{
        bool state = c->report_binds;
        int r = request_switch(arg, &state);

        if (r >= 0 && state != c->report_binds) {
                c->report_binds = state;
                if (state)
                        c->bus->report_binds++;
                else
                        c->bus->report_binds--;
        }
        return r;
}

static int request_ctl_verbose(Client *c, uint32_t arg)
{
        bool state = log_is_verbose();
        int r = arg == 0 || arg == 1 ? request_may_admin(c, POLICY_SET) : 0;

        if (r < 0)
                return r;
        r = request_switch(arg, &state);

        if (r >= 0)
                log_set_verbose(state);
        return r;
}

static int request_ctl_value(Client *c, uint32_t op, uint32_t arg)
{
        unsigned bus;
        int r;

        switch (op) {
        case CTL_MAX_MESSAGES:
                return request_ctl_max_messages(c, arg);
        case CTL_NUM_MESSAGES:
                inbox_reconcile(c);
                return (int)c->queue.live;
        case CTL_UNREPLIED_TO:
                inbox_reconcile(c);
                return (int)c->owing.taken;
        case CTL_ONLY_ONCE:
                return request_switch(arg, &c->only_once);
        case CTL_REPORT_BINDS:
                return request_ctl_report_binds(c, arg);
        case CTL_VERBOSE:
                return request_ctl_verbose(c, arg);
        case CTL_NEW_BUS:
                r = request_may_admin(c, POLICY_NEWBUS);
                if (r == 0)
                        r = broker_new_bus(c->bus->broker, &bus);
                return r < 0 ? r : (int)bus;
        case CTL_MAX_MSG_SIZE:
                return request_ctl_max_msg_size(c, arg);
        default:
                return -EINVAL;
        }
}

static int request_ctl(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        if (len != 8)
                return request_malformed(c, h, "CTL body must be 8 bytes");
        uint32_t op = get_le32(body), arg = get_le32(body + 4);
        if (op == CTL_LAST_SENT) {
                client_answer(c, 0, c->last_net, c->last_serial);
                return 0;
        }
        int r = request_ctl_value(c, op, arg);
        client_answer(c, r < 0 ? r : 0, r < 0 ? 0 : (uint32_t)r, 0);
        return 0;
}

static int request_take(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        if (len != 4)
                return request_malformed(c, h, "TAKE body must be 4 bytes");
        inbox_take(c, get_le32(body));
        return 0;
}

/* The library's take log is full, or something waits for room in its queue. */
static int request_wake(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        (void)body;
        (void)len;
        inbox_reconcile(c);
        if (bus_waits_for_room(c->bus))
                c->bus->recheck = true;
        if (h->flags & FRAME_WAKE_SYNC)
                client_nop(c);
        return 0;
}

static int request_discard(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        (void)h;
        (void)body;
        (void)len;
        if (c->held)
                router_drop_held(c->bus, c->held);
        client_answer(c, 0, 0, 0);
        return 0;
}

static int request_query(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        if (len < 4)
                return request_malformed(c, h, "QUERY body must start with 4 bytes");
        return query_answer(c, body, len);
}

/*
 * The library reads ahead of the application; when it holds messages the
 * application has not taken and the socket is empty, it pokes us so that
 * poll() on the ksock reports it readable (see docs/design.md).
 */
static int request_poke(Client *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        (void)h;
        (void)body;
        (void)len;
        client_nop(c);
        return 0;
}

typedef int (*RequestFn)(Client *c, const FrameHdr *h, const uint8_t *body, size_t len);

static const RequestFn request_handlers[FRAME_CLIENT_MAX + 1] = {
        [FRAME_SEND] = request_send,       [FRAME_BIND] = request_bind,
        [FRAME_UNBIND] = request_unbind,   [FRAME_CTL] = request_ctl,
        [FRAME_REPLIER] = request_replier, [FRAME_TAKE] = request_take,
        [FRAME_WAKE] = request_wake,       [FRAME_DISCARD] = request_discard,
        [FRAME_QUERY] = request_query,     [FRAME_POKE] = request_poke,
};

/**
 * request_dispatch() - act on one frame from a greeted client.
 * @c:    the client
 * @h:    the frame header
 * @body: the body (h->len - KBUS_FRAME_HDR_LEN bytes)
 *
 * Return: 0, or a negative errno if the client must be closed.
 */
int request_dispatch(Client *c, const FrameHdr *h, const uint8_t *body)
{
        size_t len = h->len - KBUS_FRAME_HDR_LEN;

        if (h->type > FRAME_CLIENT_MAX || !request_handlers[h->type])
                return request_malformed(c, h, "unknown frame type");
        return request_handlers[h->type](c, h, body, len);
}
