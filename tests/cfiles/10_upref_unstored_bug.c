// A client loading a session from disk takes an extra reference "for the cache" but
// never stores the pointer anywhere (libwebsockets 2021).
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
    SSL_SESSION_up_ref(s);
    n = SSL_set_session(ssl, s);
    SSL_SESSION_free(s);
    return n ? 0 : -1;                          //~ leak
}
