"""The concrete interpreter: runs the model along one path, with every choice answered by an
oracle, and records what each step did. Used to replay a counterexample the solver found,
to print traces, and to enumerate paths one by one (the naive baseline the tests compare
the encoding with)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

from .execute import INTERNAL_STEPS, Backend, Effect, Sites, State, choice_label
from .language import ast, cint
from .model.objects import FIELDS, KINDS, check_cell
from .model.rules import Rule, Variant, check_variant
from .model.world import Arg, Cell, PathEnds, World


class Oracle:
    """Answers the choices of one path: from a table, else a default; remembers the questions."""

    def __init__(self, answers: dict[str, Any] | None = None, default_bool: bool = False):
        self.answers = dict(answers or {})
        self.default_bool = default_bool
        self.asked: list[tuple[str, Any]] = []

    def boolean(self, label: str) -> bool:
        value = bool(self.answers.get(label, self.default_bool))
        self.asked.append((label, value))
        return value

    def integer(self, label: str, lo: int | None, hi: int | None) -> int:
        default = lo if lo is not None else (0 if hi is None or hi >= 0 else hi)
        value = int(self.answers.get(label, default))
        self.asked.append((label, value))
        return value


@dataclass(frozen=True)
class Finding:
    """One finding on a concrete path: which rule, at which site, about which objects."""

    rule: Rule
    site: int
    message: str
    objs: tuple[int, ...]
    step: int  # index of the trace step during which it was found
    variant: Variant | None = None  # which kind of finding of the rule (`model/rules.py`)


@dataclass
class TraceStep:
    site: int
    notes: list[tuple[int, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    writes: dict = field(default_factory=dict)
    value: Any = None  # what the step returned (a call's result)
    # The oracle's questions asked during this step: `oracle.asked[asked_from:asked_to]`.
    asked_from: int = 0
    asked_to: int = 0


@dataclass
class ObjectInfo:
    id: int
    kind: str
    site: int  # the allocating step


class ConcreteState(State):
    def __init__(self, cells: dict):
        self.cells = cells


def site_label(sites: Sites, site: int, label: str) -> str:
    """The name of a choice made at `site`; the same in both interpreters."""
    s = sites.by_id[site]
    return choice_label(label, s.span, s.context)


class Objects:
    """The objects allocated in one run, numbered by allocation site and order within a step."""

    def __init__(self, sites: Sites):
        self.sites = sites
        self._ids: dict[tuple, int] = {}
        self.info: dict[int, ObjectInfo] = {}

    def allocate(self, site: int, index: int, kind: str) -> int:
        key = (self.sites.by_id[site].key, index)
        o = self._ids.get(key)
        if o is None:
            o = self._ids[key] = len(self._ids) + 1
            self.info[o] = ObjectInfo(o, kind, site)
        return o

    def of_kind(self, kind: str) -> list[int]:
        return [o for o, info in self.info.items() if info.kind == kind]


class StepWorld(World):
    """What both interpreters' worlds share: the step being run, its allocations, the
    objects of the run. `backend` has `registry`, `intern` and `allocation_failures`."""

    backend: Any

    def __init__(self, backend: Any, site: int, live: list[Cell]):
        self.backend = backend
        self._site = site
        self._live = live
        self._allocations = 0

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

    def intern(self, key: Hashable) -> int:
        return self.backend.intern(key)

    def live_variables(self) -> Iterable[Cell]:
        return self._live


class ConcreteWorld(StepWorld):
    def __init__(self, backend: "ConcreteBackend", cells: dict, site: int, live: list[Cell], record: TraceStep):
        super().__init__(backend, site, live)
        self.cells = cells
        self.step_record = record

    def get(self, cell: Cell) -> Any:
        if cell[0] not in FIELDS:
            check_cell(cell)  # raises: the model names a cell nobody declared
        return self.cells.get(cell, 0)

    def set(self, cell: Cell, value: Any) -> None:
        if cell[0] not in FIELDS:
            check_cell(cell)
        self.cells[cell] = value
        self.step_record.writes[cell] = value

    def value(self, v: Any) -> Any:
        return v

    def test(self, cond: Any) -> bool:
        return bool(cond)

    def choose(self, label: str) -> bool:
        return self.backend.oracle.boolean(site_label(self.backend.sites, self._site, label))

    def fresh_int(self, label: str, lo: int | None = None, hi: int | None = None) -> Any:
        return self.backend.oracle.integer(site_label(self.backend.sites, self._site, label), lo, hi)

    def record(self, label: str, value: int) -> None:
        self.backend.oracle.asked.append((site_label(self.backend.sites, self._site, label), int(value)))

    def add(self, a: Any, b: Any) -> Any:
        return a + b

    def lt(self, a: Any, b: Any) -> Any:
        return a < b

    def eq(self, a: Any, b: Any) -> Any:
        return a == b

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return a if c else b

    def finding(
        self, rule: Rule, message: str, objs: tuple[int, ...] = (), site: int | None = None, variant: Variant | None = None
    ) -> None:
        check_variant(rule, variant)
        f = Finding(rule, self._site if site is None else site, message, objs, len(self.backend.trace) - 1, variant)
        self.step_record.findings.append(f)
        self.backend.findings.append(f)
        if rule.crash:
            raise PathEnds(rule.name)

    def note(self, obj: int, text: str) -> None:
        self.step_record.notes.append((obj, text))


class ConcreteBackend(Backend):
    def __init__(self, oracle: Oracle, allocation_failures: bool = False):
        self.oracle = oracle
        self.allocation_failures = allocation_failures
        self.sites = Sites()
        self.registry = Objects(self.sites)
        self.trace: list[TraceStep] = []
        self.findings: list[Finding] = []
        self.crashed = False
        self.assumption_failed = False
        self.bounded = False
        self.iterations: list[int] = []  # for each loop iteration run, the index of its first step
        # Every value a variable took, in order (a step's `writes` keeps only the last).
        self.assignments: list[tuple[Cell, Any]] = []
        self._interned: dict[Hashable, int] = {}

    def intern(self, key: Hashable) -> int:
        return self._interned.setdefault(key, len(self._interned) + 1)

    def initial(self) -> State:
        return ConcreteState({})

    def objects(self) -> list[int]:
        return [o for kind in KINDS for o in self.registry.of_kind(kind)]

    def step(self, state: State, fn: Effect, args: list[Arg], site: int, live: list[Cell]) -> tuple[State | None, Any]:
        record = TraceStep(site, asked_from=len(self.oracle.asked))
        self.trace.append(record)
        world = ConcreteWorld(self, state.cells, site, live, record)
        try:
            value = fn(world, args)
        except PathEnds:
            self.crashed = True
            return None, None
        finally:
            record.asked_to = len(self.oracle.asked)
        record.value = value
        return state, value

    def write(self, state: State, cell: Cell, value: Any) -> State:
        state.cells[cell] = value
        if cell[0] == "var":
            self.assignments.append((cell, value))
        if self.trace:  # a variable takes the value of the step before: show it there
            self.trace[-1].writes[cell] = value
        return state

    def branch(self, state: State, cond: Any) -> tuple[State | None, State | None]:
        return (state, None) if cond else (None, state)

    def merge(self, states: list[State]) -> State | None:
        if len(states) > 1:
            raise AssertionError("a concrete run has one path")
        return states[0] if states else None

    def assume(self, state: State, cond: Any) -> State | None:
        if cond:
            return state
        self.assumption_failed = True
        return None

    def nondet(self, state: State, label: str) -> Any:
        return self.oracle.boolean(label)

    def opaque(self, state: State, label: str, ctype: cint.IntType | None = None) -> Any:
        value = self.oracle.integer(label, None, None)
        return cint.convert(value, ctype) if ctype is not None else value

    def op(self, name: str, *v: Any) -> Any:
        return _CONCRETE_OPS[name](*v)

    def convert(self, value: Any, src: cint.IntType | None, dst: cint.IntType) -> Any:
        return cint.convert(value, dst)

    def arith(self, state: State, name: str, t: cint.IntType, a: Any, b: Any, label: str) -> Any:
        r = cint.unary(name, t, a) if b is None else cint.binary(name, t, a, b)
        return r if r is not None else self.opaque(state, label, t)

    def bound_reached(self, state: State, loop: ast.Span, key: Hashable = None) -> None:
        self.bounded = True

    def iteration(self, state: State, loop: ast.Span) -> None:
        self.iterations.append(len(self.trace))

    def path_length(self, finding: Finding) -> tuple[int, int]:
        """How long the path to `finding` is, as the solver minimises it: (loop iterations
        begun, steps a report shows) up to the finding's step."""
        iterations = sum(1 for index in self.iterations if index <= finding.step)
        steps = sum(1 for step in self.trace[: finding.step + 1] if self.sites.by_id[step.site].text not in INTERNAL_STEPS)
        return iterations, steps


_CONCRETE_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "not": lambda a: not a,
    "truth": lambda a: bool(a),
    "constant": lambda a: a,
    "may_be_object": lambda a: isinstance(a, int) and not isinstance(a, bool) and a > 0,
}
