// Resuming from a serialised session: the decoded session is not freed on the
// early-return path taken when the cached copy has expired (curl 2025).
#include <time.h>
#include <openssl/ssl.h>

typedef struct sess_blob {
    const unsigned char *der;
    long len;
    time_t stored_at;
} sess_blob_t;

#define MAX_AGE 300

static int try_resume(SSL *ssl, const sess_blob_t *blob)
{
    const unsigned char *p = blob->der;
    SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, blob->len);

    if (s == NULL)
        return 0;
    if (time(NULL) - blob->stored_at > MAX_AGE)
        return 0;                               //~ leak
    if (!SSL_set_session(ssl, s)) {
        SSL_SESSION_free(s);
        return 0;
    }
    SSL_SESSION_free(s);
    return 1;
}
