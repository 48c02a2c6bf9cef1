//~ safe
// The fix of 05_remove_cb_frees_bug.c: the remove callback only forgets its own
// record of the session.
#include <openssl/ssl.h>

extern void sess_db_delete(const unsigned char *id, unsigned int len);

static void tls_remove_session(SSL_CTX *ctx, SSL_SESSION *sess)
{
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);

    sess_db_delete(id, len);
}

void tls_server_init(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_remove_cb(ctx, tls_remove_session);
}
