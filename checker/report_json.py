"""The JSON report (`--format json`); its schema is `report.schema.json`, version `SCHEMA`."""

from __future__ import annotations

import json
from typing import Any

from .findings import FileReport, ReportedFinding
from .fixes import Fix
from .language.ast import Span

SCHEMA = "sessref-report/1"


def _span(span: Span) -> dict[str, Any]:
    return {
        "file": span.file,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def _fix(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "description": fix.description,
        "diff": fix.diff,
        "lines": list(fix.lines),
        "verified_by": fix.verified_by,
        "verification": fix.verification,
    }


def _finding(f: ReportedFinding) -> dict[str, Any]:
    return {
        "rule": f.rule.id,
        "name": f.rule.name,
        "severity": f.rule.severity,
        "level": f.level,
        "message": f.message,
        "objects": list(f.objects),
        "span": _span(f.span),
        "labels": [{"span": _span(lab.span), "text": lab.text, "primary": lab.primary} for lab in f.labels],
        "notes": list(f.notes),
        "help": f.help,
        "fix": _fix(f.fix),
        "path": {
            "hidden_steps": f.hidden_steps,
            "minimal": f.minimal,
            "choices": [{"span": _span(c.span), "text": c.text, "needed": c.needed} for c in f.choices],
            "steps": [
                {
                    "step": s.number,
                    "span": _span(s.span),
                    "call": s.call,
                    "notes": list(s.notes),
                    "objects": [
                        {
                            "name": o.name,
                            "kind": o.kind,
                            "status": o.status,
                            "count": o.count,
                            "holders": list(o.holders),
                            "holdings": [{"kind": k, "name": n, "references": r} for k, n, r in o.holdings],
                        }
                        for o in s.objects
                        if o.status != "-"
                    ],
                }
                for s in f.steps
            ],
        },
    }


def file_json(report: FileReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "verdict": report.verdict,
        "warnings": len(report.warnings),
        "bounded": report.bounded,
        "vacuous": report.vacuous,
        "all_iterations": bool(report.closed_after) and not report.bounded,
        "loops": list(report.bounded_why),
        "unroll": report.unroll,
        "reason": report.reason or None,
        "findings": [_finding(f) for f in report.findings],
        "assumptions": list(report.notes),
        **({"fixes_skipped": report.fixes_skipped} if report.fixes_skipped else {}),
    }


def render(reports: list[FileReport], errors: list[dict[str, Any]]) -> str:
    totals: dict[str, int] = {"safe": 0, "unsafe": 0, "unknown": 0, "error": len(errors)}
    for r in reports:
        totals[r.verdict] += 1
    document = {"schema": SCHEMA, "files": [file_json(r) for r in reports], "errors": errors, "totals": totals}
    return json.dumps(document, indent=2) + "\n"
