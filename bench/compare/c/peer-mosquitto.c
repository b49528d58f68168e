/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer-mosquitto.c - MQTT through a private mosquitto broker, with
 * libmosquitto over its Unix socket (ADDRESS is the socket path): QoS 0
 * publishes, a request on one topic and its answer on another.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <mosquitto.h>

#include "peer.h"

const char peer_name[] = "mosquitto";

#define ASK "bench/ask"
#define ANSWER "bench/answer"
#define DATA "bench/data"

struct Peer {
        struct mosquitto *m;
        long got, taken; /* messages arrived, and handed out by peer_next() */
        int acks;        /* SUBACKs */
        bool serving, subscribed;
};

static void ok(int r, const char *what)
{
        if (r != MOSQ_ERR_SUCCESS)
                peer_die(what, mosquitto_strerror(r));
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
        Peer *p = arg;
        if (p->serving)
                ok(mosquitto_publish(m, NULL, ANSWER, msg->payloadlen, msg->payload, 0, false),
                   "answer");
        p->got++;
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *qos)
{
        (void)m, (void)mid, (void)n, (void)qos;
        ((Peer *)arg)->acks++;
}

Peer *peer_open(const char *address, bool latency)
{
        Peer *p = calloc(1, sizeof(*p));
        (void)latency;
        mosquitto_lib_init();
        if (!p || !(p->m = mosquitto_new(NULL, true, p)))
                peer_die("mosquitto_new", "failed");
        mosquitto_message_callback_set(p->m, on_message);
        mosquitto_subscribe_callback_set(p->m, on_subscribe);
        ok(mosquitto_connect(p->m, address, 0, 600), "mosquitto_connect");
        return p;
}

/* Subscribe to @topic and return once the broker has said so. */
static void subscribe_to(Peer *p, const char *topic)
{
        int before = p->acks;
        ok(mosquitto_subscribe(p->m, NULL, topic, 0), "subscribe");
        while (p->acks == before)
                ok(mosquitto_loop(p->m, 1000, 1), "loop");
}

void peer_serve(Peer *p, int ready_fd)
{
        p->serving = true;
        subscribe_to(p, ASK);
        if (write(ready_fd, "r", 1) != 1)
                peer_die("ready", "write failed");
        ok(mosquitto_loop_forever(p->m, -1, 1), "loop");
}

void peer_request(Peer *p, const void *buf, size_t n)
{
        if (!p->subscribed) {
                subscribe_to(p, ANSWER);
                p->subscribed = true;
        }
        long want = p->got + 1;
        ok(mosquitto_publish(p->m, NULL, ASK, (int)n, buf, 0, false), "request");
        while (p->got < want)
                ok(mosquitto_loop(p->m, 1000, 1), "loop");
}

void peer_prepare_announce(Peer *p)
{
        (void)p;
}

void peer_subscribe(Peer *p)
{
        subscribe_to(p, DATA);
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

bool peer_next(Peer *p, int timeout_ms)
{
        long deadline = now_ms() + timeout_ms;
        while (p->taken == p->got) {
                long left = deadline - now_ms();
                if (left <= 0)
                        return false;
                ok(mosquitto_loop(p->m, (int)left, 1), "loop");
        }
        p->taken++;
        return true;
}

void peer_announce(Peer *p, const void *buf, size_t n)
{
        ok(mosquitto_publish(p->m, NULL, DATA, (int)n, buf, 0, false), "publish");
}

void peer_flush(Peer *p)
{
        while (mosquitto_want_write(p->m))
                ok(mosquitto_loop(p->m, 1000, 1), "loop");
}
