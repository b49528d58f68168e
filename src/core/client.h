/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client.h - one ksock: the protocol state of a client's connection to one bus.
 */
#ifndef KBUS_CORE_CLIENT_H
#define KBUS_CORE_CLIENT_H

#include <bsd/sys/queue.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../proto/buf.h"
#include "../proto/codec.h"
#include "../proto/shm.h"
#include "bus.h"
#include "policy.h"
#include "queue.h"
#include "quota.h"
#include "reply.h"
#include "trie.h"

/* Who connected, as the kernel says (SO_PEERCRED, SO_PEERGROUPS). */
typedef struct ClientCred {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        const gid_t *groups; /* supplementary groups */
        size_t ngroups;
} ClientCred;

typedef struct Client {
        Bus *bus;
        void *io;         /* the shell's connection (CoreOps) */
        int pass_fd;      /* a descriptor the shell sends with c->out's first byte, or -1 */
        uint32_t id;
        pid_t pid;
        uid_t uid;
        gid_t gid;
        gid_t *groups;    /* supplementary groups, from SO_PEERGROUPS */
        size_t ngroups;
        QuotaUser *quser; /* its uid's books (see quota.c) */
        int refused;      /* not admitted at accept: the WELCOME status */
        bool charged;     /* its connection is charged to quser */
        uint64_t queued_charged; /* queued bytes charged to quser (inbox.c) */
        uint64_t in_claim;       /* declared bytes of a frame being received, charged */
        bool refusal_logged;
        bool greeted;     /* HELLO accepted */
        bool can_write;   /* opened 'rw' */
        bool closing;     /* being torn down: deliver nothing more */
        bool dirty;       /* on the core's dirty (or late) list */
        bool late;        /* on the late list */
        bool paused;      /* not reading: its output is piling up */
        bool wrote;       /* wrote since the last idle sweep */
        bool only_once;
        bool report_binds;
        bool no_echo;      /* its own sends do not reach its listener bindings */
        bool watch_listeners; /* on bus->watchers (watch.c) */
        bool watch_due;    /* a listener change notice is in its queue, unread */
        bool events_lost; /* owes an $.KBUS.UnbindEventsLost */
        Buf in;
        Buf out;
        KbusShm *shm;     /* NULL: the client sends FRAME_TAKE instead */
        MsgQueue queue;
        uint32_t max_messages;
        uint32_t next_binding_id;
        struct BindingList bindings;
        RequesterBook owed;
        ReplierBook owing;
        HeldSend *held;
        uint32_t set_aside; /* SetAside entries addressed to this client */
        uint64_t once_stamp;  /* the delivery it had its one copy of (only-once) */
        uint64_t aside_stamp; /* the set-aside scan in which it was found full */
        uint32_t last_net, last_serial;
        uint64_t skip;      /* bytes of a refused frame still to discard */
        FrameHdr skip_hdr;
        int skip_err;       /* why it was refused: 0 too long, else a quota errno */
        uint64_t nsent, nreceived, nmissed;
        uint64_t send_gen;   /* the policy the two below were worked out for (request.c) */
        bool send_rules;     /* some rule may decide what it sends */
        char *send_ok;       /* the last name the policy let it send */
        uint32_t send_ok_len;
        TAILQ_ENTRY(Client) bus_link;
        TAILQ_ENTRY(Client) watch_link;
        TAILQ_ENTRY(Client) dirty_link;
        TAILQ_ENTRY(Client) closing_link;
} Client;

/* What client_feed() says about the client's input. */
enum {
        CLIENT_FEED_DONE = 0,   /* every complete frame acted on */
        CLIENT_FEED_MORE = 1,   /* complete frames left: feed again on the next turn */
        CLIENT_FEED_PAUSED = 2, /* its output piles up: read nothing until client_drained() */
};

int client_new(Bus *bus, const ClientCred *cred, void *io, Client **ret);
uint8_t *client_input_space(Client *c, uint8_t *shared, size_t chunk, size_t *room);
int client_feed(Client *c, const uint8_t *data, size_t len);
void client_eof(Client *c);
bool client_drained(Client *c);
void client_recheck(Client *c);
void client_sweep(Client *c);
void client_quota_refused(Client *c, QuotaKind k, int r);
void client_policy_refused(Client *c, PolicyAction action, const char *name, size_t len,
                           const PolicyDecision *d);
Client *client_free(Client *c);
void client_close(Client *c, const char *why);
void client_answer(Client *c, int32_t status, uint32_t v0, uint32_t v1);
int client_answer_payload(Client *c, int32_t status, const void *payload, size_t len);
void client_send_done(Client *c, int32_t status, uint32_t net, uint32_t serial);
void client_nop(Client *c);
void client_send_error(Client *c, int err, uint16_t about_type, uint16_t about_flags,
                       const char *text);

/* Who the client is, for the policy. */
static inline PolicyPeer client_peer(const Client *c)
{
        return (PolicyPeer){ .uid = c->uid, .gid = c->gid, .groups = c->groups,
                             .ngroups = c->ngroups };
}

#endif
