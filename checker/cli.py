"""The `sessref` command line: `check`, `repro`, `conform` and `explain`.

Exit codes: 0 safe (warnings alone included, unless `--deny` makes them errors), 1 errors
found, 2 bad input or usage, 3 unknown (solver gave up), 4 internal error. With several files the most serious outcome wins (2, 1, 3, 0).
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from . import (
    __version__,
    budget,
    conform,
    explain,
    memcheck,
    report_github,
    report_html,
    report_json,
    report_sarif,
    report_text,
    repro,
)
from .expectations_check import compare
from .findings import DENY_WARNINGS, FileReport, build_report, left_at_stop
from .language.ast import Call, FuncDef, Name, Program, walk
from .language.errors import InternalError, SessrefError, render_error
from .language.imports import has_includes, load_with_includes
from .language.parser import decode, parse, require_statements
from .language.resolve import resolve, undeclared_calls
from .language.source import STDIN, display_name, read_bytes
from .model.api import EFFECTS
from .model.rules import Rule, rule_named
from .paths import parse_path_choices, replay_path
from .solving import Options, Verdict, check

EXIT_SAFE, EXIT_FINDINGS, EXIT_INPUT, EXIT_UNKNOWN, EXIT_INTERNAL = 0, 1, 2, 3, 4
_SEVERITY = {EXIT_SAFE: 0, EXIT_UNKNOWN: 1, EXIT_FINDINGS: 2, EXIT_INPUT: 3, EXIT_INTERNAL: 4}

MODELLED = frozenset(EFFECTS)


class UsageError(Exception):
    pass


def _whole(least: int, what: str):
    """An argparse type: a whole number, at least `least`."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"{n}: {what} is {least} or more")
        return n

    return parse


_unroll = _whole(0, "the number of iterations")


MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week: larger values are surely a typo


def _seconds(text: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds") from None
    if not math.isfinite(t) or t <= 0:
        raise argparse.ArgumentTypeError(f"`{text}`: the time limit is a positive, finite number of seconds")
    if t < 0.001:
        raise argparse.ArgumentTypeError(f"`{text}`: at least 0.001 seconds (the budget counts milliseconds)")
    if t > MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"`{text}`: at most {MAX_TIMEOUT_S:g} seconds (a week)")
    return t


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _arguments() -> argparse.ArgumentParser:
    parser = _Parser(prog="sessref", description="Check OpenSSL SSL_SESSION reference handling in operation scripts.")
    parser.add_argument("--version", action="version", version=f"sessref {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    chk = sub.add_parser("check", help="prove scripts safe or show counterexamples")
    chk.add_argument("paths", nargs="+", help="`.sess` files or directories holding them; `-` reads standard input")
    chk.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="sarif: a SARIF 2.1.0 log for GitHub code scanning; github: GitHub Actions annotations",
    )
    chk.add_argument("--unroll", type=_unroll, default=4, help="iterations explored per `while` loop (default 4)")
    chk.add_argument("--allocation-failures", action="store_true", help="also explore allocations returning NULL")
    chk.add_argument(
        "--timeout", type=_seconds, default=30.0,
        help="time limit per file, seconds (default 30): reading, exploring the paths, the solver and the fix search; "
        "a file not decided in time is unknown",
    )
    chk.add_argument(
        "--full-trace", action="store_true", help="show every step of each counterexample, not only those that touch its objects"
    )
    chk.add_argument(
        "--no-fixes", action="store_true", help="do not look for verified fixes (each candidate edit costs one more check; only the text and json reports show them)"
    )
    chk.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="RULE",
        help="make warnings errors: `warnings` for all, or a warning rule's name or ID (repeatable, comma-separated); "
        "without it, warnings are printed and the exit code stays 0",
    )
    chk.add_argument(
        "--expect",
        action="store_true",
        help="hold each script's findings against its `//~` annotations: a script passes (exit 0) when they match",
    )
    chk.add_argument("--function", action="append", metavar="NAME", help="C input: check only this function as an entry point (repeatable)")
    chk.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]", help="C input: a macro `#if` tests see as defined")
    chk.add_argument("-U", dest="undefines", action="append", default=[], metavar="NAME", help="C input: a macro `#if` tests see as undefined")
    chk.add_argument("--html", metavar="PATH", help="also write each counterexample as a timeline, in one self-contained HTML page")
    chk.add_argument(
        "--svg",
        metavar="PATH",
        help="also write each counterexample's timeline as an SVG: PATH for the first, then PATH-2.svg, PATH-3.svg... "
        "in order across the files (with no finding, PATH alone gives each file's verdict)",
    )
    rep = sub.add_parser("repro", help="write a C program that replays a counterexample against the real OpenSSL")
    rep.add_argument("file", help="a `.sess` script or a C file (`-` reads a script from standard input)")
    rep.add_argument("--finding", help="which counterexample: its number in the report (1, 2, ...) or a rule (SR002, double-free)")
    rep.add_argument("-o", "--output", help="the C file to write (default: SCRIPT-repro.c here; `-` for stdout)")
    rep.add_argument(
        "--path",
        action="append",
        default=[],
        help="follow this path instead of a counterexample: LINE=true|false for the `*` at LINE (repeat it for each "
        "loop iteration, in order), NAME=N for an input, start=N for the clock; comma-separated or repeated",
    )
    rep.add_argument("--unroll", type=_unroll, default=4, help="iterations explored per `while` loop (default 4)")
    rep.add_argument("--allocation-failures", action="store_true", help="also explore allocations returning NULL")
    rep.add_argument("--timeout", type=_seconds, default=30.0, help="time limit, seconds (default 30), as for `check`")
    rep.add_argument("--function", action="append", metavar="NAME", help="C input: only this function as an entry point (repeatable)")
    rep.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]", help="C input: a macro `#if` tests see as defined")
    rep.add_argument("-U", dest="undefines", action="append", default=[], metavar="NAME", help="C input: a macro `#if` tests see as undefined")
    con = sub.add_parser("conform", help="run scripts' paths against the real OpenSSL under valgrind and compare")
    con.add_argument("paths", nargs="*", help="`.sess` files or directories holding them")
    con.add_argument("--generated", type=_whole(0, "the number of scripts"), default=0, metavar="N", help="also check N generated scripts")
    con.add_argument("--seed", type=int, default=0, help="seed of the generated scripts and of path sampling")
    con.add_argument("--jobs", type=_whole(1, "the number of parallel runs"), default=2, help="valgrind runs in parallel (default 2)")
    con.add_argument("--max-paths", type=_whole(1, "the number of paths"), default=32, help="paths run per safe script (a seeded sample beyond)")
    con.add_argument("--save", metavar="DIR", help="keep each disagreeing script in DIR as a regression spec")
    con.add_argument("--unroll", type=_unroll, default=4, help="iterations explored per `while` loop (default 4)")
    con.add_argument("--allocation-failures", action="store_true", help="also run paths where allocations fail")
    exp = sub.add_parser("explain", help="a rule's page: what it checks, why it is unsafe, an example and its fix")
    exp.add_argument("rule", nargs="?", help="rule ID (SR002) or name (double-free), any case; without it, the list of rules")
    fns = sub.add_parser("functions", help="the function catalogue: every function sessref knows, modelled, neutral or unmodelled")
    fns.add_argument("names", nargs="*", metavar="NAME", help="names or shell patterns (SSL_CTX_set_*); without them, all")
    fns.add_argument("--format", choices=("text", "json"), default="text")
    fns.add_argument("--status", choices=("modelled", "neutral", "unmodelled"), help="only the functions of this status")
    return parser


def script_files(paths: list[str]) -> list[Path]:
    """The files to check: each path given (`-` is standard input, once), and in each
    directory the `*.sess` names below it that are not directories themselves (a dangling
    link among them is listed: reading it reports the problem)."""
    files: list[Path] = []
    for text in paths:
        if text == STDIN:
            if Path(STDIN) in files:
                raise UsageError("`-` (standard input) can be given once")
            files.append(Path(STDIN))
            continue
        p = Path(text)
        try:
            is_dir = p.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            found = []
            for f in p.rglob("*.sess"):
                try:
                    if f.is_dir():
                        continue
                except OSError:
                    pass
                found.append(f)
            files += sorted(found)
        elif os.path.lexists(p):
            files.append(p)  # a file, or a link that reading will report on
        else:
            raise UsageError(f"no such file or directory: {p}")
    return files


C_SUFFIXES = (".c", ".h")


@dataclass(frozen=True)
class CInput:
    """How C files are read: `-D`/`-U` for `#if`, the functions to check (None: all entries)."""

    defines: tuple[tuple[str, int | None], ...] = ()
    undefines: tuple[str, ...] = ()
    functions: tuple[str, ...] | None = None


def check_path(path: Path, options: Options, c_input: CInput = CInput()) -> tuple[Program, Verdict]:
    """Parse, resolve and decide one script or C file: its program and verdict. Raises
    SessrefError for bad input (an error found while the script runs points into it). The
    caller opens the time budget (`check_file`)."""
    program = _load(path, c_input)
    try:
        return program, check(program, options)
    except SessrefError as err:  # found while running the script: point into it
        raise _located(err, program) from None


def check_file(
    path: Path, options: Options, full_trace: bool = False, fixes: bool = True, deny: frozenset[str] = frozenset(),
    c_input: CInput = CInput(),
) -> FileReport:
    """Parse, resolve and decide one script or C file. Raises SessrefError for bad input.
    `fixes`: look for an edit of the script that verifies, for each finding (`fixes.py`).
    `deny`: the warnings that count as errors (`deny_set`). `c_input`: how C files are read."""
    with budget.limit(options.timeout_ms / 1000):  # reading, checking and the fix search
        program, verdict = check_path(path, options, c_input)
        return build_report(program, verdict, options.unroll, full_trace, options if fixes else None, deny)


def _located(err: SessrefError, program: Program) -> SessrefError:
    """An error raised while the script ran, given the text its span points into (so it is
    shown with its line and caret, as the parser's are)."""
    if err.source is None and err.span is not None:
        if err.span.file == program.file:
            err.source = program.source
        else:
            err.source = dict(program.sources).get(err.span.file)
    return err


def deny_set(values: list[str], what: str = "--deny") -> frozenset[str]:
    """`warnings` and warning rules (names or IDs, any case) as rule names; raises UsageError."""
    names: set[str] = set()
    for value in (v.strip() for item in values for v in item.replace(",", " ").split()):
        if value.lower() == DENY_WARNINGS:
            names.add(DENY_WARNINGS)
            continue
        rule = rule_named(value)
        if rule is None:
            raise UsageError(f"{what} {value}: not a rule (`sessref explain` lists them) nor `warnings`")
        if rule.severity != "warning":
            raise UsageError(f"{what} {value}: {rule.name} is already an error")
        names.add(rule.name)
    return frozenset(names)


def _exit_code(report: FileReport) -> int:
    return {"safe": EXIT_SAFE, "unsafe": EXIT_FINDINGS, "unknown": EXIT_UNKNOWN}[report.verdict]


def _check(args: argparse.Namespace) -> int:
    options = Options(unroll=args.unroll, allocation_failures=args.allocation_failures, timeout_ms=int(args.timeout * 1000))
    c_input = CInput(tuple(_define(d) for d in args.defines), tuple(args.undefines),
                     tuple(args.function) if args.function else None)
    deny = deny_set(args.deny)
    files = script_files(args.paths)
    if not files:
        raise UsageError("no `.sess` files found")
    _check_outputs(args.html, args.svg)
    reports: list[FileReport] = []
    errors: list[dict] = []
    code = EXIT_SAFE
    lines: list[str] = []
    # Each candidate fix costs a check: look for them only where the output shows them.
    fixes = not args.no_fixes and args.format in ("text", "json")
    for path in files:
        name = display_name(str(path))
        try:
            report = check_file(path, options, args.full_trace, fixes, deny, c_input)
            # `--expect`: a malformed annotation is this file's error, pointing at it
            expected = _held_to_annotations(report) if args.expect else None
        except SessrefError as err:
            outcome = EXIT_INTERNAL if isinstance(err, InternalError) else EXIT_INPUT
            errors.append(_error_json(name, err))
            if args.format == "text":
                sys.stdout.write(render_error(err))
                lines.append(f"{name}: {'internal error' if outcome == EXIT_INTERNAL else 'error'}: {err.message}")
        except RecursionError:
            err = SessrefError("the script is nested too deeply to check")
            errors.append(_error_json(name, err))
            outcome = EXIT_INPUT
            lines.append(f"{name}: error: {err.message}")
        except MemoryError:
            err = SessrefError("sessref ran out of memory checking this file: its verdict is unknown")
            errors.append(_error_json(name, err))
            outcome = EXIT_UNKNOWN
            lines.append(f"{name}: unknown: {err.message}")
        else:
            reports.append(report)
            outcome = _exit_code(report)
            if args.format == "text":
                sys.stdout.write(report_text.render(report, summary=False))
                lines.append(report_text.summary_line(report))
            if expected is not None:
                outcome, held = expected
                if args.format == "text":
                    lines[-1] += held
        if _SEVERITY[outcome] > _SEVERITY[code]:
            code = outcome
    if args.format == "json":
        sys.stdout.write(report_json.render(reports, errors))
    elif args.format == "sarif":
        sys.stdout.write(report_sarif.render(reports, errors))
    elif args.format == "github":
        sys.stdout.write(report_github.render(reports, errors))
    else:
        if len(files) > 1:
            sys.stdout.write("\n")
        sys.stdout.write("\n".join(lines) + "\n")
        if len(files) > 1:
            counts = {v: sum(1 for r in reports if r.verdict == v) for v in ("safe", "unsafe", "unknown")}
            warned = sum(1 for r in reports if r.verdict == "safe" and r.warnings)
            with_warnings = f" ({warned} with warnings)" if warned else ""
            sys.stdout.write(
                f"{len(files)} file(s): {counts['safe']} safe{with_warnings}, {counts['unsafe']} unsafe, "
                f"{counts['unknown']} unknown, {len(errors)} error(s)\n"
            )
    if not _write_pictures(args, reports, errors) and _SEVERITY[EXIT_INPUT] > _SEVERITY[code]:
        code = EXIT_INPUT
    return code


def _held_to_annotations(report: FileReport) -> tuple[int, str]:
    """`--expect`: the outcome is whether the findings are the `//~` annotations."""
    comparison = compare(report)  # a malformed annotation raises, pointing at it
    if comparison.holds:
        return EXIT_SAFE, " (as annotated)"
    if report.verdict == "unknown":
        return EXIT_UNKNOWN, "; " + "; ".join(comparison.problems)
    return EXIT_FINDINGS, "; not as annotated: " + "; ".join(comparison.problems)


def _check_outputs(html: str | None, svg: str | None) -> None:
    """Refuse, before any work, picture paths that cannot be written."""
    for option, output in (("--html", html), ("--svg", svg)):
        if output is not None:
            _writable(option, output)
    if html is not None and svg is not None and os.path.abspath(html) == os.path.abspath(svg):
        raise UsageError(f"--html and --svg name the same file ({html}): give each its own")


def _writable(option: str, path: str) -> None:
    if not path.strip():
        raise UsageError(f"{option}: the path is empty")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"{option}: cannot write {path}: no such directory: {folder}")
    if target.is_dir():
        raise UsageError(f"{option}: cannot write {path}: it is a directory")
    if target.exists() and not os.access(target, os.W_OK) or not target.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: cannot write {path}: permission denied")


def _write_pictures(args: argparse.Namespace, reports: list[FileReport], errors: list[dict]) -> bool:
    """The `--html` page and `--svg` files, said on stderr; False when one could not be written."""
    outputs: list[tuple[Path, str]] = []
    if args.html is not None:
        outputs.append((Path(args.html), report_html.render(reports, errors)))
    if args.svg is not None:
        documents = report_html.svg_documents(reports)
        outputs += zip(report_html.svg_paths(Path(args.svg), len(documents)), documents)
    written = True
    seen: set[str] = set()
    for path, text in outputs:
        if os.path.abspath(path) in seen:  # `--svg r.svg --html r-2.svg`: the second would overwrite the first
            sys.stderr.write(f"error: cannot write {path}: another picture was written there (choose other names)\n")
            written = False
            continue
        seen.add(os.path.abspath(path))
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            sys.stderr.write(f"error: cannot write {path}: {exc.strerror or exc}\n")
            written = False
        else:
            sys.stderr.write(f"wrote {path}\n")
    return written


def _define(text: str) -> tuple[str, int | None]:
    name, _, value = text.partition("=")
    if not name.isidentifier():
        raise UsageError(f"-D{text}: `{name}` is not a macro name")
    if not value:
        return name, None
    try:
        return name, int(value, 0)
    except ValueError:
        raise UsageError(f"-D{text}: the value must be an integer") from None


def _load(path: Path, c_input: CInput = CInput()) -> Program:
    """Read (bounded: `language/source.py`), parse and resolve a script or C file."""
    if path.suffix in C_SUFFIXES:
        from .language.centry import load_c  # tree-sitter: loaded for C input only

        program = load_c(str(path), MODELLED, dict(c_input.defines), c_input.undefines,
                         list(c_input.functions) if c_input.functions else None)
        return program
    name = display_name(str(path))
    text = decode(read_bytes(str(path)), name)
    if has_includes(text):
        program, script = load_with_includes(name, text, MODELLED)
        resolve(script, MODELLED)
        return _with_unrun_warning(program, script)
    program = require_statements(parse(text, name))
    resolve(program, MODELLED)
    return _with_unrun_warning(program, program)


def _with_unrun_warning(program: Program, script: Program) -> Program:
    """No vacuous verdicts: the script's own functions that nothing calls or registers are
    named (they were not checked). Helpers neither defined nor declared are noted as neutral."""
    helpers = undeclared_calls(script)
    if helpers:
        program = replace(program, notes=(*program.notes, *(
            f"`{name}` (line {span.line}) is neither defined, declared nor a function sessref knows: assumed neutral "
            "(it is given no session, SSL or SSL_CTX), its result an unknown integer; declare its prototype to say "
            f"otherwise (README \"Functions without a body\")" for name, span in helpers)))
    used = {n.func for n in walk(script.items) if isinstance(n, Call)}
    used |= {n.id for n in walk(script.items) if isinstance(n, Name)}
    own = [f for f in script.items if isinstance(f, FuncDef) and f.body.stmts and f.name != "main"]
    unrun = [f.name for f in own if f.name not in used]
    if not unrun:
        return program
    names = ", ".join(f"`{n}`" for n in unrun)
    warning = f"warning: {names} {'is' if len(unrun) == 1 else 'are'} defined but never run: nothing here checks " + \
        ("it" if len(unrun) == 1 else "them") + " (call or register it, or check the C file itself)"
    return replace(program, notes=(*program.notes, warning))


def _repro(args: argparse.Namespace) -> int:
    with budget.limit(args.timeout):
        try:
            return _reproduce(args)
        except budget.BudgetExhausted:
            sys.stderr.write(f"{display_name(args.file)}: the time budget of {args.timeout:g} s ran out (--timeout): "
                             "no reproducer written\n")
            return EXIT_UNKNOWN


def _reproduce(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if args.file != STDIN and not os.path.lexists(path):
        raise UsageError(f"no such file: {path}")
    c_input = CInput(tuple(_define(d) for d in args.defines), tuple(args.undefines),
                     tuple(args.function) if args.function else None)
    program = _load(path, c_input)
    options = Options(unroll=args.unroll, allocation_failures=args.allocation_failures,
                      timeout_ms=int(args.timeout * 1000))
    choices = [c for item in args.path for c in item.split(",") if c.strip()]
    if choices:
        try:
            parsed = parse_path_choices(choices)
        except ValueError as exc:
            raise UsageError(f"--path {exc}") from None
        run = replay_path(program, parsed, options)
        title = "the path chosen with --path: " + ", ".join(choices)
        ending = _path_ending(run.backend) + _left_at_stop(program, run.backend)
    else:
        verdict = check(program, options)
        if verdict.verdict == "unknown":
            sys.stderr.write(f"{path}: the verdict is unknown ({verdict.reason}): no counterexample to replay\n")
            return EXIT_UNKNOWN
        if not verdict.counterexamples:
            run = replay_path(program, [], options)
            title = "the script is safe; this is the path where every `*` is false (choose another with --path)"
            ending = _path_ending(run.backend) + _left_at_stop(program, run.backend)
        else:
            index = _pick_finding(verdict.counterexamples, args.finding)
            cx = verdict.counterexamples[index]
            run = cx.replay
            total = len(verdict.counterexamples)
            title = f"counterexample {index + 1} of {total}: {cx.rule.name} ({cx.rule.id}) at line {cx.span.line}"
            ending = _expect(cx.rule, Path(program.file).name, cx.span.line) + _left_at_stop(program, run.backend)
    output = args.output or f"{'stdin' if args.file == STDIN else path.stem}-repro.c"
    c_name = "reproducer.c" if output == "-" else Path(output).name
    reproducer = repro.build(program, run, title, options.allocation_failures, c_file=c_name)
    if output == "-":
        sys.stdout.write(reproducer.source)
        return EXIT_SAFE
    try:
        Path(output).write_text(reproducer.source)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    binary = Path(output).with_suffix("")
    binary_text = str(binary) if binary.parent != Path(".") else f"./{binary}"
    print(f"wrote {output}: {title}")
    print(f"  build:  cc -g -O0 -o {binary} {output} -lssl -lcrypto")
    print(f"  run:    valgrind --leak-check=full {binary_text}")
    print(f"  expect: {ending}")
    return EXIT_SAFE


def _pick_finding(counterexamples: list, wanted: str | None) -> int:
    if not wanted:
        return 0
    if wanted.isdigit():
        n = int(wanted)
        if not 1 <= n <= len(counterexamples):
            raise UsageError(f"--finding {n}: the report has {len(counterexamples)} finding(s)")
        return n - 1
    rule = rule_named(wanted)
    if rule is None:
        raise UsageError(f"--finding {wanted}: not a finding number nor a rule (`sessref explain` lists them)")
    for i, cx in enumerate(counterexamples):
        if cx.rule == rule:
            return i
    raise UsageError(f"--finding {wanted}: the report has no {rule.name} finding")


def _expect(rule: Rule, file: str, line: int) -> str:
    """What the reproducer's run shows under valgrind: the rule's `valgrind` wording."""
    return rule.valgrind.format(file=file, line=line)


def _left_at_stop(program: Program, backend) -> str:
    """What else valgrind shows because the program stops at the crash: the objects not freed
    yet, which it reports as lost although the script frees them later."""
    stop = left_at_stop(program, backend)
    if stop is None:
        return ""
    line, alive = stop
    said = f". The program stops at line {line}, where the path ends (the rest of the script is not run)"
    if not alive:
        return said
    objects = ", ".join(f"`{name}` (allocated at line {at})" for name, at in alive)
    verb = "shows" if len(alive) == 1 else "show"
    return (f"{said}, so {objects}, not freed yet, {verb} as \"definitely lost\" (or \"indirectly lost\") "
            "too: that is where it stopped, not a second bug")


def _path_ending(backend) -> str:
    if backend.findings:
        f = backend.findings[-1]
        return _expect(f.rule, Path(backend.sites.by_id[f.site].span.file).name, backend.sites.by_id[f.site].span.line)
    return "no memory error and nothing definitely lost"


def _conform(args: argparse.Namespace) -> int:
    problem = memcheck.toolchain_problem()
    if problem:
        raise UsageError(problem)
    scripts = [(display_name(str(f)), _text_of(f)) for f in script_files(args.paths)] if args.paths else []
    if args.generated:
        from . import generate

        scripts += generate.generate_scripts(args.seed, args.generated)
    if not scripts:
        raise UsageError("nothing to check: give `.sess` files or directories, or --generated N")
    for name, source in scripts:
        try:
            conform.load(name, source)
        except SessrefError as err:
            sys.stdout.write(render_error(err))
            return EXIT_INPUT

    def progress(pc: conform.PathCheck) -> None:
        if not pc.agreed:
            print(f"DISAGREE {pc.script}: {pc.path} [{pc.row}]: {pc.reason}", flush=True)

    options = Options(unroll=args.unroll, allocation_failures=args.allocation_failures)
    results = conform.conform(scripts, options, args.max_paths, args.seed, args.jobs, progress)
    print(conform.agreement_table(results))
    disagreeing = [r for r in results if not r.agreed]
    if args.save:
        for r in disagreeing:
            try:
                print(f"saved {conform.save_disagreement(r, Path(args.save))}")
            except OSError as exc:
                raise UsageError(f"--save {args.save}: cannot write: {exc.strerror or exc}") from None
    return EXIT_SAFE if not disagreeing else EXIT_FINDINGS


def _text_of(path: Path) -> str:
    """A script's text for `conform` (errors as `check` gives them)."""
    try:
        return decode(read_bytes(str(path)), display_name(str(path)))
    except SessrefError as err:
        raise UsageError(f"{display_name(str(path))}: {err.message}") from None


def _error_json(path: str, err: SessrefError) -> dict:
    span = err.span
    return {
        "file": path,
        "kind": "internal" if isinstance(err, InternalError) else "input",
        "message": err.message,
        "line": span.line if span else None,
        "column": span.column if span else None,
    }


def _explain(args: argparse.Namespace) -> int:
    """Without a rule, the list of rules; with one (ID or name, any case), its page."""
    if not args.rule:
        sys.stdout.write(explain.rule_list())
        return EXIT_SAFE
    rule = rule_named(args.rule)
    if rule is None:
        guess = explain.did_you_mean(args.rule)
        hint = f" (did you mean `{guess}`?)" if guess else ""
        raise UsageError(f"unknown rule `{args.rule}`{hint}; `sessref explain` lists the rules")
    sys.stdout.write(explain.render_page(rule))
    return EXIT_SAFE


def entry() -> None:
    """The `sessref` command: `main`, then exit without tearing the interpreter down (a
    check's terms, BDDs and solver state can take seconds to free, after the budget)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _functions(args: argparse.Namespace) -> int:
    """The catalogue, or the entries named (exit 2 when a name matches nothing)."""
    from . import functions

    entries = functions.select(args.names, args.status)
    if args.names and not entries:
        from .language.catalogue import CATALOGUE
        from .language.resolve import _did_you_mean

        hint = _did_you_mean(args.names[0], CATALOGUE) if len(args.names) == 1 else None
        raise UsageError(f"no function in the catalogue matches {' '.join(args.names)}" + (f" ({hint})" if hint else ""))
    if args.format == "json":
        sys.stdout.write(functions.render_json(entries))
    else:
        detailed = bool(args.names) and len(entries) <= 20
        sys.stdout.write(functions.render_text(entries, detailed))
    return EXIT_SAFE


def main(argv: list[str] | None = None) -> int:
    try:
        args = _arguments().parse_args(argv)
        command = {"check": _check, "repro": _repro, "conform": _conform, "explain": _explain,
                   "functions": _functions}[args.command]
        code = command(args)
        sys.stdout.flush()  # a full disk or a closed pipe is seen here, not at exit
        return code
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\nusage: sessref check FILE... | repro FILE | conform PATH... | explain [RULE] | functions [NAME...]\n")
        return EXIT_INPUT
    except SessrefError as err:
        sys.stdout.write(render_error(err))
        return EXIT_INTERNAL if isinstance(err, InternalError) else EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`sessref check ... | head`)
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (no flush error at exit)
        except OSError:
            pass
        return 0
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            return _internal(exc)
        # The report could not be written (a full disk, a device error): not sessref's bug.
        _quiet_stdout()
        sys.stderr.write(f"error: cannot write the report: {exc.strerror or exc}\n")
        return EXIT_INPUT
    except Exception as exc:  # a bug in sessref: say so, without a traceback
        return _internal(exc)


_OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _quiet_stdout() -> None:
    """Drop what could not be written, so that the exit's flush does not fail again."""
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    except OSError:
        pass


def _internal(exc: BaseException) -> int:
    sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\nplease report this with the script that caused it\n")
    return EXIT_INTERNAL
