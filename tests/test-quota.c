/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-quota.c - unit tests for the quota books (src/core/quota.c): the
 * per-uid share and the total, refusals counted and reported with EDQUOT or
 * ENOBUFS, charges moved between users, users freed with their last
 * reference, and limits parsed as the policy file and command line give them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../src/core/quota.h"

static void small_limits(QuotaLimits *l)
{
        quota_limits_default(l);
        l->per_uid[QUOTA_BINDINGS] = 3;
        l->total[QUOTA_BINDINGS] = 5;
}

static void test_share_and_total(void **state)
{
        QuotaLimits l;
        Quota q;
        QuotaUser *a, *b, *c;

        (void)state;
        small_limits(&l);
        quota_init(&q, &l);
        assert_int_equal(quota_user_ref(&q, 1000, &a), 0);
        assert_int_equal(quota_user_ref(&q, 1001, &b), 0);
        assert_int_equal(quota_user_ref(&q, 1002, &c), 0);
        assert_int_equal(quota_charge(a, QUOTA_BINDINGS, 2), 0);
        assert_int_equal(quota_charge(a, QUOTA_BINDINGS, 1), 0);
        assert_true(quota_is_spent(a, QUOTA_BINDINGS));
        assert_false(quota_is_spent(b, QUOTA_BINDINGS));
        assert_int_equal(quota_charge(a, QUOTA_BINDINGS, 1), QUOTA_E_USER);
        assert_int_equal(quota_errno(QUOTA_E_USER), -EDQUOT);
        assert_int_equal(a->used[QUOTA_BINDINGS], 3);
        assert_int_equal(a->refused[QUOTA_BINDINGS], 1);
        /* b may take what is left of the total, then nobody may take more */
        assert_int_equal(quota_charge(b, QUOTA_BINDINGS, 2), 0);
        assert_int_equal(quota_charge(c, QUOTA_BINDINGS, 1), QUOTA_E_TOTAL);
        assert_int_equal(quota_errno(QUOTA_E_TOTAL), -ENOBUFS);
        assert_true(quota_is_spent(c, QUOTA_BINDINGS));
        assert_int_equal(c->refused[QUOTA_BINDINGS], 1);
        assert_int_equal(q.refused[QUOTA_BINDINGS], 2);
        assert_int_equal(q.used[QUOTA_BINDINGS], 5);
        /* giving back makes room again */
        quota_release(a, QUOTA_BINDINGS, 1);
        assert_int_equal(quota_charge(c, QUOTA_BINDINGS, 1), 0);
        /* a charge larger than a whole share never fits, and cannot wrap */
        assert_int_equal(quota_charge(b, QUOTA_BINDINGS, UINT64_MAX), QUOTA_E_USER);
        quota_release(a, QUOTA_BINDINGS, 2);
        quota_release(b, QUOTA_BINDINGS, 2);
        quota_release(c, QUOTA_BINDINGS, 1);
        assert_int_equal(q.used[QUOTA_BINDINGS], 0);
        a = quota_user_unref(a);
        b = quota_user_unref(b);
        c = quota_user_unref(c);
        assert_int_equal(q.nusers, 0);
        quota_deinit(&q);
}

static void test_users_shared_and_moved(void **state)
{
        QuotaLimits l;
        Quota q;
        QuotaUser *a1, *a2, *b;

        (void)state;
        small_limits(&l);
        quota_init(&q, &l);
        assert_int_equal(quota_user_ref(&q, 7, &a1), 0);
        assert_int_equal(quota_user_ref(&q, 7, &a2), 0);
        assert_ptr_equal(a1, a2);
        assert_int_equal(q.nusers, 1);
        /* many users: the table grows and finds each again */
        QuotaUser *many[300];
        for (unsigned i = 0; i < 300; i++)
                assert_int_equal(quota_user_ref(&q, 10000 + i, &many[i]), 0);
        for (unsigned i = 0; i < 300; i++) {
                QuotaUser *again;
                assert_int_equal(quota_user_ref(&q, 10000 + i, &again), 0);
                assert_ptr_equal(again, many[i]);
                quota_user_unref(again);
        }
        assert_int_equal(q.nusers, 301);
        for (unsigned i = 0; i < 300; i++)
                quota_user_unref(many[i]);
        /* a charge moves whatever the limits say */
        assert_int_equal(quota_user_ref(&q, 8, &b), 0);
        assert_int_equal(quota_charge(a1, QUOTA_REQUESTS, 1), 0);
        quota_release(a1, QUOTA_REQUESTS, 1);
        quota_force(b, QUOTA_BINDINGS, 4);
        assert_int_equal(b->used[QUOTA_BINDINGS], 4);
        assert_int_equal(quota_charge(b, QUOTA_BINDINGS, 1), QUOTA_E_USER);
        quota_release(b, QUOTA_BINDINGS, 4);
        quota_user_unref(a1);
        assert_int_equal(q.nusers, 2); /* a2 still holds uid 7 */
        quota_user_unref(a2);
        quota_user_unref(b);
        assert_int_equal(q.nusers, 0);
        quota_deinit(&q);
}

static void test_limit_parse(void **state)
{
        QuotaKind k;
        bool total;
        uint64_t v;
        const char *why = NULL;

        (void)state;
        assert_int_equal(quota_limit_parse("connections-per-uid", "10", &k, &total, &v, &why), 0);
        assert_int_equal(k, QUOTA_CONNECTIONS);
        assert_false(total);
        assert_int_equal(v, 10);
        assert_int_equal(quota_limit_parse("queued-bytes-total", "3M", &k, &total, &v, &why), 0);
        assert_int_equal(k, QUOTA_QUEUED_BYTES);
        assert_true(total);
        assert_int_equal(v, 3u << 20);
        assert_int_equal(quota_limit_parse("partial-bytes-per-uid", "1k", &k, &total, &v, &why), 0);
        assert_int_equal(v, 1024);
        assert_int_equal(quota_limit_parse("requests-total", "2G", &k, &total, &v, &why), 0);
        assert_true(v == 2ull << 30);
        assert_int_equal(quota_limit_parse("bindings-per-uid", "-1", &k, &total, &v, &why),
                         -EINVAL);
        assert_int_equal(quota_limit_parse("bindings-per-uid", "", &k, &total, &v, &why),
                         -EINVAL);
        assert_int_equal(quota_limit_parse("bindings-per-uid", "1T", &k, &total, &v, &why),
                         -EINVAL);
        assert_int_equal(quota_limit_parse("bindings-per-uid", "99999999999999999999G", &k,
                                           &total, &v, &why), -EINVAL);
        assert_int_equal(quota_limit_parse("bindings", "1", &k, &total, &v, &why), -EINVAL);
        assert_int_equal(quota_limit_parse("bindings-per-uidx", "1", &k, &total, &v, &why),
                         -EINVAL);
        assert_non_null(strstr(why, "unknown limit"));
        assert_string_equal(quota_kind_name(QUOTA_PARTIAL_BYTES), "partial-bytes");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_share_and_total),
                cmocka_unit_test(test_users_shared_and_moved),
                cmocka_unit_test(test_limit_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
