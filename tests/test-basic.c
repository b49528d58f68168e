/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-basic.c - the first things a KBUS user does, against a real kbusd:
 * open, bind, send, read, request and reply (semantics §5-§7).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "kbus-test.h"

static void test_open_ids(void **state)
{
        (void)state;
        kbus_ksock_t a = kt_open_rw(), b = kt_open_rw();
        uint32_t ida = 0, idb = 0;

        assert_int_equal(kbus_ksock_id(a, &ida), 0);
        assert_int_equal(kbus_ksock_id(b, &idb), 0);
        assert_int_not_equal(ida, 0);
        assert_int_not_equal(idb, 0);
        assert_int_not_equal(ida, idb);
        assert_int_equal(kbus_ksock_close(a), 0);
        assert_int_equal(kbus_ksock_close(b), 0);
        assert_int_equal(kbus_ksock_close(a), -EBADF);
}

static void test_announcement(void **state)
{
        (void)state;
        kbus_ksock_t tx = kt_open_rw(), rx = kt_open_rw();
        kbus_message_t *got;
        kbus_msg_id_t id1, id2;
        uint32_t n, txid;

        assert_int_equal(kbus_ksock_bind(rx, "$.Sensors.Kitchen", 0), 0);
        id1 = kt_send(tx, "$.Sensors.Kitchen", "21C", 0);
        id2 = kt_send(tx, "$.Sensors.Hall", "19C", 0);
        assert_int_equal(id2.serial_num, id1.serial_num + 1);
        assert_int_equal(kbus_ksock_num_messages(rx, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(kbus_ksock_read_next_msg(rx, &got), 0);
        assert_non_null(got);
        assert_int_equal(kbus_ksock_id(tx, &txid), 0);
        assert_int_equal(got->from, txid);
        assert_int_equal(got->id.serial_num, id1.serial_num);
        assert_int_equal(got->data_len, 3);
        assert_memory_equal(kbus_msg_data_ptr(got), "21C", 3);
        assert_string_equal(kbus_msg_name_ptr(got), "$.Sensors.Kitchen");
        kbus_msg_delete(&got);
        assert_int_equal(kbus_ksock_read_next_msg(rx, &got), 0);
        assert_null(got);
        assert_int_equal(kbus_ksock_num_messages(rx, &n), 0);
        assert_int_equal(n, 0);
        kbus_ksock_close(tx);
        kbus_ksock_close(rx);
}

static void test_request_reply(void **state)
{
        (void)state;
        kbus_ksock_t req = kt_open_rw(), rep = kt_open_rw();
        kbus_message_t *msg, *got, *reply;
        kbus_msg_id_t id, rid;
        uint32_t repid;

        assert_int_equal(kbus_ksock_bind(rep, "$.Actor.Ask", 1), 0);
        assert_int_equal(kbus_msg_create_request(&msg, "$.Actor.Ask", 11, "?", 1, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(req, msg, &id), 0);
        kbus_msg_delete(&msg);
        assert_int_equal(kbus_ksock_read_next_msg(rep, &got), 0);
        assert_non_null(got);
        assert_true(kbus_msg_wants_us_to_reply(got));
        assert_int_equal(kbus_msg_create_reply_to(&reply, got, "yes", 3, 0), 0);
        assert_int_equal(kbus_ksock_send_msg(rep, reply, &rid), 0);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&got);
        assert_int_equal(kbus_ksock_read_next_msg(req, &got), 0);
        assert_non_null(got);
        assert_true(kbus_msg_is_reply(got));
        assert_int_equal(got->in_reply_to.serial_num, id.serial_num);
        assert_int_equal(kbus_ksock_id(rep, &repid), 0);
        assert_int_equal(got->from, repid);
        assert_memory_equal(kbus_msg_data_ptr(got), "yes", 3);
        kbus_msg_delete(&got);
        kbus_ksock_close(req);
        kbus_ksock_close(rep);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_ids),
                cmocka_unit_test(test_announcement),
                cmocka_unit_test(test_request_reply),
        };
        return cmocka_run_group_tests(tests, kt_setup, kt_teardown);
}
