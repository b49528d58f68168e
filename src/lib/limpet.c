/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet.c - the Limpet API (include/kbus/limpet.h): what a Limpet does to
 * each message between its bus and the link, and the link's message bytes.
 *
 * A context remembers two things: the requests this Limpet took from its
 * bus as proxy replier (message id -> requester), so that a reply from the
 * far side goes back to the requester; and the names it is proxy replier
 * for (name -> the far replier's ksock id), so that an unbind from the far
 * side can be matched.  Both are trees: a busy link may have many requests
 * in flight.
 */
#include <kbus/limpet.h>

#include <arpa/inet.h>
#include <bsd/sys/tree.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/name.h"
#include "../proto/wire.h"
#include "export.h"
#include "limpet-context.h"
#include "ksock.h"
#include "msg.h"
#include "query.h"

static int request_cmp(const Request *a, const Request *b)
{
        return kbus_msg_compare_ids(&a->id, &b->id);
}

static int proxy_cmp(const Proxy *a, const Proxy *b)
{
        return strcmp(a->name, b->name);
}

/* RB_GENERATE_STATIC needs an __unused that libbsd leaves undefined. */
RB_GENERATE_INTERNAL(RequestTree, Request, link, request_cmp, static __attribute__((unused)))
RB_GENERATE_INTERNAL(ProxyTree, Proxy, link, proxy_cmp, static __attribute__((unused)))


static const char bind_event_name[] = KBUS_MSG_NAME_REPLIER_BIND_EVENT;

static bool limpet_is_bind_event(const kbus_message_t *msg)
{
        const char *name = kbus_msg_name_ptr(msg);

        return name && msg->name_len == sizeof(bind_event_name) - 1 &&
               memcmp(name, bind_event_name, msg->name_len) == 0;
}

static bool limpet_is_listener_notice(const kbus_message_t *msg)
{
        static const char notice[] = KBUS_MSG_NAME_LISTENER_BINDS_CHANGED;
        const char *name = kbus_msg_name_ptr(msg);

        return name && msg->name_len == sizeof(notice) - 1 &&
               memcmp(name, notice, msg->name_len) == 0;
}

/* Prints @what and @msg when the context is verbose (level 2), as the original did. */
static void limpet_trace(const kbus_limpet_context_t *ctx, const char *what,
                         const kbus_message_t *msg)
{
        if (ctx->verbosity < 2)
                return;
        printf("%u %s", ctx->network_id, what);
        if (msg)
                kbus_msg_print(stdout, msg);
        printf("\n");
}

/* Says that @what failed for @name, when the context is verbose. */
void limpet_warn(const kbus_limpet_context_t *ctx, const char *what, const char *name, int err)
{
        if (ctx->verbosity >= 1)
                printf("Limpet %u: %s '%s': %s\n", ctx->network_id, what, name, strerror(-err));
}

KBUS_EXPORT void kbus_serialise_message_header(const kbus_message_t *msg,
                                               uint32_t result[KBUS_SERIALISED_HDR_LEN])
{
        const uint32_t host[KBUS_SERIALISED_HDR_LEN] = {
                msg->start_guard,        msg->id.network_id,       msg->id.serial_num,
                msg->in_reply_to.network_id, msg->in_reply_to.serial_num, msg->to,
                msg->from,               msg->orig_from.network_id, msg->orig_from.local_id,
                msg->final_to.network_id, msg->final_to.local_id,  msg->extra,
                msg->flags,              msg->name_len,            msg->data_len,
                msg->end_guard,
        };

        for (int i = 0; i < KBUS_SERIALISED_HDR_LEN; i++)
                result[i] = htonl(host[i]);
}

KBUS_EXPORT void kbus_unserialise_message_header(uint32_t serial[KBUS_SERIALISED_HDR_LEN],
                                                 kbus_message_t *msg)
{
        for (int i = 0; i < KBUS_SERIALISED_HDR_LEN; i++)
                serial[i] = ntohl(serial[i]);
        *msg = (kbus_message_t){
                .start_guard = serial[0],
                .id = { serial[1], serial[2] },
                .in_reply_to = { serial[3], serial[4] },
                .to = serial[5],
                .from = serial[6],
                .orig_from = { serial[7], serial[8] },
                .final_to = { serial[9], serial[10] },
                .extra = serial[11],
                .flags = serial[12],
                .name_len = serial[13],
                .data_len = serial[14],
                .end_guard = serial[15],
        };
}

/*
 * Only-once, the two listener bindings, and replier bind events (as the
 * original); and (kbus) none of its own sends back, which it would drop.
 */
static int limpet_setup_ksock(kbus_limpet_context_t *ctx)
{
        int r = kbus_ksock_only_once(ctx->ksock, 1);

        if (r >= 0)
                r = kbus_ksock_bind(ctx->ksock, ctx->message_name, 0);
        if (r >= 0)
                r = kbus_ksock_bind(ctx->ksock, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0);
        if (r >= 0)
                r = kbus_ksock_report_replier_binds(ctx->ksock, 1);
        if (r >= 0)
                (void)ksock_no_echo(ctx->ksock, 1); /* kbus: an older kbusd just echoes */
        if (r >= 0)
                r = limpet_listening_init(ctx);
        return r < 0 ? r : 0;
}

KBUS_EXPORT int kbus_limpet_new_context(kbus_ksock_t ksock, uint32_t network_id,
                                        uint32_t other_network_id, const char *message_name,
                                        uint32_t verbosity, kbus_limpet_context_t **context)
{
        kbus_limpet_context_t *ctx;
        uint32_t id;
        int r;

        *context = NULL;
        if (!message_name || strlen(message_name) < 3 ||
            name_check(message_name, strlen(message_name), true, NULL) != 0)
                return lib_result(-EBADMSG);
        if (network_id == 0 || other_network_id == 0 || network_id == other_network_id)
                return lib_result(-EINVAL);
        r = kbus_ksock_id(ksock, &id);
        if (r < 0)
                return r;
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx || !(ctx->message_name = strdup(message_name))) {
                free(ctx);
                return lib_result(-ENOMEM);
        }
        ctx->ksock = ksock;
        ctx->ksock_id = id;
        ctx->network_id = network_id;
        ctx->other_network_id = other_network_id;
        ctx->verbosity = verbosity;
        RB_INIT(&ctx->requests);
        RB_INIT(&ctx->proxies);
        r = limpet_setup_ksock(ctx);
        if (r < 0) {
                kbus_limpet_free_context(&ctx);
                return lib_result(r);
        }
        *context = ctx;
        return 0;
}

KBUS_EXPORT void kbus_limpet_set_verbosity(kbus_limpet_context_t *context, uint32_t verbosity)
{
        context->verbosity = verbosity;
}

KBUS_EXPORT void kbus_limpet_free_context(kbus_limpet_context_t **context)
{
        kbus_limpet_context_t *ctx = *context;
        Request *rq, *rq_next;
        Proxy *p, *p_next;

        if (!ctx)
                return;
        RB_FOREACH_SAFE(rq, RequestTree, &ctx->requests, rq_next) {
                RB_REMOVE(RequestTree, &ctx->requests, rq);
                free(rq);
        }
        RB_FOREACH_SAFE(p, ProxyTree, &ctx->proxies, p_next) {
                RB_REMOVE(ProxyTree, &ctx->proxies, p);
                free(p);
        }
        name_set_free(&ctx->listening);
        name_set_free(&ctx->reach);
        free(ctx->message_name);
        free(ctx);
        *context = NULL;
}

/* Remembers who sent request @id; 1 if it is already remembered. */
static int limpet_remember_request(kbus_limpet_context_t *ctx, kbus_msg_id_t id, uint32_t from)
{
        Request *rq = malloc(sizeof(*rq));

        if (!rq)
                return -ENOMEM;
        *rq = (Request){ .id = id, .from = from };
        if (RB_INSERT(RequestTree, &ctx->requests, rq)) {
                free(rq);
                return 1;
        }
        return 0;
}

/* Forgets request @id and returns its requester (0 if it was not remembered). */
static uint32_t limpet_take_request(kbus_limpet_context_t *ctx, kbus_msg_id_t id)
{
        Request key = { .id = id };
        Request *rq = RB_FIND(RequestTree, &ctx->requests, &key);
        uint32_t from;

        if (!rq)
                return 0;
        from = rq->from;
        RB_REMOVE(RequestTree, &ctx->requests, rq);
        free(rq);
        return from;
}

KBUS_EXPORT int kbus_limpet_amend_msg_from_kbus(kbus_limpet_context_t *context,
                                                kbus_message_t *msg)
{
        kbus_limpet_context_t *ctx = context;

        if (limpet_is_listener_notice(msg)) {
                limpet_trace(ctx, ".. our bus's listeners changed: not passed on", NULL);
                return 1;
        }
        if (limpet_is_bind_event(msg)) {
                uint32_t is_bind, binder;
                char *name;
                int r = kbus_msg_split_bind_event(msg, &is_bind, &binder, &name);

                if (r < 0)
                        return r;
                free(name);
                if (binder == ctx->ksock_id) {
                        limpet_trace(ctx, ".. our own proxy (un)bind: not passed on", NULL);
                        return 1;
                }
        }
        if (msg->from == ctx->ksock_id) {
                /* We sent it, from the link: passing it back would loop in a chain of
                 * buses, where its id names the first Limpet, not our pair. */
                limpet_trace(ctx, ".. our own send: not passed back", NULL);
                return 1;
        }
        if (kbus_msg_is_request(msg) && kbus_msg_wants_us_to_reply(msg)) {
                int r = limpet_remember_request(ctx, msg->id, msg->from);
                if (r != 0)
                        return r; /* -ENOMEM, or 1: a second copy of one request */
        }
        if (msg->id.network_id == ctx->other_network_id) {
                limpet_trace(ctx, ".. came from the other Limpet: not passed back", NULL);
                return 1;
        }
        if (msg->id.network_id == ctx->network_id) {
                /* kbus: it left this bus through us and came back another way: the
                 * buses form a loop.  Passing it on again would send it round for ever. */
                if (!ctx->loop_seen && ctx->verbosity >= 1)
                        printf("Limpet %u: '%s' came back round a loop of links; such messages "
                               "are dropped (said once)\n", ctx->network_id, kbus_msg_name_ptr(msg));
                ctx->loop_seen = true;
                return 1;
        }
        if (msg->id.network_id == 0)
                msg->id.network_id = ctx->network_id;
        if (msg->orig_from.network_id == 0)
                msg->orig_from = (kbus_orig_from_t){ ctx->network_id, msg->from };
        return 0;
}

/* A proxy binding for @name, made or undone as the far side's replier was. */
static int limpet_proxy_bind_event(kbus_limpet_context_t *ctx, const kbus_message_t *msg)
{
        uint32_t is_bind, binder;
        char *name;
        int r = kbus_msg_split_bind_event(msg, &is_bind, &binder, &name);

        if (r < 0)
                return r;
        size_t len = strlen(name);
        Proxy *p = malloc(sizeof(*p) + len + 1);
        if (!p) {
                free(name);
                return -ENOMEM;
        }
        memcpy(p->name, name, len + 1);
        p->binder = binder;
        Proxy *had = RB_FIND(ProxyTree, &ctx->proxies, p);
        if (is_bind && !had) {
                r = kbus_ksock_bind(ctx->ksock, name, 1);
                if (r == 0) {
                        RB_INSERT(ProxyTree, &ctx->proxies, p);
                        p = NULL;
                }
        } else if (!is_bind && had) {
                r = kbus_ksock_unbind(ctx->ksock, name, 1);
                if (r == 0) {
                        RB_REMOVE(ProxyTree, &ctx->proxies, had);
                        free(had);
                }
        } /* else a bind we have, or an unbind we lack: nothing to do */
        if (r < 0)
                limpet_warn(ctx, is_bind ? "cannot bind as proxy replier for"
                                         : "cannot unbind as proxy replier for", name, r);
        free(p);
        free(name);
        return r < 0 ? r : 1;
}

/* A reply from the far side: back to the requester who asked us. */
static int limpet_amend_reply(kbus_limpet_context_t *ctx, kbus_message_t *msg)
{
        if (msg->in_reply_to.network_id == ctx->network_id)
                msg->in_reply_to.network_id = 0; /* the id our bus gave the request */
        uint32_t from = limpet_take_request(ctx, msg->in_reply_to);
        if (from == 0) {
                limpet_trace(ctx, ".. a reply nobody here waits for (a listener's copy)", NULL);
                return 1;
        }
        msg->to = from;
        msg->id = (kbus_msg_id_t){ 0, 0 }; /* our bus gives it a new id */
        return 0;
}

/* A status named @name answering @msg, to send back over the link (entire). */
static int limpet_status_for(const kbus_message_t *msg, const char *name, kbus_message_t **ret)
{
        int r = kbus_msg_create_entire(ret, name, (uint32_t)strlen(name), NULL, 0, 0);

        if (r < 0)
                return r;
        (*ret)->to = msg->from;
        (*ret)->in_reply_to = msg->id;
        return 0;
}

/*
 * A stateful request from the far side: to the replier here, which on the
 * last bus (final_to names it) must be the very replier the requester meant.
 */
static int limpet_amend_stateful(kbus_limpet_context_t *ctx, kbus_message_t *msg,
                                 kbus_message_t **error)
{
        bool last_bus = msg->final_to.network_id == ctx->network_id;
        uint32_t replier;
        int r = kbus_ksock_find_replier(ctx->ksock, kbus_msg_name_ptr(msg), &replier);

        if (r < 0)
                return r;
        if (last_bus)
                msg->final_to.network_id = 0;
        if (replier == 0) {
                r = limpet_status_for(msg, KBUS_MSG_NAME_REPLIER_GONEAWAY, error);
                return r < 0 ? r : 2;
        }
        if (last_bus && replier != msg->final_to.local_id) {
                r = limpet_status_for(msg, KBUS_MSG_NOT_SAME_KSOCK, error);
                return r < 0 ? r : 2;
        }
        msg->to = replier; /* on the way, the next Limpet: it passes the request on */
        return 0;
}

KBUS_EXPORT int kbus_limpet_amend_msg_to_kbus(kbus_limpet_context_t *context,
                                              kbus_message_t *msg, kbus_message_t **error)
{
        kbus_limpet_context_t *ctx = context;
        int r = 0;

        *error = NULL;
        if (!kbus_msg_name_ptr(msg))
                return lib_result(-EBADMSG);
        limpet_trace(ctx, "Limpet->Us: ", msg);
        if (limpet_is_bind_event(msg))
                return lib_result(limpet_proxy_bind_event(ctx, msg));
        if (kbus_msg_is_reply(msg))
                r = limpet_amend_reply(ctx, msg);
        else if (kbus_msg_is_stateful_request(msg) && kbus_msg_wants_us_to_reply(msg))
                r = limpet_amend_stateful(ctx, msg, error);
        if (r == 0)
                limpet_trace(ctx, "Us->KBUS:   ", msg);
        else if (r == 2)
                limpet_trace(ctx, "Us->Limpet: ", *error);
        return lib_result(r);
}

/* Swaps the three u32 fields of a bind event's data with @swap, if they are there. */
static void limpet_bind_event_swap(kbus_message_t *msg, uint32_t (*swap)(uint32_t))
{
        uint8_t *data = kbus_msg_data_ptr(msg);
        uint32_t v[3];

        if (!data || msg->data_len < sizeof(v))
                return;
        memcpy(v, data, sizeof(v));
        for (int i = 0; i < 3; i++)
                v[i] = swap(v[i]);
        memcpy(data, v, sizeof(v));
}

static uint32_t limpet_htonl(uint32_t v)
{
        return htonl(v);
}

static uint32_t limpet_ntohl(uint32_t v)
{
        return ntohl(v);
}

KBUS_EXPORT void kbus_limpet_ReplierBindEvent_hton(kbus_message_t *msg)
{
        limpet_bind_event_swap(msg, limpet_htonl);
}

KBUS_EXPORT void kbus_limpet_ReplierBindEvent_ntoh(kbus_message_t *msg)
{
        limpet_bind_event_swap(msg, limpet_ntohl);
}

KBUS_EXPORT int kbus_limpet_could_not_send_to_kbus_msg(kbus_limpet_context_t *context,
                                                       const kbus_message_t *msg, int errnum,
                                                       kbus_message_t **error)
{
        char name[sizeof(KBUS_MSG_REMOTE_ERROR_PREFIX) + 12];

        *error = NULL;
        if (!kbus_msg_is_request(msg)) {
                if (context->verbosity >= 1)
                        printf("Limpet %u: could not send a message to the bus: %s\n",
                               context->network_id, strerror(errnum < 0 ? -errnum : errnum));
                return 1;
        }
        snprintf(name, sizeof(name), "%s%d", KBUS_MSG_REMOTE_ERROR_PREFIX,
                 errnum < 0 ? -errnum : errnum);
        int r = limpet_status_for(msg, name, error);
        if (r == 0)
                limpet_trace(context, "Us->Limpet: ", *error);
        return lib_result(r);
}

/* A replier bind event for @name bound by @binder, as kbusd makes one (host order). */
static int limpet_bind_event_for(const kbus_limpet_context_t *ctx, uint32_t binder,
                                 const char *name, kbus_message_t **ret)
{
        uint32_t len = (uint32_t)strlen(name);
        size_t size = 12 + KBUS_PADDED_NAME_LEN((size_t)len);
        uint32_t *data = calloc(1, size);

        if (!data)
                return -ENOMEM;
        data[0] = 1;
        data[1] = binder;
        data[2] = len;
        memcpy(data + 3, name, len);
        int r = kbus_msg_create_entire(ret, bind_event_name, sizeof(bind_event_name) - 1, data,
                                       (uint32_t)size, KBUS_BIT_SYNTHETIC);
        free(data);
        if (r == 0)
                (*ret)->id.network_id = ctx->network_id;
        return r;
}

KBUS_EXPORT int kbus_limpet_current_repliers(kbus_limpet_context_t *context,
                                             kbus_message_t ***events, size_t *count)
{
        KbusBindingInfo *b;
        size_t n, made = 0;
        int r = kbus_query_bindings(context->ksock, &b, &n);

        *events = NULL;
        *count = 0;
        if (r < 0)
                return lib_result(r);
        kbus_message_t **list = n ? calloc(n, sizeof(*list)) : NULL;
        if (n && !list)
                r = -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++)
                if (b[i].is_replier && b[i].ksock_id != context->ksock_id)
                        r = limpet_bind_event_for(context, b[i].ksock_id, b[i].name,
                                                  &list[made++]);
        kbus_query_bindings_free(b, n);
        if (r < 0) {
                for (size_t i = 0; i < made; i++)
                        kbus_msg_delete(&list[i]);
                free(list);
                return lib_result(r);
        }
        *events = list;
        *count = made;
        return 0;
}

/* ---- the link's bytes ------------------------------------------------- */

#define LINK_HDR_LEN (KBUS_SERIALISED_HDR_LEN * 4u)

static size_t link_size(uint32_t name_len, uint32_t data_len)
{
        return LINK_HDR_LEN + KBUS_PADDED_NAME_LEN((size_t)name_len) +
               KBUS_PADDED_DATA_LEN((size_t)data_len) + 4;
}

KBUS_EXPORT int kbus_limpet_msg_to_link(const kbus_message_t *msg, uint8_t **buf, size_t *len)
{
        const char *name = kbus_msg_name_ptr(msg);
        const void *data = kbus_msg_data_ptr(msg);
        uint32_t hdr[KBUS_SERIALISED_HDR_LEN], guard = htonl(KBUS_MSG_END_GUARD);

        *buf = NULL;
        *len = 0;
        if (!name || msg->name_len == 0 || (msg->data_len && !data))
                return lib_result(-EINVAL);
        if (msg->name_len > KBUS_MAX_NAME_LEN || msg->data_len > KBUS_MSG_SIZE_ABS_MAX)
                return lib_result(-EMSGSIZE);
        size_t size = link_size(msg->name_len, msg->data_len);
        uint8_t *p = calloc(1, size);
        if (!p)
                return lib_result(-ENOMEM);
        kbus_serialise_message_header(msg, hdr);
        hdr[0] = htonl(KBUS_MSG_START_GUARD); /* a pointy message's guards may be unset */
        hdr[KBUS_SERIALISED_HDR_LEN - 1] = guard;
        memcpy(p, hdr, LINK_HDR_LEN);
        memcpy(p + LINK_HDR_LEN, name, msg->name_len);
        uint8_t *d = p + LINK_HDR_LEN + KBUS_PADDED_NAME_LEN((size_t)msg->name_len);
        if (msg->data_len)
                memcpy(d, data, msg->data_len);
        if (limpet_is_bind_event(msg) && msg->data_len >= 12)
                for (int i = 0; i < 3; i++) {
                        uint32_t v;
                        memcpy(&v, d + 4 * i, 4);
                        v = htonl(v);
                        memcpy(d + 4 * i, &v, 4);
                }
        memcpy(p + size - 4, &guard, 4);
        *buf = p;
        *len = size;
        return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

KBUS_EXPORT int kbus_limpet_msg_from_link(const uint8_t *buf, size_t len, kbus_message_t **msg,
                                          size_t *used)
{
        uint32_t hdr[KBUS_SERIALISED_HDR_LEN], guard;
        kbus_message_t h;

        *msg = NULL;
        *used = 0;
        if (len < LINK_HDR_LEN)
                return 0;
        memcpy(hdr, buf, LINK_HDR_LEN);
        kbus_unserialise_message_header(hdr, &h);
        if (h.start_guard != KBUS_MSG_START_GUARD || h.end_guard != KBUS_MSG_END_GUARD ||
            h.name_len == 0 || h.name_len > KBUS_MAX_NAME_LEN)
                return lib_result(-EBADMSG);
        if (h.data_len > KBUS_MSG_SIZE_ABS_MAX)
                return lib_result(-EMSGSIZE);
        size_t size = link_size(h.name_len, h.data_len);
        if (len < size)
                return 0;
        const uint8_t *name = buf + LINK_HDR_LEN;
        const uint8_t *data = name + KBUS_PADDED_NAME_LEN((size_t)h.name_len);
        memcpy(&guard, buf + size - 4, 4);
        if (ntohl(guard) != KBUS_MSG_END_GUARD ||
            !all_zero(name + h.name_len, KBUS_PADDED_NAME_LEN((size_t)h.name_len) - h.name_len) ||
            !all_zero(data + h.data_len, KBUS_PADDED_DATA_LEN((size_t)h.data_len) - h.data_len) ||
            name_check((const char *)name, h.name_len, false, NULL) != 0)
                return lib_result(-EBADMSG);
        WireMsg w = {
                .id_net = h.id.network_id, .id_serial = h.id.serial_num,
                .irt_net = h.in_reply_to.network_id, .irt_serial = h.in_reply_to.serial_num,
                .to = h.to, .from = h.from,
                .orig_net = h.orig_from.network_id, .orig_local = h.orig_from.local_id,
                .final_net = h.final_to.network_id, .final_local = h.final_to.local_id,
                .extra = h.extra, .flags = h.flags,
                .name_len = h.name_len, .data_len = h.data_len,
                .name = (const char *)name, .data = data,
        };
        int r = msg_from_wire(&w, 0, msg);
        if (r < 0)
                return lib_result(r);
        if (limpet_is_bind_event(*msg))
                kbus_limpet_ReplierBindEvent_ntoh(*msg);
        *used = size;
        return 0;
}
