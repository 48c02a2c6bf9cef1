/* The facts of docs/semantics.md that one process can check against the installed
 * OpenSSL 3.0, each printed as `V<n> ok|FAIL <what>`. tests/test_semantics.py compiles and
 * runs it (and holds the V-numbers equal to the ones the document cites); run it by hand
 * with `cc -o probe semantics_probe.c -lssl -lcrypto && ./probe`.
 *
 * A session's destruction is seen through an ex_data free callback: each session made
 * here carries a serial number, and `destroyed[serial]` is set when its count reaches 0.
 * Calls that crash on NULL run in a child process. */
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static void check(const char *id, int ok, const char *what)
{
    printf("%s %s %s\n", id, ok ? "ok" : "FAIL", what);
    failures += !ok;
}

static int idx, ctx_idx, serial;
static int destroyed[256], ctx_destroyed;

static void session_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int i, long argl, void *argp)
{
    if (ptr != NULL)
        destroyed[(long)ptr] = 1;
}

static void ctx_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int i, long argl, void *argp)
{
    if (ptr != NULL)
        ctx_destroyed = 1;
}

static long sn(const SSL_SESSION *s)
{
    return (long)SSL_SESSION_get_ex_data(s, idx);
}

/* A session with a serial number, an id (NULL: empty), and a time and timeout (0: default). */
static SSL_SESSION *session(const char *id, long t, long timeout)
{
    SSL_SESSION *s = SSL_SESSION_new();

    SSL_SESSION_set_ex_data(s, idx, (void *)(long)++serial);
    if (id != NULL)
        SSL_SESSION_set1_id(s, (const unsigned char *)id, (unsigned int)strlen(id));
    if (t != 0)
        SSL_SESSION_set_time(s, t);
    if (timeout != 0)
        SSL_SESSION_set_timeout(s, timeout);
    return s;
}

/* What the remove callback saw: each session's serial, and whether the session the
 * previous callback got was still alive then. */
static int calls;
static long seen[64];
static int previous_alive[64];
static void on_remove(SSL_CTX *c, SSL_SESSION *s)
{
    if (calls > 0)
        previous_alive[calls] = !destroyed[seen[calls - 1]];
    seen[calls++] = sn(s);
}

/* Whether `f` crashes (dies of a signal) in a child process. */
static int crashes(void (*f)(void))
{
    pid_t pid;
    int status;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        f();
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status);
}

static SSL_SESSION *keyed;
static void up_ref_null(void) { SSL_SESSION_up_ref(NULL); }
static void get_session_null(void) { SSL_get_session(NULL); }
static void get1_session_null(void) { SSL_get1_session(NULL); }
static void remove_null_ctx_keyed(void) { SSL_CTX_remove_session(NULL, keyed); }
static void add_null_session(void)
{
    SSL_CTX *c = SSL_CTX_new(TLS_method());
    SSL_CTX_add_session(c, NULL);
}

int main(void)
{
    SSL_CTX *ctx, *other;
    SSL *ssl, *t;
    const SSL_CIPHER *cipher;
    SSL_SESSION *s, *a, *b, *c, *x, *y, *p[4], *got0, *got1;
    unsigned char der[4096], *q;
    const unsigned char *cp;
    long now = (long)time(NULL), n1, n2, n3, number;
    int r1, r2, r3, len, at, i, ok, before;
    long sa, sx, sy;

    idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, session_gone);
    ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_gone);
    ctx = SSL_CTX_new(TLS_client_method());
    ssl = SSL_new(ctx);
    cipher = SSL_CIPHER_find(ssl, (const unsigned char *)"\x13\x01"); /* TLS_AES_128_GCM_SHA256 */

    check("V1", SSL_CTX_get_timeout(ctx) == 7200 && SSL_CTX_get_session_cache_mode(ctx) == SSL_SESS_CACHE_SERVER
                    && SSL_CTX_sess_get_cache_size(ctx) == 20480,
          "a new client context: timeout 7200, cache mode SERVER, cache size 20480");

    s = SSL_SESSION_new();
    check("V2", SSL_SESSION_get_timeout(s) == 304 && SSL_SESSION_get_time(s) >= now && SSL_SESSION_get_time(s) <= (long)time(NULL)
                    && !SSL_SESSION_is_resumable(s) && SSL_SESSION_get0_hostname(s) == NULL
                    && SSL_SESSION_get0_cipher(s) == NULL && i2d_SSL_SESSION(s, NULL) == 0,
          "SSL_SESSION_new: timeout 304, time now, not resumable, no hostname, no cipher, i2d fails");
    SSL_SESSION_set1_id(s, (const unsigned char *)"x", 1);
    r1 = SSL_SESSION_is_resumable(s);
    r2 = i2d_SSL_SESSION(s, NULL);
    a = SSL_SESSION_new();
    SSL_SESSION_set_cipher(a, cipher);
    r3 = i2d_SSL_SESSION(a, NULL);
    check("V3", r1 == 1 && r2 == 0 && r3 > 0,
          "an id makes a new session resumable; i2d fails without a cipher, with or without an id");
    SSL_SESSION_free(s);
    SSL_SESSION_free(a);

    /* the internal cache */
    SSL_CTX_sess_set_remove_cb(ctx, on_remove);
    a = session("k", 0, 0);
    b = session("k", 0, 0);
    r1 = SSL_CTX_add_session(ctx, a);
    r2 = SSL_CTX_add_session(ctx, a);
    sa = sn(a);
    SSL_SESSION_free(a);
    calls = 0;
    r3 = SSL_CTX_add_session(ctx, b);
    check("V4", r1 == 1 && r2 == 0 && r3 == 1 && destroyed[sa] && calls == 0 && SSL_CTX_sess_number(ctx) == 1,
          "add: a new key 1, the same object 0, another object with the same key 1, the old one "
          "dropped silently (destroyed, no remove callback)");

    c = session("k", 0, 0);
    SSL_SESSION_set_cipher(c, cipher);
    SSL_SESSION_set_cipher(b, cipher);
    calls = 0;
    r1 = SSL_CTX_remove_session(ctx, c);
    check("V5", r1 == 1 && calls == 1 && seen[0] == sn(c) && SSL_SESSION_is_resumable(b) && !SSL_SESSION_is_resumable(c)
                    && SSL_CTX_sess_number(ctx) == 0 && destroyed[sn(b)] == 0,
          "remove through another object with the cached key: 1; the callback gets the argument; "
          "the argument is marked not resumable, the cached object is not");
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);

    c = session("zz", 0, 0);
    SSL_SESSION_set_cipher(c, cipher);
    before = SSL_SESSION_is_resumable(c);
    calls = 0;
    r1 = SSL_CTX_remove_session(ctx, c);
    check("V6", r1 == 0 && calls == 1 && before && !SSL_SESSION_is_resumable(c),
          "remove of a session that is not cached: 0, yet the callback runs and the session is marked not resumable");
    SSL_SESSION_free(c);

    a = session(NULL, 0, 0);
    calls = 0;
    r1 = SSL_CTX_add_session(ctx, a);
    n1 = SSL_CTX_sess_number(ctx);
    r2 = SSL_CTX_remove_session(ctx, a);
    n2 = SSL_CTX_sess_number(ctx);
    r3 = calls;
    SSL_SESSION_free(a);
    SSL_CTX_flush_sessions(ctx, 0);
    check("V7", r1 == 1 && n1 == 1 && r2 == 0 && n2 == 1 && r3 == 0 && calls == 1 && SSL_CTX_sess_number(ctx) == 0,
          "an empty id: added and counted, remove does nothing (0, no callback), only a flush removes it");

    a = session("f", 1000, 100);
    b = session("g", -10, 100);
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, b);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_flush_sessions(ctx, 1100);
    n1 = SSL_CTX_sess_number(ctx);
    SSL_CTX_flush_sessions(ctx, 1101);
    n2 = SSL_CTX_sess_number(ctx);
    check("V8", n1 == 2 && n2 == 1, "expiry is strict: time 1000 + timeout 100 survives flush(1100), goes at flush(1101)");
    SSL_CTX_flush_sessions(ctx, 2000000000L);
    n3 = SSL_CTX_sess_number(ctx);
    check("V9", n3 == 1, "a session with a negative time never expires (the overflow test wraps in uint64_t)");
    SSL_CTX_flush_sessions(ctx, 0);

    SSL_CTX_sess_set_cache_size(ctx, 3);
    calls = 0;
    for (i = 0; i < 3; i++) {
        char id[2] = { (char)('p' + i), 0 };
        p[i] = session(id, now, 1000 + i);
        SSL_CTX_add_session(ctx, p[i]);
    }
    n1 = SSL_CTX_sess_number(ctx);
    p[3] = session("s", now, 5); /* expires before every cached one */
    SSL_CTX_add_session(ctx, p[3]);
    n2 = SSL_CTX_sess_number(ctx);
    r2 = calls;
    r1 = SSL_CTX_remove_session(ctx, p[3]);
    check("V10", n1 == 2 && n2 == 2 && r2 == 2 && seen[0] == sn(p[0]) && seen[1] == sn(p[1]) && r1 == 1
                     && !SSL_SESSION_is_resumable(p[0]),
          "eviction keeps size - 1 sessions, removes the one expiring soonest (marked not resumable, with the "
          "callback), and never the session being added");
    for (i = 0; i < 4; i++)
        SSL_SESSION_free(p[i]);
    SSL_CTX_flush_sessions(ctx, 0);
    SSL_CTX_sess_set_cache_size(ctx, 0);

    x = session("x1", now, 10);
    y = session("y1", now, 20);
    sx = sn(x);
    sy = sn(y);
    SSL_CTX_add_session(ctx, x);
    SSL_CTX_add_session(ctx, y);
    SSL_SESSION_free(x);
    SSL_SESSION_free(y);
    calls = 0;
    SSL_CTX_flush_sessions(ctx, 0);
    check("V11", calls == 2 && seen[0] == sx && previous_alive[1] && destroyed[sx] && destroyed[sy],
          "a flush runs every remove callback before it frees any flushed session");

    /* d2i */
    s = session("dd", 0, 0);
    SSL_SESSION_set_cipher(s, cipher);
    SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
    q = der;
    len = i2d_SSL_SESSION(s, &q);
    for (at = -1, i = 0; i + 3 < len; i++)
        if (der[i] == 4 && der[i + 1] == 2 && der[i + 2] == 0x13 && der[i + 3] == 1) {
            at = i;
            break;
        }
    a = session("tt", 0, 0);
    SSL_SESSION_set_protocol_version(a, TLS1_2_VERSION);
    ok = at >= 0;
    if (ok) {
        der[at + 2] = 0xff; /* a cipher id no method knows: decoding fails after the version */
        der[at + 3] = 0xfe;
        cp = der;
        b = d2i_SSL_SESSION(&a, &cp, len);
        ok = b == NULL && cp == der && !destroyed[sn(a)] && SSL_SESSION_get_protocol_version(a) == TLS1_3_VERSION;
    }
    check("V12", ok, "a d2i into an existing session that fails after the version field: NULL, *pp not moved, "
                     "the session kept, but its protocol version (a cache key part) already overwritten");
    SSL_SESSION_free(a);
    SSL_SESSION_free(s);

    s = session("t0", 0, 0);
    SSL_SESSION_set_cipher(s, cipher);
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SSL_SESSION_set_time(s, 0);
    SSL_SESSION_set_timeout(s, 0);
    q = der;
    len = i2d_SSL_SESSION(s, &q);
    cp = der;
    a = d2i_SSL_SESSION(NULL, &cp, len);
    b = NULL;
    cp = der;
    c = d2i_SSL_SESSION(&b, &cp, len);
    check("V13", a != NULL && SSL_SESSION_get_time(a) >= now && SSL_SESSION_get_time(a) <= (long)time(NULL) && SSL_SESSION_get_timeout(a) == 3 && c != NULL && c == b,
          "d2i: an encoded time of 0 becomes now and a timeout of 0 becomes 3; with `&p` and p == NULL, "
          "p is set to the result (one reference, two pointers)");
    SSL_SESSION_free(a);
    SSL_SESSION_free(c);
    SSL_SESSION_free(s);

    t = SSL_new(ctx);
    SSL_set_connect_state(t);
    r1 = SSL_shutdown(t);
    check("V14", r1 == -1 && SSL_get_shutdown(t) == 0, "SSL_shutdown before a handshake: -1, SSL_SENT_SHUTDOWN not set");
    SSL_free(t);

    /* references between the objects */
    s = session("ss", 0, 0);
    t = SSL_new(ctx);
    SSL_set_session(t, s);
    sa = sn(s);
    SSL_SESSION_free(s);
    r1 = !destroyed[sa];
    got0 = SSL_get_session(t);
    got1 = SSL_get1_session(t);
    SSL_free(t);
    check("V15", r1 && got0 == got1 && !destroyed[sa],
          "SSL_set_session takes a reference of the slot's own; SSL_get1_session takes one for the caller, "
          "SSL_get_session none (the session outlives SSL_free only through the get1 reference)");
    SSL_SESSION_free(got1);
    check("V16", destroyed[sa], "... and the get1 reference was the last one");

    other = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_ex_data(other, ctx_idx, (void *)1L);
    SSL_CTX_sess_set_remove_cb(other, on_remove);
    t = SSL_new(other);
    s = session("cc", 0, 0);
    SSL_SESSION_set_cipher(s, cipher);
    SSL_CTX_add_session(other, s);
    SSL_CTX_free(other);
    r1 = !ctx_destroyed && SSL_SESSION_is_resumable(s);
    calls = 0;
    SSL_free(t);
    check("V17", r1 && ctx_destroyed && calls == 1 && !SSL_SESSION_is_resumable(s),
          "an SSL holds its context: SSL_CTX_free leaves it alive until the last SSL_free, whose flush marks "
          "the cached session not resumable and runs the remove callback");
    SSL_SESSION_free(s);

    s = session("dp", 0, 0);
    SSL_SESSION_set_cipher(s, cipher);
    SSL_CTX_add_session(ctx, s);
    number = SSL_CTX_sess_number(ctx);
    a = SSL_SESSION_dup(s);
    r1 = SSL_CTX_sess_number(ctx) == number && SSL_CTX_add_session(ctx, a) == 1; /* a new object under s's key */
    r2 = destroyed[sn(s)] == 0;
    SSL_CTX_remove_session(ctx, s);
    b = SSL_SESSION_dup(s);
    check("V18", r1 && r2 && !SSL_SESSION_is_resumable(b),
          "SSL_SESSION_dup: a new, uncached object with the same key; the public dup copies `not_resumable`");
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(s);
    SSL_CTX_flush_sessions(ctx, 0);

    s = session("cp", 0, 0);
    t = SSL_new(ctx);
    SSL_set_session(ssl, s);
    SSL_SESSION_free(s);
    SSL_copy_session_id(t, ssl);
    sa = sn(s);
    SSL_free(ssl);
    r1 = !destroyed[sa];
    SSL_free(t);
    check("V19", r1 && destroyed[sa], "SSL_copy_session_id: the target's slot takes its own reference to the session");

    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME);
    s = session("ut", 1000, 100);
    SSL_CTX_add_session(ctx, s);
    check("V20", SSL_SESSION_get_time(s) <= (long)time(NULL) && SSL_SESSION_get_time(s) >= now,
          "with SSL_SESS_CACHE_UPDATE_TIME, SSL_CTX_add_session sets the session's time to now");
    SSL_CTX_flush_sessions(ctx, 0);
    SSL_SESSION_free(s);

    /* NULL arguments */
    keyed = session("nn", 0, 0);
    s = session(NULL, 0, 0);
    check("V21", SSL_SESSION_get_time(NULL) == 0 && SSL_SESSION_set_time(NULL, 5) == 0 && SSL_SESSION_get_timeout(NULL) == 0
                     && SSL_SESSION_set_timeout(NULL, 5) == 0 && SSL_SESSION_set_timeout(keyed, -1) == 0
                     && i2d_SSL_SESSION(NULL, NULL) == 0 && SSL_CTX_remove_session(NULL, s) == 0
                     && SSL_CTX_remove_session(ctx, NULL) == 0 && SSL_CTX_sess_set_cache_size(NULL, 5) == 0
                     && SSL_CTX_set_session_cache_mode(NULL, 1) == 0,
          "NULL gives 0 without a crash: SSL_SESSION_get/set_time, get/set_timeout (and a negative timeout), "
          "i2d_SSL_SESSION, SSL_CTX_remove_session with a NULL session or a NULL context and an empty id, "
          "the SSL_CTX_ctrl cache settings");
    check("V22", crashes(up_ref_null) && crashes(get_session_null) && crashes(get1_session_null)
                     && crashes(remove_null_ctx_keyed) && crashes(add_null_session),
          "NULL crashes: SSL_SESSION_up_ref, SSL_get_session, SSL_get1_session, SSL_CTX_add_session of NULL, "
          "SSL_CTX_remove_session(NULL, s) when s has an id");
    SSL_SESSION_free(keyed);
    SSL_SESSION_free(s);

    SSL_CTX_free(ctx);
    printf("%d failed\n", failures);
    return failures != 0;
}
