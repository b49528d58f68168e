/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-introspect.c - the introspection queries (semantics §12), the old
 * /proc/kbus/bindings and /proc/kbus/stats, against a real kbusd.
 *
 * The bindings query lists every binding of the asker's bus with the
 * client's pid and uid (SO_PEERCRED), so a binding made by a child process
 * shows the child's pid.  The stats query gives, per ksock, the queue length
 * and limit, reserved reply places, unreplied requests, held send, set-aside
 * unbind events, bindings and the sent/received/missed counters, and per
 * bus its totals; every number here is checked exactly after a sequence of
 * sends whose effect semantics §7 fixes.  Links libkbus statically for
 * src/lib/query.h.  Every test has its own kbusd, so counts start at zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../src/lib/ksock.h"
#include "../src/lib/query.h"
#include "kbus-test.h"

static int setup(void **state)
{
        (void)state;
        static const char *const args[] = { "--buses", "2", NULL };
        return kbusd_start(&kt_kbusd, args);
}

/* ---- helpers --------------------------------------------------------------- */

static void drop_next(kbus_ksock_t ks)
{
        kbus_message_t *m = kt_take(ks);

        kbus_msg_delete(&m);
}

static void get_stats(kbus_ksock_t asker, KbusBusStats *s)
{
        assert_int_equal(kbus_query_stats(asker, s), 0);
        assert_int_equal(s->nksocks, s->ksocks);
}

/* What a ksock's stats record must say (pid and uid are always ours). */
typedef struct Want {
        uint32_t queued, max, reserved, unreplied, held, set_aside, bindings;
        uint64_t sent, received, missed;
} Want;

static const KbusKsockStats *find_ksock(const KbusBusStats *s, uint32_t id)
{
        const KbusKsockStats *found = NULL;

        for (uint32_t i = 0; i < s->nksocks; i++) {
                if (s->ksocks_stats[i].id != id)
                        continue;
                assert_null(found); /* listed once */
                found = &s->ksocks_stats[i];
        }
        assert_non_null(found);
        return found;
}

static void check_record(const KbusKsockStats *k, pid_t pid, const Want *w)
{
        assert_int_equal(k->pid, (uint32_t)pid);
        assert_int_equal(k->uid, (uint32_t)getuid());
        assert_int_equal(k->queued, w->queued);
        assert_int_equal(k->max_messages, w->max);
        assert_int_equal(k->reserved, w->reserved);
        assert_int_equal(k->unreplied, w->unreplied);
        assert_int_equal(k->held, w->held);
        assert_int_equal(k->set_aside, w->set_aside);
        assert_int_equal(k->bindings, w->bindings);
        assert_int_equal(k->sent, w->sent);
        assert_int_equal(k->received, w->received);
        assert_int_equal(k->missed, w->missed);
}

/* Asks through @asker and checks @ks's record. */
static void check_ksock(kbus_ksock_t asker, kbus_ksock_t ks, Want w)
{
        KbusBusStats s;

        get_stats(asker, &s);
        check_record(find_ksock(&s, kt_id(ks)), getpid(), &w);
        kbus_query_stats_free(&s);
}

typedef struct BusWant {
        uint32_t bus, ksocks, bindings, max_msg_size, held, set_aside, last_serial, reporting;
} BusWant;

static void check_bus(kbus_ksock_t asker, BusWant w)
{
        KbusBusStats s;

        get_stats(asker, &s);
        assert_int_equal(s.bus, w.bus);
        assert_int_equal(s.ksocks, w.ksocks);
        assert_int_equal(s.bindings, w.bindings);
        assert_int_equal(s.max_msg_size, w.max_msg_size);
        assert_int_equal(s.held, w.held);
        assert_int_equal(s.set_aside, w.set_aside);
        assert_int_equal(s.last_serial, w.last_serial);
        assert_int_equal(s.reporting, w.reporting);
        kbus_query_stats_free(&s);
}

/* ---- bindings ---------------------------------------------------------------- */

typedef struct WantBinding {
        uint32_t bus, ksock_id;
        pid_t pid;
        uint32_t is_replier;
        const char *name;
} WantBinding;

/* The query through @asker lists exactly @want (in any order). */
static void check_bindings(kbus_ksock_t asker, const WantBinding *want, size_t n)
{
        KbusBindingInfo *b = NULL;
        size_t count = 0;
        bool used[16] = { false };

        assert_true(n <= 16);
        assert_int_equal(kbus_query_bindings(asker, &b, &count), 0);
        assert_int_equal(count, n);
        for (size_t i = 0; i < n; i++) {
                size_t j;
                for (j = 0; j < count; j++)
                        if (!used[j] && b[j].bus == want[i].bus &&
                            b[j].ksock_id == want[i].ksock_id &&
                            b[j].pid == (uint32_t)want[i].pid && b[j].uid == (uint32_t)getuid() &&
                            b[j].is_replier == want[i].is_replier &&
                            strcmp(b[j].name, want[i].name) == 0)
                                break;
                if (j == count)
                        fail_msg("binding %s of ksock %u (bus %u, pid %d, %c) not listed",
                                 want[i].name, want[i].ksock_id, want[i].bus, (int)want[i].pid,
                                 want[i].is_replier ? 'R' : 'L');
                used[j] = true;
        }
        kbus_query_bindings_free(b, count);
}

static void test_bindings(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open_rw(), b = kt_open_rw(), d = kt_open(1, O_RDWR);
        uint32_t aid = kt_id(a), bid = kt_id(b), did = kt_id(d), cid = 0;
        pid_t me = getpid();
        int idp[2], go[2];

        check_bindings(a, NULL, 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Q.A", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Q.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Q.R", 1), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Q.A", 0), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Q.A", 0), 0);
        assert_int_equal(kbus_ksock_bind(d, "$.Other.%", 1), 0);

        /* A child's binding shows the child's pid. */
        assert_int_equal(pipe(idp), 0);
        assert_int_equal(pipe(go), 0);
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
                char c;
                close(go[1]);
                kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
                uint32_t id = 0;
                if (ks < 0 || kbus_ksock_bind(ks, "$.Child.X", 1) || kbus_ksock_id(ks, &id))
                        _exit(2);
                if (write(idp[1], &id, sizeof(id)) != sizeof(id))
                        _exit(3);
                _exit(read(go[0], &c, 1) == 0 ? 0 : 4); /* until the parent is done */
        }
        close(idp[1]);
        close(go[0]);
        assert_int_equal(read(idp[0], &cid, sizeof(cid)), sizeof(cid));
        close(idp[0]);

        const WantBinding want[] = {
                { 0, aid, me, 0, "$.Q.A" }, { 0, aid, me, 0, "$.Q.*" },
                { 0, aid, me, 1, "$.Q.R" }, { 0, aid, me, 0, "$.Q.A" },
                { 0, bid, me, 0, "$.Q.A" }, { 0, cid, kid, 1, "$.Child.X" },
        };
        check_bindings(b, want, 6);
        check_bindings(a, want, 6);
        /* A query sees its own bus only. */
        const WantBinding want1[] = { { 1, did, me, 1, "$.Other.%" } };
        assert_int_equal(did, 1);
        check_bindings(d, want1, 1);

        /* Unbinds show at once. */
        assert_int_equal(kbus_ksock_unbind(a, "$.Q.*", 0), 0);
        assert_int_equal(kbus_ksock_unbind(a, "$.Q.A", 0), 0);
        const WantBinding want2[] = {
                { 0, aid, me, 0, "$.Q.A" }, { 0, aid, me, 1, "$.Q.R" },
                { 0, bid, me, 0, "$.Q.A" }, { 0, cid, kid, 1, "$.Child.X" },
        };
        check_bindings(b, want2, 4);
        assert_int_equal(kbus_ksock_unbind(a, "$.Q.R", 1), 0);
        assert_int_equal(kbus_ksock_unbind(a, "$.Q.R", 1), -EINVAL);
        const WantBinding want3[] = {
                { 0, aid, me, 0, "$.Q.A" },
                { 0, bid, me, 0, "$.Q.A" },
                { 0, cid, kid, 1, "$.Child.X" },
        };
        check_bindings(b, want3, 3);
        assert_int_equal(kbus_ksock_unbind(d, "$.Other.%", 1), 0);
        check_bindings(d, NULL, 0);

        close(go[1]);
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(kbus_ksock_close(a), 0);
        assert_int_equal(kbus_ksock_close(b), 0);
        assert_int_equal(kbus_ksock_close(d), 0);
}

/* ---- stats --------------------------------------------------------------------- */

static void test_stats_queue_and_missed(void **state)
{
        (void)state;
        kbus_ksock_t l = kt_open_rw(), s = kt_open_rw();

        check_bus(s, (BusWant){ .ksocks = 2, .max_msg_size = 64 * 1024 });
        check_ksock(s, l, (Want){ .max = 100 });
        kt_set_max(l, 5);
        assert_int_equal(kbus_ksock_bind(l, "$.S.X", 0), 0);
        for (int i = 0; i < 3; i++)
                kt_send(s, "$.S.X", NULL, 0);
        check_ksock(s, l, (Want){ .queued = 3, .max = 5, .bindings = 1, .received = 3 });
        check_ksock(l, s, (Want){ .max = 100, .sent = 3 });
        for (int i = 0; i < 4; i++)
                kt_send(s, "$.S.X", NULL, 0);
        /* 5 fit; the last 2 were missed. */
        check_ksock(s, l,
                    (Want){ .queued = 5, .max = 5, .bindings = 1, .received = 5, .missed = 2 });
        drop_next(l);
        drop_next(l);
        check_ksock(s, l,
                    (Want){ .queued = 3, .max = 5, .bindings = 1, .received = 5, .missed = 2 });
        kt_send(s, "$.S.X", NULL, 0);
        kt_send(s, "$.S.Y", NULL, 0); /* nobody's */
        check_ksock(l, l,
                    (Want){ .queued = 4, .max = 5, .bindings = 1, .received = 6, .missed = 2 });
        check_ksock(l, s, (Want){ .max = 100, .sent = 9 });
        check_bus(l, (BusWant){ .ksocks = 2, .bindings = 1, .max_msg_size = 64 * 1024,
                                .last_serial = 9 });
        uint32_t v = 300;
        assert_int_equal(kbus_ksock_max_message_size(s, &v), 0);
        kbus_ksock_t t = kt_open_rw();
        check_bus(t, (BusWant){ .ksocks = 3, .bindings = 1, .max_msg_size = 300,
                                .last_serial = 9 });
        assert_int_equal(kbus_ksock_close(t), 0);
        assert_int_equal(kbus_ksock_close(l), 0);
        assert_int_equal(kbus_ksock_close(s), 0);
}

static void test_stats_requests(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw();
        kbus_message_t *req[2];
        kbus_msg_id_t id;

        kt_set_max(q, 10);
        assert_int_equal(kbus_ksock_bind(r, "$.S.Ask", 1), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(kt_try_send(q, "$.S.Ask", NULL, KBUS_BIT_WANT_A_REPLY, &id), 0);
        check_ksock(r, q, (Want){ .max = 10, .reserved = 3, .sent = 3 });
        check_ksock(q, r, (Want){ .queued = 3, .max = 100, .bindings = 1, .received = 3 });
        req[0] = kt_take(r);
        req[1] = kt_take(r);
        check_ksock(q, r, (Want){ .queued = 1, .max = 100, .unreplied = 2, .bindings = 1,
                                  .received = 3 });
        kbus_message_t *rep;
        assert_int_equal(kbus_msg_create_reply_to(&rep, req[0], NULL, 0, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(r, rep, NULL), 0);
        kbus_msg_delete(&rep);
        check_ksock(q, r, (Want){ .queued = 1, .max = 100, .unreplied = 1, .bindings = 1,
                                  .sent = 1, .received = 3 });
        check_ksock(r, q, (Want){ .queued = 1, .max = 10, .reserved = 2, .sent = 3,
                                  .received = 1 });
        drop_next(q);
        check_ksock(r, q, (Want){ .max = 10, .reserved = 2, .sent = 3, .received = 1 });
        check_bus(q, (BusWant){ .ksocks = 2, .bindings = 1, .max_msg_size = 64 * 1024,
                                .last_serial = 4 });
        kbus_msg_delete(&req[0]);
        kbus_msg_delete(&req[1]);
        assert_int_equal(kbus_ksock_close(q), 0);
        assert_int_equal(kbus_ksock_close(r), 0);
}

static void test_stats_held_nonblocking(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open(0, O_RDWR | O_NONBLOCK), l = kt_open_rw(), q = kt_open_rw(),
                     r = kt_open_rw();
        kbus_msg_id_t id;

        kt_set_max(l, 1);
        kt_set_max(r, 1);
        assert_int_equal(kbus_ksock_bind(l, "$.H.X", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.H.Ask", 1), 0);
        kt_send(q, "$.H.X", NULL, 0); /* l is full */
        assert_int_equal(kt_try_send(s, "$.H.X", NULL, KBUS_BIT_ALL_OR_WAIT, &id), -EAGAIN);
        check_ksock(q, s, (Want){ .max = 100, .held = 1 });
        check_ksock(q, l, (Want){ .queued = 1, .max = 1, .bindings = 1, .received = 1 });
        check_bus(q, (BusWant){ .ksocks = 4, .bindings = 2, .max_msg_size = 64 * 1024,
                                .held = 1, .last_serial = 1 });
        assert_int_equal(kbus_ksock_discard(s), 0);
        check_ksock(q, s, (Want){ .max = 100 });
        check_bus(q, (BusWant){ .ksocks = 4, .bindings = 2, .max_msg_size = 64 * 1024,
                                .last_serial = 1 });

        /* A held request reserves its reply place while it waits. */
        /* r full */
        assert_int_equal(kt_try_send(q, "$.H.Ask", NULL, KBUS_BIT_WANT_A_REPLY, &id), 0);
        assert_int_equal(kt_try_send(s, "$.H.Ask", NULL,
                                     KBUS_BIT_WANT_A_REPLY | KBUS_BIT_ALL_OR_WAIT, &id),
                         -EAGAIN);
        check_ksock(q, s, (Want){ .max = 100, .reserved = 1, .held = 1 });
        drop_next(r);
        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        check_ksock(q, s, (Want){ .max = 100, .reserved = 1, .sent = 1 });
        check_ksock(q, r, (Want){ .queued = 1, .max = 1, .unreplied = 1, .bindings = 1,
                                  .received = 2 });
        check_bus(q, (BusWant){ .ksocks = 4, .bindings = 2, .max_msg_size = 64 * 1024,
                                .last_serial = 3 });
        kbus_ksock_t all[] = { s, l, q, r };
        for (int i = 0; i < 4; i++)
                assert_int_equal(kbus_ksock_close(all[i]), 0);
}

static void test_stats_held_blocking_child(void **state)
{
        (void)state;
        kbus_ksock_t l = kt_open_rw(), q = kt_open_rw();
        int res[2];
        int rc = 1;

        kt_set_max(l, 1);
        assert_int_equal(kbus_ksock_bind(l, "$.HB.X", 0), 0);
        kt_send(q, "$.HB.X", NULL, 0);
        assert_int_equal(pipe(res), 0);
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
                kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR); /* blocking */
                if (ks < 0)
                        _exit(2);
                int r = kt_try_send(ks, "$.HB.X", NULL, KBUS_BIT_ALL_OR_WAIT, NULL);
                _exit(write(res[1], &r, sizeof(r)) == sizeof(r) ? 0 : 3);
        }
        close(res[1]);
        /* Wait (by asking) until kbusd holds the child's send. */
        KbusBusStats s = { 0 };
        long deadline = harness_now_ms() + 10000;
        for (;;) {
                /* Not get_stats(): the child's connection may be mid-handshake. */
                assert_int_equal(kbus_query_stats(q, &s), 0);
                if (s.held == 1 || harness_now_ms() > deadline)
                        break;
                kbus_query_stats_free(&s);
        }
        assert_int_equal(s.held, 1);
        assert_int_equal(s.ksocks, 3);
        assert_int_equal(s.nksocks, 3);
        const KbusKsockStats *child = NULL;
        for (uint32_t i = 0; i < s.nksocks; i++)
                if (s.ksocks_stats[i].held)
                        child = &s.ksocks_stats[i];
        assert_non_null(child);
        check_record(child, kid, &(Want){ .max = 100, .held = 1 });
        assert_int_equal(child->id, 3);
        kbus_query_stats_free(&s);
        check_ksock(q, l, (Want){ .queued = 1, .max = 1, .bindings = 1, .received = 1 });

        drop_next(l);
        assert_int_equal(read(res[0], &rc, sizeof(rc)), sizeof(rc));
        assert_int_equal(rc, 0);
        close(res[0]);
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        check_ksock(q, l, (Want){ .queued = 1, .max = 1, .bindings = 1, .received = 2 });
        kbus_message_t *m = kt_take(l);
        assert_int_equal(m->from, 3);
        assert_int_equal(m->id.serial_num, 2);
        kbus_msg_delete(&m);
        get_stats(q, &s);
        assert_int_equal(s.held, 0);
        assert_int_equal(s.last_serial, 2);
        kbus_query_stats_free(&s);
        assert_int_equal(kbus_ksock_close(l), 0);
        assert_int_equal(kbus_ksock_close(q), 0);
}

static void test_stats_set_aside(void **state)
{
        (void)state;
        kbus_ksock_t e = kt_open_rw(), r = kt_open_rw();
        uint32_t is_bind = 9, binder = 0;
        char *name = NULL;

        assert_int_equal(kbus_ksock_report_replier_binds(e, 1), 0);
        assert_int_equal(kbus_ksock_bind(e, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        kt_set_max(e, 1);
        check_bus(r, (BusWant){ .ksocks = 2, .bindings = 1, .max_msg_size = 64 * 1024,
                                .reporting = 1 });
        assert_int_equal(kbus_ksock_bind(r, "$.SA.X", 1), 0); /* event fills e */
        assert_int_equal(kbus_ksock_unbind(r, "$.SA.X", 1), 0); /* set aside */
        check_ksock(r, e, (Want){ .queued = 1, .max = 1, .set_aside = 1, .bindings = 1,
                                  .received = 1 });
        check_bus(r, (BusWant){ .ksocks = 2, .bindings = 1, .max_msg_size = 64 * 1024,
                                .set_aside = 1, .last_serial = 2, .reporting = 1 });
        kbus_message_t *m = kt_take(e);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), 0);
        assert_int_equal(is_bind, 1);
        free(name);
        kbus_msg_delete(&m);
        /* Room appeared: the set-aside event arrives. */
        assert_int_equal(kbus_wait_for_message(e, KBUS_KSOCK_READABLE), KBUS_KSOCK_READABLE);
        check_ksock(r, e, (Want){ .queued = 1, .max = 1, .bindings = 1, .received = 2 });
        check_bus(r, (BusWant){ .ksocks = 2, .bindings = 1, .max_msg_size = 64 * 1024,
                                .last_serial = 2, .reporting = 1 });
        m = kt_take(e);
        assert_int_equal(kbus_msg_split_bind_event(m, &is_bind, &binder, &name), 0);
        assert_int_equal(is_bind, 0);
        assert_int_equal(binder, kt_id(r));
        assert_string_equal(name, "$.SA.X");
        free(name);
        kbus_msg_delete(&m);
        assert_int_equal(kbus_ksock_report_replier_binds(e, 0), 1);
        check_bus(r, (BusWant){ .ksocks = 2, .bindings = 1, .max_msg_size = 64 * 1024,
                                .last_serial = 2 });
        assert_int_equal(kbus_ksock_close(e), 0);
        assert_int_equal(kbus_ksock_close(r), 0);
}

/* Reads the bindings, as a Limpet does when told they changed. */
static void look_at_bindings(kbus_ksock_t ks)
{
        KbusBindingInfo *b;
        size_t n;

        assert_int_equal(kbus_query_bindings(ks, &b, &n), 0);
        kbus_query_bindings_free(b, n);
}

static void expect_notice(kbus_ksock_t ks)
{
        kbus_message_t *m = kt_wait_msg(ks); /* another ksock's bind: it may be on its way */

        assert_non_null(m);
        assert_string_equal(kbus_msg_name_ptr(m), KBUS_MSG_NAME_LISTENER_BINDS_CHANGED);
        assert_int_equal(m->flags, KBUS_BIT_SYNTHETIC);
        assert_int_equal(m->from, 0);
        assert_int_equal(m->data_len, 0);
        kbus_msg_delete(&m);
}

/*
 * CTL_WATCH_LISTENERS: one $.KBUS.ListenerBindsChanged when another ksock's
 * listener bindings change, no more until the watcher has read the
 * bindings, and never for replier bindings or the watcher's own.
 */
static void test_watch_listeners(void **state)
{
        (void)state;
        kbus_ksock_t w = kt_open(0, O_RDWR), a = kt_open(0, O_RDWR);
        kbus_ksock_t elsewhere = kt_open(1, O_RDWR);

        assert_int_equal(ksock_watch_listeners(w, 2), -EINVAL);
        assert_int_equal(ksock_watch_listeners(w, 1), 0);     /* the old state */
        assert_int_equal(ksock_watch_listeners(w, 0xFFFFFFFF), 1); /* asks */
        assert_int_equal(kbus_ksock_bind(w, "$.Wl.Own", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Wl.R", 1), 0);
        assert_int_equal(kbus_ksock_bind(elsewhere, "$.Wl.A", 0), 0); /* another bus */
        kt_expect_quiet(w, 50);
        assert_int_equal(kbus_ksock_bind(a, "$.Wl.A", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Wl.B", 0), 0);
        assert_int_equal(kbus_ksock_unbind(a, "$.Wl.A", 0), 0);
        expect_notice(w);
        kt_expect_quiet(w, 50); /* one, until it looks */
        look_at_bindings(w);
        assert_int_equal(kbus_ksock_unbind(a, "$.Wl.B", 0), 0);
        expect_notice(w);

        /* past a full queue: the notice must not be lost */
        kt_set_max(w, 1);
        kt_send(a, "$.Wl.Own", "fill", 0);
        look_at_bindings(w);
        assert_int_equal(kbus_ksock_bind(a, "$.Wl.C", 0), 0);
        assert_int_equal(kt_num_messages(w), 2);
        drop_next(w);
        expect_notice(w);

        look_at_bindings(w); /* a ksock that goes takes its bindings with it */
        kt_close(a);
        expect_notice(w);
        look_at_bindings(w);
        assert_int_equal(ksock_watch_listeners(w, 0), 1);
        a = kt_open(0, O_RDWR);
        assert_int_equal(kbus_ksock_bind(a, "$.Wl.D", 0), 0);
        kt_expect_quiet(w, 50);
        KT_CLOSE(w, a, elsewhere);
}

/* UNBIND flag 0x4: a listener's queued messages stay; without it they go (semantics §6). */
static void test_unbind_keep_queued(void **state)
{
        (void)state;
        kbus_ksock_t l = kt_open(0, O_RDWR), s = kt_open(0, O_RDWR);

        assert_int_equal(kbus_ksock_bind(l, "$.Kq.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Kr.Other", 0), 0);
        kt_send(s, "$.Kq.A", "kept", 0);
        kt_send(s, "$.Kr.Other", "gone", 0);
        assert_int_equal(kt_num_messages(l), 2);
        assert_int_equal(ksock_unbind_keeping(l, "$.Kq.*"), 0);
        assert_int_equal(kbus_ksock_unbind(l, "$.Kr.Other", 0), 0);
        assert_int_equal(kt_num_messages(l), 1);
        kbus_message_t *m = kt_take(l);
        assert_string_equal(kbus_msg_name_ptr(m), "$.Kq.A");
        kbus_msg_delete(&m);
        assert_int_equal(ksock_unbind_keeping(l, "$.Kq.*"), -EINVAL); /* no such binding */
        KT_CLOSE(l, s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, kt_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_bindings),
                T(test_stats_queue_and_missed),
                T(test_stats_requests),
                T(test_stats_held_nonblocking),
                T(test_stats_held_blocking_child),
                T(test_stats_set_aside),
                T(test_watch_listeners),
                T(test_unbind_keep_queued),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
