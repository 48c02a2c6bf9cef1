"""Verified fixes: where a finding's help proposes a concrete edit, a few candidate edits of
the script's text are derived from the finding, its counterexample and the syntax tree. Each
is applied to a copy of the source, which is parsed, resolved and checked with the same
options (C input: the edit is a patch of the C file, read again by the C front end with the
same `-D`/`-U`/`--function`; an edit of sessref's own text, an entry context, is none); the first candidate that verifies becomes the finding's fix, shown as a diff. A
candidate that does not verify is never shown: the finding keeps its help in words.

A fix verifies when the edited script is safe, or, when the script has several findings,
when this finding is gone (the same rule at the same place, mapped through the edit) and the
edited script has no finding the original did not have.
"""

from __future__ import annotations

import difflib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator

from . import budget
from .language import ast
from .language.catalogue import CATALOGUE, require
from .language.parser import parse
from .language.resolve import resolve
from .model.api import EFFECTS
from .model.objects import CTX, DESTROYED, SESSION, SSL
from .model.rules import (
    CALLBACK_COPY0_ONLY_REFERENCE,
    CALLBACK_COPY0_UNOWNED,
    CALLBACK_COPY_LEFT_1,
    CALLBACK_NEW_FREED_LENT,
    CALLBACK_NEW_KEPT_NOWHERE,
    CALLBACK_REMOVE_FREED_LENT,
    DOUBLE_FREE_BY_SCRIPT,
    LEAK_AT_END,
    LEAK_OUT_OF_SCOPE,
    LEAK_OVERWRITTEN,
    LEAK_UNUSED_RESULT,
    Variant,
)
from .model.values import NULL
from .solving import SAFE, UNSAFE, Counterexample, Options, Verdict, check

MAX_CANDIDATES = 3  # checked per finding, at most
CONTEXT_LINES = 2
SAFE_AFTER, FINDING_GONE = "safe", "finding-gone"  # how a fix was verified

def _frees() -> dict[str, str]:
    """The free function of each kind of object: the catalogue's `free` of the calls that
    give the script an owned reference to one (tests/test_catalogue.py: exactly one each)."""
    found: dict[str, str] = {}
    for e in CATALOGUE.values():
        ret = e.prototype.ret
        if e.modelled and e.result == "owned" and ret.pointers == 1 and ret.base in (SESSION, SSL, CTX):
            found.setdefault(ret.base, e.free)
    return {kind: found[kind] for kind in (SESSION, SSL, CTX)}


FREES = _frees()
# Calls that lend a session (no reference), and the one that gives one instead.
BORROWING_GETTERS = tuple(sorted(
    n for n, e in CATALOGUE.items()
    if e.modelled and e.result == "borrowed" and e.prototype.ret.base == SESSION and e.prototype.ret.pointers == 1
))
OWNING_GETTER = require("SSL_get1_session").name
# Frees of plain buffers the model judges (a `get0` pointer into a session freed).
BUFFER_FREES = frozenset(n for n, e in CATALOGUE.items() if e.modelled and e.effect_name == "OPENSSL_free")
MODELLED = frozenset(EFFECTS)


@dataclass(frozen=True)
class DiffLine:
    mark: str  # " " context, "-" removed, "+" added, "..." lines left out between two hunks
    line: int  # in the original script for "-", in the edited one for " " and "+"; 0 for "..."
    text: str


@dataclass(frozen=True)
class Fix:
    description: str  # one line: what the edit does
    diff: str  # a unified diff of the script, under its own file name
    lines: tuple[int, ...]  # the original script's lines the edit changes or deletes, or that an inserted line follows
    verified_by: str  # SAFE_AFTER or FINDING_GONE
    verification: str  # the same, in words
    rows: tuple[DiffLine, ...] = ()  # the diff's lines, for a report's own gutter


@dataclass(frozen=True, order=True)
class Edit:
    """Replace `source[start:end]` with `text` (an insertion when start == end)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    description: str
    edits: tuple[Edit, ...]


# The fix search's time: at most this many times the check's own, and at least the floor
# (candidates are small edits of the script, so each costs about one check), within what
# the file's budget (`--timeout`) has left. What it could not try is reported.
SEARCH_FACTOR = 10
SEARCH_FLOOR_S = 5.0


@dataclass(frozen=True)
class FixSearch:
    fixes: list[Fix | None]  # one per counterexample
    skipped: int = 0  # findings left without a fix because the search ran out of time


def verified_fixes(program: ast.Program, verdict: Verdict, options: Options) -> list[Fix | None]:
    """One entry per counterexample of `verdict`: its verified fix, or None."""
    return search_fixes(program, verdict, options).fixes


def search_fixes(program: ast.Program, verdict: Verdict, options: Options) -> FixSearch:
    """The verified fix of each counterexample, looked for within the search's time."""
    fixes: list[Fix | None] = [None] * len(verdict.counterexamples)
    if verdict.verdict != UNSAFE:
        return FixSearch(fixes)  # an unknown verdict gives nothing to compare an edited script with
    seconds = max(SEARCH_FLOOR_S, SEARCH_FACTOR * verdict.stats.get("seconds", 0.0))
    unfinished: set[int] = set()
    with budget.limit(seconds):
        tree = _Tree(program)
        original = _Outcome(UNSAFE, frozenset(_key(cx) for cx in verdict.counterexamples), verdict.vacuous)
        tried: list[Candidate] = []
        for i, cx in enumerate(verdict.counterexamples):
            if budget.expired():  # making the candidates costs too: not even that
                unfinished.add(i)
                continue
            for candidate in _candidates(tree, cx):
                if budget.expired():
                    unfinished.add(i)
                    break
                if all(candidate.edits != other.edits for other in tried):
                    tried.append(candidate)
                fixes[i] = _verify(program, options, original, cx, candidate)
                if fixes[i]:
                    break
        # A finding that follows from another one's mistake (a slot releasing what the script
        # freed) is fixed by the other's edit: those were checked already, so this costs nothing.
        for i, cx in enumerate(verdict.counterexamples):
            for candidate in tried if fixes[i] is None else ():
                if budget.expired():
                    unfinished.add(i)
                    break
                fixes[i] = _verify(program, options, original, cx, candidate)
                if fixes[i]:
                    break
        if budget.expired():  # the last candidate's check may have been cut short
            unfinished |= {i for i, fix in enumerate(fixes) if fix is None}
    return FixSearch(fixes, sum(1 for i in unfinished if fixes[i] is None))


# ---- checking an edited script -------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    verdict: str
    findings: frozenset[tuple[str, int, int]]  # (rule ID, start, end) of each finding's span
    vacuous: bool


_OUTCOMES: OrderedDict[tuple, _Outcome | None] = OrderedDict()
_CACHE_SIZE = 256


def _key(cx: Counterexample) -> tuple[str, int, int]:
    return (cx.rule.id, cx.span.start, cx.span.end)


def _outcome(file: str, source: str, options: Options, relower: Any = None) -> _Outcome | None:
    """The verdict on an edited script (C input: the edited file, read by `relower`), cached
    by (source, options); None for bad input."""
    key = (file, source, options.unroll, options.allocation_failures, options.timeout_ms)
    if key in _OUTCOMES:
        _OUTCOMES.move_to_end(key)
        return _OUTCOMES[key]
    # The same options, timeout included (a shorter one would make fixes depend on the
    # machine's load); no shortest counterexamples: only which findings remain matters.
    quick = replace(options, shortest=False, depends=False)
    result: _Outcome | None
    try:
        if relower is not None:
            program = relower(source)
        else:
            program = parse(source, file)
            resolve(program, MODELLED)
        verdict = check(program, quick) if program.items else None
    except Exception:  # bad input (SessrefError), too deep, or anything else: the candidate is rejected
        verdict = None
    if verdict is None:
        result = None
    else:
        result = _Outcome(verdict.verdict, frozenset(_key(cx) for cx in verdict.counterexamples), verdict.vacuous)
    if budget.expired():
        return result  # cut short by the time budget: not this script's outcome, not cached
    _OUTCOMES[key] = result
    if len(_OUTCOMES) > _CACHE_SIZE:
        _OUTCOMES.popitem(last=False)
    return result


def _verify(program: ast.Program, options: Options, original: _Outcome, cx: Counterexample, candidate: Candidate) -> Fix | None:
    edits = candidate.edits
    own = program.source if program.own_text_end < 0 else program.source[: program.own_text_end]
    if any(e.end > len(own) or e.start > len(own) for e in edits):
        return None  # C input: an edit of sessref's own text (an entry context) is no fix of the file
    source = apply_edits(own, edits)
    edited = _outcome(program.file, source, options, program.relower)
    if edited is None or edited.verdict not in (SAFE, UNSAFE) or edited.vacuous and not original.vacuous:
        return None
    if edited.verdict == SAFE:
        how, words = SAFE_AFTER, "the patched file verifies safe" if program.relower else "the edited script verifies safe"
    else:
        before = {moved for finding in original.findings if (moved := _moved(finding, edits)) is not None}
        if _moved(_key(cx), edits) in edited.findings or not edited.findings <= before:
            return None
        how = FINDING_GONE
        words = f"this finding is gone and no new one appears; {len(edited.findings)} other finding(s) remain"
    rows, lines = _diff_rows(own, source)
    return Fix(candidate.description, _unified_diff(program.file, own, source), lines, how, words, rows)


def _moved(finding: tuple[str, int, int], edits: Iterable[Edit]) -> tuple[str, int, int] | None:
    """Where a finding's span is in the edited source; None when the edit replaced it."""
    rule, start, end = finding
    new_start, new_end = shift(start, edits, False), shift(end, edits, True)
    if new_start is None or new_end is None:
        return None
    return (rule, new_start, new_end)


def shift(position: int, edits: Iterable[Edit], is_end: bool) -> int | None:
    """`position` in the source after `edits`; None when it lies inside replaced text. Text
    inserted at a span's start goes before the span, at its end after it."""
    delta = 0
    for e in sorted(edits):
        if position < e.start or is_end and position == e.start:
            break
        if position < e.end:
            return None
        delta += len(e.text) - (e.end - e.start)
    return position + delta


def apply_edits(source: str, edits: Iterable[Edit]) -> str:
    out, at = [], 0
    for e in sorted(edits):
        out += [source[at : e.start], e.text]
        at = e.end
    return "".join(out) + source[at:]


def _disjoint(edits: tuple[Edit, ...]) -> bool:
    """No two edits overlap, and no two insert at the same place (their order would be a guess)."""
    ordered = sorted(edits)
    return all(a.end <= b.start and not a.start == a.end == b.start == b.end for a, b in zip(ordered, ordered[1:]))


# ---- the diff ---------------------------------------------------------------------------------------


def _unified_diff(file: str, before: str, after: str) -> str:
    """What `diff -u` prints (`patch -p0` applies it), with `\\ No newline at end of file`
    after a last line that has none."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=file, tofile=file, n=CONTEXT_LINES
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _diff_rows(before: str, after: str) -> tuple[tuple[DiffLine, ...], tuple[int, ...]]:
    old, new = before.splitlines(), after.splitlines()
    rows: list[DiffLine] = []
    touched: list[int] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(CONTEXT_LINES)):
        if n:
            rows.append(DiffLine("...", 0, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [DiffLine(" ", j + 1, new[j]) for j in range(j1, j2)]
                continue
            rows += [DiffLine("-", i + 1, old[i]) for i in range(i1, i2)]
            rows += [DiffLine("+", j + 1, new[j]) for j in range(j1, j2)]
            touched += range(i1 + 1, i2 + 1) if i2 > i1 else [i1]
    return tuple(rows), tuple(sorted(set(line for line in touched if line > 0)))


# ---- the script's statements and text ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Place:
    stmt: Any  # ast.Stmt
    siblings: tuple | None  # the statement list it is in; None for the sole body of an `if` or a loop
    func: ast.FuncDef | None
    parent: _Place | None


class _Tree:
    """The script's statements with where each sits, its calls by span, and text edits that
    keep its formatting (a new line gets the indentation of the statement next to it)."""

    def __init__(self, program: ast.Program):
        self.program = program
        self.source = program.source
        self.places: list[_Place] = []
        self.calls: dict[tuple[int, int], ast.Call] = {}
        self.blocks: list[tuple[ast.Block, _Place | None, ast.FuncDef | None]] = []
        top = tuple(item for item in program.items if not isinstance(item, ast.FuncDef))
        self.top = top
        self._list(top, None, None)
        for item in program.items:
            if isinstance(item, ast.FuncDef):
                self.blocks.append((item.body, None, item))
                self._list(item.body.stmts, item, None)
        for node in _nodes(program.items):
            if isinstance(node, ast.Call):
                self.calls[(node.span.start, node.span.end)] = node

    def _list(self, stmts: tuple, func: ast.FuncDef | None, parent: _Place | None) -> None:
        for stmt in stmts:
            self._stmt(stmt, stmts, func, parent)

    def _stmt(self, stmt: Any, siblings: tuple | None, func: ast.FuncDef | None, parent: _Place | None) -> None:
        place = _Place(stmt, siblings, func, parent)
        self.places.append(place)
        if isinstance(stmt, ast.Block):
            self.blocks.append((stmt, place, func))
            self._list(stmt.stmts, func, place)
        elif isinstance(stmt, ast.If):
            for body in (stmt.then, stmt.orelse):
                if body is not None:
                    self._stmt(body, None, func, place)
        elif isinstance(stmt, (ast.While, ast.For)):
            self._stmt(stmt.body, None, func, place)

    # -- finding things
    def statement_at(self, span: ast.Span) -> _Place | None:
        """The innermost statement that contains `span`."""
        around = [p for p in self.places if p.stmt.span.start <= span.start and span.end <= p.stmt.span.end]
        return min(around, key=lambda p: p.stmt.span.end - p.stmt.span.start, default=None)

    def call_at(self, span: ast.Span) -> ast.Call | None:
        return self.calls.get((span.start, span.end))

    def function_at(self, offset: int) -> ast.FuncDef | None:
        for item in self.program.items:
            if isinstance(item, ast.FuncDef) and item.span.start <= offset < item.span.end:
                return item
        return None

    def in_list(self, place: _Place, siblings: tuple) -> _Place | None:
        """`place`, or the statement around it, that sits in `siblings`."""
        at: _Place | None = place
        while at is not None and at.siblings is not siblings:
            at = at.parent
        return at

    def last_use(self, place: _Place, names: set[str]) -> _Place:
        """The last statement from `place` on, in its list, that mentions one of `names`."""
        last = place
        if place.siblings is not None:
            index = _index(place.siblings, place.stmt)
            for stmt in place.siblings[index + 1 :]:
                if _mentions(stmt, names):
                    last = self.place_of(stmt) or last
        return last

    def place_of(self, stmt: Any) -> _Place | None:
        return next((p for p in self.places if p.stmt is stmt), None)

    def assigned_name(self, call: ast.Call) -> str | None:
        """The variable a call's result goes to directly (`T *v = call;`, `v = call;`)."""
        for p in self.places:
            s = p.stmt
            if isinstance(s, ast.VarDecl) and s.init is call:
                return s.name
            if isinstance(s, ast.Assign) and s.value is call and isinstance(s.target, ast.Name) and s.op == "=":
                return s.target.id
        return None

    # -- text edits
    def _line_start(self, offset: int) -> int:
        return self.source.rfind("\n", 0, offset) + 1

    def _line_end(self, offset: int) -> int:
        """Where the line's text ends: at its `\n`, or at the `\r` of a `\r\n`."""
        end = self.source.find("\n", offset)
        if end < 0:
            return len(self.source)
        return end - 1 if end > offset and self.source[end - 1] == "\r" else end

    def _newline(self, at: int) -> str:
        """The line ending at `at` (the script's own, for new lines)."""
        if at < len(self.source):
            return "\r\n" if self.source.startswith("\r\n", at) else "\n"
        return "\r\n" if "\r\n" in self.source else "\n"

    def _indent(self, offset: int) -> str:
        start = self._line_start(offset)
        line = self.source[start : self._line_end(start)]
        return line[: len(line) - len(line.lstrip())]

    def _starts_line(self, offset: int) -> bool:
        return not self.source[self._line_start(offset) : offset].strip()

    def _ends_line(self, offset: int) -> bool:
        rest = self.source[offset : self._line_end(offset)].strip()
        return not rest or rest.startswith("//")

    def text(self, node: Any) -> str:
        return self.source[node.span.start : node.span.end]

    def insert_before(self, place: _Place, text: str) -> Edit:
        span = place.stmt.span
        if place.siblings is None:
            return Edit(span.start, span.end, "{ " + text + " " + self.text(place.stmt) + " }")
        if self._starts_line(span.start):
            at = self._line_start(span.start)
            return Edit(at, at, self._indent(span.start) + text + self._newline(self._line_end(at)))
        return Edit(span.start, span.start, text + " ")

    def insert_after(self, place: _Place, text: str) -> Edit:
        span = place.stmt.span
        if place.siblings is None:
            return Edit(span.start, span.end, "{ " + self.text(place.stmt) + " " + text + " }")
        if self._ends_line(span.end):
            at = self._line_end(span.end)
            return Edit(at, at, self._newline(at) + self._indent(span.start) + text)
        return Edit(span.end, span.end, " " + text)

    def insert_after_use(self, place: _Place, text: str) -> Edit:
        """After a statement, or before it when it leaves the scope (`return x;`)."""
        if isinstance(place.stmt, (ast.Return, ast.Break, ast.Continue)):
            return self.insert_before(place, text)
        return self.insert_after(place, text)

    def delete(self, place: _Place) -> Edit:
        span = place.stmt.span
        if place.siblings is None:
            return Edit(span.start, span.end, "{ }")
        if self._starts_line(span.start) and self._ends_line(span.end):
            start, end = self._line_start(span.start), self._line_end(span.end)
            if end < len(self.source):
                return Edit(start, end + len(self._newline(end)), "")
            before = self._line_end(self._line_start(max(start - 1, 0)))  # the previous line's ending
            return Edit(before if start else 0, end, "")
        end = span.end + 1 if self.source[span.end : span.end + 1] == " " else span.end
        return Edit(span.start, end, "")

    def insert_at_end(self, block: ast.Block | None, text: str) -> Edit | None:
        """After the last statement of a block (of the script's body when None)."""
        stmts = block.stmts if block is not None else self.top
        if not stmts:
            return None
        last = self.place_of(stmts[-1])
        return self.insert_after(last, text) if last is not None else None


def _nodes(node: Any) -> Iterator[Any]:
    """Every syntax node under `node`, depth first."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _nodes(item)
    elif hasattr(node, "__dataclass_fields__") and not isinstance(node, ast.Span):
        yield node
        for name in node.__dataclass_fields__:
            if name not in ("span", "functions"):
                yield from _nodes(getattr(node, name))


def _mentions(stmt: Any, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in _nodes(stmt))


def _index(stmts: tuple, stmt: Any) -> int:
    return next(i for i, s in enumerate(stmts) if s is stmt)


def _name_args(call: ast.Call | None) -> list[str]:
    return [a.id for a in call.args if isinstance(a, ast.Name)] if call is not None else []


# ---- the counterexample's path ---------------------------------------------------------------------


class _Path:
    """The replayed path up to the finding: which step destroyed or released an object, and
    which variables held it."""

    def __init__(self, cx: Counterexample):
        self.backend = cx.replay.backend
        self.end = cx.finding.step
        self.trace = self.backend.trace[: self.end + 1]

    def span(self, index: int) -> ast.Span:
        return self.backend.sites.by_id[self.trace[index].site].span

    def kind(self, o: int) -> str:
        return self.backend.registry.info[o].kind

    def death(self, o: int) -> int | None:
        for index, step in enumerate(self.trace):
            if step.writes.get(("st", o)) == DESTROYED:
                return index
        return None

    def holds(self, name: str, o: int, before: int) -> bool:
        """Whether the last value written to a variable `name` before step `before` is `o`."""
        for index in range(min(before, len(self.trace)) - 1, -1, -1):
            for cell, value in reversed(list(self.trace[index].writes.items())):
                if cell[0] == "var" and cell[2] == name:
                    return type(value) is int and value == o
        return False

    def writer(self, name: str, o: int, before: int) -> ast.Span | None:
        """The span of the step whose result gave variable `name` the value `o` last."""
        for index in range(min(before, len(self.trace)) - 1, -1, -1):
            for cell, value in reversed(list(self.trace[index].writes.items())):
                if cell[0] == "var" and cell[2] == name:
                    return self.span(index) if type(value) is int and value == o else None
        return None

    def cells_holding(self, o: int, before: int) -> list[tuple]:
        """Variable cells whose last non-NULL value before step `before` is `o`."""
        last: dict[tuple, Any] = {}
        for step in self.trace[:before]:
            for cell, value in step.writes.items():
                if cell[0] == "var" and value:
                    last[cell] = value
        return [cell for cell, value in last.items() if type(value) is int and value == o]

    def releases(self, tree: _Tree, o: int, before: int) -> list[tuple[int, ast.Call, str]]:
        """Steps before `before` where the script freed `o` through a variable: (step, call, variable)."""
        found = []
        for index in range(min(before, len(self.trace))):
            call = tree.call_at(self.span(index))
            if call is None or call.func not in FREES.values() or not any(obj == o for obj, _ in self.trace[index].notes):
                continue
            names = _name_args(call)
            if names and self.holds(names[0], o, index):
                found.append((index, call, names[0]))
        return found


# ---- candidates ------------------------------------------------------------------------------------


@dataclass
class _Case:
    tree: _Tree
    path: _Path
    cx: Counterexample

    @property
    def obj(self) -> int | None:
        return self.cx.finding.objs[0] if self.cx.finding.objs else None

    @property
    def variant(self) -> Variant | None:
        return self.cx.finding.variant

    def place(self) -> _Place | None:
        return self.tree.statement_at(self.cx.span)

    def call(self) -> ast.Call | None:
        return self.tree.call_at(self.cx.span)


def _candidates(tree: _Tree, cx: Counterexample) -> list[Candidate]:
    """Up to MAX_CANDIDATES edits for one finding, the preferred first."""
    if cx.rule.fix is None:
        return []  # the rule's help stays in words (`model/rules.py`)
    make = MAKERS[cx.rule.fix]
    case = _Case(tree, _Path(cx), cx)
    found: list[Candidate] = []
    for candidate in make(case):
        if candidate is None or any(candidate.edits == c.edits for c in found) or not _disjoint(candidate.edits):
            continue
        found.append(candidate)
        if len(found) == MAX_CANDIDATES:
            break
    return found


def _free_statement(case: _Case, call: ast.Call | None) -> _Place | None:
    """The statement that is exactly a free call `X_free(v);`."""
    if call is None or call.func not in (*FREES.values(), *BUFFER_FREES):
        return None
    place = case.tree.statement_at(call.span)
    if place is None or not isinstance(place.stmt, ast.ExprStmt) or place.stmt.expr is not call:
        return None
    return place


def _take_reference(case: _Case, name: str, before: int) -> ast.Call | None:
    """The `SSL_get_session` call whose borrowed result `name` holds at step `before`."""
    o = case.obj
    span = case.path.writer(name, o, before) if o is not None else None
    call = case.tree.call_at(span) if span is not None else None
    if call is None or call.func not in BORROWING_GETTERS or case.tree.assigned_name(call) != name:
        return None
    return call


def _get1(call: ast.Call) -> Edit:
    return Edit(call.func_span.start, call.func_span.end, OWNING_GETTER)


def _root_cause(case: _Case) -> Iterator[Candidate | None]:
    """Edits at the script's free that destroyed the finding's object, when there is one:
    take a reference instead of borrowing, free after the later use, or do not free."""
    o = case.obj
    death = case.path.death(o) if o is not None else None
    if death is None:
        return
    call = case.tree.call_at(case.path.span(death))
    place = _free_statement(case, call)
    names = _name_args(call)
    if place is None or not names or not case.path.holds(names[0], o, death):
        return
    name = names[0]
    getter = _take_reference(case, name, death)
    if getter is not None:
        yield Candidate("take a reference with `SSL_get1_session` and keep the free", (_get1(getter),))
    if death < case.path.end:
        yield _move_after_use(case, place, name)
    yield Candidate(f"do not free `{name}` here: {_not_owned(case, place, name)}", (case.tree.delete(place),))


def _not_owned(case: _Case, place: _Place, name: str) -> str:
    func = place.func
    if func is not None and any(p.name == name for p in func.params):
        return "the callback is only lent it"
    return "the reference is not the script's to release"


def _move_after_use(case: _Case, free: _Place, freed: str) -> Candidate | None:
    """Move a free to after the later use of the object (the finding's statement)."""
    use = case.tree.statement_at(case.path.span(case.path.end))
    if use is None or free.siblings is None or use.func is not free.func:
        return None
    anchor = case.tree.in_list(use, free.siblings)
    if anchor is None or anchor.stmt.span.start <= free.stmt.span.start:
        return None
    used = set(_name_args(case.tree.call_at(case.path.span(case.path.end)))) | {freed}
    after = case.tree.last_use(anchor, used)
    edits = (case.tree.delete(free), case.tree.insert_after_use(after, case.tree.text(free.stmt)))
    return Candidate(f"free `{freed}` after its last use", edits)


def _borrowed_free(case: _Case) -> Iterator[Candidate | None]:
    call = case.call()
    place = _free_statement(case, call)
    names = _name_args(call)
    o = case.obj
    if place is None or call is None or o is None:
        return
    if call.func not in BUFFER_FREES and not (names and case.path.holds(names[0], o, case.path.end)):
        return  # this free released something else (an `SSL` whose slot held the object)
    if names:
        getter = _take_reference(case, names[0], case.path.end)
        if getter is not None:
            yield Candidate("take a reference with `SSL_get1_session` and keep the free", (_get1(getter),))
    if call.func in BUFFER_FREES:
        yield Candidate("do not free a `get0` result: the session owns it", (case.tree.delete(place),))
    elif names:
        yield Candidate(f"do not free `{names[0]}` here: {_not_owned(case, place, names[0])}", (case.tree.delete(place),))


def _dangling(case: _Case) -> Iterator[Candidate | None]:
    yield from _borrowed_free(case)
    yield from _root_cause(case)


def _double_free(case: _Case) -> Iterator[Candidate | None]:
    call = case.call()
    place = _free_statement(case, call)
    names = _name_args(call)
    o = case.obj
    if place is not None and names and o is not None and case.variant is DOUBLE_FREE_BY_SCRIPT:
        getter = _take_reference(case, names[0], case.path.end)
        if getter is not None:
            yield Candidate("take a reference with `SSL_get1_session` and keep the free", (_get1(getter),))
        earlier = [r for r in case.path.releases(case.tree, o, case.path.end) if r[2] == names[0]]
        if earlier:
            first = _free_statement(case, earlier[-1][1])
            if first is not None:
                yield Candidate(
                    f"clear the pointer after the free (`{names[0]} = NULL;`)",
                    (case.tree.insert_after(first, f"{names[0]} = NULL;"),),
                )
        yield Candidate("delete the second free", (case.tree.delete(place),))
    yield from _root_cause(case)


def _use_after_free(case: _Case) -> Iterator[Candidate | None]:
    call, use, o = case.call(), case.place(), case.obj
    if use is not None and o is not None:
        for name in _name_args(call):
            if not case.path.holds(name, o, case.path.end):
                continue
            getter = _take_reference(case, name, case.path.end)
            if getter is not None:
                yield from _own_reference(case, getter, use, name)
            earlier = [r for r in case.path.releases(case.tree, o, case.path.end) if r[2] == name]
            first = _free_statement(case, earlier[-1][1]) if earlier else None
            if first is not None:
                yield _move_after_use(case, first, name)
                yield Candidate(
                    f"clear the pointer after the free (`{name} = NULL;`)",
                    (case.tree.insert_after(first, f"{name} = NULL;"),),
                )
    yield from _root_cause(case)


def _own_reference(case: _Case, getter: ast.Call, use: _Place, name: str) -> Iterator[Candidate | None]:
    """A borrowed pointer used after its holder let go: take a reference where it is
    borrowed (instead of a late `SSL_SESSION_up_ref`), and free it after its last use at
    the level where it was taken."""
    stmt = use.stmt
    if isinstance(stmt, ast.ExprStmt) and isinstance(stmt.expr, ast.Call) and stmt.expr.func == "SSL_SESSION_up_ref":
        yield Candidate(
            "take the reference with `SSL_get1_session` where the session is borrowed, not later",
            (_get1(getter), case.tree.delete(use)),
        )
    taken = case.tree.statement_at(getter.span)
    anchor = case.tree.in_list(use, taken.siblings) if taken is not None and taken.siblings is not None else None
    after = case.tree.last_use(anchor or use, {name})
    free = f"{FREES[SESSION]}({name});"
    yield Candidate(
        "take a reference with `SSL_get1_session` and free it after its last use",
        (_get1(getter), case.tree.insert_after_use(after, free)),
    )


def _leak(case: _Case) -> Iterator[Candidate | None]:
    o, place, variant = case.obj, case.place(), case.variant
    if o is None:
        return
    free = FREES[case.path.kind(o)]
    if variant is LEAK_OVERWRITTEN and place is not None and isinstance(place.stmt, ast.Assign):
        target = place.stmt.target
        if isinstance(target, ast.Name):
            yield Candidate(
                f"free the old value of `{target.id}` before overwriting it",
                (case.tree.insert_before(place, f"{free}({target.id});"),),
            )
    elif variant is LEAK_UNUSED_RESULT and place is not None and isinstance(place.stmt, ast.ExprStmt):
        call = place.stmt.expr  # the statement is the call whose result is dropped
        if isinstance(call, ast.Call):
            yield Candidate(
                f"free the unused result with `{free}`",
                (Edit(call.span.start, call.span.start, f"{free}("), Edit(call.span.end, call.span.end, ")")),
            )
    elif variant is LEAK_OUT_OF_SCOPE:
        yield from _free_before_scope_ends(case, o, free)
    elif variant is LEAK_AT_END:
        yield from _free_at_end(case, o, free)


def _free_before_scope_ends(case: _Case, o: int, free: str) -> Iterator[Candidate | None]:
    """Free a local before the `}` or `return` (`break`, `continue`) that ends its scope."""
    span, place = case.cx.span, case.place()
    closing = [(b, f) for b, _, f in case.tree.blocks if b.span.end == span.end and span.end - span.start == 1]
    if closing:
        block, func = closing[0]
        declared = _declarations(block.stmts)
        if func is not None and block is func.body:
            declared |= _declarations(func.params)
    elif place is not None and isinstance(place.stmt, (ast.Return, ast.Break, ast.Continue)):
        block, func = None, place.func
        declared = _declarations(func) if func is not None else _declarations(case.tree.top) - _declarations(
            [s for s in case.tree.top if isinstance(s, ast.VarDecl)]
        )
    else:
        return
    last: dict[tuple, Any] = {}
    for step in case.path.trace[: case.path.end]:
        for cell, value in step.writes.items():
            if cell[0] == "var" and value and (cell[2], cell[3]) in declared:
                last[cell] = value
    names = [cell[2] for cell, value in last.items() if type(value) is int and value == o]
    for name in dict.fromkeys(names):
        text = f"{free}({name});"
        if block is not None:
            edit = case.tree.insert_at_end(block, text)
            if edit is not None:
                yield Candidate(f"free `{name}` before it goes out of scope", (edit,))
        elif place is not None:
            yield Candidate(f"free `{name}` before it goes out of scope", (case.tree.insert_before(place, text),))


def _declarations(node: Any) -> set[tuple[str, int]]:
    """(name, offset) of the variables and parameters declared in `node`, as cells name them."""
    return {(n.name, n.span.start) for n in _nodes(node) if isinstance(n, (ast.VarDecl, ast.Param))}


def _free_at_end(case: _Case, o: int, free: str) -> Iterator[Candidate | None]:
    top = _declarations([s for s in case.tree.top if isinstance(s, ast.VarDecl)])
    names = [cell[2] for cell in case.path.cells_holding(o, case.path.end) if (cell[2], cell[3]) in top]
    for name in dict.fromkeys(names):
        text = f"{free}({name});"
        edit = case.tree.insert_at_end(None, text)
        if edit is not None:
            yield Candidate(f"free `{name}` at the end of the script", (edit,))
        # Before the context (or connection) is freed, after the last statement that uses it.
        last = max((i for i, s in enumerate(case.tree.top) if _mentions(s, {name})), default=-1)
        for stmt in case.tree.top[last + 1 :]:
            if isinstance(stmt, ast.ExprStmt) and isinstance(stmt.expr, ast.Call) and stmt.expr.func in ("SSL_CTX_free", "SSL_free"):
                at = case.tree.place_of(stmt)
                if at is not None:
                    yield Candidate(f"free `{name}` before `{stmt.expr.func}`", (case.tree.insert_before(at, text),))
                break


def _callback(case: _Case) -> Iterator[Candidate | None]:
    place, variant = case.place(), case.variant
    if place is None:
        return
    func = place.func or case.tree.function_at(case.cx.span.start)
    stmt = place.stmt
    if variant is CALLBACK_NEW_KEPT_NOWHERE and isinstance(stmt, ast.Return) and _is_int(stmt.value, 1):
        yield Candidate("return 0: the callback keeps no reference", (_replace(stmt.value, "0"),))
    elif variant in (CALLBACK_NEW_FREED_LENT, CALLBACK_REMOVE_FREED_LENT):
        call = case.call()
        names = _name_args(call)
        free = _free_statement(case, call)
        if free is not None:
            yield Candidate(f"do not free `{names[0] if names else 'it'}` here: the callback is only lent it", (case.tree.delete(free),))
        if variant is CALLBACK_NEW_FREED_LENT and func is not None:
            zeros = [n for n in _nodes(func.body) if isinstance(n, ast.Return) and _is_int(n.value, 0)]
            if zeros:
                yield Candidate(
                    "return 1: the callback then owns the reference it frees",
                    tuple(_replace(n.value, "1") for n in zeros),
                )
    elif variant in (CALLBACK_COPY0_UNOWNED, CALLBACK_COPY0_ONLY_REFERENCE):
        if isinstance(stmt, ast.Assign) and isinstance(stmt.target, ast.Deref) and _is_int(stmt.value, 0):
            yield Candidate("leave `*copy = 1`: the library then takes its own reference", (_replace(stmt.value, "1"),))
        if func is not None:
            returns = [p for p in case.tree.places if p.func is func and isinstance(p.stmt, ast.Return)]
            named = [p for p in returns if isinstance(p.stmt.value, ast.Name)]
            if named and len(named) == len(returns):
                yield Candidate(
                    "up-ref the session before handing it over",
                    tuple(case.tree.insert_before(p, f"SSL_SESSION_up_ref({p.stmt.value.id});") for p in named),
                )
    elif variant is CALLBACK_COPY_LEFT_1 and isinstance(stmt, ast.Return) and func is not None and len(func.params) == 4:
        copy = func.params[3].name
        yield Candidate(f"hand the callback's reference over with `*{copy} = 0`", (case.tree.insert_before(place, f"*{copy} = 0;"),))


def _is_int(expr: Any, value: int) -> bool:
    return isinstance(expr, ast.IntLit) and expr.value == value


def _replace(node: Any, text: str) -> Edit:
    return Edit(node.span.start, node.span.end, text)


def _null_dereference(case: _Case) -> Iterator[Candidate | None]:
    # The argument that is NULL on the path: the first variable of the call that holds NULL.
    nulls = [n for n in _name_args(case.call()) if case.path.holds(n, NULL, case.path.end)]
    place = case.place()
    if not nulls or place is None or place.siblings is None:
        return
    name = nulls[0]
    stmt = place.stmt
    if isinstance(stmt, ast.ExprStmt):
        yield Candidate(f"make the call only when `{name}` is not NULL", (Edit(stmt.span.start, stmt.span.start, f"if ({name} != NULL) "),))
    elif isinstance(stmt, ast.If) and not (isinstance(stmt.cond, ast.Binary) and stmt.cond.op == "||"):
        cond = stmt.cond
        if cond.span.start <= case.cx.span.start and case.cx.span.end <= cond.span.end:
            yield Candidate(
                f"test `{name}` for NULL first", (Edit(cond.span.start, cond.span.start, f"{name} != NULL && "),)
            )


# The fix makers, by the name a rule's `fix` gives (`model/rules.py`); `tests/test_rules.py`
# holds the two equal.
MAKERS: dict[str, Callable[[_Case], Iterator[Candidate | None]]] = {
    "stop-borrowed-free": _borrowed_free,
    "fix-root-release": _dangling,
    "clear-or-drop-second-free": _double_free,
    "keep-reference-for-use": _use_after_free,
    "release-lost-reference": _leak,
    "keep-callback-contract": _callback,
    "guard-null": _null_dereference,
}
