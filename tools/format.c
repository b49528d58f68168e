/* SPDX-License-Identifier: MPL-2.0 */
/*
 * format.c - one message, one line (kbus-send and kbus-listen).
 *
 * Text form (fields in this order; optional ones only when set):
 *
 *   TIME KIND id=[N:S] from=F to=T [in_reply_to=[N:S]] [orig_from=(N,L)]
 *   [final_to=(N,L)] flags=FLAGS NAME DATA
 *
 * TIME is the local time HH:MM:SS.uuuuuu; KIND is announcement, request,
 * reply or status (semantics §4); FLAGS is 0 or the set KBUS_BIT_* names without
 * the prefix, joined by ',', with any other bits as one hex number; DATA is
 * "text" (with \\ \" \t \n \r escaped) when the data is text (UTF-8 without
 * other control characters), else hex:0a1b...
 *
 * JSON form: one object, these fields in this order, always all present:
 *   time        number  seconds since the epoch (microseconds)
 *   kind        string  "announcement" | "request" | "reply" | "status"
 *   id          object  {"network_id": u32, "serial_num": u32}
 *   in_reply_to object  as id; both 0 unless a reply or status
 *   to, from    number  ksock ids (0 = anyone / kbusd)
 *   orig_from   object  {"network_id": u32, "local_id": u32}
 *   final_to    object  as orig_from
 *   flags       number  every flag bit, user bits 16-31 included
 *   flag_names  array   the names of the KBUS_BIT_* bits set, without the prefix
 *   name        string
 *   data_len    number  bytes
 *   data_text   string  the data, when it is text as above; else null
 *   data_hex    string  the data in lower-case hex, always
 * New fields may be added at the end; none will be renamed or removed.
 */
#include "format.h"

#include <string.h>

static const struct {
        uint32_t bit;
        const char *name;
} fmt_flag_names[] = {
        { KBUS_BIT_WANT_A_REPLY, "WANT_A_REPLY" },
        { KBUS_BIT_WANT_YOU_TO_REPLY, "WANT_YOU_TO_REPLY" },
        { KBUS_BIT_SYNTHETIC, "SYNTHETIC" },
        { KBUS_BIT_URGENT, "URGENT" },
        { KBUS_BIT_ALL_OR_WAIT, "ALL_OR_WAIT" },
        { KBUS_BIT_ALL_OR_FAIL, "ALL_OR_FAIL" },
};

#define FMT_NFLAGS (sizeof(fmt_flag_names) / sizeof(fmt_flag_names[0]))

/**
 * fmt_is_status() - whether @msg is a status: a reply kbusd made (semantics §4).
 * @msg: the message
 *
 * Return: true or false.
 */
bool fmt_is_status(const kbus_message_t *msg)
{
        static const char prefix[] = "$.KBUS.";

        return kbus_msg_is_reply(msg) && (msg->flags & KBUS_BIT_SYNTHETIC) &&
               msg->name_len >= sizeof(prefix) - 1 &&
               memcmp(kbus_msg_name_ptr(msg), prefix, sizeof(prefix) - 1) == 0;
}

/**
 * fmt_kind() - the kind of @msg (semantics §4).
 * @msg: the message
 *
 * Return: "status", "reply", "request" or "announcement".
 */
const char *fmt_kind(const kbus_message_t *msg)
{
        if (fmt_is_status(msg))
                return "status";
        if (kbus_msg_is_reply(msg))
                return "reply";
        if (kbus_msg_is_request(msg))
                return "request";
        return "announcement";
}

/* Length of the UTF-8 sequence at @p (at most @left bytes), 0 if invalid. */
static size_t fmt_utf8_len(const unsigned char *p, size_t left)
{
        uint32_t c = p[0];
        size_t n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3
                 : c >= 0xf0 && c < 0xf5 ? 4 : 0;

        if (n == 0 || n > left)
                return 0;
        c = n == 1 ? c : c & (0x7fu >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3fu);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff))
                return 0; /* overlong, out of range, or a surrogate */
        if (c < 0x20 ? c != '\t' && c != '\n' && c != '\r' : c >= 0x7f && c < 0xa0)
                return 0; /* a control character */
        return n;
}

/**
 * fmt_data_is_text() - whether data prints as text: valid UTF-8 with no
 * control characters but tab, newline and carriage return.
 * @p:   the data
 * @len: its length
 *
 * Return: true or false (empty data is text).
 */
bool fmt_data_is_text(const unsigned char *p, size_t len)
{
        while (len) {
                size_t n = fmt_utf8_len(p, len);
                if (!n)
                        return false;
                p += n;
                len -= n;
        }
        return true;
}

/**
 * fmt_json_string() - print @s as a JSON string, quotes included.
 * @f:   where to print
 * @s:   the bytes (valid UTF-8)
 * @len: their length
 */
void fmt_json_string(FILE *f, const char *s, size_t len)
{
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c == '\t')
                        fputs("\\t", f);
                else if (c == '\r')
                        fputs("\\r", f);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void fmt_hex(FILE *f, const unsigned char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                fprintf(f, "%02x", p[i]);
}

/* DATA of the text form. */
static void fmt_text_data(FILE *f, const unsigned char *p, size_t len)
{
        if (!fmt_data_is_text(p, len)) {
                fputs("hex:", f);
                fmt_hex(f, p, len);
                return;
        }
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                const char *esc = p[i] == '"' ? "\\\"" : p[i] == '\\' ? "\\\\" : p[i] == '\t' ? "\\t"
                                : p[i] == '\n' ? "\\n" : p[i] == '\r' ? "\\r" : NULL;
                if (esc)
                        fputs(esc, f);
                else
                        fputc(p[i], f);
        }
        fputc('"', f);
}

static void fmt_text_flags(FILE *f, uint32_t flags)
{
        uint32_t known = 0;
        const char *sep = "";

        fputs(" flags=", f);
        if (!flags) {
                fputc('0', f);
                return;
        }
        for (size_t i = 0; i < FMT_NFLAGS; i++) {
                known |= fmt_flag_names[i].bit;
                if (flags & fmt_flag_names[i].bit) {
                        fprintf(f, "%s%s", sep, fmt_flag_names[i].name);
                        sep = ",";
                }
        }
        if (flags & ~known)
                fprintf(f, "%s0x%x", sep, flags & ~known);
}

static void fmt_text_time(FILE *f, const struct timespec *when)
{
        struct tm tm;

        localtime_r(&when->tv_sec, &tm);
        fprintf(f, "%02d:%02d:%02d.%06ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
                when->tv_nsec / 1000);
}

static void fmt_text(FILE *f, const kbus_message_t *m, const struct timespec *when)
{
        fmt_text_time(f, when);
        fprintf(f, " %s id=[%u:%u] from=%u to=%u", fmt_kind(m), m->id.network_id,
                m->id.serial_num, m->from, m->to);
        if (kbus_msg_is_reply(m))
                fprintf(f, " in_reply_to=[%u:%u]", m->in_reply_to.network_id,
                        m->in_reply_to.serial_num);
        if (m->orig_from.network_id || m->orig_from.local_id)
                fprintf(f, " orig_from=(%u,%u)", m->orig_from.network_id, m->orig_from.local_id);
        if (m->final_to.network_id || m->final_to.local_id)
                fprintf(f, " final_to=(%u,%u)", m->final_to.network_id, m->final_to.local_id);
        fmt_text_flags(f, m->flags);
        fprintf(f, " %.*s ", (int)m->name_len, kbus_msg_name_ptr(m));
        fmt_text_data(f, kbus_msg_data_ptr(m), m->data_len);
        fputc('\n', f);
}

static void fmt_json_flags(FILE *f, uint32_t flags)
{
        const char *sep = "";

        fprintf(f, ",\"flags\":%u,\"flag_names\":[", flags);
        for (size_t i = 0; i < FMT_NFLAGS; i++) {
                if (flags & fmt_flag_names[i].bit) {
                        fprintf(f, "%s\"%s\"", sep, fmt_flag_names[i].name);
                        sep = ",";
                }
        }
        fputc(']', f);
}

static void fmt_json_data(FILE *f, const unsigned char *p, size_t len)
{
        fprintf(f, ",\"data_len\":%zu,\"data_text\":", len);
        if (fmt_data_is_text(p, len))
                fmt_json_string(f, (const char *)p, len);
        else
                fputs("null", f);
        fputs(",\"data_hex\":\"", f);
        fmt_hex(f, p, len);
        fputc('"', f);
}

static void fmt_json(FILE *f, const kbus_message_t *m, const struct timespec *when)
{
        fprintf(f, "{\"time\":%lld.%06ld,\"kind\":\"%s\"", (long long)when->tv_sec,
                when->tv_nsec / 1000, fmt_kind(m));
        fprintf(f, ",\"id\":{\"network_id\":%u,\"serial_num\":%u}", m->id.network_id,
                m->id.serial_num);
        fprintf(f, ",\"in_reply_to\":{\"network_id\":%u,\"serial_num\":%u}",
                m->in_reply_to.network_id, m->in_reply_to.serial_num);
        fprintf(f, ",\"to\":%u,\"from\":%u", m->to, m->from);
        fprintf(f, ",\"orig_from\":{\"network_id\":%u,\"local_id\":%u}", m->orig_from.network_id,
                m->orig_from.local_id);
        fprintf(f, ",\"final_to\":{\"network_id\":%u,\"local_id\":%u}", m->final_to.network_id,
                m->final_to.local_id);
        fmt_json_flags(f, m->flags);
        fputs(",\"name\":", f);
        fmt_json_string(f, kbus_msg_name_ptr(m), m->name_len);
        fmt_json_data(f, kbus_msg_data_ptr(m), m->data_len);
        fputs("}\n", f);
}

/**
 * fmt_message() - print @msg as one line (text or JSON, see the file
 * comment) and flush, so that a reader of a pipe sees each message at once.
 * @f:    where to print
 * @msg:  a pointy or entire message
 * @when: when it was sent or received (CLOCK_REALTIME)
 * @json: JSON instead of text
 */
void fmt_message(FILE *f, const kbus_message_t *msg, const struct timespec *when, bool json)
{
        if (json)
                fmt_json(f, msg, when);
        else
                fmt_text(f, msg, when);
        fflush(f);
}
