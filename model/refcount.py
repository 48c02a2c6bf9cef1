"""The reference-counting primitives every other part of the model is built from:
holders, allocation, taking and releasing a reference, the destruction of an object, and
uses of a destroyed one. This module sits below the cache (`cache.py`), the cascades of
`refs.py` and the handshakes (`handshake.py`), and imports none of them.

Accounting: `rc` is the real count; `lib` counts the references library holders own. The
script owns `rc - lib`. Releasing through the script when it owns none is `borrowed-free`;
destroying an object while `lib > 0` leaves a library holder with a dangling pointer.
"""

from __future__ import annotations

from .objects import (
    ALIVE,
    CACHED,
    CBARG,
    CBFREED,
    CBKIND,
    CBSITE,
    CTX,
    CTX_OF,
    DEATH,
    DESTROYED,
    HOLDER_KINDS,
    HOSTFREED,
    KILLED_BY_LIBRARY,
    KILLER,
    LIB,
    LOST,
    NEW_SESSION,
    PQ,
    PQ_N,
    RC,
    RELEASE,
    REMOVED,
    SCRIPT,
    SESSION,
    SITE,
    SLOT,
    SSL,
    ST,
    Holder,
    cache_of,
    slot_of,
)
from .rules import (
    BORROWED_FREE,
    BORROWED_UNOWNED,
    CALLBACK_NEW_FREED_LENT,
    CALLBACK_OWNERSHIP,
    CALLBACK_REMOVE_FREED_LENT,
    DANGLING_REFERENCE,
    DOUBLE_FREE,
    DOUBLE_FREE_BY_LIBRARY,
    DOUBLE_FREE_BY_SCRIPT,
    DOUBLE_FREE_HOSTNAME,
    NULL_DEREFERENCE,
    USE_AFTER_FREE,
)
from .world import Arg, Cell, World, obj

# How messages name each kind of holder (`{}`: the object it is tied to).
_HOLDER_TEXT = {
    "script": "the script",
    "slot": "{}'s session slot",
    "cache": "{}'s session cache",
    "ssl-ctx": "{} (its `ctx`)",
    "ssl-session-ctx": "{} (its `session_ctx`)",
    "handshake": "{}'s handshake",
    "new-cb": "the library, for `new_session_cb` on {}",
    "kept": "a function the script declared to hold {}",
}
assert set(_HOLDER_TEXT) == HOLDER_KINDS


def describe_holder(holder: Holder) -> str:
    return _HOLDER_TEXT[holder.kind].format(obj(holder.obj))


def _holder_id(w: World, holder: Holder, via: Cell | None) -> int:
    if holder.is_script:
        return w.intern(via) if via is not None else w.intern(("expression", w.site))
    return KILLED_BY_LIBRARY


def allocate(w: World, kind: str, holder: Holder = SCRIPT) -> int:
    """A new object with one reference, owned by the script or by a library holder."""
    o = w.new_object(kind)
    w.set(ST(o), ALIVE)
    w.set(RC(o), 1)
    w.set(LIB(o), 0 if holder == SCRIPT else 1)
    w.set(SITE(o), w.site)
    w.set(LOST(o), False)
    w.note(o, f"{obj(o)} is allocated: count 1")
    return o


def require(w: World, arg: Arg, what: str) -> int:
    """The object `arg` points at, which the library dereferences: NULL is a crash."""
    o = w.ptr(arg)
    if o == 0:
        w.finding(NULL_DEREFERENCE, f"`{arg.text}` is NULL here, and {what} dereferences it")
    return o


def use(w: World, o: int, how: str, via: Cell | None = None, holder: Holder = SCRIPT) -> None:
    """The library reads or writes object `o`: it must not have been destroyed."""
    if w.get(ST(o)) != DESTROYED:
        return
    _blame_killer(w, o, holder, via)
    w.finding(USE_AFTER_FREE, f"{how} {obj(o)}, which was destroyed", (o,))


def _blame_killer(w: World, o: int, holder: Holder, via: Cell | None) -> None:
    """When the script destroyed `o` through another pointer than the one now used, that
    release is the root cause: say so there. (A library holder that destroys an object it
    owned a reference to did nothing wrong; destroying one a library holder still points
    at is reported when it happens.)"""
    killer = w.get(KILLER(o))
    if killer != KILLED_BY_LIBRARY and killer != _holder_id(w, holder, via):
        w.finding(
            DANGLING_REFERENCE,
            f"{obj(o)} is destroyed here while another holder still points at it; it is used later",
            (o,),
            site=w.get(DEATH(o)),
        )


def take(w: World, o: int, holder: Holder, text: str | None = None) -> None:
    """`holder` takes a new reference to the live object `o`."""
    rc = w.get(RC(o)) + 1
    w.set(RC(o), rc)
    if holder == SCRIPT:
        w.set(LOST(o), False)
    else:
        w.set(LIB(o), w.get(LIB(o)) + 1)
    w.note(o, f"{text or describe_holder(holder) + ' takes a reference'}: count {rc}")


def release(
    w: World, o: int, holder: Holder, via: Cell | None = None, text: str | None = None, cascade: bool = False
) -> bool:
    """`holder` drops its reference to `o`; the object is destroyed when none remain, and
    the result says whether it was. An `SSL` or `SSL_CTX` destroyed here must then release
    what it holds, which needs the cache: `refs.release` does both (`cascade=True` says the
    caller will). Everything below the cache (the cache itself) releases sessions only."""
    if w.get(ST(o)) == DESTROYED:
        _blame_killer(w, o, holder, via)
        w.finding(
            DOUBLE_FREE,
            f"{describe_holder(holder)} releases a reference to {obj(o)}, which was already destroyed",
            (o,),
            variant=DOUBLE_FREE_BY_SCRIPT if holder == SCRIPT else DOUBLE_FREE_BY_LIBRARY,
        )
    rc = w.get(RC(o))
    lib = w.get(LIB(o))
    if holder == SCRIPT and rc - lib <= 0 and _new_cb_reference(w, o):
        # `new_session_cb` freeing its session: the library's extra reference was taken for
        # the callback (ssl_lib.c ssl_update_cache L3764-3765), so the callback may drop it
        # itself; it must then return 1, else the library drops it again (L3766-3767).
        # Postfix's callbacks free and return 1 (tls_client.c new_client_session_cb).
        lib -= 1
        w.set(LIB(o), lib)
        w.set(CBFREED(), w.site)
    elif holder == SCRIPT:
        if rc - lib <= 0 and _lent_to_callback(w, o):
            w.finding(
                CALLBACK_OWNERSHIP,
                f"the callback releases {obj(o)}, which the library only lent it: "
                f"{callback_contract(w)}",
                (o,),
                variant=CALLBACK_NEW_FREED_LENT
                if w.get(CBKIND()) == NEW_SESSION
                else CALLBACK_REMOVE_FREED_LENT,
            )
        elif rc - lib <= 0:
            w.finding(
                BORROWED_FREE,
                f"the script releases a reference to {obj(o)} that it never owned",
                (o,),
                variant=BORROWED_UNOWNED,
            )
    else:
        lib -= 1
        w.set(LIB(o), lib)
    rc -= 1
    w.set(RC(o), rc)
    w.note(o, f"{text or describe_holder(holder) + ' releases its reference'}: count {rc}")
    if rc != 0:
        return False
    _destroy(w, o, holder, via, lib)
    if not cascade and w.kind(o) != SESSION:
        raise AssertionError(f"refcount.release destroyed {w.kind(o)} #{o} without its cascade: use refs.release")
    return True


def _new_cb_reference(w: World, o: int) -> bool:
    """Whether `o` is the session of the running `new_session_cb` and the library's extra
    reference for it has not been dropped yet."""
    return w.get(CBKIND()) == NEW_SESSION and w.get(CBARG()) == o and not w.value(w.get(CBFREED()))


def _lent_to_callback(w: World, o: int) -> bool:
    return bool(w.get(CBKIND())) and w.get(CBARG()) == o


def callback_contract(w: World, kind: int | None = None) -> str:
    if (w.get(CBKIND()) if kind is None else kind) == NEW_SESSION:
        return ("`new_session_cb` owns the library's extra reference only if it returns 1; "
                "return 0 (the library then drops it) or return 1 and free it later, but not both")
    return ("`remove_session_cb` is a notification without a reference; whoever holds the session "
            "(the cache, which drops its reference right after the callback, or the connection) "
            "still owns its reference")


def _destroy(w: World, o: int, holder: Holder, via: Cell | None, lib: int) -> None:
    w.set(ST(o), DESTROYED)
    w.set(DEATH(o), w.site)
    w.set(KILLER(o), _holder_id(w, holder, via))
    w.note(o, f"{obj(o)} is destroyed")
    if lib > 0:
        w.finding(
            DANGLING_REFERENCE,
            f"{obj(o)} is destroyed while {_library_holders_text(w, o)} still points at it",
            (o,),
        )
    kind = w.kind(o)
    if kind == SESSION and w.get(HOSTFREED(o)):
        # ssl/ssl_sess.c SSL_SESSION_free L879 (3.0.22): OPENSSL_free(ss->ext.hostname).
        w.finding(
            DOUBLE_FREE,
            f"destroying {obj(o)} frees its hostname, which the script already freed",
            (o,),
            variant=DOUBLE_FREE_HOSTNAME,
        )


def _library_holders_text(w: World, o: int) -> str:
    """Which library holders still point at session/context `o` (for the message)."""
    names = []
    if w.kind(o) == SESSION:
        c = w.get(CACHED(o))
        if c:
            names.append(describe_holder(cache_of(c)))
        for ssl in w.objects(SSL):
            if w.get(ST(ssl)) == ALIVE and w.get(SLOT(ssl)) == o:
                names.append(describe_holder(slot_of(ssl)))
        for i in range(w.get(PQ_N())):
            if w.get(PQ("kind", i)) in (REMOVED, RELEASE) and w.get(PQ("rel", i)) == o:
                ctx = w.get(PQ("ctx", i))
                names.append(describe_holder(cache_of(ctx)) + " (it drops its reference after the remove callback)")
    elif w.kind(o) == CTX:
        for ssl in w.objects(SSL):
            if w.get(ST(ssl)) == ALIVE and w.get(CTX_OF(ssl)) == o:
                names.append(obj(ssl))
    return " and ".join(names) or "a library holder"


def reachable(w: World, o: int) -> bool:
    """Whether a variable in scope (a global, the caller's locals) still points at `o`."""
    return any(w.value(w.get(cell)) == o for cell in w.live_variables())


def callback_site(w: World, what: str):
    """Where the last callback broke its contract: its `return`, or its `*copy = ...` (the
    executor records both); None (the current step) when it did neither."""
    site = w.value(w.get(CBSITE(what))) if what == "copy" else None
    return site or w.value(w.get(CBSITE("return"))) or None
