/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz-core.c - libFuzzer target: kbusd's core driven by a script of client
 * actions (connect as a uid, bind, send, reply, take, close...), with every
 * delivery invariant checked after each step (tests/core-script.h says
 * which).  The input is the script; a broken invariant prints what broke
 * and aborts, which libFuzzer reports as a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core-script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ScriptStats stats;
        char why[1024] = "";

        if (script_run(data, size, &stats, why, sizeof(why)) < 0) {
                fprintf(stderr, "fuzz-core: %s\n", why);
                abort();
        }
        return 0;
}
