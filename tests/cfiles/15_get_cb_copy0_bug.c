// An FTP server's external cache hands its stored session to the library with
// `*copy = 0` without taking a reference for it (ProFTPD 2025, rust-openssl 2018,
// wolfSSL 2026): the library's reference is the store's own.
#include <openssl/ssl.h>

typedef struct {
    SSL_SESSION *sess;
    unsigned int id_len;
} tls_cache_ent_t;

static tls_cache_ent_t cache_ent;

static int tls_sess_cache_add(SSL *ssl, SSL_SESSION *sess)
{
    if (cache_ent.sess != NULL)
        SSL_SESSION_free(cache_ent.sess);       //~ double-free
    cache_ent.sess = sess;
    return 1;
}

static SSL_SESSION *tls_sess_cache_get(SSL *ssl, const unsigned char *id, int id_len, int *do_copy)   //~ use-after-free
{
    *do_copy = 0;                               //~ callback-ownership
    return cache_ent.sess;
}                                               //~ double-free

void tls_sess_cache_init(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, tls_sess_cache_add);
    SSL_CTX_sess_set_get_cb(ctx, tls_sess_cache_get);
}
