/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener.h - a bus's listening socket.
 */
#ifndef KBUS_BROKER_LISTENER_H
#define KBUS_BROKER_LISTENER_H

#include <stdbool.h>
#include <sys/types.h>

struct Bus;

/* listener_open(), listener_adopt(): another process serves the bus. */
enum {
        LISTENER_E_LOCKED = 1,
};

int listener_open(struct Bus *bus, const char *path, pid_t *ret_holder);
int listener_socket_bus(int fd, unsigned *ret_bus, char *ret_path);
int listener_adopt(struct Bus *bus, int fd, int dirfd, const char *path, pid_t *ret_holder);
void listener_enable(struct Bus *bus, bool on);
void listener_close(struct Bus *bus);

#endif
