/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-send - send an announcement or a request from the shell.
 *
 * Each message sent is printed once kbusd has accepted it (with the id
 * kbusd gave it), and with --request each reply as it comes, one line each
 * in the format of format.c.  A request answered by a status
 * ($.KBUS.Replier.GoneAway, ...) or not answered within --timeout is a
 * failure: exit status 1.  --count N sends the message N times, one after
 * the other; each request waits for its reply before the next is sent, and
 * the first failure stops the run.
 *
 * --timeout also bounds opening the ksock (connect and handshake), so a
 * kbusd that never answers cannot hold the tool past it.
 *
 * --all-or-wait opens the ksock O_NONBLOCK, so that a held send returns
 * -EAGAIN and this tool can wait for it with a deadline (--timeout) and
 * discard it when the deadline passes.
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
#include "wait.h"

/* Data larger than this is refused before any bus sees it (none takes 16 MiB + 1). */
#define SEND_DATA_MAX ((size_t)64 << 20)

typedef struct SendOptions {
        ToolBus bus;
        const char *name;
        const char *data_arg; /* DATA, "-" for stdin, or NULL */
        const char *file;     /* --file, or NULL */
        uint32_t to;          /* --to, 0 if not given */
        uint32_t count;
        double timeout;
        bool timeout_given, request, urgent, all_or_fail, all_or_wait, json;
} SendOptions;

typedef struct SendData {
        const unsigned char *p;
        size_t len;
        unsigned char *owned; /* what to free, if read from stdin or a file */
} SendData;

static void send_usage(FILE *f)
{
        fprintf(f,
                "Usage: kbus-send [--bus N] [options] NAME [DATA | -]\n"
                "Send an announcement (or, with --request, a request) named NAME on a KBUS bus.\n"
                "DATA is the message data; '-' reads it from stdin; none sends no data.\n"
                "\n"
                "  -b, --bus N          bus number, /dev/kbusN, or socket path (default 0)\n"
                "  -r, --request        send a request and print its reply; a status reply\n"
                "                       ($.KBUS.Replier.GoneAway, ...) exits with status 1\n"
                "  -t, --timeout S      with --request or --all-or-wait: give up after S\n"
                "                       seconds per message (default: wait for ever); also\n"
                "                       bounds connecting to kbusd and the handshake\n"
                "                       (default 30 s)\n"
                "  -f, --file PATH      read the data from PATH\n"
                "  -u, --urgent         URGENT: to the front of each queue\n"
                "      --all-or-fail    ALL_OR_FAIL: deliver to all, or fail with EBUSY\n"
                "      --all-or-wait    ALL_OR_WAIT: wait until every queue has room\n"
                "      --to ID          stateful request: only ksock ID may answer (EPIPE if\n"
                "                       it is no longer the replier); needs --request\n"
                "  -c, --count N        send the message N times (default 1)\n"
                "  -j, --json           print JSON objects, one a line, not text\n"
                "  -h, --help           show this help and exit\n"
                "  -V, --version        show the version and exit\n"
                "\n"
                "Prints each message and reply. Exit status: 0 sent (and answered), 1 failed,\n"
                "2 usage error. KBUS_SOCKET_DIR overrides the socket directory. See kbus-send(1).\n");
}

static uint32_t send_number(const char *opt, const char *arg, uint32_t min)
{
        uint32_t v;

        if (tool_parse_u32(arg, min, UINT32_MAX, &v) < 0)
                tool_usage_error("%s must be a number from %u to %u, not '%s'", opt, min,
                                 UINT32_MAX, arg);
        return v;
}

static void send_option(int c, SendOptions *o)
{
        switch (c) {
        case 'b':
                tool_option_bus(optarg, &o->bus);
                break;
        case 'r': o->request = true; break;
        case 't':
                o->timeout = tool_option_seconds("--timeout", optarg);
                o->timeout_given = true;
                break;
        case 'f': o->file = optarg; break;
        case 'u': o->urgent = true; break;
        case 'F': o->all_or_fail = true; break;
        case 'W': o->all_or_wait = true; break;
        case 'T': o->to = send_number("--to", optarg, 1); break;
        case 'c': o->count = send_number("--count", optarg, 1); break;
        case 'j': o->json = true; break;
        case 'h': send_usage(stdout); exit(TOOL_EXIT_OK);
        case 'V': tool_print_version(); exit(TOOL_EXIT_OK);
        default: tool_usage_error("bad option");
        }
}

static void send_check(const SendOptions *o, int nargs)
{
        if (nargs < 1)
                tool_usage_error("missing the message NAME");
        if (nargs > 2)
                tool_usage_error("too many arguments (DATA is one argument: quote it)");
        if (nargs == 2 && o->file)
                tool_usage_error("give DATA or --file, not both");
        if (o->all_or_fail && o->all_or_wait)
                tool_usage_error("--all-or-fail and --all-or-wait exclude each other");
        if (o->to && !o->request)
                tool_usage_error("--to needs --request (it makes a stateful request)");
        if (o->timeout_given && !o->request && !o->all_or_wait)
                tool_usage_error("--timeout needs --request or --all-or-wait");
}

static void send_parse(int argc, char **argv, SendOptions *o)
{
        static const struct option opts[] = {
                { "bus", required_argument, NULL, 'b' },
                { "request", no_argument, NULL, 'r' },
                { "timeout", required_argument, NULL, 't' },
                { "file", required_argument, NULL, 'f' },
                { "urgent", no_argument, NULL, 'u' },
                { "all-or-fail", no_argument, NULL, 'F' },
                { "all-or-wait", no_argument, NULL, 'W' },
                { "to", required_argument, NULL, 'T' },
                { "count", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;

        opterr = 0; /* tool_usage_error() says it in one line */
        while ((c = getopt_long(argc, argv, ":b:rt:f:uc:jhV", opts, NULL)) != -1) {
                if (c == ':' || c == '?')
                        tool_bad_option(c, argv, opts);
                send_option(c, o);
        }
        send_check(o, argc - optind);
        o->name = argv[optind];
        o->data_arg = optind + 1 < argc ? argv[optind + 1] : NULL;
}

/* Reads all of @fd into @d. */
static int send_read_fd(int fd, SendData *d)
{
        size_t cap = 0;

        for (;;) {
                if (d->len == cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        if (cap >= SEND_DATA_MAX)
                                return -EFBIG;
                        unsigned char *p = realloc(d->owned, ncap);
                        if (!p)
                                return -ENOMEM;
                        d->owned = p;
                        cap = ncap;
                }
                ssize_t n = read(fd, d->owned + d->len, cap - d->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                d->len += (size_t)n;
        }
        d->p = d->owned;
        return 0;
}

/* The data, from DATA, stdin or --file; prints the error line on failure. */
static int send_load(const SendOptions *o, SendData *d)
{
        const char *src = o->file ? o->file : "stdin";
        int fd = STDIN_FILENO, r;

        *d = (SendData){ .p = NULL };
        if (!o->file && (!o->data_arg || strcmp(o->data_arg, "-") != 0)) {
                d->p = (const unsigned char *)o->data_arg;
                d->len = o->data_arg ? strlen(o->data_arg) : 0;
                return 0;
        }
        if (o->file && (fd = open(o->file, O_RDONLY | O_CLOEXEC)) < 0) {
                tool_error(src, errno, TOOL_OP_LOCAL);
                return -1;
        }
        r = send_read_fd(fd, d);
        if (o->file)
                close(fd);
        if (r == -EFBIG)
                tool_fail(src, "EMSGSIZE", "more data than any bus accepts");
        else if (r < 0)
                tool_error(src, r, TOOL_OP_LOCAL);
        return r;
}

static int send_make(const SendOptions *o, const SendData *d, kbus_message_t **ret)
{
        uint32_t flags = (o->urgent ? KBUS_BIT_URGENT : 0) |
                         (o->all_or_fail ? KBUS_BIT_ALL_OR_FAIL : 0) |
                         (o->all_or_wait ? KBUS_BIT_ALL_OR_WAIT : 0);
        size_t nlen = strlen(o->name);
        int r;

        if (nlen > UINT32_MAX || d->len > UINT32_MAX)
                return -EMSGSIZE;
        if (o->request)
                r = kbus_msg_create_request(ret, o->name, (uint32_t)nlen, d->p, (uint32_t)d->len,
                                            flags);
        else
                r = kbus_msg_create(ret, o->name, (uint32_t)nlen, d->p, (uint32_t)d->len, flags);
        if (r == 0)
                (*ret)->to = o->to;
        return r;
}

/*
 * Waits until kbusd delivers the held ALL_OR_WAIT send, or @deadline.
 * libkbus has no non-blocking "still held?", so poll() waits for input with
 * the deadline and kbus_wait_for_message() then reads it: that call could
 * only block past the deadline if the input were not kbusd's DONE, and
 * kbus-send, bound to nothing and owed no reply yet, receives nothing else.
 */
static int send_wait_held(kbus_ksock_t ks, uint64_t deadline, kbus_msg_id_t *id)
{
        for (;;) {
                if (tool_wait(ks, -1, deadline) == TOOL_WAIT_TIMEOUT) {
                        kbus_ksock_discard(ks);
                        return -ETIMEDOUT;
                }
                int r = kbus_wait_for_message(ks, KBUS_KSOCK_READABLE | KBUS_KSOCK_WRITABLE);
                if (r < 0)
                        return r;
                if (r & KBUS_KSOCK_WRITABLE)
                        return kbus_ksock_last_msg_id(ks, id);
        }
}

static void send_print(const SendOptions *o, kbus_message_t *msg, kbus_msg_id_t id,
                       uint32_t self)
{
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        msg->id = id;
        msg->from = self;
        fmt_message(stdout, msg, &now, o->json);
        msg->id = (kbus_msg_id_t){ 0, 0 };
        msg->from = 0;
}

/* Ends with the reply line; a status is a failure. */
static int send_got_reply(const SendOptions *o, kbus_message_t *reply)
{
        struct timespec now;
        int r = 0;

        clock_gettime(CLOCK_REALTIME, &now);
        fmt_message(stdout, reply, &now, o->json);
        if (fmt_is_status(reply)) {
                tool_fail(o->name, kbus_msg_name_ptr(reply), "%s",
                          tool_status_meaning(kbus_msg_name_ptr(reply)));
                r = -1;
        }
        kbus_msg_delete(&reply);
        return r;
}

/* Waits for the reply to request @id; prints it. */
static int send_await_reply(const SendOptions *o, kbus_ksock_t ks, kbus_msg_id_t id,
                            uint64_t deadline)
{
        kbus_message_t *m;

        for (;;) {
                int r = kbus_ksock_read_next_msg(ks, &m);
                if (r < 0) {
                        tool_error(o->name, r, TOOL_OP_RECEIVE);
                        return r;
                }
                if (m && m->in_reply_to.network_id == id.network_id &&
                    m->in_reply_to.serial_num == id.serial_num)
                        return send_got_reply(o, m);
                if (m) {
                        kbus_msg_delete(&m); /* not ours: an earlier, abandoned request's */
                        continue;
                }
                if (tool_wait(ks, -1, deadline) == TOOL_WAIT_TIMEOUT) {
                        tool_fail(o->name, "ETIMEDOUT", "no reply within %g s", o->timeout);
                        return -ETIMEDOUT;
                }
        }
}

/* Sends @msg once; with --request, waits for its reply. */
static int send_once(const SendOptions *o, kbus_ksock_t ks, kbus_message_t *msg, uint32_t self)
{
        uint64_t deadline = tool_deadline(o->timeout, o->timeout_given);
        kbus_msg_id_t id = { 0, 0 };
        int r = kbus_ksock_send_msg(ks, msg, &id);

        if (r == -EAGAIN && o->all_or_wait)
                r = send_wait_held(ks, deadline, &id);
        if (r == -ETIMEDOUT) {
                tool_fail(o->name, "ETIMEDOUT",
                          "queues still full after %g s (ALL_OR_WAIT send discarded)", o->timeout);
                return r;
        }
        if (r < 0) {
                tool_error(o->name, r, o->request ? TOOL_OP_REQUEST : TOOL_OP_SEND);
                return r;
        }
        send_print(o, msg, id, self);
        return o->request ? send_await_reply(o, ks, id, deadline) : 0;
}

static int send_run(const SendOptions *o, const SendData *d)
{
        kbus_message_t *msg = NULL;
        kbus_ksock_t ks;
        uint32_t self = 0;
        int r = tool_open(&o->bus, O_RDWR | (o->all_or_wait ? O_NONBLOCK : 0),
                          tool_timeout_ms(o->timeout, o->timeout_given), &ks);

        if (r < 0)
                return TOOL_EXIT_FAIL;
        r = kbus_ksock_id(ks, &self);
        if (r == 0)
                r = send_make(o, d, &msg);
        if (r < 0)
                tool_error(o->name, r, o->request ? TOOL_OP_REQUEST : TOOL_OP_SEND);
        for (uint32_t i = 0; r == 0 && i < o->count; i++)
                r = send_once(o, ks, msg, self);
        kbus_msg_delete(&msg);
        kbus_ksock_close(ks);
        return r == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

int main(int argc, char **argv)
{
        SendOptions o = { .bus = TOOL_BUS_INIT, .count = 1 };
        SendData d;
        int status = TOOL_EXIT_FAIL;

        tool_init("kbus-send");
        send_parse(argc, argv, &o);
        if (send_load(&o, &d) == 0)
                status = send_run(&o, &d);
        free(d.owned);
        return status;
}
