/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kitchen.c - a thermometer that answers requests, and a client that asks it.
 *
 * Both ends live in one program to keep the example short; in real life
 * they would be two processes.  Build:
 *     cc kitchen.c $(pkg-config --cflags --libs kbus) -o kitchen
 * and run it while kbusd serves bus 0.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <kbus/kbus.h>

#define NAME "$.Sensors.Kitchen.Temperature"

static int fail(const char *what, int r)
{
        fprintf(stderr, "kitchen: %s: %s\n", what, strerror(-r));
        return 1;
}

int main(void)
{
        kbus_message_t *req, *got, *reply;
        kbus_msg_id_t id;
        int r;

        kbus_ksock_t thermometer = kbus_ksock_open(0, O_RDWR);
        kbus_ksock_t client = kbus_ksock_open(0, O_RDWR);
        if (thermometer < 0 || client < 0)
                return fail("open bus 0 (is kbusd running?)", thermometer < 0 ? thermometer : client);

        /* The thermometer answers every request named NAME. */
        if ((r = kbus_ksock_bind(thermometer, NAME, 1)) < 0)
                return fail("bind", r);

        /* The client asks; kbusd gives the request an id. */
        kbus_msg_create_request(&req, NAME, strlen(NAME), NULL, 0, 0);
        if ((r = kbus_ksock_send_msg(client, req, &id)) < 0)
                return fail("send request", r);
        printf("asked, request id [%u:%u]\n", id.network_id, id.serial_num);

        /* The thermometer reads the request and replies to it. */
        kbus_wait_for_message(thermometer, KBUS_KSOCK_READABLE);
        kbus_ksock_read_next_msg(thermometer, &got);
        kbus_msg_create_reply_to(&reply, got, "21.5", 4, 0);
        if ((r = kbus_ksock_send_msg(thermometer, reply, NULL)) < 0)
                return fail("send reply", r);

        /* The client reads the reply. */
        kbus_msg_delete(&req);
        kbus_msg_delete(&reply);
        kbus_msg_delete(&got);
        kbus_wait_for_message(client, KBUS_KSOCK_READABLE);
        kbus_ksock_read_next_msg(client, &got);
        printf("answer: %.*s from ksock %u\n", (int)got->data_len,
               (char *)kbus_msg_data_ptr(got), got->from);
        kbus_msg_print(stdout, got);
        printf("\n");

        kbus_msg_delete(&got);
        kbus_ksock_close(client);
        kbus_ksock_close(thermometer);
        return 0;
}
