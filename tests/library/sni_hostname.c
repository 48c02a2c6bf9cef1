/* The client's server name (SSL_set_tlsext_host_name) and the sessions' hostnames
 * (SSL_SESSION_get0_hostname): which session gets one, on the client and on the server,
 * with and without a servername callback and its result, in full handshakes and
 * resumptions (TLS 1.2 by id and by ticket, TLS 1.3 by ticket); what SSL_dup, SSL_clear
 * and a NULL name do to the SSL's name. */
#include "harness.h"

static int sni_ret; /* what the server's servername callback returns */

static int sni_cb(SSL *s, int *al, void *arg)
{
    (void)s; (void)al; (void)arg;
    return sni_ret;
}

static const char *yes(const SSL_SESSION *s)
{
    return s == NULL ? "nosession" : SSL_SESSION_get0_hostname(s) ? "host" : "none";
}

/* One connection; records whether the client's and the server's sessions carry a hostname. */
static int run(SSL_CTX *cctx, SSL_CTX *sctx, int version, const char *name, SSL_SESSION *offer,
               SSL_SESSION **got, const char *label)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    char fact[128];
    h_pin(c, version);
    h_pair(c, s);
    if (name != NULL)
        SSL_set_tlsext_host_name(c, name);
    if (offer != NULL)
        SSL_set_session(c, offer);
    int ok = h_handshake(c, s);
    if (ok)
        h_client_reads(c);
    snprintf(fact, sizeof fact, "%s_ok", label);
    FACT(fact, "%d", ok);
    if (ok) {
        snprintf(fact, sizeof fact, "%s_reused", label);
        FACT(fact, "%d", SSL_session_reused(c));
        snprintf(fact, sizeof fact, "%s_client", label);
        FACT(fact, "%s", yes(SSL_get_session(c)));
        snprintf(fact, sizeof fact, "%s_server", label);
        FACT(fact, "%s", yes(SSL_get_session(s)));
    }
    if (got != NULL)
        *got = ok ? SSL_get1_session(c) : NULL;
    h_free_clean(c);
    h_free_clean(s);
    return ok;
}

int main(void)
{
    static const int rets[] = {-1, SSL_TLSEXT_ERR_OK, SSL_TLSEXT_ERR_NOACK};
    static const char *const retname[] = {"nocb", "ok", "noack"};
    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++)
        for (int tickets = 0; tickets < 2; tickets++) {
            if (v == TLS1_3_VERSION && !tickets)
                continue;
            for (int r = 0; r < 3; r++) {
                SSL_CTX *sctx = h_server_ctx(), *cctx = h_client_ctx();
                if (!tickets)
                    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
                if (rets[r] >= 0)
                    SSL_CTX_set_tlsext_servername_callback(sctx, sni_cb);
                sni_ret = rets[r];
                char label[96];
                SSL_SESSION *got = NULL, *again = NULL;
                const char *ver = v == TLS1_2_VERSION ? (tickets ? "tls12_ticket" : "tls12_id") : "tls13";
                snprintf(label, sizeof label, "%s_%s_noname", ver, retname[r]);
                run(cctx, sctx, v, NULL, NULL, NULL, label);
                snprintf(label, sizeof label, "%s_%s_name", ver, retname[r]);
                run(cctx, sctx, v, "a.example", NULL, &got, label);
                snprintf(label, sizeof label, "%s_%s_resume_same", ver, retname[r]);
                run(cctx, sctx, v, "a.example", got, &again, label);
                SSL_SESSION_free(again);
                again = NULL;
                snprintf(label, sizeof label, "%s_%s_resume_other", ver, retname[r]);
                run(cctx, sctx, v, "b.example", got, &again, label);
                SSL_SESSION_free(again);
                again = NULL;
                snprintf(label, sizeof label, "%s_%s_resume_noname", ver, retname[r]);
                run(cctx, sctx, v, NULL, got, &again, label);
                SSL_SESSION_free(again);
                SSL_SESSION_free(got);
                SSL_CTX_free(sctx);
                SSL_CTX_free(cctx);
            }
        }

    /* The SSL's own name: SSL_get_servername on a client gives it back. */
    SSL_CTX *cctx = h_client_ctx();
    SSL *c = SSL_new(cctx);
    SSL_set_tlsext_host_name(c, "a.example");
    SSL *d = SSL_dup(c);
    FACT("dup_keeps_name", "%d", SSL_get_servername(d, TLSEXT_NAMETYPE_host_name) != NULL);
    SSL_free(d);
    SSL_clear(c);
    FACT("clear_keeps_name", "%d", SSL_get_servername(c, TLSEXT_NAMETYPE_host_name) != NULL);
    FACT("null_name_result", "%ld", SSL_set_tlsext_host_name(c, NULL));
    FACT("null_name_clears", "%d", SSL_get_servername(c, TLSEXT_NAMETYPE_host_name) == NULL);
    SSL_set_tlsext_host_name(c, "a.example");
    FACT("empty_name_result", "%ld", SSL_set_tlsext_host_name(c, ""));
    FACT("empty_name_clears", "%d", SSL_get_servername(c, TLSEXT_NAMETYPE_host_name) == NULL);
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    SSL_set_tlsext_host_name(c, "a.example");
    FACT("long_name_result", "%ld", SSL_set_tlsext_host_name(c, long_name));
    FACT("long_name_clears", "%d", SSL_get_servername(c, TLSEXT_NAMETYPE_host_name) == NULL);
    long_name[255] = 0;
    FACT("name_of_255_bytes_result", "%ld", SSL_set_tlsext_host_name(c, long_name));
    ERR_clear_error();
    SSL_free(c);
    SSL_CTX_free(cctx);
    h_finish();
    return 0;
}
