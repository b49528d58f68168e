/* SPDX-License-Identifier: MPL-2.0 */
/*
 * io.c - moving one ksock's bytes between its socket and the core.
 *
 * Reading: each wakeup reads what the socket holds, up to KBUS_READ_CHUNK,
 * into the broker's one read buffer and feeds it to the core, which acts
 * on the complete frames where they lie (client_feed()); a ksock holding
 * part of a frame reads onto the end of its own buffer instead
 * (client_input_space()), so the frame grows without a copy.  The core may ask
 * to be fed again on the next turn (more frames than one wakeup's share),
 * or not to be fed until its output has drained (a client that does not
 * read what it is sent).
 *
 * Writing: when the core settles it asks for each client's output to be
 * written (io_flush()), once per batch; what the socket does not take now
 * is written when it becomes writable.  The take-log page goes with the
 * first byte of the WELCOME (SCM_RIGHTS).
 *
 * These are kbusd's CoreOps, with io_make_page() and io_unmap_page() for
 * the page itself: a sealed memfd, shared with the client (shm.h).
 */
#include "io.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/client.h"
#include "../core/log.h"
#include "broker.h"

#define IO_GROUPS_FEW 32 /* supplementary groups read without a second call */

static void io_on_read(evutil_socket_t fd, short what, void *arg)
{
        ClientIO *io = arg;
        Client *c = io->client;
        Broker *b = io->broker;

        (void)fd;
        (void)what;
        if (c->closing || c->paused)
                return;
        size_t room;
        uint8_t *p = client_input_space(c, b->read_buf, KBUS_READ_CHUNK, &room);
        ssize_t n = p ? recv(io->fd, p, room, MSG_DONTWAIT) : -1;
        if (!p) {
                client_close(c, "out of memory for its input");
        } else if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
                int r = client_feed(c, p, n > 0 ? (size_t)n : 0);
                if (r == CLIENT_FEED_MORE)
                        event_active(io->read_ev, EV_READ, 0); /* after the others */
                else if (r == CLIENT_FEED_PAUSED)
                        event_del(io->read_ev);
        } else if (n == 0) {
                client_eof(c);
        } else {
                client_close(c, strerror(errno));
        }
        broker_settle(b, c);
}

static void io_on_write(evutil_socket_t fd, short what, void *arg)
{
        ClientIO *io = arg;

        (void)fd;
        (void)what;
        io_flush(io->broker, io->client);
        broker_settle(io->broker, NULL);
}

/* Sends what c->out holds, with c->pass_fd attached to its first byte. */
static ssize_t io_send(ClientIO *io, Client *c)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct iovec iov = { .iov_base = buf_head(&c->out), .iov_len = buf_len(&c->out) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (c->pass_fd >= 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &c->pass_fd, sizeof(int));
        }
        return sendmsg(io->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/**
 * io_flush() - write as much of c->out as the socket takes (CoreOps.flush).
 * @ctx: the broker
 * @c:   the client
 */
void io_flush(void *ctx, Client *c)
{
        ClientIO *io = c->io;

        (void)ctx;
        while (buf_len(&c->out) > 0) {
                ssize_t n = io_send(io, c);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        event_add(io->write_ev, NULL);
                        return;
                }
                if (n < 0) {
                        client_close(c, strerror(errno));
                        return;
                }
                buf_consume(&c->out, (size_t)n);
                if (c->pass_fd >= 0) { /* it went with the first byte */
                        close(c->pass_fd);
                        c->pass_fd = -1;
                }
        }
        if (client_drained(c)) {
                event_add(io->read_ev, NULL);
                event_active(io->read_ev, EV_READ, 0); /* feed what it holds */
        }
}

/**
 * io_gone() - the core is about to free @c: output still buffered goes out
 * if the socket takes it at once (an ERROR frame explaining a close, say),
 * then the socket is closed (CoreOps.gone).
 * @ctx: the broker
 * @c:   the client
 */
void io_gone(void *ctx, Client *c)
{
        ClientIO *io = c->io;

        (void)ctx;
        if (buf_len(&c->out))
                (void)io_send(io, c);
        if (c->pass_fd >= 0)
                close(c->pass_fd);
        c->pass_fd = -1;
        event_free(io->read_ev);
        event_free(io->write_ev);
        close(io->fd);
        free(io);
        c->io = NULL;
}

/**
 * io_make_page() - a take-log page: a sealed memfd, mapped (CoreOps.make_page).
 * @ctx:      the broker
 * @ret_fd:   its descriptor, for the client
 * @ret_page: kbusd's mapping
 *
 * Return: 0, or a negative errno.
 */
int io_make_page(void *ctx, int *ret_fd, KbusShm **ret_page)
{
        int fd = memfd_create("kbus-ksock", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        (void)ctx;
        if (fd < 0)
                return error_origin(-errno);
        if (ftruncate(fd, SHM_SIZE) < 0 ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
                int err = errno;
                close(fd);
                return error_origin(-err);
        }
        void *p = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                int err = errno;
                close(fd);
                return error_origin(-err);
        }
        *ret_page = p;
        *ret_fd = fd;
        return 0;
}

/**
 * io_unmap_page() - unmap a page io_make_page() made (CoreOps.unmap_page).
 * @ctx:  the broker
 * @page: the mapping
 */
void io_unmap_page(void *ctx, KbusShm *page)
{
        (void)ctx;
        munmap(page, SHM_SIZE);
}

/*
 * Who is at the other end: SO_PEERCRED, and the groups from SO_PEERGROUPS
 * (in @few if they fit, else in *@ret_more, malloc()ed).
 */
static int io_read_cred(int fd, ClientCred *cred, gid_t *few, gid_t **ret_more)
{
        struct ucred uc = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
        socklen_t len = sizeof(uc);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return -errno;
        *cred = (ClientCred){ .pid = uc.pid, .uid = uc.uid, .gid = uc.gid, .groups = few };
        len = IO_GROUPS_FEW * sizeof(gid_t);
        int r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, few, &len);
        if (r < 0 && errno != ERANGE)
                return 0; /* an old kernel: the primary group alone */
        if (r < 0) {
                *ret_more = malloc(len);
                if (!*ret_more)
                        return -ENOMEM;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *ret_more, &len) < 0)
                        len = 0;
                cred->groups = *ret_more;
        }
        cred->ngroups = len / sizeof(gid_t);
        return 0;
}

static ClientIO *io_free(ClientIO *io)
{
        if (io->read_ev)
                event_free(io->read_ev);
        if (io->write_ev)
                event_free(io->write_ev);
        close(io->fd);
        free(io);
        return NULL;
}

/**
 * io_accept() - serve a new connection on @bus (the core decides whether it
 * may stay).
 * @b:   the broker
 * @bus: the bus it connected to
 * @fd:  the accepted socket (non-blocking); closed here on failure
 */
void io_accept(Broker *b, Bus *bus, int fd)
{
        gid_t few[IO_GROUPS_FEW], *more = NULL;
        ClientCred cred;
        ClientIO *io = calloc(1, sizeof(*io));
        int r = io ? 0 : -ENOMEM;

        if (!io) {
                close(fd);
                (void)error_origin(r);
                return;
        }
        io->broker = b;
        io->fd = fd;
        io->read_ev = event_new(b->base, fd, EV_READ | EV_PERSIST, io_on_read, io);
        io->write_ev = event_new(b->base, fd, EV_WRITE, io_on_write, io);
        if (!io->read_ev || !io->write_ev)
                r = -ENOMEM;
        if (r == 0)
                r = io_read_cred(fd, &cred, few, &more);
        if (r == 0)
                r = client_new(bus, &cred, io, &io->client);
        free(more);
        if (r < 0) {
                (void)error_origin(r);
                io_free(io);
                return;
        }
        if (!io->client->closing)
                event_add(io->read_ev, NULL);
}
