/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus.h - libkbus, the C client library of kbus (semantics §14).
 *
 * The names and meanings are those of the original KBUS libkbus, so that a
 * KBUS program ports with a recompile.  A kbus_ksock_t is the file
 * descriptor of the ksock's connection to kbusd: poll(), select() and
 * libevent can wait on it (readable means a message may be waiting; call
 * kbus_ksock_read_next_msg() until it returns no message).
 *
 * Every function returns >= 0 on success or a negative errno, and on failure
 * also sets errno to that errno (as the original did); the errnos and
 * their KBUS meanings are in semantics §15 and listed per function below.  Any call
 * that talks to kbusd may also return -ECONNRESET (kbusd went away), -EPROTO
 * (kbusd sent something no kbusd sends: a frame out of bounds, a message that
 * does not decode, an answer to nothing asked; the ksock is then unusable,
 * as after -ECONNRESET) or -ENOMEM.  kbusd's policy may refuse an action with
 * -EPERM (kbus-policy(5); `kbus-ctl explain` says which rule), and its quotas
 * with -EDQUOT (the caller's uid has used its share) or -ENOBUFS (kbusd's
 * total for all users is reached).
 * The library never prints (except kbus_msg_print()), never aborts, and keeps
 * no global state visible to callers.  One ksock must not be used by two
 * threads at once; different ksocks are independent.
 *
 * Extensions beyond the original API are marked "kbus extension".
 */
#ifndef KBUS_KBUS_H
#define KBUS_KBUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kbus/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A ksock is the socket's file descriptor. */
typedef int kbus_ksock_t;

/* A message id: {0, 0} means "unset". */
typedef struct kbus_msg_id {
        uint32_t network_id;
        uint32_t serial_num;
} kbus_msg_id_t;

/* Used for orig_from and final_to, which Limpets maintain (semantics §13). */
typedef struct kbus_orig_from {
        uint32_t network_id;
        uint32_t local_id;
} kbus_orig_from_t;

/*
 * A message.  A "pointy" message has name (and data, if any) pointing at
 * memory the caller owns; an "entire" message has name == NULL and data ==
 * NULL, and its name and data follow the header in the same allocation.
 * Messages read from a ksock are always entire.  Use kbus_msg_name_ptr() and
 * kbus_msg_data_ptr() to reach the name and data of either form.
 */
typedef struct kbus_message_header {
        uint32_t start_guard; /* KBUS_MSG_START_GUARD */
        kbus_msg_id_t id;
        kbus_msg_id_t in_reply_to;
        uint32_t to;
        uint32_t from;
        kbus_orig_from_t orig_from;
        kbus_orig_from_t final_to;
        uint32_t extra;    /* reserved; kbusd passes it through */
        uint32_t flags;    /* KBUS_BIT_* and user bits 16-31 */
        uint32_t name_len; /* bytes, without any terminating NUL */
        uint32_t data_len; /* bytes */
        char *name;
        void *data;
        uint32_t end_guard; /* KBUS_MSG_END_GUARD */
} kbus_message_t;

/*
 * An entire message seen as its parts: the header, then in rest[] the name
 * NUL-padded to a multiple of 4 bytes (at least one NUL), the data
 * zero-padded to a multiple of 4, and a final copy of the end guard.  The
 * macros below give the sizes and the indexes into rest[].
 */
typedef struct kbus_entire_message {
        kbus_message_t header;
        uint32_t rest[];
} kbus_entire_message_t;

#define KBUS_PADDED_NAME_LEN(name_len) (4 * (((name_len) + 1 + 3) / 4))
#define KBUS_PADDED_DATA_LEN(data_len) (4 * (((data_len) + 3) / 4))
#define KBUS_ENTIRE_MSG_LEN(name_len, data_len)                                               \
        (sizeof(struct kbus_entire_message) + KBUS_PADDED_NAME_LEN(name_len) +               \
         KBUS_PADDED_DATA_LEN(data_len) + 4)
#define KBUS_ENTIRE_MSG_DATA_INDEX(name_len) (((name_len) + 1 + 3) / 4)
#define KBUS_ENTIRE_MSG_END_GUARD_INDEX(name_len, data_len)                                   \
        (KBUS_ENTIRE_MSG_DATA_INDEX(name_len) + ((data_len) + 3) / 4)

/* The data of a $.KBUS.ReplierBindEvent message (semantics §11). */
typedef struct kbus_replier_bind_event_data {
        uint32_t is_bind;
        uint32_t binder;
        uint32_t name_len;
        uint32_t rest[]; /* the name, NUL-padded to a multiple of 4 bytes */
} kbus_replier_bind_event_data_t;

#define KBUS_MSG_START_GUARD 0x7375624Bu
#define KBUS_MSG_END_GUARD 0x4B627573u

#define KBUS_BIT_WANT_A_REPLY 0x1u
#define KBUS_BIT_WANT_YOU_TO_REPLY 0x2u
#define KBUS_BIT_SYNTHETIC 0x4u
#define KBUS_BIT_URGENT 0x8u
#define KBUS_BIT_ALL_OR_WAIT 0x100u
#define KBUS_BIT_ALL_OR_FAIL 0x200u

#define KBUS_MAX_NAME_LEN 1000

#define KBUS_MSG_NAME_REPLIER_GONEAWAY "$.KBUS.Replier.GoneAway"
#define KBUS_MSG_NAME_REPLIER_IGNORED "$.KBUS.Replier.Ignored"
#define KBUS_MSG_NAME_REPLIER_UNBOUND "$.KBUS.Replier.Unbound"
#define KBUS_MSG_NAME_REPLIER_DISAPPEARED "$.KBUS.Replier.Disappeared"
#define KBUS_MSG_NAME_ERROR_SENDING "$.KBUS.ErrorSending"
#define KBUS_MSG_NAME_UNBIND_EVENTS_LOST "$.KBUS.UnbindEventsLost"
#define KBUS_MSG_NAME_REPLIER_BIND_EVENT "$.KBUS.ReplierBindEvent"
#define KBUS_MSG_NAME_LISTENER_BINDS_CHANGED "$.KBUS.ListenerBindsChanged" /* kbus */

/* For kbus_wait_for_message(). */
#define KBUS_KSOCK_READABLE 1
#define KBUS_KSOCK_WRITABLE 2

/* ---- Ksocks ------------------------------------------------------------ */

/*
 * How long kbus_ksock_open() and kbus_ksock_open_by_name() give connecting
 * and the handshake together before they fail with -ETIMEDOUT (30 s); use
 * kbus_ksock_open_timeout() for another bound.
 */
#define KBUS_OPEN_TIMEOUT_DEFAULT_MS 30000

/**
 * kbus_ksock_open() - open a ksock on bus @device_number.
 * @device_number: the bus number (the old /dev/kbus<N>)
 * @flags:         O_RDONLY or O_RDWR (O_WRONLY counts as O_RDWR), optionally
 *                 | O_NONBLOCK, which makes ALL_OR_WAIT sends return -EAGAIN
 *                 instead of waiting
 *
 * The socket directory is found as semantics §2 says ($KBUS_SOCKET_DIR first).
 * When it is a per-user fallback ($XDG_RUNTIME_DIR/kbus or /tmp/kbus-<uid>),
 * which anyone could have created first, it must be a directory (not a
 * symlink) owned by the caller's uid or root that neither group nor others
 * may write, and the kbusd that answers must run as root or as the caller's
 * uid; otherwise the open fails with -EPERM, before connecting for a bad
 * directory.  $KBUS_SOCKET_DIR and /run/kbus are not checked this way: the
 * first is the user's own choice, the second a system directory.
 *
 * kbusd is not trusted blindly: connecting and the handshake must be done
 * within KBUS_OPEN_TIMEOUT_DEFAULT_MS, every field of its answer is checked,
 * and the shared page it offers must be a sealed memfd of the right size.
 *
 * Return: the ksock (a file descriptor), or -ENOENT (no such bus: no kbusd
 * listening there), -EINVAL (bad flags), -EPERM (an unsafe socket
 * directory, or a kbusd running as another user), -ETIMEDOUT (no connection
 * or no answer to the handshake in time: a stuck or fake server), -EPROTO
 * (not a kbusd, an incompatible one, or one that broke the protocol: a bad
 * field, a bad shared page), -EACCES, -ENAMETOOLONG, -EMFILE, -ENOMEM, or
 * another negative errno kbusd refused the connection with.
 */
kbus_ksock_t kbus_ksock_open(uint32_t device_number, int flags);

/**
 * kbus_ksock_open_by_name() - open a ksock by device name or socket path.
 * @device_name: "/dev/kbus<N>" for bus N, or the path of a bus socket
 * @flags:       as for kbus_ksock_open()
 *
 * A socket path is used as given: its directory is not checked (the caller
 * chose it), nor is the uid of the kbusd that answers.
 *
 * Return: as kbus_ksock_open().
 */
kbus_ksock_t kbus_ksock_open_by_name(const char *device_name, int flags);

/**
 * kbus_ksock_open_timeout() - kbus_ksock_open_by_name() with the caller's
 * bound on connecting and the handshake (kbus extension).
 * @device_name: "/dev/kbus<N>" for bus N, or the path of a bus socket
 * @flags:       as for kbus_ksock_open()
 * @timeout_ms:  milliseconds, > 0, for connecting (which waits while the
 *               listener's backlog is full) and the handshake together
 *
 * Return: as kbus_ksock_open(); -ETIMEDOUT once @timeout_ms has passed,
 * -EINVAL if @timeout_ms is not positive.
 */
kbus_ksock_t kbus_ksock_open_timeout(const char *device_name, int flags, int timeout_ms);

/**
 * kbus_ksock_close() - close a ksock; its bindings go, and kbusd answers its
 * outstanding work as semantics §9 says.
 * @ksock: the ksock
 *
 * kbusd acts when the connection ends, which is when the last copy of the
 * descriptor is closed: a ksock inherited by a forked child stays open
 * until both have closed it, as with the kernel module.  kbusd handles the
 * close asynchronously, so another ksock may still see its bindings for a
 * moment after this returns.
 *
 * Return: 0, or -EBADF (not an open ksock).
 */
int kbus_ksock_close(kbus_ksock_t ksock);

/**
 * kbus_ksock_bind() - listen to, or become the replier for, a name.
 * @ksock:      the ksock
 * @name:       a name or wildcard (semantics §3), NUL-terminated
 * @is_replier: non-zero to bind as replier
 *
 * Return: 0, or -EBADMSG (bad name, or replier for $.KBUS.ReplierBindEvent),
 * -ENAMETOOLONG, -EPERM (the policy refuses it; owning a $.KBUS name always),
 * -EADDRINUSE (a replier is already bound to @name), -EDQUOT or -ENOBUFS (the
 * bindings quota), -EAGAIN (replier bind events are on and a listener's
 * queue is full).
 */
int kbus_ksock_bind(kbus_ksock_t ksock, const char *name, uint32_t is_replier);

/**
 * kbus_ksock_unbind() - remove the most recent binding exactly matching
 * @name and @is_replier, and the messages queued because of it (semantics §6).
 * @ksock:      the ksock
 * @name:       as it was bound
 * @is_replier: as it was bound
 *
 * Return: 0, or -EINVAL (no such binding), -EBADMSG, -ENAMETOOLONG.
 */
int kbus_ksock_unbind(kbus_ksock_t ksock, const char *name, uint32_t is_replier);

/**
 * kbus_ksock_id() - the ksock's id on its bus (never 0).
 * @ksock:    the ksock
 * @ksock_id: where to store it
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_id(kbus_ksock_t ksock, uint32_t *ksock_id);

/**
 * kbus_ksock_next_msg() - take the next message from the queue and make it
 * the "being read" message (the old NEXTMSG).
 * @ksock:          the ksock
 * @message_length: the length to pass to kbus_ksock_read_msg(), or 0 if the
 *                  queue is empty
 *
 * A being-read message not yet read is thrown away.  URGENT messages come
 * out first, newest first (semantics §8).  Never blocks.
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_next_msg(kbus_ksock_t ksock, uint32_t *message_length);

/**
 * kbus_ksock_len_left() - how many bytes of the being-read message are left
 * to read.
 * @ksock:    the ksock
 * @len_left: the message's length until kbus_ksock_read_msg() reads it
 *            (which reads it whole), else 0
 *
 * Return: 0, or -EBADF, -EINVAL (NULL @len_left).
 */
int kbus_ksock_len_left(kbus_ksock_t ksock, uint32_t *len_left);

/**
 * kbus_ksock_read_msg() - read the being-read message.
 * @ksock:   the ksock
 * @msg:     the message (entire; free it with kbus_msg_delete())
 * @msg_len: the length kbus_ksock_next_msg() gave
 *
 * Return: 0, or -ENOMSG (no being-read message), -EMSGSIZE (@msg_len too
 * small), -EBADF.
 */
int kbus_ksock_read_msg(kbus_ksock_t ksock, kbus_message_t **msg, size_t msg_len);

/**
 * kbus_ksock_read_next_msg() - kbus_ksock_next_msg() then kbus_ksock_read_msg().
 * @ksock: the ksock
 * @msg:   the message, or NULL if the queue is empty
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_read_next_msg(kbus_ksock_t ksock, kbus_message_t **msg);

/**
 * kbus_ksock_write_msg() - write a message, to be sent by kbus_ksock_send().
 * @ksock: the ksock
 * @msg:   pointy or entire; the library copies it
 *
 * Return: 0, or -EALREADY (an ALL_OR_WAIT send is held), -EBADMSG,
 * -ENAMETOOLONG, -EMSGSIZE, -EINVAL (malformed message), -EBADF (read-only).
 */
int kbus_ksock_write_msg(kbus_ksock_t ksock, const kbus_message_t *msg);

/**
 * kbus_ksock_write_data() - write a message in parts, as its bytes: the
 * bytes of a pointy message's header (kbus_msg_sizeof() of them; the name
 * and data it points to are copied when the header is complete), or of a
 * whole entire message.
 * @ksock:    the ksock
 * @data:     the next bytes
 * @data_len: how many
 *
 * The header is checked as soon as it is complete, the rest (name, flags,
 * final end guard) when the message is.  On any error the partly written
 * message is dropped, as is a whole written message that bytes were added
 * to.  kbus_ksock_send() of an incomplete message fails with -EINVAL.
 *
 * Return: 0, or the errors of kbus_ksock_write_msg(), and -EMSGSIZE (bytes
 * beyond the end of the message).
 */
int kbus_ksock_write_data(kbus_ksock_t ksock, uint8_t *data, size_t data_len);

/**
 * kbus_ksock_send() - send the written message (semantics §7).
 * @ksock:  the ksock
 * @msg_id: the id kbusd gave it, or NULL
 *
 * When this returns 0 the message is in the queue of every recipient.
 *
 * Return: 0, or -ENOMSG (nothing written), -EALREADY, -EBADF (read-only),
 * -EBADMSG, -ENAMETOOLONG, -EMSGSIZE, -EINVAL (both ALL_OR_* flags),
 * -EPERM (the policy refuses this name; a $.KBUS name always), -EDQUOT or
 * -ENOBUFS (request: the requests quota), -EADDRNOTAVAIL (request: no replier; reply: requester gone), -EPIPE
 * (stateful request: replier changed), -ENOLCK (no room to reserve the
 * reply), -EBUSY (replier queue full, or ALL_OR_FAIL and a queue full),
 * -ECONNREFUSED (reply answers nothing owed), -EAGAIN (ALL_OR_WAIT on an
 * O_NONBLOCK ksock: held; it completes later, see kbus_wait_for_message()).
 */
int kbus_ksock_send(kbus_ksock_t ksock, kbus_msg_id_t *msg_id);

/**
 * kbus_ksock_send_msg() - kbus_ksock_write_msg() then kbus_ksock_send().
 * @ksock:  the ksock
 * @msg:    the message
 * @msg_id: the id kbusd gave it, or NULL
 *
 * Return: as the two calls.
 */
int kbus_ksock_send_msg(kbus_ksock_t ksock, const kbus_message_t *msg, kbus_msg_id_t *msg_id);

/**
 * kbus_ksock_discard() - drop the written message, or the held ALL_OR_WAIT
 * send.
 * @ksock: the ksock
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_discard(kbus_ksock_t ksock);

/**
 * kbus_ksock_last_msg_id() - the id of the last message this ksock sent
 * ({0, 0} if none).
 * @ksock:  the ksock
 * @msg_id: where to store it
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_last_msg_id(kbus_ksock_t ksock, kbus_msg_id_t *msg_id);

/**
 * kbus_ksock_find_replier() - who would answer a request named @name.
 * @ksock:            the ksock
 * @name:             a message name (no wildcard)
 * @replier_ksock_id: the replier's ksock id, or 0 if there is none
 *
 * Return: 0, or -EBADMSG, -ENAMETOOLONG.
 */
int kbus_ksock_find_replier(kbus_ksock_t ksock, const char *name, uint32_t *replier_ksock_id);

/**
 * kbus_ksock_max_messages() - set or ask the queue length limit.
 * @ksock:        the ksock
 * @max_messages: in: the new limit, or 0 to ask; out: the limit in force
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_max_messages(kbus_ksock_t ksock, uint32_t *max_messages);

/**
 * kbus_ksock_num_messages() - how many messages are queued for this ksock.
 * @ksock:        the ksock
 * @num_messages: where to store it
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_num_messages(kbus_ksock_t ksock, uint32_t *num_messages);

/**
 * kbus_ksock_num_unreplied_to() - how many requests this ksock has taken as
 * replier and not yet answered.
 * @ksock:        the ksock
 * @num_messages: where to store it
 *
 * Return: 0, or -EBADF.
 */
int kbus_ksock_num_unreplied_to(kbus_ksock_t ksock, uint32_t *num_messages);

/**
 * kbus_ksock_only_once() - receive one copy of a message however many
 * bindings match (semantics §10).
 * @ksock:   the ksock
 * @request: 1 on, 0 off, 0xFFFFFFFF ask
 *
 * Return: the state before the call (0 or 1), or -EINVAL.
 */
int kbus_ksock_only_once(kbus_ksock_t ksock, uint32_t request);

/**
 * kbus_ksock_report_replier_binds() - ask kbusd to announce replier binds and
 * unbinds on this bus as $.KBUS.ReplierBindEvent messages (semantics §11).
 * @ksock:   the ksock
 * @request: 1 on, 0 off, 0xFFFFFFFF ask
 *
 * Return: this ksock's state before the call (0 or 1), or -EINVAL.
 */
int kbus_ksock_report_replier_binds(kbus_ksock_t ksock, uint32_t request);

/**
 * kbus_ksock_kernel_module_verbose() - switch kbusd's verbose logging (kbus
 * keeps the original name).
 * @ksock:   the ksock
 * @request: 1 on, 0 off, 0xFFFFFFFF ask
 *
 * Return: the state before the call (0 or 1), or -EINVAL, -EPERM (switching:
 * by default only root and kbusd's own user may; asking is always allowed).
 */
int kbus_ksock_kernel_module_verbose(kbus_ksock_t ksock, uint32_t request);

/**
 * kbus_ksock_max_message_size() - set or ask the bus's maximum message size.
 * @ksock:            the ksock
 * @max_message_size: in: the new maximum, 0 to ask it, 1 to ask the absolute
 *                    maximum; out: the value in force (or the absolute one)
 *
 * The size of a message is its encoded size: 56 bytes, plus the name padded
 * to a multiple of 4 with at least one NUL, plus the data.
 *
 * Return: 0, or -EINVAL (outside [100, absolute maximum]), -EPERM (setting:
 * by default only root and kbusd's own user may).
 */
int kbus_ksock_max_message_size(kbus_ksock_t ksock, uint32_t *max_message_size);

/**
 * kbus_ksock_new_device() - ask kbusd to open a new bus (the old NEWDEVICE).
 * @ksock:         the ksock
 * @device_number: the new bus's number; it is listening when this returns
 *
 * Return: 0, or -ENFILE (256 buses already), -EIO (kbusd could not create
 * the socket), -EPERM (by default only root and kbusd's own user may).
 */
int kbus_ksock_new_device(kbus_ksock_t ksock, uint32_t *device_number);

/**
 * kbus_wait_for_message() - wait until the ksock can be read or written.
 * @ksock:    the ksock
 * @wait_for: KBUS_KSOCK_READABLE, KBUS_KSOCK_WRITABLE, or both
 *
 * Readable: a message is queued.  Writable: no ALL_OR_WAIT send is held.
 *
 * Return: which of the two are true (non-zero), or -EINVAL, -EBADF.
 */
int kbus_wait_for_message(kbus_ksock_t ksock, int wait_for);

/**
 * kbus_ksock_post_msg() - send an announcement without waiting for its id
 * (kbus extension).
 * @ksock: the ksock
 * @msg:   an announcement: no WANT_A_REPLY, no in_reply_to, no ALL_OR_* flag
 *
 * The message is checked here as kbusd would check it and buffered; buffered
 * messages go to kbusd in one write when the buffer fills, on
 * kbus_ksock_flush(), or before any other call on this ksock talks to kbusd.
 * Posted messages keep their order with everything else the ksock sends.  If
 * kbusd rejects one all the same (the bus maximum size was lowered
 * meanwhile), the next kbus_ksock_post_msg() or kbus_ksock_flush() returns
 * that error once.
 *
 * Return: 0, or -EINVAL (not an announcement, or an ALL_OR_* flag), -EBADMSG,
 * -ENAMETOOLONG, -EMSGSIZE, -EBADF (read-only), -EALREADY.
 */
int kbus_ksock_post_msg(kbus_ksock_t ksock, const kbus_message_t *msg);

/**
 * kbus_ksock_flush() - write buffered posted messages to kbusd (kbus
 * extension).
 * @ksock: the ksock
 *
 * Return: 0, or the error kbusd gave an earlier posted message, -EBADF.
 */
int kbus_ksock_flush(kbus_ksock_t ksock);

/* ---- Messages ---------------------------------------------------------- */

/* Whether @msg is entire (name and data follow the header) rather than pointy. */
static inline int kbus_msg_is_entire(const kbus_message_t *msg)
{
        return msg->name == NULL;
}

/* Whether @msg is a request that only the ksock in "to" may answer. */
static inline int kbus_msg_is_stateful_request(const kbus_message_t *msg)
{
        return (msg->flags & KBUS_BIT_WANT_A_REPLY) != 0 && msg->to != 0;
}

/* Orders message ids by network id, then serial number: -1, 0 or 1. */
static inline int kbus_msg_compare_ids(const kbus_msg_id_t *id1, const kbus_msg_id_t *id2)
{
        if (id1->network_id != id2->network_id)
                return id1->network_id < id2->network_id ? -1 : 1;
        if (id1->serial_num != id2->serial_num)
                return id1->serial_num < id2->serial_num ? -1 : 1;
        return 0;
}

/* Where the final end guard of the entire message @entire lies. */
static inline uint32_t *kbus_msg_end_ptr(kbus_entire_message_t *entire)
{
        return &entire->rest[KBUS_ENTIRE_MSG_END_GUARD_INDEX(entire->header.name_len,
                                                             entire->header.data_len)];
}

/**
 * kbus_msg_create() - create a pointy message; @name and @data are not
 * copied and must outlive its sending.
 * @msg:      the new message
 * @name:     the name
 * @name_len: its length in bytes
 * @data:     the data, or NULL
 * @data_len: its length in bytes
 * @flags:    KBUS_BIT_* and user flags
 *
 * Return: 0, or -EINVAL (NULL name, or data_len without data), -ENOMEM.
 */
int kbus_msg_create(kbus_message_t **msg, const char *name, uint32_t name_len, const void *data,
                    uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_request() - kbus_msg_create() with WANT_A_REPLY set.
 * @msg:      the new message
 * @name:     the name
 * @name_len: its length in bytes
 * @data:     the data, or NULL
 * @data_len: its length in bytes
 * @flags:    KBUS_BIT_* and user flags
 *
 * Return: as kbus_msg_create().
 */
int kbus_msg_create_request(kbus_message_t **msg, const char *name, uint32_t name_len,
                            const void *data, uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_reply_to() - create the reply to @in_reply_to, which must
 * want us to reply; it refers to @in_reply_to's name, so keep that alive.
 * @msg:         the new message
 * @in_reply_to: the request
 * @data:        the data, or NULL
 * @data_len:    its length in bytes
 * @flags:       KBUS_BIT_* and user flags
 *
 * Return: 0, or -EBADMSG (@in_reply_to does not want us to reply), -EINVAL,
 * -ENOMEM.
 */
int kbus_msg_create_reply_to(kbus_message_t **msg, const kbus_message_t *in_reply_to,
                             const void *data, uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_stateful_request() - create a request that only the ksock
 * that sent @earlier_msg (a reply) or received it (a stateful request) may
 * answer.
 * @msg:         the new message
 * @earlier_msg: a reply, or an earlier stateful request
 * @name:        the name
 * @name_len:    its length in bytes
 * @data:        the data, or NULL
 * @data_len:    its length in bytes
 * @flags:       KBUS_BIT_* and user flags
 *
 * Return: 0, or -EBADMSG (@earlier_msg is neither), -EINVAL, -ENOMEM.
 */
int kbus_msg_create_stateful_request(kbus_message_t **msg, const kbus_message_t *earlier_msg,
                                     const char *name, uint32_t name_len, const void *data,
                                     uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_entire() - create an entire message: one allocation
 * holding the header and copies of @name and @data.
 * @msg:      the new message; free it with kbus_msg_delete()
 * @name:     the name
 * @name_len: its length in bytes
 * @data:     the data, or NULL
 * @data_len: its length in bytes
 * @flags:    KBUS_BIT_* and user flags
 *
 * Return: 0, or -EINVAL (NULL or empty name, or data_len without data),
 * -ENAMETOOLONG, -EMSGSIZE (larger than kbus can ever send), -ENOMEM.
 */
int kbus_msg_create_entire(kbus_message_t **msg, const char *name, uint32_t name_len,
                           const void *data, uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_entire_request() - kbus_msg_create_entire() with
 * WANT_A_REPLY set.
 * @msg:      the new message
 * @name:     the name
 * @name_len: its length in bytes
 * @data:     the data, or NULL
 * @data_len: its length in bytes
 * @flags:    KBUS_BIT_* and user flags
 *
 * Return: as kbus_msg_create_entire().
 */
int kbus_msg_create_entire_request(kbus_message_t **msg, const char *name, uint32_t name_len,
                                   const void *data, uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_entire_reply_to() - kbus_msg_create_reply_to(), but entire:
 * the request's name is copied, so the request may be freed.
 * @msg:         the new message
 * @in_reply_to: the request
 * @data:        the data, or NULL
 * @data_len:    its length in bytes
 * @flags:       KBUS_BIT_* and user flags
 *
 * Return: as kbus_msg_create_reply_to().
 */
int kbus_msg_create_entire_reply_to(kbus_message_t **msg, const kbus_message_t *in_reply_to,
                                    const void *data, uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_create_entire_stateful_request() - kbus_msg_create_stateful_request(),
 * but entire.
 * @msg:         the new message
 * @earlier_msg: a reply, or an earlier stateful request
 * @name:        the name
 * @name_len:    its length in bytes
 * @data:        the data, or NULL
 * @data_len:    its length in bytes
 * @flags:       KBUS_BIT_* and user flags
 *
 * Return: as kbus_msg_create_stateful_request().
 */
int kbus_msg_create_entire_stateful_request(kbus_message_t **msg,
                                            const kbus_message_t *earlier_msg, const char *name,
                                            uint32_t name_len, const void *data,
                                            uint32_t data_len, uint32_t flags);

/**
 * kbus_msg_delete() - free a message (not the name or data a pointy message
 * points to) and set *@msg_p to NULL; does nothing for NULL.
 * @msg_p: the message
 */
void kbus_msg_delete(kbus_message_t **msg_p);

/**
 * kbus_msg_delete_all() - free a message and, if it is pointy, the name and
 * data it points to (which must have come from malloc()); set *@msg_p to
 * NULL.  Does nothing for NULL.
 * @msg_p: the message
 */
void kbus_msg_delete_all(kbus_message_t **msg_p);

/**
 * kbus_msg_sizeof() - how many bytes @msg occupies: the header for a pointy
 * message, the whole message for an entire one (what kbus_ksock_write_data()
 * is given to write it).
 * @msg: the message
 *
 * Return: the size, or -EINVAL (NULL @msg).
 */
int kbus_msg_sizeof(const kbus_message_t *msg);

/**
 * kbus_msg_split_bind_event() - split the data of a $.KBUS.ReplierBindEvent.
 * @msg:     the event
 * @is_bind: 1 for a bind, 0 for an unbind
 * @binder:  the ksock id that bound or unbound
 * @name:    a malloc()ed copy of the name; free() it
 *
 * Return: 0, or -EBADMSG (not a well-formed bind event), -ENOMEM.
 */
int kbus_msg_split_bind_event(const kbus_message_t *msg, uint32_t *is_bind, uint32_t *binder,
                              char **name);

/**
 * kbus_msg_print() - print a one-line description of @msg, without newline,
 * as the original libkbus did: "<Request '$.Fred' id=[0:3] from=2 ...>", with
 * at most 20 bytes of the data.
 * @stream: where to print
 * @msg:    the message
 */
void kbus_msg_print(FILE *stream, const kbus_message_t *msg);

/* For kbus_msg_print2(): show at most 20 bytes of data, then "...". */
#define KBUS_MSG_PRINT_FLAGS_ABBREVIATE (1u << 0)

/**
 * kbus_msg_print2() - kbus_msg_print() with a choice: all the data, or with
 * KBUS_MSG_PRINT_FLAGS_ABBREVIATE in @flags its first 20 bytes
 * (kbus_msg_print() abbreviates).
 * @stream: where to print
 * @msg:    the message
 * @flags:  0 or KBUS_MSG_PRINT_FLAGS_ABBREVIATE
 */
void kbus_msg_print2(FILE *stream, const kbus_message_t *msg, unsigned int flags);

/**
 * kbus_msg_dump() - print every field of @msg on stdout, one per line, then
 * its name and, if @dump_data, its data as text and as hex bytes and the
 * whole message's kbus_msg_sizeof() bytes in hex.
 * @msg:       the message
 * @dump_data: non-zero to print the data and bytes too
 */
void kbus_msg_dump(const kbus_message_t *msg, int dump_data);

/**
 * kbus_msg_name_ptr() - the name of a pointy or entire message.
 * @msg: the message
 *
 * Return: the name (NUL-terminated for entire messages).
 */
char *kbus_msg_name_ptr(const kbus_message_t *msg);

/**
 * kbus_msg_data_ptr() - the data of a pointy or entire message.
 * @msg: the message
 *
 * Return: the data, or NULL if data_len is 0.
 */
void *kbus_msg_data_ptr(const kbus_message_t *msg);

/**
 * kbus_msg_is_request() - whether WANT_A_REPLY is set.
 * @msg: the message
 *
 * Return: 1 or 0.
 */
int kbus_msg_is_request(const kbus_message_t *msg);

/**
 * kbus_msg_is_reply() - whether in_reply_to is set (replies and statuses).
 * @msg: the message
 *
 * Return: 1 or 0.
 */
int kbus_msg_is_reply(const kbus_message_t *msg);

/**
 * kbus_msg_wants_us_to_reply() - whether this copy of a request is ours to
 * answer (WANT_A_REPLY and WANT_YOU_TO_REPLY).
 * @msg: the message
 *
 * Return: 1 or 0.
 */
int kbus_msg_wants_us_to_reply(const kbus_message_t *msg);

#ifdef __cplusplus
}
#endif

#endif
