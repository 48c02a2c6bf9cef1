"""What shortest counterexamples cost and give: every spec with findings is checked twice in
this run, with the solver's first answer (the baseline) and with the minimised one, and the
table compares the paths' lengths (loop iterations, steps up to the finding) and the time.

    python bench/shortest.py [DIR...]          # default: specs/
    python bench/shortest.py --generated 200   # the conformance generator's scripts, seed 0
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sessref.cli import MODELLED
from sessref.generate import generate_scripts
from sessref.language.parser import parse
from sessref.language.resolve import resolve
from sessref.solving import Options, check

ROOT = Path(__file__).resolve().parent.parent


def measure(name: str, source: str, shortest: bool) -> tuple[float, int, int, int]:
    """(seconds, findings, loop iterations, steps) of one check."""
    program = parse(source, name)
    resolve(program, MODELLED)
    start = time.perf_counter()
    verdict = check(program, Options(shortest=shortest))
    seconds = time.perf_counter() - start
    lengths = [cx.replay.backend.path_length(cx.finding) for cx in verdict.counterexamples]
    return seconds, len(lengths), sum(i for i, _ in lengths), sum(s for _, s in lengths)


def main() -> None:
    if sys.argv[1:2] == ["--generated"]:
        scripts = generate_scripts(0, int(sys.argv[2]))
    else:
        folders = [Path(a) for a in sys.argv[1:]] or [ROOT / "specs"]
        files = sorted(f for d in folders for f in (d.rglob("*.sess") if d.is_dir() else [d]))
        scripts = [(str(f), f.read_text()) for f in files]
    rows = {"first answer": [0.0, 0, 0, 0], "shortest": [0.0, 0, 0, 0]}
    longer = 0
    for name, source in scripts:
        first = measure(name, source, shortest=False)
        best = measure(name, source, shortest=True)
        if not first[1]:
            continue
        for name, result in (("first answer", first), ("shortest", best)):
            rows[name] = [a + b for a, b in zip(rows[name], result)]
        longer += (first[2], first[3]) != (best[2], best[3])
    print(f"{'counterexamples':<16}{'findings':>10}{'iterations':>12}{'steps':>8}{'check time':>12}")
    for name, (seconds, findings, iterations, steps) in rows.items():
        print(f"{name:<16}{findings:>10}{iterations:>12}{steps:>8}{seconds:>11.1f}s")
    base, best = rows["first answer"], rows["shortest"]
    print(f"scripts whose first answer was longer: {longer}")
    print(f"steps: {best[3] / base[3]:.2f}x, iterations: {best[2] / max(base[2], 1):.2f}x, time: {best[0] / base[0]:.2f}x")


if __name__ == "__main__":
    main()
