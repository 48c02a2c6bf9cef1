"""Golden tests over specs/: each script's findings must match its `//~` annotations exactly,
and its whole text report must match the stored `.expected` file (`pytest --bless` rewrites them).
Each spec is checked once for all the tests that read it (`support.checked`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sessref.expectations_check import compare
from sessref.report_text import render

from support import ROOT, SPECS, checked, find_specs, relative, spec_params


def test_there_are_enough_examples() -> None:
    assert len(find_specs("examples")) >= 25
    assert {p.parent.name for p in SPECS} >= {"examples", "handshakes", "regressions", "tutorial", "solutions"}


@pytest.mark.parametrize("path", spec_params())
def test_findings_match_annotations(path: Path) -> None:
    report = checked(relative(path)).report
    comparison = compare(report)  # raises, pointing at it, for a malformed annotation
    assert comparison.annotated, f"{path.name} states no expectation (`//~ safe` or `//~ rule`)"
    assert comparison.holds, "\n".join(comparison.problems)


@pytest.mark.parametrize("path", spec_params())
def test_text_report_is_stable(path: Path, bless: bool) -> None:
    text = render(checked(relative(path)).report)
    golden = path.with_suffix(".expected")
    if bless or not golden.exists():
        golden.write_text(text)
        if not bless:
            pytest.fail(f"{golden.relative_to(ROOT)} did not exist; written now, check it in")
    assert text == golden.read_text()
