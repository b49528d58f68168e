/* SPDX-License-Identifier: MPL-2.0 */
/*
 * core-world.h - kbusd's core in the test process: no sockets, no event
 * loop.  A World stands where kbusd's shell (src/broker) stands: it fills
 * in the CoreOps, feeds bytes to clients and settles the core after every
 * event, as the shell does.  Each connection has a "wire": the bytes kbusd
 * wrote to it, which the test reads as the client would.  The order in
 * which the core asks for clients to be written is recorded, so tests can
 * check semantics §7's "in every recipient's socket before the sender hears".
 *
 * Used by the cmocka tests (core-test.h) and by the script runner of the
 * stateful fuzzer and the in-process random test (core-script.h); nothing
 * here asserts: out of memory aborts.
 */
#ifndef KBUS_TESTS_CORE_WORLD_H
#define KBUS_TESTS_CORE_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../src/core/bus.h"
#include "../src/core/caps.h"
#include "../src/core/client.h"
#include "../src/core/core.h"
#include "../src/proto/buf.h"
#include "../src/proto/codec.h"

#define WORLD_CONNS_MAX 64
#define WORLD_FLUSHES_MAX 4096
#define WORLD_ADMIN_UID 4242u /* kbusd's own uid in the world */

typedef struct World World;

/* One connection, as the shell holds it. */
typedef struct WorldConn {
        World *w;
        Client *c;          /* NULL once the core freed it */
        uint32_t id;        /* its ksock id */
        unsigned bus;
        Buf wire;           /* bytes kbusd wrote to it, not yet read */
        bool gone;          /* the core ended it */
        bool resume;        /* to be fed again (frames left, or drained after a pause) */
        KbusShm *page;      /* the take-log page it was given, or NULL */
} WorldConn;

struct World {
        Core *core;
        WorldConn conns[WORLD_CONNS_MAX];
        size_t nconns;
        WorldConn *feeding; /* the connection whose bytes the core is acting on */
        uint32_t flushes[WORLD_FLUSHES_MAX]; /* ksock ids, in the order written */
        size_t nflushes;
        size_t loglen;
        /* Called whenever kbusd wrote to a connection (in the order it did). */
        void (*on_write)(WorldConn *wc, void *ctx);
        void *on_write_ctx;
        /* Below, not cleared by world_start(). */
        char log[65536];    /* what the core logged, one line each (the first 64 KiB) */
        uint8_t read_buf[KBUS_READ_CHUNK]; /* the shell's one read buffer */
};

/* A frame as a client reads it. */
typedef struct WorldFrame {
        uint16_t type, flags;
        uint8_t body[KBUS_FRAME_HDR_LEN + 70000];
        size_t len;
} WorldFrame;

int world_start(World *w, const CoreConfig *cfg, Policy *policy);
void world_stop(World *w);
WorldConn *world_connect(World *w, unsigned bus, uid_t uid);
void world_feed(WorldConn *wc, const void *bytes, size_t len);
void world_eof(WorldConn *wc);
void world_pump(World *w);
int world_read(WorldConn *wc, WorldFrame *f);
void world_frame_encode(Buf *out, uint16_t type, uint16_t flags, const void *body, size_t len);

#endif
