/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.h - libkbus internals: the introspection queries (semantics §12), for
 * kbus-ctl and the tests.  Not part of the exported API.
 */
#ifndef KBUS_LIB_QUERY_H
#define KBUS_LIB_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "kbus/kbus.h"

typedef struct KbusBindingInfo {
        uint32_t bus, ksock_id, pid, uid, is_replier;
        char *name;
} KbusBindingInfo;

typedef struct KbusKsockStats {
        uint32_t id, pid, uid, queued, max_messages, reserved, unreplied, held, set_aside,
                bindings;
        uint64_t sent, received, missed;
} KbusKsockStats;

typedef struct KbusBusStats {
        uint32_t bus, ksocks, bindings, max_msg_size, held, set_aside, last_serial,
                reporting;
        uint32_t nksocks;
        KbusKsockStats *ksocks_stats;
} KbusBusStats;

/* A question for the policy: may this uid (in these groups) do this? */
typedef struct KbusExplain {
        uint32_t action; /* 0 connect, 1 listen, 2 own, 3 send, 4 set, 5 newbus */
        uint32_t uid, gid;
        const uint32_t *groups;
        uint32_t ngroups;
        const char *name; /* for listen, own and send; else NULL */
} KbusExplain;

/* The quota kinds, in kbusd's order: connections, bindings, queued bytes,
 * requests, bytes of partly received frames. */
#define KBUS_QUOTA_KINDS 5

typedef struct KbusQuotaUser {
        uint32_t uid;
        uint64_t used[KBUS_QUOTA_KINDS], refused[KBUS_QUOTA_KINDS];
} KbusQuotaUser;

typedef struct KbusQuotaStats {
        uint64_t per_uid[KBUS_QUOTA_KINDS], total[KBUS_QUOTA_KINDS];
        uint64_t used[KBUS_QUOTA_KINDS], refused[KBUS_QUOTA_KINDS];
        uint32_t nusers;
        KbusQuotaUser *users;
} KbusQuotaStats;

int kbus_query_bindings(kbus_ksock_t ksock, KbusBindingInfo **ret, size_t *ret_count);
void kbus_query_bindings_free(KbusBindingInfo *b, size_t count);
int kbus_query_stats(kbus_ksock_t ksock, KbusBusStats *ret);
void kbus_query_stats_free(KbusBusStats *s);
int kbus_query_policy(kbus_ksock_t ksock, char **ret);
int kbus_query_version(kbus_ksock_t ksock, char **ret);
int kbus_query_explain(kbus_ksock_t ksock, const KbusExplain *q, uint32_t *ret_deny,
                       char **ret_text);
int kbus_query_users(kbus_ksock_t ksock, KbusQuotaStats *ret);
void kbus_query_users_free(KbusQuotaStats *s);

#endif
