"""Golden tests over specs/: each script's findings must match its `//~` annotations exactly,
and its whole text report must match the stored `.expected` file (`pytest --bless` rewrites them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sessref.cli import check_file
from sessref.expectations_check import compare
from sessref.report_text import render
from sessref.solving import Options

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").rglob("*.sess"))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_there_are_enough_examples() -> None:
    assert len(list((ROOT / "specs" / "examples").glob("*.sess"))) >= 25


@pytest.mark.parametrize("path", SPECS, ids=_relative)
def test_findings_match_annotations(path: Path) -> None:
    report = check_file(Path(_relative(path)), Options())
    comparison = compare(report)  # raises, pointing at it, for a malformed annotation
    assert comparison.annotated, f"{path.name} states no expectation (`//~ safe` or `//~ rule`)"
    assert comparison.holds, "\n".join(comparison.problems)


@pytest.mark.parametrize("path", SPECS, ids=_relative)
def test_text_report_is_stable(path: Path, bless: bool) -> None:
    report = check_file(Path(_relative(path)), Options())
    text = render(report)
    golden = path.with_suffix(".expected")
    if bless or not golden.exists():
        golden.write_text(text)
        if not bless:
            pytest.fail(f"{golden.name} did not exist; written now, check it in")
    assert text == golden.read_text()
