//~ safe
// The fix of 06_disconnect_leaks_saved_bug.c: the saved session is released before its
// holder is freed.
#include <stdlib.h>
#include <openssl/ssl.h>

typedef struct backend {
    SSL *ssl;
    SSL_SESSION *saved;     /* owned: from SSL_get1_session */
    char *name;
} backend_t;

#ifdef HAVE_SYSLOG
#define BLOG(b, msg) syslog(LOG_INFO, "%s: %s", (b)->name, msg)
#else
#define BLOG(b, msg) fprintf(stderr, "%s: %s\n", (b)->name, msg)
#endif

void backend_disconnect(backend_t *b)
{
    if (b->ssl != NULL) {
        SSL_shutdown(b->ssl);
        SSL_free(b->ssl);
    }
    if (b->saved != NULL) {
        SSL_SESSION_free(b->saved);
        b->saved = NULL;
    }
    BLOG(b, "disconnected");
    free(b->name);
    free(b);
}
