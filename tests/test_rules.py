"""The rule catalogue (`model/rules.py`) is the one source of each rule's facts: every
rule has all of them and a page, every reader takes them from there (no table of its
own, no help or fix chosen by the words of a message), and a variant or field that is
misspelt fails."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from sessref import cli, conform, fixes, report_sarif
from sessref.explain import ExplainPageError, page_for, parse_page
from sessref.model import rules
from sessref.model.rules import LEAK, RULES, Conformance, Rule, Variant, check_variant

ROOT = Path(__file__).resolve().parent.parent
READERS = ("findings", "advice", "report_sarif", "report_text", "report_json", "report_github", "report_svg",
           "report_html", "cli", "conform", "fixes", "repro", "explain")


def _id(rule: Rule) -> str:
    return f"{rule.id}-{rule.name}"


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_every_rule_has_every_fact(rule: Rule) -> None:
    assert rule.label.strip() and rule.summary.strip()
    assert "{line}" in rule.valgrind, "the reproducer's expectation names the finding's line"
    assert isinstance(rule.conformance, Conformance) and rule.conformance.crash == rule.crash
    assert all(isinstance(n, int) and n > 0 for n in rule.cwe)
    if rule.security_severity is None:
        assert rule.severity == "warning" and not rule.cwe, "only a warning may be no security finding"
    page_for(rule)  # the page exists and parses


@pytest.mark.parametrize("rule", RULES, ids=_id)
def test_a_rules_fix_maker_exists(rule: Rule) -> None:
    if rule.fix is not None:
        assert rule.fix in fixes.MAKERS, f"{rule.name}: `fix` names no maker in checker/fixes.py"


def test_every_fix_maker_belongs_to_a_rule() -> None:
    assert set(fixes.MAKERS) == {rule.fix for rule in RULES if rule.fix is not None}


def test_ids_and_names_are_unique() -> None:
    assert len({r.id for r in RULES}) == len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize(
    "change",
    [
        {"label": ""},
        {"valgrind": "  "},
        {"severity": "fatal"},
        {"name": "Double Free"},
        {"id": "X2"},
        {"conformance": Conformance.CLEAN},  # a crash rule that runs clean
        {"security_severity": "11"},
        {"variants": ("a", "a")},
        {"fix": ""},
    ],
)
def test_a_rule_with_a_bad_fact_fails_at_import(change: dict) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(rules.DOUBLE_FREE, **change)


def test_a_rule_without_a_fact_fails_at_import() -> None:
    facts = {f.name: getattr(rules.DOUBLE_FREE, f.name) for f in dataclasses.fields(Rule)}
    for name in ("label", "valgrind", "conformance", "fix", "cwe", "security_severity", "sarif_use"):
        partial = {k: v for k, v in facts.items() if k != name}
        with pytest.raises(TypeError):
            Rule(**partial)


def test_a_misspelt_variant_fails() -> None:
    with pytest.raises(ValueError, match="has no variant 'overwriten'"):
        LEAK.variant("overwriten")
    with pytest.raises(ValueError):
        Variant(rules.DOUBLE_FREE, "overwritten")
    with pytest.raises(ValueError, match="must say which variant"):
        check_variant(LEAK, None)
    with pytest.raises(ValueError, match="given for a finding of"):
        check_variant(rules.DOUBLE_FREE, rules.LEAK_AT_END)
    check_variant(rules.USE_AFTER_FREE, None)


def test_every_declared_variant_is_reported_by_the_model() -> None:
    """A variant nothing reports is a dead declaration: each one's constant is used in the
    model (or the executor, which says how a leak's reference was lost)."""
    sources = "\n".join(p.read_text() for p in [*(ROOT / "model").glob("*.py"), ROOT / "checker" / "execute.py"]
                        if p.name != "rules.py")
    constants = {name: value for name, value in vars(rules).items() if isinstance(value, Variant)}
    assert {(v.rule.name, v.name) for v in constants.values()} == {(r.name, v) for r in RULES for v in r.variants}
    for name in constants:
        assert re.search(rf"\b{name}\b", sources), f"variant constant {name} is never reported"


def test_a_page_tag_names_a_declared_variant() -> None:
    page = page_for(LEAK)
    text = (ROOT / "checker" / "explain" / "SR004-leak.md").read_text()
    bad = text.replace("- `overwritten`:", "- `overwriten`:")
    with pytest.raises(ExplainPageError, match="`overwriten` is not a variant of leak"):
        parse_page(LEAK, bad, page.file)
    assert dict(page.variant_help)["overwritten"] == "free the old value before assigning a new one"
    notes, help_text = page.advice(rules.LEAK_AT_END)
    assert notes == page.notes and help_text == page.help
    notes, help_text = page_for(rules.BORROWED_FREE).advice(rules.BORROWED_GET0_RESULT)
    assert len(notes) == 1 and "get0" in notes[0] and help_text.startswith("do not free a `get0` result")


def test_readers_keep_no_table_of_their_own() -> None:
    """No rule's name or ID as a string literal in a reader (they read `model/rules.py`),
    and nothing chosen by the words of a finding's message."""
    names = {r.name for r in RULES} | {r.id for r in RULES}
    for module in READERS:
        source = (ROOT / "checker" / f"{module}.py").read_text()
        for literal in re.findall(r"\"([^\"\n]*)\"|'([^'\n]*)'", source):
            text = literal[0] or literal[1]
            assert text not in names, f"checker/{module}.py spells the rule {text!r}: read it from model/rules.py"
        matches = re.findall(r"\bin\s+(?:self\.)?(?:f|finding|case|cx)?\.?message\b|message\.startswith|re\.\w+\([^)]*message", source)
        assert not matches, f"checker/{module}.py chooses by a message's words: {matches}"


def test_sarif_rule_takes_cwe_and_severity_from_the_catalogue() -> None:
    driver = report_sarif._driver()
    for rule, entry in zip(RULES, driver["rules"]):
        assert entry["id"] == rule.id
        tags = entry["properties"]["tags"]
        assert [t for t in tags if t.startswith("external/cwe/")] == list(rule.tags)
        assert entry["properties"].get("security-severity") == rule.security_severity
        assert ("security" in tags) == (rule.security_severity is not None)


def test_repro_expectation_and_conformance_rows_come_from_the_catalogue() -> None:
    for rule in RULES:
        assert cli._expect(rule, "x.sess", 7) == rule.valgrind.format(file="x.sess", line=7)
    assert conform.ROW_ORDER == (*(r.name for r in RULES), "safe")


def test_every_finding_of_a_rule_with_variants_names_one() -> None:
    """Read the model's `w.finding(RULE, ...)` calls: a rule that declares variants gets
    one at every call (a merge that adds a call without it fails here, not at run time)."""
    import ast

    constants = {name: value for name, value in vars(rules).items() if isinstance(value, Rule)}
    missing = []
    for path in sorted((ROOT / "model").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "finding"):
                continue
            if not node.args or not isinstance(node.args[0], ast.Name) or node.args[0].id not in constants:
                continue
            rule = constants[node.args[0].id]
            has = any(k.arg == "variant" for k in node.keywords)
            if bool(rule.variants) != has:
                missing.append(f"model/{path.name}:{node.lineno}: {rule.name} {'needs' if rule.variants else 'has no'} a variant")
    assert not missing, "\n".join(missing)
