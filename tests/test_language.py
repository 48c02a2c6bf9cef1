"""Tests of the language layer: parser, errors, resolver, expectations."""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path

import pytest
from sessref.language.ast import (
    AddrOf,
    Assign,
    Binary,
    Block,
    Break,
    Call,
    Continue,
    CType,
    Deref,
    If,
    IntLit,
    Name,
    Nondet,
    NullLit,
    Program,
    Return,
    Span,
    StrLit,
    Unary,
    VarDecl,
    While,
)
from sessref.language.errors import (
    ParseError,
    ResolveError,
    SessrefError,
    render_error,
)
from sessref.language.expectations import read_expectations
from sessref.language.parser import parse, parse_file
from sessref.language.prototypes import PROTOTYPES
from sessref.language.resolve import resolve

MODELLED = frozenset(PROTOTYPES) - {"SSL_connect", "SSL_accept"}

EXAMPLE = """\
//~ safe
// Title: keep a session across connections
SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL_SESSION *saved = NULL;
const unsigned char *der;      // opaque input, no value
long len;
int helper(SSL *ssl, SSL_SESSION *sess) {
    if (sess == NULL) return 0;
    SSL_set_session(ssl, sess);
    return 1;
}
while (*) {
    SSL *ssl = SSL_new(ctx);
    if (saved != NULL) helper(ssl, saved);
    SSL_SESSION_free(saved);
    saved = SSL_get1_session(ssl);
    if (!saved) { SSL_free(ssl); continue; }
    SSL_shutdown(ssl);
    SSL_free(ssl);
}
for (int i = 0; i < 3; i++) { if (SSL_SESSION_up_ref(saved) != 1) break; SSL_SESSION_free(saved); }
const unsigned char *p = der;
SSL_SESSION *x = d2i_SSL_SESSION(NULL, &p, len);
assume(x != NULL);
SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
time_t now = time(NULL);
sleep(10);
SSL_CTX_flush_sessions(ctx, now + 20);
if (* ) { } else if (x == saved || !x && len > 0) { }
printf("%s\\n", SSL_SESSION_get0_hostname(x));
SSL_SESSION_free(x);  //~ double-free
SSL_SESSION_free(saved);
SSL_CTX_free(ctx);
"""

# Globals most resolver tests build on (lines 1-3).
PRELUDE = """\
SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL *ssl = SSL_new(ctx);
SSL_SESSION *s = SSL_get1_session(ssl);
"""


def check(source: str) -> Program:
    program = parse(source, "t.sess")
    resolve(program, MODELLED)
    return program


def failure(source: str, kind: type[SessrefError] = SessrefError) -> SessrefError:
    with pytest.raises(kind) as info:
        check(source)
    err = info.value
    assert err.span is not None and err.message and "\n" not in err.message
    return err


def at(err: SessrefError, line: int, column: int) -> None:
    assert err.span is not None
    assert (err.span.line, err.span.column) == (line, column), (err.message, err.span)


def statement(source: str):
    """The single top-level item of `source`."""
    (item,) = parse(source, "t.sess").items
    return item


def expression(text: str):
    item = statement(f"x = {text};")
    assert isinstance(item, Assign)
    return item.value


def nodes(root):
    """Every AST node under `root` (iteratively, so deep trees are fine)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, (tuple, list)):
            stack.extend(node)
        elif dataclasses.is_dataclass(node) and not isinstance(node, (Span, CType)):
            yield node
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))


# ---- parsing: structure and spans ------------------------------------------------------


def test_example_structure() -> None:
    program = parse(EXAMPLE, "specs/x.sess")
    kinds = [type(item).__name__ for item in program.items]
    assert kinds == [
        "VarDecl", "VarDecl", "VarDecl", "VarDecl", "FuncDef", "While", "For", "VarDecl",
        "VarDecl", "Assume", "ExprStmt", "VarDecl", "ExprStmt", "ExprStmt", "If", "ExprStmt",
        "ExprStmt", "ExprStmt", "ExprStmt",
    ]
    assert list(program.functions) == ["helper"]
    assert program.functions["helper"] is program.items[4]

    ctx, saved, der = program.items[:3]
    assert ctx.ctype == CType("SSL_CTX", 1) and isinstance(ctx.init, Call)
    assert ctx.init.args[0] == Call("TLS_client_method", (), ctx.init.args[0].span,
                                    ctx.init.args[0].func_span)
    assert isinstance(saved.init, NullLit)
    assert der.ctype == CType("unsigned char", 1, True) and der.init is None

    helper = program.items[4]
    assert helper.ret == CType("int") and [p.name for p in helper.params] == ["ssl", "sess"]
    assert helper.params[1].ctype == CType("SSL_SESSION", 1)

    loop = program.items[5]
    assert isinstance(loop, While) and isinstance(loop.cond, Nondet)
    body = loop.body.stmts
    assert isinstance(body[3], Assign) and body[3].target == Name("saved", body[3].target.span)
    assert isinstance(body[4], If) and isinstance(body[4].cond, Unary)
    assert isinstance(body[4].then.stmts[1], Continue)

    for_loop = program.items[6]
    assert isinstance(for_loop.init, VarDecl) and for_loop.init.name == "i"
    assert isinstance(for_loop.cond, Binary) and for_loop.cond.op == "<"
    assert for_loop.step.op == "+=" and isinstance(for_loop.step.value, IntLit)
    assert for_loop.step.value.value == 1
    assert isinstance(for_loop.body.stmts[0].then, Break)

    d2i = program.items[8].init
    assert isinstance(d2i.args[0], NullLit) and isinstance(d2i.args[1], AddrOf)
    assert d2i.args[1].target.id == "p"
    cache_mode = program.items[10].expr
    assert cache_mode.args[1].op == "|"

    chain = program.items[14]
    assert isinstance(chain.cond, Nondet) and isinstance(chain.orelse, If)
    assert chain.orelse.cond.op == "||" and chain.orelse.cond.right.op == "&&"

    printf = program.items[15].expr
    assert printf.args[0] == StrLit("%s\n", printf.args[0].span)


def test_example_spans() -> None:
    program = parse(EXAMPLE, "specs/x.sess")
    loop = program.items[5]
    assert (loop.span.line, loop.span.column, loop.span.end_line, loop.span.end_column) == (12, 1, 20, 2)
    decl = program.items[0]
    assert decl.span == Span("specs/x.sess", 3, 1, 3, 49, decl.span.start, decl.span.end)
    assert EXAMPLE[decl.span.start:decl.span.end] == \
        "SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());"
    assert (decl.name_span.line, decl.name_span.column, decl.name_span.end_column) == (3, 10, 13)
    call = program.items[-3].expr
    assert (call.func_span.line, call.func_span.column, call.func_span.end_column) == (31, 1, 17)
    assert EXAMPLE[call.span.start:call.span.end] == "SSL_SESSION_free(x)"
    helper = program.items[4]
    assert (helper.span.line, helper.span.end_line) == (7, 11)


def test_every_span_matches_its_offsets() -> None:
    program = parse(EXAMPLE, "specs/x.sess")
    lines = EXAMPLE.split("\n")
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text) + 1)
    count = 0
    for node in nodes(list(program.items)):
        for span in (getattr(node, "span", None), getattr(node, "name_span", None),
                     getattr(node, "func_span", None)):
            if span is None:
                continue
            count += 1
            assert span.file == "specs/x.sess"
            assert starts[span.line - 1] + span.column - 1 == span.start
            assert starts[span.end_line - 1] + span.end_column - 1 == span.end
            assert span.start < span.end
    assert count > 100


def test_precedence() -> None:
    e = expression("a || b && c | d & e == f < g + h")
    assert e.op == "||" and e.right.op == "&&"
    bit_or = e.right.right
    assert bit_or.op == "|" and bit_or.right.op == "&"
    eq = bit_or.right.right
    assert eq.op == "==" and eq.right.op == "<" and eq.right.right.op == "+"

    left_assoc = expression("a - b - c")
    assert left_assoc.op == "-" and left_assoc.left.op == "-" and left_assoc.right == Name(
        "c", left_assoc.right.span)

    e = expression("!a == -b")
    assert e.op == "==" and e.left == Unary("!", e.left.operand, e.left.span)
    assert e.right.op == "-"

    e = expression("(a || b) && c")
    assert e.op == "&&" and e.left.op == "||"

    e = expression("&p == 0 && *n > 1")
    assert isinstance(e.left.left, AddrOf) and isinstance(e.right.left, Deref)


def test_literals_and_comments() -> None:
    assert expression("0x1F").value == 31
    assert expression("3600L").value == 3600
    assert expression("NULL") == NullLit(expression("NULL").span)
    assert expression('"a\\tb\\x41\\101\\"" "c"').value == 'a\tbAA"c'
    program = parse("/* block\n comment */ f(); // line\n/**/g();", "t.sess")
    assert [item.expr.func for item in program.items] == ["f", "g"]
    assert program.items[1].span.line == 3


def test_types() -> None:
    cases = {
        "unsigned x;": CType("unsigned int"),
        "unsigned char *b;": CType("unsigned char", 1),
        "const SSL_SESSION **pp;": CType("SSL_SESSION", 2, True),
        "uint32_t n;": CType("uint32_t"),
        "unsigned long t;": CType("unsigned long"),
        "void *data;": CType("void", 1),
        "FILE *f;": CType("FILE", 1),
    }
    for source, ctype in cases.items():
        assert statement(source).ctype == ctype


def test_statement_forms() -> None:
    steps = {"i++;": ("+=", 1), "i--;": ("-=", 1), "i += 2;": ("+=", 2), "i -= 1;": ("-=", 1)}
    for source, (op, amount) in steps.items():
        item = statement(source)
        assert isinstance(item, Assign) and item.op == op and item.value.value == amount
    item = statement("*copy = 0;")
    assert isinstance(item.target, Deref) and item.target.target.id == "copy"
    assert statement(";") == Block((), statement(";").span)
    program = parse("void f(void) { return; }\nint g(int *n) { return *n + 1; }", "t.sess")
    f, g = program.items
    assert f.body.stmts[0] == Return(None, f.body.stmts[0].span)
    assert isinstance(g.body.stmts[0].value, Binary)
    assert g.params[0].ctype == CType("int", 1)


def test_main_and_callback_forms() -> None:
    program = check("""\
SSL_SESSION *stored = NULL;
SSL_SESSION *on_get(SSL *ssl, const unsigned char *id, int len, int *copy) { *copy = 0; return stored; }
int main(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_get_cb(ctx, on_get);
    SSL_CTX_free(ctx);
    return 0;
}
""")
    assert list(program.functions) == ["on_get", "main"]
    assert program.functions["on_get"].ret == CType("SSL_SESSION", 1)


def test_empty_and_comment_only_files() -> None:
    assert parse("", "e.sess").items == ()
    assert parse("// nothing\n/* here */\n\n", "e.sess").items == ()
    check("")


def test_example_resolves() -> None:
    check(EXAMPLE)


# ---- parse errors ---------------------------------------------------------------------------


PARSE_ERRORS = [
    ("SSL_free(ssl)\nSSL_free(x);", 1, 14),  # missing `;`: just after the statement
    ("f();\nSSL_free(ssl)", 2, 14),  # missing `;` at end of file
    ("int main(void) {\n  if (*) {\n    f();\n  }\n", 1, 16),  # the unclosed `{`
    ("f();\n}", 2, 1),  # unexpected `}`
    ("x = 3 @ 4;", 1, 7),  # unexpected character
    ("f();\n/* never closed\nfoo();", 2, 1),  # unterminated comment
    ('printf("abc);', 1, 8),  # unterminated string
    ("if x) {}", 1, 4),
    ("x = = 3;", 1, 5),
    ("int f(x) {}", 1, 7),
    ("int main(void) { int g(void) { } }", 1, 23),
    ("x = 0777;", 1, 5),
    ("x = 12ab;", 1, 5),
    ('printf("ok\\q");', 1, 11),
    ("SSL_free(ssl;", 1, 13),
    ("a = &3;", 1, 6),
    ("if (*) {} else else {}", 1, 16),
    ("f(a,);", 1, 5),
    ("for (int i = 0 i < 3; i++) {}", 1, 15),
    ("x = 99999999999999999999999;", 1, 5),
    ("int x = 1;\nint\n", 2, 4),
    ("f(\x01);", 1, 3),
    ("f();\n\0", 2, 1),
    ("x = é;", 1, 5),
    ("SSL_free(ssl));", 1, 14),  # a `)` that closes nothing
    ("while (*)", 1, 10),  # end of file where a statement must come
]


@pytest.mark.parametrize("source, line, column", PARSE_ERRORS)
def test_parse_errors(source: str, line: int, column: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(source, "t.sess")
    err = info.value
    at(err, line, column)
    assert err.message and "\n" not in err.message
    for raw in ("Token(", "Expected one of", "__ANON", "$END", "SEMICOLON", "RBRACE"):
        assert raw not in err.message and raw not in err.label
    assert err.source == source
    assert f"t.sess:{line}:{column}" in render_error(err)


def test_missing_semicolon_names_it() -> None:
    with pytest.raises(ParseError) as info:
        parse("SSL_free(ssl)\nSSL_free(x);", "t.sess")
    assert "`;`" in info.value.message


def test_unclosed_brace_names_it() -> None:
    with pytest.raises(ParseError) as info:
        parse("while (*) {\n f();\n", "t.sess")
    assert "`}`" in info.value.message and "end of file" in info.value.message


def test_binary_garbage(tmp_path: Path) -> None:
    rng = random.Random(7)
    for index in range(20):
        path = tmp_path / f"g{index}.sess"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(2000)))
        with pytest.raises(ParseError) as info:
            parse_file(path)
        assert info.value.span is not None
        render_error(info.value)  # renders without the caller re-reading the file


def test_invalid_utf8_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.sess"
    path.write_bytes("f();\n// héllo\nx = 1; \xff".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    with pytest.raises(ParseError) as info:
        parse_file(path)
    at(info.value, 3, 8)
    assert "3:8" in render_error(info.value)


def test_nul_in_file(tmp_path: Path) -> None:
    path = tmp_path / "nul.sess"
    path.write_bytes(b"f();\ng(\x00);\n")
    with pytest.raises(ParseError) as info:
        parse_file(path)
    at(info.value, 2, 3)


def test_parse_file_reads_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "ok.sess"
    path.write_bytes("\ufeffprintf(\"héllo\");\n".encode("utf-8"))
    program = parse_file(path)
    assert program.items[0].expr.args[0].value == "héllo"
    assert program.file == str(path)


@pytest.mark.slow
def test_one_megabyte_parses_quickly() -> None:
    line = "SSL_CTX_set_timeout(ctx, 300);   // keep it short\n"
    source = line * 20_000
    assert len(source) >= 1_000_000
    started = time.perf_counter()
    program = parse(source, "big.sess")
    elapsed = time.perf_counter() - started
    assert len(program.items) == 20_000
    assert program.items[-1].span.line == 20_000
    assert elapsed < 15, elapsed  # about 1.5 s on the development machine


@pytest.mark.parametrize("source, line, column", [
    ("{" * 100_000, 1, 201),
    ("x = " + "(" * 100_000 + "1" + ")" * 100_000 + ";", 1, 205),
    ("f();\nwhile (*) " + "{ f(" * 50_000, 2, 11 + 4 * 100),
])
def test_deep_brackets_are_a_clean_error(source: str, line: int, column: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(source, "deep.sess")
    at(info.value, line, column)


def test_brackets_in_comments_and_strings_do_not_count() -> None:
    parse("/* " + "{" * 1000 + " */ // " + "(" * 1000 + "\nprintf(\"" + "{" * 1000 + "\");", "t.sess")


@pytest.mark.parametrize("source", [
    "x = " + "!" * 100_000 + "y;",
    "x = " + " + ".join(["a"] * 100_000) + ";",
    "if (*) {} " + "else if (*) {} " * 20_000,
    "if (*) " * 20_000 + ";",
])
def test_deep_trees_are_a_clean_error(source: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(source, "deep.sess")
    assert "deep" in info.value.message


def test_two_hundred_levels_are_fine() -> None:
    parse("{" * 200 + "}" * 200, "t.sess")
    check("int f(void) {" + "if (*) {" * 100 + "}" * 100 + "return 0; }")


# ---- rendering ------------------------------------------------------------------------------------


def test_render_error_format() -> None:
    source = "SSL_SESSION *s = SSL_SESSION_new();\n\nSSL_SESION_free(s);\n"
    with pytest.raises(ResolveError) as info:
        resolve(parse(source, "specs/x.sess"), MODELLED)
    assert render_error(info.value, source) == """\
error: unknown function `SSL_SESION_free`
 --> specs/x.sess:3:1
  |
3 | SSL_SESION_free(s);
  | ^^^^^^^^^^^^^^^ not an OpenSSL function sessref knows
  |
  = help: did you mean `SSL_SESSION_free`? `sessref functions` lists the OpenSSL and C functions it knows; a function of your own program needs another name or a declaration
"""


def test_render_multiline_span_and_no_source() -> None:
    source = "while (*) {\n  f();\n}\n"
    err = ResolveError("loop trouble", Span("m.sess", 1, 1, 3, 2, 0, 20), label="here",
                       notes=("a note",))
    assert render_error(err, source) == """\
error: loop trouble
 --> m.sess:1:1
  |
1 | while (*) {
  | ^^^^^^^^^^^ here
  |
  = note: a note
"""
    bare = render_error(err)
    assert bare.startswith("error: loop trouble\n --> m.sess:1:1\n") and "^" not in bare
    assert render_error(SessrefError("no place")) == "error: no place\n"


# ---- resolver errors ---------------------------------------------------------------------------


RESOLVE_ERRORS = [
    # (source after PRELUDE, line, column, expected error class)
    ("SSL_SESION_free(s);", 4, 1, ResolveError),  # unknown function
    ("SSL_new(ctx, ctx);", 4, 1, ResolveError),  # arity: span is the call
    ("printf();", 4, 1, ResolveError),  # variadic: at least 1
    ("SSL_SESSION_free(sesion);", 4, 18, ResolveError),  # unknown variable
    ("int n;\nint n;", 5, 5, ResolveError),  # redeclared global
    ("{ int y;\n  int y; }", 5, 7, ResolveError),  # redeclared local
    ("SSL *ctx2 = ctx;", 4, 13, ResolveError),  # SSL * given an SSL_CTX *
    ("ssl = s;", 4, 7, ResolveError),  # SSL * given a session
    ("int n = s;", 4, 9, ResolveError),  # int given a pointer
    ("s = 5;", 4, 5, ResolveError),  # pointer given a non-zero int
    ("SSL_set_session(s, ssl);", 4, 17, ResolveError),  # argument types
    ("SSL_set_session(ssl, 1);", 4, 22, ResolveError),
    ("int v = *;", 4, 9, ResolveError),  # Nondet outside a condition
    ("if (* && s) {}", 4, 5, ResolveError),  # Nondet inside a condition
    ("assume(*);", 4, 8, ResolveError),
    ("break;", 4, 1, ResolveError),
    ("if (*) { continue; }", 4, 10, ResolveError),
    ("void f(void) { return 1; }", 4, 23, ResolveError),
    ("int z = SSL_free(ssl);", 4, 9, ResolveError),  # void has no value
    ("if (ssl == s) {}", 4, 5, ResolveError),
    ("int k = &SSL_SESS_CACHE_CLIENT;", 4, 9, ResolveError),  # & needs a variable
    ("int z = *ssl;", 4, 9, ResolveError),  # * needs a pointer to an integer
    ("SSL_SESSION x;", 4, 1, ResolveError),
    ("void v;", 4, 1, ResolveError),
    ("int SSL_new;", 4, 5, ResolveError),
    ("void ctx(void) {}", 4, 6, ResolveError),
    ("int f(void) { return 0; }\nint f(void) { return 1; }", 5, 5, ResolveError),
    ("if (*) int q = 3;", 4, 8, ResolveError),
    ("int q = helperx(s);", 4, 9, ResolveError),  # an undeclared helper given a session
    ("n = 1;\nint n;", 4, 1, ResolveError),  # top-level use before declaration
    ("{ int b; }\nb = 1;", 5, 1, ResolveError),  # block-local names end at `}`
    ("ctx(1);", 4, 1, ResolveError),  # a variable is not a function
    ("SSL_CTX_sess_set_new_cb(ctx, SSL_SESSION_free);", 4, 30, ResolveError),
    ("int f(int a, int a) { return a; }", 4, 14, ResolveError),
    ("int f(int a) { int a = 1; return a; }", 4, 20, ResolveError),
    ("int main(void) { return 0; }\nf();", 5, 1, ResolveError),
    ("int main(int argc) { return 0; }", 4, 10, ResolveError),
    ("SSL_CTX_set_timeout(ctx, s);", 4, 26, ResolveError),
    ("long t = SSL_SESSION_get_time(s) + s;", 4, 10, ResolveError),
    ("stdout = 0;", 4, 1, ResolveError),
    ("SSL_SESSION_free(f);\nvoid f(void) {}", 4, 18, ResolveError),  # function as a value
]


@pytest.mark.parametrize("source, line, column, kind", RESOLVE_ERRORS)
def test_resolve_errors(source: str, line: int, column: int, kind: type) -> None:
    err = failure(PRELUDE + source, kind)
    assert type(err) is kind
    at(err, line, column)
    assert err.source is not None
    render_error(err)


def test_unmodelled_calls_resolve() -> None:
    # Every catalogue name resolves; an unmodelled call's paths are unknown when run
    # (tests/test_catalogue.py), never a resolve error.
    check(PRELUDE + "SSL_renegotiate(ssl);\nSSL_CTX_set_psk_use_session_callback(ctx, NULL);")


def test_arity_names_expected_and_given() -> None:
    err = failure(PRELUDE + "SSL_new(ctx, ctx);")
    assert "1" in err.message and "2" in err.message


def test_did_you_mean() -> None:
    assert "SSL_SESSION_free" in (failure(PRELUDE + "SSL_SESION_free(s);").help or "")
    assert "did you mean `ssl_session_free`" not in (failure(PRELUDE + "ssl_session_free(s);").help or "x")
    assert "SSL_SESSION_free" in (failure(PRELUDE + "ssl_session_free(s);").help or "")
    script = PRELUDE + "int helper(SSL *c) { return 1; }\nhelpr(ssl);"
    assert "`helper`" in (failure(script).help or "")
    err = failure(PRELUDE + "SSL_SESSION *saved = s;\nSSL_SESSION_free(savd);")
    assert "`saved`" in (err.help or "")


def test_script_function_calls_are_checked() -> None:
    base = PRELUDE + "int helper(SSL *c, SSL_SESSION *x) { return 1; }\n"
    check(base + "helper(ssl, s);\nhelper(ssl, NULL);")
    at(failure(base + "helper(ssl);"), 5, 1)
    at(failure(base + "helper(s, s);"), 5, 8)


def test_type_compatibility_rules() -> None:
    check(PRELUDE + """\
SSL_set_session(ssl, NULL);
SSL_set_session(ssl, 0);
const SSL_SESSION *cs = s;
SSL_SESSION_free(cs);
size_t n = 3;
int m = n;
long t = SSL_SESSION_get_time(s) + m;
unsigned char *buf;
SSL_SESSION_set1_hostname(s, buf);
char *text = "x";
SSL_SESSION_set1_alpn_selected(s, text, n);
SSL_SESSION_set_ex_data(s, 0, ssl);
SSL_SESSION *back = SSL_SESSION_get_ex_data(s, 0);
const unsigned char *alpn;
SSL_SESSION_get0_alpn_selected(s, &alpn, &n);
unsigned int idlen;
SSL_SESSION_get_id(s, &idlen);
if (s == NULL || ssl != 0 || !s) {}
FILE *out = stdout;
SSL_SESSION_print_fp(stderr, s);
""")


def test_deref_and_address_of() -> None:
    check(PRELUDE + "int *k;\n*k = 3;\nint v = *k + 1;")
    # `&z` only as an OpenSSL call's argument: kept in a variable, the executor could not run it
    at(failure(PRELUDE + "int z;\nint *pz = &z;"), 5, 11)
    at(failure(PRELUDE + "SSL **pp = &s;"), 4, 12)  # &s is SSL_SESSION **
    at(failure(PRELUDE + "int **pp;\nint v = *pp;"), 5, 9)


def test_scopes() -> None:
    check(PRELUDE + """\
int use_later(void) { return counter; }
int counter = 0;
{ int a = 1; }
{ int a = 2; }
int shadow(int n) { { int n2 = n; } return n; }
while (*) { SSL *ssl = SSL_new(ctx); SSL_free(ssl); }
""")


# ---- loops and recursion -------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "int i = 0; i < 3; i++",
    "int i = 3; i > 0; i--",
    "int i = 0; i <= 10; i += 2",
    "int i = 10; i >= 0; i -= 5",
    "int i = -1; i < SSL_MAX_SSL_SESSION_ID_LENGTH; i++",
    "int i = 0; i < 2 + 1; i -= -1",
])
def test_for_loops_with_constant_bounds(header: str) -> None:
    check(PRELUDE + f"for ({header}) {{ SSL_SESSION_free(s); }}")
    check(PRELUDE + f"int j;\nfor ({header.replace('int i', 'j').replace('i', 'j')}) {{ }}")


@pytest.mark.parametrize("source, line, column", [
    ("int n = 3;\nfor (int i = 0; i < n; i++) {}", 5, 21),
    ("for (;;) {}", 4, 1),
    ("for (int i = 0; ; i++) {}", 4, 1),
    ("for (int i = 0; i < 3; ) {}", 4, 1),
    ("int n;\nfor (int i = n; i < 3; i++) {}", 5, 14),
    ("for (int i = 0; 3 > i; i++) {}", 4, 17),
    ("for (int i = 0; i != 3; i++) {}", 4, 17),
    ("for (int i = 0; i < 3; i--) {}", 4, 24),
    ("int j;\nfor (int i = 0; i < 3; j++) {}", 5, 24),
    ("for (int i = 0; i < 3; i += 0) {}", 4, 24),
    ("for (SSL_SESSION *t = NULL; t < 3; t++) {}", 4, 29),
    ("for (int i = 0; i < 3; i++) { i = 2; }", 4, 31),
    ("for (int i = 0; i < 3; i++) { int *q = &i; }", 4, 40),
])
def test_for_loop_rule(source: str, line: int, column: int) -> None:
    at(failure(PRELUDE + source, ResolveError), line, column)


def test_for_loop_message() -> None:
    err = failure(PRELUDE + "int n = 3;\nfor (int i = 0; i < n; i++) {}")
    assert "while (*)" in err.message


def test_recursion() -> None:
    direct = failure("void r(void) {\n  r();\n}", ResolveError)
    at(direct, 2, 3)
    assert "`r`" in direct.message
    mutual = failure("int a(void) { return b(); }\nint b(void) { return c(); }\n"
                     "int c(void) { if (*) return 0; return a(); }", ResolveError)
    at(mutual, 3, 39)
    assert all(f"`{n}`" in mutual.message for n in "abc")
    check("int leaf(void) { return 1; }\nint mid(void) { return leaf() + leaf(); }\n"
          "int top(void) { return mid() + leaf(); }\ntop();\nmid();")


def test_calling_main_is_refused() -> None:
    at(failure("void f(void) { main(); }\nint main(void) { return 0; }"), 1, 16)


# ---- expectations ------------------------------------------------------------------------------------


def test_expectations_of_example() -> None:
    expected = read_expectations(EXAMPLE)
    assert expected.safe is True
    assert expected.findings == [(31, "double-free")]


def test_expectations_markers() -> None:
    source = (
        "\n"
        "   //~ safe\n"
        "SSL_SESSION_free(s);  //~ SR002, leak\n"
        'printf("//~ not-a-marker");\n'
        "/* a //~ comment\n   spanning */ f(); //~use-after-free\n"
        "//~ leak\n"
        "g(); // plain comment //~ not-this\n"
    )
    expected = read_expectations(source)
    assert expected.safe is True
    assert expected.findings == [(3, "SR002"), (3, "leak"), (6, "use-after-free")]


def test_safe_only_on_first_non_blank_line() -> None:
    assert read_expectations("f();\n//~ safe\n").safe is False
    assert read_expectations("// title\n//~ safe\n").safe is False
    assert read_expectations("").findings == []


def test_errors_survive_pickling() -> None:
    import pickle

    err = failure(PRELUDE + "SSL_new(ctx, ctx);", ResolveError)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ResolveError
    assert (copy.message, copy.span, copy.label, copy.source) == \
        (err.message, err.span, err.label, err.source)
    assert str(copy) == "t.sess:4:1: `SSL_new` takes 1 argument but 2 were given"


def test_static_is_accepted_and_ignored() -> None:
    program = parse("static SSL_SESSION *c = NULL;\nstatic int f(void) { return 0; }\n", "s.sess")
    decl = program.items[0]
    assert decl.ctype.base == "SSL_SESSION" and decl.ctype.pointers == 1
    assert decl.span.column == 1


def test_void_cast_discards_a_result() -> None:
    program = parse("SSL_SESSION *s = NULL;\n(void)SSL_SESSION_up_ref(s);\n", "v.sess")
    stmt = program.items[1]
    assert stmt.expr.func == "SSL_SESSION_up_ref"


def test_callbacks_must_have_the_callbacks_signature() -> None:
    wrong = PRELUDE + "int on_remove(SSL_CTX *c, SSL_SESSION *x) { return 0; }\nSSL_CTX_sess_set_remove_cb(ctx, on_remove);"
    err = failure(wrong, ResolveError)
    assert "signature" in err.message and "void (*)(SSL_CTX *, SSL_SESSION *)" in err.label
    at(err, 5, 33)
    err = failure(PRELUDE + "SSL_CTX_sess_set_remove_cb(ctx, s);", ResolveError)
    assert "a function of the script" in err.message
    fine = PRELUDE + "void on_remove(SSL_CTX *c, SSL_SESSION *x) { }\nSSL_CTX_sess_set_remove_cb(ctx, on_remove);\n"
    check(fine)
    check(PRELUDE + "SSL_CTX_sess_set_remove_cb(ctx, NULL);\n")
    get_cb = "SSL_SESSION *lookup(SSL *l, const unsigned char *id, int n, int *copy) { return NULL; }\n"
    check(PRELUDE + get_cb + "SSL_CTX_sess_set_get_cb(ctx, lookup);\n")
