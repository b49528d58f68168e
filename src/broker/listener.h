/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener.h - a bus's listening socket.
 */
#ifndef KBUS_BROKER_LISTENER_H
#define KBUS_BROKER_LISTENER_H

struct Bus;

int listener_open(struct Bus *bus, const char *path);
int listener_socket_bus(int fd, unsigned *ret_bus, char *ret_path);
int listener_adopt(struct Bus *bus, int fd, const char *path);
void listener_close(struct Bus *bus);

#endif
