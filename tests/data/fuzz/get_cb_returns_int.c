// Fuzz regression (bench/fuzz.py seed 21, mutant 1981 of 15_get_cb_copy0_fixed.c: another
// file's body spliced into the get_session_cb): the callback returns an `int`, 0 or 1,
// as its `SSL_SESSION *`. The executor kept the integer as it was, and the model read 1 as
// object #1 (the context): the encoding found a use-after-free the replay did not (an
// internal error, "the encoding and the interpreter disagree"). C converts no integer to
// a pointer without a cast: a located input error at `ok`.
// fuzz-expect: exit 2
static int cache_add(SSL *ssl, SSL_SESSION *sess)
{
    return 0;
}

static SSL_SESSION *cache_get(SSL *ssl, const unsigned char *id, int id_len, int *do_copy)
{
    int ok = 0;
    if (time(NULL) > MAX_AGE)
        ok = 1;
    return ok;
}
