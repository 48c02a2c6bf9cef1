"""The solver boundary: unknown is never safe; counterexamples are replayed."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3
from sessref import solving
from sessref.language.parser import parse_file

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"


def test_solver_unknown_gives_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    verdict = solving.check(parse_file(str(EXAMPLES / "set_time_unknown.sess")))
    assert verdict.verdict == solving.UNKNOWN
    assert verdict.reason


def test_solver_unknown_on_a_safe_script_is_not_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    verdict = solving.check(parse_file(str(EXAMPLES / "saved_session_loop.sess")))
    assert verdict.verdict != solving.SAFE or not verdict.stats["candidates"]


def test_replay_disagreement_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from sessref.language.errors import InternalError

    real = solving.replay

    def broken(program, answers, options):  # a replay that loses every finding
        run = real(program, answers, options)
        run.backend.findings.clear()
        return run

    monkeypatch.setattr(solving, "replay", broken)
    with pytest.raises(InternalError):
        solving.check(parse_file(str(EXAMPLES / "borrowed_free.sess")))


def test_counterexamples_are_reproduced_by_the_interpreter() -> None:
    verdict = solving.check(parse_file(str(EXAMPLES / "get1_double_free_branch.sess")))
    (cx,) = verdict.counterexamples
    assert cx.rule.name == "double-free"
    assert any(label.startswith("*@10:") and value for label, value in cx.replay.backend.oracle.asked)
