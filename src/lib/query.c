/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.c - libkbus internals: the introspection queries (SPEC §12).
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

static int query_fetch(kbus_ksock_t ksock, uint32_t what, Reader *rd)
{
        Conn *c = table_get(ksock);
        uint8_t body[4];
        Result res;

        if (!c)
                return -EBADF;
        put_le32(body, what);
        int r = conn_request(c, FRAME_QUERY, 0, body, sizeof(body), NULL, 0, &res);
        conn_keep_readable(c);
        if (r < 0 || res.status < 0)
                return r < 0 ? r : res.status;
        if (res.value0 != buf_len(&c->payload))
                return -EPROTO; /* value0 is the payload's length */
        *rd = (Reader){ .p = buf_head(&c->payload), .left = buf_len(&c->payload) };
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
