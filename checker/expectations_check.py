"""Holds a report against its script's `//~` annotations: the findings (line, rule) must be
exactly the annotated ones, and a script without any must verify safe (warnings alone are
allowed there, unless denied). An `unknown` verdict
never holds. Used by the golden tests over `specs/` and by the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

from .findings import FileReport
from .language.ast import Span
from .language.errors import SessrefError
from .language.expectations import Expectations, read_expectations
from .model.rules import rule_named

Expected = frozenset[tuple[int, str]]  # (line, rule name)


@dataclass(frozen=True)
class Comparison:
    """What the report found against what the annotations expect; `problems` is empty when they agree."""

    annotated: bool  # the script carries `//~` annotations (`safe` or findings)
    expected: Expected
    found: Expected
    problems: tuple[str, ...]

    @property
    def holds(self) -> bool:
        return not self.problems

    @property
    def missing(self) -> list[tuple[int, str]]:
        return sorted(self.expected - self.found)

    @property
    def unexpected(self) -> list[tuple[int, str]]:
        return sorted(self.found - self.expected)


def expected_findings(expectations: Expectations, file: str, source: str) -> Expected:
    """The annotated findings as (line, rule name). Raises SessrefError, pointing at the
    annotation, for an unknown rule or for findings on a script marked `//~ safe`."""
    wanted: set[tuple[int, str]] = set()
    for line, token in expectations.findings:
        rule = rule_named(token)
        if rule is None:
            raise SessrefError(
                f"unknown rule `{token}` in a `//~` annotation",
                _annotation_span(file, source, line, token),
                label="not a rule ID or name",
                help="`sessref explain` lists the rules (an ID such as `SR002` or a name such as `double-free`)",
                source=source,
            )
        wanted.add((line, rule.name))
    if expectations.safe and wanted:
        line, token = expectations.findings[0]
        raise SessrefError(
            "the script is marked `//~ safe` and also expects findings",
            _annotation_span(file, source, line, token),
            label="a finding is expected here",
            help="remove `//~ safe` from the first line, or the finding annotations",
            source=source,
        )
    return frozenset(wanted)


def compare(report: FileReport, source: str | None = None) -> Comparison:
    """Hold `report` against the `//~` annotations of its script (`source` defaults to the
    text the report was made from)."""
    text = report.source if source is None else source
    expectations = read_expectations(text)
    expected = expected_findings(expectations, report.file, text)
    found: Expected = frozenset((f.span.line, f.rule.name) for f in report.findings)
    annotated = expectations.safe or bool(expected)
    problems: list[str] = []
    if report.verdict == "unknown":
        problems.append(f"the verdict is unknown ({report.reason}); an unknown verdict never passes")
    elif not annotated and report.errors:
        errors = sorted((f.span.line, f.rule.name) for f in report.errors)
        problems.append(
            f"the script has no `//~` annotations, so it must verify safe, but it has {len(errors)} error(s): "
            + _listed(errors)
        )
    elif not annotated:
        pass  # warnings alone: printed, not failing
    elif found != expected:
        parts = []
        if expected - found:
            parts.append("missing " + _listed(sorted(expected - found)))
        if found - expected:
            parts.append("unexpected " + _listed(sorted(found - expected)))
        problems.append("the findings differ from the `//~` annotations: " + "; ".join(parts))
    elif report.verdict != ("unsafe" if report.errors else "safe"):
        problems.append(f"the verdict is {report.verdict} with {len(report.errors)} error(s)")
    return Comparison(annotated, expected, found, tuple(problems))


def _listed(findings: list[tuple[int, str]]) -> str:
    return ", ".join(f"{rule} at line {line}" for line, rule in findings)


def _annotation_span(file: str, source: str, line: int, token: str) -> Span:
    lines = source.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    at = text.rfind(token) if token else -1
    if at < 0:
        at = max(text.find("//~"), 0)
        token = "//~"
    return Span(file, line, at + 1, line, at + 1 + len(token))
