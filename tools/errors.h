/* SPDX-License-Identifier: MPL-2.0 */
/*
 * errors.h - one-line errors that say what went wrong in KBUS terms
 * (semantics §15 errnos, §9 statuses).
 */
#ifndef KBUS_TOOLS_ERRORS_H
#define KBUS_TOOLS_ERRORS_H

/* What the tool was doing when an errno came back: it picks the KBUS meaning. */
typedef enum ToolOp {
        TOOL_OP_OPEN,     /* opening the ksock */
        TOOL_OP_BIND,     /* binding a name */
        TOOL_OP_SEND,     /* sending an announcement */
        TOOL_OP_REQUEST,  /* sending a request */
        TOOL_OP_REPLY,    /* sending a reply */
        TOOL_OP_RECEIVE,  /* reading messages */
        TOOL_OP_CONTROL,  /* a ksock control or query */
        TOOL_OP_LOCAL,    /* reading a file, running a command: no KBUS meaning */
} ToolOp;

const char *tool_errno_meaning(int err, ToolOp op);
const char *tool_status_meaning(const char *name);
void tool_error(const char *context, int err, ToolOp op);
void tool_fail(const char *context, const char *what, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
