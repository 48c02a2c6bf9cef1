//~ safe
// The fix of 15_get_cb_copy0_bug.c: `*copy = 1` lets the library take its own reference.
#include <openssl/ssl.h>

typedef struct {
    SSL_SESSION *sess;
    unsigned int id_len;
} tls_cache_ent_t;

static tls_cache_ent_t cache_ent;

static int tls_sess_cache_add(SSL *ssl, SSL_SESSION *sess)
{
    if (cache_ent.sess != NULL)
        SSL_SESSION_free(cache_ent.sess);
    cache_ent.sess = sess;
    return 1;
}

static SSL_SESSION *tls_sess_cache_get(SSL *ssl, const unsigned char *id, int id_len, int *do_copy)
{
    *do_copy = 1;
    return cache_ent.sess;
}

void tls_sess_cache_init(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, tls_sess_cache_add);
    SSL_CTX_sess_set_get_cb(ctx, tls_sess_cache_get);
}
