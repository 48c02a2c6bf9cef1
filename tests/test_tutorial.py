"""The tutorial track in specs/tutorial/: numbered buggy exercises, each with a task header,
and a fixed solution of the same name that verifies and keeps the exercise's intent.

Header format (the leading `//` comment block): a field starts with `// Name: text`, and
lines starting with `//   ` continue it. Exercises have Exercise, Task, Hint, Read, Keeps
and Rule; solutions open with `//~ safe`, then Solution and Fix.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from pathlib import Path

import pytest
from sessref.cli import main
from sessref.findings import FileReport
from sessref.language.ast import Call
from sessref.language.parser import parse_file
from sessref.model.rules import rule_named

import support

ROOT = support.ROOT
TRACK = ROOT / "specs" / "tutorial"
SOLUTIONS = TRACK / "solutions"
EXERCISES = support.find_specs("tutorial")
EXERCISES = [path for path in EXERCISES if path.parent == TRACK]
# The exercises whose check, or their solution's, is slow run only in the full suite.
EXERCISE_PARAMS = [
    pytest.param(path, id=path.stem, marks=[pytest.mark.slow] if {support.relative(path), support.relative(SOLUTIONS / path.name)}
                 & support.SLOW_SPECS else [])
    for path in EXERCISES
]
EXERCISE_NAME = re.compile(r"(\d\d)_[a-z0-9_]+\.sess")
EXERCISE_FIELDS = ("Exercise", "Task", "Hint", "Read", "Keeps", "Rule")
SOLUTION_FIELDS = ("Solution", "Fix")
FIELD = re.compile(r"// (?P<name>[A-Z][a-z]+)(?: (?P<number>\d\d))?: (?P<text>.*)")  # `// Exercise 03: title` too
CONTINUATION = re.compile(r"//   (\S.*)")


def _header(path: Path) -> dict[str, str]:
    """The fields of a script's leading comment block, continuation lines joined."""
    fields: dict[str, str] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("//~"):
            continue
        if not line.startswith("//"):
            break
        if m := FIELD.fullmatch(line):
            current = m["name"]
            assert current not in fields, f"{path.name}: field `{current}` given twice"
            fields[current] = (f"{m['number']}: " if m["number"] else "") + m["text"].strip()
        elif (m := CONTINUATION.fullmatch(line)) and current is not None:
            fields[current] += " " + m.group(1).strip()
        else:
            pytest.fail(f"{path.name}: header line is neither `// Field: text` nor a `//   ` continuation: {line!r}")
    return fields


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _calls(path: Path) -> set[str]:
    """Every function the script calls, in its body and in its functions."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Call):
            found.add(node.func)
        if dataclasses.is_dataclass(node):
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name))
        elif isinstance(node, (tuple, list)):
            for item in node:
                walk(item)

    walk(parse_file(path).items)
    return found


@cache
def _report(path: Path) -> FileReport:
    return support.checked(support.relative(path)).report  # checked once for all the tests over the specs


def _number(path: Path) -> int:
    m = EXERCISE_NAME.fullmatch(path.name)
    assert m, f"{path.name}: an exercise is named NN_topic.sess"
    return int(m.group(1))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_track_is_numbered_without_gaps() -> None:
    numbers = [_number(path) for path in EXERCISES]
    assert len(numbers) >= 12, f"the track has {len(numbers)} exercises, fewer than 12"
    assert numbers == list(range(1, len(numbers) + 1)), f"exercise numbers {numbers} are not 1..{len(numbers)}"


def test_every_solution_has_its_exercise() -> None:
    exercises = {path.name for path in EXERCISES}
    orphans = sorted(path.name for path in SOLUTIONS.glob("*.sess") if path.name not in exercises)
    assert not orphans, f"solutions without an exercise: {orphans}"


@pytest.mark.parametrize("exercise", EXERCISE_PARAMS)
def test_exercise_states_its_task(exercise: Path) -> None:
    header = _header(exercise)
    missing = [name for name in EXERCISE_FIELDS if not header.get(name)]
    assert not missing, f"{exercise.name}: header lacks {missing}"
    assert header["Exercise"].startswith(f"{exercise.name[:2]}: "), (
        f"{exercise.name}: `// Exercise NN: title` with its own number"
    )
    assert re.search(r"\w\(3\)", header["Read"]), (
        f"{exercise.name}: `// Read:` names a manual page, as SSL_set_session(3)"
    )
    for rule in _listed(header["Rule"]):
        assert rule_named(rule) is not None, f"{exercise.name}: unknown rule `{rule}` in `// Rule:`"


@pytest.mark.parametrize("exercise", EXERCISE_PARAMS)
def test_exercise_is_unsafe_and_reports_its_rules(exercise: Path) -> None:
    report = _report(exercise)
    taught = {rule_named(rule).name for rule in _listed(_header(exercise)["Rule"])}
    # An exercise about a warning (stale-session) is safe with that warning: it prints and exits 0.
    warning_only = all(rule_named(rule).severity == "warning" for rule in taught)
    assert report.findings, f"{exercise.name} has no finding, but an exercise has a bug to find"
    assert report.verdict == "unsafe" or warning_only and report.verdict == "safe", f"{exercise.name} is {report.verdict}"
    reported = {finding.rule.name for finding in report.findings}
    assert taught <= reported, (
        f"{exercise.name} teaches {sorted(taught - reported)}, which the checker does not report on it"
    )


@pytest.mark.parametrize("exercise", EXERCISE_PARAMS)
def test_solution_verifies_and_explains_the_fix(exercise: Path) -> None:
    solution = SOLUTIONS / exercise.name
    assert solution.exists(), f"{exercise.name} has no solution at {solution.relative_to(ROOT)}"
    assert solution.read_text().startswith("//~ safe\n"), f"{solution.name}: a solution opens with `//~ safe`"
    header = _header(solution)
    missing = [name for name in SOLUTION_FIELDS if not header.get(name)]
    assert not missing, f"solutions/{solution.name}: header lacks {missing}"
    assert header["Solution"] == _header(exercise)["Exercise"], (
        f"solutions/{solution.name}: `// Solution` repeats the exercise's title"
    )
    report = _report(solution)
    assert report.verdict == "safe" and not report.findings, (
        f"solutions/{solution.name} is {report.verdict}: {report.reason or report.findings}"
    )


@pytest.mark.parametrize("exercise", EXERCISE_PARAMS)
def test_solution_keeps_the_exercise_intent(exercise: Path) -> None:
    kept = _listed(_header(exercise)["Keeps"])
    assert kept, f"{exercise.name}: `// Keeps:` names the calls that carry the exercise's intent"
    in_exercise, in_solution = _calls(exercise), _calls(SOLUTIONS / exercise.name)
    assert set(kept) <= in_exercise, (
        f"{exercise.name}: `// Keeps:` names calls it does not make: {sorted(set(kept) - in_exercise)}"
    )
    dropped = sorted(set(kept) - in_solution)
    assert not dropped, f"solutions/{exercise.name} no longer calls {dropped}: the fix must keep the exercise's intent"


@pytest.mark.parametrize("exercise", EXERCISE_PARAMS)
def test_students_fixed_version(exercise: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What a student runs: `sessref check` fails on the exercise and passes on the fix (with
    `--deny warnings` for an exercise about a warning, as the track's README says)."""
    relative = exercise.relative_to(ROOT)
    assert main(["check", "--no-fixes", "--deny", "warnings", str(relative)]) == 1
    assert main(["check", "--deny", "warnings", str(Path("specs/tutorial/solutions") / exercise.name)]) == 0
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert re.fullmatch(rf"\S*{exercise.name}: safe( \((bounded|all iterations): [^)]*\))?", last), last


def test_readme_lists_every_exercise() -> None:
    readme = (TRACK / "README.md").read_text()
    rows = {line.split("|")[2].strip(" `"): line for line in readme.splitlines() if re.match(r"\| \d\d \|", line)}
    assert sorted(rows) == [path.name for path in EXERCISES], "specs/tutorial/README.md has one table row per exercise"
    for path in EXERCISES:
        for rule in _listed(_header(path)["Rule"]):
            assert f"`{rule}`" in rows[path.name], f"the README row of {path.name} names the rule `{rule}`"


def test_readme_keeps_the_answer_hidden_until_asked() -> None:
    """The exercises' reports end with a verified fix, which is the answer: the track's
    README has the student work with `--no-fixes` and says how to see the answer."""
    readme = (TRACK / "README.md").read_text()
    steps = readme[readme.index("## How a class uses it") : readme.index("For the teacher")]
    commands = re.findall(r"`(sessref check[^`]*)`", steps)
    assert commands, "the track's README says which command to run"
    working = [c for c in commands if "mine.sess" in c and "--no-fixes" not in c]
    assert len(working) == 1 and "without `--no-fixes`" in steps, commands  # the one that shows the answer


def test_no_fixes_hides_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    exercise = EXERCISES[0].relative_to(ROOT)
    main(["check", "--no-fixes", str(exercise)])
    assert "verified fix" not in capsys.readouterr().out
