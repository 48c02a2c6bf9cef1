"""Session data below the effects: id-context values and a session's ex_data vector, which
both the effects (`api`, `connection`) and the handshakes (copies of a session) use."""

from __future__ import annotations

from . import refcount
from .objects import EXIDX, EXK, EXN, EXV, HOST, HOSTFREED, HOSTSEQ, SIDCTX
from .values import NULL, interior_owner, string_index
from .world import Arg, World

SID_CTX_MAX = 32  # SSL_MAX_SID_CTX_LENGTH


def new_hostname(w: World, s: int, present: bool) -> None:
    """The session frees its hostname buffer and gets a new one (or none): `get0_hostname`
    pointers into the old buffer dangle from here."""
    generation = w.get(HOSTSEQ(s)) + 1
    w.set(HOSTSEQ(s), generation)
    w.set(HOST(s), generation if present else 0)
    w.set(HOSTFREED(s), False)


def id_value(w: World, data: Arg, length: Arg, label: str):
    """The number standing for the bytes `data[0..length)`: 0 when empty, a string literal's
    number + 1 (equal literals are equal ids), else an opaque value (`label`)."""
    if w.test(w.eq(length.value, 0)):
        return 0
    literal = string_index(w.value(data.value))
    if literal is not None:
        return literal + 1
    owner = interior_owner(w.value(data.value))
    if owner:
        # A pointer into a session (`SSL_SESSION_get0_id_context(s, &len)`): its bytes.
        refcount.use(w, owner, "the call reads the bytes of", via=data.var)
        return w.get(SIDCTX(owner))
    return w.fresh_int(label, 1, None)


EX_INDEX_SSL_SESSION = 2  # CRYPTO_EX_INDEX_SSL_SESSION


def set_ex(w: World, s: int, idx, value) -> None:
    n = w.get(EXN(s))
    w.set(EXK(s, n), idx)
    w.set(EXV(s, n), value)
    w.set(EXN(s), n + 1)


def get_ex(w: World, s: int, idx):
    if w.test(w.lt(idx, 0)):
        return NULL  # CRYPTO_get_ex_data: an index out of the vector gives NULL
    for j in range(w.get(EXN(s)) - 1, -1, -1):
        if w.test(w.eq(w.get(EXK(s, j)), idx)):
            return w.get(EXV(s, j))
    return NULL


def copy_ex_data(w: World, d: int, src: int) -> None:
    """CRYPTO_dup_ex_data: without a dup callback (the model accepts none) each pointer is
    copied as it is, so both sessions then carry it [verified 3.0.19: exdata_pem]."""
    n = w.get(EXN(src))
    for j in range(n):
        w.set(EXK(d, j), w.get(EXK(src, j)))
        w.set(EXV(d, j), w.get(EXV(src, j)))
    w.set(EXN(d), n)


def dup_fails_on_ex_data(w: World, src: int) -> bool:
    """A session with ex_data (its app data, say) cannot be copied while no session ex_data
    index was made in the process: CRYPTO_dup_ex_data fails, so SSL_SESSION_dup gives NULL
    [verified 3.0.19: tests/library/exdata_noindex.c]. The model knows only the script's
    indices (another library of the program may have made one)."""
    return bool(w.get(EXN(src))) and not w.get(EXIDX(EX_INDEX_SSL_SESSION))
