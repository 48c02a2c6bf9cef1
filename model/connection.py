"""A connection's settings and its context: session id contexts, peer verification, options
and version bounds on an `SSL`, `SSL_set_SSL_CTX`, `SSL_dup`, `SSL_has_matching_session_id`.

Sources are OpenSSL 3.0 (3.0.19, the installed library, which the experiments under
`tests/library/` measured; each `[verified 3.0.19: NAME]` names the program):
ssl/ssl_lib.c `SSL_new`, `SSL_CTX_set_session_id_context`, `SSL_set_session_id_context`,
`SSL_has_matching_session_id`, `SSL_set_verify`, `SSL_CTX_set_verify`, `SSL_set_SSL_CTX`,
`SSL_dup`, `SSL_copy_session_id`, `SSL_set_options` and neighbours, `SSL_ctrl`; ssl/t1_lib.c
`tls1_clear` (an `SSL`'s version before a handshake); ssl/ssl_sess.c `ssl_get_new_session`
(a new session gets its `SSL`'s context id), `ssl_get_prev_session` (the context id and
`SSL_VERIFY_PEER` checks), ssl/ssl_lib.c `ssl_update_cache`.

Cells (see `objects.py` for the rest): ("sidctx", x) the session id context of a context,
an `SSL` or a session: 0 is the empty one, a string literal's is its number + 1, any other
bytes an opaque number; ("vmode", x) the verify mode of a context or an `SSL`; ("began",
l) whether a handshake started on the `SSL` since it was made or cleared (`SSL_dup`'s test).
"""

from __future__ import annotations

from . import cache, handshake, refs
from .api import (
    EFFECTS,
    Effect,
    _alloc_fails,
    _object_arg,
    _reads_buffer,
    effect,
    set_slot,
    set_version_bound,
    ssl_new_object,
)
from .objects import (
    BEGAN,
    CTX_OF,
    DONE,
    EXIDX,
    NTICK,
    OPTS,
    PROTO,
    QUIET,
    SCRIPT,
    SCTX,
    SID,
    SIDCTX,
    SIDE,
    SLOT,
    SNI,
    SNI_CB,
    VER,
    VERIFY_PEER,
    VMODE,
    XTICK,
    cache_of,
    ctx_ref_of,
    session_ctx_ref_of,
    slot_of,
)
from .sessiondata import (
    EX_INDEX_SSL_SESSION,
    SID_CTX_MAX,
    get_ex,
    id_value,
    set_ex,
)
from .values import EMPTY_STRING_INDEX, NULL, interior_owner, string_index
from .world import Arg, Value, World, obj


def _set_sid_ctx(w: World, target: int, args: list[Arg]) -> Value:
    """ssl/ssl_lib.c SSL_CTX_set_session_id_context / SSL_set_session_id_context: longer than
    SSL_MAX_SID_CTX_LENGTH (32) is refused with 0 [verified 3.0.19: sid_ctx]; otherwise the
    bytes are copied and the call returns 1."""
    _reads_buffer(w, args[1], "the call")
    if w.test(w.lt(SID_CTX_MAX, args[2].value)):
        return 0
    w.set(SIDCTX(target), id_value(w, args[1], args[2], "new session id context"))
    return 1


@effect("SSL_CTX_set_session_id_context", cite="ssl/ssl_lib.c SSL_CTX_set_session_id_context (at most 32 bytes; SSL_new copies it)")
def ctx_set_sid_ctx(w: World, args: list[Arg]) -> Value:
    return _set_sid_ctx(w, _object_arg(w, args[0], "SSL_CTX_set_session_id_context"), args)


@effect("SSL_set_session_id_context", cite="ssl/ssl_lib.c SSL_set_session_id_context (at most 32 bytes)")
def ssl_set_sid_ctx(w: World, args: list[Arg]) -> Value:
    return _set_sid_ctx(w, _object_arg(w, args[0], "SSL_set_session_id_context"), args)


def _verify_callback(w: World, arg: Arg, name: str) -> None:
    """The verify callback is not run by the model: the peer's certificate passes or fails
    as the abstract peer chooses. The executor accepts only an inert callback here (one that
    calls only neutral functions and changes nothing outside itself), so not running it
    loses nothing but its verdict, which the peer's choice covers."""
    w.value(arg.value)


@effect("SSL_CTX_set_verify", cite="ssl/ssl_lib.c SSL_CTX_set_verify (the mode is copied into each later SSL by SSL_new)")
def ctx_set_verify(w: World, args: list[Arg]) -> Value:
    ctx = _object_arg(w, args[0], "SSL_CTX_set_verify")
    _verify_callback(w, args[2], "SSL_CTX_set_verify")
    w.set(VMODE(ctx), w.value(args[1].value))
    return None


@effect("SSL_set_verify", cite="ssl/ssl_lib.c SSL_set_verify (a NULL callback keeps the SSL's one [verified 3.0.19: settings])")
def ssl_set_verify(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_set_verify")
    _verify_callback(w, args[2], "SSL_set_verify")
    w.set(VMODE(ssl), w.value(args[1].value))
    return None


def _getter(name: str, field: str, cite: str) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        return w.get((field, _object_arg(w, args[0], name)))

    EFFECTS[name] = Effect(name, run, cite)


_getter("SSL_CTX_get_verify_mode", "vmode", "ssl/ssl_lib.c SSL_CTX_get_verify_mode")
_getter("SSL_get_verify_mode", "vmode", "ssl/ssl_lib.c SSL_get_verify_mode")


# ---- options and version bounds of an SSL ----------------------------------------------------


def _options(name: str, clear: bool, cite: str) -> None:
    """`x->options |= op` (or `&= ~op`), returning the new options [verified 3.0.19: settings]."""

    def run(w: World, args: list[Arg]) -> Value:
        o = _object_arg(w, args[0], name)
        bits = w.value(args[1].value)
        value = w.get(OPTS(o)) & ~bits if clear else w.get(OPTS(o)) | bits
        w.set(OPTS(o), value)
        return value

    EFFECTS[name] = Effect(name, run, cite)


_options("SSL_set_options", False, "ssl/ssl_lib.c SSL_set_options: `s->options |= op`, returns the new options")
_options("SSL_clear_options", True, "ssl/ssl_lib.c SSL_clear_options: `s->options &= ~op`, returns the new options")
_options("SSL_CTX_clear_options", True, "ssl/ssl_lib.c SSL_CTX_clear_options: `ctx->options &= ~op` (later SSLs only)")
_getter("SSL_get_options", "opts", "ssl/ssl_lib.c SSL_get_options")
_getter("SSL_CTX_get_options", "opts", "ssl/ssl_lib.c SSL_CTX_get_options")


def _ssl_bound(name: str, field: str) -> None:
    """SSL_ctrl SSL_CTRL_SET_MIN/MAX_PROTO_VERSION: the `SSL`'s own bound (its context's is
    copied at SSL_new), by `ssl_set_version_bound` with `s->ctx->method`."""

    def run(w: World, args: list[Arg]) -> Value:
        ssl = _object_arg(w, args[0], name)
        handshake_reads_ctx(w, ssl, name)
        return set_version_bound(w, ssl, field, w.value(args[1].value), w.get(CTX_OF(ssl)))

    EFFECTS[name] = Effect(name, run, "ssl/ssl_lib.c SSL_ctrl SSL_CTRL_SET_MIN/MAX_PROTO_VERSION (reads s->ctx->method)")


def handshake_reads_ctx(w: World, ssl: int, name: str) -> None:
    refs.use(w, w.get(CTX_OF(ssl)), f"`{name}` reads the context of {obj(ssl)},", holder=ctx_ref_of(ssl))


_ssl_bound("SSL_set_min_proto_version", "minv")
_ssl_bound("SSL_set_max_proto_version", "maxv")
_getter("SSL_get_min_proto_version", "minv", "ssl/ssl_lib.c SSL_ctrl SSL_CTRL_GET_MIN_PROTO_VERSION")
_getter("SSL_get_max_proto_version", "maxv", "ssl/ssl_lib.c SSL_ctrl SSL_CTRL_GET_MAX_PROTO_VERSION")
_getter("SSL_CTX_get_min_proto_version", "minv", "ssl/ssl_lib.c SSL_CTX_ctrl SSL_CTRL_GET_MIN_PROTO_VERSION")
_getter("SSL_CTX_get_max_proto_version", "maxv", "ssl/ssl_lib.c SSL_CTX_ctrl SSL_CTRL_GET_MAX_PROTO_VERSION")


@effect("SSL_set_num_tickets", cite="ssl/ssl_lib.c SSL_set_num_tickets (this SSL's TLS 1.3 server tickets)")
def ssl_set_num_tickets(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_set_num_tickets")
    w.set(NTICK(ssl), w.value(args[1].value))
    return 1


def _quiet_setter(name: str) -> None:
    def run(w: World, args: list[Arg]) -> Value:
        target = _object_arg(w, args[0], name)
        w.set(QUIET(target), args[1].value)
        return None

    EFFECTS[name] = Effect(name, run, f"ssl/ssl_lib.c {name}: the mode as given (an `SSL` copies its "
                           "context's at SSL_new, SSL_dup copies it, SSL_clear keeps it) [verified 3.0.22: quiet_shutdown]")


_quiet_setter("SSL_CTX_set_quiet_shutdown")
_quiet_setter("SSL_set_quiet_shutdown")
_getter("SSL_CTX_get_quiet_shutdown", "quiet", "ssl/ssl_lib.c SSL_CTX_get_quiet_shutdown")
_getter("SSL_get_quiet_shutdown", "quiet", "ssl/ssl_lib.c SSL_get_quiet_shutdown")


# ---- switching context, duplicating -----------------------------------------------------------


@effect(
    "SSL_set_SSL_CTX",
    cite="ssl/ssl_lib.c SSL_set_SSL_CTX: the same context returns at once; NULL means session_ctx; the "
    "context id follows when the SSL had its old context's; +1 new ctx, -1 old ctx; session_ctx (cache, "
    "session callbacks, ticket keys) unchanged [verified 3.0.19: set_ssl_ctx]",
    returns="borrowed",
)
def ssl_set_ssl_ctx(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_set_SSL_CTX")
    old = w.get(CTX_OF(ssl))
    new = w.ptr(args[1])
    if new == old:
        return old
    if new == NULL:
        new = w.get(SCTX(ssl))
    else:
        refs.use(w, new, "`SSL_set_SSL_CTX` reads", via=args[1].var)
    refs.use(w, old, f"`SSL_set_SSL_CTX` reads the old context of {obj(ssl)},", holder=ctx_ref_of(ssl))
    if w.test(w.eq(w.get(SIDCTX(ssl)), w.get(SIDCTX(old)))):
        w.set(SIDCTX(ssl), w.get(SIDCTX(new)))
    refs.take(w, new, ctx_ref_of(ssl), f"{obj(ssl)} takes a reference to {obj(new)} (`ssl->ctx`)")
    w.set(CTX_OF(ssl), new)
    refs.release(w, old, ctx_ref_of(ssl), text=f"{obj(ssl)} drops its `ctx` reference to {obj(old)}")
    w.note(ssl, f"{obj(ssl)} now uses {obj(new)}; its sessions still go to {obj(w.get(SCTX(ssl)))}'s cache")
    return new


@effect(
    "SSL_dup",
    cite="ssl/ssl_lib.c SSL_dup: an SSL not in its initial state is returned itself with one more "
    "reference; otherwise SSL_new(SSL_get_SSL_CTX(s)) sharing the session (SSL_copy_session_id) and copying "
    "the settings [verified 3.0.19: dup_clear]",
    returns="owned",
)
def ssl_dup(w: World, args: list[Arg]) -> Value:
    s = _object_arg(w, args[0], "SSL_dup")
    if w.get(BEGAN(s)) or w.get(DONE(s)):
        refs.take(w, s, SCRIPT, f"{obj(s)} is past its initial state: `SSL_dup` returns it with one more reference")
        return s
    ctx = w.get(CTX_OF(s))
    refs.use(w, ctx, f"`SSL_dup` reads the context of {obj(s)},", holder=ctx_ref_of(s))
    if _alloc_fails(w):
        return NULL
    d = ssl_new_object(w, ctx)
    for field in ("opts", "minv", "maxv", "vmode", "sidctx", "side", "shut", "hit", "quiet"):
        w.set((field, d), w.get((field, s)))
    session = w.get(SLOT(s))
    if session != NULL:
        refs.use(w, session, f"`SSL_dup` shares the session of {obj(s)},", holder=slot_of(s))
        set_slot(w, d, session)
    return d


def copy_session_id_settings(w: World, to: int, src: int) -> None:
    """SSL_copy_session_id also copies the context id (`SSL_set_session_id_context(t,
    f->sid_ctx, ...)`) and the CERT."""
    w.set(SIDCTX(to), w.get(SIDCTX(src)))


@effect(
    "SSL_new_session_ticket",
    cite="ssl/ssl_lib.c SSL_new_session_ticket: 0 unless a TLS 1.3 server past its first handshake; "
    "else one more ticket to send and the connection back in init [verified 3.0.19: tests/library/psk_ticket.c]",
)
def ssl_new_session_ticket(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_new_session_ticket")
    server = w.get(SIDE(ssl)) == handshake.SERVER
    if not (server and w.get(DONE(ssl)) and w.get(PROTO(ssl)) == handshake.TLS1_3):
        return 0
    w.set(XTICK(ssl), w.get(XTICK(ssl)) + 1)
    w.note(ssl, f"{obj(ssl)} will send a ticket (a copy of its session) at its next I/O or handshake call")
    return 1


# ---- ex_data on sessions ------------------------------------------------------------------------
# crypto/ex_data.c: each object has a vector of application pointers; index 0 of every class
# is the app data (SSL_SESSION_set_app_data), later indices are given out by
# CRYPTO_get_ex_new_index. A session's values are a list of (index, value), newest last, so
# that an index the model does not know still finds the value stored under it.

def _ex_value(w: World, arg: Arg, name: str):
    value = w.value(arg.value)
    _reads_buffer(w, arg, name)
    return value


@effect("SSL_SESSION_set_ex_data", cite="ssl/ssl_sess.c SSL_SESSION_set_ex_data: CRYPTO_set_ex_data, any index >= 0 "
        "(the vector grows) [verified 3.0.19: tests/library/exdata_pem.c]")
def session_set_ex_data(w: World, args: list[Arg]) -> Value:
    s = _object_arg(w, args[0], "SSL_SESSION_set_ex_data")
    if w.test(w.lt(args[1].value, 0)):
        return 0
    set_ex(w, s, args[1].value, _ex_value(w, args[2], "SSL_SESSION_set_ex_data"))
    return 1


@effect("SSL_SESSION_get_ex_data", cite="ssl/ssl_sess.c SSL_SESSION_get_ex_data: CRYPTO_get_ex_data, the pointer "
        "stored under the index (NULL if none) [verified 3.0.19: tests/library/exdata_pem.c]")
def session_get_ex_data(w: World, args: list[Arg]) -> Value:
    return get_ex(w, _object_arg(w, args[0], "SSL_SESSION_get_ex_data"), args[1].value)


@effect("SSL_SESSION_set_app_data", cite="ssl.h SSL_SESSION_set_app_data: SSL_SESSION_set_ex_data(s, 0, a)")
def session_set_app_data(w: World, args: list[Arg]) -> Value:
    s = _object_arg(w, args[0], "SSL_SESSION_set_app_data")
    set_ex(w, s, 0, _ex_value(w, args[1], "SSL_SESSION_set_app_data"))
    return 1


@effect("SSL_SESSION_get_app_data", cite="ssl.h SSL_SESSION_get_app_data: SSL_SESSION_get_ex_data(s, 0)")
def session_get_app_data(w: World, args: list[Arg]) -> Value:
    return get_ex(w, _object_arg(w, args[0], "SSL_SESSION_get_app_data"), 0)


def _new_index(w: World, klass: int, callbacks: list[Arg]) -> Value:
    """CRYPTO_get_ex_new_index: the class's next index, from 1 (0 is the app data)
    [verified 3.0.19: the first session index of a process is 1]. Its callbacks run when
    objects are made, copied and destroyed; the model runs none of them, so the executor
    accepts only NULL or inert ones."""
    for arg in callbacks:
        w.value(arg.value)
    n = w.get(EXIDX(klass)) + 1
    w.set(EXIDX(klass), n)
    return n


@effect("SSL_SESSION_get_ex_new_index", cite="ssl.h SSL_SESSION_get_ex_new_index: "
        "CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_SESSION, ...); crypto/ex_data.c")
def session_get_ex_new_index(w: World, args: list[Arg]) -> Value:
    return _new_index(w, EX_INDEX_SSL_SESSION, args[2:])


@effect("CRYPTO_get_ex_new_index", cite="crypto/ex_data.c CRYPTO_get_ex_new_index: one counter per class")
def crypto_get_ex_new_index(w: World, args: list[Arg]) -> Value:
    klass = w.value(args[0].value)
    if not isinstance(klass, int):
        klass = -1  # a class the model cannot tell: its own counter
    return _new_index(w, klass, args[3:])


@effect(
    "SSL_CTX_set_tlsext_servername_callback",
    cite="tls1.h SSL_CTX_set_tlsext_servername_callback: SSL_CTX_callback_ctrl SSL_CTRL_SET_TLSEXT_SERVERNAME_CB "
    "(ssl/s3_lib.c ssl3_ctx_callback_ctrl); it runs in every server handshake (extensions.c final_server_name)",
)
def ctx_set_servername_callback(w: World, args: list[Arg]) -> Value:
    ctx = _object_arg(w, args[0], "SSL_CTX_set_tlsext_servername_callback")
    w.set(SNI_CB(ctx), w.value(args[1].value))
    return 1


NAME_REFUSED = "the name is empty or longer than 255 bytes"  # the path's choice for bytes that are not a literal


@effect(
    "SSL_set_tlsext_host_name",
    cite="tls1.h SSL_set_tlsext_host_name: SSL_ctrl SSL_CTRL_SET_TLSEXT_HOSTNAME (ssl/s3_lib.c ssl3_ctrl): the old "
    "name is freed; NULL clears it (1); an empty name or one over 255 bytes is refused (0, none set); else a copy "
    "[verified 3.0.22: sni_hostname]",
)
def ssl_set_tlsext_host_name(w: World, args: list[Arg]) -> Value:
    """The client's server name, which a full handshake copies into the new session's
    hostname when the server acknowledges it (handshake.py). A string literal is a valid
    name unless it is `""` (one over 255 bytes is not told apart); whether other bytes are
    is the path's choice. On a server the name has no effect on sessions: what a server
    session stores is the name the client sent."""
    ssl = _object_arg(w, args[0], "SSL_set_tlsext_host_name")
    w.set(SNI(ssl), False)
    name = w.value(args[1].value)
    if name == NULL:
        return 1
    _reads_buffer(w, args[1], "SSL_set_tlsext_host_name")
    literal = string_index(name)
    if literal == EMPTY_STRING_INDEX or (literal is None and w.choose(NAME_REFUSED)):
        return 0
    if _alloc_fails(w):
        return 0
    w.set(SNI(ssl), True)
    return 1


# ---- the cache, seen from an SSL ---------------------------------------------------------------


@effect(
    "SSL_has_matching_session_id",
    cite="ssl/ssl_lib.c SSL_has_matching_session_id: a lookup in session_ctx's cache under (the SSL's "
    "version, id); before a handshake the version is TLS 1.3 (t1_lib.c tls1_clear), so a TLS 1.2 entry is "
    "not found [verified 3.0.19: settings]; an id over 32 bytes gives 0",
)
def ssl_has_matching_session_id(w: World, args: list[Arg]) -> Value:
    ssl = _object_arg(w, args[0], "SSL_has_matching_session_id")
    _reads_buffer(w, args[1], "`SSL_has_matching_session_id`")
    if w.test(w.lt(32, args[2].value)):
        return 0
    sctx = w.get(SCTX(ssl))
    refs.use(w, sctx, f"`SSL_has_matching_session_id` reads the session cache of {obj(ssl)},", holder=session_ctx_ref_of(ssl))
    version = w.get(PROTO(ssl)) or handshake.TLS1_3
    value = w.value(args[1].value)
    owner = interior_owner(value)
    if w.test(w.eq(args[2].value, 0)):
        sid = 0
    elif string_index(value) is not None:
        sid = string_index(value) + 1
    elif owner:
        # `SSL_SESSION_get_id(s, &len)`: that session's id (its full length assumed).
        sid = w.get(SID(owner))
    else:
        # Bytes the model does not know: any entry may match.
        return w.fresh_int("a cached session has the id", 0, 1)
    for m in cache.members(w, sctx):
        if w.test(w.eq(w.get(VER(m)), version)) and w.test(w.eq(w.get(SID(m)), sid)):
            refs.use(w, m, "`SSL_has_matching_session_id` compares the key of", holder=cache_of(sctx))
            return 1
    return 0


def verifies_peer(w: World, ssl: int) -> bool:
    return bool(w.get(VMODE(ssl)) & VERIFY_PEER)
