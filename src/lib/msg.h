/* SPDX-License-Identifier: MPL-2.0 */
/*
 * msg.h - libkbus internals: converting between kbus_message_t and the wire.
 */
#ifndef KBUS_LIB_MSG_H
#define KBUS_LIB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/codec.h"
#include "kbus/kbus.h"

int msg_to_wire(const kbus_message_t *msg, WireMsg *ret);
int msg_check(const WireMsg *w, int allow_reply);
int msg_from_wire(const WireMsg *w, uint32_t extra_flags, kbus_message_t **ret);
size_t msg_entire_size(uint32_t name_len, uint32_t data_len);

#endif
