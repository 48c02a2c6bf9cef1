"""Counterexamples are shortest paths: the fewest loop iterations, then the fewest steps
before the finding, as the solver proves (`solving._shortest`); reports show only the steps
that touch the finding's objects unless the full trace is asked for."""

from __future__ import annotations

import pytest
from sessref.cli import main
from sessref.findings import build_report
from sessref.language.parser import parse
from sessref.language.resolve import resolve
from sessref.model.api import EFFECTS
from sessref.paths import shortest_paths
from sessref.solving import Options, check

PRELUDE = """SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL *ssl = SSL_new(ctx);
SSL_SESSION *s = SSL_SESSION_new();
SSL_set_session(ssl, s);
SSL_SESSION_free(s);
"""
EPILOGUE = "SSL_free(ssl);\nSSL_CTX_free(ctx);\n"

# Each loop can reach these findings in its first iteration, and in every later one (the
# borrowed free's second iteration is also a use after free, which needs two).
LOOPS = {
    "borrowed free in a branch": (
        "while (*) { if (*) { SSL_SESSION *t = SSL_get_session(ssl); SSL_SESSION_free(t); } }",
        {"borrowed-free", "dangling-reference"},
    ),
    "borrowed free after unrelated work": (
        """while (*) {
    SSL_SESSION *d = SSL_SESSION_dup(s);
    SSL_SESSION_free(d);
    if (*) { SSL_SESSION_free(SSL_get_session(ssl)); }
}""",
        {"borrowed-free", "dangling-reference"},
    ),
    "leak in a later branch": (
        "while (*) { SSL_SESSION *c = SSL_get1_session(ssl); if (*) { continue; } SSL_SESSION_free(c); }",
        {"leak"},
    ),
    "nested loops": ("while (*) { while (*) { if (*) { SSL_SESSION *k = SSL_SESSION_new(); } } }", {"leak"}),
}


def _verdict(source: str, unroll: int = 4):
    program = parse(source, "minimal.sess")
    resolve(program, frozenset(EFFECTS))
    return program, check(program, Options(unroll=unroll))


# Enumerating the nested loops' paths unrolled 4 or 6 times takes most of a minute.
CASES = [
    pytest.param(unroll, name, id=f"{unroll}-{name}", marks=[pytest.mark.slow] if name == "nested loops" and unroll > 2 else [])
    for unroll in (1, 2, 4, 6)
    for name in sorted(LOOPS)
]


@pytest.mark.parametrize(("unroll", "name"), CASES)
def test_a_finding_reachable_after_one_iteration_is_reported_after_one(name: str, unroll: int) -> None:
    loop, rules = LOOPS[name]
    program, verdict = _verdict(PRELUDE + loop + "\n" + EPILOGUE, unroll)
    assert rules <= {cx.rule.name for cx in verdict.counterexamples}, verdict.verdict
    shortest, complete = shortest_paths(program, Options(unroll=unroll), limit=20_000)
    assert complete or unroll > 2  # nested loops unrolled 4 times have too many paths to enumerate
    for cx in verdict.counterexamples:
        iterations, steps = cx.replay.backend.path_length(cx.finding)
        assert cx.minimal
        if cx.rule.name in rules:
            # One iteration of each loop the finding sits in: never four.
            assert iterations == loop.count("while"), (cx.rule.name, iterations)
        # And whatever the finding, no path the interpreter enumerates is shorter.
        if complete:
            assert (iterations, steps) == shortest[(cx.rule.name, cx.span.start, cx.span.end)]


def test_a_finding_after_the_loop_takes_no_iteration() -> None:
    source = PRELUDE + "while (*) { SSL_SESSION_up_ref(s); SSL_SESSION_free(s); }\nSSL_SESSION_free(s);\n" + EPILOGUE
    _, verdict = _verdict(source)
    [cx] = [c for c in verdict.counterexamples if c.rule.name == "dangling-reference"]
    assert cx.replay.backend.path_length(cx.finding)[0] == 0


def test_branches_that_do_not_lead_to_the_finding_are_skipped() -> None:
    source = PRELUDE + "if (*) { SSL_SESSION *a = SSL_SESSION_dup(s); SSL_SESSION_free(a); }\n" \
        "if (*) { SSL_SESSION *b = SSL_SESSION_new(); SSL_SESSION_free(b); }\n" \
        "SSL_SESSION_free(SSL_get_session(ssl));\n" + EPILOGUE
    _, verdict = _verdict(source)
    for cx in verdict.counterexamples:
        assert not any(value for label, value in cx.answers.items() if label.startswith("*@")), cx.answers


def test_a_finding_needing_three_iterations_gets_exactly_three() -> None:
    # With the script's reference back (`up_ref`), the first free in the loop is the script's
    # own; the second frees the slot's reference (borrowed, and `s` is destroyed); the third
    # releases it again.
    source = PRELUDE + "SSL_SESSION_up_ref(s);\nwhile (*) { SSL_SESSION_free(SSL_get_session(ssl)); }\n" + EPILOGUE
    _, verdict = _verdict(source)
    iterations = {
        (cx.rule.name, cx.span.line): cx.replay.backend.path_length(cx.finding)[0] for cx in verdict.counterexamples
    }
    assert iterations[("borrowed-free", 7)] == 2
    assert iterations[("double-free", 7)] == 3


UNRELATED = PRELUDE + """SSL *other = SSL_new(ctx);
SSL_SESSION *x = SSL_SESSION_new();
SSL_set_session(other, x);
SSL_SESSION_free(x);
SSL_free(other);
SSL_SESSION_free(SSL_get_session(ssl));
""" + EPILOGUE


def test_the_report_shows_only_the_steps_that_touch_the_finding_objects() -> None:
    program, verdict = _verdict(UNRELATED)
    short = build_report(program, verdict, 4)
    full = build_report(program, verdict, 4, full_trace=True)
    for brief, whole in zip(short.findings, full.findings):
        assert whole.hidden_steps == 0
        assert brief.hidden_steps == len(whole.steps) - len(brief.steps) > 0
        assert brief.steps[-1].number == whole.steps[-1].number  # the finding's own step stays
        shown_lines = {step.span.line for step in brief.steps}
        assert not shown_lines & {7, 8, 9, 10}  # `other` and `x` never touch `s`
        assert {o.name for step in brief.steps for o in step.objects} <= {"s", "ssl"}
        # Step numbers are those of the full trace, so the two can be read side by side.
        numbers = {step.number: step.call for step in whole.steps}
        assert all(numbers[step.number] == step.call for step in brief.steps)


def test_full_trace_on_the_command_line(tmp_path, capsys) -> None:
    script = tmp_path / "unrelated.sess"
    script.write_text(UNRELATED)
    assert main(["check", str(script)]) == 1
    brief = capsys.readouterr().out
    assert main(["check", "--full-trace", str(script)]) == 1
    whole = capsys.readouterr().out
    assert "`--full-trace` shows them" in brief and "`--full-trace` shows them" not in whole
    assert "SSL_set_session(other, x)" in whole and "SSL_set_session(other, x)" not in brief
