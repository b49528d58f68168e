/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-test.h - kbusd's core in the test process: no sockets, no event
 * loop.  Connections are TestConns whose "wire" buffer receives what kbusd
 * writes to them; frames are fed in as bytes, and every event ends with
 * core_settle(), as kbusd's shell does.  The order in which the core asks
 * for clients to be written is recorded, so tests can check SPEC §7's
 * "the message is in every recipient's socket before its sender is
 * answered".
 *
 * Checks use cmocka's asserts; the script runner of core-script.h does not.
 */
#ifndef KBUS_TESTS_CORE_TEST_H
#define KBUS_TESTS_CORE_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../src/core/bus.h"
#include "../src/core/client.h"
#include "../src/core/core.h"
#include "../src/proto/buf.h"
#include "../src/proto/codec.h"

#define TC_CONNS_MAX 64
#define TC_FLUSHES_MAX 4096

typedef struct TestCore TestCore;

/* One connection: what kbusd wrote to it, and its state as a client sees it. */
typedef struct TestConn {
        TestCore *t;
        Client *c;          /* NULL once the core freed it */
        uint32_t id;        /* its ksock id (from the WELCOME) */
        Buf wire;           /* bytes kbusd wrote to it, not yet read by the test */
        bool gone;          /* the core ended it */
        bool resume;        /* to be fed again (frames left, or drained after a pause) */
        uint64_t msgs;      /* MSG frames read so far: the newest one's seq */
} TestConn;

struct TestCore {
        Core *core;
        TestConn conns[TC_CONNS_MAX];
        size_t nconns;
        uint32_t flushes[TC_FLUSHES_MAX]; /* ksock ids, in the order the core wrote them */
        size_t nflushes;
        char log[65536];    /* what the core logged, one line each */
        size_t loglen;
};

/* A frame as the test reads it off a connection. */
typedef struct TestFrame {
        uint16_t type, flags;
        uint8_t body[70000];
        size_t len;
} TestFrame;

void tc_start(TestCore *t, Policy *policy, const char *const *limits);
void tc_stop(TestCore *t);
TestConn *tc_connect(TestCore *t, uid_t uid, bool rw);
TestConn *tc_connect_raw(TestCore *t, uid_t uid);
void tc_feed(TestConn *tc, const void *bytes, size_t len);
void tc_pump(TestCore *t);
void tc_frame(TestConn *tc, uint16_t type, uint16_t flags, const void *body, size_t len);
void tc_close(TestConn *tc);
bool tc_read(TestConn *tc, TestFrame *f);
void tc_expect_frame(TestConn *tc, uint16_t type, uint16_t flags, const void *body,
                     size_t len);
void tc_expect_result(TestConn *tc, int32_t status, uint32_t v0, uint32_t v1);
void tc_expect_error(TestConn *tc, int32_t err, uint16_t about_type, uint16_t about_flags,
                     const char *text);
void tc_expect_nothing(TestConn *tc);
size_t tc_msg_encode(uint8_t *out, const char *name, const char *data, uint32_t flags,
                     uint32_t to, uint32_t irt_serial);
void tc_send(TestConn *tc, uint16_t frame_flags, const char *name, const char *data,
             uint32_t flags, uint32_t to, uint32_t irt_serial);
WireMsg tc_expect_msg(TestConn *tc, TestFrame *f, const char *name, uint32_t from);
void tc_bind(TestConn *tc, const char *name, bool replier, int32_t status);
void tc_take(TestConn *tc, uint64_t seq);
int tc_log_count(const TestCore *t, const char *needle);
size_t tc_flush_index(const TestCore *t, uint32_t id, size_t from);

#endif
