"""Verified fixes (`sessref.fixes`): a finding shows an edit only when the edited script was
checked and verifies. Each kind of candidate edit has a script where it applies; the diff
the report shows is applied to the source and checked again here, independently; scripts
whose obvious edit does not work get advice in words only; and over every spec in `specs/`,
every fix shown verifies."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sessref import report_json, report_text
from sessref.cli import check_file
from sessref.fixes import FINDING_GONE, SAFE_AFTER
from sessref.language.parser import parse
from sessref.language.resolve import resolve
from sessref.model.api import EFFECTS
from sessref.solving import SAFE, Options, Verdict, check

import support

ROOT = support.ROOT
SPECS = support.SPECS


def apply_diff(source: str, diff: str) -> str:
    """Apply a unified diff to `source` (as `patch` would), checking its context lines."""
    old = source.splitlines(keepends=True)
    lines = diff.splitlines(keepends=True)
    assert lines[0].startswith("--- ") and lines[1].startswith("+++ ")
    new: list[str] = []
    at, i, last = 0, 2, ""
    while i < len(lines):
        hunk = re.match(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", lines[i])
        assert hunk, lines[i]
        start, count = int(hunk.group(1)), int(hunk.group(2) or "1")
        first = start - 1 if count else start
        new += old[at:first]
        at = first
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            mark, text = lines[i][0], lines[i][1:]
            if mark == "\\":  # the line before has no newline
                if last in " +":
                    new[-1] = new[-1].rstrip("\n")
            else:
                if mark in " -":
                    assert old[at].rstrip("\n") == text.rstrip("\n"), f"context differs at line {at + 1}"
                    at += 1
                if mark in " +":
                    new.append(text)
                last = mark
            i += 1
    return "".join(new + old[at:])


def _check_source(name: str, source: str) -> Verdict:
    program = parse(source, name)
    resolve(program, frozenset(EFFECTS))
    return check(program, Options())


def _identities(source: str, verdict: Verdict) -> Counter:
    """Each finding as (rule, the text of its line), so that findings can be compared
    across an edit without the fixer's own offset mapping."""
    lines = source.split("\n")
    return Counter((cx.rule.id, lines[cx.span.line - 1].strip()) for cx in verdict.counterexamples)


def shows(text: str, *rows: str) -> bool:
    """Whether the report shows these lines one after the other (the gutter's width aside)."""
    lines = [line.strip() for line in text.split("\n")]
    return any(lines[i : i + len(rows)] == list(rows) for i in range(len(lines)))


def assert_fix_verifies(path: str, source: str, finding_index: int, fix) -> None:
    """Apply the fix's diff and check the result independently of the fixer."""
    edited = apply_diff(source, fix.diff)
    assert edited != source
    after = _check_source(path, edited)
    assert after.verdict in ("safe", "unsafe"), after.reason
    if fix.verified_by == SAFE_AFTER:
        assert after.verdict == SAFE and not after.vacuous, f"{path}: the fix claims the edited script is safe"
        return
    assert fix.verified_by == FINDING_GONE
    before = _check_source(path, source)
    original, remaining = _identities(source, before), _identities(edited, after)
    target = _identities(source, Verdict("unsafe", [before.counterexamples[finding_index]]))
    assert all(remaining[k] <= original[k] for k in remaining), f"{path}: the edited script has a new finding"
    assert all(remaining[k] < original[k] for k in target), f"{path}: the finding is still there"


def _report(tmp_path: Path, name: str, source: str):
    path = tmp_path / name
    path.write_text(source)
    return check_file(path, Options())


def _fixed(tmp_path: Path, name: str, source: str, rule: str, line: int):
    """The report of a script, and the fix of its finding of `rule` at `line` (which must exist)."""
    report = _report(tmp_path, name, source)
    matches = [(i, f) for i, f in enumerate(report.findings) if f.rule.name == rule and f.span.line == line]
    assert matches, f"no {rule} at line {line}: {[(f.rule.name, f.span.line) for f in report.findings]}"
    index, finding = matches[0]
    assert finding.fix is not None, f"no verified fix for the {rule} at line {line}"
    text = report_text.render(report)
    assert "= help: verified fix: " + finding.fix.description in text
    assert_fix_verifies(str(tmp_path / name), source, index, finding.fix)
    return report, finding.fix, text


# ---- one script per kind of candidate -------------------------------------------------------------

BORROWED = """\
SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL *ssl = SSL_new(ctx);
SSL_SESSION *s = SSL_SESSION_new();
SSL_set_session(ssl, s);
SSL_SESSION_free(s);
SSL_SESSION *view = SSL_get_session(ssl);
SSL_SESSION_free(view);
SSL_free(ssl);
SSL_CTX_free(ctx);
"""


def test_borrowed_free_takes_a_reference_and_shows_a_rustc_style_diff(tmp_path: Path) -> None:
    report, fix, text = _fixed(tmp_path, "borrowed.sess", BORROWED, "borrowed-free", 7)
    assert "SSL_get1_session" in fix.description and fix.lines == (6,)
    assert fix.verified_by == SAFE_AFTER and fix.verification == "the edited script verifies safe"
    assert shows(text, "6 - SSL_SESSION *view = SSL_get_session(ssl);", "6 + SSL_SESSION *view = SSL_get1_session(ssl);")
    assert shows(text, "7 | SSL_SESSION_free(view);")  # context after, in the gutter
    assert "= note: the fix is verified: the edited script verifies safe" in text
    assert f"--- {tmp_path / 'borrowed.sess'}\n+++ {tmp_path / 'borrowed.sess'}\n" in fix.diff
    # The dangling reference and the slot's double free it causes get the same edit.
    rules = {f.rule.name: f.fix for f in report.findings}
    assert rules["dangling-reference"] == fix and rules["double-free"] == fix
    assert "(the edit shown above for the borrowed-free at line 7; the edited script verifies safe)" in text


def test_freed_get0_result_is_deleted(tmp_path: Path) -> None:
    source = (
        "SSL_SESSION *s = SSL_SESSION_new();\n"
        'SSL_SESSION_set1_hostname(s, "example.org");\n'
        "const char *host = SSL_SESSION_get0_hostname(s);\n"
        "OPENSSL_free(host);\n"
        "SSL_SESSION_free(s);\n"
    )
    _, fix, text = _fixed(tmp_path, "get0.sess", source, "borrowed-free", 4)
    assert shows(text, "4 - OPENSSL_free(host);") and "get0" in fix.description


def test_double_free_clears_the_pointer_after_the_first_free(tmp_path: Path) -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nif (*) {\n    SSL_SESSION_free(s);\n}\nSSL_SESSION_free(s);\n"
    _, fix, text = _fixed(tmp_path, "double.sess", source, "double-free", 5)
    assert shows(text, "4 +     s = NULL;")  # the free's own indentation
    assert fix.lines == (3,)


def test_double_free_through_an_alias_deletes_the_second_free(tmp_path: Path) -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION *t = s;\nSSL_SESSION_free(s);\nSSL_SESSION_free(t);\n"
    _, fix, text = _fixed(tmp_path, "alias.sess", source, "double-free", 4)
    assert fix.description == "delete the second free" and shows(text, "4 - SSL_SESSION_free(t);")


def test_use_after_free_of_a_borrowed_session_takes_a_reference_and_frees_it_after_the_use(tmp_path: Path) -> None:
    source = BORROWED.replace("SSL_SESSION_free(view);\nSSL_free(ssl);\n", "SSL_free(ssl);\nlong t = SSL_SESSION_get_time(view);\n")
    _, fix, text = _fixed(tmp_path, "uaf.sess", source, "use-after-free", 8)
    assert fix.lines == (6, 8)
    assert shows(text, "6 + SSL_SESSION *view = SSL_get1_session(ssl);") and shows(text, "9 + SSL_SESSION_free(view);")


def test_use_after_free_moves_the_free_after_the_last_use(tmp_path: Path) -> None:
    source = (
        "SSL_SESSION *s = SSL_SESSION_new();\n"
        "SSL_SESSION_set_timeout(s, 300);\n"
        "SSL_SESSION_free(s);\n"
        "long t = SSL_SESSION_get_timeout(s);\n"
        "long u = SSL_SESSION_get_time(s);\n"
    )
    _, fix, _ = _fixed(tmp_path, "move.sess", source, "use-after-free", 4)
    assert fix.description == "free `s` after its last use"
    assert apply_diff(source, fix.diff).endswith("long u = SSL_SESSION_get_time(s);\nSSL_SESSION_free(s);\n")


def test_leak_when_overwritten_frees_the_old_value_first(tmp_path: Path) -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nif (*) {\n    s = SSL_SESSION_new();\n}\nSSL_SESSION_free(s);\n"
    _, fix, text = _fixed(tmp_path, "overwrite.sess", source, "leak", 3)
    assert shows(text, "3 +     SSL_SESSION_free(s);", "4 |     s = SSL_SESSION_new();")


LOAD = """\
int load(SSL *ssl) {
    SSL_SESSION *sess = SSL_SESSION_new();
    if (*)
        return 0;
    SSL_set_session(ssl, sess);
    SSL_SESSION_free(sess);
    return 1;
}
SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL *ssl = SSL_new(ctx);
load(ssl);
SSL_free(ssl);
SSL_CTX_free(ctx);
"""


def test_leak_at_an_early_return_frees_before_it(tmp_path: Path) -> None:
    _, fix, text = _fixed(tmp_path, "early.sess", LOAD, "leak", 4)
    # The `return` is the sole body of the `if`: the free goes with it, in braces.
    assert shows(text, "4 +         { SSL_SESSION_free(sess); return 0; }")


def test_leak_at_a_closing_brace_frees_before_it(tmp_path: Path) -> None:
    source = "void touch(void) {\n    SSL_SESSION *s = SSL_SESSION_new();\n    SSL_SESSION_set_timeout(s, 60);\n}\ntouch();\n"
    _, fix, text = _fixed(tmp_path, "scope.sess", source, "leak", 4)
    assert shows(text, "4 +     SSL_SESSION_free(s);", "5 | }")


def test_leak_never_released_frees_at_the_end(tmp_path: Path) -> None:
    source = "SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\nSSL *ssl = SSL_new(ctx);\nSSL_CTX_free(ctx);\n"
    _, fix, text = _fixed(tmp_path, "end.sess", source, "leak", 2)
    assert fix.description == "free `ssl` at the end of the script" and shows(text, "4 + SSL_free(ssl);")


def test_unused_owned_result_is_wrapped_in_its_free(tmp_path: Path) -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_dup(s);\nSSL_SESSION_free(s);\n"
    _, fix, text = _fixed(tmp_path, "unused.sess", source, "leak", 2)
    assert shows(text, "2 + SSL_SESSION_free(SSL_SESSION_dup(s));")


SERVER = """\
SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
"""
ONE_CONNECTION = """\
SSL *ssl = SSL_new(ctx);
if (SSL_accept(ssl) == 1) {
    SSL_shutdown(ssl);
}
SSL_free(ssl);
SSL_CTX_free(ctx);
"""


def test_new_session_cb_returning_1_without_keeping_returns_0(tmp_path: Path) -> None:
    source = (
        "int on_new(SSL *ssl, SSL_SESSION *sess) {\n"
        "    int len = i2d_SSL_SESSION(sess, NULL);\n"
        "    return 1;\n"
        "}\n" + SERVER + "SSL_CTX_sess_set_new_cb(ctx, on_new);\n" + ONE_CONNECTION
    )
    _, fix, text = _fixed(tmp_path, "new_cb.sess", source, "callback-ownership", 3)
    assert shows(text, "3 -     return 1;", "3 +     return 0;")


def test_remove_session_cb_freeing_its_lent_session_deletes_the_free(tmp_path: Path) -> None:
    source = (
        "void on_remove(SSL_CTX *c, SSL_SESSION *sess) {\n"
        "    SSL_SESSION_free(sess);\n"
        "}\n"
        "SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());\n"
        "SSL_CTX_sess_set_remove_cb(ctx, on_remove);\n"
        "SSL_SESSION *s = SSL_SESSION_new();\n"
        'SSL_SESSION_set1_id(s, "id", 2);\n'
        "SSL_CTX_add_session(ctx, s);\n"
        "SSL_SESSION_free(s);\n"
        "SSL_CTX_free(ctx);\n"
    )
    report, fix, text = _fixed(tmp_path, "remove_cb.sess", source, "callback-ownership", 2)
    assert shows(text, "2 -     SSL_SESSION_free(sess);")
    assert all(f.fix is not None and f.fix.diff == fix.diff for f in report.findings)  # the dangling reference, the double free


GET_CB = """\
SSL_SESSION *stored = NULL;
int on_new(SSL *ssl, SSL_SESSION *sess) {
    SSL_SESSION_free(stored);
    stored = sess;
    return 1;
}
SSL_SESSION *on_get(SSL *ssl, const unsigned char *id, int len, int *copy) {
    *copy = 0;
    return stored;
}
""" + SERVER + """\
SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
SSL_CTX_sess_set_new_cb(ctx, on_new);
SSL_CTX_sess_set_get_cb(ctx, on_get);
for (int i = 0; i < 2; i++) {
    SSL *ssl = SSL_new(ctx);
    if (SSL_accept(ssl) == 1) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
}
SSL_CTX_free(ctx);
SSL_SESSION_free(stored);
"""


def test_get_session_cb_handing_over_a_kept_reference_leaves_copy_at_1(tmp_path: Path) -> None:
    _, fix, text = _fixed(tmp_path, "copy0.sess", GET_CB, "callback-ownership", 8)
    assert shows(text, "8 -     *copy = 0;", "8 +     *copy = 1;")


def test_get_session_cb_keeping_copy_at_1_on_a_fresh_session_hands_it_over(tmp_path: Path) -> None:
    source = (
        "const unsigned char *der;\nlong derlen;\n"
        "SSL_SESSION *on_get(SSL *ssl, const unsigned char *id, int len, int *copy) {\n"
        "    const unsigned char *p = der;\n"
        "    return d2i_SSL_SESSION(NULL, &p, derlen);\n"
        "}\n" + SERVER + "SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);\n"
        "SSL_CTX_sess_set_get_cb(ctx, on_get);\n" + ONE_CONNECTION
    )
    _, fix, text = _fixed(tmp_path, "copy1.sess", source, "callback-ownership", 5)
    assert shows(text, "5 +     *copy = 0;", "6 |     return d2i_SSL_SESSION(NULL, &p, derlen);")


def test_null_dereference_skips_the_call_on_null(tmp_path: Path) -> None:
    source = (
        "SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());\n"
        "const unsigned char *der;\nlong len;\nconst unsigned char *p = der;\n"
        "SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, len);\n"
        "SSL_CTX_add_session(ctx, s);\n"
        "SSL_SESSION_free(s);\n"
        "SSL_CTX_free(ctx);\n"
    )
    _, fix, text = _fixed(tmp_path, "null.sess", source, "null-dereference", 6)
    assert shows(text, "6 + if (s != NULL) SSL_CTX_add_session(ctx, s);")


def test_edits_keep_the_scripts_line_endings(tmp_path: Path) -> None:
    crlf = "SSL_SESSION *s = SSL_SESSION_new();\r\nif (*) {\r\n    SSL_SESSION_free(s);\r\n}\r\nSSL_SESSION_free(s);\r\n"
    path = tmp_path / "crlf.sess"
    path.write_bytes(crlf.encode())
    report = check_file(path, Options())
    fix = report.findings[0].fix
    assert fix is not None and "+    s = NULL;\r\n" in fix.diff
    assert apply_diff(crlf, fix.diff) == crlf.replace("free(s);\r\n}", "free(s);\r\n    s = NULL;\r\n}")
    # A last line without a newline: the diff says so, as `diff -u` does.
    bare = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION *t = s;\nSSL_SESSION_free(s);\nSSL_SESSION_free(t);"
    report = _report(tmp_path, "bare.sess", bare)
    fix = next(f.fix for f in report.findings if f.rule.name == "double-free")
    assert fix.diff.endswith("\\ No newline at end of file\n")
    assert apply_diff(bare, fix.diff) == "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION *t = s;\nSSL_SESSION_free(s);"


def test_a_fix_for_one_of_several_findings_says_the_others_remain(tmp_path: Path) -> None:
    source = LOAD + "SSL_SESSION *extra = SSL_SESSION_new();\n"
    report, fix, text = _fixed(tmp_path, "two.sess", source, "leak", 4)
    assert fix.verified_by == FINDING_GONE
    assert fix.verification == "this finding is gone and no new one appears; 1 other finding(s) remain"


# ---- where the obvious edit does not work: advice in words only --------------------------------------


def _words_only(tmp_path: Path, name: str, source: str, rule: str, line: int) -> str:
    report = _report(tmp_path, name, source)
    finding = next(f for f in report.findings if f.rule.name == rule and f.span.line == line)
    assert finding.fix is None and finding.help
    text = report_text.render(report)
    return text


def test_new_session_cb_that_stores_on_one_path_gets_no_return_0(tmp_path: Path) -> None:
    # `return 0` would leave the store with a pointer the library frees (a dangling `cached`).
    source = (
        "SSL_SESSION *cached = NULL;\n"
        "int on_new(SSL *ssl, SSL_SESSION *sess) {\n"
        "    if (*) {\n"
        "        SSL_SESSION_free(cached);\n"
        "        cached = sess;\n"
        "    }\n"
        "    return 1;\n"
        "}\n" + SERVER + "SSL_CTX_sess_set_new_cb(ctx, on_new);\n" + ONE_CONNECTION + "SSL_SESSION_free(cached);\n"
    )
    text = _words_only(tmp_path, "stores.sess", source, "callback-ownership", 7)
    assert "verified fix" not in text
    edited = _check_source("stores.sess", source.replace("    return 1;", "    return 0;"))
    assert edited.verdict == "unsafe"  # the obvious edit, checked by hand: still unsafe


def test_clearing_a_pointer_whose_alias_is_freed_again_is_not_offered(tmp_path: Path) -> None:
    source = (
        "SSL_SESSION *s = SSL_SESSION_new();\n"
        "SSL_SESSION *t = s;\n"
        "if (*) {\n"
        "    SSL_SESSION_free(s);\n"
        "    if (*)\n"
        "        return;\n"
        "}\n"
        "SSL_SESSION_free(t);\n"
    )
    text = _words_only(tmp_path, "alias.sess", source, "double-free", 8)
    assert "verified fix" not in text
    edited = _check_source("alias.sess", source.replace("    SSL_SESSION_free(s);\n", "    SSL_SESSION_free(s);\n    s = NULL;\n"))
    assert any(cx.rule.name == "double-free" and cx.span.line == 9 for cx in edited.counterexamples)


# ---- JSON, the command line ------------------------------------------------------------------------


def test_json_report_carries_the_fix_and_follows_the_schema(tmp_path: Path) -> None:
    import jsonschema

    safe = tmp_path / "safe.sess"
    safe.write_text("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\n")
    reports = [_report(tmp_path, "borrowed.sess", BORROWED), check_file(safe, Options())]
    document = json.loads(report_json.render(reports, []))
    schema = json.loads((ROOT / "checker" / "report.schema.json").read_text())
    jsonschema.validate(document, schema)
    fix = document["files"][0]["findings"][0]["fix"]
    assert fix["verified_by"] == "safe" and fix["lines"] == [6]
    assert fix["description"] == "take a reference with `SSL_get1_session` and keep the free"
    assert apply_diff(BORROWED, fix["diff"]) == BORROWED.replace("SSL_get_session", "SSL_get1_session")
    words_only = _report(tmp_path, "alias.sess", "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION *t = s;\nif (*) {\n"
                         "    SSL_SESSION_free(s);\n    if (*)\n        return;\n}\nSSL_SESSION_free(t);\n")
    document = json.loads(report_json.render([words_only], []))
    jsonschema.validate(document, schema)
    assert all(f["fix"] is None for f in document["files"][0]["findings"])


def test_no_fixes_flag(tmp_path: Path) -> None:
    (tmp_path / "b.sess").write_text(BORROWED)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sessref", "check", *args, "b.sess"], capture_output=True, text=True, cwd=tmp_path)

    with_fixes, without = run(), run("--no-fixes")
    assert with_fixes.returncode == without.returncode == 1
    assert "verified fix" in with_fixes.stdout and "verified fix" not in without.stdout
    assert with_fixes.stdout.replace("\n", "").count("SSL_get1_session") > without.stdout.replace("\n", "").count("SSL_get1_session")


# ---- the guarantee: over every spec, every fix shown verifies ----------------------------------------


@pytest.mark.parametrize("path", support.spec_params())
def test_every_fix_shown_for_a_spec_verifies(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    relative = path.relative_to(ROOT)
    report = support.checked(support.relative(path)).report  # the report the golden test holds
    source = path.read_text()
    for index, finding in enumerate(report.findings):
        if finding.fix is not None:
            assert finding.fix.diff.startswith(f"--- {relative}\n+++ {relative}\n")
            assert_fix_verifies(str(relative), source, index, finding.fix)
