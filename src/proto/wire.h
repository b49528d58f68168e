/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wire.h - the kbus socket protocol: frame types, field layouts and limits.
 *
 * This header is the single definition of what travels between kbusd and a
 * client; docs/protocol.md describes the same thing in prose.  Every integer
 * on the wire is little-endian.  A frame is an 8-byte header (total length,
 * type, flags) followed by a type-specific body.  Requests from the client are
 * answered in order, one RESULT (or ERROR) each, except TAKE, WAKE and posted
 * SENDs, which are never answered on success.  MSG, DONE and ERROR frames
 * from kbusd may arrive between answers at any time.
 */
#ifndef KBUS_PROTO_WIRE_H
#define KBUS_PROTO_WIRE_H

#include <stdint.h>

#define KBUS_PROTO_MAGIC   0x5355424bu /* "KBUS" in little-endian byte order */
#define KBUS_PROTO_VERSION 1u

#define KBUS_FRAME_HDR_LEN 8u

/* Frames a client sends. */
enum {
        FRAME_HELLO = 1,   /* first frame: magic, version, mode, options */
        FRAME_SEND = 2,    /* a message; flags FRAME_SEND_* */
        FRAME_BIND = 3,    /* body: name; flags FRAME_BIND_REPLIER */
        FRAME_UNBIND = 4,  /* body: name; flags FRAME_BIND_REPLIER */
        FRAME_CTL = 5,     /* body: u32 op, u32 arg */
        FRAME_REPLIER = 6, /* body: name; answer value0 = replier ksock id */
        FRAME_TAKE = 7,    /* body: u32 seq; the application took that message */
        FRAME_WAKE = 8,    /* empty; "look at my take log now" (shm clients) */
        FRAME_DISCARD = 9, /* empty; drop the held ALL_OR_WAIT send */
        FRAME_QUERY = 10,  /* body: u32 what (QUERY_*) */
        FRAME_POKE = 11,   /* empty; kbusd answers with a NOP frame (not a RESULT) */
        FRAME_CLIENT_MAX = FRAME_POKE,
};

/* Frames kbusd sends. */
enum {
        FRAME_WELCOME = 0x81, /* answer to HELLO; may carry the shm fd */
        FRAME_RESULT = 0x82,  /* answer to one request */
        FRAME_MSG = 0x83,     /* a message pushed into the client's queue */
        FRAME_DONE = 0x84,    /* a held non-blocking send has completed */
        FRAME_ERROR = 0x85,   /* a frame could not be acted on */
        FRAME_NOP = 0x86,     /* answers POKE: makes the socket readable */
};

#define FRAME_SEND_WAIT 0x1u      /* the caller blocks: answer ALL_OR_WAIT when done */
#define FRAME_SEND_POST 0x2u      /* no answer on success (pipelined announcement) */
#define FRAME_SEND_FLAGS 0x3u
#define FRAME_BIND_REPLIER 0x1u
#define FRAME_UNBIND_OR_FAIL 0x2u     /* UNBIND: EAGAIN, not set aside, if the event can't go */
#define FRAME_UNBIND_KEEP_QUEUED 0x4u /* UNBIND, a listener: what it queued stays queued */
#define FRAME_WAKE_SYNC 0x1u       /* answer WAKE with a NOP once the take log is read */
#define FRAME_MSG_YOU_REPLY 0x1u  /* this copy carries WANT_YOU_TO_REPLY */

#define HELLO_MODE_READ 0x1u
#define HELLO_MODE_WRITE 0x2u
#define HELLO_OPT_SHM 0x1u        /* client wants the shared take log */

/* FRAME_CTL operations (semantics §5). */
enum {
        CTL_MAX_MESSAGES = 1, /* arg 0 asks; returns the value in force */
        CTL_NUM_MESSAGES = 2,
        CTL_UNREPLIED_TO = 3,
        CTL_LAST_SENT = 4,    /* value0/value1 = network_id/serial */
        CTL_ONLY_ONCE = 5,    /* arg 0, 1, or CTL_ASK; returns the old state */
        CTL_REPORT_BINDS = 6,
        CTL_VERBOSE = 7,
        CTL_NEW_BUS = 8,      /* returns the new bus number */
        CTL_MAX_MSG_SIZE = 9, /* arg 0 asks, 1 asks the absolute maximum */
        CTL_NO_ECHO = 10,     /* arg 0, 1, or CTL_ASK: not one's own sends (Limpets) */
        CTL_WATCH_LISTENERS = 11, /* arg 0, 1, or CTL_ASK: $.KBUS.ListenerBindsChanged */
        CTL_OP_MAX = CTL_WATCH_LISTENERS,
};
#define CTL_ASK 0xffffffffu

/* FRAME_QUERY subjects (semantics §12, and the policy and quotas of semantics §18). */
enum {
        QUERY_BINDINGS = 1,
        QUERY_STATS = 2,
        QUERY_POLICY = 3,  /* the policy in force, as text */
        QUERY_EXPLAIN = 4, /* body goes on: action, uid, gid, ngroups, groups, name */
        QUERY_USERS = 5,   /* the quota books of every uid */
        QUERY_VERSION = 6, /* kbusd's version, as text ("0.1.0") */
};
#define QUERY_EXPLAIN_FIXED_LEN 20u /* what, action, uid, gid, ngroups */
#define QUERY_EXPLAIN_GROUPS_MAX 1024u

/* Message flags (semantics §4). */
#define KBUS_FLAG_WANT_A_REPLY 0x1u
#define KBUS_FLAG_WANT_YOU_TO_REPLY 0x2u
#define KBUS_FLAG_SYNTHETIC 0x4u
#define KBUS_FLAG_URGENT 0x8u
#define KBUS_FLAG_ALL_OR_WAIT 0x100u
#define KBUS_FLAG_ALL_OR_FAIL 0x200u

/* Names of messages kbusd makes (identical to the public KBUS_MSG_NAME_*). */
#define KBUS_MSG_NAME_REPLIER_GONEAWAY "$.KBUS.Replier.GoneAway"
#define KBUS_MSG_NAME_REPLIER_IGNORED "$.KBUS.Replier.Ignored"
#define KBUS_MSG_NAME_REPLIER_UNBOUND "$.KBUS.Replier.Unbound"
#define KBUS_MSG_NAME_REPLIER_DISAPPEARED "$.KBUS.Replier.Disappeared"
#define KBUS_MSG_NAME_ERROR_SENDING "$.KBUS.ErrorSending"
#define KBUS_MSG_NAME_UNBIND_EVENTS_LOST "$.KBUS.UnbindEventsLost"
#define KBUS_MSG_NAME_REPLIER_BIND_EVENT "$.KBUS.ReplierBindEvent"
#define KBUS_MSG_NAME_LISTENER_BINDS_CHANGED "$.KBUS.ListenerBindsChanged"

/*
 * The encoded message (body of SEND, and of MSG after its 8-byte prefix).
 * Offsets of the fixed part; the name follows, NUL-padded to a multiple of
 * four with at least one NUL, then the data.
 */
enum {
        WMSG_ID_NET = 0,
        WMSG_ID_SERIAL = 4,
        WMSG_IRT_NET = 8,
        WMSG_IRT_SERIAL = 12,
        WMSG_TO = 16,
        WMSG_FROM = 20,
        WMSG_ORIG_NET = 24,
        WMSG_ORIG_LOCAL = 28,
        WMSG_FINAL_NET = 32,
        WMSG_FINAL_LOCAL = 36,
        WMSG_EXTRA = 40,
        WMSG_FLAGS = 44,
        WMSG_NAME_LEN = 48,
        WMSG_DATA_LEN = 52,
        WMSG_FIXED_LEN = 56,
};

#define MSG_PREFIX_LEN 8u      /* MSG body: u32 binding id, u32 reserved */
#define BIND_EVENT_FIXED_LEN 12u /* $.KBUS.ReplierBindEvent data: is_bind, binder, name_len */
#define HELLO_LEN 16u          /* magic, version, mode, options, reserved */
#define WELCOME_LEN 32u
#define RESULT_LEN 12u         /* i32 status, u32 value0, u32 value1 */
#define DONE_LEN 12u           /* i32 status, u32 network id, u32 serial */
#define ERROR_FIXED_LEN 8u     /* i32 errno, u16 about type, u16 about flags */

/* Message size limits (semantics §4): the bus maximum is settable within these. */
#define KBUS_MSG_SIZE_DEFAULT (64u * 1024u)
#define KBUS_MSG_SIZE_MIN 100u
#define KBUS_MSG_SIZE_ABS_MAX (16u * 1024u * 1024u)

/* No frame is ever longer; a longer length field means the stream is garbage. */
#define KBUS_FRAME_LEN_MAX (64u * 1024u * 1024u)

/* Name limits (semantics §3). */
#define KBUS_NAME_LEN_MIN 3u
#define KBUS_NAME_LEN_MAX 1000u

/* Length of a name on the wire: padded to 4 bytes with at least one NUL. */
/* 64-bit, because a hostile name_len near 2^32 must not wrap to a small pad. */
static inline uint64_t wire_name_pad(uint32_t name_len)
{
        return ((uint64_t)name_len + 4u) & ~(uint64_t)3u;
}

/* Size of an encoded message; this is what the bus maximum applies to. */
static inline uint64_t wire_msg_size(uint32_t name_len, uint32_t data_len)
{
        return (uint64_t)WMSG_FIXED_LEN + wire_name_pad(name_len) + data_len;
}

#endif
