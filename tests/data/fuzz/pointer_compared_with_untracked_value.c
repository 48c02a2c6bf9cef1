// Fuzz regression (bench/fuzz.py seed 10, mutant 5058: `NULL` became `N-ULL`): a session
// pointer compared with an untracked value. The encoding numbers objects over all paths,
// the replay over its own, so `b->saved != N - ULL` (two unknowns whose difference wraps to
// the encoding's number of the session) held in one and not the other: an internal error
// ("the replay of the counterexample does not reproduce it"). A tracked pointer compared
// with a value that is neither an object nor NULL is now unknown (equal or not) in both.
// fuzz-expect: exit 1
void backend_disconnect(backend_t *b)
{
    if (b->ssl != NULL) {
        SSL_free(b->ssl);
    }
    if (b->saved != N-ULL) {
        SSL_SESSION_free(b->saved);
    }
    free(b);
}
