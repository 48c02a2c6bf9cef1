/* Shared helpers for the library experiments in this directory (each program prints
 * `fact = value` lines; tests/test_library_facts.py holds the values we observed on
 * the installed OpenSSL 3.0).  An in-memory TLS pair: a key and a self-signed
 * certificate made at run time, two SSLs joined by a BIO pair, driven step by step. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FACT(name, fmt, ...) printf("%s = " fmt "\n", name, __VA_ARGS__)

static EVP_PKEY *h_key(void)
{
    static EVP_PKEY *key;
    if (key == NULL)
        key = EVP_EC_gen("P-256");
    return key;
}

static X509 *h_cert(void)
{
    static X509 *cert;
    if (cert != NULL)
        return cert;
    cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 30);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"harness.test", -1, -1, 0);
    X509_set_subject_name(cert, name);
    X509_set_issuer_name(cert, name);
    X509_NAME_free(name);
    X509_set_pubkey(cert, h_key());
    X509_sign(cert, h_key(), EVP_sha256());
    return cert;
}

static SSL_CTX *h_server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, h_cert());
    SSL_CTX_use_PrivateKey(ctx, h_key());
    return ctx;
}

static SSL_CTX *h_client_ctx(void)
{
    return SSL_CTX_new(TLS_client_method());
}

static void h_pin(SSL *ssl, int version)
{
    if (version) {
        SSL_set_min_proto_version(ssl, version);
        SSL_set_max_proto_version(ssl, version);
    }
}

static void h_pair(SSL *client, SSL *server)
{
    BIO *a = NULL, *b = NULL;
    BIO_new_bio_pair(&a, 0, &b, 0);
    SSL_set_bio(client, a, a);
    SSL_set_bio(server, b, b);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
}

/* Both ends until done (1) or one fails (0). */
static int h_handshake(SSL *client, SSL *server)
{
    int cdone = 0, sdone = 0;
    for (int round = 0; round < 64 && !(cdone && sdone); round++) {
        SSL *ends[2] = {client, server};
        int *done[2] = {&cdone, &sdone};
        for (int i = 0; i < 2; i++) {
            if (*done[i])
                continue;
            int r = SSL_do_handshake(ends[i]);
            if (r == 1) {
                *done[i] = 1;
                continue;
            }
            int e = SSL_get_error(ends[i], r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                return 0;
        }
    }
    return cdone && sdone;
}

/* The client reads what the server sent after the handshake (TLS 1.3 tickets). */
static void h_client_reads(SSL *client)
{
    unsigned char byte;
    SSL_read(client, &byte, 1);
}

/* Frees as after a clean close, so that the sessions stay resumable. */
static void h_free_clean(SSL *ssl)
{
    if (ssl != NULL)
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl);
}

/* A connection from a fresh client SSL (offering `offer`, may be NULL) to a server SSL
 * made from `sctx`; returns whether the handshake completed, sets *reused. The client's
 * session after the handshake (and its tickets) is returned in *got (one reference). */
static __attribute__((unused)) int h_connect(SSL_CTX *cctx, SSL_CTX *sctx, int version, SSL_SESSION *offer, int *reused, SSL_SESSION **got,
                     void (*configure_server)(SSL *))
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    h_pin(c, version);
    if (configure_server != NULL)
        configure_server(s);
    h_pair(c, s);
    if (offer != NULL)
        SSL_set_session(c, offer);
    int ok = h_handshake(c, s);
    if (ok)
        h_client_reads(c);
    if (reused != NULL)
        *reused = ok ? SSL_session_reused(c) : -1;
    if (got != NULL)
        *got = ok ? SSL_get1_session(c) : NULL;
    if (ok) {
        h_free_clean(c);
        h_free_clean(s);
    } else {
        SSL_free(c);
        SSL_free(s);
    }
    return ok;
}

/* Session destructions, counted through an ex_data free callback. */
static int h_index = -1;
static int h_sessions_freed;
static int h_sessions_made;

static void h_session_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    h_sessions_freed++;
}

static void h_session_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    h_sessions_made++;
}

static __attribute__((unused)) void h_count_sessions(void)
{
    if (h_index < 0)
        h_index = SSL_SESSION_get_ex_new_index(0, NULL, h_session_new, NULL, h_session_free);
}

static void h_finish(void)
{
    X509_free(h_cert());
    EVP_PKEY_free(h_key());
}
