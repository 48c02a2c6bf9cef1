// A Python-style wrapper object copies the session it is given, then overwrites the copy
// with the connection's own session (CPython `_ssl` 2024): the copy's reference is lost.
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
    session = SSL_SESSION_dup(value);           //~ leak
    if (session == NULL)
        return -1;
    if (!SSL_set_session(self->ssl, session)) {
        SSL_SESSION_free(session);
        return -1;
    }
    session = SSL_get1_session(self->ssl);
    SSL_SESSION_free(self->session);
    self->session = session;
    return 0;
}
