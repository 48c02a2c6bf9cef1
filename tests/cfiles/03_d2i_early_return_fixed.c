//~ safe
// The fix of 03_d2i_early_return_bug.c: one exit through a cleanup label frees the
// decoded session on every path.
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
    int ok = 0;

    if (s == NULL)
        goto out;
    if (time(NULL) - blob->stored_at > MAX_AGE)
        goto out;
    if (!SSL_set_session(ssl, s))
        goto out;
    ok = 1;
out:
    SSL_SESSION_free(s);
    return ok;
}
