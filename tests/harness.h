/* SPDX-License-Identifier: MPL-2.0 */
/*
 * harness.h - start and stop a real kbusd for integration tests.
 */
#ifndef KBUS_TESTS_HARNESS_H
#define KBUS_TESTS_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct Kbusd {
        pid_t pid;
        int out_fd;          /* kbusd's stdout */
        unsigned buses;
        bool keep_log;       /* stderr goes to log_path (kbusd_start_logged()) */
        char dir[PATH_MAX];  /* its socket directory (also $KBUS_SOCKET_DIR) */
        char log_path[PATH_MAX + 16];
} Kbusd;

int kbusd_start(Kbusd *k, const char *const *args);
int kbusd_start_in(Kbusd *k, const char *dir, const char *const *args);
int kbusd_start_logged(Kbusd *k, const char *const *args);
int kbusd_stop(Kbusd *k);
int kbusd_kill(Kbusd *k, int sig);
const char *kbusd_path(void);
int harness_wait_exit(pid_t pid, int timeout_ms);
long harness_now_ms(void);
char *kbusd_log(const Kbusd *k);
long harness_rss_kb(pid_t pid);

#endif
