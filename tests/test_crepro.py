"""`sessref repro` on C input: the reproducer drives the file's own function through the entry
context it was checked in (`centry.py`), against the installed OpenSSL, and the run agrees
with the model's path under valgrind (`conform.judge`), as for scripts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sessref import conform, memcheck, repro
from sessref.cli import CInput, _load, main
from sessref.solving import Options, check

CORPUS = Path(__file__).parent / "cfiles"
# 14 reads a session with PEM_read_bio_SSL_SESSION: no reproducer renders it (a refusal)
BUGS = [p for p in sorted(CORPUS.glob("*_bug.c")) if not p.name.startswith("14_")]


@pytest.fixture(scope="module")
def toolchain() -> None:
    problem = memcheck.toolchain_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the C reproducers must run in CI: {problem}")
        pytest.skip(problem)


def _checks(path: Path, **kw) -> list[conform.PathCheck]:
    program = _load(path, CInput(**kw))
    verdict = check(program, Options())
    result = conform.plan(str(path), program.source, Options(), checked=(program, verdict))
    return result.checks


@pytest.mark.slow
@pytest.mark.toolchain
@pytest.mark.parametrize("path", BUGS, ids=[p.stem for p in BUGS])
def test_corpus_counterexamples_reproduce_against_the_library(path: Path, toolchain: None) -> None:
    checks = _checks(path)
    assert checks, "a buggy file has a counterexample"
    conform.run_checks(checks, jobs=1)
    assert all(c.agreed for c in checks), [(c.path, c.reason) for c in checks if not c.agreed]


def test_repro_writes_a_c_program_of_the_c_function(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = CORPUS / "09_free_without_null_bug.c"
    assert main(["repro", str(source), "-o", "r.c"]) == 0
    out = capsys.readouterr().out
    assert "double-free" in out and "cc -g -O0 -o r r.c -lssl -lcrypto" in out
    text = (tmp_path / "r.c").read_text()
    # the file's function, its storage cell as a variable, the entry context, #line to the C file
    assert "static void srv_reuse_failed(void *srv)" in text
    assert "sr_v_srv_tls_reused_sess" in text
    assert f"#line 19 \"{source}\"" in text  # the function body, at the C file's lines


def test_repro_refuses_what_it_cannot_render_at_its_line(tmp_path: Path, capsys) -> None:
    assert main(["repro", str(CORPUS / "14_psk_file_never_freed_bug.c"), "-o", str(tmp_path / "r.c")]) == 2
    out = capsys.readouterr().out
    assert "no reproducer renders `PEM_read_bio_SSL_SESSION`" in out and "14_psk_file_never_freed_bug.c:18:" in out


def test_unknown_values_and_helper_out_parameters_are_the_paths(tmp_path: Path) -> None:
    # a helper writes a `void *` that the model equates with the session it holds: the
    # reproducer maps the path's object number back to the real object
    path = tmp_path / "t.c"
    path.write_text(
        "int keep(SSL *ssl) {\n"
        "    void *old = NULL;\n"
        "    SSL_SESSION *s = SSL_get1_session(ssl);\n"
        "    int found = !lookup(ssl, &old);\n"
        "    if (found && old == s)\n"
        "        return 1;\n"
        "    SSL_SESSION_free(s);\n"
        "    return 0;\n"
        "}\n"
    )
    program = _load(path)
    verdict = check(program, Options())
    assert [cx.rule.name for cx in verdict.counterexamples] == ["leak"]
    text = repro.build(program, verdict.counterexamples[0].replay, "t").source
    assert "sr_as_pointer(" in text and 'sr_choice("?"' in text


# ---- verified fixes on C input: a patch of the .c file, verified by re-checking it ----


def _fix_diffs(path: Path) -> list[str]:
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sessref", "check", "--format", "json", path.name],
                          cwd=path.parent, capture_output=True, text=True)
    data = json.loads(done.stdout)
    return [f["fix"]["diff"] for f in data["files"][0]["findings"] if f.get("fix")]


def _patched_is_safe(tmp_path: Path, name: str) -> None:
    import shutil
    import subprocess

    work = tmp_path / name.removesuffix(".c")
    work.mkdir()
    target = work / "t.c"
    shutil.copy(CORPUS / name, target)
    diffs = _fix_diffs(target)
    assert diffs, f"{name}: no verified fix"
    assert diffs[0].startswith("--- t.c\n+++ t.c\n")  # the file as named on the command line
    done = subprocess.run(["patch", "-p0"], input=diffs[0], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    program = _load(target)
    assert check(program, Options()).verdict == "safe", name


def test_c_fix_is_a_patch_that_applies_and_verifies(tmp_path: Path) -> None:
    _patched_is_safe(tmp_path, "03_d2i_early_return_bug.c")  # the free before an early return


@pytest.mark.slow
@pytest.mark.parametrize("name", ["02_new_cb_returns_1_bug.c", "04_borrowed_kept_bug.c", "09_free_without_null_bug.c",
                                  "12_peer_discarded_bug.c", "15_get_cb_copy0_bug.c"])
def test_corpus_fixes_are_patches_that_verify(tmp_path: Path, name: str) -> None:
    _patched_is_safe(tmp_path, name)


def test_c_fix_never_edits_the_entry_context(tmp_path: Path) -> None:
    from sessref.fixes import Candidate, Edit, _Outcome, _verify
    from sessref.solving import UNSAFE

    path = tmp_path / "t.c"
    path.write_text("void f(SSL *ssl) { SSL_get1_session(ssl); }\n")
    program = _load(path)
    verdict = check(program, Options())
    cx = verdict.counterexamples[0]
    original = _Outcome(UNSAFE, frozenset(), False)
    beyond = Candidate("an edit of sessref's text", (Edit(program.own_text_end + 5, program.own_text_end + 9, ""),))
    assert _verify(program, Options(), original, cx, beyond) is None
