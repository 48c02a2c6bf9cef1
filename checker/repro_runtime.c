/* ---- sessref runtime: follows the counterexample's path --------------------------------
 *
 * `sr_path` (above) lists, in order, every choice the path makes and every
 * value the model predicts: `*` conditions, inputs, what the library decides on its own
 * (a decoding succeeds, an allocation fails) and what each call returns. The script's
 * code takes its choices from it, and each call's result is compared with the model's:
 * a difference is printed as a "model mismatch" and makes the program exit with 3.
 *
 * The library sees the counterexample's clock: `time()` is defined here, so libssl's
 * calls to it (a new session's time, cache timeouts) read `sr_clock`.
 */
/* Under valgrind, what the program does is also written into valgrind's own log, in
 * order with its errors: a tool reading the log knows the script line of each error. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SR_TELL VALGRIND_PRINTF
#endif
#endif
#ifndef SR_TELL
#define SR_TELL(...) ((void)0)
#define RUNNING_ON_VALGRIND 0
#endif

static size_t sr_pos;
static int sr_status;
static int sr_line;
static time_t sr_clock = 1700000000;
static void *sr_objects[4096];

time_t time(time_t *out)
{
    if (out != NULL)
        *out = sr_clock;
    return sr_clock;
}

static void sr_finish(void);

static void sr_mismatch(const char *message)
{
    fprintf(stderr, "[sessref] line %d: model mismatch: %s\n", sr_line, message);
    SR_TELL("sessref mismatch %d: %s\n", sr_line, message);
    sr_status = 3;
}

/* Whether the next event is `what@at` (then `/context` or the end). */
static int sr_next_is(const char *what, const char *at)
{
    if (sr_pos >= sr_path_length)
        return 0;
    const char *label = sr_path[sr_pos].label;
    size_t n = strlen(what);
    if (strncmp(label, what, n) != 0 || label[n] != '@')
        return 0;
    label += n + 1;
    n = strlen(at);
    return strncmp(label, at, n) == 0 && (label[n] == '\0' || label[n] == '/');
}

static long long sr_take(const char *what, const char *at, long long otherwise)
{
    if (!sr_next_is(what, at))
        return otherwise;
    return sr_path[sr_pos++].value;
}

/* A `*` condition or an input: the path must have it, else the program left the path. */
static long long sr_choice(const char *what, const char *at)
{
    if (!sr_next_is(what, at)) {
        fprintf(stderr, "[sessref] line %d: the program left the counterexample's path (no choice for `%s` at %s)\n",
                sr_line, what, at);
        SR_TELL("sessref left %d: no choice for %s at %s\n", sr_line, what, at);
        sr_status = 3;
        sr_finish();
    }
    return sr_path[sr_pos++].value;
}

static void sr_at(int line, const char *text)
{
    sr_line = line;
    if (RUNNING_ON_VALGRIND)
        SR_TELL("sessref line %d: %s\n", line, text);
    else
        fprintf(stderr, "[sessref] line %d: %s\n", line, text);
}

/* An object pointer the model knows as object `k` (0: NULL). */
static void *sr_object(void *real, const char *at)
{
    if (!sr_next_is("object", at))
        return real;
    long long k = sr_path[sr_pos++].value;
    char message[128];
    if (k <= 0 || k >= (long long)(sizeof sr_objects / sizeof sr_objects[0])) {
        if (real != NULL)
            sr_mismatch("the call returned an object, the model expected NULL");
        return real;
    }
    snprintf(message, sizeof message, "the call returned %s, the model expected object #%lld",
             real == NULL ? "NULL" : "another object", k);
    if (real == NULL)
        sr_mismatch(message);
    else if (sr_objects[k] == NULL)
        sr_objects[k] = real;
    else if (sr_objects[k] != real)
        sr_mismatch(message);
    return real;
}

/* Any other pointer: the model knows whether it is NULL. */
static void *sr_pointer(const void *real, const char *at)
{
    if (sr_next_is("pointer", at)) {
        long long nonnull = sr_path[sr_pos++].value;
        if (nonnull != (real != NULL))
            sr_mismatch(real != NULL ? "the call returned a pointer, the model expected NULL"
                                     : "the call returned NULL, the model expected a pointer");
    }
    return (void *)real;
}

/* A scalar result: checked against the model, or (for values the model leaves open,
 * such as an encoded length) replaced by the counterexample's value. */
static long long sr_int(long long real, const char *at)
{
    if (sr_next_is("result", at)) {
        long long expected = sr_path[sr_pos++].value;
        if (expected != real) {
            char message[128];
            snprintf(message, sizeof message, "the call returned %lld, the model expected %lld", real, expected);
            sr_mismatch(message);
        }
        return real;
    }
    if (sr_next_is("assumed", at)) {
        long long assumed = sr_path[sr_pos++].value;
        if (assumed != real)
            fprintf(stderr, "[sessref] line %d: the call returned %lld; the counterexample assumes %lld and goes on with it\n",
                    sr_line, real, assumed);
        return assumed;
    }
    return real;
}

static void sr_assume(long long holds, const char *at)
{
    if (!holds) {
        sr_mismatch("an `assume` does not hold in the real run");
        (void)at;
        sr_finish();
    }
}

/* The number of sessions in each live context's cache, against the model. */
static void sr_audit_caches(const char *at)
{
    while (sr_next_is("cached", at)) {
        long long value = sr_path[sr_pos++].value;
        long long k = value / SR_AUDIT_SCALE, expected = value % SR_AUDIT_SCALE;
        if (k <= 0 || k >= (long long)(sizeof sr_objects / sizeof sr_objects[0]) || sr_objects[k] == NULL)
            continue;
        long real = SSL_CTX_sess_number((SSL_CTX *)sr_objects[k]);
        if (real != expected) {
            char message[128];
            snprintf(message, sizeof message, "object #%lld's cache holds %ld session(s), the model says %lld",
                     k, real, expected);
            sr_mismatch(message);
        }
    }
}

/* After the step where the model stops (a crash): the rest is undefined behaviour. */
static void sr_stop_after(const char *at)
{
    if (sr_next_is("stop", at)) {
        fprintf(stderr, "[sessref] line %d: %s: the counterexample ends here (the rest of the script is not run)\n",
                sr_line, sr_path[sr_pos].comment);
        SR_TELL("sessref stop %d\n", sr_line);
        sr_pos++;
        sr_finish();
    }
}

static void sr_sleep(long long seconds)
{
    sr_clock += (time_t)seconds;
}

/* ---- allocation failures (only installed when the path has one) ---- */
static int sr_fail_next_allocation;

static void *sr_malloc(size_t n, const char *file, int line)
{
    (void)file; (void)line;
    if (sr_fail_next_allocation) {
        sr_fail_next_allocation = 0;
        return NULL;
    }
    return malloc(n);
}

static void *sr_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file; (void)line;
    return realloc(p, n);
}

static void sr_free(void *p, const char *file, int line)
{
    (void)file; (void)line;
    free(p);
}

static void sr_allocation(const char *at)
{
    sr_fail_next_allocation = (int)sr_take("allocation fails", at, 0);
}

/* ---- values the script leaves opaque ---- */
static unsigned char sr_bytes[64] = "sessref opaque bytes";

static const SSL_CIPHER *sr_cipher(void)
{
    static const SSL_CIPHER *cipher;
    if (cipher == NULL) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_method());
        SSL *ssl = SSL_new(ctx);
        cipher = sk_SSL_CIPHER_value(SSL_get_ciphers(ssl), 0); /* a static table entry */
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    return cipher;
}

static BIO *sr_bio(void)
{
    static BIO *bio;
    if (bio == NULL)
        bio = BIO_new(BIO_s_mem());
    return bio;
}

/* The bytes of session id number `k` of the model: string literal k-1 if there is one. */
static const unsigned char *sr_id_bytes(long long k, unsigned int *length)
{
    static char buffer[32];
    if (k >= 1 && (size_t)k <= sr_literal_count) {
        *length = (unsigned int)strlen(sr_literals[k - 1]);
        return (const unsigned char *)sr_literals[k - 1];
    }
    snprintf(buffer, sizeof buffer, "sessref-id-%lld", k);
    *length = (unsigned int)strlen(buffer);
    return (const unsigned char *)buffer;
}

static int sr_set1_id(SSL_SESSION *s, const unsigned char *sid, unsigned int length, const char *at)
{
    if (sr_next_is("new session id", at)) {
        long long k = sr_path[sr_pos++].value;
        sid = sr_id_bytes(k, &length);
    }
    return SSL_SESSION_set1_id(s, sid, length);
}

/* `d2i_SSL_SESSION` on bytes that decode to the session the path needs (or fail to). */
static SSL_SESSION *sr_d2i(SSL_SESSION **a, const unsigned char **pp, long length, const char *at)
{
    static const unsigned char not_a_session[] = "not a session";
    if (pp == NULL)
        return d2i_SSL_SESSION(a, pp, length);
    if (!sr_take("decoding succeeds", at, 1)) {
        const unsigned char *in = not_a_session;
        return d2i_SSL_SESSION(a, &in, (long)sizeof not_a_session);
    }
    long long version = sr_take("decoded protocol version", at, TLS1_3_VERSION);
    long long id = sr_take("decoded session id", at, 1);
    long long when = sr_take("decoded time", at, 1);
    long long timeout = sr_take("decoded timeout", at, 300);
    long long hostname = sr_take("decoded hostname", at, 0);
    SSL_SESSION *model = SSL_SESSION_new();
    unsigned int id_length = 0;
    const unsigned char *id_bytes = sr_id_bytes(id, &id_length);
    static const unsigned char master_key[48] = "sessref master key";
    SSL_SESSION_set_protocol_version(model, (int)version);
    SSL_SESSION_set1_id(model, id_bytes, id_length);
    SSL_SESSION_set1_master_key(model, master_key, sizeof master_key);
    SSL_SESSION_set_cipher(model, sr_cipher());
    SSL_SESSION_set_time(model, (long)when);
    SSL_SESSION_set_timeout(model, (long)timeout);
    if (hostname)
        SSL_SESSION_set1_hostname(model, "decoded.example");
    unsigned char *der = NULL;
    int n = i2d_SSL_SESSION(model, &der);
    SSL_SESSION_free(model);
    const unsigned char *in = der;
    SSL_SESSION *result = d2i_SSL_SESSION(a, &in, n);
    OPENSSL_free(der);
    return result;
}

/* ---- a real peer in memory, for paths through handshakes ----
 * The peer gets a key and a self-signed certificate made at run time (dated by the
 * path's clock) and talks to the script's SSL over a BIO pair: no network, no files.
 * `sr_handshake` drives both ends until they are done or one fails. */
static EVP_PKEY *sr_peer_key(void)
{
    static EVP_PKEY *key;
    if (key == NULL)
        key = EVP_EC_gen("P-256");
    return key;
}

static X509 *sr_peer_certificate(void)
{
    static X509 *certificate;
    if (certificate != NULL)
        return certificate;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sessref.test", -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_NAME_free(name);
    X509_set_pubkey(x, sr_peer_key());
    X509_sign(x, sr_peer_key(), EVP_sha256());
    certificate = x;
    return certificate;
}

/* A context for the peer's side: a server gets the certificate and key. */
static SSL_CTX *sr_peer_context(int server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx != NULL && server) {
        SSL_CTX_use_certificate(ctx, sr_peer_certificate());
        SSL_CTX_use_PrivateKey(ctx, sr_peer_key());
    }
    return ctx;
}

/* Connects two SSLs through an in-memory BIO pair; each SSL owns its end. */
static void sr_pair(SSL *client, SSL *server)
{
    BIO *client_end = NULL, *server_end = NULL;
    BIO_new_bio_pair(&client_end, 0, &server_end, 0);
    SSL_set_bio(client, client_end, client_end);
    SSL_set_bio(server, server_end, server_end);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
}

/* One handshake step of one end, unless it is done: 0 when that end failed. */
static int sr_handshake_step(SSL *ssl, int *done)
{
    if (*done)
        return 1;
    int r = SSL_do_handshake(ssl);
    if (r == 1) {
        *done = 1;
        return 1;
    }
    int error = SSL_get_error(ssl, r);
    return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

/* Runs both ends until the handshake completes (1) or one end fails (0). */
static int sr_handshake(SSL *client, SSL *server)
{
    int client_done = 0, server_done = 0;
    for (int round = 0; round < 64 && !(client_done && server_done); round++) {
        if (!sr_handshake_step(client, &client_done) || !sr_handshake_step(server, &server_done))
            return 0;
    }
    return client_done && server_done;
}

static void sr_peer_free(void)
{
    X509_free(sr_peer_certificate());
    EVP_PKEY_free(sr_peer_key());
}

/* A library that loops on corrupted memory would hang the run: SESSREF_ALARM=N seconds
 * ends it (the conformance suite sets it). */
static void sr_alarm(int signal_number)
{
    (void)signal_number;
    SR_TELL("sessref hung %d\n", sr_line);
    static const char message[] = "[sessref] the program ran out of time (the library loops?)\n";
    if (write(2, message, sizeof message - 1) < 0)
        _exit(4);
    _exit(4);
}

static void sr_start(void)
{
    const char *alarm_seconds = getenv("SESSREF_ALARM");
    if (alarm_seconds != NULL && atoi(alarm_seconds) > 0) {
        signal(SIGALRM, sr_alarm);
        alarm((unsigned)atoi(alarm_seconds));
    }
    sr_clock = (time_t)sr_take("start time", "1:1", 1700000000);
}

/* ---- the end of the path ---- */
static void sr_forget_globals(void);

static void sr_scrub_stack(void)
{
    /* Old frames of the script may still hold pointers: wipe them, so that what the
     * script lost is reported as definitely lost. */
    volatile unsigned char area[1 << 16];
    memset((unsigned char *)area, 0, sizeof area);
}

static void sr_finish(void)
{
    sr_audit_caches("end");
    sr_scrub_stack();
    sr_forget_globals();
    memset(sr_objects, 0, sizeof sr_objects);
    if (sr_status == 0 && sr_pos < sr_path_length && strncmp(sr_path[sr_pos].label, "stop@", 5) != 0) {
        fprintf(stderr, "[sessref] the program left the counterexample's path: %s was never reached\n",
                sr_path[sr_pos].label);
        SR_TELL("sessref left %d: %s never reached\n", sr_line, sr_path[sr_pos].label);
        sr_status = 3;
    }
    fprintf(stderr, "[sessref] end of the path%s\n", sr_status ? " (with model mismatches)" : "");
    SR_TELL("sessref end %d\n", sr_status);
    exit(sr_status);
}
/* ---- end of the sessref runtime ---------------------------------------------------------- */
