/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table.h - libkbus internals: which file descriptors are ksocks.
 */
#ifndef KBUS_LIB_TABLE_H
#define KBUS_LIB_TABLE_H

#include "conn.h"

int table_add(Conn *c);
Conn *table_get(int fd);
Conn *table_remove(int fd);

#endif
