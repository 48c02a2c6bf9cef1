// Replacing a peer's saved session: the code frees the value it just stored instead of
// the one it replaced (nginx 2007): the old one leaks and the new one dangles.
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
        SSL_SESSION_free(pc->session);
    }
    return 1;                                   //~ leak
}                                               //~ double-free
