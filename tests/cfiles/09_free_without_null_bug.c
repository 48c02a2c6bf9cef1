// A load balancer's server entry drops its reuse session on a failed handshake but
// keeps the dangling pointer (HAProxy 2016, Paho's first fix 2020): the next release of
// the entry frees it again.
#include <openssl/ssl.h>

struct server_tls {
    SSL_SESSION *reused_sess;
    int reuse_fails;
};

struct server {
    const char *id;
    struct server_tls tls;
};

void srv_reuse_failed(struct server *srv)
{
    srv->tls.reuse_fails++;
    if (srv->tls.reused_sess) {
        SSL_SESSION_free(srv->tls.reused_sess);
    }
}                                               //~ double-free
