/* SPDX-License-Identifier: MPL-2.0 */
/*
 * compat-send - a sender written as the original KBUS utilities were: an
 * entire announcement, an entire request and the wait for its reply, a
 * request nobody can answer (its errno), then "$.Compat.Stop".
 */
#include <libkbus/kbus.h>

static int fail(const char *what)
{
        fprintf(stderr, "compat-send: %s: %s\n", what, strerror(errno));
        return 1;
}

/* Sends @msg, which it then deletes; prints its id. */
static int send_and_delete(kbus_ksock_t ksock, kbus_message_t **msg, kbus_msg_id_t *id)
{
        int rv = kbus_ksock_send_msg(ksock, *msg, id);

        kbus_msg_delete(msg);
        if (rv < 0)
                return rv;
        printf("sent [%u:%u]\n", id->network_id, id->serial_num);
        return 0;
}

int main(void)
{
        kbus_ksock_t ksock = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *msg = NULL, *reply = NULL;
        kbus_msg_id_t asked, id;

        if (ksock < 0)
                return fail("open");
        if (kbus_msg_create_entire(&msg, "$.Compat.Hello", 14, "hi", 2, 0) < 0 ||
            send_and_delete(ksock, &msg, &id) < 0)
                return fail("announce");
        if (kbus_msg_create_entire_request(&msg, "$.Compat.Ask", 12, "question", 8, 0) < 0 ||
            send_and_delete(ksock, &msg, &asked) < 0)
                return fail("ask");
        while (!reply) {
                if (kbus_wait_for_message(ksock, KBUS_KSOCK_READABLE) < 0)
                        return fail("wait");
                if (kbus_ksock_read_next_msg(ksock, &reply) < 0)
                        return fail("read");
        }
        if (kbus_msg_compare_ids(&reply->in_reply_to, &asked) != 0) {
                fprintf(stderr, "compat-send: a reply to something else\n");
                return 1;
        }
        kbus_msg_print2(stdout, reply, 0);
        printf("\n");
        kbus_msg_delete(&reply);

        if (kbus_msg_create_entire_request(&msg, "$.Compat.Nobody", 15, NULL, 0, 0) < 0)
                return fail("create");
        if (kbus_ksock_send_msg(ksock, msg, &id) >= 0 || errno != EADDRNOTAVAIL)
                return fail("a request nobody answers");
        printf("nobody: %s\n", strerror(errno));
        kbus_msg_delete(&msg);

        if (kbus_msg_create_entire(&msg, "$.Compat.Stop", 13, NULL, 0, 0) < 0 ||
            send_and_delete(ksock, &msg, &id) < 0)
                return fail("stop");
        return kbus_ksock_close(ksock) < 0 ? fail("close") : 0;
}
