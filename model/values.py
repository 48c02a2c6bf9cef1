"""How non-object pointers are represented in cells, next to object ids.

Cells hold integers. An object pointer is the object's id (>= 1); NULL is 0. Pointers that
are not reference-counted objects are negative: a method (`TLS_client_method()`), or a
borrowed pointer *into* a session (`SSL_SESSION_get0_hostname(s)`), which is only valid
while that session lives.
"""

from __future__ import annotations

NULL = 0
METHOD_ANY, METHOD_CLIENT, METHOD_SERVER = -1, -2, -3
# TLSv1_2_method, TLSv1_2_client_method, TLSv1_2_server_method: TLS 1.2 only.
METHOD_ANY_12, METHOD_CLIENT_12, METHOD_SERVER_12 = -4, -5, -6
FIXED_TLS12_METHODS = (METHOD_ANY_12, METHOD_CLIENT_12, METHOD_SERVER_12)
OPAQUE_POINTER = -4  # a pointer the model does not follow (a BIO, a FILE)
_INTERIOR_BASE = -1000


_GENERATION = 1_000_000


def interior(owner: int, generation: int = 0) -> int:
    """A `get0` pointer into `owner`. A hostname pointer carries which of the session's
    hostname buffers it points at (1, 2, ...): setting a new hostname frees the old one."""
    return _INTERIOR_BASE - owner - generation * _GENERATION


def interior_owner(value: int) -> int:
    """The session a `get0` pointer points into, or 0 if `value` is not such a pointer."""
    if not isinstance(value, int) or value > _INTERIOR_BASE or value <= -1_000_000_000:
        return 0
    return (_INTERIOR_BASE - value) % _GENERATION


def interior_generation(value: int) -> int:
    """Which hostname buffer a `get0_hostname` pointer points at (0: not a hostname)."""
    return (_INTERIOR_BASE - value) // _GENERATION if interior_owner(value) else 0


_STRING_BASE = -2_000_000_000


def string(index: int) -> int:
    """The `index`-th distinct string literal of the script (its bytes are known)."""
    return _STRING_BASE - index


# `""`: a number of its own, after every other literal's, so that the others keep theirs (a
# literal's number + 1 is a session id, and an id of no bytes is the empty id, 0).
EMPTY_STRING_INDEX = 999_999


def string_index(value: int) -> int | None:
    """Which string literal `value` is, or None."""
    if isinstance(value, int) and _STRING_BASE - 1_000_000 < value <= _STRING_BASE:
        return _STRING_BASE - value
    return None


_FUNCTION_BASE = -3_000_000_000


def function_pointer(index: int) -> int:
    """A pointer to the script's `index`-th function (a callback to register)."""
    return _FUNCTION_BASE - index


def function_index(value: int) -> int | None:
    """Which script function `value` points at, or None."""
    if isinstance(value, int) and _FUNCTION_BASE - 1_000_000 < value <= _FUNCTION_BASE:
        return _FUNCTION_BASE - value
    return None


_CELL_BASE = -4_000_000_000


def cell_pointer(index: int) -> int:
    """A pointer the library passes into a callback (`&copy`), to the `index`-th such cell."""
    return _CELL_BASE - index


def cell_pointer_index(value) -> int | None:
    if isinstance(value, int) and _CELL_BASE - 1_000_000 < value <= _CELL_BASE:
        return _CELL_BASE - value
    return None
