"""Decides a script: encodes it, asks Z3 which findings can happen, replays each one.

The solver result is read in exactly one place (`_ask`): `sat` gives a counterexample,
`unsat` proves the remaining findings impossible, anything else is `unknown`, never safe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import z3

from . import budget
from .budget import BudgetExhausted
from .concrete import ConcreteBackend, Finding, Oracle
from .encoding import Candidate, SymbolicBackend, TooManyCases
from .execute import Executor, UnmodelledCall
from .language import ast
from .language.errors import InternalError
from .model.rules import Rule
from .symvalues import OR, is_false

SAFE, UNSAFE, UNKNOWN = "safe", "unsafe", "unknown"


@dataclass(frozen=True)
class Options:
    unroll: int = 4
    allocation_failures: bool = False
    timeout_ms: int = 30_000
    shortest: bool = True  # minimise each counterexample (off only to measure what it costs)
    # Find the choices each finding depends on (`Counterexample.depends_on`): off where no
    # report shows the path (candidate fixes, conformance runs).
    depends: bool = True


@dataclass
class Replay:
    """A concrete run of the script along one path."""

    backend: ConcreteBackend
    executor: Executor


@dataclass
class Counterexample:
    rule: Rule
    span: ast.Span
    finding: Finding  # the finding as the replay saw it
    replay: Replay
    answers: dict[str, Any]  # the solver's choices, by label
    # The solver proved no shorter path shows this finding (fewest loop iterations, then
    # fewest steps); False when it ran out of time first.
    minimal: bool = True
    # The choices (labels) the finding depends on: a minimal set of the path's answers up to
    # the finding that forces it (without any one of them, some path avoids it); None when
    # the solver could not tell in time (every choice is then shown).
    depends_on: frozenset[str] | None = None


@dataclass
class Verdict:
    verdict: str
    counterexamples: list[Counterexample] = field(default_factory=list)
    bounded: bool = False
    reason: str = ""  # why the verdict is unknown
    stats: dict[str, Any] = field(default_factory=dict)
    vacuous: bool = False  # no path reaches the end of the script
    # Calls of unmodelled functions some path reaches (it stops there): never safe.
    unmodelled: tuple[UnmodelledCall, ...] = ()
    # Loops proved for every iteration count (`closure.py`): the most iterations after
    # which a loop's states repeated (0: no loop closed).
    closed_after: int = 0
    closed_loops: int = 0  # how many loop statements closed
    # For a bounded verdict: why each loop that reached its bound did not close ("the loop at
    # line 7: its states still change after 4 iterations (`n`)").
    bounded_why: tuple[str, ...] = ()


def _location(backend: Any, site: int) -> tuple[int, int]:
    span = backend.sites.by_id[site].span
    return (span.start, span.end)


def replay(program: ast.Program, answers: dict[str, Any], options: Options) -> Replay:
    """Run the concrete interpreter along the path the answers describe."""
    backend = ConcreteBackend(Oracle(answers), options.allocation_failures)
    executor = Executor(program, backend, options.unroll, options.allocation_failures)
    executor.run()
    return Replay(backend, executor)


def _fresh_z3_context() -> None:
    """Z3's answers depend on the terms its context has seen before; each check starts
    from a new context so that the same script always gets the same counterexample."""
    z3.z3._main_ctx = None


def out_of_time(options: Options) -> str:
    """The reason of an unknown verdict whose time budget ran out."""
    return f"the time budget of {options.timeout_ms / 1000:g} s ran out (--timeout)"


def check(program: ast.Program, options: Options = Options()) -> Verdict:
    """Decide `program` within `options.timeout_ms` (or what an enclosing budget has left):
    every part of the work stops when the time is up, and the verdict is then unknown."""
    start = time.monotonic()
    with budget.limit(options.timeout_ms / 1000):
        try:
            verdict = _check(program, options)
        except BudgetExhausted:
            verdict = Verdict(UNKNOWN, reason=out_of_time(options))
    verdict.stats["seconds"] = time.monotonic() - start
    return verdict


def _check(program: ast.Program, options: Options) -> Verdict:
    _fresh_z3_context()
    backend = SymbolicBackend(options.allocation_failures)
    executor = Executor(program, backend, options.unroll, options.allocation_failures)
    try:
        end = executor.run()
    except TooManyCases as exc:
        return Verdict(UNKNOWN, reason=f"too many cases in one step ({exc.args[0].text})")

    groups: dict[tuple, list[Candidate]] = {}
    for c in backend.candidates:
        if is_false(c.guard):
            continue
        groups.setdefault((c.rule.id, _location(backend, c.site)), []).append(c)

    solver = z3.Solver()
    solver.set("timeout", budget.remaining_ms(options.timeout_ms))
    solver.add(*backend.defs)
    found: list[Counterexample] = []
    runs: dict[tuple, Replay] = {}
    remaining = dict(groups)
    reason = ""
    try:
        while remaining:
            query = backend.logic.to_z3(OR([c.guard for cs in remaining.values() for c in cs]))
            answer, model = _ask(solver, query, options.timeout_ms)
            if answer == UNKNOWN:
                reason = out_of_time(options) if budget.expired() else "the solver gave up (timeout or incomplete theory)"
                break
            if answer == SAFE:
                break
            hit = [key for key, cs in remaining.items() if any(_holds(model, backend.logic.to_z3(c.guard)) for c in cs)]
            if not hit:
                raise InternalError("the solver's model satisfies no finding it was asked about")
            for key in hit:
                cands = remaining[key]
                shortest, minimal = (
                    _shortest(solver, backend, cands, model, options.timeout_ms) if options.shortest else (model, False)
                )
                answers = {label: _value(shortest, var) for label, var in backend.choices.items()}
                path = tuple(answers.items())
                if path not in runs:  # findings on the same path share one replay
                    runs[path] = replay(program, answers, options)
                cx = _match(runs[path], key, cands, answers, backend, minimal)
                if options.depends:
                    cx.depends_on = _depends_on(solver, backend, cands, cx, options.timeout_ms)
                found.append(cx)
                del remaining[key]
        bounded = _feasible(solver, backend.logic.to_z3(OR(backend.bounded)), options) if backend.bounded else False
        unmodelled = _reached_unmodelled(solver, backend, options)
        # Only a safe verdict can be vacuous: where every path crashes, the crashes are the findings.
        vacuous = not found and not unmodelled and (end is None or not _feasible(solver, backend.logic.to_z3(end.pc), options))
    except BudgetExhausted:
        # What was found stands (each counterexample is replayed); the rest is undecided.
        reason = out_of_time(options)
        bounded, vacuous = bool(backend.bounded), False
        unmodelled = tuple(call for _, call in getattr(backend, "unmodelled_calls", []))
    found.sort(key=lambda cx: (cx.span.start, cx.finding.step, cx.replay.backend.findings.index(cx.finding)))
    stats = {"candidates": len(backend.candidates), "definitions": len(backend.defs), "choices": len(backend.choices)}
    closed, loops, why = _loops(backend) if not reason else (0, 0, ())
    if reason:
        return Verdict(UNKNOWN, found, bounded, reason, stats, vacuous, unmodelled)
    if unmodelled and not found:
        return Verdict(UNKNOWN, found, bounded, unmodelled_reason(unmodelled), stats, vacuous, unmodelled)
    return Verdict(UNSAFE if found else SAFE, found, bounded, "", stats, vacuous, unmodelled, closed, loops,
                   why if bounded else ())


def _loops(backend: SymbolicBackend) -> tuple[int, int, tuple[str, ...]]:
    """The most iterations after which a loop closed, how many loop statements closed, and
    why the loops that reached their bound did not close (one line per loop statement)."""
    done = [r for r in backend.closure.loops.values() if r.closed_after is not None]
    closed = max((r.closed_after for r in done), default=0)
    why: dict[int, str] = {}
    for r in backend.closure.loops.values():
        if r.bounded and r.closed_after is None:
            why.setdefault(r.line, f"the loop at line {r.line}: {r.reason or 'its states still change'}")
    return closed, len({r.line for r in done}), tuple(why[line] for line in sorted(why))


def unmodelled_reason(calls: tuple[UnmodelledCall, ...]) -> str:
    """Why a verdict is unknown: the unmodelled calls paths reach (the report's notes say
    what each would need)."""
    shown = ", ".join(f"`{c.name}` (line {c.span.line})" for c in calls[:5])
    more = f" and {len(calls) - 5} more" if len(calls) > 5 else ""
    return f"paths through calls the model does not follow were not checked: {shown}{more}"


def _reached_unmodelled(solver: z3.Solver, backend: SymbolicBackend, options: Options) -> tuple[UnmodelledCall, ...]:
    """The unmodelled calls some feasible path reaches, one per function and line."""
    reached: dict[tuple, UnmodelledCall] = {}
    for pc, call in getattr(backend, "unmodelled_calls", []):
        key = (call.name, call.span.start)
        if key in reached:
            continue
        if pc is True or _feasible(solver, backend.logic.to_z3(pc), options):
            reached[key] = call
    return tuple(sorted(reached.values(), key=lambda c: c.span.start))


def _shortest(
    solver: z3.Solver, backend: SymbolicBackend, cands: list[Candidate], model: z3.ModelRef, timeout_ms: int
) -> tuple[z3.ModelRef, bool]:
    """The model of a shortest path to one of `cands`: fewest loop iterations, then fewest
    steps before the finding. The solver searches the length bound (first `best - 1`, which
    usually proves the first answer minimal, then by halves). Gives the best model found and
    whether it is proven minimal."""
    costs = []
    for c, length in zip(cands, backend.path_lengths([c.step for c in cands])):
        terms = [(backend.logic.to_z3(pc), w) for pc, w in length]
        costs.append((backend.logic.to_z3(c.guard), terms))

    def cost(m: z3.ModelRef) -> int:
        return min(
            sum(w for pc, w in terms if _holds(m, pc)) for guard, terms in costs if _holds(m, guard)
        )

    def within(bound: int) -> Any:
        return z3.Or([z3.And(g, z3.PbLe(t, bound) if t else z3.BoolVal(True)) for g, t in costs])

    best, lowest = cost(model), 0
    bound = best - 1
    solver.push()
    try:
        while lowest <= bound:
            if budget.expired():
                return model, False
            answer, shorter = _ask(solver, within(bound), max(timeout_ms // 4, 1000))
            if answer == UNKNOWN:
                return model, False
            if answer == UNSAFE:
                model, best = shorter, cost(shorter)
            else:
                lowest = bound + 1
            bound = (lowest + best - 1) // 2
    finally:
        solver.pop()
    return model, True


def _depends_on(
    solver: z3.Solver, backend: SymbolicBackend, cands: list[Candidate], cx: Counterexample, timeout_ms: int
) -> frozenset[str] | None:
    """A minimal core over the path's choices up to the finding: the answers that force the
    finding (the solver finds no path with them that avoids it), none of which can be
    dropped. Every other choice of the path could go either way and the finding stays.
    None when the solver gives up (the report then shows every choice)."""
    trace = cx.replay.backend.trace
    asked = cx.replay.backend.oracle.asked[: trace[cx.finding.step].asked_to]
    labels = list(dict.fromkeys(label for label, _ in asked if label in backend.choices))
    avoided = z3.Not(z3.Or([backend.logic.to_z3(c.guard) for c in cands]))
    flags = {z3.Bool(f"depends!{i}"): label for i, label in enumerate(labels)}
    solver.push()
    try:
        for flag, label in flags.items():
            var = backend.choices[label]
            value = cx.answers[label]
            solver.add(z3.Implies(flag, var == (z3.BoolVal(value) if z3.is_bool(var) else value)))
        solver.add(avoided)

        def forced(assumed: list) -> Any:  # unsat: these answers force the finding
            if budget.expired():
                return z3.unknown
            solver.set("timeout", budget.remaining_ms(max(timeout_ms // 10, 500)))
            return solver.check(*assumed)

        if forced(list(flags)) != z3.unsat:
            return None
        core = [flag for flag in flags if any(flag.eq(c) for c in solver.unsat_core())]
        # Deletion: drop each flag the rest still force the finding without.
        for flag in list(core):
            rest = [f for f in core if not f.eq(flag)]
            answer = forced(rest)
            if answer == z3.unsat:
                core = rest
            elif answer != z3.sat:
                return None
        return frozenset(flags[f] for f in core)
    finally:
        solver.pop()


def _ask(solver: z3.Solver, query: Any, timeout_ms: int) -> tuple[str, z3.ModelRef | None]:
    """Whether `query` can hold, within `timeout_ms` and the time the budget has left."""
    budget.check()
    solver.set("timeout", budget.remaining_ms(timeout_ms))
    solver.push()
    solver.add(query)
    result = solver.check()
    model = solver.model() if result == z3.sat else None
    solver.pop()
    if result == z3.sat:
        return UNSAFE, model
    if result == z3.unsat:
        return SAFE, None
    return UNKNOWN, None


def _feasible(solver: z3.Solver, pc: Any, options: Options) -> bool:
    answer, _ = _ask(solver, pc, options.timeout_ms)
    return answer != SAFE


def _holds(model: z3.ModelRef, guard: Any) -> bool:
    if isinstance(guard, bool):
        return guard
    return z3.is_true(model.eval(guard, model_completion=True))


def _value(model: z3.ModelRef, var: z3.ExprRef) -> Any:
    v = model.eval(var, model_completion=True)
    return z3.is_true(v) if z3.is_bool(v) else v.as_long()


def _match(
    run: Replay, key: tuple, cands: list[Candidate], answers: dict[str, Any], sym: SymbolicBackend, minimal: bool
) -> Counterexample:
    rule_id, (start, end) = key
    for f in run.backend.findings:
        span = run.backend.sites.by_id[f.site].span
        if f.rule.id == rule_id and (span.start, span.end) == (start, end):
            return Counterexample(f.rule, span, f, run, answers, minimal)
    span = sym.sites.by_id[cands[0].site].span
    raise InternalError(
        f"the replay of the counterexample for {cands[0].rule.name} at {span} does not reproduce it "
        "(the encoding and the interpreter disagree)",
        span,
    )
