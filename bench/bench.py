"""sessref benchmark: wall time and peak memory of `check` on generated scripts, against the
naive baseline (the concrete interpreter enumerating paths one by one) measured in the same
run. Each measurement runs in a fresh process, so peak memory is that case's alone.

    python bench/bench.py            # the full table (a few minutes)
    python bench/bench.py --quick    # smaller sizes
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
sys.path.insert(0, str(HERE))
import scripts  # noqa: E402

NAIVE_LIMIT_S = 60

_CHECK = """
import json, sys, time
from sessref.language.parser import parse_file
from sessref.language.resolve import resolve
from sessref.cli import MODELLED
from sessref.solving import Options, check
t = time.perf_counter()
program = parse_file(sys.argv[1]); resolve(program, MODELLED)
v = check(program, Options(unroll=int(sys.argv[2])))
print(json.dumps({"seconds": time.perf_counter() - t, "verdict": v.verdict, "findings": len(v.counterexamples)}))
"""

_NAIVE = """
import json, sys, time
from sessref.language.parser import parse_file
from sessref.paths import enumerate_paths
from sessref.solving import Options
t = time.perf_counter()
program = parse_file(sys.argv[1])
found, paths = set(), 0
for p in enumerate_paths(program, Options(unroll=int(sys.argv[2]))):
    paths += 1; found |= p.findings
print(json.dumps({"seconds": time.perf_counter() - t, "paths": paths, "findings": len(found)}))
"""


def _run(code: str, path: str, unroll: int, timeout: float) -> tuple[dict | None, float]:
    """Run `code` in a fresh interpreter; its JSON result and peak RSS in MB (None on timeout)."""
    proc = subprocess.Popen([sys.executable, "-c", code, path, str(unroll)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            out = proc.stdout.read() if proc.stdout else ""
            return (json.loads(out) if out.strip() else None), usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None, 0.0
        time.sleep(0.02)


def _end_to_end(path: str) -> float:
    """Process start to exit of `sessref check` on one file."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sessref", "check", path], capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cases: list[tuple[str, str, int]] = []
    sizes = (100, 1000) if args.quick else (100, 1_000, 10_000)
    for n in sizes:
        cases.append((f"(a) straight line, {n} calls, 100 sessions", scripts.straight_line(n), 4))
    for k in (10, 20) if args.quick else (10, 20, 40, 60):
        cases.append((f"(b) {k} independent if (*), safe (2^{k} paths)", scripts.branches(k), 4))
        cases.append((f"(b) {k} independent if (*), one double free", scripts.branches(k, bug=True), 4))
    for u in (4, 8) if args.quick else (4, 8, 16):
        cases.append((f"(c) while (*) loop, --unroll {u}", scripts.loop(), u))

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, source, unroll in cases:
            path = os.path.join(tmp, "case.sess")
            Path(path).write_text(source)
            result, mem = _run(_CHECK, path, unroll, 600)
            naive, _ = _run(_NAIVE, path, unroll, NAIVE_LIMIT_S)
            rows.append((name, result, mem, naive))
            print(f"... {name}: {result and round(result['seconds'], 2)} s", file=sys.stderr, flush=True)
        teaching = str(HERE.parent / "specs" / "examples" / "saved_session_loop.sess")
        e2e = min(_end_to_end(teaching) for _ in range(3))

    print(f"{'case':<50} {'verdict':<8} {'sessref s':>9} {'peak MB':>8} {'naive s':>9} {'paths':>9} {'ratio':>7}")
    for name, result, mem, naive in rows:
        if result is None:
            print(f"{name:<50} {'timeout':<8}")
            continue
        verdict = result["verdict"]
        if naive is None:
            naive_s, paths, ratio = f">{NAIVE_LIMIT_S}", "-", f">{NAIVE_LIMIT_S / result['seconds']:.0f}x"
        else:
            naive_s, paths = f"{naive['seconds']:.2f}", str(naive["paths"])
            ratio = f"{naive['seconds'] / result['seconds']:.1f}x"
        print(f"{name:<50} {verdict:<8} {result['seconds']:>9.2f} {mem:>8.0f} {naive_s:>9} {paths:>9} {ratio:>7}")
    print(f"\nend to end (process start to exit), specs/examples/saved_session_loop.sess: {e2e:.2f} s (best of 3)")


if __name__ == "__main__":
    main()
