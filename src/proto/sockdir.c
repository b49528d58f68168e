/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sockdir.c - where bus sockets live (semantics §2).
 *
 * kbusd and every client must pick the same directory without talking to
 * each other, so both call sockdir_resolve().  The order is: an explicit
 * option (kbusd's --socket-dir), $KBUS_SOCKET_DIR, /run/kbus when it exists
 * or this process could create it, $XDG_RUNTIME_DIR/kbus, /tmp/kbus-<uid>.
 * A client that cannot create /run/kbus still finds it once a system kbusd
 * has made it, which is why "exists" counts as well as "could create".
 *
 * A directory that holds bus sockets must be trusted: a real directory,
 * owned by the process's euid or root, that neither group nor others may
 * write to (sockdir_check_fd()); otherwise someone else could put, swap or
 * remove a socket in it.  kbusd makes its directory with sockdir_make(),
 * which never follows a symlink where it creates or opens the directory
 * itself and hands back a descriptor that kbusd then works relative to.
 */
#include "sockdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/types.h>
#include <unistd.h>

static int sockdir_copy(char *out, size_t outlen, const char *s)
{
        int n = snprintf(out, outlen, "%s", s);

        return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int sockdir_run_usable(void)
{
        struct stat st;

        if (stat(KBUS_RUN_DIR, &st) == 0)
                return S_ISDIR(st.st_mode);
        return access("/run", W_OK | X_OK) == 0;
}

/**
 * sockdir_resolve_source() - the socket directory this process should use,
 * and where it came from.
 * @option:     kbusd's --socket-dir, or NULL
 * @out:        where to write the path
 * @outlen:     size of @out
 * @ret_source: which rule chose it (the per-user fallbacks need checking)
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int sockdir_resolve_source(const char *option, char *out, size_t outlen,
                           SockdirSource *ret_source)
{
        const char *env = getenv(KBUS_SOCKET_DIR_ENV);
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        int n;

        if (option && *option) {
                *ret_source = SOCKDIR_OPTION;
                return sockdir_copy(out, outlen, option);
        }
        if (env && *env) {
                *ret_source = SOCKDIR_ENV;
                return sockdir_copy(out, outlen, env);
        }
        if (sockdir_run_usable()) {
                *ret_source = SOCKDIR_RUN;
                return sockdir_copy(out, outlen, KBUS_RUN_DIR);
        }
        if (xdg && *xdg) {
                *ret_source = SOCKDIR_XDG;
                n = snprintf(out, outlen, "%s/kbus", xdg);
        } else {
                *ret_source = SOCKDIR_TMP;
                n = snprintf(out, outlen, "/tmp/kbus-%u", (unsigned)getuid());
        }
        return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/**
 * sockdir_resolve() - the socket directory this process should use.
 * @option: kbusd's --socket-dir, or NULL
 * @out:    where to write the path
 * @outlen: size of @out
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int sockdir_resolve(const char *option, char *out, size_t outlen)
{
        SockdirSource source;

        return sockdir_resolve_source(option, out, outlen, &source);
}

/**
 * sockdir_check_fd() - whether an open directory may hold bus sockets: it
 * is a directory, owned by @uid or root, and neither group nor others may
 * write to it (so nobody else can put, swap or remove a socket in it).
 * @dirfd:   the open directory
 * @uid:     the uid that may own it besides root
 * @ret_why: on refusal, which check failed and how to fix it
 *
 * Return: 0; -EPERM (unsafe: see @ret_why); or the errno of fstat().
 */
int sockdir_check_fd(int dirfd, uid_t uid, const char **ret_why)
{
        struct stat st;

        if (fstat(dirfd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                *ret_why = "it is not a directory";
                return -EPERM;
        }
        if (st.st_uid != uid && st.st_uid != 0) {
                *ret_why = "it is owned by another user (it must belong to you or root)";
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                *ret_why = "group or others may write to it (chmod go-w, or use another "
                           "directory)";
                return -EPERM;
        }
        return 0;
}

/**
 * sockdir_open_checked() - open @path as a directory, refusing a symlink as
 * its last component, and check it with sockdir_check_fd().
 * @path:    the directory
 * @uid:     the uid that may own it besides root
 * @ret_fd:  the open directory (O_PATH is not used: it can be fstat()ed and
 *           used with the *at() calls)
 * @ret_why: on -EPERM, which check failed
 *
 * Return: 0; -EPERM (a symlink, or unsafe); or the errno of open().
 */
int sockdir_open_checked(const char *path, uid_t uid, int *ret_fd, const char **ret_why)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0) {
                int err = errno;
                struct stat st;
                if ((err == ELOOP || err == ENOTDIR) && lstat(path, &st) == 0 &&
                    S_ISLNK(st.st_mode)) {
                        *ret_why = "it is a symbolic link";
                        return -EPERM;
                }
                return -err;
        }
        int r = sockdir_check_fd(fd, uid, ret_why);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

#define SOCKDIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* Why a component that should be a directory could not be opened as one. */
static int sockdir_refuse(int parent, const char *name, bool last, int err, const char **ret_why)
{
        struct stat st;

        if (err != ELOOP && err != ENOTDIR)
                return -err;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                *ret_why = last ? "it is a symbolic link (give the real directory instead)"
                                : "a directory kbusd created in its path was replaced by a "
                                  "symbolic link (remove it)";
        else
                *ret_why = last ? "it is not a directory"
                                : "a component of its path is not a directory";
        return -EPERM;
}

/*
 * Opens directory @name below @parent, creating it with @mode if it does not
 * exist.  What kbusd creates, and the last component, are opened with
 * O_NOFOLLOW: a symlink put there (before or after mkdirat()) is refused,
 * never followed.  An existing directory on the way may be a symlink (say
 * /var/run -> /run): whoever could plant it there could also rename the
 * directories below it, and the last component is checked by descriptor.
 */
static int sockdir_step(int parent, const char *name, bool last, mode_t mode, int *ret_fd,
                        const char **ret_why)
{
        bool made = false;
        int fd = openat(parent, name, SOCKDIR_OPEN_FLAGS | O_NOFOLLOW);

        if (fd < 0 && errno == ENOENT) {
                if (mkdirat(parent, name, mode) == 0)
                        made = true;
                else if (errno != EEXIST)
                        return -errno;
                fd = openat(parent, name, SOCKDIR_OPEN_FLAGS | O_NOFOLLOW);
        } else if (fd < 0 && !last && (errno == ELOOP || errno == ENOTDIR)) {
                fd = openat(parent, name, SOCKDIR_OPEN_FLAGS);
        }
        if (fd < 0)
                return sockdir_refuse(parent, name, last, errno, ret_why);
        /* exactly @mode, whatever the umask: clients of other users must get in */
        if (made && fchmod(fd, mode) < 0) {
                int err = errno;
                close(fd);
                return -err;
        }
        *ret_fd = fd;
        return 0;
}

/* mkdir -p @path, one component at a time relative to its parent's descriptor. */
static int sockdir_make_path(const char *path, mode_t mode, int *ret_fd, const char **ret_why)
{
        char buf[PATH_MAX];
        char *save = NULL;
        int r = sockdir_copy(buf, sizeof(buf), path);

        if (r < 0)
                return r;
        int fd = open(path[0] == '/' ? "/" : ".", SOCKDIR_OPEN_FLAGS);
        if (fd < 0)
                return -errno;
        char *name = strtok_r(buf, "/", &save);
        while (name) {
                char *next = strtok_r(NULL, "/", &save);
                int child = -1;
                if (strcmp(name, ".") == 0) {
                        name = next;
                        continue;
                }
                r = sockdir_step(fd, name, !next, next ? 0755 : mode, &child, ret_why);
                close(fd);
                if (r < 0)
                        return r;
                fd = child;
                name = next;
        }
        *ret_fd = fd;
        return 0;
}

/**
 * sockdir_make() - kbusd's side: create the socket directory @path if it does
 * not exist, open it, and check that it may hold bus sockets.
 * @path:    the directory sockdir_resolve_source() chose
 * @source:  the rule that chose it
 * @ret_fd:  the open directory, to work relative to
 * @ret_why: on -EPERM, which check failed and how to fix it
 *
 * Missing components are created (0755; the per-user fallbacks
 * $XDG_RUNTIME_DIR/kbus and /tmp/kbus-<uid> themselves 0700) with mkdirat()
 * relative to their parent, without following a symlink anywhere kbusd
 * creates, nor at the directory itself.  The directory must pass
 * sockdir_check_fd() for the euid; /tmp/kbus-<uid> must moreover belong to
 * exactly that uid, since it sits in a directory anyone may create in.
 *
 * Return: 0; -EPERM (refused: see @ret_why); -ENAMETOOLONG; or the errno of
 * the open(), mkdirat() or fchmod() that failed.
 */
int sockdir_make(const char *path, SockdirSource source, int *ret_fd, const char **ret_why)
{
        bool own = source == SOCKDIR_XDG || source == SOCKDIR_TMP;
        struct stat st;
        int fd, r = sockdir_make_path(path, own ? 0700 : 0755, &fd, ret_why);

        if (r < 0)
                return r;
        r = sockdir_check_fd(fd, geteuid(), ret_why);
        if (r == 0 && source == SOCKDIR_TMP && fstat(fd, &st) < 0)
                r = -errno;
        if (r == 0 && source == SOCKDIR_TMP && st.st_uid != getuid()) {
                *ret_why = "it is owned by another user (/tmp/kbus-UID must belong to UID "
                           "itself: remove it, and kbusd makes it again)";
                r = -EPERM;
        }
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/**
 * sockdir_bus_path() - the socket path of bus @bus in @dir.
 * @dir:    a socket directory
 * @bus:    the bus number
 * @out:    where to write the path
 * @outlen: size of @out
 *
 * Return: 0, or -ENAMETOOLONG (also when the path would not fit a sockaddr_un).
 */
int sockdir_bus_path(const char *dir, unsigned bus, char *out, size_t outlen)
{
        int n = snprintf(out, outlen, "%s/kbus%u", dir, bus);

        if (n < 0 || (size_t)n >= outlen || n >= KBUS_SOCKET_PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

/**
 * sockdir_sockaddr() - the address of the Unix socket at @path.
 * @path: a socket path
 * @ret:  the address
 *
 * Return: 0, or -ENAMETOOLONG if @path does not fit.
 */
int sockdir_sockaddr(const char *path, struct sockaddr_un *ret)
{
        size_t len = strlen(path);

        if (len >= sizeof(ret->sun_path))
                return -ENAMETOOLONG;
        memset(ret, 0, sizeof(*ret));
        ret->sun_family = AF_UNIX;
        memcpy(ret->sun_path, path, len + 1);
        return 0;
}

/**
 * sockdir_parse_dev_name() - map the old device name "/dev/kbus<N>" to N.
 * @name:    a name given by a client
 * @ret_bus: the bus number, if @name is such a device name
 *
 * Return: 0 if @name is "/dev/kbus" followed by a decimal number below 256,
 * else -EINVAL (the caller then treats @name as a socket path).
 */
int sockdir_parse_dev_name(const char *name, unsigned *ret_bus)
{
        static const char prefix[] = "/dev/kbus";
        const char *p = name + sizeof(prefix) - 1;
        unsigned bus = 0;

        if (strncmp(name, prefix, sizeof(prefix) - 1) != 0 || *p == '\0')
                return -EINVAL;
        for (; *p; p++) {
                if (*p < '0' || *p > '9' || bus > 255)
                        return -EINVAL;
                bus = bus * 10 + (unsigned)(*p - '0');
        }
        if (bus > 255)
                return -EINVAL;
        *ret_bus = bus;
        return 0;
}

/**
 * sockdir_check_peer() - whether the process listening at the other end of
 * a connected Unix socket may serve @uid: it must run as root or as @uid
 * (SO_PEERCRED gives the uid it had when it called listen()).  A client
 * checks this when the socket directory came from a per-user fallback,
 * where anyone could have put a socket first.
 * @fd:           the connected socket
 * @uid:          the uid that may serve besides root
 * @ret_peer_uid: the peer's uid (also on refusal), or NULL
 *
 * Return: 0; -EPERM (another uid); or the errno of getsockopt().
 */
int sockdir_check_peer(int fd, uid_t uid, uid_t *ret_peer_uid)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (len != sizeof(cred))
                return -EPROTO;
        if (ret_peer_uid)
                *ret_peer_uid = cred.uid;
        return cred.uid == 0 || cred.uid == uid ? 0 : -EPERM;
}
