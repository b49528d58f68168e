/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench-growth.c - kbus-bench --growth: how the cost of a send grows with
 * the bus (kbus-bench(1)).
 *
 * kbusd should not slow down as a bus fills up: a send looks up its name
 * in the binding trie, so bindings that do not match should cost nothing,
 * and idle ksocks should cost nothing but their memory.  This measures a
 * synchronous send (p50) with 10, 1000 and 100,000 non-matching bindings
 * on the bus, and with 1, 1000 and 10,000 idle ksocks connected, each as a
 * ratio to the first; kbusd's resident memory idle and per idle ksock; and
 * pipelined fan-out to 100 and 1000 receivers (one process holding all
 * their ksocks).  It starts its own kbusd with limits raised for this (a
 * policy file of limit lines); --quick takes a tenth of each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define GROWTH_ROWS 3
#define FANOUT_ROWS 2
#define IDLE_WAIT_MS 3000 /* a receiver that hears nothing this long is done */

typedef struct Growth {
        long bindings[GROWTH_ROWS], ksocks[GROWTH_ROWS], fanout[FANOUT_ROWS];
        Figure by_bindings[GROWTH_ROWS], by_ksocks[GROWTH_ROWS], by_fanout[FANOUT_ROWS];
        long rss_idle_kib, anon_idle_kib;  /* kbusd just started: all, and its own */
        long rss_before_kib, rss_ksocks_kib; /* before and with the most idle ksocks */
} Growth;

/* A line of kbusd's /proc status in KiB ("VmRSS: %ld kB"), or 0. */
static long kbusd_status_kib(const char *format)
{
        char path[64], line[256];
        long kib = 0;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)bench_kbusd_pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, format, &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

/* kbusd's resident memory in KiB: all of it, shared library pages included. */
static long kbusd_rss_kib(void)
{
        return kbusd_status_kib("VmRSS: %ld kB");
}

/* A policy file that lets one uid hold what the rows need; @path is its mkstemp() template. */
static void write_limits(char *path)
{
        int fd = mkstemp(path);
        FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!f)
                die("policy file");
        fprintf(f, "limit bindings-per-uid 262144\nlimit connections-per-uid 32768\n"
                   "limit queued-bytes-per-uid 1073741824\n"
                   "limit queued-bytes-total 2147483648\n");
        fclose(f);
}

/* Room for @n more descriptors in this process (and the children it forks). */
static void raise_fd_limit(long n)
{
        struct rlimit r;

        if (getrlimit(RLIMIT_NOFILE, &r) < 0)
                die("getrlimit");
        if ((long)r.rlim_cur >= n + 64)
                return;
        r.rlim_cur = (rlim_t)n + 64;
        if (r.rlim_max < r.rlim_cur)
                r.rlim_max = r.rlim_cur; /* root may; others get the error below */
        if (setrlimit(RLIMIT_NOFILE, &r) < 0)
                die("raising RLIMIT_NOFILE for the idle ksocks");
}

/*
 * A synchronous send's p50: the best of seven short runs.  On a small,
 * shared machine one run's p50 lands in one of two modes (about 23 or 31 us
 * here, with where the scheduler puts the two processes), whatever the bus
 * holds; the best of several runs sees the same mode for every row.
 */
#define GROWTH_RUNS 7

static void sync_send_p50(const Options *o, Figure *fig)
{
        Options few = *o;
        Figure f;

        few.rtt_n = o->rtt_n / 35 > 1000 ? o->rtt_n / 35 : 1000;
        for (int i = 0; i < GROWTH_RUNS; i++) {
                kbus_send_rtt(&few, &f);
                if (i == 0 || f.p50 < fig->p50)
                        *fig = f;
        }
}

/* Sends with ever more non-matching bindings on the bus (one ksock holds them). */
static void by_bindings(const Options *o, Growth *g)
{
        kbus_ksock_t holder = bench_open();
        char name[64];
        long bound = 0;

        for (int row = 0; row < GROWTH_ROWS; row++) {
                for (; bound < g->bindings[row]; bound++) {
                        snprintf(name, sizeof(name), "$.Growth.Unheard.N%ld", bound);
                        check(kbus_ksock_bind(holder, name, 0), "bind");
                }
                sync_send_p50(o, &g->by_bindings[row]);
        }
        kbus_ksock_close(holder);
}

/* Sends with ever more idle ksocks connected; kbusd's memory for them. */
static void by_ksocks(const Options *o, Growth *g)
{
        long most = g->ksocks[GROWTH_ROWS - 1], open = 0;
        kbus_ksock_t *idle = calloc((size_t)most, sizeof(*idle));

        if (!idle)
                die("calloc");
        raise_fd_limit(most);
        g->rss_before_kib = kbusd_rss_kib();
        for (int row = 0; row < GROWTH_ROWS; row++) {
                for (; open < g->ksocks[row]; open++)
                        idle[open] = bench_open();
                sync_send_p50(o, &g->by_ksocks[row]);
        }
        g->rss_ksocks_kib = kbusd_rss_kib();
        for (long i = 0; i < open; i++)
                kbus_ksock_close(idle[i]);
        free(idle);
}

static int g_fanout_result = -1;
static long g_expect; /* messages each fan-out receiver should hear */

/* Hears NAME on @n ksocks at once until each has had g_expect, or all go quiet. */
static void fanout_receiver(int ready, long n)
{
        int ep = epoll_create1(0);
        uint32_t max = 1u << 20;
        uint64_t got[2] = { 0, 0 };
        kbus_message_t *m;

        for (long i = 0; i < n; i++) {
                kbus_ksock_t ks = bench_open();
                struct epoll_event ev = { .events = EPOLLIN, .data.fd = ks };
                check(kbus_ksock_max_messages(ks, &max), "max_messages");
                check(kbus_ksock_bind(ks, NAME, 0), "bind");
                if (epoll_ctl(ep, EPOLL_CTL_ADD, ks, &ev) < 0)
                        die("epoll_ctl");
        }
        signal_ready(ready);
        while ((long)got[0] < g_expect * n) {
                struct epoll_event evs[64];
                int k = epoll_wait(ep, evs, 64, IDLE_WAIT_MS);
                if (k <= 0)
                        break;
                for (int i = 0; i < k; i++)
                        while (kbus_ksock_read_next_msg(evs[i].data.fd, &m) == 0 && m) {
                                got[0]++;
                                kbus_msg_delete(&m);
                        }
                got[1] = now_ns();
        }
        if (write(g_fanout_result, got, sizeof(got)) != sizeof(got))
                _exit(2);
        _exit(0);
}

/* @msgs announcements posted to @nrx receivers: deliveries per second. */
static void fanout(long msgs, long nrx, Figure *fig)
{
        int res[2], ready;

        if (pipe(res) < 0)
                die("pipe");
        g_fanout_result = res[1];
        g_expect = msgs;
        pid_t rx = spawn(fanout_receiver, nrx, &ready);
        close(res[1]);
        wait_ready(ready);
        post_and_count(msgs, res[0], 1, msgs * nrx, fig);
        close(res[0]);
        waitpid(rx, NULL, 0);
}

static void print_growth(const char *what, const long *counts, const Figure *f)
{
        printf("sync send p50 with %-22s", what);
        for (int i = 0; i < GROWTH_ROWS; i++)
                printf(" %6ld: %6.2f us%s", counts[i], f[i].p50, i + 1 < GROWTH_ROWS ? "," : "");
        printf("   %.2fx from first to last\n", f[GROWTH_ROWS - 1].p50 / f[0].p50);
}

static void print_figures(const Options *o, const Growth *g)
{
        long per_ksock = (g->rss_ksocks_kib - g->rss_before_kib) * 1024 /
                         g->ksocks[GROWTH_ROWS - 1];

        printf("kbus-bench --growth %s, 64-byte payloads%s\n", kbus_version(),
               o->quick ? " (--quick: a tenth of each)" : "");
        print_growth("non-matching bindings", g->bindings, g->by_bindings);
        print_growth("idle ksocks", g->ksocks, g->by_ksocks);
        printf("kbusd RSS idle %ld KiB (its own memory %ld KiB, the rest shared library pages); "
               "%ld KiB more with %ld idle ksocks: %ld bytes per ksock\n",
               g->rss_idle_kib, g->anon_idle_kib, g->rss_ksocks_kib - g->rss_before_kib,
               g->ksocks[GROWTH_ROWS - 1], per_ksock);
        for (int i = 0; i < FANOUT_ROWS; i++)
                printf("pipelined announcements 1->%-5ld %10.0f deliveries/s  lost %ld  kbusd CPU "
                       "%.0f ns per delivery\n", g->fanout[i], g->by_fanout[i].rate,
                       g->by_fanout[i].lost,
                       g->by_fanout[i].cpu_s / (double)(g->by_fanout[i].count ? g->by_fanout[i].count
                                                                               : 1) * 1e9);
}

/**
 * growth_figures() - measure and print the growth rows, with a kbusd of
 * their own.
 * @o: the options (--quick: a tenth of each count)
 */
void growth_figures(Options *o)
{
        long scale = o->quick ? 10 : 1;
        Growth g = { .bindings = { 10, 1000, 100000 / scale },
                     .ksocks = { 1, 1000 / scale, 10000 / scale },
                     .fanout = { 100, 1000 } };
        char dir[] = "/tmp/kbus-bench.XXXXXX", limits[] = "/tmp/kbus-bench-limits.XXXXXX";

        write_limits(limits);
        if (!o->policy)
                o->policy = limits;
        start_kbusd(o, dir);
        g.rss_idle_kib = kbusd_rss_kib();
        g.anon_idle_kib = kbusd_status_kib("RssAnon: %ld kB");
        by_ksocks(o, &g); /* first: the bindings row leaves freed memory that a trim returns later */
        by_bindings(o, &g);
        for (int i = 0; i < FANOUT_ROWS; i++)
                fanout(2000000 / scale / g.fanout[i], g.fanout[i], &g.by_fanout[i]);
        stop_kbusd(dir);
        unlink(limits);
        print_figures(o, &g);
}
