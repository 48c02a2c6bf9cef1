"""The C surface scripts may call: prototypes as in OpenSSL 3.0's headers, and constants.

This is what the language knows about names, argument counts and types. What a call
*does* is the model's business (`sessref.model`); a prototype listed here that the model
has no effect for is reported as "not modelled yet".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .ast import CType


@dataclass(frozen=True)
class Prototype:
    name: str
    ret: CType
    params: tuple[tuple[CType, str], ...]
    variadic: bool = False


# As in include/openssl/ssl.h (3.0); `long` times where 3.0 uses them.
_DECLARATIONS = """
SSL_SESSION *SSL_SESSION_new(void);
SSL_SESSION *SSL_SESSION_dup(const SSL_SESSION *src);
int SSL_SESSION_up_ref(SSL_SESSION *s);
void SSL_SESSION_free(SSL_SESSION *s);
SSL_SESSION *d2i_SSL_SESSION(SSL_SESSION **a, const unsigned char **pp, long length);
int i2d_SSL_SESSION(const SSL_SESSION *in, unsigned char **pp);
long SSL_SESSION_get_time(const SSL_SESSION *s);
long SSL_SESSION_set_time(SSL_SESSION *s, long t);
long SSL_SESSION_get_timeout(const SSL_SESSION *s);
long SSL_SESSION_set_timeout(SSL_SESSION *s, long t);
int SSL_SESSION_get_protocol_version(const SSL_SESSION *s);
int SSL_SESSION_set_protocol_version(SSL_SESSION *s, int version);
const char *SSL_SESSION_get0_hostname(const SSL_SESSION *s);
int SSL_SESSION_set1_hostname(SSL_SESSION *s, const char *hostname);
void SSL_SESSION_get0_alpn_selected(const SSL_SESSION *s, const unsigned char **alpn, size_t *len);
int SSL_SESSION_set1_alpn_selected(SSL_SESSION *s, const unsigned char *alpn, size_t len);
const SSL_CIPHER *SSL_SESSION_get0_cipher(const SSL_SESSION *s);
int SSL_SESSION_set_cipher(SSL_SESSION *s, const SSL_CIPHER *cipher);
int SSL_SESSION_has_ticket(const SSL_SESSION *s);
unsigned long SSL_SESSION_get_ticket_lifetime_hint(const SSL_SESSION *s);
void SSL_SESSION_get0_ticket(const SSL_SESSION *s, const unsigned char **tick, size_t *len);
unsigned int SSL_SESSION_get_compress_id(const SSL_SESSION *s);
const unsigned char *SSL_SESSION_get_id(const SSL_SESSION *s, unsigned int *len);
const unsigned char *SSL_SESSION_get0_id_context(const SSL_SESSION *s, unsigned int *len);
int SSL_SESSION_set1_id(SSL_SESSION *s, const unsigned char *sid, unsigned int sid_len);
int SSL_SESSION_set1_id_context(SSL_SESSION *s, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
size_t SSL_SESSION_get_master_key(const SSL_SESSION *sess, unsigned char *out, size_t outlen);
int SSL_SESSION_set1_master_key(SSL_SESSION *sess, const unsigned char *in, size_t len);
uint32_t SSL_SESSION_get_max_early_data(const SSL_SESSION *s);
int SSL_SESSION_set_max_early_data(SSL_SESSION *s, uint32_t max_early_data);
X509 *SSL_SESSION_get0_peer(SSL_SESSION *s);
int SSL_SESSION_is_resumable(const SSL_SESSION *s);
int SSL_SESSION_print(BIO *fp, const SSL_SESSION *ses);
int SSL_SESSION_print_fp(FILE *fp, const SSL_SESSION *ses);
int SSL_SESSION_print_keylog(BIO *bp, const SSL_SESSION *x);
int SSL_SESSION_set1_ticket_appdata(SSL_SESSION *ss, const void *data, size_t len);
int SSL_SESSION_get0_ticket_appdata(SSL_SESSION *ss, void **data, size_t *len);
int SSL_SESSION_set_ex_data(SSL_SESSION *ss, int idx, void *data);
void *SSL_SESSION_get_ex_data(const SSL_SESSION *ss, int idx);
const SSL_METHOD *TLS_method(void);
const SSL_METHOD *TLS_client_method(void);
const SSL_METHOD *TLS_server_method(void);
const SSL_METHOD *SSLv23_method(void);
const SSL_METHOD *SSLv23_client_method(void);
const SSL_METHOD *SSLv23_server_method(void);
SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth);
int SSL_CTX_up_ref(SSL_CTX *ctx);
void SSL_CTX_free(SSL_CTX *ctx);
SSL *SSL_new(SSL_CTX *ctx);
int SSL_up_ref(SSL *s);
void SSL_free(SSL *ssl);
int SSL_clear(SSL *s);
SSL_SESSION *SSL_get_session(const SSL *ssl);
SSL_SESSION *SSL_get0_session(const SSL *ssl);
SSL_SESSION *SSL_get1_session(SSL *ssl);
int SSL_set_session(SSL *to, SSL_SESSION *session);
int SSL_copy_session_id(SSL *to, const SSL *from);
int SSL_shutdown(SSL *s);
void SSL_set_shutdown(SSL *ssl, int mode);
int SSL_get_shutdown(const SSL *ssl);
int SSL_session_reused(const SSL *s);
SSL_CTX *SSL_get_SSL_CTX(const SSL *ssl);
int SSL_CTX_add_session(SSL_CTX *ctx, SSL_SESSION *session);
int SSL_CTX_remove_session(SSL_CTX *ctx, SSL_SESSION *session);
void SSL_CTX_flush_sessions(SSL_CTX *ctx, long tm);
long SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
long SSL_CTX_get_session_cache_mode(SSL_CTX *ctx);
long SSL_CTX_sess_set_cache_size(SSL_CTX *ctx, long t);
long SSL_CTX_sess_get_cache_size(SSL_CTX *ctx);
long SSL_CTX_sess_number(SSL_CTX *ctx);
long SSL_CTX_set_timeout(SSL_CTX *ctx, long t);
long SSL_CTX_get_timeout(const SSL_CTX *ctx);
int SSL_has_matching_session_id(const SSL *s, const unsigned char *id, unsigned int id_len);
int SSL_connect(SSL *ssl);
int SSL_accept(SSL *ssl);
int SSL_do_handshake(SSL *s);
void SSL_set_connect_state(SSL *s);
void SSL_set_accept_state(SSL *s);
int SSL_read(SSL *ssl, void *buf, int num);
int SSL_write(SSL *ssl, const void *buf, int num);
int SSL_peek(SSL *ssl, void *buf, int num);
SSL *SSL_dup(SSL *s);
SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx);
int SSL_CTX_set_session_id_context(SSL_CTX *ctx, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
int SSL_set_session_id_context(SSL *ssl, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, void *callback);
void SSL_set_verify(SSL *s, int mode, void *callback);
int SSL_CTX_get_verify_mode(const SSL_CTX *ctx);
int SSL_get_verify_mode(const SSL *s);
unsigned long SSL_set_options(SSL *s, unsigned long op);
unsigned long SSL_clear_options(SSL *s, unsigned long op);
unsigned long SSL_CTX_clear_options(SSL_CTX *ctx, unsigned long op);
unsigned long SSL_get_options(const SSL *s);
unsigned long SSL_CTX_get_options(const SSL_CTX *ctx);
int SSL_set_min_proto_version(SSL *s, int version);
int SSL_set_max_proto_version(SSL *s, int version);
int SSL_get_min_proto_version(SSL *s);
int SSL_get_max_proto_version(SSL *s);
int SSL_CTX_get_min_proto_version(SSL_CTX *ctx);
int SSL_CTX_get_max_proto_version(SSL_CTX *ctx);
int SSL_set_num_tickets(SSL *s, size_t num_tickets);
int SSL_new_session_ticket(SSL *s);
long SSL_CTX_set_options(SSL_CTX *ctx, long op);
int SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
int SSL_CTX_set_num_tickets(SSL_CTX *ctx, size_t num_tickets);
void SSL_CTX_sess_set_new_cb(SSL_CTX *ctx, void *new_session_cb);
void SSL_CTX_sess_set_remove_cb(SSL_CTX *ctx, void *remove_session_cb);
void SSL_CTX_sess_set_get_cb(SSL_CTX *ctx, void *get_session_cb);
SSL_SESSION *PEM_read_bio_SSL_SESSION(BIO *bp, SSL_SESSION **x, void *cb, void *u);
SSL_SESSION *d2i_SSL_SESSION_bio(BIO *bp, SSL_SESSION **s_id);
int PEM_write_bio_SSL_SESSION(BIO *bp, const SSL_SESSION *x);
int i2d_SSL_SESSION_bio(BIO *bp, const SSL_SESSION *s_id);
void OPENSSL_free(void *addr);
void X509_free(X509 *a);
time_t time(time_t *tloc);
unsigned int sleep(unsigned int seconds);
size_t strlen(const char *s);
int printf(const char *format, ...);
int puts(const char *s);
"""


def _ctype(text: str) -> CType:
    text = text.strip()
    const = text.startswith("const ")
    if const:
        text = text[len("const ") :]
    pointers = text.count("*")
    base = text.replace("*", "").strip()
    return CType(base, pointers, const)


def _parse(decl: str) -> Prototype:
    m = re.fullmatch(r"(.+?[\s*])(\w+)\((.*)\);", decl.strip())
    assert m, decl
    ret, name, params_text = m.groups()
    params: list[tuple[CType, str]] = []
    variadic = False
    if params_text.strip() not in ("", "void"):
        for piece in params_text.split(","):
            piece = piece.strip()
            if piece == "...":
                variadic = True
                continue
            pm = re.fullmatch(r"(.+?[\s*])(\w+)", piece)
            assert pm, piece
            params.append((_ctype(pm.group(1)), pm.group(2)))
    return Prototype(name, _ctype(ret), tuple(params), variadic)


PROTOTYPES: dict[str, Prototype] = {
    p.name: p for p in (_parse(line) for line in _DECLARATIONS.strip().splitlines())
}

# The callbacks the registration calls take, as `typedef`s in include/openssl/ssl.h (3.0):
# the script function passed must have this signature (const ignored).
CALLBACK_SIGNATURES: dict[str, Prototype] = {
    "SSL_CTX_sess_set_remove_cb": _parse("void remove_session_cb(SSL_CTX *ctx, SSL_SESSION *sess);"),
    "SSL_CTX_sess_set_new_cb": _parse("int new_session_cb(SSL *ssl, SSL_SESSION *sess);"),
    "SSL_CTX_sess_set_get_cb": _parse(
        "SSL_SESSION *get_session_cb(SSL *ssl, const unsigned char *data, int len, int *copy);"
    ),
}

# Values as in include/openssl/ssl.h, prov_ssl.h (3.0).
CONSTANTS: dict[str, int] = {
    "SSL_SESS_CACHE_OFF": 0x0000,
    "SSL_SESS_CACHE_CLIENT": 0x0001,
    "SSL_SESS_CACHE_SERVER": 0x0002,
    "SSL_SESS_CACHE_BOTH": 0x0003,
    "SSL_SESS_CACHE_NO_AUTO_CLEAR": 0x0080,
    "SSL_SESS_CACHE_NO_INTERNAL_LOOKUP": 0x0100,
    "SSL_SESS_CACHE_NO_INTERNAL_STORE": 0x0200,
    "SSL_SESS_CACHE_NO_INTERNAL": 0x0300,
    "SSL_SESS_CACHE_UPDATE_TIME": 0x0400,
    "SSL_SENT_SHUTDOWN": 1,
    "SSL_RECEIVED_SHUTDOWN": 2,
    "SSL_OP_NO_TICKET": 1 << 14,
    "TLS1_VERSION": 0x0301,
    "TLS1_1_VERSION": 0x0302,
    "TLS1_2_VERSION": 0x0303,
    "TLS1_3_VERSION": 0x0304,
    "SSL_MAX_SSL_SESSION_ID_LENGTH": 32,
    "SSL_MAX_SID_CTX_LENGTH": 32,
    "SSL3_VERSION": 0x0300,
    "SSL_VERIFY_NONE": 0x00,
    "SSL_VERIFY_PEER": 0x01,
    "SSL_VERIFY_FAIL_IF_NO_PEER_CERT": 0x02,
    "SSL_VERIFY_CLIENT_ONCE": 0x04,
    "SSL_VERIFY_POST_HANDSHAKE": 0x08,
    "SSL_SESSION_CACHE_MAX_SIZE_DEFAULT": 1024 * 20,
}

# Scalar C types the language accepts; pointer types use the OpenSSL object names.
SCALAR_TYPES = ("int", "long", "unsigned int", "unsigned long", "size_t", "time_t", "uint32_t")
OBJECT_TYPES = ("SSL_SESSION", "SSL_CTX", "SSL")
OPAQUE_POINTER_TYPES = ("SSL_METHOD", "SSL_CIPHER", "BIO", "X509", "FILE", "void", "char", "unsigned char")
