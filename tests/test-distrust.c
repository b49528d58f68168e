/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-distrust.c - libkbus distrusts the server (semantics §18; docs/protocol.md
 * "What a client checks").
 *
 * Fake servers written here - a listening socket in a private mkdtemp()
 * directory, served by a forked child - answer the handshake with bad
 * WELCOMEs and bad shared pages, never answer, never accept, or, after a
 * good handshake, send frames no kbusd sends.  The client always runs in a
 * forked child with an alarm, so that a crash (SIGBUS from a page that
 * shrank) or a hang shows up as a signal instead of taking the test down;
 * each case must end with the documented negative errno, promptly.  Where a
 * frame declares a large length, the client's address space is limited to
 * a little more than it uses (except under ASan, whose shadow memory makes
 * such a limit meaningless), so memory reserved for a declared length,
 * rather than for bytes that arrived, shows up as -ENOMEM.
 *
 * The socket-directory checks run in a private mount namespace (unshare(),
 * a fresh tmpfs on /tmp and /run, so /run/kbus is not there to be chosen)
 * where the per-user fallbacks can be set up without touching the real
 * /tmp.  The client drops to uid/gid 65534; "another user" is uid 1234.
 * They are skipped when this process cannot make a mount namespace.
 *
 * Frames are built by hand from docs/protocol.md (kbus-test.h helpers),
 * independently of src/proto.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define CLIENT_ALARM_S 10   /* a client still running then has hung */
#define OPEN_MS 2000        /* the bound most clients here open with */
#define PROMPT_MS 1500      /* "well under 2 s" */
#define PAGE_BYTES 8192u    /* the shared page kbusd offers: SHM_SIZE */
#define MSG_ABS_MAX (16u * 1024u * 1024u)
#define NOBODY 65534u
#define OTHER_UID 1234u
#define ANSWER_VALUE 7u     /* value0 of the good RESULT the fake servers send */

/* Client exit codes that are not errnos. */
#define CODE_POSITIVE 250   /* the call returned > 0 */
#define CODE_OPEN_FAILED 249
#define CODE_WRONG_VALUE 248
#define CODE_TOO_SLOW 247

/* ---- frames ------------------------------------------------------------- */

typedef struct Blob {
        uint8_t *p;
        size_t len;
} Blob;

static void blob_add(Blob *b, const void *p, size_t n)
{
        b->p = realloc(b->p, b->len + n);
        assert_non_null(b->p);
        if (p)
                memcpy(b->p + b->len, p, n);
        else
                memset(b->p + b->len, 0, n);
        b->len += n;
}

/* A frame header declaring @len, then @body_len bytes of @body (NULL: zeros). */
static void blob_frame(Blob *b, uint32_t len, uint16_t type, const void *body, size_t body_len)
{
        uint8_t h[8];

        kt_raw_header(h, len, type, 0);
        blob_add(b, h, sizeof(h));
        blob_add(b, body, body_len);
}

static void blob_result(Blob *b, int32_t status, uint32_t value0)
{
        uint8_t r[12];

        kt_le32(r, (uint32_t)status);
        kt_le32(r + 4, value0);
        kt_le32(r + 8, 0);
        blob_frame(b, 8 + sizeof(r), KT_RESULT, r, sizeof(r));
}

/* A MSG frame carrying a message named @name (taken as @name_len bytes). */
static void blob_msg(Blob *b, const char *name, uint32_t name_len, uint32_t declared_name_len)
{
        uint32_t pad = (name_len + 4) & ~3u;
        size_t body_len = 8 + KT_MSG_FIXED + pad;
        uint8_t *body = calloc(1, body_len);

        assert_non_null(body);
        kt_le32(body + 8 + 48, declared_name_len);
        memcpy(body + 8 + KT_MSG_FIXED, name, name_len);
        blob_frame(b, (uint32_t)(8 + body_len), 0x83, body, body_len);
        free(body);
}

static void blob_free(Blob *b)
{
        free(b->p);
        *b = (Blob){ 0 };
}

/* ---- fake servers ------------------------------------------------------- */

enum { PAGE_NONE, PAGE_GOOD, PAGE_EMPTY, PAGE_UNSEALED, PAGE_FILE, PAGE_TWO };

/* What a fake server does with the one connection it accepts. */
typedef struct Script {
        uint32_t magic, version, ksock_id, bus, max_size, shm_size, frame_len;
        int32_t status;
        int page;
        bool silent; /* read the HELLO, then say nothing, ever */
        bool split;  /* send the WELCOME one byte at a time */
        Blob extra;  /* written right after the WELCOME */
        Blob after;  /* written when the first request arrives */
        bool close_after;
} Script;

static Script script_good(void)
{
        return (Script){ .magic = KT_MAGIC, .version = 1, .ksock_id = 7, .bus = 0,
                         .max_size = 64 * 1024, .frame_len = 40, .page = PAGE_NONE };
}

typedef struct Fake {
        char dir[64];
        char path[100];
        int lfd;
        pid_t pid;
} Fake;

/* A listening socket at @path (no asserts: children use it too). */
static int listen_at(const char *path, int backlog)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, backlog) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

static int make_page(int kind, const char *dir)
{
        int fd;

        if (kind == PAGE_FILE) { /* a plain file: it has no seals */
                fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
                return fd < 0 || ftruncate(fd, PAGE_BYTES) < 0 ? -1 : fd;
        }
        fd = memfd_create("fake-kbus", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -1;
        if (kind != PAGE_EMPTY && ftruncate(fd, PAGE_BYTES) < 0)
                return -1;
        if (kind != PAGE_UNSEALED &&
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                return -1;
        return fd;
}

/* Sends @n bytes with @nfds descriptors attached. */
static int send_fds(int cfd, const uint8_t *p, size_t n, const int *fds, int nfds)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control = { 0 };
        struct iovec iov = { (void *)p, n };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (nfds > 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
                memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
        }
        return sendmsg(cfd, &mh, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* The WELCOME, and anything in s->extra in the same write (so it is there at once). */
static int send_welcome(int cfd, const Script *s, const char *dir)
{
        uint8_t w[40];
        int fds[2], nfds = 0, r;
        Blob out = { 0 };

        kt_raw_header(w, s->frame_len, KT_WELCOME, 0);
        kt_le32(w + 8, s->magic);
        kt_le16(w + 12, (uint16_t)s->version);
        kt_le16(w + 14, 0);
        kt_le32(w + 16, (uint32_t)s->status);
        kt_le32(w + 20, s->ksock_id);
        kt_le32(w + 24, s->bus);
        kt_le32(w + 28, s->max_size);
        kt_le32(w + 32, 100);
        kt_le32(w + 36, s->shm_size);
        if (s->page != PAGE_NONE)
                fds[nfds++] = make_page(s->page == PAGE_TWO ? PAGE_GOOD : s->page, dir);
        if (s->page == PAGE_TWO)
                fds[nfds++] = make_page(PAGE_GOOD, dir);
        for (int i = 0; i < nfds; i++)
                if (fds[i] < 0)
                        return -1;
        blob_add(&out, w, sizeof(w));
        if (s->extra.len)
                blob_add(&out, s->extra.p, s->extra.len);
        r = send_fds(cfd, out.p, s->split ? 1 : out.len, fds, nfds);
        for (size_t i = 1; r == 0 && s->split && i < out.len; i++)
                r = kt_raw_write(cfd, out.p + i, 1);
        for (int i = 0; i < nfds; i++)
                close(fds[i]);
        blob_free(&out);
        return r;
}

/* The fake server's child: one connection, as @s says; @notify_fd hears 'c' on accept. */
static void serve(int lfd, const Script *s, const char *dir, int notify_fd)
{
        uint8_t hello[24], sink[4096];
        KtRawFrame f;
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        if (cfd < 0)
                _exit(1);
        if (notify_fd >= 0 && write(notify_fd, "c", 1) != 1)
                _exit(1);
        if (kt_raw_read_full(cfd, hello, sizeof(hello)) != 1)
                _exit(2);
        while (s->silent)
                pause();
        if (send_welcome(cfd, s, dir) < 0)
                _exit(3);
        if (s->after.len && kt_raw_read_frame(cfd, &f) == 1) {
                kt_raw_frame_free(&f);
                if (kt_raw_write(cfd, s->after.p, s->after.len) < 0)
                        _exit(0); /* the client gave up first: fine */
        }
        while (!s->close_after && read(cfd, sink, sizeof(sink)) > 0)
                ;
        _exit(0);
}

static void fake_listen(Fake *f, int backlog)
{
        snprintf(f->dir, sizeof(f->dir), "/tmp/kbus-distrust-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/kbus0", f->dir);
        f->lfd = listen_at(f->path, backlog);
        assert_true(f->lfd >= 0);
        f->pid = -1;
}

static void fake_start(Fake *f, const Script *s)
{
        fake_listen(f, 16);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                serve(f->lfd, s, f->dir, -1);
        }
}

static void fake_stop(Fake *f)
{
        if (f->pid > 0) {
                kill(f->pid, SIGKILL);
                waitpid(f->pid, NULL, 0);
        }
        close(f->lfd);
        unlink(f->path);
        rmdir(f->dir);
}

/* ---- clients (each runs in a forked child) ------------------------------ */

typedef int (*ClientFn)(const char *path);

/* In a forked child: a crash must kill it, not go to cmocka's handlers. */
static void child_default_signals(void)
{
        static const int sigs[] = { SIGBUS, SIGSEGV, SIGILL, SIGFPE, SIGABRT, SIGALRM };

        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                signal(sigs[i], SIG_DFL);
}

/*
 * Runs @fn in a child with an alarm, timed.  Return: what @fn returned (0 or
 * a negative errno, or minus a CODE_*).  A child killed by a signal (SIGBUS,
 * SIGALRM for a hang) fails the test.
 */
static int run_client(ClientFn fn, const char *path, long *ret_ms)
{
        long t0 = harness_now_ms();
        int st;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                child_default_signals();
                alarm(CLIENT_ALARM_S);
                int r = fn(path);
                _exit(r > 0 ? CODE_POSITIVE : -r);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (ret_ms)
                *ret_ms = harness_now_ms() - t0;
        if (WIFSIGNALED(st))
                fail_msg("the client was killed by signal %d (%s)", WTERMSIG(st),
                         strsignal(WTERMSIG(st)));
        assert_true(WIFEXITED(st));
        return -WEXITSTATUS(st);
}

/* The client's address space: what it uses now, plus @extra. */
static void limit_address_space(size_t extra)
{
#if defined(__SANITIZE_ADDRESS__)
        (void)extra; /* ASan's shadow memory: a limit would prove nothing */
#else
        unsigned long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");

        if (!f)
                return;
        if (fscanf(f, "%lu", &pages) == 1) {
                rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + extra;
                setrlimit(RLIMIT_AS, &(struct rlimit){ lim, lim });
        }
        fclose(f);
#endif
}

/* Opens, then takes a message: that reads the shared page, if any. */
static int client_open_and_read(const char *path)
{
        kbus_message_t *m = NULL;
        kbus_ksock_t ks = kbus_ksock_open_timeout(path, O_RDWR, OPEN_MS);

        if (ks < 0)
                return ks;
        int r = kbus_ksock_read_next_msg(ks, &m);
        kbus_msg_delete(&m);
        kbus_ksock_close(ks);
        return r;
}

/* Opens (which must work), then asks a question the fake answers. */
static int client_call(const char *path)
{
        uint32_t v = 0;
        kbus_ksock_t ks = kbus_ksock_open_timeout(path, O_RDWR, OPEN_MS);

        if (ks < 0)
                return -CODE_OPEN_FAILED;
        int r = kbus_ksock_num_messages(ks, &v);
        kbus_ksock_close(ks);
        if (r == 0 && v != ANSWER_VALUE)
                return -CODE_WRONG_VALUE;
        return r;
}

/* client_call() with no more memory than it needs for what arrives. */
static int client_call_lean(const char *path)
{
        uint32_t v = 0;
        kbus_ksock_t ks = kbus_ksock_open_timeout(path, O_RDWR, OPEN_MS);

        if (ks < 0)
                return -CODE_OPEN_FAILED;
        limit_address_space(12u << 20);
        int r = kbus_ksock_num_messages(ks, &v);
        if (r == 0 && v != ANSWER_VALUE)
                return -CODE_WRONG_VALUE;
        return r;
}

/* Opens (which must work), then asks an on/off switch. */
static int client_switch(const char *path)
{
        kbus_ksock_t ks = kbus_ksock_open_timeout(path, O_RDWR, OPEN_MS);

        if (ks < 0)
                return -CODE_OPEN_FAILED;
        int r = kbus_ksock_only_once(ks, 0xFFFFFFFF);
        kbus_ksock_close(ks);
        return r;
}

/* Opens with a 300 ms bound, which must be kept. */
static int client_open_300ms(const char *path)
{
        long t0 = harness_now_ms();
        kbus_ksock_t ks = kbus_ksock_open_timeout(path, O_RDWR, 300);

        if (harness_now_ms() - t0 > PROMPT_MS)
                return -CODE_TOO_SLOW;
        if (ks >= 0)
                kbus_ksock_close(ks);
        return ks < 0 ? ks : 0;
}

/* One fake server serving @s; the client's result. */
static int against(const Script *s, ClientFn fn, long *ret_ms)
{
        Fake f;

        fake_start(&f, s);
        int r = run_client(fn, f.path, ret_ms);
        fake_stop(&f);
        return r;
}

/* ---- the shared page ---------------------------------------------------- */

static int page_case(int page, uint32_t shm_size)
{
        Script s = script_good();

        s.page = page;
        s.shm_size = shm_size;
        return against(&s, client_open_and_read, NULL);
}

/* An empty memfd claiming an 8 KiB page would be SIGBUS at the first read. */
static void test_page_empty(void **state)
{
        (void)state;
        assert_int_equal(page_case(PAGE_EMPTY, PAGE_BYTES), -EPROTO);
}

/* Unsealed, kbusd could shrink it under us at any time. */
static void test_page_unsealed(void **state)
{
        (void)state;
        assert_int_equal(page_case(PAGE_UNSEALED, PAGE_BYTES), -EPROTO);
}

/* A plain file cannot be sealed. */
static void test_page_plain_file(void **state)
{
        (void)state;
        assert_int_equal(page_case(PAGE_FILE, PAGE_BYTES), -EPROTO);
}

static void test_page_inconsistent(void **state)
{
        (void)state;
        assert_int_equal(page_case(PAGE_GOOD, 100), -EPROTO);       /* too small a page */
        assert_int_equal(page_case(PAGE_NONE, PAGE_BYTES), -EPROTO); /* a page, but no fd */
        assert_int_equal(page_case(PAGE_GOOD, 0), -EPROTO);         /* an fd, but no page */
        assert_int_equal(page_case(PAGE_TWO, PAGE_BYTES), -EPROTO); /* two fds */
}

/* The fakes are good enough that a right page and WELCOME are taken. */
static void test_page_good(void **state)
{
        Script s = script_good();
        (void)state;

        assert_int_equal(page_case(PAGE_GOOD, PAGE_BYTES), 0);
        assert_int_equal(page_case(PAGE_NONE, 0), 0);
        s.page = PAGE_GOOD;
        s.shm_size = PAGE_BYTES;
        s.split = true; /* the fd on the first byte, the rest a byte at a time */
        assert_int_equal(against(&s, client_open_and_read, NULL), 0);
}

/* ---- the WELCOME's fields ----------------------------------------------- */

static void test_welcome_fields(void **state)
{
        static const struct {
                const char *what;
                size_t offset; /* of the field in Script */
                uint32_t value;
                int expect;
        } cases[] = {
                { "wrong magic", offsetof(Script, magic), 0x12345678, -EPROTO },
                { "version 2 with status 0", offsetof(Script, version), 2, -EPROTO },
                { "ksock id 0", offsetof(Script, ksock_id), 0, -EPROTO },
                { "bus 256", offsetof(Script, bus), 256, -EPROTO },
                { "max size 99", offsetof(Script, max_size), 99, -EPROTO },
                { "max size past 16 MiB", offsetof(Script, max_size), MSG_ABS_MAX + 1, -EPROTO },
                { "frame length 36", offsetof(Script, frame_len), 36, -EPROTO },
                { "frame length 4", offsetof(Script, frame_len), 4, -EPROTO },
                { "status > 0", offsetof(Script, status), 5, -EPROTO },
                { "status below -4095", offsetof(Script, status), (uint32_t)-5000, -EPROTO },
                { "status -EPERM: kbusd refuses", offsetof(Script, status), (uint32_t)-EPERM,
                  -EPERM },
        };
        (void)state;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Script s = script_good();
                memcpy((char *)&s + cases[i].offset, &cases[i].value, sizeof(uint32_t));
                int r = against(&s, client_open_and_read, NULL);
                if (r != cases[i].expect)
                        fail_msg("%s: %d, not %d", cases[i].what, r, cases[i].expect);
        }
}

/* ---- servers that do not answer ----------------------------------------- */

static void test_silent_server(void **state)
{
        Script s = script_good();
        long ms;
        (void)state;

        s.silent = true;
        assert_int_equal(against(&s, client_open_300ms, &ms), -ETIMEDOUT);
        assert_true(ms < PROMPT_MS);
}

/* A backlog that is full: connect() would block, for ever. */
static void test_never_accepts(void **state)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int queued[64], n = 0;
        long ms;
        Fake f;
        (void)state;

        fake_listen(&f, 0);
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", f.path);
        while (n < 64) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                assert_true(fd >= 0);
                if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                        assert_int_equal(errno, EAGAIN);
                        close(fd);
                        break;
                }
                queued[n++] = fd;
        }
        assert_true(n < 64);
        assert_int_equal(run_client(client_open_300ms, f.path, &ms), -ETIMEDOUT);
        assert_true(ms < PROMPT_MS);
        while (n > 0)
                close(queued[--n]);
        fake_stop(&f);
}

/* ---- frames after a good handshake -------------------------------------- */

/* The fake answers the first request with @after (built by the caller). */
static int after_case(Blob after, bool close_after, ClientFn fn)
{
        Script s = script_good();
        long ms;

        s.after = after;
        s.close_after = close_after;
        int r = against(&s, fn, &ms);
        blob_free(&s.after);
        assert_true(ms < PROMPT_MS);
        return r;
}

static void test_bad_frames(void **state)
{
        uint8_t body[16] = { 0 };
        Blob b;
        (void)state;

        b = (Blob){ 0 }; /* a good answer: the fake itself is fine */
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), 0);

        b = (Blob){ 0 }; /* garbage */
        blob_add(&b, "this is not a kbus frame at all", 31);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* an impossible length */
        blob_frame(&b, 4, KT_RESULT, NULL, 0);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a 64 MiB MSG, of which only the header ever comes */
        blob_frame(&b, 64u << 20, 0x83, NULL, 0);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* one byte more than any message can be */
        blob_frame(&b, 8 + 8 + MSG_ABS_MAX + 1, 0x83, NULL, 0);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a MSG whose body does not decode: name_len past its end */
        blob_msg(&b, "$.Fake", 6, 600);
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a MSG with a name no kbusd delivers */
        blob_msg(&b, "$.Fake name", 11, 11);
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a MSG too short for its fixed part */
        blob_frame(&b, 8 + sizeof(body), 0x83, body, sizeof(body));
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a short RESULT */
        blob_frame(&b, 8 + 4, KT_RESULT, body, 4);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a status that is neither 0 nor an errno */
        blob_result(&b, 3, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* an ERROR with status 0 */
        blob_frame(&b, 8 + 8, KT_ERROR, body, 8);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* an ERROR with 8 KiB of text */
        blob_frame(&b, 8 + 8 + 8192, KT_ERROR, NULL, 8 + 8192);
        kt_le32(b.p + 8, (uint32_t)-EINVAL);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a DONE of the wrong length */
        blob_frame(&b, 8 + 4, 0x84, body, 4);
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a second WELCOME */
        blob_frame(&b, 8 + 32, KT_WELCOME, NULL, 32);
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call), -EPROTO);

        b = (Blob){ 0 }; /* a switch that is neither on nor off reads as no errno */
        blob_result(&b, 0, (uint32_t)-EFAULT);
        assert_int_equal(after_case(b, false, client_switch), -EPROTO);
}

/* An answer that comes before anything was asked is not kept for later. */
static void test_stray_answer(void **state)
{
        Script s = script_good();
        (void)state;

        blob_result(&s.extra, 0, ANSWER_VALUE);
        assert_int_equal(against(&s, client_open_and_read, NULL), -EPROTO);
        blob_free(&s.extra);
}

/* Frames of a type kbusd may add later are skipped as they come, not kept. */
static void test_unknown_frames_skipped(void **state)
{
        Blob b = { 0 };
        (void)state;

        blob_frame(&b, 8 + 100, 0x99, NULL, 100);
        blob_frame(&b, 32u << 20, 0x9a, NULL, (32u << 20) - 8);
        blob_result(&b, 0, ANSWER_VALUE);
        assert_int_equal(after_case(b, false, client_call_lean), 0);
}

/* A big MSG is kept as its bytes arrive, not reserved when it is announced. */
static void test_big_msg_never_completes(void **state)
{
        Blob b = { 0 };
        (void)state;

        blob_frame(&b, 8 + 8 + MSG_ABS_MAX, 0x83, NULL, 100 * 1024);
        assert_int_equal(after_case(b, true, client_call_lean), -ECONNRESET);
}

/* ---- socket directories (a private mount namespace) --------------------- */

enum { DIR_GOOD, DIR_SYMLINK, DIR_OTHER_OWNER, DIR_WRITABLE, DIR_GROUP_WRITABLE };

typedef struct DirCase {
        bool xdg;          /* the fallback is $XDG_RUNTIME_DIR/kbus, not /tmp/kbus-65534 */
        int kind;          /* what the fallback directory is */
        uid_t server_uid;  /* who the fake kbusd listens as */
        bool env;          /* name the directory in $KBUS_SOCKET_DIR instead */
        bool by_name;      /* open "/dev/kbus0" with kbus_ksock_open_timeout() */
} DirCase;

#define NS_SKIP 254
#define NS_SETUP_FAILED 253
#define NS_CLIENT_KILLED 252
#define NS_CONNECTED 251

static int ns_mkdir(const char *path, mode_t mode, uid_t uid)
{
        if (mkdir(path, mode) < 0 || chmod(path, mode) < 0 || chown(path, uid, uid) < 0)
                return -1;
        return 0;
}

/* Makes the directory the client will find, and the socket kbusd would be at. */
static int ns_make_dir(const DirCase *dc, char *sock, size_t socklen)
{
        const char *dir = dc->xdg ? "/tmp/xdg/kbus" : "/tmp/kbus-65534";
        const char *real = dir;

        if (dc->xdg && ns_mkdir("/tmp/xdg", 0700, NOBODY) < 0)
                return -1;
        switch (dc->kind) {
        case DIR_SYMLINK: /* to a directory that looks fine, but is another user's */
                real = "/tmp/elsewhere";
                if (ns_mkdir(real, 0755, OTHER_UID) < 0 || symlink(real, dir) < 0)
                        return -1;
                break;
        case DIR_OTHER_OWNER:
                if (ns_mkdir(dir, 0755, OTHER_UID) < 0)
                        return -1;
                break;
        case DIR_WRITABLE:
                if (ns_mkdir(dir, 0777, dc->env ? OTHER_UID : NOBODY) < 0)
                        return -1;
                break;
        case DIR_GROUP_WRITABLE:
                if (ns_mkdir(dir, 0770, NOBODY) < 0)
                        return -1;
                break;
        default:
                if (ns_mkdir(dir, 0700, NOBODY) < 0)
                        return -1;
        }
        if (dc->xdg && setenv("XDG_RUNTIME_DIR", "/tmp/xdg", 1) < 0)
                return -1;
        if (dc->env && setenv("KBUS_SOCKET_DIR", dir, 1) < 0)
                return -1;
        snprintf(sock, socklen, "%s/kbus0", real);
        return 0;
}

/*
 * A fake kbusd as @uid: bound as root (the directory may be closed to
 * @uid), listening as @uid, since SO_PEERCRED reports who called listen().
 * It answers one connection with a good WELCOME and says 'c' on @notify_fd.
 */
static pid_t ns_start_server(const char *sock, uid_t uid, int notify_fd)
{
        static Script s;
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        char ready;
        int p[2];
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        s = script_good();
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(sock, 0666) < 0 ||
            pipe(p) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                /* after the uid change, which would clear it */
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
                    setresuid(uid, uid, uid) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
                    listen(fd, 8) < 0 || write(p[1], "r", 1) != 1)
                        _exit(1);
                serve(fd, &s, "/tmp", notify_fd);
        }
        close(fd);
        close(p[1]);
        if (pid < 0 || read(p[0], &ready, 1) != 1)
                pid = -1;
        close(p[0]);
        return pid;
}

static int ns_client(const DirCase *dc)
{
        kbus_ksock_t ks;

        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
            setresuid(NOBODY, NOBODY, NOBODY) < 0)
                return -CODE_OPEN_FAILED;
        ks = dc->by_name ? kbus_ksock_open_timeout("/dev/kbus0", O_RDWR, OPEN_MS)
                         : kbus_ksock_open(0, O_RDWR);
        if (ks >= 0)
                kbus_ksock_close(ks);
        return ks < 0 ? ks : 0;
}

/* In the namespace (root): set up, run the client as 65534, report. */
static void ns_main(const DirCase *dc)
{
        char sock[100], seen = 0;
        int notify[2], st;

        child_default_signals();
        alarm(2 * CLIENT_ALARM_S);
        if (unshare(CLONE_NEWNS) < 0)
                _exit(NS_SKIP);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") < 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0)
                _exit(NS_SKIP);
        unsetenv("KBUS_SOCKET_DIR");
        unsetenv("XDG_RUNTIME_DIR");
        if (pipe2(notify, O_NONBLOCK | O_CLOEXEC) < 0 || ns_make_dir(dc, sock, sizeof(sock)) < 0)
                _exit(NS_SETUP_FAILED);
        pid_t server = ns_start_server(sock, dc->server_uid, notify[1]);
        if (server < 0)
                _exit(NS_SETUP_FAILED);
        pid_t client = fork();
        if (client == 0) {
                alarm(CLIENT_ALARM_S);
                int r = ns_client(dc);
                _exit(r > 0 ? CODE_POSITIVE : -r);
        }
        if (client < 0 || waitpid(client, &st, 0) != client)
                _exit(NS_SETUP_FAILED);
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        if (!WIFEXITED(st))
                _exit(NS_CLIENT_KILLED);
        /* a directory that fails the checks is refused before any connect */
        if (WEXITSTATUS(st) == EPERM && dc->kind != DIR_GOOD && read(notify[0], &seen, 1) == 1)
                _exit(NS_CONNECTED);
        _exit(WEXITSTATUS(st));
}

/* The client's result in case @dc: 0 or a negative errno. */
static int dir_case(const DirCase *dc)
{
        int st;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0)
                ns_main(dc);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st))
                fail_msg("the namespace child was killed by signal %d", WTERMSIG(st));
        switch (WEXITSTATUS(st)) {
        case NS_SKIP:
                skip();
                break;
        case NS_SETUP_FAILED:
                fail_msg("could not set up the socket directory");
                break;
        case NS_CLIENT_KILLED:
                fail_msg("the client was killed (a hang or a crash)");
                break;
        case NS_CONNECTED:
                fail_msg("the client connected through an unsafe directory");
                break;
        }
        return -WEXITSTATUS(st);
}

static void test_dir_symlink(void **state)
{
        (void)state;
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_SYMLINK, .server_uid = NOBODY }),
                         -EPERM);
        assert_int_equal(dir_case(&(DirCase){ .xdg = true, .kind = DIR_SYMLINK,
                                              .server_uid = NOBODY }), -EPERM);
}

static void test_dir_other_owner(void **state)
{
        (void)state;
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_OTHER_OWNER, .server_uid = OTHER_UID }),
                         -EPERM);
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_OTHER_OWNER, .server_uid = OTHER_UID,
                                              .by_name = true }), -EPERM);
        assert_int_equal(dir_case(&(DirCase){ .xdg = true, .kind = DIR_OTHER_OWNER,
                                              .server_uid = OTHER_UID }), -EPERM);
}

static void test_dir_writable(void **state)
{
        (void)state;
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_WRITABLE, .server_uid = NOBODY }),
                         -EPERM);
        assert_int_equal(dir_case(&(DirCase){ .xdg = true, .kind = DIR_GROUP_WRITABLE,
                                              .server_uid = NOBODY }), -EPERM);
}

/* A safe directory, but the server that answers runs as another user. */
static void test_server_of_another_user(void **state)
{
        (void)state;
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_GOOD, .server_uid = OTHER_UID }),
                         -EPERM);
        assert_int_equal(dir_case(&(DirCase){ .xdg = true, .kind = DIR_GOOD,
                                              .server_uid = OTHER_UID, .by_name = true }),
                         -EPERM);
}

/* What must still work: our own or root's server, and a directory we named. */
static void test_dir_accepted(void **state)
{
        (void)state;
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_GOOD, .server_uid = NOBODY }), 0);
        assert_int_equal(dir_case(&(DirCase){ .xdg = true, .kind = DIR_GOOD, .server_uid = 0 }),
                         0);
        assert_int_equal(dir_case(&(DirCase){ .kind = DIR_WRITABLE, .server_uid = OTHER_UID,
                                              .env = true }), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_page_empty),
                cmocka_unit_test(test_page_unsealed),
                cmocka_unit_test(test_page_plain_file),
                cmocka_unit_test(test_page_inconsistent),
                cmocka_unit_test(test_page_good),
                cmocka_unit_test(test_welcome_fields),
                cmocka_unit_test(test_silent_server),
                cmocka_unit_test(test_never_accepts),
                cmocka_unit_test(test_bad_frames),
                cmocka_unit_test(test_stray_answer),
                cmocka_unit_test(test_unknown_frames_skipped),
                cmocka_unit_test(test_big_msg_never_completes),
                cmocka_unit_test(test_dir_symlink),
                cmocka_unit_test(test_dir_other_owner),
                cmocka_unit_test(test_dir_writable),
                cmocka_unit_test(test_server_of_another_user),
                cmocka_unit_test(test_dir_accepted),
        };

        signal(SIGPIPE, SIG_IGN);
        alarm(120);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
