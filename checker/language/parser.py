"""Parse operation scripts (`.sess` files) into the syntax tree of `ast.py`.

`parse` runs three steps: a character check (no NUL or other control characters),
a bracket pre-scan (nesting deeper than `MAX_NESTING` is refused before Lark sees
it), then the LALR parse, which builds AST nodes directly as it reduces rules (no
intermediate Lark tree). Nothing here recurses over the input, so no script can
cause a RecursionError, and every AST returned is at most `MAX_TREE_DEPTH` deep.

Spans come from tokens: the parser keeps every token (`keep_all_tokens`), so a
node spans from its first token to its last, keywords and `;` included. This does
what Lark's `propagate_positions` would, at about a third of the cost.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, NamedTuple

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import cint
from .ast import (
    AddrOf,
    Assign,
    Assume,
    Binary,
    Block,
    Break,
    Call,
    Cast,
    Continue,
    Contract,
    CType,
    Deref,
    Expr,
    ExprStmt,
    For,
    FuncDecl,
    FuncDef,
    If,
    IntLit,
    Name,
    Nondet,
    NullLit,
    Param,
    Program,
    Return,
    Span,
    Stmt,
    StrLit,
    Unary,
    VarDecl,
    While,
)
from .datacache import data_file
from .errors import ParseError
from .source import display_name, read_bytes

MAX_NESTING = 200  # `{` and `(` open at once
MAX_TREE_DEPTH = 256  # AST levels (long `else if` chains, `!!!!x`, `a + a + ... + a`)
MAX_NUMBER = 2**64 - 1

_GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")
_lark: Lark | None = None
_lock = threading.Lock()  # the parser and its callbacks hold per-parse state


def _parser() -> Lark:
    """The LALR parser, built on first use and kept for the life of the process."""
    global _lark
    if _lark is None:
        grammar = _GRAMMAR_FILE.read_text(encoding="utf-8").replace("@OPAQUE_TYPES@", _opaque_types())
        _lark = Lark(
            grammar,
            parser="lalr",
            lexer="basic",
            keep_all_tokens=True,
            maybe_placeholders=False,
            transformer=_Callbacks(_BUILDER),
            # Lark's own cache of the parse tables (0.15 s of every start): the file records
            # the grammar's and the options' hash, and one that does not match is rebuilt.
            cache=_grammar_cache(grammar),
        )
    return _lark


def _grammar_cache(grammar: str) -> str | bool:
    path = data_file("grammar", hashlib.sha256(grammar.encode()).hexdigest(), ".lark")
    return str(path) if path is not None else False


def _opaque_types() -> str:
    """A regular expression for the catalogue's untracked type names (each a whole word)."""
    from .catalogue import CATALOGUE

    keywords = {"void", "SSL_SESSION", "SSL_CTX", "SSL", "SSL_METHOD", "SSL_CIPHER", "BIO", "X509", "FILE"}
    found: set[str] = set()
    for e in CATALOGUE.values():
        for t in [e.prototype.ret, *(c for c, _ in e.prototype.params)]:
            if t.base not in keywords and cint.int_type(t.base) is None and re.fullmatch(r"[A-Za-z_]\w*", t.base):
                found.add(t.base)
    words = "|".join(sorted(found, key=lambda w: (-len(w), w)))
    return rf"(?:STACK_OF[ \t]*\([ \t]*\w+[ \t]*\)|(?:{words})\b)"


# ---- entry points ----------------------------------------------------------------


def parse(source: str, file: str) -> Program:
    """Parse a whole script; raise ParseError (with a span) on the first problem."""
    try:
        _check_characters(source, file)
        text = _preprocess(source, file)
        openers = _check_nesting(text, file)
        with _lock:
            parser = _parser()
            _BUILDER.reset(file)
            try:
                items: list[Any] = parser.parse(text)  # type: ignore[assignment]
            except UnexpectedInput as exc:
                raise _syntax_error(exc, source, file, openers) from None
            finally:
                _BUILDER.reset("")
    except ParseError as err:
        if err.source is None:
            err.source = source
        raise
    functions: dict[str, FuncDef] = {}
    declarations: dict[str, FuncDecl] = {}
    for item in items:
        if isinstance(item, FuncDef):
            functions.setdefault(item.name, item)
        elif isinstance(item, FuncDecl):
            try:
                declarations.setdefault(item.name, _with_contract(item, source, file))
            except ParseError as err:
                err.source = source
                raise
    return Program(file, source, tuple(i for i in items if not isinstance(i, FuncDecl)), functions,
                   declarations=declarations)


CONTRACT = re.compile(r"(?://|/\*)\s*sessref:\s*(.*?)\s*(?:\*/|$)")
_ROLE = re.compile(r"(borrows|holds|takes)\s*\(\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*\)")
_RETURNS = re.compile(r"returns\s+(owned|borrowed)\b")
_TRACKED = ("SSL_SESSION", "SSL", "SSL_CTX")


def parse_contract(text: str, params: tuple[Param, ...], ret: CType, where: Span, name: str) -> Contract:
    """`holds(s), borrows(ssl), returns owned`: each tracked parameter's role and the result's.
    Every tracked parameter needs a role, and a tracked result `returns owned|borrowed`."""
    roles = {p.name: "" for p in params}
    returns = ""
    rest = text
    for m in _ROLE.finditer(text):
        for pname in re.split(r"\s*,\s*", m.group(2)):
            if pname not in roles:
                raise ParseError(f"`{name}` has no parameter `{pname}`", where, label="in this contract",
                                 help="name the parameters as the prototype does")
            roles[pname] = m.group(1)
        rest = rest.replace(m.group(0), "", 1)
    m = _RETURNS.search(text)
    if m:
        returns = m.group(1)
        rest = rest.replace(m.group(0), "", 1)
    if rest.strip(" ,;"):
        raise ParseError(f"`{rest.strip(' ,;')}` is not part of a contract", where, label="in this contract",
                         help="write `borrows(p)`, `holds(p)`, `takes(p)` for each session, SSL or SSL_CTX parameter, "
                              "and `returns owned` or `returns borrowed` for such a result, separated by commas")
    for p in params:
        tracked = p.ctype.pointers == 1 and p.ctype.base in _TRACKED
        if tracked and not roles[p.name]:
            raise ParseError(f"the contract of `{name}` does not say what it does with `{p.name}`", where,
                             label=f"`{p.name}` is an `{p.ctype}`",
                             help=f"add `borrows({p.name})` (it only reads it), `holds({p.name})` (it keeps a reference "
                                  f"of its own) or `takes({p.name})` (it releases one)")
        if roles[p.name] and not tracked:
            raise ParseError(f"`{p.name}` is not a session, SSL or SSL_CTX: it has no role in a contract", where,
                             label=f"`{p.name}` is `{p.ctype}`")
    tracked_result = ret.pointers == 1 and ret.base in _TRACKED
    if tracked_result and not returns:
        raise ParseError(f"the contract of `{name}` does not say what its `{ret}` result is", where,
                         label="a tracked result", help="add `returns owned` (a new reference, or NULL) or "
                         "`returns borrowed` (a pointer without a reference, or NULL)")
    if returns and not tracked_result:
        raise ParseError(f"`{name}` returns `{ret}`, not a session, SSL or SSL_CTX", where, label="remove `returns`")
    if returns and ret.base != "SSL_SESSION":
        raise ParseError(f"only an `SSL_SESSION *` result can have a contract yet (`{name}` returns `{ret}`)", where,
                         label="not supported")
    return Contract(tuple(roles[p.name] for p in params), returns, where)


def _with_contract(decl: FuncDecl, source: str, file: str) -> FuncDecl:
    """The declaration with the contract its `sessref:` comment states (on its last line, or
    the line before its first): none when no parameter or result is tracked."""
    lines = source.split("\n")
    for line_no in (decl.span.end_line, decl.span.line - 1):
        if 1 <= line_no <= len(lines):
            m = CONTRACT.search(lines[line_no - 1])
            if m:
                base = sum(len(x) + 1 for x in lines[: line_no - 1])
                where = Span(file, line_no, m.start() + 1, line_no, m.end() + 1, base + m.start(), base + m.end())
                return replace(decl, contract=parse_contract(m.group(1), decl.params, decl.ret, where, decl.name))
    return replace(decl, contract=parse_contract("", decl.params, decl.ret, decl.name_span, decl.name))


def parse_file(path: str | Path) -> Program:
    """Read a script as UTF-8 (a leading BOM is dropped) and parse it; `-` is standard input."""
    return parse(decode(read_bytes(str(path)), display_name(str(path))), display_name(str(path)))


def require_statements(program: Program) -> Program:
    """`program`, or the error an empty script gets (nothing to check is not safe)."""
    if not program.items:
        raise ParseError(
            "the script is empty: nothing to check",
            Span(program.file, 1, 1, 1, 1),
            help="write the OpenSSL calls to check, one statement per line",
            source=program.source,
        )
    return program


def decode(data: bytes, file: str) -> str:
    """A script's bytes as text: UTF-8, a leading BOM dropped; a located error otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        span = Span(file, line, column, line, column + 1, len(prefix), len(prefix) + 1)
        raise ParseError(
            "the file is not valid UTF-8",
            span,
            label=f"byte 0x{data[exc.start]:02x} is not valid here",
            help="scripts must be UTF-8 text",
            source=data.decode("utf-8", "replace"),
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# ---- pre-checks ------------------------------------------------------------------


def _span_at(source: str, file: str, offset: int, length: int = 1) -> Span:
    """A span of `length` characters on one line starting at character `offset`."""
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return Span(file, line, column, line, column + length, offset, offset + length)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _check_characters(source: str, file: str) -> None:
    """Refuse NUL and other control characters (tab, newline, CR, form feed are fine)."""
    bad = _CONTROL.search(source)
    if bad is None:
        return
    char = bad.group()
    what = "a NUL byte" if char == "\0" else f"control character U+{ord(char):04X}"
    raise ParseError(
        f"{what} in the source",
        _span_at(source, file, bad.start()),
        label="not allowed in a script",
        help="is this a binary file?",
    )


# Brackets outside comments and strings; unterminated comments and strings are
# skipped to the end here and reported by the lexer later.
_BRACKETS = re.compile(r'//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|"(?:[^"\\\n]+|\\.)*"?|[{}()]')


def _check_nesting(source: str, file: str) -> list[int]:
    """Refuse brackets nested deeper than MAX_NESTING; return the offsets of those left open."""
    open_at: list[int] = []
    for m in _BRACKETS.finditer(source):
        char = m.group()
        if char in "{(":
            open_at.append(m.start())
            if len(open_at) > MAX_NESTING:
                raise ParseError(
                    f"nesting too deep: more than {MAX_NESTING} levels of `{{` and `(`",
                    _span_at(source, file, m.start()),
                    label="this one is too deep",
                )
        elif char in "})" and open_at:
            open_at.pop()
    return open_at


# Comments and strings (skipped), and preprocessor lines: a `#` first on its line.
_DIRECTIVES = re.compile(
    r'//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|"(?:[^"\\\n]+|\\.)*"?|^[ \t]*#(?:[^\\\n]+|\\\n|\\)*', re.MULTILINE
)
_INCLUDE = re.compile(r'[ \t]*#[ \t]*include[ \t]*(?:<([^>\n]*)>|"([^"\n]*)")[ \t]*(?://[^\n]*|/\*.*?\*/)?[ \t]*\Z')


def _preprocess(source: str, file: str) -> str:
    """`#include <...>` lines (OpenSSL and system headers: the script's calls are known
    without them) become blanks of the same length, so every span stays where it was.
    Other directives are refused: sessref runs no preprocessor."""
    blanked: list[tuple[int, int]] = []
    for m in _DIRECTIVES.finditer(source):
        text = m.group()
        if not text.lstrip(" \t").startswith("#"):
            continue
        at = m.start() + text.index("#")
        include = _INCLUDE.match(text)
        if include is not None and include.group(1) is not None:
            blanked.append((m.start(), m.end()))
            continue
        if include is not None:
            raise ParseError(
                f'`#include "{include.group(2)}"` is not supported: sessref reads one script at a time',
                _span_at(source, file, at, len(text.rstrip()) - text.index("#")),
                label="a quoted include",
                help="paste the functions the script needs from that file into the script",
            )
        word = re.match(r"#[ \t]*(\w*)", text[text.index("#"):])
        name = word.group(1) if word else ""
        raise ParseError(
            f"preprocessor directive `#{name}` is not supported: sessref runs no preprocessor",
            _span_at(source, file, at, 1 + len(name) if name else 1),
            label="a preprocessor line",
            help="`#include <...>` of OpenSSL and system headers is accepted and ignored; for anything else, "
            "write the code the preprocessor would produce (a constant's value, the branch of an `#if` that applies)",
        )
    if not blanked:
        return source
    out, last = [], 0
    for start, end in blanked:
        out += [source[last:start], re.sub(r"[^\n]", " ", source[start:end])]
        last = end
    out.append(source[last:])
    return "".join(out)


# ---- syntax errors ------------------------------------------------------------------
# Terminal names are Lark's: keywords upper-cased (`if` -> IF), punctuation named
# (`;` -> SEMICOLON, `(` -> LPAR, `{` -> LBRACE, `=` -> EQUAL, `,` -> COMMA).

_STATEMENT_START = {"IF", "WHILE", "FOR", "RETURN", "BREAK", "CONTINUE", "ASSUME", "LBRACE"}
_TYPE_START = {"STATIC", "CONST", "INT", "LONG", "CHAR", "VOID", "UNSIGNED", "SIZE_T", "TIME_T", "UINT32_T",
               "SSL_SESSION", "SSL_CTX", "SSL", "SSL_METHOD", "SSL_CIPHER", "BIO", "X509", "FILE"}
_TERMINAL_WORDS = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string", "$END": "end of file"}


def _terminal_text(name: str) -> str:
    """How an expected terminal is shown: `;` for punctuation and keywords, words otherwise."""
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for term in _parser().terminals:
        if term.name == name and term.pattern.type == "str":
            return f"`{term.pattern.value}`"
    return name.lower()


def _found(token: Token) -> str:
    if token.type in ("STRING", "$END"):
        return _TERMINAL_WORDS[token.type]
    return f"`{token.value}`"


def _token_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


def _previous_token_end(source: str, file: str, offset: int) -> Span | None:
    """A one-character span just after the last token that ends before `offset`."""
    last = None
    for tok in _parser().lex(source[:offset]):
        last = tok
    if last is None:
        return None
    return Span(file, last.end_line, last.end_column, last.end_line, last.end_column + 1,
                last.end_pos, last.end_pos + 1)


def _open_before(source: str, offset: int) -> int:
    """How many brackets are open at `offset` (comments and strings aside)."""
    depth = 0
    for m in _BRACKETS.finditer(source, 0, offset):
        if m.group() in "{(":
            depth += 1
        elif m.group() in "})":
            depth = max(depth - 1, 0)
    return depth


def _syntax_error(exc: UnexpectedInput, source: str, file: str, openers: list[int]) -> ParseError:
    """Turn a Lark exception into a short, named ParseError."""
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        if source.startswith("/*", pos):
            return ParseError("unterminated comment", _span_at(source, file, pos, 2),
                              label="this comment is never closed with `*/`")
        if source[pos] == '"':
            return ParseError("unterminated string", _span_at(source, file, pos),
                              label="this string has no closing `\"` on its line")
        return ParseError(f"unexpected character `{source[pos]}`", _span_at(source, file, pos),
                          label="not part of the language")
    if isinstance(exc, UnexpectedToken):
        # Lark's own `expected` over-approximates (LALR merges states); `accepts()`
        # replays the parser to find what could really come next.
        expected = set(exc.expected)
        if exc.interactive_parser is not None:
            expected = set(exc.interactive_parser.accepts())
        return _unexpected_token(exc.token, expected, source, file, openers)
    if isinstance(exc, UnexpectedEOF):
        return ParseError("unexpected end of file", _span_at(source, file, max(len(source) - 1, 0)))
    return ParseError(f"syntax error ({type(exc).__name__})", None)


def _one_of(expected: set[str]) -> str:
    words = sorted(_terminal_text(name) for name in expected)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _unexpected_token(
    token: Token, expected: set[str], source: str, file: str, openers: list[int]
) -> ParseError:
    found = _found(token)
    if token.type == "$END":
        here = Span(file, token.end_line, token.end_column, token.end_line,  # type: ignore[arg-type]
                    token.end_column + 1, token.end_pos, token.end_pos + 1)  # type: ignore[operator]
        if openers:
            opener = source[openers[-1]]
            closer = "}" if opener == "{" else ")"
            return ParseError(f"unexpected end of file: a `{closer}` is missing",
                              _span_at(source, file, openers[-1]),
                              label=f"this `{opener}` is never closed")
        if expected & _STATEMENT_START:
            return ParseError("unexpected end of file", here, label="expected a statement")
        if "SEMICOLON" in expected:
            return ParseError("expected `;` after the statement", here, label="expected `;` here")
        return ParseError("unexpected end of file", here, label="the script stops in the middle")

    span = _token_span(file, token)
    if token.type in ("RPAR", "RBRACE") and not _open_before(source, token.start_pos):  # type: ignore[arg-type]
        opener = "(" if token.type == "RPAR" else "{"
        return ParseError(f"unexpected {found}", span, label=f"no `{opener}` is open here")
    if expected & _STATEMENT_START:
        return ParseError(f"unexpected {found}", span, label="expected a statement")
    if "SEMICOLON" in expected:
        if token.type == "LPAR" and expected <= {"EQUAL", "SEMICOLON"}:
            return ParseError("functions can only be defined at the top level", span,
                              label="a function definition starts here")
        if "NAME" in expected:
            return ParseError(f"expected an expression or `;`, found {found}", span,
                              label="expected an expression or `;`")
        where = _previous_token_end(source, file, token.start_pos) or span  # type: ignore[arg-type]
        return ParseError("expected `;` after the statement", where,
                          label=f"expected `;` here, before {found}")
    if expected & _TYPE_START and "NAME" not in expected:
        return ParseError(f"expected a type, found {found}", span, label="expected a type")
    if "RPAR" in expected:
        want = "`,` or `)`" if "COMMA" in expected else "`)`"
        return ParseError(f"expected {want}, found {found}", span, label=f"expected {want}")
    if expected >= {"NAME", "NUMBER"}:
        return ParseError(f"expected an expression, found {found}", span,
                          label="expected an expression")
    if len(expected) == 1:
        want = _one_of(expected)
        return ParseError(f"expected {want}, found {found}", span, label=f"expected {want}")
    label = f"expected {_one_of(expected)}" if 0 < len(expected) <= 4 else ""
    return ParseError(f"unexpected {found}", span, label=label)


# ---- AST construction ------------------------------------------------------------------

_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
                   "\\": "\\", '"': '"', "'": "'", "?": "?"}


class _Piece(NamedTuple):
    """A parsed fragment that has no AST node of its own (a type), with its span."""

    value: Any
    span: Span


class _Builder:
    """Builds AST nodes as the LALR parser reduces rules.

    Rule (or alias) `foo` of the grammar is handled by `on_foo(children)`, where the
    children are every token of the rule plus the nodes already built for sub-rules.
    """

    def __init__(self) -> None:
        self.file = ""
        self.heights: dict[int, int] = {}  # id(node) -> height, for the depth limit

    def reset(self, file: str) -> None:
        self.file = file
        self.heights = {}

    def made(self, node: Any, children: list[Any]) -> Any:
        """Record the height of a freshly built node; refuse trees deeper than the limit."""
        heights = self.heights
        height = 1
        for child in children:
            if not isinstance(child, Token):  # tokens are leaves (and never registered)
                height = max(height, heights.get(id(child), 0) + 1)
        if height > MAX_TREE_DEPTH:
            raise ParseError(f"the script nests too deeply (more than {MAX_TREE_DEPTH} levels)",
                             self.span(children[0], children[-1]), label="nested too deeply")
        heights[id(node)] = height
        return node

    # -- spans --

    def span(self, first: Any, last: Any) -> Span:
        """From the start of `first` to the end of `last` (tokens or things with a span)."""
        if isinstance(first, Token):
            line, column, start = first.line, first.column, first.start_pos
        else:
            line, column, start = first.span.line, first.span.column, first.span.start
        if isinstance(last, Token):
            end_line, end_column, end = last.end_line, last.end_column, last.end_pos
        else:
            end_line, end_column, end = last.span.end_line, last.span.end_column, last.span.end
        return Span(self.file, line, column, end_line, end_column, start, end)  # type: ignore[arg-type]

    def whole(self, children: list[Any]) -> Span:
        return self.span(children[0], children[-1])

    def token_span(self, tok: Token) -> Span:
        return _token_span(self.file, tok)

    def target(self, target: Token | Deref) -> Name | Deref:
        return target if isinstance(target, Deref) else Name(str(target), self.token_span(target))

    # -- top level --

    def on_start(self, children: list[Any]) -> list[Any]:
        return children

    def on_function(self, c: list[Any]) -> FuncDef:
        ret, name, params, body = c[0], c[1], c[3] if len(c) == 6 else (), c[-1]
        return FuncDef(ret.value, str(name), params, body, self.whole(c), self.token_span(name))

    def on_function_declaration(self, c: list[Any]) -> FuncDecl:
        ret, name = c[0], c[1]
        params = c[3] if len(c) == 6 else ()
        return FuncDecl(ret.value, str(name), params, Contract(()), self.whole(c), self.token_span(name))

    def on_parameter_list(self, c: list[Any]) -> tuple[Param, ...]:
        return tuple(p for p in c if isinstance(p, Param))

    def on_parameter(self, c: list[Any]) -> Param:
        ctype, name = c
        return Param(ctype.value, str(name), self.whole(c))

    def on_type(self, c: list[Any]) -> _Piece:
        whole = self.whole(c)
        c = [x for x in c if not (isinstance(x, Token) and x.type == "STATIC")]
        const = isinstance(c[0], Token) and c[0].type == "CONST"
        base = c[1] if const else c[0]
        stars = len(c) - (2 if const else 1)
        return _Piece(CType(base.value, stars, const), whole)

    def on_base_type(self, c: list[Any]) -> _Piece:
        if isinstance(c[0], _Piece):  # an integer type
            return c[0]
        return _Piece(re.sub(r"\s", "", str(c[0])), self.whole(c))  # `STACK_OF( X509 )`: `STACK_OF(X509)`

    def on_int_type(self, c: list[Token]) -> _Piece:
        words = [str(w) for w in c]
        name = cint.canonical(words)
        if len(words) > 1 and cint.int_type(name) is None:
            raise ParseError(f"`{' '.join(words)}` is not a C integer type", self.whole(c),
                             label="not a type")
        return _Piece(name, self.whole(c))

    # -- statements --

    def on_declaration(self, c: list[Any]) -> VarDecl:
        ctype, name = c[0], c[1]
        init = c[3] if len(c) == 4 else None
        return VarDecl(ctype.value, str(name), init, self.whole(c), self.token_span(name))

    def on_declaration_statement(self, c: list[Any]) -> VarDecl:
        decl = c[0]
        return VarDecl(decl.ctype, decl.name, decl.init, self.whole(c), decl.name_span)

    def on_expression_statement(self, c: list[Any]) -> Stmt:
        inner = c[0]
        if isinstance(inner, Assign):
            return Assign(inner.target, inner.value, self.whole(c), inner.op)
        return ExprStmt(inner, self.whole(c))

    def on_block(self, c: list[Any]) -> Block:
        return Block(tuple(c[1:-1]), self.whole(c))

    def on_if_statement(self, c: list[Any]) -> If:
        return If(c[2], c[4], c[6] if len(c) == 7 else None, self.whole(c))

    def on_while_statement(self, c: list[Any]) -> While:
        return While(c[2], c[4], self.whole(c))

    def on_for_statement(self, c: list[Any]) -> For:
        # for ( [init] ; [cond] ; [step] ) body: split the header at its two `;`
        parts: list[list[Any]] = [[]]
        for item in c[2:-2]:
            if isinstance(item, Token) and item.type == "SEMICOLON":
                parts.append([])
            else:
                parts[-1].append(item)
        init, cond, step = (part[0] if part else None for part in parts)
        return For(init, cond, step, c[-1], self.whole(c))

    def on_break_statement(self, c: list[Any]) -> Break:
        return Break(self.whole(c))

    def on_continue_statement(self, c: list[Any]) -> Continue:
        return Continue(self.whole(c))

    def on_return_statement(self, c: list[Any]) -> Return:
        return Return(c[1] if len(c) == 3 else None, self.whole(c))

    def on_assume_statement(self, c: list[Any]) -> Assume:
        return Assume(c[2], self.whole(c))

    def on_empty_statement(self, c: list[Any]) -> Block:
        return Block((), self.whole(c))

    def on_assign(self, c: list[Any]) -> Assign:
        return Assign(self.target(c[0]), c[2], self.whole(c), "=")

    def on_add_assign(self, c: list[Any]) -> Assign:
        return Assign(self.target(c[0]), c[2], self.whole(c), "+=")

    def on_subtract_assign(self, c: list[Any]) -> Assign:
        return Assign(self.target(c[0]), c[2], self.whole(c), "-=")

    def on_compound_assign(self, c: list[Any]) -> Assign:
        return Assign(self.target(c[0]), c[2], self.whole(c), str(c[1]))

    def on_increment(self, c: list[Any]) -> Assign:
        return Assign(self.target(c[0]), IntLit(1, self.token_span(c[1])), self.whole(c), "+=")

    def on_decrement(self, c: list[Any]) -> Assign:
        return Assign(self.target(c[0]), IntLit(1, self.token_span(c[1])), self.whole(c), "-=")

    # -- expressions --

    def on_dereference(self, c: list[Token]) -> Deref:
        return Deref(Name(str(c[1]), self.token_span(c[1])), self.whole(c))

    def on_address_of(self, c: list[Token]) -> AddrOf:
        return AddrOf(Name(str(c[1]), self.token_span(c[1])), self.whole(c))

    def on_binary(self, c: list[Any]) -> Binary:
        left, op, right = c
        return Binary(str(op), left, right, self.whole(c))

    def on_logical_not(self, c: list[Any]) -> Unary:
        return Unary("!", c[1], self.whole(c))

    def on_void_cast(self, c: list[Any]) -> Any:
        return c[-1]

    def on_cast(self, c: list[Any]) -> Cast:
        return Cast(CType(c[1].value), c[3], self.whole(c))

    def on_negate(self, c: list[Any]) -> Unary:
        return Unary("-", c[1], self.whole(c))

    def on_complement(self, c: list[Any]) -> Unary:
        return Unary("~", c[1], self.whole(c))

    def on_nondet(self, c: list[Token]) -> Nondet:
        return Nondet(self.whole(c))

    def on_null(self, c: list[Token]) -> NullLit:
        return NullLit(self.whole(c))

    def on_name(self, c: list[Token]) -> Name:
        return Name(str(c[0]), self.whole(c))

    def on_primary(self, c: list[Any]) -> Expr:
        return c[1]  # `( expr )`: the parentheses leave no trace

    def on_number(self, c: list[Token]) -> IntLit:
        tok = c[0]
        m = _NUMBER.fullmatch(str(tok))
        if m is None:
            what = ("octal numbers are not supported" if re.fullmatch(r"0[0-9]+", str(tok))
                    else f"invalid number `{tok}`")
            raise ParseError(what, self.token_span(tok), label="write it in decimal or 0x hex")
        digits = m.group(1)
        value = int(digits, 0)
        ctype = cint.literal_type(value, str(tok)[len(digits):], decimal=not digits[:2].lower() == "0x")
        if value > MAX_NUMBER or ctype is None:
            raise ParseError("number too large", self.token_span(tok), label="more than 64 bits")
        return IntLit(value, self.whole(c), ctype.name)

    def on_string(self, c: list[Token]) -> StrLit:
        return StrLit("".join(self.decode_string(tok) for tok in c), self.whole(c))

    def decode_string(self, tok: Token) -> str:
        """The text of a string literal token with its C escapes applied."""

        def one(m: re.Match[str]) -> str:
            code = m.group(1)
            if code in _SIMPLE_ESCAPES:
                return _SIMPLE_ESCAPES[code]
            if code[0] == "x" and len(code) > 1:
                return chr(int(code[1:], 16))
            if code[0] in "01234567":
                return chr(int(code, 8))
            column = tok.column + 1 + m.start()  # type: ignore[operator]
            offset = tok.start_pos + 1 + m.start()  # type: ignore[operator]
            width = 1 + len(code)
            raise ParseError(f"unknown escape `\\{code}` in a string",
                             Span(self.file, tok.line, column, tok.line, column + width,  # type: ignore[arg-type]
                                  offset, offset + width),
                             label="not a C escape")

        return _ESCAPE.sub(one, str(tok)[1:-1])

    def on_call(self, c: list[Any]) -> Call:
        args = c[2] if len(c) == 4 else ()
        return Call(str(c[0]), args, self.whole(c), self.token_span(c[0]))

    def on_arguments(self, c: list[Any]) -> tuple[Expr, ...]:
        return tuple(a for a in c if not (isinstance(a, Token) and a.type == "COMMA"))


class _Callbacks:
    """What Lark sees as the transformer: `rule` -> the builder's `on_rule`, height-checked.

    Rules without a handler (Lark's internal `__start_star_0` helpers) build Lark trees,
    which Lark inlines into their parent as usual.
    """

    def __init__(self, builder: _Builder) -> None:
        self._builder = builder

    def __getattr__(self, rule: str) -> Callable[[list[Any]], Any]:
        handler = getattr(self._builder, "on_" + rule)  # AttributeError: Lark's default
        made = self._builder.made

        def callback(children: list[Any]) -> Any:
            return made(handler(children), children)

        return callback


_BUILDER = _Builder()
