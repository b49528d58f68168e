/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer.c - the comparison's workloads for one message system, timed the
 * way kbus-bench times kbus, and printed on one line in kbus-bench's
 * --only format so bench/compare reads every system alike:
 *
 *   peer-X ADDRESS rtt N        N round trips of a 64-byte request: p50, p99
 *   peer-X ADDRESS pipe N NRX   N 64-byte announcements to NRX listeners:
 *                               deliveries per second, and how many were lost
 *
 * The server and listeners are forked children; the parent is the
 * requester or the announcer.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

#define PAYLOAD 64
#define WARMUP 1000
#define MAX_RX 16
#define FIRST_WAIT_MS 10000 /* for the first announcement */
#define QUIET_MS 2000       /* after which a listener counts the rest as lost */

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void peer_die(const char *what, const char *why)
{
        fprintf(stderr, "peer-%s: %s: %s\n", peer_name, what, why);
        exit(1);
}

static void wait_byte(int fd)
{
        char c;
        if (read(fd, &c, 1) != 1)
                peer_die("a child", "did not get ready");
}

static void stop_child(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static void round_trips(const char *address, long n)
{
        static const char data[PAYLOAD];
        int ready[2];

        if (pipe(ready) < 0)
                peer_die("pipe", "failed");
        fflush(NULL);
        pid_t server = fork();
        if (server == 0) {
                close(ready[0]);
                peer_serve(peer_open(address, true), ready[1]);
                _exit(0);
        }
        close(ready[1]);
        wait_byte(ready[0]);
        Peer *p = peer_open(address, true);
        double *us = malloc((size_t)n * sizeof(*us));
        if (!us)
                peer_die("malloc", "out of memory");
        for (int i = 0; i < WARMUP; i++)
                peer_request(p, data, sizeof(data));
        for (long i = 0; i < n; i++) {
                uint64_t t0 = now_ns();
                peer_request(p, data, sizeof(data));
                us[i] = (double)(now_ns() - t0) / 1e3;
        }
        stop_child(server);
        qsort(us, (size_t)n, sizeof(*us), cmp_double);
        printf("%s-rtt: p50 %.2f us p99 %.2f us rate 0/s lost 0\n", peer_name, us[n / 2],
               us[n * 99 / 100]);
        free(us);
}

/* A listener: counts announcements until @expect or quiet; reports
 * (count, time of the last) on @res. */
static void listen_and_count(const char *address, long expect, int ready, int res)
{
        Peer *p = peer_open(address, false);
        uint64_t got[2] = { 0, 0 };

        peer_subscribe(p);
        if (write(ready, "r", 1) != 1)
                _exit(2);
        while ((long)got[0] < expect && peer_next(p, got[0] ? QUIET_MS : FIRST_WAIT_MS)) {
                got[0]++;
                got[1] = now_ns();
        }
        if (write(res, got, sizeof(got)) != sizeof(got))
                _exit(2);
        _exit(0);
}

static void pipelined(const char *address, long n, int nrx)
{
        static const char data[PAYLOAD];
        int ready[2], res[2];
        pid_t rx[MAX_RX];

        if (pipe(ready) < 0 || pipe(res) < 0)
                peer_die("pipe", "failed");
        /* Fork before any library starts its threads (NATS, ZeroMQ have some). */
        fflush(NULL);
        for (int i = 0; i < nrx; i++) {
                rx[i] = fork();
                if (rx[i] == 0)
                        listen_and_count(address, n, ready[1], res[1]);
        }
        for (int i = 0; i < nrx; i++)
                wait_byte(ready[0]);
        Peer *p = peer_open(address, false);
        peer_prepare_announce(p);
        /* ZeroMQ's subscriptions travel on their own; give them time to. */
        usleep(300000);
        uint64_t t0 = now_ns(), last = t0, total = 0;
        for (long i = 0; i < n; i++)
                peer_announce(p, data, sizeof(data));
        peer_flush(p);
        for (int i = 0; i < nrx; i++) {
                uint64_t got[2];
                if (read(res[0], got, sizeof(got)) != sizeof(got))
                        peer_die("a listener", "did not report");
                total += got[0];
                last = got[1] > last ? got[1] : last;
        }
        for (int i = 0; i < nrx; i++)
                waitpid(rx[i], NULL, 0);
        printf("%s-pipe%d: p50 0 us p99 0 us rate %.0f/s lost %ld\n", peer_name, nrx,
               (double)total / ((double)(last - t0) / 1e9), (long)n * nrx - (long)total);
}

int main(int argc, char **argv)
{
        long n = argc > 3 ? atol(argv[3]) : 0;
        int nrx = argc > 4 ? atoi(argv[4]) : 1;

        signal(SIGPIPE, SIG_IGN);
        if (argc >= 4 && strcmp(argv[2], "rtt") == 0 && n >= 100)
                round_trips(argv[1], n);
        else if (argc >= 5 && strcmp(argv[2], "pipe") == 0 && n > 0 && nrx > 0 && nrx <= MAX_RX)
                pipelined(argv[1], n, nrx);
        else {
                fprintf(stderr, "usage: peer-%s ADDRESS rtt N | ADDRESS pipe N NRX\n", peer_name);
                return 2;
        }
        return 0;
}
