"""C declarations as OpenSSL's headers write them, read with tree-sitter's C grammar.

Two jobs, both for the function catalogue (`catalogue.py`):

- `prototype(text)`: one declaration (`__owur int SSL_CTX_set_cipher_list(SSL_CTX *,
  const char *str);`) as a `Prototype` of the script language: each parameter's type as a
  `CType` (a function pointer, or a typedef of one, is `void *`; `STACK_OF(X509)` is the
  opaque type `STACK_OF(X509)`; `struct ssl_st` is `SSL`).
- `header_names(path)`: every function declared and every function-like macro defined in a
  header as written (all `#if` branches), so that a test can hold the catalogue to the
  installed `openssl/ssl.h`.

The headers use a few macros tree-sitter cannot read as C (`__owur`, `OSSL_DEPRECATEDIN_3_0`,
`STACK_OF(X)`, `SKM_DEFINE_STACK_OF_INTERNAL(...)`); `normalise` blanks or rewrites them in
place (keeping every offset), and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import cint
from .ast import CType

# Attribute and export macros: blanked.
_ATTRIBUTES = re.compile(
    r"\b(__owur|ossl_unused|ossl_inline|OSSL_DEPRECATEDIN_\w+|OSSL_DEPRECATED\w*|OPENSSL_EXPORT|"
    r"ossl_bio__attr__\(\(.*?\)\)|ossl_bio__printf__)"
)
_STACK = re.compile(r"\b(STACK_OF|LHASH_OF)\((\w+)\)")
_STACK_DEFINITION = re.compile(r"^\s*(SKM_DEFINE_STACK_OF_INTERNAL|DEFINE_OR_DECLARE_STACK_OF|DEFINE_STACK_OF\w*|"
                               r"DECLARE_\w+)\([^)]*\)\s*;?", re.M)
_STACK_FORWARD = re.compile(r"^\s*(STACK_OF|LHASH_OF)_\w+\s*;", re.M)
_MACRO = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)\(([^)]*)\)((?:.*\\\n)*.*)$", re.M)
_OBJECTS = {"ssl_session_st": "SSL_SESSION", "ssl_st": "SSL", "ssl_ctx_st": "SSL_CTX"}


@dataclass(frozen=True)
class Prototype:
    name: str
    ret: CType
    params: tuple[tuple[CType, str], ...]
    variadic: bool = False
    # Indexes of the parameters that take a function (a function pointer or a typedef of one).
    function_params: tuple[int, ...] = ()


@dataclass(frozen=True)
class HeaderName:
    name: str
    kind: str  # "function" or "macro"
    text: str  # the declaration (whitespace collapsed), or `NAME(params) body` of a macro
    line: int


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group())


def normalise(source: str) -> str:
    """The header's C with preprocessor lines and the attribute macros blanked and
    `STACK_OF(X)` written `STACK_OF_X`: same length, same lines."""
    lines = source.split("\n")
    out = []
    continued = False
    for line in lines:
        directive = continued or line.lstrip().startswith("#")
        continued = directive and line.endswith("\\")
        out.append(" " * len(line) if directive else line)
    text = "\n".join(out)
    text = _ATTRIBUTES.sub(_blank, text)
    text = _STACK.sub(lambda m: f"{m.group(1)}_{m.group(2)}".ljust(len(m.group())), text)
    text = _STACK_DEFINITION.sub(_blank, text)
    text = _STACK_FORWARD.sub(_blank, text)
    return text


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter
    import tree_sitter_c

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))


def _function_name(declarator) -> str | None:
    """The name a declarator declares as a function (also a function returning a function
    pointer, `int (*f(SSL_CTX *))(SSL *, SSL_SESSION *)`), or None (a variable)."""
    if declarator is None:
        return None
    if declarator.type == "function_declarator":
        inner = declarator.child_by_field_name("declarator")
        if inner is not None and inner.type == "identifier":
            return inner.text.decode()
        return _function_name(inner)
    if declarator.type in ("pointer_declarator", "parenthesized_declarator", "attributed_declarator"):
        inner = declarator.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in declarator.named_children if c.type.endswith("declarator")), None)
        return _function_name(inner)
    return None


def _declarations(root):
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "declaration":
            yield node
            continue
        if node.type == "function_definition":  # `static ossl_inline int ERR_GET_LIB(...) { ... }`
            yield node
            continue
        if node.type in ("type_definition", "struct_specifier"):
            continue
        stack.extend(reversed(node.children))


def header_names(path: str) -> dict[str, HeaderName]:
    """Every function declared and every function-like macro defined in the header at
    `path`, whatever the `#if`s around it say."""
    source = open(path, encoding="utf-8", errors="replace").read()
    names: dict[str, HeaderName] = {}
    tree = _parser().parse(normalise(source).encode())
    for decl in _declarations(tree.root_node):
        for d in decl.children_by_field_name("declarator"):
            name = _function_name(d)
            if name:
                start, end = decl.start_byte, decl.end_byte
                body = decl.child_by_field_name("body")
                text = source.encode()[start:body.start_byte if body is not None else end].decode()
                text = " ".join(text.split()) + (";" if body is not None else "")
                names.setdefault(name, HeaderName(name, "function", text, decl.start_point[0] + 1))
    for m in _PEM_RW.finditer(source):  # DECLARE_PEM_rw(SSL_SESSION, SSL_SESSION) in ssl.h
        line = source.count("\n", 0, m.start()) + 1
        for decl in _pem_declarations(m.group(1), m.group(2)):
            name = _function_name_of(decl)
            names.setdefault(name, HeaderName(name, "function", decl, line))
    for m in _MACRO.finditer(source):
        body = " ".join(m.group(3).replace("\\\n", " ").split())
        line = source.count("\n", 0, m.start()) + 1
        names.setdefault(m.group(1), HeaderName(m.group(1), "macro", f"{m.group(1)}({m.group(2)}) {body}", line))
    return names


_PEM_RW = re.compile(r"^DECLARE_PEM_rw\((\w+),\s*(\w+)\)", re.M)


def _pem_declarations(name: str, type_: str) -> list[str]:
    """What pem.h's DECLARE_PEM_rw(name, type) declares (pem.h L349-360, L300-330)."""
    return [
        f"{type_} *PEM_read_bio_{name}(BIO *out, {type_} **x, pem_password_cb *cb, void *u);",
        f"{type_} *PEM_read_{name}(FILE *out, {type_} **x, pem_password_cb *cb, void *u);",
        f"int PEM_write_bio_{name}(BIO *out, const {type_} *x);",
        f"int PEM_write_{name}(FILE *out, const {type_} *x);",
    ]


def _function_name_of(decl: str) -> str:
    return re.search(r"(\w+)\(", decl).group(1)


def parse_errors(path: str) -> list[int]:
    """Lines where tree-sitter could not read the normalised header (a test wants none)."""
    source = open(path, encoding="utf-8", errors="replace").read()
    tree = _parser().parse(normalise(source).encode())
    lines: list[int] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            lines.append(node.start_point[0] + 1)
        stack.extend(node.children)
    return sorted(lines)


# ---- one declaration -> Prototype -------------------------------------------------------------


def _base(type_node, text: str, callback_types: frozenset[str]) -> tuple[str, int, bool]:
    """(base name, extra pointer depth, is a function pointer typedef)."""
    if type_node is None:
        return "int", 0, False
    kind = type_node.type
    raw = type_node.text.decode()
    if kind == "primitive_type" or kind == "sized_type_specifier":
        return cint.canonical(raw.split()), 0, False
    if kind == "struct_specifier":
        tag = type_node.child_by_field_name("name")
        tag_text = tag.text.decode() if tag is not None else ""
        return _OBJECTS.get(tag_text, f"struct {tag_text}"), 0, False
    if kind == "type_identifier":
        m = re.fullmatch(r"(STACK_OF|LHASH_OF)_(\w+)", raw)
        if m:
            return f"{m.group(1)}({m.group(2)})", 0, False
        if raw in callback_types:
            return "void", 0, True
        if raw == "ossl_ssize_t":
            return "ssize_t", 0, False
        return raw, 0, False
    return raw, 0, False


def _ctype(node, declarator, callback_types: frozenset[str]) -> tuple[CType, str]:
    """The CType and name of a parameter or a declaration's result."""
    const = any(c.type == "type_qualifier" and c.text == b"const" for c in node.children)
    base, pointers, is_callback = _base(node.child_by_field_name("type"), "", callback_types)
    name = ""
    d = declarator
    while d is not None:
        if d.type == "pointer_declarator":
            pointers += 1
            d = d.child_by_field_name("declarator")
        elif d.type == "abstract_pointer_declarator":
            pointers += 1
            d = d.child_by_field_name("declarator")
        elif d.type in ("function_declarator", "abstract_function_declarator", "parenthesized_declarator",
                        "abstract_parenthesized_declarator"):
            return CType("void", 1), _declared_name(d) + "()"  # a function pointer
        elif d.type == "array_declarator":
            pointers += 1
            d = d.child_by_field_name("declarator")
        elif d.type == "identifier":
            name = d.text.decode()
            d = None
        else:
            d = None
    if is_callback:  # `SSL_verify_cb cb`, `CRYPTO_EX_free *f`: a function pointer
        return CType("void", 1), name + "()"
    return CType(base, pointers, const), name


def _declared_name(d) -> str:
    stack = [d]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            return n.text.decode()
        if n.type == "parameter_list":
            continue
        stack.extend(n.named_children)
    return ""


def prototype(text: str, callback_types: frozenset[str] = frozenset()) -> Prototype:
    """One C declaration of one function, as written in a header."""
    found = prototypes([text], callback_types)
    return found[0]


def prototypes(texts: list[str], callback_types: frozenset[str] = frozenset()) -> list[Prototype]:
    """Many declarations, one per text, parsed at once (the catalogue's 1,300 take one parse)."""
    source = normalise("\n".join(t.replace("\n", " ") for t in texts))
    tree = _parser().parse(source.encode())
    decls = list(_declarations(tree.root_node))
    if len(decls) != len(texts):
        bad = next((t for t in texts if len(list(_declarations(_parser().parse(normalise(t).encode()).root_node))) != 1), texts[0])
        raise ValueError(f"not a declaration: {bad!r}")
    return [_from_declaration(decl, callback_types, text) for decl, text in zip(decls, texts)]


def _from_declaration(decl, callback_types: frozenset[str], text: str) -> Prototype:
    declarator = decl.child_by_field_name("declarator")
    name = _function_name(declarator)
    if not name:
        raise ValueError(f"not a function declaration: {text!r}")
    # Walk down to the function declarator that names the function.
    d = declarator
    outer_pointers = 0
    returns_function = False
    while not (d.type == "function_declarator" and d.child_by_field_name("declarator").type == "identifier"):
        if d.type == "pointer_declarator":
            outer_pointers += 1
        if d.type == "function_declarator":
            returns_function = True
        d = d.child_by_field_name("declarator") or next(c for c in d.named_children if c.type.endswith("declarator"))
    if returns_function:
        ret = CType("void", 1)
    else:
        const = any(c.type == "type_qualifier" and c.text == b"const" for c in decl.children)
        base, pointers, is_callback = _base(decl.child_by_field_name("type"), "", callback_types)
        ret = CType("void", 1) if is_callback else CType(base, pointers + outer_pointers, const)
    params: list[tuple[CType, str]] = []
    functions: list[int] = []
    variadic = False
    plist = d.child_by_field_name("parameters")
    for p in plist.named_children:
        if p.type == "variadic_parameter":
            variadic = True
            continue
        if p.type != "parameter_declaration":
            continue
        ctype, pname = _ctype(p, p.child_by_field_name("declarator"), callback_types)
        if ctype == CType("void") and not pname:
            continue  # `(void)`
        if pname.endswith("()"):
            functions.append(len(params))
            pname = pname[:-2]
        params.append((ctype, pname or f"arg{len(params) + 1}"))
    if any(c.type == "..." for c in plist.children):
        variadic = True
    return Prototype(name, ret, tuple(params), variadic, tuple(functions))
