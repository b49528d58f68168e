/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sockdir.h - where bus sockets live (SPEC §2).
 */
#ifndef KBUS_PROTO_SOCKDIR_H
#define KBUS_PROTO_SOCKDIR_H

#include <stddef.h>

#define KBUS_SOCKET_DIR_ENV "KBUS_SOCKET_DIR"
#define KBUS_RUN_DIR "/run/kbus"

int sockdir_resolve(const char *option, char *out, size_t outlen);
int sockdir_bus_path(const char *dir, unsigned bus, char *out, size_t outlen);
int sockdir_parse_dev_name(const char *name, unsigned *ret_bus);

#endif
