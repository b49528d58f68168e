/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-name.c - unit tests for message name and binding syntax
 * (src/proto/name.c, semantics §3).
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

/* name_relate() on exactly sized copies, checked both ways round. */
static NameRelation relate(const char *a, const char *b)
{
        size_t alen = strlen(a), blen = strlen(b);
        char *pa = malloc(alen), *pb = malloc(blen);

        assert_non_null(pa);
        assert_non_null(pb);
        memcpy(pa, a, alen);
        memcpy(pb, b, blen);
        NameRelation r = name_relate(pa, alen, pb, blen);
        NameRelation back = name_relate(pb, blen, pa, alen);
        free(pa);
        free(pb);
        NameRelation mirror = r == NAME_INSIDE ? NAME_AROUND : r == NAME_AROUND ? NAME_INSIDE : r;
        assert_int_equal(back, mirror);
        return r;
}

static void test_relate(void **state)
{
        (void)state;
        assert_int_equal(relate("$.a", "$.a"), NAME_SAME);
        assert_int_equal(relate("$.a.*", "$.a.*"), NAME_SAME);
        assert_int_equal(relate("$.a.%", "$.a.%"), NAME_SAME);
        assert_int_equal(relate("$.*", "$.*"), NAME_SAME);
        /* "*" matches every level below, "%" exactly one, neither the name itself */
        assert_int_equal(relate("$.a.b", "$.a.*"), NAME_INSIDE);
        assert_int_equal(relate("$.a.b.c.d", "$.a.*"), NAME_INSIDE);
        assert_int_equal(relate("$.a", "$.a.*"), NAME_DISJOINT);
        assert_int_equal(relate("$.a", "$.a.%"), NAME_DISJOINT);
        assert_int_equal(relate("$.a.b", "$.a.%"), NAME_INSIDE);
        assert_int_equal(relate("$.a.b.c", "$.a.%"), NAME_DISJOINT);
        assert_int_equal(relate("$.a.%", "$.a.*"), NAME_INSIDE);
        assert_int_equal(relate("$.a.b.%", "$.a.*"), NAME_INSIDE);
        assert_int_equal(relate("$.a.b.%", "$.a.%"), NAME_DISJOINT);
        assert_int_equal(relate("$.a.b.*", "$.a.%"), NAME_DISJOINT);
        assert_int_equal(relate("$.KBUS.Replier.GoneAway", "$.*"), NAME_INSIDE);
        assert_int_equal(relate("$.a", "$.%"), NAME_INSIDE);
        assert_int_equal(relate("$.a.b", "$.%"), NAME_DISJOINT);
        assert_int_equal(relate("$.%", "$.*"), NAME_INSIDE);
        /* words are compared whole: "$.ab" is not below "$.a" */
        assert_int_equal(relate("$.ab", "$.a.*"), NAME_DISJOINT);
        assert_int_equal(relate("$.ab.c", "$.a.*"), NAME_DISJOINT);
        assert_int_equal(relate("$.a", "$.b"), NAME_DISJOINT);
        assert_int_equal(relate("$.Sensors.*", "$.Sensor.*"), NAME_DISJOINT);
        assert_int_equal(relate("$.a.*", "$.b.*"), NAME_DISJOINT);
        assert_int_equal(relate("$.a.b", "$.a.b.c"), NAME_DISJOINT);
}

/*
 * Any two bindings are disjoint or nested.  Checked against brute force: a
 * binding "matches" a concrete name when name_relate(name, binding) says
 * INSIDE or SAME; over a small universe of names the relation must agree
 * with the sets of names each binding matches.
 */
static void test_relate_laminar(void **state)
{
        static const char *const bindings[] = {
                "$.*", "$.%", "$.a", "$.b", "$.a.*", "$.a.%", "$.a.b", "$.a.b.*", "$.a.b.%",
                "$.a.b.c", "$.b.%", "$.b.c",
        };
        static const char *const names[] = {
                "$.a", "$.b", "$.c", "$.a.b", "$.a.c", "$.b.c", "$.a.b.c", "$.a.b.d", "$.a.c.d",
                "$.b.c.d", "$.a.b.c.d",
        };
        size_t nb = sizeof(bindings) / sizeof(bindings[0]), nn = sizeof(names) / sizeof(names[0]);

        (void)state;
        for (size_t i = 0; i < nb; i++) {
                for (size_t j = 0; j < nb; j++) {
                        bool in_i_only = false, in_j_only = false, in_both = false;
                        for (size_t k = 0; k < nn; k++) {
                                NameRelation ri = relate(names[k], bindings[i]);
                                NameRelation rj = relate(names[k], bindings[j]);
                                bool mi = ri == NAME_INSIDE || ri == NAME_SAME;
                                bool mj = rj == NAME_INSIDE || rj == NAME_SAME;
                                in_i_only |= mi && !mj;
                                in_j_only |= mj && !mi;
                                in_both |= mi && mj;
                        }
                        NameRelation r = relate(bindings[i], bindings[j]);
                        if (r == NAME_DISJOINT)
                                assert_false(in_both);
                        else
                                assert_true(in_both);
                        if (r == NAME_SAME)
                                assert_false(in_i_only || in_j_only);
                        if (r == NAME_INSIDE)
                                assert_false(in_i_only);
                        if (r == NAME_AROUND)
                                assert_false(in_j_only);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_names),
                cmocka_unit_test(test_max_length),
                cmocka_unit_test(test_invalid_names),
                cmocka_unit_test(test_wildcards),
                cmocka_unit_test(test_name_errno),
                cmocka_unit_test(test_relate),
                cmocka_unit_test(test_relate_laminar),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
