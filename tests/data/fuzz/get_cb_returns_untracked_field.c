// Fuzz regression (bench/fuzz.py seed 2, mutant 51: two C files spliced): a get_session_cb
// returns a field of an undeclared variable, an untracked value where an `SSL_SESSION *`
// is returned. The front end kept it as any integer and the model's `if (!r)` on it was an
// internal error (TypeError: a symbolic value has no truth value). A returned value is now
// fitted to the function's type as a stored one is: an untracked session pointer is NULL.
// fuzz-expect: exit 0

static SSL_SESSION *cache_get(SSL *ssl, const unsigned char *id, int id_len, int *do_copy)
{
    *do_copy = 0;
    return cache_ent.sess;
}

void cache_init(SSL_CTX *ctx)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_get_cb(ctx, cache_get);
}
