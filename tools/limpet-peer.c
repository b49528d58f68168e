/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-peer.c - what two kbus Limpets tell each other about their buses,
 * beyond the original protocol (docs/limpet.md, "Extensions"): what each
 * bus listens to (Interest: no flood), which Limpets each leads to (Reach:
 * a link that would close a loop is refused), and why a link ends (Bye).
 * A peer that never says Hello is an original Limpet: none of this happens.
 */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "errors.h"
#include "limpet-control.h"
#include "limpet-state.h"

/* What the far bus listens to, from its Interest message: listen to that here. */
void far_interest_set(Limpet *l, const kbus_message_t *msg)
{
        char **names;
        size_t n;

        if (limpet_control_interest_names(msg, &names, &n) < 0) {
                if (l->o->verbosity >= 1)
                        fprintf(stderr, "%s: Limpet %u sent a malformed Interest: ignored\n",
                                tool_name(), l->other);
                return;
        }
        int r = kbus_limpet_listen_for(l->ctx, names, n);
        if (r < 0 && r != -EPERM) /* EPERM: the policy's word, said by the context */
                tool_error("listening for the far side", -r, TOOL_OP_BIND);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Tells the other side what our bus listens to, if it asked and that has changed. */
void interest_tell(Limpet *l)
{
        kbus_message_t *msg = NULL;
        char **names;
        size_t n;

        if (!l->tell_interest || kbus_limpet_listened_names(l->ctx, &names, &n) < 0)
                return; /* not asked; or kbusd gone: on_bus() says so */
        int r = limpet_control_interest(names, n, &msg);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0)
                return;
        const char *text = msg->data_len ? kbus_msg_data_ptr(msg) : "";
        if (l->interest_sent && strlen(l->interest_sent) == msg->data_len &&
            memcmp(l->interest_sent, text, msg->data_len) == 0) {
                kbus_msg_delete(&msg);
                return;
        }
        free(l->interest_sent);
        l->interest_sent = strndup(text, msg->data_len);
        link_put(l, &msg);
}

static void on_bye_done(struct bufferevent *bev, void *arg)
{
        Limpet *l = arg;

        bufferevent_free(bev);
        if (--l->lingering == 0 && l->stopping)
                event_base_loopbreak(l->base);
}

static void on_bye_event(struct bufferevent *bev, short what, void *arg)
{
        (void)what;
        on_bye_done(bev, arg); /* sent or not, the link is over */
}

/*
 * Ends the link with a Bye to a kbus Limpet (see limpet-control.c): the
 * bufferevent lingers apart from the Limpet until the Bye is sent, or for
 * LINK_BYE_WAIT_MS.  An original Limpet would pass a Bye to its bus: it
 * just sees the link close.  Then link_free() the rest.
 */
void link_bye(Limpet *l, uint32_t loop_id)
{
        struct timeval wait = { LINK_BYE_WAIT_MS / 1000, (LINK_BYE_WAIT_MS % 1000) * 1000 };
        struct bufferevent *bev = l->link;
        kbus_message_t *bye;

        if (!bev || !l->peer_kbus || limpet_control_bye(loop_id, &bye) < 0)
                return;
        link_put(l, &bye);
        l->link = NULL;
        l->lingering++;
        bufferevent_disable(bev, EV_READ);
        bufferevent_setcb(bev, NULL, on_bye_done, on_bye_event, l);
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0); /* the write callback: all sent */
        bufferevent_set_timeouts(bev, NULL, &wait);
}

static bool ids_have(const uint32_t *ids, size_t n, uint32_t id)
{
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

/*
 * The link would close a loop (we found, or the other side did): say so
 * (once while it lasts), end it, try later.
 */
static void link_refuse_loop(Limpet *l, uint32_t clash, bool tell)
{
        if (!l->loop_said)
                fprintf(stderr, "%s: link down: Limpet %u at %s: refused: both buses already "
                                "lead to network id %u, so the link would close a loop (said "
                                "once while it lasts)\n", tool_name(), l->other, l->peer, clash);
        l->loop_said = true;
        if (tell)
                link_bye(l, clash);
        link_free(l);
        l->backoff_ms = LINK_BACKOFF_MAX_MS; /* the loop is how the buses are joined: no hurry */
        link_next(l);
}

/* The other side ended the link with a Bye. */
void link_bye_heard(Limpet *l, const kbus_message_t *msg)
{
        uint32_t loop_id = limpet_control_bye_loop(msg);

        if (loop_id)
                link_refuse_loop(l, loop_id, false);
        else
                link_down(l, "it is stopping");
}

/*
 * The Limpets the other side's bus leads to (its Hello): if our bus already
 * leads to one of them, or to it, or another Limpet here has our id, the
 * link closes a loop and is refused; else our bus is told we lead to them.
 * Return: false if the link was refused (and is gone).
 */
static bool reach_check(Limpet *l, const LimpetHello *hello)
{
        uint32_t *ours, clash = 0;
        size_t n;

        if (!hello->has_reach || kbus_limpet_reachable_ids(l->ctx, &ours, &n) < 0)
                return true; /* it does not say; or kbusd went, which on_bus() says */
        if (ids_have(ours, n, l->other) || ids_have(ours, n, l->o->id))
                clash = ids_have(ours, n, l->other) ? l->other : l->o->id;
        for (size_t i = 0; !clash && i < hello->nreach; i++)
                if (hello->reach[i] == l->o->id || ids_have(ours, n, hello->reach[i]))
                        clash = hello->reach[i];
        free(ours);
        if (clash) {
                link_refuse_loop(l, clash, true);
                return false;
        }
        if (l->loop_said) { /* the loop is gone: this link is up after all */
                l->loop_said = false;
                link_say_up(l);
        }
        int r = kbus_limpet_set_reach(l->ctx, hello->reach, hello->nreach);
        if (r < 0 && l->o->verbosity >= 1)
                tool_error("saying which Limpets this bus leads to", -r, TOOL_OP_BIND);
        l->tell_reach = true;
        reach_tell(l); /* if it changed since our Hello */
        return true;
}

/* The Limpets the other side's bus leads to, now: say on our bus that we lead there. */
void reach_set(Limpet *l, const kbus_message_t *msg)
{
        uint32_t *ids;
        size_t n;

        if (limpet_control_reach_ids(msg, &ids, &n) < 0) {
                if (l->o->verbosity >= 1)
                        fprintf(stderr, "%s: Limpet %u sent a malformed Reach: ignored\n",
                                tool_name(), l->other);
                return;
        }
        int r = kbus_limpet_set_reach(l->ctx, ids, n);
        if (r < 0 && l->o->verbosity >= 1)
                tool_error("saying which Limpets this bus leads to", -r, TOOL_OP_BIND);
        free(ids);
}

/* Tells the other side which Limpets our bus leads to, if it listens and that changed. */
void reach_tell(Limpet *l)
{
        kbus_message_t *msg;
        uint32_t *ids;
        size_t n;

        if (!l->tell_reach || kbus_limpet_reachable_ids(l->ctx, &ids, &n) < 0)
                return;
        if (n == l->nreach_sent && (n == 0 || !memcmp(ids, l->reach_sent, n * sizeof(*ids)))) {
                free(ids);
                return;
        }
        free(l->reach_sent);
        l->reach_sent = ids;
        l->nreach_sent = n;
        if (limpet_control_reach(ids, n, &msg) == 0)
                link_put(l, &msg);
}

/*
 * The other side said Hello: it is a kbus Limpet.  Refuse a loop; beat for it (see
 * heartbeat_start()), and, if it asked, keep it told what our bus listens
 * to: now, and whenever kbusd says that changed.
 */
void peer_is_kbus(Limpet *l, const LimpetHello *hello)
{
        l->peer_kbus = true;
        if (!reach_check(l, hello))
                return; /* refused: the link is gone */
        if (hello->heartbeat_ms)
                heartbeat_start(l, hello->heartbeat_ms);
        if (l->tell_interest || !hello->wants_interest)
                return;
        l->tell_interest = true;
        interest_tell(l);
}

