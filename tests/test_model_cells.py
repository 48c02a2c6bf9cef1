"""The model's cells and holders are declared once (`model/objects.py`): a misspelt field,
attribute, arity or holder kind raises, in the declarations and at the backends, and
the model's modules build their cells from the declarations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sessref.language.parser import parse
from sessref.language.resolve import resolve
from sessref.model import objects
from sessref.model.api import EFFECTS, Effect
from sessref.model.objects import FIELDS, PQ, RC, Field, Holder, check_cell
from sessref.paths import enumerate_paths
from sessref.solving import Options, check

MODEL = Path(__file__).resolve().parent.parent / "model"
# The modules whose every cell is built from a declared Field (the others are checked
# for declared names only, below, and at run time by the backends).
BUILT_FROM_FIELDS = ("refcount", "cache", "refs")
RAW_CELL = re.compile(r'\bw\.(?:get|set)\(\(\s*"(\w+)"')


def test_a_bad_field_name_attribute_or_arity_raises() -> None:
    assert RC(3) == ("rc", 3) and PQ("kind", 0) == ("pq", "kind", 0)
    with pytest.raises(ValueError, match="takes 1 key"):
        RC()
    with pytest.raises(ValueError, match="has no attribute 'knd'"):
        PQ("knd", 0)
    with pytest.raises(ValueError, match="no cell field 'rcc'"):
        check_cell(("rcc", 3))
    with pytest.raises(ValueError, match="declared twice"):
        Field("rc", (1,), "again")
    check_cell(("lseq",))
    check_cell(("lseq", 4))


def test_a_bad_holder_kind_raises() -> None:
    assert Holder("slot", 2) == ("slot", 2) and Holder("script").is_script
    with pytest.raises(ValueError, match="no holder kind 'slott'"):
        Holder("slott", 2)
    assert objects.slot_of(2).kind == "slot" and objects.cache_of(1).obj == 1


def test_finite_fields_come_from_the_declarations() -> None:
    assert objects.FINITE_FIELDS == {name for name, f in FIELDS.items() if f.finite}
    assert {"st", "rc", "lib", "slot", "cached"} <= objects.FINITE_FIELDS


@pytest.mark.parametrize("module", BUILT_FROM_FIELDS)
def test_these_modules_build_every_cell_from_a_field(module: str) -> None:
    raw = RAW_CELL.findall((MODEL / f"{module}.py").read_text())
    assert not raw, f"model/{module}.py builds cells as raw tuples: {raw}"


def test_every_raw_cell_in_the_model_names_a_declared_field() -> None:
    unknown = []
    for path in sorted(MODEL.glob("*.py")):
        for name in RAW_CELL.findall(path.read_text()):
            if name not in FIELDS:
                unknown.append(f"model/{path.name}: {name!r}")
    assert not unknown, "cells no Field declares:\n" + "\n".join(unknown)


def _with_bad_cell(monkeypatch: pytest.MonkeyPatch):
    def bad(w, args):
        return w.get(("refcnt", 1))

    monkeypatch.setitem(EFFECTS, "SSL_SESSION_new", Effect("SSL_SESSION_new", bad, "a misspelt cell on purpose", returns="owned"))
    program = parse("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\n", "bad.sess")
    resolve(program)
    return program


def test_the_symbolic_backend_refuses_an_undeclared_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    program = _with_bad_cell(monkeypatch)
    with pytest.raises(ValueError, match="no cell field 'refcnt'"):
        check(program, Options())


def test_the_concrete_backend_refuses_an_undeclared_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    program = _with_bad_cell(monkeypatch)
    with pytest.raises(ValueError, match="no cell field 'refcnt'"):
        list(enumerate_paths(program, Options()))
