/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libkbus/limpet.h - the original include path of the Limpet API, for
 * programs ported unchanged (kbus-compat.pc; docs/compat.md).  The API
 * itself is <kbus/limpet.h>.
 */
#ifndef KBUS_COMPAT_LIBKBUS_LIMPET_H
#define KBUS_COMPAT_LIBKBUS_LIMPET_H

#include "kbus.h"
#include <kbus/limpet.h>

#endif
