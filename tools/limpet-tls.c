/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-tls.c - TLS for TCP links (limpet-tls.h).
 *
 * Both Limpets present a certificate and key, and accept only a peer whose
 * certificate the given CA signed: TLS 1.3 only, verification required on
 * both sides.  Who holds a certificate from that CA may join the buses;
 * host names are not checked (the CA is the list of who may).  The
 * handshake and HELO run on the blocking socket, bounded by socket
 * timeouts; then libevent's OpenSSL bufferevent carries the link.
 */
#include "limpet-tls.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>

/* The last OpenSSL error as text, into @why. */
static void tls_why(const char *what, char *why, size_t whylen)
{
        unsigned long e = ERR_get_error();
        char text[256] = "unknown error";

        if (e)
                ERR_error_string_n(e, text, sizeof(text));
        ERR_clear_error();
        snprintf(why, whylen, "%s: %s", what, text);
}

/**
 * link_tls_context() - the TLS settings of every link of this Limpet.
 * @server: the server end
 * @cert:   its certificate chain (PEM)
 * @key:    its private key (PEM)
 * @ca:     the CA certificates a peer's certificate must chain to (PEM)
 * @why:    set to what failed
 * @whylen: its size
 *
 * Return: the context, or NULL.
 */
SSL_CTX *link_tls_context(bool server, const char *cert, const char *key, const char *ca,
                          char *why, size_t whylen)
{
        SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

        if (!ctx) {
                tls_why("TLS", why, whylen);
                return NULL;
        }
        if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
            SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1 ||
            SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
                tls_why("the TLS certificate, key or CA", why, whylen);
                SSL_CTX_free(ctx);
                return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        return ctx;
}

/**
 * link_tls_handshake() - TLS on the connected blocking socket @fd.
 * @ctx:        from link_tls_context()
 * @fd:         the link
 * @server:     accept, or connect
 * @timeout_ms: for each read or write of the handshake (and of HELO after it)
 * @why:        set to what failed
 * @whylen:     its size
 *
 * Return: the TLS session, or NULL (a peer without a certificate our CA
 * signed, a peer that does not speak TLS 1.3, a timeout).
 */
SSL *link_tls_handshake(SSL_CTX *ctx, int fd, bool server, int timeout_ms, char *why,
                        size_t whylen)
{
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        SSL *ssl = SSL_new(ctx);

        if (!ssl || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            SSL_set_fd(ssl, fd) != 1 || (server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1) {
                tls_why("TLS handshake", why, whylen);
                SSL_free(ssl);
                return NULL;
        }
        return ssl;
}

/* All of @p over TLS; 0 or -EIO. */
int link_tls_write_all(SSL *ssl, const void *p, size_t n)
{
        return SSL_write(ssl, p, (int)n) == (int)n ? 0 : -EIO;
}

/* Exactly @n bytes over TLS; 0, -ECONNRESET at the end, -ETIMEDOUT or -EIO. */
int link_tls_read_all(SSL *ssl, void *p, size_t n)
{
        while (n) {
                int r = SSL_read(ssl, p, (int)n);
                if (r <= 0) {
                        int e = SSL_get_error(ssl, r);
                        ERR_clear_error();
                        if (e == SSL_ERROR_ZERO_RETURN)
                                return -ECONNRESET;
                        return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -EIO;
                }
                p = (char *)p + r;
                n -= (size_t)r;
        }
        return 0;
}
