/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ksock.h - libkbus internals: ksock controls that are not exported.
 */
#ifndef KBUS_LIB_KSOCK_H
#define KBUS_LIB_KSOCK_H

#include <stdint.h>

#include "kbus/kbus.h"

int ksock_no_echo(kbus_ksock_t ksock, uint32_t on);
int ksock_watch_listeners(kbus_ksock_t ksock, uint32_t on);
int ksock_unbind_keeping(kbus_ksock_t ksock, const char *name);

#endif
