/* The servername callback (SSL_CTX_set_tlsext_servername_callback, extensions.c
 * final_server_name): when it runs relative to the session lookup and new_session_cb,
 * that it runs with no name sent, a fatal return, and what turning SSL_OP_NO_TICKET on or
 * off inside it does to tickets, session ids and caching. */
#include "harness.h"

static char order[64];
static int n, mode, news;
static SSL_SESSION *stored;

static int sni_cb(SSL *s, int *al, void *arg)
{
    (void)al;
    order[n++] = 'S';
    order[n++] = SSL_get_session(s) ? 'n' : '0';
    if (mode == 1)
        SSL_set_options(s, SSL_OP_NO_TICKET);
    if (mode == 2)
        SSL_clear_options(s, SSL_OP_NO_TICKET);
    return (int)(long)arg;
}

static SSL_SESSION *get_cb(SSL *s, const unsigned char *id, int len, int *copy)
{
    (void)s; (void)id; (void)len; (void)copy;
    order[n++] = 'G';
    return NULL;
}

static int new_cb(SSL *s, SSL_SESSION *x)
{
    (void)s; (void)x;
    order[n++] = 'N';
    news++;
    return 0;
}

int main(void)
{
    SSL_CTX *sctx = h_server_ctx(), *cctx = h_client_ctx();
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP);
    SSL_CTX_sess_set_get_cb(sctx, get_cb);
    SSL_CTX_sess_set_new_cb(sctx, new_cb);
    SSL_CTX_set_tlsext_servername_callback(sctx, sni_cb);
    SSL_SESSION *got = NULL;
    int reused;
    h_connect(cctx, sctx, TLS1_2_VERSION, NULL, &reused, &got, NULL); /* the client sends no name */
    order[n++] = '|';
    h_connect(cctx, sctx, TLS1_2_VERSION, got, &reused, NULL, NULL);
    FACT("order_get_sni_new", "%s", order);
    SSL_SESSION_free(got);
    SSL_CTX_set_tlsext_servername_arg(sctx, (void *)2L); /* SSL_TLSEXT_ERR_ALERT_FATAL */
    FACT("fatal_return_ok", "%d", h_connect(cctx, sctx, TLS1_2_VERSION, NULL, &reused, NULL, NULL));
    ERR_clear_error();
    SSL_CTX_free(sctx);

    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++)
        for (mode = 0; mode < 3; mode++) {
            char name[80];
            const char *vs = v == TLS1_2_VERSION ? "tls12" : "tls13";
            const char *ms = mode == 0 ? "unchanged" : mode == 1 ? "no_ticket_set" : "no_ticket_cleared";
            sctx = h_server_ctx();
            if (mode == 2)
                SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
            SSL_CTX_sess_set_new_cb(sctx, new_cb);
            SSL_CTX_set_tlsext_servername_callback(sctx, sni_cb);
            news = n = 0;
            got = NULL;
            h_connect(cctx, sctx, v, NULL, &reused, &got, NULL);
            unsigned int len = 0;
            SSL_SESSION_get_id(got, &len);
#define F(what, value) do { snprintf(name, sizeof name, "%s_%s_%s", vs, ms, what); FACT(name, "%ld", (long)(value)); } while (0)
            F("server_new_cb", news);
            F("cached", SSL_CTX_sess_number(sctx));
            F("client_has_ticket", SSL_SESSION_has_ticket(got));
            F("client_id_length", len);
            h_connect(cctx, sctx, v, got, &reused, NULL, NULL);
            F("second_reused", reused);
            SSL_SESSION_free(got);
            SSL_CTX_free(sctx);
        }
    SSL_CTX_free(cctx);
    h_finish();
    return 0;
}
