"""The model against the real library: every spec and 150 generated scripts, run under
valgrind (see `sessref.conform` for what agreement means), plus the judge on its own.

The runs need gcc, libssl-dev and valgrind. Without them these tests skip, saying what to
install; in CI (`CI=true`) a missing toolchain is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sessref import conform, generate, memcheck, repro
from sessref.model import handshake
from sessref.model.api import EFFECTS, Effect
from sessref.paths import replay_path
from sessref.solving import Options

import support

GENERATED = 150
SPECS = support.SPECS


@pytest.fixture(scope="module")
def toolchain() -> None:
    problem = memcheck.toolchain_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the conformance suite must run in CI: {problem}")
        pytest.skip(problem)


def _table_if_not_agreed(results: list[conform.ScriptResult]) -> str:
    lines = [conform.agreement_table(results)]
    for r in results:
        for c in r.checks:
            if not c.agreed:
                lines.append(f"{r.name}: {c.path} [{c.row}]: {c.reason}")
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.toolchain
def test_specs_agree_with_the_library(toolchain: None) -> None:
    scripts = [(support.relative(p), p.read_text()) for p in SPECS]
    # Every counterexample; 3 sampled paths per safe script, to keep CI short (the README's figure: 8).
    # Each spec's verdict is the one the golden tests read (checked once per session).
    results = conform.conform(scripts, max_paths=3, checked=support.checked_source)
    assert all(r.verdict in ("safe", "unsafe") for r in results)
    assert all(r.agreed for r in results), _table_if_not_agreed(results)
    assert sum(len(r.checks) for r in results) >= len(results)


@pytest.mark.slow
@pytest.mark.toolchain
def test_generated_scripts_agree_with_the_library(toolchain: None) -> None:
    """150 generated scripts, about 40% with handshakes and callbacks. Each counterexample
    runs; a safe script runs 3 sampled paths here to keep CI short (the README's figure runs
    8 per script: `sessref conform --generated 200 --seed 0 --max-paths 8`)."""
    scripts = generate.generate_scripts(0, GENERATED)
    results = conform.conform(scripts, seed=0, max_paths=3)
    assert len(results) == GENERATED
    verdicts = {r.verdict for r in results}
    assert verdicts == {"safe", "unsafe"}, verdicts
    assert all(r.agreed for r in results), _table_if_not_agreed(results)


@pytest.mark.slow
@pytest.mark.toolchain
def test_a_wrong_model_is_caught(toolchain: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: a model whose `SSL_SESSION_up_ref` takes no reference predicts a
    double free the real library does not do; the suite must disagree."""
    monkeypatch.setitem(EFFECTS, "SSL_SESSION_up_ref", Effect("SSL_SESSION_up_ref", lambda w, args: 1, "wrong on purpose"))
    source = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_up_ref(s);\nSSL_SESSION_free(s);\nSSL_SESSION_free(s);\n"
    [result] = conform.conform([("wrong_up_ref.sess", source)])
    assert result.verdict == "unsafe"
    assert not result.agreed
    assert any("valgrind finds no memory error" in c.reason for c in result.checks)


TLS13_BORROWED = """SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
SSL *ssl = SSL_new(ctx);
if (SSL_connect(ssl) == 1) {
    SSL_SESSION *s = SSL_get_session(ssl);
    SSL_read(ssl, NULL, 0);
    long t = SSL_SESSION_get_time(s);
}
SSL_shutdown(ssl);
SSL_free(ssl);
SSL_CTX_free(ctx);
"""


@pytest.mark.slow
@pytest.mark.toolchain
def test_tls13_tickets_replace_the_session_in_the_real_library(toolchain: None) -> None:
    """A real TLS 1.3 handshake: the tickets the peer sends destroy the session a borrowed
    pointer still points at, as the model says."""
    [result] = conform.conform([("tls13_borrowed.sess", TLS13_BORROWED)], max_paths=64)
    assert result.verdict == "unsafe"
    assert result.agreed, _table_if_not_agreed([result])
    assert [c.row for c in result.checks] == ["use-after-free"]


@pytest.mark.slow
@pytest.mark.toolchain
def test_a_wrong_handshake_model_is_caught(toolchain: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: a model in which a TLS 1.3 ticket updates the session in place
    (as the manual's wording suggests) misses the use after free the real library has."""

    def in_place(w, ssl, k):
        if k >= 1 or not w.choose(f"{handshake.TICKET_ARRIVES} ({k + 1})"):
            handshake._read_data(w, ssl, 0)
            return
        s = w.get(("slot", ssl))
        w.set(("tick", s), True)
        handshake._read_data(w, ssl, 0)

    monkeypatch.setattr(handshake, "_client_ticket", in_place)
    [result] = conform.conform([("tls13_in_place.sess", TLS13_BORROWED)], max_paths=64)
    assert result.verdict == "safe"
    assert not result.agreed
    assert any("Invalid read" in c.reason or "valgrind" in c.reason for c in result.checks if not c.agreed)


def test_disagreements_are_saved_as_specs(tmp_path: Path) -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\n"
    result = conform.ScriptResult("gen_0007", source, "safe")
    program = _program(source)
    reproducer = repro.build(program, replay_path(program, [], Options()), "t")
    result.checks.append(conform.PathCheck("gen_0007", "safe", "path 1 of 1", False, "valgrind: Invalid read", reproducer))
    saved = conform.save_disagreement(result, tmp_path)
    text = saved.read_text()
    assert saved.name == "gen_0007.sess"
    assert "path 1 of 1 [safe]: valgrind: Invalid read" in text and text.endswith(source)


# ---- the judge, on made-up valgrind results (no toolchain needed) --------------------------------


def _program(source: str):
    return conform.load("judged.sess", source)


def _backend(source: str):
    return replay_path(_program(source), [], Options()).backend


DOUBLE_FREE = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\nSSL_SESSION_free(s);\n"
LEAK = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION *t = SSL_SESSION_new();\nSSL_SESSION_free(t);\n"
CLEAN = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\n"


def _error(kind: str, line: int, freed: bool = True, near_null: bool = False) -> memcheck.MemoryError:
    return memcheck.MemoryError(kind, kind, line, freed, near_null)


def _result(errors=(), leaks=(), **kw) -> memcheck.RunResult:
    return memcheck.RunResult(0, list(errors), list(leaks), stopped=True, **kw)


def test_judge_double_free_needs_an_invalid_free_at_the_line() -> None:
    b = _backend(DOUBLE_FREE)
    assert conform.judge(b, _result([_error("InvalidRead", 3), _error("InvalidFree", 3)]))[0]
    assert not conform.judge(b, _result([_error("InvalidRead", 3)]))[0]
    assert not conform.judge(b, _result([_error("InvalidFree", 2)]))[0]
    assert not conform.judge(b, _result([]))[0]


def test_judge_leaks_compare_allocation_lines() -> None:
    b = _backend(LEAK)
    definite = memcheck.Leak("Leak_DefinitelyLost", 1, True, 1)
    assert conform.judge(b, _result(leaks=[definite]))[0]
    assert not conform.judge(b, _result())[0]  # the model's leak is not real
    extra = memcheck.Leak("Leak_DefinitelyLost", 2, True, 1)
    assert not conform.judge(b, _result(leaks=[definite, extra]))[0]  # a real leak the model misses
    buffer = memcheck.Leak("Leak_DefinitelyLost", 2, False, 1)  # not libssl's: the script's own buffer
    assert conform.judge(b, _result(leaks=[definite, buffer]))[0]


def test_judge_clean_path_and_mismatches() -> None:
    b = _backend(CLEAN)
    assert conform.judge(b, _result())[0]
    assert not conform.judge(b, _result([_error("InvalidRead", 2)]))[0]
    assert not conform.judge(b, _result(mismatches=["sessref mismatch 2: the call returned 0"]))[0]
    assert not conform.judge(b, _result(timed_out=True))[0]


@pytest.mark.slow
@pytest.mark.toolchain
def test_the_in_memory_peer_completes_a_real_handshake(toolchain: None, tmp_path: Path) -> None:
    """The reproducers' peer (a key and certificate made at run time, a BIO pair) shakes
    hands with a client under valgrind, with no error and nothing lost."""
    harness = "\n".join(
        [
            "#include <openssl/ssl.h>",
            "#include <openssl/evp.h>",
            "#include <openssl/x509.h>",
            "#include <stdio.h>",
            "#include <stdlib.h>",
            "#include <string.h>",
            "#include <time.h>",
            "#include <signal.h>",
            "#include <unistd.h>",
            "struct sr_event { const char *label; long long value; const char *comment; };",
            "static const struct sr_event sr_path[] = {{NULL, 0, NULL}};",
            "static const size_t sr_path_length = 0;",
            "static const char *const sr_literals[] = {NULL};",
            "static const size_t sr_literal_count = 0;",
            "#define SR_AUDIT_SCALE 1048576LL",
            "static void sr_forget_globals(void) {}",
            repro.runtime_source(),
            "int main(void)",
            "{",
            "    sr_start();",
            "    SSL_CTX *server_ctx = sr_peer_context(1), *client_ctx = sr_peer_context(0);",
            "    SSL *server = SSL_new(server_ctx), *client = SSL_new(client_ctx);",
            "    sr_pair(client, server);",
            "    int ok = sr_handshake(client, server);",
            '    printf("handshake %d resumable %d\\n", ok, SSL_SESSION_is_resumable(SSL_get_session(client)));',
            "    SSL_free(client); SSL_free(server); SSL_CTX_free(client_ctx); SSL_CTX_free(server_ctx);",
            "    sr_peer_free();",
            "    return ok ? 0 : 1;",
            "}",
        ]
    )
    binary = memcheck.compile_reproducer(harness, tmp_path)
    program = repro.Reproducer(harness, "harness.sess", {}, [], None)  # type: ignore[arg-type]
    result = memcheck.run_under_valgrind(binary, program)
    assert result.exit_code == 0, result.stderr
    assert not result.errors, result.errors
    assert not [leak for leak in result.leaks if leak.kind == "Leak_DefinitelyLost"], result.leaks


@pytest.mark.slow
@pytest.mark.toolchain
def test_allocation_failures_agree_with_the_library(toolchain: None) -> None:
    """Paths where `SSL_SESSION_new`, `SSL_new` or `SSL_CTX_new` return NULL: the program
    makes the allocation fail (through `CRYPTO_set_mem_functions`)."""
    names = ("ssl_leak", "up_ref_balanced", "get1_empty_slot_null", "dup_leak", "ctx_lives_on")
    scripts = [(f"specs/examples/{n}.sess", (support.ROOT / "specs" / "examples" / f"{n}.sess").read_text()) for n in names]
    results = conform.conform(scripts, Options(allocation_failures=True))
    assert all(r.agreed for r in results), _table_if_not_agreed(results)
    failing = [e for r in results for c in r.checks for e in c.reproducer.events if e.label.startswith("allocation fails@")]
    assert any(e.value for e in failing), "no path with a failing allocation was run"
