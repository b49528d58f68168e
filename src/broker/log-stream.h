/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log-stream.h - where kbusd's log lines go: stderr, or the journal.
 */
#ifndef KBUS_BROKER_LOG_STREAM_H
#define KBUS_BROKER_LOG_STREAM_H

#include <stdbool.h>

void log_stream_setup(bool verbose);

#endif
