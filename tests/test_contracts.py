"""Functions without a body: a declared prototype's ownership contract (`borrows`, `holds`,
`takes`, `returns owned|borrowed`), in scripts and C files, and undeclared helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sessref.language.errors import ParseError, ResolveError
from sessref.language.parser import parse
from sessref.language.resolve import resolve, undeclared_calls
from sessref.solving import Options, check

DECLS = """\
void cache_put(SSL_SESSION *s); /* sessref: holds(s) */
void cache_drop(SSL_SESSION *s); /* sessref: takes(s) */
void show(SSL_SESSION *s, int n); // sessref: borrows(s)
// sessref: returns owned
SSL_SESSION *cache_get(const char *key);
// sessref: returns borrowed
SSL_SESSION *cache_peek(const char *key);
int log_line(const char *text);
"""


def findings(body: str) -> list[tuple[str, int]]:
    program = parse(DECLS + body, "t.sess")
    resolve(program)
    v = check(program, Options(timeout_ms=20_000))
    assert v.verdict in ("safe", "unsafe"), v.reason
    return [(cx.rule.name, cx.span.line - DECLS.count("\n")) for cx in v.counterexamples]


def test_holds_keeps_the_object_alive_and_is_no_leak() -> None:
    assert findings("SSL_SESSION *s = SSL_SESSION_new();\ncache_put(s);\nSSL_SESSION_free(s);\n"
                    "SSL_SESSION_get_time(s);\n") == []
    # without the function's reference, the same script uses a destroyed session
    assert ("use-after-free", 4) in findings("SSL_SESSION *s = SSL_SESSION_new();\nshow(s, 1);\nSSL_SESSION_free(s);\n"
                                             "SSL_SESSION_get_time(s);\n")


def test_takes_releases_the_callers_reference() -> None:
    assert findings("SSL_SESSION *s = SSL_SESSION_new();\ncache_drop(s);\n") == []
    assert ("double-free", 3) in findings("SSL_SESSION *s = SSL_SESSION_new();\ncache_drop(s);\nSSL_SESSION_free(s);\n")


def test_borrows_is_a_use() -> None:
    assert ("use-after-free", 3) in findings("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\nshow(s, 2);\n")


def test_returns_owned_and_borrowed() -> None:
    assert findings("SSL_SESSION *s = cache_get(\"k\");\n") == [("leak", 1)]
    assert findings("SSL_SESSION *s = cache_get(\"k\");\nSSL_SESSION_free(s);\n") == []
    rules = [r for r, _ in findings("SSL_SESSION *s = cache_peek(\"k\");\nif (s) { SSL_SESSION_free(s); }\n")]
    assert "borrowed-free" in rules
    assert findings("SSL_SESSION *s = cache_peek(\"k\");\nif (s) { SSL_SESSION_get_time(s); }\n") == []


def test_plain_declarations_are_neutral() -> None:
    assert findings("int n = log_line(\"hello\");\nif (n < 0) { return; }\n") == []


@pytest.mark.parametrize("text, message", [
    ("void f(SSL_SESSION *s); /* sessref: hold(s) */\n", "`hold(s)` is not part of a contract"),
    ("void f(SSL_SESSION *s);\n", "does not say what it does with `s`"),
    ("void f(SSL_SESSION *s); // sessref: holds(t)\n", "`f` has no parameter `t`"),
    ("void f(int n); // sessref: holds(n)\n", "`n` is not a session, SSL or SSL_CTX"),
    ("SSL_SESSION *f(void);\n", "does not say what its `SSL_SESSION *` result is"),
    ("SSL *f(void); // sessref: returns owned\n", "only an `SSL_SESSION *` result"),
])
def test_bad_contracts_are_located_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, "t.sess")
    assert message in info.value.message and info.value.span is not None and info.value.span.line == 1


def test_declarations_may_not_shadow_known_or_defined_functions() -> None:
    for text in ("void SSL_SESSION_free(SSL_SESSION *s); // sessref: takes(s)\n",
                 "int f(int n);\nint f(int n) { return n; }\nf(1);\n"):
        with pytest.raises(ResolveError):
            resolve(parse(text, "t.sess"))


def test_undeclared_helpers() -> None:
    program = parse("int n = report(3);\nreport(n);\n", "t.sess")
    resolve(program)
    assert [name for name, _ in undeclared_calls(program)] == ["report"]
    with pytest.raises(ResolveError) as info:
        resolve(parse("SSL_SESSION *s = SSL_SESSION_new();\nmy_store(s);\n", "t.sess"))
    err = info.value
    assert err.span.line == 2 and "`my_store`" in err.message and "given `s`, an `SSL_SESSION`" in err.label
    assert "int my_store(SSL_SESSION *s); /* sessref: borrows(s) */" in err.help


def test_cli_notes_undeclared_helpers(tmp_path: Path) -> None:
    path = tmp_path / "h.sess"
    path.write_text("SSL_SESSION *s = SSL_SESSION_new();\nmetric_inc(7);\nSSL_SESSION_free(s);\n")
    r = subprocess.run([sys.executable, "-m", "sessref", "check", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert "note: `metric_inc` (line 2) is neither defined, declared nor a function sessref knows: assumed neutral" in r.stdout


def test_c_prototypes_with_a_contract(tmp_path: Path) -> None:
    path = tmp_path / "k.c"
    path.write_text("""#include <openssl/ssl.h>
struct conn { SSL *ssl; };
void store_put(const char *host, SSL_SESSION *sess); /* sessref: holds(sess) */

int save(struct conn *c, const char *host)
{
    SSL_SESSION *s = SSL_get1_session(c->ssl);
    if (s == NULL)
        return 0;
    store_put(host, s);
    return 1;                                   //~ leak
}
""")
    r = subprocess.run([sys.executable, "-m", "sessref", "check", str(path)], capture_output=True, text=True)
    assert r.returncode == 1 and "error[leak]" in r.stdout, r.stdout
    path.write_text(path.read_text().replace("    return 1;                                   //~ leak",
                                             "    SSL_SESSION_free(s);\n    return 1;"))
    r = subprocess.run([sys.executable, "-m", "sessref", "check", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
