/* SPDX-License-Identifier: MPL-2.0 */
/*
 * runcmd.c - run a shell command on a request's data and collect what it
 * prints (kbus-listen --replier --exec).
 *
 * The command runs as `/bin/sh -c CMD`.  Its stdin is a memfd holding the
 * request's data, so however much it reads or prints there is no pipe to
 * deadlock on; its stdout is a pipe read to EOF; stderr is kbus-listen's.
 * The environment also carries KBUS_MSG_NAME, KBUS_MSG_ID ("N:S") and
 * KBUS_MSG_FROM (the requester's ksock id).  kbus-listen blocks SIGINT,
 * SIGTERM and SIGHUP for its signalfd; the child gets them unblocked.
 * Output past RUNCMD_OUTPUT_MAX is read and thrown away: a reply that size
 * fails with EMSGSIZE anyway.
 */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* More than any bus accepts (16 MiB at most), so a reply this big fails. */
#define RUNCMD_OUTPUT_MAX ((size_t)64 << 20)
#define RUNCMD_CHUNK 65536

/* A memfd holding @len bytes at @p, positioned at the start. */
static int runcmd_stdin(const void *p, size_t len)
{
        int fd = memfd_create("kbus-request", MFD_CLOEXEC);

        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t w = write(fd, (const char *)p + done, len - done);
                if (w < 0) {
                        int err = errno;
                        close(fd);
                        return -err;
                }
                done += (size_t)w;
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int err = errno;
                close(fd);
                return -err;
        }
        return fd;
}

static void runcmd_child_env(const kbus_message_t *req)
{
        char buf[32];

        setenv("KBUS_MSG_NAME", kbus_msg_name_ptr(req), 1);
        snprintf(buf, sizeof(buf), "%u:%u", req->id.network_id, req->id.serial_num);
        setenv("KBUS_MSG_ID", buf, 1);
        snprintf(buf, sizeof(buf), "%u", req->from);
        setenv("KBUS_MSG_FROM", buf, 1);
}

/* In the child: never returns. */
static void runcmd_child(const char *cmd, const kbus_message_t *req, int in, int out)
{
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
                _exit(127);
        runcmd_child_env(req);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
}

/* Reads @fd to EOF into @ret, keeping at most RUNCMD_OUTPUT_MAX + 1 bytes. */
static int runcmd_collect(int fd, RunOutput *ret)
{
        unsigned char discard[4096];
        size_t cap = 0;

        for (;;) {
                bool full = ret->len > RUNCMD_OUTPUT_MAX;
                if (!full && ret->len == cap) {
                        size_t ncap = cap ? cap * 2 : RUNCMD_CHUNK;
                        ncap = ncap > RUNCMD_OUTPUT_MAX + 1 ? RUNCMD_OUTPUT_MAX + 1 : ncap;
                        unsigned char *p = realloc(ret->data, ncap);
                        if (!p)
                                return -ENOMEM;
                        ret->data = p;
                        cap = ncap;
                }
                ssize_t n = full ? read(fd, discard, sizeof(discard))
                                 : read(fd, ret->data + ret->len, cap - ret->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                if (!full)
                        ret->len += (size_t)n;
        }
}

/**
 * runcmd_run() - run @cmd with @request's data on stdin; collect its stdout.
 * @cmd:     a shell command
 * @request: the request (its name, id and sender go into the environment)
 * @ret:     what it printed and how it ended; deinit with runcmd_output_deinit()
 *           whatever the result
 *
 * Return: 0 (the command ran; see @ret->status), or a negative errno when it
 * could not be started or read.
 */
int runcmd_run(const char *cmd, const kbus_message_t *request, RunOutput *ret)
{
        int pipefd[2];
        int in = runcmd_stdin(kbus_msg_data_ptr(request), request->data_len);

        *ret = (RunOutput)RUN_OUTPUT_INIT;
        if (in < 0)
                return in;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                int err = errno;
                close(in);
                return -err;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
                runcmd_child(cmd, request, in, pipefd[1]);
        int err = pid < 0 ? -errno : 0;
        close(in);
        close(pipefd[1]);
        if (err == 0)
                err = runcmd_collect(pipefd[0], ret);
        close(pipefd[0]);
        while (pid > 0 && waitpid(pid, &ret->status, 0) < 0 && errno == EINTR)
                ;
        return err;
}

/**
 * runcmd_describe() - "exit status 3" or "signal 9", for messages.
 * @status: as waitpid() reports it
 * @out:    where to write
 * @outlen: size of @out
 */
void runcmd_describe(int status, char *out, size_t outlen)
{
        if (WIFEXITED(status))
                snprintf(out, outlen, "exit status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(out, outlen, "killed by signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
        else
                snprintf(out, outlen, "status 0x%x", (unsigned)status);
}

/**
 * runcmd_output_deinit() - free what runcmd_run() collected; idempotent.
 * @out: the output
 */
void runcmd_output_deinit(RunOutput *out)
{
        free(out->data);
        *out = (RunOutput)RUN_OUTPUT_INIT;
}
