/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log.c - kbusd's logging.
 *
 * One line per event on stderr.  Under systemd (JOURNAL_STREAM set) each
 * line starts with "<N>" so the journal records its priority; elsewhere it
 * starts with "kbusd: ".  Debug lines appear only in verbose mode, which a
 * client can switch (the old kernel_module_verbose control, SPEC §5).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool log_verbose;
static bool log_journal;

/**
 * log_setup() - choose the output format and initial verbosity.
 * @verbose: log debug lines
 */
void log_setup(bool verbose)
{
        log_verbose = verbose;
        log_journal = getenv("JOURNAL_STREAM") != NULL;
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
        va_list ap;

        if (priority == LOG_DEBUG && !log_verbose)
                return;
        if (log_journal)
                fprintf(stderr, "<%d>", priority);
        else
                fputs("kbusd: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
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
