/* SPDX-License-Identifier: MPL-2.0 */
/*
 * name.h - message name and binding syntax (SPEC §3).
 */
#ifndef KBUS_PROTO_NAME_H
#define KBUS_PROTO_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* What the last word of a checked name is. */
typedef enum NameKind {
        NAME_PLAIN = 0,   /* no wildcard */
        NAME_STAR = 1,    /* ends in ".*": this level and every level below */
        NAME_PERCENT = 2, /* ends in ".%": exactly one word at this level */
} NameKind;

/* Conditions name_check() reports; the caller maps them to an errno. */
enum {
        NAME_E_BAD = 1,      /* EBADMSG */
        NAME_E_TOO_LONG = 2, /* ENAMETOOLONG */
};

int name_check(const char *name, size_t len, bool allow_wildcard, NameKind *ret_kind);
int name_errno(int r);

#endif
