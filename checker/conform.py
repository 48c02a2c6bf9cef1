"""Conformance: does the real library do what the model says, path by path?

For an unsafe verdict, each counterexample's reproducer runs under valgrind; for a safe
one, every path (or a seeded sample of them). A path agrees when:

- the program stays on the model's path: every result the model predicts (objects,
  NULLs, return values, how many sessions each cache holds) is what the library returns;
- if the model says the path crashes at step L, the first memory error is at L and of
  the rule's class: `double-free` an invalid free (after reads of the freed block),
  `use-after-free` an invalid read or write inside a freed block, `null-dereference`
  an access to the first page. `cache-corruption` is silent in the real library at that
  step (its damage shows later, as reads of freed cache links): agreement is no error up
  to it and the caches holding what the model says just before it;
- otherwise there is no memory error at all, and the object blocks valgrind finds lost
  are the model's leaks: every leaked object was allocated at a line where valgrind
  finds a lost object block, and every definitely lost object block is a model leak.

Non-crash findings (`borrowed-free`, `dangling-reference`) thereby run clean at their own
step: they warn about what a later step does, and that step is checked on its own.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from . import memcheck, repro
from .concrete import ConcreteBackend, Finding
from .language import ast
from .language.parser import parse, require_statements
from .language.resolve import resolve
from .model.api import EFFECTS
from .model.objects import ALIVE
from .model.rules import RULES, Conformance, Rule
from .paths import enumerate_paths
from .solving import UNSAFE, Options, Replay, Verdict, check, replay

MAX_PATHS = 32
ENUMERATION_LIMIT = 4096  # paths enumerated before sampling


@dataclass
class PathCheck:
    script: str
    row: str  # the table row: a rule name, or "safe" for a path of a safe script
    path: str  # which path: "counterexample 2" or "path 5 of 12"
    agreed: bool
    reason: str
    reproducer: repro.Reproducer
    result: memcheck.RunResult | None = None


@dataclass
class ScriptResult:
    name: str
    source: str
    verdict: str
    checks: list[PathCheck] = field(default_factory=list)

    @property
    def agreed(self) -> bool:
        return all(c.agreed for c in self.checks)


# ---- judging one path ------------------------------------------------------------------


def judge(backend: ConcreteBackend, result: memcheck.RunResult) -> tuple[bool, str]:
    """Whether the real run agrees with the model's path, and why not."""
    if result.timed_out and not (backend.crashed and result.errors):
        return False, "the program did not finish within the time limit"
    # After a memory error the library's behaviour is undefined: looping is one outcome.
    if result.mismatches:
        return False, "; ".join(result.mismatches)
    if result.left_path:
        return False, result.left_path
    line_of = lambda site: backend.sites.by_id[site].span.line  # noqa: E731
    first = result.first_error
    if backend.crashed:
        finding = backend.findings[-1]
        line = line_of(finding.site)
        return _crash_agrees(finding.rule, line, result)
    if first is not None:
        return False, f"the model finds no memory error on this path; valgrind: {first.what} at line {first.line}"
    if result.fatal_signal:
        return False, f"the program died of {result.fatal_signal}"
    # The rules whose findings are leaks (`Conformance.LOST`), and those that are leaks when
    # the script never releases the object either (a callback that keeps a reference
    # nowhere: `new_session_cb` returning 1, `*copy` left at 1 on a fresh session).
    leaks = [f for f in backend.findings if _lost_for_good(backend, f)]
    leaked = {line_of(backend.registry.info[o].site) for f in leaks for o in f.objs}
    # A lost block is an object's when libssl allocated it at a line where the path allocates objects.
    allocating = {line_of(info.site) for info in backend.registry.info.values()}
    object_leaks = [leak for leak in result.leaks if leak.from_libssl and leak.line in allocating]
    lost = {leak.line for leak in object_leaks}
    definite = {leak.line for leak in object_leaks if leak.kind == "Leak_DefinitelyLost"}
    if not leaked <= lost:
        return False, f"the model reports leaks of objects allocated at line(s) {_lines(leaked - lost)}; valgrind finds none lost"
    if not definite <= leaked:
        return False, f"valgrind finds object blocks allocated at line(s) {_lines(definite - leaked)} definitely lost; the model reports no leak"
    return True, ""


def _crash_agrees(crash: Rule, line: int, result: memcheck.RunResult) -> tuple[bool, str]:
    """Whether valgrind's run shows the crash the model reports, as its rule's `conformance` says."""
    errors = result.errors
    first = result.first_error
    rule, expected = crash.name, crash.conformance
    if expected is Conformance.SILENT:
        if first is not None and (first.line is None or first.line < line):
            return False, f"valgrind: {first.what} at line {first.line}, before the corruption at line {line}"
        if not result.stopped:
            return False, f"the program never reached the corruption at line {line}"
        return True, ""
    if first is None:
        if expected is Conformance.NEAR_NULL and result.fatal_signal:
            return True, ""
        return False, f"the model reports {rule} at line {line}; valgrind finds no memory error"
    if first.line != line:
        return False, f"the model reports {rule} at line {line}; valgrind's first error is {first.what} at line {first.line}"
    at_line = [e for e in errors if e.line == line]
    if expected is Conformance.INVALID_FREE:
        if any(e.kind in ("InvalidFree", "MismatchedFree") for e in at_line):
            return True, ""
        return False, f"the model reports {rule} at line {line}: an invalid free; valgrind: {first.what}"
    if expected is Conformance.FREED_ACCESS:
        if first.kind in ("InvalidRead", "InvalidWrite") and first.freed_block:
            return True, ""
        return False, f"the model reports {rule} at line {line}: an access to a freed block; valgrind: {first.what}"
    if expected is Conformance.NEAR_NULL:
        if first.near_null or result.fatal_signal:
            return True, ""
        return False, f"the model reports {rule} at line {line}: an access near address 0; valgrind: {first.what}"
    return False, f"no conformance check for a crash of rule {rule} ({expected.value})"


def _lines(lines: Iterable[int | None]) -> str:
    return ", ".join(str(n) for n in sorted(n for n in lines if n is not None)) or "?"


# ---- running scripts ---------------------------------------------------------------------


def load(name: str, source: str) -> ast.Program:
    """Parse and resolve a script against the modelled calls (raises SessrefError)."""
    program = require_statements(parse(source, name))
    resolve(program, frozenset(EFFECTS))
    return program


def plan(
    name: str, source: str, options: Options, max_paths: int = MAX_PATHS, seed: int = 0,
    checked: tuple[ast.Program, Verdict] | None = None,
) -> ScriptResult:
    """The paths to run for one script, each with its reproducer (not yet run). `checked`:
    the script's program and verdict under `options`, when the caller has them already."""
    if checked is None:
        program = load(name, source)
        verdict = check(program, replace(options, depends=False))  # no report shows the path
    else:
        program, verdict = checked
    result = ScriptResult(name, source, verdict.verdict)
    if verdict.verdict == UNSAFE:
        for i, cx in enumerate(verdict.counterexamples, 1):
            title = f"counterexample {i}: {cx.rule.name} at line {cx.span.line}"
            result.checks.append(_path_check(program, name, cx.rule.name, title, cx.replay, options))
    elif verdict.verdict == "safe":
        # Whole paths only: not cut by an `assume` or by the loop bound.
        paths = [
            p for p in enumerate_paths(program, options, limit=ENUMERATION_LIMIT) if not (p.assumption_failed or p.bounded)
        ]
        chosen = list(range(len(paths)))
        if len(chosen) > max_paths:
            chosen = sorted(random.Random(f"{seed}:{name}").sample(chosen, max_paths))
        for i in chosen:
            run = replay(program, paths[i].answers, options)
            title = f"path {i + 1} of {len(paths)}"
            result.checks.append(_path_check(program, name, "safe", title, run, options))
    return result


def _path_check(program: ast.Program, name: str, row: str, title: str, run: Replay, options: Options) -> PathCheck:
    # The title stays out of the program, so that counterexamples on the same path share a run.
    reproducer = repro.build(program, run, "conformance run", options.allocation_failures)
    return PathCheck(name, row, title, False, "not run", reproducer)


def run_checks(checks: list[PathCheck], jobs: int = 2, progress: Callable[[PathCheck], None] | None = None) -> None:
    """Build and run every distinct reproducer once (in parallel: valgrind runs in other
    processes), then judge each path against its run."""
    distinct: dict[str, repro.Reproducer] = {}
    for pc in checks:
        distinct.setdefault(pc.reproducer.source, pc.reproducer)

    def run(reproducer: repro.Reproducer) -> memcheck.RunResult | str:
        try:
            binary = memcheck.compile_reproducer(reproducer.source)
        except memcheck.BuildError as exc:
            return str(exc)
        return memcheck.run_under_valgrind(binary, reproducer)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = dict(zip(distinct, pool.map(run, distinct.values())))
    for pc in checks:
        outcome = runs[pc.reproducer.source]
        if isinstance(outcome, str):
            pc.agreed, pc.reason = False, outcome
        else:
            pc.result = outcome
            pc.agreed, pc.reason = judge(pc.reproducer.backend, outcome)
        if progress is not None:
            progress(pc)


def conform(
    scripts: list[tuple[str, str]],
    options: Options = Options(),
    max_paths: int = MAX_PATHS,
    seed: int = 0,
    jobs: int = 2,
    progress: Callable[[PathCheck], None] | None = None,
    checked: Callable[[str, str], tuple[ast.Program, Verdict] | None] | None = None,
) -> list[ScriptResult]:
    """`checked(name, source)`: a script's program and verdict under `options` if the caller
    has them (the test suite checks each spec once for all its tests), else None."""
    results = [
        plan(name, source, options, max_paths, seed, checked(name, source) if checked else None) for name, source in scripts
    ]
    run_checks([c for r in results for c in r.checks], jobs, progress)
    return results


def _lost_for_good(backend: ConcreteBackend, finding: Finding) -> bool:
    """A finding of a `LOST` rule (a leak), or of a `LOST_IF_UNRELEASED` one (a callback's
    reference) whose objects the script never releases."""
    if finding.rule.conformance is Conformance.LOST:
        return True
    if finding.rule.conformance is not Conformance.LOST_IF_UNRELEASED:
        return False
    cells: dict = {}
    for step in backend.trace:
        cells.update(step.writes)
    return all(cells.get(("st", o)) == ALIVE and cells.get(("lost", o)) for o in finding.objs)


ROW_ORDER = (*(rule.name for rule in RULES), "safe")


def agreement_table(results: list[ScriptResult]) -> str:
    """Per rule (or `safe`): scripts and paths checked, agreed, disagreed."""
    rows: dict[str, list[int]] = {}
    for r in results:
        by_row: dict[str, bool] = {}
        for c in r.checks:
            by_row[c.row] = by_row.get(c.row, True) and c.agreed
            counts = rows.setdefault(c.row, [0, 0, 0, 0, 0])
            counts[2] += 1
            counts[3] += c.agreed
        for row, ok in by_row.items():
            rows[row][0] += 1
            rows[row][1] += ok
    out = [f"{'rule':<20} {'scripts':>8} {'agreed':>8} {'paths':>8} {'agreed':>8} {'disagreed':>10}"]
    total = [0, 0, 0, 0]
    for row in sorted(rows, key=lambda r: ROW_ORDER.index(r) if r in ROW_ORDER else len(ROW_ORDER)):
        s, sa, p, pa, _ = rows[row]
        out.append(f"{row:<20} {s:>8} {sa:>8} {p:>8} {pa:>8} {p - pa:>10}")
        total = [total[0] + s, total[1] + sa, total[2] + p, total[3] + pa]
    out.append(f"{'all':<20} {total[0]:>8} {total[1]:>8} {total[2]:>8} {total[3]:>8} {total[2] - total[3]:>10}")
    scripts = len(results)
    agreed = sum(r.agreed for r in results)
    pct = 100.0 * agreed / scripts if scripts else 100.0
    out.append(f"agreement: {agreed}/{scripts} scripts ({pct:.1f}%)")
    return "\n".join(out)


def save_disagreement(result: ScriptResult, directory: Path) -> Path:
    """Keep a disagreeing script as a regression spec, with what went wrong in its header."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = Path(result.name).stem
    path = directory / f"{stem}.sess"
    header = [f"// Conformance disagreement found by `sessref conform` ({result.verdict} verdict):"]
    for c in result.checks:
        if not c.agreed:
            header.append(f"//   {c.path} [{c.row}]: {c.reason}")
    header.append("// Fix the model, then state the expected verdict with `//~` annotations.")
    path.write_text("\n".join(header) + "\n" + result.source)
    return path
