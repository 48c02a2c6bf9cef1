"""Issue 14's scaling targets: `sessref check` on the programs people write (reconnect and
accept loops, many handshake pairs, nested loops, the shared workloads, a long straight
line), each from process start to exit in a fresh process, with its peak memory, beside
the naive baseline (the concrete interpreter enumerating every path, `checker/paths.py`)
measured in the same run.

    python bench/scale.py                 # every case (several minutes)
    python bench/scale.py --quick         # handshake pairs up to 8 only
    python bench/scale.py --only pairs    # cases whose name contains a word

Time is wall time of `sessref check --no-fixes FILE [args]` (parsing, checking, the
report); peak memory is the process's maximum resident set (`wait4`'s ru_maxrss). The
workloads are also timed with the default command (verified fixes on: what a new user
runs). The naive baseline runs the same file at the same `--unroll` and is stopped after
NAIVE_LIMIT_S; it reports the paths it enumerated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import scripts  # noqa: E402

# `../shared/workloads/` beside the main checkout (a worktree sits one level deeper).
WORKLOADS = next((p / "shared" / "workloads" for p in ROOT.parents if (p / "shared" / "workloads").is_dir()),
                 ROOT.parent / "shared" / "workloads")
TARGETS = HERE / "targets"
CHECK_LIMIT_S = 120
NAIVE_LIMIT_S = 30

_NAIVE = """
import json, sys, time
from sessref.cli import _load
from sessref.paths import enumerate_paths
from sessref.solving import Options
from pathlib import Path
t = time.perf_counter()
program = _load(Path(sys.argv[1]))
found, paths = set(), 0
for p in enumerate_paths(program, Options(unroll=int(sys.argv[2]))):
    paths += 1; found |= p.findings
print(json.dumps({"seconds": time.perf_counter() - t, "paths": paths, "findings": len(found)}))
"""


def _wait(proc: subprocess.Popen, timeout: float) -> tuple[int | None, float, float]:
    """(exit status or None on timeout, seconds, peak RSS in MB) of a child process."""
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
            return None, time.perf_counter() - start, usage.ru_maxrss / 1024
        time.sleep(0.01)


def check(path: Path, args: list[str], fixes: bool = False) -> dict:
    """`sessref check` from process start to exit: its summary line, time and peak memory."""
    cmd = [sys.executable, "-m", "sessref", "check", str(path), *args] + ([] if fixes else ["--no-fixes"])
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, text=True)
        code, seconds, mb = _wait(proc, CHECK_LIMIT_S)
        out.seek(0)
        lines = [line for line in out.read().splitlines() if line.strip()]
    if code is None:
        return {"verdict": f"no answer in {CHECK_LIMIT_S} s", "seconds": None, "mb": mb}
    summary = lines[-1] if lines else f"exit {code}"
    verdict = summary.split(": ", 1)[1] if ": " in summary else summary
    return {"verdict": verdict, "seconds": seconds, "mb": mb, "exit": code}


def naive(path: Path, unroll: int) -> dict | None:
    proc = subprocess.Popen([sys.executable, "-c", _NAIVE, str(path), str(unroll)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    code, seconds, _ = _wait(proc, NAIVE_LIMIT_S)
    out = proc.stdout.read() if proc.stdout else ""
    if code is None or not out.strip():
        return None
    return json.loads(out)


def cases(quick: bool, tmp: Path) -> list[tuple[str, Path, list[str], bool]]:
    """(name, file, extra arguments, also time with verified fixes)."""
    out: list[tuple[str, Path, list[str], bool]] = []
    out.append(("reconnect loop (client keeps last session)", TARGETS / "reconnect_loop.sess", [], False))
    out.append(("reconnect loop, --unroll 16", TARGETS / "reconnect_loop.sess", ["--unroll", "16"], False))
    out.append(("accept loop, external store (new/get/remove cb)", TARGETS / "accept_loop_external_store.sess", [], False))
    for n in range(1, (8 if quick else 16) + 1):
        path = tmp / f"pairs{n}.sess"
        path.write_text(scripts.handshake_pairs(n))
        out.append((f"handshake pairs, N={n} (shared server cache + cbs)", path, [], False))
    out.append(("six nested while (*) around up_ref/free", TARGETS / "nested_while_6.sess", [], False))
    out.append(("for i<9999 { for j<9999 { ; } }", TARGETS / "for_9999_squared.sess", [], False))
    for name in ("correlated-30-bug", "ssl-mix-40-bug", "correlated-30", "ssl-mix-40", "diamonds-60"):
        out.append((f"workload {name}", WORKLOADS / f"{name}.sess", [], True))
    path = tmp / "straight10000.sess"
    path.write_text(scripts.straight_line(10_000))
    out.append(("straight line, 10,000 calls", path, [], False))
    return out


def _unroll(args: list[str]) -> int:
    return int(args[args.index("--unroll") + 1]) if "--unroll" in args else 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="handshake pairs up to N=8")
    parser.add_argument("--only", help="only the cases whose name contains this text")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    opts = parser.parse_args()
    rows = []
    gave_up = False  # handshake pairs: once N gets no answer, larger N are not run
    with tempfile.TemporaryDirectory() as tmpdir:
        for name, path, args, fixes in cases(opts.quick, Path(tmpdir)):
            if opts.only and opts.only not in name:
                continue
            if gave_up and name.startswith("handshake pairs"):
                rows.append((name, {"verdict": "not run (a smaller N got no answer)", "seconds": None, "mb": 0}, None, None))
                continue
            result = check(path, args)
            no_answer = result["seconds"] is None or str(result["verdict"]).startswith("unknown")
            gave_up = gave_up or (no_answer and name.startswith("handshake pairs"))
            with_fixes = check(path, args, fixes=True) if fixes else None
            base = None if opts.no_naive else naive(path, _unroll(args))
            rows.append((name, result, with_fixes, base))
            shown = "-" if result["seconds"] is None else f"{result['seconds']:.2f} s"
            print(f"... {name}: {shown}, {result['verdict']}", file=sys.stderr, flush=True)
    print(f"{'case':<50} {'sessref s':>9} {'peak MB':>7} {'naive s':>8} {'paths':>8}  verdict")
    for name, result, with_fixes, base in rows:
        secs = f">{CHECK_LIMIT_S}" if result["seconds"] is None else f"{result['seconds']:.2f}"
        if base is None:
            naive_s, paths = f">{NAIVE_LIMIT_S}", "-"
        else:
            naive_s, paths = f"{base['seconds']:.2f}", str(base["paths"])
        print(f"{name:<50} {secs:>9} {result['mb']:>7.0f} {naive_s:>8} {paths:>8}  {result['verdict']}")
        if with_fixes is not None:
            secs = f">{CHECK_LIMIT_S}" if with_fixes["seconds"] is None else f"{with_fixes['seconds']:.2f}"
            print(f"{'  the same, with verified fixes (the default)':<50} {secs:>9} {with_fixes['mb']:>7.0f}")


if __name__ == "__main__":
    main()
