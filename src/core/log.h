/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log.h - kbusd's logging: lines handed to a sink the shell sets.
 */
#ifndef KBUS_CORE_LOG_H
#define KBUS_CORE_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Receives each log line (no newline) at a syslog priority. */
typedef void (*LogSink)(int priority, const char *line, void *ctx);

void log_set_sink(LogSink sink, void *ctx);
bool log_set_verbose(bool verbose);
bool log_is_verbose(void);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_origin_at(int r, const char *file, int line, const char *func);

/*
 * error_origin(r): where kbusd first meets an errno it did not expect (out
 * of memory, a failing system call), it logs it once, with the place, and
 * passes it on unchanged: callers forward it without logging or flattening.
 */
#define error_origin(r) log_origin_at((r), __FILE__, __LINE__, __func__)

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
