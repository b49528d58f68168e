/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-script.c - scripts of client actions against kbusd's core, with the
 * delivery invariants checked after every step (see core-script.h).
 *
 * The client side ("peer") of each connection keeps what a libkbus user
 * would know: the answers it waits for, in order; the messages it was
 * pushed, which it takes and replies to; its take log.  The checks compare
 * what the peers saw with what kbusd promised, and kbusd's books with
 * what the peers hold.  A peer fed raw bytes no longer knows what to
 * expect, so its own answers are not checked from then on; everything the
 * core holds still is.
 */
#include "core-script.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/caps.h"
#include "../src/core/inbox.h"
#include "../src/core/policy.h"
#include "../src/core/quota.h"
#include "../src/core/reply.h"
#include "core-world.h"

#define SCRIPT_STEPS_MAX 400
#define SCRIPT_BUSES 2         /* buses whose requests are followed */
#define SCRIPT_SERIALS 8192    /* serials followed per bus */
#define SCRIPT_RECV_MAX 4096   /* messages a peer remembers */
#define SCRIPT_PENDING_MAX 64  /* frames a peer waits answers for */
#define SCRIPT_UIDS 8

/* What a peer expects for a frame it sent. */
enum {
        EXPECT_ANSWER = 1,   /* exactly one RESULT, NOP or ERROR */
        EXPECT_MAY_ERROR = 2 /* an ERROR or nothing (a posted send) */
};

typedef struct Pending {
        uint16_t type, flags;
        uint8_t expect;
        bool request;        /* a SEND of a request */
        bool all_or_wait;
        uint32_t ctl_op, ctl_arg; /* a CTL's */
} Pending;

typedef struct Recv {
        uint64_t seq;
        uint32_t binding, serial, from;
        bool you_reply, taken, dropped, replied;
        char name[32];       /* "" if longer */
} Recv;

typedef struct Peer {
        bool hello_sent, greeted, shm;
        bool tracked;        /* fed only frames the peer understands */
        bool blocked;        /* in a blocking ALL_OR_WAIT send */
        bool policy_touched; /* a policy change may have removed bindings behind its back */
        bool done_owed, done_request;
        bool only_once;      /* it asked for one copy of each message (semantics §10) */
        Pending pend[SCRIPT_PENDING_MAX];
        size_t npend;
        Recv *recv;
        size_t nrecv, recv_cap;
        bool recv_full;
        uint64_t received;   /* MSG frames read: the newest seq */
        uint32_t untaken;    /* remembered messages neither taken nor dropped */
        uint64_t taken;      /* take-log entries written */
        uint32_t last_serial;
        bool last_dup_ok;    /* the message [0:last_serial] may come again (not only-once) */
        uint64_t floor;      /* queue length above a lowered limit, still draining */
} Peer;

/* The requests of one bus, by serial. */
typedef struct Book {
        uint8_t answers[SCRIPT_SERIALS];
        int8_t replier[SCRIPT_SERIALS];   /* connection index + 1 */
        int8_t requester[SCRIPT_SERIALS]; /* connection index + 1, once accepted */
        bool told[SCRIPT_SERIALS];        /* its sender was told it went */
        uint16_t open[SCRIPT_SERIALS];    /* accepted requests that may still be unanswered */
        size_t nopen;
} Book;

typedef struct Script {
        Peer peers[WORLD_CONNS_MAX];
        Book books[SCRIPT_BUSES];
        const uint8_t *p, *end;
        bool limits_changed;
        bool stopping;
        bool failed;
        bool trace;          /* KBUS_CORE_TRACE set: say each step on stderr */
        char *why;
        size_t why_len;
        ScriptStats *stats;
        Buf frame;
        /* not cleared between scripts (world_start() sets up the world) */
        World w;
        WorldFrame f;
        uint8_t msg[KBUS_FRAME_HDR_LEN + 70000 + 2048];
} Script;

static const char *const script_names[] = {
        "$.a", "$.b", "$.a.x", "$.a.y", "$.a.*", "$.a.%", "$.*", "$.%", "$.b.c.d", "$.a.x.*",
        KBUS_MSG_NAME_REPLIER_BIND_EVENT, KBUS_MSG_NAME_REPLIER_GONEAWAY, "$.KBUS.Mine", "$.c",
        "bad", "$.a..b",
};
#define SCRIPT_NNAMES (sizeof(script_names) / sizeof(script_names[0]))

static const uint32_t script_sizes[] = { 0, 1, 7, 100, 600, 4000, 65000, 70000 };

static const char *const script_policies[] = {
        NULL,
        "deny uid:1001 own $.a\ndeny uid:1002 listen $.a.*\n",
        "deny uid:1003 connect\nonly uid:1000 send $.b\n",
        "limit bindings-per-uid 3\nlimit requests-per-uid 1\nlimit queued-bytes-per-uid 700\n",
        "deny * listen $.*\ndeny uid:1001 listen $.KBUS.ReplierBindEvent\n",
};
#define SCRIPT_NPOLICIES (sizeof(script_policies) / sizeof(script_policies[0]))

static bool fail(Script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(Script *s, const char *fmt, ...)
{
        va_list ap;

        if (s->failed)
                return false;
        s->failed = true;
        va_start(ap, fmt);
        vsnprintf(s->why, s->why_len, fmt, ap);
        va_end(ap);
        return false;
}

static void trace(Script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(Script *s, const char *fmt, ...)
{
        va_list ap;

        if (!s->trace)
                return;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
}

static uint8_t next_byte(Script *s)
{
        return s->p < s->end ? *s->p++ : 0;
}

static size_t conn_index(const Script *s, const WorldConn *wc)
{
        return (size_t)(wc - s->w.conns);
}

static Peer *peer_of(Script *s, const WorldConn *wc)
{
        return &s->peers[conn_index(s, wc)];
}

static Book *book_of(Script *s, unsigned bus)
{
        return bus < SCRIPT_BUSES ? &s->books[bus] : NULL;
}

/* ---- what the peers read ------------------------------------------------- */

static void peer_expect(Script *s, WorldConn *wc, Pending p)
{
        Peer *pe = peer_of(s, wc);

        if (!pe->tracked)
                return;
        if (pe->npend == SCRIPT_PENDING_MAX) {
                pe->tracked = false; /* more in flight than the peer follows */
                return;
        }
        pe->pend[pe->npend++] = p;
}

static Pending peer_pop(Peer *pe)
{
        Pending p = pe->pend[0];

        memmove(pe->pend, pe->pend + 1, --pe->npend * sizeof(pe->pend[0]));
        return p;
}

static void on_welcome(Script *s, WorldConn *wc, const WorldFrame *f)
{
        Peer *pe = peer_of(s, wc);
        Welcome w;

        if (codec_welcome_decode(f->body, f->len, &w) != 0)
                fail(s, "ksock %u: a WELCOME that does not decode", wc->id);
        else if (pe->greeted)
                fail(s, "ksock %u: a second WELCOME", wc->id);
        else if (w.status == 0 && w.ksock_id != wc->id)
                fail(s, "ksock %u: welcomed as ksock %u", wc->id, w.ksock_id);
        else if (w.status == 0)
                pe->greeted = true;
}

static void peer_remember(Script *s, Peer *pe, const WireMsg *m, uint32_t binding, bool you)
{
        Recv *r;

        if (pe->nrecv == SCRIPT_RECV_MAX) {
                pe->recv_full = true;
                return;
        }
        if (pe->nrecv == pe->recv_cap) {
                size_t cap = pe->recv_cap ? pe->recv_cap * 2 : 16;
                Recv *more = realloc(pe->recv, cap * sizeof(Recv));
                if (!more)
                        return (void)fail(s, "out of memory");
                pe->recv = more;
                pe->recv_cap = cap;
        }
        r = &pe->recv[pe->nrecv++];
        pe->untaken++;
        *r = (Recv){ .seq = pe->received, .binding = binding, .serial = m->id_serial,
                     .from = m->from, .you_reply = you };
        if (m->name_len < sizeof(r->name))
                memcpy(r->name, m->name, m->name_len);
}

/* semantics §7 and §8: copies before the sender hears; each ksock in serial order. */
static void check_msg_order(Script *s, WorldConn *wc, Peer *pe, const WireMsg *m)
{
        static const char event[] = KBUS_MSG_NAME_REPLIER_BIND_EVENT;
        Book *bk = book_of(s, wc->bus);

        if (m->id_net != 0)
                return; /* an id a Limpet gave */
        if (bk && m->from != 0 && m->id_serial < SCRIPT_SERIALS && bk->told[m->id_serial])
                fail(s, "ksock %u: [0:%u] written to it after its sender was answered", wc->id,
                     m->id_serial);
        /* set-aside unbind events are the one thing delivered after later messages */
        if (m->name_len == sizeof(event) - 1 && !memcmp(m->name, event, m->name_len))
                return;
        if (m->id_serial < pe->last_serial)
                fail(s, "ksock %u: [0:%u] after [0:%u]", wc->id, m->id_serial, pe->last_serial);
        else if (m->id_serial == pe->last_serial && !pe->last_dup_ok)
                fail(s, "ksock %u: a second copy of [0:%u] though it asked for one", wc->id,
                     m->id_serial);
        pe->last_serial = m->id_serial;
        pe->last_dup_ok = !pe->only_once;
}

/* A reply or status into a reserved place (binding 0, in reply to a request of ours). */
static void count_answer(Script *s, WorldConn *wc, const WireMsg *m)
{
        Book *bk = book_of(s, wc->bus);
        uint32_t q = m->irt_serial;

        if (!bk || m->irt_net != 0 || q == 0 || q >= SCRIPT_SERIALS)
                return;
        if (m->to != wc->id)
                fail(s, "ksock %u: an answer to [0:%u] addressed to ksock %u", wc->id, q, m->to);
        else if (++bk->answers[q] > 1)
                fail(s, "ksock %u: request [0:%u] answered twice", wc->id, q);
        else if (bk->requester[q] && bk->requester[q] != (int8_t)(conn_index(s, wc) + 1))
                fail(s, "ksock %u: got the answer to another ksock's request [0:%u]", wc->id, q);
}

static void on_msg(Script *s, WorldConn *wc, const WorldFrame *f)
{
        Peer *pe = peer_of(s, wc);
        Book *bk = book_of(s, wc->bus);
        bool you = f->flags & FRAME_MSG_YOU_REPLY;
        WireMsg m;

        if (f->len < MSG_PREFIX_LEN ||
            codec_msg_decode(f->body + MSG_PREFIX_LEN, f->len - MSG_PREFIX_LEN, &m) != 0) {
                fail(s, "ksock %u: a MSG that does not decode", wc->id);
                return;
        }
        uint32_t binding = get_le32(f->body);
        pe->received++;
        trace(s, "    ksock %u <- %.*s [%u:%u] from %u flags %#x%s\n", wc->id, (int)m.name_len,
              m.name, m.id_net, m.id_serial, m.from, m.flags, you ? " (you reply)" : "");
        check_msg_order(s, wc, pe, &m);
        peer_remember(s, pe, &m, binding, you);
        if (binding == 0)
                count_answer(s, wc, &m);
        if (!you)
                return;
        if (!(m.flags & KBUS_FLAG_WANT_A_REPLY))
                fail(s, "ksock %u: asked to reply to [0:%u], not a request", wc->id, m.id_serial);
        else if (bk && m.id_net == 0 && m.id_serial < SCRIPT_SERIALS) {
                if (bk->replier[m.id_serial])
                        fail(s, "ksock %u: a second replier copy of [0:%u]", wc->id, m.id_serial);
                bk->replier[m.id_serial] = (int8_t)(conn_index(s, wc) + 1);
        }
}

/* A send went: its sender is told now (RESULT or DONE). */
static void send_told(Script *s, WorldConn *wc, bool request, const Result *res)
{
        Book *bk = book_of(s, wc->bus);
        uint32_t q = res->value1;

        if (res->value0 != 0)
                fail(s, "ksock %u: sent with network id %u", wc->id, res->value0);
        trace(s, "    ksock %u told [0:%u] went\n", wc->id, q);
        if (!bk || q >= SCRIPT_SERIALS)
                return;
        bk->told[q] = true;
        if (!request)
                return;
        if (bk->requester[q])
                fail(s, "ksock %u: request id [0:%u] given twice", wc->id, q);
        bk->requester[q] = (int8_t)(conn_index(s, wc) + 1);
        if (bk->nopen < SCRIPT_SERIALS)
                bk->open[bk->nopen++] = (uint16_t)q;
}

static void peer_drop_binding(Peer *pe, uint32_t binding)
{
        for (size_t i = 0; i < pe->nrecv; i++)
                if (pe->recv[i].binding == binding && !pe->recv[i].taken &&
                    !pe->recv[i].dropped) {
                        pe->recv[i].dropped = true; /* as libkbus drops them */
                        pe->untaken--;
                }
}

static void on_result(Script *s, WorldConn *wc, const Pending *p, const WorldFrame *f)
{
        Peer *pe = peer_of(s, wc);
        Result res;

        if (codec_result_decode(f->body, f->len, &res) != 0 ||
            (res.status < 0 && res.status < -4095)) {
                fail(s, "ksock %u: a RESULT that does not decode", wc->id);
                return;
        }
        if (p->type == FRAME_SEND) {
                if (res.status == 0)
                        send_told(s, wc, p->request, &res);
                if (p->all_or_wait && !(p->flags & FRAME_SEND_WAIT) && res.status == -EAGAIN) {
                        pe->done_owed = true;
                        pe->done_request = p->request;
                }
                if (p->flags & FRAME_SEND_WAIT)
                        pe->blocked = false;
        } else if (p->type == FRAME_UNBIND && res.status == 0) {
                peer_drop_binding(pe, res.value0);
        } else if (p->type == FRAME_DISCARD) {
                pe->done_owed = false;
        } else if (p->type == FRAME_CTL && p->ctl_op == CTL_ONLY_ONCE && res.status == 0 &&
                   p->ctl_arg <= 1) {
                pe->only_once = p->ctl_arg;
        }
}

static bool answer_kind_ok(const Pending *p, const WorldFrame *f)
{
        bool nop = p->type == FRAME_POKE || p->type == FRAME_WAKE;

        if (f->type == FRAME_ERROR)
                return f->len >= ERROR_FIXED_LEN && get_le16(f->body + 4) == p->type &&
                       get_le16(f->body + 6) == p->flags;
        return f->type == (nop ? FRAME_NOP : FRAME_RESULT);
}

static void on_answer(Script *s, WorldConn *wc, const WorldFrame *f)
{
        Peer *pe = peer_of(s, wc);

        if (!pe->tracked)
                return;
        while (pe->npend && pe->pend[0].expect == EXPECT_MAY_ERROR) {
                Pending p = peer_pop(pe);
                if (f->type == FRAME_ERROR && answer_kind_ok(&p, f))
                        return;
        }
        if (pe->npend == 0) {
                fail(s, "ksock %u: an answer (frame type %#x) to nothing it asked", wc->id,
                     f->type);
                return;
        }
        Pending p = peer_pop(pe);
        if (!answer_kind_ok(&p, f))
                fail(s, "ksock %u: frame type %#x answers its frame type %u", wc->id, f->type,
                     p.type);
        else if (f->type == FRAME_RESULT)
                on_result(s, wc, &p, f);
}

static void on_done(Script *s, WorldConn *wc, const WorldFrame *f)
{
        Peer *pe = peer_of(s, wc);
        Result res;

        if (codec_result_decode(f->body, f->len, &res) != 0)
                fail(s, "ksock %u: a DONE that does not decode", wc->id);
        else if (pe->tracked && !pe->done_owed)
                fail(s, "ksock %u: a DONE for no held send", wc->id);
        pe->done_owed = false;
        if (res.status == 0)
                send_told(s, wc, pe->done_request, &res);
}

static void on_frame(Script *s, WorldConn *wc, const WorldFrame *f)
{
        switch (f->type) {
        case FRAME_WELCOME:
                on_welcome(s, wc, f);
                break;
        case FRAME_MSG:
                on_msg(s, wc, f);
                break;
        case FRAME_RESULT:
        case FRAME_ERROR:
        case FRAME_NOP:
                on_answer(s, wc, f);
                break;
        case FRAME_DONE:
                on_done(s, wc, f);
                break;
        default:
                fail(s, "ksock %u: frame type %#x from kbusd", wc->id, f->type);
        }
}

/* World.on_write: the peer reads what kbusd wrote, as soon as it is written. */
static void peer_read(WorldConn *wc, void *ctx)
{
        Script *s = ctx;
        int r;

        if (s->stopping)
                return;
        while (!s->failed && (r = world_read(wc, &s->f)) == 1) {
                s->stats->frames++;
                on_frame(s, wc, &s->f);
        }
        if (r < 0)
                fail(s, "ksock %u: bytes no kbusd frame starts with", wc->id);
}

/* ---- the checks after each step --------------------------------------------- */

/* Every frame was answered, but a blocking send still held. */
static void check_answered(Script *s)
{
        for (size_t i = 0; i < s->w.nconns && !s->failed; i++) {
                WorldConn *wc = &s->w.conns[i];
                Peer *pe = &s->peers[i];
                size_t kept = 0;
                if (!pe->tracked || wc->gone)
                        continue;
                for (size_t j = 0; j < pe->npend; j++)
                        if (pe->pend[j].expect == EXPECT_ANSWER)
                                pe->pend[kept++] = pe->pend[j];
                pe->npend = kept; /* posted sends with no ERROR by now went */
                if (kept > 1 || (kept == 1 && !pe->blocked))
                        fail(s, "ksock %u: frame type %u not answered", wc->id,
                             pe->pend[0].type);
        }
}

/* semantics §9: a request is answered once its replier has gone, if not before. */
static void check_requests(Script *s)
{
        for (unsigned b = 0; b < SCRIPT_BUSES && !s->failed; b++) {
                Book *bk = &s->books[b];
                size_t kept = 0;
                for (size_t i = 0; i < bk->nopen; i++) {
                        uint16_t q = bk->open[i];
                        WorldConn *req = &s->w.conns[bk->requester[q] - 1];
                        if (bk->answers[q] || req->gone)
                                continue; /* answered, or nobody to answer any more */
                        bk->open[kept++] = q;
                        if (!bk->replier[q])
                                return (void)fail(s, "request [0:%u] of ksock %u reached no "
                                                     "replier and got no status", q, req->id);
                        WorldConn *rep = &s->w.conns[bk->replier[q] - 1];
                        if (rep->gone)
                                return (void)fail(s, "ksock %u went without answering request "
                                                     "[0:%u] of ksock %u", rep->id, q, req->id);
                }
                bk->nopen = kept;
        }
}

/*
 * Each take logged and not applied yet names a message kbusd pushed: the
 * library takes only what it was sent.  (One kbusd no longer holds is
 * passed over when the log is applied; one never pushed would stop it.)
 */
static void check_take_log(Script *s, WorldConn *wc, Client *c)
{
        for (uint64_t i = c->queue.log_seen; i < c->shm->taken; i++) {
                uint32_t seq32 = c->shm->log[i & (SHM_LOG_LEN - 1)];
                if ((int32_t)(seq32 - (uint32_t)c->queue.next_seq) >= 0)
                        return (void)fail(s, "ksock %u: took message %u, which kbusd never "
                                             "pushed", wc->id, seq32);
        }
}

/* No queue above its limit, and kbusd counts what the peer holds. */
static void check_queue(Script *s, WorldConn *wc, Peer *pe, Client *c)
{
        uint64_t total = (uint64_t)c->queue.live + inbox_reserved(c);
        uint64_t live = 0;

        if (total > c->max_messages) {
                if (total > pe->floor)
                        fail(s, "ksock %u: %u queued and %u reserved, limit %u", wc->id,
                             c->queue.live, inbox_reserved(c), c->max_messages);
                pe->floor = total;
        } else {
                pe->floor = 0;
        }
        if (c->queued_charged != c->queue.live_bytes)
                fail(s, "ksock %u: %llu bytes queued, %llu charged", wc->id,
                     (unsigned long long)c->queue.live_bytes,
                     (unsigned long long)c->queued_charged);
        if (c->shm)
                check_take_log(s, wc, c);
        if (!pe->tracked || pe->policy_touched || pe->recv_full)
                return;
        live = pe->untaken;
        if (c->shm)
                live += c->shm->taken - c->queue.log_seen; /* logged, not applied yet */
        if (live != c->queue.live)
                fail(s, "ksock %u: kbusd counts %u queued, the client %llu", wc->id,
                     c->queue.live, (unsigned long long)live);
}

static bool is_live(const Script *s, const Bus *bus, const Client *c)
{
        for (size_t i = 0; i < s->w.nconns; i++)
                if (s->w.conns[i].c == c && c && !c->closing && c->bus == bus)
                        return true;
        return false;
}

/* A closed client owes nothing: every reference in the bus is to a live client. */
static void check_references(Script *s, Bus *bus)
{
        uint32_t nclients = 0, nheld = 0, naside = 0, nreport = 0;
        Client *c;

        TAILQ_FOREACH(c, &bus->clients, bus_link) {
                nclients++;
                nreport += c->report_binds;
                if (!is_live(s, bus, c))
                        return (void)fail(s, "bus %u: ksock %u is closed but listed",
                                          bus->number, c->id);
                for (ReplySlot *r = replier_book_first(&c->owing); r; r = replier_book_next(r))
                        if (r->replier != c || (r->requester && !is_live(s, bus, r->requester)))
                                return (void)fail(s, "ksock %u owes [0:%u] to a closed ksock",
                                                  c->id, r->id_serial);
                ReplySlot *r;
                TAILQ_FOREACH(r, &c->owed.slots, requester_link)
                        if (r->requester != c || !is_live(s, bus, r->replier))
                                return (void)fail(s, "ksock %u is owed [0:%u] by a closed ksock",
                                                  c->id, r->id_serial);
        }
        HeldSend *h;
        TAILQ_FOREACH(h, &bus->held, link) {
                nheld++;
                if (!is_live(s, bus, h->sender) || h->sender->held != h)
                        return (void)fail(s, "bus %u: a held send of a closed ksock", bus->number);
        }
        SetAside *e;
        TAILQ_FOREACH(e, &bus->set_aside, link) {
                naside++;
                if (!is_live(s, bus, e->to))
                        return (void)fail(s, "bus %u: an event set aside for a closed ksock",
                                          bus->number);
        }
        if (nclients != bus->nclients || nheld != bus->nheld || naside != bus->nset_aside ||
            nreport != bus->report_binds)
                fail(s, "bus %u: counts %u/%u/%u/%u, lists %u/%u/%u/%u", bus->number,
                     bus->nclients, bus->nheld, bus->nset_aside, bus->report_binds, nclients,
                     nheld, naside, nreport);
}

/* What the clients hold, per QuotaUser they point to. */
typedef struct QuotaSum {
        const QuotaUser *user[SCRIPT_UIDS];
        uint64_t used[SCRIPT_UIDS][QUOTA_NKINDS];
        size_t n;
        Script *s;
} QuotaSum;

static uint64_t *quota_sum_of(QuotaSum *q, const QuotaUser *u)
{
        for (size_t i = 0; i < q->n; i++)
                if (q->user[i] == u)
                        return q->used[i];
        if (q->n == SCRIPT_UIDS)
                return NULL;
        q->user[q->n] = u;
        memset(q->used[q->n], 0, sizeof(q->used[0]));
        return q->used[q->n++];
}

static void quota_sum_client(QuotaSum *q, Client *c)
{
        uint64_t *u = quota_sum_of(q, c->quser);
        Binding *b;

        if (c->quser->uid != c->uid)
                fail(q->s, "ksock %u of uid %u charged to uid %u", c->id, (unsigned)c->uid,
                     (unsigned)c->quser->uid);
        if (!u)
                return;
        u[QUOTA_CONNECTIONS] += c->charged;
        TAILQ_FOREACH(b, &c->bindings, client_link)
                u[QUOTA_BINDINGS]++;
        u[QUOTA_QUEUED_BYTES] += c->queued_charged;
        u[QUOTA_PARTIAL_BYTES] += c->in_claim;
        if (c->held && c->held->reserved)
                u[QUOTA_REQUESTS]++;
        for (ReplySlot *r = replier_book_first(&c->owing); r; r = replier_book_next(r)) {
                uint64_t *ru = r->charged ? quota_sum_of(q, r->charged) : NULL;
                if (ru)
                        ru[QUOTA_REQUESTS]++;
        }
}

/* One uid's books against what its clients hold, and its limits. */
static void quota_compare(QuotaSum *q, const QuotaUser *user, const uint64_t *held)
{
        const Quota *quota = &q->s->w.core->quota;

        for (int k = 0; k < QUOTA_NKINDS; k++) {
                if (user->used[k] != held[k])
                        return (void)fail(q->s, "uid %u: %s %llu in the books, %llu held",
                                          (unsigned)user->uid, quota_kind_name(k),
                                          (unsigned long long)user->used[k],
                                          (unsigned long long)held[k]);
                if (k == QUOTA_QUEUED_BYTES || k == QUOTA_REQUESTS || q->s->limits_changed)
                        continue; /* readers and repliers are charged whatever the limit */
                if (user->used[k] > quota->limits.per_uid[k])
                        return (void)fail(q->s, "uid %u: %s %llu, over its limit %llu",
                                          (unsigned)user->uid, quota_kind_name(k),
                                          (unsigned long long)user->used[k],
                                          (unsigned long long)quota->limits.per_uid[k]);
        }
}

/*
 * The quota books equal what the clients hold, per uid and in total, and
 * hold no uid none of whose clients is left.
 */
static void check_quotas(Script *s)
{
        QuotaSum q = { .s = s };
        const Quota *quota = &s->w.core->quota;
        uint64_t total[QUOTA_NKINDS] = { 0 };

        for (unsigned b = 0; b < s->w.core->buses_top; b++) {
                Client *c;
                if (s->w.core->buses[b])
                        TAILQ_FOREACH(c, &s->w.core->buses[b]->clients, bus_link)
                                quota_sum_client(&q, c);
        }
        for (size_t i = 0; i < q.n && !s->failed; i++) {
                quota_compare(&q, q.user[i], q.used[i]);
                for (int k = 0; k < QUOTA_NKINDS; k++)
                        total[k] += q.used[i][k];
        }
        if (!s->failed && quota->nusers != q.n)
                fail(s, "%zu uids in the books, %zu with ksocks", quota->nusers, q.n);
        for (int k = 0; k < QUOTA_NKINDS && !s->failed; k++)
                if (quota->used[k] != total[k])
                        fail(s, "%s: %llu in the books, %llu held", quota_kind_name(k),
                             (unsigned long long)quota->used[k], (unsigned long long)total[k]);
}

static void check_all(Script *s)
{
        Core *core = s->w.core;

        if (!TAILQ_EMPTY(&core->dirty) || !TAILQ_EMPTY(&core->late) ||
            !TAILQ_EMPTY(&core->closing))
                fail(s, "the core did not settle");
        check_answered(s);
        check_requests(s);
        for (size_t i = 0; i < s->w.nconns && !s->failed; i++) {
                WorldConn *wc = &s->w.conns[i];
                if (wc->c && wc->c->greeted)
                        check_queue(s, wc, &s->peers[i], wc->c);
        }
        for (unsigned b = 0; b < core->buses_top && !s->failed; b++)
                if (core->buses[b])
                        check_references(s, core->buses[b]);
        if (!s->failed)
                check_quotas(s);
}

/* ---- the steps --------------------------------------------------------------- */

/* A connection chosen by @b: among those not gone, greeted ones if @greeted. */
static WorldConn *pick(Script *s, uint8_t b, bool greeted)
{
        size_t n = 0;

        for (size_t i = 0; i < s->w.nconns; i++)
                n += !s->w.conns[i].gone && (!greeted || s->peers[i].greeted);
        if (n == 0)
                return NULL;
        n = b % n;
        for (size_t i = 0; i < s->w.nconns; i++)
                if (!s->w.conns[i].gone && (!greeted || s->peers[i].greeted) && n-- == 0)
                        return &s->w.conns[i];
        return NULL;
}

/* A greeted connection that may send (not blocked in a send). */
static WorldConn *pick_sender(Script *s)
{
        WorldConn *wc = pick(s, next_byte(s), true);

        return wc && !peer_of(s, wc)->blocked ? wc : NULL;
}

static void feed_frame(Script *s, WorldConn *wc, uint16_t type, uint16_t flags,
                       const void *body, size_t len, uint8_t expect)
{
        trace(s, "  ksock %u: frame %u flags %#x, %zu bytes\n", wc->id, type, flags, len);
        buf_consume(&s->frame, buf_len(&s->frame));
        world_frame_encode(&s->frame, type, flags, body, len);
        if (expect)
                peer_expect(s, wc, (Pending){ .type = type, .flags = flags, .expect = expect });
        world_feed(wc, buf_head(&s->frame), buf_len(&s->frame));
}

static void step_connect(Script *s)
{
        uint8_t who = next_byte(s), mode = next_byte(s);
        uid_t uid = (who & 7) == 7 ? WORLD_ADMIN_UID : 1000u + (who & 3u);
        unsigned bus = (mode >> 4) % s->w.core->buses_top;
        uint8_t hello[HELLO_LEN];

        if (!s->w.core->buses[bus])
                bus = 0;
        WorldConn *wc = world_connect(&s->w, bus, uid);
        trace(s, "  connect uid %u bus %u mode %#x: ksock %u\n", (unsigned)uid, bus, mode,
              wc ? wc->id : 0);
        if (!wc || wc->gone || (mode & 8)) /* full, refused, or stays before its HELLO */
                return;
        Peer *pe = peer_of(s, wc);
        pe->shm = mode & 2;
        pe->hello_sent = true;
        codec_hello_encode(hello, &(Hello){ .magic = KBUS_PROTO_MAGIC,
                                            .version = KBUS_PROTO_VERSION,
                                            .mode = HELLO_MODE_READ |
                                                    (mode & 1 ? HELLO_MODE_WRITE : 0),
                                            .options = mode & 2 ? HELLO_OPT_SHM : 0 });
        feed_frame(s, wc, FRAME_HELLO, 0, hello, sizeof(hello), 0);
}

static void step_bind(Script *s, uint16_t type)
{
        WorldConn *wc = pick_sender(s);
        uint8_t b = next_byte(s);
        const char *name = script_names[(b >> 1) % SCRIPT_NNAMES];

        if (wc)
                feed_frame(s, wc, type, b & 1 ? FRAME_BIND_REPLIER : 0, name, strlen(name),
                           EXPECT_ANSWER);
}

/* The flags of a message from a script byte. */
static uint32_t msg_flags(uint8_t b)
{
        return (b & 1 ? KBUS_FLAG_WANT_A_REPLY : 0) | (b & 2 ? KBUS_FLAG_ALL_OR_WAIT : 0) |
               (b & 4 ? KBUS_FLAG_ALL_OR_FAIL : 0) | (b & 8 ? KBUS_FLAG_URGENT : 0);
}

/* Encodes a message into s->msg; returns its length. */
static size_t encode_msg(Script *s, const char *name, uint32_t flags, uint32_t to,
                         uint32_t irt, uint32_t size)
{
        static uint8_t data[70000];

        if (!data[0])
                memset(data, 'd', sizeof(data));
        WireMsg m = { .name = name, .name_len = (uint32_t)strlen(name), .flags = flags,
                      .to = to, .irt_serial = irt, .data = data, .data_len = size };
        return codec_msg_encode(s->msg, &m);
}

static void feed_send(Script *s, WorldConn *wc, uint16_t fflags, uint32_t mflags, size_t len)
{
        Pending p = { .type = FRAME_SEND, .flags = fflags,
                      .expect = fflags & FRAME_SEND_POST ? EXPECT_MAY_ERROR : EXPECT_ANSWER,
                      .request = mflags & KBUS_FLAG_WANT_A_REPLY,
                      .all_or_wait = mflags & KBUS_FLAG_ALL_OR_WAIT };

        WireMsg m;
        if (codec_msg_decode(s->msg, len, &m) == 0)
                trace(s, "  ksock %u: send %.*s flags %#x to %u irt %u (frame flags %#x)\n",
                      wc->id, (int)m.name_len, m.name, m.flags, m.to, m.irt_serial, fflags);
        buf_consume(&s->frame, buf_len(&s->frame));
        world_frame_encode(&s->frame, FRAME_SEND, fflags, s->msg, len);
        peer_expect(s, wc, p);
        if (p.all_or_wait && (fflags & FRAME_SEND_WAIT) && !(fflags & FRAME_SEND_POST))
                peer_of(s, wc)->blocked = true; /* until its RESULT comes */
        world_feed(wc, buf_head(&s->frame), buf_len(&s->frame));
}

static void step_send(Script *s)
{
        WorldConn *wc = pick_sender(s);
        uint8_t nb = next_byte(s), fb = next_byte(s), sb = next_byte(s), tb = next_byte(s);
        WorldConn *to = tb & 1 ? pick(s, tb >> 1, true) : NULL;

        if (!wc)
                return;
        uint16_t fflags = (fb & 0x10 ? FRAME_SEND_WAIT : 0) | (fb & 0x20 ? FRAME_SEND_POST : 0);
        uint32_t mflags = msg_flags(fb);
        size_t len = encode_msg(s, script_names[nb % SCRIPT_NNAMES], mflags, to ? to->id : 0,
                                0, script_sizes[sb % 8]);
        feed_send(s, wc, fflags, mflags, len);
}

/* An untaken message of @pe chosen by @b, with @want_request. */
static Recv *pick_recv(Peer *pe, uint8_t b, bool want_request)
{
        size_t n = 0;

        for (size_t i = 0; i < pe->nrecv; i++)
                n += want_request ? pe->recv[i].you_reply && !pe->recv[i].replied
                                  : !pe->recv[i].taken && !pe->recv[i].dropped;
        if (n == 0)
                return NULL;
        n = b % n;
        for (size_t i = 0; i < pe->nrecv; i++) {
                Recv *r = &pe->recv[i];
                bool ok = want_request ? r->you_reply && !r->replied : !r->taken && !r->dropped;
                if (ok && n-- == 0)
                        return r;
        }
        return NULL;
}

static void step_reply(Script *s)
{
        WorldConn *wc = pick_sender(s);
        uint8_t pb = next_byte(s), fb = next_byte(s), sb = next_byte(s);

        if (!wc)
                return;
        Recv *r = pick_recv(peer_of(s, wc), pb, true);
        if (!r)
                return;
        r->replied = true;
        uint32_t to = fb & 1 ? r->from + 1 : r->from; /* sometimes the wrong requester */
        size_t len = encode_msg(s, r->name[0] ? r->name : "$.a", msg_flags(fb >> 1) & ~1u, to,
                                fb & 2 ? r->serial + 1 : r->serial, script_sizes[sb % 8]);
        feed_send(s, wc, fb & 0x40 ? FRAME_SEND_POST : 0, 0, len);
}

/* The application takes @r, as libkbus tells kbusd (take log, or TAKE frames). */
static void take(Script *s, WorldConn *wc, Recv *r)
{
        Peer *pe = peer_of(s, wc);
        KbusShm *page = wc->page;
        uint8_t body[4];

        r->taken = true;
        pe->untaken--;
        trace(s, "  ksock %u: take %llu\n", wc->id, (unsigned long long)r->seq);
        if (!pe->shm || !page) {
                put_le32(body, (uint32_t)r->seq);
                feed_frame(s, wc, FRAME_TAKE, 0, body, sizeof(body), 0);
                return;
        }
        if (page->consumed > pe->taken)
                return (void)fail(s, "ksock %u: kbusd read take-log entries never written",
                                  wc->id);
        if (pe->taken - page->consumed >= SHM_LOG_LEN)
                feed_frame(s, wc, FRAME_WAKE, FRAME_WAKE_SYNC, NULL, 0, EXPECT_ANSWER);
        if (wc->gone)
                return;
        if (pe->taken - page->consumed >= SHM_LOG_LEN)
                return (void)fail(s, "ksock %u: its take log stays full after a WAKE (libkbus "
                                     "would wait for ever)", wc->id);
        page->log[pe->taken & (SHM_LOG_LEN - 1)] = (uint32_t)r->seq;
        page->taken = ++pe->taken;
        if (page->notify) {
                page->notify = 0;
                feed_frame(s, wc, FRAME_WAKE, 0, NULL, 0, 0);
        }
}

static void step_take(Script *s, bool all)
{
        WorldConn *wc = pick(s, next_byte(s), true);
        uint8_t b = next_byte(s);
        Recv *r;

        if (!wc)
                return;
        Peer *pe = peer_of(s, wc);
        do {
                r = pick_recv(pe, all ? 0 : b, false);
                if (r)
                        take(s, wc, r);
        } while (all && r && !wc->gone && !s->failed);
}

static void step_ctl(Script *s)
{
        static const uint32_t args[] = { 0, 1, 2, 3, CTL_ASK, 100, 200, 0xffffffffu };
        WorldConn *wc = pick_sender(s);
        uint8_t ob = next_byte(s), ab = next_byte(s);
        uint8_t body[8];

        if (!wc)
                return;
        uint32_t op = ob % (CTL_OP_MAX + 2), arg = args[ab % 8];
        put_le32(body, op);
        put_le32(body + 4, arg);
        trace(s, "  ksock %u: ctl %u %u\n", wc->id, op, arg);
        peer_expect(s, wc, (Pending){ .type = FRAME_CTL, .expect = EXPECT_ANSWER, .ctl_op = op,
                                      .ctl_arg = arg });
        feed_frame(s, wc, FRAME_CTL, 0, body, sizeof(body), 0);
        Client *c = wc->c;
        if (c && c->greeted) { /* a lowered limit: what is queued drains first */
                uint64_t total = (uint64_t)c->queue.live + inbox_reserved(c);
                Peer *pe = peer_of(s, wc);
                if (total > c->max_messages && total > pe->floor)
                        pe->floor = total;
        }
}

/* WAKE with SYNC: once its NOP comes, kbusd has read the whole take log. */
static void sync_take_log(Script *s, WorldConn *wc)
{
        Peer *pe = peer_of(s, wc);

        feed_frame(s, wc, FRAME_WAKE, FRAME_WAKE_SYNC, NULL, 0, EXPECT_ANSWER);
        if (!wc->gone && wc->page && pe->tracked && wc->page->consumed != pe->taken)
                fail(s, "ksock %u: %llu takes logged, %llu read after a WAKE", wc->id,
                     (unsigned long long)pe->taken, (unsigned long long)wc->page->consumed);
}

static void step_misc(Script *s)
{
        WorldConn *wc = pick_sender(s);
        uint8_t b = next_byte(s), qb = next_byte(s);
        uint8_t what[4];

        if (!wc)
                return;
        switch (b % 4) {
        case 0:
                feed_frame(s, wc, FRAME_POKE, 0, NULL, 0, EXPECT_ANSWER);
                break;
        case 1:
                sync_take_log(s, wc);
                break;
        case 2:
                feed_frame(s, wc, FRAME_DISCARD, 0, NULL, 0, EXPECT_ANSWER);
                break;
        default:
                put_le32(what, qb % 7);
                feed_frame(s, wc, FRAME_QUERY, 0, what, sizeof(what), EXPECT_ANSWER);
        }
}

/* Bytes the peer does not understand: its answers are not followed from now on. */
static void step_raw(Script *s)
{
        WorldConn *wc = pick(s, next_byte(s), false);
        uint8_t bytes[64];
        size_t n = next_byte(s) % sizeof(bytes);

        for (size_t i = 0; i < n; i++)
                bytes[i] = next_byte(s);
        if (!wc || n == 0)
                return;
        peer_of(s, wc)->tracked = false;
        trace(s, "  ksock %u: %zu raw bytes\n", wc->id, n);
        world_feed(wc, bytes, n);
}

/* A send arriving in pieces, with other clients' turns in between. */
static void step_split(Script *s)
{
        WorldConn *wc = pick_sender(s);
        uint8_t nb = next_byte(s), fb = next_byte(s), sb = next_byte(s), cut = next_byte(s);

        if (!wc)
                return;
        uint32_t mflags = msg_flags(fb) & ~KBUS_FLAG_ALL_OR_WAIT;
        size_t len = encode_msg(s, script_names[nb % SCRIPT_NNAMES], mflags, 0, 0,
                                script_sizes[sb % 8]);
        buf_consume(&s->frame, buf_len(&s->frame));
        world_frame_encode(&s->frame, FRAME_SEND, 0, s->msg, len);
        peer_expect(s, wc, (Pending){ .type = FRAME_SEND, .expect = EXPECT_ANSWER,
                                      .request = mflags & KBUS_FLAG_WANT_A_REPLY });
        size_t first = buf_len(&s->frame) * cut / 256;
        world_feed(wc, buf_head(&s->frame), first);
        if (!wc->gone)
                world_feed(wc, buf_head(&s->frame) + first, buf_len(&s->frame) - first);
}

static void step_close(Script *s)
{
        WorldConn *wc = pick(s, next_byte(s), false);
        uint8_t how = next_byte(s);
        uint8_t partial[KBUS_FRAME_HDR_LEN + 4] = { 0 };

        if (!wc)
                return;
        trace(s, "  ksock %u: close%s\n", wc->id, how & 1 ? " mid-frame" : "");
        if (how & 1) { /* vanish mid-frame */
                codec_header_encode(partial, 100 + how, FRAME_SEND, 0);
                world_feed(wc, partial, sizeof(partial));
        }
        if (!wc->gone)
                world_eof(wc);
}

static void step_policy(Script *s)
{
        const char *text = script_policies[next_byte(s) % SCRIPT_NPOLICIES];
        Policy *p;
        char err[256];

        if (text && policy_parse("fuzz.conf", text, WORLD_ADMIN_UID, NULL, &p, err, sizeof(err)) < 0)
                return (void)fail(s, "policy: %s", err);
        if (!text && policy_new_default(WORLD_ADMIN_UID, &p) < 0)
                return (void)fail(s, "out of memory");
        trace(s, "  policy: %s\n", text ? text : "(default)");
        core_set_policy(s->w.core, p);
        world_pump(&s->w);
        s->limits_changed |= text && strstr(text, "limit");
        for (size_t i = 0; i < s->w.nconns; i++)
                s->peers[i].policy_touched = true;
}

static void step(Script *s, uint8_t op)
{
        switch (op % 16) {
        case 0:
        case 1:
                step_connect(s);
                break;
        case 2:
                step_bind(s, FRAME_BIND);
                break;
        case 3:
                step_bind(s, FRAME_UNBIND);
                break;
        case 4:
        case 5:
                step_send(s);
                break;
        case 6:
                step_reply(s);
                break;
        case 7:
        case 8:
                step_take(s, false);
                break;
        case 9:
                step_take(s, true);
                break;
        case 10:
                step_ctl(s);
                break;
        case 11:
                step_misc(s);
                break;
        case 12:
                step_raw(s);
                break;
        case 13:
                step_split(s);
                break;
        case 14:
                if (op & 0x10)
                        step_policy(s);
                else
                        core_sweep(s->w.core), world_pump(&s->w);
                break;
        default:
                step_close(s);
        }
}

/* ---- running a script ---------------------------------------------------------- */

static int script_start(Script *s)
{
        static const uint32_t queue_limits[] = { 2, 3, 5, 100 };
        uint8_t b0 = next_byte(s), b1 = next_byte(s);
        CoreConfig cfg = { .max_messages = queue_limits[b0 & 3],
                           .max_msg_size = b0 & 8 ? 512 : KBUS_MSG_SIZE_DEFAULT,
                           .admin_uid = WORLD_ADMIN_UID };
        const char *text = script_policies[b1 % SCRIPT_NPOLICIES];
        Policy *p = NULL;
        char err[256];

        if (b0 & 4) { /* tight quotas */
                static const uint64_t per_uid[QUOTA_NKINDS] = { 6, 5, 2000, 3, 70000 };
                static const uint64_t total[QUOTA_NKINDS] = { 10, 12, 6000, 5, 140000 };
                for (int k = 0; k < QUOTA_NKINDS; k++) {
                        cfg.limits.per_uid[k] = per_uid[k];
                        cfg.limits.total[k] = total[k];
                        cfg.limits_set[k] = 3;
                }
        }
        if (text && policy_parse("fuzz.conf", text, WORLD_ADMIN_UID, NULL, &p, err, sizeof(err)) < 0)
                return fail(s, "policy: %s", err), -1;
        s->limits_changed = text && strstr(text, "limit");
        if (world_start(&s->w, &cfg, p) < 0)
                return fail(s, "world_start failed"), -1;
        s->w.on_write = peer_read;
        s->w.on_write_ctx = s;
        for (size_t i = 0; i < WORLD_CONNS_MAX; i++)
                s->peers[i].tracked = true;
        return 0;
}

/*
 * Each client with a take log makes kbusd read it; then everyone closes,
 * one by one, with the checks after each: all is settled.
 */
static void script_finish(Script *s)
{
        for (size_t i = 0; i < s->w.nconns && !s->failed; i++) {
                WorldConn *wc = &s->w.conns[i];
                if (!wc->gone && wc->page && !s->peers[i].blocked)
                        sync_take_log(s, wc);
        }
        check_all(s);
        for (size_t i = 0; i < s->w.nconns && !s->failed; i++) {
                if (s->w.conns[i].gone)
                        continue;
                world_eof(&s->w.conns[i]);
                check_all(s);
        }
        if (!s->failed && s->w.core->quota.nusers != 0)
                fail(s, "%zu uids left in the books with no ksock", s->w.core->quota.nusers);
        for (unsigned b = 0; b < s->w.core->buses_top && !s->failed; b++) {
                Bus *bus = s->w.core->buses[b];
                if (bus && (bus->trie.nbindings || bus->nheld || bus->nset_aside || bus->nlost))
                        fail(s, "bus %u: bindings or held sends left with no ksock", b);
        }
}

/**
 * script_run() - run a script against a new core, checking as it goes.
 * @data:    the script
 * @size:    its length
 * @stats:   what was run, filled in
 * @why:     where to say what broke
 * @why_len: its size
 *
 * Return: 0, or -1 if an invariant broke (@why says which, and where).
 */
int script_run(const uint8_t *data, size_t size, ScriptStats *stats, char *why, size_t why_len)
{
        static Script script; /* one at a time; static, so that running many is cheap */
        Script *s = &script;
        int r;

        memset(s, 0, offsetof(Script, w));
        *stats = (ScriptStats){ 0 };
        s->p = data;
        s->end = data + size;
        s->why = why;
        s->why_len = why_len;
        s->stats = stats;
        s->frame = BUF_INIT;
        s->trace = getenv("KBUS_CORE_TRACE") != NULL;
        if (script_start(s) == 0) {
                while (s->p < s->end && stats->steps < SCRIPT_STEPS_MAX && !s->failed) {
                        trace(s, "step %zu\n", stats->steps);
                        step(s, next_byte(s));
                        stats->steps++;
                        if (!s->failed)
                                check_all(s);
                }
                if (!s->failed)
                        script_finish(s);
                if (s->failed) {
                        size_t n = strlen(why);
                        snprintf(why + n, why_len - n, " (at step %zu)", stats->steps);
                }
                s->stopping = true;
                world_stop(&s->w);
        }
        for (size_t i = 0; i < WORLD_CONNS_MAX; i++)
                free(s->peers[i].recv);
        buf_deinit(&s->frame);
        r = s->failed ? -1 : 0;
        return r;
}
