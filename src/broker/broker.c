/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker.c - the daemon's shell around the core: one event loop serving
 * every bus.
 *
 * The core (src/core) decides everything about buses, ksocks and messages;
 * the shell moves bytes and turns the world into the core's events:
 * connections accepted (listener.c), bytes read and written (io.c),
 * signals, timers.  Single-threaded: every callback runs to completion and
 * ends with broker_settle(), in which the core says what to write and free,
 * in which order, and the shell does it (CoreOps).
 *
 * The broker also owns what all buses share: the socket directory, opened
 * and checked once (sockdir_make()) and kept open so that every socket is
 * made and removed relative to it (listener.c), and accepting, which stops
 * on every bus for a short, growing pause when kbusd runs out of
 * descriptors instead of spinning on a listen queue it cannot empty.
 */
#include "broker.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../proto/sockdir.h"
#include "io.h"
#include "listener.h"
#include "policy-load.h"
#include "service.h"

#define BROKER_ACCEPT_PAUSE_MIN_MS 100u  /* the first pause when out of descriptors */
#define BROKER_ACCEPT_PAUSE_MAX_MS 1000u /* pauses double up to this */

static int broker_core_open_bus(void *ctx, unsigned number);

static long broker_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void broker_on_signal(evutil_socket_t sig, short what, void *arg)
{
        Broker *b = arg;

        (void)what;
        log_info("signal %d: shutting down", (int)sig);
        event_base_loopbreak(b->base);
}

/* Reads the policy in force: the file given, else the default file if there is one. */
static int broker_read_policy(const Broker *b, Policy **ret, char *err, size_t errlen)
{
        const char *path = b->policy_path ? b->policy_path : KBUS_POLICY_DEFAULT;

        if (!b->policy_path && access(path, F_OK) < 0 && errno == ENOENT)
                return policy_new_default(geteuid(), ret);
        return policy_load(path, geteuid(), ret, err, errlen);
}

/**
 * broker_reload_policy() - read the policy file again (SIGHUP) and apply it
 * to what exists: connections and bindings it no longer allows end.  A file
 * that does not parse leaves the policy in force as it was.
 * @b: the broker
 *
 * Return: 0, or the negative errno of reading the file (logged).
 */
int broker_reload_policy(Broker *b)
{
        char err[1024] = "";
        Policy *p;
        int r = broker_read_policy(b, &p, err, sizeof(err));

        if (r < 0) {
                log_err("policy not reloaded, the one in force stays: %s",
                        err[0] ? err : strerror(-r));
                return r;
        }
        log_info("policy reloaded from %s: %zu rules", p->path ? p->path : "(built in)",
                 p->nrules);
        core_set_policy(b->core, p);
        broker_settle(b, NULL);
        return 0;
}

static void broker_on_sighup(evutil_socket_t sig, short what, void *arg)
{
        (void)sig;
        (void)what;
        broker_reload_policy(arg);
}

static const char *broker_source_name(SockdirSource source)
{
        switch (source) {
        case SOCKDIR_OPTION: return "--socket-dir";
        case SOCKDIR_ENV: return "$" KBUS_SOCKET_DIR_ENV;
        case SOCKDIR_RUN: return "the system directory";
        case SOCKDIR_XDG: return "$XDG_RUNTIME_DIR";
        default: return "the /tmp fallback";
        }
}

/*
 * Finds, creates if needed, opens and checks the socket directory
 * (sockdir_make()); every socket is then made relative to its descriptor.
 * An unsafe directory stops kbusd with one line saying what is wrong.
 */
static int broker_open_sockdir(Broker *b, const char *option)
{
        SockdirSource source;
        const char *why = NULL;
        int r = sockdir_resolve_source(option, b->sockdir, sizeof(b->sockdir), &source);

        if (r < 0) {
                log_err("socket directory: %s", strerror(-r));
                return r;
        }
        r = sockdir_make(b->sockdir, source, &b->sockdir_fd, &why);
        if (r == -EPERM && why)
                log_err("refusing socket directory %s (from %s): %s", b->sockdir,
                        broker_source_name(source), why);
        else if (r < 0)
                log_err("cannot create socket directory %s (from %s): %s", b->sockdir,
                        broker_source_name(source), strerror(-r));
        return r;
}

/*
 * Each client costs a descriptor; the soft limit (often 1024) is only a
 * default, so use all the hard limit allows.  What happens when even that
 * runs out is broker_accept_refused()'s business.
 */
static void broker_raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warn("cannot raise the descriptor limit to %llu: %s",
                         (unsigned long long)rl.rlim_max, strerror(errno));
}

static void broker_on_settle(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        broker_settle(arg, NULL);
}

/**
 * broker_settle() - let the core finish the work a callback started (it
 * writes, @last's output last, and frees through CoreOps); if it stops for
 * others' sake, finish on the next loop turn.
 * @b:    the broker
 * @last: the client whose request caused the work, or NULL
 */
void broker_settle(Broker *b, struct Client *last)
{
        if (!core_settle(b->core, last))
                event_active(b->settle_ev, 0, 0); /* let other clients run first */
}

static void broker_on_accept_timer(evutil_socket_t fd, short what, void *arg)
{
        Broker *b = arg;

        (void)fd;
        (void)what;
        b->accept_paused = false;
        for (unsigned i = 0; i < KBUS_BUSES_MAX; i++)
                if (b->listeners[i])
                        listener_enable(b->listeners[i], true);
}

/*
 * Every KBUS_IDLE_SWEEP_MS, each ksock that wrote nothing since the last
 * sweep gives back the buffers a busy ksock keeps between writes, so that
 * idle ksocks hold almost nothing and busy ones never regrow theirs.  The
 * clock is a timerfd watched like a socket, not a libevent timer: with a
 * timer pending, libevent reads the clock and works out a timeout on every
 * turn of the loop, which costs a busy kbusd about 3% of its time.
 */
static void broker_on_sweep(evutil_socket_t fd, short what, void *arg)
{
        Broker *b = arg;
        uint64_t expirations;

        (void)what;
        if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                log_err("idle sweep timer: %s", strerror(errno));
        core_sweep(b->core);
}

static int broker_sweep_timer(Broker *b)
{
        struct timespec every = { KBUS_IDLE_SWEEP_MS / 1000,
                                  (KBUS_IDLE_SWEEP_MS % 1000) * 1000000L };
        struct itimerspec its = { .it_interval = every, .it_value = every };

        b->sweep_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (b->sweep_fd < 0 || timerfd_settime(b->sweep_fd, 0, &its, NULL) < 0)
                return error_origin(-errno);
        b->sweep_ev = event_new(b->base, b->sweep_fd, EV_READ | EV_PERSIST, broker_on_sweep, b);
        if (!b->sweep_ev || event_add(b->sweep_ev, NULL) < 0)
                return -ENOMEM;
        return 0;
}

static int broker_events(Broker *b)
{
        int r = broker_sweep_timer(b);

        if (r < 0)
                return r;
        b->accept_timer = evtimer_new(b->base, broker_on_accept_timer, b);
        if (!b->accept_timer)
                return -ENOMEM;
        b->settle_ev = event_new(b->base, -1, 0, broker_on_settle, b);
        b->sigterm = evsignal_new(b->base, SIGTERM, broker_on_signal, b);
        b->sigint = evsignal_new(b->base, SIGINT, broker_on_signal, b);
        b->sighup = evsignal_new(b->base, SIGHUP, broker_on_sighup, b);
        if (!b->settle_ev || !b->sigterm || !b->sigint || !b->sighup ||
            evsignal_add(b->sigterm, NULL) < 0 || evsignal_add(b->sigint, NULL) < 0 ||
            evsignal_add(b->sighup, NULL) < 0)
                return -ENOMEM;
        return 0;
}

/* Bus @number is served by @l from now on; the core learns of it. */
static int broker_set_bus(Broker *b, unsigned number, Listener *l)
{
        int r = core_add_bus(b->core, number, &l->bus);

        if (r < 0) {
                listener_free(l);
                return error_origin(r);
        }
        b->listeners[number] = l;
        return 0;
}

/* Logs that another kbusd serves bus @number, whose lock is in @dir. */
static int broker_bus_taken(unsigned number, const char *dir, pid_t holder)
{
        if (holder > 0)
                log_err("bus %u: already served by kbusd pid %ld (lock %s/kbus%u.lock)", number,
                        (long)holder, dir, number);
        else
                log_err("bus %u: already served by another kbusd (lock %s/kbus%u.lock)", number,
                        dir, number);
        return -EADDRINUSE;
}

/* Serves one listening socket systemd passed, found at @path, as its bus. */
static int broker_adopt_socket(Broker *b, int fd, unsigned number, const char *path)
{
        char dir[KBUS_SOCKET_PATH_MAX];
        const char *why = NULL, *slash = strrchr(path, '/');
        pid_t holder = 0;
        int dirfd = -1;
        Listener *l;

        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
                snprintf(dir, sizeof(dir), "/");
        else
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        int r = b->listeners[number] ? -EEXIST
                                     : sockdir_open_checked(dir, geteuid(), &dirfd, &why);
        if (r == -EPERM && why) {
                log_err("bus %u from the service manager: refusing its directory %s: %s", number,
                        dir, why);
                return r;
        }
        if (r == 0 && (r = listener_adopt(b, number, fd, dirfd, path, &holder, &l)) == 0)
                r = broker_set_bus(b, number, l);
        if (dirfd >= 0)
                close(dirfd);
        if (r == LISTENER_E_LOCKED)
                return broker_bus_taken(number, dir, holder);
        if (r < 0)
                log_err("bus %u from the service manager: %s", number, strerror(-r));
        return r;
}

/* Serves each listening socket systemd passed (socket activation) as its bus. */
static int broker_adopt_sockets(Broker *b)
{
        int *fds, n = service_listen_fds(&fds);
        int r = n < 0 ? n : 0;

        for (int i = 0; r == 0 && i < n; i++) {
                char path[KBUS_SOCKET_PATH_MAX];
                unsigned number;
                r = listener_socket_bus(fds[i], &number, path);
                if (r < 0)
                        log_err("socket passed by the service manager (fd %d) is not a "
                                "kbus<N> Unix stream socket", fds[i]);
                else
                        r = broker_adopt_socket(b, fds[i], number, path);
        }
        free(fds);
        return r;
}

/**
 * broker_new() - set up the broker and open its buses: those whose
 * listening sockets systemd passed, then 0..cfg->buses-1.
 * @cfg: the configuration
 * @ret: the broker
 *
 * Return: 0, or a negative errno (logged).
 */
int broker_new(const BrokerConfig *cfg, Broker **ret)
{
        static const CoreOps ops = { .open_bus = broker_core_open_bus, .make_page = io_make_page,
                                     .unmap_page = io_unmap_page, .flush = io_flush,
                                     .gone = io_gone };
        Broker *b = calloc(1, sizeof(*b));
        char err[1024] = "";
        Policy *policy;
        int r;

        if (!b)
                return -ENOMEM;
        CoreConfig core_cfg = { .ops = &ops, .ops_ctx = b, .max_messages = cfg->max_messages,
                                .max_msg_size = cfg->max_msg_size, .admin_uid = geteuid(),
                                .limits = cfg->limits };
        memcpy(core_cfg.limits_set, cfg->limits_set, sizeof(core_cfg.limits_set));
        b->policy_path = cfg->policy_path;
        b->sockdir_fd = -1;
        b->sweep_fd = -1;
        b->socket_mode = cfg->socket_mode;
        b->socket_gid = cfg->socket_gid;
        r = broker_read_policy(b, &policy, err, sizeof(err));
        if (r < 0) {
                log_err("policy: %s", err[0] ? err : strerror(-r));
                free(b);
                return r;
        }
        r = core_new(&core_cfg, policy, &b->core);
        b->read_buf = malloc(KBUS_READ_CHUNK);
        broker_raise_fd_limit();
        b->base = event_base_new();
        if (r == 0)
                r = b->base && b->read_buf ? broker_events(b) : -ENOMEM;
        if (r == 0)
                r = broker_open_sockdir(b, cfg->socket_dir);
        if (r == 0)
                r = broker_adopt_sockets(b);
        for (unsigned i = 0; r == 0 && i < cfg->buses; i++)
                if (!b->listeners[i])
                        r = broker_open_bus(b, i);
        if (r < 0) {
                broker_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

/**
 * broker_free() - close every client and bus, remove the sockets, free all.
 * @b: the broker, or NULL
 *
 * Return: NULL.
 */
Broker *broker_free(Broker *b)
{
        if (!b)
                return NULL;
        b->core = core_free(b->core); /* closes every client: before the events go */
        for (unsigned i = 0; i < KBUS_BUSES_MAX; i++)
                b->listeners[i] = listener_free(b->listeners[i]);
        if (b->sigterm)
                event_free(b->sigterm);
        if (b->sigint)
                event_free(b->sigint);
        if (b->sighup)
                event_free(b->sighup);
        if (b->settle_ev)
                event_free(b->settle_ev);
        if (b->accept_timer)
                event_free(b->accept_timer);
        if (b->sweep_ev)
                event_free(b->sweep_ev);
        if (b->sweep_fd >= 0)
                close(b->sweep_fd);
        if (b->sockdir_fd >= 0)
                close(b->sockdir_fd); /* after the buses: their sockets are removed through it */
        if (b->base)
                event_base_free(b->base);
        free(b->read_buf);
        free(b);
        return NULL;
}

/**
 * broker_run() - serve until SIGTERM or SIGINT.
 * @b: the broker
 *
 * Return: 0, or -EIO if the loop failed.
 */
int broker_run(Broker *b)
{
        return event_base_dispatch(b->base) < 0 ? -EIO : 0;
}

/*
 * Opens bus @number: 0, LISTENER_E_LOCKED (another kbusd serves it; with
 * @ret_holder, its pid), or a negative errno (logged).
 */
static int broker_try_bus(Broker *b, unsigned number, pid_t *ret_holder)
{
        char path[KBUS_SOCKET_PATH_MAX];
        Listener *l;
        int r = sockdir_bus_path(b->sockdir, number, path, sizeof(path));

        if (r < 0) {
                log_err("bus %u: %s", number, strerror(-r));
                return r;
        }
        r = listener_open(b, number, path, ret_holder, &l);
        if (r) {
                if (r == -EADDRINUSE)
                        log_err("%s: a server that takes no kbus lock (an older kbusd?) answers "
                                "on this socket; leaving it alone", path);
                else if (r == -EEXIST)
                        log_err("%s: something that is not a socket is in the way", path);
                else if (r < 0)
                        log_err("%s: %s", path, strerror(-r));
                return r;
        }
        r = broker_set_bus(b, number, l);
        if (r == 0)
                log_debug("bus %u listening on %s", number, path); /* main() prints it */
        return r;
}

/**
 * broker_open_bus() - open bus @number and start listening.
 * @b:      the broker
 * @number: below KBUS_BUSES_MAX, not open yet
 *
 * Return: 0; -EADDRINUSE if another kbusd serves it; or a negative errno
 * (all logged).
 */
int broker_open_bus(Broker *b, unsigned number)
{
        pid_t holder = 0;
        int r = broker_try_bus(b, number, &holder);

        return r == LISTENER_E_LOCKED ? broker_bus_taken(number, b->sockdir, holder) : r;
}

/* CoreOps.open_bus: a new bus on request (NEWDEVICE); never waits for a holder's pid. */
static int broker_core_open_bus(void *ctx, unsigned number)
{
        Broker *b = ctx;
        int r = broker_try_bus(b, number, NULL);

        if (r == LISTENER_E_LOCKED)
                return CORE_E_TAKEN;
        if (r == 0)
                log_info("bus %u listening on %s", number, b->listeners[number]->path);
        return r;
}

/**
 * broker_accept_refused() - accept() failed for want of descriptors (or
 * memory): stop accepting on every bus for a while instead of retrying at
 * once, which would spin (the connection stays in the backlog, so the
 * socket stays readable).  The pause starts at 100 ms and doubles, up to
 * 1 s, while accept() keeps failing; clients already connected are served
 * as usual meanwhile.  Logs once per shortage.
 * @b:   the broker
 * @err: accept()'s errno
 */
void broker_accept_refused(Broker *b, int err)
{
        b->accept_refused++;
        if (b->accept_paused)
                return;
        if (b->accept_pause_ms == 0) {
                b->accept_pause_ms = BROKER_ACCEPT_PAUSE_MIN_MS;
                b->accept_since_ms = broker_now_ms();
                log_warn("%s: not accepting for %u ms",
                         err == EMFILE || err == ENFILE ? "out of file descriptors"
                                                        : strerror(err),
                         b->accept_pause_ms);
        } else if (b->accept_pause_ms < BROKER_ACCEPT_PAUSE_MAX_MS) {
                b->accept_pause_ms *= 2;
                if (b->accept_pause_ms > BROKER_ACCEPT_PAUSE_MAX_MS)
                        b->accept_pause_ms = BROKER_ACCEPT_PAUSE_MAX_MS;
        }
        struct timeval tv = { .tv_sec = b->accept_pause_ms / 1000,
                              .tv_usec = (b->accept_pause_ms % 1000) * 1000 };
        b->accept_paused = true;
        for (unsigned i = 0; i < KBUS_BUSES_MAX; i++)
                if (b->listeners[i])
                        listener_enable(b->listeners[i], false);
        evtimer_add(b->accept_timer, &tv);
}

/**
 * broker_accept_done() - accept() succeeded: a shortage, if there was one,
 * is over (logged, with how many accept() calls it refused).
 * @b: the broker
 */
void broker_accept_done(Broker *b)
{
        if (!b->accept_pause_ms)
                return;
        log_info("accepting again after %ld ms (%lu accept() calls refused meanwhile)",
                 broker_now_ms() - b->accept_since_ms, b->accept_refused);
        b->accept_pause_ms = 0;
        b->accept_refused = 0;
}
