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

from dataclasses import dataclass, field
from typing import Any, Hashable

import z3

from . import budget, symvalues
from .closure import LoopClosure
from .concrete import Objects, StepWorld, site_label
from .execute import INTERNAL_STEPS, Backend, Effect, Sites, State
from .language import ast, cint
from .model.objects import FIELDS, FINITE_FIELDS, KINDS, check_cell
from .model.rules import Rule, Variant, check_variant
from .model.world import Arg, Cell, PathEnds
from .symvalues import (
    AND,
    NOT,
    OPS,
    OR,
    Logic,
    Sym,
    boolean,
    guard_of,
    is_false,
    is_true,
    ite,
    not_,
    same,
    truth,
    values_of,
)

MAX_OUTCOMES = 16384  # forks of one step; beyond it the check gives up (unknown)
UNLIMITED = 1 << 30


class TooManyCases(Exception):
    """One step has more outcomes than the encoding explores: the verdict is unknown."""


@dataclass
class Candidate:
    """A finding that happens when `guard` holds."""

    rule: Rule
    site: int
    guard: Any
    message: str
    objs: tuple[int, ...]
    step: int  # index of the step it happens in (`SymbolicBackend.steps`)


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


class ForkingWorld(StepWorld):
    """One execution of an effect along one combination of choices (`prefix`)."""

    def __init__(self, backend: "SymbolicBackend", state: SymbolicState, site: int, live: list[Cell], prefix: tuple):
        super().__init__(backend, site, live)
        self.base = state.cells
        self.pc = state.pc
        self.prefix = prefix
        self.decisions: list[int] = []
        self.guards: list = []
        self.alternatives: list[tuple] = []
        self.writes: dict = {}
        self.memo: dict[int, Any] = {}
        self.findings: list[Candidate] = []
        self.groups: dict[int, dict] = {}  # objects' finite fields, as read (and written) here
        self.dirty: set[int] = set()

    def _fork(self, options: list[tuple[Any, Any]]) -> Any:
        if len(options) > 1:
            here = AND(self.pc, *self.guards)
            options = [o for o in options if not is_false(here & symvalues.node(o[0]))]
        if not options:
            raise PathEnds("no feasible outcome")
        if len(options) == 1:
            return options[0][1]
        budget.check()
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

    def _group(self, o: int) -> dict | tuple:
        """The object's finite fields: a dict once known, else ("cases", {code: guard})."""
        group = self.groups.get(o)
        if group is None:
            stored = self.base.get(("obj", o))
            if isinstance(stored, Sym):
                group = ("cases", stored.cases)
            else:
                group = dict(self.backend.decode(stored))
            self.groups[o] = group
        return group

    def _read_field(self, o: int, name: str) -> Any:
        """Fork only on the values `name` takes among the combinations still possible."""
        group = self._group(o)
        if isinstance(group, dict):
            return group.get(name, 0)
        cases = group[1]
        parts: dict[Any, list[int]] = {}
        for k in cases:
            parts.setdefault(self.backend.field(k, name), []).append(k)
        if len(parts) == 1:
            return next(iter(parts))
        value, ks = self._fork([(OR([cases[k] for k in ks]), (v, ks)) for v, ks in parts.items()])
        self.groups[o] = dict(self.backend.decode(ks[0])) if len(ks) == 1 else ("cases", {k: cases[k] for k in ks})
        return value

    def _known_group(self, o: int) -> dict:
        group = self._group(o)
        if not isinstance(group, dict):
            k = self._fork([(g, k) for k, g in group[1].items()])
            group = self.groups[o] = dict(self.backend.decode(k))
        return group

    def get(self, cell: Cell) -> Any:
        if cell[0] not in FIELDS:
            check_cell(cell)  # raises: the model names a cell nobody declared
        if len(cell) == 2 and cell[0] in FINITE_FIELDS:
            return self._read_field(cell[1], cell[0])
        return self.value(self.writes[cell] if cell in self.writes else self.base.get(cell, 0))

    def set(self, cell: Cell, value: Any) -> None:
        if cell[0] not in FIELDS:
            check_cell(cell)
        if len(cell) == 2 and cell[0] in FINITE_FIELDS:
            value = self.value(value)
            if isinstance(value, Sym):
                raise TooManyCases(f"an unbounded value stored in `{cell[0]}`")
            self._known_group(cell[1])[cell[0]] = value
            self.dirty.add(cell[1])
            return
        self.writes[cell] = value

    def all_writes(self) -> dict:
        writes = dict(self.writes)
        for o in sorted(self.dirty):
            writes[("obj", o)] = self.backend.encode(self._known_group(o))
        return writes

    def value(self, v: Any) -> Any:
        if not isinstance(v, Sym) or v.cases is None:
            return v
        key = id(v)
        if key not in self.memo:
            self.memo[key] = (v, self._fork([(g, x) for x, g in v.cases.items()]))
        return self.memo[key][1]

    def test(self, cond: Any) -> bool:
        return bool(self.value(truth(cond)))

    def choose(self, label: str) -> bool:
        return self.test(self.backend.nondet(None, site_label(self.backend.sites, self._site, label)))

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


    def finding(
        self, rule: Rule, message: str, objs: tuple[int, ...] = (), site: int | None = None, variant: Variant | None = None
    ) -> None:
        check_variant(rule, variant)  # the replay's finding carries the variant
        guard = AND(self.pc, *self.guards)
        step = len(self.backend.steps) - 1
        self.findings.append(Candidate(rule, self._site if site is None else site, guard, message, objs, step))
        if rule.crash:
            raise PathEnds(rule.name)

    def note(self, obj: int, text: str) -> None:
        pass



class SymbolicBackend(Backend):
    def __init__(self, allocation_failures: bool = False):
        self.allocation_failures = allocation_failures
        self.sites = Sites()
        self.registry = Objects(self.sites)
        self.defs: list[z3.BoolRef] = []  # definitions of fresh variables and input bounds
        self.candidates: list[Candidate] = []
        self.choices: dict[str, z3.ExprRef] = {}
        self.bounded: list = []  # conditions under which a loop bound was reached
        # The path condition of every step and of every loop iteration, in execution order:
        # what the solver counts to find the shortest counterexample.
        self.steps: list[tuple[Any, bool]] = []  # (pc, shown in a report)
        self.iterations: list[tuple[int, Any]] = []  # (index of the next step, pc)
        self._fresh = 0
        self.ssa: dict[int, tuple] = {}  # SSA variable id -> (variable, the value it names)
        self.logic = Logic()
        symvalues.use(self.logic)
        self._interned: dict[Hashable, int] = {}
        self._keys: dict[int, Hashable] = {}
        self.closure = LoopClosure(self)
        self._codes: dict[tuple, int] = {(): 0}
        self._groups: list[tuple] = [()]
        self._fields: dict[tuple, Any] = {}

    # -- objects' finite fields, one code per combination -----------------------------------
    def encode(self, group: dict) -> int:
        key = tuple(sorted(group.items()))
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(self._groups)
            self._groups.append(key)
        return code

    def decode(self, code: Any) -> tuple:
        return self._groups[code or 0]

    def field(self, code: int, name: str) -> Any:
        """One field of a combination, cached: reads ask for it often."""
        key = (code, name)
        value = self._fields.get(key)
        if value is None:
            value = self._fields[key] = dict(self._groups[code]).get(name, 0)
        return value

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
            symvalues.bound(var, lo, hi)
            if lo is not None:
                self.defs.append(var >= lo)
            if hi is not None:
                self.defs.append(var <= hi)
        return Sym(None, var)

    def _define(self, value: Sym, hint: str) -> Any:
        """An unbounded value gets a fresh SSA variable, so later formulas mention its name;
        a finite one needs none (its cases are BDDs, shared and canonical)."""
        if value.cases is not None:
            return value
        self._fresh += 1
        var = z3.Int(f"{hint}!{self._fresh}")
        self.defs.append(var == value.term)
        self.ssa[var.get_id()] = (var, value)  # for `closure.py`, which splits it into cases
        symvalues.bound(var, *symvalues.interval(value.term))
        return Sym(None, var)

    # -- Backend ----------------------------------------------------------------------
    def initial(self) -> State:
        return SymbolicState({}, self.logic.true)

    def objects(self) -> list[int]:
        return [o for kind in KINDS for o in self.registry.of_kind(kind)]

    def write(self, state: State, cell: Cell, value: Any) -> State:
        state.cells[cell] = value
        return state

    def step(self, state: State, fn: Effect, args: list[Arg], site: int, live: list[Cell]) -> tuple[State | None, Any]:
        assert isinstance(state, SymbolicState)
        self.steps.append((state.pc, self.sites.by_id[site].text not in INTERNAL_STEPS))
        outcomes: list[Outcome] = []
        pending: list[tuple] = [()]
        while pending:
            budget.check()  # one step can run its effect thousands of times
            if len(outcomes) >= MAX_OUTCOMES:
                raise TooManyCases(self.sites.by_id[site])
            world = ForkingWorld(self, state, site, live, pending.pop())
            try:
                value = fn(world, args)
                crashed = False
            except PathEnds:
                value, crashed = None, True
            outcomes.append(Outcome(world.guards, world.all_writes(), value, crashed, world.findings))
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
        guards = [AND(*o.guards) for o in live]
        cells = state.cells
        keys = dict.fromkeys(k for o in live for k in o.writes)  # in a fixed order: names fresh terms
        for key in keys:
            base = cells.get(key, 0)
            cells[key] = self._select([(g, o.writes.get(key, base)) for g, o in zip(guards, live)], "c", _cap(key))
        value = self._select([(g, o.value) for g, o in zip(guards, live)], "r")
        if len(live) < len(outcomes):
            state.pc = AND(state.pc, OR(guards))
            state.split = None
        return state, value

    def _select(self, cases: list[tuple[Any, Any]], hint: str, cap: int | None = None) -> Any:
        """The value that is `v_i` where guard `g_i` holds (guards exclusive and exhaustive).
        Outcomes that agree on the value are taken together, and the largest group (most
        often the old value, which outcomes that did not write the cell keep) gets the
        complement of the others' guards: outside the path condition any value will do."""
        groups: list[list] = []
        for g, v in cases:
            for group in groups:
                if same(group[0], v):
                    group[1].append(g)
                    break
            else:
                groups.append([v, [g]])
        if len(groups) == 1:
            return groups[0][0]
        groups.sort(key=lambda grp: len(grp[1]))
        others = [(OR(gs), v) for v, gs in groups[:-1]]
        default = (NOT(OR([g for g, _ in others])), groups[-1][0])
        result = symvalues.select([*others, default], cap)
        return self._define(result, hint) if isinstance(result, Sym) else result

    def branch(self, state: State, cond: Any) -> tuple[State | None, State | None]:
        assert isinstance(state, SymbolicState)
        g = guard_of(cond)
        if is_true(g) or is_false(g):
            return (state, None) if is_true(g) else (None, state)
        yes = SymbolicState(state.cells, AND(state.pc, g), (state.pc, g, True))
        no = SymbolicState(dict(state.cells), AND(state.pc, NOT(g)), (state.pc, g, False))
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
            selector = a.split[1] if a.split[2] else NOT(a.split[1])
            pc = a.split[0]
        else:
            selector = a.pc
            pc = OR([a.pc, b.pc])
        sel = boolean(selector)
        cells = dict(a.cells) if a.cells is b.cells else a.cells
        for key in dict.fromkeys([*a.cells, *b.cells]):
            va, vb = a.cells.get(key, 0), b.cells.get(key, 0)
            if not same(va, vb):
                merged = ite(sel, va, vb, _cap(key))
                cells[key] = self._define(merged, "m") if isinstance(merged, Sym) else merged
        return SymbolicState(cells, pc, None)

    def assume(self, state: State, cond: Any) -> State | None:
        assert isinstance(state, SymbolicState)
        g = guard_of(cond)
        if is_true(g) or is_false(g):
            return state if is_true(g) else None
        state.pc = AND(state.pc, g)
        state.split = None
        return state

    def nondet(self, state: State, label: str) -> Any:
        return boolean(self.logic.variable(self.choice_bool(label)))

    def opaque(self, state: State, label: str, ctype: cint.IntType | None = None) -> Any:
        if ctype is None:
            return self.choice_int(label, None, None)
        return self.choice_int(label, ctype.min, ctype.max)

    def convert(self, value: Any, src: cint.IntType | None, dst: cint.IntType) -> Any:
        return symvalues.convert(value, src, dst)

    def arith(self, state: State, name: str, t: cint.IntType, a: Any, b: Any, label: str) -> Any:
        return symvalues.arith(name, t, a, b, lambda: self.choice_int(label, t.min, t.max))

    def op(self, name: str, *v: Any) -> Any:
        if name == "not":
            return not_(truth(v[0]))
        if name == "truth":
            return truth(v[0])
        if name == "constant":
            values = values_of(v[0])
            return next(iter(values)) if values is not None and len(values) == 1 else None
        if name == "may_be_object":
            values = values_of(v[0])
            return values is None or any(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in values)
        return OPS[name](*v)

    def bound_reached(self, state: State, loop: ast.Span, key: Hashable = None) -> None:
        assert isinstance(state, SymbolicState)
        self.bounded.append(state.pc)
        record = self.closure.loops.get(key)
        if record is not None:
            record.bounded = True

    def loop_head(self, state: State, key: Hashable, index: int, scope: Any, line: int) -> bool:
        assert isinstance(state, SymbolicState)
        return self.closure.head(state, key, index, scope, line)

    def interned_key(self, n: int) -> Hashable:
        """The key `intern` numbered `n`."""
        if len(self._keys) != len(self._interned):
            self._keys = {v: k for k, v in self._interned.items()}
        return self._keys.get(n)

    def iteration(self, state: State, loop: ast.Span) -> None:
        assert isinstance(state, SymbolicState)
        self.iterations.append((len(self.steps), state.pc))

    def path_length(self, upto: int) -> list[tuple[Any, int]]:
        """The length of a path up to step `upto` as weighted path conditions (pc, weight):
        loop iterations first (each outweighs every step), then the steps shown in a report.
        Steps under the same condition are counted together."""
        return self.path_lengths([upto])[0]

    def path_lengths(self, uptos: list[int]) -> list[list[tuple[Any, int]]]:
        """`path_length` of each of `uptos`, in one pass over the steps (a loop of a thousand
        iterations has a thousand candidates of one finding, each a thousand steps long)."""
        # One weight for every finding, so that paths to different candidates of the same
        # finding compare: more than any path's steps.
        per_iteration = sum(1 for _, visible in self.steps if visible) + 1
        counted = _Lengths(per_iteration)
        lengths: dict[int, list[tuple[Any, int]]] = {}
        for upto in sorted(set(uptos)):
            counted.extend(self.steps, self.iterations, upto)
            lengths[upto] = counted.terms()
        return [lengths[upto] for upto in uptos]


class _Lengths:
    """A path's length as it grows step by step: the weight of each path condition among its
    visible steps and among its loop iterations."""

    def __init__(self, per_iteration: int):
        self.per_iteration = per_iteration
        self.steps: dict[int, int] = {}
        self.loops: dict[int, int] = {}
        self.pcs: dict[int, Any] = {}
        self.step = self.iteration = 0  # how many of each are counted

    def extend(self, steps: list[tuple[Any, bool]], iterations: list[tuple[int, Any]], upto: int) -> None:
        """Count the steps up to `upto` and the iterations that start there or before."""
        while self.step < len(steps) and self.step <= upto:
            pc, visible = steps[self.step]
            self.step += 1
            if visible:
                self.steps[int(pc)] = self.steps.get(int(pc), 0) + 1
                self.pcs[int(pc)] = pc
        while self.iteration < len(iterations) and iterations[self.iteration][0] <= upto:
            pc = iterations[self.iteration][1]
            self.iteration += 1
            self.loops[int(pc)] = self.loops.get(int(pc), 0) + self.per_iteration
            self.pcs[int(pc)] = pc

    def terms(self) -> list[tuple[Any, int]]:
        weights = dict(self.steps)
        for key, weight in self.loops.items():
            weights[key] = weights.get(key, 0) + weight
        return [(self.pcs[k], w) for k, w in weights.items()]


def _cap(key: Cell) -> int | None:
    """Objects' field combinations stay finite whatever their number: reads depend on them."""
    return UNLIMITED if key[0] == "obj" else None
