/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker.h - the daemon: the event loop and the buses it serves.
 */
#ifndef KBUS_BROKER_BROKER_H
#define KBUS_BROKER_BROKER_H

#include <bsd/sys/queue.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "caps.h"
#include "policy.h"
#include "quota.h"

struct Bus;
struct Client;
struct event;
struct event_base;

typedef struct BrokerConfig {
        const char *socket_dir; /* NULL: resolve as SPEC §2 says */
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

#define KBUS_POLICY_DEFAULT "/etc/kbus/policy.conf"

typedef struct Broker {
        struct event_base *base;
        struct event *sigterm;
        struct event *sigint;
        struct event *sighup;    /* reloads the policy */
        struct event *settle_ev; /* finishes settling on the next loop turn */
        char sockdir[PATH_MAX];
        uint8_t *read_buf;     /* KBUS_READ_CHUNK bytes every client reads into (client.c) */
        int sockdir_fd;        /* the checked socket directory: every socket op is relative to it */
        mode_t socket_mode;
        gid_t socket_gid;
        struct event *accept_timer; /* ends a pause in accepting */
        struct event *sweep_timer;  /* frees the buffers of idle ksocks */
        bool accept_paused;         /* listeners are off until accept_timer fires */
        unsigned accept_pause_ms;   /* the current pause; 0: no shortage since the last accept */
        unsigned long accept_refused; /* accept() calls refused in this shortage */
        long accept_since_ms;       /* when the shortage began */
        uint32_t max_messages; /* default queue limit for new ksocks */
        uint32_t max_msg_size; /* default for new buses */
        Policy *policy;
        uint64_t policy_gen;   /* changes with every policy loaded */
        Quota quota;
        bool trim_due;         /* much memory was freed: return it to the system (malloc_trim) */
        const char *policy_path;           /* what SIGHUP reloads (NULL: the default) */
        QuotaLimits cli_limits;            /* --limit, which outrank the policy file */
        unsigned cli_limits_set[QUOTA_NKINDS];
        struct Bus *buses[KBUS_BUSES_MAX];
        unsigned buses_top; /* one past the highest open bus: what settling scans */
        TAILQ_HEAD(ClientList, Client) dirty;
        struct ClientList late; /* dirty, but written after every other client */
        struct ClientList closing;
} Broker;

int broker_new(const BrokerConfig *cfg, Broker **ret);
Broker *broker_free(Broker *b);
int broker_run(Broker *b);
int broker_open_bus(Broker *b, unsigned number, struct Bus **ret);
int broker_new_bus(Broker *b, unsigned *ret_number);
void broker_mark_dirty(Broker *b, struct Client *c);
void broker_mark_late(Broker *b, struct Client *c);
void broker_defer_close(Broker *b, struct Client *c);
void broker_settle(Broker *b, struct Client *last);
int broker_reload_policy(Broker *b);
void broker_accept_refused(Broker *b, int err);
void broker_accept_done(Broker *b);

#endif
