/* TLS 1.3 PSK session callbacks (extensions_clnt.c tls_construct_ctos_early_data,
 * extensions_srvr.c tls_parse_ctos_psk) and SSL_new_session_ticket. */
#include "harness.h"

static const unsigned char psk_key[32] = "external psk key, thirty-two by";
/* TLS_AES_256_GCM_SHA384: the hash of the cipher both ends pick by default (a PSK whose
 * cipher has another hash is ignored: tls_parse_ctos_psk). */
static unsigned char psk_cipher[] = {0x13, 0x02};
static SSL_SESSION *stored_client, *stored_server;
static SSL_SESSION *returned_client;
static int last_reused;
static int use_calls, find_calls, new_calls;
static int use_mode, find_mode;

static SSL_SESSION *psk_session(SSL *ssl, int version)
{
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set1_master_key(s, psk_key, sizeof psk_key);
    SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, psk_cipher));
    SSL_SESSION_set_protocol_version(s, version);
    return s;
}

/* mode 0: a fresh session; 1: the stored one, no up-ref; 2: the stored one, up-ref;
 * 3: a fresh session but return 0; 4: a TLS 1.2 session; 5: none */
static int use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen, SSL_SESSION **sess)
{
    (void)md;
    use_calls++;
    *id = (const unsigned char *)"psk-identity";
    *idlen = 12;
    switch (use_mode) {
    case 0: *sess = psk_session(ssl, TLS1_3_VERSION); break;
    case 1: *sess = stored_client; break;
    case 2: SSL_SESSION_up_ref(stored_client); *sess = stored_client; break;
    case 3: *sess = psk_session(ssl, TLS1_3_VERSION); returned_client = *sess; return 0;
    case 4: *sess = psk_session(ssl, TLS1_2_VERSION); break;
    default: *sess = NULL; break;
    }
    returned_client = *sess;
    return 1;
}

/* mode 0: a fresh session; 1: stored, no up-ref; 2: stored, up-ref; 3: fresh, return 0 */
static int find_cb(SSL *ssl, const unsigned char *identity, size_t len, SSL_SESSION **sess)
{
    (void)identity; (void)len;
    find_calls++;
    switch (find_mode) {
    case 0: *sess = psk_session(ssl, TLS1_3_VERSION); break;
    case 1: *sess = stored_server; break;
    case 2: SSL_SESSION_up_ref(stored_server); *sess = stored_server; break;
    default: *sess = psk_session(ssl, TLS1_3_VERSION); return 0;
    }
    return 1;
}

static int count_new(SSL *ssl, SSL_SESSION *s) { (void)ssl; (void)s; new_calls++; return 0; }

static int run(SSL_CTX *cctx, SSL_CTX *sctx, int max_version, int *client_has_psk_slot, int *server_slot_is_returned)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    if (max_version)
        SSL_set_max_proto_version(c, max_version);
    h_pair(c, s);
    int ok = h_handshake(c, s);
    if (client_has_psk_slot)
        *client_has_psk_slot = ok && SSL_get_session(c) == returned_client;
    if (server_slot_is_returned)
        *server_slot_is_returned = ok && SSL_get_session(s) == stored_server;
    last_reused = ok ? SSL_session_reused(c) : -1;
    if (ok)
        h_client_reads(c);
    if (ok) {
        h_free_clean(c);
        h_free_clean(s);
    } else {
        SSL_free(c);
        SSL_free(s);
    }
    ERR_clear_error();
    return ok;
}

int main(void)
{
    h_count_sessions();
    SSL_CTX *cctx = h_client_ctx(), *sctx = h_server_ctx();
    SSL_CTX_set_psk_use_session_callback(cctx, use_cb);
    SSL_CTX_set_psk_find_session_callback(sctx, find_cb);
    SSL *tmp = SSL_new(cctx);
    stored_client = psk_session(tmp, TLS1_3_VERSION);
    stored_server = psk_session(tmp, TLS1_3_VERSION);
    int slot = 0, sslot = 0, ok;

    use_mode = 0; find_mode = 2;
    h_sessions_freed = 0;
    ok = run(cctx, sctx, 0, &slot, &sslot);
    FACT("fresh_psk_ok", "%d", ok);
    FACT("fresh_psk_client_slot_is_returned_session", "%d", slot);
    FACT("fresh_psk_client_reused", "%d", last_reused);
    FACT("server_slot_is_a_copy", "%d", !sslot);
    FACT("use_calls", "%d", use_calls);
    FACT("find_calls", "%d", find_calls);

    use_calls = 0;
    ok = run(cctx, sctx, TLS1_2_VERSION, NULL, NULL);
    FACT("max_tls12_use_calls", "%d", use_calls);
    FACT("max_tls12_ok", "%d", ok);

    /* The stored session returned without an up-ref: the library's free destroys it. */
    int before = h_sessions_freed;
    SSL_SESSION *keep = stored_client;
    SSL_SESSION_up_ref(keep); /* only to watch it: the count says whether the library freed one */
    use_mode = 1;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("stored_no_upref_ok", "%d", ok);
    /* with our extra reference the object survives; the library dropped one reference */
    SSL_SESSION_free(keep);
    FACT("stored_no_upref_destroyed_by_library", "%d", h_sessions_freed > before);
    stored_client = psk_session(tmp, TLS1_3_VERSION);

    /* up-ref first: the stored one survives */
    use_mode = 2;
    before = h_sessions_freed;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("stored_upref_ok", "%d", ok);
    FACT("stored_upref_resumable", "%d", SSL_SESSION_get_master_key(stored_client, NULL, 0) == 32);

    /* return 0 with *sess set: the library frees what was returned and fails */
    use_mode = 3;
    int alive_before = h_sessions_made - h_sessions_freed;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("use_returns_0_ok", "%d", ok);
    FACT("use_returns_0_leaks", "%d", (h_sessions_made - h_sessions_freed) - alive_before);

    /* a TLS 1.2 session */
    use_mode = 4;
    alive_before = h_sessions_made - h_sessions_freed;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("use_tls12_session_ok", "%d", ok);
    FACT("use_tls12_session_leaks", "%d", (h_sessions_made - h_sessions_freed) - alive_before);

    /* server: the stored session without an up-ref */
    use_mode = 0; find_mode = 1;
    SSL_SESSION *skeep = stored_server;
    SSL_SESSION_up_ref(skeep);
    before = h_sessions_freed;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("find_stored_no_upref_ok", "%d", ok);
    SSL_SESSION_free(skeep);
    FACT("find_stored_no_upref_destroyed_by_library", "%d", h_sessions_freed > before);
    stored_server = psk_session(tmp, TLS1_3_VERSION);

    /* server: a fresh session each time */
    find_mode = 0;
    alive_before = h_sessions_made - h_sessions_freed;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("find_fresh_ok", "%d", ok);
    FACT("find_fresh_leaks", "%d", (h_sessions_made - h_sessions_freed) - alive_before);

    /* server: returns 0 with *sess set */
    find_mode = 3;
    alive_before = h_sessions_made - h_sessions_freed;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("find_returns_0_ok", "%d", ok);
    FACT("find_returns_0_leaks", "%d", (h_sessions_made - h_sessions_freed) - alive_before);

    /* tickets after a PSK handshake */
    find_mode = 2;
    SSL_CTX_sess_set_new_cb(sctx, count_new);
    new_calls = 0;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("psk_handshake_server_new_cb", "%d", new_calls);
    /* a PSK whose cipher has another hash than the negotiated one: ignored */
    psk_cipher[1] = 0x01;
    use_mode = 0; find_mode = 0;
    new_calls = 0;
    ok = run(cctx, sctx, 0, NULL, NULL);
    FACT("sha256_psk_ok", "%d", ok);
    FACT("sha256_psk_reused", "%d", last_reused);
    FACT("sha256_psk_server_new_cb", "%d", new_calls);
    psk_cipher[1] = 0x02;
    SSL_CTX_sess_set_new_cb(sctx, NULL);
    SSL_CTX_set_psk_use_session_callback(cctx, NULL);
    SSL_CTX_set_psk_find_session_callback(sctx, NULL);

    /* SSL_new_session_ticket */
    SSL_CTX_sess_set_new_cb(sctx, count_new);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    FACT("nst_before_handshake", "%d", SSL_new_session_ticket(s));
    h_pair(c, s);
    h_handshake(c, s);
    h_client_reads(c);
    FACT("nst_client", "%d", SSL_new_session_ticket(c));
    new_calls = 0;
    SSL_SESSION *old = SSL_get_session(s);
    SSL_SESSION_up_ref(old);
    before = h_sessions_freed;
    FACT("nst_server", "%d", SSL_new_session_ticket(s));
    FACT("nst_server_again", "%d", SSL_new_session_ticket(s));
    FACT("nst_new_cb_before_io", "%d", new_calls);
    FACT("nst_write", "%d", SSL_write(s, "x", 1));
    FACT("nst_new_cb_after_write", "%d", new_calls);
    FACT("nst_slot_replaced", "%d", SSL_get_session(s) != old);
    SSL_SESSION_free(old);
    FACT("nst_old_slot_destroyed", "%d", h_sessions_freed > before);
    new_calls = 0;
    SSL_new_session_ticket(s);
    FACT("nst_do_handshake", "%d", SSL_do_handshake(s));
    FACT("nst_new_cb_after_do_handshake", "%d", new_calls);
    new_calls = 0;
    SSL_new_session_ticket(s);
    unsigned char buf[4];
    FACT("nst_read", "%d", SSL_read(s, buf, sizeof buf));
    FACT("nst_new_cb_after_read", "%d", new_calls);
    h_free_clean(c);
    h_free_clean(s);
    ERR_clear_error();

    /* TLS 1.2 server */
    c = SSL_new(cctx); s = SSL_new(sctx);
    h_pin(c, TLS1_2_VERSION);
    h_pair(c, s);
    h_handshake(c, s);
    FACT("nst_tls12", "%d", SSL_new_session_ticket(s));
    h_free_clean(c);
    h_free_clean(s);

    /* num_tickets 0: the first ticket of the connection goes with the slot session itself */
    SSL_CTX_set_num_tickets(sctx, 0);
    c = SSL_new(cctx); s = SSL_new(sctx);
    h_pair(c, s);
    h_handshake(c, s);
    old = SSL_get_session(s);
    SSL_new_session_ticket(s);
    SSL_write(s, "x", 1);
    FACT("nst_first_ticket_keeps_slot", "%d", SSL_get_session(s) == old);
    h_free_clean(c);
    h_free_clean(s);

    SSL_SESSION_free(stored_client);
    SSL_SESSION_free(stored_server);
    SSL_free(tmp);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    h_finish();
    return 0;
}
