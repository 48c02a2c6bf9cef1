"""What several test files share: where the repository is, the specs found there, and
each spec checked once per test session.

Paths resolve from this file, never from the working directory, and the list of specs is
never empty (an empty list would make every test over it pass on nothing). Every spec is
checked once, with the default options and verified fixes as `sessref check` does, and
the result (program, verdict, report) serves the golden tests, the fix tests, the
reproducer tests and the conformance suite alike.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sessref import budget
from sessref.cli import check_path, main
from sessref.findings import FileReport, build_report
from sessref.language.ast import Program
from sessref.solving import Options, Verdict

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"


def find_specs(folder: str = "") -> list[Path]:
    """Every `.sess` file under `specs/` (or its `folder`), sorted; never empty."""
    found = sorted((SPECS_DIR / folder).rglob("*.sess"))
    assert found, f"no `.sess` file under {SPECS_DIR / folder}: the tests over the specs would check nothing"
    return found


SPECS = find_specs()

# The specs whose check (with its fix search) takes seconds on a busy machine: their
# parameters of the tests over every spec are `slow`, so the fast loop leaves them to CI.
SLOW_SPECS = frozenset({
    "specs/tutorial/07_cache_add.sess",
    "specs/tutorial/solutions/07_cache_add.sess",
    "specs/tutorial/04_reconnect_loop.sess",
    "specs/regressions/get_cb_tls13_binder.sess",
    "specs/regressions/tls13_resumed_server_one_ticket.sess",
    "specs/regressions/accept_loop_external_store.sess",
})


def relative(path: Path) -> str:
    """`specs/examples/x.sess`: how reports name a spec (as a user at the root types it)."""
    return path.resolve().relative_to(ROOT).as_posix()


def spec_params(paths: list[Path] | None = None) -> list:
    """`paths` (default: every spec) as parameters named `specs/...`, the slow ones marked."""
    return [
        pytest.param(path, id=relative(path), marks=[pytest.mark.slow] if relative(path) in SLOW_SPECS else [])
        for path in (SPECS if paths is None else paths)
    ]


def run_sessref(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`sessref ARGS` run in this process, as `python -m sessref` runs it (`main`), with its
    exit code and what it wrote: a call instead of a new interpreter (about 2 s each).
    Inputs that could take the process down (deep nesting, huge files) need a real process."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["sessref", *args], code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Checked:
    program: Program
    verdict: Verdict
    report: FileReport  # with verified fixes, as `sessref check` prints it


@cache
def checked(name: str) -> Checked:
    """A spec (`specs/...`, relative to the root) checked once per session with the
    default options. Reports name it relative to the root, whatever the working directory."""
    options = Options()
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        with budget.limit(options.timeout_ms / 1000):  # as `check_file` does: the fix search included
            program, verdict = check_path(Path(name), options)
            report = build_report(program, verdict, options.unroll, False, options)
    finally:
        os.chdir(here)
    return Checked(program, verdict, report)


def checked_source(name: str, source: str) -> tuple[Program, Verdict] | None:
    """For `conform.conform(checked=...)`: a spec's program and verdict when `source` is
    the spec as on disk, else None (the conformance run checks it itself)."""
    path = ROOT / name
    if path.suffix != ".sess" or not path.is_file() or path.read_text() != source:
        return None
    result = checked(relative(path))
    return result.program, result.verdict
