"""The Z3 encoding: runs the script once over all paths, as bounded model checking.

States map cells to values that are either plain (most cells of most scripts) or `Sym`: a
Z3 term with, where finite, the set of plain values it can take. A branch on a symbolic
condition splits the state; at the join every cell that differs becomes a fresh SSA
variable defined by an `If` on the branch condition, so formulas stay linear in the
script's length while 2^n paths are covered.

A model effect runs once per feasible combination of the symbolic values it reads (each
read of a finite-valued term forks on its values; each symbolic test forks on the
condition), and the outcomes merge the same way. Every finding is recorded with the
condition under which it happens; `solving.py` asks Z3 which ones can.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

import z3

from .concrete import Objects, site_label
from .execute import Backend, Effect, Sites, State
from .language import ast
from .model.objects import KINDS
from .model.rules import Rule
from .model.world import Arg, Cell, PathEnds, World

MAX_VALUES = 64  # beyond this a value set is dropped (the term is treated as unbounded)
MAX_OUTCOMES = 4096  # forks of one step; beyond it the check gives up (unknown)


class TooManyCases(Exception):
    """One step has more outcomes than the encoding explores: the verdict is unknown."""


class Sym:
    """A symbolic value: a Z3 term and the finite set of plain values it can take (or None)."""

    __slots__ = ("term", "values")

    def __init__(self, term: z3.ExprRef, values: frozenset | None):
        self.term = term
        self.values = values

    def __bool__(self) -> bool:
        raise TypeError("a symbolic value has no truth value; use World.test")

    def __repr__(self) -> str:
        return f"Sym({self.term}, {sorted(self.values) if self.values is not None else '?'})"


def is_bool(v: Any) -> bool:
    return isinstance(v, bool) or (isinstance(v, Sym) and z3.is_bool(v.term))


def term(v: Any, as_int: bool = False) -> z3.ExprRef:
    if isinstance(v, Sym):
        if as_int and z3.is_bool(v.term):
            return z3.If(v.term, z3.IntVal(1), z3.IntVal(0))
        return v.term
    if isinstance(v, bool) and not as_int:
        return z3.BoolVal(v)
    if v is None:
        return z3.IntVal(0)
    return z3.IntVal(int(v))


def values_of(v: Any) -> frozenset | None:
    if isinstance(v, Sym):
        return v.values
    return frozenset([v])


def _plain(t: z3.ExprRef) -> Any:
    """A Z3 term that simplified to a constant, as a plain value; else None."""
    if z3.is_true(t):
        return True
    if z3.is_false(t):
        return False
    if z3.is_int_value(t):
        return t.as_long()
    return None


def _combine(op, a: Any, b: Any, make) -> Any:
    """Apply `op` to plain values, or build a Sym whose value set is the image of both sets."""
    if not isinstance(a, Sym) and not isinstance(b, Sym):
        return op(a, b)
    va, vb = values_of(a), values_of(b)
    values = None
    if va is not None and vb is not None and len(va) * len(vb) <= MAX_VALUES * 4:
        values = frozenset(op(x, y) for x, y in itertools.product(va, vb))
        if len(values) == 1:
            return next(iter(values))
        if len(values) > MAX_VALUES:
            values = None
    t = make(a, b)
    simple = _plain(z3.simplify(t))
    if simple is not None:
        return simple
    if values is None and z3.is_bool(t):
        values = frozenset([True, False])
    return Sym(t, values)


def _int_pair(f):
    return lambda a, b: f(term(a, True), term(b, True))


OPS = {
    "eq": lambda a, b: _combine(lambda x, y: x == y, a, b, _eq_terms),
    "ne": lambda a, b: not_(OPS["eq"](a, b)),
    "lt": lambda a, b: _combine(lambda x, y: x < y, a, b, _int_pair(lambda x, y: x < y)),
    "le": lambda a, b: _combine(lambda x, y: x <= y, a, b, _int_pair(lambda x, y: x <= y)),
    "gt": lambda a, b: _combine(lambda x, y: x > y, a, b, _int_pair(lambda x, y: x > y)),
    "ge": lambda a, b: _combine(lambda x, y: x >= y, a, b, _int_pair(lambda x, y: x >= y)),
    "add": lambda a, b: _combine(lambda x, y: x + y, a, b, _int_pair(lambda x, y: x + y)),
    "sub": lambda a, b: _combine(lambda x, y: x - y, a, b, _int_pair(lambda x, y: x - y)),
    "bitor": lambda a, b: _combine(
        lambda x, y: int(x) | int(y), a, b, _int_pair(lambda x, y: z3.BV2Int(z3.Int2BV(x, 64) | z3.Int2BV(y, 64)))
    ),
    "bitand": lambda a, b: _combine(
        lambda x, y: int(x) & int(y), a, b, _int_pair(lambda x, y: z3.BV2Int(z3.Int2BV(x, 64) & z3.Int2BV(y, 64)))
    ),
}


def _eq_terms(a: Any, b: Any) -> z3.ExprRef:
    if is_bool(a) and is_bool(b):
        return term(a) == term(b)
    return term(a, True) == term(b, True)


def not_(a: Any) -> Any:
    if not isinstance(a, Sym):
        return not a
    if not z3.is_bool(a.term):
        return OPS["eq"](a, 0)
    return Sym(z3.Not(a.term), a.values)


def truth(a: Any) -> Any:
    if isinstance(a, Sym):
        return a if z3.is_bool(a.term) else not_(OPS["eq"](a, 0))
    return bool(a)


def ite(c: Any, a: Any, b: Any) -> Any:
    c = truth(c)
    if not isinstance(c, Sym):
        return a if c else b
    if not isinstance(a, Sym) and not isinstance(b, Sym) and a == b and type(a) is type(b):
        return a
    va, vb = values_of(a), values_of(b)
    values = va | vb if va is not None and vb is not None and len(va | vb) <= MAX_VALUES else None
    if is_bool(a) and is_bool(b):
        return Sym(z3.If(c.term, term(a), term(b)), values)
    return Sym(z3.If(c.term, term(a, True), term(b, True)), values)


def conj(terms: list) -> Any:
    terms = [t for t in terms if not (isinstance(t, bool) and t)]
    if any(isinstance(t, bool) and not t for t in terms):
        return False
    if not terms:
        return True
    return terms[0] if len(terms) == 1 else z3.And(*terms)


def to_bool_term(g: Any) -> z3.BoolRef:
    return z3.BoolVal(g) if isinstance(g, bool) else g


@dataclass
class Candidate:
    """A finding that happens when `guard` holds."""

    rule: Rule
    site: int
    guard: Any
    message: str
    objs: tuple[int, ...]


class SymbolicState(State):
    def __init__(self, cells: dict, pc: Any, split: tuple | None = None):
        self.cells = cells
        self.pc = pc  # the path condition: True or a Z3 Bool
        self.split = split  # (parent pc, condition, side) right after a branch


@dataclass
class Outcome:
    guards: list
    writes: dict
    value: Any
    crashed: bool
    findings: list = field(default_factory=list)


class ForkingWorld(World):
    """One execution of an effect along one combination of choices (`prefix`)."""

    def __init__(self, backend: "SymbolicBackend", state: SymbolicState, site: int, live: list[Cell], prefix: tuple):
        self.backend = backend
        self.base = state.cells
        self.pc = state.pc
        self._site = site
        self._live = live
        self.prefix = prefix
        self.decisions: list[int] = []
        self.guards: list = []
        self.alternatives: list[tuple] = []
        self.writes: dict = {}
        self.memo: dict[int, Any] = {}
        self.findings: list[Candidate] = []
        self._allocations = 0

    def _fork(self, options: list[tuple[Any, Any]]) -> Any:
        options = [o for o in options if not (isinstance(o[0], bool) and not o[0])]
        if len(options) == 1:
            return options[0][1]
        i = len(self.decisions)
        if i < len(self.prefix):
            choice = self.prefix[i]
        else:
            choice = 0
            for j in range(1, len(options)):
                self.alternatives.append(tuple(self.decisions) + (j,))
        self.decisions.append(choice)
        guard, value = options[choice]
        self.guards.append(guard)
        return value

    def get(self, cell: Cell) -> Any:
        return self.value(self.writes[cell] if cell in self.writes else self.base.get(cell, 0))

    def set(self, cell: Cell, value: Any) -> None:
        self.writes[cell] = value

    def value(self, v: Any) -> Any:
        if not isinstance(v, Sym) or v.values is None:
            return v
        key = v.term.get_id()
        if key not in self.memo:
            if z3.is_bool(v.term):
                options = [(v.term, True), (z3.Not(v.term), False)]
            else:
                options = [(v.term == x, x) for x in sorted(v.values)]
            self.memo[key] = self._fork(options)
        return self.memo[key]

    def test(self, cond: Any) -> bool:
        return bool(self.value(truth(cond)))

    def choose(self, label: str) -> bool:
        var = self.backend.choice_bool(site_label(self.backend.sites, self._site, label))
        return self.test(Sym(var, frozenset([True, False])))

    def fresh_int(self, label: str, lo: int | None = None, hi: int | None = None) -> Any:
        return self.backend.choice_int(site_label(self.backend.sites, self._site, label), lo, hi)

    def add(self, a: Any, b: Any) -> Any:
        return OPS["add"](a, b)

    def lt(self, a: Any, b: Any) -> Any:
        return OPS["lt"](a, b)

    def eq(self, a: Any, b: Any) -> Any:
        return OPS["eq"](a, b)

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return ite(c, a, b)

    def new_object(self, kind: str) -> int:
        self._allocations += 1
        return self.backend.registry.allocate(self._site, self._allocations, kind)

    def objects(self, kind: str) -> Iterable[int]:
        return self.backend.registry.of_kind(kind)

    def kind(self, obj: int) -> str:
        return self.backend.registry.info[obj].kind

    @property
    def site(self) -> int:
        return self._site

    @property
    def allocation_failures(self) -> bool:
        return self.backend.allocation_failures

    def finding(self, rule: Rule, message: str, objs: tuple[int, ...] = (), site: int | None = None) -> None:
        guard = conj([self.pc, *self.guards])
        self.findings.append(Candidate(rule, self._site if site is None else site, guard, message, objs))
        if rule.crash:
            raise PathEnds(rule.name)

    def note(self, obj: int, text: str) -> None:
        pass

    def intern(self, key: Hashable) -> int:
        return self.backend.intern(key)

    def live_variables(self) -> Iterable[Cell]:
        return self._live


class SymbolicBackend(Backend):
    def __init__(self, allocation_failures: bool = False):
        self.allocation_failures = allocation_failures
        self.sites = Sites()
        self.registry = Objects(self.sites)
        self.defs: list[z3.BoolRef] = []  # definitions of fresh variables and input bounds
        self.candidates: list[Candidate] = []
        self.choices: dict[str, z3.ExprRef] = {}
        self.bounded: list = []  # conditions under which a loop bound was reached
        self._fresh = 0
        self._interned: dict[Hashable, int] = {}

    # -- variables -----------------------------------------------------------------
    def intern(self, key: Hashable) -> int:
        return self._interned.setdefault(key, len(self._interned) + 1)

    def choice_bool(self, label: str) -> z3.BoolRef:
        var = self.choices.get(label)
        if var is None:
            var = self.choices[label] = z3.Bool(label)
        return var

    def choice_int(self, label: str, lo: int | None, hi: int | None) -> Any:
        var = self.choices.get(label)
        if var is None:
            var = self.choices[label] = z3.Int(label)
            if lo is not None:
                self.defs.append(var >= lo)
            if hi is not None:
                self.defs.append(var <= hi)
        values = frozenset(range(lo, hi + 1)) if lo is not None and hi is not None and hi - lo < 16 else None
        return Sym(var, values)

    def _define(self, value: Sym, hint: str) -> Sym:
        """A fresh SSA variable equal to `value`, so later formulas mention a name, not the term."""
        self._fresh += 1
        name = f"{hint}!{self._fresh}"
        var = z3.Bool(name) if z3.is_bool(value.term) else z3.Int(name)
        self.defs.append(var == value.term)
        return Sym(var, value.values)

    # -- Backend ----------------------------------------------------------------------
    def initial(self) -> State:
        return SymbolicState({}, True)

    def objects(self) -> list[int]:
        return [o for kind in KINDS for o in self.registry.of_kind(kind)]

    def write(self, state: State, cell: Cell, value: Any) -> State:
        state.cells[cell] = value
        return state

    def step(self, state: State, fn: Effect, args: list[Arg], site: int, live: list[Cell]) -> tuple[State | None, Any]:
        assert isinstance(state, SymbolicState)
        outcomes: list[Outcome] = []
        pending: list[tuple] = [()]
        while pending:
            if len(outcomes) >= MAX_OUTCOMES:
                raise TooManyCases(self.sites.by_id[site])
            world = ForkingWorld(self, state, site, live, pending.pop())
            try:
                value = fn(world, args)
                crashed = False
            except PathEnds:
                value, crashed = None, True
            outcomes.append(Outcome(world.guards, world.writes, value, crashed, world.findings))
            pending.extend(world.alternatives)
        for o in outcomes:
            self.candidates.extend(o.findings)
        return self._apply(state, outcomes)

    def _apply(self, state: SymbolicState, outcomes: list[Outcome]) -> tuple[State | None, Any]:
        live = [o for o in outcomes if not o.crashed]
        if not live:
            return None, None
        if len(live) == 1 and not live[0].guards and len(outcomes) == 1:
            state.cells.update(live[0].writes)
            return state, live[0].value
        guards = [conj(o.guards) for o in live]
        cells = state.cells
        keys = set().union(*(o.writes for o in live))
        for key in keys:
            base = cells.get(key, 0)
            cells[key] = self._select([(g, o.writes.get(key, base)) for g, o in zip(guards, live)], "c")
        value = self._select([(g, o.value) for g, o in zip(guards, live)], "r")
        if len(live) < len(outcomes):
            alive = z3.Or(*[to_bool_term(g) for g in guards]) if len(guards) > 1 else to_bool_term(guards[0])
            state.pc = conj([state.pc, alive])
            state.split = None
        return state, value

    def _select(self, cases: list[tuple[Any, Any]], hint: str) -> Any:
        """The value that is `v_i` where guard `g_i` holds (guards exclusive and exhaustive)."""
        first = cases[0][1]
        if all(_same(v, first) for _, v in cases[1:]):
            return first
        result = cases[-1][1]
        for g, v in reversed(cases[:-1]):
            result = ite(Sym(to_bool_term(g), frozenset([True, False])) if not isinstance(g, bool) else g, v, result)
        return self._define(result, hint) if isinstance(result, Sym) else result

    def branch(self, state: State, cond: Any) -> tuple[State | None, State | None]:
        assert isinstance(state, SymbolicState)
        cond = truth(cond)
        if not isinstance(cond, Sym):
            return (state, None) if cond else (None, state)
        c = cond.term
        yes = SymbolicState(state.cells, conj([state.pc, c]), (state.pc, c, True))
        no = SymbolicState(dict(state.cells), conj([state.pc, z3.Not(c)]), (state.pc, c, False))
        return yes, no

    def merge(self, states: list[State]) -> State | None:
        live = [s for s in states if s is not None]
        if not live:
            return None
        result = live[0]
        for other in live[1:]:
            result = self._merge2(result, other)  # type: ignore[arg-type]
        return result

    def _merge2(self, a: SymbolicState, b: SymbolicState) -> SymbolicState:
        if (
            a.split is not None
            and b.split is not None
            and a.split[0] is b.split[0]
            and a.split[1] is b.split[1]
            and a.split[2] != b.split[2]
        ):
            selector = a.split[1] if a.split[2] else z3.Not(a.split[1])
            pc = a.split[0]
        else:
            selector = to_bool_term(a.pc)
            pc = z3.Or(to_bool_term(a.pc), to_bool_term(b.pc))
        sel = Sym(selector, frozenset([True, False]))
        cells = dict(a.cells) if a.cells is b.cells else a.cells
        for key in set(a.cells) | set(b.cells):
            va, vb = a.cells.get(key, 0), b.cells.get(key, 0)
            if not _same(va, vb):
                merged = ite(sel, va, vb)
                cells[key] = self._define(merged, "m") if isinstance(merged, Sym) else merged
        return SymbolicState(cells, pc, None)

    def assume(self, state: State, cond: Any) -> State | None:
        assert isinstance(state, SymbolicState)
        cond = truth(cond)
        if not isinstance(cond, Sym):
            return state if cond else None
        state.pc = conj([state.pc, cond.term])
        state.split = None
        return state

    def nondet(self, state: State, label: str) -> Any:
        return Sym(self.choice_bool(label), frozenset([True, False]))

    def opaque(self, state: State, label: str) -> Any:
        return self.choice_int(label, None, None)

    def op(self, name: str, *v: Any) -> Any:
        if name == "not":
            return not_(truth(v[0]))
        if name == "truth":
            return truth(v[0])
        if name == "neg":
            return OPS["sub"](0, v[0])
        if name == "may_be_object":
            values = values_of(v[0])
            return values is None or any(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in values)
        return OPS[name](*v)

    def bound_reached(self, state: State, loop: ast.Span) -> None:
        assert isinstance(state, SymbolicState)
        self.bounded.append(state.pc)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Sym) or isinstance(b, Sym):
        return a is b
    return a == b and isinstance(a, bool) == isinstance(b, bool)
