/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-test.c - cmocka helpers on kbusd's core in the test process (see
 * core-test.h).  Frames are built from docs/protocol.md with the proto
 * codec, and answers are compared byte for byte with what the protocol
 * says they must be.
 */
#include "core-test.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../src/core/log.h"
#include "../src/core/quota.h"

/**
 * tc_start() - a core with bus 0, the @policy (NULL: the defaults) and
 * limits as kbusd's --limit takes them ("bindings-per-uid=2"), NULL-ended.
 * @t:      the test core
 * @policy: the policy, owned by the core from now on, or NULL
 * @limits: the limits, or NULL
 */
void tc_start(TestCore *t, Policy *policy, const char *const *limits)
{
        CoreConfig cfg = { .max_messages = 100, .max_msg_size = 65536,
                           .admin_uid = WORLD_ADMIN_UID };

        for (int i = 0; limits && limits[i]; i++) {
                char name[64];
                const char *eq = strchr(limits[i], '='), *why;
                QuotaKind k;
                bool total;
                uint64_t v;
                assert_non_null(eq);
                snprintf(name, sizeof(name), "%.*s", (int)(eq - limits[i]), limits[i]);
                assert_int_equal(quota_limit_parse(name, eq + 1, &k, &total, &v, &why), 0);
                if (total)
                        cfg.limits.total[k] = v;
                else
                        cfg.limits.per_uid[k] = v;
                cfg.limits_set[k] |= total ? 2u : 1u;
        }
        assert_int_equal(world_start(t, &cfg, policy), 0);
}

/**
 * tc_stop() - free the core (closing every connection) and the wires.
 * @t: the test core
 */
void tc_stop(TestCore *t)
{
        world_stop(t);
}

/**
 * tc_connect_raw() - a new connection on bus 0 from @uid (gid @uid), before
 * its HELLO.
 * @t:   the test core
 * @uid: who connects
 *
 * Return: the connection.
 */
TestConn *tc_connect_raw(TestCore *t, uid_t uid)
{
        TestConn *tc = world_connect(t, 0, uid);

        assert_non_null(tc);
        return tc;
}

/**
 * tc_connect() - a connection that has said HELLO (no shared page: takes are
 * TAKE frames) and read its WELCOME.
 * @t:   the test core
 * @uid: who connects
 * @rw:  opened read-write
 *
 * Return: the connection.
 */
TestConn *tc_connect(TestCore *t, uid_t uid, bool rw)
{
        TestConn *tc = tc_connect_raw(t, uid);
        uint8_t hello[HELLO_LEN];
        Welcome w;
        TestFrame f;

        codec_hello_encode(hello, &(Hello){ .magic = KBUS_PROTO_MAGIC,
                                            .version = KBUS_PROTO_VERSION,
                                            .mode = HELLO_MODE_READ |
                                                    (rw ? HELLO_MODE_WRITE : 0) });
        tc_frame(tc, FRAME_HELLO, 0, hello, sizeof(hello));
        assert_true(tc_read(tc, &f));
        assert_int_equal(f.type, FRAME_WELCOME);
        assert_int_equal(codec_welcome_decode(f.body, f.len, &w), 0);
        assert_int_equal(w.status, 0);
        assert_int_equal(w.ksock_id, tc->id);
        return tc;
}

/**
 * tc_feed() - bytes from the client, as the shell would feed them; then
 * the core settles (world_feed()).
 * @tc:    the connection
 * @bytes: the bytes
 * @len:   their number
 */
void tc_feed(TestConn *tc, const void *bytes, size_t len)
{
        assert_non_null(tc->c);
        world_feed(tc, bytes, len);
}

/**
 * tc_frame() - feed one whole frame.
 * @tc:    the connection
 * @type:  the frame type
 * @flags: its flags
 * @body:  its body
 * @len:   the body's length
 */
void tc_frame(TestConn *tc, uint16_t type, uint16_t flags, const void *body, size_t len)
{
        Buf frame = BUF_INIT;

        world_frame_encode(&frame, type, flags, body, len);
        tc_feed(tc, buf_head(&frame), buf_len(&frame));
        buf_deinit(&frame);
}

/**
 * tc_ctl() - feed a CTL frame (the answer is for the caller to read).
 * @tc:  the connection
 * @op:  the operation (CTL_*)
 * @arg: its argument
 */
void tc_ctl(TestConn *tc, uint32_t op, uint32_t arg)
{
        uint8_t body[8];

        put_le32(body, op);
        put_le32(body + 4, arg);
        tc_frame(tc, FRAME_CTL, 0, body, sizeof(body));
}

/**
 * tc_close() - the client closes its end.
 * @tc: the connection
 */
void tc_close(TestConn *tc)
{
        assert_non_null(tc->c);
        world_eof(tc);
}

/**
 * tc_read() - the next frame kbusd wrote to @tc.
 * @tc: the connection
 * @f:  the frame
 *
 * Return: true if there was a whole one.
 */
bool tc_read(TestConn *tc, TestFrame *f)
{
        int r = world_read(tc, f);

        assert_true(r >= 0);
        return r == 1;
}

/**
 * tc_expect_frame() - the next frame is exactly this one.
 * @tc:    the connection
 * @type:  its type
 * @flags: its flags
 * @body:  its body
 * @len:   the body's length
 */
void tc_expect_frame(TestConn *tc, uint16_t type, uint16_t flags, const void *body, size_t len)
{
        static TestFrame f;

        assert_true(tc_read(tc, &f));
        assert_int_equal(f.type, type);
        assert_int_equal(f.flags, flags);
        assert_int_equal(f.len, len);
        if (len)
                assert_memory_equal(f.body, body, len);
}

/**
 * tc_expect_result() - the next frame is this RESULT, byte for byte.
 * @tc:     the connection
 * @status: its status
 * @v0:     value0
 * @v1:     value1
 */
void tc_expect_result(TestConn *tc, int32_t status, uint32_t v0, uint32_t v1)
{
        uint8_t body[RESULT_LEN];

        put_le32(body, (uint32_t)status);
        put_le32(body + 4, v0);
        put_le32(body + 8, v1);
        tc_expect_frame(tc, FRAME_RESULT, 0, body, sizeof(body));
}

/**
 * tc_expect_error() - the next frame is this ERROR, byte for byte.
 * @tc:          the connection
 * @err:         its (negative) errno
 * @about_type:  the frame it is about
 * @about_flags: that frame's flags
 * @text:        its text
 */
void tc_expect_error(TestConn *tc, int32_t err, uint16_t about_type, uint16_t about_flags,
                     const char *text)
{
        uint8_t body[ERROR_FIXED_LEN + 256];
        size_t n = strlen(text);

        assert_true(n <= 256);
        put_le32(body, (uint32_t)err);
        put_le16(body + 4, about_type);
        put_le16(body + 6, about_flags);
        memcpy(body + ERROR_FIXED_LEN, text, n);
        tc_expect_frame(tc, FRAME_ERROR, 0, body, ERROR_FIXED_LEN + n);
}

/**
 * tc_expect_nothing() - kbusd wrote nothing more to @tc.
 * @tc: the connection
 */
void tc_expect_nothing(TestConn *tc)
{
        assert_int_equal(buf_len(&tc->wire), 0);
}

/**
 * tc_msg_encode() - an encoded message (a SEND body), all other fields 0.
 * @out:        at least 56 + 1004 + data bytes
 * @name:       its name
 * @data:       its data (a string), or NULL
 * @flags:      its flags
 * @to:         its to
 * @irt_serial: the serial it answers (network id 0), or 0
 *
 * Return: its length.
 */
size_t tc_msg_encode(uint8_t *out, const char *name, const char *data, uint32_t flags,
                     uint32_t to, uint32_t irt_serial)
{
        WireMsg m = { .name = name, .name_len = (uint32_t)strlen(name), .flags = flags,
                      .to = to, .irt_serial = irt_serial,
                      .data = (const uint8_t *)data,
                      .data_len = data ? (uint32_t)strlen(data) : 0 };

        return codec_msg_encode(out, &m);
}

/**
 * tc_send() - feed a SEND frame (answers are for the caller to read).
 * @tc:          the connection
 * @frame_flags: FRAME_SEND_WAIT, FRAME_SEND_POST
 * @name:        the message's name
 * @data:        its data, or NULL
 * @flags:       its flags
 * @to:          its to
 * @irt_serial:  the serial it answers, or 0
 */
void tc_send(TestConn *tc, uint16_t frame_flags, const char *name, const char *data,
             uint32_t flags, uint32_t to, uint32_t irt_serial)
{
        static uint8_t body[70000];

        tc_frame(tc, FRAME_SEND, frame_flags, body,
                 tc_msg_encode(body, name, data, flags, to, irt_serial));
}

/**
 * tc_expect_msg() - the next frame is a MSG named @name from @from.
 * @tc:   the connection
 * @f:    the frame, filled in
 * @name: the name
 * @from: the sender's ksock id
 *
 * Return: the message's fields (pointing into @f).
 */
WireMsg tc_expect_msg(TestConn *tc, TestFrame *f, const char *name, uint32_t from)
{
        WireMsg m;

        assert_true(tc_read(tc, f));
        assert_int_equal(f->type, FRAME_MSG);
        assert_int_equal(codec_msg_decode(f->body + MSG_PREFIX_LEN, f->len - MSG_PREFIX_LEN, &m),
                         0);
        assert_int_equal(m.name_len, strlen(name));
        assert_memory_equal(m.name, name, m.name_len);
        assert_int_equal(m.from, from);
        return m;
}

/**
 * tc_bind() - bind, and expect the RESULT (binding ids are not checked).
 * @tc:      the connection
 * @name:    the name
 * @replier: as replier
 * @status:  the expected status
 */
void tc_bind(TestConn *tc, const char *name, bool replier, int32_t status)
{
        static TestFrame f;
        Result res;

        tc_frame(tc, FRAME_BIND, replier ? FRAME_BIND_REPLIER : 0, name, strlen(name));
        assert_true(tc_read(tc, &f));
        assert_int_equal(f.type, FRAME_RESULT);
        assert_int_equal(codec_result_decode(f.body, f.len, &res), 0);
        assert_int_equal(res.status, status);
}

/**
 * tc_take() - the application took the message with sequence number @seq.
 * @tc:  the connection
 * @seq: its seq (the n-th MSG frame has seq n)
 */
void tc_take(TestConn *tc, uint64_t seq)
{
        uint8_t body[4];

        put_le32(body, (uint32_t)seq);
        tc_frame(tc, FRAME_TAKE, 0, body, sizeof(body));
}

/**
 * tc_log_count() - how often @needle occurs in what the core logged.
 * @t:      the test core
 * @needle: the text
 *
 * Return: the count.
 */
int tc_log_count(const TestCore *t, const char *needle)
{
        int n = 0;

        for (const char *p = t->log; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/**
 * tc_flush_index() - where, in the order of writes, the core first wrote
 * ksock @id at or after position @from.
 * @t:    the test core
 * @id:   the ksock id
 * @from: where to start looking
 *
 * Return: the position, or SIZE_MAX if it was not written.
 */
size_t tc_flush_index(const TestCore *t, uint32_t id, size_t from)
{
        for (size_t i = from; i < t->nflushes; i++)
                if (t->flushes[i] == id)
                        return i;
        return SIZE_MAX;
}
