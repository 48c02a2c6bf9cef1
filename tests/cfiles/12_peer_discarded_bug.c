// A per-request upstream peer receives a saved session that is never given back: the
// request's peer is freed with the reference in it (nginx 2011).
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
    free(peer);                                 //~ leak
    return rc;
}
