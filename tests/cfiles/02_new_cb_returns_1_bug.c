// A client's new-session callback that serialises the session into its own store and
// returns 1 anyway (curl 2021, ngtcp2 2025, Node QUIC 2020, Cyrus 2025): 1 means "I keep
// a reference", so the library's extra reference is never dropped.
#include <string.h>
#include <openssl/ssl.h>

struct session_store;
extern int store_put(struct session_store *st, const char *key, const unsigned char *der, size_t len);
extern struct session_store *global_store;
static int conn_index = -1;

static int client_new_session(SSL *ssl, SSL_SESSION *session)
{
    unsigned char buf[4096];
    unsigned char *p = buf;
    int len = i2d_SSL_SESSION(session, NULL);

    if (len <= 0 || len > (int)sizeof(buf))
        return 0;
    len = i2d_SSL_SESSION(session, &p);
    store_put(global_store, SSL_get_ex_data(ssl, conn_index), buf, (size_t)len);
    return 1;                                  //~ callback-ownership
}

int client_ctx_setup(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, client_new_session);
    return 1;
}
