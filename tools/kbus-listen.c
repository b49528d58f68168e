/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-listen - print the messages of a bus as they arrive, or answer
 * requests from the shell.
 *
 * A listener opens a read-only ksock and binds every NAME (wildcards
 * allowed: `kbus-listen '$.*'` is the bus monitor).  With --replier it
 * binds every NAME as replier and answers each request it reads, at once:
 * with --reply DATA, with what --exec CMD prints, or with no data.
 *
 * A failing CMD (non-zero exit or a signal) is still answered with what it
 * printed, since a request must get a reply and only kbusd may send a
 * status; the failure is reported on stderr and makes the exit status 1.
 * So is a reply kbusd refuses (its requester gone, too big): the run goes
 * on.  Only kbusd going away ends it early.
 *
 * Once bound, one line on stderr says so (tests and scripts wait for it;
 * --quiet drops it).  Each message is one line on stdout (format.c), the
 * reply this tool sent right after its request.  SIGINT, SIGTERM and SIGHUP
 * end the run cleanly with status 0; --count N ends it after N messages,
 * --timeout S after S seconds (status 1 if --count was not reached),
 * counted from the start: opening the ksock (connect and handshake) must
 * finish within them too, or the run fails with ETIMEDOUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "errors.h"
#include "format.h"
#include "runcmd.h"
#include "wait.h"

typedef struct ListenOptions {
        ToolBus bus;
        char **names;
        int nnames;
        const char *reply;   /* --reply DATA, or NULL */
        const char *exec;    /* --exec CMD, or NULL */
        uint32_t count;      /* 0: no limit */
        double timeout;
        bool timeout_given, replier, json, quiet;
} ListenOptions;

/* One run: the ksock and what has happened so far. */
typedef struct Listener {
        const ListenOptions *o;
        kbus_ksock_t ks;
        int sigfd;
        uint32_t self;
        uint32_t seen;
        uint64_t deadline;   /* --timeout counts from the start, opening included */
        bool failed; /* a command or a reply failed: exit status 1 at the end */
        char label[300];
} Listener;

static void listen_usage(FILE *f)
{
        fprintf(f,
                "Usage: kbus-listen [--bus N] [options] NAME...\n"
                "Bind each NAME (wildcards '*' and '%%' allowed) on a KBUS bus and print each\n"
                "message as it arrives. kbus-listen '$.*' is the bus monitor.\n"
                "\n"
                "  -b, --bus N          bus number, /dev/kbusN, or socket path (default 0)\n"
                "  -r, --replier        bind as replier and answer each request: with --reply\n"
                "                       DATA, with the output of --exec CMD, or with no data\n"
                "      --reply DATA     the reply's data (needs --replier)\n"
                "  -e, --exec CMD       run '/bin/sh -c CMD' per request, its data on stdin,\n"
                "                       and reply with what it prints, even if it fails (then\n"
                "                       exit status 1 at the end); it sees KBUS_MSG_NAME,\n"
                "                       KBUS_MSG_ID and KBUS_MSG_FROM (needs --replier)\n"
                "  -c, --count N        stop after N messages\n"
                "  -t, --timeout S      stop after S seconds (status 1 if --count N was given\n"
                "                       and fewer than N messages came); connecting to kbusd\n"
                "                       and the handshake count in them (default bound 30 s)\n"
                "  -j, --json           print JSON objects, one a line, not text\n"
                "  -q, --quiet          do not say on stderr when the names are bound\n"
                "  -h, --help           show this help and exit\n"
                "  -V, --version        show the version and exit\n"
                "\n"
                "Exit status: 0 done (count, timeout, SIGINT/TERM/HUP), 1 failure, 2 usage\n"
                "error. KBUS_SOCKET_DIR overrides the socket directory. See kbus-listen(1).\n");
}

static void listen_option(int c, ListenOptions *o)
{
        switch (c) {
        case 'b':
                tool_option_bus(optarg, &o->bus);
                break;
        case 'r': o->replier = true; break;
        case 'R': o->reply = optarg; break;
        case 'e': o->exec = optarg; break;
        case 'c':
                if (tool_parse_u32(optarg, 1, UINT32_MAX, &o->count) < 0)
                        tool_usage_error("--count must be a number from 1 to %u, not '%s'",
                                         UINT32_MAX, optarg);
                break;
        case 't':
                o->timeout = tool_option_seconds("--timeout", optarg);
                o->timeout_given = true;
                break;
        case 'j': o->json = true; break;
        case 'q': o->quiet = true; break;
        case 'h': listen_usage(stdout); exit(TOOL_EXIT_OK);
        case 'V': tool_print_version(); exit(TOOL_EXIT_OK);
        default: tool_usage_error("bad option");
        }
}

static void listen_parse(int argc, char **argv, ListenOptions *o)
{
        static const struct option opts[] = {
                { "bus", required_argument, NULL, 'b' },
                { "replier", no_argument, NULL, 'r' },
                { "reply", required_argument, NULL, 'R' },
                { "exec", required_argument, NULL, 'e' },
                { "count", required_argument, NULL, 'c' },
                { "timeout", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":b:re:c:t:jqhV", opts, NULL)) != -1) {
                if (c == ':' || c == '?')
                        tool_bad_option(c, argv, opts);
                listen_option(c, o);
        }
        if (optind >= argc)
                tool_usage_error("missing the NAME to listen to");
        if ((o->reply || o->exec) && !o->replier)
                tool_usage_error("--reply and --exec need --replier");
        if (o->reply && o->exec)
                tool_usage_error("give --reply or --exec, not both");
        o->names = argv + optind;
        o->nnames = argc - optind;
}

/* Binds every name; prints the error line for the first that fails. */
static int listen_bind(Listener *l)
{
        for (int i = 0; i < l->o->nnames; i++) {
                int r = kbus_ksock_bind(l->ks, l->o->names[i], l->o->replier);
                if (r < 0) {
                        tool_error(l->o->names[i], r, TOOL_OP_BIND);
                        return r;
                }
        }
        return 0;
}

static void listen_say_ready(const Listener *l)
{
        if (l->o->quiet)
                return;
        fprintf(stderr, "%s: %s: ksock %u %s", tool_name(), l->label, l->self,
                l->o->replier ? "replying to" : "listening to");
        for (int i = 0; i < l->o->nnames; i++)
                fprintf(stderr, " %s", l->o->names[i]);
        fputc('\n', stderr);
}

static void listen_print(const Listener *l, const kbus_message_t *m)
{
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        fmt_message(stdout, m, &now, l->o->json);
}

/* Runs --exec on @req; a command that fails still yields its output. */
static void listen_exec(Listener *l, const kbus_message_t *req, RunOutput *out)
{
        char how[96];
        int r = runcmd_run(l->o->exec, req, out);

        if (r < 0) {
                tool_error(l->o->exec, r, TOOL_OP_LOCAL);
                l->failed = true;
                return;
        }
        if (out->status != 0) {
                runcmd_describe(out->status, how, sizeof(how));
                tool_fail(kbus_msg_name_ptr(req), "--exec",
                          "'%s' ended with %s; replied with the %zu bytes it printed",
                          l->o->exec, how, out->len);
                l->failed = true;
        }
}

/* Sends @data as the reply to @req and prints the reply. */
static void listen_send_reply(Listener *l, const kbus_message_t *req, const void *data,
                              size_t len)
{
        kbus_message_t *rep = NULL;
        kbus_msg_id_t id;
        int r = len > UINT32_MAX ? -EMSGSIZE : 0;

        if (r == 0)
                r = kbus_msg_create_reply_to(&rep, req, data, (uint32_t)len, 0);
        if (r == 0)
                r = kbus_ksock_send_msg(l->ks, rep, &id);
        if (r == -ECONNRESET) {
                l->failed = true; /* the next read says kbusd went away, once */
        } else if (r < 0) {
                tool_error(kbus_msg_name_ptr(req), r, TOOL_OP_REPLY);
                l->failed = true;
        } else {
                rep->id = id;
                rep->from = l->self;
                listen_print(l, rep);
        }
        kbus_msg_delete(&rep);
}

static void listen_answer(Listener *l, const kbus_message_t *req)
{
        RunOutput out = RUN_OUTPUT_INIT;

        if (l->o->exec) {
                listen_exec(l, req, &out);
                listen_send_reply(l, req, out.data, out.len);
        } else {
                const char *d = l->o->reply ? l->o->reply : "";
                listen_send_reply(l, req, d, strlen(d));
        }
        runcmd_output_deinit(&out);
}

static void listen_handle(Listener *l, kbus_message_t *m)
{
        l->seen++;
        listen_print(l, m);
        if (l->o->replier && kbus_msg_wants_us_to_reply(m))
                listen_answer(l, m);
        kbus_msg_delete(&m);
}

static bool listen_done(const Listener *l, uint64_t deadline)
{
        return (l->o->count && l->seen >= l->o->count) ||
               (deadline != TOOL_NO_DEADLINE && tool_now_ns() >= deadline) ||
               tool_signalled(l->sigfd);
}

/* Reads and handles messages until done; returns the exit status. */
static int listen_loop(Listener *l)
{
        uint64_t deadline = l->deadline;
        kbus_message_t *m;

        while (!listen_done(l, deadline)) {
                int r = kbus_ksock_read_next_msg(l->ks, &m);
                if (r < 0) {
                        tool_error(l->label, r, TOOL_OP_RECEIVE);
                        return TOOL_EXIT_FAIL;
                }
                if (m) {
                        listen_handle(l, m);
                        continue;
                }
                if (tool_wait(l->ks, l->sigfd, deadline) != TOOL_WAIT_READY)
                        break;
        }
        if (l->o->count && l->seen < l->o->count && !tool_signalled(l->sigfd)) {
                tool_fail(l->label, "ETIMEDOUT", "%u of %u messages within %g s", l->seen,
                          l->o->count, l->o->timeout);
                return TOOL_EXIT_FAIL;
        }
        return l->failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

static int listen_run(const ListenOptions *o)
{
        Listener l = { .o = o, .sigfd = -1,
                       .deadline = tool_deadline(o->timeout, o->timeout_given) };
        int status = TOOL_EXIT_FAIL;

        tool_bus_label(&o->bus, l.label, sizeof(l.label));
        l.sigfd = tool_signals_block();
        if (l.sigfd < 0) {
                tool_error("signalfd", l.sigfd, TOOL_OP_LOCAL);
                return TOOL_EXIT_FAIL;
        }
        if (tool_open(&o->bus, o->replier ? O_RDWR : O_RDONLY,
                      tool_timeout_ms(o->timeout, o->timeout_given), &l.ks) == 0) {
                int r = kbus_ksock_id(l.ks, &l.self);
                if (r < 0)
                        tool_error(l.label, r, TOOL_OP_CONTROL);
                if (r == 0 && listen_bind(&l) == 0) {
                        listen_say_ready(&l);
                        status = listen_loop(&l);
                }
                kbus_ksock_close(l.ks);
        }
        close(l.sigfd);
        return status;
}

int main(int argc, char **argv)
{
        ListenOptions o = { .bus = TOOL_BUS_INIT };

        tool_init("kbus-listen");
        listen_parse(argc, argv, &o);
        return listen_run(&o);
}
