"""Loops proved for every iteration count (`checker/closure.py`) and inert constant loops
(`execute._inert`): the verdicts, the reasons a loop stays bounded, and that nothing else
changes. The generated-script checks against deeper enumeration are in test_equivalence.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sessref.cli import check_file
from sessref.language.errors import ResolveError
from sessref.language.parser import parse
from sessref.report_text import summary_line
from sessref.solving import Options, check

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "bench" / "targets"


def _verdict(source: str, unroll: int = 4):
    return check(parse(source, "t.sess"), Options(unroll=unroll))


def _summary(path: Path, unroll: int = 4) -> str:
    return summary_line(check_file(path, Options(unroll=unroll), fixes=False))


def test_a_loop_whose_state_repeats_is_proved_for_all_iterations() -> None:
    v = _verdict("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\n"
                 "while (*) { SSL_CTX_up_ref(ctx); SSL_CTX_free(ctx); }\nSSL_CTX_free(ctx);\n")
    assert (v.verdict, v.bounded, v.closed_after) == ("safe", False, 1)


def test_issue_14_loops_are_proved_for_all_iterations() -> None:
    assert _summary(TARGETS / "nested_while_6.sess").endswith(
        "safe (all iterations: the loops' states repeat after at most 1)")
    assert _summary(TARGETS / "reconnect_loop.sess").endswith("(all iterations: the loop's states repeat after 3)")
    assert _summary(TARGETS / "accept_loop_external_store.sess").endswith(
        "safe (all iterations: the loop's states repeat after 3)")


def test_unroll_still_bounds_counterexamples_and_open_loops() -> None:
    """A loop that has not closed by the bound stays bounded, with its reason."""
    v = _verdict("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\nint n = 0;\n"
                 "while (*) { n = n + 1; }\nSSL_CTX_free(ctx);\n")
    assert v.bounded and not v.closed_after
    assert v.bounded_why == ("the loop at line 3: its states still change after 4 iterations (('var', 'n', 40))",) or \
        v.bounded_why[0].startswith("the loop at line 3: its states still change after 4 iterations")


def test_objects_that_pile_up_keep_a_loop_bounded() -> None:
    """Sessions that pile up in a cache (a leak already reported does not: nothing reaches it)."""
    v = _verdict("SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());\nconst unsigned char *id;\n"
                 "while (*) { SSL_SESSION *s = SSL_SESSION_new(); SSL_SESSION_set1_id(s, id, 32);"
                 " SSL_CTX_add_session(ctx, s); SSL_SESSION_free(s); }\nSSL_CTX_free(ctx);\n")
    assert v.bounded
    assert "objects pile up" in v.bounded_why[0], v.bounded_why
    # Leaked connections are dropped, but each keeps two references to its context.
    v = _verdict("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\n"
                 "while (*) { SSL *ssl = SSL_new(ctx); SSL_up_ref(ssl); SSL_free(ssl); }\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unsafe" and v.bounded
    assert "SSL_CTX #1's `rc`" in v.bounded_why[0]


def test_a_counter_towards_the_automatic_flush_keeps_a_server_loop_bounded() -> None:
    """Every 255th handshake flushes the internal cache: with the internal store on, the
    count of completed handshakes is part of the state, and it grows."""
    v = _verdict("SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());\n"
                 "SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);\n"
                 "SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);\n"
                 "while (*) { SSL *ssl = SSL_new(ctx); if (SSL_accept(ssl) == 1) SSL_shutdown(ssl); SSL_free(ssl); }\n"
                 "SSL_CTX_free(ctx);\n", unroll=2)
    assert v.bounded and not v.closed_after


def test_closed_loops_do_not_hide_findings_of_later_iterations() -> None:
    """The leak of the second iteration's session (the first is still referenced by `keep`)."""
    v = _verdict("SSL_SESSION *keep = NULL;\nSSL_SESSION *s = NULL;\n"
                 "while (*) { s = SSL_SESSION_new(); if (keep == NULL) { keep = s; s = NULL; } SSL_SESSION_free(s); }\n"
                 "SSL_SESSION_free(keep);\n")
    assert v.verdict == "safe" and v.closed_after == 3 and not v.bounded  # head 3 is head 2: `s` dangles
    v = _verdict("SSL_SESSION *keep = NULL;\nSSL_SESSION *s = NULL;\n"
                 "while (*) { s = SSL_SESSION_new(); if (keep == NULL) { keep = s; } }\n"
                 "SSL_SESSION_free(keep);\n")
    assert v.verdict == "unsafe" and {cx.rule.name for cx in v.counterexamples} == {"leak"} and not v.bounded


def test_nested_constant_loops_with_empty_bodies_run_fast() -> None:
    assert _summary(TARGETS / "for_9999_squared.sess").endswith("safe")


def test_an_inert_body_that_writes_outside_still_runs() -> None:
    source = ("SSL_SESSION *s = SSL_SESSION_new();\nint n = 0;\n"
              "for (int i = 0; i < 3; i++) { n = n + 1; }\n"
              "if (n == 3) SSL_SESSION_free(s);\n")
    assert _verdict(source).verdict == "safe"
    assert _verdict(source.replace("n == 3", "n == 2")).verdict == "unsafe"


def test_an_inner_constant_loop_still_reports_running_too_long() -> None:
    with pytest.raises(ResolveError, match="runs more than 10000 times"):
        _verdict("for (int i = 0; i < 2; i++) { for (int j = 0; j < 20000; j++) { } }\n")
