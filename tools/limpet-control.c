/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-control.c - the link's control messages (limpet-control.h).
 *
 * A kbus Limpet's first message on a new link is $.KBUS.Limpet.Hello, with
 * the text "heartbeat=<ms>" as data: how long it waits without hearing from
 * the other side before it takes the link for dead.  A kbus Limpet that
 * receives it answers nothing more than its own Hello (already sent), and
 * from then on sends $.KBUS.Limpet.Heartbeat a few times in that period.
 * An original Limpet passes the Hello to its bus, where kbusd refuses it
 * ($.KBUS is kbusd's) and the original goes on; it never sends one, so a
 * kbus Limpet paired with it sends no heartbeats and sets no timeout: the
 * original mode.  Unknown control messages are ignored, so later versions
 * can add more.
 */
#include "limpet-control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO LIMPET_CONTROL_PREFIX "Hello"
#define HEARTBEAT LIMPET_CONTROL_PREFIX "Heartbeat"

static int control_message(const char *name, const char *text, kbus_message_t **ret)
{
        return kbus_msg_create_entire(ret, name, (uint32_t)strlen(name), text,
                                      text ? (uint32_t)strlen(text) : 0, 0);
}

/**
 * limpet_control_hello() - our Hello.
 * @heartbeat_ms: how long we wait for the other side before the link is dead
 * @ret:          the message
 *
 * Return: 0, or a negative errno.
 */
int limpet_control_hello(uint32_t heartbeat_ms, kbus_message_t **ret)
{
        char text[32];

        snprintf(text, sizeof(text), "heartbeat=%u", (unsigned)heartbeat_ms);
        return control_message(HELLO, text, ret);
}

/**
 * limpet_control_heartbeat() - a heartbeat.
 * @ret: the message
 *
 * Return: 0, or a negative errno.
 */
int limpet_control_heartbeat(kbus_message_t **ret)
{
        return control_message(HEARTBEAT, NULL, ret);
}

static bool named(const kbus_message_t *msg, const char *name)
{
        return msg->name_len == strlen(name) &&
               memcmp(kbus_msg_name_ptr(msg), name, msg->name_len) == 0;
}

/* The heartbeat period a Hello's data gives; 0 if it gives none that makes sense. */
static uint32_t hello_heartbeat(const kbus_message_t *msg)
{
        char text[32];
        unsigned long ms;
        char *end;

        if (msg->data_len == 0 || msg->data_len >= sizeof(text))
                return 0;
        memcpy(text, kbus_msg_data_ptr(msg), msg->data_len);
        text[msg->data_len] = '\0';
        if (strncmp(text, "heartbeat=", 10) != 0)
                return 0;
        errno = 0;
        ms = strtoul(text + 10, &end, 10);
        if (errno || *end || end == text + 10 || ms < 10 || ms > 3600000)
                return 0;
        return (uint32_t)ms;
}

/**
 * limpet_control_kind() - whether @msg is a control message, and which.
 * @msg:          a message from the link
 * @heartbeat_ms: for a Hello, set to the other side's period (0: none given)
 *
 * Return: LIMPET_NOT_CONTROL for a message to pass to the bus.
 */
LimpetControl limpet_control_kind(const kbus_message_t *msg, uint32_t *heartbeat_ms)
{
        size_t plen = strlen(LIMPET_CONTROL_PREFIX);

        if (msg->name_len <= plen || memcmp(kbus_msg_name_ptr(msg), LIMPET_CONTROL_PREFIX, plen))
                return LIMPET_NOT_CONTROL;
        if (named(msg, HELLO)) {
                *heartbeat_ms = hello_heartbeat(msg);
                return LIMPET_HELLO;
        }
        return named(msg, HEARTBEAT) ? LIMPET_HEARTBEAT : LIMPET_UNKNOWN;
}
