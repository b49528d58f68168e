/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-name.c - unit tests for message name and binding syntax
 * (src/proto/name.c, SPEC §3).
 *
 * A name is "$." and one or more dot-separated words of ASCII letters,
 * digits, '_' and '-'; 3 to 1000 bytes.  Only a binding may end in ".*" or
 * ".%".  Every name is checked from a heap copy of exactly its length (no
 * NUL terminator), so a read past the end shows up under valgrind or ASan,
 * and both with and without wildcards allowed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../src/proto/name.h"
#include "../src/proto/wire.h"

#define KIND_UNSET ((NameKind)77)

/* name_check() on an exactly sized copy; *ret_kind is KIND_UNSET if not written. */
static int check(const char *name, size_t len, bool wild, NameKind *ret_kind)
{
        char *p = malloc(len ? len : 1);
        NameKind kind = KIND_UNSET;

        assert_non_null(p);
        memcpy(p, name, len);
        int r = name_check(p, len, wild, &kind);
        free(p);
        *ret_kind = kind;
        return r;
}

static void assert_valid(const char *name, size_t len, bool wild, NameKind expect)
{
        NameKind kind;

        assert_int_equal(check(name, len, wild, &kind), 0);
        assert_int_equal(kind, expect);
}

static void assert_invalid(const char *name, size_t len, bool wild, int expect)
{
        NameKind kind;

        assert_int_equal(check(name, len, wild, &kind), expect);
        assert_int_equal(kind, KIND_UNSET); /* not written on failure */
}

#define VALID(s, wild, kind) assert_valid(s, sizeof(s) - 1, wild, kind)
#define INVALID(s, wild) assert_invalid(s, sizeof(s) - 1, wild, NAME_E_BAD)

/* A name of @len bytes: "$." then words of @word_len 'x's separated by dots. */
static char *make_name(size_t len, size_t word_len)
{
        char *p = malloc(len);

        assert_non_null(p);
        p[0] = '$';
        p[1] = '.';
        for (size_t i = 2; i < len; i++)
                p[i] = (i - 2) % (word_len + 1) == word_len ? '.' : 'x';
        return p;
}

static void test_valid_names(void **state)
{
        for (int wild = 0; wild <= 1; wild++) {
                VALID("$.a", wild, NAME_PLAIN);
                VALID("$.A", wild, NAME_PLAIN);
                VALID("$.9", wild, NAME_PLAIN);
                VALID("$._", wild, NAME_PLAIN);
                VALID("$.-", wild, NAME_PLAIN);
                VALID("$.Sensors.Kitchen", wild, NAME_PLAIN);
                VALID("$.Sensors.Kitchen.Toaster", wild, NAME_PLAIN);
                VALID("$.a_b-c.D9", wild, NAME_PLAIN);
                VALID("$.KBUS.Replier.GoneAway", wild, NAME_PLAIN);
                VALID("$.abcdefghijklmnopqrstuvwxyz.ABCDEFGHIJKLMNOPQRSTUVWXYZ.0123456789",
                      wild, NAME_PLAIN);
        }
        /* ret_kind may be NULL */
        assert_int_equal(name_check("$.a", 3, false, NULL), 0);
        assert_int_equal(name_check("$.a.*", 5, true, NULL), 0);
}

static void test_max_length(void **state)
{
        for (size_t wl = 1; wl <= 997; wl += 498) {
                char *p = make_name(KBUS_NAME_LEN_MAX, wl);
                if (p[KBUS_NAME_LEN_MAX - 1] == '.')
                        p[KBUS_NAME_LEN_MAX - 1] = 'y';
                assert_valid(p, KBUS_NAME_LEN_MAX, false, NAME_PLAIN);
                assert_valid(p, KBUS_NAME_LEN_MAX, true, NAME_PLAIN);
                free(p);
        }
        char *p = make_name(KBUS_NAME_LEN_MAX, 998); /* "$." and one 998-byte word */
        assert_valid(p, KBUS_NAME_LEN_MAX, false, NAME_PLAIN);
        free(p);

        /* a 1000-byte binding ending in a wildcard */
        p = make_name(KBUS_NAME_LEN_MAX, 994);
        memcpy(p + KBUS_NAME_LEN_MAX - 2, ".*", 2);
        assert_valid(p, KBUS_NAME_LEN_MAX, true, NAME_STAR);
        assert_invalid(p, KBUS_NAME_LEN_MAX, false, NAME_E_BAD);
        free(p);

        /* 1001 bytes: too long, whatever else it is */
        p = make_name(KBUS_NAME_LEN_MAX + 1, 999);
        assert_invalid(p, KBUS_NAME_LEN_MAX + 1, false, NAME_E_TOO_LONG);
        assert_invalid(p, KBUS_NAME_LEN_MAX + 1, true, NAME_E_TOO_LONG);
        memset(p, '#', KBUS_NAME_LEN_MAX + 1);
        assert_invalid(p, KBUS_NAME_LEN_MAX + 1, true, NAME_E_TOO_LONG);
        free(p);
        p = make_name(KBUS_NAME_LEN_MAX + 1, 995);
        memcpy(p + KBUS_NAME_LEN_MAX - 1, ".%", 2);
        assert_invalid(p, KBUS_NAME_LEN_MAX + 1, true, NAME_E_TOO_LONG);
        free(p);
        p = make_name(1u << 20, 7);
        assert_invalid(p, 1u << 20, false, NAME_E_TOO_LONG);
        free(p);
}

static void test_invalid_names(void **state)
{
        for (int wild = 0; wild <= 1; wild++) {
                INVALID("", wild);
                INVALID("$", wild);
                INVALID("$.", wild);
                INVALID(".", wild);
                INVALID("$$", wild);
                INVALID("$..a", wild);
                INVALID("$.a.", wild);
                INVALID("$.a..b", wild);
                INVALID("$.a.b.", wild);
                INVALID("$...", wild);
                INVALID("a.b", wild);
                INVALID("abc", wild);
                INVALID("$a", wild);
                INVALID("$ab", wild);
                INVALID("$a.b", wild);
                INVALID("$.a b", wild);
                INVALID("$. a", wild);
                INVALID("$.a\tb", wild);
                INVALID("$.a\n", wild);
                INVALID("$.a/b", wild);
                INVALID("$.a:b", wild);
                INVALID("$.$", wild);
                INVALID("$.a$", wild);
                INVALID(".$.a", wild);
                INVALID("$.a*", wild);
                INVALID("$.*a", wild);
                INVALID("$.*.a", wild);
                INVALID("$.%.a", wild);
                INVALID("$.a.*.b", wild);
                INVALID("$.a.%.b", wild);
                INVALID("$.a.b*", wild);
                INVALID("$.caf\xc3\xa9", wild);
                INVALID("$.\x80", wild);
                INVALID("$.a\xff.b", wild);
                INVALID("$.a\0b", wild);
                INVALID("$.a\0", wild);
                INVALID("$\0.a", wild);
        }
}

static void test_wildcards(void **state)
{
        VALID("$.*", true, NAME_STAR);
        VALID("$.%", true, NAME_PERCENT);
        VALID("$.a.*", true, NAME_STAR);
        VALID("$.a.%", true, NAME_PERCENT);
        VALID("$.Sensors.Kitchen.*", true, NAME_STAR);
        VALID("$.a_b-c.D9.%", true, NAME_PERCENT);

        INVALID("$.*", false);
        INVALID("$.%", false);
        INVALID("$.a.*", false);
        INVALID("$.a.%", false);
        INVALID("$.Sensors.Kitchen.*", false);

        for (int wild = 0; wild <= 1; wild++) {
                INVALID("$.a.**", wild);
                INVALID("$.a.*%", wild);
                INVALID("$.a.%*", wild);
                INVALID("$.a.%%", wild);
                INVALID("$.a%", wild);
                INVALID("$.a*", wild);
                INVALID("$..*", wild);
                INVALID("$..%", wild);
                INVALID("$.a..*", wild);
                INVALID("$.**", wild);
                INVALID("$*", wild);
                INVALID("$%", wild);
                INVALID("*", wild);
                INVALID("*.*", wild);
                INVALID("$.*.*", wild);
                INVALID("$.%.*", wild);
                INVALID("$.a.*.", wild);
        }
}

static void test_name_errno(void **state)
{
        NameKind kind;

        assert_int_equal(name_errno(0), 0);
        assert_int_equal(name_errno(NAME_E_BAD), -EBADMSG);
        assert_int_equal(name_errno(NAME_E_TOO_LONG), -ENAMETOOLONG);

        assert_int_equal(name_errno(check("$.a", 3, false, &kind)), 0);
        assert_int_equal(name_errno(check("$.a.*", 5, false, &kind)), -EBADMSG);
        char *p = make_name(KBUS_NAME_LEN_MAX + 1, 10);
        assert_int_equal(name_errno(check(p, KBUS_NAME_LEN_MAX + 1, true, &kind)),
                         -ENAMETOOLONG);
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_names),
                cmocka_unit_test(test_max_length),
                cmocka_unit_test(test_invalid_names),
                cmocka_unit_test(test_wildcards),
                cmocka_unit_test(test_name_errno),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
