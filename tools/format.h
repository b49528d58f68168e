/* SPDX-License-Identifier: MPL-2.0 */
/*
 * format.h - how kbus-send and kbus-listen print a message: one line of
 * text, or one JSON object (the field names are documented in format.c
 * and in kbus-listen(1)).
 */
#ifndef KBUS_TOOLS_FORMAT_H
#define KBUS_TOOLS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "kbus/kbus.h"

const char *fmt_kind(const kbus_message_t *msg);
bool fmt_is_status(const kbus_message_t *msg);
bool fmt_data_is_text(const unsigned char *p, size_t len);
void fmt_json_string(FILE *f, const char *s, size_t len);
void fmt_message(FILE *f, const kbus_message_t *msg, const struct timespec *when, bool json);

#endif
