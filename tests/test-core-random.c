/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-core-random.c - random scripts against kbusd's core in the test
 * process (core-script.h): the invariants of test-random.c ("a reply for
 * every request", semantics §9) and the others core-script.h lists, checked
 * after every step of thousands of seeded scenarios.  The same seed gives
 * the same scenario on every machine, so a failure names the seed that
 * reproduces it: KBUS_CORE_SEED=<seed> runs that one alone.
 *
 * KBUS_CORE_SCENARIOS sets how many scenarios run (default 3000).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core-script.h"

#define SCRIPT_LEN 1200

/* splitmix64: small, and the same everywhere. */
static uint64_t next_random(uint64_t *state)
{
        uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
}

static void run_seed(uint64_t seed, ScriptStats *total)
{
        uint8_t script[SCRIPT_LEN];
        uint64_t state = seed;
        ScriptStats stats;
        char why[1024] = "";

        for (size_t i = 0; i < sizeof(script); i++)
                script[i] = (uint8_t)next_random(&state);
        if (script_run(script, sizeof(script), &stats, why, sizeof(why)) < 0)
                fail_msg("seed %llu: %s", (unsigned long long)seed, why);
        total->steps += stats.steps;
        total->frames += stats.frames;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_random_scenarios(void **state)
{
        const char *one = getenv("KBUS_CORE_SEED"), *many = getenv("KBUS_CORE_SCENARIOS");
        unsigned long n = many ? strtoul(many, NULL, 10) : 3000;
        ScriptStats total = { 0 };
        double t0 = now();

        (void)state;
        if (one) {
                run_seed(strtoull(one, NULL, 10), &total);
                return;
        }
        for (unsigned long seed = 1; seed <= n; seed++)
                run_seed(seed, &total);
        double dt = now() - t0;
        printf("%lu scenarios, %zu steps, %zu frames read, in %.2f s (%.0f scenarios/s)\n", n,
               total.steps, total.frames, dt, dt > 0 ? (double)n / dt : 0.0);
        assert_true(total.steps > n * 100); /* the scenarios did run */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_random_scenarios),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
