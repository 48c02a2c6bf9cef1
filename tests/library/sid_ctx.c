/* Session id contexts and SSL_VERIFY_PEER on a server (ssl_get_prev_session,
 * ssl_update_cache, ssl_get_new_session). */
#include "harness.h"

static int new_cb_calls;
static int count_new(SSL *ssl, SSL_SESSION *s)
{
    (void)ssl; (void)s;
    new_cb_calls++;
    return 0;
}

static void ctx_b(SSL *s) { SSL_set_session_id_context(s, (const unsigned char *)"B", 1); }
static void verify_peer(SSL *s) { SSL_set_verify(s, SSL_VERIFY_PEER, NULL); }

int main(void)
{
    int reused = 0;
    SSL_SESSION *got = NULL;

    /* A: TLS 1.2 stateful cache, context "A"; a second connection whose SSL has "B". */
    SSL_CTX *sctx = h_server_ctx(), *cctx = h_client_ctx();
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    FACT("ctx_set_sid_ctx_33_bytes", "%d", SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"123456789012345678901234567890123", 33));
    FACT("ctx_set_sid_ctx_32_bytes", "%d", SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"12345678901234567890123456789012", 32));
    SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"A", 1);
    SSL_CTX_sess_set_new_cb(sctx, count_new);
    h_connect(cctx, sctx, TLS1_2_VERSION, NULL, &reused, &got, NULL);
    FACT("tls12_cached_after_full", "%ld", SSL_CTX_sess_number(sctx));
    unsigned int len = 99;
    SSL_SESSION_get0_id_context(got, &len);
    FACT("client_session_sid_ctx_len", "%u", len);
    h_connect(cctx, sctx, TLS1_2_VERSION, got, &reused, NULL, ctx_b);
    FACT("tls12_other_sid_ctx_reused", "%d", reused);
    FACT("tls12_other_sid_ctx_cached", "%ld", SSL_CTX_sess_number(sctx));
    FACT("offered_still_resumable", "%d", SSL_SESSION_is_resumable(got));
    h_connect(cctx, sctx, TLS1_2_VERSION, got, &reused, NULL, NULL);
    FACT("tls12_same_sid_ctx_reused", "%d", reused);
    SSL_SESSION_free(got);
    SSL_CTX_free(sctx);

    /* B: server SSL_VERIFY_PEER without a context id, TLS 1.2 stateful. */
    for (int tickets = 0; tickets <= 1; tickets++) {
        for (int version = TLS1_2_VERSION; version <= TLS1_3_VERSION; version++) {
            char name[96];
            sctx = h_server_ctx();
            if (!tickets)
                SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
            SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER, NULL);
            SSL_CTX_sess_set_new_cb(sctx, count_new);
            new_cb_calls = 0;
            int ok = h_connect(cctx, sctx, version, NULL, &reused, &got, NULL);
            const char *v = version == TLS1_2_VERSION ? "tls12" : "tls13";
            const char *t = tickets ? "tickets" : "noticket";
            snprintf(name, sizeof name, "verify_nosidctx_%s_%s_first_ok", v, t);
            FACT(name, "%d", ok);
            snprintf(name, sizeof name, "verify_nosidctx_%s_%s_cached", v, t);
            FACT(name, "%ld", SSL_CTX_sess_number(sctx));
            snprintf(name, sizeof name, "verify_nosidctx_%s_%s_new_cb", v, t);
            FACT(name, "%d", new_cb_calls);
            snprintf(name, sizeof name, "verify_nosidctx_%s_%s_client_resumable", v, t);
            FACT(name, "%d", got ? SSL_SESSION_is_resumable(got) : -1);
            ok = h_connect(cctx, sctx, version, got, &reused, NULL, NULL);
            snprintf(name, sizeof name, "verify_nosidctx_%s_%s_second_ok", v, t);
            FACT(name, "%d", ok);
            unsigned long err = ERR_peek_last_error();
            snprintf(name, sizeof name, "verify_nosidctx_%s_%s_second_reason", v, t);
            FACT(name, "%s", ok ? "-" : ERR_reason_error_string(err));
            ERR_clear_error();
            SSL_SESSION_free(got);
            SSL_CTX_free(sctx);
        }
    }

    /* C: VERIFY_PEER set on the SSL only, with the context id set: resumes. */
    sctx = h_server_ctx();
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"A", 1);
    h_connect(cctx, sctx, TLS1_2_VERSION, NULL, &reused, &got, verify_peer);
    FACT("verify_with_sidctx_cached", "%ld", SSL_CTX_sess_number(sctx));
    h_connect(cctx, sctx, TLS1_2_VERSION, got, &reused, NULL, verify_peer);
    FACT("verify_with_sidctx_reused", "%d", reused);
    SSL_SESSION_free(got);
    SSL_CTX_free(sctx);

    /* D: SSL_set_SSL_CTX carries the context id along when the SSL had its context's one. */
    SSL_CTX *a = h_server_ctx(), *b = h_server_ctx();
    SSL_CTX_set_session_id_context(a, (const unsigned char *)"A", 1);
    SSL_CTX_set_session_id_context(b, (const unsigned char *)"BB", 2);
    SSL *s1 = SSL_new(a), *s2 = SSL_new(a);
    SSL_set_session_id_context(s2, (const unsigned char *)"own", 3);
    SSL_set_SSL_CTX(s1, b);
    SSL_set_SSL_CTX(s2, b);
    /* The SSL's context id is what a new session gets: observe it through a handshake. */
    SSL *c = SSL_new(cctx);
    h_pin(c, TLS1_2_VERSION);
    h_pair(c, s1);
    h_handshake(c, s1);
    SSL_SESSION_get0_id_context(SSL_get_session(s1), &len);
    FACT("set_ssl_ctx_inherits_sid_ctx_len", "%u", len);
    h_free_clean(c);
    c = SSL_new(cctx);
    h_pin(c, TLS1_2_VERSION);
    h_pair(c, s2);
    h_handshake(c, s2);
    SSL_SESSION_get0_id_context(SSL_get_session(s2), &len);
    FACT("set_ssl_ctx_keeps_own_sid_ctx_len", "%u", len);
    h_free_clean(c);
    h_free_clean(s1);
    h_free_clean(s2);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(cctx);
    h_finish();
    return 0;
}
