/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-test.c - helpers shared by the integration tests (see kbus-test.h).
 *
 * Each helper does one small thing and checks it with cmocka: the calls it
 * makes must succeed (kt_try_send() and kt_try_reply() hand the send's
 * result back instead), and what comes back must be what kbusd always gives
 * (an id of this bus, a ksock id that is not 0).  The raw-frame helpers at
 * the end assert nothing and report errors as a negative errno, for forked
 * children.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "kbus-test.h"

#define KT_REPLIER_GONE_MS 20000

/* The kbusd of kt_setup() and kt_teardown(). */
Kbusd kt_kbusd;
/* The bus maximum message size kt_setup_max_size() found. */
uint32_t kt_default_max_size;

/* ---- a kbusd ------------------------------------------------------------ */

/**
 * kt_setup() - cmocka setup: start kt_kbusd with one bus and no options.
 * @state: unused
 *
 * Return: 0 once it listens, or a negative errno.
 */
int kt_setup(void **state)
{
        (void)state;
        return kbusd_start(&kt_kbusd, NULL);
}

/**
 * kt_setup_max_size() - kt_setup(), then note the bus maximum message size
 * in kt_default_max_size for kt_restore_max_size().
 * @state: unused
 *
 * Return: 0, or a negative errno.
 */
int kt_setup_max_size(void **state)
{
        int r = kt_setup(state);
        kbus_ksock_t ks = r < 0 ? r : kbus_ksock_open(0, O_RDWR);

        if (ks < 0)
                return ks;
        kt_default_max_size = 0; /* 0 asks */
        r = kbus_ksock_max_message_size(ks, &kt_default_max_size);
        kbus_ksock_close(ks);
        return r;
}

/**
 * kt_teardown() - cmocka teardown: stop kt_kbusd and check that it shut down
 * cleanly (kbusd_stop()).
 * @state: unused
 *
 * Return: 0, or -EIO.
 */
int kt_teardown(void **state)
{
        (void)state;
        return kbusd_stop(&kt_kbusd);
}

/**
 * kt_restore_max_size() - cmocka teardown of a test that changes the bus
 * maximum message size: put kt_default_max_size back, so that the tests
 * after it see the default even if it failed.
 * @state: unused
 *
 * Return: 0, -1 if the maximum did not take, or a negative errno.
 */
int kt_restore_max_size(void **state)
{
        (void)state;
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        uint32_t v = kt_default_max_size;

        if (ks < 0)
                return ks;
        int r = kbus_ksock_max_message_size(ks, &v);
        kbus_ksock_close(ks);
        return r < 0 ? r : (v == kt_default_max_size ? 0 : -1);
}

/* ---- ksocks ------------------------------------------------------------- */

/**
 * kt_open() - open a ksock, which must succeed.
 * @bus:   the bus number
 * @flags: as for kbus_ksock_open()
 *
 * Return: the ksock.
 */
kbus_ksock_t kt_open(uint32_t bus, int flags)
{
        kbus_ksock_t ks = kbus_ksock_open(bus, flags);

        assert_true(ks >= 0);
        return ks;
}

/**
 * kt_open_rw() - kt_open() of a read-write, blocking ksock on bus 0.
 *
 * Return: the ksock.
 */
kbus_ksock_t kt_open_rw(void)
{
        return kt_open(0, O_RDWR);
}

/**
 * kt_id() - the ksock id of @ks, which is never 0.
 * @ks: an open ksock
 *
 * Return: the id.
 */
uint32_t kt_id(kbus_ksock_t ks)
{
        uint32_t id = 0;

        assert_int_equal(kbus_ksock_id(ks, &id), 0);
        assert_int_not_equal(id, 0);
        return id;
}

/**
 * kt_num_messages() - how many messages are queued for @ks.
 * @ks: an open ksock
 *
 * Return: the count.
 */
uint32_t kt_num_messages(kbus_ksock_t ks)
{
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_num_messages(ks, &n), 0);
        return n;
}

/**
 * kt_num_unreplied() - how many requests @ks has taken and not yet answered.
 * @ks: an open ksock
 *
 * Return: the count.
 */
uint32_t kt_num_unreplied(kbus_ksock_t ks)
{
        uint32_t n = 0xdeadbeef;

        assert_int_equal(kbus_ksock_num_unreplied_to(ks, &n), 0);
        return n;
}

/**
 * kt_set_max() - set the queue length limit of @ks, which must take as given.
 * @ks:  an open ksock
 * @max: the new limit (not 0, which only asks)
 */
void kt_set_max(kbus_ksock_t ks, uint32_t max)
{
        uint32_t v = max;

        assert_int_equal(kbus_ksock_max_messages(ks, &v), 0);
        assert_int_equal(v, max);
}

/**
 * kt_replier_of() - who would answer a request named @name, asked through @ks.
 * @ks:   an open ksock
 * @name: a message name
 *
 * Return: the replier's ksock id, or 0 if there is none.
 */
uint32_t kt_replier_of(kbus_ksock_t ks, const char *name)
{
        uint32_t who = 0xdeadbeef;

        assert_int_equal(kbus_ksock_find_replier(ks, name, &who), 0);
        return who;
}

/**
 * kt_wait_replier_gone() - ask, synchronously, until nobody is the replier
 * for @name (at most KT_REPLIER_GONE_MS).
 * @ks:   an open ksock to ask through
 * @name: a name whose replier has closed
 *
 * Once a closed ksock's replier binding has gone, kbusd has finished with
 * its close (semantics §1: it acts on it at once, statuses and events included).
 */
void kt_wait_replier_gone(kbus_ksock_t ks, const char *name)
{
        long deadline = harness_now_ms() + KT_REPLIER_GONE_MS;

        while (kt_replier_of(ks, name) != 0)
                assert_true(harness_now_ms() < deadline);
}

/**
 * kt_close() - close @ks, which must still be open.
 * @ks: the ksock
 */
void kt_close(kbus_ksock_t ks)
{
        assert_int_equal(kbus_ksock_close(ks), 0);
}

/**
 * kt_close_all() - kt_close() each of @n ksocks (see KT_CLOSE()).
 * @ks: the ksocks
 * @n:  how many
 */
void kt_close_all(const kbus_ksock_t *ks, size_t n)
{
        for (size_t i = 0; i < n; i++)
                kt_close(ks[i]);
}

/* ---- messages ----------------------------------------------------------- */

/**
 * kt_try_send() - send a message named @name; the send may fail.
 * @ks:    the sender
 * @name:  the name
 * @data:  the data, a string without its NUL, or NULL for none
 * @flags: KBUS_BIT_* (WANT_A_REPLY makes it a request)
 * @id:    the id kbusd gave it, or NULL
 *
 * Return: what kbus_ksock_send_msg() returned; the message is freed either way.
 */
int kt_try_send(kbus_ksock_t ks, const char *name, const char *data, uint32_t flags,
                kbus_msg_id_t *id)
{
        kbus_message_t *msg;

        assert_int_equal(kbus_msg_create(&msg, name, (uint32_t)strlen(name), data,
                                         data ? (uint32_t)strlen(data) : 0, flags), 0);
        int r = kbus_ksock_send_msg(ks, msg, id);
        kbus_msg_delete(&msg);
        return r;
}

/**
 * kt_send() - kt_try_send(), which must succeed with an id of this bus.
 * @ks:    the sender
 * @name:  the name
 * @data:  the data, a string without its NUL, or NULL for none
 * @flags: KBUS_BIT_* (WANT_A_REPLY makes it a request)
 *
 * Return: the message's id.
 */
kbus_msg_id_t kt_send(kbus_ksock_t ks, const char *name, const char *data, uint32_t flags)
{
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(kt_try_send(ks, name, data, flags, &id), 0);
        assert_int_equal(id.network_id, 0);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

/**
 * kt_try_reply() - answer request @req; the send may fail.
 * @ks:    the replier
 * @req:   the replier's copy of the request
 * @data:  the data, a string without its NUL, or NULL for none
 * @flags: KBUS_BIT_*
 * @id:    the id kbusd gave the reply, or NULL
 *
 * Return: what kbus_ksock_send_msg() returned; the reply is freed either way.
 */
int kt_try_reply(kbus_ksock_t ks, const kbus_message_t *req, const char *data, uint32_t flags,
                 kbus_msg_id_t *id)
{
        kbus_message_t *reply;

        assert_int_equal(kbus_msg_create_reply_to(&reply, req, data,
                                                  data ? (uint32_t)strlen(data) : 0, flags), 0);
        int r = kbus_ksock_send_msg(ks, reply, id);
        kbus_msg_delete(&reply);
        return r;
}

/**
 * kt_reply() - kt_try_reply(), which must succeed.
 * @ks:    the replier
 * @req:   the replier's copy of the request
 * @data:  the data, a string without its NUL, or NULL for none
 * @flags: KBUS_BIT_*
 *
 * Return: the reply's id.
 */
kbus_msg_id_t kt_reply(kbus_ksock_t ks, const kbus_message_t *req, const char *data,
                       uint32_t flags)
{
        kbus_msg_id_t id = { 0, 0 };

        assert_int_equal(kt_try_reply(ks, req, data, flags, &id), 0);
        assert_int_not_equal(id.serial_num, 0);
        return id;
}

/**
 * kt_take() - read the next message of @ks, which must be there already.
 * @ks: the reader
 *
 * Return: the message (free it with kbus_msg_delete()).
 */
kbus_message_t *kt_take(kbus_ksock_t ks)
{
        kbus_message_t *m = NULL;

        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_non_null(m);
        return m;
}

/**
 * kt_wait_msg() - block until a message is queued for @ks, then kt_take() it.
 * @ks: the reader
 *
 * Return: the message (free it with kbus_msg_delete()).
 */
kbus_message_t *kt_wait_msg(kbus_ksock_t ks)
{
        int r = kbus_wait_for_message(ks, KBUS_KSOCK_READABLE);

        assert_int_equal(r & KBUS_KSOCK_READABLE, KBUS_KSOCK_READABLE);
        return kt_take(ks);
}

/**
 * kt_expect() - kt_take() the next message and check it, then free it.
 * @ks:    the reader
 * @name:  its name, or NULL not to check
 * @id:    its id (always checked)
 * @from:  its sender's ksock id, or KT_ANY
 * @data:  its data as a string without the NUL ("" for none), or NULL not to check
 * @flags: its flags exactly, or KT_ANY
 */
void kt_expect(kbus_ksock_t ks, const char *name, kbus_msg_id_t id, uint32_t from,
               const char *data, uint32_t flags)
{
        kbus_message_t *m = kt_take(ks);

        if (name)
                assert_string_equal(kbus_msg_name_ptr(m), name);
        assert_int_equal(m->id.network_id, id.network_id);
        assert_int_equal(m->id.serial_num, id.serial_num);
        if (from != KT_ANY)
                assert_int_equal(m->from, from);
        if (data) {
                assert_int_equal(m->data_len, strlen(data));
                if (*data)
                        assert_memory_equal(kbus_msg_data_ptr(m), data, strlen(data));
        }
        if (flags != KT_ANY)
                assert_int_equal(m->flags, flags);
        kbus_msg_delete(&m);
}

/**
 * kt_expect_quiet() - nothing is queued for @ks, and nothing turns up within
 * @quiet_ms either.
 * @ks:       the reader
 * @quiet_ms: how long to give a stray message to arrive first (KT_QUIET_MS),
 *            or 0 to look only at what is queued now
 */
void kt_expect_quiet(kbus_ksock_t ks, int quiet_ms)
{
        struct pollfd p = { .fd = ks, .events = POLLIN };
        kbus_message_t *m = (kbus_message_t *)1; /* the read must clear it */

        if (quiet_ms > 0)
                (void)poll(&p, 1, quiet_ms);
        assert_int_equal(kt_num_messages(ks), 0);
        assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
        assert_null(m);
}

/* ---- raw frames (docs/protocol.md) -------------------------------------- */

/**
 * kt_le32() - store @v little-endian.
 * @p: 4 bytes
 * @v: the value
 */
void kt_le32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

/**
 * kt_le16() - store @v little-endian.
 * @p: 2 bytes
 * @v: the value
 */
void kt_le16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

/**
 * kt_rd32() - load a little-endian u32.
 * @p: 4 bytes
 *
 * Return: the value.
 */
uint32_t kt_rd32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/**
 * kt_rd16() - load a little-endian u16.
 * @p: 2 bytes
 *
 * Return: the value.
 */
uint16_t kt_rd16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

/**
 * kt_raw_header() - encode a frame header.
 * @p:     8 bytes
 * @len:   the frame length, header included
 * @type:  the frame type
 * @flags: the frame flags
 */
void kt_raw_header(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags)
{
        kt_le32(p, len);
        kt_le16(p + 4, type);
        kt_le16(p + 6, flags);
}

/**
 * kt_raw_hello_body() - encode a HELLO body (no shared page asked for).
 * @b:       16 bytes
 * @magic:   KT_MAGIC, or a wrong one
 * @version: the protocol version
 * @mode:    1 read, 2 write, 3 both
 */
void kt_raw_hello_body(uint8_t *b, uint32_t magic, uint16_t version, uint16_t mode)
{
        memset(b, 0, 16);
        kt_le32(b, magic);
        kt_le16(b + 4, version);
        kt_le16(b + 6, mode);
}

/**
 * kt_raw_connect() - connect a raw Unix socket to bus 0 in @dir.
 * @dir:        the socket directory
 * @timeout_ms: a limit on each read and write, so that one that would hang
 *              fails instead; 0 for none
 *
 * Return: the socket, or a negative errno.
 */
int kt_raw_connect(const char *dir, int timeout_ms)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
        size_t len = strlen(dir);

        if (len + sizeof("/kbus0") > sizeof(a.sun_path))
                return -ENAMETOOLONG;
        memcpy(a.sun_path, dir, len);
        memcpy(a.sun_path + len, "/kbus0", sizeof("/kbus0"));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            (timeout_ms > 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
                                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

/**
 * kt_raw_write() - write all of @p (no SIGPIPE if the peer has closed).
 * @fd: the socket
 * @p:  the bytes
 * @n:  how many
 *
 * Return: 0, or a negative errno.
 */
int kt_raw_write(int fd, const void *p, size_t n)
{
        const uint8_t *b = p;

        while (n > 0) {
                ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                b += w;
                n -= (size_t)w;
        }
        return 0;
}

/**
 * kt_raw_frame() - write a whole frame in one go.
 * @fd:    the socket
 * @type:  the frame type
 * @flags: the frame flags
 * @body:  the body
 * @len:   its length
 *
 * Return: 0, or a negative errno.
 */
int kt_raw_frame(int fd, uint16_t type, uint16_t flags, const void *body, size_t len)
{
        uint8_t *f = malloc(8 + len);

        if (!f)
                return -ENOMEM;
        kt_raw_header(f, (uint32_t)(8 + len), type, flags);
        if (len)
                memcpy(f + 8, body, len);
        int r = kt_raw_write(fd, f, 8 + len);
        free(f);
        return r;
}

/**
 * kt_raw_read_full() - read exactly @n bytes.
 * @fd: the socket
 * @p:  where to
 * @n:  how many
 *
 * Return: 1, 0 at the end of the stream (also after a partial read, or a
 * reset), or a negative errno.
 */
int kt_raw_read_full(int fd, void *p, size_t n)
{
        uint8_t *b = p;
        size_t got = 0;

        while (got < n) {
                ssize_t r = recv(fd, b + got, n - got, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return errno == ECONNRESET ? 0 : -errno;
                if (r == 0)
                        return 0;
                got += (size_t)r;
        }
        return 1;
}

/**
 * kt_raw_read_frame() - read one frame.
 * @fd: the socket
 * @f:  the frame; its body is malloc()ed (kt_raw_frame_free()) when 1 is
 *      returned, NULL otherwise
 *
 * Return: 1, 0 if the connection closed, -EPROTO for a length outside
 * [8, 64 MiB], or another negative errno.
 */
int kt_raw_read_frame(int fd, KtRawFrame *f)
{
        uint8_t h[8];
        int r = kt_raw_read_full(fd, h, sizeof(h));

        memset(f, 0, sizeof(*f));
        if (r <= 0)
                return r;
        f->len = kt_rd32(h);
        f->type = kt_rd16(h + 4);
        f->flags = kt_rd16(h + 6);
        if (f->len < 8 || f->len > 64u * 1024 * 1024)
                return -EPROTO;
        f->body_len = f->len - 8;
        f->body = malloc(f->body_len + 1);
        if (!f->body)
                return -ENOMEM;
        r = kt_raw_read_full(fd, f->body, f->body_len);
        if (r <= 0)
                kt_raw_frame_free(f);
        return r;
}

/**
 * kt_raw_frame_free() - free the body of a frame kt_raw_read_frame() read.
 * @f: the frame
 */
void kt_raw_frame_free(KtRawFrame *f)
{
        free(f->body);
        f->body = NULL;
}
