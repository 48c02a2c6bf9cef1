/* The TLS 1.2 method tables (TLSv1_2_method, TLSv1_2_client_method, TLSv1_2_server_method):
 * the version a handshake gets with them, and what version bounds set on such a context or
 * its SSL do (ssl_set_version_bound ignores them on a one-version method). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "harness.h"

static void run(const char *label, const SSL_METHOD *client, const SSL_METHOD *server)
{
    SSL_CTX *cctx = SSL_CTX_new(client), *sctx = SSL_CTX_new(server);
    char fact[96];
    SSL_CTX_use_certificate(sctx, h_cert());
    SSL_CTX_use_PrivateKey(sctx, h_key());
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    h_pair(c, s);
    snprintf(fact, sizeof fact, "%s_ok", label);
    FACT(fact, "%d", h_handshake(c, s));
    snprintf(fact, sizeof fact, "%s_version", label);
    FACT(fact, "%#x", SSL_version(c));
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

int main(void)
{
    run("client12_server_any", TLSv1_2_client_method(), TLS_server_method());
    run("client_any_server12", TLS_client_method(), TLSv1_2_server_method());
    run("generic12_both", TLSv1_2_method(), TLSv1_2_method());

    SSL_CTX *ctx = SSL_CTX_new(TLSv1_2_client_method());
    FACT("ctx_max_before", "%ld", SSL_CTX_get_max_proto_version(ctx));
    FACT("ctx_set_max13_result", "%ld", SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION));
    FACT("ctx_max_after", "%ld", SSL_CTX_get_max_proto_version(ctx));
    FACT("ctx_set_min13_result", "%ld", SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION));
    FACT("ctx_min_after", "%ld", SSL_CTX_get_min_proto_version(ctx));
    FACT("ctx_set_bad_result", "%ld", SSL_CTX_set_min_proto_version(ctx, 0x1234));
    SSL *ssl = SSL_new(ctx);
    FACT("ssl_set_min13_result", "%ld", SSL_set_min_proto_version(ssl, TLS1_3_VERSION));
    FACT("ssl_min_after", "%ld", SSL_get_min_proto_version(ssl));
    SSL_CTX *server = h_server_ctx();
    SSL *peer = SSL_new(server);
    h_pair(ssl, peer);
    FACT("bounds_ignored_ok", "%d", h_handshake(ssl, peer));
    FACT("bounds_ignored_version", "%#x", SSL_version(ssl));
    SSL_free(ssl);
    SSL_free(peer);
    SSL_CTX_free(ctx);
    SSL_CTX_free(server);
    h_finish();
    return 0;
}
