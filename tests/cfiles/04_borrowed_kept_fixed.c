//~ safe
// The fix of 04_borrowed_kept_bug.c: the kept session is a reference of its own
// (`SSL_get1_session`), released when it is replaced.
#include <openssl/ssl.h>

typedef SSL_SESSION imap_tls_session;

struct imap_conn {
    SSL *tls;
    imap_tls_session *resume;
    int fd;
};

void imap_tls_close(struct imap_conn *conn)
{
    if (conn->tls == NULL)
        return;
    SSL_SESSION_free(conn->resume);
    conn->resume = SSL_get1_session(conn->tls);
    SSL_shutdown(conn->tls);
    SSL_free(conn->tls);
    conn->tls = NULL;
}
