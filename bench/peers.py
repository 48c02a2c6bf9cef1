"""sessref against its peers on the C corpus (tests/cfiles/): the Clang Static Analyzer
(`clang --analyze`) and cppcheck, run on the same files in the same run.

    python bench/peers.py            # the table (Markdown), about a minute
    python bench/peers.py --json     # the raw results

A tool *finds* a buggy file's bug when it reports a diagnostic on a line that the file's
`//~` annotations name (sessref: when its findings are exactly the annotated ones). A
diagnostic on a fixed file is a false alarm. Compiler errors and notes are not counted as
diagnostics (`-fsyntax-only` would fail on none of these files: the headers are installed).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "cfiles"
sys.path.insert(0, str(ROOT))


def expected_lines(path: Path) -> set[int]:
    from sessref.language.expectations import read_expectations

    return {line for line, _ in read_expectations(path.read_text()).findings}


def run_sessref(path: Path) -> tuple[set[int], bool, float]:
    from sessref.cli import check_file
    from sessref.expectations_check import compare
    from sessref.solving import Options

    started = time.perf_counter()
    report = check_file(path, Options(), fixes=False)
    seconds = time.perf_counter() - started
    lines = {f.span.line for f in report.findings}
    return lines, compare(report).holds, seconds


_CLANG = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):\d+: warning: (?P<msg>.*)$")
_CPPCHECK = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<severity>\w+):(?P<id>\w+):")


def run_clang(path: Path) -> tuple[set[int], list[str], float]:
    started = time.perf_counter()
    out = subprocess.run(
        ["clang", "--analyze", "-Xanalyzer", "-analyzer-output=text", "-Wno-implicit-function-declaration",
         "-Wno-everything", "-o", "/dev/null", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    seconds = time.perf_counter() - started
    lines, msgs = set(), []
    for raw in (out.stdout + out.stderr).splitlines():
        m = _CLANG.match(raw)
        if m and Path(m.group("file")).name == path.name:
            lines.add(int(m.group("line")))
            msgs.append(m.group("msg"))
    return lines, msgs, seconds


def run_cppcheck(path: Path) -> tuple[set[int], list[str], float]:
    started = time.perf_counter()
    out = subprocess.run(
        ["cppcheck", "--enable=warning,style,performance,portability", "--quiet",
         "--template={file}:{line}:{severity}:{id}:{message}", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    seconds = time.perf_counter() - started
    lines, msgs = set(), []
    for raw in (out.stdout + out.stderr).splitlines():
        m = _CPPCHECK.match(raw)
        # style notes about unused struct members are about the corpus's reductions, not bugs
        if m and m.group("id") not in ("unusedStructMember", "missingInclude", "missingIncludeSystem"):
            lines.add(int(m.group("line")))
            msgs.append(raw.split(":", 2)[2])
    return lines, msgs, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tools = {"sessref": True, "clang --analyze": bool(shutil.which("clang")), "cppcheck": bool(shutil.which("cppcheck"))}
    rows = []
    for kind in sorted({p.stem.rsplit("_", 1)[0] for p in CORPUS.glob("*.c")}):
        bug, fixed = CORPUS / f"{kind}_bug.c", CORPUS / f"{kind}_fixed.c"
        want = expected_lines(bug)
        row: dict = {"kind": kind}
        lines, holds, t1 = run_sessref(bug)
        flines, fholds, t2 = run_sessref(fixed)
        row["sessref"] = {"found": holds, "false_alarm": bool(flines), "seconds": (t1 + t2) / 2}
        for tool, run in (("clang --analyze", run_clang), ("cppcheck", run_cppcheck)):
            if not tools[tool]:
                continue
            lines, msgs, t1 = run(bug)
            flines, fmsgs, t2 = run(fixed)
            row[tool] = {"found": bool(lines & want), "false_alarm": bool(flines), "seconds": (t1 + t2) / 2,
                         "messages": msgs, "fixed_messages": fmsgs}
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    names = [t for t, ok in tools.items() if ok]
    print("| bug kind (tests/cfiles) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for row in rows:
        cells = []
        for t in names:
            r = row[t]
            cells.append(("found" if r["found"] else "missed") + (", false alarm on fixed" if r["false_alarm"] else ""))
        print(f"| {row['kind']} | " + " | ".join(cells) + " |")
    print("| **found / false alarms / s per file** | " + " | ".join(
        f"{sum(r[t]['found'] for r in rows)}/{len(rows)} / {sum(r[t]['false_alarm'] for r in rows)} / "
        f"{sum(r[t]['seconds'] for r in rows) / len(rows):.2f}" for t in names) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
