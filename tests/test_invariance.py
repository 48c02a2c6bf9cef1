"""Verdicts come from the syntax tree, never from the text: every spec, reformatted (spaces,
tabs, comments and line breaks between tokens) and with its own variables and functions
renamed consistently, must give the same findings as written (issue 15: a tab before `(`
once turned a double free into "safe")."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest
from sessref.cli import check_file
from sessref.language import ast
from sessref.language.parser import _parser, parse
from sessref.solving import Options

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").rglob("*.sess"))
# A few specs whose findings hang on callbacks, clocks and loops: the fast subset's sample.
SAMPLE = {"remove_cb_eviction", "flush_expired", "loop_control", "new_cb_returns_1_unstored", "borrowed_free",
          "get_cb_fresh_or_null_copy0", "new_cb_get_id_length_out_param"}
_DIRECTIVE = re.compile(r"^[ \t]*#[^\n]*", re.M)
# Names a spec may not rename: the entry point is found by its name.
_KEEP = {"main"}


def test_specs_are_found() -> None:
    assert len(SPECS) > 100 and SAMPLE <= {p.stem for p in SPECS}


def _blank_directives(source: str) -> str:
    return _DIRECTIVE.sub(lambda m: " " * len(m.group()), source)


def _tokens(source: str):
    """The script's tokens (directive lines blanked first, so offsets stay)."""
    return list(_parser().lex(_blank_directives(source)))


def _own_names(source: str, file: str) -> set[str]:
    """The variables, functions and parameters the script declares."""
    program = parse(_blank_directives(source), file)
    names: set[str] = set()
    for node in ast.walk(program.items):
        if isinstance(node, ast.VarDecl):
            names.add(node.name)
        elif isinstance(node, ast.FuncDef):
            names.add(node.name)
            names.update(p.name for p in node.params)
    return names - _KEEP


def _rewrite(source: str, rng: random.Random, names: set[str], newlines: bool) -> str:
    """The same tokens in the same order; only the gaps between tokens on one line change
    (end-of-line comments, `//~` annotations included, stay where they are)."""
    tokens = _tokens(source)
    gaps = [" ", "\t", "  ", "/**/", " /* x */ ", "\t "]
    if newlines:
        gaps += ["\n", "\n\t", " \n  "]
    out, last = [], 0
    for i, tok in enumerate(tokens):
        gap = source[last : tok.start_pos]
        first_on_line = i == 0 or "\n" in gap or "//" in gap or "/*" in gap
        if not first_on_line and gap.strip() == "":
            gap = rng.choice(gaps)
        out.append(gap)
        text = str(tok)
        out.append(f"{text}_renamed" if tok.type == "NAME" and text in names else text)
        last = tok.end_pos
    out.append(source[last:])
    return "".join(out)


def _findings(path: Path, text: str | None = None):
    if text is not None:
        path.write_text(text)
    report = check_file(path, Options())
    return report.verdict, sorted((f.span.line, f.rule.name) for f in report.findings)


def _params():
    for path in SPECS:
        marks = () if path.stem in SAMPLE else (pytest.mark.slow,)
        yield pytest.param(path, marks=marks, id=str(path.relative_to(ROOT)))


@pytest.mark.parametrize("path", list(_params()))
def test_reformatted_and_renamed_spec_has_the_same_findings(path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(path.parent)
    source = path.read_text()
    rng = random.Random(path.stem)
    names = _own_names(source, str(path))
    verdict, findings = _findings(Path(path.name))
    # Same lines: spaces, tabs and comments between tokens, names renamed.
    same_lines = tmp_path / path.name
    assert _findings(same_lines, _rewrite(source, rng, names, newlines=False)) == (verdict, findings), \
        f"{path.name}: reformatting within lines or renaming changed the findings"
    # Line breaks between tokens too: the lines move, the rules found may not change.
    moved = tmp_path / f"moved_{path.name}"
    moved_verdict, moved_findings = _findings(moved, _rewrite(source, rng, names, newlines=True))
    assert moved_verdict == verdict and Counter(r for _, r in moved_findings) == Counter(r for _, r in findings), \
        f"{path.name}: line breaks between tokens changed the findings"
