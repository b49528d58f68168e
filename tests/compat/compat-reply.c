/* SPDX-License-Identifier: MPL-2.0 */
/*
 * compat-reply - a replier written as the original KBUS utilities were: it
 * binds "$.Compat.Ask" as replier, says "ready", dumps the one request it
 * reads (kbus_msg_dump) and answers it with an entire reply.
 */
#include <libkbus/kbus.h>

static int fail(const char *what)
{
        fprintf(stderr, "compat-reply: %s: %s\n", what, strerror(errno));
        return 1;
}

int main(void)
{
        kbus_ksock_t ksock = kbus_ksock_open(0, O_RDWR);
        kbus_message_t *req = NULL, *rep = NULL;
        kbus_msg_id_t id;

        if (ksock < 0)
                return fail("open");
        if (kbus_ksock_bind(ksock, "$.Compat.Ask", 1) < 0)
                return fail("bind");
        printf("ready\n");
        fflush(stdout);
        while (!req) {
                if (kbus_wait_for_message(ksock, KBUS_KSOCK_READABLE) < 0)
                        return fail("wait");
                if (kbus_ksock_read_next_msg(ksock, &req) < 0)
                        return fail("read");
        }
        if (!kbus_msg_wants_us_to_reply(req)) {
                fprintf(stderr, "compat-reply: not ours to answer\n");
                return 1;
        }
        kbus_msg_dump(req, 1);
        if (kbus_msg_create_entire_reply_to(&rep, req, "answer", 6, 0) < 0)
                return fail("create reply");
        if (kbus_ksock_send_msg(ksock, rep, &id) < 0)
                return fail("send");
        printf("replied [%u:%u]\n", id.network_id, id.serial_num);
        kbus_msg_delete(&req);
        kbus_msg_delete(&rep);
        return kbus_ksock_close(ksock) < 0 ? fail("close") : 0;
}
