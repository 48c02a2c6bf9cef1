"""Path-by-path enumeration with the concrete interpreter: the naive baseline.

Every boolean choice (`if (*)`, a call's outcome) is tried both ways, depth first; integer
inputs keep their default values. Exponential by nature: used by the tests to hold the
encoding to the interpreter, and by the benchmark as the baseline to beat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .concrete import ConcreteBackend, Oracle
from .execute import Executor
from .language import ast
from .solving import Options


@dataclass(frozen=True)
class PathResult:
    answers: dict
    findings: frozenset  # (rule name, span start, span end)
    assumption_failed: bool


def enumerate_paths(program: ast.Program, options: Options = Options(), limit: int | None = None) -> Iterator[PathResult]:
    stack: list[dict] = [{}]
    seen = 0
    while stack:
        prefix = stack.pop()
        backend = ConcreteBackend(Oracle(prefix), options.allocation_failures)
        Executor(program, backend, options.unroll, options.allocation_failures).run()
        found = frozenset(
            (f.rule.name, backend.sites.by_id[f.site].span.start, backend.sites.by_id[f.site].span.end)
            for f in backend.findings
        )
        yield PathResult(prefix, found, backend.assumption_failed)
        seen += 1
        if limit is not None and seen >= limit:
            return
        answered = dict(prefix)
        for label, value in backend.oracle.asked:
            if isinstance(value, bool) and label not in prefix:
                stack.append({**answered, label: not value})
            answered[label] = value


def all_findings(program: ast.Program, options: Options = Options(), limit: int | None = None) -> tuple[set, bool]:
    """Every (rule, span) some path reports, and whether all paths were seen (not cut by `limit`)."""
    result: set = set()
    count = 0
    for path in enumerate_paths(program, options, None if limit is None else limit + 1):
        count += 1
        if limit is not None and count > limit:
            return result, False
        result |= path.findings
    return result, True
