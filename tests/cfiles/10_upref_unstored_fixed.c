//~ safe
// The fix of 10_upref_unstored_bug.c: no extra reference, since nothing keeps one.
#include <stdio.h>
#include <openssl/ssl.h>

typedef struct lws_vhost_tls {
    SSL_CTX *ctx;
    int use_count;
} vh_tls_t;

static int load_cached_session(SSL *ssl, const unsigned char *buf, long len)
{
    const unsigned char *p = buf;
    SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, len);
    int n;

    if (!s)
        return -1;
    n = SSL_set_session(ssl, s);
    SSL_SESSION_free(s);
    return n ? 0 : -1;
}
