"""The pytest plugin (`sessref.pytest_plugin`) on small projects made with pytester, the
shared annotation check it uses, and the pre-commit hook definition."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import sessref.pytest_plugin as plugin
from sessref.cli import check_file
from sessref.expectations_check import compare
from sessref.language.errors import SessrefError
from sessref.solving import Options

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

SAFE = """\
//~ safe
SSL_SESSION *s = SSL_SESSION_new();
SSL_SESSION_free(s);
"""
DOUBLE_FREE = """\
SSL_SESSION *s = SSL_SESSION_new();
SSL_SESSION_free(s);
SSL_SESSION_free(s);  //~ double-free
"""
WRONG_ANNOTATION = DOUBLE_FREE.replace("//~ double-free", "//~ leak")
UNANNOTATED = DOUBLE_FREE.replace("  //~ double-free", "")
SYNTAX_ERROR = "SSL_SESSION *s = SSL_SESSION_new(;\n"
# The loop's third iteration frees `s` a second time: found only with unroll 3 or more.
LOOP = """\
SSL_SESSION *s = SSL_SESSION_new();  //~ leak
SSL_SESSION_up_ref(s);
while (*) {
    SSL_SESSION_free(s);
}
"""
# `SSL_SESSION_up_ref(NULL)` crashes: found only when allocations may fail.
ALLOCATION = """\
//~ safe
SSL_SESSION *s = SSL_SESSION_new();
SSL_SESSION_up_ref(s);
SSL_SESSION_free(s);
SSL_SESSION_free(s);
"""


def _project(pytester: pytest.Pytester, ini: str | None = "sessref_paths = tls", **scripts: str) -> None:
    for name, text in scripts.items():
        path = pytester.path / "tls" / f"{name}.sess"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    if ini is not None:
        pytester.makeini(f"[pytest]\n{ini}\n")


# ---- outcomes -----------------------------------------------------------------------


def test_safe_and_matching_annotated_scripts_pass(pytester: pytest.Pytester) -> None:
    _project(pytester, safe=SAFE, double_free=DOUBLE_FREE)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["tls/double_free.sess::sessref PASSED*", "tls/safe.sess::sessref PASSED*"])


@pytest.mark.slow
def test_mismatching_annotations_fail_with_the_report_and_the_difference(pytester: pytest.Pytester) -> None:
    _project(pytester, wrong=WRONG_ANNOTATION)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ sessref:tls/wrong.sess _*",
            "sessref: the findings differ from the `//~` annotations: "
            "missing leak at line 3; unexpected double-free at line 3",
            "error[[]double-free]: the script releases a reference to `s`, *",
            " --> tls/wrong.sess:3:1",
            "counterexample, step by step*",
            "tls/wrong.sess: unsafe: 1 finding(s): 1 double-free",
            "FAILED tls/wrong.sess::sessref - sessref: the findings differ*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


@pytest.mark.slow
def test_an_unannotated_script_must_be_safe(pytester: pytest.Pytester) -> None:
    _project(pytester, bare=UNANNOTATED)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "sessref: the script has no `//~` annotations, so it must verify safe, but it has 1 error(s): double-free at line 3"
        ]
    )


def test_bad_input_fails_with_the_checkers_error_not_a_traceback(pytester: pytest.Pytester) -> None:
    _project(pytester, bad=SYNTAX_ERROR)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["error: expected `)`, found `;`", " --> tls/bad.sess:1:34", "*^ expected `)`"])
    output = result.stdout.str()
    assert "Traceback" not in output and "runtest" not in output and "pytest_plugin.py" not in output


def test_an_unknown_rule_in_an_annotation_fails_pointing_at_it(pytester: pytest.Pytester) -> None:
    _project(pytester, typo=DOUBLE_FREE.replace("double-free", "double-fre"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["error: unknown rule `double-fre` in a `//~` annotation", " --> tls/typo.sess:3:27"])


# ---- opting in --------------------------------------------------------------------


def test_nothing_is_collected_without_opting_in(pytester: pytest.Pytester) -> None:
    _project(pytester, ini=None, bare=UNANNOTATED)
    result = pytester.runpytest("tls")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "bare.sess" not in result.stdout.str()


@pytest.mark.slow
def test_the_command_line_flag_collects_every_script_visited(pytester: pytest.Pytester) -> None:
    _project(pytester, ini=None, safe=SAFE, bare=UNANNOTATED)
    (pytester.path / "other").mkdir()
    (pytester.path / "other" / "more.sess").write_text(SAFE)
    result = pytester.runpytest("--sessref")
    result.assert_outcomes(passed=2, failed=1)


@pytest.mark.slow
def test_sessref_paths_collects_only_what_it_names(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="sessref_paths = tls/s*.sess other", safe=SAFE, bare=UNANNOTATED)
    (pytester.path / "other" / "deep").mkdir(parents=True)
    (pytester.path / "other" / "deep" / "more.sess").write_text(SAFE)
    (pytester.path / "ignored").mkdir()
    (pytester.path / "ignored" / "bad.sess").write_text(SYNTAX_ERROR)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["other/deep/more.sess::sessref PASSED*", "tls/safe.sess::sessref PASSED*"])


def test_a_pattern_matching_nothing_is_warned_about(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="sessref_paths = tsl/*.sess", safe=SAFE)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*PytestConfigWarning: sessref_paths: `tsl/*.sess` matches nothing under*"])


def test_reportinfo_names_the_script(pytester: pytest.Pytester) -> None:
    _project(pytester, safe=SAFE)
    items = pytester.getitems(pytester.path / "tls" / "safe.sess")
    assert [item.nodeid for item in items] == ["tls/safe.sess::sessref"]
    path, line, name = items[0].reportinfo()
    assert (Path(path), line, name) == (pytester.path / "tls" / "safe.sess", None, "sessref:tls/safe.sess")
    assert items[0].get_closest_marker("sessref") is not None


# ---- options ----------------------------------------------------------------------


@pytest.fixture
def options_used(monkeypatch: pytest.MonkeyPatch) -> list[Options]:
    """The options each check of an in-process run was given."""
    seen: list[Options] = []

    def recording(path: Path, options: Options, **keywords):  # type: ignore[no-untyped-def]
        seen.append(options)
        return check_file(path, options, **keywords)

    monkeypatch.setattr(plugin, "check_file", recording)
    return seen


def test_default_options(pytester: pytest.Pytester, options_used: list[Options]) -> None:
    _project(pytester, safe=SAFE)
    pytester.runpytest().assert_outcomes(passed=1)
    assert options_used == [Options(unroll=4, allocation_failures=False, timeout_ms=30_000)]


def test_ini_options_reach_the_checker(pytester: pytest.Pytester, options_used: list[Options]) -> None:
    ini = "sessref_paths = tls\nsessref_unroll = 2\nsessref_timeout = 2.5\nsessref_allocation_failures = true"
    _project(pytester, ini=ini, safe=SAFE)
    pytester.runpytest()
    assert options_used == [Options(unroll=2, allocation_failures=True, timeout_ms=2500)]


@pytest.mark.slow
def test_the_unroll_bound_changes_the_outcome_and_the_flag_overrides_the_ini(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="sessref_paths = tls\nsessref_unroll = 2", loop=LOOP)
    pytester.runpytest().assert_outcomes(passed=1)
    result = pytester.runpytest("--sessref-unroll", "3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unexpected double-free at line 4*"])


@pytest.mark.slow
def test_allocation_failures_option(pytester: pytest.Pytester) -> None:
    _project(pytester, allocation=ALLOCATION)
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nsessref_paths = tls\nsessref_allocation_failures = true\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unexpected null-dereference at line 3*"])


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("sessref_unroll = many", "*sessref_unroll must be a whole number, not `many`*"),
        ("sessref_unroll = -1", "*the unroll bound must be 0 or more, not -1*"),
        ("sessref_timeout = 0", "*sessref_timeout must be a finite number of seconds above 0, not 0.0*"),
        ("sessref_timeout = nan", "*sessref_timeout must be a finite number of seconds above 0, not nan*"),
        ("sessref_timeout = inf", "*sessref_timeout must be a finite number of seconds above 0, not inf*"),
    ],
)
def test_bad_ini_values_are_usage_errors(pytester: pytest.Pytester, ini: str, message: str) -> None:
    _project(pytester, ini=f"sessref_paths = tls\n{ini}", safe=SAFE)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


# ---- installation -----------------------------------------------------------------


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    registered = {e.name: e.value for e in entry_points(group="pytest11")}
    assert registered.get("sessref") == "sessref.pytest_plugin"


@pytest.mark.slow
def test_a_fresh_pytest_process_loads_the_plugin_from_the_entry_point(pytester: pytest.Pytester) -> None:
    _project(pytester, safe=SAFE, wrong=WRONG_ANNOTATION)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)


# ---- the shared annotation check ----------------------------------------------------


def _report(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "script.sess"
    path.write_text(text)
    return check_file(path, Options())


def test_compare_holds_for_matching_annotations(tmp_path: Path) -> None:
    comparison = compare(_report(tmp_path, DOUBLE_FREE))
    assert comparison.holds and comparison.annotated
    assert comparison.expected == comparison.found == {(3, "double-free")}


def test_compare_lists_missing_and_unexpected_findings(tmp_path: Path) -> None:
    comparison = compare(_report(tmp_path, WRONG_ANNOTATION))
    assert not comparison.holds
    assert (comparison.missing, comparison.unexpected) == ([(3, "leak")], [(3, "double-free")])


def test_an_unknown_verdict_never_holds(tmp_path: Path) -> None:
    for text in (SAFE, DOUBLE_FREE):
        report = dataclasses.replace(_report(tmp_path, text), verdict="unknown", reason="too many cases in one step")
        comparison = compare(report)
        assert not comparison.holds
        assert comparison.problems == (
            "the verdict is unknown (too many cases in one step); an unknown verdict never passes",
        )


def test_safe_marker_with_findings_is_an_error_at_the_annotation(tmp_path: Path) -> None:
    with pytest.raises(SessrefError, match="marked `//~ safe` and also expects findings") as caught:
        compare(_report(tmp_path, "//~ safe\n" + DOUBLE_FREE))
    span = caught.value.span
    assert span is not None and (span.line, span.column) == (4, 27)


# ---- the pre-commit hook ----------------------------------------------------------


HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXPECTED_HOOK = {
    "id": "sessref",
    "entry": "sessref check",
    "language": "python",
    "files": r"\.sess$",
    "types": ["file"],
    "require_serial": False,
}


def _hook_lines() -> dict[str, str]:
    """The hook's `key: value` lines, read as text (no YAML library needed)."""
    fields: dict[str, str] = {}
    for raw in HOOKS.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.removeprefix("- ").partition(":")
        fields[key.strip()] = value.strip()
    return fields


def test_the_hook_defines_the_sessref_hook() -> None:
    fields = _hook_lines()
    assert {key: fields.get(key) for key in EXPECTED_HOOK} == {
        "id": "sessref",
        "entry": "sessref check",
        "language": "python",
        "files": r"\.sess$",
        "types": "[file]",
        "require_serial": "false",
    }


def test_the_hook_file_is_valid_yaml() -> None:
    import yaml  # PyYAML: in the [test] extra
    hooks = yaml.safe_load(HOOKS.read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    assert {key: hooks[0][key] for key in EXPECTED_HOOK} == EXPECTED_HOOK


@pytest.mark.slow
def test_the_hook_entry_exits_1_on_findings_and_0_when_safe() -> None:
    program, *arguments = _hook_lines()["entry"].split()
    executable = shutil.which(program)
    assert executable, f"`{program}` is not on PATH (pip install -e .)"
    safe = "specs/examples/borrowed_get1_fixed.sess"
    unsafe = "specs/examples/set_session_free_order.sess"

    def run(*files: str) -> int:
        return subprocess.run([executable, *arguments, *files], cwd=ROOT, capture_output=True).returncode

    assert (run(safe), run(unsafe), run(safe, unsafe)) == (0, 1, 1)


def test_fixes_are_computed_only_for_a_failing_script(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bool] = []

    def recording(path: Path, options: Options, fixes: bool = True, **keywords):  # type: ignore[no-untyped-def]
        asked.append(fixes)
        return check_file(path, options, fixes=fixes, **keywords)

    monkeypatch.setattr(plugin, "check_file", recording)
    pytester.makeini("[pytest]\nsessref_paths = *.sess\n")
    pytester.makefile(".sess", good=SAFE)
    assert pytester.runpytest().ret == 0
    assert asked == [False]


def test_a_failing_script_shows_its_verified_fix(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsessref_paths = *.sess\n")
    pytester.makefile(".sess", bad=DOUBLE_FREE.replace("//~", "// "))
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*verified fix*"])


STALE = (ROOT / "specs" / "handshakes" / "stale_after_eviction.sess").read_text().replace("//~ stale-session", "")


def test_an_unannotated_script_with_warnings_only_passes_and_shows_them(pytester: pytest.Pytester) -> None:
    _project(pytester, stale=STALE)
    result = pytester.runpytest("-W", "default")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*SessrefWarning*warning[[]stale-session[]]*"])


def test_sessref_deny_makes_warnings_fail(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="sessref_paths = tls\nsessref_deny = stale-session", stale=STALE)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*it has 1 error(s): stale-session at line*"])


def test_sessref_deny_refuses_what_is_not_a_warning(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="sessref_paths = tls\nsessref_deny = leak", stale=STALE)
    result = pytester.runpytest()
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*sessref_deny: leak: leak is already an error*"])
