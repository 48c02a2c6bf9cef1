"""What releasing a reference sets off, and references the script loses: an `SSL` that
dies releases its slot and both context references, a context that dies flushes its
cache, a session closed without `SSL_shutdown` is removed as bad, and a reference no
variable reaches any more is a leak. The primitives (take, release, use...) are
`refcount.py`'s, below the cache; this module sits above it.
"""

from __future__ import annotations

from . import cache
from .objects import (
    ALIVE,
    CTX,
    CTX_OF,
    DONE,
    DYING,
    LIB,
    LOST,
    RC,
    REMOVE_CB,
    SCTX,
    SENT_SHUTDOWN,
    SHUT,
    SITE,
    SLOT,
    SSL,
    ST,
    ctx_ref_of,
    session_ctx_ref_of,
    slot_of,
)
from .refcount import (  # noqa: F401  (the primitives, as the effects in api.py call them)
    Holder,
    allocate,
    require,
    take,
    use,
)
from .refcount import release as _release
from .rules import (
    LEAK,
    LEAK_AT_END,
    LEAK_LOST,
    LEAK_OUT_OF_SCOPE,
    LEAK_OVERWRITTEN,
    LEAK_UNUSED_RESULT,
    Variant,
)
from .world import Cell, World, obj


def release(w: World, o: int, holder: Holder, via: Cell | None = None, text: str | None = None) -> None:
    """`holder` drops its reference to `o` (`refcount.release`); an `SSL` or a context that
    dies then releases what it holds."""
    if not _release(w, o, holder, via, text, cascade=True):
        return
    kind = w.kind(o)
    if kind == SSL:
        _ssl_destroyed(w, o)
    elif kind == CTX:
        _ctx_destroyed(w, o)


def _ssl_destroyed(w: World, ssl: int) -> None:
    """ssl/ssl_lib.c SSL_free L1173-1271: clear a bad session and free the slot (L1208-1212),
    then free `session_ctx` (L1220) and `ctx` (L1256)."""
    session = w.get(SLOT(ssl))
    if session:
        clear_bad_session(w, ssl)
        release(w, session, slot_of(ssl))
        w.set(SLOT(ssl), 0)
    release(w, w.get(SCTX(ssl)), session_ctx_ref_of(ssl))
    release(w, w.get(CTX_OF(ssl)), ctx_ref_of(ssl))


def _ctx_destroyed(w: World, ctx: int) -> None:
    """ssl/ssl_lib.c SSL_CTX_free L3454-3455: the last reference flushes the whole cache."""
    if w.get(REMOVE_CB(ctx)):
        w.set(DYING(ctx), True)  # before the flush queues its callbacks
    cache.flush(w, ctx, 0, "`SSL_CTX_free`")
    if w.get(REMOVE_CB(ctx)):
        cache.queue_context_end(w, ctx)


def session_is_open(w: World, ssl: int) -> bool:
    """ssl/ssl_sess.c ssl_clear_bad_session L1228-1235 (3.0.22): a session is "bad" when the
    handshake completed (not in init, not before) and no close_notify was sent."""
    # Tickets `SSL_new_session_ticket` asked for put the connection back "in init".
    in_init = bool(w.get(("xtick", ssl)))
    return bool(w.get(SLOT(ssl))) and bool(w.get(DONE(ssl))) and not in_init and not (w.get(SHUT(ssl)) & SENT_SHUTDOWN)


def clear_bad_session(w: World, ssl: int) -> bool:
    """Remove an open session from `session_ctx`'s cache and mark it not resumable."""
    if not session_is_open(w, ssl):
        return False
    session = w.get(SLOT(ssl))
    w.note(session, f"{obj(ssl)} closed without `SSL_shutdown`: {obj(session)} is bad")
    cache.remove(w, w.get(SCTX(ssl)), session, "the bad-session cleanup", why=2)
    return True


# How the last reference was lost, in the leak's message.
_LOST_WHERE = {
    LEAK_LOST: "here",
    LEAK_UNUSED_RESULT: "because the result is not kept",
    LEAK_OVERWRITTEN: "when the variable is overwritten",
    LEAK_OUT_OF_SCOPE: "when its variable goes out of scope",
}


def check_lost(w: World, o: int, variant: Variant = LEAK_LOST) -> None:
    """After a variable lost its value: the script owns references to `o` that no variable
    can reach any more, so they can never be released. `variant` says how it was lost."""
    if not o or w.get(ST(o)) != ALIVE or w.get(LOST(o)):
        return
    if w.get(RC(o)) - w.get(LIB(o)) <= 0:
        return
    for cell in w.live_variables():
        if w.value(w.get(cell)) == o:
            return
    w.set(LOST(o), True)
    w.finding(LEAK, f"the script's last reference to {obj(o)} is lost {_LOST_WHERE[variant]}", (o,), variant=variant)


def check_end(w: World, o: int) -> None:
    """At the end of the script: an object the script still owns references to leaks. It is
    reported where it was allocated (as valgrind does), whichever path leaked it. Objects
    only library holders keep (a leaked `SSL`'s session) are not reported again."""
    if w.get(ST(o)) != ALIVE or w.get(LOST(o)):
        return
    owned = w.get(RC(o)) - w.get(LIB(o))
    if owned <= 0:
        return
    w.finding(
        LEAK,
        f"{obj(o)} is never released: the script still owns {owned} reference(s) when it ends",
        (o,),
        variant=LEAK_AT_END,
        site=w.get(SITE(o)),
    )

