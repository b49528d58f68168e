/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client.c - one ksock: the protocol state of a client's connection to one
 * bus, without the connection (the shell moves the bytes).
 *
 * Input: client_feed() takes the bytes the shell read and acts on every
 * complete frame, up to KBUS_FRAMES_PER_WAKEUP before letting other clients
 * run.  Complete frames are acted on where they lie in the shell's buffer;
 * only what is left (a partial frame) is kept in the client's own buffer,
 * so an idle ksock holds no input buffer.  A frame header that cannot be
 * trusted (length below the header or above KBUS_FRAME_LEN_MAX, or anything
 * but HELLO first) closes the connection with a log line; a frame longer
 * than its type allows is skipped without buffering it and answered with an
 * error, so the connection stays usable (semantics §4 EMSGSIZE, §16).
 *
 * Output: answers and pushed messages are appended to c->out and written by
 * the shell when the core settles, one write per client per batch.  A
 * client whose output exceeds KBUS_OUT_PAUSE_BYTES is not read from until
 * it drains, which bounds what a client that never reads can cost.
 *
 * Closing: client_close() settles everything the client was part of at
 * once (semantics §9 statuses, §6 bindings, §11 events) and marks it closing;
 * the memory is freed later by the core, outside any code that may still
 * hold a pointer to it.
 */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "core.h"
#include "inbox.h"
#include "log.h"
#include "request.h"
#include "router.h"
#include "watch.h"

/* A client with this many bindings leaves much memory scattered behind when it goes. */
#define CLIENT_TRIM_BINDINGS 10000u

static void client_refuse(Client *c);

/**
 * client_quota_refused() - log that a quota refused @c something; a uid that
 * keeps hitting its limit is logged at its 1st, 2nd, 4th, 8th... refusal.
 * @c: the client
 * @k: the quota
 * @r: QUOTA_E_USER or QUOTA_E_TOTAL
 */
void client_quota_refused(Client *c, QuotaKind k, int r)
{
        uint64_t n = c->quser->refused[k];

        if (n & (n - 1))
                return;
        log_info("bus %u: ksock %u (pid %d uid %u): %s %s: refused (%llu time%s for this uid)",
                 c->bus->number, c->id, (int)c->pid, (unsigned)c->uid, quota_kind_name(k),
                 r == QUOTA_E_USER ? "quota of the uid used up" : "limit of kbusd reached",
                 (unsigned long long)n, n == 1 ? "" : "s");
}

/**
 * client_policy_refused() - log, once per client, that the policy refused it
 * something, naming the rule.
 * @c:      the client
 * @action: what it asked
 * @name:   the name it asked about, or NULL
 * @len:    its length
 * @d:      the decision
 */
void client_policy_refused(Client *c, PolicyAction action, const char *name, size_t len,
                           const PolicyDecision *d)
{
        char why[1400];

        if (c->refusal_logged)
                return;
        c->refusal_logged = true;
        policy_decision_format(c->bus->core->policy, d, why, sizeof(why));
        log_info("bus %u: ksock %u (pid %d uid %u) may not %s%s%.*s: %s (logged once per ksock)",
                 c->bus->number, c->id, (int)c->pid, (unsigned)c->uid,
                 policy_action_name(action), name ? " " : "", name ? (int)len : 0,
                 name ? name : "", why);
}

/* Whether policy and quota let this connection in; 0 or the WELCOME status. */
static int client_admit(Client *c)
{
        Core *core = c->bus->core;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;
        char why[1400];
        int r = quota_user_ref(&core->quota, c->uid, &c->quser);

        if (r < 0)
                return error_origin(r);
        if (policy_may_connect(core->policy, &peer, c->bus->number, &d) < 0) {
                policy_decision_format(core->policy, &d, why, sizeof(why));
                log_info("bus %u: pid %d uid %u may not connect: %s", c->bus->number, (int)c->pid,
                         (unsigned)c->uid, why);
                return d.result;
        }
        r = quota_charge(c->quser, QUOTA_CONNECTIONS, 1);
        if (r) {
                client_quota_refused(c, QUOTA_CONNECTIONS, r);
                return quota_errno(r);
        }
        c->charged = true;
        return 0;
}

/**
 * client_new() - a new connection on @bus; admitted if its peer may connect
 * (one that may not is answered with a WELCOME carrying -EPERM, -EDQUOT or
 * -ENOBUFS and closed at once).
 * @bus:  the bus
 * @cred: who connected (SO_PEERCRED, SO_PEERGROUPS); copied
 * @io:   the shell's connection, for CoreOps
 * @ret:  the client (possibly closing already)
 *
 * Return: 0, or -ENOMEM.
 */
int client_new(Bus *bus, const ClientCred *cred, void *io, Client **ret)
{
        Client *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->groups = malloc(cred->ngroups ? cred->ngroups * sizeof(gid_t) : 1);
        if (!c->groups) {
                free(c);
                return -ENOMEM;
        }
        if (cred->ngroups)
                memcpy(c->groups, cred->groups, cred->ngroups * sizeof(gid_t));
        c->ngroups = cred->ngroups;
        c->pid = cred->pid;
        c->uid = cred->uid;
        c->gid = cred->gid;
        c->io = io;
        c->pass_fd = -1;
        c->bus = bus;
        c->queue = MSG_QUEUE_INIT;
        c->max_messages = bus->core->max_messages;
        TAILQ_INIT(&c->bindings);
        requester_book_init(&c->owed);
        replier_book_init(&c->owing);
        if (++bus->next_ksock_id == 0)
                bus->next_ksock_id = 1;
        c->id = bus->next_ksock_id;
        TAILQ_INSERT_TAIL(&bus->clients, c, bus_link);
        bus->nclients++;
        c->refused = client_admit(c);
        if (c->refused < 0)
                client_refuse(c);
        *ret = c;
        return 0;
}

/**
 * client_sweep() - if @c wrote nothing since the last sweep, free the output
 * buffer it keeps for its next write (core_sweep()).
 * @c: the client
 */
void client_sweep(Client *c)
{
        if (!c->wrote) {
                buf_shrink(&c->out, 0);
                inbox_reconcile(c);
                queue_trim(&c->queue);
        }
        c->wrote = false;
}

/**
 * client_recheck() - after the policy changed: close the client if it may no
 * longer connect, and drop the bindings it may no longer hold.
 * @c: the client
 */
void client_recheck(Client *c)
{
        Core *core = c->bus->core;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;
        char why[1400];

        if (c->closing)
                return;
        if (policy_may_connect(core->policy, &peer, c->bus->number, &d) < 0) {
                policy_decision_format(core->policy, &d, why, sizeof(why));
                log_info("bus %u: ksock %u (pid %d uid %u) may no longer connect: %s",
                         c->bus->number, c->id, (int)c->pid, (unsigned)c->uid, why);
                client_close(c, "the policy no longer allows it");
                return;
        }
        request_recheck_bindings(c);
}

/**
 * client_free() - free a client; the core calls it for closed clients.
 * @c: the client, or NULL
 *
 * The shell ends the connection first (CoreOps.gone); output still
 * buffered may go out then (an ERROR frame explaining a close, say).
 *
 * Return: NULL.
 */
Client *client_free(Client *c)
{
        if (!c)
                return NULL;
        Core *core = c->bus->core;
        core->ops->gone(core->ops_ctx, c);
        TAILQ_REMOVE(&c->bus->clients, c, bus_link);
        c->bus->nclients--;
        if (c->shm)
                core->ops->unmap_page(core->ops_ctx, c->shm);
        buf_deinit(&c->in);
        buf_deinit(&c->out);
        queue_deinit(&c->queue);
        requester_book_deinit(&c->owed);
        replier_book_deinit(&c->owing);
        if (c->queued_charged)
                quota_release(c->quser, QUOTA_QUEUED_BYTES, c->queued_charged);
        if (c->in_claim)
                quota_release(c->quser, QUOTA_PARTIAL_BYTES, c->in_claim);
        if (c->charged)
                quota_release(c->quser, QUOTA_CONNECTIONS, 1);
        quota_user_unref(c->quser);
        free(c->groups);
        free(c->send_ok);
        free(c);
        return NULL;
}

/* Everything the client had a part in, settled as semantics §6, §9 and §11 say. */
static void client_teardown(Client *c)
{
        Bus *bus = c->bus;
        ReplySlot *slot;
        Binding *b;

        if (c->held)
                router_drop_held(bus, c->held);
        inbox_reconcile(c);
        while ((slot = replier_book_first(&c->owing)))
                router_status(bus, slot,
                              slot->taken ? KBUS_MSG_NAME_REPLIER_IGNORED
                                          : KBUS_MSG_NAME_REPLIER_GONEAWAY,
                              c->id);
        while ((slot = TAILQ_FIRST(&c->owed.slots))) {
                if (slot->charged)
                        reply_slot_charge(slot, slot->replier->quser);
                reply_slot_forget_requester(slot);
        }
        watch_switch(c, false);
        unsigned nbindings = 0;
        while ((b = TAILQ_FIRST(&c->bindings))) {
                request_remove_binding(c, b);
                nbindings++;
        }
        if (nbindings >= CLIENT_TRIM_BINDINGS)
                bus->core->trim_due = true; /* give the memory back once it is freed */
        router_forget_set_aside(bus, c, 0);
        if (c->report_binds)
                bus->report_binds--;
        if (c->events_lost)
                bus_lost_paid(bus);
        if (bus->nheld)
                bus->recheck = true; /* a held send may have waited on us */
}

/**
 * client_close() - the connection is over: settle and schedule the free.
 * @c:   the client
 * @why: for the log
 */
void client_close(Client *c, const char *why)
{
        if (c->closing)
                return;
        if (c->greeted)
                log_debug("bus %u: ksock %u (pid %d) closed: %s", c->bus->number, c->id,
                          (int)c->pid, why);
        else if (!c->refused) /* refusals are logged where they are decided */
                log_info("bus %u: connection from pid %d closed before hello: %s",
                         c->bus->number, (int)c->pid, why);
        c->closing = true; /* from now on nothing is delivered to it */
        client_teardown(c);
        core_defer_close(c->bus->core, c);
}

static void client_append_frame(Client *c, uint16_t type, uint16_t flags, const void *body,
                                size_t len, const void *tail, size_t tail_len)
{
        if (c->closing)
                return;
        uint8_t *p = codec_frame_begin(&c->out, type, flags, len + tail_len);
        if (!p) {
                client_close(c, "out of memory for its output");
                return;
        }
        if (len)
                memcpy(p, body, len);
        if (tail_len)
                memcpy(p + len, tail, tail_len);
        core_mark_dirty(c->bus->core, c);
}

/**
 * client_answer() - queue the RESULT for the request being handled.
 * @c:      the client
 * @status: 0 or a value, or a negative errno
 * @v0:     first value
 * @v1:     second value
 */
void client_answer(Client *c, int32_t status, uint32_t v0, uint32_t v1)
{
        uint8_t body[RESULT_LEN];

        codec_result_encode(body, &(Result){ .status = status, .value0 = v0, .value1 = v1 });
        client_append_frame(c, FRAME_RESULT, 0, body, sizeof(body), NULL, 0);
}

/**
 * client_answer_payload() - queue a RESULT that carries a payload.
 * @c:       the client
 * @status:  the status
 * @payload: the bytes
 * @len:     their number
 *
 * Return: 0, or -EMSGSIZE if the payload would not fit a frame.
 */
int client_answer_payload(Client *c, int32_t status, const void *payload, size_t len)
{
        uint8_t body[RESULT_LEN];

        if (len > KBUS_FRAME_LEN_MAX - KBUS_FRAME_HDR_LEN - RESULT_LEN)
                return -EMSGSIZE;
        codec_result_encode(body, &(Result){ .status = status, .value0 = (uint32_t)len });
        client_append_frame(c, FRAME_RESULT, 0, body, sizeof(body), payload, len);
        return 0;
}

/**
 * client_send_done() - tell a non-blocking sender its held send completed.
 * @c:      the client
 * @status: 0, or a negative errno
 * @net:    the message's network id
 * @serial: its serial
 */
void client_send_done(Client *c, int32_t status, uint32_t net, uint32_t serial)
{
        uint8_t body[DONE_LEN];

        codec_result_encode(body, &(Result){ .status = status, .value0 = net, .value1 = serial });
        client_append_frame(c, FRAME_DONE, 0, body, sizeof(body), NULL, 0);
}

/**
 * client_send_error() - queue an ERROR frame about a frame of the client's.
 * @c:           the client
 * @err:         a positive errno
 * @about_type:  the type of the frame in question
 * @about_flags: its flags
 * @text:        what was wrong, for humans
 */
void client_send_error(Client *c, int err, uint16_t about_type, uint16_t about_flags,
                       const char *text)
{
        uint8_t body[ERROR_FIXED_LEN];

        put_le32(body, (uint32_t)-err);
        put_le16(body + 4, about_type);
        put_le16(body + 6, about_flags);
        client_append_frame(c, FRAME_ERROR, 0, body, sizeof(body), text, strlen(text));
}

/**
 * client_nop() - queue a NOP frame (the answer to POKE).
 * @c: the client
 */
void client_nop(Client *c)
{
        client_append_frame(c, FRAME_NOP, 0, NULL, 0, NULL, 0);
}

/**
 * client_drained() - the shell wrote all of c->out: keep a small buffer, and
 * read from a client that was paused for its piling output again.
 * @c: the client
 *
 * Return: true if the shell must read from @c again (and feed what it holds).
 */
bool client_drained(Client *c)
{
        buf_shrink(&c->out, KBUS_OUT_KEEP_BYTES);
        c->wrote = true;
        if (!c->paused)
                return false;
        c->paused = false;
        return true;
}

/* The WELCOME, first in c->out; the take-log page goes with its first byte. */
static void client_queue_welcome(Client *c, const Welcome *w, int page_fd)
{
        uint8_t body[WELCOME_LEN];

        codec_welcome_encode(body, w);
        client_append_frame(c, FRAME_WELCOME, 0, body, sizeof(body), NULL, 0);
        c->pass_fd = page_fd;
}

/*
 * A connection that may not be served is told why at once, before its HELLO
 * is read (a WELCOME with the status), and closed: it never holds more than
 * the moment it takes to answer.
 */
static void client_refuse(Client *c)
{
        Welcome w = { .magic = KBUS_PROTO_MAGIC, .version = KBUS_PROTO_VERSION,
                      .status = c->refused, .bus = c->bus->number };

        client_queue_welcome(c, &w, -1);
        client_close(c, strerror(-c->refused)); /* the shell tries c->out once more */
}

static int client_hello(Client *c, const FrameHdr *h, const uint8_t *body)
{
        Core *core = c->bus->core;
        Hello hello;
        Welcome w = { .magic = KBUS_PROTO_MAGIC, .version = KBUS_PROTO_VERSION };
        int page_fd = -1;

        if (h->type != FRAME_HELLO || codec_hello_decode(body, h->len - KBUS_FRAME_HDR_LEN, &hello) ||
            hello.magic != KBUS_PROTO_MAGIC) {
                client_send_error(c, EPROTO, h->type, h->flags, "expected a kbus HELLO");
                return -EPROTO;
        }
        if (hello.version != KBUS_PROTO_VERSION || !(hello.mode & HELLO_MODE_READ))
                w.status = hello.version != KBUS_PROTO_VERSION ? -EPROTONOSUPPORT : -EINVAL;
        if (w.status == 0 && (hello.options & HELLO_OPT_SHM))
                w.status = core->ops->make_page(core->ops_ctx, &page_fd, &c->shm);
        w.ksock_id = c->id;
        w.bus = c->bus->number;
        w.max_msg_size = c->bus->max_msg_size;
        w.max_messages = c->max_messages;
        w.shm_size = c->shm ? (uint32_t)SHM_SIZE : 0;
        client_queue_welcome(c, &w, page_fd);
        if (w.status < 0)
                return w.status;
        c->greeted = true;
        c->can_write = hello.mode & HELLO_MODE_WRITE;
        log_debug("bus %u: ksock %u opened by pid %d uid %u (%s%s)", c->bus->number, c->id,
                  (int)c->pid, (unsigned)c->uid, c->can_write ? "rw" : "r",
                  c->shm ? ", shared take log" : "");
        return 0;
}

/* The longest frame of this type worth buffering. */
static uint64_t client_frame_max(const Client *c, const FrameHdr *h)
{
        if (h->type == FRAME_SEND)
                return (uint64_t)KBUS_FRAME_HDR_LEN + c->bus->max_msg_size;
        return KBUS_FRAME_HDR_LEN + KBUS_SMALL_FRAME_MAX;
}

/* The answer to a frame whose bytes were skipped because a quota refused them. */
static void client_skipped_quota(Client *c, const FrameHdr *h, int err)
{
        switch (h->type) {
        case FRAME_SEND:
                if (h->flags & FRAME_SEND_POST)
                        client_send_error(c, -err, h->type, h->flags, "partial-bytes quota");
                else
                        client_answer(c, err, 0, 0);
                break;
        case FRAME_TAKE:
        case FRAME_WAKE:
        case FRAME_POKE:
                client_send_error(c, -err, h->type, h->flags, "partial-bytes quota");
                break;
        default:
                client_answer(c, err, 0, 0);
        }
}

/* A refused frame has been skipped: answer it as its type deserves. */
static void client_skipped(Client *c, const FrameHdr *h, int err)
{
        if (err) {
                client_skipped_quota(c, h, err);
                return;
        }
        switch (h->type) {
        case FRAME_SEND:
                if (h->flags & FRAME_SEND_POST)
                        client_send_error(c, EMSGSIZE, h->type, h->flags, "message too big");
                else
                        client_answer(c, -EMSGSIZE, 0, 0);
                break;
        case FRAME_BIND:
        case FRAME_UNBIND:
        case FRAME_REPLIER:
                client_answer(c, -ENAMETOOLONG, 0, 0);
                break;
        default:
                client_send_error(c, EPROTO, h->type, h->flags, "frame too long");
        }
}

/* Discards skipped bytes; returns true while more remain to skip. */
static bool client_skip(Client *c)
{
        size_t n = buf_len(&c->in) < c->skip ? buf_len(&c->in) : (size_t)c->skip;

        buf_consume(&c->in, n);
        c->skip -= n;
        if (c->skip > 0)
                return true;
        client_skipped(c, &c->skip_hdr, c->skip_err);
        return false;
}

/* Starts skipping the frame @h (answered with @err once skipped); 1 if done already. */
static int client_start_skip(Client *c, const FrameHdr *h, int err)
{
        c->skip = h->len;
        c->skip_hdr = *h;
        c->skip_err = err;
        return client_skip(c) ? 0 : 1;
}

/*
 * A frame that has begun to arrive charges its declared length to the uid's
 * partial-bytes quota until it is whole: its bytes are buffered only as they
 * come, but the declared length is what it may grow to.
 */
static int client_claim_frame(Client *c, const FrameHdr *h)
{
        if (c->in_claim)
                return 0;
        int r = quota_charge(c->quser, QUOTA_PARTIAL_BYTES, h->len);
        if (r) {
                client_quota_refused(c, QUOTA_PARTIAL_BYTES, r);
                return quota_errno(r);
        }
        c->in_claim = h->len;
        return 0;
}

static void client_unclaim_frame(Client *c)
{
        if (c->in_claim)
                quota_release(c->quser, QUOTA_PARTIAL_BYTES, c->in_claim);
        c->in_claim = 0;
}

/* Acts on the next frame; returns 1 if one was handled, 0 if more bytes are needed. */
static int client_next_frame(Client *c)
{
        FrameHdr h;

        if (buf_len(&c->in) == 0)
                return 0; /* an idle ksock holds no input buffer at all */
        int r = codec_header_decode(buf_head(&c->in), buf_len(&c->in), &h);

        if (r == CODEC_E_SHORT)
                return 0;
        if (r == CODEC_E_MALFORMED) {
                client_close(c, "impossible frame length");
                return 0;
        }
        if (!c->greeted && h.len > KBUS_FRAME_HDR_LEN + HELLO_LEN) {
                client_close(c, "first frame is not a kbus HELLO");
                return 0;
        }
        if (h.len > client_frame_max(c, &h))
                return client_start_skip(c, &h, 0);
        if (buf_len(&c->in) < h.len) {
                r = client_claim_frame(c, &h);
                return r < 0 ? client_start_skip(c, &h, r) : 0;
        }
        client_unclaim_frame(c);
        const uint8_t *body = buf_head(&c->in) + KBUS_FRAME_HDR_LEN;
        r = 0;
        if (c->greeted)
                request_dispatch(c, &h, body);
        else
                r = client_hello(c, &h, body);
        buf_consume(&c->in, h.len);
        if (r < 0)
                client_close(c, r == -EPROTO ? "first frame is not a kbus HELLO"
                                             : "handshake failed");
        return 1;
}

/* Acts on buffered frames; max_frames UINT_MAX drains them all (at end of stream). */
static int client_process_input(Client *c, unsigned max_frames)
{
        unsigned frames = 0;

        while (!c->closing) {
                if (frames == max_frames) /* more: after the others */
                        return buf_len(&c->in) >= KBUS_FRAME_HDR_LEN ? CLIENT_FEED_MORE
                                                                     : CLIENT_FEED_DONE;
                if ((c->skip && client_skip(c)) || !client_next_frame(c))
                        break;
                frames++;
                if (max_frames != UINT_MAX && buf_len(&c->out) > KBUS_OUT_PAUSE_BYTES) {
                        c->paused = true;
                        return CLIENT_FEED_PAUSED;
                }
        }
        return CLIENT_FEED_DONE;
}

/*
 * Ends a borrow of the shell's buffer: what is left unprocessed (a partial
 * frame, frames beyond this wakeup's share) moves into the client's own
 * buffer.  A buffer of its own that is empty is freed.
 */
static void client_keep_input(Client *c, bool borrowed)
{
        Buf rest = BUF_INIT;

        if (!borrowed) {
                buf_shrink(&c->in, 0);
                return;
        }
        if (buf_len(&c->in) && buf_append(&rest, buf_head(&c->in), buf_len(&c->in)) < 0) {
                c->in = BUF_INIT;
                client_close(c, "out of memory for its input");
                return;
        }
        c->in = rest;
}

/**
 * client_input_space() - where the shell should read @c's next bytes: on
 * the end of its own input buffer while it holds part of a frame, so that
 * the frame grows in place without a copy; else in the shell's @shared
 * buffer, whose complete frames client_feed() acts on where they lie.
 * @c:      the client
 * @shared: the shell's buffer, @chunk bytes
 * @chunk:  how much the shell reads at once
 * @room:   how much may be read at the place returned
 *
 * Return: the place, or NULL without memory.
 */
uint8_t *client_input_space(Client *c, uint8_t *shared, size_t chunk, size_t *room)
{
        if (buf_len(&c->in) == 0) {
                *room = chunk;
                return shared;
        }
        if (buf_reserve(&c->in, chunk) < 0)
                return NULL;
        *room = chunk;
        return buf_tail(&c->in);
}

/**
 * client_feed() - bytes from the client's connection (and what it left
 * before): act on its complete frames.
 * @c:    the client
 * @data: the bytes (in the shell's buffer, or where client_input_space()
 *        said), or NULL with @len 0 to go on with what @c holds
 * @len:  their number
 *
 * Return: CLIENT_FEED_DONE (every complete frame acted on), CLIENT_FEED_MORE
 * (complete frames left: feed again on the next turn, so other clients run
 * meanwhile) or CLIENT_FEED_PAUSED (its output piles up: stop reading it
 * until client_drained() says so).
 */
int client_feed(Client *c, const uint8_t *data, size_t len)
{
        bool borrowed = false;

        if (c->closing)
                return CLIENT_FEED_DONE;
        if (len && buf_len(&c->in) && data == buf_tail(&c->in) && len <= buf_room(&c->in)) {
                c->in.tail += len; /* read in place (client_input_space()) */
        } else if (len && buf_len(&c->in) == 0) {
                /* act on the frames where they lie (never written through) */
                buf_deinit(&c->in);
                c->in = (Buf){ .data = (uint8_t *)data, .tail = len, .cap = len };
                borrowed = true;
        } else if (len && buf_append(&c->in, data, len) < 0) {
                client_close(c, "out of memory for its input");
                return CLIENT_FEED_DONE;
        }
        int r = client_process_input(c, KBUS_FRAMES_PER_WAKEUP);
        client_keep_input(c, borrowed);
        return c->closing ? CLIENT_FEED_DONE : r;
}

/**
 * client_eof() - the client closed its end: what it sent before still counts.
 * @c: the client
 */
void client_eof(Client *c)
{
        if (c->closing)
                return;
        client_process_input(c, UINT_MAX);
        client_close(c, buf_len(&c->in) || c->skip ? "vanished mid-frame" : "end of stream");
}
