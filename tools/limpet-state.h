/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-state.h - one kbus-limpet process's state, shared by its loop
 * (kbus-limpet.c) and what it tells the other Limpet (limpet-peer.c).
 */
#ifndef KBUS_TOOLS_LIMPET_STATE_H
#define KBUS_TOOLS_LIMPET_STATE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kbus/limpet.h"
#include "limpet-control.h"
#include "limpet-options.h"

#define LINK_BACKOFF_MAX_MS 5000 /* a client's longest wait before connecting again */
#define LINK_BYE_WAIT_MS 1000    /* for a Bye to be sent, at most */

typedef struct Limpet {
        const LimpetOptions *o;
        struct event_base *base;
        struct event *sigint_ev, *sigterm_ev;
        struct event *accept_ev; /* server: the listening socket, kept for every link */
        struct event *retry_ev;  /* client: the next connect attempt */
        int listen_fd;
        int backoff_ms;          /* client: the next wait between attempts */
        SSL_CTX *tls;            /* TLS on every link, or NULL */
        /* one link: */
        kbus_ksock_t ks;
        kbus_limpet_context_t *ctx;
        struct event *bus_ev;
        struct event *beat_ev;   /* our heartbeats, once the other side said Hello */
        bool tell_interest;      /* the other side asked what our bus listens to */
        char *interest_sent;     /* the last Interest we sent (its text) */
        bool tell_reach;         /* the other side says which Limpets it leads to */
        uint32_t *reach_sent;    /* the Limpets we last said our bus leads to */
        size_t nreach_sent;
        bool loop_said;          /* a link was refused as a loop (said once while it lasts) */
        struct bufferevent *link;
        uint32_t other;
        char peer[80];     /* the other end, for the log */
        bool refusal_said; /* --allow refused something on this link (said once) */
        bool peer_kbus;    /* the other side said Hello: it knows Bye */
        int lingering;     /* links ended with a Bye, still sending it */
        bool stopping;     /* exit once they are sent */
        int status;
} Limpet;

/* kbus-limpet.c */
void limpet_stop(Limpet *l, int status);
void link_put(Limpet *l, kbus_message_t **msg);
void heartbeat_start(Limpet *l, uint32_t peer_ms);
void link_free(Limpet *l);
void link_next(Limpet *l);
void link_down(Limpet *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void link_say_up(Limpet *l);

/* limpet-peer.c */
void peer_is_kbus(Limpet *l, const LimpetHello *hello);
void far_interest_set(Limpet *l, const kbus_message_t *msg);
void interest_tell(Limpet *l);
void reach_set(Limpet *l, const kbus_message_t *msg);
void reach_tell(Limpet *l);
void link_bye(Limpet *l, uint32_t loop_id);
void link_bye_heard(Limpet *l, const kbus_message_t *msg);

#endif
