"""How non-object pointers are represented in cells, next to object ids.

Cells hold integers. An object pointer is the object's id (>= 1); NULL is 0. Pointers that
are not reference-counted objects are negative: a method (`TLS_client_method()`), or a
borrowed pointer *into* a session (`SSL_SESSION_get0_hostname(s)`), which is only valid
while that session lives.
"""

from __future__ import annotations

NULL = 0
METHOD_ANY, METHOD_CLIENT, METHOD_SERVER = -1, -2, -3
OPAQUE_POINTER = -4  # a pointer the model does not follow (a BIO, a FILE)
_INTERIOR_BASE = -1000


def interior(owner: int) -> int:
    """A `get0` pointer into `owner`."""
    return _INTERIOR_BASE - owner


def interior_owner(value: int) -> int:
    """The session a `get0` pointer points into, or 0 if `value` is not such a pointer."""
    if not isinstance(value, int) or value > _INTERIOR_BASE or value <= -1_000_000_000:
        return 0
    return _INTERIOR_BASE - value

_STRING_BASE = -2_000_000_000


def string(index: int) -> int:
    """The `index`-th distinct string literal of the script (its bytes are known)."""
    return _STRING_BASE - index


def string_index(value: int) -> int | None:
    """Which string literal `value` is, or None."""
    return _STRING_BASE - value if isinstance(value, int) and value <= _STRING_BASE else None
