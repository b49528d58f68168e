/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl-doctor.c - `kbus-ctl doctor`: check this machine for what a working
 * kbus needs, and say how to fix what is wrong.
 *
 * Each check ends ok, warn (works, but probably not as meant) or fail
 * (clients cannot use the bus), with what was found and, unless ok, the
 * command that fixes it.  The checks: the socket directory (where clients
 * look, why that one, its owner and mode); the bus socket in it; kbusd
 * answering there, its uid and version against this tool's; the policy
 * file, read and parsed as kbusd would; and, where systemd runs, whether
 * kbusd's socket unit is enabled and listening.  Nothing is changed.
 */
#include "ctl-doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../src/broker/policy-load.h"
#include "../src/lib/query.h"
#include "../src/proto/sockdir.h"
#include "format.h"

#define DOC_CHECKS_MAX 8
#define DOC_TEXT_MAX 600

typedef enum DocStatus { DOC_OK, DOC_WARN, DOC_FAIL } DocStatus;

static const char *const doc_status_names[] = { "ok", "warn", "fail" };

typedef struct DocCheck {
        const char *name;
        DocStatus status;
        char detail[DOC_TEXT_MAX];
        char fix[DOC_TEXT_MAX]; /* empty when ok */
} DocCheck;

typedef struct Doctor {
        DocCheck checks[DOC_CHECKS_MAX];
        int n;
        char dir[PATH_MAX];  /* the socket directory */
        char path[PATH_MAX]; /* the bus socket */
        SockdirSource source;
        bool explicit_path;  /* --bus named a socket path */
        uid_t kbusd_uid;     /* from SO_PEERCRED, or (uid_t)-1 */
} Doctor;

/* Records a check; @fix (may be NULL) is a printf format too, after @detail's arguments. */
static DocCheck *doc_add(Doctor *d, const char *name, DocStatus status, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static DocCheck *doc_add(Doctor *d, const char *name, DocStatus status, const char *fmt, ...)
{
        DocCheck *c = &d->checks[d->n++];
        va_list ap;

        c->name = name;
        c->status = status;
        c->fix[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
        va_end(ap);
        return c;
}

static void doc_fix(DocCheck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void doc_fix(DocCheck *c, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(c->fix, sizeof(c->fix), fmt, ap);
        va_end(ap);
}

/* How to start a kbusd that serves this directory. */
static void doc_fix_start(const Doctor *d, DocCheck *c)
{
        if (d->source == SOCKDIR_RUN && !d->explicit_path)
                doc_fix(c, "systemctl start kbusd.socket (or run 'kbusd' in a terminal)");
        else
                doc_fix(c, "run 'kbusd --socket-dir %s' in a terminal", d->dir);
}

static const char *doc_source_text(SockdirSource s)
{
        switch (s) {
        case SOCKDIR_OPTION: return "given with --bus";
        case SOCKDIR_ENV: return "from $KBUS_SOCKET_DIR";
        case SOCKDIR_RUN: return "the system's";
        case SOCKDIR_XDG: return "$XDG_RUNTIME_DIR/kbus: /run/kbus is not usable";
        default: return "/tmp/kbus-UID: /run/kbus and $XDG_RUNTIME_DIR are not usable";
        }
}

/* The socket directory: there, a directory, and nobody but its owner may change it. */
static void doc_socket_dir(Doctor *d)
{
        struct stat st;
        DocCheck *c;

        if (stat(d->dir, &st) < 0) {
                c = doc_add(d, "socket-directory", DOC_FAIL, "%s (%s): %s", d->dir,
                            doc_source_text(d->source), strerror(errno));
                doc_fix_start(d, c); /* kbusd makes it */
                return;
        }
        /* As libkbus judges it: nobody but its owner may change it, and a per-user
         * fallback must be root's or ours (/run/kbus may be kbusd's DynamicUser's). */
        bool fallback = d->source == SOCKDIR_XDG || d->source == SOCKDIR_TMP;
        bool safe = S_ISDIR(st.st_mode) && !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
                    (!fallback || st.st_uid == 0 || st.st_uid == getuid());
        c = doc_add(d, "socket-directory", safe ? DOC_OK : DOC_FAIL,
                    "%s (%s): %s, owner uid %u, mode %04o", d->dir, doc_source_text(d->source),
                    S_ISDIR(st.st_mode) ? "a directory" : "NOT a directory",
                    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        if (!safe)
                doc_fix(c, "it must be a directory that group and others cannot write%s: "
                           "chmod go-w %s, or remove it and restart kbusd",
                        fallback ? ", of root's or yours" : "", d->dir);
}

/* The bus socket: a socket we may connect to. */
static void doc_bus_socket(Doctor *d)
{
        struct stat st;
        DocCheck *c;

        if (stat(d->path, &st) < 0) {
                c = doc_add(d, "bus-socket", DOC_FAIL, "%s: %s", d->path, strerror(errno));
                doc_fix_start(d, c);
                return;
        }
        bool ok = S_ISSOCK(st.st_mode) && access(d->path, W_OK) == 0;
        c = doc_add(d, "bus-socket", ok ? DOC_OK : DOC_FAIL, "%s: %s, owner uid %u, mode %04o",
                    d->path, S_ISSOCK(st.st_mode) ? "a socket" : "NOT a socket",
                    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        if (!S_ISSOCK(st.st_mode))
                doc_fix(c, "remove %s and restart kbusd", d->path);
        else if (!ok)
                doc_fix(c, "you may not connect: kbusd's --socket-mode (default 0666) or "
                           "--socket-group decide who may");
}

/* kbusd answering on the bus, and its version against ours. */
static void doc_kbusd(Doctor *d, const char *open_name)
{
        struct ucred peer;
        char *version = NULL;
        DocCheck *c;

        int r = tool_peer_cred(d->path, &peer);
        if (r < 0) {
                c = doc_add(d, "kbusd", DOC_FAIL, "nothing answers on %s: %s", d->path,
                            strerror(-r));
                doc_fix_start(d, c);
                return;
        }
        d->kbusd_uid = peer.uid;
        kbus_ksock_t ks = kbus_ksock_open_timeout(open_name, O_RDONLY, 5000);
        if (ks < 0) {
                c = doc_add(d, "kbusd", DOC_FAIL, "pid %d (uid %u) listens on %s, but the "
                            "handshake failed: %s", (int)peer.pid, (unsigned)peer.uid,
                            d->path, strerror((int)-ks));
                doc_fix(c, ks == -EPERM ? "kbusd's policy refuses you ('kbus-ctl explain "
                                          "connect' as root says why)"
                                        : "restart kbusd; if it persists, see its log "
                                          "(journalctl -u kbusd)");
                return;
        }
        r = kbus_query_version(ks, &version);
        kbus_ksock_close(ks);
        bool same = r == 0 && strcmp(version, kbus_version()) == 0;
        c = doc_add(d, "kbusd", same ? DOC_OK : DOC_WARN, "kbusd %s answers on %s (pid %d, "
                    "uid %u); these tools are %s", r == 0 ? version : "(older than 0.1.0)",
                    d->path, (int)peer.pid, (unsigned)peer.uid, kbus_version());
        if (!same)
                doc_fix(c, "restart kbusd after upgrading kbus (systemctl restart kbusd)");
        free(version);
}

/* The policy file @path, read and parsed as kbusd reads it (kbus-policy(5)). */
static void doc_policy(Doctor *d, const char *path, bool given)
{
        char err[512];
        Policy *p = NULL;
        DocCheck *c;

        if (!given && access(path, F_OK) < 0) {
                doc_add(d, "policy", DOC_OK, "no %s: the defaults (anyone may connect, "
                        "listen, own and send; only root and kbusd's user may change bus-wide "
                        "settings); kbus-policy(5) says how to restrict", path);
                return;
        }
        uid_t admin = d->kbusd_uid == (uid_t)-1 ? 0 : d->kbusd_uid;
        int r = policy_load(path, admin, &p, err, sizeof(err));
        policy_free(p);
        if (r == 0) {
                doc_add(d, "policy", DOC_OK, "%s: valid", path);
                return;
        }
        c = doc_add(d, "policy", DOC_FAIL, "%s", err);
        doc_fix(c, "correct the file (kbus-policy(5)), then 'systemctl reload kbusd' "
                           "(kbusd refuses to start with it, and keeps the old one on reload)");
}

/* The first line a command prints, or "" if it could not run. */
static void doc_run(const char *cmd, char *out, size_t outlen)
{
        FILE *f = popen(cmd, "r");

        out[0] = '\0';
        if (!f)
                return;
        if (fgets(out, (int)outlen, f))
                out[strcspn(out, "\n")] = '\0';
        pclose(f);
}

/* Where systemd runs: kbusd's socket unit installed, enabled and listening. */
static void doc_systemd(Doctor *d)
{
        char enabled[64], active[64];
        DocCheck *c;

        if (access("/run/systemd/system", F_OK) < 0) {
                doc_add(d, "systemd", DOC_OK, "systemd is not running here: kbusd runs when "
                        "started by hand");
                return;
        }
        doc_run("systemctl is-enabled kbusd.socket 2>/dev/null", enabled, sizeof(enabled));
        doc_run("systemctl is-active kbusd.socket 2>/dev/null", active, sizeof(active));
        bool ok = strcmp(enabled, "enabled") == 0 && strcmp(active, "active") == 0;
        c = doc_add(d, "systemd", ok ? DOC_OK : DOC_WARN, "kbusd.socket is %s and %s",
                    enabled[0] ? enabled : "unknown", active[0] ? active : "unknown");
        if (strcmp(enabled, "not-found") == 0 || !enabled[0])
                doc_fix(c, "install kbus's units (the kbusd package, or meson install)");
        else if (!ok)
                doc_fix(c, "systemctl enable --now kbusd.socket");
}

static void doc_print_text(const Doctor *d, int fails, int warns)
{
        for (int i = 0; i < d->n; i++) {
                const DocCheck *c = &d->checks[i];
                printf("%-4s  %-16s  %s\n", doc_status_names[c->status], c->name, c->detail);
                if (c->fix[0])
                        printf("      %-16s  fix: %s\n", "", c->fix);
        }
        if (fails || warns)
                printf("%d problem%s, %d warning%s\n", fails, fails == 1 ? "" : "s", warns,
                       warns == 1 ? "" : "s");
        else
                printf("all is well\n");
}

static void doc_print_json(const Doctor *d, int fails)
{
        printf("{\"ok\":%s,\"checks\":[", fails ? "false" : "true");
        for (int i = 0; i < d->n; i++) {
                const DocCheck *c = &d->checks[i];
                printf("%s{\"check\":\"%s\",\"status\":\"%s\",\"detail\":", i ? "," : "",
                       c->name, doc_status_names[c->status]);
                fmt_json_string(stdout, c->detail, strlen(c->detail));
                printf(",\"fix\":");
                if (c->fix[0])
                        fmt_json_string(stdout, c->fix, strlen(c->fix));
                else
                        printf("null");
                printf("}");
        }
        printf("]}\n");
}

/**
 * ctl_doctor() - run the checks for @bus and print them.
 * @bus:    the bus to check (--bus)
 * @policy: the policy file to check (--policy), or NULL for kbusd's default
 * @json:   one JSON object instead of text
 *
 * Return: the exit status: 0 if nothing failed (warnings allowed), else 1.
 */
int ctl_doctor(const ToolBus *bus, const char *policy, bool json)
{
        Doctor d = { .kbusd_uid = (uid_t)-1 };
        char open_name[PATH_MAX];
        int fails = 0, warns = 0;

        if (bus->path) {
                d.explicit_path = true;
                d.source = SOCKDIR_OPTION;
                snprintf(d.path, sizeof(d.path), "%s", bus->path);
                snprintf(d.dir, sizeof(d.dir), "%s", bus->path);
                char *slash = strrchr(d.dir, '/');
                if (slash == d.dir)
                        d.dir[1] = '\0'; /* a socket in / */
                else if (slash)
                        *slash = '\0';
                else
                        snprintf(d.dir, sizeof(d.dir), ".");
                snprintf(open_name, sizeof(open_name), "%s", bus->path);
        } else {
                if (sockdir_resolve_source(NULL, d.dir, sizeof(d.dir), &d.source) < 0 ||
                    sockdir_bus_path(d.dir, bus->number, d.path, sizeof(d.path)) < 0) {
                        fprintf(stderr, "kbus-ctl: doctor: the socket path is too long\n");
                        return 1;
                }
                snprintf(open_name, sizeof(open_name), "/dev/kbus%u", (unsigned)bus->number);
        }
        doc_socket_dir(&d);
        doc_bus_socket(&d);
        doc_kbusd(&d, open_name);
        doc_policy(&d, policy ? policy : KBUS_POLICY_DEFAULT, policy != NULL);
        doc_systemd(&d);
        for (int i = 0; i < d.n; i++) {
                fails += d.checks[i].status == DOC_FAIL;
                warns += d.checks[i].status == DOC_WARN;
        }
        if (json)
                doc_print_json(&d, fails);
        else
                doc_print_text(&d, fails, warns);
        return fails ? 1 : 0;
}
