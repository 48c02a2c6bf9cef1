"""What each modelled OpenSSL call does, with where OpenSSL does it (3.0.22 line numbers;
the installed 3.0.19 behaves the same): `docs/semantics.md` gives the facts and how each
was checked against the library.

Each effect receives the `World` and the call's arguments and returns the call's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import cache, handshake, refs
from .objects import (
    BEGAN,
    CACHED,
    CIPHER,
    CLOCK,
    CLOCK_RANGE,
    CTX,
    CTX_OF,
    DEFAULT_CACHE_MODE,
    DEFAULT_CACHE_SIZE,
    DEFAULT_CTX_TIMEOUT,
    DEFAULT_NUM_TICKETS,
    DEFAULT_OPTIONS,
    DONE,
    FAILED,
    FIXV,
    HIT,
    HOST,
    HOSTFREED,
    HOSTSEQ,
    HS,
    HSRET,
    IDSEQ,
    INT_MAX,
    ISSUED12,
    ISSUED13,
    LSEQ,
    METHOD,
    MODE,
    NCACHED,
    NR,
    NRWHY,
    NTICK,
    OPTS,
    ORIGIN,
    PEEKING,
    PEND,
    PROTO,
    QUIET,
    RC,
    REAL,
    SCRIPT,
    SCTX,
    SENT,
    SESSION,
    SESSION_NEW_TIMEOUT,
    SHUT,
    SID,
    SIDCTX,
    SIDE,
    SIZE,
    SLOT,
    SSL,
    THOST12,
    THOST13,
    TICK,
    TIME,
    TIME_T_MAX,
    TIMEOUT,
    UINT_MAX,
    ULONG_MAX,
    VER,
    XTICK,
    ctx_ref_of,
    session_ctx_ref_of,
    slot_of,
)
from .rules import (
    BORROWED_FREE,
    BORROWED_GET0_RESULT,
    CACHE_CORRUPTION,
    DOUBLE_FREE,
    DOUBLE_FREE_HOSTNAME,
    USE_AFTER_FREE,
)
from .sessiondata import SID_CTX_MAX, copy_ex_data, dup_fails_on_ex_data, id_value, new_hostname
from .values import (
    FIXED_TLS12_METHODS,
    METHOD_ANY,
    METHOD_ANY_12,
    METHOD_CLIENT,
    METHOD_CLIENT_12,
    METHOD_SERVER,
    METHOD_SERVER_12,
    NULL,
    OPAQUE_POINTER,
    interior,
    interior_generation,
    interior_owner,
    string_index,
)
from .world import Arg, Value, World, obj


@dataclass(frozen=True)
class Effect:
    name: str
    run: Callable[[World, list[Arg]], Value]
    cite: str
    # What the returned pointer means for the caller: "owned", "borrowed" or "" (not an object).
    returns: str = ""
    # The call's value is only known once the library's callbacks and stages ran (a handshake).
    deferred: bool = False


EFFECTS: dict[str, Effect] = {}


def effect(*names: str, cite: str, returns: str = "", deferred: bool = False) -> Callable:
    def register(fn: Callable[[World, list[Arg]], Value]) -> Callable:
        for name in names:
            EFFECTS[name] = Effect(name, fn, cite, returns, deferred)
        return fn

    return register


def _session_arg(w: World, arg: Arg, name: str, null_ok: bool = False) -> int:
    """A session argument the call reads: NULL is a crash unless the call checks for it."""
    s = w.ptr(arg)
    if s == NULL and null_ok:
        return NULL
    s = refs.require(w, arg, f"`{name}`")
    refs.use(w, s, f"`{name}` reads", via=arg.var)
    return s


def _object_arg(w: World, arg: Arg, name: str) -> int:
    o = refs.require(w, arg, f"`{name}`")
    refs.use(w, o, f"`{name}` reads", via=arg.var)
    return o


def _reads_buffer(w: World, arg: Arg, name: str) -> None:
    """A `char *` argument the call reads: a `get0` pointer into a destroyed session dangles,
    and so does a hostname pointer once the session's hostname was replaced."""
    value = w.value(arg.value)
    owner = interior_owner(value)
    who = f"`{name}`" if name.isidentifier() else name
    if owner:
        refs.use(w, owner, f"{who} reads `{arg.text}`, a pointer into", via=arg.var)
        if _stale_hostname(w, owner, value):
            w.finding(
                USE_AFTER_FREE,
                f"{who} reads `{arg.text}`, the hostname {obj(owner)} had before it was replaced "
                "(the old buffer was freed)",
                (owner,),
            )


def _stale_hostname(w: World, owner: int, value: int) -> bool:
    """A hostname pointer whose buffer the session freed (a new hostname, an in-place d2i)."""
    generation = interior_generation(value)
    return generation > 0 and w.get(HOST(owner)) != generation


def _alloc_fails(w: World) -> bool:
    return w.allocation_failures and w.choose("allocation fails")


def _new_session_fields(w: World, s: int) -> None:
    """ssl/ssl_sess.c SSL_SESSION_new L138-170: no id, no version, time now, timeout 304 s."""
    w.set(CACHED(s), 0)
    w.set(VER(s), 0)
    w.set(SID(s), 0)
    w.set(NR(s), False)
    w.set(TIME(s), w.get(CLOCK()))
    w.set(TIMEOUT(s), SESSION_NEW_TIMEOUT)
    w.set(LSEQ(s), 0)
    w.set(HOST(s), 0)
    w.set(HOSTSEQ(s), 0)
    w.set(CIPHER(s), False)
    w.set(HOSTFREED(s), False)
    w.set(SIDCTX(s), 0)
    _not_from_handshake(w, s)


def _not_from_handshake(w: World, s: int) -> None:
    """No peer knows this session's keys, and it has no ticket (decoded sessions are
    modelled without one)."""
    w.set(REAL(s), False)
    w.set(ORIGIN(s), 0)
    w.set(TICK(s), False)
    w.set(NRWHY(s), 0)


# ---- taking and dropping the script's references, for all three kinds ------------------


def _up_ref(name: str, cite: str) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        o = _object_arg(w, args[0], name)
        refs.take(w, o, SCRIPT, f"`{name}` gives the script another reference to {obj(o)}")
        return 1

    EFFECTS[name] = Effect(name, run, cite)


def _free(name: str, cite: str) -> None:
    """A free function: NULL is a no-op; otherwise the script drops one reference."""

    def run(w: World, args: list[Arg]) -> Value:
        o = w.ptr(args[0])
        if o != NULL:
            refs.release(w, o, SCRIPT, via=args[0].var, text=f"`{name}({args[0].text})` drops a reference")
        return None

    EFFECTS[name] = Effect(name, run, cite)


_up_ref("SSL_SESSION_up_ref", "ssl/ssl_sess.c SSL_SESSION_up_ref L894-904")
_up_ref("SSL_up_ref", "ssl/ssl_lib.c SSL_up_ref L865")
_up_ref("SSL_CTX_up_ref", "ssl/ssl_lib.c SSL_CTX_up_ref L3416")
_free("SSL_SESSION_free", "ssl/ssl_sess.c SSL_SESSION_free L861-892 (NULL is a no-op; no cache is touched)")
_free("SSL_free", "ssl/ssl_lib.c SSL_free L1173-1271 (NULL is a no-op)")
_free(
    "SSL_CTX_free",
    "ssl/ssl_lib.c SSL_CTX_free L3428-3510 (NULL is a no-op; the last reference flushes the cache, L3454-3458)",
)


# ---- SSL_SESSION ---------------------------------------------------------------------


@effect("SSL_SESSION_new", cite="ssl/ssl_sess.c SSL_SESSION_new L138-170", returns="owned")
def session_new(w: World, args: list[Arg]) -> Value:
    if _alloc_fails(w):
        return NULL
    s = refs.allocate(w, SESSION)
    _new_session_fields(w, s)
    return s


@effect("SSL_SESSION_dup", cite="ssl/ssl_sess.c ssl_session_dup_intern L176-296, SSL_SESSION_dup L298", returns="owned")
def session_dup(w: World, args: list[Arg]) -> Value:
    src = _session_arg(w, args[0], "SSL_SESSION_dup")
    if _alloc_fails(w):
        return NULL
    if dup_fails_on_ex_data(w, src):
        w.note(src, f"{obj(src)} has ex_data but no session ex_data index was ever made: `SSL_SESSION_dup` fails")
        return NULL
    d = refs.allocate(w, SESSION)
    # The copy has src's key, times and `not_resumable`; it is not cached (prev/next/owner cleared).
    for field in ("ver", "sid", "nr", "nrwhy", "time", "timeout", "cipher", "tick", "real", "origin", "sidctx"):
        w.set((field, d), w.get((field, src)))
    copy_ex_data(w, d, src)
    w.set(HOSTSEQ(d), 0)
    new_hostname(w, d, bool(w.get(HOST(src))))  # a copy of the hostname
    w.set(CACHED(d), 0)
    w.set(LSEQ(d), 0)
    return d


def _decoded_fields(w: World, s: int) -> None:
    """The decoded session's key and times come from the (opaque) input bytes.

    ssl/ssl_asn1.c d2i_SSL_SESSION [verified 3.0.19]: a protocol version whose major byte is
    not 3 (TLS; or DTLS's 0xFE, or DTLS1_BAD_VER, which the model leaves out: any set of
    distinct values will do for a cache key) fails the decoding; a time of 0 (absent) reads
    the clock; a timeout of 0 (absent) becomes 3. A decoded session always has a cipher
    (the field is mandatory) and has a hostname if its bytes carry one."""
    w.set(VER(s), w.fresh_int("decoded protocol version", 0x0300, 0x03FF))
    w.set(SID(s), w.fresh_int("decoded session id", 1, None))
    w.set(NR(s), False)
    encoded_time = w.fresh_int("decoded time", 0, TIME_T_MAX)
    w.set(TIME(s), w.ite(w.eq(encoded_time, 0), w.get(CLOCK()), encoded_time))
    encoded_timeout = w.fresh_int("decoded timeout", 0, TIME_T_MAX)
    w.set(TIMEOUT(s), w.ite(w.eq(encoded_timeout, 0), 3, encoded_timeout))
    new_hostname(w, s, w.choose("decoded hostname"))  # an in-place decode frees the old one
    w.set(CIPHER(s), True)
    # The session id context a server put in it (0: none); ssl_get_prev_session compares it.
    w.set(SIDCTX(s), w.fresh_int("decoded session id context", 0, None))


@effect(
    "d2i_SSL_SESSION",
    cite="ssl/ssl_asn1.c d2i_SSL_SESSION L242-399 (reuse of *a: L256-262, L293-295; failure: L394-398)",
    returns="owned",
)
def d2i_session(w: World, args: list[Arg]) -> Value:
    a, pp = args[0], args[1]
    refs.require(w, pp, "`d2i_SSL_SESSION`")
    return decode_session(w, a, "d2i_SSL_SESSION", pp)


def decode_session(w: World, a: Arg, name: str, pp: Arg | None = None) -> Value:
    """`d2i_SSL_SESSION(a, ...)` and the decoders built on it (`PEM_read_bio_SSL_SESSION`,
    `d2i_SSL_SESSION_bio`): a new owned session, or `*a` decoded in place."""
    target = a.address_of
    existing = w.value(w.get(target)) if target is not None else NULL
    if existing:
        refs.use(w, existing, f"`{name}` decodes into", via=target)
    if existing:
        # The object is filled in place, session id (the cache key) included; a decoding
        # that fails half-way has already overwritten some fields [verified 3.0.19: the
        # protocol version], so a cached object is corrupted either way.
        owner = w.get(CACHED(existing))
        if owner:
            w.finding(
                CACHE_CORRUPTION,
                f"`{name}` overwrites the session id of {obj(existing)} while it is in "
                f"{obj(owner)}'s cache: the cache entry keeps the old key",
                (existing, owner),
            )
    if not w.choose("decoding succeeds"):
        w.note(existing or 0, f"`{name}` fails on its input: returns NULL")
        return NULL
    # crypto/asn1/tasn_dec.c ASN1_item_d2i: on success `*pp` moves past the bytes decoded,
    # still a plain buffer the model does not follow.
    if pp is not None:
        _write_out(w, pp, OPAQUE_POINTER)
    if existing:
        _decoded_fields(w, existing)
        w.note(existing, f"`{name}` decodes into {obj(existing)} in place: no new reference")
        return existing
    s = refs.allocate(w, SESSION)
    w.set(CACHED(s), 0)
    w.set(LSEQ(s), 0)
    w.set(HOSTSEQ(s), 0)
    _not_from_handshake(w, s)
    _decoded_fields(w, s)
    if target is not None:
        # `*a` and the result are the same single reference.
        w.set(target, s)
        w.note(s, f"`{a.text[1:]}` is set to the new session too: one reference, two pointers")
    return s


def _encode_to_bio(name: str, cite: str) -> None:
    """`PEM_write_bio_SSL_SESSION(bp, s)` / `i2d_SSL_SESSION_bio(bp, s)`: i2d of the session
    into the BIO; 0 without a cipher, as i2d [verified 3.0.19: a bare session gives 0]."""

    def run(w: World, args: list[Arg]) -> Value:
        s = _session_arg(w, args[1], name)
        return 1 if w.get(CIPHER(s)) else 0

    EFFECTS[name] = Effect(name, run, cite)


_encode_to_bio("PEM_write_bio_SSL_SESSION", "ssl/ssl_sess.c IMPLEMENT_PEM_rw(SSL_SESSION): PEM_ASN1_write_bio of i2d_SSL_SESSION")
_encode_to_bio("i2d_SSL_SESSION_bio", "ssl.h i2d_SSL_SESSION_bio: ASN1_i2d_bio_of(SSL_SESSION, i2d_SSL_SESSION, bp, s_id)")


@effect("i2d_SSL_SESSION", cite="ssl/ssl_asn1.c i2d_SSL_SESSION L81-238 (reads the session)")
def i2d_session(w: World, args: list[Arg]) -> Value:
    s = _session_arg(w, args[0], "i2d_SSL_SESSION", null_ok=True)
    # Fails (0) without a cipher, as for a bare `SSL_SESSION_new` session [verified 3.0.19].
    if not s or not w.get(CIPHER(s)):
        return 0
    # ASN.1's i2d (crypto/asn1/tasn_enc.c asn1_item_flags_i2d): with `pp` set, `*pp` moves
    # past the bytes written, or points at a new buffer when it was NULL; either way a
    # plain buffer the model does not follow.
    if len(args) > 1:
        _write_out(w, args[1], OPAQUE_POINTER)
    return w.fresh_int("encoded length", 1, INT_MAX)  # returns int


def _reader(name: str, cite: str, result: Callable, null_ok: bool = False, with_args: bool = False) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        s = _session_arg(w, args[0], name, null_ok)
        for extra in args[1:]:
            _reads_buffer(w, extra, name)
        if s == NULL:
            return 0
        return result(w, args, s) if with_args else result(w, s)

    EFFECTS[name] = Effect(name, run, cite, "borrowed" if "get0" in name or name == "SSL_SESSION_get_id" else "")


def _opaque(label: str, lo: int | None = None, hi: int | None = None) -> Callable[[World, int], Value]:
    return lambda w, s: w.fresh_int(label, lo, hi)


_GETTERS = "ssl/ssl_sess.c L957-1114 (reads the session)"
_reader("SSL_SESSION_get_time", "ssl/ssl_sess.c SSL_SESSION_get_time L964-969", lambda w, s: w.get(TIME(s)), True)
_reader("SSL_SESSION_get_timeout", "ssl/ssl_sess.c SSL_SESSION_get_timeout L957-962", lambda w, s: w.get(TIMEOUT(s)), True)
# Resumable: not marked not_resumable, and an id or a ticket to resume with [verified
# 3.0.19: a new session is not resumable].
_reader(
    "SSL_SESSION_is_resumable",
    "ssl/ssl_sess.c SSL_SESSION_is_resumable L1106-1114",
    lambda w, s: 1 if handshake.resumable(w, s) else 0,
)
_reader("SSL_SESSION_get_protocol_version", _GETTERS, lambda w, s: w.get(VER(s)))
_reader("SSL_SESSION_has_ticket", _GETTERS + "; only a handshake gives a session a ticket", lambda w, s: 1 if w.get(TICK(s)) else 0)
_reader("SSL_SESSION_get_ticket_lifetime_hint", _GETTERS, _opaque("ticket lifetime hint", 0, ULONG_MAX))
_reader("SSL_SESSION_get_compress_id", _GETTERS, _opaque("compression id", 0, UINT_MAX))
_reader("SSL_SESSION_get_max_early_data", _GETTERS, _opaque("max early data", 0, UINT_MAX))
_reader("SSL_SESSION_get_master_key", _GETTERS, _opaque("master key length", 0, 256))
_reader("SSL_SESSION_print", "ssl/ssl_txt.c SSL_SESSION_print L30-200", _opaque("print result", 0, 1))
_reader("SSL_SESSION_print_fp", "ssl/ssl_txt.c SSL_SESSION_print_fp L16-28 (NULL gives 0)", _opaque("print result", 0, 1), True)
_reader("SSL_SESSION_print_keylog", "ssl/ssl_txt.c SSL_SESSION_print_keylog L202-240", _opaque("print result", 0, 1))


def _write_out(w: World, arg: Arg, value: Value) -> None:
    """`*out = value` for an out-parameter given as `&var`; a NULL or untracked pointer
    argument is written through too, but nothing the model follows changes."""
    if arg.address_of is not None:
        w.set(arg.address_of, value)


def _session_id(w: World, args: list[Arg], s: int) -> Value:
    """ssl/ssl_sess.c SSL_SESSION_get_id (L319-336): `if (len != NULL) *len = s->session_id_length`.
    An empty id (a new session, a TLS 1.2 server session that will get a ticket) has length
    0; any other id has 1..SSL_MAX_SSL_SESSION_ID_LENGTH (32) bytes: OpenSSL makes 32, a
    peer or a `generate_session_id` callback may choose fewer."""
    if len(args) > 1:
        empty = cache.has_empty_id(w, s)
        _write_out(w, args[1], 0 if empty else w.fresh_int("session id length", 1, 32))
    return interior(s)


def _id_context(w: World, args: list[Arg], s: int) -> Value:
    """ssl/ssl_sess.c SSL_SESSION_get0_id_context (L319-336): `*len = s->sid_ctx_length`
    (0..SSL_MAX_SID_CTX_LENGTH, 32): 0 for the empty context id, else 1..32 (the model knows
    which context id, not its length)."""
    if len(args) > 1:
        empty = w.test(w.eq(w.get(SIDCTX(s)), 0))
        _write_out(w, args[1], 0 if empty else w.fresh_int("session id context length", 1, 32))
    return interior(s)


_reader("SSL_SESSION_get_id", "ssl/ssl_sess.c SSL_SESSION_get_id L319-336; the result points into the session (borrowed)", _session_id, with_args=True)
_reader(
    "SSL_SESSION_get0_id_context",
    "ssl/ssl_sess.c SSL_SESSION_get0_id_context L319-336; the result points into the session (borrowed)",
    _id_context,
    with_args=True,
)
# NULL until set [verified 3.0.19: a new session has no hostname].
_reader(
    "SSL_SESSION_get0_hostname",
    _GETTERS + "; the hostname the session owns (borrowed), NULL when it has none",
    lambda w, s: interior(s, w.get(HOST(s))) if w.get(HOST(s)) else NULL,
)
_reader(
    "SSL_SESSION_get0_cipher",
    _GETTERS + "; a static cipher table entry, NULL until `SSL_SESSION_set_cipher`",
    lambda w, s: interior(s) if w.get(CIPHER(s)) else NULL,
)
# Only a handshake gives a session a peer certificate; decoded sessions are modelled without one.
_reader("SSL_SESSION_get0_peer", _GETTERS + "; NULL without a handshake", lambda w, s: NULL)


def _pointer_and_length(label: str, present: Callable[[World, int], bool], most: int, result: Value = None) -> Callable:
    """`*data` points into the session (borrowed) and `*len` is its length, or NULL and 0
    when the session has none; the call returns `result`."""

    def run(w: World, args: list[Arg], s: int) -> Value:
        if present(w, s):
            _write_out(w, args[1], interior(s))
            if len(args) > 2:
                _write_out(w, args[2], w.fresh_int(label, 1, most))
        else:
            _write_out(w, args[1], NULL)
            if len(args) > 2:
                _write_out(w, args[2], 0)
        return result

    return run


# ssl/ssl_sess.c SSL_SESSION_get0_alpn_selected (in L957-1114): `*alpn = s->ext.alpn_selected;
# *len = s->ext.alpn_selected_len` (NULL and 0 without ALPN; a protocol name is 1..255 bytes).
# The model does not follow ALPN, so either may hold.
_reader(
    "SSL_SESSION_get0_alpn_selected",
    "ssl/ssl_sess.c SSL_SESSION_get0_alpn_selected (in L957-1114); `*alpn` points into the session (borrowed)",
    _pointer_and_length("ALPN protocol length", lambda w, s: w.choose("the session has an ALPN protocol"), 255),
    with_args=True,
)
# ssl/ssl_sess.c SSL_SESSION_get0_ticket (in L957-1114): `*tick = s->ext.tick; *len = s->ext.ticklen`.
_reader(
    "SSL_SESSION_get0_ticket",
    "ssl/ssl_sess.c SSL_SESSION_get0_ticket (in L957-1114); `*tick` points into the session (borrowed)",
    _pointer_and_length("ticket length", lambda w, s: bool(w.get(TICK(s))), INT_MAX),
    with_args=True,
)


# ssl/ssl_sess.c SSL_SESSION_get0_ticket_appdata: `*data = ss->ticket_appdata;
# *len = ss->ticket_appdata_len; return 1` (NULL and 0 until set).
_reader(
    "SSL_SESSION_get0_ticket_appdata",
    "ssl/ssl_sess.c SSL_SESSION_get0_ticket_appdata; `*data` points into the session (borrowed)",
    _pointer_and_length("ticket appdata length", lambda w, s: w.choose("the session has ticket appdata"), INT_MAX, result=1),
    with_args=True,
)


def _set_hostname(w: World, args: list[Arg], s: int) -> Value:
    """ssl/ssl_sess.c SSL_SESSION_set1_hostname L1018-1028: frees the old hostname, copies the new one."""
    if w.get(HOSTFREED(s)):
        w.finding(
            DOUBLE_FREE,
            f"`SSL_SESSION_set1_hostname` frees the old hostname of {obj(s)}, which the script already freed",
            (s,),
            variant=DOUBLE_FREE_HOSTNAME,
        )
    new_hostname(w, s, w.value(args[1].value) != NULL)
    return 1


def _set_cipher(w: World, args: list[Arg], s: int) -> Value:
    """ssl/ssl_sess.c SSL_SESSION_set_cipher L1007-1011: stores the pointer."""
    w.set(CIPHER(s), w.value(args[1].value) != NULL)
    return 1


_reader("SSL_SESSION_set1_hostname", "ssl/ssl_sess.c SSL_SESSION_set1_hostname L1018-1028", _set_hostname, with_args=True)
_reader("SSL_SESSION_set_cipher", "ssl/ssl_sess.c SSL_SESSION_set_cipher L1007-1011", _set_cipher, with_args=True)
for _name in (
    "SSL_SESSION_set1_alpn_selected",
    "SSL_SESSION_set1_master_key",
    "SSL_SESSION_set_max_early_data",
    "SSL_SESSION_set1_ticket_appdata",
):
    _reader(_name, "ssl/ssl_sess.c L924-1104 (writes a field of the session)", lambda w, s: 1)


def _key_setter(field: str) -> Callable[[World, list[Arg], int], Value]:
    """`SSL_SESSION_set1_id` / `set_protocol_version` change the cache key (ssl/ssl_sess.c L924-935, L996-1000).
    An id given as a string literal is known: equal literals give equal keys."""

    def run(w: World, args: list[Arg], s: int) -> Value:
        owner = w.get(CACHED(s))
        if owner:
            w.finding(
                CACHE_CORRUPTION,
                f"changing the key of {obj(s)} while it is in {obj(owner)}'s cache: the entry keeps the old key",
                (s, owner),
            )
        new = args[1].value
        if field == "sid":
            literal = string_index(w.value(new))
            if w.test(w.eq(args[2].value, 0)):
                new = 0
            elif literal is not None:
                new = literal + 1
            else:
                new = w.fresh_int("new session id", 1, None)
        w.set((field, s), new)
        return 1

    return run


_reader("SSL_SESSION_set1_id", "ssl/ssl_sess.c SSL_SESSION_set1_id L924-935", _key_setter("sid"), with_args=True)


def _set_id_context(w: World, args: list[Arg], s: int) -> Value:
    """ssl/ssl_sess.c SSL_SESSION_set1_id_context: over SSL_MAX_SID_CTX_LENGTH (32) is refused
    with 0; else the bytes are copied (a server resumes the session only under this context
    id: ssl_get_prev_session)."""
    if w.test(w.lt(SID_CTX_MAX, args[2].value)):
        return 0
    w.set(SIDCTX(s), id_value(w, args[1], args[2], "new session id context"))
    return 1


_reader("SSL_SESSION_set1_id_context", "ssl/ssl_sess.c SSL_SESSION_set1_id_context", _set_id_context, with_args=True)
_reader(
    "SSL_SESSION_set_protocol_version",
    "ssl/ssl_sess.c SSL_SESSION_set_protocol_version L1000-1004",
    _key_setter("ver"),
    with_args=True,
)


def _retime(w: World, s: int, field: str, value: Value) -> None:
    """A cached session is moved to its new place in the expiry-sorted list (L937-989)."""
    w.set((field, s), value)
    owner = w.get(CACHED(s))
    if owner:
        cache._unlink(w, owner, s, f"`SSL_SESSION_set_{field}`")
        cache._link(w, owner, s, f"`SSL_SESSION_set_{field}`")


@effect("SSL_SESSION_set_time", cite="ssl/ssl_sess.c SSL_SESSION_set_time L971-989 (NULL gives 0)")
def session_set_time(w: World, args: list[Arg]) -> Value:
    s = _session_arg(w, args[0], "SSL_SESSION_set_time", null_ok=True)
    if s == NULL:
        return 0
    _retime(w, s, "time", args[1].value)
    return args[1].value


@effect("SSL_SESSION_set_timeout", cite="ssl/ssl_sess.c SSL_SESSION_set_timeout L937-955 (NULL or t < 0 gives 0)")
def session_set_timeout(w: World, args: list[Arg]) -> Value:
    s = _session_arg(w, args[0], "SSL_SESSION_set_timeout", null_ok=True)
    if s == NULL or w.test(w.lt(args[1].value, 0)):
        return 0
    _retime(w, s, "timeout", args[1].value)
    return 1


# ---- SSL -----------------------------------------------------------------------------


@effect("SSL_new", cite="ssl/ssl_lib.c SSL_new L678-858 (ctx up-refs at L764 and L775; NULL ctx gives NULL)", returns="owned")
def ssl_new(w: World, args: list[Arg]) -> Value:
    ctx = w.ptr(args[0])
    if ctx == NULL:
        return NULL
    refs.use(w, ctx, "`SSL_new` reads", via=args[0].var)
    if _alloc_fails(w):
        return NULL
    return ssl_new_object(w, ctx)


def ssl_new_object(w: World, ctx: int) -> int:
    """A new `SSL` of the live context `ctx`: its settings copied, two references to `ctx`."""
    ssl = refs.allocate(w, SSL)
    w.set(SLOT(ssl), NULL)
    w.set(CTX_OF(ssl), ctx)
    w.set(SCTX(ssl), ctx)
    w.set(DONE(ssl), False)
    w.set(SHUT(ssl), 0)
    handshake.copy_settings(w, ssl, ctx)
    refs.take(w, ctx, ctx_ref_of(ssl), f"{obj(ssl)} takes a reference to {obj(ctx)} (`ssl->ctx`)")
    refs.take(w, ctx, session_ctx_ref_of(ssl), f"{obj(ssl)} takes a second one (`ssl->session_ctx`)")
    return ssl


def _reads_context(w: World, ssl: int, who: str) -> None:
    """`ssl->ctx->method`: the SSL's context must still be alive."""
    refs.use(w, w.get(CTX_OF(ssl)), f"{who} reads the context of {obj(ssl)},", holder=ctx_ref_of(ssl))


@effect(
    "SSL_clear",
    cite="ssl/ssl_lib.c SSL_clear L575-640: a bad session is removed and freed; a good one stays; "
    "reads `s->ctx->method` (L638)",
)
def ssl_clear(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_clear")
    if refs.clear_bad_session(w, ssl):
        session = w.get(SLOT(ssl))
        refs.release(w, session, slot_of(ssl))
        w.set(SLOT(ssl), NULL)
    _reads_context(w, ssl, "`SSL_clear`")
    w.set(DONE(ssl), False)
    w.set(SHUT(ssl), 0)
    w.set(HIT(ssl), False)
    w.set(FAILED(ssl), False)
    w.set(PEND(ssl), False)
    # ossl_statem_clear: in its initial state again (SSL_dup copies it); tls1_clear resets
    # the version.
    w.set(BEGAN(ssl), False)
    w.set(PROTO(ssl), 0)
    w.set(SENT(ssl), 0)
    w.set(XTICK(ssl), 0)
    return 1


@effect(
    "SSL_get_session",
    "SSL_get0_session",
    cite="ssl/ssl_sess.c SSL_get_session L104-108 (no reference is taken; a NULL ssl crashes in 3.0)",
    returns="borrowed",
)
def ssl_get_session(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_get_session")
    s = w.get(SLOT(ssl))
    if s != NULL:
        w.note(s, f"`SSL_get_session` lends {obj(s)} without a reference: count {w.get(RC(s))}")
    return s


@effect("SSL_get1_session", cite="ssl/ssl_sess.c SSL_get1_session L110-126 (NULL when the slot is empty)", returns="owned")
def ssl_get1_session(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_get1_session")
    s = w.get(SLOT(ssl))
    if s != NULL:
        refs.use(w, s, f"`SSL_get1_session` up-refs the session in {obj(ssl)}'s slot,", holder=slot_of(ssl))
        refs.take(w, s, SCRIPT, f"`SSL_get1_session` gives the script a reference to {obj(s)}")
    else:
        w.note(ssl, f"{obj(ssl)}'s session slot is empty: `SSL_get1_session` returns NULL")
    return s


def set_slot(w: World, ssl: int, s: int) -> None:
    """ssl/ssl_sess.c SSL_set_session L906-922: clear a bad old session, up-ref the new one,
    free the old one, store the new one (setting the same session again nets 0). It reads
    `ssl->ctx->method` (L909) first [found by `sessref conform`: valgrind's invalid read
    when the script had freed the context's last reference]."""
    refs.clear_bad_session(w, ssl)
    _reads_context(w, ssl, "`SSL_set_session`")
    if s != NULL:
        refs.take(w, s, slot_of(ssl))
    old = w.get(SLOT(ssl))
    if old != NULL:
        refs.release(w, old, slot_of(ssl))
    w.set(SLOT(ssl), s)


@effect("SSL_set_session", cite="ssl/ssl_sess.c SSL_set_session L906-922")
def ssl_set_session(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_set_session")
    s = w.ptr(args[1])
    if s != NULL:
        refs.use(w, s, "`SSL_set_session` up-refs", via=args[1].var)
    set_slot(w, ssl, s)
    return 1


@effect("SSL_copy_session_id", cite="ssl/ssl_lib.c SSL_copy_session_id L1607-1633: SSL_set_session(t, SSL_get_session(f))")
def ssl_copy_session_id(w: World, args: list[Arg]) -> Value:
    to = _object_arg(w, args[0], "SSL_copy_session_id")
    src = _object_arg(w, args[1], "SSL_copy_session_id")
    s = w.get(SLOT(src))
    if s != NULL:
        refs.use(w, s, f"`SSL_copy_session_id` up-refs the session of {obj(src)},", holder=slot_of(src))
    set_slot(w, to, s)
    # L1625-1631: the context id too (and the CERT, which the model does not follow).
    w.set(SIDCTX(to), w.get(SIDCTX(src)))
    return 1


@effect(
    "SSL_shutdown",
    cite="ssl/ssl_lib.c SSL_shutdown L2214-2245 (uninitialized or in init: -1, nothing marked); s3_lib.c ssl3_shutdown L4785-4833",
    deferred=True,
)
def ssl_shutdown(w: World, args: list[Arg]) -> Value:
    w.set(HSRET(), -1)  # see `_handshake_call`
    ssl = _object_arg(w, args[0], "SSL_shutdown")
    if w.get(DONE(ssl)) and w.get(XTICK(ssl)):
        # ssl_lib.c SSL_shutdown: in init (tickets to send): "shutdown while in init", -1.
        w.note(ssl, f"{obj(ssl)} has tickets to send (`SSL_new_session_ticket`): `SSL_shutdown` fails")
        w.set(HSRET(), -1)
        return -1
    if not w.get(DONE(ssl)):
        w.note(ssl, f"{obj(ssl)} has not completed a handshake: `SSL_shutdown` fails, nothing is marked")
        w.set(HSRET(), -1)
        return -1
    handshake.shutdown(w, ssl)
    return -1


@effect("SSL_set_shutdown", cite="ssl/ssl_lib.c SSL_set_shutdown L4286-4289")
def ssl_set_shutdown(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_set_shutdown")
    w.set(SHUT(ssl), args[1].value)
    return None


@effect("SSL_get_shutdown", cite="ssl/ssl_lib.c SSL_get_shutdown L4291-4294")
def ssl_get_shutdown(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_get_shutdown")
    return w.get(SHUT(ssl))


@effect("SSL_get_SSL_CTX", cite="ssl/ssl_lib.c SSL_get_SSL_CTX L4306-4309 (borrowed)", returns="borrowed")
def ssl_get_ssl_ctx(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_get_SSL_CTX")
    return w.get(CTX_OF(ssl))


# ---- SSL_CTX and its cache ---------------------------------------------------------------


@effect("TLS_method", "SSLv23_method", cite="ssl/methods.c (a static method table)")
def tls_method(w: World, args: list[Arg]) -> Value:
    return METHOD_ANY


@effect("TLS_client_method", "SSLv23_client_method", cite="ssl/methods.c (a static method table)")
def tls_client_method(w: World, args: list[Arg]) -> Value:
    return METHOD_CLIENT


@effect("TLS_server_method", "SSLv23_server_method", cite="ssl/methods.c (a static method table)")
def tls_server_method(w: World, args: list[Arg]) -> Value:
    return METHOD_SERVER


_FIXED_CITE = ("ssl/methods.c (a static method table of one version): the context speaks TLS 1.2 only, and "
               "ssl_set_version_bound ignores bounds set on it (returns 1, keeps none) [verified 3.0.22: fixed_method]")


@effect("TLSv1_2_method", cite=_FIXED_CITE)
def tls12_method(w: World, args: list[Arg]) -> Value:
    return METHOD_ANY_12


@effect("TLSv1_2_client_method", cite=_FIXED_CITE)
def tls12_client_method(w: World, args: list[Arg]) -> Value:
    return METHOD_CLIENT_12


@effect("TLSv1_2_server_method", cite=_FIXED_CITE)
def tls12_server_method(w: World, args: list[Arg]) -> Value:
    return METHOD_SERVER_12


@effect(
    "SSL_CTX_new",
    cite="ssl/ssl_lib.c SSL_CTX_new_ex L3197-3249 (NULL method gives NULL; cache mode SERVER, size 20480, timeout 7200)",
    returns="owned",
)
def ctx_new(w: World, args: list[Arg]) -> Value:
    method = w.value(args[0].value)
    if method == NULL or _alloc_fails(w):
        return NULL
    ctx = refs.allocate(w, CTX)
    w.set(METHOD(ctx), method)
    w.set(FIXV(ctx), handshake.TLS1_2 if method in FIXED_TLS12_METHODS else 0)
    w.set(MODE(ctx), DEFAULT_CACHE_MODE)
    w.set(SIZE(ctx), DEFAULT_CACHE_SIZE)
    w.set(TIMEOUT(ctx), DEFAULT_CTX_TIMEOUT)
    w.set(NCACHED(ctx), 0)
    for field in ("remove_cb", "new_cb", "get_cb", "sni_cb", "dying", "minv", "maxv", "goodc", "goods", "sidctx", "vmode",
                  "tsid12", "tsid13"):
        w.set((field, ctx), NULL)
    w.set(OPTS(ctx), DEFAULT_OPTIONS)
    w.set(NTICK(ctx), DEFAULT_NUM_TICKETS)
    w.set(ISSUED12(ctx), False)
    w.set(ISSUED13(ctx), False)
    w.set(QUIET(ctx), 0)
    w.set(THOST12(ctx), False)
    w.set(THOST13(ctx), False)
    return ctx


@effect("SSL_CTX_add_session", cite="ssl/ssl_sess.c SSL_CTX_add_session L741-825")
def ctx_add_session(w: World, args: list[Arg]) -> Value:
    ctx = _object_arg(w, args[0], "SSL_CTX_add_session")
    s = _session_arg(w, args[1], "SSL_CTX_add_session")
    return cache.add(w, ctx, s)


@effect(
    "SSL_CTX_remove_session",
    cite="ssl/ssl_sess.c SSL_CTX_remove_session L827-859 (NULL gives 0; an empty id does nothing)",
)
def ctx_remove_session(w: World, args: list[Arg]) -> Value:
    s = w.ptr(args[1])
    if s == NULL:
        return 0
    refs.use(w, s, "`SSL_CTX_remove_session` reads", via=args[1].var)
    if cache.has_empty_id(w, s):
        return 0
    ctx = _object_arg(w, args[0], "SSL_CTX_remove_session")
    return 1 if cache.remove(w, ctx, s, "`SSL_CTX_remove_session`") else 0


@effect("SSL_CTX_flush_sessions", cite="ssl/ssl_sess.c SSL_CTX_flush_sessions L1180-1226")
def ctx_flush_sessions(w: World, args: list[Arg]) -> Value:
    ctx = _object_arg(w, args[0], "SSL_CTX_flush_sessions")
    cache.flush(w, ctx, args[1].value, "`SSL_CTX_flush_sessions`")
    return None


def _ctx_or_null(w: World, arg: Arg, name: str) -> int:
    """`SSL_CTX_ctrl` and the timeout calls return 0 for a NULL context [verified 3.0.19]."""
    ctx = w.ptr(arg)
    if ctx != NULL:
        refs.use(w, ctx, f"`{name}` reads", via=arg.var)
    return ctx


def _ctx_field(name: str, field: str, cite: str, reject_negative: bool = False) -> None:
    def setter(w: World, args: list[Arg]) -> Value:
        ctx = _ctx_or_null(w, args[0], name)
        if ctx == NULL:
            return 0
        if reject_negative and w.test(w.lt(args[1].value, 0)):
            return 0
        old = w.get((field, ctx))
        w.set((field, ctx), args[1].value)
        return old

    EFFECTS[name] = Effect(name, setter, cite)


def _ctx_getter(name: str, field: str, cite: str) -> None:
    def getter(w: World, args: list[Arg]) -> Value:
        ctx = _ctx_or_null(w, args[0], name)
        return w.get((field, ctx)) if ctx != NULL else 0

    EFFECTS[name] = Effect(name, getter, cite)


_ctx_field("SSL_CTX_set_session_cache_mode", "mode", "ssl/ssl_lib.c SSL_CTX_ctrl L2510-2515 (returns the old mode)")
_ctx_field(
    "SSL_CTX_sess_set_cache_size",
    "size",
    "ssl/ssl_lib.c SSL_CTX_ctrl L2502-2509 (negative rejected; nothing evicted until the next add)",
    reject_negative=True,
)
_ctx_field("SSL_CTX_set_timeout", "timeout", "ssl/ssl_sess.c SSL_CTX_set_timeout L1116-1124 (only later sessions)")
_ctx_getter("SSL_CTX_get_session_cache_mode", "mode", "ssl/ssl_lib.c SSL_CTX_ctrl L2516")
_ctx_getter("SSL_CTX_sess_get_cache_size", "size", "ssl/ssl_lib.c SSL_CTX_ctrl L2500")
_ctx_getter("SSL_CTX_get_timeout", "timeout", "ssl/ssl_sess.c SSL_CTX_get_timeout L1126-1131")
_ctx_getter("SSL_CTX_sess_number", "ncached", "ssl/ssl_lib.c SSL_CTX_ctrl L2517-2518 (lhash entries)")


def _register(name: str, field: str, cite: str) -> None:
    """Store a script function (or NULL) as the context's callback; the resolver has checked
    its signature."""

    def run(w: World, args: list[Arg]) -> Value:
        ctx = _object_arg(w, args[0], name)
        w.set((field, ctx), w.value(args[1].value))
        return None

    EFFECTS[name] = Effect(name, run, cite)


_register("SSL_CTX_sess_set_remove_cb", "remove_cb", "ssl/ssl_sess.c SSL_CTX_sess_set_remove_cb L1328 (runs at every removal: remove_session_lock L852-856, flush L1206-1207)")
_register("SSL_CTX_sess_set_new_cb", "new_cb", "ssl/ssl_sess.c SSL_CTX_sess_set_new_cb L1317 (runs in ssl_update_cache, ssl_lib.c L3764-3768)")
_register("SSL_CTX_sess_set_get_cb", "get_cb", "ssl/ssl_sess.c SSL_CTX_sess_set_get_cb L1340 (runs in server lookups, L543-581)")


# ---- handshakes and I/O (the peer is abstract: see handshake.py) ------------------------------


def _connection(w: World, arg: Arg, name: str, side: int = 0) -> int:
    """The `SSL` a handshake or I/O call runs on; its context must be alive. `SSL_connect` and
    `SSL_accept` set the side when none is set (ssl_lib.c L1730-1748)."""
    ssl = _object_arg(w, arg, name)
    _reads_context(w, ssl, f"`{name}`")
    if side and not w.get(SIDE(ssl)):
        w.set(SIDE(ssl), side)
    return ssl


def _handshake_call(name: str, side: int, cite: str, after: int = -1) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        # The result cell belongs to this call from its start: every path sets it before the
        # executor reads it, so an earlier call's result is never read (the loop-closure
        # check relies on it: `checker/closure.py` drops the cell at loop heads).
        w.set(HSRET(), -1)
        ssl = _connection(w, args[0], name, side)
        current = w.get(SIDE(ssl))
        if not current:
            # SSL_do_handshake L3916-3919, ssl_read_internal L1823-1826: no side set.
            w.note(ssl, f"{obj(ssl)} is neither a client nor a server yet: `{name}` returns -1")
            w.set(HSRET(), -1)
            return -1
        if len(args) > 2:
            w.set(HS("wnum", ssl), args[2].value)
        w.set(PEEKING(ssl), name == "SSL_peek")
        handshake.handshake(w, ssl, current, after)
        return -1

    EFFECTS[name] = Effect(name, run, cite, deferred=True)


_handshake_call("SSL_connect", handshake.CLIENT, "ssl/ssl_lib.c SSL_connect L1740-1748; statem_clnt.c; ssl_sess.c ssl_update_cache")
_handshake_call("SSL_accept", handshake.SERVER, "ssl/ssl_lib.c SSL_accept L1730-1738; statem_srvr.c; ssl_sess.c ssl_get_prev_session")
_handshake_call("SSL_do_handshake", 0, "ssl/ssl_lib.c SSL_do_handshake L3912-3938 (the side must be set)")
_handshake_call(
    "SSL_read",
    0,
    "ssl/ssl_lib.c ssl_read_internal L1821-1860: the handshake first; a TLS 1.3 client processes tickets "
    "(statem_clnt.c tls_process_new_session_ticket L2493-2629)",
    handshake.READ_ON,
)
_handshake_call("SSL_peek", 0, "ssl/ssl_lib.c ssl_peek_internal L1951-1990 (as SSL_read)", handshake.READ_ON)
_handshake_call("SSL_write", 0, "ssl/ssl_lib.c ssl_write_internal L2010-2048: the handshake first", handshake.WRITE_ON)
_handshake_call("SSL_read_ex", 0, "ssl/ssl_lib.c SSL_read_ex: ssl_read_internal, as SSL_read", handshake.READ_ON)
_handshake_call("SSL_peek_ex", 0, "ssl/ssl_lib.c SSL_peek_ex: ssl_peek_internal, as SSL_peek", handshake.READ_ON)
_handshake_call("SSL_write_ex", 0, "ssl/ssl_lib.c SSL_write_ex: ssl_write_internal, as SSL_write", handshake.WRITE_ON)
# The `_ex` forms and what decides their success: bytes read (`SSL_read` > 0), or no error
# (`SSL_write_ex` of 0 bytes succeeds where `SSL_write` of 0 fails).
EX_IO = {"SSL_read_ex": 1, "SSL_peek_ex": 1, "SSL_write_ex": 0}


def io_ex_result(name: str) -> Callable[[World, list[Arg]], Value]:
    """After an `_ex` call's handshake and I/O: 1 for success, with the count written to
    `*readbytes` (`*written`); 0 for failure, leaving it as it was (ssl/ssl_lib.c SSL_read_ex,
    SSL_peek_ex, SSL_write_ex: `if (ret < 0) ret = 0`) [verified 3.0.22: tests/library/io_ex.c:
    a failed SSL_read_ex leaves `*readbytes` alone; SSL_write_ex of 0 bytes gives 1 and writes 0]."""
    least = EX_IO[name]

    def run(w: World, args: list[Arg]) -> Value:
        n = w.get(HSRET())
        if w.test(w.lt(n, least)):
            w.set(HSRET(), 0)
        else:
            if len(args) > 3:
                _write_out(w, args[3], n)
            w.set(HSRET(), 1)
        return None

    return run


def _set_state(name: str, side: int, cite: str) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        ssl = _object_arg(w, args[0], name)
        w.set(SIDE(ssl), side)
        # ossl_statem_clear: back in init, so SSL_free no longer sees a completed connection.
        w.set(DONE(ssl), False)
        w.set(FAILED(ssl), False)
        w.set(SHUT(ssl), 0)
        return None

    EFFECTS[name] = Effect(name, run, cite)


_set_state("SSL_set_connect_state", handshake.CLIENT, "ssl/ssl_lib.c SSL_set_connect_state L3949-3956")
_set_state("SSL_set_accept_state", handshake.SERVER, "ssl/ssl_lib.c SSL_set_accept_state L3940-3947")


@effect("SSL_session_reused", cite="ssl/ssl_lib.c SSL_session_reused L4833-4836: s->hit")
def ssl_session_reused(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_session_reused")
    return 1 if w.get(HIT(ssl)) else 0


@effect("SSL_CTX_set_options", cite="ssl/ssl_lib.c SSL_CTX_set_options L4936-4939: ors the bits in, returns the new options")
def ctx_set_options(w: World, args: list[Arg]) -> Value:
    ctx = _object_arg(w, args[0], "SSL_CTX_set_options")
    value = w.get(OPTS(ctx)) | w.value(args[1].value)
    w.set(OPTS(ctx), value)
    return value


BOUND_VERSIONS = (0, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304)  # 0: no bound


def set_version_bound(w: World, target: int, field: str, version: Value, ctx: int) -> Value:
    """statem/statem_lib.c ssl_set_version_bound: 0 (no bound) and the TLS versions are
    accepted, anything else is refused with 0 and the old bound kept [verified 3.0.19:
    settings]; on a one-version method (`ctx`'s: `TLSv1_2_method`) a version is accepted and
    ignored [verified 3.0.22: fixed_method]."""
    if version not in BOUND_VERSIONS:
        return 0
    if version and w.get(FIXV(ctx)):
        return 1
    w.set((field, target), version)
    return 1


def _proto_bound(name: str, field: str) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        ctx = _object_arg(w, args[0], name)
        return set_version_bound(w, ctx, field, w.value(args[1].value), ctx)

    EFFECTS[name] = Effect(name, run, "ssl/ssl_lib.c SSL_CTX_ctrl L2566-2577, statem/statem_lib.c ssl_set_version_bound L1698 (0: no bound)")


_proto_bound("SSL_CTX_set_min_proto_version", "minv")
_proto_bound("SSL_CTX_set_max_proto_version", "maxv")


@effect("SSL_CTX_set_num_tickets", cite="ssl/ssl_lib.c SSL_CTX_set_num_tickets L4761-4766 (copied into each later SSL)")
def ctx_set_num_tickets(w: World, args: list[Arg]) -> Value:
    ctx = _object_arg(w, args[0], "SSL_CTX_set_num_tickets")
    w.set(NTICK(ctx), w.value(args[1].value))
    return 1


# ---- the C library -----------------------------------------------------------------------


@effect("time", cite="time(2): the current time; the model's clock starts somewhere in 2023-2033")
def c_time(w: World, args: list[Arg]) -> Value:
    now = w.get(CLOCK())
    if args and args[0].address_of is not None:
        w.set(args[0].address_of, now)
    return now


@effect("sleep", cite="sleep(3): the clock moves on")
def c_sleep(w: World, args: list[Arg]) -> Value:
    w.set(CLOCK(), w.add(w.get(CLOCK()), args[0].value))
    return 0


@effect("strlen", "puts", "printf", cite="the C library: reads its string arguments")
def c_reads(w: World, args: list[Arg]) -> Value:
    for arg in args:
        _reads_buffer(w, arg, "the C library")
    return w.fresh_int("C library result", 0, INT_MAX)  # int, or a string's size_t length




@effect(
    "OPENSSL_free",
    "X509_free",
    cite="SSL_SESSION_get0_hostname.pod, SSL_SESSION_get0_peer.pod: `get0` results belong to the session",
)
def free_buffer(w: World, args: list[Arg]) -> Value:
    """Freeing a pointer into a session: the session frees it again when it is destroyed.
    Other buffers (from `i2d_SSL_SESSION`, say) are the script's own and are not tracked."""
    value = w.value(args[0].value)
    owner = interior_owner(value)
    if owner:
        refs.use(w, owner, f"`{args[0].text}` points into", via=args[0].var)
        if _stale_hostname(w, owner, value) or w.get(HOSTFREED(owner)):
            w.finding(
                DOUBLE_FREE,
                f"`{args[0].text}` was already freed (the hostname buffer of {obj(owner)})",
                (owner,),
                variant=DOUBLE_FREE_HOSTNAME,
            )
        # The session frees its hostname again when it is destroyed (refcount._destroy).
        w.set(HOSTFREED(owner), True)
        w.finding(
            BORROWED_FREE,
            f"`{args[0].text}` points into {obj(owner)} (a `get0` result): the session still owns it "
            "and frees it again when it is destroyed",
            (owner,),
            variant=BORROWED_GET0_RESULT,
        )
    return None


def start(w: World, args: list[Arg]) -> Value:
    """Before the first step: the clock reads some moment in `CLOCK_RANGE`."""
    w.set(CLOCK(), w.fresh_int("start time", *CLOCK_RANGE))
    w.set(LSEQ(), 0)
    w.set(IDSEQ(), 0)
    return None


# ---- neutral calls (checker/language/catalogue.toml, status "neutral") ---------------------


def neutral_reads(name: str, kinds: tuple[str, ...], reads_session: bool) -> Callable[[World, list[Arg]], Value]:
    """What a neutral call does to the model: nothing but read what it is passed. `kinds[i]`
    is "object" for a session, `SSL` or context argument (a use: use-after-free if it was
    destroyed; NULL is not judged, since what each neutral call does with NULL was not
    measured), "buffer" for a `char *`/`void *` one (a pointer into a session dangles once
    its session or buffer is gone), "" for the rest. With `reads_session`, the call also
    reads the `SSL`'s session (`s->session`)."""

    def run(w: World, args: list[Arg]) -> Value:
        for kind, arg in zip(kinds, args):
            if kind == "buffer":
                _reads_buffer(w, arg, name)
                continue
            if kind != "object":
                continue
            o = w.ptr(arg)
            if o == NULL:
                continue
            refs.use(w, o, f"`{name}` reads", via=arg.var)
            if reads_session and w.kind(o) == SSL:
                s = w.get(SLOT(o))
                if s != NULL:
                    refs.use(w, s, f"`{name}` reads the session of {obj(o)},", holder=slot_of(o))
        return None

    return run


def _decode_from(name: str, target: int) -> Callable[[World, list[Arg]], Value]:
    """A session decoded from a BIO or a FILE: `d2i_SSL_SESSION(x, &p, len)` on bytes the
    model does not see (`x` is argument `target`: NULL, or `&s` to decode into `s`)."""

    def run(w: World, args: list[Arg]) -> Value:
        return decode_session(w, args[target], name)

    return run


for _name, _cite in (
    ("PEM_read_bio_SSL_SESSION", "crypto/pem/pem_oth.c PEM_ASN1_read_bio: d2i_SSL_SESSION(x, &p, len) on the PEM body "
     "(ssl.h DECLARE_PEM_rw(SSL_SESSION, SSL_SESSION)); a read that fails gives NULL; `*x` is reused as by d2i "
     "[verified 3.0.19: tests/library/exdata_pem.c]"),
    ("PEM_read_SSL_SESSION", "crypto/pem/pem_oth.c PEM_ASN1_read via a FILE BIO: as PEM_read_bio_SSL_SESSION"),
    ("d2i_SSL_SESSION_bio", "ssl.h d2i_SSL_SESSION_bio = ASN1_d2i_bio_of(SSL_SESSION, SSL_SESSION_new, d2i_SSL_SESSION, "
     "bp, s_id); crypto/asn1/a_d2i_fp.c ASN1_d2i_bio: d2i(x, &p, len) on what the BIO holds"),
):
    EFFECTS[_name] = Effect(_name, _decode_from(_name, 1), _cite, "owned")


def fields_of_unknown_session(w: World, s: int) -> None:
    """A new session object that comes from outside the model's view (a user function's
    store or file, `model/contracts.py`): not cached, no handshake made it, and its key
    and times are unknown, as for a decoded one."""
    w.set(CACHED(s), 0)
    w.set(LSEQ(s), 0)
    w.set(HOSTSEQ(s), 0)
    _not_from_handshake(w, s)
    _decoded_fields(w, s)

