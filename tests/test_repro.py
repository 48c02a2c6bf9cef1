"""`sessref repro`: the C program follows the counterexample's path (no toolchain needed here;
tests/test_conformance.py compiles and runs the programs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sessref import repro
from sessref.cli import main
from sessref.language.parser import parse
from sessref.language.resolve import resolve
from sessref.model.api import EFFECTS
from sessref.paths import parse_path_choices, replay_path
from sessref.solving import Options

import support

SPECS = support.SPECS


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(support.ROOT)  # the commands below name specs as a user at the root does


@pytest.mark.parametrize("path", support.spec_params())
def test_every_counterexample_has_a_reproducer(path: Path) -> None:
    result = support.checked(support.relative(path))  # checked once for every test over the specs
    program, verdict = result.program, result.verdict
    for cx in verdict.counterexamples:
        r = repro.build(program, cx.replay, cx.rule.name)
        assert "int main(void)" in r.source
        # The program ends where the model's path ends.
        if cx.replay.backend.crashed:
            assert any(e.label.startswith("stop@") for e in r.events)
        # Every script line that ran is attributed in the program.
        ran = {cx.replay.backend.sites.by_id[s.site].span.line for s in cx.replay.backend.trace if s.site}
        attributed = set(r.line_map.values())
        assert {line for line in ran if line > 1} - attributed <= {len(program.source.splitlines()) + 1}


def test_choices_are_listed_in_path_order() -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nwhile (*) {\n    SSL_SESSION_up_ref(s);\n}\nSSL_SESSION_free(s);\n"
    program = parse(source, "loop.sess")
    resolve(program, frozenset(EFFECTS))
    run = replay_path(program, parse_path_choices(["2=true", "2=true"]), Options())
    r = repro.build(program, run, "two iterations")
    stars = [e.value for e in r.events if e.label.startswith("*@2:")]
    assert stars == [1, 1, 0]
    assert "on this path: true, true, false" in r.source
    # The script's own calls appear as written, wrapped only to check their results.
    assert re.search(r'sr_int\(SSL_SESSION_up_ref\(s\), "3:5"\)', r.source)
    c_lines = r.source.splitlines()
    up_ref = next(n for n, text in enumerate(c_lines, 1) if "sr_int(SSL_SESSION_up_ref(s)" in text)
    assert r.line_map[up_ref] == 3


def test_results_the_model_leaves_open_are_assumed_not_checked() -> None:
    source = 'SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_set_cipher(s, NULL);\nint n = i2d_SSL_SESSION(s, NULL);\nSSL_SESSION_free(s);\n'
    program = parse(source, "i2d.sess")
    resolve(program, frozenset(EFFECTS))
    r = repro.build(program, replay_path(program, [], Options()), "i2d")
    # No cipher: the model knows i2d fails (0), so the result is checked.
    assert any(e.label.startswith("result@3:") and e.value == 0 for e in r.events)


def test_parse_path_choices_rejects_nonsense() -> None:
    assert parse_path_choices(["7=then", "len=5", "start=0x10"]) == [("7", True), ("len", 5), ("start", 16)]
    for bad in ("7", "7=maybe", "len=five", "=3"):
        with pytest.raises(ValueError):
            parse_path_choices([bad])


def test_cli_writes_the_program_and_says_how_to_run_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "bf.c"
    assert main(["repro", "specs/examples/borrowed_free.sess", "--finding", "double-free", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "counterexample 3 of 3: double-free (SR002) at line 11" in text
    assert f"cc -g -O0 -o {out.with_suffix('')} {out} -lssl -lcrypto" in text
    assert "valgrind --leak-check=full" in text and "Invalid free()" in text
    assert '#line 4 "specs/examples/borrowed_free.sess"' in out.read_text()
    assert 'sr_stop_after("11:1")' in out.read_text()


def test_cli_finding_by_number_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x.c"
    assert main(["repro", "specs/examples/borrowed_free.sess", "--finding", "2", "-o", str(out)]) == 0
    assert "counterexample 2 of 3" in capsys.readouterr().out
    assert main(["repro", "specs/examples/borrowed_free.sess", "--finding", "9", "-o", str(out)]) == 2
    assert main(["repro", "specs/examples/borrowed_free.sess", "--finding", "leak", "-o", str(out)]) == 2
    assert main(["repro", "specs/examples/borrowed_free.sess", "--path", "4=perhaps", "-o", str(out)]) == 2
    assert main(["repro", "no/such.sess"]) == 2
    assert "error" in capsys.readouterr().err


def test_cli_safe_script_follows_the_chosen_path(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "loop.c"
    assert main(["repro", "specs/examples/saved_session_loop.sess", "--path", "7=true,7=true", "-o", str(out)]) == 0
    assert "no memory error and nothing definitely lost" in capsys.readouterr().out
    assert "on this path: true, true, false" in out.read_text()


def test_cli_bad_script_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.sess"
    bad.write_text("SSL_SESSION *s = SSL_SESSION_new(;\n")
    assert main(["repro", str(bad)]) == 2
    assert "bad.sess:1:" in capsys.readouterr().out
