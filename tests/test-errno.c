/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-errno.c - every row of semantics §15, triggered through libkbus against a
 * real kbusd, with the exact negative errno asserted.
 *
 * Each test also checks what must NOT have happened when a call fails: that
 * nothing was delivered to anyone, whether an id was used (semantics §7: only a
 * request refused because the replier's queue is full uses one), and that
 * the ksock is still usable afterwards.  Tests share one kbusd but use their
 * own names and close every ksock they open, so they do not see each other's
 * messages.  A ksock whose close must be known to kbusd before the test goes
 * on is closed with close_synced(), which waits for the GoneAway status its
 * close makes (semantics §9) instead of sleeping.  The ECONNRESET test starts a
 * second, private kbusd and SIGKILLs it; the quota tests start one with low
 * limits.  EPERM and the quota errnos are tested as other users would meet
 * them in test-security.c and test-quotas.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

/* ---- helpers ------------------------------------------------------------ */

/* A reply built by hand, so that any ksock can try to send it. */
static int try_reply(kbus_ksock_t ks, const char *name, kbus_msg_id_t in_reply_to, uint32_t to)
{
        kbus_message_t *msg;

        assert_int_equal(kbus_msg_create(&msg, name, (uint32_t)strlen(name), "r", 1, 0), 0);
        msg->in_reply_to = in_reply_to;
        msg->to = to;
        int r = kbus_ksock_send_msg(ks, msg, NULL);
        kbus_msg_delete(&msg);
        return r;
}

/* Reads the next message, which must exist and be named @name. */
static kbus_message_t *read_named(kbus_ksock_t ks, const char *name)
{
        kbus_message_t *msg = kt_take(ks);

        assert_string_equal(kbus_msg_name_ptr(msg), name);
        return msg;
}

/*
 * Closes @ks and returns once kbusd has acted on the close: @ks becomes a
 * replier, gets a request it never reads, and the close answers that with
 * $.KBUS.Replier.GoneAway (semantics §9), which the watcher waits for.
 */
static void close_synced(kbus_ksock_t ks)
{
        kbus_ksock_t w = kt_open_rw();
        uint32_t id = kt_id(ks);
        char name[64];

        snprintf(name, sizeof(name), "$.Errno.Sync.Close%u", id);
        assert_int_equal(kbus_ksock_bind(ks, name, 1), 0);
        kbus_msg_id_t req = kt_send(w, name, "", KBUS_BIT_WANT_A_REPLY);
        assert_int_equal(kbus_ksock_close(ks), 0);
        assert_int_equal(kbus_wait_for_message(w, KBUS_KSOCK_READABLE), KBUS_KSOCK_READABLE);
        kbus_message_t *st = read_named(w, KBUS_MSG_NAME_REPLIER_GONEAWAY);
        assert_int_equal(st->in_reply_to.serial_num, req.serial_num);
        assert_int_equal(st->from, id);
        kbus_msg_delete(&st);
        assert_int_equal(kbus_ksock_close(w), 0);
}

static void test_eaddrinuse(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open_rw(), b = kt_open_rw();
        uint32_t rep = 0;

        assert_int_equal(kbus_ksock_bind(a, "$.Errno.InUse", 1), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.InUse", 1), -EADDRINUSE);
        assert_int_equal(kbus_ksock_bind(a, "$.Errno.InUse", 1), -EADDRINUSE);
        /* the same for a wildcard binding name */
        assert_int_equal(kbus_ksock_bind(a, "$.Errno.InUse.*", 1), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.InUse.*", 1), -EADDRINUSE);
        /* a different binding name, and listening, are fine */
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.InUse.%", 1), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.InUse", 0), 0);
        /* a stays the replier */
        assert_int_equal(kbus_ksock_find_replier(b, "$.Errno.InUse", &rep), 0);
        assert_int_equal(rep, kt_id(a));
        /* once a unbinds, b may bind */
        assert_int_equal(kbus_ksock_unbind(a, "$.Errno.InUse", 1), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.InUse", 1), 0);
        assert_int_equal(kbus_ksock_find_replier(a, "$.Errno.InUse", &rep), 0);
        assert_int_equal(rep, kt_id(b));
        KT_CLOSE(a, b);
}

static void test_eaddrnotavail_no_replier(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), l = kt_open_rw();
        uint32_t unreplied = 99;

        assert_int_equal(kbus_ksock_bind(l, "$.Errno.NoReplier", 0), 0);
        kbus_msg_id_t before = kt_send(q, "$.Errno.Other", "", 0);
        assert_int_equal(kt_try_send(q, "$.Errno.NoReplier", "?", KBUS_BIT_WANT_A_REPLY, NULL),
                         -EADDRNOTAVAIL);
        /* nothing delivered (not even the listener copy), no id used */
        kt_expect_quiet(l, 0);
        kt_expect_quiet(q, 0);
        kbus_msg_id_t after = kt_send(q, "$.Errno.Other", "", 0);
        assert_int_equal(after.serial_num, before.serial_num + 1);
        /* a listener is not a replier */
        assert_int_equal(kbus_ksock_num_unreplied_to(l, &unreplied), 0);
        assert_int_equal(unreplied, 0);
        KT_CLOSE(q, l);
}

static void test_eaddrnotavail_requester_gone(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw();
        uint32_t unreplied = 99;

        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Gone", 1), 0);
        kbus_msg_id_t id = kt_send(q, "$.Errno.Gone", "?", KBUS_BIT_WANT_A_REPLY);
        kbus_message_t *req = read_named(r, "$.Errno.Gone");
        assert_int_equal(req->id.serial_num, id.serial_num);
        assert_true(kbus_msg_wants_us_to_reply(req));
        close_synced(q);

        kbus_message_t *reply;
        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "late", 4, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(r, reply, NULL), -EADDRNOTAVAIL);
        /* that settled the debt: a second try answers nothing owed */
        assert_int_equal(kbus_ksock_num_unreplied_to(r, &unreplied), 0);
        assert_int_equal(unreplied, 0);
        assert_int_equal(kbus_ksock_send_msg(r, reply, NULL), -ECONNREFUSED);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        kbus_ksock_close(r);
}

static void test_ealready(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open(0, O_RDWR | O_NONBLOCK), l = kt_open_rw();
        kbus_message_t *msg, *got;

        kt_set_max(l, 1);
        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Already", 0), 0);
        kbus_msg_id_t fill = kt_send(s, "$.Errno.Already", "fill", 0);
        assert_int_equal(kt_num_messages(l), 1);
        assert_int_equal(kt_try_send(s, "$.Errno.Already", "held", KBUS_BIT_ALL_OR_WAIT, NULL),
                         -EAGAIN);
        /* while it is held, every way of sending says EALREADY */
        assert_int_equal(kt_try_send(s, "$.Errno.Already", "again", 0, NULL), -EALREADY);
        assert_int_equal(kt_try_send(s, "$.Errno.Elsewhere", "x", 0, NULL), -EALREADY);
        assert_int_equal(kbus_ksock_send(s, NULL), -EALREADY);
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.Already", 15, "p", 1, 0), 0);
        assert_int_equal(kbus_ksock_write_msg(s, msg), -EALREADY);
        assert_int_equal(kbus_ksock_post_msg(s, msg), -EALREADY);
        kbus_msg_delete(&msg);
        assert_int_equal(kt_num_messages(l), 1);

        assert_int_equal(kbus_ksock_discard(s), 0);
        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        got = read_named(l, "$.Errno.Already");
        assert_int_equal(got->id.serial_num, fill.serial_num);
        kbus_msg_delete(&got);
        /* sends work again; the discarded one never got an id nor arrived */
        kbus_msg_id_t next = kt_send(s, "$.Errno.Already", "next", 0);
        assert_int_equal(next.serial_num, fill.serial_num + 1);
        got = read_named(l, "$.Errno.Already");
        assert_int_equal(got->id.serial_num, next.serial_num);
        assert_int_equal(got->data_len, 4);
        assert_memory_equal(kbus_msg_data_ptr(got), "next", 4);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        KT_CLOSE(s, l);
}

static void test_ebadf_read_only(void **state)
{
        (void)state;
        kbus_ksock_t ro = kt_open(0, O_RDONLY), w = kt_open_rw();
        kbus_message_t *msg, *got;

        /* a read-only ksock may bind and read (semantics §5) */
        assert_int_equal(kbus_ksock_bind(ro, "$.Errno.ReadOnly", 0), 0);
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.ReadOnly", 16, "ro", 2, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(ro, msg, NULL), -EBADF);
        assert_int_equal(kbus_ksock_write_msg(ro, msg), -EBADF);
        assert_int_equal(kbus_ksock_post_msg(ro, msg), -EBADF);
        kbus_msg_delete(&msg);
        assert_int_equal(kt_try_send(ro, "$.Errno.ReadOnly", "rq", KBUS_BIT_WANT_A_REPLY, NULL),
                         -EBADF);
        kt_expect_quiet(ro, 0);

        kbus_msg_id_t id = kt_send(w, "$.Errno.ReadOnly", "rw", 0);
        got = read_named(ro, "$.Errno.ReadOnly");
        assert_int_equal(got->id.serial_num, id.serial_num);
        assert_int_equal(got->from, kt_id(w));
        kbus_msg_delete(&got);
        /* kbus_ksock_send on a read-only ksock is EBADF too: semantics §5 "sending
         * on it fails with EBADF", and read-only is the first check (§7) */
        assert_int_equal(kbus_ksock_send(ro, NULL), -EBADF);
        KT_CLOSE(ro, w);
}

/* Every call on @fd, which is not an open ksock, says EBADF. */
static void assert_all_ebadf(int fd)
{
        kbus_message_t *msg, *got = (kbus_message_t *)1;
        kbus_msg_id_t id;
        uint32_t v = 5;

        assert_int_equal(kbus_msg_create(&msg, "$.Errno.BadF", 12, NULL, 0, 0), 0);
        assert_int_equal(kbus_ksock_bind(fd, "$.Errno.BadF", 0), -EBADF);
        assert_int_equal(kbus_ksock_unbind(fd, "$.Errno.BadF", 0), -EBADF);
        assert_int_equal(kbus_ksock_id(fd, &v), -EBADF);
        assert_int_equal(kbus_ksock_next_msg(fd, &v), -EBADF);
        assert_int_equal(kbus_ksock_read_msg(fd, &got, 100), -EBADF);
        assert_int_equal(kbus_ksock_read_next_msg(fd, &got), -EBADF);
        assert_int_equal(kbus_ksock_write_msg(fd, msg), -EBADF);
        assert_int_equal(kbus_ksock_send(fd, &id), -EBADF);
        assert_int_equal(kbus_ksock_send_msg(fd, msg, &id), -EBADF);
        assert_int_equal(kbus_ksock_discard(fd), -EBADF);
        assert_int_equal(kbus_ksock_last_msg_id(fd, &id), -EBADF);
        assert_int_equal(kbus_ksock_find_replier(fd, "$.Errno.BadF", &v), -EBADF);
        v = 0;
        assert_int_equal(kbus_ksock_max_messages(fd, &v), -EBADF);
        assert_int_equal(kbus_ksock_num_messages(fd, &v), -EBADF);
        assert_int_equal(kbus_ksock_num_unreplied_to(fd, &v), -EBADF);
        assert_int_equal(kbus_ksock_only_once(fd, 0xFFFFFFFFu), -EBADF);
        assert_int_equal(kbus_ksock_report_replier_binds(fd, 0xFFFFFFFFu), -EBADF);
        assert_int_equal(kbus_ksock_kernel_module_verbose(fd, 0xFFFFFFFFu), -EBADF);
        v = 0;
        assert_int_equal(kbus_ksock_max_message_size(fd, &v), -EBADF);
        assert_int_equal(kbus_ksock_new_device(fd, &v), -EBADF);
        assert_int_equal(kbus_wait_for_message(fd, KBUS_KSOCK_READABLE), -EBADF);
        assert_int_equal(kbus_ksock_post_msg(fd, msg), -EBADF);
        assert_int_equal(kbus_ksock_flush(fd), -EBADF);
        assert_int_equal(kbus_ksock_close(fd), -EBADF);
        kbus_msg_delete(&msg);
}

static void test_ebadf_not_a_ksock(void **state)
{
        (void)state;
        kbus_ksock_t ks = kt_open_rw();
        int p[2];

        assert_int_equal(kbus_ksock_close(ks), 0);
        assert_all_ebadf(ks); /* closed */
        assert_int_equal(pipe(p), 0);
        assert_all_ebadf(p[0]); /* an fd that never was a ksock */
        close(p[0]);
        close(p[1]);
        assert_all_ebadf(-1);
        assert_all_ebadf(1 << 20);
}

static const char *const bad_names[] = {
        "", "$", "$.", "$..", "a.b.c", "$a.b", "$.a..b", "$.a.", ".$.a", "$.a b", "$.a/b",
        "$.a.*.b", "$.*.a", "$.a%", "$.a*", "$.a.**", "$.a.b\xc3\xa9", "$.a\n", "$$.a",
};

static void test_ebadmsg_names(void **state)
{
        (void)state;
        kbus_ksock_t ks = kt_open_rw(), l = kt_open_rw();
        uint32_t rep;

        assert_int_equal(kbus_ksock_bind(l, "$.*", 0), 0); /* would hear anything sent */
        for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
                const char *n = bad_names[i];
                if (kbus_ksock_bind(ks, n, 0) != -EBADMSG)
                        print_message("bad name %zu accepted\n", i);
                assert_int_equal(kbus_ksock_bind(ks, n, 0), -EBADMSG);
                assert_int_equal(kbus_ksock_bind(ks, n, 1), -EBADMSG);
                assert_int_equal(kbus_ksock_unbind(ks, n, 0), -EBADMSG);
                assert_int_equal(kbus_ksock_find_replier(ks, n, &rep), -EBADMSG);
                if (*n) { /* a message needs a non-empty name to be created at all */
                        assert_int_equal(kt_try_send(ks, n, "x", 0, NULL), -EBADMSG);
                        assert_int_equal(kt_try_send(ks, n, "x", KBUS_BIT_WANT_A_REPLY, NULL),
                                         -EBADMSG);
                }
        }
        /* a wildcard is fine in a binding, never in a sent name (semantics §3) */
        assert_int_equal(kbus_ksock_bind(ks, "$.Errno.Wild.*", 1), 0);
        assert_int_equal(kbus_ksock_bind(ks, "$.Errno.Wild.%", 0), 0);
        assert_int_equal(kt_try_send(ks, "$.Errno.Wild.*", "x", 0, NULL), -EBADMSG);
        assert_int_equal(kt_try_send(ks, "$.Errno.Wild.%", "x", 0, NULL), -EBADMSG);
        assert_int_equal(kt_try_send(ks, "$.*", "x", 0, NULL), -EBADMSG);
        assert_int_equal(kt_try_send(ks, "$.Errno.Wild.*", "x", KBUS_BIT_WANT_A_REPLY, NULL),
                         -EBADMSG);
        assert_int_equal(kbus_ksock_find_replier(ks, "$.Errno.Wild.*", &rep), -EBADMSG);
        /* the bind event name can't have a replier; listening is its use */
        assert_int_equal(kbus_ksock_bind(ks, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 1), -EBADMSG);
        assert_int_equal(kbus_ksock_find_replier(ks, KBUS_MSG_NAME_REPLIER_BIND_EVENT, &rep), 0);
        assert_int_equal(rep, 0);
        assert_int_equal(kbus_ksock_bind(ks, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        assert_int_equal(kbus_ksock_unbind(ks, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        /* nothing got through to the catch-all listener */
        kt_expect_quiet(l, 0);
        /* and the ksock still works */
        kbus_msg_id_t id = kt_send(ks, "$.Errno.Wild.Card", "ok", 0);
        kbus_message_t *got = read_named(l, "$.Errno.Wild.Card");
        assert_int_equal(got->id.serial_num, id.serial_num);
        kbus_msg_delete(&got);
        KT_CLOSE(ks, l);
}


static void test_ebusy_replier_full(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw(), l = kt_open_rw();
        uint32_t unreplied = 99;

        kt_set_max(r, 1);
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Busy", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Busy", 0), 0);
        kbus_msg_id_t first = kt_send(q, "$.Errno.Busy", "1", KBUS_BIT_WANT_A_REPLY);
        assert_int_equal(kt_num_messages(r), 1);
        assert_int_equal(kt_num_messages(l), 1);
        assert_int_equal(kt_try_send(q, "$.Errno.Busy", "2", KBUS_BIT_WANT_A_REPLY, NULL), -EBUSY);
        /* nothing delivered to anyone */
        assert_int_equal(kt_num_messages(r), 1);
        assert_int_equal(kt_num_messages(l), 1);
        assert_int_equal(kt_num_messages(q), 0);
        /* but an id was used (semantics §7): the next send skips one */
        kbus_msg_id_t next = kt_send(q, "$.Errno.Busy.Next", "", 0);
        assert_int_equal(next.serial_num, first.serial_num + 2);

        kbus_message_t *got = read_named(r, "$.Errno.Busy");
        assert_int_equal(got->id.serial_num, first.serial_num);
        kbus_msg_delete(&got);
        kt_expect_quiet(r, 0);
        got = read_named(l, "$.Errno.Busy");
        assert_int_equal(got->id.serial_num, first.serial_num);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        /* only the first request is owed a reply */
        assert_int_equal(kbus_ksock_num_unreplied_to(r, &unreplied), 0);
        assert_int_equal(unreplied, 1);
        KT_CLOSE(q, r, l);
}

static void test_ebusy_all_or_fail(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), full = kt_open_rw(), l = kt_open_rw(), r = kt_open_rw();

        kt_set_max(full, 1);
        assert_int_equal(kbus_ksock_bind(full, "$.Errno.Fail.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Fail.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Fail.Ask", 1), 0);
        kbus_msg_id_t fill = kt_send(s, "$.Errno.Fail.Fill", "", 0);
        assert_int_equal(kt_num_messages(full), 1);
        assert_int_equal(kt_num_messages(l), 1);

        /* an announcement */
        assert_int_equal(kt_try_send(s, "$.Errno.Fail.Ann", "x", KBUS_BIT_ALL_OR_FAIL, NULL),
                         -EBUSY);
        /* a request whose replier has room, but a listener is full */
        assert_int_equal(kt_try_send(s, "$.Errno.Fail.Ask", "x",
                                     KBUS_BIT_ALL_OR_FAIL | KBUS_BIT_WANT_A_REPLY, NULL),
                         -EBUSY);
        /* nothing delivered to anyone, no id used */
        assert_int_equal(kt_num_messages(full), 1);
        assert_int_equal(kt_num_messages(l), 1);
        kt_expect_quiet(r, 0);
        kt_expect_quiet(s, 0);
        kbus_msg_id_t next = kt_send(s, "$.Errno.Other", "", 0);
        assert_int_equal(next.serial_num, fill.serial_num + 1);

        /* with room everywhere, ALL_OR_FAIL goes through */
        kbus_message_t *got = read_named(full, "$.Errno.Fail.Fill");
        kbus_msg_delete(&got);
        got = read_named(l, "$.Errno.Fail.Fill");
        kbus_msg_delete(&got);
        kbus_msg_id_t ok = kt_send(s, "$.Errno.Fail.Ann", "y", KBUS_BIT_ALL_OR_FAIL);
        assert_int_equal(ok.serial_num, next.serial_num + 1);
        got = read_named(full, "$.Errno.Fail.Ann");
        assert_int_equal(got->id.serial_num, ok.serial_num);
        kbus_msg_delete(&got);
        got = read_named(l, "$.Errno.Fail.Ann");
        assert_int_equal(got->id.serial_num, ok.serial_num);
        kbus_msg_delete(&got);
        KT_CLOSE(s, full, l, r);
}

static void test_econnrefused(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw(), l = kt_open_rw();
        uint32_t qid = kt_id(q);

        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Refused", 1), 0);
        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Refused", 0), 0);
        /* a reply to a request that never was */
        assert_int_equal(try_reply(r, "$.Errno.Refused", (kbus_msg_id_t){ 0, 0x7ffffff0u }, qid),
                         -ECONNREFUSED);
        assert_int_equal(try_reply(r, "$.Errno.Refused", (kbus_msg_id_t){ 77, 1 }, qid),
                         -ECONNREFUSED);

        kbus_msg_id_t id = kt_send(q, "$.Errno.Refused", "?", KBUS_BIT_WANT_A_REPLY);
        kbus_message_t *req = read_named(r, "$.Errno.Refused");
        kbus_message_t *copy = read_named(l, "$.Errno.Refused");
        assert_false(kbus_msg_wants_us_to_reply(copy));
        /* a listener that saw the request may not answer it, nor may a stranger */
        assert_int_equal(try_reply(l, "$.Errno.Refused", id, qid), -ECONNREFUSED);
        assert_int_equal(try_reply(q, "$.Errno.Refused", id, qid), -ECONNREFUSED);
        /* the replier must name the requester in "to" */
        assert_int_equal(try_reply(r, "$.Errno.Refused", id, kt_id(l)), -ECONNREFUSED);
        assert_int_equal(kt_num_messages(q), 0);

        kbus_message_t *reply;
        kbus_msg_id_t rid;
        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "yes", 3, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(r, reply, &rid), 0);
        /* a second reply to the same request */
        assert_int_equal(kbus_ksock_send_msg(r, reply, NULL), -ECONNREFUSED);
        kbus_msg_delete(&reply);
        kbus_message_t *got = read_named(q, "$.Errno.Refused");
        assert_int_equal(got->id.serial_num, rid.serial_num);
        assert_int_equal(got->in_reply_to.serial_num, id.serial_num);
        assert_memory_equal(kbus_msg_data_ptr(got), "yes", 3);
        kbus_msg_delete(&got);
        kt_expect_quiet(q, 0);
        /* the listener saw exactly the one real reply */
        got = read_named(l, "$.Errno.Refused");
        assert_int_equal(got->id.serial_num, rid.serial_num);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        kbus_msg_delete(&req);
        kbus_msg_delete(&copy);
        KT_CLOSE(q, r, l);
}

static void test_einval(void **state)
{
        (void)state;
        kbus_ksock_t ks = kt_open_rw(), l = kt_open_rw();
        uint32_t v;

        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Inval.*", 0), 0);
        kbus_msg_id_t before = kt_send(ks, "$.Errno.Other", "", 0);
        assert_int_equal(kt_try_send(ks, "$.Errno.Inval.Both", "x",
                                     KBUS_BIT_ALL_OR_WAIT | KBUS_BIT_ALL_OR_FAIL, NULL),
                         -EINVAL);
        assert_int_equal(kbus_ksock_bind(ks, "$.Errno.Inval.Ask", 1), 0);
        assert_int_equal(kt_try_send(ks, "$.Errno.Inval.Ask", "x",
                                     KBUS_BIT_WANT_A_REPLY | KBUS_BIT_ALL_OR_WAIT |
                                             KBUS_BIT_ALL_OR_FAIL,
                                     NULL),
                         -EINVAL);
        kt_expect_quiet(l, 0);
        kt_expect_quiet(ks, 0);
        kbus_msg_id_t after = kt_send(ks, "$.Errno.Other", "", 0);
        assert_int_equal(after.serial_num, before.serial_num + 1);

        /* unbind must match a binding exactly (semantics §6) */
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.Never", 0), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.Never", 1), -EINVAL);
        assert_int_equal(kbus_ksock_bind(ks, "$.Errno.Inval.L", 0), 0);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.L", 1), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.Ask", 0), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.*", 0), -EINVAL); /* l's */
        assert_int_equal(kbus_ksock_bind(ks, "$.Errno.Inval.W.*", 0), 0);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.W.x", 0), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.W.%", 0), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.L", 0), 0);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.L", 0), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.Ask", 1), 0);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.Ask", 1), -EINVAL);
        assert_int_equal(kbus_ksock_unbind(ks, "$.Errno.Inval.W.*", 0), 0);

        /* bad switch arguments leave the state alone */
        assert_int_equal(kbus_ksock_only_once(ks, 2), -EINVAL);
        assert_int_equal(kbus_ksock_only_once(ks, 0xFFFFFFFFu), 0);
        assert_int_equal(kbus_ksock_only_once(ks, 1), 0);
        assert_int_equal(kbus_ksock_only_once(ks, 2), -EINVAL);
        assert_int_equal(kbus_ksock_only_once(ks, 0xFFFFFFFFu), 1);
        assert_int_equal(kbus_ksock_report_replier_binds(ks, 2), -EINVAL);
        assert_int_equal(kbus_ksock_report_replier_binds(ks, 0xFFFFFFFFu), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(ks, 7), -EINVAL);
        /* other bad arguments */
        assert_int_equal(kbus_wait_for_message(ks, 0), -EINVAL);
        assert_int_equal(kbus_wait_for_message(ks, 4), -EINVAL);
        v = 99; /* below the smallest maximum message size */
        assert_int_equal(kbus_ksock_max_message_size(ks, &v), -EINVAL);
        assert_int_equal(kbus_ksock_open(0, O_RDONLY | O_WRONLY | O_RDWR), -EINVAL);
        KT_CLOSE(ks, l);
}

/* A message named "$.Errno.Size" (12 bytes, 16 padded) with @data_len bytes
 * of data has the size 56 + 16 + @data_len (kbus.h). */
static int send_sized(kbus_ksock_t ks, uint32_t size, kbus_msg_id_t *id)
{
        static char data[1024];
        kbus_message_t *msg;

        memset(data, 'z', sizeof(data));
        assert_true(size >= 72 && size - 72 <= sizeof(data));
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.Size", 12, data, size - 72, 0), 0);
        int r = kbus_ksock_send_msg(ks, msg, id);
        kbus_msg_delete(&msg);
        return r;
}

static void test_emsgsize(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), l = kt_open_rw();
        uint32_t v = 200;
        kbus_msg_id_t id;

        assert_true(kt_default_max_size >= 1000);
        assert_int_equal(kbus_ksock_max_message_size(s, &v), 0);
        assert_int_equal(v, 200);
        v = 0;
        assert_int_equal(kbus_ksock_max_message_size(l, &v), 0); /* it is the bus's */
        assert_int_equal(v, 200);
        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Size", 0), 0);

        kbus_msg_id_t before = kt_send(s, "$.Errno.Other", "", 0);
        assert_int_equal(send_sized(s, 201, NULL), -EMSGSIZE);
        assert_int_equal(send_sized(s, 1000, NULL), -EMSGSIZE);
        assert_int_equal(kt_num_messages(l), 0);
        /* the connection stays usable, no id was used */
        assert_int_equal(send_sized(s, 200, &id), 0);
        assert_int_equal(id.serial_num, before.serial_num + 1);
        kbus_message_t *got = read_named(l, "$.Errno.Size");
        assert_int_equal(got->id.serial_num, id.serial_num);
        assert_int_equal(got->data_len, 200 - 72);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        KT_CLOSE(s, l); /* kt_restore_max_size() puts the old maximum back */
}

/* Too big is refused at write, as the kernel module did; kbusd checks again at send. */
static void test_emsgsize_at_write(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open_rw(), other = kt_open_rw();
        static char data[200];
        kbus_message_t *msg;
        uint32_t v = 200;

        assert_int_equal(kbus_ksock_max_message_size(s, &v), 0);
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.Size", 12, data, 201 - 72, 0), 0);
        assert_int_equal(kbus_ksock_write_msg(s, msg), -EMSGSIZE);
        assert_int_equal(errno, EMSGSIZE);
        assert_int_equal(kbus_ksock_send(s, NULL), -ENOMSG); /* nothing was kept */
        kbus_msg_delete(&msg);

        assert_int_equal(kbus_msg_create(&msg, "$.Errno.Size", 12, data, 200 - 72, 0), 0);
        assert_int_equal(kbus_ksock_write_msg(s, msg), 0);
        v = 150; /* lowered by another ksock after the write */
        assert_int_equal(kbus_ksock_max_message_size(other, &v), 0);
        assert_int_equal(kbus_ksock_send(s, NULL), -EMSGSIZE);
        kbus_msg_delete(&msg);
        KT_CLOSE(s, other);
}

/* "$.N." then words of "abcdefghi" joined by dots, cut to exactly @len. */
static void make_name(char *buf, size_t len)
{
        static const char word[] = "abcdefghi.";

        memcpy(buf, "$.N.", 4);
        for (size_t i = 4; i < len; i++)
                buf[i] = word[(i - 4) % 10];
        if (buf[len - 1] == '.')
                buf[len - 1] = 'x';
        buf[len] = '\0';
}

static void test_enametoolong(void **state)
{
        (void)state;
        kbus_ksock_t ks = kt_open_rw(), l = kt_open_rw();
        char name1000[1001], name1001[1002], wild1001[1002];
        uint32_t rep = 99;

        make_name(name1000, 1000);
        make_name(name1001, 1001);
        memcpy(wild1001, name1000, 999);
        memcpy(wild1001 + 999, ".*", 3);
        assert_true(strlen(name1000) == 1000 && strlen(name1001) == 1001 &&
                    strlen(wild1001) == 1001);

        assert_int_equal(kbus_ksock_bind(ks, name1001, 0), -ENAMETOOLONG);
        assert_int_equal(kbus_ksock_bind(ks, name1001, 1), -ENAMETOOLONG);
        assert_int_equal(kbus_ksock_bind(ks, wild1001, 0), -ENAMETOOLONG);
        assert_int_equal(kbus_ksock_unbind(ks, name1001, 0), -ENAMETOOLONG);
        assert_int_equal(kbus_ksock_find_replier(ks, name1001, &rep), -ENAMETOOLONG);
        assert_int_equal(kt_try_send(ks, name1001, "x", 0, NULL), -ENAMETOOLONG);
        assert_int_equal(kt_try_send(ks, name1001, "x", KBUS_BIT_WANT_A_REPLY, NULL),
                         -ENAMETOOLONG);

        /* exactly 1000 is fine, as listener, replier and sent name */
        assert_int_equal(kbus_ksock_bind(l, name1000, 0), 0);
        assert_int_equal(kbus_ksock_bind(ks, name1000, 1), 0);
        assert_int_equal(kbus_ksock_find_replier(l, name1000, &rep), 0);
        assert_int_equal(rep, kt_id(ks));
        kbus_msg_id_t id = kt_send(ks, name1000, "long", 0);
        kbus_message_t *got = read_named(l, name1000);
        assert_int_equal(got->name_len, 1000);
        assert_int_equal(got->id.serial_num, id.serial_num);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        KT_CLOSE(ks, l);
}

static void test_enoent(void **state)
{
        (void)state;
        char path[PATH_MAX + 32];

        assert_int_equal(kbus_ksock_open(7, O_RDWR), -ENOENT);
        assert_int_equal(kbus_ksock_open(255, O_RDONLY), -ENOENT);
        assert_int_equal(kbus_ksock_open_by_name("/nonexistent/kbus-test/kbus0", O_RDWR),
                         -ENOENT);
        snprintf(path, sizeof(path), "%s/kbus9", kt_kbusd.dir);
        assert_int_equal(kbus_ksock_open_by_name(path, O_RDWR), -ENOENT);
        assert_int_equal(kbus_ksock_open_by_name("/dev/kbus9", O_RDWR), -ENOENT);
        /* bus 0 is there, by number, path and device name */
        snprintf(path, sizeof(path), "%s/kbus0", kt_kbusd.dir);
        kbus_ksock_t a = kbus_ksock_open_by_name(path, O_RDWR);
        kbus_ksock_t b = kbus_ksock_open_by_name("/dev/kbus0", O_RDWR);
        assert_true(a >= 0);
        assert_true(b >= 0);
        KT_CLOSE(a, b);
}

static void test_enolck(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), r = kt_open_rw();

        kbus_msg_id_t id1, id2;

        /* semantics §7: room for every reply owed plus this one; with a queue of
         * 2 and nothing in it, two requests may be outstanding */
        kt_set_max(q, 2);
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Lock", 1), 0);
        assert_int_equal(kt_try_send(q, "$.Errno.Lock", "1", KBUS_BIT_WANT_A_REPLY, &id1), 0);
        assert_int_equal(kt_try_send(q, "$.Errno.Lock", "2", KBUS_BIT_WANT_A_REPLY, &id2), 0);
        assert_int_equal(id2.serial_num, id1.serial_num + 1);
        /* two reply places reserved in a queue of 2: the third can't reserve */
        assert_int_equal(kt_try_send(q, "$.Errno.Lock", "3", KBUS_BIT_WANT_A_REPLY, NULL), -ENOLCK);
        assert_int_equal(kt_num_messages(r), 2);
        /* announcements need no reservation */
        kbus_msg_id_t ann = kt_send(q, "$.Errno.Lock.Ann", "", 0);
        assert_int_equal(ann.serial_num, id2.serial_num + 1); /* ENOLCK used no id */

        /* a reply arrives: it fills its own reserved place, still no room */
        kbus_message_t *req = read_named(r, "$.Errno.Lock"), *reply;
        assert_int_equal(req->id.serial_num, id1.serial_num);
        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "a", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(r, reply, NULL), 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        assert_int_equal(kt_num_messages(q), 1);
        assert_int_equal(kt_try_send(q, "$.Errno.Lock", "4", KBUS_BIT_WANT_A_REPLY, NULL), -ENOLCK);
        /* once the requester reads it, one place is free again */
        kbus_message_t *got = read_named(q, "$.Errno.Lock");
        assert_int_equal(got->in_reply_to.serial_num, id1.serial_num);
        kbus_msg_delete(&got);
        assert_int_equal(kt_try_send(q, "$.Errno.Lock", "5", KBUS_BIT_WANT_A_REPLY, NULL), 0);
        assert_int_equal(kt_try_send(q, "$.Errno.Lock", "6", KBUS_BIT_WANT_A_REPLY, NULL), -ENOLCK);
        assert_int_equal(kt_num_messages(r), 2); /* requests 2 and 5 */
        KT_CLOSE(q, r);
}

static void test_enomsg(void **state)
{
        (void)state;
        kbus_ksock_t ks = kt_open_rw(), l = kt_open_rw();
        kbus_message_t *msg, *got = NULL;

        assert_int_equal(kbus_ksock_bind(l, "$.Errno.NoMsg", 0), 0);
        assert_int_equal(kbus_ksock_send(ks, NULL), -ENOMSG);
        /* write then send works once; the written message is used up */
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.NoMsg", 13, "w", 1, 0), 0);
        assert_int_equal(kbus_ksock_write_msg(ks, msg), 0);
        kbus_msg_delete(&msg);
        kbus_msg_id_t id;
        assert_int_equal(kbus_ksock_send(ks, &id), 0);
        assert_int_equal(kbus_ksock_send(ks, NULL), -ENOMSG);
        /* discard drops a written message */
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.NoMsg", 13, "d", 1, 0), 0);
        assert_int_equal(kbus_ksock_write_msg(ks, msg), 0);
        kbus_msg_delete(&msg);
        assert_int_equal(kbus_ksock_discard(ks), 0);
        assert_int_equal(kbus_ksock_send(ks, NULL), -ENOMSG);
        got = read_named(l, "$.Errno.NoMsg");
        assert_int_equal(got->id.serial_num, id.serial_num);
        assert_memory_equal(kbus_msg_data_ptr(got), "w", 1);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        /* read_msg with no being-read message */
        assert_int_equal(kbus_ksock_read_msg(l, &got, 4096), -ENOMSG);
        KT_CLOSE(ks, l);
}

static void test_epipe(void **state)
{
        (void)state;
        kbus_ksock_t q = kt_open_rw(), a = kt_open_rw(), b = kt_open_rw();
        uint32_t aid = kt_id(a);
        kbus_message_t *req, *reply, *got, *stateful;

        assert_int_equal(kbus_ksock_bind(a, "$.Errno.State", 1), 0);
        kt_send(q, "$.Errno.State", "hi", KBUS_BIT_WANT_A_REPLY);
        req = read_named(a, "$.Errno.State");
        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "ok", 2, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(a, reply, NULL), 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        got = read_named(q, "$.Errno.State");
        assert_int_equal(got->from, aid);
        assert_int_equal(kbus_msg_create_stateful_request(&stateful, got, "$.Errno.State", 13,
                                                          "again", 5, 0), 0);
        kbus_msg_delete(&got);
        assert_int_equal(stateful->to, aid);

        /* while a is the replier the stateful request goes to it */
        kbus_msg_id_t sid;
        assert_int_equal(kbus_ksock_send_msg(q, stateful, &sid), 0);
        req = read_named(a, "$.Errno.State");
        assert_int_equal(req->id.serial_num, sid.serial_num);
        assert_int_equal(req->to, aid);
        assert_int_equal(kbus_msg_create_reply_to(&reply, req, "ok", 2, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(a, reply, NULL), 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        got = read_named(q, "$.Errno.State");
        kbus_msg_delete(&got);

        /* a goes; with no replier at all, EADDRNOTAVAIL comes first */
        close_synced(a);
        assert_int_equal(kbus_ksock_send_msg(q, stateful, NULL), -EADDRNOTAVAIL);
        /* b is the replier now: the conversation with a can't go on */
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.State", 1), 0);
        kbus_msg_id_t before = kt_send(q, "$.Errno.Other", "", 0);
        assert_int_equal(kbus_ksock_send_msg(q, stateful, NULL), -EPIPE);
        kt_expect_quiet(b, 0);
        kt_expect_quiet(q, 0);
        kbus_msg_id_t after = kt_send(q, "$.Errno.Other", "", 0);
        assert_int_equal(after.serial_num, before.serial_num + 1);
        /* an ordinary request still reaches b */
        kt_send(q, "$.Errno.State", "new", KBUS_BIT_WANT_A_REPLY);
        req = read_named(b, "$.Errno.State");
        assert_true(kbus_msg_wants_us_to_reply(req));
        kbus_msg_delete(&req);
        kbus_msg_delete(&stateful);
        KT_CLOSE(q, b);
}

static void test_eagain_all_or_wait(void **state)
{
        (void)state;
        kbus_ksock_t s = kt_open(0, O_RDWR | O_NONBLOCK), l = kt_open_rw();
        kbus_msg_id_t last;

        kt_set_max(l, 1);
        assert_int_equal(kbus_ksock_bind(l, "$.Errno.Wait", 0), 0);
        kbus_msg_id_t fill = kt_send(s, "$.Errno.Wait", "fill", 0);
        /* with room, ALL_OR_WAIT on a non-blocking ksock just sends */
        assert_int_equal(kt_try_send(s, "$.Errno.Wait.Nobody", "x", KBUS_BIT_ALL_OR_WAIT, NULL), 0);
        assert_int_equal(kt_try_send(s, "$.Errno.Wait", "held", KBUS_BIT_ALL_OR_WAIT, NULL),
                         -EAGAIN);
        assert_int_equal(kt_num_messages(l), 1);
        assert_int_equal(kbus_ksock_last_msg_id(s, &last), 0);
        assert_int_equal(last.serial_num, fill.serial_num + 1); /* the Nobody one */

        /* room appears: the held send completes */
        kbus_message_t *got = read_named(l, "$.Errno.Wait");
        assert_int_equal(got->id.serial_num, fill.serial_num);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_wait_for_message(s, KBUS_KSOCK_WRITABLE), KBUS_KSOCK_WRITABLE);
        assert_int_equal(kbus_ksock_last_msg_id(s, &last), 0);
        assert_int_equal(last.serial_num, fill.serial_num + 2);
        got = read_named(l, "$.Errno.Wait");
        assert_int_equal(got->id.serial_num, last.serial_num);
        assert_int_equal(got->data_len, 4);
        assert_memory_equal(kbus_msg_data_ptr(got), "held", 4);
        kbus_msg_delete(&got);
        kt_expect_quiet(l, 0);
        KT_CLOSE(s, l);
}

static void test_eagain_bind_event(void **state)
{
        (void)state;
        kbus_ksock_t e = kt_open_rw(), l = kt_open_rw(), r = kt_open_rw();
        uint32_t rep = 99, is_bind, binder;
        char *name;

        assert_int_equal(kbus_ksock_report_replier_binds(e, 1), 0);
        kt_set_max(l, 1);
        assert_int_equal(kbus_ksock_bind(l, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Ev.One", 1), 0);
        assert_int_equal(kt_num_messages(l), 1);
        /* l is full: the bind can't be announced, so it is not made */
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Ev.Two", 1), -EAGAIN);
        assert_int_equal(kbus_ksock_find_replier(e, "$.Errno.Ev.Two", &rep), 0);
        assert_int_equal(rep, 0);
        assert_int_equal(kt_num_messages(l), 1);
        /* listener binds are never announced, so they don't care */
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Ev.Three", 0), 0);

        kbus_message_t *ev = read_named(l, KBUS_MSG_NAME_REPLIER_BIND_EVENT);
        assert_int_equal(kbus_msg_split_bind_event(ev, &is_bind, &binder, &name), 0);
        assert_int_equal(is_bind, 1);
        assert_int_equal(binder, kt_id(r));
        assert_string_equal(name, "$.Errno.Ev.One");
        free(name);
        kbus_msg_delete(&ev);
        assert_int_equal(kbus_ksock_bind(r, "$.Errno.Ev.Two", 1), 0);
        ev = read_named(l, KBUS_MSG_NAME_REPLIER_BIND_EVENT);
        assert_int_equal(kbus_msg_split_bind_event(ev, &is_bind, &binder, &name), 0);
        assert_int_equal(is_bind, 1);
        assert_string_equal(name, "$.Errno.Ev.Two");
        free(name);
        kbus_msg_delete(&ev);
        assert_int_equal(kbus_ksock_find_replier(e, "$.Errno.Ev.Two", &rep), 0);
        assert_int_equal(rep, kt_id(r));

        assert_int_equal(kbus_ksock_report_replier_binds(e, 0), 1);
        KT_CLOSE(r, l, e);
}

static void test_econnreset(void **state)
{
        (void)state;
        char *saved = strdup(getenv("KBUS_SOCKET_DIR"));
        char path[PATH_MAX + 16];
        Kbusd k2;
        kbus_message_t *msg, *got = (kbus_message_t *)1;
        uint32_t v = 0, len = 99;

        assert_non_null(saved);
        assert_int_equal(kbusd_start(&k2, NULL), 0);
        setenv("KBUS_SOCKET_DIR", saved, 1); /* the shared kbusd stays bus 0 */
        free(saved);
        snprintf(path, sizeof(path), "%s/kbus0", k2.dir);
        kbus_ksock_t a = kbus_ksock_open_by_name(path, O_RDWR),
                     b = kbus_ksock_open_by_name(path, O_RDWR);
        assert_true(a >= 0 && b >= 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Errno.Dead", 0), 0);
        kbus_msg_id_t id = kt_send(a, "$.Errno.Dead", "last", 0);

        assert_true(kbusd_kill(&k2, SIGKILL) >= 0);

        /* what a had received is still readable, then it says so */
        got = read_named(a, "$.Errno.Dead");
        assert_int_equal(got->id.serial_num, id.serial_num);
        kbus_msg_delete(&got);
        got = (kbus_message_t *)1;
        assert_int_equal(kbus_ksock_read_next_msg(a, &got), -ECONNRESET);
        assert_null(got);
        assert_int_equal(kbus_ksock_bind(a, "$.Errno.Dead2", 0), -ECONNRESET);
        assert_int_equal(kbus_ksock_num_messages(a, &v), -ECONNRESET);

        /* b's first call after the death */
        assert_int_equal(kbus_msg_create(&msg, "$.Errno.Dead", 12, "x", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(b, msg, NULL), -ECONNRESET);
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.Dead", 1), -ECONNRESET);
        assert_int_equal(kbus_ksock_unbind(b, "$.Errno.Dead", 1), -ECONNRESET);
        assert_int_equal(kbus_ksock_num_messages(b, &v), -ECONNRESET);
        v = 0;
        assert_int_equal(kbus_ksock_max_messages(b, &v), -ECONNRESET);
        assert_int_equal(kbus_ksock_read_next_msg(b, &got), -ECONNRESET);
        assert_int_equal(kbus_ksock_next_msg(b, &len), -ECONNRESET);
        assert_int_equal(len, 0);
        assert_int_equal(kbus_wait_for_message(b, KBUS_KSOCK_READABLE), -ECONNRESET);
        assert_int_equal(kbus_wait_for_message(b, KBUS_KSOCK_WRITABLE), -ECONNRESET);
        assert_int_equal(kbus_ksock_post_msg(b, msg), -ECONNRESET);
        assert_int_equal(kbus_ksock_flush(b), -ECONNRESET);
        kbus_msg_delete(&msg);
        KT_CLOSE(a, b);
        /* the socket file is left behind, and nobody listens on it */
        assert_int_equal(kbus_ksock_open_by_name(path, O_RDWR), -ENOENT);
        kbusd_stop(&k2); /* only removes the directory: k2 is already reaped */

        /* the shared kbusd is untouched */
        kbus_ksock_t c = kt_open_rw();
        kt_send(c, "$.Errno.Alive", "", 0);
        kbus_ksock_close(c);
}

/* The reserved $.KBUS space: root too may not send there or own a name there. */
static void test_eperm(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open_rw(), spy = kt_open_rw();
        kbus_msg_id_t before, after;

        assert_int_equal(kbus_ksock_bind(spy, "$.KBUS.*", 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.KBUS.Replier.Unbound", 1), -EPERM);
        assert_int_equal(kbus_ksock_last_msg_id(a, &before), 0);
        assert_int_equal(kt_try_send(a, "$.KBUS.Replier.Unbound", "", 0, NULL), -EPERM);
        assert_int_equal(kt_try_send(a, "$.KBUS.Anything", "", KBUS_BIT_WANT_A_REPLY, NULL), -EPERM);
        /* a status name as a reply: only by the replier that owes it */
        assert_int_equal(try_reply(a, "$.KBUS.Replier.GoneAway", KT_ID(1), kt_id(spy)),
                         -ECONNREFUSED);
        assert_int_equal(kbus_ksock_last_msg_id(a, &after), 0);
        assert_int_equal(after.serial_num, before.serial_num); /* no id used */
        kt_expect_quiet(spy, KT_QUIET_MS);
        kt_send(a, "$.Errno.Perm.Fine", "", 0); /* the ksock is still usable */
        KT_CLOSE(a, spy);
}

/* A kbusd of our own, with @args, for a quota test. */
static void start_limited(Kbusd *k, const char *const *args)
{
        assert_int_equal(kbusd_start(k, args), 0);
}

static void stop_limited(Kbusd *k)
{
        assert_int_equal(kbusd_stop(k), 0);
        setenv("KBUS_SOCKET_DIR", kt_kbusd.dir, 1); /* back to the shared kbusd */
}

/* A uid's share of a quota is used up: EDQUOT, and nothing is made. */
static void test_edquot(void **state)
{
        static const char *const args[] = { "--limit", "bindings-per-uid=2", "--limit",
                                            "connections-per-uid=3", NULL };
        Kbusd k;

        (void)state;
        start_limited(&k, args);
        kbus_ksock_t a = kt_open_rw(), b = kt_open_rw(), c = kt_open_rw();
        assert_int_equal(kbus_ksock_open(0, O_RDWR), -EDQUOT);
        assert_int_equal(kbus_ksock_bind(a, "$.Errno.Q.One", 0), 0);
        assert_int_equal(kbus_ksock_bind(b, "$.Errno.Q.Two", 1), 0);
        assert_int_equal(kbus_ksock_bind(c, "$.Errno.Q.Three", 0), -EDQUOT);
        assert_int_equal(kbus_ksock_bind(c, "$.Errno.Q.Three", 1), -EDQUOT);
        assert_int_equal(kt_replier_of(c, "$.Errno.Q.Three"), 0);
        assert_int_equal(kbus_ksock_unbind(a, "$.Errno.Q.One", 0), 0);
        assert_int_equal(kbus_ksock_bind(c, "$.Errno.Q.Three", 0), 0);
        KT_CLOSE(a, b, c);
        stop_limited(&k);
}

/* kbusd's total of a quota is used up: ENOBUFS. */
static void test_enobufs(void **state)
{
        static const char *const args[] = { "--limit", "requests-total=1", NULL };
        Kbusd k;

        (void)state;
        start_limited(&k, args);
        kbus_ksock_t asker = kt_open_rw(), replier = kt_open_rw();
        assert_int_equal(kbus_ksock_bind(replier, "$.Errno.Q.Ask", 1), 0);
        kt_send(asker, "$.Errno.Q.Ask", "", KBUS_BIT_WANT_A_REPLY);
        assert_int_equal(kt_try_send(asker, "$.Errno.Q.Ask", "", KBUS_BIT_WANT_A_REPLY, NULL),
                         -ENOBUFS);
        uint32_t n = 0;
        assert_int_equal(kbus_ksock_num_messages(replier, &n), 0);
        assert_int_equal(n, 1); /* the refused request went nowhere */
        kbus_message_t *req = kt_take(replier);
        kt_reply(replier, req, "", 0);
        kbus_msg_delete(&req);
        kbus_message_t *rep = kt_take(asker);
        kbus_msg_delete(&rep);
        kt_send(asker, "$.Errno.Q.Ask", "", KBUS_BIT_WANT_A_REPLY); /* room again */
        KT_CLOSE(asker, replier);
        stop_limited(&k);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_eaddrinuse),
                cmocka_unit_test(test_eaddrnotavail_no_replier),
                cmocka_unit_test(test_eaddrnotavail_requester_gone),
                cmocka_unit_test(test_ealready),
                cmocka_unit_test(test_ebadf_read_only),
                cmocka_unit_test(test_ebadf_not_a_ksock),
                cmocka_unit_test(test_ebadmsg_names),
                cmocka_unit_test(test_ebusy_replier_full),
                cmocka_unit_test(test_ebusy_all_or_fail),
                cmocka_unit_test(test_econnrefused),
                cmocka_unit_test(test_einval),
                cmocka_unit_test_teardown(test_emsgsize, kt_restore_max_size),
                cmocka_unit_test_teardown(test_emsgsize_at_write, kt_restore_max_size),
                cmocka_unit_test(test_enametoolong),
                cmocka_unit_test(test_enoent),
                cmocka_unit_test(test_enolck),
                cmocka_unit_test(test_enomsg),
                cmocka_unit_test(test_epipe),
                cmocka_unit_test(test_eagain_all_or_wait),
                cmocka_unit_test(test_eagain_bind_event),
                cmocka_unit_test(test_econnreset),
                cmocka_unit_test(test_eperm),
                cmocka_unit_test(test_edquot),
                cmocka_unit_test(test_enobufs),
        };

        alarm(120);
        return cmocka_run_group_tests(tests, kt_setup_max_size, kt_teardown);
}
