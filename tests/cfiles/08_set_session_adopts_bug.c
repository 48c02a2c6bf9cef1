// A proxy resuming upstream sessions from its own DER cache assumes `SSL_set_session`
// adopts the decoded reference (Traffic Server 2021, Bun 2026): it takes its own.
#include <openssl/ssl.h>
#include <openssl/err.h>

struct upstream {
    SSL *ssl;
    const unsigned char *cached_der;
    long cached_len;
};

#if OPENSSL_VERSION_NUMBER >= 0x10100000L
#define UP_SESSION_OK(s) SSL_SESSION_is_resumable(s)
#else
#define UP_SESSION_OK(s) ((s) != NULL)
#endif

int upstream_resume(struct upstream *up)
{
    const unsigned char *p;
    SSL_SESSION *sess;

    if (up->cached_der == NULL)
        return 0;
    p = up->cached_der;
    sess = d2i_SSL_SESSION(NULL, &p, up->cached_len);
    if (sess == NULL) {
        ERR_clear_error();
        return 0;
    }
    if (!UP_SESSION_OK(sess))
        return 0;
    return SSL_set_session(up->ssl, sess);      //~ leak
}
