"""What a report says about a counterexample's path: only the choices the finding depends
on (a minimal set that forces it), the loop iteration of each label, one step table per
distinct path, the naming explained once, and what `sessref repro` tells to expect when the
program stops at a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from sessref.cli import main
from sessref.findings import build_report
from sessref.language.parser import parse
from sessref.language.resolve import resolve
from sessref.model.api import EFFECTS
from sessref.paths import enumerate_paths
from sessref.report_text import render
from sessref.solving import Options, check

from support import ROOT, checked

# Line 2's branch is on the shortest path (not taken) but does not matter; line 3's does.
IRRELEVANT = """SSL_SESSION *s = SSL_SESSION_new();
if (*) { SSL_SESSION *t = SSL_SESSION_new(); SSL_SESSION_free(t); }
if (*) { SSL_SESSION_free(s); }
SSL_SESSION_free(s);
"""


def _checked(source: str, full_trace: bool = False, unroll: int = 4):
    program = parse(source, "path.sess")
    resolve(program, frozenset(EFFECTS))
    verdict = check(program, Options(unroll=unroll))
    return program, verdict, build_report(program, verdict, unroll, full_trace)


def test_the_path_line_lists_only_the_choices_the_finding_depends_on() -> None:
    _, verdict, report = _checked(IRRELEVANT)
    [double] = [f for f in report.findings if f.rule.name == "double-free"]
    assert [c.text for c in double.choices] == ["line 2: `if (*)` not taken", "line 3: `if (*)` taken"]
    assert [c.text for c in double.shown_choices] == ["line 3: `if (*)` taken"]
    text = render(report)
    assert "= path: line 3: `if (*)` taken (the finding depends only on this choice; 1 other on the path: " \
        "`--full-trace` shows the whole path)" in text
    _, _, full = _checked(IRRELEVANT, full_trace=True)
    assert "= path: line 2: `if (*)` not taken; line 3: `if (*)` taken\n" in render(full)


def test_the_choices_shown_force_the_finding_and_none_can_be_dropped() -> None:
    """Over every path: each one that makes the shown choices has the finding; for each shown
    choice, some path that makes the others but not it avoids the finding."""
    source = IRRELEVANT.replace("SSL_SESSION_free(s);\n", "if (*) { SSL_SESSION_up_ref(s); }\nSSL_SESSION_free(s);\n", 2)
    program, verdict, _ = _checked(source)
    assert {cx.rule.name for cx in verdict.counterexamples} >= {"double-free", "leak"}
    paths = list(enumerate_paths(program, Options()))
    for cx in verdict.counterexamples:
        assert cx.depends_on is not None
        key = (cx.rule.name, cx.span.start, cx.span.end)
        core = {label: cx.answers[label] for label in cx.depends_on}
        agreeing = [p for p in paths if all(p.answers.get(label, False) == v for label, v in core.items())]
        assert agreeing and all(key in p.findings for p in agreeing)
        for label in core:
            rest = {k: v for k, v in core.items() if k != label}
            assert any(key not in p.findings for p in paths if all(p.answers.get(k, False) == v for k, v in rest.items()))


def test_a_finding_on_every_path_says_so() -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nif (*) { SSL_SESSION_up_ref(s); SSL_SESSION_free(s); }\n"
    _, _, report = _checked(source + "SSL_SESSION_free(s);\nSSL_SESSION_free(s);\n")
    [f] = report.findings
    assert not f.shown_choices and f.choices
    assert "= path: the finding happens whichever way this path's 1 choice goes" in render(report)


def test_labels_in_a_loop_say_their_iteration() -> None:
    report = checked("specs/examples/saved_session_loop_leak.sess").report  # the loop is lines 7-12
    labels = [label for f in report.findings for label in f.labels]
    in_loop = [label for label in labels if 8 <= label.span.line <= 11]
    assert in_loop and all(label.text.endswith("(iteration 1)") for label in in_loop)
    assert not any("(iteration " in label.text for label in labels if label.span.line in (6, 13))


def test_findings_on_one_path_share_one_step_table() -> None:
    report = checked("specs/examples/borrowed_free.sess").report
    assert len(report.findings) == 3
    text = render(report)
    assert text.count("counterexample, step by step") == 1
    assert "for 3 findings on one path (step 8: the borrowed-free at line 10 and the dangling-reference at line 10; " \
        "step 9: the double-free at line 11)" in text
    assert text.count("whose step table below shows this finding at step 8") == 2


def test_full_trace_prints_every_table(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    main(["check", "--no-fixes", "--full-trace", "specs/examples/borrowed_free.sess"])
    assert capsys.readouterr().out.count("counterexample, step by step") == 3


def test_names_are_explained_once_when_used() -> None:
    text = render(checked("specs/handshakes/get_cb_copy0_kept.sess").report)
    assert text.count("note: names in this report:") == 1
    assert "`ssl#2` is the second object the variable `ssl` held" in text
    plain = render(checked("specs/examples/set_session_free_order.sess").report)
    assert "names in this report" not in plain
    owned = render(checked("specs/examples/saved_session_loop_leak.sess").report)
    assert "`script x2(saved)`: the script owns 2 references" in owned


def test_repro_says_what_the_stop_leaves_unfreed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The reproducer of the borrowed free stops at the double free that follows: the
    context, freed later by the script, is reported lost by valgrind; the expect line says so."""
    monkeypatch.chdir(ROOT)
    assert main(["repro", "specs/examples/borrowed_free.sess", "--finding", "1", "-o", str(tmp_path / "b.c")]) == 0
    expect = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  expect:"))
    assert "The program stops at line 11" in expect
    assert '`ctx` (allocated at line 4), not freed yet, shows as "definitely lost"' in expect
    assert "not a second bug" in expect
