/* SPDX-License-Identifier: MPL-2.0 */
/*
 * name.c - message name and binding syntax (semantics §3).
 *
 * A name is "$." followed by one or more words separated by single dots.  A
 * word is one or more of the ASCII letters, the digits, '_' and '-'.  Names
 * are case-sensitive and between KBUS_NAME_LEN_MIN and KBUS_NAME_LEN_MAX
 * bytes long.  A binding may replace its last word with "*" (that level and
 * every level below) or "%" (exactly one word at that level); a wildcard
 * anywhere else is invalid, and a sent message may not have one at all.
 * This is pure code: no allocation, no I/O.
 *
 * The sets of names that bindings match form a laminar family: two of them
 * are either disjoint or one contains the other (name_relate()).  That is
 * what lets the policy decide a wildcard binding exactly, rule by rule.
 */
#include "name.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

/* What each byte may be in a name's words: a word character, a dot, or neither. */
enum { NAME_NOT = 0, NAME_WORD = 1, NAME_DOT = 2 };

#define NAME_RANGE(a, b) [a ... b] = NAME_WORD
static const unsigned char name_class[256] = {
        NAME_RANGE('a', 'z'), NAME_RANGE('A', 'Z'), NAME_RANGE('0', '9'),
        ['_'] = NAME_WORD, ['-'] = NAME_WORD, ['.'] = NAME_DOT,
};

/* Checks "w1.w2...wn" (no leading "$."): every word non-empty.  This runs on
 * every message kbusd routes and libkbus receives, hence the table. */
static bool name_words_ok(const char *p, size_t len)
{
        bool word_started = false;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = name_class[(unsigned char)p[i]];
                if (c == NAME_WORD)
                        word_started = true;
                else if (c == NAME_DOT && word_started)
                        word_started = false;
                else
                        return false;
        }
        return word_started;
}

/**
 * name_check() - validate a message name or binding.
 * @name:           the name bytes (need not be NUL-terminated)
 * @len:            its length in bytes
 * @allow_wildcard: true for bindings, false for names of sent messages
 * @ret_kind:       where to store the wildcard kind, or NULL
 *
 * Return: 0 if valid; NAME_E_TOO_LONG if longer than KBUS_NAME_LEN_MAX;
 * NAME_E_BAD for any other defect (including a wildcard where none is allowed).
 */
int name_check(const char *name, size_t len, bool allow_wildcard, NameKind *ret_kind)
{
        NameKind kind = NAME_PLAIN;

        if (len > KBUS_NAME_LEN_MAX)
                return NAME_E_TOO_LONG;
        if (len < KBUS_NAME_LEN_MIN || name[0] != '$' || name[1] != '.')
                return NAME_E_BAD;

        const char *words = name + 2;
        size_t words_len = len - 2;
        char last = name[len - 1];

        if ((last == '*' || last == '%') && name[len - 2] == '.') {
                if (!allow_wildcard)
                        return NAME_E_BAD;
                kind = last == '*' ? NAME_STAR : NAME_PERCENT;
                if (len == 3) /* "$.*" and "$.%" have no words before it */
                        goto ok;
                words_len -= 2;
        }
        if (!name_words_ok(words, words_len))
                return NAME_E_BAD;
ok:
        if (ret_kind)
                *ret_kind = kind;
        return 0;
}

/**
 * name_errno() - the errno semantics §15 gives a name_check() result.
 * @r: a name_check() return value
 *
 * Return: 0, -EBADMSG or -ENAMETOOLONG.
 */
int name_errno(int r)
{
        if (r == NAME_E_TOO_LONG)
                return -ENAMETOOLONG;
        return r ? -EBADMSG : 0;
}

/* A checked binding as the set it matches: the words before any wildcard, and the kind. */
typedef struct NameSet {
        const char *prefix; /* "$.a.b" (or "$" for "$.*" and "$.%") */
        size_t len;
        size_t depth;       /* words in prefix */
        NameKind kind;
} NameSet;

static NameSet name_set(const char *name, size_t len)
{
        NameSet s = { .prefix = name, .len = len, .kind = NAME_PLAIN };

        if (name[len - 1] == '*' || name[len - 1] == '%') {
                s.kind = name[len - 1] == '*' ? NAME_STAR : NAME_PERCENT;
                s.len = len - 2;
        }
        for (size_t i = 0; i < s.len; i++)
                s.depth += name[i] == '.';
        return s;
}

/* Whether the words of @a begin the words of @b. */
static bool name_is_prefix(const NameSet *a, const NameSet *b)
{
        return a->len <= b->len && memcmp(a->prefix, b->prefix, a->len) == 0 &&
               (a->len == b->len || b->prefix[a->len] == '.');
}

/* How @a relates to @b, given that @a's prefix is no deeper than @b's. */
static NameRelation name_relate_sets(const NameSet *a, const NameSet *b)
{
        if (!name_is_prefix(a, b))
                return NAME_DISJOINT;
        if (a->depth == b->depth) {
                if (a->kind == b->kind)
                        return NAME_SAME;
                if (a->kind == NAME_PLAIN || b->kind == NAME_PLAIN)
                        return NAME_DISJOINT; /* "$.a" is neither "$.a.%" nor "$.a.*" */
                return a->kind == NAME_STAR ? NAME_AROUND : NAME_INSIDE;
        }
        if (a->kind == NAME_STAR)
                return NAME_AROUND; /* everything below a's prefix */
        if (a->kind == NAME_PERCENT && b->kind == NAME_PLAIN && b->depth == a->depth + 1)
                return NAME_AROUND; /* "$.a.%" matches "$.a.b" */
        return NAME_DISJOINT;
}

/**
 * name_relate() - how the names two bindings match are related.
 * @a:    a binding (or a plain name) that passed name_check()
 * @alen: its length
 * @b:    another
 * @blen: its length
 *
 * "$.a.*" matches every name below "$.a", "$.a.%" every name one word
 * below it, and a plain name only itself.
 *
 * Return: NAME_DISJOINT, NAME_SAME, NAME_INSIDE (@a's names are all @b's)
 * or NAME_AROUND (@b's names are all @a's).
 */
NameRelation name_relate(const char *a, size_t alen, const char *b, size_t blen)
{
        NameSet sa = name_set(a, alen), sb = name_set(b, blen);

        if (sa.depth <= sb.depth)
                return name_relate_sets(&sa, &sb);
        NameRelation r = name_relate_sets(&sb, &sa);
        return r == NAME_INSIDE ? NAME_AROUND : r == NAME_AROUND ? NAME_INSIDE : r;
}
