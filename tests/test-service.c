/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-service.c - kbusd under a service manager (issue 3): readiness
 * through $NOTIFY_SOCKET (Type=notify), socket activation for real with
 * systemd-socket-activate, and the unit files through systemd-analyze.
 * Built only when kbusd has libsystemd.
 */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "kbus/kbus.h"

static char dir[64];

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/kbus-svc.XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        setenv("KBUS_SOCKET_DIR", dir, 1);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        (void)state;

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

/* A request/reply between two ksocks on bus 0: kbusd serves. */
static void assert_serving(void)
{
        kbus_ksock_t a = kbus_ksock_open(0, O_RDWR), b = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *m, *got, *reply;

        assert_true(a >= 0 && b >= 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Svc.Ping", 1), 0);
        assert_int_equal(kbus_msg_create_request(&m, "$.Svc.Ping", 10, "p", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(b, m, NULL), 0);
        assert_int_equal(kbus_ksock_read_next_msg(a, &got), 0);
        assert_non_null(got);
        assert_int_equal(kbus_msg_create_reply_to(&reply, got, "q", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(a, reply, NULL), 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_wait_for_message(b, KBUS_KSOCK_READABLE), KBUS_KSOCK_READABLE);
        assert_int_equal(kbus_ksock_read_next_msg(b, &got), 0);
        assert_true(kbus_msg_is_reply(got));
        kbus_msg_delete(&got);
        kbus_msg_delete(&m);
        kbus_ksock_close(a);
        kbus_ksock_close(b);
}

/* Reads one datagram from @fd (10 s at most) into @buf. */
static void read_datagram(int fd, char *buf, size_t len)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };

        assert_int_equal(poll(&p, 1, 10000), 1);
        ssize_t n = recv(fd, buf, len - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
}

static void test_notify_ready_and_stopping(void **state)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        char msg[256];
        Kbusd k;
        (void)state;

        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/notify", dir);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
        setenv("NOTIFY_SOCKET", addr.sun_path, 1);
        assert_int_equal(kbusd_start_in(&k, dir, NULL), 0);
        unsetenv("NOTIFY_SOCKET");
        read_datagram(fd, msg, sizeof(msg));
        assert_non_null(strstr(msg, "READY=1"));
        assert_non_null(strstr(msg, "STATUS=serving 1 bus"));
        assert_serving();
        pid_t pid = k.pid;
        assert_int_equal(kill(pid, SIGTERM), 0);
        read_datagram(fd, msg, sizeof(msg));
        assert_string_equal(msg, "STOPPING=1");
        int status = harness_wait_exit(pid, 10000);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(k.out_fd);
        close(fd);
}

/* Waits for systemd-socket-activate's "Listening on" line on @fd. */
static void wait_listening(int fd)
{
        char buf[512];
        size_t len = 0;

        while (!strstr(buf, "Listening on")) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                assert_int_equal(poll(&p, 1, 10000), 1);
                ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                assert_true(n > 0);
                len += (size_t)n;
                buf[len] = '\0';
        }
}

static void test_socket_activation(void **state)
{
        char path[128];
        struct stat st;
        int err[2];
        (void)state;

        snprintf(path, sizeof(path), "%s/kbus0", dir);
        assert_int_equal(pipe(err), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(err[1], STDERR_FILENO);
                close(err[0]);
                execlp("systemd-socket-activate", "systemd-socket-activate", "-l", path,
                       kbusd_path(), "--socket-dir", dir, (char *)NULL);
                _exit(127);
        }
        close(err[1]);
        wait_listening(err[0]);
        /* kbusd is not running yet: the first connection starts it */
        assert_serving();
        assert_serving();
        assert_int_equal(kill(pid, SIGTERM), 0);
        int status = harness_wait_exit(pid, 10000);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* the socket belongs to the service manager: kbusd leaves it */
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        close(err[0]);
}

static void test_units_verify(void **state)
{
        char cmd[1024];
        (void)state;

        /* the installed unit runs @sbindir@/kbusd; verify a copy running the built one */
        snprintf(cmd, sizeof(cmd),
                 "set -e; cd '%s'; sed 's|^ExecStart=.*|ExecStart=%s|' '%s' > kbusd.service; "
                 "cp '%s' kbusd.socket; systemd-analyze verify --man=no kbusd.socket "
                 "kbusd.service 2>&1; systemd-analyze security --offline=true --threshold=20 "
                 "kbusd.service > /dev/null 2>&1",
                 dir, kbusd_path(), getenv("KBUS_SERVICE_UNIT"), getenv("KBUS_SOCKET_UNIT"));
        FILE *p = popen(cmd, "r");
        char out[1024];
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        if (status != 0)
                fail_msg("systemd-analyze: %s", out);
        assert_string_equal(out, "");
}

/* The Limpet template, instantiated, with the built kbus-limpet: as sound and as hardened. */
static void test_limpet_unit_verify(void **state)
{
        char cmd[1024], out[1024];
        (void)state;

        snprintf(cmd, sizeof(cmd),
                 "set -e; cd '%s'; sed 's|^ExecStart=[^ ]*|ExecStart=%s|' '%s' > "
                 "kbus-limpet@.service; systemd-analyze verify --man=no "
                 "kbus-limpet@tank.service 2>&1; systemd-analyze security --offline=true "
                 "--threshold=20 kbus-limpet@tank.service > /dev/null 2>&1",
                 dir, getenv("KBUS_LIMPET"), getenv("KBUS_LIMPET_UNIT"));
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        if (pclose(p) != 0)
                fail_msg("systemd-analyze: %s", out);
        assert_string_equal(out, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_notify_ready_and_stopping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_activation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_verify, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limpet_unit_verify, setup, teardown),
        };
        alarm(120);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
