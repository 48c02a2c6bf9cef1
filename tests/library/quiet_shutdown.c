/* Quiet shutdown (SSL_CTX_set_quiet_shutdown, SSL_set_quiet_shutdown): who inherits it, what
 * SSL_shutdown returns and marks with it (before and after the handshake), and whether the
 * session stays in the server's cache at SSL_free, as after a clean close. */
#include "harness.h"

int main(void)
{
    SSL_CTX *sctx = h_server_ctx(), *cctx = h_client_ctx();
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_quiet_shutdown(sctx, 1);
    FACT("ctx_get", "%d", SSL_CTX_get_quiet_shutdown(sctx));
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    FACT("ssl_inherits", "%d", SSL_get_quiet_shutdown(s));
    SSL *d = SSL_dup(s);
    FACT("dup_copies", "%d", SSL_get_quiet_shutdown(d));
    SSL_free(d);
    SSL_set_accept_state(s);
    FACT("before_handshake_result", "%d", SSL_shutdown(s));
    FACT("before_handshake_flags", "%d", SSL_get_shutdown(s));
    SSL_CTX_set_quiet_shutdown(sctx, 0);
    FACT("ssl_keeps_its_own", "%d", SSL_get_quiet_shutdown(s));
    SSL_clear(s);
    FACT("clear_keeps", "%d", SSL_get_quiet_shutdown(s));
    h_pin(c, TLS1_2_VERSION);
    h_pair(c, s);
    FACT("handshake", "%d", h_handshake(c, s));
    FACT("first_result", "%d", SSL_shutdown(s));
    FACT("first_flags", "%d", SSL_get_shutdown(s));
    FACT("second_result", "%d", SSL_shutdown(s));
    FACT("cached_before_free", "%ld", SSL_CTX_sess_number(sctx));
    SSL_free(s);
    FACT("cached_after_free", "%ld", SSL_CTX_sess_number(sctx));
    SSL_free(c);

    /* The same without quiet shutdown and without SSL_shutdown: the session is removed. */
    s = SSL_new(sctx);
    c = SSL_new(cctx);
    h_pin(c, TLS1_2_VERSION);
    h_pair(c, s);
    h_handshake(c, s);
    long before = SSL_CTX_sess_number(sctx);
    SSL_free(s);
    FACT("unclosed_free_removes", "%ld", before - SSL_CTX_sess_number(sctx));
    /* SSL_set_quiet_shutdown(0) on an SSL of a quiet context turns it off. */
    SSL_CTX_set_quiet_shutdown(sctx, 1);
    s = SSL_new(sctx);
    SSL_set_quiet_shutdown(s, 0);
    FACT("ssl_set_off", "%d", SSL_get_quiet_shutdown(s));
    SSL_set_quiet_shutdown(s, 5);
    FACT("ssl_set_five", "%d", SSL_get_quiet_shutdown(s));
    SSL_free(s);
    SSL_free(c);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    h_finish();
    return 0;
}
