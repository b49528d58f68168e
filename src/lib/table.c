/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table.c - libkbus internals: which file descriptors are ksocks.
 *
 * A kbus_ksock_t is a plain file descriptor (semantics §14), so the library's
 * state for each ksock lives here, in an array indexed by descriptor.  A
 * mutex guards the array: different threads may open, use and close
 * different ksocks at the same time.
 */
#include "table.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static Conn **table_slots;
static size_t table_cap;
static size_t table_count;

/**
 * table_add() - register @c under its descriptor.
 * @c: the connection
 *
 * Return: 0, or -ENOMEM.
 */
int table_add(Conn *c)
{
        int r = 0;
        size_t fd = (size_t)c->fd;

        pthread_mutex_lock(&table_lock);
        if (fd >= table_cap) {
                size_t cap = table_cap ? table_cap : 64;
                while (cap <= fd)
                        cap *= 2;
                Conn **slots = realloc(table_slots, cap * sizeof(*slots));
                if (slots) {
                        for (size_t i = table_cap; i < cap; i++)
                                slots[i] = NULL;
                        table_slots = slots;
                        table_cap = cap;
                } else {
                        r = -ENOMEM;
                }
        }
        if (r == 0) {
                table_slots[fd] = c;
                table_count++;
        }
        pthread_mutex_unlock(&table_lock);
        return r;
}

/**
 * table_get() - the connection of ksock @fd.
 * @fd: a descriptor
 *
 * Return: the connection, or NULL if @fd is not an open ksock.
 */
Conn *table_get(int fd)
{
        Conn *c = NULL;

        pthread_mutex_lock(&table_lock);
        if (fd >= 0 && (size_t)fd < table_cap)
                c = table_slots[fd];
        pthread_mutex_unlock(&table_lock);
        return c;
}

/**
 * table_remove() - unregister ksock @fd.
 * @fd: a descriptor
 *
 * Return: its connection, or NULL if it was not an open ksock.
 */
Conn *table_remove(int fd)
{
        Conn *c = NULL;

        pthread_mutex_lock(&table_lock);
        if (fd >= 0 && (size_t)fd < table_cap && table_slots[fd]) {
                c = table_slots[fd];
                table_slots[fd] = NULL;
                if (--table_count == 0) {
                        free(table_slots);
                        table_slots = NULL;
                        table_cap = 0;
                }
        }
        pthread_mutex_unlock(&table_lock);
        return c;
}
