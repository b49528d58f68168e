/* SPDX-License-Identifier: MPL-2.0 */
/*
 * query.h - the introspection queries (semantics §12), the policy and the quotas.
 */
#ifndef KBUS_CORE_QUERY_H
#define KBUS_CORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct Client;

struct Answer;

void query_answer(struct Client *c, const uint8_t *body, size_t len, struct Answer *a);

#endif
