/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-link.h - the socket between two Limpets: opening it (a Unix socket
 * path, or TCP <host>:<port>; one side listens and accepts a Limpet, the
 * other connects) and the HELO exchange that starts it (docs/limpet.md).
 */
#ifndef KBUS_TOOLS_LIMPET_LINK_H
#define KBUS_TOOLS_LIMPET_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* Where the link is: a Unix socket path, or a TCP host and port. */
typedef struct LinkAddress {
        const char *path; /* NULL for TCP */
        char host[256];
        char port[16];
} LinkAddress;

int link_parse_address(const char *arg, LinkAddress *ret);
int link_listen(const LinkAddress *a, char *why, size_t whylen);
int link_accept(const LinkAddress *a, int lfd);
int link_connect(const LinkAddress *a, char *why, size_t whylen);
int link_hello(int fd, SSL *ssl, uint32_t network_id, uint32_t *other_id, int timeout_ms);
int link_peer_uid(int fd, uid_t *ret);
void link_peer_name(const LinkAddress *a, int fd, char *out, size_t len);

#endif
