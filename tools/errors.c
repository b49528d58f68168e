/* SPDX-License-Identifier: MPL-2.0 */
/*
 * errors.c - one-line errors that say what went wrong in KBUS terms.
 *
 * Every error is one line on stderr, "<tool>: <context>: <WHAT>: <text>",
 * where WHAT is the errno's name (EADDRNOTAVAIL) or a status's name
 * ($.KBUS.Replier.GoneAway) and the text is its KBUS meaning (semantics §15,
 * §9) for what the tool was doing: EADDRNOTAVAIL means "no replier" to a
 * requester but "the requester has gone" to a replier.  Errnos without a
 * KBUS meaning for the operation get strerror()'s text.
 */
#include "errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

/* The KBUS meaning of an errno for some operations (a bit per ToolOp). */
typedef struct ToolMeaning {
        int err;
        unsigned ops;
        const char *text;
} ToolMeaning;

#define OP(o) (1u << (o))
#define OPS_SENDING (OP(TOOL_OP_SEND) | OP(TOOL_OP_REQUEST) | OP(TOOL_OP_REPLY))
#define OPS_KBUS (~OP(TOOL_OP_LOCAL))

static const ToolMeaning tool_meanings[] = {
        { ENOENT, OP(TOOL_OP_OPEN), "no such bus" },
        { EPROTO, OP(TOOL_OP_OPEN), "not a kbusd, or an incompatible one" },
        { ENAMETOOLONG, OP(TOOL_OP_OPEN), "the bus socket path is too long" },
        { EACCES, OP(TOOL_OP_OPEN), "not allowed to connect to the bus socket" },
        { EPERM, OP(TOOL_OP_OPEN),
          "the socket directory is not safe, kbusd runs as another user, or kbusd's policy "
          "refuses the connection" },
        { ETIMEDOUT, OP(TOOL_OP_OPEN), "no kbusd answered the handshake in time" },
        { EADDRINUSE, OP(TOOL_OP_BIND), "a replier is already bound to this name" },
        { EBADMSG, OP(TOOL_OP_BIND),
          "not a valid name or wildcard (or a replier bind to $.KBUS.ReplierBindEvent)" },
        { EAGAIN, OP(TOOL_OP_BIND),
          "replier bind events are on and a listener of them has a full queue" },
        { EBADMSG, OPS_SENDING | OP(TOOL_OP_CONTROL),
          "not a valid message name ('$.' and dot-separated words of letters, digits, '_' "
          "and '-'; no wildcard)" },
        { EAGAIN, OPS_SENDING, "the ALL_OR_WAIT send is held until every queue has room" },
        { EADDRNOTAVAIL, OP(TOOL_OP_REQUEST), "no replier is bound to this name" },
        { EADDRNOTAVAIL, OP(TOOL_OP_REPLY), "the requester has gone away" },
        { EALREADY, OPS_SENDING, "an ALL_OR_WAIT send of this ksock is still held" },
        { EBADF, OPS_SENDING, "the ksock is read-only" },
        { EBUSY, OP(TOOL_OP_SEND), "a listener's queue is full (ALL_OR_FAIL: delivered to none)" },
        { EBUSY, OP(TOOL_OP_REQUEST),
          "the replier's queue is full (or, with ALL_OR_FAIL, a listener's)" },
        { ECONNREFUSED, OP(TOOL_OP_REPLY), "the reply answers no request this ksock owes" },
        { EINVAL, OPS_SENDING, "both ALL_OR_WAIT and ALL_OR_FAIL, or a malformed message" },
        { EINVAL, OP(TOOL_OP_CONTROL), "a value out of range" },
        { EMSGSIZE, OPS_SENDING, "the message is larger than the bus's maximum message size" },
        { ENAMETOOLONG, OP(TOOL_OP_BIND) | OPS_SENDING | OP(TOOL_OP_CONTROL),
          "the name is longer than 1000 characters" },
        { ENOLCK, OP(TOOL_OP_REQUEST),
          "no room left in this ksock's queue to reserve the reply" },
        { ENOMSG, OPS_SENDING, "nothing was written to send" },
        { EPIPE, OP(TOOL_OP_REQUEST),
          "the ksock named by --to is no longer the replier for this name (stateful request)" },
        { ENFILE, OP(TOOL_OP_CONTROL), "kbusd already serves 256 buses" },
        { EIO, OP(TOOL_OP_CONTROL), "kbusd could not create the bus socket" },
        { EPERM, OPS_KBUS & ~OP(TOOL_OP_OPEN),
          "kbusd's policy does not allow it ('kbus-ctl explain' says which rule)" },
        { EDQUOT, OPS_KBUS, "this user's quota in kbusd is used up ('kbus-ctl stats' shows it)" },
        { ENOBUFS, OPS_KBUS, "kbusd's total limit for all users is reached" },
        { ECONNRESET, OPS_KBUS, "kbusd went away" },
        { ENOTCONN, OPS_KBUS, "kbusd went away" },
        { EPROTO, OPS_KBUS, "kbusd sent something this tool does not understand" },
};

/* What each status means to the requester (semantics §9). */
static const struct {
        const char *name;
        const char *text;
} tool_statuses[] = {
        { KBUS_MSG_NAME_REPLIER_UNBOUND, "the replier unbound before reading the request" },
        { KBUS_MSG_NAME_REPLIER_GONEAWAY, "the replier's ksock closed before reading the request" },
        { KBUS_MSG_NAME_REPLIER_IGNORED,
          "the replier's ksock closed after reading the request, without replying" },
        { KBUS_MSG_NAME_REPLIER_DISAPPEARED,
          "the replier went away while the ALL_OR_WAIT request was held" },
        { KBUS_MSG_NAME_ERROR_SENDING, "the held ALL_OR_WAIT request could not be sent" },
};

/**
 * tool_errno_meaning() - what an errno means in KBUS terms (semantics §15).
 * @err: a positive or negative errno
 * @op:  what the tool was doing
 *
 * Return: a static string; strerror()'s text for errnos KBUS gives no meaning.
 */
const char *tool_errno_meaning(int err, ToolOp op)
{
        if (err < 0)
                err = -err;
        for (size_t i = 0; i < sizeof(tool_meanings) / sizeof(tool_meanings[0]); i++)
                if (tool_meanings[i].err == err && (tool_meanings[i].ops & OP(op)))
                        return tool_meanings[i].text;
        return strerror(err);
}

/**
 * tool_status_meaning() - what a status means to the requester (semantics §9).
 * @name: the status's name, e.g. "$.KBUS.Replier.GoneAway"
 *
 * Return: a static string.
 */
const char *tool_status_meaning(const char *name)
{
        for (size_t i = 0; i < sizeof(tool_statuses) / sizeof(tool_statuses[0]); i++)
                if (strcmp(tool_statuses[i].name, name) == 0)
                        return tool_statuses[i].text;
        return "kbusd answered the request with a status";
}

/**
 * tool_error() - print "<tool>: <context>: <ERRNO>: <KBUS meaning>" on stderr.
 * @context: what failed (a message name, "bus 0", ...)
 * @err:     a positive or negative errno
 * @op:      what the tool was doing
 */
void tool_error(const char *context, int err, ToolOp op)
{
        int e = err < 0 ? -err : err;
        const char *name = strerrorname_np(e);
        char unknown[24];

        if (!name) {
                snprintf(unknown, sizeof(unknown), "errno %d", e);
                name = unknown;
        }
        tool_fail(context, name, "%s", tool_errno_meaning(e, op));
}

/**
 * tool_fail() - print "<tool>: <context>: <what>: <text>" on stderr.
 * @context: what failed
 * @what:    an errno name or a status name
 * @fmt:     printf() format of the explanation
 */
void tool_fail(const char *context, const char *what, const char *fmt, ...)
{
        va_list ap;

        fflush(stdout); /* keep stdout and stderr in order on a terminal */
        fprintf(stderr, "%s: %s: %s: ", tool_name(), context, what);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

