/* SPDX-License-Identifier: MPL-2.0 */
/*
 * runcmd.h - run a shell command on a request's data and collect what it
 * prints (kbus-listen --replier --exec).
 */
#ifndef KBUS_TOOLS_RUNCMD_H
#define KBUS_TOOLS_RUNCMD_H

#include <stddef.h>

#include "kbus/kbus.h"

/* What a command printed, and how it ended. */
typedef struct RunOutput {
        unsigned char *data; /* malloc()ed, or NULL when empty */
        size_t len;
        int status;          /* as waitpid() reports it */
} RunOutput;

#define RUN_OUTPUT_INIT { .data = NULL, .len = 0, .status = 0 }

int runcmd_run(const char *cmd, const kbus_message_t *request, RunOutput *ret);
void runcmd_describe(int status, char *out, size_t outlen);
void runcmd_output_deinit(RunOutput *out);

#endif
