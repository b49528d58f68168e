/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.h - libkbus internals: the introspection queries (SPEC §12), for
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

int kbus_query_bindings(kbus_ksock_t ksock, KbusBindingInfo **ret, size_t *ret_count);
void kbus_query_bindings_free(KbusBindingInfo *b, size_t count);
int kbus_query_stats(kbus_ksock_t ksock, KbusBusStats *ret);
void kbus_query_stats_free(KbusBusStats *s);

#endif
