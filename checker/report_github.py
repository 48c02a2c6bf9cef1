"""GitHub Actions annotations (`--format github`): one workflow command line per finding
(`::error` or `::warning`), per undecided script and per bad input, then a plain summary.
Paths are relative to the repository root, as the annotations need them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .findings import FileReport, ReportedFinding, path_text
from .report_sarif import relative_path, repository_root


def render(reports: list[FileReport], errors: list[dict[str, Any]], root: Path | None = None) -> str:
    base = root or repository_root()
    lines: list[str] = []
    for report in reports:
        file = _display_path(report.file, base)
        for finding in report.findings:
            lines.append(_finding(file, finding))
        if report.verdict == "unknown":
            message = f"the solver could not decide this script ({report.reason}): it is not proved safe"
            lines.append(command("error", {"file": file, "title": "sessref unknown verdict"}, message))
        if report.vacuous:
            message = (
                "no path reaches the end of this script: every path stops at an `assume` that cannot hold "
                "or at a crash, so only what happens before that was checked"
            )
            lines.append(command("warning", {"file": file, "title": "sessref vacuous verdict"}, message))
    for error in errors:
        internal = error.get("kind") == "internal"
        properties: dict[str, Any] = {"file": _display_path(error["file"], base)}
        if error.get("line"):
            properties |= {"line": error["line"], "col": error.get("column") or 1}
        properties["title"] = "sessref internal error" if internal else "sessref input error"
        lines.append(command("error", properties, error["message"]))
    lines.append(_summary(reports, errors))
    return "\n".join(lines) + "\n"


def command(name: str, properties: dict[str, Any], message: str) -> str:
    """`::name key=value,...::message`, escaped as the runner reads it back."""
    pairs = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name}{' ' + pairs if pairs else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _finding(file: str, f: ReportedFinding) -> str:
    span = f.span
    properties: dict[str, Any] = {"file": file, "line": span.line}
    # Columns only on a one-line span (GitHub takes none across lines); its `endColumn` is
    # the last column (it defaults to `col`), where a span's end is one past it.
    if span.end_line == span.line and span.end_column > span.column:
        properties |= {"col": span.column, "endLine": span.line, "endColumn": span.end_column - 1}
    else:
        properties["endLine"] = max(span.end_line, span.line)
    properties["title"] = f"sessref {f.rule.id} {f.rule.name}"
    text = [f.message]
    text += [f"  line {label.span.line}: {label.text}" for label in f.labels]
    if f.choices:
        text.append("path: " + path_text(f))
    if f.help:
        text.append(f"help: {f.help}")
    text.append(f"more: `sessref explain {f.rule.name}`")
    return command(f.level, properties, "\n".join(text))


def _display_path(file: str, root: Path) -> str:
    return relative_path(file, root) or file


def _summary(reports: list[FileReport], errors: list[dict[str, Any]]) -> str:
    counts = {v: sum(1 for r in reports if r.verdict == v) for v in ("safe", "unsafe", "unknown")}
    findings = sum(len(r.findings) for r in reports)
    return (
        f"sessref: {len(reports) + len(errors)} file(s): {counts['safe']} safe, {counts['unsafe']} unsafe "
        f"({findings} finding(s)), {counts['unknown']} unknown, {len(errors)} error(s)"
    )
