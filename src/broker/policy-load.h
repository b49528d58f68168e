/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy-load.h - reading the policy file (kbus-policy(5)).
 */
#ifndef KBUS_BROKER_POLICY_LOAD_H
#define KBUS_BROKER_POLICY_LOAD_H

#include <stddef.h>
#include <sys/types.h>

#include "../core/policy.h"

#define KBUS_POLICY_DEFAULT "/etc/kbus/policy.conf"

extern const PolicyNames policy_system_names;

int policy_load(const char *path, uid_t admin_uid, Policy **ret, char *err, size_t errlen);

#endif
