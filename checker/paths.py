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
from .solving import Options, Replay


@dataclass(frozen=True)
class PathResult:
    answers: dict
    findings: frozenset  # (rule name, span start, span end)
    assumption_failed: bool
    bounded: bool = False  # cut where a loop wanted more iterations than explored
    # How long the path is up to the first occurrence of each finding: (iterations, steps).
    lengths: tuple = ()


def enumerate_paths(
    program: ast.Program, options: Options = Options(), limit: int | None = None, base: dict | None = None
) -> Iterator[PathResult]:
    """Every path, depth first; `base` fixes some choices (integer inputs other than their
    defaults, say), which are never flipped."""
    stack: list[dict] = [dict(base or {})]
    seen = 0
    while stack:
        prefix = stack.pop()
        backend = ConcreteBackend(Oracle(prefix), options.allocation_failures)
        Executor(program, backend, options.unroll, options.allocation_failures).run()
        lengths: dict[tuple, tuple[int, int]] = {}
        for f in backend.findings:
            span = backend.sites.by_id[f.site].span
            lengths.setdefault((f.rule.name, span.start, span.end), backend.path_length(f))
        found = frozenset(lengths)
        yield PathResult(prefix, found, backend.assumption_failed, backend.bounded, tuple(lengths.items()))
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
    shortest, complete = shortest_paths(program, options, limit)
    return set(shortest), complete


def shortest_paths(
    program: ast.Program, options: Options = Options(), limit: int | None = None, base: dict | None = None
) -> tuple[dict, bool]:
    """For every (rule, span) some path reports, the shortest path to it as (iterations,
    steps); and whether all paths were seen (not cut by `limit`). `base` as for `enumerate_paths`."""
    result: dict = {}
    count = 0
    for path in enumerate_paths(program, options, None if limit is None else limit + 1, base):
        count += 1
        if limit is not None and count > limit:
            return result, False
        for key, length in path.lengths:
            result[key] = min(result.get(key, length), length)
    return result, True


_TRUE = {"1": True, "true": True, "then": True, "yes": True, "0": False, "false": False, "else": False, "no": False}


def parse_path_choices(items: list[str]) -> list[tuple[str, object]]:
    """`LINE=true|false` (a `*` at LINE), `NAME=N` (an input), `start=N` (the clock): in order.
    Raises ValueError with a message for anything else."""
    out: list[tuple[str, object]] = []
    for item in items:
        key, sep, value = item.strip().partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"`{item}`: expected LINE=true|false, NAME=N or start=N")
        if key.isdigit():
            if value.lower() not in _TRUE:
                raise ValueError(f"`{item}`: a `*` is true or false")
            out.append((key, _TRUE[value.lower()]))
        else:
            try:
                out.append((key, int(value, 0)))
            except ValueError:
                raise ValueError(f"`{item}`: {key} takes a whole number") from None
    return out


class ChosenPath(Oracle):
    """Answers each `*` at a line from that line's choices in order (then false), inputs by
    name, the clock by `start`; library choices keep their defaults."""

    def __init__(self, choices: list[tuple[str, object]]):
        super().__init__()
        self.queues: dict[int, list[bool]] = {}
        self.values: dict[str, int] = {}
        for key, value in choices:
            if key.isdigit():
                self.queues.setdefault(int(key), []).append(bool(value))
            else:
                self.values[key] = int(value)  # type: ignore[arg-type]

    def boolean(self, label: str) -> bool:
        what, _, where = label.partition("@")
        line = int(where.split(":", 1)[0]) if where[:1].isdigit() else -1
        queue = self.queues.get(line) if what == "*" else None
        value = queue.pop(0) if queue else False
        self.asked.append((label, value))
        return value

    def integer(self, label: str, lo: int | None, hi: int | None) -> int:
        what = label.partition("@")[0]
        key = "start" if what == "start time" else what.strip("`")
        if key in self.values:
            self.asked.append((label, self.values[key]))
            return self.values[key]
        return super().integer(label, lo, hi)


def replay_path(program: ast.Program, choices: list[tuple[str, object]], options: Options = Options()) -> Replay:
    """Run the concrete interpreter along the path `choices` describe (see `ChosenPath`)."""
    backend = ConcreteBackend(ChosenPath(choices), options.allocation_failures)
    executor = Executor(program, backend, options.unroll, options.allocation_failures)
    executor.run()
    return Replay(backend, executor)
