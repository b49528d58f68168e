/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-test.h - cmocka helpers on kbusd's core in the test process
 * (core-world.h): connect, feed frames, and assert on the exact frames the
 * core answers with.
 */
#ifndef KBUS_TESTS_CORE_TEST_H
#define KBUS_TESTS_CORE_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core-world.h"

typedef World TestCore;
typedef WorldConn TestConn;
typedef WorldFrame TestFrame;

void tc_start(TestCore *t, Policy *policy, const char *const *limits);
void tc_stop(TestCore *t);
TestConn *tc_connect(TestCore *t, uid_t uid, bool rw);
TestConn *tc_connect_raw(TestCore *t, uid_t uid);
void tc_feed(TestConn *tc, const void *bytes, size_t len);
void tc_frame(TestConn *tc, uint16_t type, uint16_t flags, const void *body, size_t len);
void tc_ctl(TestConn *tc, uint32_t op, uint32_t arg);
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
