/* SPDX-License-Identifier: MPL-2.0 */
/*
 * common.h - the command line every kbus tool shares: exit statuses, the
 * tool's name, usage errors, numbers, and the --bus option (semantics §17).
 */
#ifndef KBUS_TOOLS_COMMON_H
#define KBUS_TOOLS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kbus/kbus.h"

/* Exit statuses, the same for every tool (documented in each man page). */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* The --bus argument: a bus number, /dev/kbus<N>, or a socket path. */
typedef struct ToolBus {
        uint32_t number;
        const char *path; /* NULL when the bus is given by number */
} ToolBus;

#define TOOL_BUS_INIT { .number = 0, .path = NULL }

void tool_init(const char *name);
const char *tool_name(void);
void tool_print_version(void);
void tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void tool_bad_option(int c, char **argv, const struct option *opts) __attribute__((noreturn));

int tool_parse_bus(const char *arg, ToolBus *ret);
void tool_bus_label(const ToolBus *bus, char *out, size_t outlen);
int tool_timeout_ms(double seconds, bool given);
int tool_open(const ToolBus *bus, int flags, int timeout_ms, kbus_ksock_t *ret);
int tool_peer_cred(const char *path, struct ucred *ret);

int tool_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret);
int tool_parse_seconds(const char *s, double *ret);
void tool_option_bus(const char *arg, ToolBus *ret);
double tool_option_seconds(const char *opt, const char *arg);

#endif
