/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kbus-answer.c - a C replier for the Python binding's cross-language tests.
 *
 * Usage: kbus-answer NAME DATA COUNT
 * Binds as replier for NAME on bus 0, prints "ready <ksock id>", then
 * answers COUNT requests with DATA, printing each request with
 * kbus_msg_print() and a newline.  Exit status 0, or 1 with a one-line
 * error on stderr.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kbus/kbus.h>

static int answer_fail(const char *what, int r)
{
        fprintf(stderr, "kbus-answer: %s: %s\n", what, strerror(-r));
        return 1;
}

/* Waits for the next request this ksock must answer, and answers it. */
static int answer_one(kbus_ksock_t ksock, const char *data)
{
        kbus_message_t *req = NULL, *reply;
        int r;

        while (!req) {
                r = kbus_wait_for_message(ksock, KBUS_KSOCK_READABLE);
                if (r < 0)
                        return answer_fail("wait", r);
                r = kbus_ksock_read_next_msg(ksock, &req);
                if (r < 0)
                        return answer_fail("read", r);
                if (req && !kbus_msg_wants_us_to_reply(req))
                        kbus_msg_delete(&req);
        }
        kbus_msg_print(stdout, req);
        printf("\n");
        fflush(stdout);
        r = kbus_msg_create_reply_to(&reply, req, data, strlen(data), 0);
        if (r == 0)
                r = kbus_ksock_send_msg(ksock, reply, NULL);
        if (r < 0)
                return answer_fail("reply", r);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&req);
        return 0;
}

int main(int argc, char **argv)
{
        uint32_t id;
        int r;

        if (argc != 4) {
                fprintf(stderr, "usage: kbus-answer NAME DATA COUNT\n");
                return 2;
        }
        kbus_ksock_t ksock = kbus_ksock_open(0, O_RDWR);
        if (ksock < 0)
                return answer_fail("open bus 0", ksock);
        r = kbus_ksock_bind(ksock, argv[1], 1);
        if (r < 0)
                return answer_fail("bind", r);
        kbus_ksock_id(ksock, &id);
        printf("ready %u\n", id);
        fflush(stdout);
        for (int n = atoi(argv[3]); n > 0; n--)
                if (answer_one(ksock, argv[2]))
                        return 1;
        kbus_ksock_close(ksock);
        return 0;
}
