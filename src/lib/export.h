/* SPDX-License-Identifier: MPL-2.0 */
/*
 * export.h - marks the functions libkbus.so exports (the rest is hidden).
 */
#ifndef KBUS_LIB_EXPORT_H
#define KBUS_LIB_EXPORT_H

#define KBUS_EXPORT __attribute__((visibility("default")))

#endif
