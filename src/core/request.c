/* SPDX-License-Identifier: MPL-2.0 */
/*
 * request.c - what each client request does (semantics §5-§7, §10-§12).
 *
 * One handler per frame type, each given a frame whose length is already
 * within bounds.  A handler validates the body and acts; it does not write
 * its answer, it fills in an Answer, and request_dispatch() writes exactly
 * one frame from it: a RESULT, an ERROR for a body it cannot understand, a
 * NOP, or nothing for the frames that are never answered (TAKE, WAKE, a
 * posted SEND that went) and for a held send, which is answered when it
 * completes (router.c).  So every request gets one answer by construction.
 * The stream stays usable after any of these errors: only a bad frame
 * header, which client.c deals with, makes the stream untrustworthy.
 */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/name.h"
#include "core.h"
#include "client.h"
#include "inbox.h"
#include "caps.h"
#include "log.h"
#include "query.h"
#include "router.h"
#include "watch.h"

/* The body of the frame makes no sense: an ERROR frame says what. */
static void answer_proto_error(Answer *a, const char *what)
{
        a->kind = ANSWER_ERROR;
        a->status = -EPROTO;
        a->text = what;
}

/* A status (0 or a negative errno), or a value to put in value0 (r >= 0). */
static void answer_value(Answer *a, int r)
{
        a->status = r < 0 ? r : 0;
        a->value0 = r < 0 ? 0 : (uint32_t)r;
}

/* semantics §7 step 1: everything about the message itself. */
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
        Core *b = c->bus->core;
        const char *name = m->v.name;
        uint32_t len = m->v.name_len;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;

        if (message_is_reply(m) && policy_is_status_name(name, len))
                return 0; /* relayed by the replier that owes it (router.c checks that) */
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

static int request_post_allowed(const Message *m)
{
        return !message_is_request(m) && !message_is_reply(m) &&
               !(m->v.flags & (KBUS_FLAG_ALL_OR_WAIT | KBUS_FLAG_ALL_OR_FAIL));
}

static void request_send(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                         Answer *a)
{
        _cleanup_(message_unrefp) Message *m = NULL;
        bool posted = h->flags & FRAME_SEND_POST;
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
        if (r == 0 && posted && !request_post_allowed(m))
                r = -EINVAL;
        if (r == 0)
                r = request_may_send(c, m);
        if (r == 0) {
                message_own_fields(m, c->id);
                r = router_send(c->bus, c, m, h->flags & FRAME_SEND_WAIT, &res);
        }
        if (r == ROUTER_HELD) { /* a blocked sender is answered when the send completes */
                if (h->flags & FRAME_SEND_WAIT)
                        a->kind = ANSWER_NONE;
                else
                        a->status = -EAGAIN;
        } else if (r < 0 && posted) {
                a->kind = ANSWER_ERROR;
                a->status = r;
                a->text = "posted message rejected";
        } else if (r < 0) {
                a->status = r;
        } else if (posted) {
                a->kind = ANSWER_NONE;
        } else {
                *a = (Answer){ .value0 = res.value0, .value1 = res.value1 };
        }
}

static int request_name(const uint8_t *body, size_t len, bool wildcard)
{
        return name_errno(name_check((const char *)body, len, wildcard, NULL));
}

/* Whether the policy lets @c bind @name (a listener, or a replier: owning it). */
static int request_may_bind(Client *c, const char *name, size_t len, bool replier)
{
        Core *b = c->bus->core;
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

static void request_bind(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                         Answer *a)
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
                a->status = r;
                return;
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
                a->status = r;
                return;
        }
        c->next_binding_id++;
        TAILQ_INSERT_TAIL(&c->bindings, b, client_link);
        if (replier && c->bus->nheld)
                c->bus->recheck = true; /* a held request may have a new replier */
        log_debug("bus %u: ksock %u bound %s %s", c->bus->number, c->id, replier ? "R" : "L",
                  b->name);
        if (!replier)
                watch_listeners_changed(c);
        a->value0 = b->id;
}

static void request_unbound(QueueEntry *e, void *ctx)
{
        Client *c = ctx;

        if (e->slot)
                router_status(c->bus, e->slot, KBUS_MSG_NAME_REPLIER_UNBOUND, c->id);
}

/* Removes @b and, unless @keep_queued, what it queued (semantics §6); see below. */
static void request_drop_binding(Client *c, Binding *b, bool keep_queued)
{
        Bus *bus = c->bus;

        inbox_reconcile(c);
        if (!keep_queued && queue_remove_binding(&c->queue, b->id, request_unbound, c) > 0) {
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
        bool replier = b->replier;
        trie_remove(&bus->trie, b);
        if (!replier)
                watch_listeners_changed(c);
        quota_release(c->quser, QUOTA_BINDINGS, 1);
}

/**
 * request_remove_binding() - remove one binding of @c and everything it
 * queued (semantics §6); announce it if it was a replier binding (semantics §11).
 * @c: the client
 * @b: one of its bindings
 */
void request_remove_binding(Client *c, Binding *b)
{
        request_drop_binding(c, b, false);
}

/**
 * request_recheck_bindings() - after the policy changed: remove each binding
 * of @c the policy no longer allows, as an unbind would (semantics §6).
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

static void request_unbind(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                           Answer *a)
{
        bool replier = h->flags & FRAME_BIND_REPLIER;
        Binding *b;
        int r = request_name(body, len, true);

        if (r < 0) {
                a->status = r;
                return;
        }
        TAILQ_FOREACH_REVERSE(b, &c->bindings, BindingList, client_link)
                if (b->replier == replier && b->name_len == len && !memcmp(b->name, body, len))
                        break;
        if (!b) {
                a->status = -EINVAL;
                return;
        }
        /* The kernel module refused such an unbind; a close still sets aside (semantics §11). */
        if (replier && (h->flags & FRAME_UNBIND_OR_FAIL)) {
                r = router_event_deliverable(c->bus);
                if (r < 0) {
                        a->status = r;
                        return;
                }
        }
        a->value0 = b->id;
        log_debug("bus %u: ksock %u unbound %s %s", c->bus->number, c->id, replier ? "R" : "L",
                  b->name);
        /* A Limpet narrowing what it listens to keeps what the wider binding brought. */
        request_drop_binding(c, b, !replier && (h->flags & FRAME_UNBIND_KEEP_QUEUED));
}

static void request_replier(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                            Answer *a)
{
        int r = request_name(body, len, false);
        Binding *b;

        (void)h;
        if (r < 0) {
                a->status = r;
                return;
        }
        b = trie_find_replier(&c->bus->trie, (const char *)body, len);
        a->value0 = b ? b->client->id : 0;
}

/* The on/off/ask switches of semantics §5: the answer is the state before. */
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
        Core *b = c->bus->core;
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

static int request_ctl_watch(Client *c, uint32_t arg)
{
        bool state = c->watch_listeners;
        int r = request_switch(arg, &state);

        if (r >= 0)
                watch_switch(c, state);
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
        case CTL_NUM_MESSAGES: /* with the unbind events set aside for it, as NUMMSGS */
                inbox_reconcile(c);
                return (int)(c->queue.live + c->set_aside + c->events_lost);
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
                        r = core_new_bus(c->bus->core, &bus);
                if (r < 0 && r != -EPERM && r != -ENFILE)
                        r = -EIO; /* the client's word for "kbusd could not"; the cause is logged */
                return r < 0 ? r : (int)bus;
        case CTL_MAX_MSG_SIZE:
                return request_ctl_max_msg_size(c, arg);
        case CTL_NO_ECHO:
                return request_switch(arg, &c->no_echo);
        case CTL_WATCH_LISTENERS:
                return request_ctl_watch(c, arg);
        default:
                return -EINVAL;
        }
}

static void request_ctl(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                        Answer *a)
{
        (void)h;
        if (len != 8) {
                answer_proto_error(a, "CTL body must be 8 bytes");
                return;
        }
        uint32_t op = get_le32(body), arg = get_le32(body + 4);
        if (op == CTL_LAST_SENT) {
                a->value0 = c->last_net;
                a->value1 = c->last_serial;
                return;
        }
        answer_value(a, request_ctl_value(c, op, arg));
}

static void request_take(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                         Answer *a)
{
        (void)h;
        if (len != 4) {
                answer_proto_error(a, "TAKE body must be 4 bytes");
                return;
        }
        inbox_take(c, get_le32(body));
        a->kind = ANSWER_NONE;
}

/* The library's take log is full, or something waits for room in its queue. */
static void request_wake(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                         Answer *a)
{
        (void)body;
        (void)len;
        inbox_reconcile(c);
        if (bus_waits_for_room(c->bus))
                c->bus->recheck = true;
        /* With SYNC the library waits for the NOP before its next read: the
         * unbind events set aside for want of room (semantics §11) must be in the
         * queue by then, as the kernel module moved them in on NEXTMSG.  Held
         * sends are retried after this event, as their senders' wake-ups were. */
        if ((h->flags & FRAME_WAKE_SYNC) && (c->bus->nset_aside || c->bus->nlost))
                router_deliver_set_aside(c->bus);
        a->kind = h->flags & FRAME_WAKE_SYNC ? ANSWER_NOP : ANSWER_NONE;
}

static void request_discard(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                            Answer *a)
{
        (void)h;
        (void)body;
        (void)len;
        (void)a; /* RESULT 0 */
        if (c->held)
                router_drop_held(c->bus, c->held);
}

static void request_query(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                          Answer *a)
{
        (void)h;
        if (len < 4)
                answer_proto_error(a, "QUERY body must start with 4 bytes");
        else
                query_answer(c, body, len, a);
}

/*
 * The library reads ahead of the application; when it holds messages the
 * application has not taken and the socket is empty, it pokes us so that
 * poll() on the ksock reports it readable (see docs/design.md).
 */
static void request_poke(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                         Answer *a)
{
        (void)c;
        (void)h;
        (void)body;
        (void)len;
        a->kind = ANSWER_NOP;
}

typedef void (*RequestFn)(Client *c, const FrameHdr *h, const uint8_t *body, size_t len,
                          Answer *a);

static const RequestFn request_handlers[FRAME_CLIENT_MAX + 1] = {
        [FRAME_SEND] = request_send,       [FRAME_BIND] = request_bind,
        [FRAME_UNBIND] = request_unbind,   [FRAME_CTL] = request_ctl,
        [FRAME_REPLIER] = request_replier, [FRAME_TAKE] = request_take,
        [FRAME_WAKE] = request_wake,       [FRAME_DISCARD] = request_discard,
        [FRAME_QUERY] = request_query,     [FRAME_POKE] = request_poke,
};

/* Writes the one frame, if any, that @a says the frame @h gets. */
static void request_answer(Client *c, const FrameHdr *h, const Answer *a)
{
        switch (a->kind) {
        case ANSWER_RESULT:
                if (!a->has_payload)
                        client_answer(c, a->status, a->value0, a->value1);
                else if (client_answer_payload(c, a->status, buf_head(&a->payload),
                                               buf_len(&a->payload)) < 0)
                        client_answer(c, -EMSGSIZE, 0, 0);
                break;
        case ANSWER_ERROR:
                client_send_error(c, -a->status, h->type, h->flags, a->text);
                break;
        case ANSWER_NOP:
                client_nop(c);
                break;
        case ANSWER_NONE:
                break;
        }
}

/**
 * request_dispatch() - act on one frame from a greeted client, and answer it.
 * @c:    the client
 * @h:    the frame header
 * @body: the body (h->len - KBUS_FRAME_HDR_LEN bytes)
 */
void request_dispatch(Client *c, const FrameHdr *h, const uint8_t *body)
{
        _cleanup_(answer_deinit) Answer a = ANSWER_INIT;

        if (h->type > FRAME_CLIENT_MAX || !request_handlers[h->type])
                answer_proto_error(&a, "unknown frame type");
        else
                request_handlers[h->type](c, h, body, h->len - KBUS_FRAME_HDR_LEN, &a);
        request_answer(c, h, &a);
}
