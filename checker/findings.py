"""Turns a verdict and its replayed counterexamples into plain report data: what happened,
where, the labelled steps that led there, the path taken and every object's count and
holders after each step. Emitters (`report_text`, `report_json`) only format this."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .advice import advice_for
from .concrete import ConcreteBackend, TraceStep
from .execute import INTERNAL_STEPS
from .fixes import Fix, verified_fixes
from .language import ast
from .model import handshake
from .model.objects import ALIVE, CTX, DESTROYED, SESSION, SSL
from .model.rules import Rule
from .solving import Counterexample, Options, Verdict


@dataclass(frozen=True)
class Label:
    span: ast.Span
    text: str
    primary: bool = False


@dataclass(frozen=True)
class ObjectState:
    name: str
    kind: str
    status: str  # "alive", "destroyed" or "-" (not allocated yet)
    count: int
    holders: tuple[str, ...]  # for display: `script x2(s, t)`, `slot(ssl)`, `cache(ctx)`, `library`
    # The same, structured: (kind, name, references) with kind one of "script", "slot",
    # "cache", "ssl" (an `SSL`'s two context references), "library", "borrowed".
    holdings: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class PathStep:
    number: int
    span: ast.Span
    call: str
    notes: tuple[str, ...]
    objects: tuple[ObjectState, ...]
    index: int = 0  # in the replay's trace


@dataclass(frozen=True)
class Choice:
    span: ast.Span
    text: str


@dataclass(frozen=True)
class ReportedFinding:
    rule: Rule
    message: str
    span: ast.Span
    labels: tuple[Label, ...]
    notes: tuple[str, ...]
    help: str
    choices: tuple[Choice, ...]
    steps: tuple[PathStep, ...]
    # Steps of the path left out of `steps` because they touch none of the finding's objects
    # (0 with the full trace), and whether the solver proved the path a shortest one.
    hidden_steps: int = 0
    minimal: bool = True
    objects: tuple[str, ...] = ()  # the names of the objects the finding is about
    fix: Fix | None = None  # an edit of the script, checked to verify (`fixes.py`)
    # "error" or "warning": the rule's severity, except for a warning the user denied
    # (`--deny warnings`, `--deny RULE`), which is an error. Errors make a script unsafe.
    level: str = "error"
    denied: bool = False  # a warning made an error by `--deny`


@dataclass(frozen=True)
class FileReport:
    file: str
    source: str
    # "safe" (no finding, or warnings only), "unsafe" (an error-level finding) or "unknown".
    verdict: str
    bounded: bool
    vacuous: bool
    unroll: int
    reason: str
    findings: tuple[ReportedFinding, ...]
    notes: tuple[str, ...] = ()  # C input: what was assumed (entry contexts, neutral helpers)
    sources: tuple[tuple[str, str], ...] = ()  # other files the spans name (`#include "tls.c"`)
    closed_after: int = 0  # loops proved for all iterations: their states repeat after this many
    closed_loops: int = 0  # how many loop statements were proved so
    bounded_why: tuple[str, ...] = ()  # why the loops that reached their bound did not close

    @property
    def errors(self) -> tuple[ReportedFinding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[ReportedFinding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")


DENY_WARNINGS = "warnings"  # `--deny warnings`: every warning is an error


def denied(rule: Rule, deny: frozenset[str]) -> bool:
    """Whether `deny` (rule names, IDs or `warnings`) makes a finding of `rule` an error."""
    return rule.severity == "warning" and bool(deny & {DENY_WARNINGS, rule.name, rule.id})


def build_report(
    program: ast.Program,
    verdict: Verdict,
    unroll: int,
    full_trace: bool = False,
    fixes: Options | None = None,
    deny: frozenset[str] = frozenset(),
) -> FileReport:
    """`full_trace`: every step of each counterexample, not only those that touch its objects.
    `fixes`: the options to check candidate fixes with (None: no fixes). `deny`: the warnings
    (rule names or IDs, or `warnings` for all) that count as errors."""
    findings = tuple(_finding(program, cx, full_trace) for cx in verdict.counterexamples)
    if fixes is not None:
        found = verified_fixes(program, verdict, fixes)
        findings = tuple(replace(f, fix=fix) for f, fix in zip(findings, found))
    findings = tuple(
        replace(f, level="error" if f.rule.severity == "error" or denied(f.rule, deny) else "warning",
                denied=denied(f.rule, deny))
        for f in findings
    )
    outcome = verdict.verdict
    if outcome == "unsafe" and all(f.level == "warning" for f in findings):
        outcome = "safe"  # warnings print but do not fail (rustc, clippy, ruff)
    return FileReport(program.file, program.source, outcome, verdict.bounded, verdict.vacuous, unroll, verdict.reason, findings,
                      notes=program.notes, sources=program.sources, closed_after=verdict.closed_after,
                      closed_loops=verdict.closed_loops, bounded_why=verdict.bounded_why)


class _Names:
    """Display names for the objects of one replay: the first variable that held each."""

    def __init__(self, backend: ConcreteBackend, program: ast.Program):
        self.names: dict[int, str] = {}
        taken: dict[str, int] = {}
        pointers = self.pointers = _object_variables(program)
        # The script's own variables first (globals and the body's), then functions' (a
        # callback's `sess` names a session only when no script variable ever held it).
        for in_body in (True, False):
            for cell, value in backend.assignments:
                if (cell[2], cell[3]) not in pointers or (cell[1] == "main") != in_body:
                    continue
                if isinstance(value, int) and value > 0 and value not in self.names and value in backend.registry.info:
                    base = cell[2]
                    taken[base] = taken.get(base, 0) + 1
                    self.names[value] = base if taken[base] == 1 else f"{base}#{taken[base]}"
        for o, info in sorted(backend.registry.info.items()):
            if o not in self.names:
                line = backend.sites.by_id[info.site].span.line
                base = f"{_short_kind(info.kind)}@{line}"
                taken[base] = taken.get(base, 0) + 1
                self.names[o] = base if taken[base] == 1 else f"{base}#{taken[base]}"

    def __call__(self, o: int) -> str:
        return self.names.get(o, f"object {o}")

    def fill(self, text: str) -> str:
        return re.sub(r"\{#(\d+)\}", lambda m: f"`{self(int(m.group(1)))}`", text)


def _object_variables(program: ast.Program) -> set[tuple[str, int]]:
    """(name, declaration offset) of every variable or parameter that holds an object
    pointer: only these name objects or count as holders (an `int` may equal an object's id)."""
    found: set[tuple[str, int]] = set()

    def visit(node: object) -> None:
        if isinstance(node, (ast.VarDecl, ast.Param)) and _is_object_type(node.ctype):
            found.add((node.name, node.span.start))
        if isinstance(node, (list, tuple)):
            for item in node:
                visit(item)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                visit(getattr(node, name))

    visit(program.items)
    return found


def _is_object_type(ctype: ast.CType) -> bool:
    return ctype.pointers == 1 and ctype.base in ("SSL_SESSION", "SSL", "SSL_CTX")


def _short_kind(kind: str) -> str:
    return {SESSION: "session", SSL: "ssl", CTX: "ctx"}.get(kind, kind)


def _finding(program: ast.Program, cx: Counterexample, full_trace: bool) -> ReportedFinding:
    backend = cx.replay.backend
    names = _Names(backend, program)
    trace = backend.trace[: cx.finding.step + 1]
    involved = set(cx.finding.objs)
    labels: list[Label] = []
    inside: list[str] = []
    for step in trace[:-1]:
        site = backend.sites.by_id[step.site]
        if (site.text in INTERNAL_STEPS and site.text not in ("library callback", "library")) or site.span.line == 0:
            continue
        texts = [names.fill(text) for o, text in step.notes if o in involved]
        if texts and site.span != cx.span:
            labels.append(Label(site.span, "; ".join(dict.fromkeys(texts))))
        elif texts and site.text in ("library callback", "library"):
            inside += texts  # what the library did inside the very call the finding is at
    last = backend.sites.by_id[trace[-1].site]
    if last.text in ("library callback", "library"):
        inside += [names.fill(text) for o, text in trace[-1].notes if o in involved and "is destroyed" not in text]
    message = names.fill(cx.finding.message)
    primary = "; ".join([*dict.fromkeys(inside[-2:]), _primary_label(cx.rule)])
    labels.append(Label(cx.span, primary, primary=True))
    note, help_text = advice_for(cx.rule, message)
    steps = _steps(program, backend, trace, names)
    shown = steps if full_trace or not involved else _touching(steps, backend, trace, involved, names)
    choices = _choices(program, backend, trace[-1].asked_to)
    return ReportedFinding(
        cx.rule,
        message,
        cx.span,
        tuple(_dedupe(labels)),
        note,
        help_text,
        choices,
        shown,
        len(steps) - len(shown),
        cx.minimal,
        tuple(names(o) for o in cx.finding.objs),
    )


def _dedupe(labels: list[Label]) -> list[Label]:
    """One label per span: the last thing a repeated step (a loop) did there."""
    by_span: dict[tuple, Label] = {}
    for label in labels:
        key = (label.span.start, label.span.end)
        if key in by_span and by_span[key].primary:
            continue
        by_span.pop(key, None)
        by_span[key] = label
    return sorted(by_span.values(), key=lambda lab: (lab.span.start, lab.primary))


def _primary_label(rule: Rule) -> str:
    return {
        "use-after-free": "the destroyed object is used here",
        "double-free": "released again here",
        "dangling-reference": "destroyed here while still pointed at",
        "leak": "this reference is never released",
        "borrowed-free": "releases a reference the script does not own",
        "null-dereference": "NULL is dereferenced here",
        "cache-corruption": "the cache is corrupted here",
        "callback-ownership": "the callback breaks its reference contract here",
        "stale-session": "a session that is not resumable is offered here",
    }.get(rule.name, rule.summary)


def _touching(
    steps: tuple[PathStep, ...], backend: ConcreteBackend, trace: list[TraceStep], involved: set[int], names: _Names
) -> tuple[PathStep, ...]:
    """The steps that change or describe the finding's objects or the `SSL`s and contexts that
    held them (and the finding's own step), with a column for each of those objects."""
    involved_names = {names(o) for o in involved}
    shown = set(involved_names)
    for step in steps:
        for state in step.objects:
            if state.name in involved_names:
                shown |= {name for kind, name, _ in state.holdings if kind in ("slot", "cache", "ssl")}
    objects = {o for o in backend.registry.info if names(o) in shown}
    touched = set()
    for index, step in enumerate(trace):
        if any(o in objects for o, _ in step.notes) or any(
            cell[0] in ("rc", "st", "lib", "cached") and cell[1] in objects or cell[0] == "slot" and value in objects
            for cell, value in step.writes.items()
        ):
            touched.add(index)
    return tuple(
        PathStep(s.number, s.span, s.call, s.notes, tuple(o for o in s.objects if o.name in shown), s.index)
        for s in steps
        if s.index in touched or s is steps[-1]
    )


def _steps(program: ast.Program, backend: ConcreteBackend, trace: list[TraceStep], names: _Names) -> tuple[PathStep, ...]:
    cells: dict = {}
    rows: list[PathStep] = []
    objects = sorted(backend.registry.info)
    for index, step in enumerate(trace):
        cells.update(step.writes)
        site = backend.sites.by_id[step.site]
        text = site.text
        if site.text in ("library callback", "library") and any(c[0] in ("rc", "st") for c in step.writes):
            text = "(the library, inside this call)"  # what it does around a callback
        elif site.text in INTERNAL_STEPS or site.span.line == 0:
            continue
        states = tuple(_object_state(cells, o, backend, names) for o in objects)
        notes = tuple(dict.fromkeys(names.fill(text) for _, text in step.notes))
        rows.append(PathStep(len(rows) + 1, site.span, text, notes, states, index))
    return tuple(rows)


def _object_state(cells: dict, o: int, backend: ConcreteBackend, names: _Names) -> ObjectState:
    kind = backend.registry.info[o].kind
    st = cells.get(("st", o), 0)
    status = "alive" if st == ALIVE else "destroyed" if st == DESTROYED else "-"
    count = cells.get(("rc", o), 0)
    holdings: list[tuple[str, str, int]] = []
    if st == ALIVE:
        script = count - cells.get(("lib", o), 0)
        pointers = sorted({cell[2] for cell, v in cells.items() if cell[0] == "var" and v == o and (cell[2], cell[3]) in names.pointers})
        if script > 0:
            holdings.append(("script", ", ".join(pointers) or "no variable", script))
        for ssl in backend.registry.of_kind(SSL):
            if cells.get(("st", ssl)) != ALIVE:
                continue
            if kind == SESSION and cells.get(("slot", ssl)) == o:
                holdings.append(("slot", names(ssl), 1))
            if kind == CTX and cells.get(("ctx", ssl)) == o:
                holdings.append(("ssl", names(ssl), 2))
        if kind == SESSION and cells.get(("cached", o)):
            holdings.append(("cache", names(cells[("cached", o)]), 1))
        extra = cells.get(("lib", o), 0) - sum(n for k, _, n in holdings if k != "script")
        if extra > 0:
            # A handshake's lookup, `new_session_cb`'s extra reference, a cache release to come.
            holdings.append(("library", "library", extra))
        if script <= 0 and pointers:
            holdings.append(("borrowed", ", ".join(pointers), 0))
    holders = tuple(holder_text(*h) for h in holdings)
    return ObjectState(names(o), kind, status, count, holders, tuple(holdings))


def holder_text(kind: str, name: str, references: int = 1) -> str:
    """A holder as reports write it: `script(s)`, `script x2(s)`, `slot(ssl)`, `cache(ctx)`,
    `ssl(x2)`, `library`, `borrowed by s`."""
    times = f" x{references}" if references > 1 else ""
    if kind == "script":
        return f"script{times}({name})"
    if kind == "ssl":
        return f"{name}(x2)"
    if kind == "library":
        return f"library{times}"
    if kind == "borrowed":
        return f"borrowed by {name}"
    return f"{kind}({name})"


# Facts recorded for reproducers that the path's text says otherwise (`World.record`).
_RECORDED = (handshake.OFFERED, handshake.PEER_HOLDS)


def _choices(program: ast.Program, backend: ConcreteBackend, upto: int) -> tuple[Choice, ...]:
    """The path in words up to the finding (the first `upto` answers), in the order it was
    taken: each `if (*)` taken or not (with its loop iteration), each `while (*)`'s
    iterations, each input and library outcome."""
    loops = _loop_conditions(program)
    result: list[Choice | None] = []
    loop_counts: dict[tuple, list] = {}  # loop -> [span, iterations, index in result, still inside]
    for label, value in backend.oracle.asked[:upto]:
        what, _, where = label.partition("@")
        if what == "start time" and not _uses_time(program) or what in _RECORDED:
            continue
        line, col = (int(x) for x in where.split("/")[0].split(":"))
        span = _span_at(program, line, col)
        if what == "*" and (line, col) in loops:
            if (line, col) not in loop_counts:
                loop_counts[(line, col)] = [span, 0, len(result), False]
                result.append(None)
            loop_counts[(line, col)][1] += bool(value)
            loop_counts[(line, col)][3] = bool(value)
            continue
        at = f"line {line}{_iteration(where)}"
        if what == "*":
            text = f"{at}: `if (*)` {'taken' if value else 'not taken'}"
        elif what == "start time":
            text = f"the clock starts at {value}"
        elif what == handshake.NEGOTIATED:
            text = f"{at}: the peer negotiates TLS 1.{value - 0x0301}"
        elif what == handshake.PEER_TLS13:
            continue  # said by the negotiated version
        elif isinstance(value, bool):
            text = f"{at}: {what}: {'yes' if value else 'no'}"
        else:
            text = f"{at}: {what} = {value}"
        result.append(Choice(span, text))
    for (line, _col), (span, go, index, inside) in loop_counts.items():
        if inside:
            result[index] = Choice(span, f"line {line}: `while (*)` runs {go} iteration(s), the finding is in the last")
        else:
            result[index] = Choice(span, f"line {line}: `while (*)` runs {go} iteration(s)")
    return tuple(c for c in result if c is not None)


def _iteration(where: str) -> str:
    """" (iteration 2)" for a choice made in a loop's second iteration; nested loops join."""
    found = re.findall(r"loop\d+#(\d+)", where)
    return f" (iteration {'.'.join(str(int(i) + 1) for i in found)})" if found else ""


def _uses_time(program: ast.Program) -> bool:
    names = ast.called_names(program)
    return any(name.endswith(("time", "sleep")) or "flush_sessions" in name or "_set_time" in name for name in names)


def _loop_conditions(program: ast.Program) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()

    def visit(node: Any) -> None:
        if isinstance(node, ast.While) and isinstance(node.cond, ast.Nondet):
            found.add((node.cond.span.line, node.cond.span.column))
        if isinstance(node, (list, tuple)):
            for x in node:
                visit(x)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                if name not in ("span", "source"):
                    visit(getattr(node, name))

    visit(list(program.items))
    return found


def _span_at(program: ast.Program, line: int, col: int) -> ast.Span:
    lines = program.source.split("\n")
    start = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
    return ast.Span(program.file, line, col, line, col + 1, start, start + 1)
