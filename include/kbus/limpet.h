/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet.h - the Limpet API of libkbus (semantics §13, docs/limpet.md).
 *
 * A Limpet joins two buses: it sits on one bus as a ksock, and talks to
 * another Limpet, on the other bus, over a socket (the "link").  Messages
 * on one bus then reach listeners and repliers on the other as if local.
 * These functions do the per-message work, with the names and meanings of
 * the original KBUS Limpet library; kbus-limpet(1) is the program that
 * runs a Limpet with them.
 *
 * What a Limpet does to a message:
 *
 *  - From its bus to the link (kbus_limpet_amend_msg_from_kbus()): a
 *    message whose id has no network id gets this Limpet's; orig_from is
 *    set to {this Limpet's network id, the sender's ksock id} by the first
 *    Limpet that passes it on; messages that came from the other Limpet
 *    (their id names it) or that this Limpet sent itself (kbus: in a chain
 *    of buses the id names the first Limpet, so the original bounced them
 *    back and forth), messages that already left through this Limpet
 *    (kbus: their id names it; they came back round a loop of links), and
 *    replier bind events for its own proxy bindings, are not passed on; a
 *    request this Limpet must answer (as proxy replier) is
 *    remembered, so that the reply from the far side can be returned to
 *    its requester.
 *  - From the link to its bus (kbus_limpet_amend_msg_to_kbus()): a replier
 *    bind event makes this Limpet bind (or unbind) as proxy replier for the
 *    name; a reply to a remembered request is addressed to its requester; a
 *    stateful request is addressed to the replier on this bus, or, on the
 *    bus named by its final_to, checked against that replier
 *    ($.KBUS.Replier.NotSameKsock if another ksock replies there now,
 *    $.KBUS.Replier.GoneAway if nobody does).
 *
 * Every message from the link is untrusted: a malformed one gets -EBADMSG,
 * never a crash.  A context is used by one thread at a time.
 */
#ifndef KBUS_LIMPET_H
#define KBUS_LIMPET_H

#include <stddef.h>
#include <stdint.h>

#include <kbus/kbus.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One Limpet's state: its ksock, network ids, proxy bindings and requests. */
typedef struct kbus_limpet_context kbus_limpet_context_t;

/* The u32 fields of a message header as the link carries them. */
#define KBUS_SERIALISED_HDR_LEN 16

/* Statuses only Limpets send; RemoteError is followed by an errno number. */
#define KBUS_MSG_NOT_SAME_KSOCK "$.KBUS.Replier.NotSameKsock"
#define KBUS_MSG_REMOTE_ERROR_PREFIX "$.KBUS.RemoteError."

/* The most network ids kbus_limpet_set_reach() takes (kbus). */
#define KBUS_LIMPET_REACH_MAX 4096

/**
 * kbus_serialise_message_header() - a message header as the link carries it.
 * @msg:    the message
 * @result: set to start_guard, id (network, serial), in_reply_to (network,
 *          serial), to, from, orig_from (network, local), final_to
 *          (network, local), extra, flags, name_len, data_len, end_guard,
 *          each in network byte order.  The name and data pointers are not
 *          carried.
 */
void kbus_serialise_message_header(const kbus_message_t *msg,
                                   uint32_t result[KBUS_SERIALISED_HDR_LEN]);

/**
 * kbus_unserialise_message_header() - the reverse: fill @msg's header from
 * @serial (network byte order, as kbus_serialise_message_header() made it).
 * @serial: the link's header; converted to host order in place, as the
 *          original did
 * @msg:    the header to fill; its name and data pointers are set to NULL
 */
void kbus_unserialise_message_header(uint32_t serial[KBUS_SERIALISED_HDR_LEN],
                                     kbus_message_t *msg);

/**
 * kbus_limpet_new_context() - make @ksock a Limpet's ksock.
 * @ksock:            open for reading and writing
 * @network_id:       this Limpet's network id (not 0)
 * @other_network_id: the other Limpet's (not 0, not @network_id)
 * @message_name:     what to pass on: a name or wildcard, usually "$.*"
 *                    (copied)
 * @verbosity:        0 quiet, 1 errors and warnings, 2 every message (on
 *                    stdout, as the original)
 * @context:          set to the new context, or NULL on failure
 *
 * Asks for one copy of each message (only-once), binds @message_name and
 * $.KBUS.ReplierBindEvent as listener, and asks for replier bind events.
 *
 * Return: 0; -EBADMSG (@message_name NULL, shorter than 3 bytes, or not a
 * valid binding); -EINVAL (a network id 0, or both the same); -EBADF;
 * -ENOMEM; or what binding returned.
 */
int kbus_limpet_new_context(kbus_ksock_t ksock, uint32_t network_id, uint32_t other_network_id,
                            const char *message_name, uint32_t verbosity,
                            kbus_limpet_context_t **context);

/**
 * kbus_limpet_set_verbosity() - change what the context prints.
 * @context:   the context
 * @verbosity: as for kbus_limpet_new_context()
 */
void kbus_limpet_set_verbosity(kbus_limpet_context_t *context, uint32_t verbosity);

/**
 * kbus_limpet_free_context() - free a context and set *@context to NULL;
 * nothing for NULL.  The ksock stays open, with its bindings.
 * @context: the context
 */
void kbus_limpet_free_context(kbus_limpet_context_t **context);

/**
 * kbus_limpet_amend_msg_from_kbus() - prepare a message read from the bus
 * for the link (see the top of this file).
 * @context: the context
 * @msg:     the message; its header is changed
 *
 * Return: 0 (send it to the other Limpet), 1 (not for the link: drop it),
 * -EBADMSG (a malformed replier bind event), -ENOMEM.
 */
int kbus_limpet_amend_msg_from_kbus(kbus_limpet_context_t *context, kbus_message_t *msg);

/**
 * kbus_limpet_amend_msg_to_kbus() - prepare a message from the link for the
 * bus (see the top of this file).
 * @context: the context
 * @msg:     the message; its header is changed, never its data
 * @error:   set to NULL, or (return 2) to a status to send back over the
 *           link instead; the caller frees it with kbus_msg_delete()
 *
 * Return: 0 (send @msg to the bus), 1 (nothing to send: a bind event acted
 * on, or a reply nobody here waits for), 2 (send *@error back), -EBADMSG
 * (malformed), or a negative errno from binding or asking kbusd.
 */
int kbus_limpet_amend_msg_to_kbus(kbus_limpet_context_t *context, kbus_message_t *msg,
                                  kbus_message_t **error);

/**
 * kbus_limpet_ReplierBindEvent_hton() - the data of a replier bind event
 * (is_bind, binder, name_len) to network byte order, in place.  Does
 * nothing if the data is too short to hold them.
 * @msg: a $.KBUS.ReplierBindEvent message
 */
void kbus_limpet_ReplierBindEvent_hton(kbus_message_t *msg);

/**
 * kbus_limpet_ReplierBindEvent_ntoh() - the same, to host byte order.
 * @msg: a $.KBUS.ReplierBindEvent message
 */
void kbus_limpet_ReplierBindEvent_ntoh(kbus_message_t *msg);

/**
 * kbus_limpet_could_not_send_to_kbus_msg() - sending @msg (from the link) to
 * the bus failed with @errnum: the status to send back over the link.
 * @context: the context
 * @msg:     the message that could not be sent
 * @errnum:  the error, negative or positive
 * @error:   set to a reply named $.KBUS.RemoteError.<errno> to @msg's sender
 *           if @msg is a request, else NULL; freed by the caller
 *
 * Return: 0 (send *@error), 1 (nothing to send), -ENOMEM.
 */
int kbus_limpet_could_not_send_to_kbus_msg(kbus_limpet_context_t *context,
                                           const kbus_message_t *msg, int errnum,
                                           kbus_message_t **error);

/**
 * kbus_limpet_current_repliers() - the replier bind events to send first on
 * a new link: one for each replier bound on this bus now (other than this
 * Limpet's proxies), as kbusd would have made them, so that the far Limpet
 * binds as their proxy.  Replier bind events only tell of binds made while
 * someone listens, so without these a replier bound before the link came
 * up would not be reachable from the far side.  kbus extension.
 * @context: the context
 * @events:  set to a malloc'd array of messages (each freed with
 *           kbus_msg_delete(), the array with free()), or NULL if none
 * @count:   set to how many
 *
 * Return: 0, or a negative errno from asking kbusd, -ENOMEM.
 */
int kbus_limpet_current_repliers(kbus_limpet_context_t *context, kbus_message_t ***events,
                                 size_t *count);

/**
 * kbus_limpet_listened_names() - what the listeners of this bus (other
 * than this Limpet) are bound to, sorted, each once, leaving out kbusd's
 * own $.KBUS names: what the far Limpet need pass on
 * (kbus_limpet_listen_for()).  The first call also asks kbusd to send this
 * ksock $.KBUS.ListenerBindsChanged whenever that may have changed since
 * the last call; kbus_limpet_amend_msg_from_kbus() drops that message, so
 * look for it first.  kbus extension.
 * @context: the context
 * @names:   set to a malloc'd array of malloc'd names (free each, then the
 *           array), or NULL if none
 * @count:   set to how many
 *
 * Return: 0, or a negative errno from asking kbusd, -ENOMEM.
 */
int kbus_limpet_listened_names(kbus_limpet_context_t *context, char ***names, size_t *count);

/**
 * kbus_limpet_listen_for() - listen on this bus to exactly @names (what the
 * far bus listens to, from its kbus_limpet_listened_names()) instead of the
 * context's message name, so that kbusd passes this Limpet only messages
 * someone on the far bus may want.  Each name is kept within the message
 * name: a wider one is narrowed to it, one outside it is left out, as is
 * one that is not a valid name.  New bindings are made before old ones go,
 * and what the old ones brought stays queued, so a message wanted before
 * and after is never lost.  kbus extension.
 * @context: the context
 * @names:   the names (an empty list: listen to nothing)
 * @count:   how many
 *
 * Return: 0, or the first negative errno of a bind or unbind (EPERM: the
 * policy does not allow it); what could be done is done either way.
 */
int kbus_limpet_listen_for(kbus_limpet_context_t *context, char *const *names, size_t count);

/**
 * kbus_limpet_reachable_ids() - the network ids of the Limpets this bus
 * leads to through other Limpets than this one, sorted, each once, as they
 * said with kbus_limpet_set_reach().  A new link whose two buses share an
 * id (or where one bus already leads to the other side's Limpet) would
 * close a loop.  Like kbus_limpet_listened_names(), it asks kbusd for
 * $.KBUS.ListenerBindsChanged when this may have changed.  kbus extension.
 * @context: the context
 * @ids:     set to a malloc'd array (free() it), or NULL if none
 * @count:   set to how many
 *
 * Return: 0, or a negative errno from asking kbusd, -ENOMEM.
 */
int kbus_limpet_reachable_ids(kbus_limpet_context_t *context, uint32_t **ids, size_t *count);

/**
 * kbus_limpet_set_reach() - say on this bus which Limpets this one leads
 * to: itself, the other Limpet, and @ids (what the far bus leads to, from
 * the far Limpet's kbus_limpet_reachable_ids()).  They are listener
 * bindings named $.KBUS.Limpet.Reach.<id>, which nobody can send to, so
 * they go when this ksock does.  kbus extension.
 * @context: the context
 * @ids:     network ids (0s are ignored)
 * @count:   how many, at most KBUS_LIMPET_REACH_MAX
 *
 * Return: 0, -E2BIG (too many), or the first negative errno of a bind or
 * unbind.
 */
int kbus_limpet_set_reach(kbus_limpet_context_t *context, const uint32_t *ids, size_t count);

/**
 * kbus_limpet_msg_to_link() - the bytes the link carries for @msg: the
 * serialised header, the name padded with NULs to a multiple of 4 (at
 * least one NUL), the data padded to a multiple of 4, and an end guard, all
 * integers in network byte order (a replier bind event's data too).  kbus
 * extension.
 * @msg: the message (pointy or entire)
 * @buf: set to the bytes (malloc'd), or NULL on failure
 * @len: set to their length
 *
 * Return: 0, -EINVAL (no name), -EMSGSIZE (larger than kbus can carry),
 * -ENOMEM.
 */
int kbus_limpet_msg_to_link(const kbus_message_t *msg, uint8_t **buf, size_t *len);

/**
 * kbus_limpet_msg_from_link() - one message from the link's bytes.  kbus
 * extension.
 * @buf:  the bytes received so far
 * @len:  how many
 * @msg:  set to the message (entire; a replier bind event's data in host
 *        order), or NULL if @buf does not yet hold a whole one
 * @used: set to the bytes it took (0 if none)
 *
 * Return: 0; -EBADMSG if the bytes cannot be a message (guards, lengths,
 * padding that is not zero, a name that is not a valid message name);
 * -EMSGSIZE (larger than
 * kbus can carry); -ENOMEM.
 */
int kbus_limpet_msg_from_link(const uint8_t *buf, size_t len, kbus_message_t **msg,
                              size_t *used);

#ifdef __cplusplus
}
#endif

#endif
