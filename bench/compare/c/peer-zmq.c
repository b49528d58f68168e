/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer-zmq.c - ZeroMQ, with no broker at all: REQ/REP for round trips,
 * PUB/SUB for announcements, over ipc:// at ADDRESS (a socket path).
 * High-water marks are off so that nothing is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zmq.h>

#include "peer.h"

const char peer_name[] = "zmq";

struct Peer {
        void *ctx, *sock;
        char endpoint[300];
};

static void *new_socket(Peer *p, int type)
{
        int zero = 0;
        p->sock = zmq_socket(p->ctx, type);
        if (!p->sock)
                peer_die("zmq_socket", zmq_strerror(zmq_errno()));
        zmq_setsockopt(p->sock, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(p->sock, ZMQ_RCVHWM, &zero, sizeof(zero));
        return p->sock;
}

static void bind_or_die(Peer *p)
{
        if (zmq_bind(p->sock, p->endpoint) < 0)
                peer_die("zmq_bind", zmq_strerror(zmq_errno()));
}

static void connect_or_die(Peer *p)
{
        if (zmq_connect(p->sock, p->endpoint) < 0)
                peer_die("zmq_connect", zmq_strerror(zmq_errno()));
}

Peer *peer_open(const char *address, bool latency)
{
        Peer *p = calloc(1, sizeof(*p));
        (void)latency;
        if (!p || !(p->ctx = zmq_ctx_new()))
                peer_die("zmq_ctx_new", "failed");
        snprintf(p->endpoint, sizeof(p->endpoint), "ipc://%s", address);
        return p;
}

void peer_serve(Peer *p, int ready_fd)
{
        char buf[4096];
        new_socket(p, ZMQ_REP);
        bind_or_die(p);
        if (write(ready_fd, "r", 1) != 1)
                peer_die("ready", "write failed");
        for (;;) {
                int n = zmq_recv(p->sock, buf, sizeof(buf), 0);
                if (n < 0 || zmq_send(p->sock, buf, (size_t)n, 0) < 0)
                        peer_die("serve", zmq_strerror(zmq_errno()));
        }
}

void peer_request(Peer *p, const void *buf, size_t n)
{
        char answer[4096];
        if (!p->sock) {
                new_socket(p, ZMQ_REQ);
                connect_or_die(p);
        }
        if (zmq_send(p->sock, buf, n, 0) < 0 || zmq_recv(p->sock, answer, sizeof(answer), 0) < 0)
                peer_die("request", zmq_strerror(zmq_errno()));
}

void peer_prepare_announce(Peer *p)
{
        new_socket(p, ZMQ_PUB);
        bind_or_die(p);
}

void peer_subscribe(Peer *p)
{
        new_socket(p, ZMQ_SUB);
        zmq_setsockopt(p->sock, ZMQ_SUBSCRIBE, "", 0);
        connect_or_die(p);
}

bool peer_next(Peer *p, int timeout_ms)
{
        char buf[4096];
        zmq_setsockopt(p->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
        return zmq_recv(p->sock, buf, sizeof(buf), 0) >= 0;
}

void peer_announce(Peer *p, const void *buf, size_t n)
{
        if (zmq_send(p->sock, buf, n, 0) < 0)
                peer_die("announce", zmq_strerror(zmq_errno()));
}

void peer_flush(Peer *p)
{
        (void)p; /* ZeroMQ's I/O thread sends; the socket stays open until counted */
}
