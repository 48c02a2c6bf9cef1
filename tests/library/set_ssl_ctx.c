/* SSL_set_SSL_CTX (ssl_lib.c): which context's cache, callbacks, options and ticket keys a
 * connection uses after it switched, and what happens to the contexts' references. */
#include "harness.h"

static int new_a, new_b, remove_b, keys_a, keys_b, sni_calls;
static SSL_CTX *sni_target;

static int new_cb_a(SSL *ssl, SSL_SESSION *s) { (void)ssl; (void)s; new_a++; return 0; }
static int new_cb_b(SSL *ssl, SSL_SESSION *s) { (void)ssl; (void)s; new_b++; return 0; }
static void remove_cb_b(SSL_CTX *ctx, SSL_SESSION *s) { (void)ctx; (void)s; remove_b++; }

static int keys(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int enc, int *counter)
{
    static unsigned char key[32] = "experiment ticket key, 32 bytes";
    static unsigned char mac_key[32] = "experiment ticket mac, 32 bytes";
    OSSL_PARAM params[3];
    (void)ssl;
    (*counter)++;
    params[0] = OSSL_PARAM_construct_octet_string("key", mac_key, sizeof mac_key);
    params[1] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (enc) {
        memset(name, 'k', 16);
        memset(iv, 3, 16);
        EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key, iv);
        EVP_MAC_CTX_set_params(mac, params);
        return 1;
    }
    EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key, iv);
    EVP_MAC_CTX_set_params(mac, params);
    return 1;
}
static int keys_cb_a(SSL *ssl, unsigned char *n, unsigned char *iv, EVP_CIPHER_CTX *c, EVP_MAC_CTX *m, int enc) { return keys(ssl, n, iv, c, m, enc, &keys_a); }
static int keys_cb_b(SSL *ssl, unsigned char *n, unsigned char *iv, EVP_CIPHER_CTX *c, EVP_MAC_CTX *m, int enc) { return keys(ssl, n, iv, c, m, enc, &keys_b); }

static int servername(SSL *ssl, int *alert, void *arg)
{
    (void)alert; (void)arg;
    sni_calls++;
    SSL_set_SSL_CTX(ssl, sni_target);
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *ctx_with(int (*new_cb)(SSL *, SSL_SESSION *), int (*keys_cb)(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int))
{
    SSL_CTX *ctx = h_server_ctx();
    SSL_CTX_sess_set_new_cb(ctx, new_cb);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, keys_cb);
    return ctx;
}

/* One handshake of a server SSL made from `a`, switched to `b` before it runs (or by the
 * servername callback when `sni`). */
static int serve(SSL_CTX *cctx, SSL_CTX *a, SSL_CTX *b, int version, int sni, SSL_SESSION *offer, SSL_SESSION **got, int *reused)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(a);
    h_pin(c, version);
    SSL_set_tlsext_host_name(c, "switch.test");
    if (sni) {
        sni_target = b;
        SSL_CTX_set_tlsext_servername_callback(a, servername);
    } else {
        SSL_set_SSL_CTX(s, b);
    }
    h_pair(c, s);
    if (offer)
        SSL_set_session(c, offer);
    int ok = h_handshake(c, s);
    if (ok)
        h_client_reads(c);
    if (got)
        *got = SSL_get1_session(c);
    if (reused)
        *reused = SSL_session_reused(s);
    h_free_clean(c);
    h_free_clean(s);
    SSL_CTX_set_tlsext_servername_callback(a, NULL);
    return ok;
}

int main(void)
{
    SSL_CTX *cctx = h_client_ctx();
    for (int sni = 0; sni <= 1; sni++) {
        for (int version = TLS1_2_VERSION; version <= TLS1_3_VERSION; version++) {
            for (int tickets = 0; tickets <= 1; tickets++) {
                char name[96];
                const char *how = sni ? "sni" : "direct";
                const char *v = version == TLS1_2_VERSION ? "tls12" : "tls13";
                const char *t = tickets ? "tickets" : "noticket";
                SSL_CTX *a = ctx_with(new_cb_a, keys_cb_a), *b = ctx_with(new_cb_b, keys_cb_b);
                SSL_CTX_sess_set_remove_cb(b, remove_cb_b);
                if (!tickets)
                    SSL_CTX_set_options(a, SSL_OP_NO_TICKET);
                else
                    SSL_CTX_set_options(b, SSL_OP_NO_TICKET); /* only the SSL's own options count */
                new_a = new_b = keys_a = keys_b = sni_calls = 0;
                SSL_SESSION *got = NULL;
                int reused = 0;
                int ok = serve(cctx, a, b, version, sni, NULL, &got, &reused);
#define F(what, value) do { snprintf(name, sizeof name, "%s_%s_%s_%s", how, v, t, what); FACT(name, "%ld", (long)(value)); } while (0)
                F("ok", ok);
                F("cached_a", SSL_CTX_sess_number(a));
                F("cached_b", SSL_CTX_sess_number(b));
                F("new_cb_a", new_a);
                F("new_cb_b", new_b);
                F("ticket_keys_a", keys_a);
                F("ticket_keys_b", keys_b);
                ok = serve(cctx, a, b, version, sni, got, NULL, &reused);
                F("second_ok", ok);
                F("second_reused", reused);
                SSL_SESSION_free(got);
                SSL_CTX_free(a);
                SSL_CTX_free(b);
            }
        }
    }

    /* References: the SSL holds its new context; the old `ctx` reference is dropped, the
     * `session_ctx` one is kept. A context whose last reference was the switched SSL's is
     * destroyed when the SSL switches again (its cache flushed: the remove callback runs). */
    SSL_CTX *a = h_server_ctx(), *b = h_server_ctx(), *c = h_server_ctx();
    SSL *ssl = SSL_new(a);
    FACT("returns_new_ctx", "%d", SSL_set_SSL_CTX(ssl, b) == b);
    FACT("get_ssl_ctx_is_new", "%d", SSL_get_SSL_CTX(ssl) == b);
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set1_id(s, (const unsigned char *)"id", 2);
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SSL_CTX_add_session(b, s);
    SSL_SESSION_free(s);
    SSL_CTX_sess_set_remove_cb(b, remove_cb_b);
    remove_b = 0;
    SSL_CTX_free(b);
    FACT("b_alive_after_script_free_remove_calls", "%d", remove_b);
    FACT("same_ctx_returns_it", "%d", SSL_set_SSL_CTX(ssl, c) == c && SSL_set_SSL_CTX(ssl, c) == c);
    FACT("b_destroyed_at_switch_remove_calls", "%d", remove_b);
    FACT("null_switches_to_session_ctx", "%d", SSL_set_SSL_CTX(ssl, NULL) == a);
    SSL_free(ssl);
    SSL_CTX_free(a);
    SSL_CTX_free(c);
    SSL_CTX_free(cctx);
    h_finish();
    return 0;
}
