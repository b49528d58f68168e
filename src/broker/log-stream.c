/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log-stream.c - where kbusd's log lines go: stderr.  Under systemd
 * (JOURNAL_STREAM set) each line starts with "<N>" so the journal records
 * its priority; elsewhere it starts with "kbusd: ".
 */
#include "log-stream.h"

#include <stdio.h>
#include <stdlib.h>

#include "../core/log.h"

static void log_stream_write(int priority, const char *line, void *ctx)
{
        bool journal = ctx != NULL;

        if (journal)
                fprintf(stderr, "<%d>%s\n", priority, line);
        else
                fprintf(stderr, "kbusd: %s\n", line);
}

/**
 * log_stream_setup() - send the log to stderr, in the journal's format if
 * systemd reads it, and set the initial verbosity.
 * @verbose: log debug lines
 */
void log_stream_setup(bool verbose)
{
        static int journal;

        log_set_verbose(verbose);
        log_set_sink(log_stream_write, getenv("JOURNAL_STREAM") ? &journal : NULL);
}
