"""The text report, in the style of rustc's diagnostics."""

from __future__ import annotations

import re

from .findings import FileReport, Label, PathStep, ReportedFinding, path_text
from .fixes import Fix

WIDTH = 34  # call column of the step table


def render(report: FileReport, summary: bool = True) -> str:
    out: list[str] = []
    lines = report.source.split("\n")
    shown: dict[str, str] = {}  # each fix's diff: the finding that showed it first
    others = {file: text.split("\n") for file, text in report.sources}
    for index, finding in enumerate(report.findings):
        out.append(_finding(finding, lines, shown, others, _path_table(report.findings, index)))
    if report.verdict == "unknown":
        out.append(f"warning: could not decide `{report.file}`: {report.reason}\n")
    if report.vacuous:
        out.append(
            f"warning: no path reaches the end of `{report.file}`: every path stops at an `assume` "
            "that cannot hold or at a crash, so only what happens before that was checked\n"
        )
    if report.findings:
        out += naming_notes("\n".join(out))
        out += _explain_pointers(report.findings)
        out.append("")
    if report.notes:
        out += [n if n.startswith("warning: ") else f"note: {n}" for n in report.notes] + [""]
    if report.fixes_skipped:
        out += [fixes_skipped_note(report.fixes_skipped), ""]
    if summary:
        out.append(summary_line(report))
    text = "\n".join(out).rstrip("\n")
    return text + "\n" if text else ""


def fixes_skipped_note(n: int) -> str:
    return (f"note: the fix search ran out of time: {n} finding(s) were not searched to the end and show no "
            "verified fix (a larger --timeout searches longer; --no-fixes skips the search)")


def summary_line(report: FileReport) -> str:
    if report.verdict == "safe":
        bound = f" ({loop_summary(report)})" if report.bounded or report.closed_after else ""
        vacuous = " (vacuous: no path reaches the end)" if report.vacuous else ""
        return f"{report.file}: safe{warning_summary(report)}{bound}{vacuous}"
    if report.verdict == "unknown":
        return f"{report.file}: unknown ({report.reason})"
    return f"{report.file}: {unsafe_summary(report)}"


def loop_summary(report: FileReport) -> str:
    """`bounded: loops explored up to 4 iterations; the loop at line 7: ...` or, when every
    loop that could run on closed, `all iterations: the loop's states repeat after 2`."""
    if report.bounded:
        why = "".join(f"; {w}" for w in report.bounded_why)
        return f"bounded: loops explored up to {report.unroll} iterations{why}"
    if report.closed_loops > 1:
        return f"all iterations: the loops' states repeat after at most {report.closed_after}"
    return f"all iterations: the loop's states repeat after {report.closed_after}"


def warning_summary(report: FileReport) -> str:
    """`, 1 warning (stale-session)` for a safe report with warnings, else nothing."""
    if not report.warnings:
        return ""
    n = len(report.warnings)
    names = ", ".join(sorted({f.rule.name for f in report.warnings}))
    return f", {n} warning{'s' if n > 1 else ''} ({names})"


def unsafe_summary(report: FileReport) -> str:
    """`unsafe: 3 finding(s): 1 borrowed-free, 2 double-free`."""
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.rule.name] = counts.get(f.rule.name, 0) + 1
    detail = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    return f"unsafe: {len(report.findings)} finding(s): {detail}"


# How reports name objects and holders, said once per report for the forms it uses.
_NAMING = (
    (re.compile(r"`?\b([A-Za-z_]\w*)#(\d+)\b"),
     lambda m: f"`{m[1]}#{m[2]}` is the {_ordinal(int(m[2]))} object the variable `{m[1]}` held (`{m[1]}` is the first)"),
    (re.compile(r"\b(session|ssl|ctx)@(\d+)\b"),
     lambda m: f"`{m[0]}` is an object no variable of the script held, named by the line that allocated it"),
    (re.compile(r"script x(\d+)\(([^)]*)\)"),
     lambda m: f"`{m[0]}`: the script owns {m[1]} references to the object, through the variable(s) in parentheses"),
    (re.compile(r"script\(no variable\)"),
     lambda m: "`script(no variable)`: the script owns a reference that no variable points at any more, "
     "so nothing can release it"),
    (re.compile(r"\b([A-Za-z_]\w*(?:#\d+)?)\(x2\)"),
     lambda m: f"`{m[0]}`: the `SSL` `{m[1]}` holds two references to its context"),
)


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


def naming_notes(text: str) -> list[str]:
    """One note explaining the names the report's text uses (`ssl#2`, `script x2(saved)`,
    `script(no variable)`...), each form once, or nothing when it uses none of them."""
    said: list[str] = []
    for pattern, explain in _NAMING:
        match = pattern.search(text)
        if match:
            said.append(explain(match))
    if not said:
        return []
    return ["note: names in this report: " + "; ".join(said) + " (the README's \"Reading a report\" says more)"]


def _explain_pointers(findings: tuple[ReportedFinding, ...]) -> list[str]:
    """One line per rule reported, pointing at its `sessref explain` page."""
    counts: dict[tuple[str, str], int] = {}
    for f in findings:
        counts[(f.rule.name, f.rule.id)] = counts.get((f.rule.name, f.rule.id), 0) + 1
    out = []
    for (name, rid), n in sorted(counts.items()):
        if len(counts) == 1:
            what = "this finding" if n == 1 else "these findings"
        else:
            what = f"the {name} finding" + ("s" if n > 1 else "")
        out.append(f"For more information about {what}, try `sessref explain {name}` ({rid}).")
    return out


def _path_table(findings: tuple[ReportedFinding, ...], index: int) -> str:
    """The step table a finding shows: its own; the one of the findings on its path (the
    longest path's finding shows it once for all of them); or where that table is."""
    f = findings[index]
    step = lambda g: f"step {g.steps[-1].number}" if g.steps else "its end"  # noqa: E731
    if f.table_of is not None:
        owner = findings[f.table_of]
        where = "above" if f.table_of < index else "below"
        return (f"counterexample: on the path of the {owner.rule.name} at line {owner.span.line}, whose step table "
                f"{where} shows this finding at {step(f)} (`--full-trace` prints the table here too)\n")
    if f.table is None:
        return _table(f.steps, f.hidden_steps)
    on_path = [g for g in findings if g is f or (g.table_of is not None and findings[g.table_of] is f)]
    at: dict[str, list[str]] = {}
    for g in on_path:
        at.setdefault(step(g), []).append(f"the {g.rule.name} at line {g.span.line}")
    which = "; ".join(f"{s}: {' and '.join(names)}" for s, names in at.items())
    return _table(f.table, f.table_hidden, f"for {len(on_path)} findings on one path ({which})")


def _finding(f: ReportedFinding, lines: list[str], shown: dict[str, str] | None = None,
             others: dict[str, list[str]] | None = None, table: str | None = None) -> str:
    script_lines = lines
    level = f.level
    fix_lines = [row.line for row in f.fix.rows] if f.fix is not None else []
    gutter = len(str(max([label.span.line for label in f.labels] + fix_lines)))
    pad = " " * gutter
    out = [f"{level}[{f.rule.name}]: {f.message}", f"{pad}--> {f.span}", f"{pad} |"]
    previous = None
    current_file = f.span.file
    for label in f.labels:
        line = label.span.line
        lines = (others or {}).get(label.span.file, script_lines)
        if others and label.span.file != current_file:
            out.append(f"{pad}::: {label.span.file}")  # the labels below are in another file (rustc's `:::`)
            current_file, previous = label.span.file, None
        if previous is not None and line > previous + 1:
            out.append(f"{pad}...")
        if line != previous:
            text = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
            out.append(f"{str(line).rjust(gutter)} | {text}")
        out.append(f"{pad} | {_underline(label, lines)}")
        previous = line
    out.append(f"{pad} |")
    for note in f.notes:
        out.append(f"{pad} = note: {note}")
    if f.denied:
        out.append(f"{pad} = note: a warning, made an error by `--deny` (`--deny warnings` or `--deny {f.rule.name}`)")
    if f.help:
        out.append(f"{pad} = help: {f.help}")
    if f.fix is not None:
        shown = {} if shown is None else shown
        out += _fix(f.fix, gutter, shown.get(f.fix.diff))
        shown.setdefault(f.fix.diff, f"the {f.rule.name} at line {f.span.line}")
    if f.choices:
        out.append(f"{pad} = path: {path_text(f)}")
    out.append("")
    out.append((_table(f.steps, f.hidden_steps) if table is None else table).rstrip("\n"))
    return "\n".join(out) + "\n"


def _fix(fix: Fix, gutter: int, shown_for: str | None) -> list[str]:
    """A verified fix as a diff of the edited lines, with a couple of lines of context
    (rustc's suggestion diffs); only named when an earlier finding showed the same edit."""
    pad = " " * gutter
    if shown_for is not None:
        return [f"{pad} = help: verified fix: {fix.description} (the edit shown above for {shown_for}; {fix.verification})"]
    out = [f"{pad} = help: verified fix: {fix.description}", f"{pad} |"]
    for row in fix.rows:
        if row.mark == "...":
            out.append(f"{pad}...")
        else:
            out.append(f"{str(row.line).rjust(gutter)} {'|' if row.mark == ' ' else row.mark} {row.text}".rstrip())
    out += [f"{pad} |", f"{pad} = note: the fix is verified: {fix.verification}"]
    return out


def _underline(label: Label, lines: list[str]) -> str:
    span = label.span
    raw = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    end = span.end_column if span.end_line == span.line else len(raw) + 1
    width = max(end - span.column, 1)
    mark = ("^" if label.primary else "-") * width
    return " " * (span.column - 1) + mark + " " + label.text


def _table(steps: tuple[PathStep, ...], hidden: int, which: str = "") -> str:
    """Every object's count and holders after each step of the counterexample."""
    if not steps:
        return ""
    names = [o.name for o in steps[-1].objects]
    header = ["step", "line", "call", *names]
    rows = [header]
    for step in steps:
        call = step.call if len(step.call) <= WIDTH else step.call[: WIDTH - 3] + "..."
        cells = {o.name: _cell(o) for o in step.objects}
        rows.append([str(step.number), str(step.span.line), call, *(cells.get(n, "-") for n in names)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    if which:
        out = [f"counterexample, step by step, {which}; each object's count after the step = its holders:"]
    else:
        out = ["counterexample, step by step (each object's count after the step = its holders):"]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if hidden:
        out.append(f"  ({hidden} step(s) that touch none of these objects are not shown: `--full-trace` shows them)")
    return "\n".join(out) + "\n"


def _cell(o) -> str:
    if o.status == "-":
        return "-"
    if o.status == "destroyed":
        return "destroyed"
    return f"{o.count}" + (f" = {' + '.join(o.holders)}" if o.holders else "")
