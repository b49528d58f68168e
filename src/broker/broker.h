/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker.h - the daemon's shell around the core: the event loop, the socket
 * directory, the listeners.
 */
#ifndef KBUS_BROKER_BROKER_H
#define KBUS_BROKER_BROKER_H

#include <bsd/sys/queue.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/core.h"

struct Client;
struct Listener;
struct event;
struct event_base;

typedef struct BrokerConfig {
        const char *socket_dir; /* NULL: resolve as semantics §2 says */
        mode_t socket_mode;     /* of every bus socket kbusd creates */
        gid_t socket_gid;       /* their group, or (gid_t)-1 to leave it */
        unsigned buses;
        uint32_t max_msg_size;
        uint32_t max_messages;
        bool verbose;
        const char *policy_path; /* NULL: KBUS_POLICY_DEFAULT if it exists */
        QuotaLimits limits;      /* --limit: those marked in limits_set */
        unsigned limits_set[QUOTA_NKINDS]; /* bit 0 per uid, bit 1 total */
} BrokerConfig;


typedef struct Broker {
        struct Core *core;     /* everything about buses, ksocks and messages */
        struct event_base *base;
        struct event *sigterm;
        struct event *sigint;
        struct event *sighup;    /* reloads the policy */
        struct event *settle_ev; /* finishes settling on the next loop turn */
        const char *policy_path; /* what SIGHUP reloads (NULL: the default) */
        char sockdir[PATH_MAX];
        int sockdir_fd;        /* the checked socket directory: every socket op is relative to it */
        mode_t socket_mode;
        gid_t socket_gid;
        uint8_t *read_buf;     /* KBUS_READ_CHUNK bytes every ksock is read into (io.c) */
        struct Listener *listeners[KBUS_BUSES_MAX];
        struct event *accept_timer; /* ends a pause in accepting */
        int sweep_fd;               /* a timerfd: the idle sweep's clock */
        struct event *sweep_ev;     /* frees the buffers of idle ksocks */
        bool accept_paused;         /* listeners are off until accept_timer fires */
        unsigned accept_pause_ms;   /* the current pause; 0: no shortage since the last accept */
        unsigned long accept_refused; /* accept() calls refused in this shortage */
        long accept_since_ms;       /* when the shortage began */
} Broker;

int broker_new(const BrokerConfig *cfg, Broker **ret);
Broker *broker_free(Broker *b);
int broker_run(Broker *b);
int broker_open_bus(Broker *b, unsigned number);
void broker_settle(Broker *b, struct Client *last);
int broker_reload_policy(Broker *b);
void broker_accept_refused(Broker *b, int err);
void broker_accept_done(Broker *b);

#endif
