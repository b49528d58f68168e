/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-example.c - the README's C example (examples/c/kitchen.c) compiles
 * (meson builds it) and does what the README says against a real kbusd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static void test_kitchen(void **state)
{
        Kbusd k;
        char out[4096] = "";
        (void)state;

        assert_int_equal(kbusd_start(&k, NULL), 0);
        FILE *p = popen(getenv("KBUS_EXAMPLE"), "r");
        assert_non_null(p);
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_int_equal(kbusd_stop(&k), 0);
        /* the first message on a fresh bus has serial 1; the thermometer is ksock 1 */
        assert_string_equal(out, "asked, request id [0:1]\n"
                                 "answer: 21.5 from ksock 1\n"
                                 "<Reply '$.Sensors.Kitchen.Temperature' id=[0:2] to=2 from=1 "
                                 "in_reply_to=[0:1] data=21.5>\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kitchen),
        };
        alarm(60);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
