/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-limpet - join a bus to another bus, on this host or another, through
 * a pair of Limpets (semantics §13, docs/limpet.md, kbus-limpet(1)).
 *
 * The command line is the original runlimpet's (words in any order:
 * <host>:<port> or <path>, -s/-c, -id, -k/-kbus, -m, -v, -t), with long
 * options too.  One process serves one link.  After HELO it speaks the
 * original link protocol, so it pairs with a Limpet built from the
 * original sources against libkbus.
 *
 * The loop (libevent): messages read from the bus are amended
 * (kbus_limpet_amend_msg_from_kbus) and written to the link; messages read
 * from the link are amended (kbus_limpet_amend_msg_to_kbus) and sent on the
 * bus, or answered over the link when that fails.  When the link's output
 * holds more than LINK_HIGH_WATER bytes the bus is not read until it
 * drains: messages then wait in kbusd's queue for this ksock, which is
 * bounded as any queue is.
 *
 * When the link goes (the other Limpet stopped, its host vanished, or it
 * sent bytes that are not a message) kbus-limpet closes its ksock: kbusd
 * then answers every request this Limpet took as proxy replier
 * ($.KBUS.Replier.Ignored) and drops its proxy bindings, so no request goes
 * unanswered.  Then it waits for a new link: a server accepts the next
 * Limpet, a client connects again, backing off from 0.1 s to 5 s.  A new
 * link starts with a replier bind event for each replier already bound on
 * this bus, so the far side can reach them again.  Each link up and down
 * is one line on stderr.  --once exits with status 1 instead, as the
 * original did.  A message named by -t read from the bus ends it with
 * status 0, as do SIGINT and SIGTERM.  What kbus Limpets tell each other
 * beyond the original protocol (Interest, Reach, Bye) is limpet-peer.c.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/proto/name.h"
#include "common.h"
#include "errors.h"
#include "kbus/limpet.h"
#include "limpet-control.h"
#include "limpet-link.h"
#include "limpet-options.h"
#include "limpet-state.h"
#include "limpet-tls.h"

#define LINK_TIMEOUT_MS 60000             /* for HELO, and for opening the ksock */
#define LINK_BACKOFF_FIRST_MS 100         /* a client's first wait before connecting again */
#define LINK_TLS_WAIT_MS 10000            /* for each step of a TLS handshake */
#define LIMPET_QUEUE (1u << 20)           /* its ksock's queue: a burst waits there (quotas bound it) */
#define LINK_HIGH_WATER (4u * 1024 * 1024) /* stop reading the bus above this much unsent */
#define LINK_HDR_LEN (KBUS_SERIALISED_HDR_LEN * 4)


/* Ends the loop with @status, once any Bye still lingering has been sent. */
void limpet_stop(Limpet *l, int status)
{
        l->status = status;
        l->stopping = true;
        if (l->lingering == 0)
                event_base_loopbreak(l->base);
}

static void link_wait(Limpet *l);

/* A message from the bus: amend it and put it on the link. */
static int from_bus(Limpet *l, kbus_message_t *msg)
{
        const char *name = kbus_msg_name_ptr(msg);
        uint8_t *bytes;
        size_t len;

        if (l->o->terminate && strlen(l->o->terminate) == msg->name_len &&
            memcmp(l->o->terminate, name, msg->name_len) == 0) {
                limpet_stop(l, TOOL_EXIT_OK);
                return 0;
        }
        if (msg->name_len == sizeof(KBUS_MSG_NAME_LISTENER_BINDS_CHANGED) - 1 &&
            !memcmp(name, KBUS_MSG_NAME_LISTENER_BINDS_CHANGED, msg->name_len)) {
                interest_tell(l);
                reach_tell(l);
                return 0;
        }
        int r = kbus_limpet_amend_msg_from_kbus(l->ctx, msg);
        if (r != 0)
                return r < 0 ? r : 0;
        r = kbus_limpet_msg_to_link(msg, &bytes, &len);
        if (r == 0) {
                r = bufferevent_write(l->link, bytes, len) == 0 ? 0 : -ENOMEM;
                free(bytes);
        }
        return r;
}

static void on_bus(evutil_socket_t fd, short what, void *arg)
{
        Limpet *l = arg;
        kbus_message_t *msg;
        (void)fd;
        (void)what;

        while (evbuffer_get_length(bufferevent_get_output(l->link)) < LINK_HIGH_WATER) {
                int r = kbus_ksock_read_next_msg(l->ks, &msg);
                if (r < 0) {
                        tool_error("reading from the bus", -r, TOOL_OP_RECEIVE);
                        limpet_stop(l, TOOL_EXIT_FAIL);
                        return;
                }
                if (!msg)
                        return;
                r = from_bus(l, msg);
                kbus_msg_delete(&msg);
                if (r < 0 && r != -EBADMSG) {
                        tool_error("passing a message on", -r, TOOL_OP_LOCAL);
                        limpet_stop(l, TOOL_EXIT_FAIL);
                        return;
                }
        }
        event_del(l->bus_ev); /* the link is behind: on_link_drained() resumes */
}

/* Puts @msg on the link and frees it. */
void link_put(Limpet *l, kbus_message_t **msg)
{
        uint8_t *bytes;
        size_t len;

        if (kbus_limpet_msg_to_link(*msg, &bytes, &len) == 0) {
                bufferevent_write(l->link, bytes, len);
                free(bytes);
        }
        kbus_msg_delete(msg);
}

/* Whether --allow lets the far side bind or send @name here (a reply always may). */
static bool name_allowed(const Limpet *l, const char *name, size_t len)
{
        if (l->o->nallow == 0)
                return true;
        for (int i = 0; i < l->o->nallow; i++) {
                NameRelation rel = name_relate(name, len, l->o->allow[i], strlen(l->o->allow[i]));
                if (rel == NAME_SAME || rel == NAME_INSIDE)
                        return true;
        }
        return false;
}

/*
 * What the far side asks of this bus, checked against --allow: 0, or
 * -EPERM with @what and @shown set to what was refused.
 */
static int far_side_allowed(const Limpet *l, const kbus_message_t *msg, const char **what,
                            char shown[KBUS_MAX_NAME_LEN + 1])
{
        uint32_t is_bind, binder;
        char *name;

        if (l->o->nallow == 0 || kbus_msg_is_reply(msg))
                return 0;
        if (msg->name_len == sizeof(KBUS_MSG_NAME_REPLIER_BIND_EVENT) - 1 &&
            !memcmp(kbus_msg_name_ptr(msg), KBUS_MSG_NAME_REPLIER_BIND_EVENT, msg->name_len)) {
                if (kbus_msg_split_bind_event(msg, &is_bind, &binder, &name) < 0)
                        return 0; /* malformed: amend_msg_to_kbus() says so */
                bool ok = !is_bind || name_allowed(l, name, strlen(name));
                snprintf(shown, KBUS_MAX_NAME_LEN + 1, "%s", name);
                free(name);
                *what = "bind as replier for";
                return ok ? 0 : -EPERM;
        }
        if (name_allowed(l, kbus_msg_name_ptr(msg), msg->name_len))
                return 0;
        *what = "send";
        snprintf(shown, KBUS_MAX_NAME_LEN + 1, "%.*s", (int)msg->name_len, kbus_msg_name_ptr(msg));
        return -EPERM;
}

/* Whether @msg may be posted: an announcement, without ALL_OR_WAIT or ALL_OR_FAIL. */
static bool can_post(const kbus_message_t *msg)
{
        return !kbus_msg_is_request(msg) && !kbus_msg_is_reply(msg) &&
               !(msg->flags & (KBUS_BIT_ALL_OR_WAIT | KBUS_BIT_ALL_OR_FAIL));
}

/* A message from the link: amend it and send it on the bus (or answer it). */
static void to_bus(Limpet *l, kbus_message_t *msg)
{
        kbus_message_t *error = NULL;
        char shown[KBUS_MAX_NAME_LEN + 1];
        const char *what;
        int r = far_side_allowed(l, msg, &what, shown);

        if (r < 0) { /* a request still gets its answer: RemoteError.1 (EPERM) */
                if (l->o->verbosity >= 1 && !l->refusal_said)
                        fprintf(stderr, "%s: Limpet %u may not %s %s here (--allow; said "
                                        "once a link)\n", tool_name(), l->other, what, shown);
                l->refusal_said = true;
                if (kbus_limpet_could_not_send_to_kbus_msg(l->ctx, msg, r, &error) == 0)
                        link_put(l, &error);
                return;
        }
        r = kbus_limpet_amend_msg_to_kbus(l->ctx, msg, &error);
        if (r == 0 && (msg->flags & KBUS_BIT_ALL_OR_WAIT)) {
                /* A Limpet never waits for a listener's room: one that stopped reading
                 * would stall the link for everyone.  Its sender's wait was on its own bus. */
                msg->flags &= ~KBUS_BIT_ALL_OR_WAIT;
                msg->flags |= KBUS_BIT_ALL_OR_FAIL;
        }
        if (r == 0) {
                int sent = -1;
                if (can_post(msg)) /* an announcement: posted, the batch flushed at once */
                        sent = kbus_ksock_post_msg(l->ks, msg);
                if (sent < 0) /* a request, reply or ALL_OR_*: its own answer matters */
                        sent = kbus_ksock_send_msg(l->ks, msg, NULL);
                if (sent < 0)
                        r = kbus_limpet_could_not_send_to_kbus_msg(l->ctx, msg, sent, &error);
        } else if (r < 0 && l->o->verbosity >= 1) {
                fprintf(stderr, "%s: a message from Limpet %u: %s\n", tool_name(), l->other,
                        strerror(-r));
        }
        if (error)
                link_put(l, &error);
}

/* The link's bytes so far: act on every whole message in them. */
static void on_link_read(struct bufferevent *bev, void *arg)
{
        Limpet *l = arg;
        struct evbuffer *in = bufferevent_get_input(bev);

        while (l->link) {
                size_t have = evbuffer_get_length(in), used;
                kbus_message_t *msg;
                if (have < LINK_HDR_LEN)
                        break;
                int r = kbus_limpet_msg_from_link(evbuffer_pullup(in, -1), have, &msg, &used);
                if (r < 0) {
                        link_down(l, "it sent something that is not a message: %s",
                                  strerror(-r));
                        return;
                }
                if (!msg)
                        break; /* the rest is on its way */
                evbuffer_drain(in, used);
                LimpetHello hello = { 0 };
                LimpetControl kind = limpet_control_kind(msg, &hello);
                if (kind == LIMPET_HELLO)
                        peer_is_kbus(l, &hello);
                else if (kind == LIMPET_INTEREST)
                        far_interest_set(l, msg);
                else if (kind == LIMPET_REACH)
                        reach_set(l, msg);
                else if (kind == LIMPET_BYE)
                        link_bye_heard(l, msg);
                else if (kind == LIMPET_NOT_CONTROL)
                        to_bus(l, msg);
                limpet_hello_free(&hello);
                kbus_msg_delete(&msg);
        }
        int r = l->link ? kbus_ksock_flush(l->ks) : 0; /* the posted announcements, in one write */
        if (r < 0 && l->o->verbosity >= 1)
                fprintf(stderr, "%s: an announcement from Limpet %u was refused: %s\n",
                        tool_name(), l->other, strerror(-r));
}

static void on_beat(evutil_socket_t unused, short what, void *arg)
{
        Limpet *l = arg;
        kbus_message_t *beat;
        (void)unused;
        (void)what;

        if (limpet_control_heartbeat(&beat) == 0)
                link_put(l, &beat);
}

/*
 * The other side is a kbus Limpet that beats every @peer_ms / 3 at least:
 * beat for it as often, and take the link for dead after our own
 * --heartbeat without a byte from it.
 */
void heartbeat_start(Limpet *l, uint32_t peer_ms)
{
        uint32_t every = peer_ms / 3 ? peer_ms / 3 : 1;
        struct timeval beat = { every / 1000, (every % 1000) * 1000 };
        struct timeval dead = { l->o->heartbeat_ms / 1000, (l->o->heartbeat_ms % 1000) * 1000 };

        if (l->beat_ev)
                return;
        l->beat_ev = event_new(l->base, -1, EV_PERSIST, on_beat, l);
        if (!l->beat_ev)
                return; /* no heartbeats: keepalive and EOF still end the link */
        event_add(l->beat_ev, &beat);
        bufferevent_set_timeouts(l->link, &dead, NULL);
}

static void on_link_drained(struct bufferevent *bev, void *arg)
{
        Limpet *l = arg;
        (void)bev;

        if (!event_pending(l->bus_ev, EV_READ, NULL)) {
                event_add(l->bus_ev, NULL);
                on_bus(l->ks, EV_READ, l); /* what arrived meanwhile */
        }
}

static void on_link_event(struct bufferevent *bev, short what, void *arg)
{
        Limpet *l = arg;
        (void)bev;

        if (what & BEV_EVENT_TIMEOUT)
                link_down(l, "not a word from it for %.3g s", l->o->heartbeat_ms / 1000.0);
        else if (what & BEV_EVENT_ERROR)
                link_down(l, "%s", strerror(errno));
        else if (what & BEV_EVENT_EOF)
                link_down(l, "it closed the link");
}

/* SIGINT, SIGTERM: a Bye to a kbus Limpet, then exit once it is sent. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        Limpet *l = arg;
        (void)sig;
        (void)what;

        link_bye(l, 0);
        link_free(l); /* kbusd answers what we took for the far side, at once */
        limpet_stop(l, TOOL_EXIT_OK);
}

/* What one link holds; the ksock is closed, so kbusd answers what we took and drops our proxies. */
void link_free(Limpet *l)
{
        l->tell_interest = false;
        free(l->interest_sent);
        l->interest_sent = NULL;
        l->tell_reach = false;
        l->peer_kbus = false;
        free(l->reach_sent);
        l->reach_sent = NULL;
        l->nreach_sent = 0;
        if (l->beat_ev)
                event_free(l->beat_ev);
        if (l->bus_ev)
                event_free(l->bus_ev);
        if (l->link)
                bufferevent_free(l->link);
        kbus_limpet_free_context(&l->ctx);
        if (l->ks >= 0)
                kbus_ksock_close(l->ks);
        l->beat_ev = NULL;
        l->bus_ev = NULL;
        l->link = NULL;
        l->ks = -1;
}

/* After a link went or was refused: wait for the next one, or exit with --once. */
void link_next(Limpet *l)
{
        if (l->o->once)
                limpet_stop(l, TOOL_EXIT_FAIL);
        else
                link_wait(l);
}

/* Ends the link, says why, and waits for the next one (or exits with --once). */
void link_down(Limpet *l, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: link down: Limpet %u at %s: ", tool_name(), l->other, l->peer);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        l->loop_said = false;
        link_free(l);
        link_next(l);
}

/* The ksock for a new link, its context, and the repliers already bound; 0 or -errno. */
static int link_join_bus(Limpet *l)
{
        kbus_message_t **events;
        size_t n;
        int r = tool_open(&l->o->bus, O_RDWR, LINK_TIMEOUT_MS, &l->ks);

        if (r < 0)
                return r; /* tool_open() said why */
        uint32_t queue = LIMPET_QUEUE;
        r = kbus_ksock_max_messages(l->ks, &queue); /* room for bursts; quotas still bound it */
        if (r == 0)
                r = kbus_limpet_new_context(l->ks, l->o->id, l->other, l->o->message,
                                            l->o->verbosity, &l->ctx);
        if (r == 0)
                r = kbus_limpet_current_repliers(l->ctx, &events, &n);
        if (r < 0) {
                tool_error("joining the bus", -r, TOOL_OP_BIND);
                return r;
        }
        r = kbus_limpet_set_reach(l->ctx, NULL, 0); /* we lead to ourselves and the other */
        if (r == 0)
                r = kbus_limpet_reachable_ids(l->ctx, &l->reach_sent, &l->nreach_sent);
        if (r < 0) {
                tool_error("joining the bus", -r, TOOL_OP_BIND);
                return r;
        }
        kbus_message_t *hello;
        LimpetHello ours = { .heartbeat_ms = l->o->heartbeat_ms, .wants_interest = !l->o->flood,
                             .has_reach = true, .reach = l->reach_sent,
                             .nreach = l->nreach_sent };
        if (limpet_control_hello(&ours, &hello) == 0)
                link_put(l, &hello); /* first: the extensions, if the other side knows them */
        for (size_t i = 0; i < n; i++)
                link_put(l, &events[i]);
        free(events);
        return 0;
}

/* Whether the other end of a Unix link runs as a uid --peer-uid allows; TCP: yes. */
static bool peer_allowed(const Limpet *l, int fd, uid_t *uid)
{
        if (l->o->link.path == NULL || link_peer_uid(fd, uid) < 0)
                return l->o->link.path == NULL;
        if (l->o->npeer_uids == 0)
                return *uid == 0 || *uid == getuid();
        for (int i = 0; i < l->o->npeer_uids; i++)
                if (l->o->peer_uids[i] == *uid)
                        return true;
        return false;
}

/* A link refused before it started: say why, close it, wait for the next. */
static void link_refuse(Limpet *l, int fd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void link_refuse(Limpet *l, int fd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: %s: ", tool_name(), l->peer);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        close(fd);
        link_next(l);
}

/* The link's bufferevent, over TLS or not; false (and the Limpet stopped) without memory. */
static bool link_bufferevent(Limpet *l, int fd, SSL *ssl)
{
        evutil_make_socket_nonblocking(fd);
        l->link = ssl ? bufferevent_openssl_socket_new(l->base, fd, ssl, BUFFEREVENT_SSL_OPEN,
                                                        BEV_OPT_CLOSE_ON_FREE)
                      : bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!l->link) {
                if (ssl)
                        SSL_free(ssl);
                close(fd);
                limpet_stop(l, TOOL_EXIT_FAIL);
                return false;
        }
        if (ssl) /* a peer that just closes is a link that went, not an attack */
                bufferevent_openssl_set_allow_dirty_shutdown(l->link, 1);
        bufferevent_setcb(l->link, on_link_read, on_link_drained, on_link_event, l);
        bufferevent_setwatermark(l->link, EV_WRITE, LINK_HIGH_WATER / 2, 0);
        return true;
}

void link_say_up(Limpet *l)
{
        char label[300];

        if (l->o->verbosity < 1)
                return;
        tool_bus_label(&l->o->bus, label, sizeof(label));
        fprintf(stderr, "%s: link up: Limpet %u at %s; %s, network id %u, passing on '%s'\n",
                tool_name(), l->other, l->peer, label, l->o->id, l->o->message);
}

/* The link carries messages: start reading the bus, and say so. */
static void link_running(Limpet *l)
{
        l->bus_ev = event_new(l->base, l->ks, EV_READ | EV_PERSIST, on_bus, l);
        if (!l->bus_ev || bufferevent_enable(l->link, EV_READ | EV_WRITE) < 0) {
                limpet_stop(l, TOOL_EXIT_FAIL);
                return;
        }
        event_add(l->bus_ev, NULL);
        l->refusal_said = false;
        if (!l->loop_said) { /* else once the other side's Hello shows the loop has gone */
                l->backoff_ms = LINK_BACKOFF_FIRST_MS;
                link_say_up(l);
        }
        on_bus(l->ks, EV_READ, l); /* anything already queued */
}

/* A connected socket: the peer's uid, TLS, HELO, the bus; the link is up, or down again. */
static void link_up(Limpet *l, int fd)
{
        char why[400];
        SSL *ssl = NULL;
        uid_t uid = 0;

        link_peer_name(&l->o->link, fd, l->peer, sizeof(l->peer));
        if (!peer_allowed(l, fd, &uid)) {
                link_refuse(l, fd, "a Limpet of uid %u was refused (--peer-uid)", (unsigned)uid);
                return;
        }
        if (l->tls && !(ssl = link_tls_handshake(l->tls, fd, l->o->server, LINK_TLS_WAIT_MS, why,
                                                  sizeof(why)))) {
                link_refuse(l, fd, "a Limpet was refused: %s", why);
                return;
        }
        int r = link_hello(fd, ssl, l->o->id, &l->other, LINK_TIMEOUT_MS);
        if (r == 0 && l->other == l->o->id)
                r = -EINVAL;
        if (!link_bufferevent(l, fd, ssl))
                return;
        if (r < 0)
                link_down(l, "it did not say HELO with another network id: %s", strerror(-r));
        else if (link_join_bus(l) < 0)
                limpet_stop(l, TOOL_EXIT_FAIL); /* our own bus: nothing a new link would fix */
        else
                link_running(l);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
        Limpet *l = arg;
        (void)what;

        int fd = link_accept(&l->o->link, lfd);
        if (fd < 0)
                return; /* the connection went before we took it: wait on */
        event_del(l->accept_ev); /* one link at a time */
        link_up(l, fd);
}

static void on_retry(evutil_socket_t unused, short what, void *arg)
{
        Limpet *l = arg;
        char why[400];
        (void)unused;
        (void)what;

        int fd = link_connect(&l->o->link, why, sizeof(why));
        if (fd >= 0) {
                link_up(l, fd);
                return;
        }
        if (fd != -ECONNREFUSED && fd != -ENOENT && l->o->verbosity >= 1)
                fprintf(stderr, "%s: %s: %s: %s\n", tool_name(), l->o->link_arg, why,
                        strerror(-fd));
        link_wait(l);
}

/* Waits for the next link: the server for a Limpet to connect, the client to try again. */
static void link_wait(Limpet *l)
{
        if (l->o->server) {
                event_add(l->accept_ev, NULL);
                return;
        }
        struct timeval tv = { l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000 };
        event_add(l->retry_ev, &tv);
        l->backoff_ms = l->backoff_ms * 2 > LINK_BACKOFF_MAX_MS ? LINK_BACKOFF_MAX_MS
                                                                : l->backoff_ms * 2;
}

/* The loop and what lasts across links; exits with a message if it can't. */
static void limpet_start(Limpet *l, const LimpetOptions *o)
{
        char why[400];

        *l = (Limpet){ .o = o, .ks = -1, .listen_fd = -1, .status = TOOL_EXIT_OK,
                       .backoff_ms = LINK_BACKOFF_FIRST_MS };
        l->base = event_base_new();
        if (!l->base)
                exit(TOOL_EXIT_FAIL);
        if (o->tls_cert) {
                l->tls = link_tls_context(o->server, o->tls_cert, o->tls_key, o->tls_ca, why,
                                          sizeof(why));
                if (!l->tls) {
                        tool_fail(o->link_arg, "TLS", "%s", why);
                        exit(TOOL_EXIT_FAIL);
                }
        } else if (o->insecure && o->verbosity >= 1) {
                fprintf(stderr, "%s: warning: --insecure: the link to %s is neither "
                                "authenticated nor encrypted\n", tool_name(), o->link_arg);
        }
        if (o->server) {
                l->listen_fd = link_listen(&o->link, why, sizeof(why));
                if (l->listen_fd < 0) {
                        tool_fail(o->link_arg, why, "%s", strerror(-l->listen_fd));
                        exit(TOOL_EXIT_FAIL);
                }
                l->accept_ev = event_new(l->base, l->listen_fd, EV_READ, on_accept, l);
        } else {
                l->retry_ev = evtimer_new(l->base, on_retry, l);
        }
        l->sigint_ev = evsignal_new(l->base, SIGINT, on_signal, l);
        l->sigterm_ev = evsignal_new(l->base, SIGTERM, on_signal, l);
        if ((o->server ? !l->accept_ev : !l->retry_ev) || !l->sigint_ev || !l->sigterm_ev)
                exit(TOOL_EXIT_FAIL);
        event_add(l->sigint_ev, NULL);
        event_add(l->sigterm_ev, NULL);
        if (o->server)
                event_add(l->accept_ev, NULL);
        else
                event_active(l->retry_ev, EV_TIMEOUT, 0); /* the first attempt at once */
}

static void limpet_free(Limpet *l)
{
        link_free(l);
        if (l->accept_ev)
                event_free(l->accept_ev);
        if (l->retry_ev)
                event_free(l->retry_ev);
        if (l->listen_fd >= 0)
                close(l->listen_fd);
        event_free(l->sigint_ev);
        event_free(l->sigterm_ev);
        event_base_free(l->base);
        if (l->tls)
                SSL_CTX_free(l->tls);
}

int main(int argc, char **argv)
{
        LimpetOptions o;
        Limpet l;

        tool_init("kbus-limpet");
        setvbuf(stdout, NULL, _IOLBF, 0); /* its lines are a log: each as it happens */
        signal(SIGPIPE, SIG_IGN);
        limpet_parse_args(argc, argv, &o);
        limpet_start(&l, &o);
        event_base_dispatch(l.base);
        int status = l.status;
        limpet_free(&l);
        return status;
}
