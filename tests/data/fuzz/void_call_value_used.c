// Fuzz regression (bench/fuzz.py seed 11, mutant 1538: `->` inserted before a call): the C
// parser reads `-> SSL_CTX_sess_set_new_cb(...)` as the negation of a void call, and the
// value of a void call (none) reached C's arithmetic: an internal error (TypeError: int()
// argument must be ..., not 'NoneType'). A void call's value is 0 where it is used.
// fuzz-expect: exit 0
// fuzz-options: --unroll 0
void cache_init(SSL_CTX *ctx)
{
 ->    SSL_CTX_sess_set_new_cb(ctx, cache_add);
}
