/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-control.h - the messages two kbus Limpets say to each other on
 * their link, never to a bus: the extensions negotiated after HELO
 * (docs/limpet.md, "Extensions").
 */
#ifndef KBUS_TOOLS_LIMPET_CONTROL_H
#define KBUS_TOOLS_LIMPET_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kbus/kbus.h"

/* Every control message is named below this; a bus never sees one. */
#define LIMPET_CONTROL_PREFIX "$.KBUS.Limpet."

typedef enum LimpetControl {
        LIMPET_NOT_CONTROL = 0, /* an ordinary message, for the bus */
        LIMPET_HELLO,           /* the other side knows the extensions */
        LIMPET_HEARTBEAT,       /* the other side is alive */
        LIMPET_INTEREST,        /* what the other side's bus listens to */
        LIMPET_REACH,           /* the Limpets the other side's bus leads to, now */
        LIMPET_BYE,             /* the other side ends the link, and says why */
        LIMPET_UNKNOWN,         /* a control message of a later version: ignored */
} LimpetControl;

/* What a Hello says. */
typedef struct LimpetHello {
        uint32_t heartbeat_ms; /* its heartbeat period (0: none given) */
        bool wants_interest;   /* it listens only to what our bus listens to */
        bool has_reach;        /* it says which Limpets its bus leads to: */
        uint32_t *reach;       /* their network ids (malloc'd; limpet_hello_free()) */
        size_t nreach;
} LimpetHello;

int limpet_control_hello(const LimpetHello *hello, kbus_message_t **ret);
void limpet_hello_free(LimpetHello *hello);
int limpet_control_heartbeat(kbus_message_t **ret);
int limpet_control_bye(uint32_t loop_id, kbus_message_t **ret);
uint32_t limpet_control_bye_loop(const kbus_message_t *msg);
int limpet_control_reach(const uint32_t *ids, size_t count, kbus_message_t **ret);
int limpet_control_reach_ids(const kbus_message_t *msg, uint32_t **ids, size_t *count);
int limpet_control_interest(char *const *names, size_t count, kbus_message_t **ret);
int limpet_control_interest_names(const kbus_message_t *msg, char ***names, size_t *count);
LimpetControl limpet_control_kind(const kbus_message_t *msg, LimpetHello *hello);

#endif
