/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table.h - an aligned text table (kbus-ctl).
 */
#ifndef KBUS_TOOLS_TABLE_H
#define KBUS_TOOLS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Table Table;

int table_new(Table **ret, size_t ncols, const char *const *headers, uint32_t right_aligned);
Table *table_free(Table *t);
int table_cell(Table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(const Table *t, FILE *f);

#endif
