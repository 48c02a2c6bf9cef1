"""What a model effect may do to the world: the interface both interpreters implement.

The concrete interpreter (`sessref.concrete`) answers every question with a plain value.
The Z3 encoding (`sessref.encoding`) runs the same effect once per feasible outcome of
each symbolic question and merges the results, so effects are ordinary Python: they read
cells, branch with `test`, and write cells.

Cells are tuples: `("rc", obj)` is the reference count of object `obj`, `("slot", ssl)`
the session in an `SSL`'s slot, and so on (see `objects.py`). A variable of the script is a
cell too, so `d2i_SSL_SESSION(&p, ...)` writes `p` like any other cell.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Hashable, Iterable

from .rules import Rule, Variant

Cell = tuple[Hashable, ...]
# An int or bool, or (in the encoding) a symbolic term the model only combines through
# the arithmetic methods below.
Value = Any


class PathEnds(Exception):
    """Raised by `World.finding` for a crash: the real program's behaviour is undefined from here."""


@dataclass(frozen=True)
class Arg:
    """One argument of a call: its value, and the variable it was read from, if any."""

    value: Value
    text: str  # as written in the script, for messages
    var: Cell | None = None  # `s` in `SSL_SESSION_free(s)`
    address_of: Cell | None = None  # `p` in `d2i_SSL_SESSION(&p, ...)`


class World(ABC):
    """The state an effect runs against, and the questions it may ask."""

    # -- state ------------------------------------------------------------------
    @abstractmethod
    def get(self, cell: Cell) -> Value:
        """The cell's value; finite-valued symbolic cells come back as plain values."""

    @abstractmethod
    def set(self, cell: Cell, value: Value) -> None: ...

    @abstractmethod
    def value(self, v: Value) -> Value:
        """A finite-valued value as a plain one (the encoding forks on it)."""

    # -- choices ------------------------------------------------------------------
    @abstractmethod
    def test(self, cond: Value) -> bool:
        """A possibly symbolic condition as a Python bool (the encoding forks on it)."""

    @abstractmethod
    def choose(self, label: str) -> bool:
        """A nondeterministic outcome of the library (say, `d2i_SSL_SESSION` failing on its input)."""

    @abstractmethod
    def fresh_int(self, label: str, lo: int | None = None, hi: int | None = None) -> Value:
        """An opaque integer (a decoded session's time, an id), optionally bounded."""

    def record(self, label: str, value: int) -> None:  # noqa: B027 (a no-op unless overridden)
        """A fact of the path a reproducer needs (which session a client offers): kept
        with the concrete path's choices; the encoding has nothing to do."""

    # -- arithmetic on possibly symbolic integers -------------------------------------
    @abstractmethod
    def add(self, a: Value, b: Value) -> Value: ...

    @abstractmethod
    def lt(self, a: Value, b: Value) -> Value: ...

    @abstractmethod
    def eq(self, a: Value, b: Value) -> Value: ...

    @abstractmethod
    def ite(self, c: Value, a: Value, b: Value) -> Value: ...

    # -- objects -------------------------------------------------------------------
    @abstractmethod
    def new_object(self, kind: str) -> int:
        """A fresh object of `kind` (see `objects.py`), allocated at the current step."""

    @abstractmethod
    def objects(self, kind: str) -> Iterable[int]:
        """Every object of `kind` that may exist at this point."""

    @abstractmethod
    def kind(self, obj: int) -> str: ...

    @property
    @abstractmethod
    def site(self) -> int:
        """The step being executed (a call instance of the script), as a number."""

    @property
    @abstractmethod
    def allocation_failures(self) -> bool:
        """Whether allocation failures (`SSL_SESSION_new` returning NULL ...) are explored."""

    # -- what happened ----------------------------------------------------------------
    @abstractmethod
    def finding(
        self, rule: Rule, message: str, objs: tuple[int, ...] = (), site: int | None = None, variant: Variant | None = None
    ) -> None:
        """Report `rule` at `site` (default: this step), as `variant` when the rule declares
        variants (`rules.check_variant`). Raises `PathEnds` for a crash rule."""

    @abstractmethod
    def note(self, obj: int, text: str) -> None:
        """What this step did to `obj`, for the trace ("`ssl`'s slot takes a reference: count 2").
        `{#N}` in text names object N."""

    @abstractmethod
    def intern(self, key: Hashable) -> int:
        """A number standing for `key` (a variable cell, say), stable for the whole run."""

    @abstractmethod
    def live_variables(self) -> Iterable[Cell]:
        """The variable cells in scope, plus cells holding values in flight (a call's result)."""

    # -- derived helpers -------------------------------------------------------------
    def gt(self, a: Value, b: Value) -> Value:
        return self.lt(b, a)

    def ptr(self, arg: Arg) -> int:
        """The object an argument points at (0 for NULL)."""
        return int(self.value(arg.value))


def obj(o: int) -> str:
    """A placeholder naming object `o` in a note or message, resolved by the reports."""
    return "{#%d}" % o
