/* SPDX-License-Identifier: MPL-2.0 */
/*
 * compat-listen - a listener written as the original KBUS utilities were:
 * <libkbus/kbus.h>, a read-only ksock on bus 0, errno after a negative
 * return, kbus_msg_print2().  It binds "$.Compat.*", says "ready", then
 * prints every message it reads until "$.Compat.Stop".
 */
#include <libkbus/kbus.h>

static int fail(const char *what)
{
        fprintf(stderr, "compat-listen: %s: %s\n", what, strerror(errno));
        return 1;
}

int main(void)
{
        kbus_ksock_t ksock = kbus_ksock_open(0, O_RDONLY);
        int stop = 0;

        if (ksock < 0)
                return fail("open");
        if (kbus_ksock_bind(ksock, "$.Compat.*", 0) < 0)
                return fail("bind");
        printf("ready\n");
        fflush(stdout);
        while (!stop) {
                kbus_message_t *msg = NULL;

                if (kbus_wait_for_message(ksock, KBUS_KSOCK_READABLE) < 0)
                        return fail("wait");
                while (!stop && kbus_ksock_read_next_msg(ksock, &msg) == 0 && msg) {
                        kbus_msg_print2(stdout, msg, KBUS_MSG_PRINT_FLAGS_ABBREVIATE);
                        printf("\n");
                        stop = !strcmp(kbus_msg_name_ptr(msg), "$.Compat.Stop");
                        kbus_msg_delete(&msg);
                }
        }
        return kbus_ksock_close(ksock) < 0 ? fail("close") : 0;
}
