/* SPDX-License-Identifier: MPL-2.0 */
/*
 * security-test.c - helpers for the tests that play other users (see
 * security-test.h): children as another uid, a kbusd with a policy file and
 * a kept log.
 *
 * The kbusd is kt_kbusd, so the kt_ helpers of kbus-test.h work with it.
 * Its socket directory is opened to everyone (0755; the sockets are 0666)
 * so that children of other uids reach it.  The policy file lives in a
 * private directory of its own, owned by root and 0644, as kbusd requires.
 */
#include "security-test.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define SEC_WAIT_MS 20000

static char sec_policy_dir[64];
static char sec_policy[96];

/* ---- children ----------------------------------------------------------- */

static int child_drop(uid_t uid)
{
        gid_t gid = (gid_t)uid;

        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0) {
                fprintf(stderr, "child: cannot become uid %u: %s\n", (unsigned)uid,
                        strerror(errno));
                return -1;
        }
        return 0;
}

/**
 * child_start() - run @fn as @uid in a child process.
 * @uid: the uid (and gid) to run as
 * @fn:  what to run; its return value is the child's exit status
 * @arg: passed to @fn
 *
 * Return: the child.
 */
Child child_start(uid_t uid, ChildFn fn, void *arg)
{
        int sv[2];
        Child c;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        fflush(NULL);
        c.pid = fork();
        assert_true(c.pid >= 0);
        if (c.pid == 0) {
                close(sv[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                _exit(child_drop(uid) < 0 ? 100 : fn(arg, sv[1]));
        }
        close(sv[1]);
        c.ctl = sv[0];
        return c;
}

/**
 * child_finish() - let the child finish and reap it.
 * @c: the child
 *
 * Return: its exit status (0: every check held), or 200 + the signal that
 * killed it, or -1 if it did not finish in time (then it is killed).
 */
int child_finish(Child *c)
{
        close(c->ctl);
        int status = harness_wait_exit(c->pid, SEC_WAIT_MS);
        if (status == -ETIMEDOUT) {
                kill(c->pid, SIGKILL);
                harness_wait_exit(c->pid, SEC_WAIT_MS);
                return -1;
        }
        assert_true(status >= 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

/**
 * child_run() - run @fn as @uid in a child and wait for it.
 * @uid: the uid
 * @fn:  what to run
 * @arg: passed to @fn
 *
 * Return: as child_finish().
 */
int child_run(uid_t uid, ChildFn fn, void *arg)
{
        Child c = child_start(uid, fn, arg);

        return child_finish(&c);
}

/**
 * child_wait_value() - wait (at most 20 s) for the child to signal.
 * @c: the child
 *
 * Return: the number it signalled.
 */
uint32_t child_wait_value(Child *c)
{
        struct pollfd p = { .fd = c->ctl, .events = POLLIN };
        uint32_t v = 0;

        assert_int_equal(poll(&p, 1, SEC_WAIT_MS), 1);
        assert_int_equal(read(c->ctl, &v, sizeof(v)), (ssize_t)sizeof(v));
        return v;
}

/**
 * child_wait() - wait (at most 20 s) for the child to signal.
 * @c: the child
 */
void child_wait(Child *c)
{
        child_wait_value(c);
}

/**
 * child_release() - let a child waiting in child_wait_parent() go on.
 * @c: the child
 */
void child_release(Child *c)
{
        uint32_t v = 1;

        assert_int_equal(write(c->ctl, &v, sizeof(v)), (ssize_t)sizeof(v));
}

/**
 * child_signal_value() - in a child: tell the parent @value.
 * @ctl:   the child's end
 * @value: the number
 */
void child_signal_value(int ctl, uint32_t value)
{
        if (ctl >= 0 && write(ctl, &value, sizeof(value)) != (ssize_t)sizeof(value))
                _exit(101);
}

/**
 * child_signal() - in a child: tell the parent it may go on.
 * @ctl: the child's end
 */
void child_signal(int ctl)
{
        child_signal_value(ctl, 0);
}

/**
 * child_wait_parent() - in a child: wait for child_release() or
 * child_finish() (at most 20 s).
 * @ctl: the child's end
 */
void child_wait_parent(int ctl)
{
        struct pollfd p = { .fd = ctl, .events = POLLIN };
        uint32_t v;

        if (poll(&p, 1, SEC_WAIT_MS) != 1)
                _exit(102);
        if (read(ctl, &v, sizeof(v)) < 0)
                _exit(103);
}

/**
 * sec_next_msg() - take the next message, waiting for it at most @timeout_ms.
 * @ks:         the ksock
 * @timeout_ms: the limit
 * @ret:        the message
 *
 * Asserts nothing, so that children may use it.
 *
 * Return: 0, -ETIMEDOUT, or the error of reading.
 */
int sec_next_msg(kbus_ksock_t ks, int timeout_ms, kbus_message_t **ret)
{
        long deadline = harness_now_ms() + timeout_ms;

        for (;;) {
                *ret = NULL;
                int r = kbus_ksock_read_next_msg(ks, ret);
                if (r < 0 || *ret)
                        return r < 0 ? r : 0;
                long left = deadline - harness_now_ms();
                struct pollfd p = { .fd = ks, .events = POLLIN };
                if (left <= 0 || poll(&p, 1, (int)left) == 0)
                        return -ETIMEDOUT;
        }
}

/* ---- kbusd with a policy and a log --------------------------------------- */

/**
 * sec_start() - start kt_kbusd with @args, a kept log, and a socket
 * directory that every uid may enter.
 * @args: extra arguments, NULL-terminated, or NULL
 */
void sec_start(const char *const *args)
{
        assert_int_equal(kbusd_start_logged(&kt_kbusd, args), 0);
        assert_int_equal(chmod(kt_kbusd.dir, 0755), 0);
}

/**
 * sec_start_policy() - sec_start() with --policy and the file of
 * sec_write_policy().
 * @args: more arguments, NULL-terminated, or NULL
 */
void sec_start_policy(const char *const *args)
{
        const char *all[32] = { "--policy", sec_policy };
        int n = 2;

        for (int i = 0; args && args[i] && n < 31; i++)
                all[n++] = args[i];
        all[n] = NULL;
        sec_start(all);
}

/**
 * sec_stop() - stop kt_kbusd (it must exit cleanly) and remove the policy.
 */
void sec_stop(void)
{
        assert_int_equal(kbusd_stop(&kt_kbusd), 0);
        sec_remove_policy();
}

/**
 * sec_kbusd_pid() - the pid of kt_kbusd.
 *
 * Return: the pid.
 */
pid_t sec_kbusd_pid(void)
{
        return kt_kbusd.pid;
}

/**
 * sec_write_policy() - (re)write the policy file, owned by root, 0644.
 * @text: its contents
 */
void sec_write_policy(const char *text)
{
        char tmp[128];

        if (!sec_policy_dir[0]) {
                snprintf(sec_policy_dir, sizeof(sec_policy_dir), "/tmp/kbus-policy.XXXXXX");
                assert_non_null(mkdtemp(sec_policy_dir));
                snprintf(sec_policy, sizeof(sec_policy), "%s/policy.conf", sec_policy_dir);
        }
        snprintf(tmp, sizeof(tmp), "%s.new", sec_policy);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        assert_int_equal(fchmod(fd, 0644), 0);
        close(fd);
        assert_int_equal(rename(tmp, sec_policy), 0); /* kbusd never reads half a file */
}

/**
 * sec_chmod_policy() - change the policy file's mode.
 * @mode: the mode
 */
void sec_chmod_policy(mode_t mode)
{
        assert_int_equal(chmod(sec_policy, mode), 0);
}

/**
 * sec_remove_policy() - remove the policy file and its directory.
 */
void sec_remove_policy(void)
{
        if (!sec_policy_dir[0])
                return;
        unlink(sec_policy);
        rmdir(sec_policy_dir);
        sec_policy_dir[0] = '\0';
}

/**
 * sec_reload() - ask kt_kbusd to reload its policy (SIGHUP).
 */
void sec_reload(void)
{
        assert_int_equal(kill(kt_kbusd.pid, SIGHUP), 0);
}

/**
 * sec_log_count() - how often @needle occurs in what kt_kbusd logged.
 * @needle: the text
 *
 * Return: the count.
 */
int sec_log_count(const char *needle)
{
        char *log = kbusd_log(&kt_kbusd);
        int n = 0;

        assert_non_null(log);
        for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        free(log);
        return n;
}

/**
 * sec_log_wait() - wait (at most 20 s) until kt_kbusd has logged @needle.
 * @needle: the text
 *
 * Return: true if it did.
 */
bool sec_log_wait(const char *needle)
{
        long deadline = harness_now_ms() + SEC_WAIT_MS;

        while (sec_log_count(needle) == 0) {
                if (harness_now_ms() > deadline)
                        return false;
                struct timespec ts = { 0, 5 * 1000 * 1000 };
                nanosleep(&ts, NULL); /* the log is a file: nothing to wait on */
        }
        return true;
}

/**
 * sec_run_kbusd_fails() - run a kbusd that must refuse to start with the
 * policy file, in a fresh socket directory.
 * @out:    its standard error
 * @outlen: size of @out
 *
 * Return: its exit status, or -1 if it did not exit within 20 s.
 */
int sec_run_kbusd_fails(char *out, size_t outlen)
{
        char dir[] = "/tmp/kbus-test.XXXXXX";
        int err[2];
        size_t len = 0;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(err[1], STDERR_FILENO);
                execl(kbusd_path(), kbusd_path(), "--socket-dir", dir, "--policy", sec_policy,
                      (char *)NULL);
                _exit(127);
        }
        close(err[1]);
        for (;;) {
                struct pollfd p = { .fd = err[0], .events = POLLIN };
                if (poll(&p, 1, SEC_WAIT_MS) <= 0 || len + 1 >= outlen)
                        break;
                ssize_t n = read(err[0], out + len, outlen - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        out[len] = '\0';
        close(err[0]);
        int status = harness_wait_exit(pid, SEC_WAIT_MS);
        if (status == -ETIMEDOUT) {
                kill(pid, SIGKILL);
                harness_wait_exit(pid, SEC_WAIT_MS);
        }
        rmdir(dir);
        return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
