/* SPDX-License-Identifier: MPL-2.0 */
/*
 * service-systemd.c - readiness and socket activation through libsystemd.
 *
 * Built when meson finds libsystemd (option "systemd").  Without a service
 * manager every call here does nothing: sd_notify() and sd_listen_fds()
 * return 0 when $NOTIFY_SOCKET and $LISTEN_FDS are not set, so kbusd runs
 * the same with or without systemd.
 */
#include "service.h"

#include <errno.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

/**
 * service_listen_fds() - the listening sockets systemd passed us.
 * @ret_fds: a malloc()ed array of descriptors (free it), or NULL if none
 *
 * Return: how many, or a negative errno.
 */
int service_listen_fds(int **ret_fds)
{
        int n = sd_listen_fds(1);

        *ret_fds = NULL;
        if (n <= 0)
                return n;
        int *fds = malloc(sizeof(*fds) * (size_t)n);
        if (!fds)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                fds[i] = SD_LISTEN_FDS_START + i;
        *ret_fds = fds;
        return n;
}

/**
 * service_ready() - tell systemd every bus is listening (Type=notify).
 * @buses: how many buses, for the status line
 */
void service_ready(unsigned buses)
{
        sd_notifyf(0, "READY=1\nSTATUS=serving %u bus%s", buses, buses == 1 ? "" : "es");
}

/**
 * service_stopping() - tell systemd kbusd is shutting down.
 */
void service_stopping(void)
{
        sd_notify(0, "STOPPING=1");
}
