/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.c - the introspection queries behind `kbus-ctl bindings` and
 * `kbus-ctl stats` (semantics §12; the old /proc/kbus/bindings and stats).
 *
 * Answers are a RESULT whose payload is a list of fixed little-endian
 * records, laid out in docs/protocol.md.  A query sees its own bus only.
 */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <kbus/version.h>

#include "../proto/buf.h"
#include "../proto/codec.h"
#include "../proto/name.h"
#include "core.h"
#include "client.h"
#include "inbox.h"
#include "request.h"
#include "watch.h"

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

/* The policy in force, as text (`kbus-ctl policy`). */
static void query_policy(QueryOut *q, Client *c)
{
        Core *b = c->bus->core;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f) {
                q->err = -ENOMEM;
                return;
        }
        policy_describe(b->policy, &b->quota.limits, f);
        if (fclose(f) != 0 || buf_append(&q->buf, text, len) < 0)
                q->err = -ENOMEM;
        free(text);
}

/* Decodes the peer and name of an EXPLAIN question; *ret_groups is malloc()ed. */
static int query_explain_args(const uint8_t *p, size_t len, PolicyAction *ret_action,
                              PolicyPeer *peer, gid_t **ret_groups, const char **ret_name,
                              size_t *ret_name_len)
{
        if (len < QUERY_EXPLAIN_FIXED_LEN)
                return -EINVAL;
        uint32_t action = get_le32(p + 4), ngroups = get_le32(p + 16);
        if (action >= POLICY_NACTIONS || ngroups > QUERY_EXPLAIN_GROUPS_MAX ||
            len < QUERY_EXPLAIN_FIXED_LEN + 4ull * ngroups)
                return -EINVAL;
        gid_t *groups = calloc(ngroups ? ngroups : 1, sizeof(*groups));
        if (!groups)
                return -ENOMEM;
        for (uint32_t i = 0; i < ngroups; i++)
                groups[i] = get_le32(p + QUERY_EXPLAIN_FIXED_LEN + 4 * i);
        *peer = (PolicyPeer){ .uid = get_le32(p + 8), .gid = get_le32(p + 12), .groups = groups,
                              .ngroups = ngroups };
        *ret_action = action;
        *ret_groups = groups;
        *ret_name = (const char *)p + QUERY_EXPLAIN_FIXED_LEN + 4 * ngroups;
        *ret_name_len = len - QUERY_EXPLAIN_FIXED_LEN - 4 * ngroups;
        return 0;
}

/* What the policy would decide for someone (`kbus-ctl explain`). */
static void query_explain(QueryOut *q, Client *c, const uint8_t *body, size_t len)
{
        const Policy *p = c->bus->core->policy;
        PolicyAction action;
        PolicyPeer peer;
        PolicyDecision d;
        gid_t *groups = NULL;
        const char *name;
        size_t name_len;
        char text[1400];

        q->err = query_explain_args(body, len, &action, &peer, &groups, &name, &name_len);
        if (q->err < 0)
                return;
        bool named = action == POLICY_LISTEN || action == POLICY_OWN || action == POLICY_SEND;
        if (named)
                q->err = name_errno(name_check(name, name_len, action != POLICY_SEND, NULL));
        else if (name_len)
                q->err = -EINVAL;
        if (q->err == 0) {
                policy_decide(p, &peer, action, c->bus->number, named ? name : NULL, name_len,
                              &d);
                int n = policy_decision_format(p, &d, text, sizeof(text));
                query_put32(q, d.result == 0 ? 0 : 1);
                if (buf_append(&q->buf, text, n < (int)sizeof(text) ? (size_t)n
                                                                    : sizeof(text) - 1) < 0)
                        q->err = -ENOMEM;
        }
        free(groups);
}

static void query_user(const QuotaUser *u, void *ctx)
{
        QueryOut *q = ctx;

        query_put32(q, (uint32_t)u->uid);
        for (QuotaKind k = 0; k < QUOTA_NKINDS; k++) {
                query_put64(q, u->used[k]);
                query_put64(q, u->refused[k]);
        }
        q->count++;
}

/* The quota books: the limits and totals, then every uid's. */
static void query_users(QueryOut *q, Client *c)
{
        const Quota *quota = &c->bus->core->quota;

        query_put32(q, QUOTA_NKINDS);
        for (QuotaKind k = 0; k < QUOTA_NKINDS; k++) {
                query_put64(q, quota->limits.per_uid[k]);
                query_put64(q, quota->limits.total[k]);
                query_put64(q, quota->used[k]);
                query_put64(q, quota->refused[k]);
        }
        size_t at = buf_len(&q->buf);
        query_put32(q, 0); /* the count, filled in below */
        quota_foreach(quota, query_user, q);
        if (q->err == 0)
                put_le32(buf_head(&q->buf) + at, q->count);
}

/**
 * query_answer() - the answer to a QUERY frame, as a RESULT payload.
 * @c:    the asking client
 * @body: the frame body: u32 what (QUERY_*), then its arguments
 * @len:  its length (at least 4)
 * @a:    filled in: the payload, or a status (-EINVAL, -EBADMSG, -ENOMEM ...)
 *
 * Bindings and stats payloads start with a u32 record count; the policy is
 * text; an explanation is a u32 verdict (0 allow, 1 deny) and text.
 */
void query_answer(Client *c, const uint8_t *body, size_t len, Answer *a)
{
        QueryOut q = { .buf = BUF_INIT };
        uint32_t what = get_le32(body);

        if (what == QUERY_BINDINGS || what == QUERY_STATS)
                query_put32(&q, 0); /* the count, filled in below */
        if (what != QUERY_EXPLAIN && len != 4)
                q.err = -EINVAL;
        else if (what == QUERY_BINDINGS) {
                trie_walk(&c->bus->trie, query_binding, &q);
                watch_queried(c);
        }
        else if (what == QUERY_STATS)
                query_stats(&q, c->bus);
        else if (what == QUERY_POLICY)
                query_policy(&q, c);
        else if (what == QUERY_EXPLAIN)
                query_explain(&q, c, body, len);
        else if (what == QUERY_USERS)
                query_users(&q, c);
        else if (what == QUERY_VERSION) {
                if (buf_append(&q.buf, KBUS_VERSION, sizeof(KBUS_VERSION) - 1) < 0)
                        q.err = -ENOMEM;
        } else
                q.err = -EINVAL;
        if (q.err == 0 && (what == QUERY_BINDINGS || what == QUERY_STATS))
                put_le32(buf_head(&q.buf), q.count);
        if (q.err < 0) {
                a->status = q.err;
                buf_deinit(&q.buf);
                return;
        }
        a->payload = q.buf; /* the answer owns it now */
        a->has_payload = true;
}
