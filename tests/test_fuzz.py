"""The fuzz test (issue 15): seeded mutants of the specs (lines deleted, duplicated or
swapped, tokens and other specs' lines inserted, numbers changed, `if` made `while`...),
each checked with a random choice of options in a forked child, must never give a
traceback, an internal error, an exit code outside 0-3 or a run over its time budget.

The mutants and the runner are `bench/fuzz.py`'s (its longer run: `python bench/fuzz.py
-n 10000`). A failure names the mutant: `python bench/fuzz.py --replay SEED:INDEX` shows it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261203
FAST = 10  # mutants in the fast subset
SLOW = 300  # mutants under -m slow


def _fuzz():
    spec = importlib.util.spec_from_file_location("sessref_bench_fuzz", ROOT / "bench" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _fuzz()
# In the suite the machine may be busy: a hang is still many times the budget, so a wider
# margin than the benchmark's catches every hang without failing on a slow machine.
BUDGET_S = 3.0
fuzz.GRACE_S = 7.0


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    specs = fuzz.spec_sources(ROOT / "specs")
    assert len(specs) > 100, "the seed corpus is the specs: none found"
    fuzz.warm_up()
    return specs


def _run(corpus, indices, tmp_path: Path) -> None:
    failures = []
    for index in indices:
        m = fuzz.mutant(SEED, index, corpus)
        outcome, problem = fuzz.check_mutant(m, tmp_path, BUDGET_S)
        if problem:
            tail = "\n    ".join(outcome.output.strip().splitlines()[-4:])
            failures.append(f"{fuzz.describe(m)}: {problem}\n    {tail}")
    assert not failures, f"{len(failures)} failing mutant(s):\n" + "\n".join(failures)


def test_mutants_are_seeded_and_differ(corpus) -> None:
    a = [fuzz.mutant(SEED, i, corpus) for i in range(20)]
    assert a == [fuzz.mutant(SEED, i, corpus) for i in range(20)]
    assert len({m.text for m in a}) == 20
    assert all(m.text != dict(corpus)[m.origin] or not m.edits for m in a)


def test_the_runner_sees_what_it_must_catch(tmp_path: Path, monkeypatch) -> None:
    assert fuzz.Outcome(4, 0.1, "internal error: KeyError").problem(BUDGET_S)
    assert fuzz.Outcome(1, 0.1, "Traceback (most recent call last):").problem(BUDGET_S)
    assert fuzz.Outcome(None, 30.0, "").problem(BUDGET_S).startswith("hang")
    assert fuzz.Outcome(0, BUDGET_S + fuzz.GRACE_S + 1, "").problem(BUDGET_S)
    assert fuzz.Outcome(5, 0.1, "").problem(BUDGET_S)
    assert fuzz.Outcome(2, 0.1, "error: ...").problem(BUDGET_S) is None
    # a script's own words echoed under an error are not sessref's
    assert fuzz.Outcome(2, 0.1, "error: x\n 1 | // this was an internal error\n   | ^\n").problem(BUDGET_S) is None
    assert fuzz.Outcome(2, 0.1, "x.sess: internal error: boom\n").problem(BUDGET_S)
    script = tmp_path / "crash.sess"
    script.write_text("SSL_SESSION *s = SSL_SESSION_new();\n")
    from sessref import cli

    def boom(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cli, "check_file", boom)  # the child inherits it: the run must fail
    outcome = fuzz.run_check(str(script), (), BUDGET_S)
    assert outcome.code == 4 and outcome.problem(BUDGET_S)


def test_fuzz_fast(corpus, tmp_path: Path) -> None:
    _run(corpus, range(FAST), tmp_path)


@pytest.mark.slow
def test_fuzz_slow(corpus, tmp_path: Path) -> None:
    _run(corpus, range(FAST, FAST + SLOW), tmp_path)


REGRESSIONS = sorted((ROOT / "tests" / "data" / "fuzz").glob("*.*"))


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.name)
def test_fuzz_regressions(path: Path, capsys) -> None:
    """Each input the fuzzer once crashed on (that is no spec: C files, bad scripts) gives
    the exit code its `fuzz-expect: exit N` line says, and no internal error."""
    from sessref import cli

    text = path.read_text()
    expected = int(text.split("fuzz-expect: exit ", 1)[1].split()[0])
    options = text.split("fuzz-options:", 1)[1].split("\n", 1)[0].split() if "fuzz-options:" in text else []
    code = cli.main(["check", str(path), *options])
    out, err = capsys.readouterr()
    assert "internal error" not in out + err and "Traceback" not in out + err
    assert code == expected, out + err


def test_there_are_fuzz_regressions() -> None:
    assert REGRESSIONS
