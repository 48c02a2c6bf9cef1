/* ex_data on sessions (crypto/ex_data.c through ssl_sess.c) and the BIO decoders
 * PEM_read_bio_SSL_SESSION / d2i_SSL_SESSION_bio. */
#include "harness.h"

static int frees, news, dups;
static void *last_freed_ptr;
static int parent_readable;

static void free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ad; (void)idx; (void)argl; (void)argp;
    frees++;
    last_freed_ptr = ptr;
    unsigned int len = 0;
    SSL_SESSION_get_id(parent, &len); /* the session is still readable here */
    parent_readable = 1;
}

static void new_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    news++;
}

static int dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx, long argl, void *argp)
{
    (void)to; (void)from; (void)from_d; (void)idx; (void)argl; (void)argp;
    dups++;
    return 1;
}

static SSL_SESSION *encodable(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = SSL_new(ctx);
    const SSL_CIPHER *cipher = sk_SSL_CIPHER_value(SSL_get_ciphers(ssl), 0);
    SSL_SESSION *s = SSL_SESSION_new();
    static const unsigned char key[48] = "master key";
    SSL_SESSION_set1_id(s, (const unsigned char *)"pem-id", 6);
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SSL_SESSION_set1_master_key(s, key, sizeof key);
    SSL_SESSION_set_cipher(s, cipher);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return s;
}

int main(void)
{
    int plain = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    FACT("first_index_is_not_zero", "%d", plain > 0);
    int idx = SSL_SESSION_get_ex_new_index(0, NULL, new_cb, NULL, free_cb);
    int generic = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_SESSION, 0, NULL, NULL, dup_cb, NULL);
    FACT("generic_index_next", "%d", generic == idx + 1);

    SSL_SESSION *s = SSL_SESSION_new();
    FACT("new_func_runs_at_new", "%d", news);
    FACT("get_unset_is_null", "%d", SSL_SESSION_get_ex_data(s, idx) == NULL);
    FACT("get_app_data_unset_is_null", "%d", SSL_SESSION_get_app_data(s) == NULL);
    static int data1, data2;
    FACT("set_ex_data_returns", "%d", SSL_SESSION_set_ex_data(s, idx, &data1));
    FACT("get_returns_set", "%d", SSL_SESSION_get_ex_data(s, idx) == &data1);
    FACT("set_app_data_returns", "%d", SSL_SESSION_set_app_data(s, &data2));
    FACT("app_data_is_index_0", "%d", SSL_SESSION_get_ex_data(s, 0) == &data2);
    FACT("set_unregistered_index", "%d", SSL_SESSION_set_ex_data(s, 40, &data1));
    FACT("get_unregistered_index", "%d", SSL_SESSION_get_ex_data(s, 40) == &data1);
    FACT("get_negative_index_null", "%d", SSL_SESSION_get_ex_data(s, -1) == NULL);

    /* SSL_SESSION_dup: without a dup_func the pointer is copied as it is. */
    dups = 0;
    SSL_SESSION *d = SSL_SESSION_dup(s);
    FACT("dup_copies_pointer", "%d", SSL_SESSION_get_ex_data(d, idx) == &data1);
    FACT("dup_copies_app_data", "%d", SSL_SESSION_get_app_data(d) == &data2);
    FACT("dup_func_runs_at_dup", "%d", dups);
    frees = 0;
    SSL_SESSION_up_ref(s);
    SSL_SESSION_free(s);
    FACT("free_func_not_before_last_ref", "%d", frees);
    SSL_SESSION_free(s);
    FACT("free_func_runs_at_destroy", "%d", frees);
    FACT("free_func_gets_ptr", "%d", last_freed_ptr == &data1);
    FACT("free_func_parent_readable", "%d", parent_readable);
    SSL_SESSION_free(d);
    FACT("dup_free_func_gets_same_ptr", "%d", frees == 2 && last_freed_ptr == &data1);
    SSL_SESSION *bare = SSL_SESSION_new();
    frees = 0;
    last_freed_ptr = &data2;
    SSL_SESSION_free(bare);
    FACT("free_func_runs_without_data", "%d", frees);
    FACT("free_func_ptr_null_without_data", "%d", last_freed_ptr == NULL);

    /* PEM and DER through BIOs. */
    SSL_SESSION *src = encodable();
    BIO *pem = BIO_new(BIO_s_mem()), *der = BIO_new(BIO_s_mem());
    FACT("pem_write_ok", "%d", PEM_write_bio_SSL_SESSION(pem, src));
    FACT("i2d_bio_ok", "%d", i2d_SSL_SESSION_bio(der, src));
    SSL_SESSION *bare2 = SSL_SESSION_new();
    BIO *junk = BIO_new(BIO_s_mem());
    FACT("pem_write_bare_session", "%d", PEM_write_bio_SSL_SESSION(junk, bare2));
    SSL_SESSION_free(bare2);
    BIO_free(junk);
    char *pem_text;
    long pem_len = BIO_get_mem_data(pem, &pem_text);
    unsigned char *der_bytes;
    long der_len = BIO_get_mem_data(der, (char **)&der_bytes);

    BIO *in = BIO_new_mem_buf(pem_text, (int)pem_len);
    SSL_SESSION *p = PEM_read_bio_SSL_SESSION(in, NULL, NULL, NULL);
    FACT("pem_read_new", "%d", p != NULL && p != src);
    BIO_free(in);
    in = BIO_new_mem_buf(pem_text, (int)pem_len);
    SSL_SESSION *x = p;
    SSL_SESSION *q = PEM_read_bio_SSL_SESSION(in, &x, NULL, NULL);
    FACT("pem_read_into_existing_same_object", "%d", q == p && x == p);
    BIO_free(in);
    in = BIO_new_mem_buf(pem_text, (int)pem_len);
    SSL_SESSION *y = NULL;
    q = PEM_read_bio_SSL_SESSION(in, &y, NULL, NULL);
    FACT("pem_read_null_target_sets_it", "%d", q != NULL && y == q);
    SSL_SESSION_free(q);
    BIO_free(in);
    in = BIO_new_mem_buf("not pem", 7);
    x = p;
    q = PEM_read_bio_SSL_SESSION(in, &x, NULL, NULL);
    FACT("pem_read_garbage_null", "%d", q == NULL);
    FACT("pem_read_garbage_keeps_target", "%d", x == p);
    BIO_free(in);
    ERR_clear_error();
    in = BIO_new_mem_buf(der_bytes, (int)der_len);
    SSL_SESSION *r = d2i_SSL_SESSION_bio(in, NULL);
    FACT("d2i_bio_new", "%d", r != NULL && r != p);
    BIO_free(in);
    in = BIO_new_mem_buf(der_bytes, (int)der_len);
    x = r;
    q = d2i_SSL_SESSION_bio(in, &x);
    FACT("d2i_bio_into_existing_same_object", "%d", q == r);
    BIO_free(in);
    in = BIO_new_mem_buf("\x30\x03\x02\x01\x01", 5);
    q = d2i_SSL_SESSION_bio(in, NULL);
    FACT("d2i_bio_garbage_null", "%d", q == NULL);
    BIO_free(in);
    in = BIO_new_mem_buf("", 0);
    q = PEM_read_bio_SSL_SESSION(in, NULL, NULL, NULL);
    FACT("pem_read_empty_null", "%d", q == NULL);
    BIO_free(in);
    ERR_clear_error();
    SSL_SESSION_free(p);
    SSL_SESSION_free(r);
    SSL_SESSION_free(src);
    BIO_free(pem);
    BIO_free(der);
    (void)plain;
    return 0;
}
