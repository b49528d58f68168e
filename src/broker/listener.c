/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener.c - a bus's listening socket: accept, and who connected.
 *
 * A socket file left by a kbusd that died is removed and replaced; one a
 * live kbusd still answers on is left alone and the bus fails to open
 * (SPEC §17).  Peer pid and uid come from SO_PEERCRED, for introspection.
 */
#include "listener.h"

#include <errno.h>
#include <stdio.h>
#include <event2/event.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "bus.h"
#include "client.h"
#include "log.h"

#define LISTENER_ACCEPTS_PER_WAKEUP 64

static void listener_on_accept(evutil_socket_t fd, short what, void *arg)
{
        Bus *bus = arg;

        (void)what;
        for (int i = 0; i < LISTENER_ACCEPTS_PER_WAKEUP; i++) {
                struct ucred cred = { 0 };
                socklen_t len = sizeof(cred);
                Client *c;
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warn("bus %u: accept: %s", bus->number, strerror(errno));
                        return;
                }
                getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
                if (client_new(bus, cfd, &c) < 0) {
                        log_err("bus %u: no memory for a new connection", bus->number);
                        continue;
                }
                c->pid = cred.pid;
                c->uid = cred.uid;
        }
}

/* Whether a kbusd still answers at @addr: connect() tells. */
static int listener_check_stale(const struct sockaddr_un *addr)
{
        struct stat st;

        if (lstat(addr->sun_path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
        int err = errno;
        close(fd);
        if (r == 0)
                return -EADDRINUSE; /* a live kbusd */
        if (err != ECONNREFUSED && err != ENOENT)
                return -err;
        log_info("removing stale socket %s", addr->sun_path);
        if (unlink(addr->sun_path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int listener_socket(const char *path, int *ret_fd)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(addr.sun_path))
                return -ENAMETOOLONG;
        strcpy(addr.sun_path, path);
        int r = listener_check_stale(&addr);
        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0666) < 0 ||
            listen(fd, 128) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/**
 * listener_open() - listen for clients of @bus at @path.
 * @bus:  the bus
 * @path: the socket path
 *
 * Return: 0; -EADDRINUSE if a live kbusd already listens there; -EEXIST if
 * something that is not a socket is in the way; another negative errno.
 */
int listener_open(Bus *bus, const char *path)
{
        int fd = -1, r = listener_socket(path, &fd);

        if (r < 0)
                return r;
        bus->listen_ev = event_new(bus->broker->base, fd, EV_READ | EV_PERSIST,
                                   listener_on_accept, bus);
        if (!bus->listen_ev || event_add(bus->listen_ev, NULL) < 0) {
                if (bus->listen_ev)
                        event_free(bus->listen_ev);
                bus->listen_ev = NULL;
                close(fd);
                unlink(path);
                return -ENOMEM;
        }
        bus->listen_fd = fd;
        snprintf(bus->path, sizeof(bus->path), "%s", path);
        return 0;
}

/**
 * listener_close() - stop listening and remove the socket file.
 * @bus: the bus (safe if it never listened)
 */
void listener_close(Bus *bus)
{
        if (bus->listen_ev)
                event_free(bus->listen_ev);
        bus->listen_ev = NULL;
        if (bus->listen_fd >= 0) {
                close(bus->listen_fd);
                unlink(bus->path);
        }
        bus->listen_fd = -1;
}
