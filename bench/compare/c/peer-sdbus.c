/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer-sdbus.c - D-Bus through a private bus daemon, with systemd's sd-bus
 * (ADDRESS is the bus address): a method call Echo(ay) -> ay for round
 * trips, signals with a match rule for announcements.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "peer.h"

const char peer_name[] = "sdbus";

#define SERVICE "org.kbus.Bench"
#define PATH "/org/kbus/Bench"

struct Peer {
        sd_bus *bus;
        long got, taken;
};

static void ok(int r, const char *what)
{
        if (r < 0)
                peer_die(what, strerror(-r));
}

Peer *peer_open(const char *address, bool latency)
{
        Peer *p = calloc(1, sizeof(*p));
        (void)latency;
        if (!p)
                peer_die("calloc", "out of memory");
        ok(sd_bus_new(&p->bus), "sd_bus_new");
        ok(sd_bus_set_address(p->bus, address), "sd_bus_set_address");
        ok(sd_bus_set_bus_client(p->bus, 1), "sd_bus_set_bus_client");
        ok(sd_bus_start(p->bus), "sd_bus_start");
        return p;
}

static int echo(sd_bus_message *m, void *arg, sd_bus_error *err)
{
        sd_bus_message *answer;
        const void *data;
        size_t n;
        (void)arg, (void)err;
        ok(sd_bus_message_read_array(m, 'y', &data, &n), "read");
        ok(sd_bus_message_new_method_return(m, &answer), "method return");
        ok(sd_bus_message_append_array(answer, 'y', data, n), "append");
        ok(sd_bus_send(NULL, answer, NULL), "answer");
        sd_bus_message_unref(answer);
        return 1;
}

static const sd_bus_vtable vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Echo", "ay", "ay", echo, 0),
        SD_BUS_VTABLE_END
};

/* Process what has arrived, waiting up to @usec when there is nothing. */
static bool process_or_wait(Peer *p, uint64_t usec)
{
        int r = sd_bus_process(p->bus, NULL);
        ok(r, "process");
        if (r > 0)
                return true;
        r = sd_bus_wait(p->bus, usec);
        ok(r, "wait");
        return r > 0;
}

void peer_serve(Peer *p, int ready_fd)
{
        ok(sd_bus_add_object_vtable(p->bus, NULL, PATH, SERVICE, vtable, p), "vtable");
        ok(sd_bus_request_name(p->bus, SERVICE, 0), "request name");
        if (write(ready_fd, "r", 1) != 1)
                peer_die("ready", "write failed");
        for (;;)
                process_or_wait(p, UINT64_MAX);
}

void peer_request(Peer *p, const void *buf, size_t n)
{
        sd_bus_message *m, *answer;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        ok(sd_bus_message_new_method_call(p->bus, &m, SERVICE, PATH, SERVICE, "Echo"), "call");
        ok(sd_bus_message_append_array(m, 'y', buf, n), "append");
        if (sd_bus_call(p->bus, m, 0, &err, &answer) < 0)
                peer_die("Echo", err.message ? err.message : "failed");
        sd_bus_message_unref(answer);
        sd_bus_message_unref(m);
}

void peer_prepare_announce(Peer *p)
{
        (void)p;
}

static int on_signal(sd_bus_message *m, void *arg, sd_bus_error *err)
{
        (void)m, (void)err;
        ((Peer *)arg)->got++;
        return 0;
}

void peer_subscribe(Peer *p)
{
        /* Synchronous: returns once the bus daemon has the match rule. */
        ok(sd_bus_match_signal(p->bus, NULL, NULL, PATH, SERVICE, "Data", on_signal, p),
           "match");
}

bool peer_next(Peer *p, int timeout_ms)
{
        while (p->taken == p->got)
                if (!process_or_wait(p, (uint64_t)timeout_ms * 1000))
                        return false;
        p->taken++;
        return true;
}

void peer_announce(Peer *p, const void *buf, size_t n)
{
        sd_bus_message *m;
        ok(sd_bus_message_new_signal(p->bus, &m, PATH, SERVICE, "Data"), "signal");
        ok(sd_bus_message_append_array(m, 'y', buf, n), "append");
        int r = sd_bus_send(p->bus, m, NULL);
        if (r == -ENOBUFS) { /* sd-bus's own queue is full: let it drain */
                ok(sd_bus_flush(p->bus), "flush");
                r = sd_bus_send(p->bus, m, NULL);
        }
        ok(r, "send");
        sd_bus_message_unref(m);
}

void peer_flush(Peer *p)
{
        ok(sd_bus_flush(p->bus), "flush");
}
