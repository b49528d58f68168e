/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener.c - a bus's listening socket: who may serve the bus, making the
 * socket, accepting, and who connected.
 *
 * Invariants:
 * - Everything is done relative to the socket directory's descriptor, which
 *   the broker opened and checked once (sockdir_make()) and keeps for its
 *   lifetime.  No path is looked up a second time, and nothing is chmod()ed,
 *   unlinked or renamed by path, so a symlink swapped in cannot redirect
 *   kbusd to another file.
 * - Bus N is served by whoever holds flock(LOCK_EX) on <dir>/kbus<N>.lock,
 *   for the bus's whole life; the holder writes its pid there.  Only the
 *   holder creates, replaces or removes <dir>/kbus<N> and its temporary
 *   name <dir>/kbus<N>.tmp.  So two kbusd started together never both serve
 *   a bus, and a stale socket is replaced only by the kbusd entitled to it.
 * - A socket appears under its name only when it accepts connections, with
 *   its final mode and group: it is bound under the temporary name, given
 *   its group, made to listen, then renameat() over whatever stale socket
 *   was there.  A client finds no socket or a working one, never one that
 *   refuses (ECONNREFUSED would read as "no such bus").
 * - Going away is the reverse: unlink the name, close the socket, and only
 *   then release the lock.
 * Under socket activation systemd owns the socket and its file; kbusd takes
 * the lock in that socket's directory and only accepts on it.  Who connected,
 * and whether they may, is client.c's business.  When accept() runs out of
 * descriptors the broker pauses accepting on every bus (broker_accept_refused()).
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <event2/event.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "broker.h"
#include "io.h"

#define LISTENER_ACCEPTS_PER_WAKEUP 64
#define LISTENER_HOLDER_WAIT_MS     200 /* for a lock holder to write its pid */
#define LISTENER_NAME_MAX           32

static void listener_on_accept(evutil_socket_t fd, short what, void *arg)
{
        Listener *l = arg;

        (void)what;
        for (int i = 0; i < LISTENER_ACCEPTS_PER_WAKEUP; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == ECONNABORTED || errno == EPROTO)
                                continue; /* that one connection is gone */
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                                /* EMFILE, ENFILE, ENOBUFS, ENOMEM: retrying at once would spin */
                                broker_accept_refused(l->broker, errno);
                        break;
                }
                broker_accept_done(l->broker);
                io_accept(l->broker, l->bus, cfd);
        }
        broker_settle(l->broker, NULL); /* frees the connections refused at once */
}

/*
 * bind() and connect() take a path, and Linux has no bindat(): kbusd makes
 * the socket directory its working directory (fchdir() on the descriptor it
 * holds) and uses a bare name.  kbusd is single-threaded and uses no other
 * relative path, so nothing else sees the working directory change.  Unlike
 * "/proc/self/fd/<dirfd>/<name>" this needs no /proc (a chroot, a container,
 * early boot), and a name of a few bytes fits sun_path however deep the
 * directory is.
 */
static int listener_addr(int dirfd, const char *name, struct sockaddr_un *addr)
{
        memset(addr, 0, sizeof(*addr));
        addr->sun_family = AF_UNIX;
        snprintf(addr->sun_path, sizeof(addr->sun_path), "%s", name);
        return fchdir(dirfd) < 0 ? -errno : 0;
}

/*
 * Takes the lock of the bus whose socket is @name in @dirfd.
 *
 * Lock files are never unlinked.  Another kbusd may have opened the file
 * and be about to flock() it: if the holder unlinked it at exit and a third
 * kbusd then created a fresh one, the second and the third would each hold
 * "the" lock, on two different files, and serve the same bus.  A file that
 * stays is one inode everyone locks.
 *
 * Return: 0; LISTENER_E_LOCKED (another process holds it); -EEXIST (the
 * name is not a regular file); or a negative errno.
 */
static int listener_lock(int dirfd, const char *name, int *ret_fd)
{
        char lock[LISTENER_NAME_MAX + 8], pid[24];
        struct stat st;

        snprintf(lock, sizeof(lock), "%s.lock", name);
        /* O_NONBLOCK: a FIFO put there would otherwise block the open */
        int fd = openat(dirfd, lock,
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno == ELOOP ? -EEXIST : -errno;
        int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EEXIST;
        if (r == 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
                r = errno == EWOULDBLOCK ? LISTENER_E_LOCKED : -errno;
        if (r == 0 && ftruncate(fd, 0) < 0)
                r = -errno;
        if (r == 0) {
                int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
                ssize_t w = pwrite(fd, pid, (size_t)n, 0);
                r = w == n ? 0 : w < 0 ? -errno : -EIO;
        }
        if (r) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* The pid in a lock file, if that process is alive; else 0. */
static pid_t listener_read_holder(int dirfd, const char *name)
{
        char lock[LISTENER_NAME_MAX + 8], buf[24];
        char *end;

        snprintf(lock, sizeof(lock), "%s.lock", name);
        int fd = openat(dirfd, lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        long pid = strtol(buf, &end, 10);
        if (pid <= 0 || *end != '\n' || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
                return 0;
        return (pid_t)pid;
}

/*
 * Who holds the lock.  Its holder writes its pid just after taking it (and
 * the file may still name a holder that died), so a kbusd started at the
 * same moment may have to wait a little for the right pid.
 */
static pid_t listener_holder(int dirfd, const char *name)
{
        for (int waited = 0; waited < LISTENER_HOLDER_WAIT_MS; waited++) {
                pid_t pid = listener_read_holder(dirfd, name);
                if (pid > 0)
                        return pid;
                struct timespec ts = { 0, 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return 0;
}

/*
 * What is at @name, now that we hold the bus's lock: nothing, or a socket
 * nobody answers on (0: renameat() replaces it); something that is not a
 * socket (-EEXIST); a socket something still answers on (-EADDRINUSE: a
 * server that takes no lock, such as an older kbusd).
 */
static int listener_check_stale(int dirfd, const char *name, const char *path)
{
        struct sockaddr_un addr;
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = listener_addr(dirfd, name, &addr);
        if (r == 0 && connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0)
                r = -errno;
        close(fd);
        if (r == 0 || r == -EAGAIN)
                return -EADDRINUSE;
        if (r != -ECONNREFUSED && r != -ENOENT)
                return r;
        log_info("replacing stale socket %s", path);
        return 0;
}

/*
 * Gives the socket just bound at @name its group and exactly @mode, through
 * an O_PATH descriptor of that very inode: a symlink swapped in meanwhile is
 * refused, never followed.  The umask at bind() normally gives the mode
 * already; a default ACL on the directory can take more permissions away,
 * and then chmod() of /proc/self/fd/N acts on the inode the descriptor
 * holds (there is no fchmod() for O_PATH descriptors).
 */
static int listener_set_perms(int dirfd, const char *name, mode_t mode, gid_t gid)
{
        char proc[40];
        struct stat st;
        int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        int r = fstat(fd, &st) < 0 ? -errno : S_ISSOCK(st.st_mode) ? 0 : -EEXIST;
        if (r == 0 && gid != (gid_t)-1 && st.st_gid != gid &&
            fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH) < 0)
                r = -errno;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (r == 0 && (st.st_mode & 07777) != mode && chmod(proc, mode) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* A listening socket at @tmp in the socket directory, with its mode and group. */
static int listener_make(const Broker *b, const char *tmp, int *ret_fd)
{
        struct sockaddr_un addr;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        /* a leftover of a kbusd that died holding the lock: ours to remove */
        int r = unlinkat(b->sockdir_fd, tmp, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (r == 0)
                r = listener_addr(b->sockdir_fd, tmp, &addr);
        if (r == 0) {
                mode_t old = umask(~b->socket_mode & 0777);
                r = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
                umask(old);
                if (r < 0) {
                        close(fd);
                        return r;
                }
                r = listener_set_perms(b->sockdir_fd, tmp, b->socket_mode, b->socket_gid);
        }
        if (r == 0 && listen(fd, SOMAXCONN) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(b->sockdir_fd, tmp, 0);
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* A Listener serving @fd, accepting unless kbusd is short of descriptors. */
static int listener_new(Broker *b, unsigned number, int fd, int lock_fd, const char *path,
                        bool inherited, Listener **ret)
{
        Listener *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->ev = event_new(b->base, fd, EV_READ | EV_PERSIST, listener_on_accept, l);
        if (!l->ev || (!b->accept_paused && event_add(l->ev, NULL) < 0)) {
                if (l->ev)
                        event_free(l->ev);
                free(l);
                return -ENOMEM;
        }
        l->broker = b;
        l->number = number;
        l->fd = fd;
        l->lock_fd = lock_fd;
        l->inherited = inherited;
        snprintf(l->path, sizeof(l->path), "%s", path);
        *ret = l;
        return 0;
}

/**
 * listener_open() - become the server of bus @number and listen for its
 * clients at "kbus<N>" in the broker's socket directory.
 * @b:          the broker
 * @number:     the bus
 * @path:       the socket's full path, for clients and logs
 * @ret_holder: if the bus is locked, and not NULL: the pid of the kbusd that
 *              holds it, or 0 if unknown (this may wait up to 200 ms for it)
 * @ret:        the listener (its bus is for the caller to set)
 *
 * Return: 0; LISTENER_E_LOCKED if another process holds the bus's lock;
 * -EADDRINUSE if a server that takes no lock answers on the socket; -EEXIST
 * if something that is not a socket is in the way; another negative errno.
 */
int listener_open(Broker *b, unsigned number, const char *path, pid_t *ret_holder,
                  Listener **ret)
{
        char name[LISTENER_NAME_MAX], tmp[LISTENER_NAME_MAX + 8];
        int lock_fd = -1, fd = -1;

        snprintf(name, sizeof(name), "kbus%u", number);
        snprintf(tmp, sizeof(tmp), "%s.tmp", name);
        int r = listener_lock(b->sockdir_fd, name, &lock_fd);
        if (r == LISTENER_E_LOCKED && ret_holder)
                *ret_holder = listener_holder(b->sockdir_fd, name);
        if (r)
                return r;
        r = listener_check_stale(b->sockdir_fd, name, path);
        if (r == 0)
                r = listener_make(b, tmp, &fd);
        if (r < 0) {
                close(lock_fd);
                return r;
        }
        if (renameat(b->sockdir_fd, tmp, b->sockdir_fd, name) < 0) {
                r = -errno;
                unlinkat(b->sockdir_fd, tmp, 0);
        } else if ((r = listener_new(b, number, fd, lock_fd, path, false, ret)) < 0) {
                unlinkat(b->sockdir_fd, name, 0);
        }
        if (r < 0) {
                close(fd);
                close(lock_fd);
        }
        return r;
}

/**
 * listener_socket_bus() - which bus a listening socket systemd passed us is
 * for: its path must end in "/kbus<N>".
 * @fd:       the socket
 * @ret_bus:  the bus number
 * @ret_path: its path (at least KBUS_SOCKET_PATH_MAX bytes)
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
 * listener_adopt() - serve bus @number on a listening socket systemd created
 * (socket activation); its file belongs to systemd and is left in place,
 * but the bus's lock is taken in that socket's directory all the same.
 * @b:          the broker
 * @number:     the bus
 * @fd:         the listening socket
 * @dirfd:      the (checked) directory the socket is in
 * @path:       its path
 * @ret_holder: as for listener_open()
 * @ret:        the listener
 *
 * Return: 0, LISTENER_E_LOCKED, or a negative errno.
 */
int listener_adopt(Broker *b, unsigned number, int fd, int dirfd, const char *path,
                   pid_t *ret_holder, Listener **ret)
{
        char name[LISTENER_NAME_MAX];
        int lock_fd = -1, flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        snprintf(name, sizeof(name), "kbus%u", number);
        int r = listener_lock(dirfd, name, &lock_fd);
        if (r == LISTENER_E_LOCKED && ret_holder)
                *ret_holder = listener_holder(dirfd, name);
        if (r)
                return r;
        r = listener_new(b, number, fd, lock_fd, path, true, ret);
        if (r < 0)
                close(lock_fd);
        return r;
}

/**
 * listener_enable() - start or stop accepting (while kbusd is short of
 * descriptors); connections meanwhile wait in the listen backlog.
 * @l:  the listener
 * @on: whether to accept
 */
void listener_enable(Listener *l, bool on)
{
        if (on)
                event_add(l->ev, NULL);
        else
                event_del(l->ev);
}

/**
 * listener_free() - stop listening, remove the socket file (unless systemd
 * made it), and give up the bus's lock.
 * @l: the listener, or NULL
 *
 * Return: NULL.
 */
Listener *listener_free(Listener *l)
{
        char name[LISTENER_NAME_MAX];

        if (!l)
                return NULL;
        event_free(l->ev);
        /* unlink first: a client now finds no socket, not a refusing one */
        snprintf(name, sizeof(name), "kbus%u", l->number);
        if (!l->inherited)
                unlinkat(l->broker->sockdir_fd, name, 0);
        close(l->fd);
        /* last: from now on another kbusd may make the socket */
        close(l->lock_fd);
        free(l);
        return NULL;
}
