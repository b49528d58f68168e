/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client.c - one ksock: a client's connection to one bus.
 *
 * Reading: each wakeup reads what the socket holds (up to KBUS_READ_CHUNK,
 * into the broker's shared buffer unless a frame is partly here), then acts
 * on every complete frame, up to KBUS_FRAMES_PER_WAKEUP before letting other
 * clients run; only what is left is kept in the client's own buffer.  A frame header that cannot be trusted (length
 * below the header or above KBUS_FRAME_LEN_MAX, or anything but HELLO first)
 * closes the connection with a log line; a frame longer than its type
 * allows is skipped without buffering it and answered with an error, so the
 * connection stays usable (SPEC §4 EMSGSIZE, §16).
 *
 * Writing: answers and pushed messages are appended to the output buffer
 * and written when the broker settles, one write per client per batch.  A
 * client whose output exceeds KBUS_OUT_PAUSE_BYTES is not read from until
 * it drains, which bounds what a client that never reads can cost.
 *
 * Closing: client_close() settles everything the client was part of at
 * once (SPEC §9 statuses, §6 bindings, §11 events) and marks it closing;
 * the memory is freed later by the broker, outside any callback that may
 * still hold a pointer to it.
 */
#include "client.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "inbox.h"
#include "caps.h"
#include "log.h"
#include "request.h"
#include "router.h"

/* A client with this many bindings leaves much memory scattered behind when it goes. */
#define CLIENT_TRIM_BINDINGS 10000u

static void client_on_read(evutil_socket_t fd, short what, void *arg);
static void client_on_write(evutil_socket_t fd, short what, void *arg);
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
        policy_decision_format(c->bus->broker->policy, d, why, sizeof(why));
        log_info("bus %u: ksock %u (pid %d uid %u) may not %s%s%.*s: %s (logged once per ksock)",
                 c->bus->number, c->id, (int)c->pid, (unsigned)c->uid,
                 policy_action_name(action), name ? " " : "", name ? (int)len : 0,
                 name ? name : "", why);
}

/* Who is at the other end: SO_PEERCRED, and the groups from SO_PEERGROUPS. */
static int client_read_creds(Client *c)
{
        struct ucred cred = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
        socklen_t len = sizeof(cred);
        gid_t few[32];

        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        c->pid = cred.pid;
        c->uid = cred.uid;
        c->gid = cred.gid;
        len = sizeof(few);
        int r = getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, few, &len);
        if (r < 0 && errno != ERANGE)
                return 0; /* an old kernel: the primary group alone */
        c->groups = malloc(r < 0 ? len : len ? len : 1);
        if (!c->groups)
                return -ENOMEM;
        if (r == 0)
                memcpy(c->groups, few, len);
        else if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) < 0)
                len = 0;
        c->ngroups = len / sizeof(gid_t);
        return 0;
}

/* Whether policy and quota let this connection in; 0 or the WELCOME status. */
static int client_admit(Client *c)
{
        Broker *b = c->bus->broker;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;
        char why[1400];
        int r = quota_user_ref(&b->quota, c->uid, &c->quser);

        if (r < 0)
                return r;
        if (policy_may_connect(b->policy, &peer, c->bus->number, &d) < 0) {
                policy_decision_format(b->policy, &d, why, sizeof(why));
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
 * client_new() - start serving a new connection on @bus, if its peer may
 * connect (a connection that may not is answered with a WELCOME carrying
 * -EPERM, -EDQUOT or -ENOBUFS and closed at once).
 * @bus: the bus
 * @fd:  the accepted socket (non-blocking); owned by the client from now on
 * @ret: the client (possibly closing already)
 *
 * Return: 0, or -ENOMEM (@fd is closed).
 */
int client_new(Bus *bus, int fd, Client **ret)
{
        struct event_base *base = bus->broker->base;
        Client *c = calloc(1, sizeof(*c));

        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->bus = bus;
        c->fd = fd;
        c->queue = MSG_QUEUE_INIT;
        c->max_messages = bus->broker->max_messages;
        TAILQ_INIT(&c->bindings);
        requester_book_init(&c->owed);
        replier_book_init(&c->owing);
        if (++bus->next_ksock_id == 0)
                bus->next_ksock_id = 1;
        c->id = bus->next_ksock_id;
        TAILQ_INSERT_TAIL(&bus->clients, c, bus_link);
        bus->nclients++;
        c->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, client_on_read, c);
        c->write_ev = event_new(base, fd, EV_WRITE, client_on_write, c);
        int r = client_read_creds(c);
        if (r < 0 || !c->read_ev || !c->write_ev || event_add(c->read_ev, NULL) < 0) {
                client_free(c);
                return -ENOMEM;
        }
        c->refused = client_admit(c);
        if (c->refused < 0)
                client_refuse(c);
        *ret = c;
        return 0;
}

/**
 * client_sweep() - if @c wrote nothing since the last sweep, free the output
 * buffer it keeps for its next write (see broker.c's idle sweep).
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
        Broker *b = c->bus->broker;
        PolicyPeer peer = client_peer(c);
        PolicyDecision d;
        char why[1400];

        if (c->closing)
                return;
        if (policy_may_connect(b->policy, &peer, c->bus->number, &d) < 0) {
                policy_decision_format(b->policy, &d, why, sizeof(why));
                log_info("bus %u: ksock %u (pid %d uid %u) may no longer connect: %s",
                         c->bus->number, c->id, (int)c->pid, (unsigned)c->uid, why);
                client_close(c, "the policy no longer allows it");
                return;
        }
        request_recheck_bindings(c);
}

/**
 * client_free() - free a client; the broker calls it for closed clients.
 * @c: the client, or NULL
 *
 * Output still buffered is written if the socket takes it at once (an
 * ERROR frame explaining a close, say); the rest is dropped.
 *
 * Return: NULL.
 */
Client *client_free(Client *c)
{
        if (!c)
                return NULL;
        if (buf_len(&c->out))
                (void)send(c->fd, buf_head(&c->out), buf_len(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
        TAILQ_REMOVE(&c->bus->clients, c, bus_link);
        c->bus->nclients--;
        if (c->read_ev)
                event_free(c->read_ev);
        if (c->write_ev)
                event_free(c->write_ev);
        close(c->fd);
        if (c->shm)
                munmap(c->shm, SHM_SIZE);
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

/* Everything the client had a part in, settled as SPEC §6, §9 and §11 say. */
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
        unsigned nbindings = 0;
        while ((b = TAILQ_FIRST(&c->bindings))) {
                request_remove_binding(c, b);
                nbindings++;
        }
        if (nbindings >= CLIENT_TRIM_BINDINGS)
                bus->broker->trim_due = true; /* give the memory back once it is freed */
        router_forget_set_aside(bus, c, 0);
        if (c->report_binds)
                bus->report_binds--;
        if (c->events_lost)
                bus->nlost--;
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
        event_del(c->read_ev);
        event_del(c->write_ev);
        broker_defer_close(c->bus->broker, c);
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
        broker_mark_dirty(c->bus->broker, c);
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
 * client_flush() - write as much buffered output as the socket takes.
 * @c: the client
 *
 * Return: 0, or a negative errno if the client was closed.
 */
int client_flush(Client *c)
{
        inbox_reconcile_if_due(c);
        while (buf_len(&c->out) > 0) {
                ssize_t n = send(c->fd, buf_head(&c->out), buf_len(&c->out),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        event_add(c->write_ev, NULL);
                        return 0;
                }
                if (n < 0) {
                        int err = errno;
                        client_close(c, strerror(err));
                        return -err;
                }
                buf_consume(&c->out, (size_t)n);
        }
        buf_shrink(&c->out, KBUS_OUT_KEEP_BYTES);
        c->wrote = true;
        if (c->paused) {
                c->paused = false;
                event_add(c->read_ev, NULL);
                event_active(c->read_ev, EV_READ, 0);
        }
        return 0;
}

static void client_on_write(evutil_socket_t fd, short what, void *arg)
{
        Client *c = arg;

        (void)fd;
        (void)what;
        client_flush(c);
        broker_settle(c->bus->broker, NULL);
}

static int client_make_shm(Client *c, int *ret_fd)
{
        int fd = memfd_create("kbus-ksock", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (fd < 0)
                return -errno;
        if (ftruncate(fd, SHM_SIZE) < 0 ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
                int err = errno;
                close(fd);
                return -err;
        }
        void *p = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                int err = errno;
                close(fd);
                return -err;
        }
        c->shm = p;
        *ret_fd = fd;
        return 0;
}

/* The WELCOME goes out at once with sendmsg(), as it may carry the memfd. */
static int client_send_welcome(Client *c, const Welcome *w, int shm_fd)
{
        uint8_t frame[KBUS_FRAME_HDR_LEN + WELCOME_LEN];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        codec_header_encode(frame, sizeof(frame), FRAME_WELCOME, 0);
        codec_welcome_encode(frame + KBUS_FRAME_HDR_LEN, w);
        if (shm_fd >= 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &shm_fd, sizeof(int));
        }
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        return n == (ssize_t)sizeof(frame) ? 0 : -EIO;
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

        (void)client_send_welcome(c, &w, -1);
        client_close(c, strerror(-c->refused));
}

static int client_hello(Client *c, const FrameHdr *h, const uint8_t *body)
{
        Hello hello;
        Welcome w = { .magic = KBUS_PROTO_MAGIC, .version = KBUS_PROTO_VERSION };
        int shm_fd = -1;

        if (h->type != FRAME_HELLO || codec_hello_decode(body, h->len - KBUS_FRAME_HDR_LEN, &hello) ||
            hello.magic != KBUS_PROTO_MAGIC) {
                client_send_error(c, EPROTO, h->type, h->flags, "expected a kbus HELLO");
                return -EPROTO;
        }
        if (hello.version != KBUS_PROTO_VERSION || !(hello.mode & HELLO_MODE_READ))
                w.status = hello.version != KBUS_PROTO_VERSION ? -EPROTONOSUPPORT : -EINVAL;
        if (w.status == 0 && (hello.options & HELLO_OPT_SHM))
                w.status = client_make_shm(c, &shm_fd);
        w.ksock_id = c->id;
        w.bus = c->bus->number;
        w.max_msg_size = c->bus->max_msg_size;
        w.max_messages = c->max_messages;
        w.shm_size = c->shm ? (uint32_t)SHM_SIZE : 0;
        int r = client_send_welcome(c, &w, shm_fd);
        if (shm_fd >= 0)
                close(shm_fd);
        if (r < 0 || w.status < 0)
                return r < 0 ? r : w.status;
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
static void client_process_input(Client *c, unsigned max_frames)
{
        unsigned frames = 0;

        while (!c->closing) {
                if (frames == max_frames) {
                        if (buf_len(&c->in) >= KBUS_FRAME_HDR_LEN) /* more: after the others */
                                event_active(c->read_ev, EV_READ, 0);
                        return;
                }
                if ((c->skip && client_skip(c)) || !client_next_frame(c))
                        break;
                frames++;
                if (max_frames != UINT_MAX && buf_len(&c->out) > KBUS_OUT_PAUSE_BYTES) {
                        c->paused = true;
                        event_del(c->read_ev);
                        return;
                }
        }
}

/*
 * Reads what the socket holds.  A client with nothing buffered reads into
 * the broker's shared buffer, which it borrows as its input until
 * client_keep_input(): complete frames are acted on where they lie, so a
 * busy ksock copies nothing and an idle one holds no buffer.  A client with
 * a frame partly here reads onto the end of its own buffer, which so grows
 * only as bytes arrive.  Returns >0 if it may have read, 0 at end of
 * stream, or a negative errno.
 */
static int client_read(Client *c)
{
        Broker *b = c->bus->broker;

        if (buf_len(&c->in) == 0) {
                buf_deinit(&c->in);
                c->in = (Buf){ .data = b->read_buf, .cap = KBUS_READ_CHUNK };
        } else if (buf_reserve(&c->in, KBUS_READ_CHUNK) < 0) {
                return -ENOMEM;
        }
        ssize_t n = recv(c->fd, buf_tail(&c->in), buf_room(&c->in), MSG_DONTWAIT);
        if (n > 0)
                c->in.tail += (size_t)n;
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 1 : -errno;
        return n > 0;
}

/*
 * Ends a borrow of the shared buffer: what is left unprocessed (a partial
 * frame, frames beyond this wakeup's share) moves into the client's own
 * buffer.  A buffer of its own that is empty is freed.
 */
static void client_keep_input(Client *c)
{
        Buf rest = BUF_INIT;

        if (c->in.data != c->bus->broker->read_buf) {
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

static void client_on_read(evutil_socket_t fd, short what, void *arg)
{
        Client *c = arg;
        Broker *broker = c->bus->broker;

        (void)fd;
        (void)what;
        if (c->closing || c->paused)
                return;
        int r = client_read(c);
        if (r > 0) {
                client_process_input(c, KBUS_FRAMES_PER_WAKEUP);
        } else if (r == 0) {
                /* what it sent before closing still counts */
                client_process_input(c, UINT_MAX);
                client_close(c, buf_len(&c->in) || c->skip ? "vanished mid-frame" : "end of stream");
        } else {
                client_close(c, strerror(-r));
        }
        client_keep_input(c);
        broker_settle(broker, c);
}
