/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.c - the introspection queries behind `kbus-ctl bindings` and
 * `kbus-ctl stats` (SPEC §12; the old /proc/kbus/bindings and stats).
 *
 * Answers are a RESULT whose payload is a list of fixed little-endian
 * records, laid out in docs/protocol.md.  A query sees its own bus only.
 */
#include "query.h"

#include <errno.h>

#include "../proto/buf.h"
#include "../proto/codec.h"
#include "client.h"
#include "inbox.h"

typedef struct QueryOut {
        Buf buf;
        int err;
        uint32_t count;
} QueryOut;

static void query_put32(QueryOut *q, uint32_t v)
{
        uint8_t b[4];

        put_le32(b, v);
        if (buf_append(&q->buf, b, 4) < 0)
                q->err = -ENOMEM;
}

static void query_put64(QueryOut *q, uint64_t v)
{
        query_put32(q, (uint32_t)v);
        query_put32(q, (uint32_t)(v >> 32));
}

static void query_binding(Binding *b, void *ctx)
{
        QueryOut *q = ctx;
        Client *c = b->client;
        static const uint8_t zeros[4];
        uint32_t pad = (uint32_t)wire_name_pad(b->name_len);

        query_put32(q, c->bus->number);
        query_put32(q, c->id);
        query_put32(q, (uint32_t)c->pid);
        query_put32(q, (uint32_t)c->uid);
        query_put32(q, b->replier);
        query_put32(q, b->name_len);
        if (buf_append(&q->buf, b->name, b->name_len) < 0 ||
            buf_append(&q->buf, zeros, pad - b->name_len) < 0)
                q->err = -ENOMEM;
        q->count++;
}

static void query_ksock(QueryOut *q, Client *c)
{
        uint32_t nbindings = 0;
        Binding *b;

        TAILQ_FOREACH(b, &c->bindings, client_link)
                nbindings++;
        inbox_reconcile(c);
        query_put32(q, c->id);
        query_put32(q, (uint32_t)c->pid);
        query_put32(q, (uint32_t)c->uid);
        query_put32(q, c->queue.live);
        query_put32(q, c->max_messages);
        query_put32(q, inbox_reserved(c));
        query_put32(q, c->owing.taken);
        query_put32(q, c->held ? 1 : 0);
        query_put32(q, c->set_aside);
        query_put32(q, nbindings);
        query_put64(q, c->nsent);
        query_put64(q, c->nreceived);
        query_put64(q, c->nmissed);
}

static bool query_listed(const Client *c)
{
        return c->greeted && !c->closing;
}

static void query_stats(QueryOut *q, Bus *bus)
{
        uint32_t listed = 0;
        Client *c;

        TAILQ_FOREACH(c, &bus->clients, bus_link)
                listed += query_listed(c);
        query_put32(q, bus->number);
        query_put32(q, listed); /* connections mid-handshake are not ksocks yet */
        query_put32(q, (uint32_t)bus->trie.nbindings);
        query_put32(q, bus->max_msg_size);
        query_put32(q, bus->nheld);
        query_put32(q, bus->nset_aside);
        query_put32(q, bus->last_serial);
        query_put32(q, bus->report_binds);
        TAILQ_FOREACH(c, &bus->clients, bus_link) {
                if (!query_listed(c))
                        continue;
                query_ksock(q, c);
                q->count++;
        }
}

/**
 * query_answer() - answer a QUERY frame.
 * @c:    the asking client
 * @what: QUERY_BINDINGS or QUERY_STATS
 *
 * The payload starts with a u32 record count.
 *
 * Return: 0 (answered, possibly with -EINVAL or -ENOMEM).
 */
int query_answer(Client *c, uint32_t what)
{
        QueryOut q = { .buf = BUF_INIT };

        query_put32(&q, 0); /* the count, filled in below */
        if (what == QUERY_BINDINGS)
                trie_walk(&c->bus->trie, query_binding, &q);
        else if (what == QUERY_STATS)
                query_stats(&q, c->bus);
        else
                q.err = -EINVAL;
        if (q.err == 0) {
                put_le32(buf_head(&q.buf), q.count);
                q.err = client_answer_payload(c, 0, buf_head(&q.buf), buf_len(&q.buf));
        }
        if (q.err < 0)
                client_answer(c, q.err, 0, 0);
        buf_deinit(&q.buf);
        return 0;
}
