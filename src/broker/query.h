/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.h - the introspection queries (SPEC §12).
 */
#ifndef KBUS_BROKER_QUERY_H
#define KBUS_BROKER_QUERY_H

#include <stdint.h>

struct Client;

int query_answer(struct Client *c, uint32_t what);

#endif
