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
#include <openssl/core_names.h> /* the peer's ticket keys */
#include <sys/time.h>              /* setitimer: the CPU-time limit of a run */

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

/* Events a handshake took out of turn (see `sr_find`): the sequential reader skips them. */
static unsigned char *sr_used;

static void sr_skip_used(void)
{
    while (sr_used != NULL && sr_pos < sr_path_length && sr_used[sr_pos])
        sr_pos++;
}

/* Whether `label` is `what@at` (then `/context` or the end). */
static int sr_label_is(const char *label, const char *what, const char *at)
{
    size_t n = strlen(what);
    if (strncmp(label, what, n) != 0 || label[n] != '@')
        return 0;
    label += n + 1;
    n = strlen(at);
    return strncmp(label, at, n) == 0 && (label[n] == '\0' || label[n] == '/');
}

/* Whether the next event is `what@at`. */
static int sr_next_is(const char *what, const char *at)
{
    sr_skip_used();
    if (sr_pos >= sr_path_length)
        return 0;
    return sr_label_is(sr_path[sr_pos].label, what, at);
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

/* C input: an unknown value kept in a pointer (a helper wrote it: `lookup(&p)`): the path's
 * value, where it names one of the program's objects (object #N), is that object. */
static void *sr_as_pointer(long long value)
{
    if (value > 0 && value < (long long)(sizeof sr_objects / sizeof sr_objects[0]) && sr_objects[value] != NULL)
        return sr_objects[value];
    return (void *)(intptr_t)value;
}

/* C input: the caller of a checked function releases what it still owns, once; the path
 * says whether it does (1 an SSL, 2 an SSL_CTX, 3 a session; 0 nothing). */
static void sr_release(void *object, const char *at)
{
    switch (sr_take("release", at, 0)) {
    case 1: SSL_free(object); break;
    case 2: SSL_CTX_free(object); break;
    case 3: SSL_SESSION_free(object); break;
    default: break;
    }
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

/* Verification of the peer: the runtime's peer presents a certificate made at run time,
 * which no store trusts. Whether a handshake succeeds is the path's choice (the model's
 * abstract peer), so a script's SSL_VERIFY_PEER is kept but the chain is accepted
 * (`repro = "verify"` in the catalogue); a script's own callback still runs after it. */
static int (*sr_script_verify_cb)(int, X509_STORE_CTX *);
static int sr_verify(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    return sr_script_verify_cb != NULL ? sr_script_verify_cb(1, store) : 1;
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

/* The session a decoding at `at` must give, with exactly the path's decoded fields, as the
 * DER bytes it would be read from (`*der`, freed with OPENSSL_free); NULL when the path has
 * the decoding fail. */
static int sr_model_der(const char *at, unsigned char **der)
{
    *der = NULL;
    if (!sr_take("decoding succeeds", at, 1))
        return 0;
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
    long long context = sr_take("decoded session id context", at, 0);
    if (context) {
        unsigned int context_length = 0;
        const unsigned char *context_bytes = sr_id_bytes(context, &context_length);
        SSL_SESSION_set1_id_context(model, context_bytes, context_length);
    }
    int n = i2d_SSL_SESSION(model, der);
    SSL_SESSION_free(model);
    return n;
}

/* `d2i_SSL_SESSION` on bytes that decode to the session the path needs (or fail to). */
static SSL_SESSION *sr_d2i(SSL_SESSION **a, const unsigned char **pp, long length, const char *at)
{
    static const unsigned char not_a_session[] = "not a session";
    if (pp == NULL)
        return d2i_SSL_SESSION(a, pp, length);
    unsigned char *der;
    int n = sr_model_der(at, &der);
    if (n <= 0) {
        const unsigned char *in = not_a_session;
        return d2i_SSL_SESSION(a, &in, (long)sizeof not_a_session);
    }
    const unsigned char *in = der;
    SSL_SESSION *result = d2i_SSL_SESSION(a, &in, n);
    OPENSSL_free(der);
    return result;
}

/* `PEM_read_bio_SSL_SESSION` (pem 1) or `d2i_SSL_SESSION_bio` (pem 0) on a BIO holding the
 * session the path needs (or bytes that do not decode); the script's BIO is not read. */
static SSL_SESSION *sr_decode_bio(int pem, BIO *script_bio, SSL_SESSION **x, const char *at)
{
    (void)script_bio;
    unsigned char *der;
    int n = sr_model_der(at, &der);
    BIO *bio = BIO_new(BIO_s_mem());
    if (n > 0 && pem) {
        const unsigned char *in = der;
        SSL_SESSION *encoded = d2i_SSL_SESSION(NULL, &in, n);
        PEM_write_bio_SSL_SESSION(bio, encoded);
        SSL_SESSION_free(encoded);
    } else if (n > 0) {
        BIO_write(bio, der, n);
    } else {
        BIO_write(bio, "not a session", 13);
    }
    OPENSSL_free(der);
    SSL_SESSION *result = pem ? PEM_read_bio_SSL_SESSION(bio, x, NULL, NULL) : d2i_SSL_SESSION_bio(bio, x);
    BIO_free(bio);
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
/* Whether a peer server acknowledges the script client's server name (the path's "the
 * server acknowledges the server name"): an OpenSSL server does when its servername
 * callback returns SSL_TLSEXT_ERR_OK, and then the client's new session keeps the name. */
static int sr_sni_ack;

static int sr_peer_servername(SSL *ssl, int *alert, void *arg)
{
    (void)ssl; (void)alert; (void)arg;
    return sr_sni_ack ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *sr_peer_context(int server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx != NULL && server) {
        SSL_CTX_use_certificate(ctx, sr_peer_certificate());
        SSL_CTX_use_PrivateKey(ctx, sr_peer_key());
        SSL_CTX_set_tlsext_servername_callback(ctx, sr_peer_servername);
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

/* ---- handshakes: the script's SSL against a real peer ----
 * Each handshake gets a fresh peer SSL joined to the script's SSL by a BIO pair. The peer
 * takes the path's choices, which the model recorded among this call's events (they are
 * taken out of turn, before the callbacks the call runs): the version, whether a server
 * resumes, TLS 1.2 tickets, what a client offers, TLS 1.3 tickets sent one by one when the
 * script reads, and a fatal alert at the model's point. Peer names are the model's labels
 * (model/handshake.py). */

enum { SR_CONNECT, SR_ACCEPT, SR_DO_HANDSHAKE, SR_READ, SR_PEEK, SR_WRITE, SR_SHUTDOWN, SR_READ_EX, SR_PEEK_EX, SR_WRITE_EX };
/* The `_ex` forms: where the script's `*readbytes` (`*written`) is; the real count goes there. */
static size_t *sr_ex_count;

struct sr_conn {
    SSL *ssl;
    SSL *peer;
    SSL_CTX *temporary; /* a peer context made for one handshake (a declining server) */
};
static struct sr_conn sr_conns[256];
static int sr_conn_count;

/* Sessions the peer client received, and the script session (model object) each pairs with. */
struct sr_held {
    SSL_SESSION *session;
    long long object;
    SSL_CTX *issuer;
};
static struct sr_held sr_held[512];
static int sr_held_count;
static SSL_CTX *sr_issuer;
static SSL_CTX *sr_peer_server, *sr_peer_client, *sr_stranger;

/* An SSL's session context (its cache and ticket keys): its first context, kept in the SSL's
 * ex_data by `sr_set_ssl_ctx` when the script switches contexts (SSL_set_SSL_CTX). */
static int sr_session_ctx_index = -1;

static SSL_CTX *sr_session_ctx(SSL *ssl)
{
    SSL_CTX *recorded = sr_session_ctx_index >= 0 ? SSL_get_ex_data(ssl, sr_session_ctx_index) : NULL;
    return recorded != NULL ? recorded : SSL_get_SSL_CTX(ssl);
}

static SSL_CTX *sr_set_ssl_ctx(SSL *ssl, SSL_CTX *ctx)
{
    if (ssl != NULL) {
        if (sr_session_ctx_index < 0)
            sr_session_ctx_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (SSL_get_ex_data(ssl, sr_session_ctx_index) == NULL)
            SSL_set_ex_data(ssl, sr_session_ctx_index, SSL_get_SSL_CTX(ssl));
    }
    if (ctx != NULL && SSL_CTX_get0_certificate(ctx) == NULL) {
        /* A server switching to a context (a virtual host) needs that context's certificate
         * (the switch copies it into the SSL): the peer's, as the SSL's own got. */
        SSL_CTX_use_certificate(ctx, sr_peer_certificate());
        SSL_CTX_use_PrivateKey(ctx, sr_peer_key());
    }
    return SSL_set_SSL_CTX(ssl, ctx);
}

/* Session id context bytes standing for the model's number `k` (as `sr_set1_id` does). */
static int sr_sid_ctx(void *object, int kind, const unsigned char *bytes, unsigned int length, const char *at)
{
    if (sr_next_is("new session id context", at)) {
        long long k = sr_path[sr_pos++].value;
        bytes = sr_id_bytes(k, &length);
    }
    if (kind == 2)
        return SSL_SESSION_set1_id_context((SSL_SESSION *)object, bytes, length);
    return kind ? SSL_set_session_id_context((SSL *)object, bytes, length)
                : SSL_CTX_set_session_id_context((SSL_CTX *)object, bytes, length);
}

static int sr_verify_accept(int ok, X509_STORE_CTX *store)
{
    return sr_verify(ok, store); /* the script's own callback, told the certificate verifies */
}

static int sr_verify_reject(int ok, X509_STORE_CTX *store)
{
    (void)ok; (void)store;
    return 0;
}

/* The index of this call's result event: the end of the events the call may take. */
static size_t sr_window_end(const char *at)
{
    for (size_t i = sr_pos; i < sr_path_length; i++)
        if (!sr_used[i] && sr_label_is(sr_path[i].label, "hsresult", at))
            return i;
    return sr_path_length;
}

/* Takes the first unused `what@at` event before `end`, out of turn. */
static int sr_find(size_t end, const char *what, const char *at, long long *value)
{
    for (size_t i = sr_pos; i < end; i++)
        if (!sr_used[i] && sr_label_is(sr_path[i].label, what, at)) {
            sr_used[i] = 1;
            if (value != NULL)
                *value = sr_path[i].value;
            return 1;
        }
    return 0;
}

/* What the model leaves open about a neutral call (catalogue.toml: its result, what it
 * wrote through `&x`): the path's value, taken out of turn, since C evaluates a call's
 * arguments in no fixed order. A pointer result is NULL where the path says so. */
static long long sr_open(const char *what, const char *at, long long real)
{
    long long value;
    return sr_find(sr_path_length, what, at, &value) ? value : real;
}

/* `user_data`: the call returns the program's own bytes (`void *`, `char *`: ex_data, app
 * data), state the model does not track; where the path assumes a pointer and the real
 * call has none, the path's value stands in (as `sr_open` does for an assumed integer).
 * A pointer to a library object has no stand-in: there NULL is a mismatch. */
static void *sr_nullable(const void *real, const char *at, int user_data)
{
    long long is_null;
    if (!sr_find(sr_path_length, "nullable", at, &is_null))
        return (void *)real;
    if (is_null)
        return NULL; /* what the call returned is not used on this path */
    if (real == NULL && user_data) {
        SR_TELL("sessref note %d: the call returned NULL; the path assumes the program's data there (assumed, not checked)\n", sr_line);
        return sr_bytes;
    }
    if (real == NULL)
        sr_mismatch("the call returned NULL, the counterexample assumes a pointer");
    return (void *)real;
}

static long long sr_flag(size_t end, const char *what, const char *at)
{
    long long value = 0;
    sr_find(end, what, at, &value);
    return value;
}

static int sr_peer_new_session(SSL *ssl, SSL_SESSION *session)
{
    (void)ssl;
    if (sr_held_count >= (int)(sizeof sr_held / sizeof sr_held[0]))
        return 0;
    sr_held[sr_held_count].session = session;
    sr_held[sr_held_count].object = 0;
    sr_held[sr_held_count].issuer = sr_issuer;
    sr_held_count++;
    return 1; /* the peer keeps it */
}

/* The peer server's ticket keys, fixed, so that it can be told to renew a ticket. */
static int sr_renew_ticket;

static int sr_ticket_keys(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher,
                          EVP_MAC_CTX *mac, int encrypt)
{
    static unsigned char key[32] = "sessref peer ticket key, fixed!";
    static unsigned char mac_key[32] = "sessref peer ticket mac, fixed!";
    OSSL_PARAM params[3];
    (void)ssl;
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, mac_key, sizeof mac_key);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (encrypt) {
        memset(name, 's', 16);
        memset(iv, 7, 16);
        EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key, iv);
        EVP_MAC_CTX_set_params(mac, params);
        return 1;
    }
    if (name[0] != 's')
        return 0;
    EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key, iv);
    EVP_MAC_CTX_set_params(mac, params);
    return sr_renew_ticket ? 2 : 1; /* 2: accept and send a new ticket */
}

static SSL_CTX *sr_server_peer(void)
{
    if (sr_peer_server == NULL) {
        sr_peer_server = sr_peer_context(1);
        SSL_CTX_set_timeout(sr_peer_server, 1L << 30); /* sleeps in the script never expire its sessions */
        SSL_CTX_set_tlsext_ticket_key_evp_cb(sr_peer_server, sr_ticket_keys);
    }
    return sr_peer_server;
}

static SSL_CTX *sr_client_peer(void)
{
    if (sr_peer_client == NULL) {
        sr_peer_client = sr_peer_context(0);
        SSL_CTX_set_session_cache_mode(sr_peer_client, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(sr_peer_client, sr_peer_new_session);
    }
    return sr_peer_client;
}

static struct sr_conn *sr_conn_of(SSL *ssl)
{
    for (int i = 0; i < sr_conn_count; i++)
        if (sr_conns[i].ssl == ssl)
            return &sr_conns[i];
    if (sr_conn_count >= (int)(sizeof sr_conns / sizeof sr_conns[0]))
        return NULL;
    sr_conns[sr_conn_count].ssl = ssl;
    return &sr_conns[sr_conn_count++];
}

/* Frees a peer end as after a clean close, so that its session stays resumable. */
static void sr_peer_ssl_free(SSL *peer)
{
    if (peer != NULL)
        SSL_set_shutdown(peer, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(peer);
}

static void sr_conn_reset(struct sr_conn *c)
{
    sr_peer_ssl_free(c->peer);
    c->peer = NULL;
    SSL_CTX_free(c->temporary);
    c->temporary = NULL;
}

/* A fatal alert record (handshake_failure) arriving at `ssl`: written into the peer's end. */
static void sr_send_alert(SSL *peer)
{
    static const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
    BIO_write(SSL_get_wbio(peer), alert, sizeof alert);
}

/* Only the first record the peer sent reaches the script's SSL, then a fatal alert. */
static void sr_first_record_then_alert(SSL *ssl, SSL *peer)
{
    unsigned char buffer[1 << 16];
    int n = BIO_read(SSL_get_rbio(ssl), buffer, sizeof buffer);
    if (n >= 5) {
        int length = 5 + (buffer[3] << 8 | buffer[4]);
        BIO_write(SSL_get_wbio(peer), buffer, length < n ? length : n);
    }
    sr_send_alert(peer);
}

/* One handshake step of each end until both are done or one fails. */
static void sr_drive(SSL *ssl, SSL *peer)
{
    int mine = 0, theirs = 0;
    for (int round = 0; round < 64 && !(mine && theirs); round++) {
        if (!sr_handshake_step(ssl, &mine) || !sr_handshake_step(peer, &theirs))
            return;
    }
}

static int sr_is_tls13(long long version)
{
    return version == TLS1_3_VERSION;
}

/* A session for the peer client that `ssl`'s context never issued: from a stranger server. */
static SSL_SESSION *sr_stranger_session(long long version)
{
    for (int i = sr_held_count - 1; i >= 0; i--)
        if (sr_held[i].issuer == sr_stranger && SSL_SESSION_get_protocol_version(sr_held[i].session) == version)
            return sr_held[i].session;
    if (sr_stranger == NULL) {
        sr_stranger = sr_peer_context(1);
        SSL_CTX_set_options(sr_stranger, SSL_OP_NO_TICKET);
    }
    SSL *server = SSL_new(sr_stranger), *client = SSL_new(sr_client_peer());
    SSL_set_min_proto_version(server, (int)version);
    SSL_set_max_proto_version(server, (int)version);
    sr_pair(client, server);
    SSL_CTX *saved = sr_issuer;
    sr_issuer = sr_stranger;
    sr_handshake(client, server);
    unsigned char byte;
    SSL_read(client, &byte, 1); /* TLS 1.3 tickets */
    sr_issuer = saved;
    sr_peer_ssl_free(client);
    sr_peer_ssl_free(server);
    return sr_stranger_session(version);
}

/* What the peer client offers a script server. */
static void sr_client_offer(SSL *ssl, SSL *peer, size_t end, const char *at, long long version)
{
    SSL_CTX *issuer = sr_session_ctx(ssl);
    long long object = 0;
    if (sr_flag(end, "the client offers a ticket", at)) {
        for (int i = sr_held_count - 1; i >= 0; i--)
            if (sr_held[i].issuer == issuer && SSL_SESSION_get_protocol_version(sr_held[i].session) == version
                && SSL_SESSION_has_ticket(sr_held[i].session)) {
                SSL_set_session(peer, sr_held[i].session);
                return;
            }
        sr_mismatch("the path has the client offer a ticket the peer never got");
        return;
    }
    if (!sr_flag(end, "the client offers a session id", at))
        return;
    char label[64];
    for (int k = 1; k <= 64; k++) {
        snprintf(label, sizeof label, "the client's session id is cache entry %d", k);
        if (sr_flag(end, label, at))
            break;
    }
    sr_flag(end, "the client offered the id of the session the callback returned", at);
    sr_find(end, "the client offers the session", at, &object);
    for (int i = 0; object > 0 && i < sr_held_count; i++)
        if (sr_held[i].object == object) {
            SSL_set_session(peer, sr_held[i].session);
            return;
        }
    /* An id the peer has no keys for: a stranger's session, carrying the id of the
     * script's session when the path names one. */
    SSL_SESSION *made = SSL_SESSION_dup(sr_stranger_session(version));
    if (object > 0 && object < (long long)(sizeof sr_objects / sizeof sr_objects[0]) && sr_objects[object] != NULL) {
        unsigned int length;
        const unsigned char *id = SSL_SESSION_get_id(sr_objects[object], &length);
        SSL_SESSION_set1_id(made, id, length);
    }
    SSL_set_session(peer, made);
    SSL_SESSION_free(made);
}

/* A handshake the model says happens in this call; returns after the point the model
 * stops at (done, or failed); the script's own call then runs. */
static void sr_handshake_now(int call, SSL *ssl, size_t end, const char *at, long long version)
{
    struct sr_conn *c = sr_conn_of(ssl);
    if (c == NULL)
        return;
    sr_conn_reset(c);
    sr_flag(end, "the peer negotiates TLS 1.3", at); /* the version itself came with "the negotiated version" */
    int server = call == SR_ACCEPT || (call != SR_CONNECT && SSL_is_server(ssl));
    long long resumes = sr_flag(end, "the peer resumes the offered session", at);
    SSL_CTX *peer_ctx;
    if (server) {
        peer_ctx = sr_client_peer();
        SSL_use_certificate(ssl, sr_peer_certificate());
        SSL_use_PrivateKey(ssl, sr_peer_key());
    } else if (resumes || SSL_get_session(ssl) == NULL) {
        peer_ctx = sr_server_peer();
    } else {
        peer_ctx = c->temporary = sr_peer_context(1); /* new ticket keys, empty cache: it declines */
    }
    c->peer = SSL_new(peer_ctx);
    SSL_set_min_proto_version(c->peer, (int)version);
    SSL_set_max_proto_version(c->peer, (int)version);
    if (server) {
        sr_pair(c->peer, ssl);
        sr_client_offer(ssl, c->peer, end, at, version);
        if (sr_flag(end, "the client sends a server name", at))
            SSL_set_tlsext_host_name(c->peer, "peer.example");
    } else {
        sr_sni_ack = (int)sr_flag(end, "the server acknowledges the server name", at);
        sr_pair(ssl, c->peer);
        SSL_set_num_tickets(c->peer, 0); /* TLS 1.3 tickets come when the script reads */
        long long ticket = 1;
        if (sr_find(end, "the server sends a TLS 1.2 ticket", at, &ticket) && !ticket)
            SSL_set_options(c->peer, SSL_OP_NO_TICKET);
        long long renew = 0;
        int resumed = sr_find(end, "the server renews the ticket", at, &renew);
        sr_renew_ticket = (int)renew;
        SSL_SESSION *offered = SSL_get_session(ssl);
        if (resumed && !renew && offered != NULL && !SSL_SESSION_has_ticket(offered))
            SSL_set_options(c->peer, SSL_OP_NO_TICKET); /* resumed by id: no first ticket either */
    }
    if (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) {
        /* The script's SSL verifies its peer: the peer's certificate passes or fails as the
         * path says (a server's peer client presents one when asked). */
        long long rejected = sr_flag(end, "the peer's certificate fails verification", at);
        SSL_set_verify(ssl, SSL_get_verify_mode(ssl), rejected ? sr_verify_reject : sr_verify_accept);
        if (server) {
            SSL_use_certificate(c->peer, sr_peer_certificate());
            SSL_use_PrivateKey(c->peer, sr_peer_key());
        }
    }
    int mine = 0, theirs = 0;
    if (!server && sr_flag(end, "the peer aborts before its hello", at)) {
        sr_handshake_step(ssl, &mine);
        if (sr_flag(end, "the peer does not speak TLS", at)) {
            static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
            BIO_write(SSL_get_wbio(c->peer), junk, sizeof junk - 1);
        } else {
            sr_send_alert(c->peer);
        }
        return;
    }
    if (sr_flag(end, "the peer aborts the handshake with a fatal alert", at)) {
        if (server) {
            sr_handshake_step(c->peer, &theirs);
            sr_handshake_step(ssl, &mine);
            sr_send_alert(c->peer);
        } else {
            sr_handshake_step(ssl, &mine);
            sr_handshake_step(c->peer, &theirs);
            sr_first_record_then_alert(ssl, c->peer);
        }
        return;
    }
    /* Taken before the handshake runs the script's callbacks, which read the events after. */
    long long holds[64];
    int hold_count = 0;
    while (hold_count < 64 && sr_find(end, "the peer holds", at, &holds[hold_count]))
        hold_count++;
    SSL_CTX *saved = sr_issuer;
    int first = sr_held_count;
    sr_issuer = sr_session_ctx(ssl);
    sr_drive(ssl, c->peer);
    if (server) {
        unsigned char byte;
        SSL_read(c->peer, &byte, 1); /* the peer client takes the TLS 1.3 tickets */
        if (sr_held_count - first < hold_count)
            sr_mismatch("the peer received fewer sessions than the model gave it");
        for (int i = 0; i < hold_count && first + i < sr_held_count; i++)
            sr_held[first + i].object = holds[i];
    }
    sr_issuer = saved;
}

/* After the handshake: what the peer sends before the script reads. */
static void sr_peer_sends(SSL *ssl, size_t end, const char *at)
{
    struct sr_conn *c = sr_conn_of(ssl);
    if (c == NULL || c->peer == NULL)
        return;
    if (sr_flag(end, "a TLS 1.3 ticket arrives (1)", at)) {
        SSL_new_session_ticket(c->peer);
        SSL_do_handshake(c->peer);
        if (sr_flag(end, "a TLS 1.3 ticket arrives (2)", at)) {
            SSL_new_session_ticket(c->peer);
            SSL_do_handshake(c->peer);
        }
    }
    if (sr_flag(end, "the peer sends a fatal alert", at))
        sr_send_alert(c->peer);
    else if (sr_flag(end, "application data arrives", at))
        SSL_write(c->peer, "x", 1);
    else if (sr_flag(end, "the peer's close_notify arrives", at))
        SSL_shutdown(c->peer);
}

/* `SSL_connect`, `SSL_accept`, `SSL_do_handshake`, `SSL_read`, `SSL_peek`, `SSL_write`: the
 * real call, with the peer doing what the path says; the result is the model's (a length
 * the model leaves open), after checking that success and failure agree. */
static int sr_tls(int call, SSL *ssl, const char *at, int num)
{
    size_t end = sr_window_end(at);
    long long model = end < sr_path_length ? sr_path[end].value : -1;
    long long version = 0;
    int handshake = ssl != NULL && sr_find(end, "the negotiated version", at, &version);
    if (handshake)
        sr_handshake_now(call, ssl, end, at, version);
    if (ssl != NULL && (call == SR_READ || call == SR_PEEK || call == SR_SHUTDOWN || call == SR_READ_EX || call == SR_PEEK_EX))
        sr_peer_sends(ssl, end, at);
    /* A server that completed its handshake writes the tickets SSL_new_session_ticket asked
     * for in this call; the peer client reads them after it. The sessions the model gives
     * the peer are taken now, before the call runs the script's callbacks. */
    long long holds[64];
    int hold_count = 0, first = sr_held_count;
    struct sr_conn *peer_of = NULL;
    if (ssl != NULL && !handshake && SSL_is_server(ssl)) {
        while (hold_count < 64 && sr_find(end, "the peer holds", at, &holds[hold_count]))
            hold_count++;
        if (hold_count)
            peer_of = sr_conn_of(ssl);
    }
    static unsigned char buffer[1 << 14];
    int real;
    switch (call) {
    case SR_CONNECT: real = SSL_connect(ssl); break;
    case SR_ACCEPT: real = SSL_accept(ssl); break;
    case SR_DO_HANDSHAKE: real = SSL_do_handshake(ssl); break;
    case SR_READ: real = SSL_read(ssl, buffer, sizeof buffer); break;
    case SR_PEEK: real = SSL_peek(ssl, buffer, sizeof buffer); break;
    case SR_SHUTDOWN: real = SSL_shutdown(ssl); break;
    case SR_READ_EX: case SR_PEEK_EX: case SR_WRITE_EX: {
        size_t count = 0, size = num >= 0 && num < (int)sizeof buffer ? (size_t)num : 1;
        real = call == SR_READ_EX ? SSL_read_ex(ssl, buffer, sizeof buffer, &count)
             : call == SR_PEEK_EX ? SSL_peek_ex(ssl, buffer, sizeof buffer, &count)
             : SSL_write_ex(ssl, buffer, size, &count);
        if (real == 1 && sr_ex_count != NULL)
            *sr_ex_count = count;
        sr_ex_count = NULL;
        break;
    }
    default: real = SSL_write(ssl, buffer, num >= 0 && num < (int)sizeof buffer ? num : 1); break; /* 0: an error */
    }
    if (peer_of != NULL && peer_of->peer != NULL) {
        SSL_CTX *saved = sr_issuer;
        unsigned char byte;
        sr_issuer = sr_session_ctx(ssl);
        SSL_read(peer_of->peer, &byte, 1);
        sr_issuer = saved;
        if (sr_held_count - first < hold_count)
            sr_mismatch("the peer received fewer tickets than the model sent");
        for (int i = 0; i < hold_count && first + i < sr_held_count; i++)
            sr_held[first + i].object = holds[i];
    }
    if (end >= sr_path_length)
        return real; /* the path ends inside this call */
    sr_used[end] = 1;
    if ((real > 0) != (model > 0)) {
        char message[160];
        snprintf(message, sizeof message, "the call %s (%d), the model expected it to %s (%lld)",
                 real > 0 ? "succeeded" : "failed", real, model > 0 ? "succeed" : "fail", model);
        sr_mismatch(message);
    }
    return (int)model;
}

static void sr_peers_free(void)
{
    for (int i = 0; i < sr_conn_count; i++)
        sr_conn_reset(&sr_conns[i]);
    for (int i = 0; i < sr_held_count; i++)
        SSL_SESSION_free(sr_held[i].session);
    SSL_CTX_free(sr_peer_server);
    SSL_CTX_free(sr_peer_client);
    SSL_CTX_free(sr_stranger);
    /* Forget the script's objects too: a leaked one must not stay reachable from here. */
    memset(sr_conns, 0, sizeof sr_conns);
    memset(sr_held, 0, sizeof sr_held);
    sr_issuer = NULL;
    sr_conn_count = sr_held_count = 0;
    sr_peer_server = sr_peer_client = sr_stranger = NULL;
}

/* A library that loops on corrupted memory would hang the run: SESSREF_ALARM=N seconds of
 * CPU time end it (the conformance suite sets it). CPU time, not wall time: on a loaded
 * machine a normal run under valgrind can take many times its 2 s of CPU in wall time. */
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
    sr_used = calloc(sr_path_length + 1, 1);
    const char *alarm_seconds = getenv("SESSREF_ALARM");
    if (alarm_seconds != NULL && atoi(alarm_seconds) > 0) {
        struct itimerval limit = {{0, 0}, {atoi(alarm_seconds), 0}};
        signal(SIGPROF, sr_alarm);
        setitimer(ITIMER_PROF, &limit, NULL);
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

static void sr_peers_free(void);

static void sr_finish(void)
{
    sr_audit_caches("end");
    sr_peers_free();
    sr_skip_used();
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
