"""The C front end: a real C file, parsed by tree-sitter's C grammar, lowered into the AST
of operation scripts (`ast.py`), so that every later stage is shared with `.sess` input.

What is lowered, and how (README "Checking C files" says the same for users):

- Types: OpenSSL's `SSL_SESSION`, `SSL` and `SSL_CTX` (also as `struct ssl_session_st` ...),
  the file's typedefs of them, and aliases inferred from use (a value passed where an
  OpenSSL function takes `SSL_SESSION *` is a session, and so is its declared type).
  Every other type is *untracked*: scalars are any integer, pointers any pointer.
- Storage: a struct, union or array access (`c->ssl->session`, `a[i].s`, `*out`) of a
  tracked type is a storage cell named by its access path; an unknown index is `[?]`, one
  cell for all elements. File-scope variables of tracked types are cells too.
- Statements: declarations with several declarators, `static`/`const`/`volatile`,
  initialisers; `if`, `switch` (fallthrough, `default`; every case may be taken unless the
  subject is tracked), `for`, `while`, `do`/`while`, `break`, `continue`, `return`, forward
  `goto` to a label in an enclosing block; preprocessor conditionals (`#if`, `#ifdef`,
  `#else`, `#elif`) are decided from OpenSSL 3.0's macros and `-D`/`-U`, else explored both
  ways as `if (*)`.
- Expressions: casts are dropped; `?:`; calls of the file's functions are followed; calls
  of modelled OpenSSL functions are the model's; function-like `#define`s of the file are
  expanded; every other call (a project helper, a log macro, an OpenSSL function without
  semantics) is assumed neutral, and listed as such in `CUnit.notes`. Arithmetic, strings
  and fields of untracked data are unknown values.

The one place that says what a function name is: `function_status`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from . import ast
from .catalogue import entry as catalogue_entry
from .errors import ParseError
from .prototypes import CALLBACK_SIGNATURES, CONSTANTS, OBJECT_TYPES, PROTOTYPES

OBJECTS = frozenset(OBJECT_TYPES)
STRUCT_TAGS = {"ssl_session_st": "SSL_SESSION", "ssl_st": "SSL", "ssl_ctx_st": "SSL_CTX"}
# What `#if` tests see: the model is OpenSSL 3.0's (`-D`/`-U` override any of these).
VERSION_MACROS = {
    "OPENSSL_VERSION_NUMBER": 0x30000000,
    "OPENSSL_VERSION_MAJOR": 3,
    "OPENSSL_VERSION_MINOR": 0,
    "OPENSSL_API_COMPAT": 0x30000000,
}
NOT_DEFINED = frozenset({"LIBRESSL_VERSION_NUMBER", "OPENSSL_IS_BORINGSSL", "OPENSSL_IS_AWSLC",
                         "OPENSSL_NO_TLS1_3", "OPENSSL_NO_SOCK", "WOLFSSL_VERSION"})
# Build flags that say OpenSSL is in the build (curl's USE_OPENSSL, Paho's OPENSSL, nginx's
# NGX_SSL, HAVE_OPENSSL3): the build sessref checks is that one.
OPENSSL_ON = re.compile(r"^((USE|HAVE|WITH|ENABLE)_)?(OPEN)?SSL(3)?(_ENABLED)?$|^HAVE_OPENSSL\d*$|^NGX_(HTTP_|STREAM_|MAIL_)?SSL$")
# An all-caps attribute or export macro before a declaration's type (stunnel's NOEXPORT,
# Cyrus's EXPORTED and HIDDEN): blanked before parsing, as the compiler's macro would leave it.
ATTRIBUTE_MACRO = re.compile(r"(?m)^([ \t]*(?:static[ \t]+)?)([A-Z][A-Z0-9_]{2,})[ \t]+(?=(?:static[ \t]+|const[ \t]+|unsigned[ \t]+|struct[ \t]+|enum[ \t]+)*[A-Za-z_]\w*[ \t\*]+\**[A-Za-z_]\w*[ \t]*\()")
CALLBACK_KINDS = {  # registration -> the entry kind of the function it registers
    "SSL_CTX_sess_set_new_cb": "new_session_cb",
    "SSL_CTX_sess_set_get_cb": "get_session_cb",
    "SSL_CTX_sess_set_remove_cb": "remove_session_cb",
}
# Project helpers whose name says they free what they are given: a struct passed to one
# dies with its fields (a session held in one of them is then lost, and not released later).
FREEING = re.compile(r"(^|_)(free|destroy|release|delete|dealloc|cleanup)($|_)|free$", re.I)
# Memory deallocators: a struct given to one dies with its fields, and what they held is lost.
# Any other free-named helper (`tls_free_context`, `conn_destroy`) is the struct's destructor.
MEMORY_FREE = frozenset({
    "free", "cfree", "xfree", "myfree", "zfree", "kfree", "efree", "g_free", "OPENSSL_free", "OPENSSL_clear_free",
    "CRYPTO_free", "CRYPTO_clear_free", "talloc_free", "TALLOC_FREE", "ngx_pfree", "ngx_free", "curlx_free",
    "Curl_safefree", "safefree", "mem_free", "os_free", "str_free", "av_free", "av_freep", "PyMem_Free",
    "PyObject_Free", "PyMem_RawFree", "sk_free", "BUF_MEM_free",
})
CALLER_RELEASES = "__sessref_caller_releases"  # model/entry.py: released once if the function still owns it
# Log, debug and assertion helpers (`ngx_log_debug2`, `infof`, `RDEBUG`, `s_log`, `msg_info`):
# given a session, they print it and keep nothing.
LOGGING = re.compile(r"(?i)(^|_)(v?s?n?printf?|log\w*|\w*debug\w*|\w*trace|trc|assert\w*|warn\w*|err(or)?|info\w*|"
                     r"dump|msg\w*|verbose|fail\w*)($|_)|debug|log|printf|^\w?info|^\w?fail|^syslog$|^R?DEBUG")
# A helper given one session whose name says it releases it (`ngx_ssl_free_session`, a wrapper of
# `SSL_SESSION_free`); "delete"/"remove" name cache operations (`tls_cache_delete_request`), not frees.
SESSION_FREEING = re.compile(r"(^|_)(free|destroy|release|unref)($|_)|free$", re.I)
# Text that looks like session code: a part that cannot be read is then an error, not a warning.
SESSION_TEXT = re.compile(r"\b(SSL_SESSION\w*|SSL_get[01]?_session|SSL_set_session|d2i_SSL_SESSION|i2d_SSL_SESSION|"
                          r"SSL_CTX_sess_set_\w+|SSL_CTX_(add|remove)_session|PEM_read_bio_SSL_SESSION)\b")
HELPER_KEEPS = "__sessref_helper_keeps"  # model/entry.py: a project helper may keep what the function owns
ANNOTATION = re.compile(r"sessref:\s*(.*?)\s*(?:\*/|$)", re.M)

Type = tuple[str, int]  # (base, pointer depth): ("SSL_SESSION", 1)
# Project typedef names, without their prefix and `_t`, that name an OpenSSL type (nginx's
# ngx_ssl_session_t, ngx_ssl_conn_t), when the file does not define them.
_NAMED_TYPEDEFS = {"ssl_session": "SSL_SESSION", "ssl_conn": "SSL"}
_UPPER_NAMES = frozenset(n.upper() for n in PROTOTYPES)  # `HAVE_` + one of these is defined


def function_status(name: str, modelled: frozenset[str]) -> str:
    """What sessref knows of a function it meets in C input, from the function catalogue:
    "modelled" (the model gives it semantics), "neutral" (it changes nothing the model
    tracks), "unmodelled" (it does, and the model lacks it: its paths are unknown), or
    "unknown" (a project helper or macro: assumed neutral, and said so in the report)."""
    if name in modelled or name.startswith("__sessref_caller"):
        return "modelled"
    found = catalogue_entry(name)
    if found is None:
        return "unknown"
    return found.status


def prototype(name: str):
    """The OpenSSL prototype of `name`, or None."""
    return PROTOTYPES.get(name)


@dataclass
class CFunction:
    """What the front end learnt about one function of the file."""

    name: str
    kind: str = "plain"  # "plain" or a callback kind: "new_session_cb" ...
    registered: str = ""  # the registration call that names it, if the file has one
    uses_sessions: bool = False  # calls a session API (or another function that does)
    annotations: dict[str, str] = field(default_factory=dict)  # `/* sessref: sess owned */`
    events: list[tuple[str, str]] = field(default_factory=list)  # (cell, "read"|"write"), in order
    callees: list[str] = field(default_factory=list)
    call_spans: dict[str, ast.Span] = field(default_factory=dict)  # the first call of each callee
    cache_mode: int | None = None  # the constant session cache mode set where it is registered


@dataclass
class CUnit:
    """A lowered C file: its functions and storage cells, before an entry context is added."""

    file: str
    source: str
    functions: dict[str, ast.FuncDef]
    info: dict[str, CFunction]
    cells: dict[str, ast.CType]  # storage cells (globals and access paths) of tracked types
    globals: list[ast.VarDecl]  # program-wide variables (an unknown `#if` condition's value)
    notes: list[str]
    synthetic: list[str]  # text appended to `source` (macro expansions, the entry context)
    lowerer: object = None  # lowers the entry context (`synthetic_block`)
    declarations: dict[str, ast.FuncDecl] = field(default_factory=dict)  # prototypes with a contract


# ---- positions ----------------------------------------------------------------------


class _Text:
    """Byte offsets (tree-sitter's) to character offsets and line/column (Span's)."""

    def __init__(self, file: str, source: str, base: int = 0) -> None:
        self.file = file
        self.source = source
        self.base = base
        data = source.encode("utf-8")
        self.ascii = len(data) == len(source)
        self.data = data
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def char(self, byte: int) -> int:
        return byte if self.ascii else len(self.data[:byte].decode("utf-8", errors="ignore"))

    def span(self, start_byte: int, end_byte: int) -> ast.Span:
        start, end = self.char(start_byte), self.char(end_byte)
        return ast.Span(self.file, *self.position(start), *self.position(end), start + self.base, end + self.base)

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1


class _Anchored(_Text):
    """Synthetic text (a macro expansion, the entry context): its characters are appended to
    the program's source, so reports quote them, but it is shown at an anchor in the file;
    each node gets its own column there so that choices stay distinct."""

    def __init__(self, file: str, source: str, base: int, anchor: ast.Span, columns: dict,
                 later: tuple[tuple[int, ast.Span], ...] = ()) -> None:
        super().__init__(file, source, base)
        self.anchors = ((0, anchor), *later)  # (from this character of `source` on, shown here)
        self.columns = columns  # shared per anchor line: start offset -> column

    def span(self, start_byte: int, end_byte: int) -> ast.Span:
        local = self.char(start_byte)
        anchor = [a for at, a in self.anchors if at <= local][-1]
        start, end = local + self.base, self.char(end_byte) + self.base
        key = (anchor.line, start)
        if key not in self.columns:
            self.columns[key] = anchor.column + sum(1 for k in self.columns if k[0] == anchor.line)
        col = self.columns[key]
        return ast.Span(self.file, anchor.line, col, anchor.line, col + 1, start, end)


# ---- parsing --------------------------------------------------------------------------


def _parser():
    import tree_sitter
    import tree_sitter_c

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))


_PARSER = None


def parse_tree(text: str):
    global _PARSER
    if _PARSER is None:
        _PARSER = _parser()
    return _PARSER.parse(text.encode("utf-8"))


def _first_error(node):
    """The first ERROR or MISSING node under `node`, in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_missing or n.type == "ERROR":
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return None


def _first_missing(node):
    """The first MISSING node (a token tree-sitter had to assume) under `node`."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return None


def _text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


def _strip(node):
    """The expression under parentheses and casts."""
    while node is not None and node.type in ("parenthesized_expression", "cast_expression"):
        node = node.child_by_field_name("value") if node.type == "cast_expression" else node.named_children[0] if node.named_children else None
    return node


# ---- the front end ----------------------------------------------------------------------


def lower_c(file: str, source: str, modelled: frozenset[str], defines: dict[str, int | None] | None = None,
            undefines: Iterable[str] = (), base: int = 0) -> CUnit:
    """Parse and lower a C file. Raises ParseError (with file:line:col) on what it cannot take.
    `base`: where the file's text starts in the program's source (an imported file follows
    the script that imports it)."""
    return _Lowerer(file, source, modelled, defines or {}, frozenset(undefines), base).run()


class _Lowerer:
    def __init__(self, file: str, source: str, modelled: frozenset[str], defines: dict[str, int | None],
                 undefines: frozenset[str], base: int = 0) -> None:
        self.file = file
        self.base = base
        self.source = source
        self.modelled = modelled
        self.defines = defines
        self.undefines = undefines
        self.text = _Text(file, source, base)
        self.typedefs: dict[str, Type] = {}
        self.structs: dict[str, dict[str, Type]] = {}  # struct tag or typedef -> field -> type
        self.macros: dict[str, tuple[list[str], str]] = {}  # function-like #define
        self.inferred: dict[tuple, Type] = {}  # (scope, name) or ("path", text) -> type
        self.global_types: dict[str, Type] = {}
        self.function_nodes: dict[str, object] = {}
        self.info: dict[str, CFunction] = {}
        self.cells: dict[str, ast.CType] = {}
        self.notes: list[str] = []
        self.neutral_seen: set[str] = set()
        self.synthetic: list[str] = []
        self.columns: dict = {}
        self.counter = 0
        self.globals: list[ast.VarDecl] = []
        self.global_nodes: list = []
        self.helper_results: dict[int, str] = {}  # id of an Unknown -> the helper that returned it
        self.copy_param: str | None = None
        self.cell_alias: dict[str, str] = {}  # `__cell_N` in an entry context -> a cell's name
        self.broken_nodes: dict[str, object] = {}  # functions tree-sitter could not parse
        self.pp_vars: dict[str, str] = {}  # an unknown `#if` condition's text -> its variable
        self.prototype_nodes: list = []  # (declaration, declarator) of prototypes with a `sessref:` comment
        self.declarations: dict[str, ast.FuncDecl] = {}  # their contracts (README "Functions without a body")

    # -- errors --

    def error(self, message: str, node, label: str = "", help: str | None = None, text: _Text | None = None) -> ParseError:
        t = text or self.text
        span = t.span(node.start_byte, max(node.end_byte, node.start_byte + 1))
        return ParseError(message, span, label=label, help=help, source=self.source)

    def span(self, node) -> ast.Span:
        return self.cur_text.span(node.start_byte, node.end_byte)

    # -- whole file --

    def run(self) -> CUnit:
        tree = self.parse_whole()
        self.cur_text = self.text
        self.broken: list = []  # (name or None, the first ERROR/MISSING node) of what was not parsed
        self.top_level(tree.root_node.children)
        for name, bad in self.broken:
            self.unparsed(name, bad)
        self.infer()
        for node, d in self.prototype_nodes:
            self.contract(node, d)
        for name, node in self.function_nodes.items():
            self.info[name].annotations = self.annotations(node)
        self.find_callbacks()
        functions: dict[str, ast.FuncDef] = {}
        for name, node in list(self.function_nodes.items()):
            try:
                missing = _first_missing(node)
                if missing is not None:
                    raise self.error(f"cannot parse `{name}`: missing `{missing.type}`", missing, label="here",
                                     help="a macro that hides syntax here needs a simpler form")
                functions[name] = self.function(name, node)
            except ParseError as err:
                if SESSION_TEXT.search(_text(node)):
                    raise
                self.notes.append(f"warning: `{name}` (line {node.start_point[0] + 1}) is not checked: {err.message} "
                                  f"at line {err.span.line if err.span else '?'}; it uses no session API")
                del self.function_nodes[name]
                del self.info[name]
                for info in self.info.values():
                    if name in info.callees:
                        info.callees = [c for c in info.callees if c != name]
        if not functions:
            raise ParseError("no function of this C file could be read", ast.Span(self.file, 1, 1, 1, 1),
                             source=self.source, notes=tuple(n for n in self.notes if n.startswith("warning: ")))
        self.propagate_uses()
        for node, decl_nodes in self.global_nodes:
            for d in decl_nodes:
                self.global_decl(node, d)
        unit = CUnit(self.file, self.source, functions, self.info, self.cells, self.globals, self.notes, self.synthetic,
                     declarations=self.declarations)
        unit.lowerer = self
        return unit

    def parse_whole(self):
        """The file's tree, with the `#if` groups that can be decided resolved. A group with
        an unknown condition whose branches do not balance their braces (nginx's `#if
        (NGX_HTTP_UPSTREAM_SID)` around `if (peer == NULL) {`) cannot be kept both ways: when
        the tree has an error there, its macros are read as undefined (a feature not built),
        said in a warning, and the file parsed again."""
        text = self.blank_attribute_macros(self.decided_conditionals(self.source))
        tree = parse_tree(text)
        for _ in range(3):
            if not tree.root_node.has_error:
                break
            names = self.brace_splitting_macros(text, _error_rows(tree.root_node))
            if not names:
                break
            for name in sorted(names):
                self.notes.append(f"warning: `{name}` is read as undefined: a `#if` on it splits a statement, so the "
                                  f"file does not parse with both branches (-D {name} reads it defined)")
            self.undefines = self.undefines | names
            text = self.blank_attribute_macros(self.decided_conditionals(self.source))
            tree = parse_tree(text)
        return tree

    def blank_attribute_macros(self, text: str) -> str:
        def blank(m: re.Match) -> str:
            word = m.group(2)
            if word in OBJECTS or word in self.macros or word in CONSTANTS or word in ("SSL_CTX", "BIO", "X509", "EVP_PKEY"):
                return m.group()
            return m.group(1) + " " * len(word) + m.group()[len(m.group(1)) + len(word):]
        return ATTRIBUTE_MACRO.sub(blank, text)

    def brace_splitting_macros(self, text: str, error_rows: list[tuple[int, int]] = ()) -> set[str]:  # type: ignore[assignment]
        """The unknown macros of the `#if` groups left in `text` whose branches open more
        braces than they close (or the reverse), and of those inside an erroneous part
        whose branches are pieces of an expression (curl's `#ifdef ECONNABORTED` around
        `err == ECONNABORTED ||`)."""
        found: set[str] = set()
        lines = text.split("\n")
        stack: list[list] = []  # [macros, brace balance of the current branch, unbalanced, first row]
        for row, line in enumerate(lines):
            m = re.match(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)", line)
            if m:
                kind, rest = m.group(1), re.sub(r"/\*.*?\*/|//.*", "", m.group(2))
                if kind in ("if", "ifdef", "ifndef"):
                    names = {n for n in re.findall(r"[A-Za-z_]\w*", rest) if n != "defined" and self.defined(n) is None}
                    stack.append([names, 0, False, row])
                elif kind in ("elif", "else") and stack:
                    stack[-1][2] |= stack[-1][1] != 0
                    stack[-1][1] = 0
                    if kind == "elif":
                        stack[-1][0] |= {n for n in re.findall(r"[A-Za-z_]\w*", rest) if n != "defined" and self.defined(n) is None}
                elif kind == "endif" and stack:
                    names, balance, unbalanced, first = stack.pop()
                    if (unbalanced or balance != 0) and names:
                        found |= names
                    elif names and any(a <= first <= b for a, b in error_rows) and any(
                            re.sub(r"/\*.*?\*/|//.*", "", lines[r]).rstrip().endswith(("||", "&&", ",", "|", "?", "(", "+"))
                            for r in range(first + 1, row)):
                        found |= names
                continue
            if stack:
                code = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|/\*.*?\*/|//.*', "", line)
                stack[-1][1] += code.count("{") - code.count("}")
        return found - set(self.defines)

    def unparsed(self, name: str | None, bad) -> None:
        """What tree-sitter could not parse: an error when it looks like session code, else
        a warning naming what is not checked."""
        where = f"line {bad.start_point[0] + 1}"
        text = _text(bad) if name is None else _text(self.broken_nodes[name])
        if SESSION_TEXT.search(text):
            what = f"missing `{bad.type}`" if bad.is_missing else "this C is not understood"
            raise self.error(f"cannot parse {'`' + name + '`' if name else 'this part of the C file'}: {what}", bad,
                             label="here", help="sessref reads C as written; a macro that hides syntax (an "
                             "unbalanced brace, a `#if` splitting a statement, an attribute macro) needs a simpler form")
        if name is not None:
            self.notes.append(f"warning: `{name}` is not checked: tree-sitter cannot parse its {where}; "
                              "it uses no session API")
        elif bad.end_point[0] > bad.start_point[0] or _text(bad).strip():
            self.notes.append(f"warning: lines {bad.start_point[0] + 1}-{bad.end_point[0] + 1} are not read: "
                              "tree-sitter cannot parse them; they use no session API")

    def top_level(self, nodes) -> None:
        for node in nodes:
            t = node.type
            if not node.is_named and t != "ERROR":
                continue
            if t == "ERROR" or node.is_missing:
                self.broken.append((None, node))
                continue
            if node.has_error and t not in ("function_definition", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                                            "linkage_specification", "declaration_list", "comment"):
                self.broken.append((None, _first_error(node) or node))
                continue
            if t == "function_definition":
                name = self.declarator_name(node.child_by_field_name("declarator"))
                if name and name not in self.function_nodes:
                    self.function_nodes[name] = node
                    self.info[name] = CFunction(name)
                elif name:
                    self.notes.append(f"`{name}` is defined again at line {node.start_point[0] + 1}: "
                                      "the first definition is checked")
            elif t == "type_definition":
                self.typedef(node)
            elif t == "declaration":
                self.struct_in(node.child_by_field_name("type"))
                base = self.base_type(node)
                decls = [d for d in node.children_by_field_name("declarator")
                         if self.innermost(d).type != "function_declarator"]
                self.prototype_nodes += [(node, d) for d in node.children_by_field_name("declarator")
                                         if self.innermost(d).type == "function_declarator" and self.contract_text(node)]
                for d in decls:
                    name = self.declarator_name(d)
                    if name:
                        self.global_types[name] = self.declared(base, d)
                if decls:
                    self.global_nodes.append((node, decls))
            elif t in ("struct_specifier", "union_specifier"):
                self.struct_in(node)
            elif t == "preproc_function_def":
                params = [_text(p) for p in node.child_by_field_name("parameters").children if p.type in ("identifier", "...")]
                value = node.child_by_field_name("value")
                self.macros[_text(node.child_by_field_name("name"))] = (params, _text(value) if value else "")
            elif t in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else", "preproc_elifdef"):
                for branch in self.preproc_branches(node):
                    self.top_level(branch)
            elif t in ("linkage_specification",):
                body = node.child_by_field_name("body")
                if body is not None:
                    self.top_level(body.named_children if body.type == "declaration_list" else [body])
            elif t == "declaration_list":
                self.top_level(node.named_children)
            # #include, #define NAME value, comments, enums and prototypes need nothing.

    # -- preprocessor conditionals --

    def decided_conditionals(self, source: str) -> str:
        """The source with each `#if` group whose conditions are all known (OpenSSL 3.0's
        version macros, `-D`/`-U`) resolved as the preprocessor would: the directives and
        the branches not taken become blanks, so positions stay. Such groups may split a
        declaration or a parameter list (nginx's `#if ... const #endif`), which a parser
        cannot take; groups with an unknown condition stay, to be explored both ways."""
        lines = source.split("\n")
        out = list(lines)
        # each frame: [decided, taking_now, taken_before, directive line indexes]
        stack: list[list] = []
        i = 0
        while i < len(lines):
            start = i
            text = lines[i]
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + " " + lines[i]
            m = re.match(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)", text)
            dead = any(f[0] and not f[1] for f in stack)
            if m:
                kind, rest = m.group(1), re.sub(r"/\*.*?\*/|//.*", "", m.group(2)).strip()
                if kind in ("if", "ifdef", "ifndef"):
                    value = self.directive_value(kind, rest)
                    stack.append([value is not None, bool(value), bool(value)])
                    blank = value is not None
                elif kind == "elif" and stack:
                    frame = stack[-1]
                    if frame[0]:
                        value = self.directive_value("if", rest)
                        if value is None:
                            value = True if not frame[2] else False  # an unknown #elif after known ones
                        frame[1] = bool(value) and not frame[2]
                        frame[2] = frame[2] or frame[1]
                    blank = frame[0]
                elif kind == "else" and stack:
                    frame = stack[-1]
                    if frame[0]:
                        frame[1] = not frame[2]
                        frame[2] = True
                    blank = frame[0]
                elif kind == "endif" and stack:
                    blank = stack.pop()[0]
                else:
                    blank = False
                if blank or dead:
                    for k in range(start, i + 1):
                        out[k] = " " * len(lines[k])
            elif dead:
                for k in range(start, i + 1):
                    out[k] = " " * len(lines[k])
            i += 1
        return "\n".join(out)

    def directive_value(self, kind: str, rest: str) -> bool | None:
        if kind in ("ifdef", "ifndef"):
            name = rest.split()[0] if rest.split() else ""
            d = self.defined(name)
            return None if d is None else (d if kind == "ifdef" else not d)
        tree = parse_tree(f"#if {rest}\n#endif\n")
        node = tree.root_node.named_children[0] if tree.root_node.named_children else None
        cond = node.child_by_field_name("condition") if node is not None and node.type == "preproc_if" else None
        value = self.pp_eval(cond) if cond is not None else None
        return None if value is None else bool(value)

    def condition_value(self, node) -> bool | None:
        """The value of a `#if`/`#ifdef` condition, or None when it is not known."""
        if node.type == "preproc_ifdef":
            name = _text(node.child_by_field_name("name"))
            known = self.defined(name)
            negate = _text(node.children[0]).strip() == "#ifndef"
            return None if known is None else (known != negate)
        cond = node.child_by_field_name("condition")
        value = self.pp_eval(cond) if cond is not None else None
        return None if value is None else bool(value)

    def defined(self, name: str) -> bool | None:
        if name in self.undefines or name in NOT_DEFINED:
            return name in self.defines
        if name in self.defines or name in VERSION_MACROS or name in CONSTANTS or name in PROTOTYPES:
            return True
        if OPENSSL_ON.match(name) or name.endswith("OPENSSL_VERSION_NUMBER"):
            return True  # the build sessref checks is the one with OpenSSL (3.0) in it
        if name.startswith("HAVE_") and name[5:] in _UPPER_NAMES:
            return True  # the configure convention: `HAVE_SSL_GET1_SESSION` says OpenSSL 3.0 has it
        return None

    def pp_eval(self, node) -> int | None:
        t = node.type
        if t == "parenthesized_expression":
            return self.pp_eval(node.named_children[0])
        if t == "number_literal":
            return _number(_text(node))
        if t == "identifier":
            name = _text(node)
            if name in self.defines:
                v = self.defines[name]
                return 1 if v is None else v
            if name in self.undefines or name in NOT_DEFINED:
                return 0
            if name in VERSION_MACROS:
                return VERSION_MACROS[name]
            if name.endswith("OPENSSL_VERSION_NUMBER"):  # a project's alias (HAProxy's HA_OPENSSL_VERSION_NUMBER)
                return VERSION_MACROS["OPENSSL_VERSION_NUMBER"]
            if OPENSSL_ON.match(name):
                return 1
            return CONSTANTS.get(name)
        if t == "preproc_defined":
            name = _text(node.named_children[0]) if node.named_children else ""
            d = self.defined(name)
            return None if d is None else int(d)
        if t == "unary_expression":
            v = self.pp_eval(node.child_by_field_name("argument"))
            op = _text(node.child_by_field_name("operator"))
            if v is None:
                return None
            return {"!": int(not v), "-": -v, "~": ~v, "+": v}.get(op)
        if t == "binary_expression":
            op = _text(node.child_by_field_name("operator"))
            a = self.pp_eval(node.child_by_field_name("left"))
            b = self.pp_eval(node.child_by_field_name("right"))
            if op == "&&":
                return 0 if a == 0 or b == 0 else (1 if a is not None and b is not None else None)
            if op == "||":
                return 1 if (a or b) else (0 if a == 0 and b == 0 else None)
            if a is None or b is None:
                return None
            ops = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
                   "+": a + b, "-": a - b, "&": a & b, "|": a | b, "*": a * b}
            return int(ops[op]) if op in ops else None
        return None

    def preproc_branches(self, node) -> list[list]:
        """The branches of a top-level conditional that can be compiled: decided ones only,
        every one when the condition is unknown (functions defined twice: the first wins)."""
        branches, current = [], node
        while current is not None:
            alt = current.child_by_field_name("alternative")
            body = [c for c in current.named_children if c != alt and c.type not in (
                "identifier", "preproc_defined", "binary_expression", "unary_expression", "number_literal",
                "parenthesized_expression", "call_expression", "preproc_arg")
                and c != current.child_by_field_name("condition") and c != current.child_by_field_name("name")]
            value = True if current.type == "preproc_else" else self.condition_value(current)
            if value is True:
                branches.append(body)
                break
            if value is None:
                branches.append(body)
            current = alt
        return branches

    # -- types --

    def typedef(self, node) -> None:
        tnode = node.child_by_field_name("type")
        self.struct_in(tnode)
        base = self.type_name(tnode)
        for d in node.children_by_field_name("declarator"):
            name = self.declarator_name(d)
            if not name:
                continue
            self.typedefs[name] = (base[0], base[1] + self.depth(d))
            if tnode is not None and tnode.type in ("struct_specifier", "union_specifier"):
                tag = tnode.child_by_field_name("name")
                fields = self.structs.get(_text(tag)) if tag is not None else self.struct_fields(tnode)
                if fields is not None:
                    self.structs[name] = fields

    def struct_in(self, tnode) -> None:
        if tnode is None or tnode.type not in ("struct_specifier", "union_specifier"):
            return
        tag = tnode.child_by_field_name("name")
        fields = self.struct_fields(tnode)
        if tag is not None and fields is not None:
            self.structs[_text(tag)] = fields

    def struct_fields(self, tnode) -> dict[str, Type] | None:
        body = tnode.child_by_field_name("body")
        if body is None:
            return None
        fields: dict[str, Type] = {}
        for f in body.named_children:
            if f.type != "field_declaration":
                continue
            self.struct_in(f.child_by_field_name("type"))
            base = self.type_name(f.child_by_field_name("type"))
            for d in f.children_by_field_name("declarator"):
                name = self.declarator_name(d)
                if name:
                    fields[name] = (base[0], base[1] + self.depth(d))
        return fields

    def type_name(self, tnode) -> Type:
        """A type specifier as (base, pointers): typedefs resolved, OpenSSL struct tags named."""
        if tnode is None:
            return ("int", 0)
        t = tnode.type
        text = _text(tnode)
        if t in ("primitive_type", "sized_type_specifier"):
            return ("long", 0) if text != "void" else ("void", 0)
        if t in ("struct_specifier", "union_specifier", "enum_specifier"):
            tag = tnode.child_by_field_name("name")
            name = _text(tag) if tag is not None else ""
            if name in STRUCT_TAGS:
                return (STRUCT_TAGS[name], 0)
            return ("enum", 0) if t == "enum_specifier" else ("struct " + name, 0)
        if t == "type_identifier":
            return self.resolve_typedef(text)
        return (text, 0)

    def resolve_typedef(self, name: str) -> Type:
        seen = set()
        base, ptr = name, 0
        while base in self.typedefs and base not in seen and base not in OBJECTS:
            seen.add(base)
            b, p = self.typedefs[base]
            base, ptr = b, ptr + p
        if base in OBJECTS:
            return (base, ptr)
        if base not in self.typedefs and base not in self.structs:
            named = _NAMED_TYPEDEFS.get(re.sub(r"^[a-z]+_", "", base.lower()).removesuffix("_t"))
            if named is not None and base.endswith("_t"):
                # nginx's `ngx_ssl_session_t` (`typedef SSL_SESSION ngx_ssl_session_t;` in a
                # header the file does not hold): a project typedef named after the type
                self.note(f"`{base}` is read as `{named}` (its name; the typedef is in a header)", key=f"typedef:{base}")
                return (named, ptr)
        if base in ("size_t", "time_t", "uint32_t", "int64_t", "ssize_t", "uint8_t", "uint16_t",
                    "uint64_t", "int32_t", "off_t", "socklen_t", "pid_t", "uintptr_t", "intptr_t"):
            return ("long", ptr)
        return (base, ptr)

    def depth(self, d) -> int:
        n = 0
        while d is not None:
            if d.type in ("pointer_declarator", "abstract_pointer_declarator", "array_declarator",
                          "abstract_array_declarator"):
                n += 1
            d = d.child_by_field_name("declarator") if d.type != "init_declarator" else d.child_by_field_name("declarator")
        return n

    def innermost(self, d):
        while d is not None and d.type in ("pointer_declarator", "init_declarator", "array_declarator",
                                           "parenthesized_declarator", "attributed_declarator"):
            nxt = d.child_by_field_name("declarator")
            if nxt is None:
                nxt = d.named_children[0] if d.named_children else None
            d = nxt
        return d

    def declarator_name(self, d) -> str | None:
        while d is not None:
            if d.type in ("identifier", "field_identifier", "type_identifier"):
                return _text(d)
            nxt = d.child_by_field_name("declarator")
            if nxt is None:
                nxt = next((c for c in d.named_children if c.type in (
                    "identifier", "field_identifier", "type_identifier", "pointer_declarator",
                    "function_declarator", "array_declarator", "parenthesized_declarator")), None)
            d = nxt
        return None

    def base_type(self, decl) -> Type:
        tnode = decl.child_by_field_name("type")
        # `NOEXPORT SSL_SESSION *f(...)` (stunnel), `STATIC_INLINE int g(...)`: an attribute
        # macro before the type reads as the type and the real type as an error after it
        if tnode is not None and tnode.type == "type_identifier":
            after = tnode.next_named_sibling
            if after is not None and after.type == "ERROR" and len(after.named_children) == 1 \
                    and after.named_children[0].type in ("identifier", "type_identifier", "primitive_type"):
                real = after.named_children[0]
                return self.resolve_typedef(_text(real)) if real.type != "primitive_type" else self.type_name(real)
        return self.type_name(tnode)

    def declared(self, base: Type, d) -> Type:
        """The type a declarator gives `base`: an inferred alias wins for an unknown typedef."""
        t = (base[0], base[1] + self.depth(d))
        if t[0] not in OBJECTS and t[0] in self.alias_bases:
            b, p = self.alias_bases[t[0]]
            return (b, t[1] + p)
        return t

    alias_bases: dict[str, Type] = {}

    # -- inference of aliases from use --

    def infer(self) -> None:
        """Which names, paths and unknown typedefs hold sessions (SSL, SSL_CTX): from the
        OpenSSL calls they are passed to or assigned from, and from assignments between them."""
        self.alias_bases = {}
        for _ in range(4):
            before = (len(self.inferred), len(self.alias_bases))
            for name, node in self.function_nodes.items():
                scope = self.param_types(node)
                self.infer_in(node.child_by_field_name("body"), scope, name)
            if (len(self.inferred), len(self.alias_bases)) == before:
                break

    def param_types(self, fnode) -> dict[str, Type]:
        scope: dict[str, Type] = {}
        fd = self.function_declarator(fnode.child_by_field_name("declarator"))
        if fd is None:
            return scope
        for p in fd.child_by_field_name("parameters").named_children:
            if p.type != "parameter_declaration":
                continue
            d = p.child_by_field_name("declarator")
            name = self.declarator_name(d) if d is not None else None
            if name:
                scope[name] = self.declared(self.base_type(p), d)
        return scope

    def function_declarator(self, d):
        while d is not None and d.type != "function_declarator":
            d = d.child_by_field_name("declarator")
        return d

    def infer_in(self, node, scope: dict[str, Type], fname: str) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if n is None:
                continue
            t = n.type
            if t == "declaration":
                base = self.base_type(n)
                for d in n.children_by_field_name("declarator"):
                    name = self.declarator_name(d)
                    if name:
                        scope[name] = self.declared(base, d)
                        got = self.inferred.get((fname, name))
                        if got and got[0] in OBJECTS and scope[name][0] not in OBJECTS:
                            scope[name] = got
                        if d.type == "init_declarator":
                            self.unify_value(name, scope, fname, d.child_by_field_name("value"), self.declared(base, d))
            elif t == "call_expression":
                self.infer_call(n, scope, fname)
            elif t == "assignment_expression":
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                lt, rt = self.type_of(left, scope, fname), self.type_of(right, scope, fname)
                if rt and rt[0] in OBJECTS and not (lt and lt[0] in OBJECTS):
                    self.learn(left, scope, fname, rt)
                elif lt and lt[0] in OBJECTS and not (rt and rt[0] in OBJECTS):
                    self.learn(right, scope, fname, lt)
            stack.extend(reversed(n.named_children))

    def unify_value(self, name, scope, fname, value, declared: Type) -> None:
        vt = self.type_of(value, scope, fname)
        if vt and vt[0] in OBJECTS and declared[0] not in OBJECTS:
            self.inferred[(fname, name)] = vt
            scope[name] = vt
            if declared[1] >= vt[1] and declared[0] not in ("void", "long", "char"):
                self.alias_bases.setdefault(declared[0], (vt[0], vt[1] - declared[1]))
        elif declared[0] in OBJECTS and value is not None and (vt is None or vt[0] not in OBJECTS):
            self.learn(value, scope, fname, declared)

    def infer_call(self, n, scope, fname) -> None:
        fn = n.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            return
        args = [a for a in n.child_by_field_name("arguments").named_children if a.type != "comment"]
        name = _text(fn)
        proto = prototype(name)
        if proto is not None:
            params = [c for c, _ in proto.params]
        elif name in self.function_nodes:
            params = [ast.CType(b, p) for b, p in self.param_types(self.function_nodes[name]).values()]
        else:
            return
        for arg, ctype in zip(args, params):
            if ctype.base in OBJECTS and ctype.pointers >= 1:
                self.learn(arg, scope, fname, (ctype.base, ctype.pointers))

    def learn(self, node, scope, fname, t: Type) -> None:
        """`node` (a name, an access path, `&x`) has type `t`."""
        node = _strip(node)
        if node is None:
            return
        if node.type == "pointer_expression" and _text(node.child_by_field_name("operator")) == "&":
            if t[1] >= 2:
                self.learn(node.child_by_field_name("argument"), scope, fname, (t[0], t[1] - 1))
            return
        if node.type == "identifier":
            name = _text(node)
            declared = scope.get(name, self.global_types.get(name))
            if declared is None:
                return
            if declared[0] not in OBJECTS:
                key = (fname, name) if name in scope else ("", name)
                self.inferred[key] = t
                scope[name] = t
                if name not in scope:
                    self.global_types[name] = t
                if declared[0] not in ("void", "long", "char", "enum") and declared[1] <= t[1]:
                    self.alias_bases.setdefault(declared[0], (t[0], t[1] - declared[1]))
            return
        path = self.path_of(node, scope, fname)
        if path is not None:
            self.inferred.setdefault(("path", path), t)

    def type_of(self, node, scope, fname) -> Type | None:
        node = _strip(node)
        if node is None:
            return None
        t = node.type
        if t in ("field_expression", "subscript_expression", "pointer_expression", "identifier") and self.cells:
            path = self.path_of(node)
            path = self.cell_alias.get(path, path) if path else path
            if path in self.cells and not (t == "identifier" and path in scope):
                c = self.cells[path]
                return (c.base, c.pointers)
        if t == "identifier":
            name = _text(node)
            return scope.get(name, self.global_types.get(name))
        if t == "call_expression":
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                proto = prototype(_text(fn))
                if proto is not None:
                    return (proto.ret.base, proto.ret.pointers)
                f = self.function_nodes.get(_text(fn))
                if f is not None:
                    return self.declared(self.base_type(f), f.child_by_field_name("declarator"))
            return None
        if t == "pointer_expression":
            op = _text(node.child_by_field_name("operator"))
            inner = self.type_of(node.child_by_field_name("argument"), scope, fname)
            if inner is None:
                return None
            if op == "&":
                return (inner[0], inner[1] + 1)
            if inner[1] >= 1:
                return (inner[0], inner[1] - 1)
            return None
        if t in ("field_expression", "subscript_expression"):
            return self.path_type(node, scope, fname)
        if t == "conditional_expression":
            return self.type_of(node.child_by_field_name("consequence"), scope, fname) or \
                self.type_of(node.child_by_field_name("alternative"), scope, fname)
        return None

    def path_type(self, node, scope, fname) -> Type | None:
        """The type of a field or element access: from the file's struct, else inferred."""
        path = self.path_of(node, scope, fname)
        if node.type == "field_expression":
            owner = self.type_of(node.child_by_field_name("argument"), scope, fname)
            fname_ = _text(node.child_by_field_name("field"))
            if owner is not None:
                fields = self.structs.get(owner[0].removeprefix("struct "))
                if fields and fname_ in fields:
                    b, p = fields[fname_]
                    b, p2 = self.resolve_typedef(b) if b not in OBJECTS else (b, 0)
                    if b not in OBJECTS and b in self.alias_bases:
                        ab, ap = self.alias_bases[b]
                        return (ab, p + p2 + ap)
                    return (b, p + p2)
        else:
            owner = self.type_of(node.child_by_field_name("argument"), scope, fname)
            if owner is not None and owner[1] >= 1:
                return (owner[0], owner[1] - 1)
        return self.inferred.get(("path", path)) if path else None

    def path_of(self, node, scope=None, fname=None) -> str | None:
        """An access path's name (`c->ssl->session`, `a[?].s`, `*out`), or None."""
        node = _strip(node)
        if node is None:
            return None
        t = node.type
        if t == "identifier":
            return _text(node)
        if t == "field_expression":
            base = self.path_of(node.child_by_field_name("argument"))
            op = _text(node.child_by_field_name("operator"))
            return None if base is None else f"{base}{op}{_text(node.child_by_field_name('field'))}"
        if t == "subscript_expression":
            base = self.path_of(node.child_by_field_name("argument"))
            idx = node.child_by_field_name("index")
            idx = _strip(idx)
            index = _text(idx) if idx is not None and idx.type == "number_literal" else "?"
            return None if base is None else f"{base}[{index}]"
        if t == "pointer_expression" and _text(node.child_by_field_name("operator")) == "*":
            base = self.path_of(node.child_by_field_name("argument"))
            return None if base is None else f"*{base}"
        if t == "call_expression":
            # a project accessor of paths (HAProxy's `objt_server(conn->target)->ssl_ctx.reused_sess`):
            # the same call of the same paths is the same object
            fn = node.child_by_field_name("function")
            name = _text(fn) if fn is not None and fn.type == "identifier" else ""
            if not name or name in self.function_nodes or prototype(name) is not None or name in self.macros \
                    or function_status(name, self.modelled) == "modelled":
                return None
            args = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"]
            paths = [self.path_of(a) if _strip(a) is None or _strip(a).type != "number_literal" else _text(_strip(a))
                     for a in args]
            if len(args) > 3 or any(p is None for p in paths):
                return None
            return f"{name}({', '.join(paths)})"  # type: ignore[arg-type]
        return None

    # -- annotations and callbacks --

    def annotations(self, fnode) -> dict[str, str]:
        """`/* sessref: sess owned, c->sess borrowed, returns borrowed, new_session_cb */`
        in the comments right before a function (or inside its first lines)."""
        out: dict[str, str] = {}
        prev = fnode.prev_sibling
        texts = []
        while prev is not None and prev.type == "comment":
            texts.append(_text(prev))
            prev = prev.prev_sibling
        body = fnode.child_by_field_name("body")
        if body is not None:
            for c in body.named_children[:3]:
                if c.type == "comment":
                    texts.append(_text(c))
        for text in texts:
            for m in ANNOTATION.finditer(text):
                for item in m.group(1).split(","):
                    words = item.split()
                    if len(words) == 1:
                        out[words[0]] = "yes"
                    elif len(words) >= 2:
                        out[" ".join(words[:-1])] = words[-1]
        return out

    def contract_text(self, node) -> tuple[str, object] | None:
        """The `sessref:` comment of a prototype: right after it on its line, or on the line before."""
        for sibling, same_line in ((node.next_sibling, True), (node.prev_sibling, False)):
            if sibling is None or sibling.type != "comment":
                continue
            if same_line and sibling.start_point[0] != node.end_point[0]:
                continue
            if not same_line and sibling.end_point[0] != node.start_point[0] - 1:
                continue
            m = re.search(r"sessref:\s*(.*?)\s*(?:\*/|$)", _text(sibling))
            if m:
                return m.group(1), sibling
        return None

    def contract(self, node, d) -> None:
        """A prototype with a contract: calls of it follow the contract (model/contracts.py)."""
        from .parser import parse_contract

        name = self.declarator_name(d)
        found = self.contract_text(node)
        if not name or found is None or name in self.function_nodes:
            return
        text, comment = found
        fd = self.innermost(d)
        params: list[ast.Param] = []
        for i, p in enumerate(n for n in fd.child_by_field_name("parameters").named_children
                              if n.type == "parameter_declaration"):
            pd = p.child_by_field_name("declarator")
            t = self.declared(self.base_type(p), pd) if pd is not None else self.base_type(p)
            if t == ("void", 0) and pd is None:
                continue
            params.append(ast.Param(self.ctype(t), (self.declarator_name(pd) if pd is not None else None) or f"arg{i + 1}",
                                    self.span(p)))
        ret = self.ctype(self.declared(self.base_type(node), d))
        contract = parse_contract(text, tuple(params), ret, self.span(comment), name)
        self.declarations[name] = ast.FuncDecl(ret, name, tuple(params), contract, self.span(node), self.span(node))

    def find_callbacks(self) -> None:
        """Registered callbacks (`SSL_CTX_sess_set_new_cb(ctx, f)`), annotated ones, and
        functions with exactly a callback's signature."""
        for node in self.function_nodes.values():
            stack = [node.child_by_field_name("body")]
            while stack:
                n = stack.pop()
                if n is None:
                    continue
                if n.type == "call_expression":
                    fn = n.child_by_field_name("function")
                    reg = _text(fn) if fn is not None else ""
                    if reg in CALLBACK_KINDS:
                        args = n.child_by_field_name("arguments").named_children
                        if len(args) >= 2:
                            target = _strip(args[1])
                            if target is not None and target.type == "identifier" and _text(target) in self.info:
                                cb = self.info[_text(target)]
                                cb.kind, cb.registered = CALLBACK_KINDS[reg], reg
                                cb.cache_mode = self.cache_mode_in(node)
                stack.extend(n.named_children)
        for name, info in self.info.items():
            for kind in CALLBACK_KINDS.values():
                if kind in info.annotations:
                    info.kind = kind
            if info.kind == "plain" and "plain" not in info.annotations:
                info.kind = self.shape_kind(self.function_nodes[name])

    def cache_mode_in(self, fnode) -> int | None:
        """The session cache mode a function sets with one constant expression (HAProxy's
        `SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL | ...` next to its registrations);
        None when it sets none, or several, or one that is not constant."""
        modes = set()
        stack = [fnode.child_by_field_name("body")]
        while stack:
            n = stack.pop()
            if n is None:
                continue
            if n.type == "call_expression" and _text(n.child_by_field_name("function")) == "SSL_CTX_set_session_cache_mode":
                args = [a for a in n.child_by_field_name("arguments").named_children if a.type != "comment"]
                modes.add(self.pp_eval(args[1]) if len(args) == 2 else None)
            stack.extend(n.named_children)
        return modes.pop() if len(modes) == 1 else None

    def shape_kind(self, fnode) -> str:
        ret = self.declared(self.base_type(fnode), fnode.child_by_field_name("declarator"))
        params = list(self.param_types(fnode).values())
        shape = [(b if b in OBJECTS else "int" if p == 0 else "ptr", p) for b, p in params]
        ret_shape = (ret[0] if ret[0] in OBJECTS else "int" if ret[1] == 0 and ret[0] != "void" else ret[0], ret[1])
        if ret_shape == ("int", 0) and shape == [("SSL", 1), ("SSL_SESSION", 1)]:
            return "new_session_cb"
        if ret_shape == ("void", 0) and shape == [("SSL_CTX", 1), ("SSL_SESSION", 1)]:
            return "remove_session_cb"
        if ret_shape == ("SSL_SESSION", 1) and len(shape) == 4 and shape[0] == ("SSL", 1) \
                and shape[2][1] == 0 and shape[3][1] == 1 and shape[1][1] == 1:
            return "get_session_cb"
        return "plain"

    # -- functions --

    def function(self, name: str, node) -> ast.FuncDef:
        self.cur = self.info[name]
        self.cur_text = self.text
        self.fname = name
        declarator = node.child_by_field_name("declarator")
        ret = self.declared(self.base_type(node), declarator)
        params: list[ast.Param] = []
        self.scopes: list[dict[str, Type]] = [{}]
        fd = self.function_declarator(declarator)
        inferred_params = self.param_types(node)
        for p in fd.child_by_field_name("parameters").named_children if fd is not None else []:
            if p.type == "variadic_parameter":
                continue
            if p.type != "parameter_declaration":
                continue
            d = p.child_by_field_name("declarator")
            pname = self.declarator_name(d) if d is not None else None
            if not pname:
                continue
            t = self.inferred.get((name, pname), inferred_params[pname])
            self.scopes[-1][pname] = t
            params.append(ast.Param(self.ctype(t), pname, self.span(d)))
        registration = {v: k for k, v in CALLBACK_KINDS.items()}.get(self.cur.kind)
        wanted = CALLBACK_SIGNATURES.get(registration) if registration else None
        if wanted is not None and len(wanted.params) == len(params):
            # a callback's parameters as the library passes them (`int *copy`, `const
            # unsigned char *key`), so that a reproducer hands it to the library as written
            params = [ast.Param(c, p.name, p.span) for (c, _), p in zip(wanted.params, params)]
        if self.cur.kind == "get_session_cb" and len(params) == 4:
            self.copy_param = params[3].name
        else:
            self.copy_param = None
        self.cur_ret = ("SSL_SESSION", 1) if self.cur.kind == "get_session_cb" else ret
        body = _inline_goto_tails(self.block(node.child_by_field_name("body")))
        ret_ctype = self.ctype(ret)
        if self.cur.kind == "get_session_cb":
            ret_ctype = ast.CType("SSL_SESSION", 1)
        elif self.cur.kind in ("new_session_cb",):
            ret_ctype = ast.CType("int")
        elif self.cur.kind == "remove_session_cb":
            ret_ctype = ast.CType("void")
        name_node = self.innermost(fd.child_by_field_name("declarator")) if fd is not None else declarator
        return ast.FuncDef(ret_ctype, name, tuple(params), body, self.span(node), self.span(name_node))

    def ctype(self, t: Type) -> ast.CType:
        base, ptr = t
        if base in OBJECTS and ptr == 1:
            return ast.CType(base, 1)
        if base in OBJECTS and ptr >= 2:
            return ast.CType("void", 1)  # an out-parameter: `*out` is a storage cell
        if base == "void" and ptr == 0:
            return ast.CType("void")
        if base == "SSL_CIPHER" and ptr == 1:
            return ast.CType("SSL_CIPHER", 1, True)  # a reproducer gives it a real cipher
        if ptr:
            return ast.CType("void", 1)
        return ast.CType("long")

    def tracked(self, t: Type | None) -> bool:
        return t is not None and t[0] in OBJECTS and t[1] == 1

    def lookup(self, name: str) -> Type | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.global_types:
            t = self.global_types[name]
            got = self.inferred.get(("", name))
            return got if got and t[0] not in OBJECTS else t
        return None

    def local(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    # -- statements --

    def block(self, node) -> ast.Block:
        self.scopes.append({})
        stmts: list[ast.Stmt] = []
        for child in node.named_children:
            stmts += self.stmt(child)
        self.scopes.pop()
        return ast.Block(tuple(self.backward_gotos(stmts)), self.span(node))

    def backward_gotos(self, stmts: list[ast.Stmt]) -> list[ast.Stmt]:
        """`again: ... goto again;` (a retry loop) as the loop it is: from the label to the
        last statement of the block that jumps back to it, a loop that runs again when one
        of those `goto`s is taken (unrolled like any C loop; each such `goto` sets the loop's
        flag and jumps forward to the end of its body):

            retry = 1; while (retry) { retry = 0; again: ...; { retry = 1; goto end; } ...; end: ; }

        Statements after the last jump stay outside, so their labels are still reached by
        forward `goto`s from anywhere in the block."""
        out = list(stmts)
        while True:
            found = None
            for i, st in enumerate(out):
                if isinstance(st, ast.Labeled):
                    last = max((j for j in range(i, len(out)) if _jumps_to(out[j], st.label)), default=None)
                    if last is not None:
                        found = (i, last, st)
                        break
            if found is None:
                return out
            i, k, labeled = found
            region = out[i:k + 1]
            for st in region:
                loose = _loose_jump(st)
                if loose is not None:
                    raise ParseError(f"a `{'break' if isinstance(loose, ast.Break) else 'continue'}` between "
                                     f"`{labeled.label}:` and `goto {labeled.label};` is not supported yet",
                                     loose.span, label="here", source=self.source,
                                     help=f"sessref reads the jump back to `{labeled.label}` as a loop, and this "
                                     "statement would leave that loop instead of the one around it")
            self.counter += 1
            flag, end = f"retry#{self.counter}", f"retry#{self.counter}:end"
            sp = labeled.span
            body = [ast.Assign(ast.Name(flag, sp), ast.IntLit(0, sp), sp)]
            body += [_retarget(st, labeled.label, flag, end) for st in region]
            body.append(ast.Labeled(end, ast.Block((), sp), sp))
            loop = ast.For(None, ast.Name(flag, sp), None, ast.Block(tuple(body), sp), sp, unbounded=True)
            out[i:k + 1] = [ast.VarDecl(ast.CType("long"), flag, ast.IntLit(1, sp), sp, sp), loop]

    def body(self, node) -> ast.Stmt:
        """A statement used as the body of if/while/for: one statement."""
        if node is None:
            return ast.Block((), ast.Span(self.file, 1, 1, 1, 1))
        if node.type == "compound_statement":
            return self.block(node)
        self.scopes.append({})
        stmts = self.stmt(node)
        self.scopes.pop()
        return stmts[0] if len(stmts) == 1 else ast.Block(tuple(stmts), self.span(node))

    def stmt(self, node) -> list[ast.Stmt]:
        t = node.type
        sp = self.span(node)
        if t == "comment":
            return []
        if t == "compound_statement":
            return [self.block(node)]
        if t == "declaration":
            return self.declaration(node)
        if t == "expression_statement":
            inner = node.named_children[0] if node.named_children else None
            if inner is None:
                return []
            if inner.type == "call_expression" and _text(inner.child_by_field_name("function")) == "__sessref_assume" \
                    and self.fname == "__sessref_entry":
                pre: list[ast.Stmt] = []
                args = [a for a in inner.child_by_field_name("arguments").named_children if a.type != "comment"]
                return pre + [ast.Assume(self.expr(args[0], pre), sp)]  # entry text: a path condition
            # the statement's span takes its `;` (a verified fix inserts after it)
            inner_sp = self.span(inner)
            return [dataclasses.replace(st, span=sp) if getattr(st, "span", None) == inner_sp else st
                    for st in self.expr_stmt(inner)]
        if t == "if_statement":
            pre: list[ast.Stmt] = []
            cond = self.condition(node.child_by_field_name("condition"), pre)
            then = self.body(node.child_by_field_name("consequence"))
            alt = node.child_by_field_name("alternative")
            if alt is not None and alt.type == "else_clause":
                alt = alt.named_children[0] if alt.named_children else None
            orelse = self.body(alt) if alt is not None else None
            return pre + [ast.If(cond, then, orelse, sp)]
        if t == "while_statement":
            pre = []
            cond = self.condition(node.child_by_field_name("condition"), pre)
            body = self.body(node.child_by_field_name("body"))
            if pre:
                guard = ast.If(ast.Unary("!", cond, cond.span), ast.Break(sp), None, sp)
                return [ast.For(None, None, None, ast.Block(tuple(pre) + (guard, body), sp), sp, unbounded=True)]
            return [ast.For(None, cond, None, body, sp, unbounded=True)]
        if t == "do_statement":
            body = self.body(node.child_by_field_name("body"))
            pre = []
            cond = self.condition(node.child_by_field_name("condition"), pre)
            if isinstance(cond, ast.IntLit) and cond.value == 0 and not pre:
                return [ast.For(None, None, None, ast.Block((body, ast.Break(sp)), sp), sp, unbounded=True)]
            guard = ast.If(ast.Unary("!", cond, cond.span), ast.Break(sp), None, sp)
            return [ast.For(None, None, None, ast.Block((body, *pre, guard), sp), sp, unbounded=True)]
        if t == "for_statement":
            return self.for_stmt(node)
        if t == "return_statement":
            pre = []
            value = node.named_children[0] if node.named_children else None
            if value is not None and value.type == "comma_expression":
                value = self.comma(value, pre)
            e = self.expr(value, pre) if value is not None else None
            if e is not None:
                # A returned value is kept where the function's type says, as a store is: an
                # untracked value (an unknown field) returned as an `SSL_SESSION *` is NULL, a
                # helper's result a new reference or NULL (the helpers' contract).
                e = self.fit(e, getattr(self, "cur_ret", None))
            return pre + [ast.Return(e, sp)]
        if t == "break_statement":
            return [ast.Break(sp)]
        if t == "continue_statement":
            return [ast.Continue(sp)]
        if t == "goto_statement":
            return [ast.Goto(_text(node.child_by_field_name("label")), sp)]
        if t == "labeled_statement":
            label = _text(node.child_by_field_name("label"))
            inner = [c for c in node.named_children if c.type != "statement_identifier"]
            stmts = []
            for c in inner:
                stmts += self.stmt(c)
            body = stmts[0] if len(stmts) == 1 else ast.Block(tuple(stmts), sp)
            return [ast.Labeled(label, body, sp)]
        if t == "switch_statement":
            return self.switch(node)
        if t in ("preproc_if", "preproc_ifdef"):
            return self.preproc_stmt(node)
        if t in ("preproc_call", "preproc_def", "preproc_function_def", "preproc_include"):
            if t == "preproc_function_def":
                params = [_text(p) for p in node.child_by_field_name("parameters").children if p.type in ("identifier", "...")]
                value = node.child_by_field_name("value")
                self.macros[_text(node.child_by_field_name("name"))] = (params, _text(value) if value else "")
            return []
        if t in ("type_definition",):
            self.typedef(node)
            return []
        if t in ("struct_specifier", "union_specifier", "enum_specifier"):
            return []
        if t == "case_statement":
            raise self.error("`case` outside a `switch`", node)
        if t == "gnu_asm_expression" or t == "asm_statement":
            return []
        if t == "macro_type_specifier" and not SESSION_TEXT.search(_text(node)):
            # a project macro given a declaration (curl's `VERBOSE(char buf[256]);`)
            name = _text(node.child_by_field_name("name") or node)
            self.note(f"`{name}` (line {node.start_point[0] + 1}) is a macro given a declaration: assumed neutral",
                      key=f"macro-decl:{name}")
            return []
        if t == "ERROR":
            if SESSION_TEXT.search(_text(node)) or self.fname == "__sessref_entry":
                raise self.error("cannot parse this C statement", node, label="here",
                                 help="a macro that hides syntax here needs a simpler form")
            self.notes.append(f"warning: line {node.start_point[0] + 1} of `{self.fname}` is not read: tree-sitter "
                              "cannot parse it (it uses no session API)")
            return []
        return self.unsupported(node, f"this C construct is not supported yet ({t.replace('_', ' ')})", [])

    def unsupported(self, node, message: str, value):
        """A construct the front end does not lower: an error where it touches session code,
        else skipped (a statement) or an unknown value (an expression), with a warning."""
        if SESSION_TEXT.search(_text(node)) or self.fname == "__sessref_entry":
            raise self.error(message, node, label="here")
        key = f"unsupported:{node.start_byte}"
        self.note(f"warning: line {node.start_point[0] + 1} of `{self.fname}` is not read: {message} "
                  "(it uses no session API)", key=key)
        return value

    def preproc_stmt(self, node) -> list[ast.Stmt]:
        """`#if` inside a function: the branch a known condition selects, else an `if` on
        the condition's one unknown value (`pp_condition`: the same text is the same choice
        everywhere in the program, as the preprocessor decides it once). A group is not a C
        scope: its declarations are hoisted before it (`int len;` under `#if X` is used
        under a later `#if X`)."""
        hoisted: list[ast.Stmt] = []
        stmts = self.preproc_group(node, hoisted)
        return hoisted + stmts

    def preproc_group(self, node, hoisted: list[ast.Stmt]) -> list[ast.Stmt]:
        sp = self.span(node)
        value = True if node.type == "preproc_else" else self.condition_value(node)
        alt = node.child_by_field_name("alternative")
        skip = {node.child_by_field_name("condition"), node.child_by_field_name("name"), alt}
        body: list[ast.Stmt] = []
        for c in node.named_children:
            if c in skip or c.type in ("preproc_arg",):
                continue
            body += self.stmt(c)
        if value is True:
            return body
        rest = self.preproc_group(alt, hoisted) if alt is not None else []
        if value is False:
            return rest
        body = self.hoist(body, hoisted)
        orelse = ast.Block(tuple(rest), sp) if rest else None
        return [ast.If(self.pp_condition(node, sp), ast.Block(tuple(body), sp), orelse, sp)]

    def hoist(self, body: list[ast.Stmt], hoisted: list[ast.Stmt]) -> list[ast.Stmt]:
        """`body`'s declarations as assignments, each variable declared once in `hoisted`."""
        out: list[ast.Stmt] = []
        names = {d.name for d in hoisted if isinstance(d, ast.VarDecl)}
        for s in body:
            if not isinstance(s, ast.VarDecl):
                out.append(s)
                continue
            if s.name not in names:
                names.add(s.name)
                hoisted.append(ast.VarDecl(s.ctype, s.name, None, s.span, s.name_span))
            if s.init is not None:
                out.append(ast.Assign(ast.Name(s.name, s.name_span), s.init, s.span))
        return out

    def pp_condition(self, node, sp: ast.Span) -> ast.Expr:
        """The unknown value of a preprocessor condition: a program-wide variable per
        condition text (`#ifdef X` and `#if defined(X)` are one; `#ifndef X` is its negation)."""
        negate = False
        if node.type == "preproc_ifdef":
            name = _text(node.child_by_field_name("name"))
            negate = _text(node.children[0]).strip() == "#ifndef"
            key = f"defined({name})"
        else:
            cond = node.child_by_field_name("condition")
            key = re.sub(r"\s+", "", _text(cond)) if cond is not None else "?"
            m = re.fullmatch(r"!?defined\(?(\w+)\)?", key)
            if m:
                negate, key = key.startswith("!"), f"defined({m.group(1)})"
        var = self.pp_vars.get(key)
        if var is None:
            var = self.pp_vars[key] = f"#if {key}"
            self.globals.append(ast.VarDecl(ast.CType("long"), var, None, sp, sp))
        cond_e: ast.Expr = ast.Name(var, sp)
        return ast.Unary("!", cond_e, sp) if negate else cond_e

    def for_stmt(self, node) -> list[ast.Stmt]:
        sp = self.span(node)
        self.scopes.append({})
        init: list[ast.Stmt] = []
        init_node = node.child_by_field_name("initializer")
        if init_node is not None:
            init = self.declaration(init_node) if init_node.type == "declaration" else self.expr_stmt(init_node)
        pre: list[ast.Stmt] = []
        cond_node = node.child_by_field_name("condition")
        cond = self.condition(cond_node, pre) if cond_node is not None else None
        step_nodes = node.children_by_field_name("update")
        step: list[ast.Stmt] = []
        for s in step_nodes:
            step += self.expr_stmt(s)
        body = self.body(node.child_by_field_name("body"))
        self.scopes.pop()
        step_stmt = ast.Block(tuple(step), sp) if step else None
        if pre:
            guard = ast.If(ast.Unary("!", cond, cond.span), ast.Break(sp), None, sp)  # type: ignore[arg-type]
            loop = ast.For(None, None, step_stmt, ast.Block((*pre, guard, body), sp), sp, unbounded=True)
        else:
            loop = ast.For(None, cond, step_stmt, body, sp, unbounded=True)
        return [ast.Block((*init, loop), sp)]

    def switch(self, node) -> list[ast.Stmt]:
        """`switch`: one entry chosen among the cases (and `default`, or none), then the
        statements from there on, falling through, until a `break` (a loop that runs once)."""
        sp = self.span(node)
        pre: list[ast.Stmt] = []
        subject = self.expr(node.child_by_field_name("condition"), pre)
        body = node.child_by_field_name("body")
        self.counter += 1
        entry = f"switch#{self.counter}"
        segments: list[list[ast.Stmt]] = []
        labels: list[ast.Span] = []  # each case's own span: its choice is its own
        default = None
        self.scopes.append({})
        for case in self.switch_items(body):
            if case.type != "case_statement":
                if case.type == "comment":
                    continue
                if segments:
                    segments[-1] += self.stmt(case)
                continue
            value = case.child_by_field_name("value")
            labels.append(self.span(case))
            if value is None:
                default = len(segments)
            stmts: list[ast.Stmt] = []
            for c in case.named_children:
                if value is not None and c == value:
                    continue
                stmts += self.stmt(c)
            segments.append(stmts)
        self.scopes.pop()
        n = len(segments)
        choose: ast.Stmt = ast.Assign(ast.Name(entry, sp), ast.IntLit(default if default is not None else n, sp), sp)
        for i in reversed(range(n)):
            if i == default:
                continue
            choose = ast.If(ast.Nondet(labels[i]), ast.Assign(ast.Name(entry, sp), ast.IntLit(i, sp), sp), choose, sp)
        guarded = [ast.If(ast.Binary("<=", ast.Name(entry, sp), ast.IntLit(i, sp), sp), ast.Block(tuple(seg), sp), None, sp)
                   for i, seg in enumerate(segments) if seg]
        once = ast.For(None, None, None, ast.Block((*guarded, ast.Break(sp)), sp), sp, unbounded=True)
        decl = ast.VarDecl(ast.CType("long"), entry, ast.IntLit(0, sp), sp, sp)
        evaluated = [ast.ExprStmt(subject, sp)] if not isinstance(subject, (ast.Name, ast.IntLit, ast.Unknown)) or \
            (isinstance(subject, ast.Unknown) and subject.parts) else []
        return [ast.Block((*pre, *evaluated, decl, choose, once), sp)]

    def switch_items(self, body) -> list:
        """A switch body's items, with `#if` groups that hold cases opened up (every
        branch's cases are kept: the subject is untracked, any case may be taken)."""
        items = []
        for c in body.named_children:
            if c.type in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif") and any(
                    n.type == "case_statement" for n in c.named_children):
                skip = {c.child_by_field_name("condition"), c.child_by_field_name("name")}
                items += [n for n in self.switch_items(c) if n not in skip]
            else:
                items.append(c)
        return items

    def declaration(self, node) -> list[ast.Stmt]:
        base = self.base_type(node)
        out: list[ast.Stmt] = []
        for d in node.children_by_field_name("declarator"):
            if self.innermost(d) is not None and self.innermost(d).type == "function_declarator":
                continue  # a local prototype
            name = self.declarator_name(d)
            if not name:
                continue
            t = self.declared(base, d)
            got = self.inferred.get((self.fname, name))
            if got and t[0] not in OBJECTS:
                t = got
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            pre: list[ast.Stmt] = []
            init = None
            if value is not None:
                init = self.value_for(value, t, pre)
                if self.tracked(t):
                    self.event_expr(name)
            self.scopes[-1][name] = t
            ctype = self.ctype(t)
            if init is None and ctype.pointers == 0 and ctype.base != "void":
                init = None  # an unknown integer (the executor's default)
            out += pre + [ast.VarDecl(ctype, name, init, self.span(node), self.span(self.innermost(d) or d))]
        return out

    def value_for(self, value, t: Type, pre: list) -> ast.Expr:
        if value.type == "initializer_list":
            parts = [self.expr(v, pre) for v in value.named_children if v.type != "initializer_pair"]
            return ast.NullLit(self.span(value)) if self.tracked(t) else ast.Unknown(tuple(p for p in parts if _has_call(p)), self.span(value))
        e = self.expr(value, pre)
        return self.fit(e, t)

    def fit(self, e: ast.Expr, t: Type | None) -> ast.Expr:
        """A value stored where a `t` is kept: an untracked value in a tracked place is NULL
        (with its calls still evaluated); 0 is NULL. A project helper's result, where a
        tracked value is kept, follows the helpers' default contract: a session is a new
        reference or NULL, an `SSL` or `SSL_CTX` is the caller's (`caller_ssl`, `caller_ctx`)."""
        if t is not None and self.tracked(t):
            if isinstance(e, ast.Cond):  # the chosen branch is what is kept
                return ast.Cond(e.cond, self.fit(e.then, t), self.fit(e.orelse, t), e.span)
            if isinstance(e, ast.IntLit) and e.value == 0:
                return ast.NullLit(e.span)
            helper = self.helper_results.get(id(e)) if isinstance(e, ast.Unknown) else None
            if helper is not None and isinstance(e, ast.Unknown):
                sp = e.span
                if t[0] == "SSL_SESSION" and re.search(r"(?i)get0|peek|borrow", helper):
                    # nginx's `ngx_ssl_get0_session(c)`: named like `SSL_get0_session`, it lends
                    # the session of a connection of the caller's
                    self.cells.setdefault("caller_ssl", ast.CType("SSL", 1))
                    self.cur.events.append(("caller_ssl", "read"))
                    value = ast.Call("SSL_get0_session", (ast.Name("caller_ssl", sp),), sp, sp)
                    self.cur.uses_sessions = True
                    self.note(f"`{helper}` (line {sp.line}) is assumed to lend a session without a reference, as "
                              "`SSL_get0_session` does (its name), or NULL", key=f"ret:{helper}:{sp.line}")
                elif t[0] == "SSL_SESSION":
                    value: ast.Expr = ast.Cond(ast.Nondet(sp), ast.Call("SSL_SESSION_new", (), sp, sp), ast.NullLit(sp), sp)
                    self.note(f"`{helper}` (line {sp.line}) is assumed to return a new session reference or NULL",
                              key=f"ret:{helper}:{sp.line}")
                else:
                    cell = "caller_ssl" if t[0] == "SSL" else "caller_ctx"
                    self.cells.setdefault(cell, ast.CType(t[0], 1))
                    self.cur.events.append((cell, "read"))
                    value = ast.Name(cell, sp)
                    self.note(f"`{helper}` (line {sp.line}) is assumed to return the caller's `{t[0]}` (`{cell}`)",
                              key=f"ret:{helper}:{sp.line}")
                return ast.Cond(ast.Unknown(e.parts, sp), value, value, sp) if e.parts else value
            if isinstance(e, ast.Unknown):
                return ast.Cond(ast.Unknown(e.parts, e.span), ast.NullLit(e.span), ast.NullLit(e.span), e.span) if e.parts else ast.NullLit(e.span)
            if isinstance(e, (ast.Binary, ast.Unary, ast.IntLit, ast.StrLit)):  # no object comes of arithmetic
                parts = tuple(n for n in (e,) if _has_call(n))
                return ast.Cond(ast.Unknown(parts, e.span), ast.NullLit(e.span), ast.NullLit(e.span), e.span) if parts else ast.NullLit(e.span)
        return e

    def expr_stmt(self, node) -> list[ast.Stmt]:
        sp = self.span(node)
        node_s = node
        t = node_s.type
        pre: list[ast.Stmt] = []
        if t == "assignment_expression":
            return self.assignment(node_s, pre)
        if t == "update_expression":
            arg = node_s.child_by_field_name("argument")
            op = "+=" if "++" in _text(node_s) else "-="
            target = self.target(arg, pre)
            if target is None:
                return pre
            return pre + [ast.Assign(target, ast.IntLit(1, sp), sp, op)]
        if t == "comma_expression":
            last = self.comma(node_s, pre)
            return pre + self.expr_stmt(last)
        if t == "parenthesized_expression" and node_s.named_children:
            return self.expr_stmt(node_s.named_children[0])
        if t == "cast_expression":  # `(void)f(x);`
            return self.expr_stmt(node_s.child_by_field_name("value"))
        e = self.expr(node_s, pre)
        if isinstance(e, ast.Call):
            return pre + [ast.ExprStmt(e, sp)]
        if isinstance(e, ast.Unknown) and not e.parts:
            return pre
        if isinstance(e, (ast.Name, ast.IntLit, ast.StrLit, ast.NullLit)):
            return pre
        return pre + [ast.ExprStmt(e, sp)]

    def comma(self, node, pre: list) -> object:
        """`a, b`: `a` as a statement before, `b`'s node returned."""
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        pre += self.expr_stmt(left)
        return right

    def assignment(self, node, pre: list) -> list[ast.Stmt]:
        sp = self.span(node)
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        op = _text(node.child_by_field_name("operator"))
        ltype = self.type_of(left, self.flat_scope(), self.fname)
        value = self.expr(right, pre)
        target = self.target(left, pre)
        if target is None:
            return pre + ([ast.ExprStmt(value, sp)] if _has_call(value) else [])
        if isinstance(target, ast.Name) and self.tracked(ltype):
            self.event_expr(target.id, write=True)
        if op == "=":
            return pre + [ast.Assign(target, self.fit(value, ltype), sp)]
        if op in ("+=", "-=") and not self.tracked(ltype):
            return pre + [ast.Assign(target, value, sp, op)]
        return pre + [ast.Assign(target, ast.Unknown((value,) if _has_call(value) else (), sp), sp)]

    def pointer_against_value(self, node, left: ast.Expr, right: ast.Expr) -> bool:
        """Whether `==`/`!=` compares a tracked object pointer with a value that is neither
        one nor NULL."""
        scope = self.flat_scope()
        sides = [(self.tracked(self.type_of(node.child_by_field_name(f), scope, self.fname)), e)
                 for f, e in (("left", left), ("right", right))]
        if not any(tracked for tracked, _ in sides):
            return False

        def null_or_object(tracked: bool, e: ast.Expr) -> bool:
            return tracked or isinstance(e, ast.NullLit) or isinstance(e, ast.IntLit) and e.value == 0

        return not all(null_or_object(tracked, e) for tracked, e in sides)

    def flat_scope(self) -> dict[str, Type]:
        out: dict[str, Type] = {}
        for s in self.scopes:
            out.update(s)
        return out

    def target(self, node, pre: list) -> ast.Name | ast.Deref | None:
        """Where an assignment stores: a variable, a tracked storage cell, `*copy` of a
        get_session_cb; None for untracked storage (the write is not followed)."""
        node = _strip(node)
        t = node.type
        if t == "identifier":
            name = self.cell_alias.get(_text(node), _text(node))
            if self.local(name) or (name in self.global_types and self.tracked(self.lookup(name))) or name in self.cells:
                return ast.Name(name, self.span(node))
            return None
        if t == "pointer_expression" and _text(node.child_by_field_name("operator")) == "*":
            arg = _strip(node.child_by_field_name("argument"))
            if arg is not None and arg.type == "identifier" and _text(arg) == self.copy_param:
                return ast.Deref(ast.Name(_text(arg), self.span(arg)), self.span(node))
        path = self.path_of(node)
        if path is not None and path != _text(node) or (path and "->" in path):
            pass
        ptype = self.type_of(node, self.flat_scope(), self.fname)
        if path is not None and self.tracked(ptype):
            return self.cell(path, ptype, node)
        return None

    def cell(self, path: str, t: Type, node) -> ast.Name:
        self.cells.setdefault(path, self.ctype(t))
        return ast.Name(path, self.span(node))

    def event_expr(self, name: str, write: bool = False) -> None:
        if name in self.cells or (name in self.global_types and not self.local(name)):
            self.cur.events.append((name, "write" if write else "read"))

    def condition(self, node, pre: list) -> ast.Expr:
        if node is None:
            return ast.IntLit(1, ast.Span(self.file, 1, 1, 1, 1))
        node_ = node
        if node_.type == "parenthesized_expression" and node_.named_children:
            node_ = node_.named_children[0]
        if node_.type == "comma_expression":
            node_ = self.comma(node_, pre)
        return self.expr(node_, pre)

    # -- expressions --

    def expr(self, node, pre: list) -> ast.Expr:
        sp = self.span(node)
        t = node.type
        if t == "parenthesized_expression":
            inner = [c for c in node.named_children if c.type != "comment"]
            if inner and inner[0].type == "comma_expression":
                return self.expr(self.comma(inner[0], pre), pre)
            return self.expr(inner[0], pre) if inner else ast.Unknown((), sp)
        if t == "cast_expression":
            return self.expr(node.child_by_field_name("value"), pre)
        if t == "number_literal":
            v = _number(_text(node))
            return ast.IntLit(v, sp) if v is not None else ast.Unknown((), sp)
        if t == "char_literal":
            return ast.Unknown((), sp)
        if t in ("string_literal", "concatenated_string", "raw_string_literal"):
            return ast.StrLit(_text(node), sp)
        if t in ("true",):
            return ast.IntLit(1, sp)
        if t in ("false",):
            return ast.IntLit(0, sp)
        if t == "null":
            return ast.NullLit(sp)
        if t == "identifier":
            return self.identifier(node, sp)
        if t == "call_expression":
            return self.call(node, pre)
        if t == "conditional_expression":
            cond = self.expr(node.child_by_field_name("condition"), pre)
            a = node.child_by_field_name("consequence")
            then = self.expr(a, pre) if a is not None else cond
            orelse = self.expr(node.child_by_field_name("alternative"), pre)
            return ast.Cond(cond, then, orelse, sp)
        if t == "binary_expression":
            op = _text(node.child_by_field_name("operator"))
            left = self.expr(node.child_by_field_name("left"), pre)
            if op in ("&&", "||"):
                rpre: list[ast.Stmt] = []
                right = self.expr(node.child_by_field_name("right"), rpre)
                if rpre:  # an assignment on the right of && / ||: run it only where it is reached
                    return self.hoisted_logic(op, left, rpre, right, sp, pre)
                return ast.Binary(op, left, right, sp)
            right = self.expr(node.child_by_field_name("right"), pre)
            if op in ("==", "!=", "<", "<=", ">", ">=", "+", "-", "|", "&"):
                if op in ("+", "-", "|", "&", "<", "<=", ">", ">=") and (self.pointerish(left) or self.pointerish(right)):
                    return ast.Unknown(tuple(p for p in (left, right) if _has_call(p)), sp)
                if op in ("==", "!=") and self.pointer_against_value(node, left, right):
                    # A session, `SSL` or context compared with an untracked value (an unknown
                    # macro, arithmetic): it may be equal or not. The objects' numbers are the
                    # interpreters' own (and differ between them), never a C address.
                    return ast.Unknown(tuple(p for p in (left, right) if _has_call(p)), sp)
                return ast.Binary(op, left, right, sp)
            return ast.Unknown(tuple(p for p in (left, right) if _has_call(p)), sp)
        if t == "unary_expression":
            op = _text(node.child_by_field_name("operator"))
            arg = self.expr(node.child_by_field_name("argument"), pre)
            if op == "!":
                return ast.Unary("!", arg, sp)
            if op == "-" and not _pointerish(arg):
                return ast.Unary("-", arg, sp)
            return ast.Unknown((arg,) if _has_call(arg) else (), sp)
        if t == "pointer_expression":
            return self.pointer(node, pre, sp)
        if t in ("field_expression", "subscript_expression"):
            ptype = self.type_of(node, self.flat_scope(), self.fname)
            path = self.path_of(node)
            parts = self.index_calls(node, pre)
            if path is not None and self.tracked(ptype):
                self.event_expr(path) if path in self.cells else None
                name = self.cell(path, ptype, node)
                self.cur.events.append((path, "read"))
                return name
            if self.tracked(ptype):
                return ast.NullLit(sp)
            return ast.Unknown(parts, sp)
        if t == "assignment_expression":
            pre += self.assignment(node, pre)
            target = self.target(node.child_by_field_name("left"), [])
            return target if isinstance(target, ast.Name) else ast.Unknown((), sp)
        if t == "update_expression":
            pre += self.expr_stmt(node)
            return ast.Unknown((), sp)
        if t == "comma_expression":
            return self.expr(self.comma(node, pre), pre)
        if t in ("sizeof_expression", "alignof_expression", "offsetof_expression", "generic_expression",
                 "char_literal", "compound_literal_expression", "initializer_list", "gnu_asm_expression",
                 "string_literal"):
            return ast.Unknown((), sp)
        if t == "comment":
            return ast.Unknown((), sp)
        return self.unsupported(node, f"this C expression is not supported yet ({t.replace('_', ' ')})", ast.Unknown((), sp))

    def pointerish(self, e: ast.Expr) -> bool:
        """A pointer value (arithmetic on it is an unknown value): a literal, an address, a
        variable of an untracked pointer type (`p - buf`)."""
        if _pointerish(e):
            return True
        if isinstance(e, ast.Name) and e.id not in self.cells:
            t = self.lookup(e.id)
            return t is not None and t[1] >= 1 and not self.tracked(t)
        return False

    def hoisted_logic(self, op, left, rpre, right, sp, pre) -> ast.Expr:
        self.counter += 1
        tmp = f"logic#{self.counter}"
        pre.append(ast.VarDecl(ast.CType("long"), tmp, left if op == "&&" else ast.Unary("!", left, sp), sp, sp))
        then = ast.Block((*rpre, ast.Assign(ast.Name(tmp, sp), right if op == "&&" else ast.Unary("!", right, sp), sp)), sp)
        pre.append(ast.If(ast.Name(tmp, sp), then, None, sp))
        return ast.Name(tmp, sp) if op == "&&" else ast.Unary("!", ast.Name(tmp, sp), sp)

    def index_calls(self, node, pre) -> tuple:
        """Calls inside an access path's indexes and bases (evaluated for their effects)."""
        parts = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                e = self.expr(n, pre)
                if _has_call(e):
                    parts.append(e)
                continue
            stack.extend(n.named_children)
        return tuple(parts)

    def identifier(self, node, sp) -> ast.Expr:
        name = _text(node)
        name = self.cell_alias.get(name, name)
        if self.local(name):
            return ast.Name(name, sp)
        if name in self.global_types:
            t = self.lookup(name)
            if self.tracked(t):
                self.cells.setdefault(name, self.ctype(t))
                self.cur.events.append((name, "read"))
                return ast.Name(name, sp)
            return ast.Unknown((), sp)
        if name == "NULL":
            return ast.NullLit(sp)
        if name in ("true", "TRUE"):
            return ast.IntLit(1, sp)
        if name in ("false", "FALSE"):
            return ast.IntLit(0, sp)
        if name in self.function_nodes:
            return ast.Name(name, sp)
        if name in self.cells:
            self.cur.events.append((name, "read"))
            return ast.Name(name, sp)
        if name in CONSTANTS:
            return ast.IntLit(CONSTANTS[name], sp)
        if name in self.defines and self.defines[name] is not None:
            return ast.IntLit(self.defines[name], sp)  # type: ignore[arg-type]
        return ast.Unknown((), sp)

    def pointer(self, node, pre, sp, as_argument: bool = False) -> ast.Expr:
        op = _text(node.child_by_field_name("operator"))
        arg = node.child_by_field_name("argument")
        if op == "&":
            inner = _strip(arg)
            if inner is not None and inner.type == "identifier" and self.local(_text(inner)):
                if as_argument:
                    return ast.AddrOf(ast.Name(_text(inner), self.span(inner)), sp)
                if self.tracked(self.lookup(_text(inner))):
                    raise self.error(f"a pointer to `{_text(inner)}` is followed only as a call argument", node,
                                     label="here", help="pass `&" + _text(inner) + "` to the function that writes it")
                # `p = &q;` of untracked data (FreeRADIUS's const-cast through memcpy): any pointer
                return ast.Unknown((), sp)
            t = self.type_of(inner, self.flat_scope(), self.fname)
            path = self.path_of(inner)
            if path is not None and self.tracked(t):
                self.cur.events.append((path, "read"))
                return ast.AddrOf(self.cell(path, t, inner), sp)
            if inner is not None and inner.type == "identifier" and _text(inner) in self.function_nodes:
                return ast.Name(_text(inner), sp)
            return ast.Unknown((), sp)
        inner = _strip(arg)
        if inner is not None and inner.type == "identifier" and _text(inner) == self.copy_param:
            return ast.Deref(ast.Name(_text(inner), self.span(inner)), sp)
        t = self.type_of(node, self.flat_scope(), self.fname)
        path = self.path_of(node)
        if path is not None and self.tracked(t):
            self.cur.events.append((path, "read"))
            return self.cell(path, t, node)
        e = self.expr(arg, pre)
        return ast.Unknown((e,) if _has_call(e) else (), sp)

    def call(self, node, pre: list) -> ast.Expr:
        sp = self.span(node)
        fn = node.child_by_field_name("function")
        arg_nodes = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"]
        name = _text(fn) if fn.type == "identifier" else ""
        if name in self.macros and name not in self.function_nodes:
            return self.expand(name, node, arg_nodes, pre)
        if name not in self.function_nodes and function_status(name, self.modelled) != "modelled":
            # a project macro's arguments that are not C expressions (a type:
            # `talloc_array(ctx, unsigned char, n)`; `APLOGNO(01875) "text"`): unknown
            # arguments of a helper, which is assumed neutral anyway
            arg_nodes = [a for a in arg_nodes if a.type != "ERROR" or SESSION_TEXT.search(_text(a))]
        if name in self.function_nodes and not self.local(name):
            self.cur.callees.append(name)
            self.cur.call_spans.setdefault(name, sp)
            self.cur.events.append((f"call:{name}", "call"))
            param_map = self.param_types(self.function_nodes[name])
            proto_params = list(param_map.values())
            pnames = list(param_map)
            args = []
            copy_out: list[tuple[ast.Name, str]] = []
            for i, a in enumerate(arg_nodes):
                e = self.fit(self.arg(a, pre), proto_params[i] if i < len(proto_params) else None)
                want = proto_params[i] if i < len(proto_params) else None
                if isinstance(e, ast.AddrOf):
                    if want is not None and want[0] in OBJECTS and want[1] == 2 and self.is_tracked_expr(e.target):
                        # `f(&sess)` with `f(SSL_SESSION **out)`: copy in to `*out`, call, copy back
                        cell = f"*{pnames[i]}"
                        self.cells.setdefault(cell, ast.CType(want[0], 1))
                        pre.append(ast.Assign(ast.Name(cell, e.span), e.target, e.span))
                        copy_out.append((e.target, cell))
                    e = ast.Unknown((), e.span)
                args.append(e)
            call = ast.Call(name, tuple(args), sp, self.span(fn))
            if not copy_out:
                return call
            self.counter += 1
            tmp = f"result#{self.counter}"
            ret = self.ctype(self.declared(self.base_type(self.function_nodes[name]),
                                           self.function_nodes[name].child_by_field_name("declarator")))
            if ret.base == "void" and ret.pointers == 0:
                pre.append(ast.ExprStmt(call, sp))
                result: ast.Expr = ast.Unknown((), sp)
            else:
                pre.append(ast.VarDecl(ret, tmp, call, sp, sp))
                self.scopes[-1][tmp] = (ret.base, ret.pointers)
                result = ast.Name(tmp, sp)
            for target, cell in copy_out:
                pre.append(ast.Assign(target, ast.Name(cell, sp), sp))
                pre.append(ast.Assign(ast.Name(cell, sp), ast.NullLit(sp), sp))
            return result
        status = function_status(name, self.modelled) if name else "unknown"
        if status == "modelled":
            proto = prototype(name)
            params = [c for c, _ in proto.params] if proto else []
            if proto is not None and (len(arg_nodes) < len(params) or (len(arg_nodes) > len(params) and not proto.variadic)):
                raise self.error(f"`{name}` takes {len(params)} argument(s) but {len(arg_nodes)} were given", node,
                                 label="here")
            args = []
            for i, a in enumerate(arg_nodes):
                e = self.arg(a, pre)
                want = params[i] if i < len(params) else None
                if want is not None and want.base in OBJECTS and want.pointers == 1:
                    e = self.fit(e, (want.base, 1))
                elif want is not None and want.pointers == 0 and _pointerish(e):
                    e = ast.Unknown((e,) if _has_call(e) else (), e.span)
                elif want is not None and want.pointers and isinstance(e, ast.Unknown):
                    e = self.opaque_pointer(e, pre)
                elif want is not None and want.pointers and isinstance(e, ast.Name) and e.id not in self.cells \
                        and e.id not in self.function_nodes and not self.tracked(self.lookup(e.id)):
                    # an untracked pointer variable may hold any value (a helper wrote it):
                    # the library gets NULL or some valid buffer, never an arbitrary number
                    e = ast.Cond(e, self.opaque_pointer(ast.Unknown((), e.span), pre), ast.NullLit(e.span), e.span)
                args.append(e)
            if name in CALLBACK_KINDS or name in ("SSL_CTX_sess_set_new_cb", "SSL_CTX_sess_set_get_cb", "SSL_CTX_sess_set_remove_cb"):
                cb = args[1] if len(args) > 1 else None
                if not (isinstance(cb, ast.Name) and cb.id in self.function_nodes) and not isinstance(cb, ast.NullLit):
                    args[1] = ast.NullLit(args[1].span)
                    self.note(f"`{name}` at line {sp.line} registers a function that is not in this file: "
                              "its callback is not checked")
            self.cur.uses_sessions = True
            return ast.Call(name, tuple(args), sp, self.span(fn))
        if status == "unmodelled":
            # The model cannot follow it: the executor stops the path there (unknown verdict).
            args = [self.arg(a, pre) for a in arg_nodes]
            args = [ast.Unknown((), a.span) if isinstance(a, ast.AddrOf) else a for a in args]
            self.cur.uses_sessions = True
            return ast.Call(name, tuple(args), sp, self.span(fn))
        if name == "__sessref_any":
            return ast.Nondet(sp)
        if name == "__sessref_unknown":
            return ast.Unknown((), sp)
        args = [self.arg(a, pre) for a in arg_nodes]
        tracked = [a for a in args if self.is_tracked_expr(a)]
        # `helper(&n)`: the helper may write `n` (an out-parameter: `bool added = FALSE;
        # add(..., &added); if (added) ...`), so an untracked variable is unknown after it.
        written = [a for a in args if isinstance(a, ast.AddrOf) and not self.is_tracked_expr(a.target)]
        proto = prototype(name) if status == "neutral" else None
        if proto is not None:  # a neutral call writes through a `&x` it is given, unless the parameter is const
            written = [a for i, a in enumerate(args) if a in written
                       and (i >= len(proto.params) or not proto.params[i][0].const)]
        args = [ast.Unknown((), a.span) if isinstance(a, ast.AddrOf) else a for a in args]
        shown = name or _text(fn)[:40]
        if status == "unknown" and name in self.declarations:  # its declared contract decides
            decl = self.declarations[name]
            fitted = []
            for a, param in zip(args, decl.params):
                want = (param.ctype.base, param.ctype.pointers)
                fitted.append(self.fit(a, want) if param.ctype.base in OBJECTS else a)
            self.cur.uses_sessions = self.cur.uses_sessions or bool(tracked) or bool(decl.contract.returns)
            return ast.Call(name, tuple(fitted), sp, self.span(fn))
        if status == "unknown" and name:
            done = self.helper_contract(name, tracked, args, written, sp, self.span(fn), pre)
            if done is not None:
                return done
        if status == "neutral":  # declared neutral in the catalogue (`sessref functions` says why)
            self.write_unknown(written, sp, pre)
            if tracked:
                self.cur.uses_sessions = True
                # the executor judges it: it reads what it is given, and a tracked object
                # given where the prototype takes something else makes it unmodelled
                params = proto.params if proto is not None else ()
                fitted = [self.fit(a, (params[i][0].base, 1)) if i < len(params) and params[i][0].base in OBJECTS
                          and params[i][0].pointers == 1 else a for i, a in enumerate(args)]
                return ast.Call(name, tuple(fitted), sp, self.span(fn))
        elif tracked:
            what = ", ".join(f"`{_expr_text(self.source, self.synthetic, a)}`" for a in tracked)
            self.note(f"`{shown}` (line {sp.line}) is assumed neutral: it receives {what} and neither keeps nor "
                      "releases a reference", key=f"{shown}:{sp.line}")
        else:
            self.note(f"`{shown}` is assumed neutral (no session, `SSL` or context is passed to it)", key=shown)
        if name and FREEING.search(name) and not tracked:
            pre_kill = self.kill_fields(arg_nodes, sp, destructor=name not in MEMORY_FREE)
            if pre_kill:
                parts = tuple(a for a in args if _has_call(a))
                pre.append(ast.ExprStmt(ast.Unknown(parts, sp), sp)) if parts else None
                pre.extend(pre_kill)
                return ast.Unknown((), sp)
        ret = prototype(name).ret if status == "neutral" and prototype(name) else None
        parts = tuple(a for a in args if _has_call(a))
        result = ast.Unknown(parts, sp)
        if status == "unknown":
            self.helper_results[id(result)] = shown
        elif ret is not None and ret.base in OBJECTS and ret.pointers == 1:
            # An OpenSSL function the model has no effect for that returns an object: a
            # session is a new reference or NULL (`PEM_read_bio_SSL_SESSION`), as for helpers.
            self.helper_results[id(result)] = shown
            return self.fit(result, (ret.base, 1))
        return result

    def write_unknown(self, written: list, sp: ast.Span, pre: list) -> None:
        """`f(&n)`: each untracked variable given by address is unknown afterwards (each its
        own unknown value: a choice is named by its span)."""
        for addr in written:
            t = self.lookup(addr.target.id)
            value: ast.Expr = ast.Unknown((), addr.span)
            if t is not None and t[1] >= 1 and t[0] != "void":
                value = self.opaque_pointer(value, pre)  # a typed pointer it wrote: a valid buffer
            pre.append(ast.Assign(ast.Name(addr.target.id, addr.target.span), value, sp))

    def helper_contract(self, name: str, tracked: list, args: list, written: list, sp: ast.Span, fn_span: ast.Span,
                        pre: list) -> ast.Expr | None:
        """What a project helper (a function of another file, a macro of a header) is
        assumed to do with what it is given, beyond being neutral; None when nothing more.

        - named like a free function and given one session and nothing else tracked
          (`ngx_ssl_free_session(s)`, a wrapper of `SSL_SESSION_free`): it releases it;
        - given a session the function owns (from `SSL_get1_session`, `d2i_`, ...): it may
          keep it (`Curl_ssl_addsessionid(conn, s, 0)` stores it), so that reference is
          no longer the function's to release, as static analyzers treat an escape; a
          session the function is only lent (a callback's, `SSL_get_session`'s) gains no
          reference: a `new_session_cb` that passes its session to a helper and returns 1
          still owns a reference it kept nowhere;
        - `helper(&n)` leaves an untracked `n` unknown (it may write it)."""
        sessions = [a for a in tracked if isinstance(a, ast.Name) and self.session_named(a.id)]
        frees = SESSION_FREEING.search(name) is not None and len(tracked) == 1 and len(sessions) == 1
        if not frees:  # what storage holds is its owner's, not the function's: it does not escape
            sessions = [a for a in sessions if a.id not in self.cells]
        if not frees and LOGGING.search(name):
            sessions = []  # a log or debug macro prints a pointer, it keeps nothing
        if not written and not sessions and not frees:
            return None
        parts = tuple(a for a in args if _has_call(a))
        if parts:
            pre.append(ast.ExprStmt(ast.Unknown(parts, sp), sp))
        if frees:
            sessions = [a for a in tracked]
            what = _expr_text(self.source, self.synthetic, sessions[0])
            self.note(f"`{name}` (line {sp.line}) is assumed to release `{what}` (`SSL_SESSION_free`: its name says "
                      "it frees what it is given)", key=f"{name}:{sp.line}")
            pre.append(ast.ExprStmt(ast.Call("SSL_SESSION_free", (sessions[0],), sp, fn_span), sp))
            self.cur.uses_sessions = True
        else:
            for s in sessions:
                what = _expr_text(self.source, self.synthetic, s)
                self.note(f"`{name}` (line {sp.line}) receives `{what}`: a reference the function owns is assumed "
                          "kept by it (not reported as leaked); a lent one gains no reference", key=f"{name}:{sp.line}")
                pre.append(ast.ExprStmt(ast.Call(HELPER_KEEPS, (s, ast.StrLit(f'"{name}"', fn_span)), sp, fn_span), sp))
                self.cur.uses_sessions = True
            others = [a for a in tracked if a not in sessions]
            if others and f"{name}:{sp.line}" not in self.neutral_seen:
                what = ", ".join(f"`{_expr_text(self.source, self.synthetic, a)}`" for a in others)
                self.note(f"`{name}` (line {sp.line}) is assumed neutral: it receives {what} and neither keeps nor "
                          "releases a reference", key=f"{name}:{sp.line}:others")
            elif not sessions:
                self.note(f"`{name}` is assumed neutral (no session, `SSL` or context is passed to it)", key=name)
        self.write_unknown(written, sp, pre)
        result = ast.Unknown((), sp)
        self.helper_results[id(result)] = name
        return result

    def session_named(self, name: str) -> bool:
        if name in self.cells:
            return self.cells[name].base == "SSL_SESSION"
        t = self.lookup(name)
        return t is not None and t[0] == "SSL_SESSION" and t[1] == 1

    def opaque_pointer(self, e: ast.Unknown, pre: list) -> ast.Expr:
        """An unknown value where the library takes a plain pointer (`&c->buf`, a field of
        untracked data): some valid buffer, as a `void *` the program does not follow (the
        executor's opaque pointer); its calls are evaluated first."""
        if e.parts:
            pre.append(ast.ExprStmt(ast.Unknown(e.parts, e.span), e.span))
        self.counter += 1
        tmp = f"buffer#{self.counter}"
        pre.append(ast.VarDecl(ast.CType("void", 1), tmp, None, e.span, e.span))
        self.scopes[-1][tmp] = ("void", 1)
        return ast.Name(tmp, e.span)

    def kill_fields(self, arg_nodes, sp, destructor: bool = False) -> list[ast.Stmt]:
        """`free(c)`: the tracked cells under `c` die with it (what they held is lost).
        `tls_free_context(c)`, `conn_destroy(c)` (a project's destructor, not a memory
        deallocator): it releases what they hold first (a session with `SSL_SESSION_free`,
        an `SSL` the function still owns with `SSL_free`; a context is the caller's)."""
        out: list[ast.Stmt] = []
        for a in arg_nodes:
            root = self.path_of(a)
            if root is None:
                continue
            owner = self.type_of(a, self.flat_scope(), self.fname)
            fields = self.structs.get(owner[0].removeprefix("struct ")) if owner and owner[1] == 1 else None
            for name, (base, ptr) in (fields or {}).items():
                b, p = self.resolve_typedef(base) if base not in OBJECTS else (base, 0)
                b, p = self.alias_bases.get(b, (b, 0))[0], p + ptr + self.alias_bases.get(b, (b, 0))[1]
                if b in OBJECTS and p == 1:
                    self.cells.setdefault(f"{root}->{name}", ast.CType(b, 1))
            for path in list(self.cells):
                if path.startswith(root + "->") or path.startswith(root + "."):
                    self.cur.events.append((path, "read"))  # the holder dies with what it holds
                    base = self.cells[path].base
                    if destructor and base == "SSL_SESSION":
                        out.append(ast.ExprStmt(ast.Call("SSL_SESSION_free", (ast.Name(path, sp),), sp, sp), sp))
                    elif destructor and base == "SSL":
                        out.append(ast.ExprStmt(ast.Call(CALLER_RELEASES, (ast.Name(path, sp),), sp, sp), sp))
                    out.append(ast.Assign(ast.Name(path, sp), ast.NullLit(sp), sp))
        if out and destructor:
            self.cur.uses_sessions = True
        return out

    def is_tracked_expr(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.Name):
            if e.id in self.cells:
                return True
            t = self.lookup(e.id)
            return self.tracked(t)
        if isinstance(e, ast.AddrOf):
            return self.is_tracked_expr(e.target)
        return False

    def arg(self, node, pre) -> ast.Expr:
        inner = _strip(node) if node.type == "parenthesized_expression" else node
        if inner is not None and inner.type == "pointer_expression" and _text(inner.child_by_field_name("operator")) == "&":
            return self.pointer(inner, pre, self.span(inner), as_argument=True)
        return self.expr(node, pre)

    def note(self, text: str, key: str | None = None) -> None:
        k = key or text
        if k in self.neutral_seen:
            return
        self.neutral_seen.add(k)
        self.notes.append(text)

    def expand(self, name: str, node, arg_nodes, pre: list) -> ast.Expr:
        """A function-like `#define` of the file used as a call: its body with the arguments
        substituted, lowered in place (shown at the call, quoted as expanded)."""
        params, body = self.macros[name]
        self.counter += 1
        if self.counter > 10_000:
            raise self.error("macro expansion does not end", node)
        args = [_text(a) for a in arg_nodes]
        named = [p for p in params if p != "..."]
        mapping = dict(zip(named, args))
        rest = ", ".join(args[len(named):])
        text = body.replace("\\\n", " ")
        if "..." in params:
            text = re.sub(r",\s*##\s*__VA_ARGS__", (", " + rest) if rest else "", text)
            text = text.replace("__VA_ARGS__", rest)
        text = re.sub(r"#\s*([A-Za-z_]\w*)", lambda m: '"' + m.group(1) + '"' if m.group(1) in mapping else m.group(), text)
        text = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: mapping.get(m.group(), m.group()), text)
        wrapper = "void __sessref_macro(void) {\n" + text + ";\n}\n"
        tree = parse_tree(wrapper)
        if _first_error(tree.root_node) is not None:
            self.note(f"the macro `{name}` (line {node.start_point[0] + 1}) does not expand to C sessref reads: "
                      "assumed neutral", key=f"macro:{name}")
            return ast.Unknown((), self.span(node))
        base = self.base + len(self.source) + sum(len(s) for s in self.synthetic)
        self.synthetic.append(wrapper)
        saved = self.cur_text
        self.cur_text = _Anchored(self.file, wrapper, base, self.span(node), self.columns)
        try:
            fbody = tree.root_node.named_children[0].child_by_field_name("body")
            stmts = [c for c in fbody.named_children if c.type != "comment"]
            if len(stmts) == 1 and stmts[0].type == "expression_statement" and stmts[0].named_children:
                return self.expr(stmts[0].named_children[0], pre)
            self.scopes.append({})
            for s in stmts:
                pre += self.stmt(s)
            self.scopes.pop()
            return ast.Unknown((), self.span(node))
        finally:
            self.cur_text = saved

    # -- synthetic code: the entry context --

    def synthetic_block(self, text: str, anchor: ast.Span, context: str, parsable: str | None = None,
                        later: tuple[tuple[int, ast.Span], ...] = ()) -> ast.Block:
        """Lower C text written by sessref (an entry context), shown at `anchor`, its text
        appended to the program's source. `parsable`: the same text, as long, with names
        that are not C replaced (see `centry._parsable`)."""
        wrapper = "void __sessref_entry(void) {\n" + text + "\n}\n"
        tree = parse_tree("void __sessref_entry(void) {\n" + (parsable or text) + "\n}\n")
        bad = _first_error(tree.root_node)
        if bad is not None:
            raise ParseError(f"internal: the entry context of {context} does not parse at byte {bad.start_byte}: "
                             f"{wrapper[max(0, bad.start_byte - 40):bad.end_byte + 40]!r}", anchor, source=self.source)
        base = self.base + len(self.source) + sum(len(s) for s in self.synthetic)
        self.synthetic.append(wrapper)
        saved = (self.cur_text, getattr(self, "cur", None), getattr(self, "scopes", None), getattr(self, "fname", ""))
        prefix = len("void __sessref_entry(void) {\n")
        self.cur_text = _Anchored(self.file, wrapper, base, anchor, self.columns,
                                  tuple((at + prefix, a) for at, a in later))
        self.cur = CFunction("__sessref_entry")
        self.scopes, self.fname, self.copy_param = [{}], "__sessref_entry", None
        saved_ret, self.cur_ret = getattr(self, "cur_ret", None), ("void", 0)
        try:
            body = tree.root_node.named_children[0].child_by_field_name("body")
            return self.block(body)
        finally:
            self.cur_text, self.cur, self.scopes, self.fname = saved  # type: ignore[assignment]
            self.cur_ret = saved_ret

    # -- globals, recursion, uses --

    def global_decl(self, node, d) -> None:
        name = self.declarator_name(d)
        t = self.global_types.get(name)
        if t is None or not self.tracked(t):
            return
        self.cells.setdefault(name, self.ctype(t))

    def cut_plain_recursion(self, unit: "CUnit") -> None:
        """A recursion among functions that reach no session API and no storage of a
        tracked type (curl's `hostmatch` calling itself on a wildcard): the call that closes
        the cycle is a call of a helper (assumed neutral, said in a note), so that the
        functions around it are still checked. A recursion through session code stays an
        error (`check_recursion`)."""
        state: dict[str, int] = {}
        cut: set[tuple[str, str]] = set()

        def plain(name: str) -> bool:
            return not self.info[name].uses_sessions and not any(c in self.cells for c, _ in self.info[name].events)

        def visit(name: str) -> None:
            state[name] = 1
            for callee in list(dict.fromkeys(self.info[name].callees)):
                if state.get(callee) == 1 and plain(name) and plain(callee):
                    cut.add((name, callee))
                elif callee not in state:
                    visit(callee)
            state[name] = 2

        for name in self.info:
            if name not in state:
                visit(name)
        for caller, callee in sorted(cut):
            sp = self.info[caller].call_spans.get(callee)
            self.notes.append(f"`{caller}` calls `{callee}` recursively (line {sp.line if sp else '?'}): that call is "
                              "assumed neutral (the functions reach no session, `SSL` or context)")
            self.info[caller].callees = [c for c in self.info[caller].callees if c != callee]
            unit.functions[caller] = _without_calls_of(unit.functions[caller], callee)

    def check_recursion(self, roots: Iterable[str] | None = None) -> None:
        """Refuse recursion among the functions `roots` reach (all of them by default)."""
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            state[name] = 1
            for callee in self.info[name].callees:
                if state.get(callee) == 1:
                    cycle = path[path.index(callee):] + [callee] if callee in path else [name, callee]
                    raise ParseError("recursion is not supported: " + " -> ".join(f"`{c}`" for c in cycle),
                                     self.info[name].call_spans[callee], label="this call closes the cycle",
                                     help="sessref follows calls of the file's functions; unroll the recursion",
                                     source=self.source)
                if callee not in state:
                    visit(callee, path + [callee])
            state[name] = 2

        for name in (self.info if roots is None else roots):
            if name not in state:
                visit(name, [name])

    def propagate_uses(self) -> None:
        changed = True
        while changed:
            changed = False
            for info in self.info.values():
                if not info.uses_sessions and any(self.info[c].uses_sessions for c in info.callees):
                    info.uses_sessions = changed = True


def _number(text: str) -> int | None:
    t = text.rstrip("uUlL")
    try:
        return int(t, 0) if not (t.startswith("0") and len(t) > 1 and t[1].isdigit()) else int(t, 8)
    except ValueError:
        return None


def _inline_goto_tails(body: ast.Block) -> ast.Block:
    """A `goto` into a nested block (FreeRADIUS's `goto verify_error;` into an earlier `if`'s
    body, a shared error tail): when the statements from the label to the end of its block
    cannot fall through (they end in a `return`), the jump is those statements, copied in
    place of the `goto` (same spans: reports point at the real lines). A jump forward to a
    label in an enclosing block is left to the executor; a jump back in the same block is a
    loop (`backward_gotos`)."""
    tails: dict[str, tuple] = {}
    for node in ast.walk(body):
        if isinstance(node, ast.Block):
            for i, st in enumerate(node.stmts):
                if isinstance(st, ast.Labeled) and st.label not in tails:
                    tails[st.label] = (st.stmt, *node.stmts[i + 1:])

    def later(label: str, context: list) -> bool:
        return any(isinstance(s, ast.Labeled) and s.label == label for stmts, at in context for s in stmts[at + 1:])

    def rewrite(node, context: list, depth: int):
        import dataclasses

        if isinstance(node, ast.Goto) and not later(node.label, context) and node.label in tails and depth < 8:
            tail = tails[node.label]
            if _terminates(tail) and not any(_jumps_to(t, node.label) for t in tail):
                return rewrite(ast.Block(tail, node.span), context, depth + 1)
            return node
        if isinstance(node, ast.Block):
            stmts = tuple(rewrite(st, context + [(node.stmts, i)], depth) for i, st in enumerate(node.stmts))
            return dataclasses.replace(node, stmts=stmts)
        if not hasattr(node, "__dataclass_fields__") or isinstance(node, (ast.Span, ast.CType)):
            return node
        changes = {}
        for name in node.__dataclass_fields__:
            value = getattr(node, name)
            if isinstance(value, tuple) and value and hasattr(value[0], "__dataclass_fields__"):
                new = tuple(rewrite(v, context, depth) for v in value)
            else:
                new = rewrite(value, context, depth)
            if new is not value:
                changes[name] = new
        return dataclasses.replace(node, **changes) if changes else node

    if not any(isinstance(n, ast.Goto) for n in ast.walk(body)):
        return body
    return rewrite(body, [], 0)


def _terminates(stmts) -> bool:
    """Whether a statement sequence never falls through its end (it returns or jumps)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Goto)):
        return True
    if isinstance(last, ast.Block):
        return _terminates(last.stmts)
    if isinstance(last, ast.Labeled):
        return _terminates((last.stmt,))
    if isinstance(last, ast.If):
        return last.orelse is not None and _terminates((last.then,)) and _terminates((last.orelse,))
    return False


def _without_calls_of(func: ast.FuncDef, callee: str) -> ast.FuncDef:
    """`func` with each call of `callee` an unknown value (its arguments still evaluated)."""
    def rewrite(node):
        if isinstance(node, ast.Call) and node.func == callee:
            return ast.Unknown(tuple(rewrite(a) for a in node.args if _has_call(a)), node.span)
        if isinstance(node, tuple):
            return tuple(rewrite(n) for n in node)
        if not hasattr(node, "__dataclass_fields__") or isinstance(node, (ast.Span, ast.CType)):
            return node
        changes = {}
        for name in node.__dataclass_fields__:
            value = getattr(node, name)
            new = rewrite(value)
            if new is not value:
                changes[name] = new
        return dataclasses.replace(node, **changes) if changes else node
    return rewrite(func)


def _error_rows(root) -> list[tuple[int, int]]:
    """The row ranges of the ERROR and MISSING nodes of a tree."""
    rows = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            rows.append((n.start_point[0], n.end_point[0]))
        elif n.has_error:
            stack.extend(n.children)
    return rows


def _jumps_to(stmt: ast.Stmt, label: str) -> bool:
    return any(isinstance(n, ast.Goto) and n.label == label for n in ast.walk(stmt))


def _loose_jump(stmt: object) -> ast.Break | ast.Continue | None:
    """A `break` or `continue` under `stmt` that is not inside a loop (or switch) of its own."""
    if isinstance(stmt, (ast.Break, ast.Continue)):
        return stmt
    if isinstance(stmt, ast.For) or not hasattr(stmt, "__dataclass_fields__") or isinstance(stmt, (ast.Span, ast.CType)):
        return None
    for name in stmt.__dataclass_fields__:
        value = getattr(stmt, name)
        for item in value if isinstance(value, tuple) else (value,):
            found = _loose_jump(item)
            if found is not None:
                return found
    return None


def _retarget(node, label: str, flag: str, end: str):
    """`node` with each `goto label;` replaced by `{ flag = 1; goto end; }`."""
    import dataclasses

    if isinstance(node, ast.Goto) and node.label == label:
        sp = node.span
        return ast.Block((ast.Assign(ast.Name(flag, sp), ast.IntLit(1, sp), sp), ast.Goto(end, sp)), sp)
    if isinstance(node, tuple):
        return tuple(_retarget(n, label, flag, end) for n in node)
    if not hasattr(node, "__dataclass_fields__") or isinstance(node, (ast.Span, ast.CType)):
        return node
    changes = {}
    for name in node.__dataclass_fields__:
        value = getattr(node, name)
        new = _retarget(value, label, flag, end)
        if new is not value:
            changes[name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _has_call(e: ast.Expr) -> bool:
    return any(isinstance(n, (ast.Call, ast.Cond)) for n in ast.walk(e))


def _pointerish(e: ast.Expr) -> bool:
    return isinstance(e, (ast.StrLit, ast.AddrOf))


def _expr_text(source: str, synthetic: list[str], e: ast.Expr) -> str:
    full = source + "".join(synthetic)
    return full[e.span.start:e.span.end]


def first_accesses(unit: CUnit, name: str) -> dict[str, str]:
    """For each storage cell `name` reaches (itself and the functions it calls, in order):
    whether it is first read or first written."""
    out: dict[str, str] = {}
    seen: set[str] = set()

    def visit(f: str) -> None:
        if f in seen:
            return
        seen.add(f)
        for cell, kind in unit.info[f].events:
            if kind == "call":
                visit(cell.removeprefix("call:"))
            elif cell not in out:
                out[cell] = kind

    visit(name)
    return out


Lowering = Callable[..., CUnit]
