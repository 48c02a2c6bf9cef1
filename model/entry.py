"""What the unknown caller of a checked C function does afterwards (`checker/language/centry.py`).

When `sessref check FILE.c` runs a function as an entry point, it builds the context the
function runs in: an `SSL_CTX` and `SSL`s the caller owns, sessions it lends, storage that
may already hold a session. After the function returns, the caller drops the `SSL`s and
contexts it still owns. Whether it still owns them is not known: the function may have
freed one (`SSL_free(c->ssl)` in a close function is correct code). So the caller's release
is conditional: a live object the script still owns a reference to is released once, as
by `SSL_free` / `SSL_CTX_free` (ssl/ssl_lib.c SSL_free L1173-1271, SSL_CTX_free
L3428-3510); a destroyed or NULL one is left alone. Sessions are not released this way:
the caller releases a session cell strictly (`SSL_SESSION_free`), so that a session freed
without clearing its pointer is a double free, as it is in the real program.
"""

from __future__ import annotations

from .api import EFFECTS, Effect
from .objects import ALIVE, LIB, LOST, RC, ST
from .values import NULL
from .world import Arg, Value, World, obj

CALLER_RELEASES = "__sessref_caller_releases"


def _caller_releases(w: World, args: list[Arg]) -> Value:
    o = w.ptr(args[0])
    if o == NULL or o < 0:
        return None
    if not w.test(w.eq(w.get(ST(o)), ALIVE)):
        return None
    if not w.test(w.lt(w.get(LIB(o)), w.get(RC(o)))):
        return None  # the script owns no reference to it any more
    free = {"SSL": "SSL_free", "SSL_CTX": "SSL_CTX_free"}.get(w.kind(o), "SSL_SESSION_free")
    return EFFECTS[free].run(w, args)


EFFECTS[CALLER_RELEASES] = Effect(
    CALLER_RELEASES,
    _caller_releases,
    "ssl/ssl_lib.c SSL_free L1173-1271, SSL_CTX_free L3428-3510: the caller's own release, once",
)


HELPER_KEEPS = "__sessref_helper_keeps"


def _helper_keeps(w: World, args: list[Arg]) -> Value:
    """A project helper of unknown body was given `args[0]`: if the function owns a reference
    to it, the helper may have kept it (stored it in a cache, as curl's `Curl_ssl_addsessionid`
    did), so its references are no longer checked for leaks: the escape of static analyzers.
    It is still the same object: a later `SSL_SESSION_free` by the function releases a
    reference as usual. A lent session (a callback's parameter, `SSL_get_session`'s) gains
    nothing: the helper may read it, not own it."""
    o = w.ptr(args[0])
    if o == NULL or o < 0:
        return None
    if not w.test(w.eq(w.get(ST(o)), ALIVE)):
        return None
    if not w.test(w.lt(w.get(LIB(o)), w.get(RC(o)))):
        return None
    w.set(LOST(o), True)
    w.note(o, f"`{args[1].text}` may keep {obj(o)}: its references are no longer checked for leaks")
    return None


EFFECTS[HELPER_KEEPS] = Effect(
    HELPER_KEEPS,
    _helper_keeps,
    "sessref's contract for a project helper given an owned session (README 'Checking C files')",
)
