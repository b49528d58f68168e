/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-options.c - kbus-limpet's command line (limpet-options.h).
 *
 * The original runlimpet took words in any order (-s, -c, -id N, -k N,
 * -m NAME, -v N, -t NAME, and the link); so does this, with long options
 * beside them.  Errors are usage errors (exit 2), as in every kbus tool.
 */
#include "limpet-options.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/proto/name.h"

static void usage(void)
{
        printf("Usage: kbus-limpet (-s | -c) <host>:<port> | <path> [OPTION]...\n"
               "Join this host's bus to another bus through a pair of Limpets, over TCP (a\n"
               "server listens on <host>) or over the Unix socket <path>.\n\n"
               "  -s, --server          wait for the other Limpet to connect\n"
               "  -c, --client          connect to the other Limpet\n"
               "      --id N            this Limpet's network id (default 1 client, 2 server)\n"
               "  -k, --bus BUS         the bus to join: a number or socket path (default 0)\n"
               "  -m, --message NAME    pass on messages matching NAME (default '$.*')\n"
               "  -v, --verbose N       0 quiet, 1 errors (default), 2 every message\n"
               "  -t, --terminate NAME  stop when a message NAME is read from the bus\n"
               "      --heartbeat S     the link is dead after S silent seconds (default 3)\n"
               "      --peer-uid USER   who may be at the far end of a Unix socket (repeatable)\n"
               "      --allow NAME      what the far side may bind or send here (repeatable)\n"
               "      --tls-cert FILE   over TCP: this Limpet's certificate (PEM),\n"
               "      --tls-key FILE    its key, and\n"
               "      --tls-ca FILE     the CA that must have signed the other's (TLS 1.3)\n"
               "      --insecure        over TCP without TLS (to pair with an original Limpet)\n"
               "      --flood           pass on all that NAME matches, listened to or not\n"
               "      --once            exit when the link goes, as the original did\n"
               "  -h, --help            show this help\n"
               "  -V, --version         show the version\n"
               "The original runlimpet's -server, -client, -id, -kbus, -message and -verbose\n"
               "work too. See kbus-limpet(1).\n");
        exit(TOOL_EXIT_OK);
}

/* The value of option @argv[*i], which must follow it. */
static const char *option_value(int argc, char **argv, int *i)
{
        if (*i + 1 >= argc)
                tool_usage_error("%s needs a value", argv[*i]);
        return argv[++*i];
}

static bool is_option(const char *arg, const char *a, const char *b, const char *c)
{
        return strcmp(arg, a) == 0 || (b && strcmp(arg, b) == 0) || (c && strcmp(arg, c) == 0);
}

/* --peer-uid USER: a user name or a uid. */
static void add_peer_uid(LimpetOptions *o, const char *arg)
{
        struct passwd *pw = getpwnam(arg);
        uint32_t uid;

        if (o->npeer_uids == LIMPET_MAX_LIST)
                tool_usage_error("at most %d --peer-uid", LIMPET_MAX_LIST);
        if (pw)
                uid = pw->pw_uid;
        else if (tool_parse_u32(arg, 0, UINT32_MAX - 1, &uid) < 0)
                tool_usage_error("--peer-uid takes a user name or uid, not '%s'", arg);
        o->peer_uids[o->npeer_uids++] = (uid_t)uid;
}

/* --allow NAME: a name or wildcard. */
static void add_allow(LimpetOptions *o, const char *name)
{
        if (o->nallow == LIMPET_MAX_LIST || name_check(name, strlen(name), true, NULL) != 0)
                tool_usage_error("--allow takes a name or wildcard, not '%s'", name);
        o->allow[o->nallow++] = name;
}

/* --heartbeat S, in milliseconds. */
static uint32_t heartbeat_ms(const char *opt, const char *arg)
{
        double sec = tool_option_seconds(opt, arg);

        if (sec < 0.05 || sec > 3600)
                tool_usage_error("--heartbeat takes 0.05 to 3600 seconds");
        return (uint32_t)(sec * 1000);
}

/* An option without a value; false if @a is not one. */
static bool parse_flag(const char *a, LimpetOptions *o)
{
        if (is_option(a, "-h", "-help", "--help"))
                usage();
        if (is_option(a, "-V", "--version", NULL)) {
                tool_print_version();
                exit(TOOL_EXIT_OK);
        }
        if (is_option(a, "-s", "-server", "--server"))
                o->server = 1;
        else if (is_option(a, "-c", "-client", "--client"))
                o->server = 0;
        else if (is_option(a, "--once", NULL, NULL))
                o->once = true;
        else if (is_option(a, "--insecure", NULL, NULL))
                o->insecure = true;
        else if (is_option(a, "--flood", NULL, NULL))
                o->flood = true;
        else
                return false;
        return true;
}

/* An option with a value (argv[*i] is the option); false if @a is not one. */
static bool parse_valued(int argc, char **argv, int *i, LimpetOptions *o)
{
        const char *a = argv[*i];

        if (is_option(a, "-id", "--id", NULL)) {
                if (tool_parse_u32(option_value(argc, argv, i), 1, UINT32_MAX, &o->id) < 0)
                        tool_usage_error("the network id must be a number above 0");
        } else if (is_option(a, "-k", "-kbus", "--bus"))
                tool_option_bus(option_value(argc, argv, i), &o->bus);
        else if (is_option(a, "-m", "-message", "--message"))
                o->message = option_value(argc, argv, i);
        else if (is_option(a, "-t", "--terminate", NULL))
                o->terminate = option_value(argc, argv, i);
        else if (is_option(a, "-v", "-verbose", "--verbose")) {
                if (tool_parse_u32(option_value(argc, argv, i), 0, 2, &o->verbosity) < 0)
                        tool_usage_error("the verbosity is 0, 1 or 2");
        } else if (is_option(a, "--tls-cert", NULL, NULL))
                o->tls_cert = option_value(argc, argv, i);
        else if (is_option(a, "--tls-key", NULL, NULL))
                o->tls_key = option_value(argc, argv, i);
        else if (is_option(a, "--tls-ca", NULL, NULL))
                o->tls_ca = option_value(argc, argv, i);
        else if (is_option(a, "--peer-uid", NULL, NULL))
                add_peer_uid(o, option_value(argc, argv, i));
        else if (is_option(a, "--allow", NULL, NULL))
                add_allow(o, option_value(argc, argv, i));
        else if (is_option(a, "--heartbeat", NULL, NULL))
                o->heartbeat_ms = heartbeat_ms(a, option_value(argc, argv, i));
        else
                return false;
        return true;
}

/* A TCP link needs TLS (all three files) or --insecure; a Unix link neither. */
static void check_tls_options(const LimpetOptions *o)
{
        int given = !!o->tls_cert + !!o->tls_key + !!o->tls_ca;

        if (given != 0 && given != 3)
                tool_usage_error("TLS needs --tls-cert, --tls-key and --tls-ca together");
        if (o->link.path && (given || o->insecure))
                tool_usage_error("TLS and --insecure are for TCP links, not %s", o->link_arg);
        if (!o->link.path && !given && !o->insecure)
                tool_usage_error("a TCP link needs TLS (--tls-cert, --tls-key, --tls-ca) or "
                                 "--insecure");
        if (given && o->insecure)
                tool_usage_error("--insecure and TLS: choose one");
}

/**
 * limpet_parse_args() - the command line, or exit 2 with a usage error
 * (0 for --help and --version).
 * @argc: as main's
 * @argv: as main's
 * @o:    the options
 */
void limpet_parse_args(int argc, char **argv, LimpetOptions *o)
{
        *o = (LimpetOptions){ .server = -1, .bus = TOOL_BUS_INIT, .message = "$.*",
                              .verbosity = 1, .heartbeat_ms = LINK_HEARTBEAT_MS };
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (parse_flag(a, o) || parse_valued(argc, argv, &i, o))
                        continue;
                if (a[0] == '-')
                        tool_usage_error("unknown option %s", a);
                if (o->link_arg)
                        tool_usage_error("one link only: %s or %s", o->link_arg, a);
                if (link_parse_address(a, &o->link) < 0)
                        tool_usage_error("%s is neither <host>:<port> nor a socket path", a);
                o->link_arg = a;
        }
        if (!o->link_arg)
                tool_usage_error("say where the link is: <host>:<port> or a socket path");
        if (o->server < 0)
                tool_usage_error("say which end this is: -s (server) or -c (client)");
        if (o->id == 0)
                o->id = o->server ? 2 : 1;
        check_tls_options(o);
}
