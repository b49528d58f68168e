/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener.h - a bus's listening socket.
 */
#ifndef KBUS_BROKER_LISTENER_H
#define KBUS_BROKER_LISTENER_H

#include <stdbool.h>
#include <sys/types.h>

#include "../proto/sockdir.h"

struct Broker;
struct Bus;
struct event;

/* The socket of one bus, and the lock that makes it kbusd's. */
typedef struct Listener {
        struct Broker *broker;
        unsigned number;
        struct Bus *bus;    /* the core's bus its clients join */
        int fd;
        int lock_fd;        /* flock()ed <dir>/kbus<N>.lock */
        bool inherited;     /* the socket came from systemd */
        struct event *ev;
        char path[KBUS_SOCKET_PATH_MAX]; /* for clients and logs (never opened) */
} Listener;

/* listener_open(), listener_adopt(): another process serves the bus. */
enum {
        LISTENER_E_LOCKED = 1,
};

int listener_open(struct Broker *b, unsigned number, const char *path, pid_t *ret_holder,
                  Listener **ret);
int listener_socket_bus(int fd, unsigned *ret_bus, char *ret_path);
int listener_adopt(struct Broker *b, unsigned number, int fd, int dirfd, const char *path,
                   pid_t *ret_holder, Listener **ret);
void listener_enable(Listener *l, bool on);
Listener *listener_free(Listener *l);

#endif
