/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-random.c - "a reply for every request" (semantics §9) under randomized
 * churn of repliers, against a real kbusd.
 *
 * For each of a few fixed seeds, NREQUESTERS requester processes send
 * requests (plain and stateful) to random names under `$.Rand.Svc.<slot>.`
 * while NSLOTS slots are served by a succession of replier processes.  Each
 * replier binds `$.Rand.Svc.<slot>.*` as replier, answers a seeded number of
 * requests, and then goes away in a seeded manner: exit(), SIGKILL from the
 * parent while still serving, exit after taking requests and not answering
 * them, or unbind (then answer what it took) and exit.  When the parent sees
 * a slot's replier unbind (a `$.KBUS.ReplierBindEvent`, semantics §11), it
 * starts the next one.  When every requester has sent its share the parent
 * kills the repliers still alive and waits until kbusd has handled every
 * replier's close, then tells the requesters to check their books.
 *
 * A requester counts only requests whose send succeeded; failures such as
 * -EADDRNOTAVAIL (no replier at that moment), -EPIPE (stateful request, the
 * replier changed), -EBUSY and -ENOLCK (queues full) are expected and
 * counted apart.  The invariant, checked per requester and in total: every
 * successful request got exactly one answer - the replier's Reply (same
 * name, same data, from the replier) or a status GoneAway / Ignored /
 * Unbound (SYNTHETIC, no data, to the requester, from the replier) - never
 * zero and never two.  Timing varies from run to run; the outcome does not.
 *
 * kbusd has processed a replier's close once the parent sees the unbind
 * event of a "life" binding (`$.Rand.Life.<n>`) that the replier holds for
 * its whole life: kbusd answers the closed ksock's requests before it drops
 * its bindings (semantics §9, §11), so by then every status is queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

#define NSLOTS 3
#define NREQUESTERS 4
#define NREQUESTS 150
#define MAX_REPLIERS 400
#define SEED_DEADLINE_MS 45000
#define NAME_MAX_LEN 40

/* splitmix64: small, good enough, and the same everywhere. */
typedef struct Rng {
        uint64_t s;
} Rng;

static uint32_t rng_below(Rng *r, uint32_t n)
{
        uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return (uint32_t)(z % n);
}

/* ---- file descriptors a child must not keep ------------------------------ */

static int tracked[2 * (MAX_REPLIERS + NREQUESTERS)];
static int ntracked;
static kbus_ksock_t events_ks = -1;

static void fd_track(int fd)
{
        assert_true(ntracked < (int)(sizeof(tracked) / sizeof(tracked[0])));
        tracked[ntracked++] = fd;
}

static void fd_close(int fd)
{
        for (int i = 0; i < ntracked; i++)
                if (tracked[i] == fd) {
                        tracked[i] = tracked[--ntracked];
                        break;
                }
        close(fd);
}

/* In a new child: drop the parent's ends of other children's pipes and its ksock. */
static void child_start(void)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(100);
        for (int i = 0; i < ntracked; i++)
                close(tracked[i]);
        ntracked = 0;
        if (events_ks >= 0)
                kbus_ksock_close(events_ks); /* only this process's copy */
        events_ks = -1;
}

/* Waits up to @ms for @fd to be readable; returns > 0 if it is. */
static int wait_readable(int fd, int ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r;

        do
                r = poll(&p, 1, ms);
        while (r < 0 && errno == EINTR);
        return r;
}

/* ---- repliers -------------------------------------------------------------- */

enum Fate {
        FATE_EXIT,   /* after @answer replies: exit, leaving its queue unread */
        FATE_KILL,   /* after @answer replies: ask the parent for SIGKILL, keep serving */
        FATE_DROP,   /* after @answer replies: take @drop more, answer none, exit */
        FATE_UNBIND, /* after @answer replies: take @drop more, unbind, answer them, exit */
        FATE_COUNT,
};

typedef struct Plan {
        unsigned slot, life;
        enum Fate fate;
        unsigned answer, drop;
        bool close_first; /* kbus_ksock_close() before exiting, or leave it to the kernel */
} Plan;

static int replier_answer(kbus_ksock_t ks, const kbus_message_t *m)
{
        kbus_message_t *rep;
        int r = kbus_msg_create_reply_to(&rep, m, kbus_msg_data_ptr(m), m->data_len, 0);

        if (r == 0)
                r = kbus_ksock_send_msg(ks, rep, NULL);
        kbus_msg_delete(&rep);
        return r;
}

static void replier_exit(kbus_ksock_t ks, const Plan *plan, kbus_message_t **held, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                kbus_msg_delete(&held[i]);
        if (plan->close_first)
                kbus_ksock_close(ks);
        _exit(0);
}

/* Having taken @n requests and answered none: go as the plan says. */
static void replier_finish(kbus_ksock_t ks, const Plan *plan, const char *svc,
                           kbus_message_t **held, unsigned n)
{
        if (plan->fate == FATE_UNBIND) {
                /* semantics §6: unread ones get Unbound; taken ones may still be answered */
                if (kbus_ksock_unbind(ks, svc, 1) != 0)
                        _exit(24);
                for (unsigned i = 0; i < n; i++)
                        if (replier_answer(ks, held[i]) != 0)
                                _exit(25);
        }
        replier_exit(ks, plan, held, n); /* FATE_DROP: the taken ones are Ignored */
}

static kbus_message_t *replier_next(kbus_ksock_t ks)
{
        kbus_message_t *m;

        for (;;) {
                if (kbus_ksock_read_next_msg(ks, &m) < 0)
                        _exit(26);
                if (m)
                        return m;
                if (wait_readable(ks, 30000) <= 0)
                        _exit(27);
        }
}

static void replier_main(const Plan *plan, int report_fd)
{
        char svc[NAME_MAX_LEN], life[NAME_MAX_LEN];
        kbus_message_t *held[8];
        unsigned answered = 0, nheld = 0;
        bool taking = false;

        snprintf(svc, sizeof(svc), "$.Rand.Svc.%u.*", plan->slot);
        snprintf(life, sizeof(life), "$.Rand.Life.%u", plan->life);
        kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
        if (ks < 0 || kbus_ksock_bind(ks, life, 1) || kbus_ksock_bind(ks, svc, 1))
                _exit(21);
        for (;;) {
                kbus_message_t *m = replier_next(ks);
                if (!kbus_msg_wants_us_to_reply(m))
                        _exit(23);
                if (taking) {
                        held[nheld++] = m;
                        if (nheld == plan->drop)
                                replier_finish(ks, plan, svc, held, nheld);
                        continue;
                }
                if (replier_answer(ks, m) != 0)
                        _exit(25);
                kbus_msg_delete(&m);
                if (++answered != plan->answer)
                        continue;
                if (plan->fate == FATE_EXIT)
                        replier_exit(ks, plan, held, 0);
                if (plan->fate == FATE_KILL && write(report_fd, "K", 1) != 1)
                        _exit(28);
                taking = plan->fate == FATE_DROP || plan->fate == FATE_UNBIND;
        }
}

/* ---- requesters ------------------------------------------------------------ */

typedef struct Report {
        uint32_t sent_ok, answered, replies, gone_away, ignored, unbound;
        uint32_t stateful_ok;
        uint32_t dup, unknown, bad, pending_left, timed_out;
        uint32_t fail_notavail, fail_pipe, fail_busy, fail_nolck, fail_other;
        int32_t other_errno;
} Report;

typedef struct Pending {
        uint32_t serial, to;
        bool answered;
        char name[NAME_MAX_LEN];
        char data[24];
} Pending;

typedef struct Requester {
        kbus_ksock_t ks;
        uint32_t id;
        Report rep;
        Pending pend[NREQUESTS];
        unsigned npend;
        kbus_message_t *last_reply; /* for stateful requests */
} Requester;

static Pending *requester_find(Requester *q, const kbus_msg_id_t *irt)
{
        for (unsigned i = 0; i < q->npend; i++)
                if (irt->network_id == 0 && q->pend[i].serial == irt->serial_num)
                        return &q->pend[i];
        return NULL;
}

/* A status must be exactly as semantics §9 describes it. */
static bool requester_status_ok(Requester *q, const kbus_message_t *m, const Pending *p)
{
        const char *name = kbus_msg_name_ptr(m);

        if (m->data_len != 0 || m->from == 0 || (p->to && m->from != p->to))
                return false;
        if (strcmp(name, KBUS_MSG_NAME_REPLIER_GONEAWAY) == 0)
                q->rep.gone_away++;
        else if (strcmp(name, KBUS_MSG_NAME_REPLIER_IGNORED) == 0)
                q->rep.ignored++;
        else if (strcmp(name, KBUS_MSG_NAME_REPLIER_UNBOUND) == 0)
                q->rep.unbound++;
        else
                return false;
        return true;
}

static bool requester_reply_ok(Requester *q, kbus_message_t **m, const Pending *p)
{
        const kbus_message_t *r = *m;

        if (r->from == 0 || (p->to && r->from != p->to) ||
            strcmp(kbus_msg_name_ptr(r), p->name) != 0 || r->data_len != strlen(p->data) ||
            memcmp(kbus_msg_data_ptr(r), p->data, r->data_len) != 0)
                return false;
        q->rep.replies++;
        kbus_msg_delete(&q->last_reply);
        q->last_reply = *m; /* kept: the next stateful request goes to its sender */
        *m = NULL;
        return true;
}

static void requester_handle(Requester *q, kbus_message_t *m)
{
        Pending *p = kbus_msg_is_reply(m) ? requester_find(q, &m->in_reply_to) : NULL;

        if (!p)
                q->rep.unknown++;
        else if (p->answered)
                q->rep.dup++; /* never two */
        else {
                bool ok = m->to == q->id;
                if (m->flags & KBUS_BIT_SYNTHETIC)
                        ok = ok && requester_status_ok(q, m, p);
                else
                        ok = ok && requester_reply_ok(q, &m, p);
                if (!ok)
                        q->rep.bad++;
                p->answered = true;
                q->rep.answered++;
        }
        kbus_msg_delete(&m);
}

static void requester_drain(Requester *q)
{
        kbus_message_t *m;

        for (;;) {
                if (kbus_ksock_read_next_msg(q->ks, &m) < 0)
                        _exit(31);
                if (!m)
                        return;
                requester_handle(q, m);
        }
}

static void requester_count_failure(Requester *q, int r)
{
        switch (r) {
        case -EADDRNOTAVAIL:
                q->rep.fail_notavail++;
                break;
        case -EPIPE:
                q->rep.fail_pipe++;
                break;
        case -EBUSY:
                q->rep.fail_busy++;
                break;
        case -ENOLCK:
                q->rep.fail_nolck++;
                break;
        default:
                q->rep.fail_other++;
                q->rep.other_errno = r;
        }
}

static void requester_send_one(Requester *q, Rng *rng, unsigned i, unsigned idx)
{
        Pending *p = &q->pend[q->npend];
        kbus_message_t *msg;
        kbus_msg_id_t id;
        bool stateful = q->last_reply && rng_below(rng, 4) == 0;
        int r;

        memset(p, 0, sizeof(*p));
        snprintf(p->data, sizeof(p->data), "q%u:%u", idx, i);
        if (stateful) {
                snprintf(p->name, sizeof(p->name), "%s", kbus_msg_name_ptr(q->last_reply));
                p->to = q->last_reply->from;
                r = kbus_msg_create_stateful_request(&msg, q->last_reply, p->name,
                                                     (uint32_t)strlen(p->name), p->data,
                                                     (uint32_t)strlen(p->data), 0);
        } else {
                snprintf(p->name, sizeof(p->name), "$.Rand.Svc.%u.N%u", rng_below(rng, NSLOTS),
                         rng_below(rng, 4));
                r = kbus_msg_create_request(&msg, p->name, (uint32_t)strlen(p->name), p->data,
                                            (uint32_t)strlen(p->data), 0);
        }
        if (r != 0)
                _exit(32);
        r = kbus_ksock_send_msg(q->ks, msg, &id);
        kbus_msg_delete(&msg);
        if (r != 0) {
                requester_count_failure(q, r);
                return;
        }
        if (id.network_id != 0 || id.serial_num == 0)
                q->rep.bad++;
        p->serial = id.serial_num;
        q->npend++;
        q->rep.sent_ok++;
        q->rep.stateful_ok += stateful;
}

static void requester_main(unsigned idx, uint64_t seed, int report_fd, int ctl_fd)
{
        static Requester q; /* this process's own copy */
        Rng rng = { seed };
        unsigned window = 1 + rng_below(&rng, 6);
        char c = 0;

        q.ks = kbus_ksock_open(0, O_RDWR);
        if (q.ks < 0 || kbus_ksock_id(q.ks, &q.id) || read(ctl_fd, &c, 1) != 1 || c != 'S')
                _exit(30);
        for (unsigned i = 0; i < NREQUESTS; i++) {
                /* pace: a few requests in flight, but never wait long for an answer */
                while (q.rep.sent_ok - q.rep.answered >= window && wait_readable(q.ks, 100) > 0)
                        requester_drain(&q);
                requester_send_one(&q, &rng, i, idx);
                requester_drain(&q);
        }
        if (write(report_fd, "D", 1) != 1)
                _exit(33);
        /* keep reading until the parent says every replier is gone and handled */
        long deadline = harness_now_ms() + SEED_DEADLINE_MS;
        for (;;) {
                struct pollfd p[2] = { { .fd = q.ks, .events = POLLIN },
                                       { .fd = ctl_fd, .events = POLLIN } };
                if (harness_now_ms() > deadline) {
                        q.rep.timed_out = 1;
                        break;
                }
                if (poll(p, 2, 1000) < 0 && errno != EINTR)
                        _exit(34);
                requester_drain(&q);
                if (p[1].revents) {
                        if (read(ctl_fd, &c, 1) != 1 || c != 'G')
                                _exit(35);
                        break;
                }
        }
        /* a round trip to kbusd: everything queued for us before it is now readable */
        uint32_t n;
        if (kbus_ksock_num_messages(q.ks, &n) != 0)
                _exit(36);
        requester_drain(&q);
        for (unsigned i = 0; i < q.npend; i++)
                q.rep.pending_left += !q.pend[i].answered;
        kbus_msg_delete(&q.last_reply);
        kbus_ksock_close(q.ks);
        _exit(write(report_fd, &q.rep, sizeof(q.rep)) == sizeof(q.rep) ? 0 : 37);
}

/* ---- the parent ------------------------------------------------------------ */

typedef struct Replier {
        Plan plan;
        pid_t pid;   /* 0 once reaped */
        int fd;      /* its report pipe, -1 once closed */
        uint32_t ksock;
        bool svc_bound, svc_unbound, life_unbound, killed;
        int status;
} Replier;

typedef struct Run {
        Rng rng;
        Replier rep[MAX_REPLIERS];
        unsigned nrep;
        unsigned slot_bound[NSLOTS];
        pid_t req_pid[NREQUESTERS];
        int req_fd[NREQUESTERS], req_ctl[NREQUESTERS];
        bool req_done[NREQUESTERS];
        unsigned ndone;
        bool stopping;
} Run;

static void run_spawn_replier(Run *run, unsigned slot)
{
        Replier *r = &run->rep[run->nrep];
        int p[2];

        assert_true(run->nrep < MAX_REPLIERS);
        memset(r, 0, sizeof(*r));
        r->plan.slot = slot;
        r->plan.life = run->nrep;
        /* the first three are fixed, so that every seed sees drop, exit and unbind */
        r->plan.fate = run->nrep < NSLOTS ? (enum Fate[]){ FATE_DROP, FATE_EXIT, FATE_UNBIND }[slot]
                                          : (enum Fate)rng_below(&run->rng, FATE_COUNT);
        r->plan.answer = 2 + rng_below(&run->rng, 12);
        r->plan.drop = 1 + rng_below(&run->rng, 3);
        r->plan.close_first = rng_below(&run->rng, 2);
        assert_int_equal(pipe(p), 0);
        fflush(NULL);
        r->pid = fork();
        assert_true(r->pid >= 0);
        if (r->pid == 0) {
                close(p[0]);
                child_start();
                replier_main(&r->plan, p[1]);
        }
        close(p[1]);
        r->fd = p[0];
        fd_track(r->fd);
        run->nrep++;
}

static void run_spawn_requester(Run *run, unsigned i, uint64_t seed)
{
        int rp[2], cp[2];

        assert_int_equal(pipe(rp), 0);
        assert_int_equal(pipe(cp), 0);
        fflush(NULL);
        run->req_pid[i] = fork();
        assert_true(run->req_pid[i] >= 0);
        if (run->req_pid[i] == 0) {
                close(rp[0]);
                close(cp[1]);
                child_start();
                requester_main(i, seed * 1000 + i, rp[1], cp[0]);
        }
        close(rp[1]);
        close(cp[0]);
        run->req_fd[i] = rp[0];
        run->req_ctl[i] = cp[1];
        fd_track(rp[0]);
        fd_track(cp[1]);
}

/* A replier bind event: track binds and unbinds; replace a replier that left its slot. */
static void run_event(Run *run, const kbus_message_t *m)
{
        uint32_t is_bind, binder;
        unsigned slot, life;
        char *name;

        assert_string_equal(kbus_msg_name_ptr(m), KBUS_MSG_NAME_REPLIER_BIND_EVENT);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), 0);
        if (sscanf(name, "$.Rand.Life.%u", &life) == 1) {
                assert_true(life < run->nrep);
                Replier *r = &run->rep[life];
                if (is_bind)
                        r->ksock = binder;
                else
                        r->life_unbound = true;
                assert_int_equal(r->ksock, binder);
        } else {
                assert_int_equal(sscanf(name, "$.Rand.Svc.%u.*", &slot), 1);
                assert_true(slot < NSLOTS);
                Replier *r = NULL;
                for (unsigned i = 0; i < run->nrep; i++)
                        if (run->rep[i].ksock == binder && run->rep[i].plan.slot == slot)
                                r = &run->rep[i];
                assert_non_null(r);
                if (is_bind) {
                        assert_false(r->svc_bound); /* one replier per name (semantics §6) */
                        r->svc_bound = true;
                        run->slot_bound[slot]++;
                } else {
                        assert_true(r->svc_bound);
                        assert_false(r->svc_unbound);
                        r->svc_unbound = true;
                        if (!run->stopping)
                                run_spawn_replier(run, slot);
                }
        }
        free(name);
}

static void run_drain_events(Run *run)
{
        kbus_message_t *m;

        for (;;) {
                assert_int_equal(kbus_ksock_read_next_msg(events_ks, &m), 0);
                if (!m)
                        return;
                run_event(run, m);
                kbus_msg_delete(&m);
        }
}

static void run_replier_input(Run *run, Replier *r)
{
        char c;
        ssize_t n = read(r->fd, &c, 1);

        if (n == 1) {
                assert_int_equal(c, 'K');
                assert_int_equal(r->plan.fate, FATE_KILL);
                assert_int_equal(kill(r->pid, SIGKILL), 0);
                r->killed = true;
                return;
        }
        assert_int_equal(n, 0); /* the process is gone */
        assert_int_equal(waitpid(r->pid, &r->status, 0), r->pid);
        r->pid = 0;
        if (!r->killed && !(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0))
                print_error("replier %u (slot %u, fate %d) ended with status 0x%x\n",
                            (unsigned)(r - run->rep), r->plan.slot, (int)r->plan.fate,
                            (unsigned)r->status);
        assert_true(r->killed || (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0));
        fd_close(r->fd);
        r->fd = -1;
}

/* What the run still waits for, when it took too long. */
static void run_dump(const Run *run)
{
        print_error("stopping %d, %u of %d requesters done\n", run->stopping, run->ndone,
                    NREQUESTERS);
        for (unsigned i = 0; i < run->nrep; i++) {
                const Replier *r = &run->rep[i];
                if (r->pid || !r->life_unbound)
                        print_error("replier %u: slot %u fate %d answer %u drop %u pid %d "
                                    "ksock %u bound %d unbound %d life_unbound %d killed %d\n",
                                    i, r->plan.slot, (int)r->plan.fate, r->plan.answer,
                                    r->plan.drop, (int)r->pid, r->ksock, r->svc_bound,
                                    r->svc_unbound, r->life_unbound, r->killed);
        }
}

static bool run_finished(const Run *run)
{
        if (!run->stopping)
                return false;
        for (unsigned i = 0; i < run->nrep; i++)
                if (run->rep[i].pid || !run->rep[i].life_unbound)
                        return false;
        return true;
}

/*
 * Every requester has sent its share: end every replier still alive.  One
 * that has not bound yet is killed once it has, so that its life binding's
 * unbind event always comes.
 */
static void run_stop(Run *run)
{
        run->stopping = true;
        for (unsigned i = 0; i < run->nrep; i++) {
                Replier *r = &run->rep[i];
                if (r->pid && !r->killed && r->svc_bound) {
                        assert_int_equal(kill(r->pid, SIGKILL), 0);
                        r->killed = true;
                }
        }
}

static void run_poll(Run *run)
{
        struct pollfd p[1 + MAX_REPLIERS + NREQUESTERS];
        int who[1 + MAX_REPLIERS + NREQUESTERS]; /* replier index, or -1 - requester index */
        nfds_t n = 0;

        p[n] = (struct pollfd){ .fd = events_ks, .events = POLLIN };
        who[n++] = 0;
        for (unsigned i = 0; i < run->nrep; i++)
                if (run->rep[i].fd >= 0) {
                        p[n] = (struct pollfd){ .fd = run->rep[i].fd, .events = POLLIN };
                        who[n++] = (int)i;
                }
        for (unsigned i = 0; i < NREQUESTERS; i++)
                if (!run->req_done[i]) {
                        p[n] = (struct pollfd){ .fd = run->req_fd[i], .events = POLLIN };
                        who[n++] = -1 - (int)i;
                }
        assert_true(poll(p, n, 1000) >= 0);
        for (nfds_t k = 1; k < n; k++) {
                if (!p[k].revents)
                        continue;
                if (who[k] >= 0) {
                        run_replier_input(run, &run->rep[who[k]]);
                        continue;
                }
                char c = 0;
                assert_int_equal(read(p[k].fd, &c, 1), 1);
                assert_int_equal(c, 'D');
                run->req_done[-1 - who[k]] = true;
                run->ndone++;
        }
}

static void read_report(int fd, Report *rep)
{
        size_t got = 0;

        while (got < sizeof(*rep)) {
                assert_true(wait_readable(fd, 20000) > 0);
                ssize_t n = read(fd, (char *)rep + got, sizeof(*rep) - got);
                assert_true(n > 0);
                got += (size_t)n;
        }
}

static void check_repliers(const Run *run)
{
        for (unsigned i = 0; i < run->nrep; i++) {
                const Replier *r = &run->rep[i];
                if (r->killed && WIFSIGNALED(r->status)) {
                        assert_int_equal(WTERMSIG(r->status), SIGKILL);
                        continue;
                }
                if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
                        print_error("replier %u (slot %u, fate %d) ended with status 0x%x\n", i,
                                    r->plan.slot, (int)r->plan.fate, (unsigned)r->status);
                assert_true(WIFEXITED(r->status));
                assert_int_equal(WEXITSTATUS(r->status), 0);
        }
}

static void check_requesters(Run *run, uint64_t seed)
{
        Report t = { 0 };

        for (unsigned i = 0; i < NREQUESTERS; i++) {
                Report q;
                read_report(run->req_fd[i], &q);
                int status = harness_wait_exit(run->req_pid[i], 20000);
                assert_true(status >= 0 && WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                fd_close(run->req_fd[i]);
                fd_close(run->req_ctl[i]);
                assert_int_equal(q.timed_out, 0);
                assert_int_equal(q.fail_other, 0);
                assert_int_equal(q.other_errno, 0);
                assert_int_equal(q.unknown, 0);
                assert_int_equal(q.bad, 0);
                assert_int_equal(q.dup, 0);          /* never two */
                assert_int_equal(q.pending_left, 0); /* never zero */
                assert_int_equal(q.answered, q.sent_ok);
                assert_int_equal(q.replies + q.gone_away + q.ignored + q.unbound, q.sent_ok);
                t.sent_ok += q.sent_ok;
                t.stateful_ok += q.stateful_ok;
                t.replies += q.replies;
                t.gone_away += q.gone_away;
                t.ignored += q.ignored;
                t.unbound += q.unbound;
                t.fail_notavail += q.fail_notavail;
                t.fail_pipe += q.fail_pipe;
                t.fail_busy += q.fail_busy;
                t.fail_nolck += q.fail_nolck;
        }
        print_message("seed %llu: %u repliers; %u requests sent (%u stateful): %u replies, "
                      "%u GoneAway, %u Ignored, %u Unbound; failed sends: %u EADDRNOTAVAIL, "
                      "%u EPIPE, %u EBUSY, %u ENOLCK\n",
                      (unsigned long long)seed, run->nrep, t.sent_ok, t.stateful_ok, t.replies,
                      t.gone_away, t.ignored, t.unbound, t.fail_notavail, t.fail_pipe,
                      t.fail_busy, t.fail_nolck);
        assert_int_equal(t.replies + t.gone_away + t.ignored + t.unbound, t.sent_ok);
        assert_true(t.replies > 0);
}

static void run_seed(uint64_t seed)
{
        static Run run;
        uint32_t max = 10000;

        /* what an earlier seed that failed half-way left behind */
        while (ntracked > 0)
                fd_close(tracked[0]);
        if (events_ks >= 0)
                kbus_ksock_close(events_ks);
        memset(&run, 0, sizeof(run));
        run.rng.s = seed;
        events_ks = kbus_ksock_open(0, O_RDWR);
        assert_true(events_ks >= 0);
        assert_int_equal(kbus_ksock_max_messages(events_ks, &max), 0);
        assert_int_equal(kbus_ksock_bind(events_ks, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(events_ks, 1), 0);

        for (unsigned i = 0; i < NREQUESTERS; i++)
                run_spawn_requester(&run, i, seed);
        for (unsigned s = 0; s < NSLOTS; s++)
                run_spawn_replier(&run, s);
        long deadline = harness_now_ms() + SEED_DEADLINE_MS;
        /* start the requesters once every slot has had a replier */
        while (run.slot_bound[0] == 0 || run.slot_bound[1] == 0 || run.slot_bound[2] == 0) {
                run_drain_events(&run);
                run_poll(&run);
                assert_true(harness_now_ms() < deadline);
        }
        for (unsigned i = 0; i < NREQUESTERS; i++)
                assert_int_equal(write(run.req_ctl[i], "S", 1), 1);
        while (!run_finished(&run)) {
                run_drain_events(&run);
                if (run.ndone == NREQUESTERS)
                        run_stop(&run);
                if (run_finished(&run))
                        break;
                run_poll(&run);
                if (harness_now_ms() > deadline)
                        run_dump(&run);
                assert_true(harness_now_ms() < deadline);
        }
        for (unsigned i = 0; i < NREQUESTERS; i++)
                assert_int_equal(write(run.req_ctl[i], "G", 1), 1);
        check_requesters(&run, seed);
        check_repliers(&run);
        assert_int_equal(kbus_ksock_close(events_ks), 0);
        events_ks = -1;
        assert_int_equal(ntracked, 0);
}

static void test_seed_1(void **state)
{
        (void)state;
        run_seed(1);
}

static void test_seed_2(void **state)
{
        (void)state;
        run_seed(0x5eed);
}

static void test_seed_3(void **state)
{
        (void)state;
        run_seed(20090101);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seed_1),
                cmocka_unit_test(test_seed_2),
                cmocka_unit_test(test_seed_3),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, kt_setup, kt_teardown);
}
