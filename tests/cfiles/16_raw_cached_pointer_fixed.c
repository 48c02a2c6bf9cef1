//~ safe
// The fix of 16_raw_cached_pointer_bug.c: the cache gives out a reference of its own.
#include <openssl/ssl.h>

struct ssl_session_cache {
    SSL_SESSION *entry;
    long hits;
};

static struct ssl_session_cache origin_cache;

SSL_SESSION *session_cache_lookup(void)
{
    if (origin_cache.entry == NULL)
        return NULL;
    origin_cache.hits++;
    SSL_SESSION_up_ref(origin_cache.entry);
    return origin_cache.entry;
}
