/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-test.h - helpers shared by the integration tests: a kbusd for a group
 * or a test, ksocks, sending, reading and expecting messages, and raw frames
 * for clients that talk to kbusd without libkbus.
 *
 * The ksock and message helpers check every call they make with cmocka's
 * assert macros, so they belong to the test process.  The raw-frame helpers
 * assert nothing and return an error instead, so that a forked child (where
 * a cmocka failure would never reach the parent) can use them too.  Raw
 * frames are built by hand from docs/protocol.md, independently of
 * src/proto, so that the tests check the documented layout rather than the
 * codec against itself.
 */
#ifndef KBUS_TESTS_KBUS_TEST_H
#define KBUS_TESTS_KBUS_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "kbus/kbus.h"

/* kt_expect(): a field that is not checked. */
#define KT_ANY 0xFFFFFFFFu
/* kt_expect_quiet(): how long "nothing more arrives" is watched for. */
#define KT_QUIET_MS 100
/* The id kbusd gives a message sent on its bus with serial @serial. */
#define KT_ID(serial) ((kbus_msg_id_t){ 0, (serial) })

/* ---- a kbusd ------------------------------------------------------------ */

extern Kbusd kt_kbusd;
extern uint32_t kt_default_max_size;

/* A cmocka test that gets a kbusd of its own (kt_setup(), kt_teardown()). */
#define KT_TEST(f) cmocka_unit_test_setup_teardown(f, kt_setup, kt_teardown)

int kt_setup(void **state);
int kt_setup_max_size(void **state);
int kt_teardown(void **state);
int kt_restore_max_size(void **state);

/* ---- ksocks ------------------------------------------------------------- */

kbus_ksock_t kt_open(uint32_t bus, int flags);
kbus_ksock_t kt_open_rw(void);
uint32_t kt_id(kbus_ksock_t ks);
uint32_t kt_num_messages(kbus_ksock_t ks);
uint32_t kt_num_unreplied(kbus_ksock_t ks);
void kt_set_max(kbus_ksock_t ks, uint32_t max);
uint32_t kt_replier_of(kbus_ksock_t ks, const char *name);
void kt_wait_replier_gone(kbus_ksock_t ks, const char *name);
void kt_close(kbus_ksock_t ks);
void kt_close_all(const kbus_ksock_t *ks, size_t n);

/* Closes every ksock given; each must still be open. */
#define KT_CLOSE(...)                                                                      \
        kt_close_all((const kbus_ksock_t[]){ __VA_ARGS__ },                                \
                     sizeof((const kbus_ksock_t[]){ __VA_ARGS__ }) / sizeof(kbus_ksock_t))

/* ---- messages ----------------------------------------------------------- */

int kt_try_send(kbus_ksock_t ks, const char *name, const char *data, uint32_t flags,
                kbus_msg_id_t *id);
kbus_msg_id_t kt_send(kbus_ksock_t ks, const char *name, const char *data, uint32_t flags);
int kt_try_reply(kbus_ksock_t ks, const kbus_message_t *req, const char *data, uint32_t flags,
                 kbus_msg_id_t *id);
kbus_msg_id_t kt_reply(kbus_ksock_t ks, const kbus_message_t *req, const char *data,
                       uint32_t flags);
kbus_message_t *kt_take(kbus_ksock_t ks);
kbus_message_t *kt_wait_msg(kbus_ksock_t ks);
void kt_expect(kbus_ksock_t ks, const char *name, kbus_msg_id_t id, uint32_t from,
               const char *data, uint32_t flags);
void kt_expect_quiet(kbus_ksock_t ks, int quiet_ms);

/* ---- raw frames (docs/protocol.md) -------------------------------------- */

#define KT_MAGIC 0x5355424Bu
#define KT_HELLO 1
#define KT_SEND 2
#define KT_BIND 3
#define KT_UNBIND 4
#define KT_CTL 5
#define KT_REPLIER 6
#define KT_QUERY 10
#define KT_WELCOME 0x81
#define KT_RESULT 0x82
#define KT_ERROR 0x85
#define KT_SEND_POST 0x2
#define KT_CTL_MAX_MESSAGES 1
#define KT_CTL_NUM_MESSAGES 2
#define KT_QUERY_STATS 2
#define KT_MSG_FIXED 56u

/* A frame as read: its header, and its body in malloc()ed memory. */
typedef struct KtRawFrame {
        uint32_t len;
        uint16_t type, flags;
        uint8_t *body;
        size_t body_len;
} KtRawFrame;

void kt_le32(uint8_t *p, uint32_t v);
void kt_le16(uint8_t *p, uint16_t v);
uint32_t kt_rd32(const uint8_t *p);
uint16_t kt_rd16(const uint8_t *p);
void kt_raw_header(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags);
void kt_raw_hello_body(uint8_t *b, uint32_t magic, uint16_t version, uint16_t mode);
int kt_raw_connect(const char *dir, int timeout_ms);
int kt_raw_write(int fd, const void *p, size_t n);
int kt_raw_frame(int fd, uint16_t type, uint16_t flags, const void *body, size_t len);
int kt_raw_read_full(int fd, void *p, size_t n);
int kt_raw_read_frame(int fd, KtRawFrame *f);
void kt_raw_frame_free(KtRawFrame *f);

#endif
