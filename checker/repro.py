"""C reproducers: a concrete path of a script as a C program against the real OpenSSL.

The program keeps the script's shape (its statements, its functions as C functions) and
takes every choice from a table, `sr_path`, built from the concrete replay of the path:
the `*` conditions, inputs, the clock, what the library decides on its own, and what each
call returns according to the model (checked at run time). See `repro_runtime.c`.

`#line` directives attribute the program's code to the script's lines, so valgrind names
the script line of each error; `line_map` maps C lines back too, for tools that read the
C file's lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .concrete import ConcreteBackend, Finding
from .execute import INTERNAL_STEPS, choice_label, out_label
from .language import ast
from .language.catalogue import CATALOGUE, names
from .language.errors import NotModelledError
from .language.prototypes import CONSTANTS, OBJECT_TYPES
from .model import handshake
from .model.entry import CALLER_RELEASES, HELPER_KEEPS
from .model.objects import ALIVE, CTX, SESSION, SSL
from .solving import Replay

# Choices the program makes happen itself (the rest are results it is told to assume).
REALIZED = frozenset(
    {
        "start time",
        "allocation fails",
        "decoding succeeds",
        "decoded protocol version",
        "decoded session id",
        "decoded time",
        "decoded timeout",
        "decoded hostname",
        "new session id",
        "new session id context",
        "decoded session id context",
    }
)
# The peer's choices (model/handshake.py): the reproducer's peer takes them.
_PEER_CHOICES = tuple(
    getattr(handshake, name)
    for name in ("PEER_TLS13", "PEER_ABORTS_EARLY", "PEER_RESUMES", "PEER_CERT_REJECTED", "PEER_SENDS_TLS12_TICKET", "PEER_RENEWS_TICKET", "PEER_NOT_TLS", "PEER_ABORTS",
                 "CLIENT_OFFERS_TICKET", "CLIENT_OFFERS_ID", "CLIENT_SENDS_NAME", "SERVER_ACKNOWLEDGES_NAME", "CLIENT_ID_IS_CACHED", "TICKET_ARRIVES",
                 "PEER_ALERT_ON_READ", "DATA_ARRIVES", "PEER_CLOSES", "PEER_KNOWS", "NEGOTIATED", "OFFERED", "PEER_HOLDS")
)
# Calls the runtime runs against the peer (`sr_tls`), with their code there (the catalogue's
# `repro = "tls:N"`).
TLS_CALLS = {n: e.tls_code for n, e in CATALOGUE.items() if e.tls_code is not None}


def _realized(what: str) -> bool:
    return what in REALIZED or what.startswith(_PEER_CHOICES)


# Static method tables: nothing to check (`repro = "unchecked"`).
_METHODS = names(repro="unchecked")
# Calls that may fail to allocate (`allocates = true`): made to fail where the path says so.
ALLOCATORS = names(allocates=True)
# The session id context setters, as the runtime's `sr_sid_ctx` numbers them.
_SID_CTX_SETTERS = {"SSL_CTX_set_session_id_context": 0, "SSL_set_session_id_context": 1, "SSL_SESSION_set1_id_context": 2}

# Script names that would clash with C or with the headers the program includes.
_RESERVED = frozenset(
    """auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Bool main time clock free malloc calloc realloc exit
    abort remove rename index rindex random rand srand signal raise printf puts strlen sleep
    select link unlink read write open close stat div abs labs atoi atol system getenv qsort
    bsearch memcpy memset strcpy strcmp strcat strchr stdin stdout stderr errno environ
    timezone daylight tzname fprintf snprintf""".split()
)


@dataclass(frozen=True)
class Event:
    label: str  # what@line:col/context, as the runtime matches it
    value: int
    comment: str = ""


@dataclass
class Reproducer:
    source: str  # the C program
    script_file: str
    line_map: dict[int, int]  # C line -> script line
    events: list[Event]
    backend: ConcreteBackend  # the model's run of the path

    @property
    def findings(self) -> list[Finding]:
        return self.backend.findings


def _what(label: str) -> str:
    return label.split("@", 1)[0]


def _line(label: str) -> str:
    where = label.split("@", 1)[1].split("/", 1)[0]
    return where.split(":")[0]


def _call_name(text: str) -> str:
    return text.split("(", 1)[0].strip()


def _result_kind(name: str) -> str:
    """What the program checks of a library call's result ("" for a step that is not a
    library call: a `return`, a scope's end, a script function)."""
    entry = CATALOGUE.get(name)
    if entry is None or not entry.modelled:
        return ""
    proto = entry.prototype
    if proto.ret.base == "void" and proto.ret.pointers == 0:
        return ""
    if proto.ret.pointers == 1 and proto.ret.base in OBJECT_TYPES:
        return "object"
    if proto.ret.pointers:
        return "pointer"
    return "int"


def path_events(backend: ConcreteBackend) -> list[Event]:
    """Everything the program must be told, in the order the path needs it. A call's result
    comes after the callbacks the library ran inside it (the model runs them after the
    call's own step, in steps with a `("callback", i)` context)."""
    asked = backend.oracle.asked
    events: list[Event] = []
    held: tuple[Event, tuple] | None = None  # a result waiting for its call's callbacks
    done = 0
    crash_call = _crashing_call(backend) if backend.crashed and backend.trace else -1
    audit_at = -1  # where the crashing call starts: its caches are audited just before it
    for index, step in enumerate(backend.trace):
        site = backend.sites.by_id[step.site]
        if held is not None and not _inside_callbacks(site.context, held[1]):
            events.append(held[0])
            held = None
        if held is not None and ("hsret",) in step.writes and held[0].label.startswith("hsresult@"):
            # A handshake's result is only known once its stages ran.
            value = int(step.writes[("hsret",)])
            held = (Event(held[0].label, value, f"returns {value}"), held[1])
        events += [_choice_event(label, value) for label, value in asked[done : step.asked_from]]
        if index == crash_call:
            audit_at = len(events)
        inside = asked[step.asked_from : step.asked_to]
        events += [_choice_event(label, value) for label, value in inside if _realized(_what(label))]
        done = max(done, step.asked_to)
        crashed_here = backend.crashed and index == len(backend.trace) - 1
        if crashed_here:
            rule = step.findings[-1].rule.name if step.findings else "crash"
            events.append(Event(choice_label("stop", site.span, site.context), 0, rule))
            held = None  # the call does not return
            continue
        if site.text in INTERNAL_STEPS:
            continue
        name = site.callee or _call_name(site.text)
        if name == CALLER_RELEASES:  # C input: whether (and how) the caller released the object
            released = [cell[1] for cell in step.writes if cell[0] == "rc" and cell[1] in backend.registry.info]
            kind = backend.registry.info[released[0]].kind if released else None
            value = {SSL: 1, CTX: 2, SESSION: 3}.get(kind, 0)  # type: ignore[arg-type]
            comment = "the caller releases it" if value else "the caller does not own it any more: nothing to release"
            events.append(Event(choice_label("release", site.span, site.context), value, comment))
            continue
        kind = "" if name in _METHODS else _result_kind(name)
        if name in TLS_CALLS:
            value = int(step.writes.get(("hsret",), -1))
            event = Event(choice_label("hsresult", site.span, site.context), value, f"`{site.text}` returns {value}")
            if held is not None:
                events.append(event)
            else:
                held = (event, site.context)
            continue
        if not kind or step.value is None:
            continue
        opaque = any(not _realized(_what(label)) for label, _ in inside)
        value = int(step.value)
        if kind == "pointer":
            value = int(value != 0)
        elif kind == "int":
            kind = "assumed" if opaque else "result"
        event = Event(choice_label(kind, site.span, site.context), value, _result_comment(kind, value, site.text))
        if held is not None:  # a call inside a callback
            events.append(event)
        else:
            held = (event, site.context)
    if held is not None:
        events.append(held[0])
    events += [_choice_event(label, value) for label, value in asked[done:]]
    if backend.crashed and backend.trace:
        # Before the crash step, the caches hold what the model says they hold.
        site = backend.sites.by_id[backend.trace[-1].site]
        stop = next(i for i, ev in enumerate(events) if ev.label.startswith("stop@"))
        # before the call's own events (the callbacks the library ran inside it come after)
        at = audit_at if 0 <= audit_at <= stop else stop
        events[at:at] = _cache_audit(backend, backend.trace[:crash_call], _at(site.span))
    else:
        events += _cache_audit(backend, backend.trace, "end")
    return events


def _crashing_call(backend: ConcreteBackend) -> int:
    """The trace index of the script's call during which the path crashed (the crash may be
    in a step the library takes after a callback, inside that call)."""
    last = len(backend.trace) - 1
    crash = backend.sites.by_id[backend.trace[last].site]
    for index in range(last, -1, -1):
        site = backend.sites.by_id[backend.trace[index].site]
        own = crash.context == site.context or _inside_callbacks(crash.context, site.context)
        if site.span == crash.span and site.text not in INTERNAL_STEPS and own:
            return index
    return last


def _inside_callbacks(context: tuple, caller: tuple) -> bool:
    """Whether a step with `context` runs inside the callbacks of a call made in `caller`."""
    return context[: len(caller)] == caller and any(part[0] == "callback" for part in context[len(caller) :])


AUDIT_SCALE = 1 << 20  # an audit event's value: context id * AUDIT_SCALE + sessions cached


def _cache_audit(backend: ConcreteBackend, steps: list, at: str) -> list[Event]:
    """How many sessions each live context's cache holds after `steps`, per the model."""
    cells: dict = {}
    for step in steps:
        cells.update(step.writes)
    events = []
    for o, info in sorted(backend.registry.info.items()):
        if info.kind == CTX and cells.get(("st", o)) == ALIVE:
            n = int(cells.get(("ncached", o), 0))
            events.append(Event(f"cached@{at}", o * AUDIT_SCALE + n, f"object #{o}'s cache holds {n} session(s)"))
    return events


def _choice_event(label: str, value: object) -> Event:
    what = _what(label)
    v = int(value)  # type: ignore[arg-type]
    if what == "*":
        comment = f"line {_line(label)}: `*` is {'true' if v else 'false'}"
    elif what == "start time":
        comment = "the clock reads this when the script starts"
    elif what.startswith("`"):
        comment = f"line {_line(label)}: input {what} = {v}"
    else:
        comment = f"line {_line(label)}: {what}: {v}"
    return Event(label, v, comment)


def _result_comment(kind: str, value: int, text: str) -> str:
    if kind == "object":
        return f"`{text}` returns " + (f"object #{value}" if value else "NULL")
    if kind == "pointer":
        return f"`{text}` returns " + ("a pointer" if value else "NULL")
    if kind == "assumed":
        return f"`{text}` returns {value} on this path (assumed, not checked)"
    return f"`{text}` returns {value}"


# ---- the C program ------------------------------------------------------------------------


def _c_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def runtime_source() -> str:
    return resources.files("sessref").joinpath("repro_runtime.c").read_text()


class _Writer:
    """C lines, each attributed to a script line through `#line` directives."""

    def __init__(self, script_file: str):
        self.script_file = script_file
        self.lines: list[str] = []
        self.line_map: dict[int, int] = {}
        self._expected: int | None = None  # the script line the next C line gets

    def plain(self, text: str = "") -> None:
        """A line of the program's own (not the script's)."""
        if self._expected is not None:
            self.lines.append(f'#line {len(self.lines) + 2} "{self.c_file}"')
            self._expected = None
        self.lines.append(text)

    def script(self, line: int, text: str) -> None:
        if self._expected != line:
            self.lines.append(f"#line {line} {_c_string(self.script_file)}")
        self.lines.append(text)
        self.line_map[len(self.lines)] = line
        self._expected = line + 1

    c_file = "reproducer.c"


class _Translator:
    def __init__(self, program: ast.Program, backend: ConcreteBackend, events: list[Event], allocation_failures: bool):
        self.program = program
        self.backend = backend
        self.events = events
        self.allocation_failures = allocation_failures
        self.functions = {i.name: i for i in program.items if isinstance(i, ast.FuncDef)}
        self.crash_span: ast.Span | None = None
        if backend.crashed and backend.trace:
            self.crash_span = backend.sites.by_id[backend.trace[-1].site].span
        self.names: dict[str, str] = {}
        self.lines = program.source.splitlines()
        # declared types by name (C input casts unknown values where a pointer is kept)
        self.types: dict[str, ast.CType] = {i.name: i.ctype for i in program.items if isinstance(i, ast.VarDecl)}
        self.current: ast.FuncDef | None = None
        # C input declares every integer `long`: one whose address a library call writes
        # through (`SSL_SESSION_get_id(s, &len)`) is declared with the type it writes
        self.out_types: dict[str, ast.CType] = {}
        for node in ast.walk(program.items):
            entry = CATALOGUE.get(node.func) if isinstance(node, ast.Call) else None
            for i, a in enumerate(node.args if entry is not None else ()):
                want = entry.prototype.params[i][0] if i < len(entry.prototype.params) else None
                if isinstance(a, ast.AddrOf) and want is not None and want.pointers == 1 and want.base not in OBJECT_TYPES \
                        and want.base not in ("void", "char", "unsigned char"):
                    self.out_types[a.target.id] = ast.CType(want.base, 0)

    # -- names ----------------------------------------------------------------------------
    def cname(self, name: str) -> str:
        if name in self.names:
            return self.names[name]
        out = name
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            # C input: a storage cell named by its access path (`c->ssl->session`, `a[?].s`,
            # `*out`) or a front end temporary (`switch#1`, `#if defined(X)`): a global or
            # local of its own
            out = "sr_v_" + re.sub(r"\W+", "_", name).strip("_")
            taken = set(self.names.values())
            while out in taken:
                out += "_"
        elif name in _RESERVED or name.startswith("sr_") or name.startswith("SSL_") or name.startswith("TLS"):
            out = f"{name}_"
        if name == "main" and name in self.functions:
            out = "script_main"
        self.names[name] = out
        return out

    # -- expressions --------------------------------------------------------------------------
    def expr(self, e: ast.Expr) -> str:
        if isinstance(e, ast.Name):
            if e.id in CONSTANTS or e.id in ("stdout", "stderr"):
                return e.id if not self._declared_anywhere(e.id) else self.cname(e.id)
            return self.cname(e.id)
        if isinstance(e, ast.IntLit):
            text = self._text(e.span)
            return text if text[:1].isdigit() or text in CONSTANTS else str(e.value)
        if isinstance(e, ast.StrLit):
            return self._text(e.span)
        if isinstance(e, ast.NullLit):
            return "NULL"
        if isinstance(e, ast.Nondet):
            return f'sr_choice("*", "{_at(e.span)}") /* {self._choices_comment(e.span)} */'
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.AddrOf):
            return "&" + self.cname(e.target.id)
        if isinstance(e, ast.Deref):
            return "*" + self.cname(e.target.id)
        if isinstance(e, ast.Unary):
            return f"{e.op}({self.expr(e.operand)})"
        if isinstance(e, ast.Cast):
            return f"(({e.ctype})({self.expr(e.operand)}))"
        if isinstance(e, ast.Binary):
            void_p = ast.CType("void", 1)
            if isinstance(e.right, ast.NullLit) or isinstance(e.left, ast.NullLit):  # `unknown == NULL`
                return f"({self.typed(e.left, void_p)} {e.op} {self.typed(e.right, void_p)})"
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        if isinstance(e, ast.Cond):
            literal = (ast.StrLit, ast.NullLit, ast.AddrOf)
            if isinstance(e.then, literal) and _unknownish(e.orelse) or isinstance(e.orelse, literal) and _unknownish(e.then):
                # C input: `p ? p->name : "-"` of untracked data: both sides as pointers
                void_p = ast.CType("void", 1, const=True)
                return f"({self.expr(e.cond)} ? {self._as(e.then, void_p)} : {self._as(e.orelse, void_p)})"
            return f"({self.expr(e.cond)} ? {self.expr(e.then)} : {self.expr(e.orelse)})"
        if isinstance(e, ast.Unknown):
            # C input: a value the front end does not follow (a helper's result, a field of
            # untracked data): the path's value, after the calls inside it
            parts = "".join(f"(void)({self.expr(p)}), " for p in e.parts)
            return f'({parts}sr_choice("?", "{_at(e.span)}"))'
        raise NotModelledError(f"no C translation for {type(e).__name__}", getattr(e, "span", None))

    def _as(self, e: ast.Expr, t: ast.CType) -> str:
        return self.typed(e, t) if _unknownish(e) else f"({self.ctype(t)})({self.expr(e)})"

    def typed(self, e: ast.Expr, t: ast.CType | None) -> str:
        """`e` where a value of type `t` is kept: an unknown value (a `long long`) cast to a
        pointer type, so that the program compiles without conversion warnings."""
        text = self.expr(e)
        if t is not None and t.pointers and isinstance(e, ast.Unknown):
            return f"({self.ctype(t)})sr_as_pointer({text})"
        if t is not None and t.pointers and isinstance(e, ast.Cond) and _unknownish(e):
            return f"({self.expr(e.cond)} ? {self.typed(e.then, t)} : {self.typed(e.orelse, t)})"
        return text

    def _declared_anywhere(self, name: str) -> bool:
        return name in self.names

    def _choices_comment(self, span: ast.Span) -> str:
        key = f"*@{_at(span)}"
        values = [ev.value for ev in self.events if ev.label == key or ev.label.startswith(key + "/")]
        if not values:
            return "not reached on this path"
        return "on this path: " + ", ".join("true" if v else "false" for v in values)

    def call(self, c: ast.Call) -> str:
        if c.func == CALLER_RELEASES:  # C input: the caller's release, once, as the path says
            return f'sr_release({self.expr(c.args[0])}, "{_at(c.span)}")'
        if c.func == HELPER_KEEPS:  # C input: a project helper may keep it; nothing to run
            return "((void)0)"
        if c.func in self.functions:
            f = self.functions[c.func]
            args = [self.typed(a, f.params[i].ctype if i < len(f.params) else None) for i, a in enumerate(c.args)]
            return f"{self.cname(c.func)}({', '.join(args)})"
        at = _at(c.span)
        entry = CATALOGUE.get(c.func)
        if entry is None:  # declared with a contract, or an undeclared helper: no C to run
            raise NotModelledError(f"`{c.func}` has no body here: a reproducer cannot run it (define it in the script "
                                   "to replay this path)", c.func_span)
        params = entry.prototype.params
        # `&p` of a plain pointer (C input declares every untracked pointer `void *`): as
        # the library's parameter type says
        args = [f"({self.ctype(params[i][0])})" + self.expr(a)
                if isinstance(a, ast.AddrOf) and i < len(params) and params[i][0].pointers >= 2
                and params[i][0].base not in OBJECT_TYPES else self.expr(a)
                for i, a in enumerate(c.args)]
        if entry.repro == "verify":  # the runtime's peer has no trusted certificate: see sr_verify
            args = [*args[:2], f"(sr_script_verify_cb = (int (*)(int, X509_STORE_CTX *))({args[2]}), sr_verify)"]
        crash = self._crashes(c)
        # Arguments that call something are evaluated first, left to right, as the path has
        # their results (C leaves the order open; GCC goes right to left), and before a crash
        # call's cache audit.
        prelude = ""
        if sum(_calls_in(a) for a in c.args) > 1 or (crash and any(_calls_in(a) for a in c.args)):
            prelude = "".join(f"__auto_type sr_a{i} = ({text}); " for i, text in enumerate(args))
            args = [f"sr_a{i}" for i in range(len(args))]
        if entry.neutral:
            wrapped = self._neutral_call(c, entry, args, at)
            ret = entry.prototype.ret
            kind = "" if (ret.base == "void" and not ret.pointers) else "pointer" if ret.pointers else "int"
            return self._stopping(c, at, wrapped, kind, prelude)
        if entry.repro == "none" or not entry.modelled:
            raise NotModelledError(f"no reproducer renders `{c.func}` yet ({entry.status})", c.func_span)
        if entry.repro == "d2i":
            inner = f'sr_d2i({", ".join(args)}, "{at}")'
        elif entry.repro == "set1_id" and not isinstance(c.args[1], ast.StrLit):
            inner = f'sr_set1_id({", ".join(args)}, "{at}")'
        elif c.func == "PEM_read_bio_SSL_SESSION":
            inner = f'sr_decode_bio(1, {args[0]}, {args[1]}, "{at}")'
        elif c.func == "d2i_SSL_SESSION_bio":
            inner = f'sr_decode_bio(0, {args[0]}, {args[1]}, "{at}")'
        elif c.func in _SID_CTX_SETTERS and not isinstance(c.args[1], ast.StrLit):
            inner = f'sr_sid_ctx({args[0]}, {_SID_CTX_SETTERS[c.func]}, {args[1]}, {args[2]}, "{at}")'
        elif c.func == "SSL_set_SSL_CTX":
            inner = f'sr_set_ssl_ctx({", ".join(args)})'
        elif entry.repro == "sleep":
            inner = f"(sr_sleep({args[0]}), 0)"
        elif c.func in TLS_CALLS:
            num = args[2] if c.func in ("SSL_write", "SSL_write_ex") else "0"
            inner = f'sr_tls({TLS_CALLS[c.func]}, {args[0]}, "{at}", (int)({num}))'
            if len(args) > 3:  # the `_ex` forms: the real count goes to the script's variable
                inner = f"(sr_ex_count = (size_t *)({args[3]}), {inner})"
        else:
            inner = f"{c.func}({', '.join(args)})"
        if self.allocation_failures and c.func in ALLOCATORS:
            inner = f'(sr_allocation("{at}"), {inner})'
        kind = "" if c.func in _METHODS else _result_kind(c.func)
        if c.func in TLS_CALLS:
            kind = "checked"
        wrapped = {
            "checked": inner,
            "object": f'sr_object({inner}, "{at}")',
            "pointer": f'sr_pointer({inner}, "{at}")',
            "int": f'sr_int({inner}, "{at}")',
            "": inner,
        }[kind]
        return self._stopping(c, at, wrapped, kind, prelude)

    def _crashes(self, c: ast.Call) -> bool:
        return self.crash_span is not None and (c.span.start, c.span.end) == (self.crash_span.start, self.crash_span.end)

    def _stopping(self, c: ast.Call, at: str, wrapped: str, kind: str, prelude: str = "") -> str:
        """The call (after its arguments' `prelude`), stopping the program after it where the
        model's path crashes."""
        if self._crashes(c):
            audit = f'sr_audit_caches("{at}");'
            if kind == "":
                return f'({{ {prelude}{audit} {wrapped}; sr_stop_after("{at}"); }})'
            temp = "long long" if kind in ("int", "checked") else "void *"
            return f'({{ {prelude}{audit} {temp} sr_result = {wrapped}; sr_stop_after("{at}"); sr_result; }})'
        if prelude:
            return f"({{ {prelude}{wrapped}; }})"
        return wrapped

    def _neutral_call(self, c: ast.Call, entry, args: list[str], at: str) -> str:
        """A neutral call runs as written; what the model left open is the path's: its result
        (`sr_open`, `sr_nullable`: taken out of turn) and what it wrote through `&x`."""
        proto = entry.prototype
        inner = f"{c.func}({', '.join(args)})"
        ret = proto.ret
        if ret.pointers and entry.null != "never":
            user_data = int(ret.pointers == 1 and ret.base in ("void", "char", "unsigned char"))
            inner = f'sr_nullable({inner}, "{at}", {user_data})'
        elif not ret.pointers and ret.base != "void":
            inner = f'sr_open("assumed", "{at}", {inner})'
        outs = []
        for i, a in enumerate(c.args):
            want = proto.params[i][0] if i < len(proto.params) else None
            if isinstance(a, ast.AddrOf) and (want is None or not want.const):
                name = self.cname(a.target.id)
                what = _c_string(out_label(a.target.id, c.func))
                # a pointer: the path says whether it is NULL; an integer: its value
                outs.append(f'if (__builtin_classify_type({name}) == 5) {{ if (sr_open({what}, "{at}", 0)) {name} = 0; }} '
                            f'else {name} = (__typeof__({name}))sr_open({what}, "{at}", (long long)(intptr_t)({name}));')
        if not outs:
            return inner
        if ret.pointers == 0 and ret.base == "void":
            return f"({{ {inner}; {' '.join(outs)} }})"
        return f"({{ __typeof__({inner}) sr_r = {inner}; {' '.join(outs)} sr_r; }})"

    # -- declarations -----------------------------------------------------------------------
    def ctype(self, t: ast.CType, drop_const: bool = False) -> str:
        const = "const " if t.const and not (drop_const and t.pointers == 0) else ""
        return f"{const}{t.base}" + (" " + "*" * t.pointers if t.pointers else "")

    def declarator(self, t: ast.CType, name: str, drop_const: bool = False) -> str:
        text = self.ctype(t, drop_const)
        return f"{text}{name}" if text.endswith("*") else f"{text} {name}"

    def default(self, d: ast.VarDecl) -> str:
        """The value of a declaration without an initializer, as the model sees it."""
        t = d.ctype
        if t.pointers == 0:
            return f'({self.ctype(t, True)})sr_choice("`{d.name}`", "{_at(d.span)}")'
        if t.pointers == 1 and t.base in OBJECT_TYPES:
            return "NULL"
        if t.pointers > 1:
            return f"({self.ctype(t)})&sr_opaque_pointer"
        return {
            "BIO": "sr_bio()",
            "FILE": "stderr",
            "X509": "NULL",
            "SSL_CIPHER": "sr_cipher()",
            "SSL_METHOD": "TLS_method()",
        }.get(t.base, f"({self.ctype(t)})sr_bytes")

    # -- statements -----------------------------------------------------------------------------
    def marker(self, span: ast.Span) -> str:
        text = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        text = text.split("//", 1)[0].strip()
        return f"sr_at({span.line}, {_c_string(text)});"

    def stmt(self, s: ast.Stmt, w: _Writer, indent: str, is_global: bool = False) -> None:
        line = s.span.line
        mark = self.marker(s.span) + " " if _has_steps(s) else ""
        if isinstance(s, ast.VarDecl):
            value = self.typed(s.init, s.ctype) if s.init is not None else self.default(s)
            self.types[s.name] = s.ctype
            name = self.cname(s.name)
            ctype = self.out_types.get(s.name, s.ctype) if s.ctype == ast.CType("long") else s.ctype
            if is_global:
                w.script(line, f"{indent}{mark}{name} = {value};")
            else:
                w.script(line, f"{indent}{mark}{self.declarator(ctype, name)} = {value};")
        elif isinstance(s, ast.Assign):
            w.script(line, f"{indent}{mark}{self.assignment(s)};")
        elif isinstance(s, ast.ExprStmt):
            w.script(line, f"{indent}{mark}{self.expr(s.expr)};")
        elif isinstance(s, ast.Block):
            w.script(line, f"{indent}{{")
            for inner in s.stmts:
                self.stmt(inner, w, indent + "    ")
            w.script(s.span.end_line, f"{indent}}}")
        elif isinstance(s, ast.If):
            w.script(line, f"{indent}{mark}if ({self.expr(s.cond)}) {{")
            self.body(s.then, w, indent)
            if s.orelse is not None:
                w.script(s.orelse.span.line, f"{indent}}} else {{")
                self.body(s.orelse, w, indent)
            w.script(s.span.end_line, f"{indent}}}")
        elif isinstance(s, ast.While):
            cond = self.expr(s.cond)
            if _calls_in(s.cond):
                cond = f"({self.marker(s.span)[:-1]}, {cond})"
            w.script(line, f"{indent}while ({cond}) {{")
            self.body(s.body, w, indent)
            w.script(s.span.end_line, f"{indent}}}")
        elif isinstance(s, ast.For):
            init = self.for_part(s.init)
            cond = self.expr(s.cond) if s.cond is not None else ""
            step = self.for_part(s.step)
            w.script(line, f"{indent}{mark}for ({init}; {cond}; {step}) {{")
            self.body(s.body, w, indent)
            w.script(s.span.end_line, f"{indent}}}")
        elif isinstance(s, ast.Break):
            w.script(line, f"{indent}break;")
        elif isinstance(s, ast.Continue):
            w.script(line, f"{indent}continue;")
        elif isinstance(s, ast.Return):
            ret = self.current.ret if self.current is not None else None
            value = "" if s.value is None or self._in_script_body else " " + self.typed(s.value, ret)
            w.script(line, f"{indent}{mark}return{value};")
        elif isinstance(s, ast.Assume):
            w.script(line, f'{indent}{mark}sr_assume({self.expr(s.cond)}, "{_at(s.span)}");')
        elif isinstance(s, ast.Labeled):  # C input: a label of the file, or a retry loop's end
            w.script(line, f"{indent}{self.cname(s.label)}:;")
            self.stmt(s.stmt, w, indent)
        elif isinstance(s, ast.Goto):
            w.script(line, f"{indent}goto {self.cname(s.label)};")
        else:
            raise NotModelledError(f"no C translation for {type(s).__name__}", getattr(s, "span", None))

    _in_script_body = False

    def body(self, s: ast.Stmt, w: _Writer, indent: str) -> None:
        if isinstance(s, ast.Block):
            for inner in s.stmts:
                self.stmt(inner, w, indent + "    ")
        else:
            self.stmt(s, w, indent + "    ")

    def assignment(self, a: ast.Assign) -> str:
        target = self.expr(a.target)
        t = self.types.get(a.target.id) if isinstance(a.target, ast.Name) else None
        return f"{target} {a.op} {self.typed(a.value, t)}"

    def for_part(self, s: ast.VarDecl | ast.Assign | None) -> str:
        if s is None:
            return ""
        if isinstance(s, ast.VarDecl):
            value = self.typed(s.init, s.ctype) if s.init is not None else self.default(s)
            self.types[s.name] = s.ctype
            return f"{self.declarator(s.ctype, self.cname(s.name))} = {value}"
        if isinstance(s, ast.Block):  # C input: a `for` loop's steps (`i++, p = p->next`)
            return ", ".join(self.for_part(inner) for inner in s.stmts)
        if isinstance(s, ast.ExprStmt):
            return self.expr(s.expr)
        if not isinstance(s, ast.Assign):
            raise NotModelledError(f"no C translation for a loop step {type(s).__name__}", getattr(s, "span", None))
        return self.assignment(s)

    def _text(self, span: ast.Span) -> str:
        return self.program.source[span.start : span.end]


def _unknownish(e: ast.Expr) -> bool:
    if isinstance(e, ast.Unknown):
        return True
    if isinstance(e, ast.Cond):
        return _unknownish(e.then) or _unknownish(e.orelse)
    return False


def _at(span: ast.Span) -> str:
    return f"{span.line}:{span.column}"


def _calls_in(node: object) -> bool:
    if isinstance(node, (ast.Call, ast.Nondet)):
        return True
    if isinstance(node, (ast.Unary, ast.Cast)):
        return _calls_in(node.operand)
    if isinstance(node, ast.Binary):
        return _calls_in(node.left) or _calls_in(node.right)
    return False


def _has_steps(s: ast.Stmt) -> bool:
    """Whether the statement itself (not its nested statements) calls something."""
    if isinstance(s, ast.VarDecl):
        return s.init is not None and _calls_in(s.init)
    if isinstance(s, ast.Assign):
        return _calls_in(s.value)
    if isinstance(s, ast.ExprStmt):
        return _calls_in(s.expr)
    if isinstance(s, (ast.If, ast.Assume)):
        return _calls_in(s.cond)
    if isinstance(s, ast.Return):
        return s.value is not None and _calls_in(s.value)
    if isinstance(s, ast.For):
        return (s.init is not None and _has_steps(s.init)) or (s.cond is not None and _calls_in(s.cond))
    return False


def _events_table(events: list[Event]) -> list[str]:
    rows = ["static const struct sr_event sr_path[] = {"]
    for ev in events:
        value = f"{ev.value}LL" if ev.value != -(1 << 63) else "(-9223372036854775807LL - 1)"
        rows.append(f"    {{{_c_string(ev.label)}, {value}, {_c_string(ev.comment)}}},")
    rows.append("    {NULL, 0, NULL}")
    rows.append("};")
    rows.append(f"static const size_t sr_path_length = {len(events)};")
    return rows


def _literals_table(strings: dict[str, int]) -> list[str]:
    ordered = sorted(strings, key=lambda s: strings[s])
    rows = ["static const char *const sr_literals[] = {"]
    rows += [f"    {_c_string(s)}," for s in ordered]
    rows += ["    NULL", "};", f"static const size_t sr_literal_count = {len(ordered)};"]
    return rows


def build(
    program: ast.Program,
    replay: Replay,
    title: str,
    allocation_failures: bool = False,
    c_file: str = "reproducer.c",
) -> Reproducer:
    """The C program that follows the path `replay` took through `program`."""
    backend = replay.backend
    events = path_events(backend)
    tr = _Translator(program, backend, events, allocation_failures)
    script_file = program.file
    w = _Writer(script_file)
    w.c_file = c_file
    for line in _header(program, title, c_file):
        w.plain(line)
    for line in ('#pragma GCC diagnostic ignored "-Wunused-function"', '#pragma GCC diagnostic ignored "-Wunused-variable"',
                 "#include <openssl/ssl.h>", "#include <openssl/crypto.h>", "#include <openssl/evp.h>", "#include <openssl/x509.h>", "#include <openssl/x509v3.h>", "#include <openssl/err.h>", "#include <openssl/bio.h>", "#include <openssl/pem.h>", "#include <stdint.h>", "#include <stdio.h>",
                 "#include <stdlib.h>", "#include <string.h>", "#include <time.h>", "#include <signal.h>", "#include <unistd.h>", ""):
        w.plain(line)
    w.plain("/* The path, in order: what@line:col/context, the value, what it means. */")
    w.plain("struct sr_event {")
    w.plain("    const char *label;")
    w.plain("    long long value;")
    w.plain("    const char *comment;")
    w.plain("};")
    w.plain("")
    for line in _events_table(events) + _literals_table(replay.executor._strings):
        w.plain(line)
    w.plain("static void *sr_opaque_pointer;")
    w.plain(f"#define SR_AUDIT_SCALE {AUDIT_SCALE}LL")
    w.plain("")
    for line in runtime_source().splitlines():
        w.plain(line)
    w.plain("")

    globals_ = [i for i in program.items if isinstance(i, ast.VarDecl)]
    seen: set[str] = set()
    w.plain("/* The script's globals. */")
    for d in globals_:
        name = tr.cname(d.name)
        if name in seen:
            raise NotModelledError(f"`{d.name}` is declared twice at the top level", d.span)
        seen.add(name)
        w.plain(f"static {tr.declarator(d.ctype, name, drop_const=True)};")
    w.plain("")
    w.plain("static void sr_forget_globals(void)")
    w.plain("{")
    for d in globals_:
        if d.ctype.pointers:
            w.plain(f"    {tr.cname(d.name)} = NULL;")
    w.plain("}")
    w.plain("")
    functions = [i for i in program.items if isinstance(i, ast.FuncDef)]
    for f in functions:
        w.plain(f"static {_signature(tr, f)};")
    w.plain("static void sr_script(void);")
    w.plain("")
    uses_failures = any(_what(ev.label) == "allocation fails" for ev in events)
    w.plain("int main(void)")
    w.plain("{")
    if uses_failures:
        w.plain("    CRYPTO_set_mem_functions(sr_malloc, sr_realloc, sr_free);")
    w.plain("    sr_start();")
    w.plain("    sr_script();")
    w.plain("    sr_finish();")
    w.plain("    return 0;")
    w.plain("}")
    w.plain("")
    w.plain("/* ---- the script ---- */")
    for f in functions:
        tr.current = f
        tr.types.update({p.name: p.ctype for p in f.params})
        w.script(f.span.line, f"static {_signature(tr, f)}")
        w.script(f.body.span.line, "{")
        for s in f.body.stmts:
            tr.stmt(s, w, "    ")
        w.script(f.body.span.end_line, "}")
    tr.current = None
    w.plain("")
    w.plain("static void sr_script(void)")
    w.plain("{")
    tr._in_script_body = True
    body = [i for i in program.items if not isinstance(i, ast.FuncDef)]
    main = tr.functions.get("main")
    if main is not None and not any(not isinstance(i, (ast.VarDecl, ast.FuncDef)) for i in program.items):
        for d in body:
            tr.stmt(d, w, "    ", is_global=True)
        w.plain(f"    {tr.cname('main')}();")
    else:
        for item in body:
            tr.stmt(item, w, "    ", is_global=isinstance(item, ast.VarDecl))
    tr._in_script_body = False
    w.plain("}")
    source = "\n".join(w.lines) + "\n"
    return Reproducer(source, script_file, w.line_map, events, backend)


def _signature(tr: _Translator, f: ast.FuncDef) -> str:
    params = ", ".join(tr.declarator(p.ctype, tr.cname(p.name)) for p in f.params) or "void"
    name = tr.cname(f.name)
    ret = tr.ctype(f.ret)
    return f"{ret}{name}({params})" if ret.endswith("*") else f"{ret} {name}({params})"


def _header(program: ast.Program, title: str, c_file: str) -> list[str]:
    binary = Path(c_file).stem
    return [
        "/*",
        f" * sessref reproducer for {_comment(program.file)}",
        f" * {_comment(title)}",
        " *",
        " * It runs the script's path against the installed OpenSSL: every `*` and input takes",
        " * the value the path needs (the table `sr_path`), and each call's result is checked",
        " * against the model. `[sessref] line N` on stderr says which script line runs.",
        " *",
        f" *   cc -g -O0 -o {binary} {c_file} -lssl -lcrypto",
        f" *   valgrind --leak-check=full ./{binary}",
        " */",
    ]
