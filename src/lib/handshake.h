/* SPDX-License-Identifier: MPL-2.0 */
/*
 * handshake.h - libkbus internals: connecting to kbusd and the handshake,
 * within a deadline, checking everything kbusd answers.
 */
#ifndef KBUS_LIB_HANDSHAKE_H
#define KBUS_LIB_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

int64_t handshake_now_ms(void);
int handshake_connect(const char *path, int64_t deadline, int *ret_fd);
int handshake_greet(Conn *c, bool rw, int64_t deadline);

#endif
