/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.c - libkbus internals: the introspection queries (semantics §12).
 *
 * Sends QUERY and decodes the records of docs/protocol.md, checking every
 * length against what arrived: a short or inconsistent payload, a count of
 * records that cannot fit it, or a name longer than a name can be is
 * -EPROTO, and nothing is allocated before its size has been checked.  Used by kbus-ctl and
 * the tests; hidden in libkbus.so (only kbus_* names in the public header
 * are exported, and these are not in it).
 */
#include "query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/codec.h"
#include "conn.h"
#include "table.h"

typedef struct Reader {
        const uint8_t *p;
        size_t left;
        int err;
} Reader;

static uint32_t rd32(Reader *r)
{
        if (r->left < 4) {
                r->err = -EPROTO;
                return 0;
        }
        uint32_t v = get_le32(r->p);
        r->p += 4;
        r->left -= 4;
        return v;
}

static uint64_t rd64(Reader *r)
{
        uint64_t lo = rd32(r);

        return lo | (uint64_t)rd32(r) << 32;
}

/* Asks QUERY @what, with @args (@len bytes) after it. */
static int query_fetch_args(kbus_ksock_t ksock, uint32_t what, const void *args, size_t len,
                            Reader *rd)
{
        Conn *c = table_get(ksock);
        uint8_t body[4];
        Result res;

        if (!c)
                return -EBADF;
        put_le32(body, what);
        int r = conn_request(c, FRAME_QUERY, 0, body, sizeof(body), args, len, &res);
        conn_keep_readable(c);
        if (r < 0 || res.status < 0)
                return r < 0 ? r : res.status;
        if (res.value0 != buf_len(&c->payload))
                return -EPROTO; /* value0 is the payload's length */
        *rd = (Reader){ .p = buf_head(&c->payload), .left = buf_len(&c->payload) };
        return 0;
}

static int query_fetch(kbus_ksock_t ksock, uint32_t what, Reader *rd)
{
        return query_fetch_args(ksock, what, NULL, 0, rd);
}

/* The rest of the payload as a NUL-terminated string. */
static int query_text(Reader *rd, char **ret)
{
        char *text = strndup((const char *)rd->p, rd->left);

        if (!text)
                return -ENOMEM;
        if (strlen(text) != rd->left) {
                free(text);
                return -EPROTO;
        }
        *ret = text;
        return 0;
}

static void query_binding(Reader *rd, KbusBindingInfo *b)
{
        b->bus = rd32(rd);
        b->ksock_id = rd32(rd);
        b->pid = rd32(rd);
        b->uid = rd32(rd);
        b->is_replier = rd32(rd);
        uint32_t len = rd32(rd);
        uint32_t pad = (uint32_t)wire_name_pad(len);
        if (rd->err || len > KBUS_NAME_LEN_MAX || rd->left < pad) {
                rd->err = -EPROTO;
                return;
        }
        b->name = strndup((const char *)rd->p, len);
        if (!b->name)
                rd->err = -ENOMEM;
        rd->p += pad;
        rd->left -= pad;
}

/**
 * kbus_query_bindings() - every binding on the ksock's bus.
 * @ksock:     the ksock
 * @ret:       a malloc()ed array (free with kbus_query_bindings_free())
 * @ret_count: its length
 *
 * Return: 0, or -EBADF, -EPROTO, -ENOMEM, -ECONNRESET.
 */
int kbus_query_bindings(kbus_ksock_t ksock, KbusBindingInfo **ret, size_t *ret_count)
{
        Reader rd;
        int r = query_fetch(ksock, QUERY_BINDINGS, &rd);

        if (r < 0)
                return r;
        uint32_t n = rd32(&rd);
        if (rd.err || n > rd.left / 24)
                return -EPROTO;
        KbusBindingInfo *b = calloc(n ? n : 1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (uint32_t i = 0; i < n && !rd.err; i++)
                query_binding(&rd, &b[i]);
        if (rd.err) {
                kbus_query_bindings_free(b, n);
                return rd.err;
        }
        *ret = b;
        *ret_count = n;
        return 0;
}

/**
 * kbus_query_bindings_free() - free what kbus_query_bindings() returned.
 * @b:     the array, or NULL
 * @count: its length
 */
void kbus_query_bindings_free(KbusBindingInfo *b, size_t count)
{
        for (size_t i = 0; b && i < count; i++)
                free(b[i].name);
        free(b);
}

static void query_ksock(Reader *rd, KbusKsockStats *k)
{
        k->id = rd32(rd);
        k->pid = rd32(rd);
        k->uid = rd32(rd);
        k->queued = rd32(rd);
        k->max_messages = rd32(rd);
        k->reserved = rd32(rd);
        k->unreplied = rd32(rd);
        k->held = rd32(rd);
        k->set_aside = rd32(rd);
        k->bindings = rd32(rd);
        k->sent = rd64(rd);
        k->received = rd64(rd);
        k->missed = rd64(rd);
}

/**
 * kbus_query_stats() - the counters of the ksock's bus and of every ksock on it.
 * @ksock: the ksock
 * @ret:   filled in (free with kbus_query_stats_free())
 *
 * Return: 0, or -EBADF, -EPROTO, -ENOMEM, -ECONNRESET.
 */
int kbus_query_stats(kbus_ksock_t ksock, KbusBusStats *ret)
{
        Reader rd;
        KbusBusStats s = { 0 };
        int r = query_fetch(ksock, QUERY_STATS, &rd);

        if (r < 0)
                return r;
        s.nksocks = rd32(&rd);
        s.bus = rd32(&rd);
        s.ksocks = rd32(&rd);
        s.bindings = rd32(&rd);
        s.max_msg_size = rd32(&rd);
        s.held = rd32(&rd);
        s.set_aside = rd32(&rd);
        s.last_serial = rd32(&rd);
        s.reporting = rd32(&rd);
        if (rd.err || s.nksocks > rd.left / 64)
                return -EPROTO;
        s.ksocks_stats = calloc(s.nksocks ? s.nksocks : 1, sizeof(*s.ksocks_stats));
        if (!s.ksocks_stats)
                return -ENOMEM;
        for (uint32_t i = 0; i < s.nksocks; i++)
                query_ksock(&rd, &s.ksocks_stats[i]);
        if (rd.err) {
                kbus_query_stats_free(&s);
                return rd.err;
        }
        *ret = s;
        return 0;
}

/**
 * kbus_query_stats_free() - free what kbus_query_stats() allocated.
 * @s: the stats
 */
void kbus_query_stats_free(KbusBusStats *s)
{
        free(s->ksocks_stats);
        s->ksocks_stats = NULL;
}

/**
 * kbus_query_policy() - the policy in force on the ksock's bus, as text.
 * @ksock: the ksock
 * @ret:   a malloc()ed string
 *
 * Return: 0, or -EBADF, -EPROTO, -ENOMEM, -ECONNRESET.
 */
int kbus_query_policy(kbus_ksock_t ksock, char **ret)
{
        Reader rd;
        int r = query_fetch(ksock, QUERY_POLICY, &rd);

        return r < 0 ? r : query_text(&rd, ret);
}

/**
 * kbus_query_version() - the version of the kbusd serving the ksock.
 * @ksock: the ksock
 * @ret:   a malloc()ed string such as "0.1.0"
 *
 * Return: 0, or -EINVAL (a kbusd older than this query), -EBADF, -EPROTO,
 * -ENOMEM, -ECONNRESET.
 */
int kbus_query_version(kbus_ksock_t ksock, char **ret)
{
        Reader rd;
        int r = query_fetch(ksock, QUERY_VERSION, &rd);

        return r < 0 ? r : query_text(&rd, ret);
}

/**
 * kbus_query_explain() - what the policy decides for someone.
 * @ksock:    the ksock (the question is about its bus)
 * @q:        who, which action and which name
 * @ret_deny: 0 if allowed, 1 if denied
 * @ret_text: the decision and the rule that made it (malloc()ed)
 *
 * Return: 0, or -EINVAL (a bad action or name), -EBADMSG, -ENAMETOOLONG,
 * -EBADF, -EPROTO, -ENOMEM, -ECONNRESET.
 */
int kbus_query_explain(kbus_ksock_t ksock, const KbusExplain *q, uint32_t *ret_deny,
                       char **ret_text)
{
        size_t name_len = q->name ? strlen(q->name) : 0;
        size_t len = QUERY_EXPLAIN_FIXED_LEN - 4 + 4 * q->ngroups + name_len;
        uint8_t *args;
        Reader rd;

        if (q->ngroups > QUERY_EXPLAIN_GROUPS_MAX)
                return -EINVAL;
        args = malloc(len);
        if (!args)
                return -ENOMEM;
        put_le32(args, q->action);
        put_le32(args + 4, q->uid);
        put_le32(args + 8, q->gid);
        put_le32(args + 12, q->ngroups);
        for (uint32_t i = 0; i < q->ngroups; i++)
                put_le32(args + 16 + 4 * i, q->groups[i]);
        if (name_len)
                memcpy(args + 16 + 4 * q->ngroups, q->name, name_len);
        int r = query_fetch_args(ksock, QUERY_EXPLAIN, args, len, &rd);
        free(args);
        if (r < 0)
                return r;
        *ret_deny = rd32(&rd);
        if (rd.err || *ret_deny > 1)
                return -EPROTO;
        return query_text(&rd, ret_text);
}

/**
 * kbus_query_users() - the quota limits, totals and every uid's books.
 * @ksock: the ksock
 * @ret:   filled in (free with kbus_query_users_free())
 *
 * Return: 0, or -EBADF, -EPROTO, -ENOMEM, -ECONNRESET.
 */
int kbus_query_users(kbus_ksock_t ksock, KbusQuotaStats *ret)
{
        KbusQuotaStats s = { 0 };
        Reader rd;
        int r = query_fetch(ksock, QUERY_USERS, &rd);

        if (r < 0)
                return r;
        if (rd32(&rd) != KBUS_QUOTA_KINDS || rd.err)
                return -EPROTO;
        for (unsigned k = 0; k < KBUS_QUOTA_KINDS; k++) {
                s.per_uid[k] = rd64(&rd);
                s.total[k] = rd64(&rd);
                s.used[k] = rd64(&rd);
                s.refused[k] = rd64(&rd);
        }
        s.nusers = rd32(&rd);
        if (rd.err || s.nusers > rd.left / (4 + 16 * KBUS_QUOTA_KINDS))
                return -EPROTO;
        s.users = calloc(s.nusers ? s.nusers : 1, sizeof(*s.users));
        if (!s.users)
                return -ENOMEM;
        for (uint32_t i = 0; i < s.nusers; i++) {
                s.users[i].uid = rd32(&rd);
                for (unsigned k = 0; k < KBUS_QUOTA_KINDS; k++) {
                        s.users[i].used[k] = rd64(&rd);
                        s.users[i].refused[k] = rd64(&rd);
                }
        }
        if (rd.err) {
                kbus_query_users_free(&s);
                return rd.err;
        }
        *ret = s;
        return 0;
}

/**
 * kbus_query_users_free() - free what kbus_query_users() allocated.
 * @s: the books
 */
void kbus_query_users_free(KbusQuotaStats *s)
{
        free(s->users);
        s->users = NULL;
}
