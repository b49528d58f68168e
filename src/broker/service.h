/* SPDX-License-Identifier: MPL-2.0 */
/*
 * service.h - what kbusd tells, and takes from, a service manager.
 */
#ifndef KBUS_BROKER_SERVICE_H
#define KBUS_BROKER_SERVICE_H

int service_listen_fds(int **ret_fds);
void service_ready(unsigned buses);
void service_stopping(void);

#endif
