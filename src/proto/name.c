/* SPDX-License-Identifier: MPL-2.0 */
/*
 * name.c - message name and binding syntax (SPEC §3).
 *
 * A name is "$." followed by one or more words separated by single dots.  A
 * word is one or more of the ASCII letters, the digits, '_' and '-'.  Names
 * are case-sensitive and between KBUS_NAME_LEN_MIN and KBUS_NAME_LEN_MAX
 * bytes long.  A binding may replace its last word with "*" (that level and
 * every level below) or "%" (exactly one word at that level); a wildcard
 * anywhere else is invalid, and a sent message may not have one at all.
 * This is pure code: no allocation, no I/O.
 */
#include "name.h"

#include <errno.h>

#include "wire.h"

static bool name_is_word_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

/* Checks "w1.w2...wn" (no leading "$."): every word non-empty. */
static bool name_words_ok(const char *p, size_t len)
{
        bool word_started = false;

        for (size_t i = 0; i < len; i++) {
                if (p[i] == '.') {
                        if (!word_started)
                                return false;
                        word_started = false;
                } else if (name_is_word_char(p[i])) {
                        word_started = true;
                } else {
                        return false;
                }
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
 * name_errno() - the errno SPEC §15 gives a name_check() result.
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
