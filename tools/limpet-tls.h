/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-tls.h - TLS 1.3 with certificates on both sides, for TCP links
 * between Limpets (OpenSSL; docs/limpet.md, "Who may use it").
 */
#ifndef KBUS_TOOLS_LIMPET_TLS_H
#define KBUS_TOOLS_LIMPET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

SSL_CTX *link_tls_context(bool server, const char *cert, const char *key, const char *ca,
                          char *why, size_t whylen);
SSL *link_tls_handshake(SSL_CTX *ctx, int fd, bool server, int timeout_ms, char *why,
                        size_t whylen);
int link_tls_write_all(SSL *ssl, const void *p, size_t n);
int link_tls_read_all(SSL *ssl, void *p, size_t n);

#endif
