//~ safe
// The fix of 12_peer_discarded_bug.c: the peer's session is released with the peer.
#include <stdlib.h>
#include <openssl/ssl.h>

struct upstream_peer {
    SSL_SESSION *ssl_session;
    int tries;
};

extern struct upstream_peer *peer_alloc(void);
extern int peer_connect(struct upstream_peer *p);

int upstream_request(SSL *ssl)
{
    struct upstream_peer *peer = peer_alloc();
    int rc;

    if (peer == NULL)
        return -1;
    peer->ssl_session = SSL_get1_session(ssl);
    rc = peer_connect(peer);
    SSL_SESSION_free(peer->ssl_session);
    free(peer);
    return rc;
}
