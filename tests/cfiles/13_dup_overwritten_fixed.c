//~ safe
// The fix of 13_dup_overwritten_bug.c: the copy is released once the connection holds it.
#include <openssl/ssl.h>

typedef struct {
    SSL *ssl;
    SSL_SESSION *session;
} PySSLSession;

static int session_setter(PySSLSession *self, SSL_SESSION *value)
{
    SSL_SESSION *session;

    if (value == NULL)
        return -1;
    session = SSL_SESSION_dup(value);
    if (session == NULL)
        return -1;
    if (!SSL_set_session(self->ssl, session)) {
        SSL_SESSION_free(session);
        return -1;
    }
    SSL_SESSION_free(session);
    session = SSL_get1_session(self->ssl);
    SSL_SESSION_free(self->session);
    self->session = session;
    return 0;
}
