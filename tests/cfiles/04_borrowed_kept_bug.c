// An IMAP-style client keeps the session of its connection for the next one, but takes
// it with the borrowing getter: freeing the connection frees the session (Cyrus 2020).
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
    conn->resume = SSL_get_session(conn->tls);
    SSL_shutdown(conn->tls);
    SSL_free(conn->tls);
    conn->tls = NULL;
}                                               //~ double-free
