"""The model's modules form layers, each importing only the ones below it, at the top of
the file: `objects`, `values`, `rules`, `world` at the bottom; `refcount` (the
take/release/use primitives) above them; then `cache`, then `refs` (what a release sets
off), then `handshake`, `api`, `entry`. No module hides a dependency in a function-local
import, and each imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parent.parent / "model"
MODULES = sorted(p.stem for p in MODEL.glob("*.py") if p.stem != "__init__")
# Who may import whom (directly): each module's layer must be above everything it imports.
LAYERS = [
    {"objects", "values", "rules"},
    {"world"},
    {"refcount"},
    {"cache", "sessiondata"},
    {"refs"},
    {"handshake"},
    {"api"},
    {"connection"},  # settings, SNI switches, ex_data: effects over api's helpers
    {"entry", "contracts"},  # contracts: what a declared function without a body does
]


def _layer(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if module in layer)


def _sibling_imports(node: ast.AST) -> set[str]:
    """The model modules an import statement names (`from . import cache`, `from .refs import x`)."""
    if isinstance(node, ast.ImportFrom) and node.level == 1:
        if node.module:
            return {node.module.split(".")[0]} & set(MODULES)
        return {a.name for a in node.names} & set(MODULES)
    if isinstance(node, ast.Import):
        return {a.name.split(".")[-1] for a in node.names if a.name.startswith("sessref.model.")} & set(MODULES)
    return set()


def _top_level_imports(module: str) -> set[str]:
    tree = ast.parse((MODEL / f"{module}.py").read_text())
    return set().union(*(_sibling_imports(n) for n in tree.body))


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) == set().union(*LAYERS)


@pytest.mark.parametrize("module", MODULES)
def test_no_function_local_import_of_a_sibling(module: str) -> None:
    tree = ast.parse((MODEL / f"{module}.py").read_text())
    top = set(map(id, tree.body))
    hidden = [
        f"model/{module}.py:{n.lineno} imports {sorted(_sibling_imports(n))} inside a function"
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in top and _sibling_imports(n)
    ]
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_lower_layers(module: str) -> None:
    upward = sorted(m for m in _top_level_imports(module) if _layer(m) >= _layer(module))
    assert not upward, f"model/{module}.py imports {upward}, which are not below it"


def test_each_module_imports_alone() -> None:
    """In a fresh interpreter per module: no module relies on another having been imported first."""
    for module in MODULES:
        done = subprocess.run([sys.executable, "-c", f"import sessref.model.{module}"], capture_output=True, text=True)
        assert done.returncode == 0, f"sessref.model.{module} does not import alone:\n{done.stderr}"
