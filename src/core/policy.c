/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy.c - who may do what on a bus: every decision is made here.
 *
 * A client is who SO_PEERCRED and SO_PEERGROUPS said it was when it
 * connected.  Each action it asks for is decided by, in order:
 *
 * 1. The reserved space: nobody but kbusd sends a message named $.KBUS or
 *    $.KBUS.<anything>, or owns such a name as replier (clients may listen
 *    there).  No policy file can change this: those are the statuses and
 *    events every client relies on being true.
 * 2. The rules of the policy file, first match wins: the file reads top to
 *    bottom like a firewall, and `kbus-ctl explain` can always point at the
 *    one line that decided.
 * 3. The defaults: anyone may connect, listen, own and send; only root and
 *    kbusd's own uid may change bus-wide settings or open buses.
 *
 * Names are decided exactly, wildcards included.  A rule decides the names
 * its pattern matches, so a binding that matches more names than the rule
 * (listening to $.* under a rule about $.Sensors.*) is allowed only if
 * every name it matches is allowed.  Because any two patterns are disjoint
 * or nested (name_relate()), that is: the first rule whose pattern contains
 * the binding decides; a rule inside the binding that denies refuses it,
 * unless an earlier rule that allowed already covered that part.
 *
 * Pure: no I/O, no logging; the caller logs a refusal once per client.
 */
#include "policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../proto/name.h"

static const char *const policy_action_names[POLICY_NACTIONS] = {
        [POLICY_CONNECT] = "connect", [POLICY_LISTEN] = "listen", [POLICY_OWN] = "own",
        [POLICY_SEND] = "send",       [POLICY_SET] = "set",       [POLICY_NEWBUS] = "newbus",
};

static const char policy_builtin_reserved[] =
        "built in: deny * own,send $.KBUS.* (only kbusd sends $.KBUS messages)";
static const char policy_builtin_allow[] = "built in: allow * connect,listen,own,send $.*";
static const char policy_builtin_admin[] = "built in: allow root and kbusd's own uid set,newbus";
static const char policy_builtin_deny_admin[] = "built in: deny * set,newbus";

enum {
        POLICY_UNDECIDED = 0,
        POLICY_DECIDED = 1,
};

/**
 * policy_action_name() - the word for an action in policy files.
 * @a: the action
 *
 * Return: e.g. "listen".
 */
const char *policy_action_name(PolicyAction a)
{
        return a < POLICY_NACTIONS ? policy_action_names[a] : "?";
}

/**
 * policy_action_parse() - an action from its word ("bind" is "own").
 * @word: the word
 * @ret:  the action
 *
 * Return: 0, or -EINVAL.
 */
int policy_action_parse(const char *word, PolicyAction *ret)
{
        if (strcmp(word, "bind") == 0) {
                *ret = POLICY_OWN;
                return 0;
        }
        for (PolicyAction a = 0; a < POLICY_NACTIONS; a++) {
                if (strcmp(word, policy_action_names[a]) == 0) {
                        *ret = a;
                        return 0;
                }
        }
        return -EINVAL;
}

static bool policy_in_groups(const PolicyPeer *peer, uint32_t gid)
{
        if (peer->gid == gid)
                return true;
        for (size_t i = 0; i < peer->ngroups; i++)
                if (peer->groups[i] == gid)
                        return true;
        return false;
}

static bool policy_names(const PolicyRule *r, const PolicyPeer *peer)
{
        switch (r->who) {
        case POLICY_UID:
                return peer->uid == r->id;
        case POLICY_GID:
                return policy_in_groups(peer, r->id);
        default:
                return true;
        }
}

/**
 * policy_concerns() - whether any rule of the file may decide @action for
 * @peer (one that names it, or an `only` rule, which speaks to everyone); if
 * none does, only the built-in rules decide.
 * @p:      the policy
 * @peer:   who
 * @action: what
 *
 * Return: true if the rules must be consulted.
 */
bool policy_concerns(const Policy *p, const PolicyPeer *peer, PolicyAction action)
{
        if (!(p->used_actions & (1u << action)))
                return false;
        for (size_t i = 0; i < p->nrules; i++) {
                const PolicyRule *r = &p->rules[i];
                if ((r->actions & (1u << action)) &&
                    (r->verdict == POLICY_ONLY || policy_names(r, peer)))
                        return true;
        }
        return false;
}

/* The verdict @r gives @peer for @action on @bus, or -1 if @r does not speak to it. */
static int policy_rule_verdict(const PolicyRule *r, const PolicyPeer *peer, PolicyAction action,
                               unsigned bus)
{
        if (!(r->actions & (1u << action)) || (r->bus >= 0 && (unsigned)r->bus != bus))
                return -1;
        bool named = policy_names(r, peer);
        if (r->verdict == POLICY_ONLY)
                return named ? POLICY_ALLOW : POLICY_DENY;
        return named ? (int)r->verdict : -1;
}

static void policy_decided(PolicyDecision *ret, int verdict, const PolicyRule *r,
                           const char *builtin)
{
        *ret = (PolicyDecision){ .result = verdict == POLICY_ALLOW ? 0 : -EPERM, .rule = r,
                                 .builtin = builtin };
}

/* Whether a rule before @upto allowed a part of @name that contains @part. */
static bool policy_allowed_before(const Policy *p, size_t upto, const PolicyPeer *peer,
                                  PolicyAction action, unsigned bus, const char *name,
                                  size_t len, const PolicyRule *part)
{
        for (size_t i = 0; i < upto; i++) {
                const PolicyRule *a = &p->rules[i];
                if (policy_rule_verdict(a, peer, action, bus) != POLICY_ALLOW ||
                    name_relate(a->name, a->name_len, name, len) != NAME_INSIDE)
                        continue;
                NameRelation rel = name_relate(part->name, part->name_len, a->name, a->name_len);
                if (rel == NAME_SAME || rel == NAME_INSIDE)
                        return true;
        }
        return false;
}

static int policy_decide_named(const Policy *p, const PolicyPeer *peer, PolicyAction action,
                               unsigned bus, const char *name, size_t len, PolicyDecision *ret)
{
        for (size_t i = 0; i < p->nrules; i++) {
                const PolicyRule *r = &p->rules[i];
                int v = policy_rule_verdict(r, peer, action, bus);
                if (v < 0)
                        continue;
                NameRelation rel = name_relate(r->name, r->name_len, name, len);
                if (rel == NAME_SAME || rel == NAME_AROUND) {
                        policy_decided(ret, v, r, NULL);
                        return POLICY_DECIDED;
                }
                if (rel == NAME_INSIDE && v == POLICY_DENY &&
                    !policy_allowed_before(p, i, peer, action, bus, name, len, r)) {
                        policy_decided(ret, v, r, NULL);
                        return POLICY_DECIDED;
                }
        }
        return POLICY_UNDECIDED;
}

static int policy_decide_unnamed(const Policy *p, const PolicyPeer *peer, PolicyAction action,
                                 unsigned bus, PolicyDecision *ret)
{
        for (size_t i = 0; i < p->nrules; i++) {
                int v = policy_rule_verdict(&p->rules[i], peer, action, bus);
                if (v >= 0) {
                        policy_decided(ret, v, &p->rules[i], NULL);
                        return POLICY_DECIDED;
                }
        }
        return POLICY_UNDECIDED;
}

static void policy_default(const Policy *p, const PolicyPeer *peer, PolicyAction action,
                           PolicyDecision *ret)
{
        if (action != POLICY_SET && action != POLICY_NEWBUS)
                policy_decided(ret, POLICY_ALLOW, NULL, policy_builtin_allow);
        else if (peer->uid == 0 || peer->uid == p->admin_uid)
                policy_decided(ret, POLICY_ALLOW, NULL, policy_builtin_admin);
        else
                policy_decided(ret, POLICY_DENY, NULL, policy_builtin_deny_admin);
}

/**
 * policy_decide() - whether @peer may do @action (see the file comment).
 * @p:      the policy
 * @peer:   who asks
 * @action: what
 * @bus:    on which bus
 * @name:   for listen, own and send: the name or binding (checked); else NULL
 * @len:    its length
 * @ret:    the decision and the rule that made it
 *
 * Return: 0 (allowed) or -EPERM.
 */
int policy_decide(const Policy *p, const PolicyPeer *peer, PolicyAction action, unsigned bus,
                  const char *name, size_t len, PolicyDecision *ret)
{
        int d = POLICY_UNDECIDED;

        if ((action == POLICY_OWN || action == POLICY_SEND) && policy_is_reserved(name, len)) {
                policy_decided(ret, POLICY_DENY, NULL, policy_builtin_reserved);
                return ret->result;
        }
        if (p->used_actions & (1u << action))
                d = name ? policy_decide_named(p, peer, action, bus, name, len, ret)
                         : policy_decide_unnamed(p, peer, action, bus, ret);
        if (d == POLICY_UNDECIDED)
                policy_default(p, peer, action, ret);
        return ret->result;
}

/**
 * policy_may_connect() - whether @peer may open a ksock on @bus.
 * @p:    the policy
 * @peer: who asks
 * @bus:  the bus
 * @ret:  the decision
 *
 * Return: 0 or -EPERM.
 */
int policy_may_connect(const Policy *p, const PolicyPeer *peer, unsigned bus,
                       PolicyDecision *ret)
{
        return policy_decide(p, peer, POLICY_CONNECT, bus, NULL, 0, ret);
}

/**
 * policy_may_listen() - whether @peer may bind @name as listener.
 * @p:    the policy
 * @peer: who asks
 * @bus:  the bus
 * @name: the binding (a wildcard is decided for every name it matches)
 * @len:  its length
 * @ret:  the decision
 *
 * Return: 0 or -EPERM.
 */
int policy_may_listen(const Policy *p, const PolicyPeer *peer, unsigned bus, const char *name,
                      size_t len, PolicyDecision *ret)
{
        return policy_decide(p, peer, POLICY_LISTEN, bus, name, len, ret);
}

/**
 * policy_may_own() - whether @peer may bind @name as replier.
 * @p:    the policy
 * @peer: who asks
 * @bus:  the bus
 * @name: the binding
 * @len:  its length
 * @ret:  the decision
 *
 * Return: 0 or -EPERM.
 */
int policy_may_own(const Policy *p, const PolicyPeer *peer, unsigned bus, const char *name,
                   size_t len, PolicyDecision *ret)
{
        return policy_decide(p, peer, POLICY_OWN, bus, name, len, ret);
}

/**
 * policy_may_send() - whether @peer may send a message named @name (an
 * announcement, request or reply alike).
 * @p:    the policy
 * @peer: who asks
 * @bus:  the bus
 * @name: the message's name
 * @len:  its length
 * @ret:  the decision
 *
 * Return: 0 or -EPERM.
 */
int policy_may_send(const Policy *p, const PolicyPeer *peer, unsigned bus, const char *name,
                    size_t len, PolicyDecision *ret)
{
        return policy_decide(p, peer, POLICY_SEND, bus, name, len, ret);
}

/**
 * policy_may_set() - whether @peer may change a bus-wide setting.
 * @p:    the policy
 * @peer: who asks
 * @bus:  the bus
 * @ret:  the decision
 *
 * Return: 0 or -EPERM.
 */
int policy_may_set(const Policy *p, const PolicyPeer *peer, unsigned bus, PolicyDecision *ret)
{
        return policy_decide(p, peer, POLICY_SET, bus, NULL, 0, ret);
}

/**
 * policy_may_open_bus() - whether @peer may open a new bus.
 * @p:    the policy
 * @peer: who asks
 * @bus:  the bus it asks on
 * @ret:  the decision
 *
 * Return: 0 or -EPERM.
 */
int policy_may_open_bus(const Policy *p, const PolicyPeer *peer, unsigned bus,
                        PolicyDecision *ret)
{
        return policy_decide(p, peer, POLICY_NEWBUS, bus, NULL, 0, ret);
}

/**
 * policy_rule_format() - a rule as a policy file line.
 * @r:      the rule
 * @out:    where to write it
 * @outlen: size of @out
 *
 * Return: the length written (truncated to fit), as snprintf().
 */
int policy_rule_format(const PolicyRule *r, char *out, size_t outlen)
{
        static const char *const verdicts[] = { "allow", "deny", "only" };
        char actions[64] = "";
        char bus[16] = "";

        for (PolicyAction a = 0; a < POLICY_NACTIONS; a++) {
                if (!(r->actions & (1u << a)))
                        continue;
                if (actions[0])
                        strcat(actions, ",");
                strcat(actions, policy_action_names[a]);
        }
        if (r->bus >= 0)
                snprintf(bus, sizeof(bus), " bus %d", r->bus);
        return snprintf(out, outlen, "%s %s %s%s%s%s", verdicts[r->verdict], r->who_text,
                        actions, r->name ? " " : "", r->name ? r->name : "", bus);
}

/**
 * policy_decision_format() - "allow"/"deny" and the rule that decided, as
 * `kbus-ctl explain` and the log show it.
 * @p:      the policy that decided
 * @d:      the decision
 * @out:    where to write it
 * @outlen: size of @out
 *
 * Return: the length written (truncated to fit), as snprintf().
 */
int policy_decision_format(const Policy *p, const PolicyDecision *d, char *out, size_t outlen)
{
        const char *verdict = d->result == 0 ? "allow" : "deny";
        char rule[1200];

        if (!d->rule)
                return snprintf(out, outlen, "%s (%s)", verdict, d->builtin);
        policy_rule_format(d->rule, rule, sizeof(rule));
        return snprintf(out, outlen, "%s (%s:%u: %s)", verdict, p->path ? p->path : "?",
                        d->rule->line, rule);
}

/**
 * policy_describe() - the policy in force, as `kbus-ctl policy` shows it: the
 * built-in rules and the file's, in the order they apply, and the limits.
 * @p:      the policy
 * @limits: the quota limits in force (the file's, overridden by --limit)
 * @f:      where to write
 */
void policy_describe(const Policy *p, const QuotaLimits *limits, FILE *f)
{
        char rule[1200];

        fprintf(f, "# policy: %s (first match wins; SIGHUP reloads it)\n",
                p->path ? p->path : "no file, built-in rules only");
        fprintf(f, "# %s\n", policy_builtin_reserved);
        for (size_t i = 0; i < p->nrules; i++) {
                policy_rule_format(&p->rules[i], rule, sizeof(rule));
                fprintf(f, "%-60s # %s:%u\n", rule, p->path, p->rules[i].line);
        }
        fprintf(f, "# %s\n# %s (kbusd runs as uid %u)\n# %s\n", policy_builtin_allow,
                policy_builtin_admin, (unsigned)p->admin_uid, policy_builtin_deny_admin);
        for (QuotaKind k = 0; k < QUOTA_NKINDS; k++)
                fprintf(f, "limit %s-per-uid %" PRIu64 "\nlimit %s-total %" PRIu64 "\n",
                        quota_kind_name(k), limits->per_uid[k], quota_kind_name(k),
                        limits->total[k]);
}
