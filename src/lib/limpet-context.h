/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-context.h - what a Limpet context holds (limpet.c), shared with
 * limpet-interest.c.
 */
#ifndef KBUS_LIB_LIMPET_CONTEXT_H
#define KBUS_LIB_LIMPET_CONTEXT_H

#include <bsd/sys/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kbus/limpet.h>

typedef struct Request {
        RB_ENTRY(Request) link;
        kbus_msg_id_t id; /* as our bus gave it (network id 0 for our own) */
        uint32_t from;    /* the requester on our bus */
} Request;

typedef struct Proxy {
        RB_ENTRY(Proxy) link;
        uint32_t binder; /* the replier's ksock id on the far bus */
        char name[];
} Proxy;

/* Names a context listens to, sorted, each once. */
typedef struct NameSet {
        char **names;
        size_t count;
} NameSet;

RB_HEAD(RequestTree, Request);
RB_HEAD(ProxyTree, Proxy);

struct kbus_limpet_context {
        kbus_ksock_t ksock;
        uint32_t ksock_id;
        uint32_t network_id;
        uint32_t other_network_id;
        uint32_t verbosity;
        bool loop_seen; /* a message came back round a loop (logged once) */
        char *message_name;
        struct RequestTree requests;
        struct ProxyTree proxies;
        bool watching;     /* kbusd tells us when our bus's listeners change */
        NameSet listening; /* our listener bindings for the far side */
        NameSet reach;     /* $.KBUS.Limpet.Reach.<id>: the Limpets we lead to */
};

void limpet_warn(const kbus_limpet_context_t *ctx, const char *what, const char *name, int err);
int limpet_listening_init(kbus_limpet_context_t *ctx);
void name_set_free(NameSet *set);

#endif
