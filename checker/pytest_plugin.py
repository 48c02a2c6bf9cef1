"""A pytest plugin that runs `.sess` operation scripts as tests, one test per script.

Installed with sessref (the `pytest11` entry point `sessref`) but off until a project asks:
the ini option `sessref_paths` (globs or directories relative to the rootdir) collects the
scripts it names, `--sessref` collects every `*.sess` file pytest visits. A script passes
when its findings equal its `//~` annotations, or, without annotations, when it has no error
(its warnings are shown in pytest's warnings summary; `sessref_deny` makes them errors);
an `unknown` verdict and bad input fail.
"""

from __future__ import annotations

import glob
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

# The checker (z3, lark) is imported only when a script runs: pytest imports this plugin in
# every run wherever sessref is installed, and most runs check no script.


def check_file(path: Path, options, **keywords):  # type: ignore[no-untyped-def]
    from .cli import check_file as check

    return check(path, options, **keywords)


@dataclass(frozen=True)
class _Settings:
    unroll: int
    allocation_failures: bool
    timeout_ms: int
    deny: frozenset[str]  # `sessref_deny`: warnings that count as errors (rule names, `warnings`)
    collect_all: bool  # `--sessref`
    files: frozenset[Path]  # what `sessref_paths` names, resolved
    directories: tuple[Path, ...]


_SETTINGS = pytest.StashKey[_Settings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sessref", "sessref operation scripts")
    group.addoption(
        "--sessref",
        action="store_true",
        default=False,
        help="collect every `*.sess` file pytest visits as a sessref check",
    )
    group.addoption(
        "--sessref-unroll",
        type=int,
        default=None,
        metavar="N",
        help="iterations explored per `while` loop (overrides sessref_unroll)",
    )
    parser.addini(
        "sessref_paths",
        type="args",
        default=[],
        help="globs or directories, relative to the rootdir, whose `.sess` scripts are collected as sessref checks",
    )
    parser.addini("sessref_unroll", type="string", default="4", help="iterations explored per `while` loop (default 4)")
    parser.addini(
        "sessref_timeout", type="string", default="30", help="time limit per script, seconds (default 30): all the work, the fix search included"
    )
    parser.addini(
        "sessref_allocation_failures", type="bool", default=False, help="also explore allocations returning NULL"
    )
    parser.addini(
        "sessref_deny",
        type="args",
        default=[],
        help="warnings that fail a script as errors do: `warnings` for all, or warning rules (`stale-session`, SR005)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sessref: a `.sess` script checked by sessref")
    unroll = config.getoption("--sessref-unroll")
    if unroll is None:
        unroll = _number(config, "sessref_unroll", int)
    if unroll < 0:
        raise pytest.UsageError(f"sessref: the unroll bound must be 0 or more, not {unroll}")
    timeout = _number(config, "sessref_timeout", float)
    if not math.isfinite(timeout) or timeout <= 0:  # nan and inf as well: no int milliseconds
        raise pytest.UsageError(f"sessref: sessref_timeout must be a finite number of seconds above 0, not {timeout}")
    files, directories = _named_paths(config)
    config.stash[_SETTINGS] = _Settings(
        unroll,
        bool(config.getini("sessref_allocation_failures")),
        int(timeout * 1000),
        _deny(config.getini("sessref_deny")),
        bool(config.getoption("--sessref")),
        files,
        directories,
    )


def _named_paths(config: pytest.Config) -> tuple[frozenset[Path], tuple[Path, ...]]:
    """The files and directories `sessref_paths` names (globs, `**` included, from the rootdir)."""
    matches: set[Path] = set()
    for pattern in config.getini("sessref_paths"):
        found = glob.glob(pattern, root_dir=config.rootpath, recursive=True)
        if not found:
            config.issue_config_time_warning(
                pytest.PytestConfigWarning(f"sessref_paths: `{pattern}` matches nothing under {config.rootpath}"),
                stacklevel=2,
            )
        matches.update(_resolved(Path(config.rootpath) / m) for m in found)
    directories = tuple(sorted(m for m in matches if m.is_dir()))
    return frozenset(m for m in matches if not m.is_dir()), directories


def _resolved(path: Path) -> Path:
    """Links followed; a loop of links keeps its name (checking it reports the loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _deny(values: list[str]) -> frozenset[str]:
    if not values:
        return frozenset()
    from .cli import UsageError, deny_set

    try:
        return deny_set(values, "sessref_deny:")
    except UsageError as exc:
        raise pytest.UsageError(f"sessref: {exc}") from None


class SessrefWarning(UserWarning):
    """A warning-level finding of a script that passes (shown in pytest's warnings summary)."""


def _number(config: pytest.Config, name: str, kind: type[int] | type[float]) -> int | float:
    text = str(config.getini(name)).strip()
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise pytest.UsageError(f"sessref: ini option {name} must be {what}, not `{text}`") from None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> SessrefFile | None:
    if file_path.suffix != ".sess":
        return None
    settings = parent.config.stash.get(_SETTINGS, None)
    if settings is None or not (settings.collect_all or _selected(settings, file_path)):
        return None
    return SessrefFile.from_parent(parent, path=file_path)


def _selected(settings: _Settings, file_path: Path) -> bool:
    """Whether `sessref_paths` names the file: a glob matching it, or a directory above it."""
    if not (settings.files or settings.directories):
        return False
    path = _resolved(file_path)
    return path in settings.files or any(path.is_relative_to(d) for d in settings.directories)


class SessrefFile(pytest.File):
    """One `.sess` script; it holds a single check."""

    def collect(self):  # type: ignore[no-untyped-def]
        item = SessrefItem.from_parent(self, name="sessref")
        item.add_marker(pytest.mark.sessref)
        yield item


class SessrefFailure(Exception):
    """The script's check failed; the message is the whole explanation, shown as it is."""


class SessrefItem(pytest.Item):
    """Checks one script with the options of the run and holds it against its annotations."""

    def runtest(self) -> None:
        from .expectations_check import compare
        from .language.errors import SessrefError, render_error
        from .report_text import render
        from .solving import Options

        settings = self.config.stash[_SETTINGS]
        options = Options(settings.unroll, settings.allocation_failures, settings.timeout_ms)
        try:
            report = check_file(Path(_shown(self.path)), options, fixes=False, deny=settings.deny)
            comparison = compare(report)
            if not comparison.holds and report.findings:
                # with verified fixes, to show
                report = check_file(Path(_shown(self.path)), options, deny=settings.deny)
        except SessrefError as err:
            raise SessrefFailure(render_error(err)) from None
        except RecursionError:
            raise SessrefFailure(f"error: {_shown(self.path)}: the script is nested too deeply to check\n") from None
        if not comparison.holds:
            problems = "".join(f"sessref: {problem}\n" for problem in comparison.problems)
            raise SessrefFailure(problems + "\n" + render(report))  # the first line is pytest's short summary
        if not comparison.annotated:
            for f in report.warnings:
                warnings.warn(SessrefWarning(f"{f.span}: warning[{f.rule.name}]: {f.message}"), stacklevel=1)

    def repr_failure(self, excinfo, style=None):  # type: ignore[no-untyped-def, override]
        if isinstance(excinfo.value, SessrefFailure):
            return str(excinfo.value).rstrip("\n")
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"sessref:{_relative_to(self.path, Path(self.config.rootpath))}"


def _shown(path: Path) -> str:
    """The script's path as the report shows it: relative to the working directory when under it."""
    return _relative_to(path, Path.cwd())


def _relative_to(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
