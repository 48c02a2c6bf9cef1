"""The HTML report (`sessref check --html PATH`): one self-contained page with a section
per file and, for each finding, its header (rule, severity, message, path choices, note
and help) above its timeline (`report_svg`). Inline CSS and SVG only: no script, no
network, system fonts; printable, one finding per page. `--svg` files come from here too.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from .findings import FileReport, ReportedFinding, path_text
from .report_svg import CSS as TIMELINE_CSS
from .report_svg import MONO, SANS, Timeline, finding_svg, verdicts_svg
from .report_text import loop_summary, unsafe_summary, warning_summary

PAGE_CSS = f"""
:root {{ color-scheme: light; }}
body {{ font-family: {SANS}; color: #111; background: #fff; line-height: 1.45;
       max-width: 1320px; margin: 24px auto; padding: 0 20px; }}
code {{ font-family: {MONO}; font-size: 0.92em; background: #eef0f3; padding: 0 0.25em; border-radius: 3px; }}
h1 {{ font-size: 1.45rem; margin: 0 0 4px; }}
h2 {{ font-size: 1.2rem; margin: 28px 0 4px; padding-top: 12px; border-top: 2px solid #333; }}
h3 {{ font-size: 1.05rem; margin: 22px 0 6px; }}
.intro, .where {{ color: #444; margin: 2px 0; }}
.verdict {{ font-weight: 600; margin: 4px 0 10px; }}
.verdict.safe {{ color: #1b5e20; }}
.verdict.unsafe {{ color: #9b1c1c; }}
.verdict.unknown, .verdict.error {{ color: #8a4b00; }}
.sev {{ display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 0.85em; }}
.sev.error {{ background: #c62828; }}
.sev.warning {{ background: #a86400; }}
dl.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 10px; }}
dl.facts dt {{ font-weight: 600; color: #333; }}
dl.facts dd {{ margin: 0; }}
dl.facts ul {{ margin: 0; padding-left: 1.2em; }}
figure.timeline {{ margin: 8px 0 24px; }}
figure.timeline svg {{ max-width: 100%; height: auto; display: block; border: 1px solid #d5d9df; }}
nav.files ul {{ padding-left: 1.2em; margin: 6px 0; }}
a {{ color: #1d4f91; }}
@media print {{
  body {{ max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  a {{ color: inherit; text-decoration: none; }}
  nav.files {{ display: none; }}
  section.file ~ section.file, article.finding ~ article.finding {{ break-before: page; }}
  h2, h3, dl.facts {{ break-after: avoid; }}
  figure.timeline svg {{ border: none; }}
}}
@page {{ size: A4 portrait; margin: 12mm; }}
"""


def render(reports: list[FileReport], errors: list[dict[str, Any]] | None = None) -> str:
    """The page for the files checked, in order; `errors` are the files that could not be
    checked (as the JSON report lists them: file, message, line, column)."""
    errors = errors or []
    sections: list[str] = []
    nav: list[str] = []
    counter = 0
    for index, report in enumerate(reports, 1):
        anchor = f"file-{index}"
        nav.append(f'<li><a href="#{anchor}">{escape(report.file)}</a>: {escape(_verdict_text(report))}</li>')
        parts = [
            f'<section class="file" id="{anchor}" data-file="{escape(report.file)}" data-verdict="{report.verdict}">',
            f"<h2><code>{escape(report.file)}</code></h2>",
            f'<p class="verdict {report.verdict}">{_inline(_verdict_text(report))}</p>',
        ]
        for number, finding in enumerate(report.findings, 1):
            counter += 1
            parts.append(_finding(report, finding, number, counter))
        parts.append("</section>")
        sections.append("\n".join(parts))
    for index, error in enumerate(errors, 1):
        anchor = f"error-{index}"
        where = f" (line {error['line']}, column {error['column']})" if error.get("line") else ""
        text = f"error: {error['message']}{where}"
        nav.append(f'<li><a href="#{anchor}">{escape(str(error["file"]))}</a>: {escape(text)}</li>')
        sections.append(
            f'<section class="file" id="{anchor}" data-file="{escape(str(error["file"]))}" data-verdict="error">'
            f"<h2><code>{escape(str(error['file']))}</code></h2>"
            f'<p class="verdict error">{_inline(text)}</p><p class="intro">Run <code>sessref check</code> on it for the '
            "full diagnostic.</p></section>"
        )
    title = "sessref: " + (
        reports[0].file if len(reports) == 1 and not errors else f"{len(reports) + len(errors)} files"
    )
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{PAGE_CSS}{TIMELINE_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>sessref: counterexamples, step by step</h1>",
        '<p class="intro">Each finding is drawn as a timeline: the steps of its path top to bottom, the script line '
        "beside each, and one lane per object with its reference count after each step and a band for each holder "
        "of a reference, from the step that takes it to the step that releases it.</p>",
    ]
    if len(nav) > 1:
        head.append('<nav class="files"><ul>' + "".join(nav) + "</ul></nav>")
    head.append("</header>")
    return "\n".join([*head, *sections, "</body>", "</html>"]) + "\n"


def _finding(report: FileReport, f: ReportedFinding, number: int, counter: int) -> str:
    rule = f.rule
    severity = f.level
    total = len(report.findings)
    facts = [f"<dt>where</dt><dd><code>{escape(str(f.span))}</code> (finding {number} of {total})</dd>"]
    if f.shown_choices:
        items = "".join(f"<li>{_inline(c.text)}</li>" for c in f.shown_choices)
        rest = len(f.choices) - len(f.shown_choices)
        if rest:
            items += f"<li>{rest} other choice(s) on the path do not change the finding ({_inline('`--full-trace`')} shows them)</li>"
        facts.append(f"<dt>path</dt><dd><ul>{items}</ul></dd>")
    elif f.choices:
        facts.append(f"<dt>path</dt><dd>{_inline(path_text(f))}</dd>")
    else:
        facts.append("<dt>path</dt><dd>straight through: no choice on the way</dd>")
    for note in f.notes:
        facts.append(f"<dt>note</dt><dd>{_inline(note)}</dd>")
    if f.help:
        facts.append(f"<dt>help</dt><dd>{_inline(f.help)}</dd>")
    if f.hidden_steps:
        facts.append(
            f"<dt>steps</dt><dd>{f.hidden_steps} step(s) that touch none of these objects are not drawn "
            "(<code>--full-trace</code> draws them)</dd>"
        )
    timeline = Timeline(report, f, f"tl{counter}-").svg(standalone=False)
    return "\n".join(
        [
            f'<article class="finding" id="finding-{counter}" data-rule="{rule.id}" data-rule-name="{rule.name}" '
            f'data-severity="{severity}">',
            f'<h3><span class="sev {severity}">{severity}</span> {escape(rule.name)} <code>{rule.id}</code>: '
            f"{_inline(f.message)}</h3>",
            '<dl class="facts">' + "".join(facts) + "</dl>",
            f'<figure class="timeline">{timeline}</figure>',
            "</article>",
        ]
    )


def _verdict_text(report: FileReport) -> str:
    if report.verdict == "safe":
        text = f"safe{warning_summary(report)}: no error on any path" if report.warnings else "safe: no finding on any path"
        if report.bounded or report.closed_after:
            text += f" ({loop_summary(report)})"
        if report.vacuous:
            text += "; vacuous: no path reaches the end (every path stops at an `assume` that cannot hold or a crash)"
        return text
    if report.verdict == "unknown":
        return f"unknown: {report.reason or 'the solver gave up'} (this is not a proof of safety)"
    return unsafe_summary(report)


def _inline(text: str) -> str:
    """Escaped text with its `backticked` parts as code."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(
        f"<code>{escape(p[1:-1])}</code>" if len(p) >= 2 and p.startswith("`") and p.endswith("`") else escape(p)
        for p in parts
    )


def svg_documents(reports: list[FileReport]) -> list[str]:
    """One standalone SVG per finding, in order across the files; with no finding at all,
    one that gives each file's verdict."""
    documents = [
        finding_svg(r, f, number, len(r.findings), f"tl{len(r.findings)}-{number}-")
        for r in reports
        for number, f in enumerate(r.findings, 1)
    ]
    return documents or [verdicts_svg([f"{r.file}: {_verdict_text(r)}" for r in reports])]


def svg_paths(path: Path, count: int) -> list[Path]:
    """`report.svg`, then `report-2.svg`, `report-3.svg`... beside it."""
    return [path if i == 1 else path.with_name(f"{path.stem}-{i}{path.suffix or '.svg'}") for i in range(1, count + 1)]
