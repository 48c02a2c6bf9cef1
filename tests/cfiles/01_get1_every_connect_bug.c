// A client that reuses its last session: it asks for a new reference at every connect
// and never drops it (curl 2010: `SSL_get1_session` each connect, the extra ref kept).
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
    sess = SSL_get1_session(conn->handle);
    if (sess != NULL && SSL_session_reused(conn->handle)) {
        TLS_DEBUG(conn, "session reused");
    }
    return 0;                                   //~ leak
}
