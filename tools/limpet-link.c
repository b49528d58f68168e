/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-link.c - opening the socket between two Limpets, and HELO.
 *
 * As the original runlimpet: the argument is <host>:<port> (TCP) or a path
 * (a Unix socket); the server listens and accepts one Limpet at a time,
 * the client connects (kbus-limpet tries again, backing off, so that
 * either may start first and a link that went comes back).  Unlike
 * the original, a TCP server listens on <host> only (give 0.0.0.0 for every
 * interface, as the original always did): a link carries the whole bus.
 * A stale Unix socket left by an earlier server is replaced; any other file
 * at the path is an error.
 *
 * HELO: each side sends "HELO" and its network id (u32, network order),
 * then reads the other's, within the timeout.  A TCP link gets TCP_NODELAY
 * and keepalive (link_tune_tcp()).
 */
#include "limpet-link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "limpet-tls.h"
#include "wait.h"

/**
 * link_parse_address() - <host>:<port>, or a path (anything with a '/' or
 * no ':').
 * @arg: the argument
 * @ret: the address
 *
 * Return: 0, or -EINVAL.
 */
int link_parse_address(const char *arg, LinkAddress *ret)
{
        const char *colon = strrchr(arg, ':');

        *ret = (LinkAddress){ 0 };
        if (!*arg)
                return -EINVAL;
        if (strchr(arg, '/') || !colon) {
                ret->path = arg;
                return strlen(arg) < sizeof(((struct sockaddr_un *)0)->sun_path) ? 0 : -EINVAL;
        }
        size_t hlen = (size_t)(colon - arg);
        if (hlen >= sizeof(ret->host) || strlen(colon + 1) >= sizeof(ret->port) || !colon[1])
                return -EINVAL;
        memcpy(ret->host, arg, hlen);
        strcpy(ret->port, colon + 1);
        for (const char *p = ret->port; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        return 0;
}

static int link_unix_addr(const char *path, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        memcpy(sa->sun_path, path, strlen(path));
        return (int)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* Listens on the Unix socket @path, replacing a stale socket there. */
static int link_listen_unix(const char *path, char *why, size_t whylen)
{
        struct sockaddr_un sa;
        struct stat st;
        int len = link_unix_addr(path, &sa);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
            connect(fd, (struct sockaddr *)&sa, (socklen_t)len) < 0 && errno == ECONNREFUSED)
                unlink(path); /* nobody listens there: an earlier server's */
        close(fd);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, (socklen_t)len) < 0 || listen(fd, 1) < 0) {
                int err = errno;
                snprintf(why, whylen, "cannot listen on %s", path);
                close(fd);
                return -err;
        }
        return fd;
}

/* The first address of @a that a socket could be made for; its fd, or a negative errno. */
static int link_tcp_socket(const LinkAddress *a, bool server, struct addrinfo **res, char *why,
                           size_t whylen)
{
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = server ? AI_PASSIVE : 0 };
        int r = getaddrinfo(a->host[0] ? a->host : NULL, a->port, &hints, res);

        if (r != 0) {
                snprintf(why, whylen, "cannot resolve %s: %s", a->host, gai_strerror(r));
                return -EINVAL;
        }
        int fd = socket((*res)->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(*res);
                return -errno;
        }
        return fd;
}

static int link_listen_tcp(const LinkAddress *a, char *why, size_t whylen)
{
        struct addrinfo *res;
        int one = 1, fd = link_tcp_socket(a, true, &res, why, whylen);

        if (fd < 0)
                return fd;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1) < 0) {
                int err = errno;
                snprintf(why, whylen, "cannot listen on %s:%s", a->host, a->port);
                freeaddrinfo(res);
                close(fd);
                return -err;
        }
        freeaddrinfo(res);
        return fd;
}

/* One connect attempt: the fd, or a negative errno. */
static int link_connect_once(const LinkAddress *a, char *why, size_t whylen)
{
        struct addrinfo *res = NULL;
        struct sockaddr_un sa;
        int fd, r;

        if (a->path) {
                int len = link_unix_addr(a->path, &sa);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                r = connect(fd, (struct sockaddr *)&sa, (socklen_t)len);
        } else { /* each address of the host in turn (localhost may be ::1 and 127.0.0.1) */
                fd = link_tcp_socket(a, false, &res, why, whylen);
                if (fd < 0)
                        return fd;
                r = -1;
                for (struct addrinfo *ai = res; ai && r < 0; ai = ai->ai_next) {
                        if (ai != res) {
                                close(fd);
                                fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                                if (fd < 0)
                                        break;
                        }
                        r = connect(fd, ai->ai_addr, ai->ai_addrlen);
                }
                int err = errno;
                freeaddrinfo(res);
                if (fd < 0)
                        return -err;
                errno = err;
        }
        if (r < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/*
 * A TCP link: no Nagle delay (a request waits for nothing), and keepalive
 * probes, so that a far host that vanishes without a word (power, cable)
 * ends the link within about 25 s, like a Limpet that stopped.
 */
static int link_tune_tcp(int fd)
{
        int one = 1, idle = 10, interval = 5, count = 3;

        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)) < 0) {
                int err = errno;
                close(fd);
                return -err;
        }
        return fd;
}

/* The connected link, tuned if it is TCP. */
static int link_connected(const LinkAddress *a, int fd)
{
        return fd < 0 || a->path ? fd : link_tune_tcp(fd);
}

/**
 * link_listen() - the server's listening socket, kept for every link.
 * @a:      where
 * @why:    set to what failed
 * @whylen: its size
 *
 * Return: the socket, or a negative errno.
 */
int link_listen(const LinkAddress *a, char *why, size_t whylen)
{
        return a->path ? link_listen_unix(a->path, why, whylen) : link_listen_tcp(a, why, whylen);
}

/**
 * link_accept() - the next Limpet that connected to @lfd (which is readable).
 * @a:   where (a TCP link is tuned)
 * @lfd: the listening socket
 *
 * Return: the link socket, or a negative errno.
 */
int link_accept(const LinkAddress *a, int lfd)
{
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        return link_connected(a, fd < 0 ? -errno : fd);
}

/**
 * link_connect() - one attempt to connect to the server Limpet.
 * @a:      where
 * @why:    set to what failed
 * @whylen: its size
 *
 * Return: the link socket, or a negative errno (-ECONNREFUSED or -ENOENT:
 * the server is not there yet).
 */
int link_connect(const LinkAddress *a, char *why, size_t whylen)
{
        return link_connected(a, link_connect_once(a, why, whylen));
}

/**
 * link_peer_uid() - the uid of the process at the other end of a Unix link.
 * @fd:  the link
 * @ret: the uid
 *
 * Return: 0, or a negative errno (-ENOTSOCK etc.; a TCP link has none).
 */
int link_peer_uid(int fd, uid_t *ret)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        *ret = cred.uid;
        return 0;
}

/**
 * link_peer_name() - who is at the other end, for the log: the TCP peer's
 * address and port, or @a's path for a Unix link.
 * @a:   where
 * @fd:  the link
 * @out: the text
 * @len: its size
 */
void link_peer_name(const LinkAddress *a, int fd, char *out, size_t len)
{
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char host[INET6_ADDRSTRLEN];

        snprintf(out, len, "%s", a->path ? a->path : "?");
        if (a->path || getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
                return;
        if (ss.ss_family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
                snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
        } else if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
                snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
        }
}

/* Reads exactly @len bytes within @timeout_ms. */
static int link_read_all(int fd, uint8_t *p, size_t len, int timeout_ms)
{
        uint64_t deadline = tool_now_ns() + (uint64_t)timeout_ms * 1000000u;

        while (len) {
                struct pollfd pf = { .fd = fd, .events = POLLIN };
                uint64_t now = tool_now_ns();
                int left = now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
                if (poll(&pf, 1, left) == 0)
                        return -ETIMEDOUT;
                ssize_t n = read(fd, p, len);
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0 && errno != EINTR && errno != EAGAIN)
                        return -errno;
                if (n > 0) {
                        p += n;
                        len -= (size_t)n;
                }
        }
        return 0;
}

/**
 * link_hello() - swap HELO and network ids with the other Limpet.
 * @fd:         the link
 * @ssl:        its TLS session, or NULL
 * @network_id: ours
 * @other_id:   set to theirs
 * @timeout_ms: how long the other may take
 *
 * Return: 0; -EPROTO if the other did not say HELO; -ETIMEDOUT; -ECONNRESET.
 */
int link_hello(int fd, SSL *ssl, uint32_t network_id, uint32_t *other_id, int timeout_ms)
{
        uint8_t out[8] = { 'H', 'E', 'L', 'O' }, in[8];
        uint32_t v = htonl(network_id);
        int r;

        memcpy(out + 4, &v, 4);
        if (ssl) { /* the TLS handshake set the socket's timeouts */
                r = link_tls_write_all(ssl, out, sizeof(out));
                if (r == 0)
                        r = link_tls_read_all(ssl, in, sizeof(in));
        } else {
                if (send(fd, out, sizeof(out), MSG_NOSIGNAL) != (ssize_t)sizeof(out))
                        return -errno;
                r = link_read_all(fd, in, sizeof(in), timeout_ms);
        }
        if (r < 0)
                return r;
        if (memcmp(in, "HELO", 4) != 0)
                return -EPROTO;
        memcpy(&v, in + 4, 4);
        *other_id = ntohl(v);
        return 0;
}
