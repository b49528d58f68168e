/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-buses.c - buses and the kbusd process itself.
 *
 * Buses are goldfish bowls (semantics §2): nothing sent on one reaches another,
 * and each numbers its own ksocks and serials.  A bus is named by number,
 * by "/dev/kbus<N>" or by socket path, and a client may ask for a new one.
 * kbusd's life (semantics §16, §17): it replaces a stale socket left by a dead
 * kbusd, refuses to start over a live one, shuts down cleanly on SIGTERM and
 * SIGINT, and has a small, strict command line.  Where the socket directory
 * comes from (semantics §2) is checked by running kbusd without --socket-dir.
 *
 * Each test starts the kbusd(s) it needs; command-line tests run kbusd
 * directly and always give it a temporary socket directory, so that a kbusd
 * that wrongly starts can do no harm (it is killed after a time limit).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"
#include "kbus/version.h"

#define EXIT_LIMIT_MS 10000

/* ---- helpers --------------------------------------------------------------- */

/* Two ksocks exchange a message on @bus: proof that it is served. */
static void check_bus_works(uint32_t bus)
{
        kbus_ksock_t tx = kt_open(bus, O_RDWR), rx = kt_open(bus, O_RDWR);

        assert_int_equal(kbus_ksock_bind(rx, "$.Works", 0), 0);
        kbus_msg_id_t id = kt_send(tx, "$.Works", NULL, 0);
        kt_expect(rx, "$.Works", id, kt_id(tx), NULL, KT_ANY);
        kt_expect_quiet(rx, 0);
        assert_int_equal(kbus_ksock_close(tx), 0);
        assert_int_equal(kbus_ksock_close(rx), 0);
}

static void sock_path(char *out, size_t len, const char *dir, unsigned bus)
{
        snprintf(out, len, "%s/kbus%u", dir, bus);
}

static bool is_socket(const char *dir, unsigned bus)
{
        char path[PATH_MAX + 16];
        struct stat st;

        sock_path(path, sizeof(path), dir, bus);
        return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool exists(const char *dir, unsigned bus)
{
        char path[PATH_MAX + 16];

        sock_path(path, sizeof(path), dir, bus);
        return access(path, F_OK) == 0;
}

/*
 * Starts kbusd with @args, stdout and stderr on pipes.  @env_dir set:
 * $KBUS_SOCKET_DIR for it; NULL: none.
 */
static pid_t spawn(const char *const *args, const char *env_dir, int *out_fd, int *err_fd)
{
        int out[2], err[2];

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                const char *argv[16] = { kbusd_path() };
                int n = 1;
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                if (env_dir)
                        setenv("KBUS_SOCKET_DIR", env_dir, 1);
                else
                        unsetenv("KBUS_SOCKET_DIR");
                for (int i = 0; args[i] && n < 15; i++)
                        argv[n++] = args[i];
                argv[n] = NULL;
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        *out_fd = out[0];
        *err_fd = err[0];
        return pid;
}

/* Reads one line of @fd (without its newline) within @timeout_ms. */
static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
        size_t len = 0;
        long deadline = harness_now_ms() + timeout_ms;

        while (len + 1 < size) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                long left = deadline - harness_now_ms();
                if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                        return -ETIMEDOUT;
                if (read(fd, buf + len, 1) != 1)
                        return -EPIPE;
                if (buf[len] == '\n')
                        break;
                len++;
        }
        buf[len] = '\0';
        return 0;
}

typedef struct Run {
        int status; /* wait status, or -ETIMEDOUT */
        char out[8192], err[8192];
        size_t out_len, err_len;
} Run;

/* Runs kbusd with @args to its end (killed after EXIT_LIMIT_MS), capturing output. */
static void run_kbusd(const char *const *args, const char *env_dir, Run *r)
{
        int fds[2];
        pid_t pid = spawn(args, env_dir, &fds[0], &fds[1]);
        char *bufs[2] = { r->out, r->err };
        size_t *lens[2] = { &r->out_len, &r->err_len };
        long deadline = harness_now_ms() + EXIT_LIMIT_MS;
        int open_fds = 2;

        r->out_len = r->err_len = 0;
        while (open_fds > 0 && harness_now_ms() < deadline) {
                struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN },
                                       { .fd = fds[1], .events = POLLIN } };
                if (poll(p, 2, (int)(deadline - harness_now_ms())) <= 0)
                        break;
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
                                continue;
                        size_t room = sizeof(r->out) - 1 - *lens[i];
                        char scratch[256];
                        ssize_t n = room ? read(fds[i], bufs[i] + *lens[i], room)
                                         : read(fds[i], scratch, sizeof(scratch));
                        if (n <= 0) {
                                close(fds[i]);
                                fds[i] = -1;
                                open_fds--;
                        } else if (room) {
                                *lens[i] += (size_t)n;
                        }
                }
        }
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        r->out[r->out_len] = '\0';
        r->err[r->err_len] = '\0';
        r->status = harness_wait_exit(pid, open_fds ? 0 : EXIT_LIMIT_MS);
        if (r->status == -ETIMEDOUT) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
}

static void assert_exit(const Run *r, int code)
{
        assert_true(r->status >= 0);
        assert_true(WIFEXITED(r->status));
        assert_int_equal(WEXITSTATUS(r->status), code);
}

static size_t count_char(const char *s, char c)
{
        size_t n = 0;

        for (; *s; s++)
                n += *s == c;
        return n;
}

/*
 * Removes a socket directory kbusd has left: only its lock files may remain
 * (kbusd never unlinks those; sockets it removed itself).
 */
static void remove_sockdir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;

        assert_non_null(d);
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name);
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (len < 5 || strcmp(e->d_name + len - 5, ".lock") != 0)
                        fail_msg("%s/%s left behind", dir, e->d_name);
                assert_int_equal(unlinkat(dirfd(d), e->d_name, 0), 0);
        }
        closedir(d);
        assert_int_equal(rmdir(dir), 0);
}

static void make_tmpdir(char *buf, size_t len)
{
        snprintf(buf, len, "/tmp/kbus-buses.XXXXXX");
        assert_non_null(mkdtemp(buf));
}

/* ---- buses (semantics §2) ------------------------------------------------------- */

static void test_three_buses_apart(void **state)
{
        (void)state;
        static const char *const args[] = { "--buses", "3", NULL };
        Kbusd k;
        kbus_ksock_t l[3], all[3], tx[3];
        uint32_t v;

        assert_int_equal(kbusd_start(&k, args), 0);
        for (uint32_t b = 0; b < 3; b++) {
                l[b] = kt_open(b, O_RDWR);
                all[b] = kt_open(b, O_RDWR);
                tx[b] = kt_open(b, O_RDWR);
                /* ksock ids are per bus, from 1 */
                assert_int_equal(kt_id(l[b]), 1);
                assert_int_equal(kt_id(all[b]), 2);
                assert_int_equal(kt_id(tx[b]), 3);
                assert_int_equal(kbus_ksock_bind(l[b], "$.Iso.X", 0), 0);
                assert_int_equal(kbus_ksock_bind(all[b], "$.*", 0), 0);
        }
        assert_int_equal(kbus_ksock_open(3, O_RDWR), -ENOENT);

        /* Serials are per bus, from 1. */
        assert_int_equal(kt_send(tx[1], "$.Iso.X", NULL, 0).serial_num, 1);
        for (uint32_t b = 0; b < 3; b += 2) {
                kt_expect_quiet(l[b], 0);
                kt_expect_quiet(all[b], 0);
        }
        assert_int_equal(kt_send(tx[2], "$.Iso.X", NULL, 0).serial_num, 1);
        assert_int_equal(kt_send(tx[2], "$.Iso.X", NULL, 0).serial_num, 2);
        assert_int_equal(kt_send(tx[0], "$.Iso.X", NULL, 0).serial_num, 1);
        assert_int_equal(kt_send(tx[1], "$.Iso.X", NULL, 0).serial_num, 2);
        for (uint32_t b = 0; b < 3; b++) {
                uint32_t n = b == 0 ? 1 : 2;
                kbus_ksock_t both[2] = { l[b], all[b] };
                for (int i = 0; i < 2; i++) {
                        assert_int_equal(kt_num_messages(both[i]), n);
                        for (uint32_t s = 1; s <= n; s++)
                                kt_expect(both[i], "$.Iso.X", KT_ID(s), 3, NULL, KT_ANY);
                        kt_expect_quiet(both[i], 0);
                }
        }

        /* A replier on bus 1 is nobody's replier on buses 0 and 2. */
        kbus_message_t *req;
        assert_int_equal(kbus_ksock_bind(l[1], "$.Iso.Ask", 1), 0);
        assert_int_equal(kbus_msg_create_request(&req, "$.Iso.Ask", 9, NULL, 0, 0), 0);
        for (uint32_t b = 0; b < 3; b++) {
                v = 0xdeadbeef;
                assert_int_equal(kbus_ksock_find_replier(tx[b], "$.Iso.Ask", &v), 0);
                assert_int_equal(v, b == 1 ? 1 : 0);
                assert_int_equal(kbus_ksock_send_msg(tx[b], req, NULL),
                                 b == 1 ? 0 : -EADDRNOTAVAIL);
        }
        kbus_msg_delete(&req);

        /* The maximum message size is a per-bus setting. */
        v = 200;
        assert_int_equal(kbus_ksock_max_message_size(tx[1], &v), 0);
        for (uint32_t b = 0; b < 3; b++) {
                v = 0;
                assert_int_equal(kbus_ksock_max_message_size(l[b], &v), 0);
                assert_int_equal(v, b == 1 ? 200 : 64 * 1024);
        }
        for (int b = 0; b < 3; b++) {
                assert_int_equal(kbus_ksock_close(l[b]), 0);
                assert_int_equal(kbus_ksock_close(all[b]), 0);
                assert_int_equal(kbus_ksock_close(tx[b]), 0);
        }
        assert_int_equal(kbusd_stop(&k), 0);
}

static void test_open_by_name(void **state)
{
        (void)state;
        static const char *const args[] = { "--buses", "3", NULL };
        char path[PATH_MAX + 16];
        Kbusd k;

        assert_int_equal(kbusd_start(&k, args), 0);
        kbus_ksock_t l0 = kt_open_rw();
        kbus_ksock_t dev = kbus_ksock_open_by_name("/dev/kbus1", O_RDWR);
        assert_true(dev >= 0);
        sock_path(path, sizeof(path), k.dir, 1);
        kbus_ksock_t bypath = kbus_ksock_open_by_name(path, O_RDWR);
        assert_true(bypath >= 0);
        kbus_ksock_t bynum = kt_open(1, O_RDWR);
        /* All three are on bus 1: its ksocks 1, 2, 3. */
        assert_int_equal(kt_id(l0), 1);
        assert_int_equal(kt_id(dev), 1);
        assert_int_equal(kt_id(bypath), 2);
        assert_int_equal(kt_id(bynum), 3);
        assert_int_equal(kbus_ksock_bind(l0, "$.Name.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(dev, "$.Name.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(bypath, "$.Name.X", 0), 0);
        kbus_msg_id_t id = kt_send(bynum, "$.Name.X", NULL, 0);
        assert_int_equal(id.serial_num, 1);
        kt_expect(dev, "$.Name.X", KT_ID(1), 3, NULL, KT_ANY);
        kt_expect(bypath, "$.Name.X", KT_ID(1), 3, NULL, KT_ANY);
        kt_expect_quiet(l0, 0);

        kbus_ksock_t dev2 = kbus_ksock_open_by_name("/dev/kbus2", O_RDWR);
        assert_true(dev2 >= 0);
        assert_int_equal(kt_id(dev2), 1);
        sock_path(path, sizeof(path), k.dir, 2);
        kbus_ksock_t path2 = kbus_ksock_open_by_name(path, O_RDWR);
        assert_true(path2 >= 0);
        assert_int_equal(kt_id(path2), 2);
        assert_int_equal(kbus_ksock_bind(dev2, "$.Name.X", 0), 0);
        assert_int_equal(kt_send(path2, "$.Name.X", NULL, 0).serial_num, 1);
        kt_expect(dev2, "$.Name.X", KT_ID(1), 2, NULL, KT_ANY);
        kt_expect_quiet(dev, 0);

        assert_int_equal(kbus_ksock_open_by_name("/dev/kbus9", O_RDWR), -ENOENT);
        sock_path(path, sizeof(path), k.dir, 9);
        assert_int_equal(kbus_ksock_open_by_name(path, O_RDWR), -ENOENT);
        kbus_ksock_t all[] = { l0, dev, bypath, bynum, dev2, path2 };
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                assert_int_equal(kbus_ksock_close(all[i]), 0);
        assert_int_equal(kbusd_stop(&k), 0);
}

static void test_new_bus(void **state)
{
        (void)state;
        static const char *const args[] = { "--buses", "2", NULL };
        uint32_t bus = 0xdeadbeef;
        Kbusd k;

        assert_int_equal(kbusd_start(&k, args), 0);
        kbus_ksock_t ks = kt_open_rw();
        assert_int_equal(kbus_ksock_new_device(ks, &bus), 0);
        assert_int_equal(bus, 2);
        assert_true(is_socket(k.dir, 2));
        kbus_ksock_t first = kt_open(2, O_RDWR);
        assert_int_equal(kt_id(first), 1);
        check_bus_works(2);
        assert_int_equal(kbus_ksock_new_device(first, &bus), 0); /* from any bus */
        assert_int_equal(bus, 3);
        check_bus_works(3);
        assert_int_equal(kbus_ksock_close(ks), 0);
        assert_int_equal(kbus_ksock_close(first), 0);

        /* SIGTERM removes the sockets of the new buses too: only lock files stay. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", k.dir);
        int status = kbusd_kill(&k, SIGTERM);
        assert_true(status >= 0 && WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        for (unsigned b = 0; b < 4; b++)
                assert_false(exists(dir, b));
        remove_sockdir(dir);
}

/* ---- kbusd's life (semantics §16, §17) ------------------------------------------ */

static void test_stale_socket(void **state)
{
        (void)state;
        Kbusd k1, k2;
        char dir[PATH_MAX];

        assert_int_equal(kbusd_start(&k1, NULL), 0);
        check_bus_works(0);
        snprintf(dir, sizeof(dir), "%s", k1.dir);
        int status = kbusd_kill(&k1, SIGKILL);
        assert_true(status >= 0 && WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        assert_true(is_socket(dir, 0)); /* left behind */
        assert_int_equal(kbus_ksock_open(0, O_RDWR), -ENOENT);
        assert_int_equal(kbusd_start_in(&k2, dir, NULL), 0);
        assert_true(is_socket(dir, 0));
        check_bus_works(0);
        assert_int_equal(kbusd_stop(&k2), 0);
}

static void test_second_kbusd_refuses(void **state)
{
        (void)state;
        Kbusd k;
        Run r;

        assert_int_equal(kbusd_start(&k, NULL), 0);
        kbus_ksock_t rx = kt_open_rw(), tx = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(rx, "$.Still.Here", 0), 0);
        const char *const args[] = { "--socket-dir", k.dir, NULL };
        run_kbusd(args, NULL, &r);
        assert_exit(&r, 1);
        assert_true(r.err_len > 0); /* it says why */
        assert_null(strstr(r.out, "listening on"));
        /* The first kbusd still serves, on the same socket, the same clients. */
        assert_true(is_socket(k.dir, 0));
        kbus_msg_id_t id = kt_send(tx, "$.Still.Here", NULL, 0);
        kt_expect(rx, "$.Still.Here", id, kt_id(tx), NULL, KT_ANY);
        check_bus_works(0);
        assert_int_equal(kbus_ksock_close(rx), 0);
        assert_int_equal(kbus_ksock_close(tx), 0);
        assert_int_equal(kbusd_stop(&k), 0);
}

static void test_sigterm(void **state)
{
        (void)state;
        static const char *const args[] = { "--buses", "2", NULL };
        Kbusd k;
        uint32_t n;

        assert_int_equal(kbusd_start(&k, args), 0);
        kbus_ksock_t a = kt_open_rw(), b = kt_open(1, O_RDWR);
        assert_int_equal(kbus_ksock_bind(a, "$.Busy", 0), 0);
        kt_send(b, "$.Busy", NULL, 0);
        /* Clients still connected: exit 0 and both sockets removed all the same. */
        assert_int_equal(kbusd_stop(&k), 0);
        assert_int_equal(kbus_ksock_num_messages(a, &n), -ECONNRESET);
        assert_int_equal(kbus_ksock_num_messages(b, &n), -ECONNRESET);
        assert_int_equal(kbus_ksock_close(a), 0);
        assert_int_equal(kbus_ksock_close(b), 0);
}

static void test_sigint(void **state)
{
        (void)state;
        static const char *const args[] = { "--buses", "2", NULL };
        char dir[PATH_MAX];
        Kbusd k;

        assert_int_equal(kbusd_start(&k, args), 0);
        kbus_ksock_t a = kt_open(1, O_RDWR);
        snprintf(dir, sizeof(dir), "%s", k.dir);
        int status = kbusd_kill(&k, SIGINT);
        assert_true(status >= 0 && WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_false(exists(dir, 0));
        assert_false(exists(dir, 1));
        remove_sockdir(dir);
        assert_int_equal(kbus_ksock_close(a), 0);
}

/* ---- command line (semantics §17) ----------------------------------------------- */

static void test_help_version(void **state)
{
        (void)state;
        static const char *const help[] = { "--help", NULL };
        static const char *const version[] = { "--version", NULL };
        Run r;

        run_kbusd(help, NULL, &r);
        assert_exit(&r, 0);
        assert_int_equal(r.err_len, 0);
        assert_non_null(strstr(r.out, "--socket-dir"));
        assert_non_null(strstr(r.out, "--buses"));
        assert_non_null(strstr(r.out, "--max-message-size"));
        assert_non_null(strstr(r.out, "--max-messages"));
        assert_non_null(strstr(r.out, "--verbose"));
        run_kbusd(version, NULL, &r);
        assert_exit(&r, 0);
        assert_int_equal(r.err_len, 0);
        assert_non_null(strstr(r.out, KBUS_VERSION));
        assert_int_equal(count_char(r.out, '\n'), 1);
}

static void test_bad_command_lines(void **state)
{
        (void)state;
        char dir[PATH_MAX];
        const char *const bad[][4] = {
                { "--bogus", NULL },      { "-x", NULL },
                { "--buses", "0", NULL }, { "--buses", "257", NULL },
                { "--buses", "abc", NULL }, { "--buses", "3x", NULL },
                { "--buses", NULL },      { "surplus-argument", NULL },
        };

        make_tmpdir(dir, sizeof(dir));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *args[8] = { "--socket-dir", dir };
                int n = 2;
                Run r;
                for (int j = 0; bad[i][j]; j++)
                        args[n++] = bad[i][j];
                args[n] = NULL;
                run_kbusd(args, NULL, &r);
                print_message("kbusd %s %s -> stderr: %s", bad[i][0], bad[i][1] ? bad[i][1] : "",
                              r.err);
                assert_exit(&r, 2);
                assert_int_equal(r.out_len, 0);
                /* exactly one line */
                assert_true(r.err_len > 1);
                assert_int_equal(count_char(r.err, '\n'), 1);
                assert_int_equal(r.err[r.err_len - 1], '\n');
                assert_false(exists(dir, 0));
        }
        /* --buses 256 is the most allowed (and is accepted: kbusd starts). */
        static const char *const most[] = { "--buses", "256", NULL };
        Kbusd k;
        assert_int_equal(kbusd_start(&k, most), 0);
        assert_true(is_socket(k.dir, 255));
        check_bus_works(255);
        assert_int_equal(kbusd_stop(&k), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* Waits for kbusd's "bus 0 listening on <path>" line and checks the path. */
static void expect_listening(int out_fd, const char *path)
{
        char line[PATH_MAX + 64];

        assert_int_equal(read_line(out_fd, line, sizeof(line), EXIT_LIMIT_MS), 0);
        assert_non_null(strstr(line, "listening on"));
        const char *p = strstr(line, path);
        assert_non_null(p);
        assert_string_equal(p, path);
}

static void stop_spawned(pid_t pid)
{
        assert_int_equal(kill(pid, SIGTERM), 0);
        int status = harness_wait_exit(pid, EXIT_LIMIT_MS);
        assert_true(status >= 0 && WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_socket_dir_env(void **state)
{
        (void)state;
        static const char *const none[] = { NULL };
        char base[PATH_MAX], env_dir[PATH_MAX + 8], opt_dir[PATH_MAX + 8];
        char path[PATH_MAX + 32];
        int out, err;

        make_tmpdir(base, sizeof(base));
        snprintf(env_dir, sizeof(env_dir), "%s/env", base); /* kbusd creates it */
        snprintf(opt_dir, sizeof(opt_dir), "%s/opt", base);

        /* No --socket-dir: $KBUS_SOCKET_DIR. */
        pid_t pid = spawn(none, env_dir, &out, &err);
        sock_path(path, sizeof(path), env_dir, 0);
        expect_listening(out, path);
        assert_true(is_socket(env_dir, 0));
        setenv("KBUS_SOCKET_DIR", env_dir, 1);
        check_bus_works(0);
        stop_spawned(pid);
        close(out);
        close(err);
        assert_false(exists(env_dir, 0));
        assert_int_equal(kbus_ksock_open(0, O_RDWR), -ENOENT);

        /* --socket-dir beats $KBUS_SOCKET_DIR. */
        const char *const args[] = { "--socket-dir", opt_dir, NULL };
        pid = spawn(args, env_dir, &out, &err);
        sock_path(path, sizeof(path), opt_dir, 0);
        expect_listening(out, path);
        assert_true(is_socket(opt_dir, 0));
        assert_false(exists(env_dir, 0));
        setenv("KBUS_SOCKET_DIR", opt_dir, 1);
        check_bus_works(0);
        stop_spawned(pid);
        close(out);
        close(err);
        assert_false(exists(opt_dir, 0));
        remove_sockdir(env_dir);
        remove_sockdir(opt_dir);
        assert_int_equal(rmdir(base), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_three_buses_apart),
                cmocka_unit_test(test_open_by_name),
                cmocka_unit_test(test_new_bus),
                cmocka_unit_test(test_stale_socket),
                cmocka_unit_test(test_second_kbusd_refuses),
                cmocka_unit_test(test_sigterm),
                cmocka_unit_test(test_sigint),
                cmocka_unit_test(test_help_version),
                cmocka_unit_test(test_bad_command_lines),
                cmocka_unit_test(test_socket_dir_env),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
