/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-ask.c - a C requester for the Python binding's cross-language tests.
 *
 * Usage: kbus-ask NAME DATA
 * Sends a request NAME with DATA on bus 0, waits for the reply (or status)
 * and prints it with kbus_msg_print() and a newline.  Exit status 0, or 1
 * with a one-line error on stderr.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <kbus/kbus.h>

static int ask_fail(const char *what, int r)
{
        fprintf(stderr, "kbus-ask: %s: %s\n", what, strerror(-r));
        return 1;
}

int main(int argc, char **argv)
{
        kbus_message_t *req, *reply = NULL;
        kbus_msg_id_t id;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: kbus-ask NAME DATA\n");
                return 2;
        }
        kbus_ksock_t ksock = kbus_ksock_open(0, O_RDWR);
        if (ksock < 0)
                return ask_fail("open bus 0", ksock);
        r = kbus_msg_create_request(&req, argv[1], strlen(argv[1]), argv[2], strlen(argv[2]), 0);
        if (r < 0)
                return ask_fail("create request", r);
        r = kbus_ksock_send_msg(ksock, req, &id);
        if (r < 0)
                return ask_fail("send", r);
        while (!reply) {
                r = kbus_wait_for_message(ksock, KBUS_KSOCK_READABLE);
                if (r < 0)
                        return ask_fail("wait", r);
                r = kbus_ksock_read_next_msg(ksock, &reply);
                if (r < 0)
                        return ask_fail("read", r);
        }
        kbus_msg_print(stdout, reply);
        printf("\n");
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        kbus_ksock_close(ksock);
        return 0;
}
