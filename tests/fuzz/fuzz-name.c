/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz-name.c - libFuzzer target for name and binding syntax
 * (src/proto/name.c, semantics §3).
 *
 * The input is the name's bytes (not NUL-terminated, so ASan sees any read
 * past its end).  name_check() is compared, for sent names and for
 * bindings, against a second implementation written here the obvious way
 * (split at dots, check each word), and the two must agree on the verdict
 * and on the wildcard kind.  name_errno() must map the verdict to the
 * errno of semantics §15.  Any disagreement aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "name.h"
#include "wire.h"

#define CHECK(cond)                      \
        do {                             \
                if (!(cond))             \
                        __builtin_trap(); \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ref_word_char(uint8_t c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

/*
 * "$." then words of [A-Za-z0-9_-] joined by single dots; "*" or "%" only
 * as the last word of a binding.
 */
static int ref_check(const uint8_t *s, size_t n, bool wildcard, NameKind *kind)
{
        size_t start = 2;

        if (n > KBUS_NAME_LEN_MAX)
                return NAME_E_TOO_LONG;
        if (n < KBUS_NAME_LEN_MIN || s[0] != '$' || s[1] != '.')
                return NAME_E_BAD;
        *kind = NAME_PLAIN;
        for (size_t i = 2; i <= n; i++) {
                if (i < n && s[i] != '.')
                        continue;
                size_t len = i - start;
                if (len == 0)
                        return NAME_E_BAD;
                if (len == 1 && (s[start] == '*' || s[start] == '%')) {
                        if (i != n || !wildcard)
                                return NAME_E_BAD;
                        *kind = s[start] == '*' ? NAME_STAR : NAME_PERCENT;
                } else {
                        for (size_t j = start; j < i; j++)
                                if (!ref_word_char(s[j]))
                                        return NAME_E_BAD;
                }
                start = i + 1;
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        for (int wildcard = 0; wildcard <= 1; wildcard++) {
                NameKind kind = (NameKind)99, ref_kind = (NameKind)99;
                int r = name_check((const char *)data, size, wildcard, &kind);
                int ref = ref_check(data, size, wildcard, &ref_kind);

                CHECK(r == ref);
                if (r == 0)
                        CHECK(kind == ref_kind);
                else
                        CHECK(kind == (NameKind)99); /* untouched on failure */
                CHECK(name_errno(r) == (r == 0                 ? 0
                                        : r == NAME_E_TOO_LONG ? -ENAMETOOLONG
                                                               : -EBADMSG));
        }
        /* a name valid to send is a valid binding of the same (plain) kind */
        NameKind k;
        if (name_check((const char *)data, size, false, NULL) == 0) {
                CHECK(name_check((const char *)data, size, true, &k) == 0);
                CHECK(k == NAME_PLAIN);
        }
        return 0;
}
