// A proxy's session cache hands out its raw pointer; the caller owns what it gets and
// frees it, while the cache keeps pointing at it (Traffic Server 2021).
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
    return origin_cache.entry;
}                                               //~ double-free, dangling-reference
