"""Golden files for the machine-readable and pictorial reports, as `test_specs.py` keeps
them for the text report: `--format json`, `--format sarif`, `--format github`, `--html`
and `--svg` on a few specs, compared whole with `tests/golden/` (`pytest --bless`
rewrites them; inspect the diff).

What would change from one machine or release to the next is normalised first: SARIF's
tool version and the absolute URI of the repository root, and its rule catalogue (the
rules' pages are held by `test_explain.py` and `test_sarif.py`), so that a golden changes
only when what the report says about these scripts changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sessref import report_github, report_html, report_json, report_sarif

from support import ROOT, checked

GOLDEN = ROOT / "tests" / "golden"

# One finding (the README's example); three on one path, one of them a warning; a
# handshake's callback; a loop; safe; safe but bounded.
REPORTED = (
    "specs/examples/set_session_free_order.sess",
    "specs/examples/borrowed_free.sess",
    "specs/handshakes/new_cb_free_return_0.sess",
    "specs/examples/saved_session_loop_leak.sess",
    "specs/examples/borrowed_get1_fixed.sess",
    "specs/examples/saved_session_loop.sess",
)
DRAWN = ("specs/examples/set_session_free_order.sess", "specs/examples/borrowed_free.sess")


def _reports(names: tuple[str, ...]) -> list:
    return [checked(name).report for name in names]


def hold(name: str, text: str, bless: bool) -> None:
    """`text` must equal `tests/golden/NAME`; with `--bless` (or no golden yet) it is written."""
    golden = GOLDEN / name
    if bless or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
        if not bless:
            pytest.fail(f"{golden.relative_to(ROOT)} did not exist; written now, check it in")
    assert text == golden.read_text(), f"{golden.relative_to(ROOT)} differs (`pytest --bless` rewrites it)"


def normalised_sarif(text: str) -> str:
    doc: dict[str, Any] = json.loads(text)
    for run in doc["runs"]:
        driver = run["tool"]["driver"]
        driver["semanticVersion"] = "<version>"
        driver["rules"] = [{"id": rule["id"], "name": rule["name"]} for rule in driver["rules"]]
        for base in run.get("originalUriBaseIds", {}).values():
            if base.get("uri", "").startswith("file:"):
                base["uri"] = "file:///<repository root>/"
    return json.dumps(doc, indent=2) + "\n"


def test_json(bless: bool) -> None:
    text = report_json.render(_reports(REPORTED), [])
    json.loads(text)
    hold("report.json", text, bless)


def test_sarif(bless: bool) -> None:
    text = report_sarif.render(_reports(REPORTED), [], root=ROOT)
    assert json.loads(text)["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"]  # what is left out below
    hold("report.sarif", normalised_sarif(text), bless)


def test_github(bless: bool) -> None:
    hold("report.github", report_github.render(_reports(REPORTED), [], root=ROOT), bless)


def test_html(bless: bool) -> None:
    hold("report.html", report_html.render(_reports(DRAWN), []), bless)


def test_svg(bless: bool) -> None:
    documents = report_html.svg_documents(_reports(DRAWN))
    names = [path.name for path in report_html.svg_paths(Path("report.svg"), len(documents))]
    assert len(names) == sum(len(r.findings) for r in _reports(DRAWN)) > 1
    if bless:
        for stale in GOLDEN.glob("report*.svg"):
            if stale.name not in names:
                stale.unlink()
    for name, document in zip(names, documents):
        hold(name, document, bless)
    assert sorted(p.name for p in GOLDEN.glob("report*.svg")) == sorted(names)
