/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-test.c - kbusd's core in the test process (see core-test.h).
 *
 * The CoreOps here stand for kbusd's shell: writing appends a client's
 * output to its TestConn's wire and records the order; ending a connection
 * marks it gone (with the last output, as the shell's last try would send
 * it); a take-log page is plain memory.  Frames are built from
 * docs/protocol.md with the proto codec, and answers are compared byte for
 * byte with what the protocol says they must be.
 */
#include "core-test.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../src/core/log.h"
#include "../src/core/quota.h"

static void tc_log(int priority, const char *line, void *ctx)
{
        TestCore *t = ctx;
        size_t n = strlen(line);

        (void)priority;
        if (t->loglen + n + 2 < sizeof(t->log)) {
                memcpy(t->log + t->loglen, line, n);
                t->loglen += n;
                t->log[t->loglen++] = '\n';
                t->log[t->loglen] = '\0';
        }
}

static int tc_open_bus(void *ctx, unsigned number)
{
        TestCore *t = ctx;
        Bus *bus;

        return core_add_bus(t->core, number, &bus);
}

static int tc_make_page(void *ctx, int *ret_fd, KbusShm **ret_page)
{
        (void)ctx;
        KbusShm *page = aligned_alloc(4096, SHM_SIZE);
        if (!page)
                return -ENOMEM;
        memset(page, 0, SHM_SIZE);
        *ret_page = page;
        *ret_fd = -1; /* nothing to pass: the test reads the page directly */
        return 0;
}

static void tc_unmap_page(void *ctx, KbusShm *page)
{
        (void)ctx;
        free(page);
}

static void tc_flush(void *ctx, Client *c)
{
        TestCore *t = ctx;
        TestConn *tc = c->io;

        if (t->nflushes < TC_FLUSHES_MAX)
                t->flushes[t->nflushes++] = c->id;
        assert_int_equal(buf_append(&tc->wire, buf_head(&c->out), buf_len(&c->out)), 0);
        buf_consume(&c->out, buf_len(&c->out));
        c->pass_fd = -1;
        if (client_drained(c))
                tc->resume = true; /* the shell reads it again on its next turn */
}

static void tc_gone(void *ctx, Client *c)
{
        TestConn *tc = c->io;

        (void)ctx;
        assert_int_equal(buf_append(&tc->wire, buf_head(&c->out), buf_len(&c->out)), 0);
        tc->c = NULL;
        tc->gone = true;
}

static const CoreOps tc_ops = {
        .open_bus = tc_open_bus, .make_page = tc_make_page, .unmap_page = tc_unmap_page,
        .flush = tc_flush, .gone = tc_gone,
};

/**
 * tc_start() - a core with bus 0, the @policy (NULL: the defaults) and
 * limits as kbusd's --limit takes them ("bindings-per-uid=2"), NULL-ended.
 * @t:      the test core
 * @policy: the policy, owned by the core from now on, or NULL
 * @limits: the limits, or NULL
 */
void tc_start(TestCore *t, Policy *policy, const char *const *limits)
{
        CoreConfig cfg = { .ops = &tc_ops, .ops_ctx = t, .max_messages = 100,
                           .max_msg_size = 65536, .admin_uid = 4242 };
        Bus *bus;

        memset(t, 0, sizeof(*t));
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
        if (!policy)
                assert_int_equal(policy_new_default(cfg.admin_uid, &policy), 0);
        log_set_sink(tc_log, t);
        assert_int_equal(core_new(&cfg, policy, &t->core), 0);
        assert_int_equal(core_add_bus(t->core, 0, &bus), 0);
}

/**
 * tc_stop() - free the core (closing every connection) and the wires.
 * @t: the test core
 */
void tc_stop(TestCore *t)
{
        t->core = core_free(t->core);
        for (size_t i = 0; i < t->nconns; i++)
                buf_deinit(&t->conns[i].wire);
        log_set_sink(NULL, NULL);
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
        ClientCred cred = { .pid = 1000 + (pid_t)t->nconns, .uid = uid, .gid = (gid_t)uid };
        TestConn *tc;

        assert_true(t->nconns < TC_CONNS_MAX);
        tc = &t->conns[t->nconns++];
        *tc = (TestConn){ .t = t, .wire = BUF_INIT };
        assert_int_equal(client_new(t->core->buses[0], &cred, tc, &tc->c), 0);
        core_settle(t->core, NULL);
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
        tc->id = w.ksock_id;
        return tc;
}

/**
 * tc_feed() - bytes from the client, as the shell would feed them; then
 * the core settles.
 * @tc:    the connection
 * @bytes: the bytes
 * @len:   their number
 */
void tc_feed(TestConn *tc, const void *bytes, size_t len)
{
        assert_non_null(tc->c);
        Client *c = tc->c;
        int r = client_feed(c, bytes, len);
        core_settle(tc->t->core, c);
        tc->resume = r == CLIENT_FEED_MORE;
        tc_pump(tc->t);
}

/**
 * tc_pump() - the shell's next turns: feed every connection that has frames
 * left, or that was paused and has drained, until none has.
 * @t: the test core
 */
void tc_pump(TestCore *t)
{
        for (bool any = true; any;) {
                any = false;
                for (size_t i = 0; i < t->nconns; i++) {
                        TestConn *tc = &t->conns[i];
                        if (!tc->resume || !tc->c)
                                continue;
                        tc->resume = false;
                        any = true;
                        Client *c = tc->c;
                        int r = client_feed(c, NULL, 0);
                        core_settle(t->core, c);
                        tc->resume = r == CLIENT_FEED_MORE;
                }
        }
        while (!core_settle(t->core, NULL))
                ;
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
        uint8_t *f = malloc(KBUS_FRAME_HDR_LEN + len);

        assert_non_null(f);
        codec_header_encode(f, (uint32_t)(KBUS_FRAME_HDR_LEN + len), type, flags);
        if (len)
                memcpy(f + KBUS_FRAME_HDR_LEN, body, len);
        tc_feed(tc, f, KBUS_FRAME_HDR_LEN + len);
        free(f);
}

/**
 * tc_close() - the client closes its end.
 * @tc: the connection
 */
void tc_close(TestConn *tc)
{
        assert_non_null(tc->c);
        client_eof(tc->c);
        core_settle(tc->t->core, NULL);
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
        FrameHdr h;

        if (codec_header_decode(buf_head(&tc->wire), buf_len(&tc->wire), &h) != 0 ||
            buf_len(&tc->wire) < h.len)
                return false;
        f->type = h.type;
        f->flags = h.flags;
        f->len = h.len - KBUS_FRAME_HDR_LEN;
        assert_true(f->len <= sizeof(f->body));
        memcpy(f->body, buf_head(&tc->wire) + KBUS_FRAME_HDR_LEN, f->len);
        buf_consume(&tc->wire, h.len);
        if (f->type == FRAME_MSG)
                tc->msgs++;
        return true;
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
