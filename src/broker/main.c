/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main.c - kbusd's command line (semantics §17).
 *
 * Runs in the foreground.  Prints one line per bus socket on stdout once it
 * is listening (tests and scripts wait for these lines), and exits 0 after
 * SIGTERM or SIGINT, having removed its sockets.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/wire.h"
#include "broker.h"
#include "listener.h"
#include "log-stream.h"
#include "policy-load.h"
#include "service.h"
#include "kbus/version.h"

static void main_usage(FILE *f)
{
        fprintf(f,
                "Usage: kbusd [OPTION]...\n"
                "Run the kbus message broker in the foreground.\n\n"
                "  -d, --socket-dir DIR        bus sockets go in DIR (else $KBUS_SOCKET_DIR,\n"
                "                              /run/kbus, $XDG_RUNTIME_DIR/kbus, /tmp/kbus-UID)\n"
                "      --socket-mode MODE      octal mode of the bus sockets (default 0666)\n"
                "      --socket-group GROUP    group of the bus sockets (a name or number)\n"
                "  -b, --buses N               open buses 0..N-1 (default 1, at most %u)\n"
                "  -s, --max-message-size B    largest message per bus, in bytes\n"
                "                              (default %u, %u..%u)\n"
                "  -m, --max-messages N        default queue length of a ksock (default %u)\n"
                "  -p, --policy FILE           who may do what (default %s,\n"
                "                              if it exists; SIGHUP reloads it)\n"
                "  -l, --limit NAME=VALUE      a quota, e.g. bindings-per-uid=1000\n"
                "                              (repeatable; overrides the policy file's)\n"
                "  -v, --verbose               log every bind, unbind, open and close\n"
                "  -h, --help                  show this help\n"
                "  -V, --version               show the version\n"
                "\n"
                "Check a machine with 'kbus-ctl doctor'. See kbusd(8) and kbus-policy(5).\n",
                KBUS_BUSES_MAX, KBUS_MSG_SIZE_DEFAULT, KBUS_MSG_SIZE_MIN, KBUS_MSG_SIZE_ABS_MAX,
                KBUS_QUEUE_LEN_DEFAULT, KBUS_POLICY_DEFAULT);
}

static int main_number(const char *opt, const char *s, unsigned long lo, unsigned long hi,
                       uint32_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);

        if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi) {
                fprintf(stderr, "kbusd: %s must be a number from %lu to %lu, not '%s'\n", opt, lo,
                        hi, s);
                return -EINVAL;
        }
        *ret = (uint32_t)v;
        return 0;
}

/* --limit NAME=VALUE */
static int main_limit(const char *arg, BrokerConfig *cfg)
{
        char name[64];
        const char *eq = strchr(arg, '='), *why;
        QuotaKind kind;
        bool total;
        uint64_t value;

        if (!eq || (size_t)(eq - arg) >= sizeof(name)) {
                fprintf(stderr, "kbusd: --limit takes NAME=VALUE, not '%s'\n", arg);
                return -EINVAL;
        }
        memcpy(name, arg, (size_t)(eq - arg));
        name[eq - arg] = '\0';
        if (quota_limit_parse(name, eq + 1, &kind, &total, &value, &why) < 0) {
                fprintf(stderr, "kbusd: --limit %s: %s\n", arg, why);
                return -EINVAL;
        }
        if (total)
                cfg->limits.total[kind] = value;
        else
                cfg->limits.per_uid[kind] = value;
        cfg->limits_set[kind] |= total ? 2u : 1u;
        return 0;
}

static int main_mode(const char *s, mode_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 8);

        if (errno || *s == '\0' || *end != '\0' || v > 0777 || strchr(s, '-')) {
                fprintf(stderr, "kbusd: --socket-mode must be an octal mode from 0 to 0777, "
                                "not '%s'\n", s);
                return -EINVAL;
        }
        *ret = (mode_t)v;
        return 0;
}

static int main_group(const char *s, gid_t *ret)
{
        struct group gr, *found = NULL;
        char buf[16384], *end;

        if (getgrnam_r(s, &gr, buf, sizeof(buf), &found) == 0 && found) {
                *ret = found->gr_gid;
                return 0;
        }
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *s < '0' || *s > '9' || *end != '\0' || v >= (gid_t)-1) {
                fprintf(stderr, "kbusd: --socket-group: no group '%s'\n", s);
                return -EINVAL;
        }
        *ret = (gid_t)v;
        return 0;
}

/* Returns 0 to run, 1 to exit successfully (help, version), 2 on bad usage. */
static int main_parse(int argc, char **argv, BrokerConfig *cfg)
{
        static const struct option opts[] = {
                { "socket-dir", required_argument, NULL, 'd' },
                { "socket-mode", required_argument, NULL, 'M' },
                { "socket-group", required_argument, NULL, 'G' },
                { "buses", required_argument, NULL, 'b' },
                { "max-message-size", required_argument, NULL, 's' },
                { "max-messages", required_argument, NULL, 'm' },
                { "policy", required_argument, NULL, 'p' },
                { "limit", required_argument, NULL, 'l' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        uint32_t n;
        int o;

        opterr = 0; /* one line of our own instead of getopt's */
        while ((o = getopt_long(argc, argv, ":d:b:s:m:p:l:vhV", opts, NULL)) != -1) {
                switch (o) {
                case 'd': cfg->socket_dir = optarg; break;
                case 'M':
                        if (main_mode(optarg, &cfg->socket_mode) < 0)
                                return 2;
                        break;
                case 'G':
                        if (main_group(optarg, &cfg->socket_gid) < 0)
                                return 2;
                        break;
                case 'b':
                        if (main_number("--buses", optarg, 1, KBUS_BUSES_MAX, &n) < 0)
                                return 2;
                        cfg->buses = n;
                        break;
                case 's':
                        if (main_number("--max-message-size", optarg, KBUS_MSG_SIZE_MIN,
                                        KBUS_MSG_SIZE_ABS_MAX, &cfg->max_msg_size) < 0)
                                return 2;
                        break;
                case 'm':
                        if (main_number("--max-messages", optarg, 1, KBUS_QUEUE_LEN_MAX,
                                        &cfg->max_messages) < 0)
                                return 2;
                        break;
                case 'p': cfg->policy_path = optarg; break;
                case 'l':
                        if (main_limit(optarg, cfg) < 0)
                                return 2;
                        break;
                case 'v': cfg->verbose = true; break;
                case 'h': main_usage(stdout); return 1;
                case 'V': printf("kbusd %s\n", KBUS_VERSION); return 1;
                case ':':
                        fprintf(stderr, "kbusd: option '%s' needs a value; try 'kbusd --help'\n",
                                argv[optind - 1]);
                        return 2;
                default:
                        fprintf(stderr, "kbusd: bad option '%s'; try 'kbusd --help'\n",
                                argv[optind - 1]);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "kbusd: unexpected argument '%s'; try 'kbusd --help'\n",
                        argv[optind]);
                return 2;
        }
        return 0;
}

int main(int argc, char **argv)
{
        BrokerConfig cfg = { .buses = KBUS_BUSES_DEFAULT, .max_msg_size = KBUS_MSG_SIZE_DEFAULT,
                             .max_messages = KBUS_QUEUE_LEN_DEFAULT, .socket_mode = 0666,
                             .socket_gid = (gid_t)-1 };
        Broker *b;
        int r = main_parse(argc, argv, &cfg);

        if (r)
                return r == 1 ? 0 : 2;
        log_stream_setup(cfg.verbose);
        signal(SIGPIPE, SIG_IGN);
        if (broker_new(&cfg, &b) < 0)
                return 1;
        unsigned open = 0;
        for (unsigned i = 0; i < KBUS_BUSES_MAX; i++) {
                if (!b->listeners[i])
                        continue;
                printf("kbusd: bus %u listening on %s\n", i, b->listeners[i]->path);
                open++;
        }
        fflush(stdout);
        service_ready(open);
        r = broker_run(b);
        service_stopping();
        broker_free(b);
        return r < 0 ? 1 : 0;
}
