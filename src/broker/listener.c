/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener.c - a bus's listening socket: accept, and who connected.
 *
 * A socket file left by a kbusd that died is removed and replaced; one a
 * live kbusd still answers on is left alone and the bus fails to open
 * (SPEC §17).  Under socket activation systemd owns the socket and its file;
 * kbusd only accepts on it.  Peer pid and uid come from SO_PEERCRED, for
 * introspection.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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
                Client *c;
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warn("bus %u: accept: %s", bus->number, strerror(errno));
                        break;
                }
                if (client_new(bus, cfd, &c) < 0)
                        log_err("bus %u: no memory for a new connection", bus->number);
        }
        broker_settle(bus->broker, NULL); /* frees the connections refused at once */
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

static int listener_attach(Bus *bus, int fd, const char *path, bool inherited)
{
        bus->listen_ev = event_new(bus->broker->base, fd, EV_READ | EV_PERSIST,
                                   listener_on_accept, bus);
        if (!bus->listen_ev || event_add(bus->listen_ev, NULL) < 0) {
                if (bus->listen_ev)
                        event_free(bus->listen_ev);
                bus->listen_ev = NULL;
                return -ENOMEM;
        }
        bus->listen_fd = fd;
        bus->inherited = inherited;
        snprintf(bus->path, sizeof(bus->path), "%s", path);
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
        r = listener_attach(bus, fd, path, false);
        if (r < 0) {
                close(fd);
                unlink(path);
        }
        return r;
}

/**
 * listener_socket_bus() - which bus a listening socket systemd passed us is
 * for: its path must end in "/kbus<N>".
 * @fd:       the socket
 * @ret_bus:  the bus number
 * @ret_path: its path (at least 108 bytes)
 *
 * Return: 0, or -EINVAL if it is not a Unix stream socket named so.
 */
int listener_socket_bus(int fd, unsigned *ret_bus, char *ret_path)
{
        struct sockaddr_un addr;
        socklen_t len = sizeof(addr);
        int type = 0;
        socklen_t tlen = sizeof(type);

        memset(&addr, 0, sizeof(addr));
        if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0 || addr.sun_family != AF_UNIX ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM)
                return -EINVAL;
        const char *base = strrchr(addr.sun_path, '/');
        char *end;
        base = base ? base + 1 : addr.sun_path;
        if (strncmp(base, "kbus", 4) != 0 || base[4] < '0' || base[4] > '9')
                return -EINVAL;
        unsigned long n = strtoul(base + 4, &end, 10);
        if (*end || n >= KBUS_BUSES_MAX)
                return -EINVAL;
        *ret_bus = (unsigned)n;
        memcpy(ret_path, addr.sun_path, sizeof(addr.sun_path));
        return 0;
}

/**
 * listener_adopt() - serve @bus on a listening socket systemd created
 * (socket activation); its file belongs to systemd and is left in place.
 * @bus:  the bus
 * @fd:   the listening socket
 * @path: its path
 *
 * Return: 0, or a negative errno.
 */
int listener_adopt(Bus *bus, int fd, const char *path)
{
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        return listener_attach(bus, fd, path, true);
}

/**
 * listener_close() - stop listening and remove the socket file (unless
 * systemd made it).
 * @bus: the bus (safe if it never listened)
 */
void listener_close(Bus *bus)
{
        if (bus->listen_ev)
                event_free(bus->listen_ev);
        bus->listen_ev = NULL;
        if (bus->listen_fd >= 0) {
                close(bus->listen_fd);
                if (!bus->inherited)
                        unlink(bus->path);
        }
        bus->listen_fd = -1;
}
