"""The `sessref` command line: `check` and `explain`.

Exit codes: 0 safe, 1 findings, 2 bad input or usage, 3 unknown (solver gave up),
4 internal error. With several files the most serious outcome wins (2, 1, 3, 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import report_json, report_text
from .advice import advice_for
from .findings import FileReport, build_report
from .language.ast import Span
from .language.errors import InternalError, ParseError, SessrefError, render_error
from .language.parser import parse_file
from .language.resolve import resolve
from .model.api import EFFECTS
from .model.rules import RULES, rule_named
from .solving import Options, check

EXIT_SAFE, EXIT_FINDINGS, EXIT_INPUT, EXIT_UNKNOWN, EXIT_INTERNAL = 0, 1, 2, 3, 4
_SEVERITY = {EXIT_SAFE: 0, EXIT_UNKNOWN: 1, EXIT_FINDINGS: 2, EXIT_INPUT: 3, EXIT_INTERNAL: 4}

MODELLED = frozenset(EFFECTS)


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _arguments() -> argparse.ArgumentParser:
    parser = _Parser(prog="sessref", description="Check OpenSSL SSL_SESSION reference handling in operation scripts.")
    sub = parser.add_subparsers(dest="command", required=True)
    chk = sub.add_parser("check", help="prove scripts safe or show counterexamples")
    chk.add_argument("paths", nargs="+", help="`.sess` files or directories holding them")
    chk.add_argument("--format", choices=("text", "json"), default="text")
    chk.add_argument("--unroll", type=int, default=4, help="iterations explored per `while` loop (default 4)")
    chk.add_argument("--allocation-failures", action="store_true", help="also explore allocations returning NULL")
    chk.add_argument("--timeout", type=float, default=30.0, help="solver time limit per file, seconds")
    exp = sub.add_parser("explain", help="what a rule checks and why")
    exp.add_argument("rule", nargs="?", help="rule ID (SR002) or name (double-free)")
    return parser


def script_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.rglob("*.sess"))
        elif p.exists():
            files.append(p)
        else:
            raise UsageError(f"no such file or directory: {p}")
    return files


def check_file(path: Path, options: Options) -> FileReport:
    """Parse, resolve and decide one script. Raises SessrefError for bad input."""
    program = parse_file(str(path))
    if not program.items:
        raise ParseError(
            "the script is empty: nothing to check",
            Span(str(path), 1, 1, 1, 1),
            help="write the OpenSSL calls to check, one statement per line",
            source=program.source,
        )
    resolve(program, MODELLED)
    verdict = check(program, options)
    return build_report(program, verdict, options.unroll)


def _exit_code(report: FileReport) -> int:
    return {"safe": EXIT_SAFE, "unsafe": EXIT_FINDINGS, "unknown": EXIT_UNKNOWN}[report.verdict]


def _check(args: argparse.Namespace) -> int:
    if args.unroll < 0:
        raise UsageError("--unroll must be 0 or more")
    options = Options(unroll=args.unroll, allocation_failures=args.allocation_failures, timeout_ms=int(args.timeout * 1000))
    files = script_files(args.paths)
    if not files:
        raise UsageError("no `.sess` files found")
    reports: list[FileReport] = []
    errors: list[dict] = []
    code = EXIT_SAFE
    lines: list[str] = []
    for path in files:
        try:
            report = check_file(path, options)
        except SessrefError as err:
            outcome = EXIT_INTERNAL if isinstance(err, InternalError) else EXIT_INPUT
            errors.append(_error_json(path, err))
            if args.format == "text":
                sys.stdout.write(render_error(err))
                lines.append(f"{path}: {'internal error' if outcome == EXIT_INTERNAL else 'error'}: {err.message}")
        except RecursionError:
            err = SessrefError("the script is nested too deeply to check")
            errors.append(_error_json(path, err))
            outcome = EXIT_INPUT
            lines.append(f"{path}: error: {err.message}")
        else:
            reports.append(report)
            outcome = _exit_code(report)
            if args.format == "text":
                sys.stdout.write(report_text.render(report, summary=False))
                lines.append(report_text.summary_line(report))
        if _SEVERITY[outcome] > _SEVERITY[code]:
            code = outcome
    if args.format == "json":
        sys.stdout.write(report_json.render(reports, errors))
    else:
        if len(files) > 1:
            sys.stdout.write("\n")
        sys.stdout.write("\n".join(lines) + "\n")
        if len(files) > 1:
            counts = {v: sum(1 for r in reports if r.verdict == v) for v in ("safe", "unsafe", "unknown")}
            sys.stdout.write(
                f"{len(files)} file(s): {counts['safe']} safe, {counts['unsafe']} unsafe, "
                f"{counts['unknown']} unknown, {len(errors)} error(s)\n"
            )
    return code


def _error_json(path: Path, err: SessrefError) -> dict:
    span = err.span
    return {
        "file": str(path),
        "kind": "internal" if isinstance(err, InternalError) else "input",
        "message": err.message,
        "line": span.line if span else None,
        "column": span.column if span else None,
    }


def _explain(args: argparse.Namespace) -> int:
    if not args.rule:
        for rule in RULES:
            print(f"{rule.id}  {rule.name:<20} {rule.summary}")
        return EXIT_SAFE
    rule = rule_named(args.rule)
    if rule is None:
        raise UsageError(f"unknown rule `{args.rule}`; `sessref explain` lists them")
    notes, help_text = advice_for(rule, "")
    print(f"{rule.id} {rule.name} ({rule.severity})\n\n{rule.summary}.\n")
    for note in notes:
        print(f"note: {note}")
    print(f"help: {help_text}")
    return EXIT_SAFE


def main(argv: list[str] | None = None) -> int:
    try:
        args = _arguments().parse_args(argv)
        return _check(args) if args.command == "check" else _explain(args)
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\nusage: sessref check FILE... | sessref explain [RULE]\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in sessref: say so, without a traceback
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\nplease report this with the script that caused it\n")
        return EXIT_INTERNAL
