/* SPDX-License-Identifier: MPL-2.0 */
/*
 * msg.c - libkbus messages: the public kbus_msg_* helpers, and the bridge
 * between kbus_message_t and the wire form (WireMsg).
 *
 * A kbus_message_t comes in two shapes, as in the original KBUS.  A "pointy"
 * message has name (and data, if any) pointing at memory the caller owns;
 * the kbus_msg_create*() helpers make these, and copy neither.  An "entire"
 * message has name == NULL and data == NULL and carries both in the same
 * allocation: the header, the name NUL-padded to a multiple of four bytes
 * with at least one NUL (so it is a C string), the data zero-padded to a
 * multiple of four, and a final copy of the end guard.  Messages read from a
 * ksock are always entire; msg_from_wire() makes them.  Both shapes reach
 * kbusd through msg_to_wire(), which checks the structure (guards, lengths,
 * pointer shape), and msg_check(), which checks the meaning (name syntax and
 * flag combinations) as kbusd would, so that a bad message costs no round
 * trip.  Nothing here does I/O, except kbus_msg_print() to its stream.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/name.h"
#include "export.h"
#include "kbus/kbus.h"
#include "msg.h"

/* How many data bytes kbus_msg_print() shows. */
#define MSG_PRINT_DATA_MAX 20u
/* How many bytes kbus_msg_dump() shows on a line. */
#define MSG_DUMP_PER_LINE 16u

/* The fixed part of the data of a $.KBUS.ReplierBindEvent. */

static uint32_t msg_data_pad(uint32_t data_len)
{
        return (uint32_t)(((uint64_t)data_len + 3u) & ~(uint64_t)3u);
}

static bool msg_is_entire(const kbus_message_t *msg)
{
        return kbus_msg_is_entire(msg);
}

/* The public layout macros describe the same layout as msg_entire_size(). */
_Static_assert(sizeof(kbus_entire_message_t) == sizeof(kbus_message_t),
               "rest[] follows the header directly");

/* The name of an entire message follows its header. */
static char *msg_entire_name(const kbus_message_t *msg)
{
        return (char *)msg + sizeof(kbus_message_t);
}

static bool msg_name_is(const kbus_message_t *msg, const char *name)
{
        size_t len = strlen(name);

        return msg->name_len == len && memcmp(kbus_msg_name_ptr(msg), name, len) == 0;
}

/**
 * msg_entire_size() - the size of an entire message.
 * @name_len: the name's length, without padding
 * @data_len: the data's length, without padding
 *
 * Return: the header, plus the name padded to a multiple of four bytes with at
 * least one NUL, plus the data padded to a multiple of four, plus the final
 * end guard.
 */
size_t msg_entire_size(uint32_t name_len, uint32_t data_len)
{
        return sizeof(kbus_message_t) + wire_name_pad(name_len) + (size_t)msg_data_pad(data_len) +
               sizeof(uint32_t);
}

/* ---- public helpers ---------------------------------------------------- */

/**
 * kbus_msg_name_ptr() - the name of a pointy or entire message.
 * @msg: the message
 *
 * Return: the name (NUL-terminated for entire messages), or NULL if @msg is
 * NULL.
 */
KBUS_EXPORT char *kbus_msg_name_ptr(const kbus_message_t *msg)
{
        if (!msg)
                return NULL;
        return msg_is_entire(msg) ? msg_entire_name(msg) : msg->name;
}

/**
 * kbus_msg_data_ptr() - the data of a pointy or entire message.
 * @msg: the message
 *
 * The data of an entire message follows its padded name.
 *
 * Return: the data, or NULL if @msg is NULL or data_len is 0.
 */
KBUS_EXPORT void *kbus_msg_data_ptr(const kbus_message_t *msg)
{
        if (!msg || msg->data_len == 0)
                return NULL;
        if (!msg_is_entire(msg))
                return msg->data;
        return msg_entire_name(msg) + wire_name_pad(msg->name_len);
}

/**
 * kbus_msg_is_request() - whether WANT_A_REPLY is set.
 * @msg: the message
 *
 * Return: 1 or 0 (0 for NULL).
 */
KBUS_EXPORT int kbus_msg_is_request(const kbus_message_t *msg)
{
        return msg && (msg->flags & KBUS_BIT_WANT_A_REPLY);
}

/**
 * kbus_msg_is_reply() - whether in_reply_to is set (replies and statuses).
 * @msg: the message
 *
 * Return: 1 or 0 (0 for NULL).
 */
KBUS_EXPORT int kbus_msg_is_reply(const kbus_message_t *msg)
{
        return msg && (msg->in_reply_to.network_id || msg->in_reply_to.serial_num);
}

/**
 * kbus_msg_wants_us_to_reply() - whether this copy of a request is ours to
 * answer (WANT_A_REPLY and WANT_YOU_TO_REPLY).
 * @msg: the message
 *
 * Return: 1 or 0 (0 for NULL).
 */
KBUS_EXPORT int kbus_msg_wants_us_to_reply(const kbus_message_t *msg)
{
        const uint32_t both = KBUS_BIT_WANT_A_REPLY | KBUS_BIT_WANT_YOU_TO_REPLY;

        return msg && (msg->flags & both) == both;
}

/**
 * kbus_msg_create() - create a pointy message; @name and @data are not
 * copied and must outlive its sending.
 * @msg:      the new message
 * @name:     the name
 * @name_len: its length in bytes
 * @data:     the data, or NULL
 * @data_len: its length in bytes
 * @flags:    KBUS_BIT_* and user flags
 *
 * The name is not checked here; sending checks it.  With @data_len 0 the
 * message's data pointer is NULL whatever @data is.
 *
 * Return: 0, or -EINVAL (NULL @msg, NULL or empty name, or data_len without
 * data), -ENOMEM.
 */
KBUS_EXPORT int kbus_msg_create(kbus_message_t **msg, const char *name, uint32_t name_len,
                                const void *data, uint32_t data_len, uint32_t flags)
{
        if (!msg || !name || name_len == 0 || (data_len > 0 && !data))
                return lib_result(-EINVAL);

        kbus_message_t *m = calloc(1, sizeof(*m));
        if (!m)
                return lib_result(-ENOMEM);
        m->start_guard = KBUS_MSG_START_GUARD;
        m->end_guard = KBUS_MSG_END_GUARD;
        m->flags = flags;
        m->name_len = name_len;
        m->data_len = data_len;
        m->name = (char *)name;
        m->data = data_len ? (void *)data : NULL;
        *msg = m;
        return 0;
}

/**
 * kbus_msg_create_request() - kbus_msg_create() with WANT_A_REPLY set.
 * @msg:      the new message
 * @name:     the name
 * @name_len: its length in bytes
 * @data:     the data, or NULL
 * @data_len: its length in bytes
 * @flags:    KBUS_BIT_* and user flags
 *
 * Return: as kbus_msg_create().
 */
KBUS_EXPORT int kbus_msg_create_request(kbus_message_t **msg, const char *name, uint32_t name_len,
                                        const void *data, uint32_t data_len, uint32_t flags)
{
        uint32_t request = flags | KBUS_BIT_WANT_A_REPLY;

        return lib_result(kbus_msg_create(msg, name, name_len, data, data_len, request));
}

/**
 * kbus_msg_create_reply_to() - create the reply to @in_reply_to, which must
 * want us to reply; it refers to @in_reply_to's name, so keep that alive.
 * @msg:         the new message
 * @in_reply_to: the request
 * @data:        the data, or NULL
 * @data_len:    its length in bytes
 * @flags:       KBUS_BIT_* and user flags, used as given (WANT_A_REPLY is not
 *               added; a reply that has it is refused when sent)
 *
 * The reply goes to the request's sender and answers the request's id.
 *
 * Return: 0, or -EBADMSG (@in_reply_to does not want us to reply), -EINVAL
 * (a NULL argument, or data_len without data), -ENOMEM.
 */
KBUS_EXPORT int kbus_msg_create_reply_to(kbus_message_t **msg, const kbus_message_t *in_reply_to,
                                         const void *data, uint32_t data_len, uint32_t flags)
{
        kbus_message_t *m;

        if (!msg || !in_reply_to)
                return lib_result(-EINVAL);
        if (!kbus_msg_wants_us_to_reply(in_reply_to))
                return lib_result(-EBADMSG);
        int r = kbus_msg_create(&m, kbus_msg_name_ptr(in_reply_to), in_reply_to->name_len, data,
                                data_len, flags);
        if (r < 0)
                return lib_result(r);
        m->to = in_reply_to->from;
        m->in_reply_to = in_reply_to->id;
        *msg = m;
        return 0;
}

/**
 * kbus_msg_create_stateful_request() - create a request that only the ksock
 * that sent @earlier_msg (a reply) or received it (a stateful request) may
 * answer.
 * @msg:         the new message
 * @earlier_msg: a reply, or an earlier stateful request
 * @name:        the name
 * @name_len:    its length in bytes
 * @data:        the data, or NULL
 * @data_len:    its length in bytes
 * @flags:       KBUS_BIT_* and user flags (WANT_A_REPLY is added)
 *
 * From a reply, "to" is the reply's sender and final_to its orig_from; from a
 * stateful request, both are copied.  @earlier_msg may be freed afterwards.
 *
 * Return: 0, or -EBADMSG (@earlier_msg is neither), -EINVAL (a NULL argument,
 * NULL or empty name, or data_len without data), -ENOMEM.
 */
KBUS_EXPORT int kbus_msg_create_stateful_request(kbus_message_t **msg,
                                                 const kbus_message_t *earlier_msg,
                                                 const char *name, uint32_t name_len,
                                                 const void *data, uint32_t data_len,
                                                 uint32_t flags)
{
        kbus_orig_from_t final_to;
        uint32_t to;

        if (!earlier_msg)
                return lib_result(-EINVAL);
        if (kbus_msg_is_reply(earlier_msg)) {
                to = earlier_msg->from;
                final_to = earlier_msg->orig_from;
        } else if (kbus_msg_is_stateful_request(earlier_msg)) {
                to = earlier_msg->to;
                final_to = earlier_msg->final_to;
        } else {
                return lib_result(-EBADMSG);
        }

        int r = kbus_msg_create_request(msg, name, name_len, data, data_len, flags);
        if (r < 0)
                return lib_result(r);
        (*msg)->to = to;
        (*msg)->final_to = final_to;
        return 0;
}

/*
 * Replaces the pointy message *@msg, just made with result @r, with an
 * entire copy of it, so that one function makes both forms of each kind.
 */
static int msg_make_entire(kbus_message_t **msg, int r)
{
        kbus_message_t *entire = NULL;
        WireMsg w;

        if (r < 0)
                return r;
        r = msg_to_wire(*msg, &w);
        if (r == 0 && wire_msg_size(w.name_len, w.data_len) > KBUS_MSG_SIZE_ABS_MAX)
                r = -EMSGSIZE;
        if (r == 0)
                r = msg_from_wire(&w, 0, &entire);
        kbus_msg_delete(msg);
        *msg = entire;
        return r;
}

KBUS_EXPORT int kbus_msg_create_entire(kbus_message_t **msg, const char *name, uint32_t name_len,
                                       const void *data, uint32_t data_len, uint32_t flags)
{
        int r = kbus_msg_create(msg, name, name_len, data, data_len, flags);

        return lib_result(msg_make_entire(msg, r));
}

KBUS_EXPORT int kbus_msg_create_entire_request(kbus_message_t **msg, const char *name,
                                               uint32_t name_len, const void *data,
                                               uint32_t data_len, uint32_t flags)
{
        int r = kbus_msg_create_request(msg, name, name_len, data, data_len, flags);

        return lib_result(msg_make_entire(msg, r));
}

KBUS_EXPORT int kbus_msg_create_entire_reply_to(kbus_message_t **msg,
                                                const kbus_message_t *in_reply_to,
                                                const void *data, uint32_t data_len,
                                                uint32_t flags)
{
        int r = kbus_msg_create_reply_to(msg, in_reply_to, data, data_len, flags);

        return lib_result(msg_make_entire(msg, r));
}

KBUS_EXPORT int kbus_msg_create_entire_stateful_request(kbus_message_t **msg,
                                                        const kbus_message_t *earlier_msg,
                                                        const char *name, uint32_t name_len,
                                                        const void *data, uint32_t data_len,
                                                        uint32_t flags)
{
        int r = kbus_msg_create_stateful_request(msg, earlier_msg, name, name_len, data,
                                                 data_len, flags);

        return lib_result(msg_make_entire(msg, r));
}

/**
 * kbus_msg_delete() - free a message (not the name or data a pointy message
 * points to) and set *@msg_p to NULL; does nothing for NULL.
 * @msg_p: the message
 */
KBUS_EXPORT void kbus_msg_delete(kbus_message_t **msg_p)
{
        if (!msg_p)
                return;
        free(*msg_p);
        *msg_p = NULL;
}

/**
 * kbus_msg_delete_all() - free a message and, if it is pointy, the name and
 * data it points to; set *@msg_p to NULL.  Does nothing for NULL.
 * @msg_p: the message
 */
KBUS_EXPORT void kbus_msg_delete_all(kbus_message_t **msg_p)
{
        if (!msg_p || !*msg_p)
                return;
        if (!msg_is_entire(*msg_p)) {
                free((*msg_p)->name);
                free((*msg_p)->data);
        }
        kbus_msg_delete(msg_p);
}

/**
 * kbus_msg_sizeof() - the bytes @msg occupies: its header if pointy, all of
 * it if entire.
 * @msg: the message
 *
 * Return: the size, or -EINVAL (NULL @msg), -EMSGSIZE (lengths too large
 * for an int).
 */
KBUS_EXPORT int kbus_msg_sizeof(const kbus_message_t *msg)
{
        if (!msg)
                return lib_result(-EINVAL);
        if (!msg_is_entire(msg))
                return (int)sizeof(*msg);
        size_t size = msg_entire_size(msg->name_len, msg->data_len);
        return size > INT_MAX ? lib_result(-EMSGSIZE) : (int)size;
}

/**
 * kbus_msg_split_bind_event() - split the data of a $.KBUS.ReplierBindEvent.
 * @msg:     the event
 * @is_bind: 1 for a bind, 0 for an unbind
 * @binder:  the ksock id that bound or unbound
 * @name:    a malloc()ed, NUL-terminated copy of the name; free() it
 *
 * The data is {u32 is_bind, u32 binder, u32 name_len, name, padding}, the
 * integers in host byte order (semantics §11).  Nothing is stored on failure.
 *
 * Return: 0, or -EBADMSG (not a $.KBUS.ReplierBindEvent, or its data is too
 * short for what it says), -EINVAL (a NULL argument), -ENOMEM.
 */
KBUS_EXPORT int kbus_msg_split_bind_event(const kbus_message_t *msg, uint32_t *is_bind,
                                          uint32_t *binder, char **name)
{
        uint32_t fixed[3];

        if (!msg || !is_bind || !binder || !name)
                return lib_result(-EINVAL);
        const uint8_t *data = kbus_msg_data_ptr(msg);
        if (!msg_name_is(msg, KBUS_MSG_NAME_REPLIER_BIND_EVENT) || !data ||
            msg->data_len < BIND_EVENT_FIXED_LEN)
                return lib_result(-EBADMSG);
        memcpy(fixed, data, sizeof(fixed));
        if (fixed[2] > msg->data_len - BIND_EVENT_FIXED_LEN)
                return lib_result(-EBADMSG);

        char *copy = strndup((const char *)data + BIND_EVENT_FIXED_LEN, fixed[2]);
        if (!copy)
                return lib_result(-ENOMEM);
        *is_bind = fixed[0];
        *binder = fixed[1];
        *name = copy;
        return 0;
}

/* ---- printing ---------------------------------------------------------- */

static const char *msg_kind(const kbus_message_t *msg)
{
        static const char prefix[] = "$.KBUS.";
        const size_t plen = sizeof(prefix) - 1;

        if (kbus_msg_is_reply(msg)) {
                if (msg->name_len > plen && memcmp(kbus_msg_name_ptr(msg), prefix, plen) == 0)
                        return "Status";
                return "Reply";
        }
        if (kbus_msg_is_request(msg))
                return "Request";
        if (msg_name_is(msg, KBUS_MSG_NAME_REPLIER_BIND_EVENT))
                return "ReplierBindEvent";
        return "Announcement";
}

static void msg_print_flags(FILE *stream, uint32_t flags)
{
        static const struct {
                uint32_t bit;
                const char *label;
        } labels[] = {
                { KBUS_BIT_WANT_A_REPLY, "REQ" },
                { KBUS_BIT_WANT_YOU_TO_REPLY, "YOU" },
                { KBUS_BIT_SYNTHETIC, "SYN" },
                { KBUS_BIT_URGENT, "URG" },
                { KBUS_BIT_ALL_OR_FAIL, "aFL" },
                { KBUS_BIT_ALL_OR_WAIT, "aWT" },
        };

        if (!flags)
                return;
        fprintf(stream, " flags=0x%x", flags);
        for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
                if (flags & labels[i].bit)
                        fprintf(stream, " %s", labels[i].label);
}

/* The header fields, each only when non-zero. */
static void msg_print_fields(FILE *stream, const kbus_message_t *msg)
{
        if (msg->id.network_id || msg->id.serial_num)
                fprintf(stream, " id=[%u:%u]", msg->id.network_id, msg->id.serial_num);
        if (msg->to)
                fprintf(stream, " to=%u", msg->to);
        if (msg->from)
                fprintf(stream, " from=%u", msg->from);
        if (msg->orig_from.network_id || msg->orig_from.local_id)
                fprintf(stream, " orig_from=(%u,%u)", msg->orig_from.network_id,
                        msg->orig_from.local_id);
        if (msg->final_to.network_id || msg->final_to.local_id)
                fprintf(stream, " final_to=(%u,%u)", msg->final_to.network_id,
                        msg->final_to.local_id);
        if (kbus_msg_is_reply(msg))
                fprintf(stream, " in_reply_to=[%u:%u]", msg->in_reply_to.network_id,
                        msg->in_reply_to.serial_num);
        msg_print_flags(stream, msg->flags);
}

/* At most @max of @len bytes, unprintable ones as \xNN, "..." if cut. */
static void msg_print_bytes(FILE *stream, const uint8_t *data, uint32_t len, uint32_t max)
{
        uint32_t shown = len < max ? len : max;

        if (!data) /* a pointy message missing its data */
                return;
        for (uint32_t i = 0; i < shown; i++) {
                if (isprint(data[i]))
                        fputc(data[i], stream);
                else
                        fprintf(stream, "\\x%02x", data[i]);
        }
        if (len > shown)
                fputs("...", stream);
}

/* A bind event's data as "[Bind 'name' for 5]"; false if it is malformed. */
static bool msg_print_bind_event(FILE *stream, const kbus_message_t *msg)
{
        uint32_t is_bind, binder;
        char *name;

        if (kbus_msg_split_bind_event(msg, &is_bind, &binder, &name) < 0)
                return false;
        fprintf(stream, " [%s '%s' for %u]", is_bind ? "Bind" : "Unbind", name, binder);
        free(name);
        return true;
}

/**
 * kbus_msg_print() - kbus_msg_print2() with KBUS_MSG_PRINT_FLAGS_ABBREVIATE.
 * @stream: where to print
 * @msg:    the message
 */
KBUS_EXPORT void kbus_msg_print(FILE *stream, const kbus_message_t *msg)
{
        kbus_msg_print2(stream, msg, KBUS_MSG_PRINT_FLAGS_ABBREVIATE);
}

/**
 * kbus_msg_print2() - print a one-line description of @msg, without newline,
 * as the original libkbus did: "<Request '$.Fred' id=[0:3] from=2 ...>".
 * @stream: where to print
 * @msg:    the message
 * @flags:  KBUS_MSG_PRINT_FLAGS_ABBREVIATE: at most 20 bytes of data
 *
 * The kind (Status, Reply, Request, ReplierBindEvent or Announcement) comes
 * first, then the name (not for bind events), then each non-zero field, then
 * the data: a bind event's contents, or the bytes with unprintable ones as
 * \xNN (abbreviated: the first 20, and "..." if there are more).  A bind
 * event whose data cannot be split is shown as plain data.  Prints nothing
 * if an argument is NULL.
 */
KBUS_EXPORT void kbus_msg_print2(FILE *stream, const kbus_message_t *msg, unsigned int flags)
{
        if (!stream || !msg)
                return;
        const char *kind = msg_kind(msg);
        bool is_bind_event = strcmp(kind, "ReplierBindEvent") == 0;
        uint32_t max = (flags & KBUS_MSG_PRINT_FLAGS_ABBREVIATE) ? MSG_PRINT_DATA_MAX : UINT32_MAX;

        fprintf(stream, "<%s", kind);
        if (!is_bind_event)
                fprintf(stream, " '%.*s'", (int)msg->name_len, kbus_msg_name_ptr(msg));
        msg_print_fields(stream, msg);
        if (msg->data_len > 0) {
                fputs(" data=", stream);
                if (!is_bind_event || !msg_print_bind_event(stream, msg))
                        msg_print_bytes(stream, kbus_msg_data_ptr(msg), msg->data_len, max);
        }
        fputc('>', stream);
}

/* @len bytes as text, with '?' for what does not print. */
static void msg_dump_text(const char *p, uint32_t len)
{
        for (uint32_t i = 0; p && i < len; i++)
                putchar(isgraph((unsigned char)p[i]) || p[i] == ' ' ? p[i] : '?');
        putchar('\n');
}

/* @len bytes in hex, MSG_DUMP_PER_LINE to an indented line. */
static void msg_dump_hex(const uint8_t *p, size_t len)
{
        for (size_t i = 0; p && i < len; i++) {
                if (i % MSG_DUMP_PER_LINE == 0)
                        fputs(i ? "\n    " : "    ", stdout);
                printf(i % MSG_DUMP_PER_LINE ? " %02x" : "%02x", p[i]);
        }
        putchar('\n');
}

/**
 * kbus_msg_dump() - print every field of @msg on stdout, one per line, then
 * its name, and if @dump_data its data as text and in hex and the
 * kbus_msg_sizeof() bytes of the message in hex.
 * @msg:       the message
 * @dump_data: non-zero to print the data and bytes too
 *
 * For debugging: the layout is for people, not programs.  The message must
 * be well formed (its lengths true).  Prints nothing if @msg is NULL.
 */
KBUS_EXPORT void kbus_msg_dump(const kbus_message_t *msg, int dump_data)
{
        if (!msg)
                return;
        printf("kbus message at %p (%s, %d bytes)\n", (const void *)msg,
               msg_is_entire(msg) ? "entire" : "pointy", kbus_msg_sizeof(msg));
        printf("  start_guard  %08x\n", msg->start_guard);
        printf("  id           [%u:%u]\n", msg->id.network_id, msg->id.serial_num);
        printf("  in_reply_to  [%u:%u]\n", msg->in_reply_to.network_id,
               msg->in_reply_to.serial_num);
        printf("  to           %u\n  from         %u\n", msg->to, msg->from);
        printf("  orig_from    (%u,%u)\n", msg->orig_from.network_id, msg->orig_from.local_id);
        printf("  final_to     (%u,%u)\n", msg->final_to.network_id, msg->final_to.local_id);
        printf("  extra        %u\n  flags        0x%x\n", msg->extra, msg->flags);
        printf("  name_len     %u\n  data_len     %u\n", msg->name_len, msg->data_len);
        printf("  name         %p\n  data         %p\n", (void *)msg->name, msg->data);
        printf("  end_guard    %08x\n", msg->end_guard);
        printf("  the name:    ");
        msg_dump_text(kbus_msg_name_ptr(msg), msg->name_len);
        if (!dump_data)
                return;
        printf("  the data:    ");
        msg_dump_text(kbus_msg_data_ptr(msg), msg->data_len);
        printf("  data bytes:\n");
        msg_dump_hex(kbus_msg_data_ptr(msg), msg->data_len);
        printf("  message bytes:\n");
        int size = kbus_msg_sizeof(msg);
        msg_dump_hex((const uint8_t *)msg, size > 0 ? (size_t)size : 0);
}

/* ---- the wire ---------------------------------------------------------- */

/* The shape rules of a pointy message: data_len bytes need a data pointer. */
static int msg_check_pointy(const kbus_message_t *msg)
{
        if (msg->data_len > 0 && !msg->data)
                return -EINVAL;
        return 0;
}

/*
 * The shape rules of an entire message: no data pointer, and the final end
 * guard where name_len and data_len say the message ends.  A message too big
 * to send is left to the caller's size check (-EMSGSIZE) rather than read
 * beyond its real end looking for the guard.
 */
static int msg_check_entire(const kbus_message_t *msg)
{
        uint32_t guard;

        if (msg->data)
                return -EINVAL;
        if (wire_msg_size(msg->name_len, msg->data_len) > KBUS_MSG_SIZE_ABS_MAX)
                return 0;
        size_t size = msg_entire_size(msg->name_len, msg->data_len);
        memcpy(&guard, (const char *)msg + size - sizeof(guard), sizeof(guard));
        return guard == KBUS_MSG_END_GUARD ? 0 : -EINVAL;
}

/**
 * msg_to_wire() - describe a pointy or entire message in wire form.
 * @msg: the message
 * @ret: its fields, with name and data pointing into @msg or at the caller's
 *       memory; written only on success
 *
 * Checks the structure only: guards, name_len, and the pointer shape.  It
 * does not check the name's syntax or the flags (see msg_check()).
 *
 * Return: 0, or -EINVAL (NULL @msg, a bad guard, a pointy message with
 * data_len but no data, an entire message with a data pointer or a bad final
 * end guard), -EBADMSG (name_len 0), -ENAMETOOLONG (name_len above
 * KBUS_MAX_NAME_LEN).
 */
int msg_to_wire(const kbus_message_t *msg, WireMsg *ret)
{
        if (!msg || !ret)
                return -EINVAL;
        if (msg->start_guard != KBUS_MSG_START_GUARD || msg->end_guard != KBUS_MSG_END_GUARD)
                return -EINVAL;
        if (msg->name_len == 0)
                return -EBADMSG;
        if (msg->name_len > KBUS_MAX_NAME_LEN)
                return -ENAMETOOLONG;
        int r = msg_is_entire(msg) ? msg_check_entire(msg) : msg_check_pointy(msg);
        if (r < 0)
                return r;

        *ret = (WireMsg){
                .id_net = msg->id.network_id, .id_serial = msg->id.serial_num,
                .irt_net = msg->in_reply_to.network_id, .irt_serial = msg->in_reply_to.serial_num,
                .to = msg->to, .from = msg->from,
                .orig_net = msg->orig_from.network_id, .orig_local = msg->orig_from.local_id,
                .final_net = msg->final_to.network_id, .final_local = msg->final_to.local_id,
                .extra = msg->extra, .flags = msg->flags,
                .name_len = msg->name_len, .data_len = msg->data_len,
                .name = kbus_msg_name_ptr(msg), .data = kbus_msg_data_ptr(msg),
        };
        return 0;
}

/**
 * msg_check() - check the meaning of a message about to be sent, as kbusd
 * will check it.
 * @w:           the message
 * @allow_reply: non-zero for SEND; zero for a posted announcement, which may
 *               be neither a request nor a reply, nor carry an ALL_OR_* flag
 *
 * Return: 0, or -EBADMSG (bad or wildcarded name), -ENAMETOOLONG, -EINVAL
 * (both ALL_OR_* flags, WANT_A_REPLY on a reply, or not an announcement when
 * @allow_reply is zero).
 */
int msg_check(const WireMsg *w, int allow_reply)
{
        const uint32_t all_or = KBUS_BIT_ALL_OR_WAIT | KBUS_BIT_ALL_OR_FAIL;
        bool is_reply = w->irt_net || w->irt_serial;
        bool is_request = w->flags & KBUS_BIT_WANT_A_REPLY;

        int r = name_errno(name_check(w->name, w->name_len, false, NULL));
        if (r < 0)
                return r;
        if ((w->flags & all_or) == all_or)
                return -EINVAL;
        if (is_request && is_reply)
                return -EINVAL;
        if (!allow_reply && (is_request || is_reply || (w->flags & all_or)))
                return -EINVAL;
        return 0;
}

/**
 * msg_from_wire() - make an entire message from its wire form.
 * @w:           the message; its name and data are copied
 * @extra_flags: flags to add (WANT_YOU_TO_REPLY on the replier's copy)
 * @ret:         the new message; free it with kbus_msg_delete()
 *
 * Return: 0, or -ENOMEM.
 */
int msg_from_wire(const WireMsg *w, uint32_t extra_flags, kbus_message_t **ret)
{
        const uint32_t guard = KBUS_MSG_END_GUARD;
        size_t size = msg_entire_size(w->name_len, w->data_len);

        /* calloc(): the name and data padding must be zero. */
        kbus_message_t *m = calloc(1, size);
        if (!m)
                return -ENOMEM;
        *m = (kbus_message_t){
                .start_guard = KBUS_MSG_START_GUARD, .end_guard = KBUS_MSG_END_GUARD,
                .id = { w->id_net, w->id_serial }, .in_reply_to = { w->irt_net, w->irt_serial },
                .to = w->to, .from = w->from,
                .orig_from = { w->orig_net, w->orig_local },
                .final_to = { w->final_net, w->final_local },
                .extra = w->extra, .flags = w->flags | extra_flags,
                .name_len = w->name_len, .data_len = w->data_len,
        };
        char *name = msg_entire_name(m);
        memcpy(name, w->name, w->name_len);
        if (w->data_len)
                memcpy(name + wire_name_pad(w->name_len), w->data, w->data_len);
        memcpy((char *)m + size - sizeof(guard), &guard, sizeof(guard));
        *ret = m;
        return 0;
}
