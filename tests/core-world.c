/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-world.c - kbusd's core in the test process (see core-world.h).
 *
 * The CoreOps here do what kbusd's shell does with sockets, with buffers:
 * writing appends a client's output to its connection's wire and records
 * the order; ending a connection passes on its last output (as the shell's
 * last try at the socket would) and marks it gone; a take-log page is plain
 * memory, which the test writes as the library would.
 */
#include "core-world.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/log.h"

static void world_oom(void)
{
        fputs("core-world: out of memory\n", stderr);
        abort();
}

static void world_log(int priority, const char *line, void *ctx)
{
        World *w = ctx;
        size_t n = strlen(line);

        (void)priority;
        if (w->loglen + n + 2 < sizeof(w->log)) {
                memcpy(w->log + w->loglen, line, n);
                w->loglen += n;
                w->log[w->loglen++] = '\n';
                w->log[w->loglen] = '\0';
        }
}

static int world_open_bus(void *ctx, unsigned number)
{
        World *w = ctx;
        Bus *bus;

        return core_add_bus(w->core, number, &bus);
}

static int world_make_page(void *ctx, int *ret_fd, KbusShm **ret_page)
{
        World *w = ctx;
        KbusShm *page = aligned_alloc(4096, SHM_SIZE);

        if (!page)
                return -ENOMEM;
        memset(page, 0, SHM_SIZE);
        if (w->feeding)
                w->feeding->page = page;
        *ret_page = page;
        *ret_fd = -1; /* nothing to pass: the client side uses the page directly */
        return 0;
}

static void world_unmap_page(void *ctx, KbusShm *page)
{
        World *w = ctx;

        for (size_t i = 0; i < w->nconns; i++)
                if (w->conns[i].page == page)
                        w->conns[i].page = NULL;
        free(page);
}

static void world_take_output(WorldConn *wc, Client *c)
{
        if (buf_append(&wc->wire, buf_head(&c->out), buf_len(&c->out)) < 0)
                world_oom();
        buf_consume(&c->out, buf_len(&c->out));
        c->pass_fd = -1;
        if (wc->w->on_write)
                wc->w->on_write(wc, wc->w->on_write_ctx);
}

static void world_flush(void *ctx, Client *c)
{
        World *w = ctx;
        WorldConn *wc = c->io;

        if (w->nflushes < WORLD_FLUSHES_MAX)
                w->flushes[w->nflushes++] = c->id;
        world_take_output(wc, c);
        if (client_drained(c))
                wc->resume = true; /* the shell reads it again on its next turn */
}

static void world_gone(void *ctx, Client *c)
{
        WorldConn *wc = c->io;

        (void)ctx;
        world_take_output(wc, c);
        wc->c = NULL;
        wc->gone = true;
}

static const CoreOps world_ops = {
        .open_bus = world_open_bus, .make_page = world_make_page,
        .unmap_page = world_unmap_page, .flush = world_flush, .gone = world_gone,
};

/**
 * world_start() - a core with bus 0.
 * @w:      the world
 * @cfg:    the configuration; ops and ops_ctx are filled in here
 * @policy: the policy (the core owns it), or NULL for the defaults
 *
 * Return: 0, or a negative errno.
 */
int world_start(World *w, const CoreConfig *cfg, Policy *policy)
{
        CoreConfig c = *cfg;
        Bus *bus;
        int r;

        memset(w, 0, offsetof(World, log));
        w->log[0] = '\0';
        c.ops = &world_ops;
        c.ops_ctx = w;
        if (!policy && (r = policy_new_default(c.admin_uid, &policy)) < 0)
                return r;
        log_set_sink(world_log, w);
        log_set_verbose(false);
        r = core_new(&c, policy, &w->core);
        if (r == 0)
                r = core_add_bus(w->core, 0, &bus);
        return r;
}

/**
 * world_stop() - free the core (closing every connection) and the wires.
 * @w: the world
 */
void world_stop(World *w)
{
        w->core = core_free(w->core);
        for (size_t i = 0; i < w->nconns; i++)
                buf_deinit(&w->conns[i].wire);
        log_set_sink(NULL, NULL);
        log_set_verbose(false);
}

/**
 * world_connect() - a new connection to @bus from @uid (gid @uid, pid 1000
 * and up), before its HELLO.
 * @w:   the world
 * @bus: an open bus
 * @uid: who connects
 *
 * Return: the connection, or NULL if WORLD_CONNS_MAX were made.
 */
WorldConn *world_connect(World *w, unsigned bus, uid_t uid)
{
        ClientCred cred = { .pid = 1000 + (pid_t)w->nconns, .uid = uid, .gid = (gid_t)uid };
        WorldConn *wc;

        if (w->nconns == WORLD_CONNS_MAX)
                return NULL;
        wc = &w->conns[w->nconns++];
        *wc = (WorldConn){ .w = w, .bus = bus, .wire = BUF_INIT };
        if (client_new(w->core->buses[bus], &cred, wc, &wc->c) < 0)
                world_oom();
        wc->id = wc->c->id;
        world_pump(w);
        return wc;
}

/* Feeds @c what it holds, then settles, as the shell's read event would. */
static void world_turn(WorldConn *wc, const void *bytes, size_t len)
{
        World *w = wc->w;
        Client *c = wc->c;

        w->feeding = wc;
        int r = client_feed(c, bytes, len);
        w->feeding = NULL;
        core_settle(w->core, c);
        wc->resume = r == CLIENT_FEED_MORE;
}

/**
 * world_feed() - bytes from the client, as the shell reads them: at most
 * KBUS_READ_CHUNK at a time, into the shell's buffer or where the core says
 * (client_input_space()); after each read the core settles, and every other
 * turn the shell would take follows.
 * @wc:    the connection (not gone)
 * @bytes: the bytes
 * @len:   their number
 */
void world_feed(WorldConn *wc, const void *bytes, size_t len)
{
        const uint8_t *from = bytes;

        do {
                size_t room, n;
                uint8_t *p = client_input_space(wc->c, wc->w->read_buf, KBUS_READ_CHUNK, &room);
                if (!p)
                        world_oom();
                n = len < room ? len : room;
                memcpy(p, from, n);
                world_turn(wc, p, n);
                world_pump(wc->w);
                from += n;
                len -= n;
        } while (len && wc->c);
}

/**
 * world_eof() - the client closes its end.
 * @wc: the connection (not gone)
 */
void world_eof(WorldConn *wc)
{
        client_eof(wc->c);
        world_pump(wc->w);
}

/**
 * world_pump() - the shell's next turns: feed every connection that has
 * frames left, or that was paused and has drained, until none has; settle.
 * @w: the world
 */
void world_pump(World *w)
{
        for (bool any = true; any;) {
                any = false;
                for (size_t i = 0; i < w->nconns; i++) {
                        WorldConn *wc = &w->conns[i];
                        if (!wc->resume || !wc->c)
                                continue;
                        wc->resume = false;
                        any = true;
                        world_turn(wc, NULL, 0);
                }
        }
        while (!core_settle(w->core, NULL))
                ;
}

/**
 * world_read() - the next frame kbusd wrote to @wc, as a client reads it.
 * @wc: the connection
 * @f:  the frame
 *
 * Return: 1 if there was a whole one, 0 if not, -1 if the wire holds bytes
 * no kbusd frame could start with (or a frame too long for @f).
 */
int world_read(WorldConn *wc, WorldFrame *f)
{
        FrameHdr h;
        int r = codec_header_decode(buf_head(&wc->wire), buf_len(&wc->wire), &h);

        if (r == CODEC_E_SHORT || (r == 0 && buf_len(&wc->wire) < h.len))
                return 0;
        if (r != 0 || h.len - KBUS_FRAME_HDR_LEN > sizeof(f->body))
                return -1;
        f->type = h.type;
        f->flags = h.flags;
        f->len = h.len - KBUS_FRAME_HDR_LEN;
        memcpy(f->body, buf_head(&wc->wire) + KBUS_FRAME_HDR_LEN, f->len);
        buf_consume(&wc->wire, h.len);
        return 1;
}

/**
 * world_frame_encode() - append a whole frame to @out.
 * @out:   the buffer
 * @type:  the frame type
 * @flags: its flags
 * @body:  its body
 * @len:   the body's length
 */
void world_frame_encode(Buf *out, uint16_t type, uint16_t flags, const void *body, size_t len)
{
        uint8_t *p = codec_frame_begin(out, type, flags, len);

        if (!p)
                world_oom();
        if (len)
                memcpy(p, body, len);
}
