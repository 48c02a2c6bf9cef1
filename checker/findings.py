"""Turns a verdict and its replayed counterexamples into plain report data: what happened,
where, the labelled steps that led there, the path taken and every object's count and
holders after each step. Emitters (`report_text`, `report_json`) only format this."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .advice import advice_for
from .concrete import ConcreteBackend, TraceStep
from .execute import INTERNAL_STEPS
from .fixes import Fix, search_fixes
from .language import ast
from .model import handshake
from .model.objects import ALIVE, CTX, DESTROYED, SESSION, SSL
from .model.rules import Conformance, Rule, Variant
from .solving import Counterexample, Options, Verdict, unmodelled_reason


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
    # Whether the finding depends on it: a minimal set of the path's choices forces the
    # finding (`solving._depends_on`); the others could go either way.
    needed: bool = True


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
    variant: Variant | None = None  # which kind of finding of its rule (`model/rules.py`)
    full_trace: bool = False  # the report shows every step and every choice of the path
    # Findings on one path share one step table in the text report: the finding whose path
    # is the longest shows it (`table`, with the columns of all of them and `table_hidden`
    # steps left out), the others name it (`table_of`, its index in the file's findings).
    table: tuple[PathStep, ...] | None = None
    table_hidden: int = 0
    table_of: int | None = None

    @property
    def shown_choices(self) -> tuple[Choice, ...]:
        """The choices a report lists: those the finding depends on (all with the full trace)."""
        return self.choices if self.full_trace else tuple(c for c in self.choices if c.needed)


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
    fixes_skipped: int = 0  # findings the fix search ran out of time for (`fixes.search_fixes`)
    closed_after: int = 0  # loops proved for all iterations: their states repeat after this many
    closed_loops: int = 0  # how many loop statements were proved so
    bounded_why: tuple[str, ...] = ()  # why the loops that reached their bound did not close

    @property
    def errors(self) -> tuple[ReportedFinding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[ReportedFinding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")


def path_text(f: ReportedFinding) -> str:
    """The `path:` line of a report: the choices the finding depends on, and how many of the
    path's other choices are left out (`--full-trace` lists them all). Empty: no choice."""
    shown = f.shown_choices
    rest = len(f.choices) - len(shown)
    text = "; ".join(c.text for c in shown)
    if not rest:
        return text
    if not shown:
        return (f"the finding happens whichever way this path's {rest} choice{'s' if rest > 1 else ''} "
                f"{'go' if rest > 1 else 'goes'} (`--full-trace` shows the whole path)")
    return (f"{text} (the finding depends only on {'this choice' if len(shown) == 1 else 'these choices'}; "
            f"{rest} other{'s' if rest > 1 else ''} on the path: `--full-trace` shows the whole path)")


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
    if not full_trace:
        findings = _share_tables(program, verdict.counterexamples, findings)
    fixes_skipped = 0
    if fixes is not None:
        search = search_fixes(program, verdict, fixes)
        findings = tuple(replace(f, fix=fix) for f, fix in zip(findings, search.fixes))
        fixes_skipped = search.skipped
    findings = tuple(
        replace(f, level="error" if f.rule.severity == "error" or denied(f.rule, deny) else "warning",
                denied=denied(f.rule, deny))
        for f in findings
    )
    outcome, reason = verdict.verdict, verdict.reason
    if outcome == "unsafe" and all(f.level == "warning" for f in findings):
        outcome = "safe"  # warnings print but do not fail (rustc, clippy, ruff)
        if verdict.unmodelled:  # ... but a path through an unmodelled call is never safe
            outcome, reason = "unknown", unmodelled_reason(verdict.unmodelled)
    notes = (*program.notes, *(f"{c.describe()}; paths through it were not checked past it" for c in verdict.unmodelled))
    return FileReport(program.file, program.source, outcome, verdict.bounded, verdict.vacuous, unroll, reason, findings,
                      notes=notes, sources=program.sources, fixes_skipped=fixes_skipped,
                      closed_after=verdict.closed_after, closed_loops=verdict.closed_loops,
                      bounded_why=verdict.bounded_why)


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
    names = _names_of(backend, program)
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
            labels.append(Label(site.span, "; ".join(dict.fromkeys(texts)) + _in_iteration(site.context)))
        elif texts and site.text in ("library callback", "library"):
            inside += texts  # what the library did inside the very call the finding is at
    last = backend.sites.by_id[trace[-1].site]
    if last.text in ("library callback", "library"):
        inside += [names.fill(text) for o, text in trace[-1].notes if o in involved and "is destroyed" not in text]
    message = names.fill(cx.finding.message)
    primary = "; ".join([*dict.fromkeys(inside[-2:]), cx.rule.label])
    labels.append(Label(cx.span, primary + _in_iteration(backend.sites.by_id[cx.finding.site].context), primary=True))
    note, help_text = advice_for(cx.rule, cx.finding.variant)
    if full_trace or not involved:
        steps = shown = _steps(backend, trace, names)
    else:
        steps, shown = _steps(backend, trace, names, ()), _touching(backend, trace, involved, names)
    choices = _choices(program, backend, trace[-1].asked_to, cx.depends_on)
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
        variant=cx.finding.variant,
        full_trace=full_trace,
    )


def _on_path(a: Counterexample, b: Counterexample) -> bool:
    """Whether `a`'s finding is on `b`'s path: `b`'s run makes the same choices as `a`'s up
    to `a`'s finding (the runs are then the same up to there) and goes at least as far."""
    ta, tb = a.replay.backend.trace, b.replay.backend.trace
    if a.finding.step > b.finding.step or a.finding.step >= len(tb):
        return False
    upto = ta[a.finding.step].asked_to
    return (
        tb[a.finding.step].asked_to == upto
        and a.replay.backend.oracle.asked[:upto] == b.replay.backend.oracle.asked[:upto]
        and ta[a.finding.step].site == tb[a.finding.step].site
    )


def _share_tables(
    program: ast.Program, cxs: list[Counterexample], findings: tuple[ReportedFinding, ...]
) -> tuple[ReportedFinding, ...]:
    """One step table per distinct path: findings whose paths are prefixes of another's
    point at that one's table, which shows the columns of all of them."""
    order = sorted(range(len(cxs)), key=lambda i: (-cxs[i].finding.step, -len(cxs[i].replay.backend.oracle.asked), i))
    groups: list[list[int]] = []
    for i in order:
        group = next((g for g in groups if _on_path(cxs[i], cxs[g[0]])), None)
        if group is None:
            groups.append([i])
        else:
            group.append(i)
    result = list(findings)
    for group in groups:
        if len(group) == 1:
            continue
        head = cxs[group[0]]
        backend = head.replay.backend
        names = _names_of(backend, program)
        trace = backend.trace[: head.finding.step + 1]
        involved = {o for i in group for o in cxs[i].finding.objs}
        steps = _steps(backend, trace, names, () if involved else None)
        at = frozenset(findings[i].steps[-1].index for i in group if findings[i].steps)
        shown = steps if not involved else _touching(backend, trace, involved, names, at)
        result[group[0]] = replace(result[group[0]], table=shown, table_hidden=len(steps) - len(shown))
        for i in group[1:]:
            result[i] = replace(result[i], table_of=group[0])
    return tuple(result)


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


def _touching(
    backend: ConcreteBackend, trace: list[TraceStep], involved: set[int], names: _Names,
    keep: frozenset[int] = frozenset(),
) -> tuple[PathStep, ...]:
    """The steps that change or describe the finding's objects or the `SSL`s and contexts that
    held them (and the finding's own step), with a column for each of those objects."""
    steps = _steps(backend, trace, names, [o for o in involved if o in backend.registry.info])
    shown = {names(o) for o in involved}
    for step in steps:
        for state in step.objects:
            shown |= {name for kind, name, _ in state.holdings if kind in ("slot", "cache", "ssl")}
    objects = {o for o in backend.registry.info if names(o) in shown}
    steps = _steps(backend, trace, names, objects)
    touched = set()
    for index, step in enumerate(trace):
        if any(o in objects for o, _ in step.notes) or any(
            cell[0] in ("rc", "st", "lib", "cached") and cell[1] in objects or cell[0] == "slot" and value in objects
            for cell, value in step.writes.items()
        ):
            touched.add(index)
    return tuple(s for s in steps if s.index in touched or s.index in keep or s is steps[-1])


def _names_of(backend: ConcreteBackend, program: ast.Program) -> _Names:
    """The replay's object names, made once per replay (findings on one path share it)."""
    cached = getattr(backend, "_report_names", None)
    if cached is None or cached[0] is not program:
        cached = backend._report_names = (program, _Names(backend, program))  # type: ignore[attr-defined]
    return cached[1]


def _steps(
    backend: ConcreteBackend, trace: list[TraceStep], names: _Names, objects: Iterable[int] | None = None
) -> tuple[PathStep, ...]:
    """The step table of `trace`, a prefix of the replay's, with a column for each of
    `objects` (None: every object). The replay's rows and each object's column are made once
    (several findings on one path, a report of hundreds of them, share them)."""
    table = getattr(backend, "_report_table", None)
    if table is None or table.names is not names:
        table = backend._report_table = _Table(backend, names)  # type: ignore[attr-defined]
    wanted = sorted(backend.registry.info if objects is None else objects)
    rows = [row for row in table.rows if row.index < len(trace)]
    columns = table.columns(wanted, len(rows))
    return tuple(
        PathStep(row.number, row.span, row.call, row.notes, tuple(columns[o][i] for o in wanted), row.index)
        for i, row in enumerate(rows)
    )


class _Table:
    """The step table of one replay: its rows, and each object's state after each row (its
    column), made only for the objects and the rows a report shows: a loop that allocates a
    thousand objects makes a thousand columns, of which a finding shows a few."""

    def __init__(self, backend: ConcreteBackend, names: _Names):
        self.backend, self.names = backend, names
        self.rows = _rows(backend, names)
        self._columns: dict[int, list[ObjectState]] = {}

    def columns(self, objects: list[int], rows: int) -> dict[int, list[ObjectState]]:
        """Columns of at least `rows` rows for `objects`."""
        short = [o for o in objects if len(self._columns.get(o, ())) < rows]
        if short:
            # Made again from the start when a longer one is asked for: at least twice as long.
            made = min(len(self._columns.get(o, ())) for o in short)
            upto = min(len(self.rows), max(rows, 2 * made))
            at = {row.index for row in self.rows[:upto]}
            self._columns.update(_columns(self.backend, self.names, short, at))
        return self._columns


def _rows(backend: ConcreteBackend, names: _Names) -> list[PathStep]:
    """The replay's steps a table shows, without their columns."""
    rows: list[PathStep] = []
    for index, step in enumerate(backend.trace):
        site = backend.sites.by_id[step.site]
        text = site.text
        if site.text in ("library callback", "library") and any(c[0] in ("rc", "st") for c in step.writes):
            text = "(the library, inside this call)"  # what it does around a callback
        elif site.text in INTERNAL_STEPS or site.span.line == 0:
            continue
        notes = tuple(dict.fromkeys(names.fill(text) for _, text in step.notes))
        rows.append(PathStep(len(rows) + 1, site.span, text, notes, (), index))
    return rows


def _columns(
    backend: ConcreteBackend, names: _Names, objects: list[int], at: set[int]
) -> dict[int, list[ObjectState]]:
    """The state of each of `objects` after each step of the replay whose index is in `at`."""
    pointers = _Pointers(names)
    ssls = {ssl: i for i, ssl in enumerate(backend.registry.of_kind(SSL))}
    columns: dict[int, list[ObjectState]] = {o: [] for o in objects}
    changed = set(objects)
    for index, step in enumerate(backend.trace[: max(at, default=-1) + 1]):
        changed |= pointers.write(step.writes)
        if index not in at:
            continue
        for o in objects:
            column = columns[o]
            # An object no step has touched since the last row keeps its state (and its cell).
            column.append(_object_state(pointers, o, backend, names, ssls) if o in changed else column[-1])
        changed = set()
    return columns


class _Pointers:
    """A replay's cells as its steps write them, and who points at each object: the
    pointer variables, and the `SSL`s whose session slot or contexts hold it."""

    FIELDS = ("slot", "ctx", "sctx")

    def __init__(self, names: _Names):
        self.pointers = names.pointers
        self.cells: dict = {}
        self.variables: dict[int, set] = {}  # object -> the variables' cells that hold it
        self.fields: dict[int, set] = {}  # object -> the `SSL`s' cells that hold it

    def write(self, writes: dict) -> set:
        """Apply one step's writes; gives the objects whose state they may change."""
        changed: set = set()
        for cell, value in writes.items():
            old = self.cells.get(cell)
            changed.update(x for x in (*cell[1:2], old, value) if isinstance(x, int))
            if cell[0] == "st":  # an `SSL` that comes or goes: what it holds
                changed.update(x for f in self.FIELDS if isinstance(x := self.cells.get((f, cell[1])), int))
            index = self._index(cell)
            if index is None:
                continue
            if isinstance(old, int) and old in index:
                index[old].discard(cell)
            if isinstance(value, int):
                index.setdefault(value, set()).add(cell)
        self.cells.update(writes)
        return changed

    def _index(self, cell: tuple) -> dict[int, set] | None:
        if cell[0] == "var" and (cell[2], cell[3]) in self.pointers:
            return self.variables
        return self.fields if cell[0] in self.FIELDS else None

    def ssls_at(self, o: int, ssls: dict[int, int]) -> list[int]:
        """The `SSL`s whose slot or contexts hold `o`, in allocation order."""
        return sorted({cell[1] for cell in self.fields.get(o, ()) if cell[1] in ssls}, key=ssls.__getitem__)


def _object_state(at: _Pointers, o: int, backend: ConcreteBackend, names: _Names, ssls: dict[int, int]) -> ObjectState:
    cells = at.cells
    kind = backend.registry.info[o].kind
    st = cells.get(("st", o), 0)
    status = "alive" if st == ALIVE else "destroyed" if st == DESTROYED else "-"
    count = cells.get(("rc", o), 0)
    holdings = _holdings(at, o, kind, count, names, ssls) if st == ALIVE else []
    holders = tuple(holder_text(*h) for h in holdings)
    return ObjectState(names(o), kind, status, count, holders, tuple(holdings))


def _holdings(
    at: _Pointers, o: int, kind: str, count: int, names: _Names, ssls: dict[int, int]
) -> list[tuple[str, str, int]]:
    """Who holds the live object `o`'s references: (kind, name, references) each."""
    cells = at.cells
    holdings: list[tuple[str, str, int]] = []
    script = count - cells.get(("lib", o), 0)
    pointers = sorted({cell[2] for cell in at.variables.get(o, ())})
    if script > 0:
        holdings.append(("script", ", ".join(pointers) or "no variable", script))
    for ssl in at.ssls_at(o, ssls):
        if cells.get(("st", ssl)) != ALIVE:
            continue
        if kind == SESSION and cells.get(("slot", ssl)) == o:
            holdings.append(("slot", names(ssl), 1))
        if kind == CTX:
            # `ssl->ctx` and `ssl->session_ctx` (one each; they differ after SSL_set_SSL_CTX).
            refs = (cells.get(("ctx", ssl)) == o) + (cells.get(("sctx", ssl)) == o)
            if refs:
                holdings.append(("ssl", names(ssl), refs))
    if kind == SESSION and cells.get(("cached", o)):
        holdings.append(("cache", names(cells[("cached", o)]), 1))
    extra = cells.get(("lib", o), 0) - sum(n for k, _, n in holdings if k != "script")
    if extra > 0:
        # A handshake's lookup, `new_session_cb`'s extra reference, a cache release to come.
        holdings.append(("library", "library", extra))
    if script <= 0 and pointers:
        holdings.append(("borrowed", ", ".join(pointers), 0))
    return holdings


def left_at_stop(program: ast.Program, backend: ConcreteBackend) -> tuple[int, list[tuple[str, int]]] | None:
    """Where a path that crashes stops (its script line) and the objects still alive there
    that no leak finding is about: (name, allocating line) each. A reproducer stops at the
    crash, so valgrind reports these as lost although the script would have freed them
    later. None when the path runs to its end."""
    if not backend.crashed or not backend.trace:
        return None
    cells: dict = {}
    for step in backend.trace:
        cells.update(step.writes)
    # Objects a leak-like finding is about (their rule's conformance says valgrind finds them lost).
    lost = (Conformance.LOST, Conformance.LOST_IF_UNRELEASED)
    leaked = {o for f in backend.findings if f.rule.conformance in lost for o in f.objs}
    names = _Names(backend, program)
    alive = [
        (names(o), backend.sites.by_id[info.site].span.line)
        for o, info in sorted(backend.registry.info.items())
        if cells.get(("st", o)) == ALIVE and o not in leaked
    ]
    return backend.sites.by_id[backend.trace[-1].site].span.line, alive


def holder_text(kind: str, name: str, references: int = 1) -> str:
    """A holder as reports write it: `script(s)`, `script x2(s)`, `slot(ssl)`, `cache(ctx)`,
    `ssl(x2)` (an `SSL`'s references to a context: `ctx` and `session_ctx`), `library`,
    `borrowed by s`."""
    times = f" x{references}" if references > 1 else ""
    if kind == "script":
        return f"script{times}({name})"
    if kind == "ssl":
        return f"{name}(x{references})"
    if kind == "library":
        return f"library{times}"
    if kind == "borrowed":
        return f"borrowed by {name}"
    return f"{kind}({name})"


# Facts recorded for reproducers that the path's text says otherwise (`World.record`).
_RECORDED = (handshake.OFFERED, handshake.PEER_HOLDS)


def _choices(
    program: ast.Program, backend: ConcreteBackend, upto: int, depends_on: frozenset[str] | None = None
) -> tuple[Choice, ...]:
    """The path in words up to the finding (the first `upto` answers), in the order it was
    taken: each `if (*)` taken or not (with its loop iteration), each `while (*)`'s
    iterations, each input and library outcome. `depends_on`: the labels of the choices the
    finding depends on (None: all of them)."""
    loops = _loop_conditions(program)
    result: list[Choice | None] = []
    loop_counts: dict[tuple, list] = {}  # loop -> [span, iterations, index in result, still inside, needed]
    needed = lambda label: depends_on is None or label in depends_on  # noqa: E731
    for label, value in backend.oracle.asked[:upto]:
        what, _, where = label.partition("@")
        if what == "start time" and not _uses_time(program) or what in _RECORDED:
            continue
        line, col = (int(x) for x in where.split("/")[0].split(":"))
        span = _span_at(program, line, col)
        if what == "*" and (line, col) in loops:
            if (line, col) not in loop_counts:
                loop_counts[(line, col)] = [span, 0, len(result), False, False]
                result.append(None)
            loop_counts[(line, col)][1] += bool(value)
            loop_counts[(line, col)][3] = bool(value)
            loop_counts[(line, col)][4] |= needed(label)
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
        result.append(Choice(span, text, needed(label)))
    for (line, _col), (span, go, index, inside, loop_needed) in loop_counts.items():
        if inside:
            result[index] = Choice(span, f"line {line}: `while (*)` runs {go} iteration(s), the finding is in the last", loop_needed)
        else:
            result[index] = Choice(span, f"line {line}: `while (*)` runs {go} iteration(s)", loop_needed)
    return tuple(c for c in result if c is not None)


def _in_iteration(context: tuple) -> str:
    """" (iteration 2)" for a label of a step in a loop's second iteration (nested loops:
    "2.1", outer first), so that labels printed in source order say which pass they are from."""
    found = [part[2] for part in context if part[0] == "loop" and len(part) > 2]
    return f" (iteration {'.'.join(str(int(i) + 1) for i in found)})" if found else ""


def _iteration(where: str) -> str:
    """" (iteration 2)" for a choice made in a loop's second iteration; nested loops join."""
    found = re.findall(r"loop\d+#(\d+)", where)
    return f" (iteration {'.'.join(str(int(i) + 1) for i in found)})" if found else ""


_PER_PROGRAM: dict[tuple[str, int], tuple[ast.Program, Any]] = {}


def _per_program(what: str, program: ast.Program, compute: Any) -> Any:
    """`compute(program)`, once per program and question (each finding asks again)."""
    key = (what, id(program))
    cached = _PER_PROGRAM.get(key)
    if cached is None or cached[0] is not program:
        if len(_PER_PROGRAM) > 64:
            _PER_PROGRAM.clear()
        cached = _PER_PROGRAM[key] = (program, compute(program))
    return cached[1]


def _uses_time(program: ast.Program) -> bool:
    return _per_program("uses time", program, _compute_uses_time)


def _compute_uses_time(program: ast.Program) -> bool:
    names = ast.called_names(program)
    return any(name.endswith(("time", "sleep")) or "flush_sessions" in name or "_set_time" in name for name in names)


def _loop_conditions(program: ast.Program) -> set[tuple[int, int]]:
    return _per_program("loop conditions", program, _compute_loop_conditions)


def _compute_loop_conditions(program: ast.Program) -> set[tuple[int, int]]:
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
