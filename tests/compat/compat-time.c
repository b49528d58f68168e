/* SPDX-License-Identifier: MPL-2.0 */
/*
 * compat-time - a timing loop as the original kspeed did it: send COUNT
 * entire messages to a name this ksock listens to, read each back, time
 * it all with gettimeofday().  Prints the count to stdout, the rate to
 * stderr (a figure, not a check).
 */
#include <libkbus/kbus.h>

#define COUNT 1000

static int fail(const char *what)
{
        fprintf(stderr, "compat-time: %s: %s\n", what, strerror(errno));
        return 1;
}

int main(void)
{
        kbus_ksock_t ksock = kbus_ksock_open(0, O_RDWR);
        struct timeval start, end;
        kbus_message_t *msg = NULL;
        kbus_msg_id_t id;
        int received = 0;

        if (ksock < 0)
                return fail("open");
        if (kbus_ksock_bind(ksock, "$.Compat.Time", 0) < 0)
                return fail("bind");
        if (kbus_msg_create_entire(&msg, "$.Compat.Time", 13, "tick", 4, 0) < 0)
                return fail("create");
        gettimeofday(&start, NULL);
        for (int i = 0; i < COUNT; i++) {
                kbus_message_t *got = NULL;

                if (kbus_ksock_send_msg(ksock, msg, &id) < 0)
                        return fail("send");
                if (kbus_ksock_read_next_msg(ksock, &got) < 0)
                        return fail("read");
                if (got && kbus_msg_compare_ids(&got->id, &id) == 0)
                        received++;
                kbus_msg_delete(&got);
        }
        gettimeofday(&end, NULL);
        kbus_msg_delete(&msg);
        double secs = (double)(end.tv_sec - start.tv_sec) + (end.tv_usec - start.tv_usec) / 1e6;
        printf("%d sent, %d read back\n", COUNT, received);
        fprintf(stderr, "compat-time: %.0f round trips a second\n", secs > 0 ? COUNT / secs : 0.0);
        return kbus_ksock_close(ksock) < 0 ? fail("close") : 0;
}
