/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-bench - how fast kbus is, beside what this machine allows.
 *
 * Starts a private kbusd on a temporary socket directory and measures, with
 * 64-byte payloads: the request/reply round trip, the synchronous send round
 * trip, pipelined (posted) announcements 1->1 and 1->10, and kbusd's own CPU
 * time per delivery and per round trip (from /proc/<pid>/stat).  In the same
 * run it measures the ceiling: a raw Unix-socket ping-pong and a minimal
 * single-threaded relay (the best any broker could do), and prints each
 * kbus figure as a ratio of its ceiling.  Machines are noisy: trust the
 * ratios of one run, not absolute numbers across runs.
 *
 * With kbus-limpet (beside kbus-bench, or --limpet PATH) it also joins the
 * private kbusd's bus 0 and bus 1 with a Limpet pair, over a Unix socket
 * and over TCP on the loopback, and measures the request/reply round trip
 * and pipelined announcements across the link, beside the direct figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kbus/kbus.h"
#include "kbus/limpet.h"
#include "bench.h"

pid_t bench_kbusd_pid;

void die(const char *what)
{
        fprintf(stderr, "kbus-bench: %s: %s\n", what, strerror(errno));
        if (bench_kbusd_pid > 0)
                kill(bench_kbusd_pid, SIGTERM);
        exit(1);
}

uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

void summarize(double *us, long n, Figure *f)
{
        qsort(us, (size_t)n, sizeof(*us), cmp_double);
        f->p50 = us[n / 2];
        f->p99 = us[(long)((double)n * 0.99)];
        f->count = n;
}

/* kbusd's user+system CPU seconds so far. */
double kbusd_cpu(void)
{
        char path[64], buf[1024];
        unsigned long ut = 0, st = 0;

        if (bench_kbusd_pid <= 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)bench_kbusd_pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *p = strrchr(buf, ')'); /* fields after the command name */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                         &st) != 2)
                return 0;
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- a private kbusd ---------------------------------------------------- */

void start_kbusd(const Options *o, char *dir)
{
        int out[2];
        char line[512];

        if (!mkdtemp(dir) || pipe(out) < 0)
                die("setup");
        setenv("KBUS_SOCKET_DIR", dir, 1);
        bench_kbusd_pid = fork();
        if (bench_kbusd_pid < 0)
                die("fork");
        if (bench_kbusd_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(out[1], 1);
                close(out[0]);
                if (o->policy)
                        execlp(o->kbusd, o->kbusd, "--socket-dir", dir, "--buses", "2",
                               "--policy", o->policy, (char *)NULL);
                else
                        execlp(o->kbusd, o->kbusd, "--socket-dir", dir, "--buses", "2",
                               (char *)NULL);
                _exit(127);
        }
        close(out[1]);
        FILE *f = fdopen(out[0], "r");
        if (!f || !fgets(line, sizeof(line), f) || !strstr(line, "listening")) {
                fprintf(stderr, "kbus-bench: kbusd (%s) did not start\n", o->kbusd);
                exit(1);
        }
        fclose(f);
}

void stop_kbusd(const char *dir)
{
        char lock[512];

        kill(bench_kbusd_pid, SIGTERM);
        waitpid(bench_kbusd_pid, NULL, 0);
        for (int bus = 0; bus < 2; bus++) { /* kbusd leaves its lock files */
                snprintf(lock, sizeof(lock), "%s/kbus%d.lock", dir, bus);
                unlink(lock);
        }
        rmdir(dir);
}

kbus_ksock_t bench_open_bus(uint32_t bus)
{
        kbus_ksock_t ks = kbus_ksock_open(bus, O_RDWR);

        if (ks < 0) {
                errno = -ks;
                die("kbus_ksock_open");
        }
        return ks;
}

kbus_ksock_t bench_open(void)
{
        return bench_open_bus(0);
}

void check(int r, const char *what)
{
        if (r < 0) {
                errno = -r;
                die(what);
        }
}

/* ---- child processes ---------------------------------------------------- */

/* Forks @fn(arg); the child writes one byte on @ready once it is set up. */
pid_t spawn(void (*fn)(int ready, long arg), long arg, int *ready_fd)
{
        int p[2];

        if (pipe(p) < 0)
                die("pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(p[0]);
                fn(p[1], arg);
                _exit(0);
        }
        close(p[1]);
        *ready_fd = p[0];
        return pid;
}

void wait_ready(int fd)
{
        char c;

        if (read(fd, &c, 1) != 1) {
                fprintf(stderr, "kbus-bench: a child failed to start\n");
                exit(1);
        }
}

void signal_ready(int fd)
{
        if (write(fd, "r", 1) != 1)
                _exit(2);
}

/* ---- ceiling: raw sockets ------------------------------------------------ */

static void write_all(int fd, const void *p, size_t n)
{
        while (n) {
                ssize_t w = write(fd, p, n);
                if (w <= 0 && errno != EINTR)
                        die("write");
                if (w > 0) {
                        p = (const char *)p + w;
                        n -= (size_t)w;
                }
        }
}

int read_all(int fd, void *p, size_t n)
{
        while (n) {
                ssize_t r = read(fd, p, n);
                if (r <= 0 && errno != EINTR)
                        return -1;
                if (r > 0) {
                        p = (char *)p + r;
                        n -= (size_t)r;
                }
        }
        return 0;
}

#define FRAME (4 + PAYLOAD)

/* Echoes frames on @fd until it closes. */
static void echo_loop(int fd)
{
        char f[FRAME];

        while (read_all(fd, f, FRAME) == 0)
                write_all(fd, f, FRAME);
        _exit(0);
}

/*
 * Times @n round trips of @rt(@arg) after WARMUP untimed ones, into @fig:
 * median, p99, and kbusd's CPU time over the timed ones.
 */
static void timed_round_trips(long n, void (*rt)(void *), void *arg, Figure *fig)
{
        double *us = malloc(sizeof(double) * (size_t)n);
        double cpu0 = 0;

        if (!us)
                die("malloc");
        for (long i = 0; i < WARMUP + n; i++) {
                if (i == WARMUP)
                        cpu0 = kbusd_cpu();
                uint64_t t0 = now_ns();
                rt(arg);
                if (i >= WARMUP)
                        us[i - WARMUP] = (double)(now_ns() - t0) / 1000.0;
        }
        fig->cpu_s = kbusd_cpu() - cpu0;
        summarize(us, n, fig);
        free(us);
}

static void ping_pong_once(void *arg)
{
        static char f[FRAME];
        int fd = *(int *)arg;

        write_all(fd, f, FRAME);
        if (read_all(fd, f, FRAME) < 0)
                die("read");
}

static void ping_pong_rtt(int fd, long n, Figure *fig)
{
        timed_round_trips(n, ping_pong_once, &fd, fig);
        fig->cpu_s = 0; /* no kbusd in the ceiling */
}

static void ceiling_pingpong(const Options *o, Figure *fig)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                die("socketpair");
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(sv[0]);
                echo_loop(sv[1]);
        }
        close(sv[1]);
        ping_pong_rtt(sv[0], o->rtt_n, fig);
        close(sv[0]);
        waitpid(pid, NULL, 0);
}

/* The relay: one epoll loop forwarding whole frames between fds a and b. */
static void relay_forward(int from, int *to, int nto, char *buf, size_t *have)
{
        ssize_t r = read(from, buf + *have, 65536 - *have);

        if (r <= 0)
                _exit(0);
        *have += (size_t)r;
        size_t whole = *have - *have % FRAME;
        for (int i = 0; i < nto; i++)
                write_all(to[i], buf, whole);
        memmove(buf, buf + whole, *have - whole);
        *have -= whole;
}

static void relay_loop(int a, int *outs, int nouts, int back)
{
        static char bufa[65536], bufb[65536];
        size_t ha = 0, hb = 0;
        int ep = epoll_create1(0);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = a };

        epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
        if (back >= 0) {
                ev.data.fd = back;
                epoll_ctl(ep, EPOLL_CTL_ADD, back, &ev);
        }
        for (;;) {
                struct epoll_event evs[4];
                int n = epoll_wait(ep, evs, 4, -1);
                for (int i = 0; i < n; i++) {
                        if (evs[i].data.fd == a)
                                relay_forward(a, outs, nouts, bufa, &ha);
                        else
                                relay_forward(back, &a, 1, bufb, &hb);
                }
        }
}

#define MAX_CHAIN 4 /* relays in a row: a Limpet pair's path has four (kbusd, two Limpets, kbusd) */

/* Closes every end of @sv[0..@n] but @keep1 and @keep2. */
static void close_chain_but(int sv[][2], int n, int keep1, int keep2)
{
        for (int i = 0; i <= n; i++)
                for (int j = 0; j < 2; j++)
                        if (sv[i][j] != keep1 && sv[i][j] != keep2)
                                close(sv[i][j]);
}

/*
 * Round trips through @nrelays relays in a row to an echo server: one
 * relay is what kbusd does at best for a request and its reply; four is
 * the path through a Limpet pair, as socket hops.
 */
static void ceiling_relay_rtt(const Options *o, int nrelays, Figure *fig)
{
        int sv[MAX_CHAIN + 1][2];
        pid_t relay[MAX_CHAIN];

        for (int i = 0; i <= nrelays; i++)
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) < 0)
                        die("socketpair");
        fflush(NULL);
        for (int r = 0; r < nrelays; r++) { /* relay r: between sv[r][1] and sv[r + 1][0] */
                relay[r] = fork();
                if (relay[r] == 0) {
                        close_chain_but(sv, nrelays, sv[r][1], sv[r + 1][0]);
                        relay_loop(sv[r][1], &sv[r + 1][0], 1, sv[r + 1][0]);
                }
        }
        pid_t server = fork();
        if (server == 0) {
                close_chain_but(sv, nrelays, sv[nrelays][1], -1);
                echo_loop(sv[nrelays][1]);
        }
        close_chain_but(sv, nrelays, sv[0][0], -1);
        ping_pong_rtt(sv[0][0], o->rtt_n, fig);
        close(sv[0][0]);
        for (int r = 0; r < nrelays; r++) {
                kill(relay[r], SIGTERM);
                waitpid(relay[r], NULL, 0);
        }
        waitpid(server, NULL, 0);
}

/* Counts frames arriving on @fd; reports (count, last arrival) on @res. */
static void count_frames(int fd, long expect, int res)
{
        static char buf[65536];
        uint64_t got[2] = { 0, 0 };
        size_t have = 0;

        while ((long)got[0] < expect) {
                ssize_t r = read(fd, buf + have, sizeof(buf) - have);
                if (r <= 0)
                        break;
                have += (size_t)r;
                got[0] += have / FRAME;
                have %= FRAME;
                got[1] = now_ns();
        }
        if (write(res, got, sizeof(got)) != sizeof(got))
                _exit(2);
        _exit(0);
}

static void ceiling_relay_tput(long n, int nrx, Figure *fig)
{
        int in[2], outs[MAX_RX], res[2];
        pid_t rx[MAX_RX];
        static char batch[64 * FRAME];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) < 0 || pipe(res) < 0)
                die("socketpair");
        fflush(NULL);
        for (int i = 0; i < nrx; i++) {
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                        die("socketpair");
                rx[i] = fork();
                if (rx[i] == 0)
                        count_frames(sv[0], n, res[1]);
                close(sv[0]);
                outs[i] = sv[1];
        }
        pid_t relay = fork();
        if (relay == 0)
                relay_loop(in[1], outs, nrx, -1);
        for (int i = 0; i < nrx; i++)
                close(outs[i]);
        close(in[1]);
        uint64_t t0 = now_ns(), last = t0, total = 0;
        for (long sent = 0; sent < n; sent += 64)
                write_all(in[0], batch, sizeof(batch));
        for (int i = 0; i < nrx; i++) {
                uint64_t got[2];
                if (read_all(res[0], got, sizeof(got)) < 0)
                        die("result");
                total += got[0];
                last = got[1] > last ? got[1] : last;
        }
        close(in[0]);
        kill(relay, SIGTERM);
        waitpid(relay, NULL, 0);
        for (int i = 0; i < nrx; i++)
                waitpid(rx[i], NULL, 0);
        fig->count = (long)total;
        fig->rate = (double)total / ((double)(last - t0) / 1e9);
}

/* ---- kbus --------------------------------------------------------------- */

/* The replier, on bus @bus. */
static void kbus_replier(int ready, long bus)
{
        kbus_ksock_t ks = bench_open_bus((uint32_t)bus);
        kbus_message_t *req, *rep;

        check(kbus_ksock_bind(ks, RNAME, 1), "bind replier");
        signal_ready(ready);
        for (;;) {
                check(kbus_wait_for_message(ks, KBUS_KSOCK_READABLE), "wait");
                while (kbus_ksock_read_next_msg(ks, &req) == 0 && req) {
                        check(kbus_msg_create_reply_to(&rep, req, kbus_msg_data_ptr(req),
                                                       req->data_len, 0), "reply_to");
                        check(kbus_ksock_send_msg(ks, rep, NULL), "send reply");
                        kbus_msg_delete(&rep);
                        kbus_msg_delete(&req);
                }
        }
}

typedef struct BenchSend {
        kbus_ksock_t ks;
        kbus_message_t *msg;
} BenchSend;

/* One request and its reply. */
static void kbus_request_once(void *arg)
{
        BenchSend *b = arg;
        kbus_message_t *rep;

        check(kbus_ksock_send_msg(b->ks, b->msg, NULL), "send request");
        do {
                check(kbus_wait_for_message(b->ks, KBUS_KSOCK_READABLE), "wait");
                check(kbus_ksock_read_next_msg(b->ks, &rep), "read reply");
        } while (!rep);
        kbus_msg_delete(&rep);
}

/* One synchronous send. */
static void kbus_send_once(void *arg)
{
        BenchSend *b = arg;

        check(kbus_ksock_send_msg(b->ks, b->msg, NULL), "send");
}

/* Waits until bus 0 has a replier for RNAME: the Limpet's proxy, once the bind crossed. */
static void wait_proxy(kbus_ksock_t ks)
{
        uint32_t id = 0;

        for (int i = 0; i < 100000 && id == 0; i++)
                check(kbus_ksock_find_replier(ks, RNAME, &id), "find_replier");
        if (id == 0) {
                fprintf(stderr, "kbus-bench: the replier's bind did not cross the link\n");
                exit(1);
        }
}

/* Whether someone on bus 0 listens to NAME (the Limpet, once bus 1's listener crossed). */
static bool listened_on_bus0(void)
{
        kbus_ksock_t ks = bench_open();
        kbus_limpet_context_t *ctx; /* the public way to read the bindings */
        char **names;
        size_t n;
        bool found = false;

        check(kbus_limpet_new_context(ks, 0xBE, 0xBF, NAME, 0, &ctx), "limpet context");
        check(kbus_limpet_listened_names(ctx, &names, &n), "listened names");
        for (size_t i = 0; i < n; i++) {
                found |= strcmp(names[i], NAME) == 0;
                free(names[i]);
        }
        free(names);
        kbus_limpet_free_context(&ctx);
        kbus_ksock_close(ks);
        return found;
}

/* Waits until bus 1's receivers are heard from bus 0: the Limpet listens for them. */
static void wait_listener_crossed(void)
{
        for (int i = 0; i < 10000; i++)
                if (listened_on_bus0())
                        return;
        fprintf(stderr, "kbus-bench: the listener's binding did not cross the link\n");
        exit(1);
}

/* Request/reply round trips from bus 0 to a replier on @bus (1: through a Limpet pair). */
static void kbus_request_rtt_to(const Options *o, uint32_t bus, Figure *fig)
{
        static char data[PAYLOAD];
        kbus_ksock_t ks = bench_open();
        int ready;
        pid_t pid = spawn(kbus_replier, bus, &ready);
        BenchSend b = { .ks = ks };

        wait_ready(ready);
        if (bus != 0)
                wait_proxy(ks);
        check(kbus_msg_create_request(&b.msg, RNAME, sizeof(RNAME) - 1, data, PAYLOAD, 0),
              "create");
        timed_round_trips(o->rtt_n, kbus_request_once, &b, fig);
        kbus_msg_delete(&b.msg);
        kbus_ksock_close(ks);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void kbus_request_rtt(const Options *o, Figure *fig)
{
        kbus_request_rtt_to(o, 0, fig);
}

void kbus_send_rtt(const Options *o, Figure *fig)
{
        static char data[PAYLOAD];
        BenchSend b = { .ks = bench_open() };

        check(kbus_msg_create(&b.msg, NAME, sizeof(NAME) - 1, data, PAYLOAD, 0), "create");
        timed_round_trips(o->rtt_n, kbus_send_once, &b, fig);
        kbus_msg_delete(&b.msg);
        kbus_ksock_close(b.ks);
}

static int g_result_fd = -1;
static uint32_t g_rx_bus; /* the bus the receivers are on */

/* A receiver: counts messages until it has @expect, or 3 s pass idle. */
static void kbus_receiver(int ready, long expect)
{
        kbus_ksock_t ks = bench_open_bus(g_rx_bus);
        uint32_t max = 1u << 20;
        kbus_message_t *m;
        uint64_t got[2] = { 0, 0 };

        check(kbus_ksock_max_messages(ks, &max), "max_messages");
        check(kbus_ksock_bind(ks, NAME, 0), "bind");
        signal_ready(ready);
        while ((long)got[0] < expect) {
                struct pollfd p = { .fd = ks, .events = POLLIN };
                if (poll(&p, 1, 3000) <= 0)
                        break;
                while (kbus_ksock_read_next_msg(ks, &m) == 0 && m) {
                        got[0]++;
                        kbus_msg_delete(&m);
                }
                got[1] = now_ns();
        }
        if (write(g_result_fd, got, sizeof(got)) != sizeof(got))
                _exit(2);
        _exit(0);
}

/**
 * post_and_count() - post @n announcements of NAME, then read what the
 * receivers report, (count, last arrival) each, into @fig.
 * @n:        messages to post
 * @res_fd:   where the receivers report
 * @nresults: how many reports
 * @expect:   deliveries that should arrive (the rest are lost)
 * @fig:      rate, count, lost and kbusd's CPU from the first post on
 */
void post_and_count(long n, int res_fd, int nresults, long expect, Figure *fig)
{
        static char data[PAYLOAD];
        kbus_ksock_t ks = bench_open();
        kbus_message_t *msg;

        check(kbus_msg_create(&msg, NAME, sizeof(NAME) - 1, data, PAYLOAD, 0), "create");
        double cpu0 = kbusd_cpu();
        uint64_t t0 = now_ns(), last = t0, total = 0;
        for (long i = 0; i < n; i++)
                check(kbus_ksock_post_msg(ks, msg), "post");
        check(kbus_ksock_flush(ks), "flush");
        for (int i = 0; i < nresults; i++) {
                uint64_t got[2];
                if (read_all(res_fd, got, sizeof(got)) < 0)
                        die("result");
                total += got[0];
                last = got[1] > last ? got[1] : last;
        }
        fig->cpu_s = kbusd_cpu() - cpu0;
        fig->count = (long)total;
        fig->lost = expect - (long)total;
        fig->rate = (double)total / ((double)(last - t0) / 1e9);
        kbus_msg_delete(&msg);
        kbus_ksock_close(ks);
}

static void kbus_pipelined(long n, int nrx, Figure *fig)
{
        int res[2], ready[MAX_RX];
        pid_t rx[MAX_RX];

        if (pipe(res) < 0)
                die("pipe");
        g_result_fd = res[1];
        for (int i = 0; i < nrx; i++)
                rx[i] = spawn(kbus_receiver, n, &ready[i]);
        close(res[1]);
        for (int i = 0; i < nrx; i++)
                wait_ready(ready[i]);
        if (g_rx_bus != 0)
                wait_listener_crossed();
        post_and_count(n, res[0], nrx, n * nrx, fig);
        close(res[0]);
        for (int i = 0; i < nrx; i++)
                waitpid(rx[i], NULL, 0);
}

/* ---- through a Limpet pair ---------------------------------------------- */

typedef struct LimpetPair {
        pid_t pid[2];
} LimpetPair;

/* Starts one kbus-limpet (the server on bus 0, the client on bus 1); its stderr on *@err. */
static pid_t start_limpet(const Options *o, const char *link, int server, FILE **err)
{
        int p[2];

        if (pipe(p) < 0)
                die("pipe");
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(p[1], 2);
                close(p[0]);
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                execl(o->limpet, o->limpet, server ? "--server" : "--client", link, "--bus",
                      server ? "0" : "1", "--id", server ? "2" : "1",
                      strchr(link, '/') ? NULL : "--insecure", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        *err = fdopen(p[0], "r");
        return pid;
}

/* A Limpet pair joining bus 0 and bus 1 over @link; returns once both say "link up". */
static void limpet_pair_start(const Options *o, const char *link, LimpetPair *lp)
{
        FILE *err[2];
        char line[512];

        for (int i = 0; i < 2; i++)
                lp->pid[i] = start_limpet(o, link, i == 0, &err[i]);
        for (int i = 0; i < 2; i++) {
                while (err[i] && fgets(line, sizeof(line), err[i]) && strstr(line, "warning"))
                        ; /* --insecure says so first */
                if (!err[i] || !strstr(line, "link up")) {
                        fprintf(stderr, "kbus-bench: kbus-limpet (%s) did not join: %s",
                                o->limpet, err[i] ? line : "\n");
                        exit(1);
                }
                fclose(err[i]);
        }
}

static void limpet_pair_stop(LimpetPair *lp)
{
        for (int i = 0; i < 2; i++) {
                kill(lp->pid[i], SIGTERM);
                waitpid(lp->pid[i], NULL, 0);
        }
}

/* A TCP port on the loopback that nobody uses at this moment. */
static int free_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
                die("free port");
        close(fd);
        return ntohs(sa.sin_port);
}

typedef struct LimpetFigures {
        Figure unix_rtt, tcp_rtt, unix_pipe;
        Figure chain; /* the ceiling: as many relays in a row as a Limpet pair's path has */
} LimpetFigures;

/* The Limpet rows: round trips over a Unix and a TCP link, announcements across one. */
static void limpet_figures(const Options *o, const char *dir, LimpetFigures *lf)
{
        char link[600];
        LimpetPair lp;

        ceiling_relay_rtt(o, MAX_CHAIN, &lf->chain);
        snprintf(link, sizeof(link), "%s/link", dir);
        limpet_pair_start(o, link, &lp);
        kbus_request_rtt_to(o, 1, &lf->unix_rtt);
        g_rx_bus = 1;
        kbus_pipelined(o->tput_n / 10, 1, &lf->unix_pipe);
        g_rx_bus = 0;
        limpet_pair_stop(&lp);
        unlink(link);

        snprintf(link, sizeof(link), "127.0.0.1:%d", free_port());
        limpet_pair_start(o, link, &lp);
        kbus_request_rtt_to(o, 1, &lf->tcp_rtt);
        limpet_pair_stop(&lp);
}

/* kbus-limpet beside this kbus-bench, if it is there. */
static const char *limpet_beside_us(void)
{
        static char path[4096];
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);

        if (n <= 0)
                return NULL;
        path[n] = '\0';
        char *slash = strrchr(path, '/');
        if (!slash)
                return NULL;
        strcpy(slash + 1, "kbus-limpet");
        return access(path, X_OK) == 0 ? path : NULL;
}

/* ---- output ------------------------------------------------------------- */

static void print_latency(const char *name, const Figure *k, const Figure *ceil,
                          const char *ceil_name)
{
        printf("%-34s p50 %7.2f us  p99 %7.2f us   %5.2fx %s (p50 %.2f us)\n", name, k->p50,
               k->p99, k->p50 / ceil->p50, ceil_name, ceil->p50);
}

static void print_rate(const char *name, const Figure *k, const Figure *ceil, const char *unit)
{
        printf("%-34s %10.0f %s  lost %ld   %5.2f of relay (%.0f)\n", name, k->rate, unit,
               k->lost, k->rate / ceil->rate, ceil->rate);
}

static void print_limpet(const LimpetFigures *lf, const Figure *rr, const Figure *kr,
                         const Figure *k1)
{
        print_latency("ceiling: 4 relays in a row", &lf->chain, rr, "one relay");
        print_latency("request/reply through a Limpet, unix", &lf->unix_rtt, kr, "direct");
        print_latency("request/reply through a Limpet, tcp", &lf->tcp_rtt, kr, "direct");
        printf("%-34s %10.0f msgs/s        lost %ld   %5.2f of direct (%.0f)\n",
               "announcements across a link, unix", lf->unix_pipe.rate, lf->unix_pipe.lost,
               lf->unix_pipe.rate / k1->rate, k1->rate);
}

static const char *const only_names[] = { "rtt", "send", "pipe1", "pipe10", "limpet-rtt",
                                           "limpet-pipe", "relay-rtt", "relay-pipe1",
                                           "relay-pipe10", NULL };

static bool only_known(const char *name)
{
        for (int i = 0; only_names[i]; i++)
                if (strcmp(name, only_names[i]) == 0)
                        return true;
        return false;
}

/* One ceiling figure alone (for bench/compare): relay-rtt, -pipe1 or -pipe10. */
static void run_only_relay(const Options *o, Figure *f)
{
        if (strcmp(o->only, "relay-rtt") == 0)
                ceiling_relay_rtt(o, 1, f);
        else if (strcmp(o->only, "relay-pipe1") == 0)
                ceiling_relay_tput(o->tput_n, 1, f);
        else
                ceiling_relay_tput(o->tput_n / 5, o->fanout, f);
}

/* One kbus figure alone, without the ceiling: for profilers. */
static void run_only(const Options *o, const char *dir)
{
        Figure f = { 0 };
        LimpetPair lp;
        char link[600];

        snprintf(link, sizeof(link), "%s/link", dir);
        if (strncmp(o->only, "limpet-", 7) == 0) {
                if (!o->limpet) {
                        fprintf(stderr, "kbus-bench: no kbus-limpet (--limpet PATH)\n");
                        return;
                }
                limpet_pair_start(o, link, &lp);
        }
        if (strncmp(o->only, "relay-", 6) == 0)
                run_only_relay(o, &f);
        else if (strcmp(o->only, "rtt") == 0)
                kbus_request_rtt(o, &f);
        else if (strcmp(o->only, "send") == 0)
                kbus_send_rtt(o, &f);
        else if (strcmp(o->only, "pipe1") == 0)
                kbus_pipelined(o->tput_n, 1, &f);
        else if (strcmp(o->only, "pipe10") == 0)
                kbus_pipelined(o->tput_n / 5, o->fanout, &f);
        else if (strcmp(o->only, "limpet-rtt") == 0)
                kbus_request_rtt_to(o, 1, &f);
        else {
                g_rx_bus = 1;
                kbus_pipelined(o->tput_n / 10, 1, &f);
                g_rx_bus = 0;
        }
        if (strncmp(o->only, "limpet-", 7) == 0)
                limpet_pair_stop(&lp);
        printf("%s: p50 %.2f us p99 %.2f us rate %.0f/s lost %ld kbusd cpu %.3f s\n", o->only,
               f.p50, f.p99, f.rate, f.lost, f.cpu_s);
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: kbus-bench [--kbusd PATH] [--quick] [--round-trips N] [--messages N]\n"
                   "                  [--only rtt|send|pipe1|pipe10|limpet-rtt|limpet-pipe|\n"
                   "                          relay-rtt|relay-pipe1|relay-pipe10]\n"
                   "                  [--policy FILE] [--limpet PATH] [--growth]\n"
                   "       kbus-bench --help | --version\n"
                   "Measure kbus against this machine's ceiling (see kbus-bench(1)).\n");
}

static void parse(int argc, char **argv, Options *o)
{
        static const struct option opts[] = {
                { "kbusd", required_argument, NULL, 'k' },
                { "round-trips", required_argument, NULL, 'r' },
                { "messages", required_argument, NULL, 'm' },
                { "quick", no_argument, NULL, 'q' },
                { "only", required_argument, NULL, 'o' },
                { "policy", required_argument, NULL, 'p' },
                { "limpet", required_argument, NULL, 'l' },
                { "growth", no_argument, NULL, 'g' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "k:r:m:qo:p:l:ghV", opts, NULL)) != -1) {
                switch (c) {
                case 'k': o->kbusd = optarg; break;
                case 'r': o->rtt_n = atol(optarg); break;
                case 'm': o->tput_n = atol(optarg); break;
                case 'q': o->rtt_n = 5000; o->tput_n = 50000; o->quick = true; break;
                case 'g': o->growth = true; break;
                case 'o': o->only = optarg; break;
                case 'p': o->policy = optarg; break;
                case 'l': o->limpet = optarg; break;
                case 'h': usage(stdout); exit(0);
                case 'V': printf("kbus-bench %s\n", kbus_version()); exit(0);
                default: usage(stderr); exit(2);
                }
        }
        if (o->only && !only_known(o->only)) {
                fprintf(stderr, "kbus-bench: --only takes rtt, send, pipe1, pipe10, limpet-rtt, "
                                "limpet-pipe, relay-rtt, relay-pipe1 or relay-pipe10\n");
                exit(2);
        }
        if (o->rtt_n < 100 || o->tput_n < 1000) {
                fprintf(stderr, "kbus-bench: need at least 100 round trips and 1000 messages\n");
                exit(2);
        }
}

int main(int argc, char **argv)
{
        Options o = { .kbusd = "kbusd", .rtt_n = 50000, .tput_n = 1000000, .fanout = 10 };
        Figure pp = { 0 }, rr = { 0 }, r1 = { 0 }, r10 = { 0 };
        Figure kr = { 0 }, ks = { 0 }, k1 = { 0 }, k10 = { 0 };
        LimpetFigures lf;

        memset(&lf, 0, sizeof(lf));
        char dir[] = "/tmp/kbus-bench.XXXXXX";

        parse(argc, argv, &o);
        if (!o.limpet)
                o.limpet = limpet_beside_us();
        signal(SIGPIPE, SIG_IGN);
        if (o.growth) {
                growth_figures(&o);
                return 0;
        }
        start_kbusd(&o, dir);
        if (o.only) {
                run_only(&o, dir);
                stop_kbusd(dir);
                return 0;
        }
        ceiling_pingpong(&o, &pp);
        ceiling_relay_rtt(&o, 1, &rr);
        ceiling_relay_tput(o.tput_n, 1, &r1);
        ceiling_relay_tput(o.tput_n / 5, o.fanout, &r10);
        kbus_request_rtt(&o, &kr);
        kbus_send_rtt(&o, &ks);
        kbus_pipelined(o.tput_n, 1, &k1);
        kbus_pipelined(o.tput_n / 5, o.fanout, &k10);
        if (o.limpet)
                limpet_figures(&o, dir, &lf);
        stop_kbusd(dir);

        printf("kbus-bench %s, 64-byte payloads, %ld round trips, %ld messages\n",
               kbus_version(), o.rtt_n, o.tput_n);
        printf("ceiling: ping-pong p50 %.2f us, relay round trip p50 %.2f us, relay 1->1 "
               "%.0f msgs/s, relay 1->%d %.0f deliveries/s (64 frames per write)\n",
               pp.p50, rr.p50, r1.rate, o.fanout, r10.rate);
        print_latency("request/reply round trip", &kr, &rr, "relay");
        print_latency("sync send round trip", &ks, &pp, "ping-pong");
        print_rate("pipelined announcements 1->1", &k1, &r1, "msgs/s      ");
        print_rate("pipelined announcements 1->10", &k10, &r10, "deliveries/s");
        printf("kbusd CPU per round trip %.2f us, per sync send %.2f us, per delivery %.0f ns "
               "(1->1) %.0f ns (1->%d)\n",
               kr.cpu_s / (double)kr.count * 1e6, ks.cpu_s / (double)ks.count * 1e6,
               k1.cpu_s / (double)(k1.count ? k1.count : 1) * 1e9,
               k10.cpu_s / (double)(k10.count ? k10.count : 1) * 1e9, o.fanout);
        if (o.limpet)
                print_limpet(&lf, &rr, &kr, &k1);
        else
                printf("(no Limpet rows: kbus-limpet is not beside kbus-bench; --limpet PATH)\n");
        return 0;
}
