// A server's remove callback that frees the session it is told about (Cyrus 2023-24):
// the callback gets no reference; the cache still drops its own right after.
#include <openssl/ssl.h>

extern void sess_db_delete(const unsigned char *id, unsigned int len);

static void tls_remove_session(SSL_CTX *ctx, SSL_SESSION *sess)   //~ double-free
{
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);

    sess_db_delete(id, len);
    SSL_SESSION_free(sess);                     //~ callback-ownership, dangling-reference
}

void tls_server_init(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_remove_cb(ctx, tls_remove_session);
}
