/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy.h - who may do what on a bus (docs/design.md, "Security model").
 */
#ifndef KBUS_CORE_POLICY_H
#define KBUS_CORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "quota.h"

/* What a client asks to do. */
typedef enum PolicyAction {
        POLICY_CONNECT = 0, /* open a ksock on the bus */
        POLICY_LISTEN = 1,  /* bind a name (or wildcard) as listener */
        POLICY_OWN = 2,     /* bind a name (or wildcard) as replier */
        POLICY_SEND = 3,    /* send a message with this name */
        POLICY_SET = 4,     /* change a bus-wide setting (max message size, verbosity) */
        POLICY_NEWBUS = 5,  /* open a new bus */
        POLICY_NACTIONS = 6,
} PolicyAction;

typedef enum PolicyVerdict {
        POLICY_ALLOW = 0,
        POLICY_DENY = 1,
        POLICY_ONLY = 2, /* allow who the rule names, deny everyone else */
} PolicyVerdict;

typedef enum PolicyWho {
        POLICY_ANYONE = 0,
        POLICY_UID = 1,
        POLICY_GID = 2, /* primary or supplementary group */
} PolicyWho;

/* One line of a policy file. */
typedef struct PolicyRule {
        unsigned line;
        PolicyVerdict verdict;
        PolicyWho who;
        uint32_t id;        /* the uid or gid */
        char *who_text;     /* as written: "*", "user:sensors", "gid:42" */
        unsigned actions;   /* 1u << PolicyAction */
        int bus;            /* -1: every bus */
        char *name;         /* the name pattern, NULL for connect/set/newbus */
        size_t name_len;
} PolicyRule;

/* The identity of a client: SO_PEERCRED and SO_PEERGROUPS at connect. */
typedef struct PolicyPeer {
        uid_t uid;
        gid_t gid;
        const gid_t *groups; /* supplementary groups */
        size_t ngroups;
} PolicyPeer;

/* A decision and the rule that made it (NULL: a built-in rule, see @builtin). */
typedef struct PolicyDecision {
        int result;               /* 0 or -EPERM */
        const PolicyRule *rule;
        const char *builtin;      /* the built-in rule, in the policy file's words */
} PolicyDecision;

typedef struct Policy {
        char *path;            /* the file, or NULL: the defaults alone */
        PolicyRule *rules;
        size_t nrules;
        unsigned used_actions; /* actions some rule names: others skip the rules */
        uid_t admin_uid;       /* kbusd's own uid: may change settings by default */
        QuotaLimits limits;    /* `limit` lines; quota_set marks which were given */
        unsigned limits_set[QUOTA_NKINDS];
} Policy;

/*
 * How the parser turns user:NAME and group:NAME into ids: the shell looks
 * them up in the system's databases (policy-load.c).  Each returns 0, or a
 * negative errno if there is no such name.
 */
typedef struct PolicyNames {
        int (*user)(const char *name, uint32_t *ret_uid);
        int (*group)(const char *name, uint32_t *ret_gid);
} PolicyNames;

int policy_new_default(uid_t admin_uid, Policy **ret);
int policy_parse(const char *path, const char *text, uid_t admin_uid, const PolicyNames *names,
                 Policy **ret, char *err, size_t errlen);
Policy *policy_free(Policy *p);

int policy_decide(const Policy *p, const PolicyPeer *peer, PolicyAction action, unsigned bus,
                  const char *name, size_t len, PolicyDecision *ret);
int policy_may_connect(const Policy *p, const PolicyPeer *peer, unsigned bus,
                       PolicyDecision *ret);
int policy_may_listen(const Policy *p, const PolicyPeer *peer, unsigned bus, const char *name,
                      size_t len, PolicyDecision *ret);
int policy_may_own(const Policy *p, const PolicyPeer *peer, unsigned bus, const char *name,
                   size_t len, PolicyDecision *ret);
int policy_may_send(const Policy *p, const PolicyPeer *peer, unsigned bus, const char *name,
                    size_t len, PolicyDecision *ret);
int policy_may_set(const Policy *p, const PolicyPeer *peer, unsigned bus, PolicyDecision *ret);
int policy_may_open_bus(const Policy *p, const PolicyPeer *peer, unsigned bus,
                        PolicyDecision *ret);

bool policy_concerns(const Policy *p, const PolicyPeer *peer, PolicyAction action);
const char *policy_action_name(PolicyAction a);
int policy_action_parse(const char *word, PolicyAction *ret);
int policy_rule_format(const PolicyRule *r, char *out, size_t outlen);
int policy_decision_format(const Policy *p, const PolicyDecision *d, char *out, size_t outlen);
void policy_describe(const Policy *p, const QuotaLimits *limits, FILE *f);

/* Whether a name or binding lies in kbusd's own space, $.KBUS and below (every send asks). */
static inline bool policy_is_reserved(const char *name, size_t len)
{
        return len >= 6 && memcmp(name, "$.KBUS", 6) == 0 && (len == 6 || name[6] == '.');
}

static inline bool policy_has_prefix(const char *name, size_t len, const char *prefix)
{
        size_t n = strlen(prefix);

        return len > n && memcmp(name, prefix, n) == 0;
}

/*
 * Whether a name is a status's (semantics §9), or a Limpet's status
 * ($.KBUS.RemoteError.<errno>): a reply with such a name may be sent by the
 * replier that owes it, which is how a Limpet relays a status from the far
 * bus.  Events ($.KBUS.ReplierBindEvent, $.KBUS.UnbindEventsLost) are not.
 */
static inline bool policy_is_status_name(const char *name, size_t len)
{
        static const char sending[] = "$.KBUS.ErrorSending";

        return policy_has_prefix(name, len, "$.KBUS.Replier.") ||
               policy_has_prefix(name, len, "$.KBUS.RemoteError.") ||
               (len == sizeof(sending) - 1 && memcmp(name, sending, len) == 0);
}

#endif
