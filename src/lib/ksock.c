/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ksock.c - the libkbus ksock API (semantics §5, §14).
 *
 * Each call finds the ksock's connection in the table, checks what can be
 * checked here (so a bad argument costs no round trip), and otherwise asks
 * kbusd, which checks again: kbusd trusts no client.  Nor does the library
 * trust kbusd: a value that cannot be right (a switch that is neither on
 * nor off, a value that would read as an errno) is -EPROTO.  Calls that may have
 * read pushed messages end with conn_keep_readable(), so that poll() on the
 * ksock keeps meaning "a message may be waiting".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/name.h"
#include "../proto/sockdir.h"
#include "conn.h"
#include "export.h"
#include "ksock.h"
#include "kbus/kbus.h"
#include "msg.h"
#include "table.h"

/* A request whose answer is a status: the transport error, else the status. */
static int ksock_request(Conn *c, uint16_t type, uint16_t flags, const void *body, size_t len,
                         Result *res)
{
        int r = conn_request(c, type, flags, body, len, NULL, 0, res);

        conn_keep_readable(c);
        return r < 0 ? r : res->status;
}

static int ksock_ctl(Conn *c, uint32_t op, uint32_t arg, uint32_t *ret_value);

/**
 * ksock_no_echo() - whether @ksock's own sends reach its listener bindings
 * (kbusd's CTL_NO_ECHO; for the Limpet API, not exported).
 * @ksock: the ksock
 * @on:    1: they do not; 0: they do
 *
 * Return: the old state, or a negative errno.
 */
int ksock_no_echo(kbus_ksock_t ksock, uint32_t on)
{
        Conn *c = table_get(ksock);

        return c ? ksock_ctl(c, CTL_NO_ECHO, on, NULL) : -EBADF;
}

/**
 * ksock_watch_listeners() - whether kbusd sends @ksock
 * $.KBUS.ListenerBindsChanged when the bus's listener bindings change
 * (CTL_WATCH_LISTENERS; for the Limpet API, not exported).
 * @ksock: the ksock
 * @on:    1 or 0
 *
 * Return: the old state, or a negative errno.
 */
int ksock_watch_listeners(kbus_ksock_t ksock, uint32_t on)
{
        Conn *c = table_get(ksock);

        return c ? ksock_ctl(c, CTL_WATCH_LISTENERS, on, NULL) : -EBADF;
}

static int ksock_ctl(Conn *c, uint32_t op, uint32_t arg, uint32_t *ret_value)
{
        uint8_t body[8];
        Result res;

        put_le32(body, op);
        put_le32(body + 4, arg);
        int r = ksock_request(c, FRAME_CTL, 0, body, sizeof(body), &res);
        if (r >= 0 && ret_value)
                *ret_value = res.value0;
        if (r < 0)
                return r;
        return res.value0 > INT_MAX ? -EPROTO : (int)res.value0; /* never mistaken for an errno */
}

static int ksock_open_path(const char *path, int flags, int timeout_ms, bool check_peer)
{
        Conn *c;
        int r = conn_open(path, flags, timeout_ms, check_peer, &c);

        if (r < 0)
                return r;
        r = table_add(c);
        if (r < 0) {
                conn_free(c);
                return r;
        }
        return c->fd;
}

/*
 * Bus @bus in the socket directory semantics §2 picks.  A per-user fallback
 * ($XDG_RUNTIME_DIR/kbus, /tmp/kbus-<uid>) could have been made by anyone
 * first, so it must be a real directory of ours (or root's) that nobody
 * else may write, and the server must run as root or as us (semantics §18).
 * $KBUS_SOCKET_DIR is the user's own choice and /run/kbus is the system's,
 * so neither is checked.
 */
static int ksock_open_bus(uint32_t bus, int flags, int timeout_ms)
{
        char dir[PATH_MAX], path[KBUS_SOCKET_PATH_MAX];
        SockdirSource source;
        const char *why;
        int dirfd;

        if (conn_check_flags(flags) < 0)
                return -EINVAL;
        int r = sockdir_resolve_source(NULL, dir, sizeof(dir), &source);
        if (r == 0)
                r = sockdir_bus_path(dir, bus, path, sizeof(path));
        if (r < 0)
                return r;
        bool fallback = source == SOCKDIR_XDG || source == SOCKDIR_TMP;
        if (fallback) {
                r = sockdir_open_checked(dir, getuid(), &dirfd, &why);
                if (r < 0)
                        return r == -ENOTDIR ? -EPERM : r;
                close(dirfd);
        }
        return ksock_open_path(path, flags, timeout_ms, fallback);
}

static int ksock_open_name(const char *device_name, int flags, int timeout_ms)
{
        unsigned bus;

        if (!device_name || !*device_name)
                return -EINVAL;
        if (sockdir_parse_dev_name(device_name, &bus) == 0)
                return ksock_open_bus(bus, flags, timeout_ms);
        return ksock_open_path(device_name, flags, timeout_ms, false);
}

KBUS_EXPORT kbus_ksock_t kbus_ksock_open(uint32_t device_number, int flags)
{
        return lib_result(ksock_open_bus(device_number, flags, KBUS_OPEN_TIMEOUT_DEFAULT_MS));
}

KBUS_EXPORT kbus_ksock_t kbus_ksock_open_by_name(const char *device_name, int flags)
{
        return lib_result(ksock_open_name(device_name, flags, KBUS_OPEN_TIMEOUT_DEFAULT_MS));
}

KBUS_EXPORT kbus_ksock_t kbus_ksock_open_timeout(const char *device_name, int flags, int timeout_ms)
{
        if (timeout_ms <= 0)
                return lib_result(-EINVAL);
        return lib_result(ksock_open_name(device_name, flags, timeout_ms));
}

KBUS_EXPORT int kbus_ksock_close(kbus_ksock_t ksock)
{
        Conn *c = table_remove(ksock);

        if (!c)
                return lib_result(-EBADF);
        conn_flush(c); /* posted messages still go */
        conn_free(c);
        return 0;
}

static int ksock_bind_request(kbus_ksock_t ksock, uint16_t type, const char *name,
                              uint16_t flags, Result *res)
{
        Conn *c = table_get(ksock);

        if (!c)
                return -EBADF;
        if (!name)
                return -EINVAL;
        size_t len = strlen(name);
        int r = name_errno(name_check(name, len, true, NULL));
        if (r < 0)
                return r;
        return ksock_request(c, type, flags, name, len, res);
}

KBUS_EXPORT int kbus_ksock_bind(kbus_ksock_t ksock, const char *name, uint32_t is_replier)
{
        Result res;

        return lib_result(ksock_bind_request(ksock, FRAME_BIND, name,
                                             is_replier ? FRAME_BIND_REPLIER : 0, &res));
}

KBUS_EXPORT int kbus_ksock_unbind(kbus_ksock_t ksock, const char *name, uint32_t is_replier)
{
        Result res;
        int r = ksock_bind_request(ksock, FRAME_UNBIND, name, is_replier ? FRAME_BIND_REPLIER : 0,
                                   &res);

        if (r == 0) {
                Conn *c = table_get(ksock);
                conn_drop_binding(c, res.value0);
                conn_keep_readable(c); /* what it dropped may have been all that waited */
        }
        return lib_result(r);
}

/**
 * ksock_unbind_keeping() - unbind the listener binding @name, leaving what it
 * queued in the queue (FRAME_UNBIND_KEEP_QUEUED; for the Limpet API, not
 * exported).
 * @ksock: the ksock
 * @name:  the binding's name
 *
 * Return: 0, or a negative errno.
 */
int ksock_unbind_keeping(kbus_ksock_t ksock, const char *name)
{
        Result res;

        return ksock_bind_request(ksock, FRAME_UNBIND, name, FRAME_UNBIND_KEEP_QUEUED, &res);
}

KBUS_EXPORT int kbus_ksock_id(kbus_ksock_t ksock, uint32_t *ksock_id)
{
        Conn *c = table_get(ksock);

        if (!c)
                return lib_result(-EBADF);
        if (!ksock_id)
                return lib_result(-EINVAL);
        *ksock_id = c->ksock_id;
        return 0;
}

KBUS_EXPORT int kbus_ksock_next_msg(kbus_ksock_t ksock, uint32_t *message_length)
{
        Conn *c = table_get(ksock);
        Prefetched p;

        if (!c)
                return lib_result(-EBADF);
        if (!message_length)
                return lib_result(-EINVAL);
        kbus_msg_delete(&c->being_read);
        *message_length = 0;
        int r = conn_next(c, &p);
        if (r > 0) {
                conn_take(c, &p); /* if kbusd is gone the message is still ours */
                c->being_read = p.msg;
                c->being_read_len = p.size;
                *message_length = p.size;
                r = 0;
        }
        conn_keep_readable(c);
        return lib_result(r);
}

KBUS_EXPORT int kbus_ksock_len_left(kbus_ksock_t ksock, uint32_t *len_left)
{
        Conn *c = table_get(ksock);

        if (!c)
                return lib_result(-EBADF);
        if (!len_left)
                return lib_result(-EINVAL);
        *len_left = c->being_read ? c->being_read_len : 0;
        return 0;
}

KBUS_EXPORT int kbus_ksock_read_msg(kbus_ksock_t ksock, kbus_message_t **msg, size_t msg_len)
{
        Conn *c = table_get(ksock);

        if (!c)
                return lib_result(-EBADF);
        if (!msg)
                return lib_result(-EINVAL);
        if (!c->being_read)
                return lib_result(-ENOMSG);
        if (msg_len < c->being_read_len)
                return lib_result(-EMSGSIZE);
        *msg = c->being_read;
        c->being_read = NULL;
        return 0;
}

KBUS_EXPORT int kbus_ksock_read_next_msg(kbus_ksock_t ksock, kbus_message_t **msg)
{
        uint32_t len;
        int r;

        if (!msg)
                return lib_result(table_get(ksock) ? -EINVAL : -EBADF);
        *msg = NULL;
        r = kbus_ksock_next_msg(ksock, &len);
        if (r < 0 || len == 0)
                return lib_result(r);
        return lib_result(kbus_ksock_read_msg(ksock, msg, len));
}

/* Encodes @msg into a malloc()ed buffer after the checks a sender makes. */
static int ksock_post_size_ok(Conn *c, size_t len);

static int ksock_encode(Conn *c, const kbus_message_t *msg, int allow_reply, uint8_t **ret,
                        size_t *ret_len)
{
        WireMsg w;
        int r;

        if (!c->can_write)
                return -EBADF;
        if (c->held)
                return -EALREADY;
        r = msg_to_wire(msg, &w);
        if (r == 0)
                r = msg_check(&w, allow_reply);
        if (r < 0)
                return r;
        uint64_t size = codec_msg_size(&w);
        if (size > KBUS_MSG_SIZE_ABS_MAX)
                return -EMSGSIZE;
        uint8_t *p = malloc((size_t)size);
        if (!p)
                return -ENOMEM;
        *ret_len = codec_msg_encode(p, &w);
        *ret = p;
        return 0;
}

KBUS_EXPORT int kbus_ksock_write_msg(kbus_ksock_t ksock, const kbus_message_t *msg)
{
        Conn *c = table_get(ksock);
        uint8_t *p;
        size_t len;

        if (!c)
                return lib_result(-EBADF);
        int r = ksock_encode(c, msg, 1, &p, &len);
        if (r < 0)
                return lib_result(r);
        free(c->written);
        c->written = NULL;
        r = ksock_post_size_ok(c, len); /* at write, as the kernel module checked */
        if (r < 0) {
                free(p);
                return lib_result(r);
        }
        c->written = p;
        c->written_len = len;
        return 0;
}

/*
 * The size of the message whose bytes kbus_ksock_write_data() has gathered
 * in @b, once its header is complete and checked: the header alone for a
 * pointy message (the name and data stay where it points), all of it for an
 * entire one.
 */
static int ksock_partial_size(const Buf *b, size_t *size)
{
        kbus_message_t h;

        memcpy(&h, buf_head(b), sizeof(h));
        if (h.start_guard != KBUS_MSG_START_GUARD || h.end_guard != KBUS_MSG_END_GUARD)
                return -EINVAL;
        if (!kbus_msg_is_entire(&h)) {
                *size = sizeof(h);
                return 0;
        }
        if (wire_msg_size(h.name_len, h.data_len) > KBUS_MSG_SIZE_ABS_MAX)
                return -EMSGSIZE;
        *size = msg_entire_size(h.name_len, h.data_len);
        return 0;
}

/* Gathers @len more bytes of a message; when it is whole, writes it. */
static int ksock_write_part(Conn *c, const uint8_t *data, size_t len)
{
        size_t head = sizeof(kbus_message_t), have = buf_len(&c->partial), size = head;

        if (!c->can_write)
                return -EBADF;
        if (c->held)
                return -EALREADY;
        if (c->written)
                return -EMSGSIZE; /* a whole message is already written */
        if (have < head) {
                size_t n = len < head - have ? len : head - have;
                if (buf_append(&c->partial, data, n) < 0)
                        return -ENOMEM;
                data += n, len -= n, have += n;
        }
        if (have < head)
                return 0;
        int r = ksock_partial_size(&c->partial, &size);
        if (r < 0)
                return r;
        if (len > size - have)
                return -EMSGSIZE;
        if (buf_append(&c->partial, data, len) < 0)
                return -ENOMEM;
        if (have + len < size)
                return 0;
        r = ksock_encode(c, (const kbus_message_t *)buf_head(&c->partial), 1, &c->written,
                         &c->written_len);
        buf_consume(&c->partial, buf_len(&c->partial));
        return r;
}

KBUS_EXPORT int kbus_ksock_write_data(kbus_ksock_t ksock, uint8_t *data, size_t data_len)
{
        Conn *c = table_get(ksock);

        if (!c)
                return lib_result(-EBADF);
        if (!data && data_len)
                return lib_result(-EINVAL);
        int r = ksock_write_part(c, data, data_len);
        if (r < 0) { /* as the kernel module did, an error drops what was written */
                buf_consume(&c->partial, buf_len(&c->partial));
                free(c->written);
                c->written = NULL;
        }
        return lib_result(r);
}

/*
 * FRAME_SEND_WAIT for an ALL_OR_WAIT message on a blocking ksock: kbusd then
 * answers once it has delivered it.  Only such a message can be held, so
 * only then is the descriptor's O_NONBLOCK looked at (a syscall).
 */
static uint16_t ksock_send_flags(const Conn *c)
{
        if (!(get_le32(c->written + WMSG_FLAGS) & KBUS_FLAG_ALL_OR_WAIT))
                return 0;
        return (fcntl(c->fd, F_GETFL) & O_NONBLOCK) ? 0 : FRAME_SEND_WAIT;
}

KBUS_EXPORT int kbus_ksock_send(kbus_ksock_t ksock, kbus_msg_id_t *msg_id)
{
        Conn *c = table_get(ksock);
        Result res;

        if (!c || !c->can_write)
                return lib_result(-EBADF);
        if (c->held)
                return lib_result(-EALREADY);
        if (!c->written) /* an incomplete message written in parts is malformed */
                return lib_result(buf_len(&c->partial) ? -EINVAL : -ENOMSG);
        int r = ksock_request(c, FRAME_SEND, ksock_send_flags(c), c->written, c->written_len,
                              &res);
        free(c->written);
        c->written = NULL;
        if (r == -EAGAIN)
                c->held = true;
        if (r == 0 && msg_id)
                *msg_id = (kbus_msg_id_t){res.value0, res.value1};
        return lib_result(r);
}

KBUS_EXPORT int kbus_ksock_send_msg(kbus_ksock_t ksock, const kbus_message_t *msg,
                                    kbus_msg_id_t *msg_id)
{
        int r = kbus_ksock_write_msg(ksock, msg);

        return lib_result(r < 0 ? r : kbus_ksock_send(ksock, msg_id));
}

KBUS_EXPORT int kbus_ksock_discard(kbus_ksock_t ksock)
{
        Conn *c = table_get(ksock);
        Result res;

        if (!c)
                return lib_result(-EBADF);
        free(c->written);
        c->written = NULL;
        buf_consume(&c->partial, buf_len(&c->partial));
        if (!c->held)
                return 0;
        int r = ksock_request(c, FRAME_DISCARD, 0, NULL, 0, &res);
        if (r == 0)
                c->held = false;
        return lib_result(r);
}

KBUS_EXPORT int kbus_ksock_last_msg_id(kbus_ksock_t ksock, kbus_msg_id_t *msg_id)
{
        Conn *c = table_get(ksock);
        uint8_t body[8];
        Result res;

        if (!c)
                return lib_result(-EBADF);
        if (!msg_id)
                return lib_result(-EINVAL);
        put_le32(body, CTL_LAST_SENT);
        put_le32(body + 4, 0);
        int r = ksock_request(c, FRAME_CTL, 0, body, sizeof(body), &res);
        if (r == 0)
                *msg_id = (kbus_msg_id_t){res.value0, res.value1};
        return lib_result(r);
}

KBUS_EXPORT int kbus_ksock_find_replier(kbus_ksock_t ksock, const char *name,
                                        uint32_t *replier_ksock_id)
{
        Conn *c = table_get(ksock);
        Result res;

        if (!c)
                return lib_result(-EBADF);
        if (!name || !replier_ksock_id)
                return lib_result(-EINVAL);
        size_t len = strlen(name);
        int r = name_errno(name_check(name, len, false, NULL));
        if (r == 0)
                r = ksock_request(c, FRAME_REPLIER, 0, name, len, &res);
        if (r == 0)
                *replier_ksock_id = res.value0;
        return lib_result(r);
}

/* The controls that take a value in and give one back through a pointer. */
static int ksock_ctl_inout(kbus_ksock_t ksock, uint32_t op, uint32_t *value)
{
        Conn *c = table_get(ksock);

        if (!c)
                return -EBADF;
        if (!value)
                return -EINVAL;
        int r = ksock_ctl(c, op, *value, value);
        return r < 0 ? r : 0;
}

KBUS_EXPORT int kbus_ksock_max_messages(kbus_ksock_t ksock, uint32_t *max_messages)
{
        return lib_result(ksock_ctl_inout(ksock, CTL_MAX_MESSAGES, max_messages));
}

static int ksock_ctl_out(kbus_ksock_t ksock, uint32_t op, uint32_t *value)
{
        if (value)
                *value = 0;
        return ksock_ctl_inout(ksock, op, value);
}

KBUS_EXPORT int kbus_ksock_num_messages(kbus_ksock_t ksock, uint32_t *num_messages)
{
        return lib_result(ksock_ctl_out(ksock, CTL_NUM_MESSAGES, num_messages));
}

KBUS_EXPORT int kbus_ksock_num_unreplied_to(kbus_ksock_t ksock, uint32_t *num_messages)
{
        return lib_result(ksock_ctl_out(ksock, CTL_UNREPLIED_TO, num_messages));
}

KBUS_EXPORT int kbus_ksock_new_device(kbus_ksock_t ksock, uint32_t *device_number)
{
        return lib_result(ksock_ctl_out(ksock, CTL_NEW_BUS, device_number));
}

KBUS_EXPORT int kbus_ksock_max_message_size(kbus_ksock_t ksock, uint32_t *max_message_size)
{
        Conn *c = table_get(ksock);
        uint32_t asked = max_message_size ? *max_message_size : 0;
        int r = ksock_ctl_inout(ksock, CTL_MAX_MSG_SIZE, max_message_size);

        if (r == 0 &&
            (*max_message_size < KBUS_MSG_SIZE_MIN || *max_message_size > KBUS_MSG_SIZE_ABS_MAX))
                return lib_result(-EPROTO);
        if (r == 0 && asked != 1)
                c->max_msg_size = *max_message_size;
        return lib_result(r);
}

/* The on/off/ask switches: the answer is the state before the call. */
static int ksock_switch(kbus_ksock_t ksock, uint32_t op, uint32_t request)
{
        Conn *c = table_get(ksock);

        if (!c)
                return -EBADF;
        if (request != 0 && request != 1 && request != CTL_ASK)
                return -EINVAL;
        int r = ksock_ctl(c, op, request, NULL);
        return r > 1 ? -EPROTO : r; /* a switch is 0 or 1 */
}

KBUS_EXPORT int kbus_ksock_only_once(kbus_ksock_t ksock, uint32_t request)
{
        return lib_result(ksock_switch(ksock, CTL_ONLY_ONCE, request));
}

KBUS_EXPORT int kbus_ksock_report_replier_binds(kbus_ksock_t ksock, uint32_t request)
{
        return lib_result(ksock_switch(ksock, CTL_REPORT_BINDS, request));
}

KBUS_EXPORT int kbus_ksock_kernel_module_verbose(kbus_ksock_t ksock, uint32_t request)
{
        return lib_result(ksock_switch(ksock, CTL_VERBOSE, request));
}

KBUS_EXPORT int kbus_wait_for_message(kbus_ksock_t ksock, int wait_for)
{
        Conn *c = table_get(ksock);

        if (!c)
                return lib_result(-EBADF);
        if (wait_for == 0 || (wait_for & ~(KBUS_KSOCK_READABLE | KBUS_KSOCK_WRITABLE)))
                return lib_result(-EINVAL);
        for (;;) {
                int ready = 0, r = 0;
                if (wait_for & KBUS_KSOCK_READABLE) {
                        r = conn_pending(c);
                        if (r > 0)
                                ready |= KBUS_KSOCK_READABLE;
                }
                if ((wait_for & KBUS_KSOCK_WRITABLE) && !c->held && !c->dead)
                        ready |= KBUS_KSOCK_WRITABLE;
                if (ready)
                        return lib_result(ready);
                if (r < 0 || c->dead)
                        return lib_result(c->dead ? c->dead : r);
                r = conn_flush(c);
                if (r == 0)
                        r = conn_wait_input(c);
                if (r < 0 && !c->pf_len)
                        return lib_result(r);
        }
}

/* Refuses a posted message that is too big for the bus, asking kbusd the
 * current maximum before refusing, since another ksock may have raised it. */
static int ksock_post_size_ok(Conn *c, size_t len)
{
        if (len <= c->max_msg_size)
                return 0;
        uint32_t max;
        int r = ksock_ctl(c, CTL_MAX_MSG_SIZE, 0, &max);
        if (r < 0)
                return r;
        if (max < KBUS_MSG_SIZE_MIN || max > KBUS_MSG_SIZE_ABS_MAX)
                return -EPROTO;
        c->max_msg_size = max;
        return len <= max ? 0 : -EMSGSIZE;
}

static int ksock_take_post_error(Conn *c)
{
        int r = c->post_error;

        c->post_error = 0;
        return r;
}

KBUS_EXPORT int kbus_ksock_post_msg(kbus_ksock_t ksock, const kbus_message_t *msg)
{
        Conn *c = table_get(ksock);
        WireMsg w;

        if (!c)
                return lib_result(-EBADF);
        if (c->post_error)
                return lib_result(ksock_take_post_error(c));
        if (!c->can_write)
                return lib_result(-EBADF);
        if (c->held)
                return lib_result(-EALREADY);
        int r = msg_to_wire(msg, &w);
        if (r == 0)
                r = msg_check(&w, 0);
        if (r == 0)
                r = ksock_post_size_ok(c, (size_t)codec_msg_size(&w));
        if (r < 0)
                return lib_result(r);
        uint8_t *body = conn_post_begin(c, FRAME_SEND, FRAME_SEND_POST, (size_t)codec_msg_size(&w));
        if (!body)
                return lib_result(c->dead ? c->dead : -ENOMEM);
        codec_msg_encode(body, &w);
        return lib_result(conn_post_end(c));
}

KBUS_EXPORT int kbus_ksock_flush(kbus_ksock_t ksock)
{
        Conn *c = table_get(ksock);

        if (!c)
                return lib_result(-EBADF);
        int r = conn_flush(c);
        if (r == 0 && c->post_error)
                r = ksock_take_post_error(c);
        return lib_result(r);
}
