"""The objects of the model, the cells that describe them, who holds references, and the
library's defaults.

The model's state is cells: `RC(o)` is the cell ("rc", o), the reference count of object
`o`; `SLOT(ssl)` the session in an `SSL`'s slot; `PQ("kind", i)` the kind of the i-th entry
of the callback queue (see `cache.py`). Each kind of cell is declared once below, as a
`Field`, with what it means; `check_cell` refuses any other. A holder of a reference is a
`Holder` (the script, an `SSL`'s slot, a cache, ...), also from a fixed set of kinds.
"""

from __future__ import annotations

from typing import NamedTuple

SESSION = "SSL_SESSION"
SSL = "SSL"
CTX = "SSL_CTX"
KINDS = (SESSION, SSL, CTX)

UNALLOCATED, ALIVE, DESTROYED = 0, 1, 2


class _HolderFields(NamedTuple):
    kind: str
    obj: int = 0  # the `SSL` or context that holds the reference (0 for the script)


class Holder(_HolderFields):
    """Who owns a reference: the script, or a library holder tied to one object. Only the
    kinds of `HOLDER_KINDS` can be made, so a misspelt holder fails where it is built."""

    __slots__ = ()

    def __new__(cls, kind: str, obj: int = 0) -> Holder:
        if kind not in HOLDER_KINDS:
            raise ValueError(f"no holder kind {kind!r}: one of {', '.join(sorted(HOLDER_KINDS))}")
        return super().__new__(cls, kind, obj)

    @property
    def is_script(self) -> bool:
        return self.kind == "script"


HOLDER_KINDS = frozenset({
    "script",  # the script's own references: everything not held by a library holder
    "slot",  # an `SSL`'s session slot (`ssl->session`)
    "cache",  # a context's internal cache
    "ssl-ctx",  # an `SSL`'s `ctx` reference to its context
    "ssl-session-ctx",  # an `SSL`'s `session_ctx` reference
    "handshake",  # a server lookup's reference, until the handshake moves or drops it
    "new-cb",  # the library's reference for `new_session_cb` (ssl_lib.c L3764-3765)
    "kept",  # a reference a declared function of the script keeps (`holds`, model/contracts.py)
})
SCRIPT = Holder("script")
KILLED_BY_LIBRARY = -1


# What the library owes the script in the middle of a call (the queue, described in
# `cache.py`): the kind of each entry ("pq", "kind", i), and the kind of the running
# callback ("cbkind",).
REMOVED, CTX_END, NEW_SESSION, GET_SESSION, STAGE, RELEASE, SERVERNAME = 1, 2, 3, 4, 5, 6, 7
CALLBACK_FIELD = {REMOVED: "remove_cb", NEW_SESSION: "new_cb", GET_SESSION: "get_cb", SERVERNAME: "sni_cb"}


def slot_of(ssl: int) -> Holder:
    return Holder("slot", ssl)


def ctx_ref_of(ssl: int) -> Holder:
    return Holder("ssl-ctx", ssl)


def session_ctx_ref_of(ssl: int) -> Holder:
    return Holder("ssl-session-ctx", ssl)


def cache_of(ctx: int) -> Holder:
    return Holder("cache", ctx)


def handshake_of(ssl: int) -> Holder:
    return Holder("handshake", ssl)


def new_cb_of(ssl: int) -> Holder:
    return Holder("new-cb", ssl)


def kept_by_function(o: int) -> Holder:
    """The reference a function declared with `holds` keeps to `o` (model/contracts.py)."""
    return Holder("kept", o)


# ---- cells -------------------------------------------------------------------------------------
# Every cell the model reads or writes is declared here once, as a `Field`: `RC(o)` is the
# cell ("rc", o). Each field has a fixed number of keys and, for the grouped cells (the
# callback queue, a handshake's scratch values), a fixed set of attributes, so a misspelt
# field is a NameError where it is used and a misspelt attribute or a wrong arity raises
# where the cell is built. The backends also refuse a raw tuple whose name is not declared
# (`check_cell`). Cells stay plain tuples, so both interpreters and the reports read them
# as before.


class Field:
    """One kind of cell: its name, how many keys follow it, and what it means."""

    __slots__ = ("name", "arity", "attrs", "finite", "doc")

    def __init__(self, name: str, arity: tuple[int, ...], doc: str, finite: bool = False, attrs: frozenset[str] = frozenset()):
        if name in FIELDS:
            raise ValueError(f"cell field {name!r} is declared twice")
        self.name, self.arity, self.attrs, self.finite, self.doc = name, arity, attrs, finite, doc
        FIELDS[name] = self

    def __call__(self, *key) -> tuple:
        if len(key) not in self.arity:
            raise ValueError(f"the cell `{self.name}` takes {' or '.join(map(str, self.arity))} key(s), not {len(key)}")
        if self.attrs and key[0] not in self.attrs:
            raise ValueError(f"the cell `{self.name}` has no attribute {key[0]!r}: one of {', '.join(sorted(self.attrs))}")
        return (self.name, *key)

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


FIELDS: dict[str, Field] = {}

# Every object
ST = Field("st", (1,), "UNALLOCATED, ALIVE or DESTROYED", finite=True)
RC = Field("rc", (1,), "its reference count (`references` in the C structures)", finite=True)
LIB = Field("lib", (1,), "how many of those references library holders own; the rest are the script's", finite=True)
SITE = Field("site", (1,), "the step that allocated it (where a leak at the end is reported)", finite=True)
DEATH = Field("death", (1,), "the step that destroyed it", finite=True)
KILLER = Field("killer", (1,), "the holder whose release destroyed it", finite=True)
LOST = Field("lost", (1,), "a leak of it was already reported", finite=True)
# A session
CACHED = Field("cached", (1,), "the context whose cache holds it (0: none)", finite=True)
VER = Field("ver", (1,), "its protocol version (half of its cache key)")
SID = Field("sid", (1,), "its session id (the other half; 0 is the empty id)")
NR = Field("nr", (1,), "`not_resumable`", finite=True)
NRWHY = Field("nrwhy", (1,), "why it was marked not resumable (`handshake.NR_REASONS`)", finite=True)
TIME = Field("time", (1,), "its time")
TIMEOUT = Field("timeout", (1,), "its timeout; a context's session timeout")
LSEQ = Field("lseq", (0, 1), "its place among equal expiries; with no key, the last number given", finite=True)
HOST = Field("host", (1,), "which hostname buffer it has (0: none; each new one frees the old)", finite=True)
HOSTSEQ = Field("hostseq", (1,), "the last hostname buffer number used", finite=True)
CIPHER = Field("cipher", (1,), "whether it has a cipher", finite=True)
HOSTFREED = Field("hostfreed", (1,), "whether the script freed its hostname (a `get0` pointer) already", finite=True)
REAL = Field("real", (1,), "a handshake made it, so a peer knows its keys and can resume it", finite=True)
TICK = Field("tick", (1,), "it carries a ticket", finite=True)
ORIGIN = Field("origin", (1,), "the server context whose handshake made it (0: a client's)", finite=True)
# An SSL
SLOT = Field("slot", (1,), "its session slot (`ssl->session`)", finite=True)
CTX_OF = Field("ctx", (1,), "its `ctx`", finite=True)
SCTX = Field("sctx", (1,), "its `session_ctx`", finite=True)
DONE = Field("done", (1,), "its handshake completed", finite=True)
SHUT = Field("shut", (1,), "its shutdown flags", finite=True)
SIDE = Field("side", (1,), "client (1) or server (2), once set", finite=True)
PROTO = Field("proto", (1,), "the negotiated protocol version", finite=True)
HIT = Field("hit", (1,), "whether its handshake resumed", finite=True)
OPTS = Field("opts", (1,), "its options (an `SSL`'s are copied from its context at `SSL_new`)", finite=True)
MINV = Field("minv", (1,), "its minimum protocol version (0: none)", finite=True)
MAXV = Field("maxv", (1,), "its maximum protocol version (0: none)", finite=True)
NTICK = Field("ntick", (1,), "how many TLS 1.3 tickets a server sends", finite=True)
FAILED = Field("failed", (1,), "the connection is in error (after a fatal alert)", finite=True)
PEND = Field("pend", (1,), "data a peek saw is waiting for the next read", finite=True)
PEEKING = Field("peeking", (1,), "the running read is an `SSL_peek`", finite=True)
QUIET = Field("quiet", (1,), "quiet shutdown, on a context or an `SSL` (an `SSL`'s is copied at `SSL_new`)")
SNI = Field("sni", (1,), "a client's server name is set (`SSL_set_tlsext_host_name`; `ssl->ext.hostname`)", finite=True)
HSAFTER = Field("hsafter", (1,), "what the running handshake call does once the handshake is done", finite=True)
# A context
METHOD = Field("method", (1,), "its method (client, server or either)", finite=True)
FIXV = Field("fixv", (1,), "the one version its method speaks (`TLSv1_2_method`; 0: any), a context's or an `SSL`'s", finite=True)
MODE = Field("mode", (1,), "its session cache mode")
SIZE = Field("size", (1,), "its cache size")
NCACHED = Field("ncached", (1,), "how many sessions its cache holds", finite=True)
REMOVE_CB = Field("remove_cb", (1,), "its remove callback (a script function, or 0)", finite=True)
NEW_CB = Field("new_cb", (1,), "its new-session callback", finite=True)
GET_CB = Field("get_cb", (1,), "its get-session callback", finite=True)
SNI_CB = Field("sni_cb", (1,), "its servername callback (`SSL_CTX_set_tlsext_servername_callback`)", finite=True)
DYING = Field("dying", (1,), "its last reference is going: its last flush's callbacks still see it", finite=True)
GOODC = Field("goodc", (1,), "its completed client handshakes (for the automatic flush)", finite=True)
GOODS = Field("goods", (1,), "its completed server handshakes", finite=True)
ISSUED12 = Field("issued12", (1,), "it issued a TLS 1.2 ticket (only then can a client offer one)", finite=True)
ISSUED13 = Field("issued13", (1,), "it issued a TLS 1.3 ticket", finite=True)
TSID12 = Field("tsid12", (1,), "the session id context of the last TLS 1.2 ticket it issued")
TSID13 = Field("tsid13", (1,), "the session id context of the last TLS 1.3 ticket it issued")
THOST12 = Field("thost12", (1,), "the session of the last TLS 1.2 ticket it issued had a hostname", finite=True)
THOST13 = Field("thost13", (1,), "the session of the last TLS 1.3 ticket it issued had a hostname", finite=True)
# Connection settings and the rest of the session API (model/connection.py)
SIDCTX = Field("sidctx", (1,), "the session id context of a context, an `SSL` or a session (0: empty; "
               "a string literal's number + 1, else an opaque number)")
VMODE = Field("vmode", (1,), "the verify mode of a context or an `SSL` (`SSL_VERIFY_PEER` ...)", finite=True)
BEGAN = Field("began", (1,), "a handshake began on the `SSL` since it was made or cleared (`SSL_dup`)", finite=True)
SENT = Field("sent", (1,), "how many TLS 1.3 tickets the server `SSL` sent", finite=True)
XTICK = Field("xtick", (1,), "tickets `SSL_new_session_ticket` asked for, not sent yet", finite=True)
# The world
CLOCK = Field("clock", (0,), "what `time(NULL)` returns now")
EXN = Field("exn", (1,), "how many ex_data values were set on a session (a list, newest last)", finite=True)
EXK = Field("exk", (2,), "the index of a session's j-th ex_data value: (session, j)")
EXV = Field("exv", (2,), "a session's j-th ex_data value: (session, j)")
EXIDX = Field("exidx", (1,), "the last ex_data index given out for a class (CRYPTO_EX_INDEX_*)", finite=True)
IDSEQ = Field("idseq", (0,), "the last session id a handshake made up")
HSRET = Field("hsret", (0,), "the result of the running handshake call")
PQ_N = Field("pq_n", (0,), "how many entries the callback queue has (see `cache.py`)")
PQ = Field(
    "pq", (2,), "an entry of the callback queue: (attribute, index)",
    attrs=frozenset({"kind", "ctx", "arg", "rel", "ssl", "len", "code", "n", "copy", "ret", "count", "final"}),
)
CBKIND = Field("cbkind", (0,), "the kind of the running callback (0: none)")
CBARG = Field("cbarg", (0,), "the session the running callback was given")
CBFREED = Field("cbfreed", (0,), "where the running `new_session_cb` freed the library's reference (0: it did not)")
CBSITE = Field("cbsite", (1,), "where the running callback returned or set `*copy`", attrs=frozenset({"return", "copy"}))
HS = Field("hs", (2,), "a handshake's scratch value: (attribute, ssl)",
           attrs=frozenset({"copy", "got", "keys", "then", "ticket", "wnum", "tix", "sniret"}))
# The executor's own, which the model reads (`World.live_variables`)
VAR = Field("var", (3,), "a variable of the script: (frame, name, declaration offset)")
RESULT = Field("result", (1,), "a function's result while its `return` runs")


def check_cell(cell: tuple) -> None:
    """Raise when `cell` is not a declared field with its arity and attributes."""
    field = FIELDS.get(cell[0]) if cell else None
    if field is None:
        raise ValueError(f"no cell field {cell[0] if cell else '()'!r}: declare it in model/objects.py")
    field(*cell[1:])


# Fields that only ever hold a few plain values on any one path. The encoding keeps each
# object's fields of this kind together, so that after a join it knows which combinations
# of them occur (a destroyed object with count 0, a live one with count 1) instead of
# every combination of their values.
FINITE_FIELDS = frozenset(name for name, field in FIELDS.items() if field.finite)

# Defaults, OpenSSL 3.0.
# ssl/ssl_lib.c SSL_CTX_new_ex L3246: session_cache_mode = SSL_SESS_CACHE_SERVER.
DEFAULT_CACHE_MODE = 0x0002
# include/openssl/ssl.h.in L648: SSL_SESSION_CACHE_MAX_SIZE_DEFAULT (1024 * 20).
DEFAULT_CACHE_SIZE = 20480
# ssl/t1_lib.c tls1_default_timeout L102-109: the TLS method default, 7200 s (the manual's 300 is wrong).
DEFAULT_CTX_TIMEOUT = 7200
# ssl/ssl_sess.c SSL_SESSION_new L154: `ss->timeout = 60 * 5 + 4`.
SESSION_NEW_TIMEOUT = 304

CACHE_CLIENT = 0x0001
CACHE_SERVER = 0x0002
CACHE_NO_AUTO_CLEAR = 0x0080
CACHE_NO_INTERNAL_LOOKUP = 0x0100
CACHE_NO_INTERNAL_STORE = 0x0200
CACHE_UPDATE_TIME = 0x0400
SENT_SHUTDOWN = 1
RECEIVED_SHUTDOWN = 2
# include/openssl/ssl.h SSL_VERIFY_PEER.
VERIFY_PEER = 0x01
# include/openssl/ssl.h SSL_OP_NO_TICKET.
OP_NO_TICKET = 1 << 14
# ssl/ssl_lib.c SSL_CTX_new_ex L3366: SSL_OP_NO_COMPRESSION | SSL_OP_ENABLE_MIDDLEBOX_COMPAT.
DEFAULT_OPTIONS = 0x00020000 | 0x00100000
# ssl/ssl_lib.c SSL_CTX_new_ex L3399: num_tickets = 2.
DEFAULT_NUM_TICKETS = 2

# time_t is 64 bits; a time + timeout beyond this sets `timeout_ovf` (never expires).
TIME_T_MAX = 2**63 - 1
# The largest values of the C types the library's results have (x86_64 LP64): a value the
# model makes up for a result lies in its type's range (checker/language/cint.py).
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
ULONG_MAX = 2**64 - 1
# What `time(NULL)` may return: some moment between 2023 and 2033.
CLOCK_RANGE = (1_700_000_000, 2_000_000_000)
