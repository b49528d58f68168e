/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-script.h - run a script of client actions against kbusd's core in
 * the test process (core-world.h) and check the delivery invariants after
 * every step.  The stateful fuzzer (tests/fuzz/fuzz-core.c) gives it the
 * fuzzer's bytes; test-core-random gives it seeded random bytes.
 *
 * A script is bytes: a header (queue limit, quotas, policy), then steps,
 * each an operation byte and its argument bytes (missing bytes read as 0).
 * Steps: connect as a uid (read-only or read-write, with or without the
 * shared take log), bind, unbind, send (any flags, sizes, posted or
 * blocking), reply to a request received, take a message, change a
 * setting, poke/wake/discard/query, feed raw bytes, feed a frame in
 * pieces, close (cleanly or mid-frame), load another policy, sweep.  The
 * client side of each connection behaves as libkbus does: it waits for
 * its answers in order, blocks in a waiting send, drops what an unbind
 * removed, and writes its take log as the library writes it.
 *
 * What is checked, after each step and as frames are written:
 *  - every frame that must be answered gets exactly one answer, in order,
 *    and nothing is answered that was not asked;
 *  - each request gets at most one reply or status, and one exactly once
 *    the ksock that received it as replier has gone (semantics §9);
 *  - no recipient's copy of a message is written after its sender was
 *    told it was sent (semantics §7), and each ksock sees messages in serial
 *    order (semantics §8);
 *  - no queue holds more than its limit (live messages plus places
 *    reserved for replies), and kbusd's count of each queue is the
 *    client's;
 *  - the quota books equal what the clients hold, per uid and in total,
 *    and within the limits;
 *  - a closed client owes nothing and is owed nothing: no reply slot, held
 *    send, set-aside event or quota charge refers to it.
 */
#ifndef KBUS_TESTS_CORE_SCRIPT_H
#define KBUS_TESTS_CORE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ScriptStats {
        size_t steps;  /* steps run */
        size_t frames; /* frames read by the clients */
} ScriptStats;

int script_run(const uint8_t *data, size_t size, ScriptStats *stats, char *why,
               size_t why_len);

#endif
