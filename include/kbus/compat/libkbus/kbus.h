/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libkbus/kbus.h - the original libkbus header path, for KBUS programs that
 * build unchanged with `pkg-config --cflags --libs kbus-compat`: the kbus
 * API (<kbus/kbus.h>), the original's layout header, its typedefs, and
 * the system headers the original brought in, which its programs rely on.
 * New programs include <kbus/kbus.h> instead, which brings in nothing.
 */
#ifndef KBUS_COMPAT_LIBKBUS_KBUS_H
#define KBUS_COMPAT_LIBKBUS_KBUS_H

#include "linux/kbus_defns.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct kbus_bind_request kbus_bind_request_t;
typedef struct kbus_bind_query kbus_bind_query_t;

#endif
