// A server's external-cache lookup that drops an expired entry and then returns it
// anyway (FreeRADIUS 2017): the library gets a session that was just destroyed.
#include <openssl/ssl.h>

static SSL_SESSION *cached_session;
extern int cache_entry_expired(const SSL_SESSION *s);

static SSL_SESSION *cache_get(SSL *ssl, const unsigned char *key, int keylen, int *copy)   //~ use-after-free
{
    SSL_SESSION *s = cached_session;

    if (s != NULL && cache_entry_expired(s)) {
        SSL_SESSION_free(s);                    //~ dangling-reference
        cached_session = NULL;
    }
    *copy = 1;
    return s;
}

static int cache_add(SSL *ssl, SSL_SESSION *s)
{
    SSL_SESSION_free(cached_session);
    cached_session = s;
    return 1;
}

void cache_init(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, cache_add);
    SSL_CTX_sess_set_get_cb(ctx, cache_get);
}
