"""The time budget of one check: `--timeout` seconds for all the work on a file (running
the script over all paths, the solver's calls, shortening counterexamples, the fix search).

A budget is opened around the work (`limit`) and the long-running loops ask for the time
left (`remaining_ms`, for the solver's timeouts) or stop when none is left (`check` raises
`BudgetExhausted`; the verdict is then *unknown*, never safe). Budgets nest: an inner one
never extends the outer one's deadline, so the fix search, which checks edited scripts with
the same options, spends what the check left.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from typing import Iterator

_deadline: float = math.inf  # time.monotonic() by which the current work must stop


class BudgetExhausted(Exception):
    """The time budget ran out: whatever was being decided is unknown."""

    def __init__(self, what: str = "") -> None:
        super().__init__(what or "the time budget ran out")


@contextmanager
def limit(seconds: float) -> Iterator[None]:
    """Work inside the block stops `seconds` from now (or at an enclosing deadline, if sooner)."""
    global _deadline
    outer = _deadline
    _deadline = min(outer, time.monotonic() + max(seconds, 0.0))
    try:
        yield
    finally:
        _deadline = outer


def active() -> bool:
    return _deadline != math.inf


def expired() -> bool:
    return time.monotonic() >= _deadline


def check() -> None:
    """Raise `BudgetExhausted` once the deadline has passed (cheap: call it in inner loops)."""
    if time.monotonic() >= _deadline:
        raise BudgetExhausted()


def remaining_ms(cap_ms: int | None = None) -> int:
    """Milliseconds left (at least 1, so that a solver given it stops at once), at most `cap_ms`."""
    left = _deadline - time.monotonic()
    ms = cap_ms if cap_ms is not None else 2**31 - 1
    if left != math.inf:
        ms = min(ms, int(left * 1000))
    return max(1, min(ms, 2**31 - 1))
