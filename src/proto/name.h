/* SPDX-License-Identifier: MPL-2.0 */
/*
 * name.h - message name and binding syntax (semantics §3).
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

/* How the sets of names two bindings match are related (name_relate()). */
typedef enum NameRelation {
        NAME_DISJOINT = 0, /* no name matches both */
        NAME_SAME = 1,     /* the same set */
        NAME_INSIDE = 2,   /* every name the first matches, the second matches too */
        NAME_AROUND = 3,   /* every name the second matches, the first matches too */
} NameRelation;

int name_check(const char *name, size_t len, bool allow_wildcard, NameKind *ret_kind);
int name_errno(int r);
NameRelation name_relate(const char *a, size_t alen, const char *b, size_t blen);

#endif
