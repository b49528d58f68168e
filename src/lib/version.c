/* SPDX-License-Identifier: MPL-2.0 */
/*
 * version.c - the version of the libkbus that is loaded.
 */
#include "kbus/version.h"

#include "export.h"

/**
 * kbus_version() - the libkbus version.
 *
 * Return: a static string such as "0.1.0".
 */
KBUS_EXPORT const char *kbus_version(void)
{
        return KBUS_VERSION;
}
