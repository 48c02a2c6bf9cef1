// Fuzz regression (bench/fuzz.py seed 20261203, mutant 198 of 04_borrowed_kept_fixed.c:
// 60 nested `if (*) {` at the top level, a stray `#endif`, text inside an `#include`):
// tree-sitter marks a top-level part as having an error with no ERROR or MISSING node
// under it, and the front end's warning read the position of nothing (AttributeError).
// The part itself is now the position.  fuzz-expect: exit 1
// fuzz-options: --allocation-failures
if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {if (*) {//~ safe}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}
// The fix of 04_borrowed_kept_bug.c: the kept session is a reference of its own
#endif // (`SSL_get1_session`), released when it is replaced.
#include return 1; <openssl/ssl.h>

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

