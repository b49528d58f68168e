/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-options.h - kbus-limpet's command line: the original runlimpet's
 * words, in any order, and the long options (kbus-limpet(1)).
 */
#ifndef KBUS_TOOLS_LIMPET_OPTIONS_H
#define KBUS_TOOLS_LIMPET_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "limpet-link.h"

#define LIMPET_MAX_LIST 64       /* --peer-uid and --allow, each */
#define LINK_HEARTBEAT_MS 3000   /* --heartbeat's default */

typedef struct LimpetOptions {
        LinkAddress link;
        const char *link_arg;
        int server;      /* -1 unset, 0 client, 1 server */
        uint32_t id;     /* 0: 1 for a client, 2 for a server, as the original */
        ToolBus bus;
        const char *message;
        const char *terminate;
        uint32_t verbosity;
        bool once;       /* exit when the link goes, as the original */
        uint32_t heartbeat_ms; /* no word for this long: the link is dead (kbus peers) */
        uid_t peer_uids[LIMPET_MAX_LIST]; /* who may be at the other end of a Unix link */
        int npeer_uids;   /* 0: root and our own uid */
        const char *allow[LIMPET_MAX_LIST]; /* what the far side may bind or send here */
        int nallow;       /* 0: anything */
        const char *tls_cert, *tls_key, *tls_ca; /* TLS on a TCP link */
        bool insecure;    /* plain TCP (to pair with an original Limpet) */
        bool flood;       /* pass on all -m matches, not just what the far bus listens to */
} LimpetOptions;

void limpet_parse_args(int argc, char **argv, LimpetOptions *o);

#endif
