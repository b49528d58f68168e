/* SPDX-License-Identifier: MPL-2.0 */
/*
 * security-test.h - helpers for the tests that play other users: children
 * that run as another uid, and a kbusd with a policy file and a kept log.
 *
 * A child runs a ChildFn after dropping to the uid (and gid) given, with
 * setgroups/setresgid/setresuid, so the tests never need real accounts.
 * Children cannot use cmocka's asserts (a failure would never reach the
 * parent), so they check with CHILD_CHECK, which prints the condition and
 * makes the child exit non-zero.  Parent and child take turns through a
 * socketpair: the child signals (optionally with a number), the parent
 * waits; the parent releases, the child waits.
 */
#ifndef KBUS_TESTS_SECURITY_TEST_H
#define KBUS_TESTS_SECURITY_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kbus/kbus.h"

#define CHILD_CHECK(cond)                                                                  \
        do {                                                                               \
                if (!(cond)) {                                                             \
                        fprintf(stderr, "%s:%d: in a child: check failed: %s\n", __FILE__, \
                                __LINE__, #cond);                                          \
                        return 1;                                                          \
                }                                                                          \
        } while (0)

typedef int (*ChildFn)(void *arg, int ctl);

typedef struct Child {
        pid_t pid;
        int ctl; /* the parent's end of the socketpair */
} Child;

Child child_start(uid_t uid, ChildFn fn, void *arg);
int child_run(uid_t uid, ChildFn fn, void *arg);
void child_wait(Child *c);
uint32_t child_wait_value(Child *c);
void child_release(Child *c);
int child_finish(Child *c);
void child_signal(int ctl);
void child_signal_value(int ctl, uint32_t value);
void child_wait_parent(int ctl);

int sec_next_msg(kbus_ksock_t ks, int timeout_ms, kbus_message_t **ret);

void sec_start(const char *const *args);
void sec_start_policy(const char *const *args);
void sec_stop(void);
pid_t sec_kbusd_pid(void);
void sec_write_policy(const char *text);
void sec_chmod_policy(mode_t mode);
void sec_remove_policy(void);
void sec_reload(void);
bool sec_log_wait(const char *needle);
int sec_log_count(const char *needle);
int sec_run_kbusd_fails(char *out, size_t outlen);

#endif
