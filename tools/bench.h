/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench.h - what kbus-bench's parts share: its options, a figure, and the
 * helpers that start a private kbusd, open ksocks and time round trips
 * (kbus-bench.c); bench-growth.c measures how the costs grow with the bus.
 */
#ifndef KBUS_TOOLS_BENCH_H
#define KBUS_TOOLS_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kbus/kbus.h"

#define PAYLOAD 64
#define WARMUP 2000
#define MAX_RX 16
#define NAME "$.Bench.Data"
#define RNAME "$.Bench.Ask"

typedef struct Options {
        const char *kbusd;
        long rtt_n;    /* round trips per latency figure */
        long tput_n;   /* messages per throughput figure */
        int fanout;    /* receivers for the fan-out figure */
        const char *only; /* run just this kbus figure (for profiling), or NULL */
        const char *policy; /* kbusd's --policy, or NULL */
        const char *limpet; /* kbus-limpet, or NULL: no Limpet rows */
        bool growth;        /* the growth rows instead (bench-growth.c) */
        bool quick;
} Options;

typedef struct Figure {
        double p50, p99; /* microseconds, for latency */
        double rate;     /* per second, for throughput */
        double cpu_s;    /* kbusd CPU seconds during the measurement */
        long count;      /* round trips or deliveries measured */
        long lost;
} Figure;

extern pid_t bench_kbusd_pid;

void die(const char *what);
void check(int r, const char *what);
uint64_t now_ns(void);
void summarize(double *us, long n, Figure *f);
double kbusd_cpu(void);
void start_kbusd(const Options *o, char *dir);
void stop_kbusd(const char *dir);
kbus_ksock_t bench_open_bus(uint32_t bus);
kbus_ksock_t bench_open(void);
pid_t spawn(void (*fn)(int ready, long arg), long arg, int *ready_fd);
void wait_ready(int fd);
void signal_ready(int fd);
int read_all(int fd, void *p, size_t n);
void kbus_send_rtt(const Options *o, Figure *fig);
void post_and_count(long n, int res_fd, int nresults, long expect, Figure *fig);
void growth_figures(Options *o);

#endif
