/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-hostile.c - clients that misbehave on the wire, against a real kbusd
 * (semantics §16, docs/protocol.md "Errors in the stream").
 *
 * Raw Unix-socket clients write garbage, wrong handshakes, impossible frame
 * lengths, truncated and oversized frames, unknown frame types and
 * inconsistent message bodies; one client binds `$.*` and never reads while
 * another floods the bus; 200 connections come and go.  For each, kbusd must
 * answer with the documented ERROR/RESULT or close that one connection, and
 * nothing else: after every test a well-behaved libkbus client still gets
 * request/reply service from a replier that has been bound since the start
 * (same ksock id throughout), and kbusd is still running.  Teardown checks
 * that kbusd then shuts down cleanly on SIGTERM.
 *
 * Raw frames are built with the little-endian helpers of kbus-test.h,
 * independently of src/proto, so that the test checks the documented layout
 * rather than the codec against itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define ECHO_NAME "$.Hostile.Echo"
#define QUIT_NAME "$.Hostile.Quit"
#define FLOOD_NAME "$.Hostile.Flood"
#define IO_TIMEOUT_MS 10000

#define BUS_MAX_MSG (64u * 1024u)

static pid_t echo_pid;
static uint32_t echo_id;
static unsigned service_seq;

/* ---- raw clients ------------------------------------------------------- */

static int raw_connect(void)
{
        int fd = kt_raw_connect(kt_kbusd.dir, IO_TIMEOUT_MS);

        assert_true(fd >= 0);
        return fd;
}

static void raw_write(int fd, const void *p, size_t n)
{
        assert_int_equal(kt_raw_write(fd, p, n), 0);
}

static void raw_frame(int fd, uint16_t type, uint16_t flags, const void *body, size_t len)
{
        assert_int_equal(kt_raw_frame(fd, type, flags, body, len), 0);
}

static void raw_hello(int fd, uint32_t magic, uint16_t version, uint16_t mode)
{
        uint8_t hello[16];

        kt_raw_hello_body(hello, magic, version, mode);
        raw_frame(fd, KT_HELLO, 0, hello, sizeof(hello));
}

/* Sends a good HELLO (rw, no shared page) and returns the ksock id. */
static uint32_t raw_greet(int fd)
{
        KtRawFrame f;

        raw_hello(fd, KT_MAGIC, 1, 0x3);
        assert_int_equal(kt_raw_read_frame(fd, &f), 1);
        assert_int_equal(f.type, KT_WELCOME);
        assert_int_equal(f.body_len, 32);
        assert_int_equal(kt_rd32(f.body), KT_MAGIC);
        assert_int_equal(kt_rd16(f.body + 4), 1);
        assert_int_equal((int32_t)kt_rd32(f.body + 8), 0);
        uint32_t id = kt_rd32(f.body + 12);
        assert_int_not_equal(id, 0);
        assert_int_equal(kt_rd32(f.body + 20), BUS_MAX_MSG);
        assert_int_equal(kt_rd32(f.body + 28), 0); /* no shared page asked for */
        kt_raw_frame_free(&f);
        return id;
}

static void raw_expect_result(int fd, int32_t status, uint32_t *v0, uint32_t *v1)
{
        KtRawFrame f;

        assert_int_equal(kt_raw_read_frame(fd, &f), 1);
        assert_int_equal(f.type, KT_RESULT);
        assert_true(f.body_len >= 12);
        assert_int_equal((int32_t)kt_rd32(f.body), status);
        if (v0)
                *v0 = kt_rd32(f.body + 4);
        if (v1)
                *v1 = kt_rd32(f.body + 8);
        kt_raw_frame_free(&f);
}

/* Sends a frame and expects its RESULT. */
static void raw_call(int fd, uint16_t type, uint16_t flags, const void *body, size_t len,
                     int32_t status, uint32_t *v0, uint32_t *v1)
{
        raw_frame(fd, type, flags, body, len);
        raw_expect_result(fd, status, v0, v1);
}

static void raw_expect_error(int fd, int32_t status, uint16_t about_type, uint16_t about_flags)
{
        KtRawFrame f;

        assert_int_equal(kt_raw_read_frame(fd, &f), 1);
        assert_int_equal(f.type, KT_ERROR);
        assert_true(f.body_len >= 8);
        assert_int_equal((int32_t)kt_rd32(f.body), status);
        assert_int_equal(kt_rd16(f.body + 4), about_type);
        assert_int_equal(kt_rd16(f.body + 6), about_flags);
        kt_raw_frame_free(&f);
}

/*
 * kbusd must close the connection; before that it may send at most one
 * ERROR frame (a "clear error frame", semantics §16) and nothing else.
 */
static void raw_expect_closed(int fd)
{
        KtRawFrame f;
        int frames = 0, r;

        while ((r = kt_raw_read_frame(fd, &f)) == 1) {
                assert_int_equal(f.type, KT_ERROR);
                assert_true((int32_t)kt_rd32(f.body) < 0);
                kt_raw_frame_free(&f);
                frames++;
        }
        assert_int_equal(r, 0); /* not a timeout: kbusd closed it */
        assert_true(frames <= 1);
        close(fd);
}

static void raw_ctl(int fd, uint32_t op, uint32_t arg)
{
        uint8_t b[8];

        kt_le32(b, op);
        kt_le32(b + 4, arg);
        raw_frame(fd, KT_CTL, 0, b, sizeof(b));
}

/* The connection still works: CTL MAX_MESSAGES (ask) is answered. */
static void raw_expect_usable(int fd)
{
        uint32_t v0 = 0;

        raw_ctl(fd, KT_CTL_MAX_MESSAGES, 0);
        raw_expect_result(fd, 0, &v0, NULL);
        assert_int_equal(v0, 100);
}

/* Encodes a message body as docs/protocol.md "Messages"; returns its length. */
static size_t raw_msg(uint8_t *b, const char *name, const void *data, uint32_t data_len,
                      uint32_t flags)
{
        uint32_t nl = (uint32_t)strlen(name), pad = (nl + 4) & ~3u;

        memset(b, 0, KT_MSG_FIXED + pad);
        kt_le32(b + 44, flags);
        kt_le32(b + 48, nl);
        kt_le32(b + 52, data_len);
        memcpy(b + KT_MSG_FIXED, name, nl);
        if (data_len)
                memcpy(b + KT_MSG_FIXED + pad, data, data_len);
        return KT_MSG_FIXED + pad + data_len;
}

/* ---- the well-behaved side ---------------------------------------------- */

/* Waits (bounded) for the next message on @ks. */
static kbus_message_t *next_msg(kbus_ksock_t ks)
{
        kbus_message_t *m = NULL;
        long deadline = harness_now_ms() + IO_TIMEOUT_MS;

        for (;;) {
                assert_int_equal(kbus_ksock_read_next_msg(ks, &m), 0);
                if (m)
                        return m;
                struct pollfd p = { .fd = ks, .events = POLLIN };
                long left = deadline - harness_now_ms();
                assert_true(left > 0);
                assert_true(poll(&p, 1, (int)left) >= 0);
        }
}

/* One request/reply with the echo replier, which must be the original one. */
static void request_echo(kbus_ksock_t ks)
{
        kbus_message_t *req, *rep;
        kbus_msg_id_t id;
        char data[32];
        uint32_t my_id;
        int n = snprintf(data, sizeof(data), "ping %u", ++service_seq);

        assert_int_equal(kbus_msg_create_request(&req, ECHO_NAME, strlen(ECHO_NAME), data,
                                                 (uint32_t)n, 0),
                         0);
        assert_int_equal(kbus_ksock_send_msg(ks, req, &id), 0);
        kbus_msg_delete(&req);
        rep = next_msg(ks);
        assert_int_equal(kbus_ksock_id(ks, &my_id), 0);
        assert_true(kbus_msg_is_reply(rep));
        assert_int_equal(rep->flags & KBUS_BIT_SYNTHETIC, 0);
        assert_int_equal(rep->in_reply_to.network_id, 0);
        assert_int_equal(rep->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(rep->from, echo_id);
        assert_int_equal(rep->to, my_id);
        assert_string_equal(kbus_msg_name_ptr(rep), ECHO_NAME);
        assert_int_equal(rep->data_len, (uint32_t)n);
        assert_memory_equal(kbus_msg_data_ptr(rep), data, (size_t)n);
        kbus_msg_delete(&rep);
}

static void assert_kbusd_alive(void)
{
        int status;

        assert_int_equal(waitpid(kt_kbusd.pid, &status, WNOHANG), 0);
        assert_int_equal(kill(kt_kbusd.pid, 0), 0);
}

/* semantics §16: whatever the others did, a good client still gets service. */
static void assert_service(void)
{
        assert_kbusd_alive();
        kbus_ksock_t ks = kt_open_rw();
        request_echo(ks);
        assert_int_equal(kbus_ksock_close(ks), 0);
        assert_kbusd_alive();
}

/* The echo replier: a child process that answers ECHO_NAME until told to quit. */
static void echo_main(int report_fd)
{
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *m, *rep;
        uint32_t id = 0;

        alarm(150);
        if (ks < 0 || kbus_ksock_bind(ks, ECHO_NAME, 1) || kbus_ksock_bind(ks, QUIT_NAME, 0) ||
            kbus_ksock_id(ks, &id) || write(report_fd, &id, sizeof(id)) != sizeof(id))
                _exit(2);
        close(report_fd);
        for (;;) {
                if (kbus_ksock_read_next_msg(ks, &m) < 0)
                        _exit(3); /* kbusd went away */
                if (!m) {
                        struct pollfd p = { .fd = ks, .events = POLLIN };
                        poll(&p, 1, -1);
                        continue;
                }
                if (strcmp(kbus_msg_name_ptr(m), QUIT_NAME) == 0) {
                        kbus_msg_delete(&m);
                        kbus_ksock_close(ks);
                        _exit(0);
                }
                if (!kbus_msg_wants_us_to_reply(m) ||
                    kbus_msg_create_reply_to(&rep, m, kbus_msg_data_ptr(m), m->data_len, 0) ||
                    kbus_ksock_send_msg(ks, rep, NULL))
                        _exit(4);
                kbus_msg_delete(&rep);
                kbus_msg_delete(&m);
        }
}

static int setup(void **state)
{
        static const char *const args[] = { "--max-message-size", "65536", NULL };
        int p[2];

        (void)state;
        if (kbusd_start(&kt_kbusd, args) < 0 || pipe(p) < 0)
                return -1;
        fflush(NULL);
        echo_pid = fork();
        if (echo_pid < 0)
                return -1;
        if (echo_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(p[0]);
                echo_main(p[1]);
        }
        close(p[1]);
        ssize_t n = read(p[0], &echo_id, sizeof(echo_id));
        close(p[0]);
        return n == sizeof(echo_id) && echo_id != 0 ? 0 : -1;
}

static int teardown(void **state)
{
        kbus_message_t *m;
        int ok = 0;

        (void)state;
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        if (ks >= 0 && kbus_msg_create(&m, QUIT_NAME, strlen(QUIT_NAME), NULL, 0, 0) == 0) {
                ok = kbus_ksock_send_msg(ks, m, NULL) == 0;
                kbus_msg_delete(&m);
        }
        if (ks >= 0)
                kbus_ksock_close(ks);
        int status = harness_wait_exit(echo_pid, IO_TIMEOUT_MS);
        if (status == -ETIMEDOUT) {
                kill(echo_pid, SIGKILL);
                harness_wait_exit(echo_pid, IO_TIMEOUT_MS);
        }
        ok = ok && status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        /* kbusd survived everything and shuts down cleanly (semantics §16, §17) */
        return kbusd_stop(&kt_kbusd) == 0 && ok ? 0 : -1;
}

/* ---- handshake ----------------------------------------------------------- */

/* Bytes that are not kbus at all: closed, perhaps after an ERROR frame. */
static void test_garbage_first(void **state)
{
        static const char http[] = "GET / HTTP/1.1\r\nHost: kbus\r\n\r\n";
        uint8_t noise[64];
        uint32_t x = 2463534242u;

        (void)state;
        int fd = raw_connect();
        (void)kt_raw_write(fd, http, sizeof(http) - 1);
        raw_expect_closed(fd);

        for (size_t i = 0; i < sizeof(noise); i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                noise[i] = (uint8_t)x;
        }
        fd = raw_connect();
        (void)kt_raw_write(fd, noise, sizeof(noise));
        raw_expect_closed(fd);

        /* a plausible frame, but not a HELLO: ERROR, then close (protocol.md) */
        uint8_t body[16] = { 0 };
        fd = raw_connect();
        raw_frame(fd, KT_SEND, 0, body, sizeof(body));
        raw_expect_error(fd, -EPROTO, KT_SEND, 0);
        raw_expect_closed(fd);
        assert_service();
}

static void test_hello_wrong_magic(void **state)
{
        (void)state;
        int fd = raw_connect();
        raw_hello(fd, 0x4B425553u, 1, 0x3); /* "KBUS" in the wrong byte order */
        raw_expect_error(fd, -EPROTO, KT_HELLO, 0);
        raw_expect_closed(fd);
        assert_service();
}

/* A HELLO kbusd understands but refuses: WELCOME with @status, then close. */
static void expect_refused(uint16_t version, uint16_t mode, int32_t status)
{
        KtRawFrame f;
        int fd = raw_connect();

        raw_hello(fd, KT_MAGIC, version, mode);
        assert_int_equal(kt_raw_read_frame(fd, &f), 1);
        assert_int_equal(f.type, KT_WELCOME);
        assert_int_equal(f.body_len, 32);
        assert_int_equal(kt_rd32(f.body), KT_MAGIC);
        assert_int_equal(kt_rd16(f.body + 4), 1); /* the version kbusd speaks */
        assert_int_equal((int32_t)kt_rd32(f.body + 8), status);
        kt_raw_frame_free(&f);
        assert_int_equal(kt_raw_read_frame(fd, &f), 0);
        close(fd);
}

static void test_hello_wrong_version(void **state)
{
        (void)state;
        expect_refused(2, 0x3, -EPROTONOSUPPORT);
        expect_refused(0, 0x3, -EPROTONOSUPPORT);
        expect_refused(1, 0x2, -EINVAL); /* write without read */
        assert_service();
}

static void test_hello_twice(void **state)
{
        (void)state;
        int fd = raw_connect();
        raw_greet(fd);
        raw_hello(fd, KT_MAGIC, 1, 0x3);
        raw_expect_error(fd, -EPROTO, KT_HELLO, 0);
        raw_expect_usable(fd);
        close(fd);
        assert_service();
}

/* ---- impossible frame lengths ------------------------------------------ */

static void send_bad_length(bool greet, uint32_t len)
{
        uint8_t h[8];

        int fd = raw_connect();
        if (greet)
                raw_greet(fd);
        kt_raw_header(h, len, KT_CTL, 0);
        (void)kt_raw_write(fd, h, sizeof(h));
        raw_expect_closed(fd);
}

static void test_length_too_small(void **state)
{
        (void)state;
        send_bad_length(false, 4);
        send_bad_length(true, 0);
        send_bad_length(true, 7);
        assert_service();
}

static void test_length_giant(void **state)
{
        (void)state;
        send_bad_length(false, 0xFFFFFFF0u);
        send_bad_length(true, 0xFFFFFFF0u);
        send_bad_length(true, 64u * 1024 * 1024 + 1);
        assert_service();
}

/* A client that vanishes mid-frame: the partial frame is dropped, the rest counts. */
static void test_truncated_then_close(void **state)
{
        uint8_t body[128], frame[8 + 128];
        kbus_message_t *m;
        uint32_t v0, v1;

        (void)state;
        kbus_ksock_t lis = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(lis, "$.Hostile.Trunc", 0), 0);
        int fd = raw_connect();
        uint32_t id = raw_greet(fd);
        size_t n = raw_msg(body, "$.Hostile.Trunc", "whole", 5, 0);
        raw_call(fd, KT_SEND, 0, body, n, 0, &v0, &v1);
        assert_int_equal(v0, 0);
        assert_int_not_equal(v1, 0);

        n = raw_msg(body, "$.Hostile.Trunc", "partial", 7, 0);
        kt_raw_header(frame, (uint32_t)(8 + n), KT_SEND, 0);
        memcpy(frame + 8, body, n);
        raw_write(fd, frame, 8 + n - 10); /* all but the last 10 bytes */
        close(fd);

        m = next_msg(lis);
        assert_int_equal(m->from, id);
        assert_int_equal(m->id.serial_num, v1);
        assert_memory_equal(kbus_msg_data_ptr(m), "whole", 5);
        kbus_msg_delete(&m);
        assert_service();
        kt_expect_quiet(lis, 0); /* the partial frame went nowhere */
        kbus_ksock_close(lis);
}

/* ---- bad frames on a good connection ------------------------------------ */

static void test_unknown_type(void **state)
{
        uint8_t body[4] = { 1, 2, 3, 4 }, big[5000] = { 0 };
        uint32_t v0 = 99;

        (void)state;
        int fd = raw_connect();
        raw_greet(fd);
        raw_frame(fd, 0x55, 0x1234, body, sizeof(body));
        raw_expect_error(fd, -EPROTO, 0x55, 0x1234);
        raw_frame(fd, KT_ERROR, 0, body, sizeof(body)); /* a kbusd-to-client type */
        raw_expect_error(fd, -EPROTO, KT_ERROR, 0);
        raw_frame(fd, KT_CTL, 0, body, sizeof(body)); /* CTL body must be 8 bytes */
        raw_expect_error(fd, -EPROTO, KT_CTL, 0);
        raw_frame(fd, KT_CTL, 0, big, sizeof(big)); /* longer than 4 KiB */
        raw_expect_error(fd, -EPROTO, KT_CTL, 0);
        raw_ctl(fd, 77, 0);
        raw_expect_result(fd, -EINVAL, NULL, NULL);
        raw_ctl(fd, KT_CTL_NUM_MESSAGES, 0);
        raw_expect_result(fd, 0, &v0, NULL);
        assert_int_equal(v0, 0);
        raw_expect_usable(fd);
        close(fd);
        assert_service();
}

/* SEND bodies whose lengths do not add up: -EBADMSG, and the stream goes on. */
static void test_send_bad_lengths(void **state)
{
        uint8_t good[128], bad[128];
        kbus_message_t *m;
        uint32_t v0, v1;

        (void)state;
        kbus_ksock_t lis = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(lis, "$.Hostile.*", 0), 0);
        int fd = raw_connect();
        raw_greet(fd);
        size_t n = raw_msg(good, "$.Hostile.Lengths", "data", 4, 0); /* name 17 -> pad 20 */

        static const struct {
                size_t off;
                uint32_t val;
        } wrong[] = {
                { 48, 21 },          /* name_len past the padding */
                { 52, 5 },           /* one more data byte than sent */
                { 52, 3 },           /* one fewer */
                { 48, 0xFFFFFFFFu }, /* lengths that wrap in 32 bits */
                { 48, 0 },           /* no name */
        };
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
                memcpy(bad, good, n);
                kt_le32(bad + wrong[i].off, wrong[i].val);
                raw_call(fd, KT_SEND, 0, bad, n, -EBADMSG, NULL, NULL);
        }
        memcpy(bad, good, n);
        bad[KT_MSG_FIXED + 18] = 'x'; /* padding not NUL */
        raw_call(fd, KT_SEND, 0, bad, n, -EBADMSG, NULL, NULL);
        raw_call(fd, KT_SEND, 0, good, 40, -EBADMSG, NULL, NULL); /* shorter than the fixed part */
        memcpy(bad, good, n);
        kt_le32(bad + 52, 5);
        raw_frame(fd, KT_SEND, KT_SEND_POST, bad, n); /* posted: an ERROR, not a RESULT */
        raw_expect_error(fd, -EBADMSG, KT_SEND, KT_SEND_POST);

        raw_call(fd, KT_SEND, 0, good, n, 0, &v0, &v1);
        assert_int_equal(v0, 0);
        m = next_msg(lis);
        assert_int_equal(m->id.serial_num, v1);
        assert_string_equal(kbus_msg_name_ptr(m), "$.Hostile.Lengths");
        assert_int_equal(m->data_len, 4);
        assert_memory_equal(kbus_msg_data_ptr(m), "data", 4);
        kbus_msg_delete(&m);
        kt_expect_quiet(lis, 0); /* none of the bad ones went anywhere */
        close(fd);
        kbus_ksock_close(lis);
        assert_service();
}

/* kbusd's peak resident memory in kB, after resetting the peak if @reset and allowed. */
static long kbusd_hwm_kb(bool reset)
{
        char path[64], line[256];
        long kb = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)kt_kbusd.pid);
        if (reset && (f = fopen(path, "w"))) {
                fputs("5", f); /* 5: reset the peak to the current size */
                fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/%d/status", (int)kt_kbusd.pid);
        f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        assert_true(kb > 0);
        return kb;
}

/* Streams a SEND frame whose message is @size bytes of which the data is zeros. */
static void send_huge(int fd, const char *name, size_t size)
{
        static uint8_t chunk[64 * 1024];
        uint32_t nl = (uint32_t)strlen(name), pad = (nl + 4) & ~3u;
        size_t data_len = size - KT_MSG_FIXED - pad, left = size;

        memset(chunk, 0, sizeof(chunk));
        kt_raw_header(chunk, (uint32_t)(8 + size), KT_SEND, 0);
        raw_msg(chunk + 8, name, NULL, 0, 0);
        kt_le32(chunk + 8 + 52, (uint32_t)data_len);
        raw_write(fd, chunk, 8 + KT_MSG_FIXED + pad);
        left -= KT_MSG_FIXED + pad;
        memset(chunk, 0, sizeof(chunk));
        while (left > 0) {
                size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
                raw_write(fd, chunk, n);
                left -= n;
        }
}

/*
 * semantics §4/§16: too big is -EMSGSIZE and the connection stays usable; kbusd
 * skips the bytes rather than buffering them (protocol.md), so its peak
 * memory does not grow by anything like the 2 MiB and 40 MiB sent.  This
 * runs before the flood test, which legitimately raises the peak.
 */
static void test_send_too_big(void **state)
{
        uint8_t body[128];
        kbus_message_t *m;
        uint32_t v0, v1;

        (void)state;
        kbus_ksock_t lis = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(lis, "$.Hostile.Big", 0), 0);
        int fd = raw_connect();
        raw_greet(fd);

        long before = kbusd_hwm_kb(true);
        send_huge(fd, "$.Hostile.Big", 2u * 1024 * 1024);
        raw_expect_result(fd, -EMSGSIZE, NULL, NULL);
        send_huge(fd, "$.Hostile.Big", 40u * 1024 * 1024);
        raw_expect_result(fd, -EMSGSIZE, NULL, NULL);
        long after = kbusd_hwm_kb(false);
        print_message("kbusd peak memory %ld kB before, %ld kB after\n", before, after);
        assert_true(after - before < 8192);

        size_t n = raw_msg(body, "$.Hostile.Big", "small", 5, 0);
        raw_call(fd, KT_SEND, 0, body, n, 0, &v0, &v1);
        m = next_msg(lis);
        assert_int_equal(m->id.serial_num, v1);
        assert_memory_equal(kbus_msg_data_ptr(m), "small", 5);
        kbus_msg_delete(&m);
        kt_expect_quiet(lis, 0);
        close(fd);

        /* the same through libkbus */
        char *data = calloc(1, 2u * 1024 * 1024);
        assert_non_null(data);
        kbus_ksock_t ks = kt_open_rw();
        assert_int_equal(kbus_msg_create(&m, "$.Hostile.Big", 13, data, 2u * 1024 * 1024, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(ks, m, NULL), -EMSGSIZE);
        kbus_msg_delete(&m);
        free(data);
        request_echo(ks);
        kbus_ksock_close(ks);
        kt_expect_quiet(lis, 0);
        kbus_ksock_close(lis);
        assert_service();
}

static void test_bind_long_names(void **state)
{
        char name[5001];
        uint32_t v0 = 0;

        (void)state;
        memcpy(name, "$.", 2);
        memset(name + 2, 'a', sizeof(name) - 3);
        name[5000] = '\0';
        int fd = raw_connect();
        raw_greet(fd);
        raw_call(fd, KT_BIND, 0, name, 5000, -ENAMETOOLONG, NULL, NULL);
        raw_call(fd, KT_BIND, 1, name, 5000, -ENAMETOOLONG, NULL, NULL);
        raw_call(fd, KT_UNBIND, 0, name, 5000, -ENAMETOOLONG, NULL, NULL);
        raw_call(fd, KT_REPLIER, 0, name, 5000, -ENAMETOOLONG, NULL, NULL);
        /* a short frame, but a name one byte too long */
        raw_call(fd, KT_BIND, 0, name, 1001, -ENAMETOOLONG, NULL, NULL);
        raw_call(fd, KT_BIND, 0, name, 1000, 0, &v0, NULL); /* the longest allowed */
        assert_int_equal(v0, 1); /* the first binding made on this ksock */
        raw_expect_usable(fd);
        close(fd);

        kbus_ksock_t ks = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(ks, name, 0), -ENAMETOOLONG);
        request_echo(ks);
        kbus_ksock_close(ks);
        assert_service();
}

/* ---- a stuck reader and a flood ----------------------------------------- */

/* $KBUS_TEST_FLOOD shrinks the flood for slow runs (kbusd under valgrind in CI). */
static uint32_t flood_n(void)
{
        const char *e = getenv("KBUS_TEST_FLOOD");
        long n = e ? atol(e) : 0;

        return n >= 10000 ? (uint32_t)n : 100000u;
}

#define FLOOD_N flood_n()
#define FLOOD_ECHO_EVERY 5000u

typedef struct FloodReport {
        uint32_t count, bad;
} FloodReport;

/* A good listener with a big queue, in a child: reads every flood message in order. */
static void flood_listener_main(int fd)
{
        FloodReport rep = { 0 };
        uint32_t max = FLOOD_N * 2, last_serial = 0;
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        char ready = 'R';

        alarm(150);
        if (ks < 0 || kbus_ksock_max_messages(ks, &max) || max != FLOOD_N * 2 ||
            kbus_ksock_bind(ks, FLOOD_NAME, 0) || write(fd, &ready, 1) != 1)
                _exit(2);
        while (rep.count < FLOOD_N) {
                kbus_message_t *m;
                if (kbus_ksock_read_next_msg(ks, &m) < 0)
                        _exit(3);
                if (!m) {
                        struct pollfd p = { .fd = ks, .events = POLLIN };
                        if (poll(&p, 1, 30000) <= 0)
                                break;
                        continue;
                }
                uint32_t v = UINT32_MAX;
                if (m->data_len == 4)
                        memcpy(&v, kbus_msg_data_ptr(m), 4);
                if (v != rep.count || m->id.serial_num <= last_serial ||
                    strcmp(kbus_msg_name_ptr(m), FLOOD_NAME) != 0)
                        rep.bad++;
                last_serial = m->id.serial_num;
                rep.count++;
                kbus_msg_delete(&m);
        }
        kbus_ksock_close(ks);
        _exit(write(fd, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 4);
}

/* A raw client that binds $.* (with queue limit @max, 0 = default) and then never reads. */
static int stuck_client(uint32_t max, uint32_t *id)
{
        uint32_t v0;
        int fd = raw_connect();

        *id = raw_greet(fd);
        if (max) {
                raw_ctl(fd, KT_CTL_MAX_MESSAGES, max);
                raw_expect_result(fd, 0, &v0, NULL);
                assert_int_equal(v0, max);
        }
        raw_call(fd, KT_BIND, 0, "$.*", 3, 0, &v0, NULL);
        assert_int_equal(v0, 1);
        return fd;
}

typedef struct KsockStats {
        uint32_t queued, limit;
        uint64_t received, missed;
} KsockStats;

/* QUERY stats (protocol.md "Queries") from a fresh raw client; the record of ksock @id. */
static int query_ksock(uint32_t id, KsockStats *ret, uint32_t *nksocks)
{
        uint8_t what[4];
        KtRawFrame f;
        int found = 0;

        int fd = raw_connect();
        raw_greet(fd);
        kt_le32(what, KT_QUERY_STATS);
        raw_frame(fd, KT_QUERY, 0, what, sizeof(what));
        assert_int_equal(kt_raw_read_frame(fd, &f), 1);
        assert_int_equal(f.type, KT_RESULT);
        assert_int_equal((int32_t)kt_rd32(f.body), 0);
        assert_int_equal(kt_rd32(f.body + 4), f.body_len - 12);
        const uint8_t *p = f.body + 12;
        uint32_t count = kt_rd32(p);
        assert_int_equal(f.body_len - 12, 4 + 32 + (size_t)count * 64);
        if (nksocks)
                *nksocks = count;
        for (uint32_t i = 0; i < count; i++) {
                const uint8_t *r = p + 4 + 32 + i * 64;
                if (kt_rd32(r) != id)
                        continue;
                found = 1;
                ret->queued = kt_rd32(r + 12);
                ret->limit = kt_rd32(r + 16);
                ret->received = kt_rd32(r + 48) | (uint64_t)kt_rd32(r + 52) << 32;
                ret->missed = kt_rd32(r + 56) | (uint64_t)kt_rd32(r + 60) << 32;
        }
        kt_raw_frame_free(&f);
        close(fd);
        return found;
}

/*
 * semantics §16: a client that stops reading fills its own queue and misses
 * messages; it never stalls the bus.  One stuck client has the default
 * queue (100), one a queue that takes everything, so kbusd has to hold
 * megabytes of output for a socket that never drains.
 */
static void test_stuck_reader(void **state)
{
        FloodReport rep;
        KsockStats st;
        uint32_t stuck_id, stuck_big_id, v;
        int p[2];
        unsigned requests = 0;

        (void)state;
        assert_int_equal(pipe(p), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                flood_listener_main(p[1]);
        }
        close(p[1]);
        char ready = 0;
        assert_int_equal(read(p[0], &ready, 1), 1);
        assert_int_equal(ready, 'R');

        int stuck = stuck_client(0, &stuck_id);
        int stuck_big = stuck_client(1048576, &stuck_big_id);
        kbus_ksock_t tx = kt_open_rw(), rr = kt_open_rw();
        kbus_message_t *m;
        assert_int_equal(kbus_msg_create(&m, FLOOD_NAME, strlen(FLOOD_NAME), &v, 4, 0), 0);
        long t0 = harness_now_ms();
        for (v = 0; v < FLOOD_N; v++) {
                assert_int_equal(kbus_ksock_send_msg(tx, m, NULL), 0);
                if (v % FLOOD_ECHO_EVERY == 0) {
                        long t = harness_now_ms();
                        request_echo(rr); /* request/reply service throughout */
                        assert_true(harness_now_ms() - t < IO_TIMEOUT_MS);
                        requests++;
                }
        }
        long elapsed = harness_now_ms() - t0;
        kbus_msg_delete(&m);
        print_message("%u announcements sent in %ld ms\n", FLOOD_N, elapsed);
        assert_true(elapsed < 30000);

        assert_int_equal(read(p[0], &rep, sizeof(rep)), sizeof(rep));
        close(p[0]);
        int status = harness_wait_exit(pid, IO_TIMEOUT_MS);
        assert_true(status >= 0 && WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(rep.count, FLOOD_N);
        assert_int_equal(rep.bad, 0);

        /* each request and its reply also match $.* */
        uint64_t total = FLOOD_N + 2 * (uint64_t)requests;
        assert_true(query_ksock(stuck_id, &st, NULL));
        assert_int_equal(st.limit, 100);
        assert_int_equal(st.queued, 100);
        assert_int_equal(st.received, 100);
        assert_int_equal(st.missed, total - 100);
        assert_true(query_ksock(stuck_big_id, &st, NULL));
        assert_int_equal(st.queued, total);
        assert_int_equal(st.received, total);
        assert_int_equal(st.missed, 0);
        close(stuck);
        close(stuck_big);
        kbus_ksock_close(tx);
        kbus_ksock_close(rr);
        assert_service();
}

/* ---- churn ---------------------------------------------------------------- */

/*
 * Waits until kbusd lists exactly the echo replier and the asking ksock:
 * every other connection has been closed and kbusd has forgotten it.  kbusd
 * learns of each close in its own time, so this asks until it has, bounded.
 */
static void assert_only_echo_left(void)
{
        long deadline = harness_now_ms() + IO_TIMEOUT_MS;
        uint32_t n = 0;
        KsockStats st;

        do
                assert_true(query_ksock(echo_id, &st, &n));
        while (n != 2 && harness_now_ms() < deadline);
        assert_int_equal(n, 2);
}

/* 200 connections opened and closed at once, some mid-handshake. */
static void test_connection_churn(void **state)
{
        uint8_t hello[16];
        uint32_t last_id = 0;

        (void)state;
        assert_only_echo_left();
        kt_raw_hello_body(hello, KT_MAGIC, 1, 0x3);
        for (int i = 0; i < 200; i++) {
                if (i % 4 == 0) { /* libkbus: ids only ever grow (semantics §5) */
                        uint32_t id;
                        kbus_ksock_t ks = kt_open_rw();
                        assert_int_equal(kbus_ksock_id(ks, &id), 0);
                        assert_true(id > last_id);
                        last_id = id;
                        assert_int_equal(kbus_ksock_close(ks), 0);
                        continue;
                }
                int fd = raw_connect();
                if (i % 4 == 2)
                        raw_frame(fd, KT_HELLO, 0, hello, sizeof(hello)); /* never reads WELCOME */
                if (i % 4 == 3)
                        raw_write(fd, hello, 5); /* half a header */
                close(fd);
        }
        assert_service();
        assert_only_echo_left(); /* none of the 200 lingers in kbusd */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_garbage_first),
                cmocka_unit_test(test_hello_wrong_magic),
                cmocka_unit_test(test_hello_wrong_version),
                cmocka_unit_test(test_hello_twice),
                cmocka_unit_test(test_length_too_small),
                cmocka_unit_test(test_length_giant),
                cmocka_unit_test(test_truncated_then_close),
                cmocka_unit_test(test_unknown_type),
                cmocka_unit_test(test_send_bad_lengths),
                cmocka_unit_test(test_send_too_big), /* before the flood: see there */
                cmocka_unit_test(test_bind_long_names),
                cmocka_unit_test(test_stuck_reader),
                cmocka_unit_test(test_connection_churn),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, setup, teardown);
}
