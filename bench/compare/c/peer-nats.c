/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer-nats.c - NATS through a private nats-server, with the cnats
 * library: natsConnection_Request() for round trips (sent at once, not
 * batched), plain publishes for announcements.  ADDRESS is the server's
 * URL.  Listeners have no pending limit, so the library drops nothing.
 */
#include <stdlib.h>
#include <unistd.h>
#include <nats/nats.h>

#include "peer.h"

const char peer_name[] = "nats";

#define ASK "bench.ask"
#define DATA "bench.data"

struct Peer {
        natsConnection *nc;
        natsSubscription *sub;
};

static void ok(natsStatus s, const char *what)
{
        if (s != NATS_OK)
                peer_die(what, natsStatus_GetText(s));
}

Peer *peer_open(const char *address, bool latency)
{
        Peer *p = calloc(1, sizeof(*p));
        natsOptions *opts;

        if (!p)
                peer_die("calloc", "out of memory");
        ok(natsOptions_Create(&opts), "natsOptions_Create");
        ok(natsOptions_SetURL(opts, address), "natsOptions_SetURL");
        ok(natsOptions_SetSendAsap(opts, latency), "natsOptions_SetSendAsap");
        ok(natsConnection_Connect(&p->nc, opts), "natsConnection_Connect");
        natsOptions_Destroy(opts);
        return p;
}

void peer_serve(Peer *p, int ready_fd)
{
        ok(natsConnection_SubscribeSync(&p->sub, p->nc, ASK), "subscribe");
        ok(natsConnection_Flush(p->nc), "flush");
        if (write(ready_fd, "r", 1) != 1)
                peer_die("ready", "write failed");
        for (;;) {
                natsMsg *m;
                ok(natsSubscription_NextMsg(&m, p->sub, 1000000), "next");
                ok(natsConnection_Publish(p->nc, natsMsg_GetReply(m), natsMsg_GetData(m),
                                          natsMsg_GetDataLength(m)),
                   "answer");
                natsMsg_Destroy(m);
        }
}

void peer_request(Peer *p, const void *buf, size_t n)
{
        natsMsg *answer;
        ok(natsConnection_Request(&answer, p->nc, ASK, buf, (int)n, 5000), "request");
        natsMsg_Destroy(answer);
}

void peer_prepare_announce(Peer *p)
{
        (void)p;
}

void peer_subscribe(Peer *p)
{
        ok(natsConnection_SubscribeSync(&p->sub, p->nc, DATA), "subscribe");
        ok(natsSubscription_SetPendingLimits(p->sub, -1, -1), "pending limits");
        ok(natsConnection_Flush(p->nc), "flush"); /* the server has the subscription */
}

bool peer_next(Peer *p, int timeout_ms)
{
        natsMsg *m;
        if (natsSubscription_NextMsg(&m, p->sub, timeout_ms) != NATS_OK)
                return false;
        natsMsg_Destroy(m);
        return true;
}

void peer_announce(Peer *p, const void *buf, size_t n)
{
        ok(natsConnection_Publish(p->nc, DATA, buf, (int)n), "publish");
}

void peer_flush(Peer *p)
{
        ok(natsConnection_Flush(p->nc), "flush");
}
