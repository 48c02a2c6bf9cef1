"""The syntax tree of an operation script: frozen dataclasses, each with a source span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class Span:
    """A region of one source file; lines and columns count from 1, `end_*` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0  # character offsets into the source
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class CType:
    """A C type as written: `const unsigned char *` is CType("unsigned char", 1, True)."""

    base: str
    pointers: int = 0
    const: bool = False

    def __str__(self) -> str:
        text = ("const " if self.const else "") + self.base
        return text + (" " + "*" * self.pointers if self.pointers else "")


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class IntLit:
    value: int
    span: Span
    ctype: str = ""  # its C type by value and suffix (`cint.literal_type`); "": by value alone


@dataclass(frozen=True)
class StrLit:
    value: str
    span: Span


@dataclass(frozen=True)
class NullLit:
    span: Span


@dataclass(frozen=True)
class Nondet:
    """`*` as a condition: `if (*)`, `while (*)` — any outcome is possible."""

    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    span: Span
    func_span: Span


@dataclass(frozen=True)
class AddrOf:
    """`&p`: the address of a variable."""

    target: Name
    span: Span


@dataclass(frozen=True)
class Deref:
    """`*copy`: the object a pointer variable points at."""

    target: Name
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str  # "!", "-" or "~"
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Cast:
    """`(unsigned long)n`: a conversion to an integer type."""

    ctype: CType
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # "||" "&&" "|" "^" "&" "==" "!=" "<" "<=" ">" ">=" "<<" ">>" "+" "-" "*" "/" "%"
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Unknown:
    """A value the checker does not follow (C input: arithmetic or a string on untracked
    data, an unknown macro or helper's result): `parts` are evaluated first, for their
    effects, then the value is any integer."""

    parts: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Cond:
    """`c ? a : b` (C input): only the chosen branch is evaluated."""

    cond: "Expr"
    then: "Expr"
    orelse: "Expr"
    span: Span


Expr = Union[Name, IntLit, StrLit, NullLit, Nondet, Call, AddrOf, Deref, Unary, Cast, Binary, Unknown, Cond]


# ---- statements --------------------------------------------------------------


@dataclass(frozen=True)
class VarDecl:
    ctype: CType
    name: str
    init: Expr | None
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Assign:
    """`x = e;`, `*copy = 0;`, `i++`/`i--`/`i += n` (op "+=" / "-=" with the amount), and
    the other compound assignments (op "*=", "|=", "<<=", ...)."""

    target: Name | Deref
    value: Expr
    span: Span
    op: str = "="


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Block:
    stmts: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True)
class If:
    cond: Expr
    then: "Stmt"
    orelse: "Stmt | None"
    span: Span


@dataclass(frozen=True)
class While:
    cond: Expr
    body: "Stmt"
    span: Span


@dataclass(frozen=True)
class For:
    init: VarDecl | Assign | None
    cond: Expr | None
    step: "Stmt | None"
    body: "Stmt"
    span: Span
    # C input: a loop with any bounds, unrolled like `while (*)` (scripts need constant bounds).
    unbounded: bool = False


@dataclass(frozen=True)
class Break:
    span: Span


@dataclass(frozen=True)
class Continue:
    span: Span


@dataclass(frozen=True)
class Return:
    value: Expr | None
    span: Span


@dataclass(frozen=True)
class Assume:
    cond: Expr
    span: Span


@dataclass(frozen=True)
class Goto:
    """`goto label;` (C input): a jump forward to a label later in an enclosing block."""

    label: str
    span: Span


@dataclass(frozen=True)
class Labeled:
    """`label: stmt` (C input): where the `goto`s to `label` join."""

    label: str
    stmt: "Stmt"
    span: Span


Stmt = Union[VarDecl, Assign, ExprStmt, Block, If, While, For, Break, Continue, Return, Assume, Goto, Labeled]


@dataclass(frozen=True)
class Param:
    ctype: CType
    name: str
    span: Span


@dataclass(frozen=True)
class FuncDef:
    ret: CType
    name: str
    params: tuple[Param, ...]
    body: Block
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Contract:
    """What a function without a body does with what it is given, as its declaration says
    (`void keep(SSL_SESSION *s); /* sessref: holds(s) */`), in the spirit of Clang's
    `ownership_holds/takes/returns`: for each tracked parameter `borrows` (reads it, keeps
    nothing), `holds` (keeps a reference of its own) or `takes` (releases one reference);
    for a tracked result `owned` (a new reference the caller releases, or NULL) or
    `borrowed` (a pointer without a reference, or NULL)."""

    params: tuple[str, ...]  # per parameter: "borrows", "holds", "takes", or "" (untracked)
    returns: str = ""  # "owned", "borrowed", or "" (not a tracked result)
    span: Span | None = None  # where the annotation is written


@dataclass(frozen=True)
class FuncDecl:
    """A prototype without a body (`int log_line(const char *s);`) and its contract."""

    ret: CType
    name: str
    params: tuple[Param, ...]
    contract: Contract
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Program:
    """A whole script. `items` keeps top-level declarations, statements and functions in order;
    top-level declarations are globals, top-level statements are the script body."""

    file: str
    source: str
    items: tuple[VarDecl | FuncDef | Stmt, ...]
    functions: dict[str, FuncDef] = field(default_factory=dict, compare=False, hash=False)
    # What the checker assumed to read the file (C input: neutral helpers, entry contexts).
    notes: tuple[str, ...] = field(default=(), compare=False, hash=False)
    # Other files whose spans the program holds (`#include "tls.c"`): (file, its text).
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False, hash=False)
    # Functions declared without a body, with their contracts (`FuncDecl`), by name.
    declarations: dict[str, "FuncDecl"] = field(default_factory=dict, compare=False, hash=False)
    # C input: where the file's own text ends in `source` (what follows is sessref's: macro
    # expansions, entry contexts), and how an edited text of the file is read again with
    # the same options (a verified fix re-checks the patched file).
    own_text_end: int = field(default=-1, compare=False, hash=False)
    relower: Any = field(default=None, compare=False, hash=False)


def walk(node: object):
    """Every syntax node under `node` (itself included), in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (list, tuple)):
            stack.extend(reversed(current))
            continue
        if not hasattr(current, "__dataclass_fields__") or isinstance(current, (Span, CType)):
            continue
        yield current
        children = [getattr(current, name) for name in current.__dataclass_fields__ if name not in ("span", "source", "functions")]
        stack.extend(reversed(children))


def called_names(program: Program) -> set[str]:
    """The names of every function the script calls (from the syntax tree, never its text)."""
    return {n.func for n in walk(program.items) if isinstance(n, Call)}
