/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-quota.c - unit tests for the quota books (src/core/quota.c): the
 * per-uid share and the total, refusals counted and reported with EDQUOT or
 * ENOBUFS, charges moved between users, users freed with their last
 * reference, and limits parsed as the policy file and command line give them.
 *
 * The test_core_* cases drive kbusd's core in the test process
 * (core-test.h) with small limits and assert on the exact answers: EDQUOT
 * for a uid's share, ENOBUFS for kbusd's total, for each kind of quota, and
 * the charge given back when what held it goes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/quota.h"
#include "core-test.h"

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

/* ---- Quotas in the core ------------------------------------------------- */

static TestCore t;
static TestFrame f;

static void expect_welcome_status(TestConn *tc, int32_t status)
{
        uint8_t want[WELCOME_LEN];

        codec_welcome_encode(want, &(Welcome){ .magic = KBUS_PROTO_MAGIC,
                                               .version = KBUS_PROTO_VERSION,
                                               .status = status, .bus = 0 });
        tc_expect_frame(tc, FRAME_WELCOME, 0, want, sizeof(want));
        tc_expect_nothing(tc);
        assert_true(tc->gone);
}

static void test_core_connections(void **state)
{
        static const char *const limits[] = { "connections-per-uid=2", "connections-total=3",
                                              NULL };
        TestConn *a1;

        (void)state;
        tc_start(&t, NULL, limits);
        a1 = tc_connect(&t, 1001, true);
        tc_connect(&t, 1001, true);
        expect_welcome_status(tc_connect_raw(&t, 1001), -EDQUOT);
        tc_connect(&t, 1002, true);
        expect_welcome_status(tc_connect_raw(&t, 1003), -ENOBUFS);
        tc_close(a1);
        tc_connect(&t, 1001, true); /* its place was given back */
        assert_int_equal(tc_log_count(&t, "connections quota of the uid used up: refused "
                                          "(1 time for this uid)"), 1);
        assert_int_equal(tc_log_count(&t, "connections limit of kbusd reached"), 1);
        tc_stop(&t);
}

static void test_core_bindings(void **state)
{
        static const char *const limits[] = { "bindings-per-uid=2", "bindings-total=3", NULL };
        TestConn *a, *a2, *b;

        (void)state;
        tc_start(&t, NULL, limits);
        a = tc_connect(&t, 1001, true);
        a2 = tc_connect(&t, 1001, true);
        b = tc_connect(&t, 1002, true);
        tc_bind(a, "$.a", false, 0);
        tc_bind(a2, "$.b", true, 0);
        for (int i = 0; i < 4; i++) /* logged at the 1st, 2nd and 4th refusal */
                tc_bind(a, "$.c", false, -EDQUOT);
        tc_bind(b, "$.a", false, 0);
        tc_bind(b, "$.b", false, -ENOBUFS);
        tc_frame(a, FRAME_UNBIND, 0, "$.a", 3);
        tc_expect_result(a, 0, 1, 0);
        tc_bind(b, "$.b", false, 0);
        tc_bind(a, "$.c", false, -ENOBUFS);
        assert_int_equal(tc_log_count(&t, "bindings quota of the uid used up"), 3);
        assert_int_equal(tc_log_count(&t, "(4 times for this uid)"), 1);
        tc_close(a2); /* its bindings go with it */
        tc_bind(a, "$.c", false, 0);
        tc_stop(&t);
}

static void test_core_requests(void **state)
{
        static const char *const limits[] = { "requests-per-uid=1", NULL };
        TestConn *r, *s;

        (void)state;
        tc_start(&t, NULL, limits);
        r = tc_connect(&t, 1001, true);
        s = tc_connect(&t, 1002, true);
        tc_bind(r, "$.svc", true, 0);
        tc_send(s, 0, "$.svc", "q", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_expect_result(s, 0, 0, 1);
        tc_send(s, 0, "$.svc", "q", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_expect_result(s, -EDQUOT, 0, 0);
        tc_send(s, 0, "$.svc", "announcement", 0, 0, 0); /* not a request: not counted */
        tc_expect_result(s, 0, 0, 2);
        tc_expect_msg(r, &f, "$.svc", s->id);
        tc_take(r, 1);
        tc_send(r, 0, "$.svc", "a", 0, s->id, 1);
        tc_expect_result(r, 0, 0, 3);
        tc_expect_msg(s, &f, "$.svc", r->id);
        tc_send(s, 0, "$.svc", "q", KBUS_FLAG_WANT_A_REPLY, 0, 0); /* answered: given back */
        tc_expect_result(s, 0, 0, 4);
        tc_stop(&t);
}

/* Queued bytes are charged to the uid that must read them: its queues count as full. */
static void test_core_queued_bytes(void **state)
{
        static const char *const limits[] = { "queued-bytes-per-uid=200", NULL };
        TestConn *l, *r, *s, *other;

        (void)state;
        tc_start(&t, NULL, limits);
        l = tc_connect(&t, 1001, false);
        r = tc_connect(&t, 1001, true);
        other = tc_connect(&t, 1003, false);
        s = tc_connect(&t, 1002, true);
        tc_bind(l, "$.a", false, 0);
        tc_bind(r, "$.svc", true, 0);
        tc_bind(other, "$.a", false, 0);
        for (uint32_t i = 1; i <= 4; i++) { /* 61 bytes each: the 4th passes 200 */
                tc_send(s, 0, "$.a", "x", 0, 0, 0);
                tc_expect_result(s, 0, 0, i);
        }
        tc_send(s, 0, "$.a", "x", KBUS_FLAG_ALL_OR_FAIL, 0, 0);
        tc_expect_result(s, -EBUSY, 0, 0);
        tc_send(s, 0, "$.svc", "q", KBUS_FLAG_WANT_A_REPLY, 0, 0); /* r shares l's uid */
        tc_expect_result(s, -EBUSY, 0, 0);
        for (int i = 0; i < 4; i++)
                tc_expect_msg(l, &f, "$.a", s->id);
        tc_expect_nothing(l);
        for (int i = 0; i < 4; i++)
                tc_expect_msg(other, &f, "$.a", s->id);
        tc_take(l, 1);
        tc_take(l, 2); /* 122 bytes queued for uid 1001 now */
        tc_send(s, 0, "$.svc", "q", KBUS_FLAG_WANT_A_REPLY, 0, 0);
        tc_expect_result(s, 0, 0, 6);
        tc_expect_msg(r, &f, "$.svc", s->id);
        tc_stop(&t);
}

/* Feeds the first @n bytes of a SEND frame that says it is @len bytes long. */
static void feed_partial_send(TestConn *tc, uint32_t len, size_t n)
{
        uint8_t *frame = calloc(1, n);

        assert_non_null(frame);
        codec_header_encode(frame, len, FRAME_SEND, 0);
        tc_feed(tc, frame, n);
        free(frame);
}

/* A frame being received is charged its declared length; over the quota it is skipped. */
static void test_core_partial_bytes(void **state)
{
        static const char *const limits[] = { "partial-bytes-per-uid=1000",
                                              "partial-bytes-total=1500", NULL };
        TestConn *a, *a2, *b;
        uint8_t rest[1200] = { 0 };

        (void)state;
        tc_start(&t, NULL, limits);
        a = tc_connect(&t, 1001, true);
        a2 = tc_connect(&t, 1001, true);
        b = tc_connect(&t, 1002, true);
        feed_partial_send(a, 900, 100);
        tc_expect_nothing(a);
        feed_partial_send(a2, 200, 100); /* 900 + 200 > 1000 */
        tc_feed(a2, rest, 100);
        tc_expect_result(a2, -EDQUOT, 0, 0);
        feed_partial_send(b, 700, 100); /* 900 + 700 > 1500 */
        tc_feed(b, rest, 600);
        tc_expect_result(b, -ENOBUFS, 0, 0);
        tc_feed(a, rest, 800);        /* whole: a garbage message, nothing charged after */
        tc_expect_result(a, -EBADMSG, 0, 0);
        feed_partial_send(a2, 1000, 100);
        tc_expect_nothing(a2);
        tc_close(a2); /* vanished mid-frame: its claim goes with it */
        feed_partial_send(b, 1000, 100);
        tc_expect_nothing(b);
        tc_stop(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_core_connections),
                cmocka_unit_test(test_core_bindings),
                cmocka_unit_test(test_core_requests),
                cmocka_unit_test(test_core_queued_bytes),
                cmocka_unit_test(test_core_partial_bytes),
                cmocka_unit_test(test_share_and_total),
                cmocka_unit_test(test_users_shared_and_moved),
                cmocka_unit_test(test_limit_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
