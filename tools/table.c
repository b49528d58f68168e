/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table.c - an aligned text table (kbus-ctl).
 *
 * Cells are added left to right, row after row; the header is row 0.
 * Columns are separated by two spaces and as wide as their widest cell;
 * numeric columns may be right-aligned; the last column is not padded, so
 * no line ends in spaces.
 */
#include "table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct Table {
        size_t ncols;
        size_t ncells, cap;
        char **cells;
        uint32_t right; /* bit i: column i is right-aligned */
};

/**
 * table_new() - a table with a header row.
 * @ret:           the table
 * @ncols:         the number of columns (at most 32)
 * @headers:       @ncols column titles
 * @right_aligned: bit i set: column i is right-aligned
 *
 * Return: 0, or -EINVAL, -ENOMEM.
 */
int table_new(Table **ret, size_t ncols, const char *const *headers, uint32_t right_aligned)
{
        Table *t;

        if (ncols == 0 || ncols > 32)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->ncols = ncols;
        t->right = right_aligned;
        for (size_t i = 0; i < ncols; i++) {
                if (table_cell(t, "%s", headers[i]) < 0) {
                        table_free(t);
                        return -ENOMEM;
                }
        }
        *ret = t;
        return 0;
}

/**
 * table_free() - free a table.
 * @t: the table, or NULL
 *
 * Return: NULL.
 */
Table *table_free(Table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->ncells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

/**
 * table_cell() - add the next cell.
 * @t:   the table
 * @fmt: printf() format of its text
 *
 * Return: 0, or -ENOMEM.
 */
int table_cell(Table *t, const char *fmt, ...)
{
        va_list ap;
        char *s;

        if (t->ncells == t->cap) {
                size_t ncap = t->cap ? t->cap * 2 : 64;
                char **p = realloc(t->cells, ncap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                t->cells = p;
                t->cap = ncap;
        }
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        t->cells[t->ncells++] = s;
        return 0;
}

static size_t table_width(const Table *t, size_t col)
{
        size_t w = 0;

        for (size_t i = col; i < t->ncells; i += t->ncols) {
                size_t len = strlen(t->cells[i]);
                w = len > w ? len : w;
        }
        return w;
}

/**
 * table_print() - print the table, header first.
 * @t: the table
 * @f: where to print
 */
void table_print(const Table *t, FILE *f)
{
        size_t widths[32];

        for (size_t c = 0; c < t->ncols; c++)
                widths[c] = table_width(t, c);
        for (size_t i = 0; i < t->ncells; i++) {
                size_t c = i % t->ncols;
                bool last = c == t->ncols - 1 || i == t->ncells - 1;
                int w = (int)widths[c];
                if (t->right & (1u << c))
                        fprintf(f, "%*s", w, t->cells[i]);
                else
                        fprintf(f, "%-*s", last ? 0 : w, t->cells[i]);
                fputs(last ? "\n" : "  ", f);
        }
}
