/* SPDX-License-Identifier: MPL-2.0 */
/*
 * quota.h - what each uid, and everyone together, may hold in kbusd.
 */
#ifndef KBUS_CORE_QUOTA_H
#define KBUS_CORE_QUOTA_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum QuotaKind {
        QUOTA_CONNECTIONS = 0,   /* ksocks, counting those mid-handshake */
        QUOTA_BINDINGS = 1,
        QUOTA_QUEUED_BYTES = 2,  /* message bytes queued, charged to the reader */
        QUOTA_REQUESTS = 3,      /* requests awaiting a reply, charged to the requester */
        QUOTA_PARTIAL_BYTES = 4, /* declared bytes of frames not yet fully received */
        QUOTA_NKINDS = 5,
} QuotaKind;

typedef struct QuotaLimits {
        uint64_t per_uid[QUOTA_NKINDS];
        uint64_t total[QUOTA_NKINDS];
} QuotaLimits;

struct Quota;

/* What one uid holds; lives while the uid has a connection or is charged for something. */
typedef struct QuotaUser {
        struct Quota *quota;
        struct QuotaUser *next; /* hash chain */
        uid_t uid;
        uint32_t refs;
        uint64_t used[QUOTA_NKINDS];
        uint64_t refused[QUOTA_NKINDS];
} QuotaUser;

typedef struct Quota {
        QuotaLimits limits;
        uint64_t used[QUOTA_NKINDS];
        uint64_t refused[QUOTA_NKINDS];
        QuotaUser **table;
        size_t nbuckets;
        size_t nusers;
} Quota;

/* Conditions quota_charge() reports; quota_errno() maps them. */
enum {
        QUOTA_E_USER = 1,  /* the uid's share is used up: EDQUOT */
        QUOTA_E_TOTAL = 2, /* kbusd's total is used up: ENOBUFS */
};

void quota_limits_default(QuotaLimits *l);
int quota_limit_parse(const char *name, const char *value, QuotaKind *ret_kind,
                      bool *ret_total, uint64_t *ret_value, const char **ret_why);
const char *quota_kind_name(QuotaKind k);

void quota_init(Quota *q, const QuotaLimits *limits);
void quota_deinit(Quota *q);
int quota_user_ref(Quota *q, uid_t uid, QuotaUser **ret);
QuotaUser *quota_user_unref(QuotaUser *u);
int quota_charge(QuotaUser *u, QuotaKind k, uint64_t n);
int quota_errno(int r);

typedef void (*QuotaVisit)(const QuotaUser *u, void *ctx);
void quota_foreach(const Quota *q, QuotaVisit fn, void *ctx);

/*
 * The three below run for every message routed, so they are inline.
 */

/* Charges @n of @k to @u whatever the limits say (a charge moving, or one already checked). */
static inline void quota_force(QuotaUser *u, QuotaKind k, uint64_t n)
{
        u->used[k] += n;
        u->quota->used[k] += n;
}

/* Gives back @n of @k charged to @u (no more than was charged). */
static inline void quota_release(QuotaUser *u, QuotaKind k, uint64_t n)
{
        assert(u->used[k] >= n && u->quota->used[k] >= n);
        u->used[k] -= n;
        u->quota->used[k] -= n;
}

/* Whether @u, or kbusd as a whole, has used all of @k (queued bytes make queues full). */
static inline bool quota_is_spent(const QuotaUser *u, QuotaKind k)
{
        const struct Quota *q = u->quota;

        return u->used[k] >= q->limits.per_uid[k] || q->used[k] >= q->limits.total[k];
}

#endif
