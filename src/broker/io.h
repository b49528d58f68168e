/* SPDX-License-Identifier: MPL-2.0 */
/*
 * io.h - moving one ksock's bytes between its socket and the core.
 */
#ifndef KBUS_BROKER_IO_H
#define KBUS_BROKER_IO_H

#include "../core/core.h"

struct Broker;
struct Bus;
struct Client;
struct event;

/* The socket of one ksock, and the events that watch it. */
typedef struct ClientIO {
        struct Broker *broker;
        struct Client *client;
        int fd;
        struct event *read_ev;
        struct event *write_ev;
} ClientIO;

void io_accept(struct Broker *b, struct Bus *bus, int fd);
void io_flush(void *ctx, struct Client *c);
void io_gone(void *ctx, struct Client *c);
int io_make_page(void *ctx, int *ret_fd, KbusShm **ret_page);
void io_unmap_page(void *ctx, KbusShm *page);

#endif
