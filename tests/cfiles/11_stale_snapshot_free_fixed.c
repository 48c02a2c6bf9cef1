//~ safe
// The fix of 11_stale_snapshot_free_bug.c: the replaced session is the one released.
#include <openssl/ssl.h>

typedef SSL_SESSION ngx_ssl_session_t;

typedef struct {
    SSL *connection;
} ngx_ssl_connection_t;

typedef struct {
    ngx_ssl_connection_t *ssl;
    ngx_ssl_session_t *session;
} ngx_peer_t;

int ngx_peer_save_session(ngx_peer_t *pc)
{
    ngx_ssl_session_t *old, *ssl_session;

    ssl_session = SSL_get1_session(pc->ssl->connection);
    if (ssl_session == NULL)
        return 0;
    old = pc->session;
    pc->session = ssl_session;
    if (old) {
        SSL_SESSION_free(old);
    }
    return 1;
}
