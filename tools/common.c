/* SPDX-License-Identifier: MPL-2.0 */
/*
 * common.c - the command line every kbus tool shares: its name, --version,
 * usage errors (exit status 2), numbers and durations, and the --bus
 * option with opening the ksock (semantics §17).
 *
 * A bus that nobody serves is reported with the socket path the tool looked
 * at, resolved as libkbus resolves it (sockdir.c, KBUS_SOCKET_DIR first),
 * and at once: kbus_ksock_open() fails fast when nothing listens, so no
 * tool hangs when kbusd is not running.  Nor when something listens and
 * never answers: the open is bounded (--timeout, else libkbus's 30 s).
 *
 * The only state is the tool's name, set once by tool_init().
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../src/proto/sockdir.h"
#include "errors.h"

static const char *tool_progname = "kbus-tool";

/**
 * tool_init() - remember the tool's name for messages.
 * @name: e.g. "kbus-send"; must stay valid
 */
void tool_init(const char *name)
{
        tool_progname = name;
}

/**
 * tool_name() - the name given to tool_init().
 *
 * Return: the name.
 */
const char *tool_name(void)
{
        return tool_progname;
}

/**
 * tool_print_version() - print "<tool> <libkbus version>" on stdout (--version).
 */
void tool_print_version(void)
{
        printf("%s %s\n", tool_progname, kbus_version());
}

/**
 * tool_usage_error() - print a one-line usage error and exit with status 2.
 * @fmt: printf() format of what is wrong
 */
void tool_usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", tool_progname);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "; try '%s --help'\n", tool_progname);
        exit(TOOL_EXIT_USAGE);
}

/* Whether @arg is "--NAME" or "--NAME=..." for a long option whose value is @val. */
static bool tool_is_long_option(const char *arg, const struct option *opts, int val)
{
        size_t len = strcspn(arg, "=");

        if (strncmp(arg, "--", 2) != 0)
                return false;
        for (; opts->name; opts++)
                if (opts->val == val && strlen(opts->name) == len - 2 &&
                    strncmp(opts->name, arg + 2, len - 2) == 0)
                        return true;
        return false;
}

/**
 * tool_bad_option() - report what getopt_long() refused, and exit with status 2.
 * @c:    getopt_long()'s answer: ':' (missing value) or '?' (unknown option)
 * @argv: the arguments, as getopt_long() left them
 * @opts: the long options given to getopt_long()
 *
 * The program must set opterr = 0 and start its optstring with ':'.
 */
void tool_bad_option(int c, char **argv, const struct option *opts)
{
        const char *arg = argv[optind - 1];
        char shortopt[3] = { '-', (char)optopt, '\0' };

        /* an unknown long option has optopt 0; otherwise optind may not have moved */
        if (optopt != 0 && !tool_is_long_option(arg, opts, optopt))
                arg = shortopt;
        if (c == ':')
                tool_usage_error("option '%.*s' needs a value", (int)strcspn(arg, "="), arg);
        tool_usage_error("bad option '%.*s'", (int)strcspn(arg, "="), arg);
}

static bool tool_all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/**
 * tool_parse_bus() - parse --bus: a number, "/dev/kbus<N>", or a socket path.
 * @arg: the argument
 * @ret: the bus
 *
 * Return: 0, or -EINVAL (empty, or a number too large).
 */
int tool_parse_bus(const char *arg, ToolBus *ret)
{
        unsigned n;
        uint32_t number;

        if (!*arg)
                return -EINVAL;
        if (tool_all_digits(arg)) {
                if (tool_parse_u32(arg, 0, UINT32_MAX, &number) < 0)
                        return -EINVAL;
                *ret = (ToolBus){ .number = number, .path = NULL };
                return 0;
        }
        if (sockdir_parse_dev_name(arg, &n) == 0) {
                *ret = (ToolBus){ .number = n, .path = NULL };
                return 0;
        }
        *ret = (ToolBus){ .number = 0, .path = arg };
        return 0;
}

/**
 * tool_bus_label() - "bus 3" or "bus /path/to/socket", for messages.
 * @bus:    the bus
 * @out:    where to write the label
 * @outlen: size of @out
 */
void tool_bus_label(const ToolBus *bus, char *out, size_t outlen)
{
        if (bus->path)
                snprintf(out, outlen, "bus %s", bus->path);
        else
                snprintf(out, outlen, "bus %u", bus->number);
}

/* The socket path a bus number resolves to, as libkbus resolves it. */
static void tool_bus_path(const ToolBus *bus, char *out, size_t outlen)
{
        char dir[PATH_MAX];

        if (bus->path)
                snprintf(out, outlen, "%s", bus->path);
        else if (sockdir_resolve(NULL, dir, sizeof(dir)) < 0 ||
                 sockdir_bus_path(dir, bus->number, out, outlen) < 0)
                snprintf(out, outlen, "(a path too long for a socket)");
}

/* Why the socket directory is the one it is, in the words of the rule that chose it. */
static const char *tool_sockdir_reason(SockdirSource source)
{
        switch (source) {
        case SOCKDIR_ENV: return "from $KBUS_SOCKET_DIR";
        case SOCKDIR_RUN: return "the system's socket directory; $KBUS_SOCKET_DIR is not set";
        case SOCKDIR_XDG: return "$KBUS_SOCKET_DIR is not set and /run/kbus is not usable";
        default:
                return "$KBUS_SOCKET_DIR and $XDG_RUNTIME_DIR are not set, and /run/kbus is "
                       "not usable";
        }
}

/*
 * After "kbusd is not running at PATH": where the tool looked (the socket
 * directories in order: $KBUS_SOCKET_DIR, /run/kbus, $XDG_RUNTIME_DIR/kbus,
 * /tmp/kbus-UID), and how to start a kbusd there.  A path given with --bus
 * was looked at alone.
 */
static void tool_hint_no_kbusd(const ToolBus *bus)
{
        char dir[PATH_MAX];
        SockdirSource source;

        fflush(stdout);
        if (bus->path) {
                fprintf(stderr, "%s: nothing listens on that socket; 'kbusd --socket-dir DIR' "
                                "serves DIR/kbus0\n", tool_name());
                return;
        }
        if (sockdir_resolve_source(NULL, dir, sizeof(dir), &source) < 0)
                return;
        fprintf(stderr, "%s: looked in %s (%s)\n", tool_name(), dir,
                tool_sockdir_reason(source));
        if (source == SOCKDIR_RUN)
                fprintf(stderr, "%s: start kbusd with 'systemctl start kbusd.socket', or run "
                                "'kbusd' in a terminal\n", tool_name());
        else
                fprintf(stderr, "%s: start kbusd there by running 'kbusd --socket-dir %s' in a "
                                "terminal\n", tool_name(), dir);
}

/**
 * tool_peer_cred() - connect a probe socket to @path, once and without
 * waiting, for the pid and uid of the server listening there (SO_PEERCRED):
 * who libkbus refused, or what `kbus-ctl doctor` reports.
 * @path: a bus socket
 * @ret:  the server's credentials
 *
 * Return: 0, or a negative errno (nothing listens, ...).
 */
int tool_peer_cred(const char *path, struct ucred *ret)
{
        struct sockaddr_un a;
        socklen_t len = sizeof(*ret);
        int r = sockdir_sockaddr(path, &a);

        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        r = connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
                            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ret, &len) < 0
                    ? -errno
                    : 0;
        close(fd);
        return r;
}

/*
 * libkbus said EPERM: say which check failed.  For a per-user fallback
 * directory that is the directory itself (sockdir_open_checked() gives the
 * reason) or the uid kbusd runs as; otherwise it was kbusd's policy.
 */
static void tool_explain_eperm(const ToolBus *bus, const char *label)
{
        char dir[PATH_MAX], path[PATH_MAX];
        SockdirSource source;
        const char *why = "it failed a check";
        int dirfd;
        struct ucred peer;

        if (!bus->path && sockdir_resolve_source(NULL, dir, sizeof(dir), &source) == 0 &&
            (source == SOCKDIR_XDG || source == SOCKDIR_TMP)) {
                int r = sockdir_open_checked(dir, getuid(), &dirfd, &why);
                if (r == -ENOTDIR)
                        why = "it is not a directory";
                if (r == -EPERM || r == -ENOTDIR) {
                        tool_fail(label, "EPERM", "the socket directory %s is not safe: %s", dir,
                                  why);
                        return;
                }
                if (r == 0)
                        close(dirfd);
                tool_bus_path(bus, path, sizeof(path));
                if (tool_peer_cred(path, &peer) == 0 && peer.uid != 0 && peer.uid != getuid()) {
                        tool_fail(label, "EPERM", "kbusd at %s runs as uid %u, not root or you",
                                  path, (unsigned)peer.uid);
                        return;
                }
        }
        tool_error(label, -EPERM, TOOL_OP_OPEN);
}

/**
 * tool_timeout_ms() - a --timeout in milliseconds, for tool_open().
 * @seconds: the --timeout value
 * @given:   whether --timeout was given at all
 *
 * Return: at least 1 ms when @given (rounded up), else 0 (libkbus's default).
 */
int tool_timeout_ms(double seconds, bool given)
{
        double ms = seconds * 1000.0;

        if (!given)
                return 0;
        if (ms >= (double)INT_MAX)
                return INT_MAX;
        return ms < 1.0 ? 1 : (int)(ms + 0.999);
}

/**
 * tool_open() - open a ksock on @bus, printing the error line on failure.
 * @bus:        the bus
 * @flags:      as for kbus_ksock_open()
 * @timeout_ms: the bound on connecting and the handshake (-t), or 0 for
 *              libkbus's default (KBUS_OPEN_TIMEOUT_DEFAULT_MS)
 * @ret:        the ksock
 *
 * When nothing listens on the bus socket the error says that kbusd is not
 * running there, naming the socket path; when nothing answers in time, it
 * says that; an unsafe socket directory or a kbusd of another user is named
 * with what is wrong (semantics §18).
 *
 * Return: 0, or the negative errno of the open (already reported).
 */
int tool_open(const ToolBus *bus, int flags, int timeout_ms, kbus_ksock_t *ret)
{
        char label[PATH_MAX + 8], path[PATH_MAX], dev[32];
        const char *name = bus->path;
        int ms = timeout_ms > 0 ? timeout_ms : KBUS_OPEN_TIMEOUT_DEFAULT_MS;
        kbus_ksock_t ks;

        if (!name && bus->number <= 255) {
                snprintf(dev, sizeof(dev), "/dev/kbus%u", (unsigned)bus->number);
                name = dev;
        }
        ks = name ? kbus_ksock_open_timeout(name, flags, ms) : kbus_ksock_open(bus->number, flags);
        if (ks >= 0) {
                *ret = ks;
                return 0;
        }
        tool_bus_label(bus, label, sizeof(label));
        tool_bus_path(bus, path, sizeof(path));
        if (ks == -ENOENT) {
                tool_fail(label, "ENOENT", "no such bus: kbusd is not running at %s", path);
                tool_hint_no_kbusd(bus);
        }
        else if (ks == -ETIMEDOUT)
                tool_fail(label, "ETIMEDOUT", "no kbusd answered at %s within %g s (connect and "
                          "handshake)", path, ms / 1000.0);
        else if (ks == -EPERM)
                tool_explain_eperm(bus, label);
        else
                tool_error(label, ks, TOOL_OP_OPEN);
        return ks;
}

/**
 * tool_parse_u32() - parse a decimal number from @min to @max.
 * @s:   the text: digits only
 * @min: the smallest value allowed
 * @max: the largest value allowed
 * @ret: the number; not written on failure
 *
 * Return: 0, or -EINVAL (not a number) or -ERANGE (outside [@min, @max]).
 */
int tool_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
        uint64_t v = 0;

        if (!tool_all_digits(s))
                return -EINVAL;
        for (; *s; s++) {
                v = v * 10 + (uint64_t)(*s - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        if (v < min || v > max)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

/**
 * tool_parse_seconds() - parse a duration such as "5" or "0.25" (at most a
 * year).
 * @s:   the text: digits with at most one '.'
 * @ret: the seconds; not written on failure
 *
 * Return: 0, or -EINVAL.
 */
int tool_parse_seconds(const char *s, double *ret)
{
        size_t digits = strspn(s, "0123456789");
        const char *p = s + digits;
        char *end;

        if (*p == '.')
                p += 1 + strspn(p + 1, "0123456789");
        if (*p || p == s || (p == s + 1 && *s == '.'))
                return -EINVAL;
        double v = strtod(s, &end);
        if (end != p || v > 365.0 * 24 * 3600)
                return -EINVAL;
        *ret = v;
        return 0;
}

/**
 * tool_option_bus() - parse --bus, or exit 2 with a usage error.
 * @arg: the option's argument
 * @ret: the bus
 */
void tool_option_bus(const char *arg, ToolBus *ret)
{
        if (tool_parse_bus(arg, ret) < 0)
                tool_usage_error("--bus takes a bus number or socket path, not '%s'", arg);
}

/**
 * tool_option_seconds() - parse a duration option, or exit 2 with a usage error.
 * @opt: the option's name, for the message
 * @arg: the option's argument
 *
 * Return: the duration in seconds.
 */
double tool_option_seconds(const char *opt, const char *arg)
{
        double v;

        if (tool_parse_seconds(arg, &v) < 0)
                tool_usage_error("%s takes seconds, such as 5 or 0.5, not '%s'", opt, arg);
        return v;
}
