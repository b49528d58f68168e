/* SPDX-License-Identifier: MPL-2.0 */
/*
 * request.h - what each client request does.
 */
#ifndef KBUS_BROKER_REQUEST_H
#define KBUS_BROKER_REQUEST_H

#include "../proto/codec.h"

struct Client;
struct Binding;

int request_dispatch(struct Client *c, const FrameHdr *h, const uint8_t *body);
void request_remove_binding(struct Client *c, struct Binding *b);
void request_recheck_bindings(struct Client *c);

#endif
