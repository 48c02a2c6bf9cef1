"""The entry context of a C file's functions: what `sessref check FILE.c` assumes a function
is called with, written as code (C text lowered by the C front end), so that the rest of
the pipeline checks a C file exactly like a script.

Each entry point runs in its own branch of one program (`if (*) { f's context } else ...`).
What a context holds (README "Checking C files", `sessref explain c-entry` say the same):

- a plain function: an `SSL_CTX` (`ctx0`) the caller owns; for each parameter
  - `SSL *`: an `SSL` of `ctx0` the caller owns, whose session slot may hold a session;
  - `SSL_CTX *`: `ctx0`;
  - `SSL_SESSION *`: a session the caller *lends* (another `SSL`'s slot owns it; the
    function must not free it), never NULL; annotate `sess owned` if the function takes
    the caller's reference, `sess may-be-null` if NULL is possible;
  - anything else: an unknown value; `SSL_SESSION **out` makes `*out` a storage cell.
- a registered or callback-shaped function: the library runs it (a server handshake for
  `new_session_cb` and `get_session_cb`, with an external cache for the latter; a client
  cache with an unclean close and `SSL_CTX_free` for `remove_session_cb`).
- storage (fields, array elements, `*out`, file-scope variables) that the function reads
  before it writes: a session cell is empty or holds a session the storage owns, an `SSL`
  or `SSL_CTX` cell holds the caller's. Storage the function writes first starts empty.
- after the function returns: its caller releases what the storage still holds (a session
  strictly, with `SSL_SESSION_free`: so a session freed but left in a field is a double
  free; `SSL`s and contexts only if still alive), and the objects it made.

Annotations, in a comment right before the function: `/* sessref: sess owned */`,
`/* sessref: c->sess borrowed */` (the storage does not own what it holds: not released
after), `/* sessref: sess may-be-null */`, `/* sessref: returns borrowed */`,
`/* sessref: new_session_cb */` (and the other kinds), `/* sessref: plain */`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import ast
from .cfront import CUnit, first_accesses, lower_c
from .errors import ParseError
from .source import read_bytes

RELEASE = "__sessref_caller_releases"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    assumptions: tuple[str, ...]


def entry_points(unit: CUnit, only: list[str] | None = None) -> list[str]:
    """The functions checked as entry points: every callback, every function that uses a
    session API, and every function no other function of the file calls."""
    called = {c for info in unit.info.values() for c in info.callees}
    names = []
    for name, info in unit.info.items():
        if only is not None:
            if name in only:
                names.append(name)
            continue
        if info.kind != "plain" or info.uses_sessions or name not in called:
            names.append(name)
    if only is None:  # no function goes unrun: what no entry reaches (mutual calls) is one too
        reached: set[str] = set()

        def reach(root: str) -> None:
            stack = [root]
            while stack:
                for callee in unit.info[stack.pop()].callees:
                    if callee not in reached:
                        reached.add(callee)
                        stack.append(callee)

        for name in names:
            reach(name)
        for name in unit.info:
            if name not in names and name not in reached:
                names.append(name)
                reach(name)
    return names


def build_program(unit: CUnit, only: list[str] | None = None) -> tuple[ast.Program, list[Entry]]:
    """The whole program: the file's cells and functions, and one branch per entry point."""
    names = entry_points(unit, only)
    lowerer = unit.lowerer
    lowerer.cut_plain_recursion(unit)  # type: ignore[attr-defined]
    lowerer.check_recursion(names)  # type: ignore[attr-defined]
    entries: list[Entry] = []
    blocks: list[tuple[ast.Span, ast.Block]] = []
    idle = []
    for name in names:
        info = unit.info[name]
        if only is None and info.kind == "plain" and not info.uses_sessions and not any(
                c in unit.cells for c in first_accesses(unit, name)) and not any(
                p.ctype.pointers == 1 and p.ctype.base in ("SSL", "SSL_CTX", "SSL_SESSION")
                for p in unit.functions[name].params):
            idle.append(name)  # no OpenSSL object in reach: nothing could be found in it
            continue
        func = unit.functions[name]
        text, after_at, assumed = _context(unit, name)
        body_span = func.body.span
        closing = ast.Span(unit.file, body_span.end_line, max(body_span.end_column - 1, 1), body_span.end_line,
                           body_span.end_column, body_span.end - 1, body_span.end)
        block = lowerer.synthetic_block(text, func.name_span, f"`{name}`", _parsable(unit, text),  # type: ignore[attr-defined]
                                        ((after_at, closing),))
        blocks.append((func.name_span, block))
        entries.append(Entry(name, unit.info[name].kind, tuple(assumed)))
    body: ast.Stmt | None = None
    for span, block in reversed(blocks):
        if body is None:
            body = block
        else:
            choice = lowerer.synthetic_block("if (__sessref_any()) {}", span, "a choice").stmts[0]  # type: ignore[attr-defined]
            assert isinstance(choice, ast.If)
            body = ast.If(choice.cond, block, body, block.span)
    globals_ = [ast.VarDecl(ctype, name, None, _file_span(unit), _file_span(unit)) for name, ctype in unit.cells.items()]
    source = unit.source + "".join(unit.synthetic)
    items: list = [*globals_, *unit.globals, *unit.functions.values()]
    if body is not None:
        items.append(body)
    notes = [f"`{e.name}` is checked as {'an entry point' if e.kind == 'plain' else 'a ' + e.kind}: "
             + ("; ".join(e.assumptions) if e.assumptions else "no session state at entry") for e in entries]
    if idle:
        notes.append(f"{len(idle)} function(s) reach no session, `SSL` or context (no OpenSSL call, no storage "
                     "of those types): nothing in them to check: " + ", ".join(f"`{n}`" for n in idle))
    program = ast.Program(unit.file, source, tuple(items), dict(unit.functions), tuple(notes + unit.notes),
                          declarations=dict(unit.declarations))
    return program, entries


def load_c(path: str, modelled: frozenset[str], defines: dict[str, int | None] | None = None,
           undefines: tuple[str, ...] = (), only: list[str] | None = None) -> ast.Program:
    """Read, lower and wrap a C file for checking (`sessref check FILE.c`)."""
    raw = read_bytes(path)
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParseError("the file is not UTF-8", ast.Span(path, line, 1, line, 2)) from None
    return load_c_text(path, source, modelled, defines, undefines, only)


def load_c_text(path: str, source: str, modelled: frozenset[str], defines: dict[str, int | None] | None = None,
                undefines: tuple[str, ...] = (), only: list[str] | None = None) -> ast.Program:
    """`load_c` of the file's text (a verified fix re-checks an edited text this way)."""
    unit = lower_c(path, source, modelled, defines, undefines)
    if not unit.functions:
        raise ParseError("no function definition to check in this C file", ast.Span(path, 1, 1, 1, 1), source=source,
                         help="sessref checks the functions a C file defines")
    if only:
        missing = [n for n in only if n not in unit.functions]
        if missing:
            raise ParseError(f"no function `{missing[0]}` in this file", ast.Span(path, 1, 1, 1, 1), source=source,
                             help="functions: " + ", ".join(f"`{n}`" for n in unit.functions))
    program, _ = build_program(unit, only)

    def relower(text: str) -> ast.Program:
        return load_c_text(path, text, modelled, defines, undefines, only)

    return replace(program, own_text_end=len(source), relower=relower)


def _file_span(unit: CUnit) -> ast.Span:
    return ast.Span(unit.file, 1, 1, 1, 1, 0, 0)


def _context(unit: CUnit, name: str) -> tuple[str, int, list[str]]:
    """The entry context's code, where its part after the function returns starts, and
    what it assumes (in words)."""
    info = unit.info[name]
    func = unit.functions[name]
    notes = info.annotations
    lines: list[str] = []
    after: list[str] = []
    assumed: list[str] = []
    # A plain function gets sessions as a handshake leaves them (`_negotiated`). A callback's
    # sessions come from the library's own handshakes; what its storage holds before is a
    # bare session there, one the library does not resume (the model's resumption of a
    # decoded session handed to a get_session_cb disagrees with the library: issue 14).
    _negotiated = _decoded if info.kind == "plain" else _bare
    kind = info.kind
    accesses = first_accesses(unit, name)
    cells = [c for c in accesses if c in unit.cells]
    names = {c: c for c in cells}
    lines.append("const SSL_CIPHER *__sessref_cipher;")  # the cipher sessions were negotiated with
    if kind == "plain":
        lines.append("SSL_CTX *ctx0 = SSL_CTX_new(TLS_method());")
    else:
        method = "TLS_client_method()" if kind == "remove_session_cb" else "TLS_server_method()"
        lines.append(f"SSL_CTX *ctx0 = SSL_CTX_new({method});")
        lines.append("SSL_CTX_set_max_proto_version(ctx0, TLS1_2_VERSION);")
        lines.append("SSL_CTX_set_options(ctx0, SSL_OP_NO_TICKET);")
    # storage the function reads before it writes
    for cell in cells:
        ctype = unit.cells[cell]
        state = notes.get(cell, "")
        ref = names[cell]
        if accesses[cell] == "write":
            assumed.append(f"`{cell}` is written before it is read: it starts empty")
            continue
        if ctype.base == "SSL_SESSION":
            if state == "null":
                assumed.append(f"`{cell}` starts NULL (annotated)")
            elif state in ("nonnull", "held"):
                lines.append(_negotiated(ref))
                assumed.append(f"`{cell}` holds a session it owns (annotated)")
            elif state == "borrowed":
                lines.append(f"if (__sessref_any()) {{ SSL *lender_{_ident(cell)} = SSL_new(ctx0); "
                             f"{_negotiated(ref)} SSL_set_session(lender_{_ident(cell)}, {ref}); "
                             f"SSL_SESSION_free({ref}); {RELEASE}(lender_{_ident(cell)}); }}")
                assumed.append(f"`{cell}` is NULL or points at a session it does not own (annotated)")
            else:
                lines.append(f"if (__sessref_any()) {{ {_negotiated(ref)} }}")
                assumed.append(f"`{cell}` is NULL or holds a session it owns (a reference its owner releases "
                               "after the call)")
        elif ctype.base == "SSL":
            lines.append(f"{ref} = SSL_new(ctx0);")
            held = f"{_ident(cell)}_session"
            lines.append(f"if (__sessref_any()) {{ {_negotiated(held, 'SSL_SESSION *')} "
                         f"SSL_set_session({ref}, {held}); SSL_SESSION_free({held}); }}")
            assumed.append(f"`{cell}` is an `SSL` of the caller's; its slot may hold a session")
        else:
            lines.append(f"{ref} = ctx0;")
            assumed.append(f"`{cell}` is the caller's `SSL_CTX`")
    if kind == "plain":
        args = []
        for p in func.params:
            c = p.ctype
            state = notes.get(p.name, "")
            if c.pointers == 1 and c.base == "SSL":
                lines.append(f"SSL *{p.name} = SSL_new(ctx0);")
                lines.append(f"if (__sessref_any()) {{ {_negotiated(p.name + '_session', 'SSL_SESSION *')} "
                             f"SSL_set_session({p.name}, {p.name}_session); SSL_SESSION_free({p.name}_session); }}")
                after.append(f"{RELEASE}({p.name});")
                assumed.append(f"`{p.name}` is an `SSL` the caller owns; its slot may hold a session")
            elif c.pointers == 1 and c.base == "SSL_CTX":
                lines.append(f"SSL_CTX *{p.name} = ctx0;")
                assumed.append(f"`{p.name}` is the caller's `SSL_CTX`")
            elif c.pointers == 1 and c.base == "SSL_SESSION":
                if state == "owned":
                    lines.append(_negotiated(p.name, "SSL_SESSION *"))
                    assumed.append(f"`{p.name}` is a session whose reference the caller hands over (annotated)")
                else:
                    lines.append(f"SSL *lender_{p.name} = SSL_new(ctx0);")
                    lines.append(_negotiated(p.name, "SSL_SESSION *"))
                    lines.append(f"SSL_set_session(lender_{p.name}, {p.name});")
                    lines.append(f"SSL_SESSION_free({p.name});")
                    after.append(f"{RELEASE}(lender_{p.name});")
                    assumed.append(f"`{p.name}` is a session the caller lends (it keeps its reference)")
                if state == "may-be-null":
                    lines.append(f"if (__sessref_any()) {p.name} = NULL;")
            else:
                # a pointer of an untracked type: some valid buffer (the library may
                # dereference it: `d2i_SSL_SESSION(NULL, pp, n)`); an integer: any value
                lines.append(f"long {p.name} = __sessref_unknown();" if c.pointers == 0 else
                             f"void *{p.name};")
            args.append(p.name)
        call = f"{name}({', '.join(args)})"
        if func.ret.pointers == 1 and func.ret.base == "SSL_SESSION":
            lines.append(f"SSL_SESSION *result = {call};")
            if notes.get("returns") != "borrowed":
                after.insert(0, "SSL_SESSION_free(result);")
                assumed.append("the result is a reference the caller owns (annotate `returns borrowed` otherwise)")
        else:
            lines.append(f"{call};")
    elif kind == "new_session_cb" or kind == "get_session_cb":
        if kind == "get_session_cb":
            lines.append("SSL_CTX_set_session_cache_mode(ctx0, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);")
            partner = next((n for n, i in unit.info.items() if i.kind == "new_session_cb"), None)
            if partner:
                lines.append(f"SSL_CTX_sess_set_new_cb(ctx0, {partner});")
            lines.append(f"SSL_CTX_sess_set_get_cb(ctx0, {name});")
            rounds = 2
            assumed.append("the library runs it in a server with an external cache"
                           + (f" filled by `{partner}`" if partner else "") + ", over two connections")
        else:
            # An application with a new_session_cb keeps its own cache: the library's internal
            # store is off unless the file sets a mode where it registers the callback.
            mode = info.cache_mode if info.cache_mode is not None and info.cache_mode & 0x2 else None
            lines.append("SSL_CTX_set_session_cache_mode(ctx0, "
                         + (str(mode) if mode is not None else "SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE")
                         + ");")
            lines.append(f"SSL_CTX_sess_set_new_cb(ctx0, {name});")
            rounds = 1
            assumed.append("the library runs it in a server handshake (it gets a session the library lends, "
                           "plus a reference if it returns 1), "
                           + ("with the session cache mode the file sets where it registers it" if mode is not None
                              else "with an external cache only (`SSL_SESS_CACHE_NO_INTERNAL_STORE`)"))
        for i in range(rounds):
            lines.append(f"SSL *ssl{i} = SSL_new(ctx0);")
            lines.append(f"if (SSL_accept(ssl{i}) == 1) SSL_shutdown(ssl{i});")
            lines.append(f"SSL_free(ssl{i});")
    elif kind == "remove_session_cb":
        lines.append("SSL_CTX_set_session_cache_mode(ctx0, SSL_SESS_CACHE_CLIENT);")
        lines.append(f"SSL_CTX_sess_set_remove_cb(ctx0, {name});")
        lines.append("SSL *ssl0 = SSL_new(ctx0);")
        lines.append("if (SSL_connect(ssl0) == 1) { if (__sessref_any()) SSL_shutdown(ssl0); }")
        lines.append("SSL_free(ssl0);")
        assumed.append("the library runs it in a client cache: at an unclean close and at `SSL_CTX_free`")
    for cell in cells if name != "main" else ():  # after `main`, the process ends: what is held leaks
        ctype = unit.cells[cell]
        if ctype.base == "SSL_SESSION":
            if notes.get(cell) != "borrowed":
                after.append(f"SSL_SESSION_free({names[cell]});")
        else:
            after.append(f"{RELEASE}({names[cell]});")
    if kind == "remove_session_cb":
        lines.append("SSL_CTX_free(ctx0);")
    before = "\n".join(lines) + "\n"
    if kind != "remove_session_cb":
        after.append(f"{RELEASE}(ctx0);")
    lines += after
    if kind != "plain" and info.registered == "":
        assumed.insert(0, f"run as a `{kind}` (its signature; annotate `plain` otherwise)")
    return "\n".join(lines), len(before), assumed


def _bare(target: str, declare: str = "") -> str:
    return f"{declare}{target} = SSL_SESSION_new();"


def _decoded(target: str, declare: str = "") -> str:
    """Entry text giving `target` a session as a handshake leaves one, with a cipher: what
    `i2d_SSL_SESSION` needs to encode it, as a saved session has (a bare `SSL_SESSION_new`
    has none and serialises to nothing, ssl/ssl_asn1.c i2d_SSL_SESSION L81-238, so the code
    that stores it would never run)."""
    return f"{declare}{target} = SSL_SESSION_new(); SSL_SESSION_set_cipher({target}, __sessref_cipher);"


def _parsable(unit: CUnit, text: str) -> str:
    """`text` with each cell that is not C (`a[?].s`) replaced by an identifier of the same
    length, which the front end maps back to the cell."""
    alias = unit.lowerer.cell_alias  # type: ignore[attr-defined]
    for i, cell in enumerate(unit.cells):
        if "[?]" not in cell:
            continue
        key = f"__c{i}"
        key = key + "_" * (len(cell) - len(key))
        alias[key] = cell
        text = text.replace(cell, key)
    return text


def _ident(cell: str) -> str:
    text = cell.replace("->", "_").replace(".", "_").replace("[?]", "_any").replace("*", "")
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text)
