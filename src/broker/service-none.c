/* SPDX-License-Identifier: MPL-2.0 */
/*
 * service-none.c - no service manager support (built without libsystemd):
 * kbusd creates its own sockets and tells nobody it is ready.
 */
#include "service.h"

#include <stddef.h>

/**
 * service_listen_fds() - no inherited sockets without libsystemd.
 * @ret_fds: set to NULL
 *
 * Return: 0.
 */
int service_listen_fds(int **ret_fds)
{
        *ret_fds = NULL;
        return 0;
}

/**
 * service_ready() - nothing to tell.
 * @buses: unused
 */
void service_ready(unsigned buses)
{
        (void)buses;
}

/**
 * service_stopping() - nothing to tell.
 */
void service_stopping(void)
{
}
