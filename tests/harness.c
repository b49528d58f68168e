/* SPDX-License-Identifier: MPL-2.0 */
/*
 * harness.c - start and stop a real kbusd for integration tests.
 *
 * kbusd runs in a fresh mkdtemp() socket directory, which this process also
 * puts in $KBUS_SOCKET_DIR so that kbus_ksock_open(N) finds it.  Readiness
 * is kbusd's own "bus N listening on ..." lines on stdout, read with a time
 * limit, never a sleep.  kbusd gets PR_SET_PDEATHSIG, so a crashed test
 * never leaves one behind.  The binary is $KBUSD (set by meson), run under
 * $KBUSD_WRAPPER if that is set (CI's valgrind run).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_READY_MS 30000 /* valgrind starts slowly */

const char *kbusd_path(void)
{
        const char *p = getenv("KBUSD");

        return p && *p ? p : "kbusd";
}

/**
 * harness_now_ms() - the monotonic clock, for time limits.
 *
 * Return: milliseconds since an arbitrary point.
 */
long harness_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Counts "listening on" lines until @want have been seen. */
static int harness_wait_ready(Kbusd *k, unsigned want)
{
        char buf[4096];
        size_t len = 0;
        unsigned seen = 0;
        long deadline = harness_now_ms() + HARNESS_READY_MS;

        while (seen < want) {
                struct pollfd p = { .fd = k->out_fd, .events = POLLIN };
                long left = deadline - harness_now_ms();
                if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                        return -ETIMEDOUT;
                ssize_t n = read(k->out_fd, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        return -EPIPE; /* kbusd exited */
                len += (size_t)n;
                buf[len] = '\0';
                char *nl;
                while ((nl = strchr(buf, '\n'))) {
                        if (strstr(buf, "listening on") && strstr(buf, "listening on") < nl)
                                seen++;
                        len -= (size_t)(nl + 1 - buf);
                        memmove(buf, nl + 1, len + 1);
                }
        }
        return 0;
}

static unsigned harness_count_buses(const char *const *args)
{
        for (int i = 0; args && args[i]; i++)
                if (strcmp(args[i], "--buses") == 0 && args[i + 1])
                        return (unsigned)atoi(args[i + 1]);
        return 1;
}

/* $KBUSD_WRAPPER (e.g. "valgrind --error-exitcode=99") runs kbusd under a tool. */
static int harness_wrapper_args(const char **argv, int max)
{
        static char words[1024];
        const char *w = getenv("KBUSD_WRAPPER");
        int n = 0;

        if (!w || !*w)
                return 0;
        snprintf(words, sizeof(words), "%s", w);
        for (char *save, *t = strtok_r(words, " ", &save); t && n < max;
             t = strtok_r(NULL, " ", &save))
                argv[n++] = t;
        return n;
}

static void harness_exec(const Kbusd *k, int out[2], const char *const *args)
{
        const char *argv[64];
        int n = harness_wrapper_args(argv, 24);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (k->keep_log) {
                int log = open(k->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (log >= 0)
                        dup2(log, STDERR_FILENO);
        }
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        argv[n++] = kbusd_path();
        argv[n++] = "--socket-dir";
        argv[n++] = k->dir;
        for (int i = 0; args && args[i] && n < 63; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        execvp(argv[0], (char *const *)argv);
        _exit(127);
}

static int harness_start(Kbusd *k, const char *dir, const char *const *args, bool keep_log)
{
        int out[2];

        k->keep_log = keep_log;
        snprintf(k->dir, sizeof(k->dir), "%s", dir);
        snprintf(k->log_path, sizeof(k->log_path), "%s.log", dir);
        k->buses = harness_count_buses(args);
        setenv("KBUS_SOCKET_DIR", k->dir, 1);
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        fflush(NULL);
        k->pid = fork();
        if (k->pid < 0)
                return -errno;
        if (k->pid == 0)
                harness_exec(k, out, args);
        close(out[1]);
        k->out_fd = out[0];
        int r = harness_wait_ready(k, k->buses);
        if (r < 0)
                kbusd_kill(k, SIGKILL);
        return r;
}

/**
 * kbusd_start_in() - start kbusd with socket directory @dir.
 * @k:    filled in
 * @dir:  the socket directory (may not exist yet)
 * @args: extra kbusd arguments, NULL-terminated, or NULL
 *
 * Return: 0 once every bus listens, or a negative errno.
 */
int kbusd_start_in(Kbusd *k, const char *dir, const char *const *args)
{
        return harness_start(k, dir, args, false);
}

static int harness_start_temp(Kbusd *k, const char *const *args, bool keep_log)
{
        char tmpl[] = "/tmp/kbus-test.XXXXXX";

        if (!mkdtemp(tmpl))
                return -errno;
        return harness_start(k, tmpl, args, keep_log);
}

/**
 * kbusd_start() - start kbusd in a new temporary socket directory.
 * @k:    filled in
 * @args: extra kbusd arguments, NULL-terminated, or NULL
 *
 * Return: 0 once every bus listens, or a negative errno.
 */
int kbusd_start(Kbusd *k, const char *const *args)
{
        return harness_start_temp(k, args, false);
}

/**
 * kbusd_start_logged() - kbusd_start(), keeping what kbusd logs in a file
 * (kbusd_log() reads it; kbusd_stop() removes it).
 * @k:    filled in
 * @args: extra kbusd arguments, NULL-terminated, or NULL
 *
 * Return: 0 once every bus listens, or a negative errno.
 */
int kbusd_start_logged(Kbusd *k, const char *const *args)
{
        return harness_start_temp(k, args, true);
}

/**
 * harness_wait_exit() - wait for @pid to exit, at most @timeout_ms.
 * @pid:        the child
 * @timeout_ms: the limit
 *
 * Return: its wait status, or -ETIMEDOUT.
 */
int harness_wait_exit(pid_t pid, int timeout_ms)
{
        long deadline = harness_now_ms() + timeout_ms;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0)
                        return -errno;
                if (harness_now_ms() > deadline)
                        return -ETIMEDOUT;
                struct timespec ts = { 0, 2 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

static void harness_rmdir(const char *dir)
{
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "harness: could not remove %s\n", dir);
}

/**
 * kbusd_kill() - send @sig and reap kbusd (no checks; for failure paths).
 * @k:   the kbusd
 * @sig: the signal
 *
 * Return: its wait status, or a negative errno.
 */
int kbusd_kill(Kbusd *k, int sig)
{
        if (k->pid <= 0)
                return -ESRCH;
        kill(k->pid, sig);
        int status = harness_wait_exit(k->pid, 10000);
        if (status == -ETIMEDOUT) {
                kill(k->pid, SIGKILL);
                status = harness_wait_exit(k->pid, 10000);
        }
        close(k->out_fd);
        k->pid = 0;
        return status;
}

/**
 * kbusd_stop() - SIGTERM kbusd and check it shut down cleanly (exit 0,
 * sockets removed), then remove the directory.
 * @k: the kbusd
 *
 * Return: 0 if it exited 0 and removed every socket, else -EIO.
 */
int kbusd_stop(Kbusd *k)
{
        int status = kbusd_kill(k, SIGTERM);
        int clean = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;

        for (unsigned i = 0; i < k->buses; i++) {
                char path[PATH_MAX + 16];
                snprintf(path, sizeof(path), "%s/kbus%u", k->dir, i);
                if (access(path, F_OK) == 0)
                        clean = 0;
        }
        harness_rmdir(k->dir);
        if (k->keep_log)
                unlink(k->log_path);
        return clean ? 0 : -EIO;
}

/**
 * kbusd_log() - what kbusd has logged so far (started with keep_log set).
 * @k: the kbusd
 *
 * Return: a malloc()ed string (empty if nothing), or NULL without memory.
 */
char *kbusd_log(const Kbusd *k)
{
        FILE *f = fopen(k->log_path, "re");
        char *text = calloc(1, 1 << 20);

        if (f && text)
                text[fread(text, 1, (1 << 20) - 1, f)] = '\0';
        if (f)
                fclose(f);
        return text;
}

/**
 * harness_rss_kb() - the resident set size of a process.
 * @pid: the process
 *
 * Return: VmRSS in KiB, or -1.
 */
long harness_rss_kb(pid_t pid)
{
        char path[64], line[256];
        long kb = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}
