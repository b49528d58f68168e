/* SPDX-License-Identifier: MPL-2.0 */
/*
 * quota.c - what each uid, and everyone together, may hold in kbusd.
 *
 * Every resource a client can make kbusd keep is charged to a uid, and
 * counted twice: against that uid's share and against kbusd's total.  A
 * charge that would pass either limit is refused and counted as refused, so
 * one user who misbehaves meets a clear error (EDQUOT for its own share,
 * ENOBUFS when kbusd as a whole is full) while everyone else is served, and
 * kbusd's memory stays bounded by the limits.
 *
 * Who pays: connections, bindings and partly received frames are charged to
 * the client's uid; queued message bytes to the uid that must read them;
 * an outstanding request to its requester, and to its replier once the
 * requester has gone (the replier alone can then end it, by replying or
 * closing).  A QuotaUser lives while one of its connections does; every
 * charge is released before the last connection of its uid is freed.
 *
 * Pure bookkeeping: no I/O, no logging.
 */
#include "quota.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_BUCKETS_MIN 64u

static const char *const quota_names[QUOTA_NKINDS] = {
        [QUOTA_CONNECTIONS] = "connections",   [QUOTA_BINDINGS] = "bindings",
        [QUOTA_QUEUED_BYTES] = "queued-bytes", [QUOTA_REQUESTS] = "requests",
        [QUOTA_PARTIAL_BYTES] = "partial-bytes",
};

/*
 * Far above what an ordinary program holds, low enough that one uid cannot
 * take kbusd's memory: at worst about 160 MB of connections, 16 MB of
 * bindings, 128 MB of queued messages, 8 MB of requests and 64 MB of frames
 * in flight per uid.
 */
static const QuotaLimits quota_defaults = {
        .per_uid = {
                [QUOTA_CONNECTIONS] = 16384,
                [QUOTA_BINDINGS] = 65536,
                [QUOTA_QUEUED_BYTES] = 128ull << 20,
                [QUOTA_REQUESTS] = 16384,
                [QUOTA_PARTIAL_BYTES] = 64ull << 20,
        },
        .total = {
                [QUOTA_CONNECTIONS] = 65536,
                [QUOTA_BINDINGS] = 524288,
                [QUOTA_QUEUED_BYTES] = 1024ull << 20,
                [QUOTA_REQUESTS] = 131072,
                [QUOTA_PARTIAL_BYTES] = 256ull << 20,
        },
};

/**
 * quota_limits_default() - the limits kbusd starts with.
 * @l: filled in
 */
void quota_limits_default(QuotaLimits *l)
{
        *l = quota_defaults;
}

/**
 * quota_kind_name() - the name of a kind in limits and statistics.
 * @k: the kind
 *
 * Return: e.g. "queued-bytes".
 */
const char *quota_kind_name(QuotaKind k)
{
        return k < QUOTA_NKINDS ? quota_names[k] : "?";
}

/* A number with an optional K, M or G suffix (powers of 1024). */
static int quota_number(const char *s, uint64_t *ret)
{
        char *end;
        uint64_t v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        unsigned shift = 0;
        if (*end == 'K' || *end == 'k')
                shift = 10;
        else if (*end == 'M' || *end == 'm')
                shift = 20;
        else if (*end == 'G' || *end == 'g')
                shift = 30;
        if (shift)
                end++;
        if (*end || v > (UINT64_MAX >> shift))
                return -EINVAL;
        *ret = v << shift;
        return 0;
}

/**
 * quota_limit_parse() - read one limit, as the policy file and the command
 * line give it: "<kind>-per-uid" or "<kind>-total", and a value.
 * @name:      e.g. "queued-bytes-per-uid"
 * @value:     a number, with K, M or G for bytes
 * @ret_kind:  which kind
 * @ret_total: true for the total, false for the per-uid share
 * @ret_value: the value
 * @ret_why:   on error, what was wrong
 *
 * Return: 0, or -EINVAL.
 */
int quota_limit_parse(const char *name, const char *value, QuotaKind *ret_kind,
                      bool *ret_total, uint64_t *ret_value, const char **ret_why)
{
        static const char per_uid[] = "-per-uid", total[] = "-total";

        for (QuotaKind k = 0; k < QUOTA_NKINDS; k++) {
                size_t n = strlen(quota_names[k]);
                if (strncmp(name, quota_names[k], n) != 0)
                        continue;
                bool is_total = strcmp(name + n, total) == 0;
                if (!is_total && strcmp(name + n, per_uid) != 0)
                        continue;
                if (quota_number(value, ret_value) < 0 || *ret_value == 0) {
                        *ret_why = "a limit is a positive number (K, M or G may follow)";
                        return -EINVAL;
                }
                *ret_kind = k;
                *ret_total = is_total;
                return 0;
        }
        *ret_why = "unknown limit (connections, bindings, queued-bytes, requests or "
                   "partial-bytes, then -per-uid or -total)";
        return -EINVAL;
}

/**
 * quota_init() - empty books.
 * @q:      the books
 * @limits: the limits (copied; kbusd may change q->limits later)
 */
void quota_init(Quota *q, const QuotaLimits *limits)
{
        memset(q, 0, sizeof(*q));
        q->limits = *limits;
}

/**
 * quota_deinit() - free the books; every user must be gone.
 * @q: the books
 */
void quota_deinit(Quota *q)
{
        assert(q->nusers == 0);
        free(q->table);
        q->table = NULL;
        q->nbuckets = 0;
}

static size_t quota_bucket(const Quota *q, uid_t uid)
{
        return ((uint64_t)uid * 0x9e3779b97f4a7c15ull >> 32) & (q->nbuckets - 1);
}

static int quota_grow(Quota *q)
{
        size_t n = q->nbuckets ? q->nbuckets * 2 : QUOTA_BUCKETS_MIN;
        QuotaUser **table = calloc(n, sizeof(*table));
        QuotaUser **old = q->table;
        size_t old_n = q->nbuckets;

        if (!table)
                return -ENOMEM;
        q->table = table;
        q->nbuckets = n;
        for (size_t i = 0; i < old_n; i++) {
                QuotaUser *u, *next;
                for (u = old[i]; u; u = next) {
                        next = u->next;
                        size_t b = quota_bucket(q, u->uid);
                        u->next = table[b];
                        table[b] = u;
                }
        }
        free(old);
        return 0;
}

/**
 * quota_user_ref() - the books of @uid, made if it has none; the caller
 * holds a reference until quota_user_unref().
 * @q:   the books
 * @uid: the uid
 * @ret: its user
 *
 * Return: 0, or -ENOMEM.
 */
int quota_user_ref(Quota *q, uid_t uid, QuotaUser **ret)
{
        QuotaUser *u;

        if (q->nbuckets) {
                for (u = q->table[quota_bucket(q, uid)]; u; u = u->next) {
                        if (u->uid == uid) {
                                u->refs++;
                                *ret = u;
                                return 0;
                        }
                }
        }
        if (q->nusers >= q->nbuckets && quota_grow(q) < 0)
                return -ENOMEM;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->quota = q;
        u->uid = uid;
        u->refs = 1;
        size_t b = quota_bucket(q, uid);
        u->next = q->table[b];
        q->table[b] = u;
        q->nusers++;
        *ret = u;
        return 0;
}

/**
 * quota_user_unref() - drop a reference; the last frees the user, whose
 * charges must all have been released.
 * @u: the user, or NULL
 *
 * Return: NULL.
 */
QuotaUser *quota_user_unref(QuotaUser *u)
{
        if (!u || --u->refs > 0)
                return NULL;
        Quota *q = u->quota;
        QuotaUser **p = &q->table[quota_bucket(q, u->uid)];
        while (*p != u)
                p = &(*p)->next;
        *p = u->next;
        for (QuotaKind k = 0; k < QUOTA_NKINDS; k++)
                assert(u->used[k] == 0);
        q->nusers--;
        free(u);
        return NULL;
}

/**
 * quota_charge() - charge @n of @k to @u, if both limits allow it.
 * @u: the user
 * @k: the kind
 * @n: how much
 *
 * Return: 0 (charged); QUOTA_E_USER or QUOTA_E_TOTAL (refused, nothing
 * charged, the refusal counted).
 */
int quota_charge(QuotaUser *u, QuotaKind k, uint64_t n)
{
        Quota *q = u->quota;
        int r = 0;

        if (n > q->limits.per_uid[k] || u->used[k] > q->limits.per_uid[k] - n)
                r = QUOTA_E_USER;
        else if (n > q->limits.total[k] || q->used[k] > q->limits.total[k] - n)
                r = QUOTA_E_TOTAL;
        if (r) {
                u->refused[k]++;
                q->refused[k]++;
                return r;
        }
        u->used[k] += n;
        q->used[k] += n;
        return 0;
}

/**
 * quota_errno() - the errno a refused charge is reported with.
 * @r: a quota_charge() result
 *
 * Return: 0, -EDQUOT (the uid's share) or -ENOBUFS (kbusd's total).
 */
int quota_errno(int r)
{
        if (r == QUOTA_E_USER)
                return -EDQUOT;
        return r ? -ENOBUFS : 0;
}

/**
 * quota_foreach() - visit every user, in no particular order.
 * @q:   the books
 * @fn:  called for each
 * @ctx: passed to @fn
 */
void quota_foreach(const Quota *q, QuotaVisit fn, void *ctx)
{
        for (size_t i = 0; i < q->nbuckets; i++)
                for (const QuotaUser *u = q->table[i]; u; u = u->next)
                        fn(u, ctx);
}
