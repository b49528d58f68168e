/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-control.c - the link's control messages (limpet-control.h).
 *
 * A kbus Limpet's first message on a new link is $.KBUS.Limpet.Hello, with
 * the text "heartbeat=<ms>" as data: how long it waits without hearing from
 * the other side before it takes the link for dead; followed by " interest"
 * if it passes on only what the other side's bus listens to (it then wants
 * Interest messages).  A kbus Limpet that
 * receives it answers nothing more than its own Hello (already sent), and
 * from then on sends $.KBUS.Limpet.Heartbeat a few times in that period.
 * An original Limpet passes the Hello to its bus, where kbusd refuses it
 * ($.KBUS is kbusd's) and the original goes on; it never sends one, so a
 * kbus Limpet paired with it sends no heartbeats and sets no timeout: the
 * original mode.  Unknown control messages are ignored, so later versions
 * can add more.
 *
 * $.KBUS.Limpet.Interest, sent when it changes to a Limpet that asked, carries what the listeners
 * of the sender's bus are bound to, one name or wildcard a line: the other
 * side then passes on only announcements that match one (no flood of a bus
 * nobody listens to).  A list longer than INTEREST_MAX is sent as "$.*".
 *
 * The Hello also says, as " reach=<id>,<id>,...", the network ids of the
 * Limpets the sender's bus leads to through its other links; the other
 * side refuses the link if its own bus leads to one of them (a loop).
 * $.KBUS.Limpet.Reach ("<id> <id> ...") says it again when it changes.
 *
 * $.KBUS.Limpet.Bye is the last message on a link a kbus Limpet ends on
 * purpose: "stop" (it is stopping) or "loop=<id>" (it refused the link: the
 * two buses already lead to that Limpet).  The other side then knows at
 * once, and why, instead of seeing the link just close.
 */
#include "limpet-control.h"

#include "../src/proto/name.h"
#include "kbus/limpet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO LIMPET_CONTROL_PREFIX "Hello"
#define HEARTBEAT LIMPET_CONTROL_PREFIX "Heartbeat"
#define INTEREST LIMPET_CONTROL_PREFIX "Interest"
#define INTEREST_MAX 60000 /* more than this: "everything" */
#define REACH LIMPET_CONTROL_PREFIX "Reach"
#define BYE LIMPET_CONTROL_PREFIX "Bye"
#define ID_TEXT_MAX 11     /* "4294967295" and a separator */

static int ids_parse(const char *text, size_t len, char sep, uint32_t **ids, size_t *count);

static int control_message(const char *name, const char *text, kbus_message_t **ret)
{
        return kbus_msg_create_entire(ret, name, (uint32_t)strlen(name), text,
                                      text ? (uint32_t)strlen(text) : 0, 0);
}

/* @ids as decimal text, each followed by @sep but the last, after @prefix. */
static char *ids_text(const char *prefix, const uint32_t *ids, size_t count, char sep)
{
        size_t len = strlen(prefix) + count * ID_TEXT_MAX + 1;
        char *text = malloc(len), *p = text;

        if (!text)
                return NULL;
        p += sprintf(p, "%s", prefix);
        for (size_t i = 0; i < count; i++) {
                if (i)
                        *p++ = sep;
                p += sprintf(p, "%u", (unsigned)ids[i]);
        }
        return text;
}

/**
 * limpet_control_hello() - our Hello.
 * @hello: our heartbeat period, whether we want the other's Interest, and
 *         the Limpets our bus leads to
 * @ret:   the message
 *
 * Return: 0, or a negative errno.
 */
int limpet_control_hello(const LimpetHello *hello, kbus_message_t **ret)
{
        char head[48];

        snprintf(head, sizeof(head), "heartbeat=%u%s%s", (unsigned)hello->heartbeat_ms,
                 hello->wants_interest ? " interest" : "", hello->has_reach ? " reach=" : "");
        char *text = ids_text(head, hello->reach, hello->has_reach ? hello->nreach : 0, ',');
        if (!text)
                return -ENOMEM;
        int r = control_message(HELLO, text, ret);
        free(text);
        return r;
}

void limpet_hello_free(LimpetHello *hello)
{
        free(hello->reach);
        *hello = (LimpetHello){ 0 };
}

/**
 * limpet_control_bye() - the last message on a link we end.
 * @loop_id: the Limpet both buses lead to, if we refuse a loop; 0: we stop
 * @ret:     the message
 *
 * Return: 0, or a negative errno.
 */
int limpet_control_bye(uint32_t loop_id, kbus_message_t **ret)
{
        char text[24] = "stop";

        if (loop_id)
                snprintf(text, sizeof(text), "loop=%u", (unsigned)loop_id);
        return control_message(BYE, text, ret);
}

/**
 * limpet_control_bye_loop() - the Limpet a Bye says both buses lead to.
 * @msg: a Bye
 *
 * Return: its network id, or 0 for any other Bye (a stop, or one we do not know).
 */
uint32_t limpet_control_bye_loop(const kbus_message_t *msg)
{
        uint32_t *ids;
        size_t n;

        if (msg->data_len <= 5 || memcmp(kbus_msg_data_ptr(msg), "loop=", 5) != 0 ||
            ids_parse(kbus_msg_data_ptr(msg) + 5, msg->data_len - 5, ',', &ids, &n) < 0)
                return 0;
        uint32_t id = n == 1 ? ids[0] : 0;
        free(ids);
        return id;
}

/**
 * limpet_control_reach() - the Reach message for these network ids.
 * @ids:   the Limpets our bus leads to
 * @count: how many
 * @ret:   the message
 *
 * Return: 0, or a negative errno.
 */
int limpet_control_reach(const uint32_t *ids, size_t count, kbus_message_t **ret)
{
        char *text = ids_text("", ids, count, ' ');

        if (!text)
                return -ENOMEM;
        int r = control_message(REACH, text, ret);
        free(text);
        return r;
}

/*
 * Network ids in @text (@len bytes), separated by @sep: at most
 * KBUS_LIMPET_REACH_MAX of 1..2^32-1.  Return: 0, -EBADMSG, -ENOMEM.
 */
static int ids_parse(const char *text, size_t len, char sep, uint32_t **ids, size_t *count)
{
        size_t n = 0;
        uint32_t *list = malloc((len / 2 + 1) * sizeof(*list));

        *ids = NULL;
        *count = 0;
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                uint64_t v = 0;
                size_t start = i;
                while (i < len && text[i] >= '0' && text[i] <= '9' && i - start < 10)
                        v = v * 10 + (uint64_t)(text[i++] - '0');
                bool end = i == len || (text[i] == sep && i + 1 < len);
                if (i == start || !end || v == 0 || v > UINT32_MAX ||
                    n == KBUS_LIMPET_REACH_MAX) {
                        free(list);
                        return -EBADMSG;
                }
                list[n++] = (uint32_t)v;
                i += i < len; /* past the separator */
        }
        *ids = list;
        *count = n;
        return 0;
}

/**
 * limpet_control_reach_ids() - the network ids a Reach message carries.
 * @msg:   the message
 * @ids:   set to a malloc'd array (free() it)
 * @count: set to how many
 *
 * Return: 0, -EBADMSG (not a list of ids, or too many), -ENOMEM.
 */
int limpet_control_reach_ids(const kbus_message_t *msg, uint32_t **ids, size_t *count)
{
        return ids_parse(msg->data_len ? kbus_msg_data_ptr(msg) : "", msg->data_len, ' ', ids,
                         count);
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

/**
 * limpet_control_interest() - the Interest message for these names.
 * @names: what this bus listens to
 * @count: how many
 * @ret:   the message
 *
 * Return: 0, or a negative errno.
 */
int limpet_control_interest(char *const *names, size_t count, kbus_message_t **ret)
{
        size_t len = 0;

        for (size_t i = 0; i < count; i++)
                len += strlen(names[i]) + 1;
        if (len > INTEREST_MAX)
                return control_message(INTEREST, "$.*", ret);
        char *text = malloc(len + 1), *p = text;
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++)
                p += sprintf(p, "%s%s", i ? "\n" : "", names[i]);
        *p = '\0';
        int r = control_message(INTEREST, text, ret);
        free(text);
        return r;
}

/**
 * limpet_control_interest_names() - the names an Interest message carries.
 * @msg:   the message
 * @names: set to a malloc'd array of malloc'd names (NULL if none)
 * @count: set to how many
 *
 * Return: 0, -EBADMSG (a line that is not a valid name or wildcard), -ENOMEM.
 */
int limpet_control_interest_names(const kbus_message_t *msg, char ***names, size_t *count)
{
        const char *data = kbus_msg_data_ptr(msg);
        size_t n = msg->data_len ? 1 : 0, k = 0;

        *names = NULL;
        *count = 0;
        for (uint32_t i = 0; i < msg->data_len; i++)
                n += data[i] == '\n';
        char **list = n ? calloc(n, sizeof(*list)) : NULL;
        if (n && !list)
                return -ENOMEM;
        for (uint32_t start = 0, i = 0; n && i <= msg->data_len; i++) {
                if (i < msg->data_len && data[i] != '\n')
                        continue;
                int err = name_check(data + start, i - start, true, NULL) != 0 ? -EBADMSG : 0;
                if (!err && !(list[k] = strndup(data + start, i - start)))
                        err = -ENOMEM;
                if (err) { /* a name kbusd would not take as a binding: untrusted input */
                        for (size_t j = 0; j < k; j++)
                                free(list[j]);
                        free(list);
                        return err;
                }
                k++;
                start = i + 1;
        }
        *names = list;
        *count = k;
        return 0;
}

static bool named(const kbus_message_t *msg, const char *name)
{
        return msg->name_len == strlen(name) &&
               memcmp(kbus_msg_name_ptr(msg), name, msg->name_len) == 0;
}

/* A heartbeat period in a Hello; 0 if it makes no sense. */
static uint32_t hello_heartbeat(const char *digits)
{
        unsigned long ms;
        char *end;

        errno = 0;
        ms = strtoul(digits, &end, 10);
        if (errno || *end || end == digits || ms < 10 || ms > 3600000)
                return 0;
        return (uint32_t)ms;
}

/* What a Hello's data says: space-separated words; unknown ones are ignored. */
static void hello_parse(const kbus_message_t *msg, LimpetHello *hello)
{
        char *text = strndup(msg->data_len ? kbus_msg_data_ptr(msg) : "", msg->data_len);
        char *save = NULL;

        *hello = (LimpetHello){ 0 };
        if (!text)
                return; /* no memory: taken as an original's */
        for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                if (strncmp(w, "heartbeat=", 10) == 0)
                        hello->heartbeat_ms = hello_heartbeat(w + 10);
                else if (strcmp(w, "interest") == 0)
                        hello->wants_interest = true;
                else if (strncmp(w, "reach=", 6) == 0)
                        hello->has_reach = ids_parse(w + 6, strlen(w + 6), ',', &hello->reach,
                                                     &hello->nreach) == 0;
        }
        free(text);
}

/**
 * limpet_control_kind() - whether @msg is a control message, and which.
 * @msg:          a message from the link
 * @hello:        for a Hello, set to what it says (limpet_hello_free() it)
 *
 * Return: LIMPET_NOT_CONTROL for a message to pass to the bus.
 */
LimpetControl limpet_control_kind(const kbus_message_t *msg, LimpetHello *hello)
{
        size_t plen = strlen(LIMPET_CONTROL_PREFIX);

        if (msg->name_len <= plen || memcmp(kbus_msg_name_ptr(msg), LIMPET_CONTROL_PREFIX, plen))
                return LIMPET_NOT_CONTROL;
        if (named(msg, HELLO)) {
                hello_parse(msg, hello);
                return LIMPET_HELLO;
        }
        if (named(msg, INTEREST))
                return LIMPET_INTEREST;
        if (named(msg, REACH))
                return LIMPET_REACH;
        if (named(msg, BYE))
                return LIMPET_BYE;
        return named(msg, HEARTBEAT) ? LIMPET_HEARTBEAT : LIMPET_UNKNOWN;
}
