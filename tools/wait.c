/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wait.c - waiting for a ksock with a deadline, and stopping cleanly on
 * SIGINT, SIGTERM and SIGHUP.
 *
 * Deadlines are CLOCK_MONOTONIC nanoseconds.  The signals are blocked and
 * read through a signalfd polled beside the ksock, so a signal can neither
 * be lost between a check and a poll() nor interrupt libkbus mid-call.
 */
#include "wait.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

/**
 * tool_now_ns() - the monotonic clock.
 *
 * Return: nanoseconds.
 */
uint64_t tool_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/**
 * tool_deadline() - the monotonic time @seconds from now.
 * @seconds: a --timeout value
 * @given:   whether --timeout was given at all
 *
 * Return: the deadline, or TOOL_NO_DEADLINE when @given is false.
 */
uint64_t tool_deadline(double seconds, bool given)
{
        if (!given)
                return TOOL_NO_DEADLINE;
        return tool_now_ns() + (uint64_t)(seconds * 1e9);
}

/**
 * tool_signals_block() - block SIGINT, SIGTERM and SIGHUP and return a
 * signalfd that reports them, so that tool_wait() can stop cleanly.
 *
 * Children must unblock them before exec (see runcmd.c).
 *
 * Return: the signalfd, or a negative errno.
 */
int tool_signals_block(void)
{
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return -errno;
        int fd = signalfd(-1, &set, SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int tool_poll_timeout(uint64_t deadline)
{
        if (deadline == TOOL_NO_DEADLINE)
                return -1;
        uint64_t now = tool_now_ns();
        if (now >= deadline)
                return 0;
        uint64_t ms = (deadline - now + 999999) / 1000000;
        return ms > INT_MAX ? INT_MAX : (int)ms;
}

/**
 * tool_wait() - wait until @fd is readable, a signal comes, or @deadline.
 * @fd:       the ksock
 * @sigfd:    from tool_signals_block(), or -1
 * @deadline: from tool_deadline()
 *
 * Call it only after kbus_ksock_read_next_msg() found no message: libkbus
 * keeps the ksock readable while it holds messages (docs/design.md §6).
 * A closed connection counts as readable: the next read reports it.
 *
 * Return: TOOL_WAIT_READY, TOOL_WAIT_TIMEOUT or TOOL_WAIT_SIGNAL.
 */
ToolWait tool_wait(int fd, int sigfd, uint64_t deadline)
{
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };

        for (;;) {
                int n = poll(p, sigfd >= 0 ? 2 : 1, tool_poll_timeout(deadline));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || p[0].revents)
                        return TOOL_WAIT_READY; /* a failed poll: let the read say why */
                if (sigfd >= 0 && p[1].revents)
                        return TOOL_WAIT_SIGNAL;
                if (n == 0 && tool_poll_timeout(deadline) == 0)
                        return TOOL_WAIT_TIMEOUT;
        }
}

/**
 * tool_signalled() - whether SIGINT, SIGTERM or SIGHUP is waiting on @sigfd,
 * without blocking (for loops that may never reach tool_wait()).
 * @sigfd: from tool_signals_block(), or -1
 *
 * Return: true or false.
 */
bool tool_signalled(int sigfd)
{
        struct pollfd p = { .fd = sigfd, .events = POLLIN };

        return sigfd >= 0 && poll(&p, 1, 0) > 0;
}
