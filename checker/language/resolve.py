"""Static checks on a parsed script: names, types, call shapes, loops and recursion.

`resolve` only validates; it raises the first problem it meets (walking the script in
source order, then the call graph) and returns nothing. The small type language it
uses (`TypeInfo`, `fits`, `const_value`) is public for other passes that want it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

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
    CType,
    Deref,
    Expr,
    ExprStmt,
    For,
    FuncDef,
    If,
    IntLit,
    Name,
    Nondet,
    NullLit,
    Program,
    Return,
    Span,
    Stmt,
    StrLit,
    Unary,
    VarDecl,
    While,
)
from .errors import ResolveError
from .prototypes import CALLBACK_SIGNATURES, CONSTANTS, PROTOTYPES, SCALAR_TYPES

INTEGERS = frozenset(SCALAR_TYPES) | frozenset(cint.TYPES)  # interchangeable with each other
CHARS = frozenset({"char", "unsigned char"})  # `char c;` is a small integer
NUMBERS = INTEGERS | CHARS  # the non-pointer types a variable may have
BUFFERS = frozenset({"char", "unsigned char", "void"})  # `char *`, `unsigned char *`, `void *` mix
BUILTIN_VARIABLES = {"stdout": CType("FILE", 1), "stderr": CType("FILE", 1)}

FOR_BOUNDS = "for loops need constant bounds; use while (*) instead"
FOR_HELP = "write `for (int i = A; i < B; i++)` with constant A and B"


# ---- the type language ---------------------------------------------------------------


@dataclass(frozen=True)
class TypeInfo:
    """The static type of an expression.

    kind: "scalar" (any integer), "pointer", "null" (`NULL`), "void" (a call that
    returns nothing), or "function" (a script function named as a value: a callback).
    """

    kind: str
    ctype: CType | None = None
    zero: bool = False  # the literal 0, which also fits any pointer
    function: str = ""

    def __str__(self) -> str:
        if self.kind in ("scalar", "pointer") and self.ctype is not None:
            return str(self.ctype)
        if self.kind == "function":
            return f"function `{self.function}`"
        return {"null": "NULL", "void": "void"}.get(self.kind, self.kind)


INT = TypeInfo("scalar", CType("int"))
NULL = TypeInfo("null")
VOID = TypeInfo("void")


def type_info(ctype: CType) -> TypeInfo:
    """The TypeInfo of a value declared with C type `ctype`."""
    if ctype.pointers:
        return TypeInfo("pointer", ctype)
    return VOID if ctype.base == "void" else TypeInfo("scalar", ctype)


def _same_pointee(a: str, b: str) -> bool:
    return a == b or (a in BUFFERS and b in BUFFERS) or (a in INTEGERS and b in INTEGERS)


def fits(value: TypeInfo, target: CType) -> bool:
    """Whether a value of type `value` may be stored in (or passed as) a `target`.

    `const` is ignored; integers are interchangeable; NULL and literal 0 fit any pointer;
    `void *` takes any pointer or a script function, and converts to any pointer.
    """
    if target.pointers == 0:
        return target.base != "void" and value.kind == "scalar"
    if value.kind == "null" or (value.kind == "scalar" and value.zero):
        return True
    target_is_void_ptr = target.base == "void" and target.pointers == 1
    if value.kind == "function":
        return target_is_void_ptr
    if value.kind != "pointer" or value.ctype is None:
        return False
    have = value.ctype
    if target_is_void_ptr or (have.base == "void" and have.pointers == 1):
        return True
    return have.pointers == target.pointers and _same_pointee(have.base, target.base)


def _int_of(t: TypeInfo) -> cint.IntType:
    return (cint.int_type(t.ctype.base) if t.ctype is not None and not t.ctype.pointers else None) or cint.INT


def const_value(expr: Expr) -> int | None:
    """The value of an integer constant expression (literals, CONSTANTS, casts and C's
    operators, as `cint` computes them); None if it is not one or C gives it no value."""
    known = _constant(expr)
    return None if known is None else known[0]


def _constant(expr: Expr) -> tuple[int, cint.IntType] | None:
    if isinstance(expr, IntLit):
        return expr.value, cint.type_of_literal(expr.value, expr.ctype)
    if isinstance(expr, Name):
        value = CONSTANTS.get(expr.id)
        return None if value is None else (value, cint.constant_type(expr.id))
    if isinstance(expr, Cast):
        inner, t = _constant(expr.operand), cint.int_type(expr.ctype.base)
        return None if inner is None or t is None else (cint.convert(inner[0], t), t)
    if isinstance(expr, Unary):
        inner = _constant(expr.operand)
        if inner is None:
            return None
        if expr.op == "!":
            return int(inner[0] == 0), cint.INT
        t = cint.promote(inner[1])
        return cint.unary("neg" if expr.op == "-" else "bitnot", t, cint.convert(inner[0], t)), t
    if isinstance(expr, Binary) and expr.op in cint.OPERATORS:
        left, right = _constant(expr.left), _constant(expr.right)
        if left is None or right is None:
            return None
        op = cint.OPERATORS[expr.op]
        if op in cint.COMPARISONS:
            c = cint.common(left[1], right[1])
            return int(cint.compare(op, cint.convert(left[0], c), cint.convert(right[0], c))), cint.INT
        t = cint.result_type(op, left[1], right[1])
        other = cint.promote(right[1]) if op in ("shl", "shr") else t
        value = cint.binary(op, t, cint.convert(left[0], t), cint.convert(right[0], other))
        return None if value is None else (value, t)
    return None


# ---- names -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Symbol:
    name: str
    ctype: CType
    kind: str  # "variable", "constant" or "builtin"
    span: Span | None = None
    declared: bool = True  # a global becomes visible to top-level code at its declaration


@dataclass(eq=False)
class _Scope:
    parent: _Scope | None
    names: dict[str, _Symbol] = field(default_factory=dict)


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A close spelling of `name` among `candidates`, if there is one."""
    pool = sorted(set(candidates) - {name})
    by_lower = {c.lower(): c for c in pool}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name, pool, n=1)
    return close[0] if close else None


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    guess = _suggest(name, candidates)
    return f"did you mean `{guess}`?" if guess else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _where(span: Span | None) -> str:
    return f"line {span.line}" if span else "elsewhere"


# ---- the resolver ------------------------------------------------------------------------


def resolve(program: Program, modelled: frozenset[str] = frozenset()) -> None:
    """Check `program`; raise the first ResolveError found. Every function of the catalogue
    may be called (`modelled` is kept for callers that pass the model's names)."""
    _Resolver(program, modelled).run()


class _Resolver:
    def __init__(self, program: Program, modelled: frozenset[str]) -> None:
        self.program = program
        self.modelled = modelled
        self.functions = program.functions
        builtins = _Scope(None)
        for name in CONSTANTS:
            builtins.names[name] = _Symbol(name, CType(cint.constant_type(name).name), "constant")
        for name, ctype in BUILTIN_VARIABLES.items():
            builtins.names[name] = _Symbol(name, ctype, "builtin")
        self.globals = _Scope(builtins)
        self.scope = self.globals
        self.declarations = program.declarations
        self.function: FuncDef | None = None  # the function being resolved
        self.loops = 0
        self.counters: set[int] = set()  # ids of the symbols of enclosing for-loop counters
        self.calls: dict[str, list[tuple[str, Span]]] = {name: [] for name in self.functions}

    def error(self, message: str, span: Span | None, *, label: str = "",
              notes: tuple[str, ...] = (), help: str | None = None) -> ResolveError:
        return ResolveError(message, span, label=label, notes=notes, help=help,
                            source=self.program.source)

    # -- whole program --

    def run(self) -> None:
        for item in self.program.items:  # globals are visible inside every function
            if isinstance(item, VarDecl) and item.name not in self.globals.names:
                self.globals.names[item.name] = _Symbol(item.name, item.ctype, "variable",
                                                        item.name_span, declared=False)
        for decl in self.declarations.values():
            self.declaration(decl)
        has_main = "main" in self.functions
        for item in self.program.items:
            if isinstance(item, FuncDef):
                self.function_def(item)
            elif isinstance(item, VarDecl):
                self.global_decl(item)
            else:
                if has_main and not (isinstance(item, Block) and not item.stmts):
                    raise self.error("a script with `main` cannot also have top-level statements",
                                     item.span, label="outside `main`",
                                     help="move this statement into `main`")
                self.stmt(item)
        self.check_recursion()
        self.check_call_depth()

    def check_name_free(self, name: str, span: Span) -> None:
        """Refuse a new variable or function named like an OpenSSL function or constant."""
        if name in PROTOTYPES or name in CONSTANTS or name in BUILTIN_VARIABLES:
            what = ("an OpenSSL function" if name in PROTOTYPES else
                    "an OpenSSL constant" if name in CONSTANTS else "predefined")
            raise self.error(f"`{name}` is {what}", span, label="this name is taken",
                             help="choose another name")

    def declaration(self, d) -> None:
        """A function declared without a body: a new name, plain parameter types."""
        if d.name in PROTOTYPES:
            raise self.error(f"`{d.name}` is an OpenSSL or C library function sessref knows", d.name_span,
                             label="declared here", help=f"remove the declaration: `sessref functions {d.name}` "
                             "says what a call of it does")
        self.check_name_free(d.name, d.name_span)
        if d.name in self.functions:
            raise self.error(f"`{d.name}` is declared without a body and also defined", d.name_span,
                             label="declared here",
                             notes=(f"it is defined at {_where(self.functions[d.name].name_span)}",),
                             help="remove the declaration: the definition is what runs")
        for param in d.params:
            self.check_type(param.ctype, param.span, "a parameter")

    def function_def(self, f: FuncDef) -> None:
        first = self.functions[f.name]
        if first is not f:
            raise self.error(f"function `{f.name}` is defined twice", f.name_span,
                             label="second definition",
                             notes=(f"first defined at {_where(first.name_span)}",))
        self.check_name_free(f.name, f.name_span)
        glob = self.globals.names.get(f.name)
        if glob is not None and glob.span is not None and glob.span.start < f.span.start:
            raise self.error(f"`{f.name}` is already a global variable", f.name_span,
                             label="this name is taken",
                             notes=(f"the global is declared at {_where(glob.span)}",))
        if f.ret.pointers == 0 and f.ret.base not in NUMBERS | {"void"}:
            raise self.error(f"`{f.ret.base}` can only be returned through a pointer", f.span,
                             label=f"write `{f.ret.base} *`")
        if f.name == "main" and f.params:
            raise self.error("`main` takes no parameters here", f.params[0].span,
                             label="remove this", help="write `int main(void)`")
        self.function, self.loops = f, 0
        self.scope = _Scope(self.globals)
        for param in f.params:
            self.check_type(param.ctype, param.span, "a parameter")
            self.declare(param.name, param.ctype, param.span)
        for stmt in f.body.stmts:  # parameters and the body's outer block share one scope
            self.stmt(stmt)
        self.function, self.scope = None, self.globals

    def global_decl(self, decl: VarDecl) -> None:
        sym = self.globals.names[decl.name]
        if sym.span != decl.name_span:
            raise self.redeclared(decl.name, decl.name_span, sym)
        self.check_name_free(decl.name, decl.name_span)
        f = self.functions.get(decl.name)
        if f is not None and f.span.start < decl.span.start:
            raise self.function_clash(decl.name, decl.name_span, f)
        self.check_type(decl.ctype, decl.span, "a variable")
        if decl.init is not None:
            self.check_fits(self.value(decl.init), decl.ctype, decl.init,
                            f"`{decl.name}` is `{decl.ctype}`")
        sym.declared = True

    # -- scopes --

    def lookup(self, name: str) -> _Symbol | None:
        scope: _Scope | None = self.scope
        while scope is not None:
            sym = scope.names.get(name)
            if sym is not None and (sym.declared or self.function is not None):
                return sym
            scope = scope.parent
        return None

    def visible_names(self) -> Iterator[str]:
        scope: _Scope | None = self.scope
        while scope is not None:
            yield from (n for n, s in scope.names.items() if s.declared or self.function)
            scope = scope.parent

    def declare(self, name: str, ctype: CType, span: Span) -> _Symbol:
        if name in self.scope.names:
            raise self.redeclared(name, span, self.scope.names[name])
        self.check_name_free(name, span)
        if name in self.functions:
            raise self.function_clash(name, span, self.functions[name])
        sym = _Symbol(name, ctype, "variable", span)
        self.scope.names[name] = sym
        return sym

    def function_clash(self, name: str, span: Span, f: FuncDef) -> ResolveError:
        return self.error(f"`{name}` is already the name of a function", span,
                          label="this name is taken",
                          notes=(f"the function is defined at {_where(f.name_span)}",))

    def redeclared(self, name: str, span: Span, first: _Symbol) -> ResolveError:
        return self.error(f"`{name}` is already declared in this scope", span,
                          label="declared again here",
                          notes=(f"first declared at {_where(first.span)}",))

    def check_type(self, ctype: CType, span: Span, what: str) -> None:
        if ctype.pointers:
            return
        if ctype.base == "void":
            raise self.error(f"{what} cannot have type `void`", span, label="`void` here")
        if ctype.base not in NUMBERS:
            raise self.error(f"`{ctype.base}` objects are only used through pointers", span,
                             label=f"write `{ctype.base} *`")

    def unknown_name(self, name: str, span: Span) -> ResolveError:
        glob = self.globals.names.get(name)
        if glob is not None and not glob.declared:
            return self.error(f"`{name}` is used before its declaration", span,
                              label="not declared yet",
                              notes=(f"it is declared at {_where(glob.span)}",))
        if name in self.functions or name in PROTOTYPES:
            return self.error(f"`{name}` is a function, not a variable", span,
                              label="not a value", help=f"call it: `{name}(...)`")
        return self.error(f"unknown variable `{name}`", span, label="not declared",
                          help=_did_you_mean(name, self.visible_names()))

    # -- statements --

    def stmt(self, s: Stmt) -> None:
        if isinstance(s, VarDecl):
            self.check_type(s.ctype, s.span, "a variable")
            if s.init is not None:  # resolved before the name exists: `int x = x;` fails
                self.check_fits(self.value(s.init), s.ctype, s.init, f"`{s.name}` is `{s.ctype}`")
            self.declare(s.name, s.ctype, s.name_span)
        elif isinstance(s, Assign):
            self.assign(s)
        elif isinstance(s, ExprStmt):
            if isinstance(s.expr, Call):
                self.call(s.expr)
            else:
                self.value(s.expr)
        elif isinstance(s, Block):
            self.scope = _Scope(self.scope)
            for inner in s.stmts:
                self.stmt(inner)
            self.scope = self.scope.parent  # type: ignore[assignment]
        elif isinstance(s, If):
            self.condition(s.cond, allow_nondet=True)
            self.body(s.then, "if")
            if s.orelse is not None:
                self.body(s.orelse, "else")
        elif isinstance(s, While):
            self.condition(s.cond, allow_nondet=True)
            self.loops += 1
            self.body(s.body, "while")
            self.loops -= 1
        elif isinstance(s, For):
            self.for_loop(s)
        elif isinstance(s, (Break, Continue)):
            if self.loops == 0:
                word = "break" if isinstance(s, Break) else "continue"
                raise self.error(f"`{word}` outside a loop", s.span, label="no loop to leave")
        elif isinstance(s, Return):
            self.return_stmt(s)
        elif isinstance(s, Assume):
            self.condition(s.cond, allow_nondet=False)
        else:
            raise TypeError(f"unknown statement {s!r}")

    def body(self, s: Stmt, keyword: str) -> None:
        """The body of if/else/while/for: its own scope, and not a bare declaration."""
        if isinstance(s, VarDecl):
            raise self.error(f"a declaration cannot be the whole body of `{keyword}`", s.span,
                             label="declaration", help="put it in braces `{ ... }`")
        self.scope = _Scope(self.scope)
        self.stmt(s)
        self.scope = self.scope.parent  # type: ignore[assignment]

    def assign(self, s: Assign) -> None:
        target = s.target
        if isinstance(target, Deref):
            ttype = self.deref(target).ctype
            what = f"`*{target.target.id}` is `{ttype}`"
        else:
            sym = self.lookup(target.id)
            if sym is None:
                raise self.unknown_name(target.id, target.span)
            if sym.kind != "variable":
                raise self.error(f"cannot assign to `{target.id}`", target.span,
                                 label=f"a {sym.kind}, not a variable")
            if id(sym) in self.counters:
                raise self.error(f"the loop counter `{target.id}` must not change in the loop body",
                                 s.span, label="changes the counter", help="use while (*) instead")
            ttype = sym.ctype
            what = f"`{target.id}` is `{ttype}`"
        value = self.value(s.value)
        if s.op == "=":
            self.check_fits(value, ttype, s.value, what)
        elif type_info(ttype).kind != "scalar" or value.kind != "scalar":
            raise self.error(f"`{s.op}` needs an integer on both sides", s.span,
                             label=f"{what}, the amount is `{value}`")

    def check_fits(self, value: TypeInfo, target: CType, expr: Expr, what: str) -> None:
        if not fits(value, target):
            raise self.error(f"mismatched types: expected `{target}`, found `{value}`", expr.span,
                             label=f"this is `{value}`", notes=(what,))

    def condition(self, cond: Expr, *, allow_nondet: bool) -> None:
        if allow_nondet and isinstance(cond, Nondet):
            return
        self.value(cond)

    def for_loop(self, s: For) -> None:
        self.scope = _Scope(self.scope)
        if s.init is not None:
            self.stmt(s.init)
        if s.cond is not None:
            self.condition(s.cond, allow_nondet=False)
        if s.step is not None:
            self.assign(s.step)
        counter = self.for_counter(s)
        self.loops += 1
        self.counters.add(id(counter))
        self.body(s.body, "for")
        self.counters.discard(id(counter))
        self.loops -= 1
        self.scope = self.scope.parent  # type: ignore[assignment]

    def for_counter(self, s: For) -> _Symbol:
        """Check `for (i = A; i < B; i += C)` with constant A, B, C; return i's symbol."""
        init = s.init
        if isinstance(init, VarDecl) and init.init is not None:
            name, start = init.name, init.init
        elif isinstance(init, Assign) and init.op == "=" and isinstance(init.target, Name):
            name, start = init.target.id, init.value
        else:
            raise self.error(FOR_BOUNDS, init.span if init else s.span,
                             label="needs a counter set to a constant", help=FOR_HELP)
        sym = self.lookup(name)
        assert sym is not None  # resolved just before
        if type_info(sym.ctype).kind != "scalar":
            raise self.error(FOR_BOUNDS, init.span, label="the counter must be an integer",
                             help=FOR_HELP)
        if const_value(start) is None:
            raise self.error(FOR_BOUNDS, start.span, label="not a constant", help=FOR_HELP)
        cond = s.cond
        if not (isinstance(cond, Binary) and cond.op in ("<", "<=", ">", ">=")
                and isinstance(cond.left, Name) and cond.left.id == name):
            raise self.error(FOR_BOUNDS, cond.span if cond else s.span,
                             label=f"needs `{name} < constant` (or <=, >, >=)", help=FOR_HELP)
        if const_value(cond.right) is None:
            raise self.error(FOR_BOUNDS, cond.right.span, label="not a constant", help=FOR_HELP)
        step = s.step
        amount = const_value(step.value) if step is not None else None
        if step is None or not (isinstance(step.target, Name) and step.target.id == name
                                and step.op in ("+=", "-=") and amount):
            raise self.error(FOR_BOUNDS, step.span if step else s.span,
                             label=f"needs `{name}++`, `{name}--`, `{name} += constant` or "
                                   f"`{name} -= constant`", help=FOR_HELP)
        upward = cond.op in ("<", "<=")
        if ((amount if step.op == "+=" else -amount) > 0) != upward:  # type: ignore[operator]
            raise self.error("this for loop never reaches its bound", step.span,
                             label="steps away from the bound", help=FOR_HELP)
        return sym

    def return_stmt(self, s: Return) -> None:
        f = self.function
        if f is None:
            # The script body runs as if in `main`: `return;` or `return n;` ends it.
            if s.value is not None:
                self.expr(s.value)
            return
        if s.value is None:
            return
        if f.ret.pointers == 0 and f.ret.base == "void":
            raise self.error(f"`{f.name}` returns `void`, so `return` cannot give a value",
                             s.value.span, label="remove this value")
        self.check_fits(self.value(s.value), f.ret, s.value, f"`{f.name}` returns `{f.ret}`")

    # -- expressions --

    def value(self, e: Expr) -> TypeInfo:
        """The type of `e`, which must be a value (not a void call, not a bare function)."""
        return self.as_value(self.expr(e), e)

    def as_value(self, t: TypeInfo, e: Expr) -> TypeInfo:
        if t.kind == "void":
            callee = e.func if isinstance(e, Call) else "this"
            raise self.error(f"`{callee}` returns nothing, so it has no value", e.span,
                             label="returns `void`")
        if t.kind == "function":
            raise self.error(f"`{t.function}` is a function, not a value", e.span,
                             label="not a value",
                             help="only an argument of type `void *` (a callback) takes a function")
        return t

    def expr(self, e: Expr) -> TypeInfo:
        if isinstance(e, IntLit):
            return TypeInfo("scalar", CType(cint.type_of_literal(e.value, e.ctype).name), zero=e.value == 0)
        if isinstance(e, StrLit):
            return TypeInfo("pointer", CType("char", 1, True))
        if isinstance(e, NullLit):
            return NULL
        if isinstance(e, Name):
            sym = self.lookup(e.id)
            if sym is not None:
                return type_info(sym.ctype)
            if e.id in self.functions:
                return TypeInfo("function", function=e.id)
            raise self.unknown_name(e.id, e.span)
        if isinstance(e, Call):
            return self.call(e)
        if isinstance(e, AddrOf):
            # Only an OpenSSL call's argument may be `&var` (`call` takes those): the
            # library writes through it. Anywhere else the pointer would have to be kept.
            raise self.error(f"`&{e.target.id}` can only be passed straight to an OpenSSL call", e.span,
                             label="a pointer to a variable, here",
                             help="pointers to variables are modelled only as arguments of OpenSSL calls "
                             "(`SSL_SESSION_get_id(s, &len)`); pass the value itself, or return it")
        if isinstance(e, Deref):
            return self.deref(e)
        if isinstance(e, Unary):
            operand = self.as_value(self.expr(e.operand), e.operand)
            if e.op in ("-", "~") and operand.kind != "scalar":
                raise self.error(f"`{e.op}` needs an integer, found `{operand}`", e.span,
                                 label=f"this is `{operand}`")
            if e.op == "!":
                return INT
            return TypeInfo("scalar", CType(cint.promote(_int_of(operand)).name))
        if isinstance(e, Cast):
            operand = self.as_value(self.expr(e.operand), e.operand)
            if operand.kind != "scalar":
                raise self.error(f"`({e.ctype})` converts integers only, found `{operand}`", e.span,
                                 label=f"this is `{operand}`")
            return TypeInfo("scalar", e.ctype)
        if isinstance(e, Binary):  # operands resolved here: one stack frame per level
            left = self.as_value(self.expr(e.left), e.left)
            right = self.as_value(self.expr(e.right), e.right)
            return self.binary(e, left, right)
        if isinstance(e, Nondet):
            raise self.error("`*` (an unknown choice) can only be the whole condition of "
                             "`if` or `while`", e.span, label="not allowed here",
                             help="write `if (*)` or `while (*)`")
        raise TypeError(f"unknown expression {e!r}")

    def binary(self, e: Binary, left: TypeInfo, right: TypeInfo) -> TypeInfo:
        if e.op in ("||", "&&"):
            return INT
        if e.op in ("==", "!="):
            if not _comparable(left, right):
                raise self.error(f"cannot compare `{left}` with `{right}`", e.span,
                                 label="different kinds of value")
            return INT
        if left.kind != "scalar" or right.kind != "scalar":
            bad = left if left.kind != "scalar" else right
            raise self.error(f"`{e.op}` needs integers, found `{bad}`", e.span,
                             label=f"`{left}` {e.op} `{right}`")
        if e.op in ("<", "<=", ">", ">="):
            return INT
        t = cint.result_type(cint.OPERATORS[e.op], _int_of(left), _int_of(right))
        return TypeInfo("scalar", CType(t.name))

    def address_of(self, e: AddrOf) -> TypeInfo:
        name = e.target.id
        sym = self.lookup(name)
        if sym is None:
            raise self.unknown_name(name, e.target.span)
        if sym.kind != "variable":
            raise self.error(f"`&` needs a variable; `{name}` is a {sym.kind}", e.span,
                             label="not a variable")
        if id(sym) in self.counters:
            raise self.error(f"the loop counter `{name}` must not change in the loop body", e.span,
                             label="its address lets a call change it",
                             help="copy it into another variable first")
        ctype = sym.ctype
        return TypeInfo("pointer", CType(ctype.base, ctype.pointers + 1, ctype.const))

    def deref(self, e: Deref) -> TypeInfo:
        name = e.target.id
        sym = self.lookup(name)
        if sym is None:
            raise self.unknown_name(name, e.target.span)
        ctype = sym.ctype
        if sym.kind != "variable" or ctype.pointers != 1 or ctype.base not in NUMBERS:
            raise self.error(f"`*{name}` needs a pointer to an integer", e.span,
                             label=f"`{name}` is `{ctype}`")
        return TypeInfo("scalar", CType(ctype.base))

    def call(self, e: Call) -> TypeInfo:
        name = e.func
        sym = self.lookup(name)
        if sym is not None:
            raise self.error(f"`{name}` is a {sym.kind}, not a function", e.func_span,
                             label="not a function")
        if name in self.functions:
            f = self.functions[name]
            if name == "main":
                raise self.error("`main` cannot be called", e.span, label="calls `main`")
            if self.function is not None:
                self.calls[self.function.name].append((name, e.span))
            params, variadic, ret = tuple(p.ctype for p in f.params), False, f.ret
        elif name in PROTOTYPES:
            # Every catalogue name is accepted here: what an unmodelled call does to the
            # verdict (its paths are unknown) is the executor's business.
            proto = PROTOTYPES[name]
            params, variadic, ret = tuple(c for c, _ in proto.params), proto.variadic, proto.ret
        elif name in self.declarations:
            d = self.declarations[name]
            params, variadic, ret = tuple(p.ctype for p in d.params), False, d.ret
        else:
            return self.undeclared_call(e)
        given, wanted = len(e.args), len(params)
        if given < wanted or (given > wanted and not variadic):
            least = "at least " if variadic else ""
            raise self.error(
                f"`{name}` takes {least}{_plural(wanted, 'argument')} but {given} "
                f"{'was' if given == 1 else 'were'} given", e.span,
                label=f"expected {least}{_plural(wanted, 'argument')}")
        for index, arg in enumerate(e.args):
            if isinstance(arg, AddrOf) and name not in self.functions:
                t = self.address_of(arg)
            elif isinstance(arg, AddrOf):
                raise self.error(f"`&{arg.target.id}` cannot be passed to the script's own function `{name}`",
                                 arg.span, label="a pointer to a variable",
                                 help="pointers to variables are modelled only as arguments of OpenSSL calls; "
                                 f"have `{name}` return the value instead")
            else:
                t = self.expr(arg)
            if index >= wanted or t.kind == "void":
                self.as_value(t, arg)  # variadic extras take any value; a void call is none
                continue
            if not fits(t, params[index]):
                raise self.error(f"argument {index + 1} of `{name}` has the wrong type",
                                 arg.span, label=f"expected `{params[index]}`, found `{t}`")
        if name in CALLBACK_SIGNATURES:
            self.callback_argument(name, e.args[1])
        return type_info(ret)

    def undeclared_call(self, e: Call) -> TypeInfo:
        """A function that is neither the script's, nor declared, nor one sessref knows: a
        helper of the user's program. Given no session, SSL or SSL_CTX it is assumed neutral
        (the report says so) and returns an unknown integer; given one, what it does with it
        must be declared. A name that looks like OpenSSL's but is not in the catalogue is a
        typo, or a function sessref does not know: an error either way."""
        if OPENSSL_NAME.match(e.func):
            guess = _did_you_mean(e.func, [*PROTOTYPES, *self.functions, *self.declarations])
            raise self.error(f"unknown function `{e.func}`", e.func_span, label="not an OpenSSL function sessref knows",
                             help=(f"{guess} " if guess else "") + "`sessref functions` lists the OpenSSL and C functions "
                             "it knows; a function of your own program needs another name or a declaration")
        for arg in e.args:
            t = self.expr(arg)
            if t.kind == "void":
                self.as_value(t, arg)
            ctype = t.ctype if t.kind == "pointer" else None
            if ctype is not None and ctype.base in TRACKED and ctype.pointers in (1, 2):
                what = _text_of(self.program.source, arg.span)
                guess = _did_you_mean(e.func, [*PROTOTYPES, *self.functions, *self.declarations])
                params = ", ".join(_param_text(self.expr(a), a, i, self.program.source) for i, a in enumerate(e.args))
                raise self.error(
                    f"unknown function `{e.func}`", e.func_span,
                    label=f"not a function sessref knows, and it is given `{what}`, {_a(ctype.base)}",
                    help=(f"{guess} " if guess else "") + f"If `{e.func}` is your program's, declare what it does "
                         f"with `{what}`, e.g. "
                         f"`int {e.func}({params}); /* sessref: borrows({_name_of(arg)}) */` (borrows: only reads it; "
                         "holds: keeps a reference of its own; takes: releases one); `sessref functions` lists the "
                         "OpenSSL and C functions it knows")
        return TypeInfo("scalar", CType("long"))

    def callback_argument(self, registration: str, arg: Expr) -> None:
        """The function given to `SSL_CTX_sess_set_*_cb` has the callback's signature."""
        wanted = CALLBACK_SIGNATURES[registration]
        shown = f"{wanted.ret} (*)({', '.join(str(c) for c, _ in wanted.params)})"
        if isinstance(arg, NullLit):
            return
        if not (isinstance(arg, Name) and arg.id in self.functions and self.lookup(arg.id) is None):
            raise self.error(f"`{registration}` takes a function of the script (or NULL)", arg.span,
                             label=f"expected a function `{shown}`")
        f = self.functions[arg.id]

        def same(a: CType, b: CType) -> bool:
            return (a.base, a.pointers) == (b.base, b.pointers)

        params = [p.ctype for p in f.params]
        if not same(f.ret, wanted.ret) or len(params) != len(wanted.params) or not all(
            same(a, b) for a, (b, _) in zip(params, wanted.params)
        ):
            raise self.error(f"`{arg.id}` does not have the signature of a `{wanted.name}`", arg.span,
                             label=f"expected `{shown}`",
                             notes=(f"`{arg.id}` is defined at {f.span}",))

    # -- call graph --

    def check_recursion(self) -> None:
        """Refuse direct or mutual recursion, at the call that closes the first cycle."""
        state: dict[str, int] = {}  # 1: on the current path, 2: finished
        for root in self.functions:
            if root in state:
                continue
            path, pending = [root], [iter(self.calls[root])]
            state[root] = 1
            while pending:
                step = next(pending[-1], None)
                if step is None:
                    state[path.pop()] = 2
                    pending.pop()
                    continue
                callee, span = step
                if state.get(callee) == 1:
                    cycle = path[path.index(callee):] + [callee]
                    shown = " -> ".join(f"`{n}`" for n in cycle)
                    raise self.error(f"recursion is not supported: {shown}", span,
                                     label="this call closes the cycle",
                                     help="unroll it, or use a loop")
                if callee not in state:
                    state[callee] = 1
                    path.append(callee)
                    pending.append(iter(self.calls[callee]))

    def check_call_depth(self) -> None:
        """Refuse chains of the script's own calls deeper than MAX_CALL_DEPTH (the checker
        runs each call inside the caller's; Python's stack is the limit), at the call that
        goes past it. Runs after `check_recursion`: the calls form no cycle."""
        depth: dict[str, int] = {}  # the longest chain of calls from each function, itself included
        for root in self.functions:
            pending = [root]
            while pending:
                name = pending[-1]
                if name in depth:
                    pending.pop()
                    continue
                todo = [callee for callee, _ in self.calls[name] if callee not in depth]
                if todo:
                    pending.extend(todo)
                    continue
                pending.pop()
                depth[name] = 1 + max((depth[callee] for callee, _ in self.calls[name]), default=0)
                if depth[name] > MAX_CALL_DEPTH:
                    callee, span = max(self.calls[name], key=lambda c: depth[c[0]])
                    raise self.error(f"calls nest more than {MAX_CALL_DEPTH} deep: `{name}` calls `{callee}`, "
                                     f"which starts a chain of {depth[callee]} calls", span,
                                     label="this call goes past the limit",
                                     help="scripts are checked call inside call; flatten the chain of functions")


MAX_CALL_DEPTH = 64


TRACKED = ("SSL_SESSION", "SSL", "SSL_CTX")
# Prefixes of OpenSSL's names: an unknown function named so is not a helper of the user's.
OPENSSL_NAME = re.compile(r"(SSL|TLS|DTLS|d2i|i2d|OPENSSL|OSSL|BIO|ERR|X509|EVP|PEM|CRYPTO|ASN1|RAND|OBJ|BN|RSA|"
                          r"EC|DH|DSA|HMAC|CONF|ENGINE|PKCS\d*|sk|lh)_")


def _a(base: str) -> str:
    return f"an `{base}`" if base[0] in "AEIOUS" else f"a `{base}`"


def _text_of(source: str, span: Span) -> str:
    return source[span.start:span.end] if 0 <= span.start < span.end <= len(source) else "it"


def _name_of(arg: Expr) -> str:
    if isinstance(arg, Name):
        return arg.id
    if isinstance(arg, AddrOf):
        return arg.target.id
    return "p"


def _param_text(t: TypeInfo, arg: Expr, i: int, source: str) -> str:
    ctype = t.ctype if t.kind == "pointer" and t.ctype is not None else CType("int")
    name = _name_of(arg) if isinstance(arg, (Name, AddrOf)) else f"p{i + 1}"
    text = str(ctype)
    return f"{text}{name}" if text.endswith("*") else f"{text} {name}"


def undeclared_calls(program: Program) -> list[tuple[str, Span]]:
    """The calls of helpers the script neither defines, declares nor sessref knows (each
    assumed neutral: `resolve` refused those given a tracked object), first call each."""
    from .ast import walk

    known = set(program.functions) | set(program.declarations) | set(PROTOTYPES)
    seen: dict[str, Span] = {}
    for node in walk(program.items):
        if isinstance(node, Call) and node.func not in known:
            seen.setdefault(node.func, node.func_span)
    return list(seen.items())


def _comparable(a: TypeInfo, b: TypeInfo) -> bool:
    """Whether `a == b` makes sense: two integers, two compatible pointers, a pointer and NULL."""
    if a.kind == b.kind == "scalar":
        return True
    if a.kind == b.kind == "pointer":
        return fits(a, b.ctype) or fits(b, a.ctype)  # type: ignore[arg-type]

    def null_like(t: TypeInfo) -> bool:
        return t.kind == "null" or (t.kind == "scalar" and t.zero)

    return (a.kind in ("pointer", "null") and null_like(b)) or \
        (b.kind in ("pointer", "null") and null_like(a))
