/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wait.h - waiting for a ksock with a deadline, and stopping cleanly on
 * SIGINT, SIGTERM and SIGHUP.
 */
#ifndef KBUS_TOOLS_WAIT_H
#define KBUS_TOOLS_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* What tool_wait() saw. */
typedef enum ToolWait {
        TOOL_WAIT_READY,   /* the ksock may have a message */
        TOOL_WAIT_TIMEOUT, /* the deadline passed */
        TOOL_WAIT_SIGNAL,  /* SIGINT, SIGTERM or SIGHUP arrived */
} ToolWait;

/* No deadline: wait for ever. */
#define TOOL_NO_DEADLINE UINT64_MAX

uint64_t tool_now_ns(void);
uint64_t tool_deadline(double seconds, bool given);
int tool_signals_block(void);
ToolWait tool_wait(int fd, int sigfd, uint64_t deadline);
bool tool_signalled(int sigfd);

#endif
