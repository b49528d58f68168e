/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl-doctor.h - `kbus-ctl doctor`: check a machine for a working kbus.
 */
#ifndef KBUS_TOOLS_CTL_DOCTOR_H
#define KBUS_TOOLS_CTL_DOCTOR_H

#include <stdbool.h>

#include "common.h"

int ctl_doctor(const ToolBus *bus, const char *policy, bool json);

#endif
