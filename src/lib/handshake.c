/* SPDX-License-Identifier: MPL-2.0 */
/*
 * handshake.c - libkbus internals: opening a connection to kbusd, within a
 * deadline, trusting nothing it answers.
 *
 * Connecting and the handshake share one deadline (semantics §18: a silent
 * server makes the open fail, never hang).  The socket is non-blocking
 * throughout: a Unix socket whose listener's backlog is full refuses with
 * EAGAIN and offers nothing to wait on, so the connect is tried again at
 * growing intervals; HELLO is written and the WELCOME read with poll() and
 * the same deadline, however the server splits it.
 *
 * Everything in the WELCOME is checked (docs/protocol.md, "What a client
 * checks").  The shared page is the dangerous part: a mapped file that
 * shrinks turns the next access into SIGBUS, so the descriptor must be a
 * regular file at least SHM_SIZE long, sealed with F_SEAL_SHRINK, and only
 * the KbusShm we use is mapped.  A bad page is -EPROTO rather than a quiet
 * fall-back to TAKE frames: kbusd never sends one, so whoever did is not to
 * be trusted with the connection.  Every descriptor that arrives and is not
 * the page is closed.
 */
#include "handshake.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proto/sockdir.h"

/* kbusd serves at most 256 buses (semantics §2). */
#define HANDSHAKE_BUS_MAX 255u
/* While a full backlog refuses the connection, retry after 1, 2, 4 ... 50 ms. */
#define HANDSHAKE_PAUSE_MAX_MS 50
#define HANDSHAKE_WELCOME_LEN (KBUS_FRAME_HDR_LEN + WELCOME_LEN)

/**
 * handshake_now_ms() - the monotonic clock, for open deadlines.
 *
 * Return: milliseconds since an arbitrary point.
 */
int64_t handshake_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds until @deadline, 0 if it has passed. */
static int handshake_left_ms(int64_t deadline)
{
        int64_t left = deadline - handshake_now_ms();

        return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits for @events on @fd until @deadline: the revents, -ETIMEDOUT, or -errno. */
static int handshake_poll_until(int fd, short events, int64_t deadline)
{
        struct pollfd p = { .fd = fd, .events = events };

        for (;;) {
                int left = handshake_left_ms(deadline);
                int r = poll(&p, 1, left);
                if (r > 0)
                        return p.revents;
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r == 0 && left == 0)
                        return -ETIMEDOUT;
        }
}

/* A connect() that is under way (EINPROGRESS): wait for its outcome. */
static int handshake_connect_wait(int fd, int64_t deadline)
{
        int err = 0;
        socklen_t len = sizeof(err);
        int r = handshake_poll_until(fd, POLLOUT, deadline);

        if (r < 0)
                return r;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                return -errno;
        return -err;
}

/*
 * Connects the non-blocking @fd.  A Unix socket whose listener's backlog is
 * full refuses with EAGAIN and offers nothing to wait on, so the attempt is
 * repeated, at growing intervals, until @deadline.
 */
static int handshake_connect_until(int fd, const struct sockaddr_un *addr, int64_t deadline)
{
        int pause_ms = 1;

        for (;;) {
                if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
                        return 0;
                if (errno == EINPROGRESS)
                        return handshake_connect_wait(fd, deadline);
                if (errno == EISCONN)
                        return 0;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                int left = handshake_left_ms(deadline);
                if (left == 0)
                        return -ETIMEDOUT;
                poll(NULL, 0, left < pause_ms ? left : pause_ms);
                if (pause_ms < HANDSHAKE_PAUSE_MAX_MS)
                        pause_ms *= 2;
        }
}

/**
 * handshake_connect() - connect to the bus socket at @path before @deadline.
 * @path:     the socket path
 * @deadline: handshake_now_ms() time by which it must be done
 * @ret_fd:   the connected, non-blocking socket
 *
 * Return: 0, or -ENOENT (no socket, or nobody listening), -ETIMEDOUT (the
 * backlog stayed full), -ENAMETOOLONG, or another negative errno.
 */
int handshake_connect(const char *path, int64_t deadline, int *ret_fd)
{
        struct sockaddr_un addr;
        int r = sockdir_sockaddr(path, &addr);

        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        r = handshake_connect_until(fd, &addr, deadline);
        if (r < 0) {
                close(fd);
                /* no socket, or one nobody listens on: no such bus */
                return r == -ECONNREFUSED || r == -ENOENT || r == -ENOTDIR ? -ENOENT : r;
        }
        *ret_fd = fd;
        return 0;
}

/* Writes all of @p to the non-blocking socket before @deadline. */
static int handshake_send_until(int fd, const uint8_t *p, size_t n, int64_t deadline)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                        p += w;
                        n -= (size_t)w;
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                        return -ECONNRESET;
                int r = handshake_poll_until(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * Keeps the one descriptor a WELCOME may carry in *@shm_fd and closes any
 * other: a second one, or a truncated control message, is -EPROTO.
 */
static int handshake_take_fds(struct msghdr *mh, int *shm_fd)
{
        int r = (mh->msg_flags & MSG_CTRUNC) ? -EPROTO : 0;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (*shm_fd < 0) {
                                *shm_fd = fd;
                        } else {
                                close(fd);
                                r = -EPROTO;
                        }
                }
        }
        return r;
}

/* Reads the WELCOME frame, however kbusd splits it, before @deadline. */
static int handshake_recv_welcome(Conn *c, uint8_t *frame, int64_t deadline, int *shm_fd)
{
        size_t got = 0;

        while (got < HANDSHAKE_WELCOME_LEN) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(2 * sizeof(int))];
                } control;
                struct iovec iov = { frame + got, HANDSHAKE_WELCOME_LEN - got };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                                     .msg_control = control.buf,
                                     .msg_controllen = sizeof(control.buf) };
                ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        int r = handshake_poll_until(c->fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (n <= 0)
                        return -EPROTO; /* closed, or reset, before a whole WELCOME */
                int r = handshake_take_fds(&mh, shm_fd);
                if (r < 0)
                        return r;
                got += (size_t)n;
        }
        return 0;
}

/* Every field of the WELCOME, checked: kbusd is not taken on trust either. */
static int handshake_check_welcome(const uint8_t *frame, Welcome *w)
{
        FrameHdr h;

        if (codec_header_decode(frame, HANDSHAKE_WELCOME_LEN, &h) || h.type != FRAME_WELCOME ||
            h.len != HANDSHAKE_WELCOME_LEN ||
            codec_welcome_decode(frame + KBUS_FRAME_HDR_LEN, WELCOME_LEN, w) ||
            w->magic != KBUS_PROTO_MAGIC || !conn_status_ok(w->status))
                return -EPROTO;
        if (w->status < 0)
                return w->status == -EPROTONOSUPPORT ? -EPROTO : w->status;
        if (w->version != KBUS_PROTO_VERSION || w->ksock_id == 0 || w->bus > HANDSHAKE_BUS_MAX ||
            w->max_msg_size < KBUS_MSG_SIZE_MIN || w->max_msg_size > KBUS_MSG_SIZE_ABS_MAX)
                return -EPROTO;
        return 0;
}

/*
 * The shared page, if kbusd gave one.  Mapping a file that can shrink would
 * let kbusd kill us with SIGBUS at the next access, so it must be a regular
 * file at least SHM_SIZE long, sealed against shrinking (a memfd with
 * F_SEAL_SHRINK); anything else is -EPROTO rather than a fallback to TAKE
 * frames, since an honest kbusd never sends it.
 */
static int handshake_map_shm(Conn *c, const Welcome *w, int shm_fd)
{
        struct stat st;

        if (shm_fd < 0 && w->shm_size == 0)
                return 0; /* kbusd gave none: take with FRAME_TAKE */
        if (shm_fd < 0 || w->shm_size < SHM_SIZE)
                return -EPROTO;
        if (fstat(shm_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)SHM_SIZE)
                return -EPROTO;
        int seals = fcntl(shm_fd, F_GET_SEALS);
        if (seals < 0 || !(seals & F_SEAL_SHRINK))
                return -EPROTO;
        void *p = mmap(NULL, sizeof(KbusShm), PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
        if (p == MAP_FAILED)
                return errno == ENOMEM ? -ENOMEM : -EPROTO;
        c->shm = p;
        return 0;
}

/**
 * handshake_greet() - say HELLO, read and check the WELCOME and the page.
 * @c:        the connection, its socket connected and non-blocking
 * @rw:       ask for a read-write ksock
 * @deadline: handshake_now_ms() time by which it must be done
 *
 * Fills in the ksock id, bus, maximum message size and shared page of @c.
 *
 * Return: 0, or -ETIMEDOUT, -EPROTO (not a kbusd, or a WELCOME or page no
 * kbusd sends), -ENOMEM, or the negative errno kbusd refused us with.
 */
int handshake_greet(Conn *c, bool rw, int64_t deadline)
{
        Hello hello = { .magic = KBUS_PROTO_MAGIC, .version = KBUS_PROTO_VERSION,
                        .mode = HELLO_MODE_READ | (rw ? HELLO_MODE_WRITE : 0),
                        .options = HELLO_OPT_SHM };
        uint8_t out[KBUS_FRAME_HDR_LEN + HELLO_LEN], in[HANDSHAKE_WELCOME_LEN];
        Welcome w;
        int shm_fd = -1;

        codec_header_encode(out, sizeof(out), FRAME_HELLO, 0);
        codec_hello_encode(out + KBUS_FRAME_HDR_LEN, &hello);
        int r = handshake_send_until(c->fd, out, sizeof(out), deadline);
        /* kbusd refuses some connections at once: its WELCOME may be waiting
         * even though it closed before our HELLO could be written */
        if (r == 0 || r == -ECONNRESET)
                r = handshake_recv_welcome(c, in, deadline, &shm_fd);
        if (r == 0)
                r = handshake_check_welcome(in, &w);
        if (r == 0)
                r = handshake_map_shm(c, &w, shm_fd);
        if (shm_fd >= 0)
                close(shm_fd);
        if (r < 0)
                return r == -ECONNRESET ? -EPROTO : r;
        c->ksock_id = w.ksock_id;
        c->bus = w.bus;
        c->max_msg_size = w.max_msg_size;
        return 0;
}
