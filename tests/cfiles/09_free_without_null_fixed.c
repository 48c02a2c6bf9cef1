//~ safe
// The fix of 09_free_without_null_bug.c: the pointer is cleared with the free.
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
        srv->tls.reused_sess = NULL;
    }
}
