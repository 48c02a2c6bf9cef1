"""`#include "src/tls.c"` in an operation script: the real functions of a C file, callable
from the script and registrable as its callbacks.

The include lines are blanked (kept as spaces, so the script's positions stay) before the
script is parsed; each C file is lowered by the C front end with its text placed after the
script's in the program's source, its spans naming the C file and its own lines. Only the
script is resolved (against the C functions' signatures: a callback-shaped function has its
callback's); the C bodies were checked by the front end. The C functions' storage (fields,
file-scope variables) is shared by every call and starts empty.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import ast
from .errors import ParseError
from .parser import parse
from .prototypes import CALLBACK_SIGNATURES
from .source import InputError, read_bytes

if TYPE_CHECKING:
    from .cfront import CUnit

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"[^\n]*$', re.M)
_KIND_REGISTRATION = {
    "new_session_cb": "SSL_CTX_sess_set_new_cb",
    "get_session_cb": "SSL_CTX_sess_set_get_cb",
    "remove_session_cb": "SSL_CTX_sess_set_remove_cb",
}


def has_includes(source: str) -> bool:
    return INCLUDE.search(source) is not None


def load_with_includes(path: str, source: str, modelled: frozenset[str]) -> tuple[ast.Program, ast.Program]:
    """The program to run (script + imported C functions) and the one to resolve (the
    script with the C functions as signatures only)."""
    includes = []
    blanked = source
    for m in INCLUDE.finditer(source):
        includes.append((m.group(1), m))
        blanked = blanked[: m.start()] + " " * (m.end() - m.start()) + blanked[m.end():]
    script = parse(blanked, path)
    script = replace(script, source=source)
    full = source
    units: list[CUnit] = []
    for name, m in includes:
        target = (Path(path).parent / name) if not Path(name).is_absolute() else Path(name)
        if not target.exists() and Path(name).exists():
            target = Path(name)
        line = source[: m.start()].count("\n") + 1
        span = ast.Span(path, line, 1, line, m.end() - m.start() + 1, m.start(), m.end())
        if not target.exists():
            raise ParseError(f"cannot include `{name}`: no such file", span, label="not found", source=source,
                             help="`#include \"file.c\"` imports a C file's functions; the path is relative to the script")
        try:
            text = read_bytes(str(target)).decode("utf-8")
        except InputError as err:
            raise ParseError(f"cannot include `{name}`: {err.message.split(': ', 1)[-1]}", span, source=source) from None
        except UnicodeDecodeError:
            raise ParseError(f"cannot include `{name}`: not UTF-8", span, source=source) from None
        full += "\n"
        from .cfront import lower_c  # tree-sitter: loaded only for a script that includes C

        unit = lower_c(str(target), text, modelled, base=len(full))
        full += text + "".join(unit.synthetic)
        units.append(unit)
    c_functions: dict[str, ast.FuncDef] = {}
    cells: dict[str, ast.CType] = {}
    for unit in units:
        for fname, f in unit.functions.items():
            if fname in script.functions:
                raise ParseError(f"`{fname}` is defined in the script and in `{unit.file}`",
                                 script.functions[fname].name_span, source=source)
            c_functions.setdefault(fname, f)
        cells.update(unit.cells)
    stubs = [_signature(f, unit.info[f.name].kind if f.name in unit.info else "plain")
             for unit in units for f in unit.functions.values()]
    to_resolve = ast.Program(path, source, (*stubs, *script.items), {**{s.name: s for s in stubs}, **script.functions},
                             declarations=script.declarations)
    decls = [ast.VarDecl(ctype, name, None, ast.Span(path, 1, 1, 1, 1), ast.Span(path, 1, 1, 1, 1))
             for name, ctype in cells.items()]
    notes = tuple(n for unit in units for n in unit.notes)
    decls += [d for unit in units for d in unit.globals]
    program = ast.Program(path, full, (*decls, *c_functions.values(), *script.items),
                          {**c_functions, **script.functions}, notes,
                          tuple((unit.file, unit.source) for unit in units), declarations=script.declarations)
    return program, to_resolve


def _signature(f: ast.FuncDef, kind: str) -> ast.FuncDef:
    """A C function as the resolver sees it: its signature (a callback's, for one of that
    shape) and an empty body."""
    params = f.params
    ret = f.ret
    if kind in _KIND_REGISTRATION:
        wanted = CALLBACK_SIGNATURES[_KIND_REGISTRATION[kind]]
        params = tuple(ast.Param(c, p.name, p.span) for (c, _), p in zip(wanted.params, f.params))
        ret = wanted.ret
    return ast.FuncDef(ret, f.name, params, ast.Block((), f.body.span), f.span, f.name_span)
