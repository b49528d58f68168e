/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log.c - kbusd's logging, as the core does it: one line per event, handed
 * to a sink the shell sets (stderr or the journal in kbusd, a buffer in the
 * in-process tests).  Debug lines are made only in verbose mode, which a
 * client can switch (the old kernel_module_verbose control, semantics §5).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOG_LINE_MAX 2048

static bool log_verbose;
static LogSink log_sink;
static void *log_sink_ctx;

/**
 * log_set_sink() - where log lines go (NULL: nowhere).
 * @sink: called with each line (no newline)
 * @ctx:  passed to @sink
 */
void log_set_sink(LogSink sink, void *ctx)
{
        log_sink = sink;
        log_sink_ctx = ctx;
}

/**
 * log_set_verbose() - switch debug lines on or off.
 * @verbose: the new state
 *
 * Return: the state before.
 */
bool log_set_verbose(bool verbose)
{
        bool old = log_verbose;

        log_verbose = verbose;
        return old;
}

/**
 * log_is_verbose() - whether debug lines are logged.
 *
 * Return: the state.
 */
bool log_is_verbose(void)
{
        return log_verbose;
}

/**
 * log_msg() - log one line.
 * @priority: a syslog priority (LOG_ERR ... LOG_DEBUG)
 * @fmt:      printf format, no trailing newline
 */
void log_msg(int priority, const char *fmt, ...)
{
        char line[LOG_LINE_MAX];
        va_list ap;

        if (!log_sink || (priority == LOG_DEBUG && !log_verbose))
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        log_sink(priority, line, log_sink_ctx);
}

/**
 * log_origin_at() - log an unexpected negative errno where it arose (use
 * error_origin()).
 * @r:    the negative errno
 * @file: the source file
 * @line: the line
 * @func: the function
 *
 * Return: @r.
 */
int log_origin_at(int r, const char *file, int line, const char *func)
{
        log_msg(LOG_ERR, "%s:%d: %s(): %s", file, line, func, strerror(-r));
        return r;
}
