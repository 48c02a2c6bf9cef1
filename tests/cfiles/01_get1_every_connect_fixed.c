//~ safe
// The fix of 01_get1_every_connect_bug.c: the session is only looked at, so the
// borrowing getter is enough (no reference to drop).
#include <openssl/ssl.h>

typedef struct {
    SSL *handle;
    int sock;
    const char *host;
} tls_conn_t;

#define TLS_DEBUG(c, ...) tls_log(LOG_DEBUG, (c)->host, __VA_ARGS__)

int tls_connect(tls_conn_t *conn)
{
    SSL_SESSION *sess;
    int rc;

    rc = SSL_connect(conn->handle);
    if (rc != 1) {
        TLS_DEBUG(conn, "handshake failed: %d", rc);
        return -1;
    }
    sess = SSL_get_session(conn->handle);
    if (sess != NULL && SSL_session_reused(conn->handle)) {
        TLS_DEBUG(conn, "session reused");
    }
    return 0;
}
