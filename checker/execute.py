"""Runs a script over a `Backend`: control flow, scopes, functions, loops and calls.

The same executor drives the concrete interpreter (one path, plain values) and the Z3
encoding (all paths at once, branches merged at their joins). What differs is the backend:
how a condition splits a state, how states merge, how a model effect is applied.

Every call instance is a *site*: the call's span plus its dynamic context (which loop
iterations and function calls it is inside). Choices (`if (*)`, a call's outcome) are named
after their site, so a choice the solver makes can be replayed by the interpreter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from . import budget
from .language import ast, cint
from .language.catalogue import CATALOGUE, Entry, names, require
from .language.cheader import Prototype
from .language.errors import InternalError, NotModelledError, ResolveError, SessrefError
from .language.prototypes import CALLBACK_SIGNATURES, CONSTANTS, OBJECT_TYPES
from .model import api, cache, contracts, handshake, refs, rules
from .model import entry as _entry  # noqa: F401  (registers the caller's release of C entry points)
from .model.rules import Variant
from .model.values import (
    EMPTY_STRING_INDEX,
    NULL,
    OPAQUE_POINTER,
    cell_pointer,
    cell_pointer_index,
    function_pointer,
    string,
)
from .model.world import Arg, Cell, World

Context = tuple  # the dynamic context of a site: (("loop", offset, i) | ("call", offset), ...)
MAX_CONSTANT_LOOP = 10_000
# Steps the executor takes on its own (not a call of the script), by their text.
INTERNAL_STEPS = ("start", "end of statement", "end of script", "library callback", "library")


@dataclass(frozen=True)
class Site:
    """One call instance: what is executed where, in which context."""

    span: ast.Span
    context: Context
    text: str  # the call or statement as written
    callee: str = ""  # the function a call step calls (from the syntax tree)

    @property
    def key(self) -> tuple:
        return (self.span.start, self.span.end, self.context)


def choice_label(what: str, span: ast.Span, context: Context) -> str:
    """The name of a choice made at `span` in `context`: the same in both interpreters, so
    the solver's answers can be replayed (`what@line:col/loopOFFSET#i/callOFFSET`)."""
    where = f"{span.line}:{span.column}"
    for part in context:
        where += f"/{part[0]}{part[1]}" + (f"#{part[2]}" if len(part) > 2 else "")
    return f"{what}@{where}"


class Sites:
    """Numbers the sites of one run (stored in cells) and maps them back."""

    def __init__(self) -> None:
        self._ids: dict[tuple, int] = {}
        self.by_id: list[Site] = []

    def intern(self, site: Site) -> int:
        n = self._ids.get(site.key)
        if n is None:
            n = self._ids[site.key] = len(self.by_id)
            self.by_id.append(site)
        return n


class State(ABC):
    """One symbolic or concrete state of the whole world; backends define what it holds."""

    cells: dict


Effect = Callable[[World, list[Arg]], Any]


class Backend(ABC):
    """How the executor's questions are answered: concretely or symbolically."""

    sites: Sites

    @abstractmethod
    def initial(self) -> State: ...

    @abstractmethod
    def step(self, state: State, fn: Effect, args: list[Arg], site: int, live: list[Cell]) -> tuple[State | None, Any]:
        """Apply a model effect; None when every continuation crashed."""

    @abstractmethod
    def write(self, state: State, cell: Cell, value: Any) -> State:
        """Store a value in a variable cell."""

    @abstractmethod
    def objects(self) -> list[int]:
        """Every object allocated on some path so far."""

    @abstractmethod
    def branch(self, state: State, cond: Any) -> tuple[State | None, State | None]:
        """The states where `cond` holds and where it does not (None: impossible)."""

    @abstractmethod
    def merge(self, states: list[State]) -> State | None: ...

    @abstractmethod
    def assume(self, state: State, cond: Any) -> State | None: ...

    @abstractmethod
    def nondet(self, state: State, label: str) -> Any:
        """A free boolean choice (`*`)."""

    @abstractmethod
    def opaque(self, state: State, label: str, ctype: cint.IntType | None = None) -> Any:
        """A free integer (a scalar input declared without a value), of type `ctype`."""

    @abstractmethod
    def op(self, name: str, *values: Any) -> Any:
        """The model's arithmetic (mathematical integers) and logic: eq ne lt le gt ge add sub
        not truth. The script's integer arithmetic is `arith` and `convert`."""

    @abstractmethod
    def convert(self, value: Any, src: cint.IntType | None, dst: cint.IntType) -> Any:
        """A value of C type `src` (None: of unknown range) converted to `dst` (`cint.convert`)."""

    @abstractmethod
    def arith(self, state: State, name: str, t: cint.IntType, a: Any, b: Any, label: str) -> Any:
        """C's `a op b` in type `t` (`cint.binary`; b None: `cint.unary`); where C gives it
        no value, an unknown value of type `t` chosen under `label`."""

    @abstractmethod
    def bound_reached(self, state: State, loop: ast.Span, key: Hashable = None) -> None:
        """A `while` loop could still run after its last unrolled iteration."""

    def loop_head(self, state: State, key: Hashable, index: int, scope: Any, line: int) -> bool:
        """At the head of loop instance `key` after `index` iterations: whether its states
        there add nothing to those after fewer iterations (`closure.py`), so that no further
        iteration can show anything new. A single path never closes a loop."""
        return False

    @abstractmethod
    def iteration(self, state: State, loop: ast.Span) -> None:
        """A loop's body is about to run once more (counted to find the shortest path)."""

    def unmodelled(self, state: State, call: UnmodelledCall) -> None:
        """The path of `state` reaches a call the model cannot follow; it stops there."""
        self.__dict__.setdefault("unmodelled_calls", []).append((getattr(state, "pc", True), call))


@dataclass(frozen=True)
class UnmodelledCall:
    """A call of a function the model has no semantics for, reached on some path: the
    path stops there, and the verdict cannot be safe (catalogue.toml, status unmodelled)."""

    name: str
    span: ast.Span
    why: str  # what the model would need
    here: bool = False  # a neutral function, not followed at this call only (what it is given)

    def describe(self) -> str:
        what = "is not followed here" if self.here else "is not modelled"
        return f"`{self.name}` (line {self.span.line}) {what}: {self.why}"


@dataclass
class Flow:
    """Where control goes after a statement: on, out of a loop, or out of the function."""

    normal: State | None
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)
    returns: list[State] = field(default_factory=list)
    gotos: dict[str, list[State]] = field(default_factory=dict)  # C input: jumps to labels

    def absorb(self, other: "Flow") -> None:
        self.breaks += other.breaks
        self.continues += other.continues
        self.returns += other.returns
        for label, states in other.gotos.items():
            self.gotos.setdefault(label, []).extend(states)


@dataclass
class Frame:
    """A function invocation: its scopes (name -> cell) and where its result goes."""

    key: Hashable
    func: ast.FuncDef | None
    scopes: list[dict[str, tuple[Cell, ast.CType]]]
    context: Context

    @property
    def result(self) -> Cell:
        return ("result", self.key)


def _is_object(ctype: ast.CType) -> bool:
    return ctype.pointers == 1 and ctype.base in OBJECT_TYPES


class Executor:
    def __init__(self, program: ast.Program, backend: Backend, unroll: int = 4, allocation_failures: bool = False):
        self.program = program
        self.backend = backend
        self.unroll = unroll
        self.allocation_failures = allocation_failures
        self.globals: dict[str, tuple[Cell, ast.CType]] = {}
        self.functions = {item.name: item for item in program.items if isinstance(item, ast.FuncDef)}
        # The result of the `return` being run, while the function's locals go out of scope.
        self.in_flight: list[Cell] = []
        self.pending: list[Any] = []  # values whose references may have been lost in this statement
        self._frames: list[Frame] = []
        self._loop_scopes: list[int] = []  # scope depth of each enclosing loop body
        self._last_value: Any = None
        # String literals are numbered in source order, not in the order a run evaluates
        # them: the symbolic backend evaluates every branch, the interpreter one, and a
        # literal's number is a session id (`SSL_SESSION_set1_id`) that a decoded id can equal.
        self._strings: dict[str, int] = {}  # `""` has a number of its own (`EMPTY_STRING_INDEX`)
        for node in ast.walk(program.items):
            if isinstance(node, ast.StrLit) and node.value:
                self._strings.setdefault(node.value, len(self._strings))
        self._function_index = {name: i for i, name in enumerate(self.functions)}
        self._queues = _queues(program)
        self._in_callback = False  # callbacks queued by a callback's own calls are refused (cache.py)
        self._cell_pointers: list[Cell] = []
        self._types: dict[int, tuple[Any, cint.IntType | None]] = {}  # `_itype`'s memo by node id
        self._facts: dict[int, tuple[bool, bool]] = {}  # `_program_facts` by loop
        self._inert: dict[int, tuple[Any, str | bool]] = {}  # `_inert_body` by node id

    # ---- the whole script ------------------------------------------------------------
    def run(self) -> State | None:
        frame = Frame("main", None, [{}], ())
        self._frames.append(frame)
        state: State | None = self.backend.initial()
        state = self._step(state, api.start, [], frame, ast.Span(self.program.file, 1, 1, 1, 1), "start")
        body = [item for item in self.program.items if not isinstance(item, ast.FuncDef)]
        flow = Flow(state)
        for item in body:
            if isinstance(item, ast.VarDecl):
                flow.normal = self._declare(item, flow.normal, frame, is_global=True)
            else:
                sub = self._stmt(item, flow.normal, frame)
                flow.normal = sub.normal
                flow.absorb(sub)
        main = self.functions.get("main")
        if main is not None and not any(not isinstance(i, (ast.VarDecl, ast.FuncDef)) for i in self.program.items):
            call = ast.Call("main", (), main.span, main.name_span)
            flow.normal, _ = self._call_function(main, call, flow.normal, frame)
        end = self.backend.merge([s for s in [flow.normal, *flow.returns] if s is not None])
        return self._end_of_script(end)

    def _end_of_script(self, state: State | None) -> State | None:
        site_span = self._end_span()
        for o in self.backend.objects():
            if state is None:
                break
            state = self._step(
                state,
                lambda w, args, o=o: refs.check_end(w, o),
                [],
                Frame("end", None, [{}], ()),
                site_span,
                "end of script",
            )
        return state

    def _end_span(self) -> ast.Span:
        lines = self.program.source.count("\n") + 1
        return ast.Span(self.program.file, lines, 1, lines, 1, len(self.program.source), len(self.program.source))

    # ---- steps -----------------------------------------------------------------------
    def _live(self, frame: Frame) -> list[Cell]:
        cells = [cell for cell, ctype in self.globals.values() if _is_object(ctype)]
        for f in [*self._frames, frame]:
            for scope in f.scopes:
                cells += [cell for cell, ctype in scope.values() if _is_object(ctype)]
        return list(dict.fromkeys(cells + self.in_flight))

    def _step(
        self, state: State | None, fn: Effect, args: list[Arg], frame: Frame, span: ast.Span, text: str, callee: str = ""
    ) -> State | None:
        if state is None:
            return None
        budget.check()
        site = self.backend.sites.intern(Site(span, frame.context, text, callee))
        try:
            new_state, value = self.backend.step(state, fn, args, site, self._live(frame))
        except SessrefError as err:
            if err.span is None:  # the model's errors name no place: it is this step's call
                err.span = span
            raise
        self._last_value = value
        return new_state

    # ---- declarations and statements ----------------------------------------------------------
    def _declare(self, decl: ast.VarDecl, state: State | None, frame: Frame, is_global: bool = False) -> State | None:
        cell: Cell = ("var", frame.key, decl.name, decl.span.start)
        if is_global:
            self.globals[decl.name] = (cell, decl.ctype)
        else:
            frame.scopes[-1][decl.name] = (cell, decl.ctype)
        if state is None:
            return None
        if decl.init is not None:
            self._require_pointer(decl.init, decl.ctype, frame, f"`{decl.name}` is `{decl.ctype}`")
            state, value = self._expr(decl.init, state, frame)
            value = self._to(value, self._itype(decl.init, frame), decl.ctype)
            state = self._write(state, cell, value, decl.ctype)
        else:
            state = self._write(state, cell, self._default(decl, state, frame), decl.ctype)
        return self._finish_statement(state, frame, decl.span)

    def _default(self, decl: ast.VarDecl, state: State, frame: Frame) -> Any:
        """No initializer: object pointers start NULL, other pointers are opaque, scalars unknown."""
        if decl.ctype.pointers:
            return NULL if decl.ctype.base in OBJECT_TYPES else OPAQUE_POINTER
        return self.backend.opaque(state, self._label(f"`{decl.name}`", decl.span, frame), _int_type(decl.ctype))

    def _label(self, what: str, span: ast.Span, frame: Frame) -> str:
        return choice_label(what, span, frame.context)

    def _write(self, state: State | None, cell: Cell, value: Any, ctype: ast.CType) -> State | None:
        if state is None:
            return None
        if _is_object(ctype):
            self.pending.append(state.cells.get(cell, NULL))
        return self.backend.write(state, cell, value)

    def _finish_statement(
        self, state: State | None, frame: Frame, span: ast.Span, how: Variant = rules.LEAK_LOST
    ) -> State | None:
        """Values that lost their last pointer in this statement: check for leaked references
        (`how`: the leak variant that says how they were lost)."""
        pending, self.pending = self.pending, []
        for value in pending:
            if state is None:
                break
            if not self._may_be_object(value):
                continue
            state = self._step(
                state,
                lambda w, args, how=how: refs.check_lost(w, w.ptr(args[0]), how),
                [Arg(value, "")],
                frame,
                span,
                "end of statement",
            )
        return state

    def _may_be_object(self, value: Any) -> bool:
        return self.backend.op("may_be_object", value)

    def _stmt(self, stmt: ast.Stmt, state: State | None, frame: Frame) -> Flow:
        if state is None:
            return Flow(None)
        budget.check()
        if isinstance(stmt, ast.VarDecl):
            return Flow(self._declare(stmt, state, frame))
        if isinstance(stmt, ast.Assign):
            return Flow(self._assign(stmt, state, frame))
        if isinstance(stmt, ast.ExprStmt):
            state, value = self._expr(stmt.expr, state, frame)
            if isinstance(stmt.expr, ast.Call) and self._returns_owned(stmt.expr):
                self.pending.append(value)
            return Flow(self._finish_statement(state, frame, stmt.span, rules.LEAK_UNUSED_RESULT))
        if isinstance(stmt, ast.Block):
            return self._block(stmt, state, frame)
        if isinstance(stmt, ast.If):
            return self._if(stmt, state, frame)
        if isinstance(stmt, (ast.While, ast.For)):
            return self._loop(stmt, state, frame)
        if isinstance(stmt, ast.Break):
            return Flow(None, breaks=[self._leave_scopes(state, frame, self._loop_depth(frame), stmt.span)])
        if isinstance(stmt, ast.Continue):
            return Flow(None, continues=[self._leave_scopes(state, frame, self._loop_depth(frame), stmt.span)])
        if isinstance(stmt, ast.Return):
            return self._return(stmt, state, frame)
        if isinstance(stmt, ast.Goto):
            return Flow(None, gotos={stmt.label: [state]})
        if isinstance(stmt, ast.Labeled):
            return self._stmt(stmt.stmt, state, frame)
        if isinstance(stmt, ast.Assume):
            state, value = self._expr(stmt.cond, state, frame)
            state = self._finish_statement(state, frame, stmt.span)
            return Flow(self.backend.assume(state, self.backend.op("truth", value)) if state is not None else None)
        raise InternalError(f"unknown statement {type(stmt).__name__}", getattr(stmt, "span", None))

    def _returns_owned(self, call: ast.Call) -> bool:
        func = self.functions.get(call.func)
        if func is not None:
            return _is_object(func.ret)
        entry = CATALOGUE.get(call.func)
        return entry is not None and entry.modelled and entry.result == "owned" and _is_object(entry.prototype.ret)

    def _assign(self, stmt: ast.Assign, state: State, frame: Frame) -> State | None:
        if isinstance(stmt.target, ast.Deref):
            cell, ctype = self._pointee(stmt.target, state, frame), ast.CType("int", 0)
            state = self.backend.write(state, ("cbsite", "copy"), self._site_of(stmt.span, frame, "*copy"))
        else:
            cell, ctype = self._lookup(stmt.target.id, frame, stmt.target.span)
            self._require_pointer(stmt.value, ctype, frame, f"`{stmt.target.id}` is `{ctype}`")
        state, value = self._expr(stmt.value, state, frame)
        if state is None:
            return None
        src = self._itype(stmt.value, frame)
        if stmt.op != "=":  # `x op= e` is `x = x op e`
            current = state.cells.get(cell, 0)
            name = cint.OPERATORS[stmt.op[:-1]]
            state, value, src = self._arith(state, name, current, _int_type(ctype), value, src, stmt.span, frame)
            if state is None:
                return None
        value = self._to(value, src, ctype)
        state = self._write(state, cell, value, ctype)
        return self._finish_statement(state, frame, stmt.span, rules.LEAK_OVERWRITTEN)

    def _block(self, block: ast.Block, state: State | None, frame: Frame, scope: dict | None = None) -> Flow:
        frame.scopes.append(scope if scope is not None else {})
        depth = len(frame.scopes)
        flow = Flow(state)
        labels = [(i, s.label) for i, s in enumerate(block.stmts) if isinstance(s, ast.Labeled)]
        for index, stmt in enumerate(block.stmts):
            if isinstance(stmt, ast.Labeled) and flow.gotos.get(stmt.label):
                # `goto label;` earlier in this block (or nested in it) joins here.
                flow.normal = self.backend.merge([s for s in [flow.normal, *flow.gotos.pop(stmt.label)] if s is not None])
            if flow.normal is None and not any(i > index and flow.gotos.get(name) for i, name in labels):
                break
            sub = self._stmt(stmt, flow.normal, frame)
            flow.normal = sub.normal
            flow.absorb(sub)
        flow.normal = self._leave_scopes(flow.normal, frame, depth, _closing(block.span))
        for label, states in flow.gotos.items():  # jumps to a label outside this block
            flow.gotos[label] = [s for s in (self._leave_scopes(s, frame, depth, _closing(block.span)) for s in states) if s is not None]
        frame.scopes.pop()
        return flow

    def _leave_scopes(self, state: State | None, frame: Frame, depth: int, span: ast.Span) -> State | None:
        """Variables of the scopes from `depth` inward go out of scope: what only they held is lost."""
        if state is None or depth < 1:
            return state
        cells = [cell for scope in frame.scopes[depth - 1 :] for cell, ctype in scope.values() if _is_object(ctype)]
        for cell in cells:
            self.pending.append(state.cells.get(cell, NULL))
        saved = frame.scopes[depth - 1 :]
        del frame.scopes[depth - 1 :]
        for _ in saved:
            frame.scopes.append({})
        for cell in cells:
            state = self.backend.write(state, cell, NULL)
        state = self._finish_statement(state, frame, span, rules.LEAK_OUT_OF_SCOPE)
        frame.scopes[depth - 1 :] = saved
        return state

    def _loop_depth(self, frame: Frame) -> int:
        return self._loop_scopes[-1] if self._loop_scopes else len(frame.scopes) + 1

    def _if(self, stmt: ast.If, state: State, frame: Frame) -> Flow:
        state, cond = self._condition(stmt.cond, state, frame)
        if state is None:
            return Flow(None)
        yes, no = self.backend.branch(state, cond)
        flow = Flow(None)
        then = self._stmt(stmt.then, yes, frame)
        flow.absorb(then)
        normals = [then.normal]
        if stmt.orelse is not None:
            other = self._stmt(stmt.orelse, no, frame)
            flow.absorb(other)
            normals.append(other.normal)
        else:
            normals.append(no)
        flow.normal = self.backend.merge([s for s in normals if s is not None])
        return flow

    def _condition(self, cond: ast.Expr, state: State, frame: Frame) -> tuple[State | None, Any]:
        if isinstance(cond, ast.Nondet):
            return state, self.backend.nondet(state, self._label("*", cond.span, frame))
        state, value = self._expr(cond, state, frame)
        state = self._finish_statement(state, frame, cond.span)
        return state, self.backend.op("truth", value)

    def _loop(self, stmt: ast.While | ast.For, state: State, frame: Frame) -> Flow:
        frame.scopes.append({})
        if isinstance(stmt, ast.For) and stmt.init is not None:
            state = self._stmt(stmt.init, state, frame).normal
        exits: list[State] = []
        out = Flow(None)
        constant = isinstance(stmt, ast.For) and not stmt.unbounded
        limit = MAX_CONSTANT_LOOP if constant else self.unroll
        current: State | None = state
        key = (stmt.span.start, frame.context)
        self._loop_scopes.append(len(frame.scopes) + 1)
        try:
            for i in range(limit + 1):
                if current is None:
                    break
                # A loop whose states repeat is proved for all iterations here: the paths
                # that reach this head again are dropped, since their states, and so their
                # futures, are those of paths with fewer iterations (`closure.py`). Constant
                # loops run exactly; they are never cut.
                if not constant and self.backend.loop_head(current, key, i, self._head_scope(stmt, frame), stmt.span.line):
                    break
                inner = Frame(frame.key, frame.func, frame.scopes, frame.context + (("loop", stmt.span.start, i),))
                if stmt.cond is None:
                    go, stop = current, None
                else:
                    current, cond = self._condition(stmt.cond, current, inner)
                    if current is None:
                        break
                    go, stop = self.backend.branch(current, cond)
                if stop is not None:
                    exits.append(stop)
                if go is None:
                    break
                if i == limit:
                    if constant:
                        raise ResolveError(f"this loop runs more than {MAX_CONSTANT_LOOP} times", stmt.span)
                    self.backend.bound_reached(go, stmt.span, key)
                    break
                self.backend.iteration(go, stmt.span)
                if constant and i > 0 and self._inert_body(stmt) or constant and self._inert_body(stmt) == "skip":
                    # An inert body (`_inert`) changes nothing outside itself and reports
                    # nothing, so skipping it leaves the state as running it would: the
                    # loop's own condition and step still run, exactly. A body with a loop
                    # of its own runs once (the same every time: it reads nothing from
                    # outside), so that an inner loop's errors are still raised.
                    body = Flow(go)
                else:
                    body = self._stmt(stmt.body, go, inner)
                exits += body.breaks
                out.returns += body.returns
                for label, states in body.gotos.items():
                    out.gotos.setdefault(label, []).extend(states)
                current = self.backend.merge([s for s in [body.normal, *body.continues] if s is not None])
                if isinstance(stmt, ast.For) and stmt.step is not None and current is not None:
                    current = self._stmt(stmt.step, current, inner).normal
        finally:
            self._loop_scopes.pop()
        out.normal = self._leave_scopes(self.backend.merge(exits), frame, len(frame.scopes), stmt.span)
        frame.scopes.pop()
        return out

    def _inert_body(self, loop: ast.While | ast.For) -> str | bool:
        """"skip" when the loop's body is inert and has no loop of its own, "once" when it is
        inert, has loops, and reads no variable declared outside it, else False (memoised)."""
        known = self._inert.get(id(loop))
        if known is None or known[0] is not loop:
            facts = {"loops": False, "outside": False}
            ok = _inert(loop.body, set(), facts)
            verdict: str | bool = False
            if ok and not facts["loops"]:
                verdict = "skip"
            elif ok and not facts["outside"]:
                verdict = "once"
            known = self._inert[id(loop)] = (loop, verdict)
        return known[1]

    def _head_scope(self, loop: ast.Stmt, frame: Frame) -> Any:
        """What `closure.py` needs to know at a loop head: every variable cell in scope and
        whether it holds an object pointer, the frames on the stack, and facts of the program."""
        from .closure import HeadScope

        frames = [*self._frames, frame]
        cells: dict = {cell: _is_object(ctype) for cell, ctype in self.globals.values()}
        for f in frames:
            for scope in f.scopes:
                for cell, ctype in scope.values():
                    cells[cell] = _is_object(ctype)
        facts = self._facts.get(loop.span.start)
        if facts is None:
            facts = self._facts[loop.span.start] = self._program_facts(loop, frame)
        return HeadScope(tuple(cells.items()), frozenset(f.key for f in frames), *facts)

    def _program_facts(self, loop: ast.Stmt, frame: Frame) -> tuple[bool, bool]:
        """(a call that may run after this loop head sets a cache mode, the script adds
        sessions to a cache): calls in functions may run at any time; at the top level, only
        those after the loop's start can run later."""
        if getattr(self, "_setter_calls", None) is None:  # one walk of the program, not one per loop
            setters = "SSL_CTX_set_session_cache_mode"
            self._setter_calls = [(isinstance(item, ast.FuncDef), node.span.start) for item in self.program.items
                                  for node in ast.walk(item) if isinstance(node, ast.Call) and node.func == setters]
            self._adds_sessions = "SSL_CTX_add_session" in ast.called_names(self.program)
        later = any(in_function or frame.func is not None or start >= loop.span.start
                    for in_function, start in self._setter_calls)
        return later, self._adds_sessions

    def _return(self, stmt: ast.Return, state: State, frame: Frame) -> Flow:
        if self._in_callback and frame.func is not None:
            # Where a callback returned, for findings about its contract (`refcount.callback_site`).
            state = self.backend.write(state, ("cbsite", "return"), self._site_of(stmt.span, frame, "return"))
        if stmt.value is not None:
            if frame.func is not None:
                self._require_pointer(stmt.value, frame.func.ret, frame, f"`{frame.func.name}` returns `{frame.func.ret}`")
            state, value = self._expr(stmt.value, state, frame)
            if state is None:
                return Flow(None)
            if frame.func is not None:
                value = self._to(value, self._itype(stmt.value, frame), frame.func.ret)
            state = self.backend.write(state, frame.result, value)
        # A returned object stays reachable through the result while the locals go out of
        # scope (`return s;` loses no reference), during this `return`'s own scope exit and
        # no longer: executor fields are shared by every path of a symbolic run, which runs
        # each `return` of the function (one per path) where the interpreter runs one, so
        # the result must not outlive the `return` that set it [issue 14: kept until the call
        # ended, once per `return`, it stayed live after a callback with two `return`s in the
        # encoding only, and its fresh session looked kept]. Only an object result: an `int`
        # result of 1 is not object #1.
        carries = stmt.value is not None and frame.func is not None and _is_object(frame.func.ret)
        if carries:
            self.in_flight.append(frame.result)
        try:
            state = self._leave_scopes(state, frame, 1, stmt.span)
        finally:
            if carries:
                self.in_flight.remove(frame.result)
        return Flow(None, returns=[state] if state is not None else [])

    # ---- expressions -----------------------------------------------------------------------------
    def _lookup(self, name: str, frame: Frame, span: ast.Span) -> tuple[Cell, ast.CType]:
        for scope in reversed(frame.scopes):
            if name in scope:
                return scope[name]
        if name in self.globals:
            return self.globals[name]
        raise ResolveError(f"unknown variable `{name}`", span)

    def _expr(self, e: ast.Expr, state: State | None, frame: Frame) -> tuple[State | None, Any]:
        if state is None:
            return None, None
        op = self.backend.op
        if isinstance(e, ast.IntLit):
            return state, e.value
        if isinstance(e, ast.NullLit):
            return state, NULL
        if isinstance(e, ast.StrLit):
            if not e.value:
                return state, string(EMPTY_STRING_INDEX)
            return state, string(self._strings.setdefault(e.value, len(self._strings)))
        if isinstance(e, ast.Name):
            if e.id in CONSTANTS and not self._declared(e.id, frame):
                return state, CONSTANTS[e.id]
            if e.id in ("stdout", "stderr") and not self._declared(e.id, frame):
                return state, OPAQUE_POINTER
            if e.id in self.functions and not self._declared(e.id, frame):
                return state, function_pointer(self._function_index[e.id])
            cell, _ = self._lookup(e.id, frame, e.span)
            return state, state.cells.get(cell, NULL)
        if isinstance(e, ast.Call):
            state, value = self._call(e, state, frame)
            if value is None and state is not None:
                # A `void` call has no value; a script cannot use one (the resolver says so),
                # but C the front end read with errors can (`-> f(x);` read as `-(f(x))`).
                value = 0
            return state, value
        if isinstance(e, ast.Unary):
            state, v = self._expr(e.operand, state, frame)
            if state is None or e.op == "!":
                return state, op("not", v)
            src = self._itype(e.operand, frame) or cint.INT
            t = cint.promote(src)
            v = self.backend.convert(v, src, t)
            label = self._label(f"the value of `{_text(self.program, e.span)}`", e.span, frame)
            return state, self.backend.arith(state, "neg" if e.op == "-" else "bitnot", t, v, None, label)
        if isinstance(e, ast.Cast):
            state, v = self._expr(e.operand, state, frame)
            return state, self._to(v, self._itype(e.operand, frame), e.ctype)
        if isinstance(e, ast.Binary):
            if e.op in ("&&", "||"):
                return self._short_circuit(e, state, frame)
            state, a = self._expr(e.left, state, frame)
            state, b = self._expr(e.right, state, frame)
            if state is None:
                return None, None
            name = cint.OPERATORS[e.op]
            lt, rt = self._itype(e.left, frame), self._itype(e.right, frame)
            if (lt is None or rt is None) and name in ("eq", "ne"):  # pointers (resolve.py)
                return state, op(name, a, b)
            state, value, _ = self._arith(state, name, a, lt, b, rt, e.span, frame)
            return state, value
        if isinstance(e, ast.Nondet):
            return state, self.backend.nondet(state, self._label("*", e.span, frame))
        if isinstance(e, ast.Deref):
            return state, state.cells.get(self._pointee(e, state, frame), 0)
        if isinstance(e, ast.Unknown):
            for part in e.parts:
                state, _ = self._expr(part, state, frame)
                if state is None:
                    return None, None
            return state, self.backend.opaque(state, self._label("?", e.span, frame), cint.LONG)
        if isinstance(e, ast.Cond):
            return self._conditional(e, state, frame)
        if isinstance(e, ast.AddrOf):
            raise NotModelledError("pointers to variables are only modelled as call arguments (`&p`)", e.span)
        raise InternalError(f"unknown expression {type(e).__name__}", getattr(e, "span", None))

    def _arith(
        self, state: State, name: str, a: Any, lt: cint.IntType | None, b: Any, rt: cint.IntType | None,
        span: ast.Span, frame: Frame,
    ) -> tuple[State | None, Any, cint.IntType]:
        """C's `a op b` on values of types `lt` and `rt`: the operands converted as C says
        (cint.result_type), then the operator in that type. Returns the result's type too."""
        lt, rt = lt or cint.LONG, rt or cint.LONG  # a value of no integer type: any 64-bit one
        if name in ("shl", "shr"):
            t = cint.promote(lt)
            a, b = self.backend.convert(a, lt, t), self.backend.convert(b, rt, cint.promote(rt))
        else:
            t = cint.common(lt, rt)
            a, b = self.backend.convert(a, lt, t), self.backend.convert(b, rt, t)
        if name in cint.COMPARISONS:
            return state, self.backend.op(name, a, b), cint.INT
        label = self._label(f"the value of `{_text(self.program, span)}`", span, frame)
        return state, self.backend.arith(state, name, t, a, b, label), t

    def _itype(self, e: ast.Expr, frame: Frame) -> cint.IntType | None:
        """The C integer type of expression `e` (None: not an integer). Static, so it is
        computed once per syntax node (the node is kept with it: ids may be reused)."""
        known = self._types.get(id(e))
        if known is None:
            known = self._types[id(e)] = (e, self._static_type(e, frame))
        return known[1]

    def _static_type(self, e: ast.Expr, frame: Frame) -> cint.IntType | None:
        if isinstance(e, ast.IntLit):
            return cint.type_of_literal(e.value, e.ctype)
        if isinstance(e, ast.Name):
            if self._declared(e.id, frame):
                return _int_type(self._lookup(e.id, frame, e.span)[1])
            return cint.constant_type(e.id) if e.id in CONSTANTS else None
        if isinstance(e, ast.Call):
            func = self.functions.get(e.func)
            return _int_type(func.ret if func is not None else _return_type(e.func))
        if isinstance(e, ast.Deref):
            ctype = self._lookup(e.target.id, frame, e.target.span)[1]
            return _int_type(ast.CType(ctype.base))
        if isinstance(e, ast.Unary):
            return cint.INT if e.op == "!" else cint.promote(self._itype(e.operand, frame) or cint.INT)
        if isinstance(e, ast.Binary):
            if e.op in ("&&", "||"):
                return cint.INT
            lt, rt = self._itype(e.left, frame), self._itype(e.right, frame)
            if lt is None or rt is None:
                return cint.INT if e.op in ("==", "!=") else None
            return cint.result_type(cint.OPERATORS[e.op], lt, rt)
        if isinstance(e, ast.Cast):
            return _int_type(e.ctype)
        if isinstance(e, ast.Nondet):
            return cint.INT
        if isinstance(e, ast.Unknown):  # any value: every bit pattern of the widest type
            return cint.LONG
        if isinstance(e, ast.Cond):
            a, b = self._itype(e.then, frame), self._itype(e.orelse, frame)
            return cint.common(a, b) if a is not None and b is not None else None
        return None

    def _to(self, value: Any, src: cint.IntType | None, ctype: ast.CType | None) -> Any:
        """A value converted to a declared type (assignment, initialisation, argument
        passing, return): only integer types convert."""
        dst = _int_type(ctype)
        if dst is None or value is None:
            return value
        return self.backend.convert(value, src, dst)

    def _require_pointer(self, e: ast.Expr, want: ast.CType | None, frame: Frame, where: str) -> None:
        """An object pointer is kept (`where` says where) only from a pointer: C converts no
        integer or struct value to one, and the model would read an integer as an object's
        number (a `get_session_cb` returning an `int` of 1 returned the context)."""
        if want is None or not _is_object(want):
            return
        if isinstance(e, ast.Cond):
            self._require_pointer(e.then, want, frame, where)
            self._require_pointer(e.orelse, want, frame, where)
            return
        ctype = self._static_ctype(e, frame)
        if ctype is None or ctype.pointers:
            return
        what = "an integer" if _int_type(ctype) is not None else f"of type `{ctype.base}`"
        raise ResolveError(f"{where}, and `{_text(self.program, e.span)}` is {what}, not a pointer", e.span)

    def _site_of(self, span: ast.Span, frame: Frame, text: str) -> int:
        return self.backend.sites.intern(Site(span, frame.context, text))

    def _pointee(self, e: ast.Deref, state: State, frame: Frame) -> Cell:
        """The library cell `*p` names: only pointers the library passed (`int *copy`)."""
        cell, _ = self._lookup(e.target.id, frame, e.target.span)
        index = cell_pointer_index(self.backend.op("constant", state.cells.get(cell, NULL)))
        if index is None or index >= len(self._cell_pointers):
            raise NotModelledError(
                f"`*{e.target.id}`: only pointers the library passes to a callback (`int *copy`) can be dereferenced",
                e.span,
            )
        return self._cell_pointers[index]

    def _declared(self, name: str, frame: Frame) -> bool:
        return name in self.globals or any(name in scope for scope in frame.scopes)

    def _short_circuit(self, e: ast.Binary, state: State, frame: Frame) -> tuple[State | None, Any]:
        """`a && b` runs `b` only where `a` holds (it may be a call with effects)."""
        state, a = self._expr(e.left, state, frame)
        if state is None:
            return None, None
        a = self.backend.op("truth", a)
        yes, no = self.backend.branch(state, a)
        run_right, skip = (yes, no) if e.op == "&&" else (no, yes)
        tmp: Cell = ("tmp", e.span.start, frame.context)
        parts = []
        if run_right is not None:
            run_right, b = self._expr(e.right, run_right, frame)
            if run_right is not None:
                parts.append(self.backend.write(run_right, tmp, self.backend.op("truth", b)))
        if skip is not None:
            parts.append(self.backend.write(skip, tmp, e.op == "||"))
        merged = self.backend.merge([p for p in parts if p is not None])
        if merged is None:
            return None, None
        return merged, merged.cells.get(tmp)

    def _conditional(self, e: ast.Cond, state: State, frame: Frame) -> tuple[State | None, Any]:
        """`c ? a : b` evaluates only the branch taken."""
        if isinstance(e.cond, ast.Nondet):
            c = self.backend.nondet(state, self._label("*", e.cond.span, frame))
        else:
            state, c = self._expr(e.cond, state, frame)
            if state is None:
                return None, None
            c = self.backend.op("truth", c)
        yes, no = self.backend.branch(state, c)
        tmp: Cell = ("tmp", e.span.start, frame.context)
        parts = []
        t = self._itype(e, frame)
        for branch, value in ((yes, e.then), (no, e.orelse)):
            if branch is not None:
                branch, v = self._expr(value, branch, frame)
                if t is not None:  # both sides integers: their common type (C17 6.5.15p5)
                    v = self.backend.convert(v, self._itype(value, frame), t)
                if branch is not None:
                    parts.append(self.backend.write(branch, tmp, v))
        merged = self.backend.merge(parts)
        if merged is None:
            return None, None
        return merged, merged.cells.get(tmp)

    def _call(self, call: ast.Call, state: State, frame: Frame) -> tuple[State | None, Any]:
        func = self.functions.get(call.func)
        if func is not None:
            return self._call_function(func, call, state, frame)
        declared = self.program.declarations.get(call.func)
        if declared is not None:
            return self._declared_call(call, declared, state, frame)
        entry = CATALOGUE.get(call.func) or _INTERNAL.get(call.func)
        if entry is None:  # a helper of the user's program, given no tracked object (resolve.py)
            return self._helper_call(call, state, frame)
        if entry.unmodelled:
            return self._unmodelled(call, entry.why, state, frame)
        if entry.neutral:
            return self._neutral(call, entry, state, frame)
        effect = api.EFFECTS.get(entry.effect_name)
        if effect is None:
            raise InternalError(f"`{call.func}` is modelled in the catalogue, but the model has no effect "
                                f"`{entry.effect_name}`", call.func_span)
        args: list[Arg] = []
        for a in call.args:
            if isinstance(a, ast.AddrOf):
                cell, _ = self._lookup(a.target.id, frame, a.target.span)
                args.append(Arg(1, _text(self.program, a.span), address_of=cell))
                continue
            ctype = self._static_ctype(a, frame)
            want = entry.prototype.params[len(args)][0] if len(args) < len(entry.prototype.params) else None
            self._require_pointer(a, want, frame, f"`{call.func}` takes `{want}` here")
            if call.func in _KEEPS_POINTER and a is call.args[-1] and ctype is not None and _is_object(ctype):
                return self._unmodelled(call, f"it keeps `{_text(self.program, a.span)}`, an `{ctype.base}` the model "
                                        "tracks, where the model does not follow it (ex_data)", state, frame, here=True)
            if call.func in _EX_INDEX and isinstance(a, ast.Name) and a.id in self.functions and not self._declared(a.id, frame):
                return self._unmodelled(call, f"it registers `{a.id}` as an ex_data callback: the library runs a free "
                                        "callback once for every session carrying the pointer, and copies of a session "
                                        "(SSL_SESSION_dup, each TLS 1.3 ticket) carry the same pointer; the model does not "
                                        "run ex_data callbacks", state, frame, here=True)
            if (isinstance(a, ast.Name) and a.id in self.functions and not self._declared(a.id, frame)
                    and not entry.registers):
                # A callback the model does not run (a verify callback): sound only if inert.
                problem = self._not_inert(self.functions[a.id])
                if problem:
                    return self._unmodelled(call, f"the model does not run the callback `{a.id}` it registers, "
                                            f"and `{a.id}` {problem}", state, frame, here=True)
            state, value = self._expr(a, state, frame)
            if state is None:
                return None, None
            value = self._to(value, self._itype(a, frame), want)
            var = self._lookup(a.id, frame, a.span)[0] if isinstance(a, ast.Name) and self._declared(a.id, frame) else None
            args.append(Arg(value, _text(self.program, a.span), var=var))
        state = self._step(state, effect.run, args, frame, call.span, _text(self.program, call.span), call.func)
        value = self._last_value
        if self._queues and not self._in_callback:
            self._in_callback = True
            try:
                state = self._library_callbacks(state, frame, call.span)
            finally:
                self._in_callback = False
        if call.func in api.EX_IO and state is not None:
            # After the call's stages, as one of them (the reproducer reads its result there).
            after = Frame(frame.key, frame.func, frame.scopes, frame.context + (("callback", -1),))
            state = self._step(state, api.io_ex_result(call.func), args, after, call.span, "library")
        if entry.io and state is not None:
            value = state.cells.get(("hsret",), -1)
        # The model's result as a value of the prototype's return type (free when the
        # model's range is inside the type's: `symvalues.interval`).
        value = self._to(value, None, entry.prototype.ret)
        if entry.result == "owned" and _is_object(entry.prototype.ret) and state is not None:
            self.pending.append(value)
        return state, value

    # ---- calls the model does not give an effect ---------------------------------------------
    def _unmodelled(self, call: ast.Call, why: str, state: State | None, frame: Frame,
                    here: bool = False) -> tuple[State | None, Any]:
        """Its arguments are evaluated (they may be calls); then the path stops: what the call
        would do is not known, so nothing after it is judged, and the verdict is not safe."""
        for a in call.args:
            if isinstance(a, ast.AddrOf):
                continue
            state, _ = self._expr(a, state, frame)
        if state is not None:
            self.backend.unmodelled(state, UnmodelledCall(call.func, call.func_span, why, here))
        return None, None

    def _static_ctype(self, e: ast.Expr, frame: Frame) -> ast.CType | None:
        """The declared type of a name or the return type of a call (None: anything else)."""
        if isinstance(e, ast.Name) and self._declared(e.id, frame):
            return self._lookup(e.id, frame, e.span)[1]
        if isinstance(e, ast.Call):
            func = self.functions.get(e.func)
            if func is not None:
                return func.ret
            entry = CATALOGUE.get(e.func)
            return entry.prototype.ret if entry is not None else None
        return None

    def _neutral(self, call: ast.Call, entry: Entry, state: State | None, frame: Frame) -> tuple[State | None, Any]:
        """A call that changes nothing the model tracks (catalogue.toml's header says what a
        neutral call does): it reads the objects it is passed, its result and the variables
        whose address it gets are unknown values. Passing a tracked object where the
        prototype takes something else, the address of a variable holding one, or a
        callback that is not inert makes it unmodelled for this call."""
        proto = entry.prototype
        args: list[Arg] = []
        kinds: list[str] = []
        outs: list[tuple[ast.Name, Cell, ast.CType]] = []
        for i, a in enumerate(call.args):
            want = proto.params[i][0] if i < len(proto.params) else None
            if isinstance(a, ast.AddrOf):
                cell, ctype = self._lookup(a.target.id, frame, a.target.span)
                if _is_object(ctype) or (ctype.pointers and ctype.base in OBJECT_TYPES):
                    return self._unmodelled(call, f"it is given `&{a.target.id}`, the address of a variable that holds "
                                            f"an `{ctype.base}` the model tracks, and may change it", state, frame, here=True)
                if want is None or not want.const:
                    outs.append((a.target, cell, ctype))
                args.append(Arg(1, _text(self.program, a.span), address_of=cell))
                kinds.append("")
                continue
            if isinstance(a, ast.Name) and a.id in self.functions and not self._declared(a.id, frame):
                problem = self._not_inert(self.functions[a.id])
                if problem:
                    return self._unmodelled(call, f"the model does not run the callback `{a.id}` it registers, "
                                            f"and `{a.id}` {problem}", state, frame, here=True)
            self._require_pointer(a, want, frame, f"`{call.func}` takes `{want}` here")
            ctype = self._static_ctype(a, frame)
            if ctype is not None and _is_object(ctype) and want is not None and not _is_object(want):
                # (a variadic argument, `printf("%p", s)`, is only printed)
                return self._unmodelled(call, f"it is given `{_text(self.program, a.span)}`, an `{ctype.base}` the "
                                        f"model tracks, as `{want}`: it may keep or release it", state, frame, here=True)
            state, value = self._expr(a, state, frame)
            if state is None:
                return None, None
            value = self._to(value, self._itype(a, frame), want)
            var = self._lookup(a.id, frame, a.span)[0] if isinstance(a, ast.Name) and self._declared(a.id, frame) else None
            args.append(Arg(value, _text(self.program, a.span), var=var))
            if want is not None and _is_object(want) and proto.params[i][1] not in entry.untouched:
                kinds.append("object")
            elif (want is None or want.pointers) and ctype is not None and ctype.pointers and not _is_object(ctype):
                kinds.append("buffer")
            else:
                kinds.append("")
        if any(kinds):
            text = _text(self.program, call.span)
            state = self._step(state, api.neutral_reads(call.func, tuple(kinds), entry.reads_session), args, frame,
                               call.span, text, call.func)
            if state is None:
                return None, None
        # The result is chosen before the out-parameters (the reproducer takes them in this order).
        ret = proto.ret
        result: Any = None
        if ret.pointers and entry.null == "never":
            result = OPAQUE_POINTER
        elif ret.pointers:
            result = self._unknown_of(ret, state, self._label("nullable", call.span, frame))
        elif ret.base != "void":
            result = self._unknown_of(ret, state, self._label("assumed", call.span, frame))
        for target, cell, ctype in outs:  # `&len`: the call may have written any value there
            label = self._label(out_label(target.id, call.func), call.span, frame)
            value = self._unknown_of(ctype, state, label)
            state, value = self._value_of(value, state)
            if state is None:
                return None, None
            state = self.backend.write(state, cell, value)
        return self._value_of(result, state)

    def _declared_call(self, call: ast.Call, decl: ast.FuncDecl, state: State | None, frame: Frame) -> tuple[State | None, Any]:
        """A function declared with a contract (`model/contracts.py` says what each role does)."""
        args: list[Arg] = []
        outs: list[tuple[ast.Name, Cell, ast.CType]] = []
        for a, param in zip(call.args, decl.params):
            if isinstance(a, ast.AddrOf):
                cell, ctype = self._lookup(a.target.id, frame, a.target.span)
                if not param.ctype.const:
                    outs.append((a.target, cell, ctype))
                args.append(Arg(1, _text(self.program, a.span), address_of=cell))
                continue
            self._require_pointer(a, param.ctype, frame, f"`{call.func}` takes `{param.ctype}` here")
            state, value = self._expr(a, state, frame)
            if state is None:
                return None, None
            value = self._to(value, self._itype(a, frame), param.ctype)
            var = self._lookup(a.id, frame, a.span)[0] if isinstance(a, ast.Name) and self._declared(a.id, frame) else None
            args.append(Arg(value, _text(self.program, a.span), var=var))
        contract = decl.contract
        if any(contract.params) or contract.returns:
            text = _text(self.program, call.span)
            state = self._step(state, contracts.effect(call.func, contract.params, contract.returns), args, frame,
                               call.span, text, call.func)
            if state is None:
                return None, None
            if contract.returns:
                value = self._last_value
                if contract.returns == "owned":
                    self.pending.append(value)
                return self._finish_outs(state, outs, call, frame, value)
        ret = decl.ret
        result: Any = None
        if ret.pointers:
            result = self._unknown_of(ret, state, self._label("nullable", call.span, frame))
        elif ret.base != "void":
            result = self._unknown_of(ret, state, self._label("assumed", call.span, frame))
        return self._finish_outs(state, outs, call, frame, result)

    def _helper_call(self, call: ast.Call, state: State | None, frame: Frame) -> tuple[State | None, Any]:
        """An undeclared helper given no tracked object: neutral, an unknown integer result;
        a variable whose address it gets may be written (the report notes the assumption)."""
        outs: list[tuple[ast.Name, Cell, ast.CType]] = []
        for a in call.args:
            if isinstance(a, ast.AddrOf):
                cell, ctype = self._lookup(a.target.id, frame, a.target.span)
                outs.append((a.target, cell, ctype))
                continue
            state, _ = self._expr(a, state, frame)
            if state is None:
                return None, None
        result = self._unknown_of(ast.CType("long"), state, self._label("assumed", call.span, frame))
        return self._finish_outs(state, outs, call, frame, result)

    def _finish_outs(self, state: State, outs: list, call: ast.Call, frame: Frame, result: Any) -> tuple[State | None, Any]:
        for target, cell, ctype in outs:
            value = self._unknown_of(ctype, state, self._label(out_label(target.id, call.func), call.span, frame))
            state, value = self._value_of(value, state)
            if state is None:
                return None, None
            state = self.backend.write(state, cell, value)
        return self._value_of(result, state)

    def _unknown_of(self, ctype: ast.CType, state: State, label: str) -> Any:
        """Any value of type `ctype`: an integer of its range, or an untracked pointer that
        may be NULL (a pending choice, resolved by `_value_of`)."""
        if ctype.pointers:
            return ("nullable", self.backend.nondet(state, label))
        return self.backend.opaque(state, label, _int_type(ctype) or cint.LONG)

    def _value_of(self, value: Any, state: State) -> tuple[State | None, Any]:
        if not (isinstance(value, tuple) and value and value[0] == "nullable"):
            return state, value
        return self._choose_pointer(state, value[1])

    def _choose_pointer(self, state: State, is_null: Any) -> tuple[State | None, Any]:
        """NULL where `is_null` holds, an untracked pointer elsewhere."""
        yes, no = self.backend.branch(state, is_null)
        tmp: Cell = ("tmp", "nullable", id(is_null))
        parts = [self.backend.write(s, tmp, v) for s, v in ((yes, NULL), (no, OPAQUE_POINTER)) if s is not None]
        merged = self.backend.merge(parts)
        return (merged, merged.cells.get(tmp)) if merged is not None else (None, None)

    def _not_inert(self, func: ast.FuncDef, seen: frozenset[str] = frozenset()) -> str:
        """Why a script function passed to a neutral registration could matter to the model
        ("" if it cannot): the model never runs it, so it must call only neutral functions
        (and script functions that do), and change nothing outside itself."""
        local = {p.name for p in func.params}
        for node in ast.walk(func.body):
            if isinstance(node, ast.VarDecl):
                local.add(node.name)
            if isinstance(node, ast.Assign):
                target = node.target
                if isinstance(target, ast.Deref) or target.id not in local:
                    return f"writes `{_text(self.program, target.span)}`, which outlives it"
            if isinstance(node, ast.Call):
                if node.func in self.functions:
                    if node.func in seen:
                        continue
                    inner = self._not_inert(self.functions[node.func], seen | {func.name})
                    if inner:
                        return f"calls `{node.func}`, which {inner}"
                    continue
                callee = CATALOGUE.get(node.func)
                if callee is None or not callee.neutral:
                    return f"calls `{node.func}`"
        for param in func.params:
            if _is_object(param.ctype):
                uses = [n for n in ast.walk(func.body) if isinstance(n, ast.Name) and n.id == param.name]
                if uses:
                    return f"uses the `{param.ctype.base}` it is given"
        return ""

    def _library_callbacks(self, state: State | None, frame: Frame, span: ast.Span) -> State | None:
        """Run what the last step queued (see `model/cache.py`), in order: each entry's begin,
        the script's callback or the library's next stage, and its end. Their steps carry
        the call's span and a `("callback", i)` context, so that findings point at the call
        that triggered them. Entries may queue more entries; the loop runs until none is left."""
        i = 0
        while state is not None:
            queued = self.backend.op("lt", i, state.cells.get(("pq_n",), 0))
            go, done = self.backend.branch(state, queued)
            if go is None:
                break
            inner = Frame(frame.key, frame.func, frame.scopes, frame.context + (("callback", i),))
            go = self._step(go, _begin_queued(i), [], inner, span, "library callback")
            ends: list[State | None] = []
            rest = go
            for kind, registration in _CALLBACK_KINDS.items():
                if rest is None:
                    break
                this, rest = self.backend.branch(rest, self.backend.op("eq", rest.cells.get(("pq", "kind", i), 0), kind))
                if this is not None:
                    ends += self._run_callback(this, i, kind, registration, inner, span)
            if rest is not None:
                is_stage = self.backend.op("eq", rest.cells.get(("pq", "kind", i), 0), cache.STAGE)
                this, rest = self.backend.branch(rest, is_stage)
                if this is not None:
                    ends.append(self._step(this, _run_stage(i), [], inner, span, "library"))
                ends.append(rest)
            go = self.backend.merge([s for s in ends if s is not None])
            go = self._step(go, _finish_queued(i), [], inner, span, "library callback")
            state = self.backend.merge([s for s in (go, done) if s is not None])
            i += 1
        if state is not None and i:
            after = Frame(frame.key, frame.func, frame.scopes, frame.context + (("callback", i),))
            state = self._step(state, _clear_queue, [], after, span, "end of statement")
        return state

    def _run_callback(self, state: State, i: int, kind: int, registration: str, inner: Frame, span: ast.Span) -> list[State | None]:
        """The script function registered for queue entry `i`, on the library's arguments;
        its result goes to ("pq", "ret", i)."""
        state = self._step(state, _callback_of(i), [], inner, span, "library callback")
        if state is None:
            return []
        function = self._last_value
        ends: list[State | None] = []
        rest: State | None = state
        for f in self._callback_functions(registration):
            match = self.backend.op("eq", function, function_pointer(self._function_index[f.name]))
            run, rest = self.backend.branch(rest, match) if rest is not None else (None, None)
            if run is None:
                continue
            cells = run.cells
            ctx, arg, ssl = (cells.get(("pq", name, i), NULL) for name in ("ctx", "arg", "ssl"))
            if kind == cache.REMOVED:
                values = [ctx, arg]
            elif kind == cache.NEW_SESSION:
                values = [ssl, arg]
            elif kind == cache.SERVERNAME:
                values = [ssl, self._pointer_to(("pq", "copy", i)), OPAQUE_POINTER]  # (ssl, &al, arg)
            else:
                values = [ssl, OPAQUE_POINTER, cells.get(("pq", "len", i), 0), self._pointer_to(("pq", "copy", i))]
            run, value = self._invoke(f, values, run, inner, span.start)
            if run is not None:
                run = self.backend.write(run, ("pq", "ret", i), value if value is not None else 0)
            ends.append(run)
        ends.append(rest)
        return ends

    def _pointer_to(self, cell: Cell) -> int:
        """A pointer to a library cell (`&copy` for `get_session_cb`), for `*p = v` in the script."""
        if cell not in self._cell_pointers:
            self._cell_pointers.append(cell)
        return cell_pointer(self._cell_pointers.index(cell))

    def _callback_functions(self, registration: str) -> list[ast.FuncDef]:
        wanted = CALLBACK_SIGNATURES[registration]
        return [
            f for f in self.functions.values()
            if len(f.params) == len(wanted.params) and (f.ret.base, f.ret.pointers) == (wanted.ret.base, wanted.ret.pointers)
        ]

    def _call_function(self, func: ast.FuncDef, call: ast.Call, state: State | None, caller: Frame) -> tuple[State | None, Any]:
        values = []
        for a, param in zip(call.args, func.params):
            self._require_pointer(a, param.ctype, caller, f"`{func.name}` takes `{param.ctype}` here")
            state, v = self._expr(a, state, caller)
            values.append(self._to(v, self._itype(a, caller), param.ctype))
        return self._invoke(func, values, state, caller, call.span.start)

    def _invoke(self, func: ast.FuncDef, values: list[Any], state: State | None, caller: Frame, at: int) -> tuple[State | None, Any]:
        """Run a script function on argument values, called at offset `at` (a call of the
        script, or the library calling a callback)."""
        if state is None:
            return None, None
        context = caller.context + (("call", at),)
        frame = Frame(("frame", at, caller.context), func, [{}], context)
        for param, value in zip(func.params, values):
            cell: Cell = ("var", frame.key, param.name, param.span.start)
            frame.scopes[0][param.name] = (cell, param.ctype)
            state = self.backend.write(state, cell, value)
        self._frames.append(frame)
        saved_loops, self._loop_scopes = self._loop_scopes, []
        try:
            flow = self._block(func.body, state, frame, scope={})
        finally:
            self._loop_scopes = saved_loops
            self._frames.pop()
        if any(flow.gotos.values()):
            label = next(name for name, states in flow.gotos.items() if states)
            raise ResolveError(f"`goto {label};` jumps to no label later in an enclosing block", func.body.span)
        # Parameters go out of scope with the function.
        ends = [s for s in [flow.normal] if s is not None]
        ends = [self._leave_scopes(s, frame, 1, _closing(func.body.span)) for s in ends]
        state = self.backend.merge([s for s in [*ends, *flow.returns] if s is not None])
        if state is None:
            return None, None
        value = state.cells.get(frame.result, 0)
        if _is_object(func.ret):
            self.pending.append(value)
        return state, value




def _inert(node: Any, local: set[str], facts: dict) -> bool:
    """Whether a statement is inert: it calls nothing (no model effect, no script function,
    so no step and no finding), makes no choice (`*`, `?`), dereferences no library cell,
    declares no object pointer (whose scope exit checks for lost references), writes only
    variables declared inside it (in `local`, which grows with its declarations), leaves
    only by falling through, and its loops are constant `for`s (a `while` may reach the
    unrolling bound, which is reported). `facts` records whether it has loops ("loops") and
    reads a variable declared outside it ("outside")."""
    if isinstance(node, ast.Block):
        inner = set(local)
        return all(_inert(s, inner, facts) for s in node.stmts)
    if isinstance(node, ast.VarDecl):
        if _is_object(node.ctype) or (node.init is not None and not _inert_expr(node.init, local, facts)):
            return False
        local.add(node.name)
        return True
    if isinstance(node, ast.Assign):
        return isinstance(node.target, ast.Name) and node.target.id in local and _inert_expr(node.value, local, facts)
    if isinstance(node, ast.ExprStmt):
        return _inert_expr(node.expr, local, facts)
    if isinstance(node, ast.If):
        return (_inert_expr(node.cond, local, facts) and _inert(node.then, set(local), facts)
                and (node.orelse is None or _inert(node.orelse, set(local), facts)))
    if isinstance(node, ast.For) and not node.unbounded:
        facts["loops"] = True
        inner = set(local)
        return ((node.init is None or _inert(node.init, inner, facts))
                and (node.cond is None or _inert_expr(node.cond, inner, facts))
                and (node.step is None or _inert(node.step, inner, facts))
                and _inert(node.body, set(inner), facts))
    return False


def _inert_expr(e: Any, local: set[str], facts: dict) -> bool:
    for node in ast.walk(e):
        if isinstance(node, (ast.Call, ast.Nondet, ast.Deref, ast.Unknown, ast.AddrOf)):
            return False
        if isinstance(node, ast.Name) and node.id not in local:
            facts["outside"] = True
    return True


def out_label(variable: str, function: str) -> str:
    """The choice that names what a neutral call wrote through `&variable`."""
    return f"`{variable}` after `{function}`"


# Modelled calls that keep an application pointer in an object: a tracked object kept
# there would escape the model (its references could no longer be followed).
_KEEPS_POINTER = frozenset({"SSL_SESSION_set_ex_data", "SSL_SESSION_set_app_data"})
# Modelled calls whose callbacks the library runs at object creation, copy and destruction.
_EX_INDEX = frozenset({"SSL_SESSION_get_ex_new_index", "CRYPTO_get_ex_new_index"})


def _int_type(ctype: ast.CType | None) -> cint.IntType | None:
    """The integer type a declared type is, or None (a pointer, void, nothing)."""
    if ctype is None or ctype.pointers:
        return None
    return cint.int_type(ctype.base)


def _return_type(name: str) -> ast.CType | None:
    """The declared return type of a library function (None: not one the catalogue knows)."""
    entry = CATALOGUE.get(name)
    return entry.prototype.ret if entry is not None else None


def _parameter_type(name: str, index: int) -> ast.CType | None:
    """The declared type of a library function's `index`-th parameter (None: variadic)."""
    proto = require(name).prototype
    if index >= len(proto.params):
        return None
    return proto.params[index][0]

# sessref's own effects, which C input's entry contexts call (`model/entry.py`): not
# OpenSSL functions, so not in the catalogue.
_INTERNAL = {
    name: Entry(name, Prototype(name, ast.CType("void"), (), variadic=True), "", "modelled", "sessref")
    for name in api.EFFECTS if name.startswith("__sessref_")
}

# The callbacks the library may call, by queue entry kind, and how they are registered.
_REGISTERED = {e.registers: n for n, e in CATALOGUE.items() if e.registers}
_CALLBACK_KINDS = {
    cache.REMOVED: _REGISTERED["remove_session_cb"],
    cache.NEW_SESSION: _REGISTERED["new_session_cb"],
    cache.GET_SESSION: _REGISTERED["get_session_cb"],
    cache.SERVERNAME: _REGISTERED["servername_cb"],
}
# Calls after which the library may owe the script callbacks or stages: the catalogue's
# handshake and I/O calls and the session callback registrations.
_QUEUEING = names(io=True) | frozenset(n for n, e in CATALOGUE.items() if e.registers)


def _queues(program: ast.Program) -> bool:
    """Whether the script calls anything that can queue work (only then is the queue run)."""
    return not ast.called_names(program).isdisjoint(_QUEUEING)


def _begin_queued(i: int) -> Effect:
    return lambda w, args: cache.begin_queued(w, i)


def _callback_of(i: int) -> Effect:
    """The callback registered for queue entry `i`."""
    return lambda w, args: cache.callback_of(w, i)


def _run_stage(i: int) -> Effect:
    return lambda w, args: handshake.run_stage(w, i)


def _finish_queued(i: int) -> Effect:
    return lambda w, args: cache.finish_queued(w, i)


def _clear_queue(w: World, args: list[Arg]) -> Any:
    w.set(("pq_n",), 0)


def _closing(span: ast.Span) -> ast.Span:
    """The closing `}` of a block."""
    return ast.Span(span.file, span.end_line, max(span.end_column - 1, 1), span.end_line, span.end_column, span.end - 1, span.end)


def _text(program: ast.Program, span: ast.Span) -> str:
    return program.source[span.start : span.end]
