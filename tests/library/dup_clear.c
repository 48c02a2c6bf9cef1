/* SSL_dup, SSL_copy_session_id and SSL_clear (ssl_lib.c). */
#include "harness.h"

static SSL_SESSION *id_session(const char *id)
{
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set1_id(s, (const unsigned char *)id, (unsigned int)strlen(id));
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    return s;
}

int main(void)
{
    h_count_sessions();
    SSL_CTX *cctx = h_client_ctx(), *sctx = h_server_ctx(), *other = h_client_ctx();
    SSL_CTX_set_session_id_context(cctx, (const unsigned char *)"ctx", 3);

    /* SSL_dup of a fresh SSL: a new SSL sharing the session; settings copied. */
    SSL *s = SSL_new(cctx);
    SSL_SESSION *sess = id_session("dup");
    SSL_set_session(s, sess);
    SSL_set_options(s, SSL_OP_NO_TICKET);
    SSL_set_max_proto_version(s, TLS1_2_VERSION);
    SSL_set_verify(s, SSL_VERIFY_PEER, NULL);
    SSL_set_session_id_context(s, (const unsigned char *)"mine", 4);
    SSL_set_SSL_CTX(s, other);
    SSL *d = SSL_dup(s);
    FACT("dup_fresh_is_new_object", "%d", d != s);
    FACT("dup_fresh_shares_session", "%d", SSL_get_session(d) == sess);
    FACT("dup_fresh_options_no_ticket", "%d", (SSL_get_options(d) & SSL_OP_NO_TICKET) != 0);
    FACT("dup_fresh_max_proto", "%x", (unsigned)SSL_get_max_proto_version(d));
    FACT("dup_fresh_verify_mode", "%d", SSL_get_verify_mode(d));
    FACT("dup_fresh_ctx_is_current", "%d", SSL_get_SSL_CTX(d) == other);
    /* The dup's context id, seen through SSL_copy_session_id into a third SSL. */
    SSL *probe = SSL_new(sctx);
    SSL_copy_session_id(probe, d);
    FACT("copy_session_id_shares", "%d", SSL_get_session(probe) == sess);
    SSL_SESSION_free(sess);
    h_sessions_freed = 0;
    SSL_free(s);
    SSL_free(d);
    FACT("session_alive_while_probe_holds", "%d", h_sessions_freed == 0);
    SSL_free(probe);
    FACT("session_freed_at_last_slot", "%d", h_sessions_freed);

    /* SSL_copy_session_id from an SSL without a session empties the target's slot. */
    SSL *t = SSL_new(cctx), *empty = SSL_new(cctx);
    sess = id_session("t");
    SSL_set_session(t, sess);
    SSL_SESSION_free(sess);
    h_sessions_freed = 0;
    FACT("copy_from_empty_returns", "%d", SSL_copy_session_id(t, empty));
    FACT("copy_from_empty_slot", "%d", SSL_get_session(t) == NULL);
    FACT("copy_from_empty_freed_old", "%d", h_sessions_freed);
    SSL_free(t);
    SSL_free(empty);

    /* SSL_dup after states: set_connect_state (still before), handshake done, failed, cleared. */
    SSL *c = SSL_new(cctx);
    SSL_set_connect_state(c);
    d = SSL_dup(c);
    FACT("dup_after_connect_state_is_new", "%d", d != c);
    FACT("dup_after_connect_state_is_server", "%d", SSL_is_server(d));
    SSL_free(d);
    SSL *srv = SSL_new(sctx);
    h_pin(c, TLS1_2_VERSION);
    h_pair(c, srv);
    int ok = h_handshake(c, srv);
    FACT("handshake_ok", "%d", ok);
    d = SSL_dup(c);
    FACT("dup_after_handshake_is_same", "%d", d == c);
    SSL_free(d); /* the extra reference */
    SSL_SESSION *before = SSL_get_session(c);
    SSL_shutdown(c);
    SSL_clear(c);
    FACT("clear_after_shutdown_keeps_session", "%d", SSL_get_session(c) == before);
    FACT("clear_keeps_side_client", "%d", SSL_is_server(c) == 0);
    d = SSL_dup(c);
    FACT("dup_after_clear_is_new", "%d", d != c);
    FACT("dup_after_clear_shares_session", "%d", SSL_get_session(d) == before);
    SSL_free(d);
    h_free_clean(c);
    h_free_clean(srv);

    /* A handshake that failed (the peer is not TLS): not quiescent any more. */
    c = SSL_new(cctx);
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    BIO_write(in, "HTTP/1.1 400 Bad\r\n\r\n", 20);
    SSL_set_bio(c, in, out);
    FACT("failed_connect", "%d", SSL_connect(c));
    d = SSL_dup(c);
    FACT("dup_after_failed_is_same", "%d", d == c);
    SSL_free(d);
    SSL_free(c);
    ERR_clear_error();

    /* SSL_dup of a server SSL before its handshake: a server. */
    srv = SSL_new(sctx);
    d = SSL_dup(srv);
    FACT("dup_server_before_is_new", "%d", d != srv);
    FACT("dup_server_is_server", "%d", SSL_is_server(d));
    SSL_free(d);
    SSL_free(srv);

    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    SSL_CTX_free(other);
    h_finish();
    return 0;
}
