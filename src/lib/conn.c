/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conn.c - libkbus internals: one ksock's connection to kbusd.
 *
 * kbusd pushes queued messages to the socket without being asked; this
 * module reads whatever has arrived, in large reads, and keeps the messages
 * in a ring until the application takes them.  Taking one appends its
 * sequence number to the take log in the page shared with kbusd (shm.h), so
 * kbusd always knows what the application has read (semantics §9's GoneAway vs
 * Ignored, §5's queue length) without a syscall per message.
 *
 * Exactness: kbusd publishes in the shared page how many messages it has
 * queued for us and the newest URGENT one.  Before saying "no message", or
 * before handing out an older message while an URGENT one is on its way,
 * this module reads until it has caught up; so a message kbusd has queued
 * is never reported missing, and URGENT ones come first (semantics §7, §8).
 *
 * Readiness: poll() on the ksock must say "readable" while messages wait
 * here.  When messages wait here but the socket is empty, the library sends
 * POKE and kbusd answers with a NOP frame, which makes the socket readable.
 *
 * Requests (bind, send, controls) are written, flushing any posted frames
 * in the same write, and the caller waits for the one RESULT they get;
 * pushed messages that arrive meanwhile are kept.  While a write would
 * block, incoming data is read too, so neither side can stall the other.
 *
 * kbusd is distrusted as much as it distrusts us (semantics §18): opening is
 * bounded in time and checks everything kbusd answers (handshake.c), and
 * each frame is bounded by its type before its bytes are kept.  The input buffer grows
 * with the bytes that have arrived, never with a length kbusd declares;
 * frames of unknown types are skipped as they arrive, without keeping them.
 * Anything out of bounds makes the connection dead with -EPROTO.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../proto/name.h"
#include "../proto/sockdir.h"
#include "handshake.h"
#include "msg.h"

#define CONN_READ_CHUNK (64u * 1024u)
#define CONN_POST_FLUSH_BYTES (64u * 1024u)
/* An empty input buffer larger than this is given back. */
#define CONN_IN_KEEP (4u * CONN_READ_CHUNK)
/* The longest text an ERROR frame may carry (kbusd's are one short line). */
#define CONN_ERROR_TEXT_MAX 4096u

static void conn_fail(Conn *c, int err)
{
        if (!c->dead)
                c->dead = err;
}

/* ---- the ring of pushed messages ---------------------------------------- */

static Prefetched *conn_pf_at(Conn *c, size_t i)
{
        return &c->pf[(c->pf_head + i) & (c->pf_cap - 1)];
}

static int conn_pf_grow(Conn *c)
{
        size_t cap = c->pf_cap ? c->pf_cap * 2 : 64;
        Prefetched *pf = malloc(cap * sizeof(*pf));

        if (!pf)
                return -ENOMEM;
        for (size_t i = 0; i < c->pf_len; i++)
                pf[i] = *conn_pf_at(c, i);
        free(c->pf);
        c->pf = pf;
        c->pf_cap = cap;
        c->pf_head = 0;
        return 0;
}

static int conn_pf_push(Conn *c, const Prefetched *p, bool front)
{
        if (c->pf_len == c->pf_cap && conn_pf_grow(c) < 0)
                return -ENOMEM;
        if (front) {
                c->pf_head = (c->pf_head - 1) & (c->pf_cap - 1);
                c->pf[c->pf_head] = *p;
        } else {
                *conn_pf_at(c, c->pf_len) = *p;
        }
        c->pf_len++;
        return 0;
}

static Prefetched conn_pf_pop(Conn *c)
{
        Prefetched p = c->pf[c->pf_head];

        c->pf_head = (c->pf_head + 1) & (c->pf_cap - 1);
        c->pf_len--;
        return p;
}

/**
 * conn_drop_binding() - forget the pushed messages that one binding queued
 * (kbusd removed them from the queue when it was unbound, semantics §6).
 * @c:          the connection
 * @binding_id: the binding
 */
void conn_drop_binding(Conn *c, uint32_t binding_id)
{
        size_t kept = 0;

        for (size_t i = 0; i < c->pf_len; i++) {
                Prefetched p = *conn_pf_at(c, i);
                if (p.binding_id == binding_id)
                        kbus_msg_delete(&p.msg);
                else
                        *conn_pf_at(c, kept++) = p;
        }
        c->pf_len = kept;
}

/* ---- reading ------------------------------------------------------------ */

static void conn_on_msg(Conn *c, const FrameHdr *h, const uint8_t *body, size_t len)
{
        WireMsg w;
        Prefetched p;

        /* kbusd only delivers messages it checked: anything else is not kbusd */
        if (len < MSG_PREFIX_LEN ||
            codec_msg_decode(body + MSG_PREFIX_LEN, len - MSG_PREFIX_LEN, &w) ||
            codec_msg_size(&w) > KBUS_MSG_SIZE_ABS_MAX || w.name_len > KBUS_NAME_LEN_MAX ||
            name_check(w.name, w.name_len, false, NULL) != 0) {
                conn_fail(c, -EPROTO);
                return;
        }
        uint32_t you = (h->flags & FRAME_MSG_YOU_REPLY) ? KBUS_BIT_WANT_YOU_TO_REPLY : 0;
        if (msg_from_wire(&w, you, &p.msg) < 0) {
                conn_fail(c, -ENOMEM);
                return;
        }
        p.seq = (uint32_t)++c->received;
        p.binding_id = get_le32(body);
        p.size = (uint32_t)msg_entire_size(w.name_len, w.data_len);
        if (conn_pf_push(c, &p, w.flags & KBUS_BIT_URGENT) < 0) {
                kbus_msg_delete(&p.msg);
                conn_fail(c, -ENOMEM);
        }
}

static void conn_on_answer(Conn *c, const uint8_t *body, size_t len)
{
        /* an answer to nothing asked would be taken for the next call's */
        if (!c->awaiting || codec_result_decode(body, len, &c->answer) ||
            !conn_status_ok(c->answer.status)) {
                conn_fail(c, -EPROTO);
                return;
        }
        c->awaiting = false;
        buf_consume(&c->payload, buf_len(&c->payload));
        if (len > RESULT_LEN && buf_append(&c->payload, body + RESULT_LEN, len - RESULT_LEN) < 0)
                conn_fail(c, -ENOMEM);
        c->have_answer = true;
}

static void conn_on_error(Conn *c, const uint8_t *body, size_t len)
{
        if (len < ERROR_FIXED_LEN) {
                conn_fail(c, -EPROTO);
                return;
        }
        int32_t err = (int32_t)get_le32(body);
        if (err == 0 || !conn_status_ok(err)) {
                conn_fail(c, -EPROTO);
                return;
        }
        if (get_le16(body + 4) == FRAME_SEND && (get_le16(body + 6) & FRAME_SEND_POST)) {
                if (!c->post_error)
                        c->post_error = err;
                return;
        }
        if (!c->awaiting) {
                conn_fail(c, -EPROTO);
                return;
        }
        c->awaiting = false;
        c->answer = (Result){ .status = err };
        c->have_answer = true;
}

static void conn_on_frame(Conn *c, const FrameHdr *h, const uint8_t *body)
{
        size_t len = h->len - KBUS_FRAME_HDR_LEN;

        switch (h->type) {
        case FRAME_MSG:
                conn_on_msg(c, h, body, len);
                break;
        case FRAME_RESULT:
                conn_on_answer(c, body, len);
                break;
        case FRAME_DONE:
                c->held = false;
                break;
        case FRAME_ERROR:
                conn_on_error(c, body, len);
                break;
        case FRAME_NOP:
                if (c->nops_got < c->nops_asked)
                        c->nops_got++;
                break;
        default:
                break; /* newer kbusd: frames we do not know are skipped */
        }
}

/* What to do with a frame, judged from its header alone. */
typedef enum ConnFrameKind {
        CONN_FRAME_KEEP, /* buffer it until it is whole, then act on it */
        CONN_FRAME_SKIP, /* a type this library does not know: drop its bytes */
        CONN_FRAME_BAD,  /* no kbusd sends this: the stream is not to be trusted */
} ConnFrameKind;

/* Each type kbusd sends has its bounds (docs/protocol.md); none is taken on trust. */
static ConnFrameKind conn_frame_kind(const FrameHdr *h)
{
        uint32_t body = h->len - KBUS_FRAME_HDR_LEN;
        bool ok;

        switch (h->type) {
        case FRAME_MSG:
                ok = body >= MSG_PREFIX_LEN + WMSG_FIXED_LEN &&
                     body <= MSG_PREFIX_LEN + KBUS_MSG_SIZE_ABS_MAX;
                break;
        case FRAME_RESULT:
                ok = body >= RESULT_LEN; /* a payload is bounded by KBUS_FRAME_LEN_MAX */
                break;
        case FRAME_DONE:
                ok = body == DONE_LEN;
                break;
        case FRAME_ERROR:
                ok = body >= ERROR_FIXED_LEN && body <= ERROR_FIXED_LEN + CONN_ERROR_TEXT_MAX;
                break;
        case FRAME_NOP:
                ok = body == 0;
                break;
        case FRAME_WELCOME:
                ok = false; /* only ever the first frame */
                break;
        default:
                return CONN_FRAME_SKIP; /* newer kbusd: frames we do not know are skipped */
        }
        return ok ? CONN_FRAME_KEEP : CONN_FRAME_BAD;
}

/* Drops the bytes of a skipped frame that have arrived; true when it is all gone. */
static bool conn_skip(Conn *c)
{
        size_t n = buf_len(&c->in) < c->skip ? buf_len(&c->in) : (size_t)c->skip;

        buf_consume(&c->in, n);
        c->skip -= n;
        return c->skip == 0;
}

static void conn_parse(Conn *c)
{
        FrameHdr h;

        while (!c->dead && (c->skip == 0 || conn_skip(c))) {
                int r = codec_header_decode(buf_head(&c->in), buf_len(&c->in), &h);
                if (r == CODEC_E_SHORT)
                        break;
                ConnFrameKind kind = r ? CONN_FRAME_BAD : conn_frame_kind(&h);
                if (kind == CONN_FRAME_BAD) {
                        conn_fail(c, -EPROTO);
                        return;
                }
                if (kind == CONN_FRAME_SKIP) {
                        c->skip = h.len;
                        continue;
                }
                if (buf_len(&c->in) < h.len)
                        break; /* the buffer grows as the rest arrives, not before */
                conn_on_frame(c, &h, buf_head(&c->in) + KBUS_FRAME_HDR_LEN);
                buf_consume(&c->in, h.len);
        }
        buf_shrink(&c->in, CONN_IN_KEEP);
}

/*
 * Reads once: what is there (@flags MSG_DONTWAIT), or waiting for something
 * (@flags 0; still non-blocking if the application set O_NONBLOCK).  Returns
 * >0 if bytes came, 0 if none, <0 if kbusd is gone.
 */
static int conn_recv_flags(Conn *c, int flags)
{
        if (c->dead)
                return c->dead;
        if (buf_reserve(&c->in, CONN_READ_CHUNK) < 0)
                return -ENOMEM;
        for (;;) {
                ssize_t n = recv(c->fd, buf_tail(&c->in), buf_room(&c->in), flags);
                if (n > 0) {
                        c->in.tail += (size_t)n;
                        conn_parse(c);
                        return c->dead ? c->dead : 1;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                conn_fail(c, -ECONNRESET);
                return c->dead;
        }
}

static int conn_recv(Conn *c)
{
        return conn_recv_flags(c, MSG_DONTWAIT);
}

/* Reads until the socket is empty. */
static int conn_drain(Conn *c)
{
        int r;

        while ((r = conn_recv(c)) > 0)
                ;
        return r;
}

static int conn_poll(Conn *c, short events)
{
        struct pollfd p = { .fd = c->fd, .events = events };

        for (;;) {
                int r = poll(&p, 1, -1);
                if (r > 0)
                        return p.revents;
                if (r < 0 && errno != EINTR)
                        return -errno;
        }
}

/* Waits at most @ms until the socket is readable; true if it is. */
static bool conn_wait_readable(Conn *c, int ms)
{
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int64_t deadline = handshake_now_ms() + ms;

        for (;;) {
                int r = poll(&p, 1, ms);
                if (r >= 0 || errno != EINTR)
                        return r > 0;
                ms = (int)(deadline - handshake_now_ms());
                if (ms < 0)
                        ms = 0;
        }
}

/**
 * conn_wait_input() - wait until something arrives, and read it.
 * @c: the connection
 *
 * Return: 0, or a negative errno if kbusd has gone.
 */
int conn_wait_input(Conn *c)
{
        for (;;) {
                int r = conn_recv_flags(c, 0); /* sleeps in recv() on a blocking socket */
                if (r != 0)
                        return r < 0 ? r : 0;
                r = conn_poll(c, POLLIN);
                if (r < 0)
                        return r;
        }
}

/* ---- writing ------------------------------------------------------------ */

static int conn_writev(Conn *c, struct iovec *iov, int n)
{
        while (n > 0) {
                struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
                ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        /* read while we wait, so kbusd is never stuck writing to us */
                        int ev = conn_poll(c, POLLIN | POLLOUT);
                        if (ev < 0)
                                return ev;
                        if ((ev & POLLIN) && conn_recv(c) < 0)
                                return c->dead;
                        continue;
                }
                if (w < 0) {
                        conn_fail(c, -ECONNRESET);
                        return c->dead;
                }
                size_t done = (size_t)w;
                while (n > 0 && done >= iov->iov_len) {
                        done -= iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0) {
                        iov->iov_base = (uint8_t *)iov->iov_base + done;
                        iov->iov_len -= done;
                }
        }
        return 0;
}

/**
 * conn_flush() - write the posted frames.
 * @c: the connection
 *
 * Return: 0, or a negative errno if kbusd has gone.
 */
int conn_flush(Conn *c)
{
        if (c->dead)
                return c->dead;
        if (buf_len(&c->post) == 0)
                return 0;
        struct iovec iov = { buf_head(&c->post), buf_len(&c->post) };
        int r = conn_writev(c, &iov, 1);
        buf_consume(&c->post, buf_len(&c->post));
        buf_shrink(&c->post, 4 * CONN_POST_FLUSH_BYTES);
        return r;
}

/**
 * conn_post_begin() - start a frame that gets no answer, in the post buffer.
 * @c:     the connection
 * @type:  frame type
 * @flags: frame flags
 * @len:   body length
 *
 * Return: where to write the @len body bytes, or NULL (kbusd gone, or no
 * memory).  Call conn_post_end() after writing them.
 */
uint8_t *conn_post_begin(Conn *c, uint16_t type, uint16_t flags, size_t len)
{
        return c->dead ? NULL : codec_frame_begin(&c->post, type, flags, len);
}

/**
 * conn_post_end() - finish a posted frame; write the buffer if it is full.
 * @c: the connection
 *
 * Return: 0, or a negative errno.
 */
int conn_post_end(Conn *c)
{
        return buf_len(&c->post) >= CONN_POST_FLUSH_BYTES ? conn_flush(c) : 0;
}

/* A posted frame without body. */
static int conn_post_empty(Conn *c, uint16_t type, uint16_t flags)
{
        if (!conn_post_begin(c, type, flags, 0))
                return c->dead ? c->dead : -ENOMEM;
        return conn_flush(c);
}

/* A POKE or WAKE SYNC is out and its NOP not read yet. */
static bool conn_poke_pending(const Conn *c)
{
        return c->nops_got < c->nops_asked;
}

/* Writes a frame kbusd answers with a NOP (POKE, WAKE with SYNC): 0 or an errno. */
static int conn_ask_nop(Conn *c, uint16_t type, uint16_t flags)
{
        int r = conn_post_empty(c, type, flags);

        if (r == 0)
                c->nops_asked++;
        return r;
}

/* Asks kbusd to act on our take log now, and waits until it has. */
static int conn_wake_sync(Conn *c)
{
        int r = conn_ask_nop(c, FRAME_WAKE, FRAME_WAKE_SYNC);
        uint64_t nop = c->nops_asked;

        while (r == 0 && c->nops_got < nop)
                r = conn_wait_input(c);
        return r ? r : c->dead;
}

/**
 * conn_request() - send a request and wait for its RESULT.
 * @c:        the connection
 * @type:     frame type
 * @flags:    frame flags
 * @body:     first part of the body
 * @len:      its length
 * @tail:     second part of the body, or NULL
 * @tail_len: its length
 * @ret:      the answer; any payload is left in c->payload
 *
 * Return: 0 (the answer's own status is in @ret), or a negative errno if
 * kbusd has gone.
 */
int conn_request(Conn *c, uint16_t type, uint16_t flags, const void *body, size_t len,
                 const void *tail, size_t tail_len, Result *ret)
{
        uint8_t hdr[KBUS_FRAME_HDR_LEN];
        struct iovec iov[4];
        int n = 0, r;

        if (c->dead)
                return c->dead;
        codec_header_encode(hdr, (uint32_t)(sizeof(hdr) + len + tail_len), type, flags);
        if (buf_len(&c->post))
                iov[n++] = (struct iovec){ buf_head(&c->post), buf_len(&c->post) };
        iov[n++] = (struct iovec){ hdr, sizeof(hdr) };
        if (len)
                iov[n++] = (struct iovec){ (void *)body, len };
        if (tail_len)
                iov[n++] = (struct iovec){ (void *)tail, tail_len };
        c->have_answer = false;
        c->awaiting = true;
        r = conn_writev(c, iov, n);
        buf_consume(&c->post, buf_len(&c->post));
        while (r == 0 && !c->have_answer)
                r = conn_wait_input(c);
        if (r < 0)
                return r;
        *ret = c->answer;
        return 0;
}

/* ---- the application's queue -------------------------------------------- */

static uint64_t conn_shm_load(const uint64_t *p)
{
        return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * Whether kbusd has queued messages we have not received.  pushed only
 * grows, so a value read before that says so still does: its cache line,
 * which kbusd writes with every message, is read only when it does not.
 */
static bool conn_more_pushed(Conn *c)
{
        if (c->pushed_seen > c->received)
                return true;
        c->pushed_seen = conn_shm_load(&c->shm->pushed);
        return c->pushed_seen > c->received;
}

/* Reads until we hold every message kbusd has queued up to @target. */
static int conn_catch_up(Conn *c, uint64_t target)
{
        int r = 0;

        while (r == 0 && c->received < target)
                r = conn_wait_input(c);
        return r;
}

/**
 * conn_next() - the message the application should take next, if any.
 * @c:   the connection
 * @ret: the message (not yet taken: call conn_take())
 *
 * Return: 1 with a message, 0 if the queue is empty, or a negative errno
 * if kbusd has gone and no message is left.
 */
int conn_next(Conn *c, Prefetched *ret)
{
        bool urgent_due = c->shm && conn_shm_load(&c->shm->urgent_seq) > c->received;

        if (!c->dead && (c->pf_len == 0 || urgent_due || !c->shm)) {
                conn_drain(c);
                if (c->shm)
                        conn_catch_up(c, conn_shm_load(c->pf_len ? &c->shm->urgent_seq
                                                                  : &c->shm->pushed));
        }
        if (c->pf_len == 0)
                return c->dead;
        *ret = conn_pf_pop(c);
        return 1;
}

static int conn_take_frame(Conn *c, uint32_t seq)
{
        uint8_t *body = conn_post_begin(c, FRAME_TAKE, 0, 4);

        if (!body)
                return c->dead ? c->dead : -ENOMEM;
        put_le32(body, seq);
        return conn_flush(c);
}

/*
 * The take log is full: ask kbusd to read it (WAKE with SYNC) and wait
 * until it has.  One round trip per SHM_LOG_LEN takes at worst; kbusd also
 * reads the log whenever it writes to us and finds it half full.
 */
static int conn_log_room(Conn *c, uint64_t taken)
{
        uint64_t consumed = conn_shm_load(&c->shm->consumed);
        int r = 0;

        if (consumed > taken) { /* kbusd read entries we never wrote */
                conn_fail(c, -EPROTO);
                return c->dead;
        }
        if (taken - consumed < SHM_LOG_LEN)
                return 0;
        r = conn_ask_nop(c, FRAME_WAKE, FRAME_WAKE_SYNC);
        while (r == 0 && (consumed = conn_shm_load(&c->shm->consumed)) <= taken &&
               taken - consumed >= SHM_LOG_LEN)
                r = conn_wait_input(c);
        if (r == 0 && consumed > taken)
                conn_fail(c, -EPROTO);
        return r ? r : c->dead;
}

/**
 * conn_take() - tell kbusd the application has taken @p (semantics §9 "read").
 * @c: the connection
 * @p: the message conn_next() gave
 *
 * Return: 0, or a negative errno.
 */
int conn_take(Conn *c, const Prefetched *p)
{
        KbusShm *s = c->shm;

        if (!s)
                return conn_take_frame(c, p->seq);
        uint64_t t = c->taken; /* our own count: the page is kbusd's to write as well */
        int r = conn_log_room(c, t);
        if (r < 0)
                return r;
        __atomic_store_n(&s->log[t & (SHM_LOG_LEN - 1)], p->seq, __ATOMIC_RELAXED);
        __atomic_store_n(&s->taken, t + 1, __ATOMIC_RELEASE);
        c->taken = t + 1;
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with inbox_room_or_watch() */
        if (__atomic_load_n(&s->notify, __ATOMIC_RELAXED) &&
            __atomic_exchange_n(&s->notify, 0, __ATOMIC_ACQ_REL))
                /* Something waits for room here (a held send, a set-aside
                 * event): wait until kbusd has acted, so that what it queues
                 * for us is there at our next read, as NEXTMSG had it. */
                return conn_wake_sync(c);
        return 0;
}

/**
 * conn_pending() - whether a message is queued for the application.
 * @c: the connection
 *
 * Return: 1 or 0, or a negative errno if kbusd has gone and none is left.
 */
int conn_pending(Conn *c)
{
        if (c->pf_len)
                return 1;
        conn_drain(c);
        if (c->pf_len || (c->shm && !c->dead && conn_more_pushed(c)))
                return 1;
        return c->dead;
}

/**
 * conn_keep_readable() - make sure poll() reports the socket readable while
 * messages wait in the library (see the file comment).
 * @c: the connection
 */
void conn_keep_readable(Conn *c)
{
        int avail = 0;

        conn_settle_poke(c);
        if (c->dead || c->pf_len == 0 || conn_poke_pending(c))
                return;
        if (c->shm && conn_more_pushed(c))
                return; /* more is coming: the socket will be readable */
        if (ioctl(c->fd, FIONREAD, &avail) == 0 && avail > 0)
                return;
        if (conn_ask_nop(c, FRAME_POKE, 0) == 0) {
                /* Until the NOP is in, a poll() right after this call would miss it. */
                conn_wait_readable(c, CONN_NOP_WAIT_MS);
        }
}

/**
 * conn_settle_poke() - nothing waits here any more but a POKE is out: read
 * its NOP now, so that the socket does not read as readable later with no
 * message (a program that trusts poll(), as KBUS programs did, would find
 * none).  kbusd answers a POKE at once; a server that does not is given
 * CONN_NOP_WAIT_MS.
 * @c: the connection
 */
void conn_settle_poke(Conn *c)
{
        if (!conn_poke_pending(c))
                return; /* the usual case, and every message passes here: no clock */
        int64_t deadline = handshake_now_ms() + CONN_NOP_WAIT_MS;

        while (conn_poke_pending(c) && c->pf_len == 0 && !c->dead) {
                int64_t left = deadline - handshake_now_ms();
                if (left <= 0 || !conn_wait_readable(c, (int)left))
                        return;
                conn_drain(c);
        }
}

/* ---- opening and closing ------------------------------------------------ */

/**
 * conn_check_flags() - whether @flags are flags kbus_ksock_open() takes.
 * @flags: O_RDONLY, O_WRONLY or O_RDWR, optionally with O_NONBLOCK, O_CLOEXEC
 *
 * Return: 0, or -EINVAL.
 */
int conn_check_flags(int flags)
{
        if ((flags & ~(O_ACCMODE | O_NONBLOCK | O_CLOEXEC)) || (flags & O_ACCMODE) == O_ACCMODE)
                return -EINVAL;
        return 0;
}

/**
 * conn_open() - connect to the bus socket at @path and say hello, within
 * @timeout_ms.
 * @path:       the socket path
 * @flags:      as kbus_ksock_open() takes them
 * @timeout_ms: the bound on connecting and the handshake together (> 0)
 * @check_peer: refuse a server that runs as neither root nor our uid (the
 *              socket directory was a per-user fallback, semantics §18)
 * @ret:        the connection
 *
 * Return: 0, or -EINVAL, -ENOENT (no kbusd there), -ETIMEDOUT (no connection
 * or no WELCOME within @timeout_ms), -EPERM (@check_peer refused it), -EPROTO
 * (not a kbusd, or one that broke the protocol), -ENOMEM, a negative errno
 * from kbusd's WELCOME, or another from socket().
 */
int conn_open(const char *path, int flags, int timeout_ms, bool check_peer, Conn **ret)
{
        int64_t deadline = handshake_now_ms() + timeout_ms;
        Conn *c;

        if (conn_check_flags(flags) < 0 || timeout_ms <= 0)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->can_write = (flags & O_ACCMODE) != O_RDONLY;
        int r = handshake_connect(path, deadline, &c->fd);
        if (r < 0) {
                free(c);
                return r;
        }
        if (check_peer)
                r = sockdir_check_peer(c->fd, getuid(), NULL);
        if (r == 0)
                r = handshake_greet(c, c->can_write, deadline);
        /* from here on the socket blocks, unless the caller asked otherwise */
        if (r == 0 && fcntl(c->fd, F_SETFL, (flags & O_NONBLOCK) ? O_NONBLOCK : 0) < 0)
                r = -errno;
        if (r < 0) {
                conn_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

/**
 * conn_free() - close the socket and free everything.
 * @c: the connection, or NULL
 *
 * Return: NULL.
 */
Conn *conn_free(Conn *c)
{
        if (!c)
                return NULL;
        close(c->fd);
        if (c->shm)
                munmap(c->shm, sizeof(KbusShm));
        while (c->pf_len) {
                Prefetched p = conn_pf_pop(c);
                kbus_msg_delete(&p.msg);
        }
        free(c->pf);
        kbus_msg_delete(&c->being_read);
        free(c->written);
        buf_deinit(&c->partial);
        buf_deinit(&c->in);
        buf_deinit(&c->post);
        buf_deinit(&c->payload);
        free(c);
        return NULL;
}
