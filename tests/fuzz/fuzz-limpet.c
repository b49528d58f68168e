/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz-limpet.c - libFuzzer target for the Limpet link's message bytes
 * (kbus_limpet_msg_from_link(), src/lib/limpet.c): what a Limpet reads
 * from the other Limpet, which it must not trust.
 *
 * The input is a link byte stream, cut into messages as kbus-limpet does:
 * while a message decodes, take it and go on after it.  Each decoded
 * message must be well formed (guards, a name of 1 to 1000 bytes that is a
 * valid message name, data at most 16 MiB, used bytes within the input),
 * and encoding it again (kbus_limpet_msg_to_link()) must give exactly the
 * bytes it came from: the link format is canonical.  A control message
 * ($.KBUS.Limpet.*, tools/limpet-control.c) is parsed as kbus-limpet
 * parses it: the lists it carries are within their bounds, and a Hello
 * said again reads back the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kbus/kbus.h"
#include "kbus/limpet.h"
#include "limpet-control.h"
#include "name.h"

#define CHECK(cond)                      \
        do {                             \
                if (!(cond))             \
                        __builtin_trap(); \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const kbus_message_t *m, const uint8_t *from, size_t used)
{
        uint8_t *again;
        size_t len;

        CHECK(m->start_guard == KBUS_MSG_START_GUARD && m->end_guard == KBUS_MSG_END_GUARD);
        CHECK(m->name_len >= 1 && m->name_len <= KBUS_MAX_NAME_LEN);
        CHECK(name_check(kbus_msg_name_ptr(m), m->name_len, false, NULL) == 0);
        CHECK(kbus_limpet_msg_to_link(m, &again, &len) == 0);
        CHECK(len == used && memcmp(again, from, len) == 0);
        free(again);
}

static void check_hello(const LimpetHello *h)
{
        kbus_message_t *again;
        LimpetHello back = { 0 };

        CHECK(!h->has_reach || h->nreach <= KBUS_LIMPET_REACH_MAX);
        CHECK(limpet_control_hello(h, &again) == 0);
        CHECK(limpet_control_kind(again, &back) == LIMPET_HELLO);
        CHECK(back.heartbeat_ms == h->heartbeat_ms && back.wants_interest == h->wants_interest);
        CHECK(back.has_reach == h->has_reach && back.nreach == h->nreach);
        CHECK(!h->nreach || memcmp(back.reach, h->reach, h->nreach * sizeof(*h->reach)) == 0);
        limpet_hello_free(&back);
        kbus_msg_delete(&again);
}

static void check_control(const kbus_message_t *m)
{
        LimpetHello hello = { 0 };
        uint32_t *ids;
        char **names;
        size_t n;

        switch (limpet_control_kind(m, &hello)) {
        case LIMPET_HELLO:
                check_hello(&hello);
                break;
        case LIMPET_INTEREST:
                if (limpet_control_interest_names(m, &names, &n) == 0) {
                        for (size_t i = 0; i < n; i++) {
                                CHECK(name_check(names[i], strlen(names[i]), true, NULL) == 0);
                                free(names[i]);
                        }
                        free(names);
                }
                break;
        case LIMPET_REACH:
                if (limpet_control_reach_ids(m, &ids, &n) == 0) {
                        CHECK(n <= KBUS_LIMPET_REACH_MAX);
                        for (size_t i = 0; i < n; i++)
                                CHECK(ids[i] != 0);
                        free(ids);
                }
                break;
        case LIMPET_BYE:
                (void)limpet_control_bye_loop(m);
                break;
        default:
                break;
        }
        limpet_hello_free(&hello);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        while (size > 0) {
                kbus_message_t *m;
                size_t used;
                int r = kbus_limpet_msg_from_link(data, size, &m, &used);

                if (r < 0 || !m) {
                        CHECK(m == NULL && used == 0);
                        return 0;
                }
                CHECK(used > 0 && used <= size);
                check_message(m, data, used);
                check_control(m);
                kbus_msg_delete(&m);
                data += used;
                size -= used;
        }
        return 0;
}
