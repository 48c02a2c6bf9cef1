"""The command line: exit codes, bad input (always a located error and exit 2, never a
traceback), several files at once, JSON output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sessref.cli import main

import support

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`sessref ARGS` in this process (`support.run_sessref`); inputs that could take the
    process down (deep nesting, huge files, binary garbage) use `run_process`."""
    return support.run_sessref(*args, cwd=cwd)


def run_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sessref", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_safe_exit_0() -> None:
    r = run("check", "specs/examples/borrowed_get1_fixed.sess")
    assert r.returncode == 0
    assert r.stdout.strip().endswith("safe")


def test_findings_exit_1() -> None:
    r = run("check", "specs/examples/borrowed_free.sess")
    assert r.returncode == 1
    assert "error[double-free]" in r.stdout
    assert "--> specs/examples/borrowed_free.sess:11:1" in r.stdout


def test_bounded_loops_are_said(tmp_path: Path) -> None:
    """A loop whose states keep changing (a counter) is bounded, and says why; one whose
    states repeat is proved for all iterations."""
    script = tmp_path / "count.sess"
    script.write_text("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\nint n = 0;\n"
                      "while (*) { n = n + 1; }\nSSL_CTX_free(ctx);\n")
    r = run("check", str(script), "--unroll", "2")
    assert r.returncode == 0
    assert ("bounded: loops explored up to 2 iterations; the loop at line 3: its states still change "
            "after 2 iterations (`n`)") in r.stdout
    r = run("check", "specs/examples/saved_session_loop.sess", "--unroll", "2")
    assert r.returncode == 0
    assert r.stdout.strip().endswith("safe (all iterations: the loop's states repeat after 1)")


def test_directory_summary_and_totals() -> None:
    r = run("check", "specs/examples")
    assert r.returncode == 1
    files = list(EXAMPLES.glob("*.sess"))
    assert f"{len(files)} file(s):" in r.stdout
    for f in files:
        assert f"specs/examples/{f.name}: " in r.stdout


def test_json_report() -> None:
    r = run("check", "--format", "json", "specs/examples/borrowed_free.sess", "specs/examples/ctx_lives_on.sess")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == "sessref-report/1"
    verdicts = {f["file"]: f["verdict"] for f in doc["files"]}
    assert verdicts == {"specs/examples/borrowed_free.sess": "unsafe", "specs/examples/ctx_lives_on.sess": "safe"}
    finding = doc["files"][0]["findings"][-1]
    assert finding["name"] == "double-free" and finding["span"]["line"] == 11
    assert finding["path"]["steps"][-1]["objects"]


def test_explain() -> None:
    r = run("explain", "double-free")
    assert r.returncode == 0 and "SR002" in r.stdout
    assert run("explain").stdout.count("SR0") >= 6
    assert run("explain", "no-such-rule").returncode == 2


BAD = {
    "syntax.sess": ("SSL_SESSION *s = SSL_SESSION_new()\nSSL_SESSION_free(s);\n", 1),
    "unknown_call.sess": ("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESION_free(s);\n", 2),
    "arity.sess": ("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s, s);\n", 2),
    "wrong_type.sess": ("SSL *ssl = SSL_SESSION_new();\n", 1),
    "empty.sess": ("", 1),
    "comments_only.sess": ("// nothing here\n/* at all */\n", 1),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input(tmp_path: Path, name: str) -> None:
    text, line = BAD[name]
    (tmp_path / name).write_text(text)
    r = run("check", name, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"--> {name}:{line}:" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.slow
def test_binary_garbage(tmp_path: Path) -> None:
    (tmp_path / "garbage.sess").write_bytes(bytes(range(256)) * 8)
    r = run_process("check", "garbage.sess", cwd=tmp_path)
    assert r.returncode == 2
    assert re.search(r"--> garbage\.sess:\d+:\d+", r.stdout)
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.slow
def test_one_megabyte_file(tmp_path: Path) -> None:
    lines = ["SSL_SESSION *s = SSL_SESSION_new();"]
    lines += ["SSL_SESSION_up_ref(s); SSL_SESSION_free(s);"] * (1_000_000 // 44)
    lines.append("SSL_SESSION_free(s)")  # missing `;` at the very end
    (tmp_path / "big.sess").write_text("\n".join(lines) + "\n")
    r = run_process("check", "big.sess", cwd=tmp_path)
    assert r.returncode == 2
    assert f"--> big.sess:{len(lines)}:" in r.stdout or f"--> big.sess:{len(lines) + 1}:" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.slow
def test_deeply_nested_blocks(tmp_path: Path) -> None:
    (tmp_path / "deep.sess").write_text("{" * 100_000 + "}" * 100_000)
    r = run_process("check", "deep.sess", cwd=tmp_path)
    assert r.returncode == 2
    assert "--> deep.sess:1:" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_missing_file_is_usage_error() -> None:
    r = run("check", "no/such/file.sess")
    assert r.returncode == 2 and "no such file" in r.stderr


def test_module_and_script_agree() -> None:
    r = subprocess.run(["sessref", "check", "specs/examples/dup_leak.sess"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "error[leak]" in r.stdout


def test_allocation_failures_only_with_the_flag(tmp_path: Path) -> None:
    (tmp_path / "alloc.sess").write_text(
        "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_up_ref(s);\nSSL_SESSION_free(s);\nSSL_SESSION_free(s);\n"
    )
    assert run("check", "alloc.sess", cwd=tmp_path).returncode == 0
    r = run("check", "--allocation-failures", "alloc.sess", cwd=tmp_path)
    assert r.returncode == 1
    assert "error[null-dereference]" in r.stdout and "--> alloc.sess:2:1" in r.stdout


def test_unknown_verdict_is_never_safe(tmp_path: Path) -> None:
    # A one-millisecond solver budget on a script whose findings need the solver.
    source = (EXAMPLES / "set_time_unknown.sess").read_text()
    (tmp_path / "t.sess").write_text(source)
    r = run("check", "--timeout", "0.001", "t.sess", cwd=tmp_path)
    assert r.returncode in (1, 3)
    if r.returncode == 3:
        assert "unknown" in r.stdout and "safe" not in r.stdout.replace("unsafe", "")


def test_json_report_follows_its_schema(tmp_path: Path) -> None:
    import jsonschema
    schema = json.loads((ROOT / "checker" / "report.schema.json").read_text())
    (tmp_path / "bad.sess").write_text("SSL_SESION_free(NULL);\n")
    r = run("check", "--format", "json", str(EXAMPLES), str(tmp_path / "bad.sess"))
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, schema)
    assert doc["totals"]["error"] == 1 and doc["totals"]["unsafe"] > 10


def test_vacuous_safety_is_said(tmp_path: Path) -> None:
    (tmp_path / "v.sess").write_text("SSL_SESSION *s = SSL_SESSION_new();\nassume(s == NULL);\n")
    r = run("check", "v.sess", cwd=tmp_path)
    assert r.returncode == 0
    assert "vacuous" in r.stdout and "no path reaches the end" in r.stdout


def test_expect_holds_findings_against_the_annotations(tmp_path, capsys) -> None:
    annotated = tmp_path / "annotated.sess"
    annotated.write_text("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\nSSL_SESSION_free(s);  //~ double-free\n")
    wrong = tmp_path / "wrong.sess"
    wrong.write_text(annotated.read_text().replace("double-free", "leak"))
    unannotated = tmp_path / "plain.sess"
    unannotated.write_text(annotated.read_text().replace("  //~ double-free", ""))
    assert main(["check", "--expect", str(annotated)]) == 0
    assert "(as annotated)" in capsys.readouterr().out
    assert main(["check", "--expect", str(wrong)]) == 1
    assert "missing leak at line 3; unexpected double-free at line 3" in capsys.readouterr().out
    assert main(["check", "--expect", str(unannotated)]) == 1
    assert main(["check", str(annotated)]) == 1  # without --expect, findings are findings


STALE = "specs/handshakes/stale_after_eviction.sess"  # one stale-session warning, nothing else


def test_warnings_alone_exit_0_and_say_so() -> None:
    r = run("check", "--no-fixes", STALE)
    assert r.returncode == 0, r.stdout
    assert "warning[stale-session]" in r.stdout
    assert r.stdout.rstrip().endswith(f"{STALE}: safe, 1 warning (stale-session)")


@pytest.mark.parametrize("deny", ["warnings", "stale-session", "SR009", "borrowed-free,stale-session"])
def test_deny_makes_warnings_errors(deny: str) -> None:
    r = run("check", "--no-fixes", "--deny", deny, STALE)
    assert r.returncode == 1, r.stdout
    assert "error[stale-session]" in r.stdout and "made an error by `--deny`" in r.stdout
    assert "unsafe: 1 finding(s): 1 stale-session" in r.stdout


@pytest.mark.parametrize("deny", ["leak", "nonsense"])
def test_deny_of_what_is_not_a_warning_is_a_usage_error(deny: str) -> None:
    r = run("check", "--no-fixes", "--deny", deny, STALE)
    assert r.returncode == 2
    assert f"--deny {deny}" in r.stderr


def test_warnings_in_json_sarif_and_github() -> None:
    doc = json.loads(run("check", "--format", "json", "--no-fixes", STALE).stdout)
    file = doc["files"][0]
    assert (file["verdict"], file["warnings"], doc["totals"]["safe"]) == ("safe", 1, 1)
    assert [(f["severity"], f["level"]) for f in file["findings"]] == [("warning", "warning")]
    denied = json.loads(run("check", "--format", "json", "--deny", "warnings", STALE).stdout)
    assert denied["files"][0]["verdict"] == "unsafe" and denied["files"][0]["findings"][0]["level"] == "error"
    sarif = run("check", "--format", "sarif", STALE)
    assert sarif.returncode == 0
    assert [r["level"] for r in json.loads(sarif.stdout)["runs"][0]["results"]] == ["warning"]
    github = run("check", "--format", "github", STALE)
    assert github.returncode == 0 and github.stdout.startswith("::warning ")
    assert run("check", "--format", "github", "--deny", "warnings", STALE).stdout.startswith("::error ")


def test_a_safe_verdict_prints_no_empty_line_first() -> None:
    r = run("check", "specs/examples/borrowed_get1_fixed.sess")
    assert r.stdout == "specs/examples/borrowed_get1_fixed.sess: safe\n"


def test_includes_of_headers_are_accepted(tmp_path: Path) -> None:
    script = tmp_path / "inc.sess"
    script.write_text(
        "#include <openssl/ssl.h>\n  #  include <stdio.h>  // printf\n/*\n#define IN_A_COMMENT 1\n*/\n"
        "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\nSSL_SESSION_free(s);\n"
    )
    r = run("check", "--no-fixes", str(script))
    assert r.returncode == 1 and f"--> {script}:8:1" in r.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("#define N 3", "preprocessor directive `#define` is not supported"),
        ("#ifdef X", "preprocessor directive `#ifdef` is not supported"),
        ('#include "helpers.c"', "cannot include `helpers.c`: no such file"),
    ],
)
def test_other_directives_are_located_errors(tmp_path: Path, line: str, message: str) -> None:
    script = tmp_path / "pp.sess"
    script.write_text(f"SSL_SESSION *s = SSL_SESSION_new();\n{line}\nSSL_SESSION_free(s);\n")
    r = run("check", str(script))
    assert r.returncode == 2
    assert message in r.stdout and f"--> {script}:2:1" in r.stdout and "help:" in r.stdout
