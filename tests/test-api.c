/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-api.c - links the shared libkbus and touches every function it
 * exports (STYLE §7): each is reachable, and each rejects a descriptor that
 * is not a ksock with -EBADF (and errno EBADF) instead of crashing.  Also checks the export
 * list itself: libkbus.so exports exactly the functions of kbus.h and limpet.h.
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
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "kbus/kbus.h"
#include "kbus/limpet.h"

/* A failing call returns -@e and leaves errno == @e, as the original libkbus. */
#define assert_fails(call, e)                            \
        do {                                             \
                errno = 0;                               \
                assert_int_equal((call), -(e));          \
                assert_int_equal(errno, (e));            \
        } while (0)

static void test_not_a_ksock(void **state)
{
        kbus_message_t *m = NULL;
        kbus_msg_id_t id;
        uint32_t v = 0, len;
        (void)state;

        assert_fails(kbus_ksock_close(999), EBADF);
        assert_fails(kbus_ksock_bind(999, "$.a", 0), EBADF);
        assert_fails(kbus_ksock_unbind(999, "$.a", 0), EBADF);
        assert_fails(kbus_ksock_id(999, &v), EBADF);
        assert_fails(kbus_ksock_next_msg(999, &len), EBADF);
        assert_fails(kbus_ksock_len_left(999, &len), EBADF);
        assert_fails(kbus_ksock_write_data(999, (uint8_t *)"x", 1), EBADF);
        assert_fails(kbus_ksock_read_msg(999, &m, 100), EBADF);
        assert_fails(kbus_ksock_read_next_msg(999, &m), EBADF);
        assert_int_equal(kbus_msg_create(&m, "$.a", 3, NULL, 0, 0), 0);
        assert_fails(kbus_ksock_write_msg(999, m), EBADF);
        assert_fails(kbus_ksock_send(999, &id), EBADF);
        assert_fails(kbus_ksock_send_msg(999, m, &id), EBADF);
        assert_fails(kbus_ksock_post_msg(999, m), EBADF);
        kbus_msg_delete(&m);
        assert_null(m);
        assert_fails(kbus_ksock_flush(999), EBADF);
        assert_fails(kbus_ksock_discard(999), EBADF);
        assert_fails(kbus_ksock_last_msg_id(999, &id), EBADF);
        assert_fails(kbus_ksock_find_replier(999, "$.a", &v), EBADF);
        assert_fails(kbus_ksock_max_messages(999, &v), EBADF);
        assert_fails(kbus_ksock_num_messages(999, &v), EBADF);
        assert_fails(kbus_ksock_num_unreplied_to(999, &v), EBADF);
        assert_fails(kbus_ksock_only_once(999, 1), EBADF);
        assert_fails(kbus_ksock_report_replier_binds(999, 1), EBADF);
        assert_fails(kbus_ksock_kernel_module_verbose(999, 1), EBADF);
        assert_fails(kbus_ksock_max_message_size(999, &v), EBADF);
        assert_fails(kbus_ksock_new_device(999, &v), EBADF);
        assert_fails(kbus_wait_for_message(999, KBUS_KSOCK_READABLE), EBADF);
        assert_fails(kbus_ksock_close(STDOUT_FILENO), EBADF);
        assert_fails(kbus_ksock_open_timeout(NULL, O_RDWR, 100), EINVAL);
        assert_fails(kbus_ksock_open_timeout("/dev/kbus0", O_RDWR, 0), EINVAL);
        assert_fails(kbus_ksock_open_timeout("/dev/kbus0", O_RDWR | O_APPEND, 100), EINVAL);
        kbus_limpet_context_t *ctx;
        assert_fails(kbus_limpet_new_context(999, 1, 2, "$.*", 0, &ctx), EBADF);
        assert_null(ctx);
}

static void test_every_export_works(void **state)
{
        kbus_message_t *req, *got, *reply, *stateful;
        kbus_msg_id_t id;
        uint32_t v, len, is_bind, binder;
        char *name;
        Kbusd k;
        (void)state;

        assert_string_equal(kbus_version(), KBUS_VERSION);
        assert_int_equal(kbusd_start(&k, NULL), 0);
        kbus_ksock_t a = kbus_ksock_open(0, O_RDWR);
        kbus_ksock_t b = kbus_ksock_open_by_name("/dev/kbus0", O_RDWR);
        kbus_ksock_t t = kbus_ksock_open_timeout("/dev/kbus0", O_RDONLY, 5000);
        assert_true(a >= 0 && b >= 0 && t >= 0);
        assert_int_equal(kbus_ksock_close(t), 0);
        assert_int_equal(kbus_ksock_report_replier_binds(b, 1), 0);
        assert_int_equal(kbus_ksock_kernel_module_verbose(a, 0xFFFFFFFF), 0);
        assert_int_equal(kbus_ksock_only_once(a, 0xFFFFFFFF), 0);
        assert_int_equal(kbus_ksock_bind(b, KBUS_MSG_NAME_REPLIER_BIND_EVENT, 0), 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Api.Ask", 1), 0);
        assert_int_equal(kbus_ksock_find_replier(b, "$.Api.Ask", &v), 0);
        assert_int_equal(kbus_ksock_id(a, &len), 0);
        assert_int_equal(v, len);
        assert_int_equal(kbus_ksock_read_next_msg(b, &got), 0);
        assert_int_equal(kbus_msg_split_bind_event(got, &is_bind, &binder, &name), 0);
        assert_int_equal(is_bind, 1);
        assert_string_equal(name, "$.Api.Ask");
        free(name);
        kbus_msg_delete(&got);

        assert_int_equal(kbus_msg_create_request(&req, "$.Api.Ask", 9, "q", 1, 0), 0);
        assert_int_equal(kbus_ksock_write_msg(b, req), 0);
        assert_int_equal(kbus_ksock_send(b, &id), 0);
        assert_int_equal(kbus_ksock_last_msg_id(b, &id), 0);
        assert_int_equal(kbus_wait_for_message(a, KBUS_KSOCK_READABLE), KBUS_KSOCK_READABLE);
        assert_int_equal(kbus_ksock_num_messages(a, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(kbus_ksock_next_msg(a, &len), 0);
        assert_true(len > sizeof(kbus_message_t));
        assert_int_equal(kbus_ksock_read_msg(a, &got, len), 0);
        assert_true(kbus_msg_is_request(got) && kbus_msg_wants_us_to_reply(got));
        assert_string_equal(kbus_msg_name_ptr(got), "$.Api.Ask");
        assert_int_equal(kbus_ksock_num_unreplied_to(a, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(kbus_msg_create_reply_to(&reply, got, "r", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(a, reply, NULL), 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_ksock_read_next_msg(b, &got), 0);
        assert_true(kbus_msg_is_reply(got));
        assert_memory_equal(kbus_msg_data_ptr(got), "r", 1);
        assert_int_equal(kbus_msg_create_stateful_request(&stateful, got, "$.Api.Ask", 9, NULL, 0,
                                                          0), 0);
        assert_int_equal(kbus_ksock_send_msg(b, stateful, NULL), 0);
        kbus_msg_delete(&stateful);
        kbus_msg_delete(&got);
        kbus_msg_delete(&req);

        v = 50;
        assert_int_equal(kbus_ksock_max_messages(a, &v), 0);
        assert_int_equal(v, 50);
        v = 0;
        assert_int_equal(kbus_ksock_max_message_size(a, &v), 0);
        assert_int_equal(v, 64 * 1024);
        assert_int_equal(kbus_ksock_new_device(a, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(kbus_msg_create(&got, "$.Api.Post", 10, NULL, 0, 0), 0);
        assert_int_equal(kbus_ksock_post_msg(a, got), 0);
        assert_int_equal(kbus_ksock_flush(a), 0);
        assert_int_equal(kbus_ksock_discard(a), 0);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_ksock_unbind(a, "$.Api.Ask", 1), 0);
        assert_int_equal(kbus_ksock_close(a), 0);
        assert_int_equal(kbus_ksock_close(b), 0);
        k.buses = 2; /* the new bus's socket must go too */
        assert_int_equal(kbusd_stop(&k), 0);
}

/* libkbus.so exports exactly the kbus_* functions of kbus.h, limpet.h and version.h. */
static void test_export_list(void **state)
{
        char cmd[512], line[256];
        int n = 0;
        (void)state;

        snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' | awk '$2 == \"T\" {print $3}'",
                 getenv("KBUS_LIBRARY"));
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p)) {
                assert_int_equal(strncmp(line, "kbus_", 5), 0);
                n++;
        }
        assert_int_equal(pclose(p), 0);
        assert_int_equal(n, 67);
}

/* Symbols added after the first release are in their own version node. */
static void test_version_nodes(void **state)
{
        char cmd[512], line[256];
        int n1 = 0, n11 = 0, n12 = 0, n13 = 0;
        (void)state;

        snprintf(cmd, sizeof(cmd), "objdump -T '%s' | awk '$NF ~ /^kbus_/ {print $(NF-1), $NF}'",
                 getenv("KBUS_LIBRARY"));
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p)) {
                if (strcmp(line, "LIBKBUS_1.1 kbus_ksock_open_timeout\n") == 0)
                        n11++;
                else if (strncmp(line, "LIBKBUS_1.2 kbus_", 17) == 0)
                        n12++;
                else if (strncmp(line, "LIBKBUS_1.3 kbus_", 17) == 0)
                        n13++;
                else if (strncmp(line, "LIBKBUS_1 kbus_", 15) == 0)
                        n1++;
                else
                        fail_msg("unexpected version node: %s", line);
        }
        assert_int_equal(pclose(p), 0);
        assert_int_equal(n1, 39);
        assert_int_equal(n11, 1);
        assert_int_equal(n12, 10);
        assert_int_equal(n13, 17);
}

/* Sends @m's kbus_msg_sizeof() bytes from @from in pieces of @piece bytes. */
static void write_in_pieces(kbus_ksock_t from, const kbus_message_t *m, int piece)
{
        int size = kbus_msg_sizeof(m);
        uint8_t *bytes = (uint8_t *)m;

        for (int done = 0; done < size; done += piece) {
                int n = size - done < piece ? size - done : piece;
                assert_int_equal(kbus_ksock_write_data(from, bytes + done, (size_t)n), 0);
        }
}

/* @to reads a message named "$.Api.Parts" with @data; len_left says its length until read. */
static void read_parts_msg(kbus_ksock_t to, const char *data)
{
        kbus_message_t *got;
        uint32_t len, left;

        assert_int_equal(kbus_ksock_next_msg(to, &len), 0);
        assert_int_equal(kbus_ksock_len_left(to, &left), 0);
        assert_int_equal(left, len);
        assert_int_equal(kbus_ksock_read_msg(to, &got, len), 0);
        assert_int_equal(kbus_ksock_len_left(to, &left), 0);
        assert_int_equal(left, 0);
        assert_string_equal(kbus_msg_name_ptr(got), "$.Api.Parts");
        assert_int_equal(got->data_len, strlen(data));
        assert_memory_equal(kbus_msg_data_ptr(got), data, strlen(data));
        kbus_msg_delete(&got);
}

/* kbus_ksock_write_data(): a message written as its bytes, in any pieces. */
static void test_write_data(void **state)
{
        kbus_message_t *entire, *pointy;
        kbus_msg_id_t id;
        Kbusd k;
        (void)state;

        assert_int_equal(kbusd_start(&k, NULL), 0);
        kbus_ksock_t a = kbus_ksock_open(0, O_RDWR), b = kbus_ksock_open(0, O_RDWR);
        assert_true(a >= 0 && b >= 0);
        assert_int_equal(kbus_ksock_bind(a, "$.Api.Parts", 0), 0);
        assert_int_equal(kbus_msg_create_entire(&entire, "$.Api.Parts", 11, "whole", 5, 0), 0);
        assert_int_equal(kbus_msg_create(&pointy, "$.Api.Parts", 11, "pointy", 6, 0), 0);

        /* An entire message 7 bytes at a time; a pointy one as its header. */
        write_in_pieces(b, entire, 7);
        assert_int_equal(kbus_ksock_send(b, &id), 0);
        read_parts_msg(a, "whole");
        write_in_pieces(b, pointy, kbus_msg_sizeof(pointy));
        assert_int_equal(kbus_ksock_send(b, &id), 0);
        read_parts_msg(a, "pointy");

        /* An incomplete message cannot be sent; discard drops it. */
        assert_int_equal(kbus_ksock_write_data(b, (uint8_t *)entire, 20), 0);
        assert_fails(kbus_ksock_send(b, &id), EINVAL);
        assert_int_equal(kbus_ksock_discard(b), 0);
        assert_fails(kbus_ksock_send(b, &id), ENOMSG);

        /* A byte past the end is -EMSGSIZE and drops the message. */
        write_in_pieces(b, entire, kbus_msg_sizeof(entire));
        assert_fails(kbus_ksock_write_data(b, (uint8_t *)"x", 1), EMSGSIZE);
        assert_fails(kbus_ksock_send(b, &id), ENOMSG);

        /* The header is checked as soon as it is complete. */
        entire->start_guard = 0;
        assert_fails(kbus_ksock_write_data(b, (uint8_t *)entire, sizeof(kbus_message_t)), EINVAL);
        entire->start_guard = KBUS_MSG_START_GUARD;
        entire->data_len = 20 * 1024 * 1024;
        assert_fails(kbus_ksock_write_data(b, (uint8_t *)entire, sizeof(kbus_message_t)), EMSGSIZE);
        assert_fails(kbus_ksock_send(b, &id), ENOMSG);

        uint32_t n = 1;
        assert_int_equal(kbus_ksock_num_messages(a, &n), 0);
        assert_int_equal(n, 0);
        kbus_msg_delete(&entire);
        kbus_msg_delete(&pointy);
        assert_int_equal(kbus_ksock_close(a), 0);
        assert_int_equal(kbus_ksock_close(b), 0);
        assert_int_equal(kbusd_stop(&k), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_not_a_ksock),
                cmocka_unit_test(test_every_export_works),
                cmocka_unit_test(test_write_data),
                cmocka_unit_test(test_export_list),
                cmocka_unit_test(test_version_nodes),
        };
        alarm(60);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
