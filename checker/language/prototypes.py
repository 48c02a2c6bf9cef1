"""The C surface scripts may call: prototypes as in OpenSSL 3.0's headers, and constants.

This is what the language knows about names, argument counts and types. The prototypes
come from the function catalogue (`catalogue.py`), which also says what each call does to
the model: modelled, neutral or unmodelled.
"""

from __future__ import annotations

from . import cint
from .catalogue import CATALOGUE
from .cheader import Prototype, prototype

# Every function and function-like macro sessref knows, with its prototype as in the 3.0
# headers: the catalogue's (`catalogue.toml`). A parameter that takes a function is `void *`.
PROTOTYPES: dict[str, Prototype] = {name: e.prototype for name, e in CATALOGUE.items()}


# The callbacks the registration calls take, as in include/openssl/ssl.h (3.0): the
# script function passed must have this signature (const ignored). Derived from the
# catalogue's `registers` field, which says which calls register which callback.
_SIGNATURES: dict[str, Prototype] = {
    "remove_session_cb": prototype("void remove_session_cb(SSL_CTX *ctx, SSL_SESSION *sess);"),
    "new_session_cb": prototype("int new_session_cb(SSL *ssl, SSL_SESSION *sess);"),
    "get_session_cb": prototype("SSL_SESSION *get_session_cb(SSL *ssl, const unsigned char *data, int len, int *copy);"),
    "servername_cb": prototype("int servername_cb(SSL *s, int *al, void *arg);"),
}
CALLBACK_SIGNATURES: dict[str, Prototype] = {
    name: _SIGNATURES[e.registers] for name, e in CATALOGUE.items() if e.registers
}

# Every integer constant of the 3.0 headers (`constants.toml`, values and types as gcc
# computes them): `SSL_VERIFY_PEER`, `SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE` ...
CONSTANTS: dict[str, int] = cint.CONSTANT_VALUES

# Scalar C types the language accepts; pointer types use the OpenSSL object names.
SCALAR_TYPES = ("int", "long", "unsigned int", "unsigned long", "size_t", "time_t", "uint32_t")
OBJECT_TYPES = ("SSL_SESSION", "SSL_CTX", "SSL")
OPAQUE_POINTER_TYPES = ("SSL_METHOD", "SSL_CIPHER", "BIO", "X509", "FILE", "void", "char", "unsigned char")
