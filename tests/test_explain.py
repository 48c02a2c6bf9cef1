"""The rule pages (`checker/explain/*.md`): every rule has a complete one, its example
fails with that rule at the annotated line and its fix verifies; `sessref explain` lists
and prints them; the reports take their note and help from them and point at them."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest
from sessref import explain
from sessref.cli import check_file, main
from sessref.explain import ExplainPageError, page_for, parse_page, render_page, rule_list
from sessref.language.expectations import read_expectations
from sessref.model.rules import DOUBLE_FREE, RULES, Rule, rule_named
from sessref.report_text import render
from sessref.solving import Options

# A dangling reference is the cause of a later crash, so it is never reported alone; a
# borrowed free releases a holder's reference, which that holder then fails to release.
# Their examples also annotate (and so must produce) the findings that follow.
COMPANIONS = {
    "dangling-reference": {"use-after-free", "double-free"},
    "borrowed-free": {"dangling-reference", "double-free"},
}


def _id(rule: Rule) -> str:
    return f"{rule.id}-{rule.name}"


def _report(script: str, tmp_path: Path, name: str):
    return _checked(script, name)


@cache
def _checked(script: str, name: str):
    """A page's script checked once for the tests that read it (no fixes: none looks at them)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.sess"
        path.write_text(script)
        return check_file(path, Options(), fixes=False)


def _annotated(script: str) -> set[tuple[int, str]]:
    return {(line, rule_named(token).name) for line, token in read_expectations(script).findings}


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_every_rule_has_a_complete_page(rule: Rule) -> None:
    page = page_for(rule)
    assert page.rule == rule and page.file == f"explain/{rule.id}-{rule.name}.md"
    for section in ("what_it_checks", "why_it_is_unsafe", "example", "fixed", "help", "rests_on", "limits"):
        assert getattr(page, section).strip(), f"{page.file}: {section} is empty"
    assert page.notes and all(page.notes)
    assert page.example_script in page.example + "\n" and page.fixed_script in page.fixed + "\n"
    assert "\n" not in page.help


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_example_finds_its_rule_at_the_annotated_line(rule: Rule, tmp_path: Path) -> None:
    page = page_for(rule)
    report = _report(page.example_script, tmp_path, "example")
    # A warning alone does not make a script unsafe (it prints and exits 0 unless denied).
    expected = "unsafe" if any(f.rule.severity == "error" for f in report.findings) else "safe"
    assert report.findings and report.verdict == expected, f"{page.file}: the example is {report.verdict} {report.reason}"
    found = {(f.span.line, f.rule.name) for f in report.findings}
    assert found == _annotated(page.example_script), f"{page.file}: the example's findings differ from its `//~` lines"
    assert any(name == rule.name for _, name in found)
    assert {name for _, name in found} - {rule.name} <= COMPANIONS.get(rule.name, set())


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_fixed_script_verifies(rule: Rule, tmp_path: Path) -> None:
    page = page_for(rule)
    report = _report(page.fixed_script, tmp_path, "fixed")
    assert report.verdict == "safe" and not report.findings, f"{page.file}: the fix is {report.verdict}"
    assert not report.vacuous


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_report_takes_note_and_help_from_the_page(rule: Rule, tmp_path: Path) -> None:
    page = page_for(rule)
    report = _report(page.example_script, tmp_path, "example")
    finding = next(f for f in report.findings if f.rule == rule)
    assert (finding.notes, finding.help) == page.advice(finding.variant)


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_text_report_ends_with_a_pointer_per_rule(rule: Rule, tmp_path: Path) -> None:
    report = _report(page_for(rule).example_script, tmp_path, "example")
    counts: dict[tuple[str, str], int] = {}
    for f in report.findings:
        counts[(f.rule.name, f.rule.id)] = counts.get((f.rule.name, f.rule.id), 0) + 1
    tail = render(report, summary=False).rstrip("\n").split("\n")[-len(counts) :]
    if len(counts) == 1:
        what = "this finding" if len(report.findings) == 1 else "these findings"
        assert tail == [f"For more information about {what}, try `sessref explain {rule.name}` ({rule.id})."]
    else:
        assert tail == [
            f"For more information about the {name} finding{'s' if n > 1 else ''}, try `sessref explain {name}` ({rid})."
            for (name, rid), n in sorted(counts.items())
        ]


def test_pointer_is_plural_for_several_findings_of_one_rule(tmp_path: Path) -> None:
    script = "SSL_SESSION *a = SSL_SESSION_new();\nSSL_SESSION *b = SSL_SESSION_new();\n"
    report = _report(script, tmp_path, "two_leaks")
    assert len(report.findings) == 2
    assert render(report, summary=False).rstrip("\n").endswith(
        "For more information about these findings, try `sessref explain leak` (SR004)."
    )


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_page_fits_80_columns_and_keeps_scripts_verbatim(rule: Rule) -> None:
    text = render_page(rule)
    too_wide = [line for line in text.split("\n") if len(line) > explain.WIDTH]
    assert not too_wide, f"{rule.id}: lines wider than {explain.WIDTH} columns: {too_wide}"
    page = page_for(rule)
    for script in (page.example_script, page.fixed_script):
        shown = "\n".join((explain.CODE_INDENT + line).rstrip() for line in script.rstrip("\n").split("\n"))
        assert shown in text
    assert page.help in " ".join(text.split("\n"))  # wrapped, not reworded


def test_rule_list_names_every_rule_and_how_to_see_one() -> None:
    text = rule_list()
    for rule in RULES:
        assert any(line.split()[:3] == [rule.id, rule.name, rule.severity] for line in text.split("\n") if line)
    assert "`sessref explain SR002`" in text.split("\n")[-2]
    assert all(len(line) <= explain.WIDTH for line in text.split("\n"))


def test_cli_lists_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 0
    assert capsys.readouterr().out == rule_list()


@pytest.mark.parametrize("spelling", ["SR002", "sr002", "double-free", "Double-Free", " DOUBLE-FREE "])
def test_cli_prints_a_page_by_id_or_name_in_any_case(spelling: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", spelling]) == 0
    assert capsys.readouterr().out == render_page(DOUBLE_FREE)


@pytest.mark.parametrize(("typo", "meant"), [("doubel-free", "double-free"), ("use_after_free", "use-after-free")])
def test_cli_unknown_rule_exits_2_with_a_suggestion(typo: str, meant: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", typo]) == 2
    captured = capsys.readouterr()
    assert f"unknown rule `{typo}` (did you mean `{meant}`?)" in captured.err
    assert captured.out == ""


def test_cli_unknown_rule_far_from_any_says_where_the_list_is(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "quantum"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "`sessref explain` lists the rules" in err


def _page_text(rule: Rule) -> str:
    return (Path(explain.__file__).parent / "explain" / explain.page_file_name(rule)).read_text()


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: t.replace("# SR002 double-free (error)", "# SR002 double-free"), "title line"),
        (lambda t: t.replace("## Help\n", "## Advice\n"), "unknown section `## Advice`"),
        (lambda t: t.replace("## Rests on", "## Note"), "a second `## Note`"),
        (lambda t: t.replace("## Limits of the model", "## Limits"), "unknown section"),
        (lambda t: t.split("## Limits of the model")[0], "no `## Limits of the model` section"),
        (lambda t: t.replace("//~ double-free", "// double-free"), "no `//~ double-free` annotation"),
        (lambda t: t.replace("//~ double-free", "//~ dubble-free"), "unknown rule `dubble-free`"),
        (lambda t: t.replace("//~ safe\n", ""), "must open with `//~ safe`"),
        (lambda t: t.replace("```c\n//~ safe", "```c\n//~ safe\n```\n```c"), "exactly one fenced script"),
        (lambda t: t.replace("\n## Note\n\n- ", "\n## Note\n\nEach "), "a `- ` list"),
    ],
)
def test_malformed_page_is_a_clear_error(change, complaint: str) -> None:
    text = change(_page_text(DOUBLE_FREE))
    with pytest.raises(ExplainPageError) as caught:
        parse_page(DOUBLE_FREE, text, "explain/SR002-double-free.md")
    error = caught.value
    assert complaint in error.message
    assert error.span is not None and error.span.file == "explain/SR002-double-free.md" and error.span.line >= 1


def test_a_section_out_of_order_is_named() -> None:
    text = _page_text(DOUBLE_FREE)
    fixed = text[text.index("## Fixed") : text.index("## Help")]
    text = text.replace(fixed, "").replace("## Example", fixed + "## Example")
    with pytest.raises(ExplainPageError, match="`## Fixed` comes too early"):
        parse_page(DOUBLE_FREE, text, "explain/SR002-double-free.md")


def test_a_missing_page_is_an_internal_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Nowhere:
        def joinpath(self, name: str) -> Nowhere:
            return self

        def is_dir(self) -> bool:
            return False

    monkeypatch.setattr(explain.resources, "files", lambda package: Nowhere())
    monkeypatch.setattr(explain, "_pages", explain._pages.__wrapped__)
    assert main(["explain", "double-free"]) == 4
    out = capsys.readouterr().out
    assert out.startswith("internal error: the page of rule SR001 (use-after-free) is missing")
