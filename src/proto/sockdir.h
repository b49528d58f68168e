/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sockdir.h - where bus sockets live (semantics §2).
 */
#ifndef KBUS_PROTO_SOCKDIR_H
#define KBUS_PROTO_SOCKDIR_H

#include <stddef.h>
#include <sys/types.h>

struct sockaddr_un;

#define KBUS_SOCKET_DIR_ENV "KBUS_SOCKET_DIR"
#define KBUS_RUN_DIR "/run/kbus"
/* Room for a socket path: sizeof(((struct sockaddr_un *)0)->sun_path) on Linux. */
#define KBUS_SOCKET_PATH_MAX 108

/* Where sockdir_resolve() found the directory. */
typedef enum SockdirSource {
        SOCKDIR_OPTION = 0, /* kbusd's --socket-dir */
        SOCKDIR_ENV = 1,    /* $KBUS_SOCKET_DIR */
        SOCKDIR_RUN = 2,    /* /run/kbus */
        SOCKDIR_XDG = 3,    /* $XDG_RUNTIME_DIR/kbus: a per-user fallback */
        SOCKDIR_TMP = 4,    /* /tmp/kbus-<uid>: a per-user fallback */
} SockdirSource;

int sockdir_resolve(const char *option, char *out, size_t outlen);
int sockdir_resolve_source(const char *option, char *out, size_t outlen,
                           SockdirSource *ret_source);
int sockdir_check_fd(int dirfd, uid_t uid, const char **ret_why);
int sockdir_open_checked(const char *path, uid_t uid, int *ret_fd, const char **ret_why);
int sockdir_check_peer(int fd, uid_t uid, uid_t *ret_peer_uid);
int sockdir_make(const char *path, SockdirSource source, int *ret_fd, const char **ret_why);
int sockdir_bus_path(const char *dir, unsigned bus, char *out, size_t outlen);
int sockdir_sockaddr(const char *path, struct sockaddr_un *ret);
int sockdir_parse_dev_name(const char *name, unsigned *ret_bus);

#endif
