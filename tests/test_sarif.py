"""`--format sarif`: valid against the official SARIF 2.1.0 schema and carrying what GitHub
code scanning needs (rules, relative locations, fingerprints, the counterexample as a code
flow); `--format github`: workflow command lines that parse, escaped as the runner reads them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sessref import report_github, report_sarif
from sessref.cli import check_file
from sessref.findings import FileReport, Label, ReportedFinding
from sessref.language.ast import Span
from sessref.model.rules import DOUBLE_FREE, RULES
from sessref.solving import Options

import support

ROOT = Path(__file__).resolve().parent.parent
# The official OASIS SARIF 2.1.0 (Errata 01) schema: github.com/oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json at e0583813964ec43cea53b6b531b402866095ed1f.
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())

UNSAFE = "specs/examples/borrowed_free.sess"  # three findings, one of them a warning
SAFE = "specs/examples/borrowed_get1_fixed.sess"
HANDSHAKE = "specs/handshakes/new_cb_free_return_0.sess"  # a new-session callback inside `SSL_connect`
LOOP = "specs/examples/saved_session_loop_leak.sess"

# `::name key=value,key=value::message`; escaped values hold no raw `,` or `:`.
COMMAND = re.compile(r"^::(?P<name>error|warning|notice)(?: (?P<props>[A-Za-z]+=[^,:]*(?:,[A-Za-z]+=[^,:]*)*))?::(?P<message>.*)$")
LINK = re.compile(r"\[[^\]]*\]\((\d+)\)")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return support.run_sessref(*args, cwd=cwd)  # in this process: a call, not a new interpreter


@cache
def report_of(path: str) -> FileReport:
    return check_file(ROOT / path, Options())


def sarif_of(*paths: str) -> dict[str, Any]:
    return json.loads(report_sarif.render([report_of(p) for p in paths], [], root=ROOT))


def validate(doc: dict[str, Any]) -> None:
    """The official schema, then what GitHub code scanning requires or uses."""
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator_class.check_schema(SCHEMA)
    validator_class(SCHEMA, format_checker=validator_class.FORMAT_CHECKER).validate(doc)
    assert doc["version"] == "2.1.0" and doc["$schema"]
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "sessref" and re.fullmatch(r"\d+\.\d+\.\d+", driver["semanticVersion"])
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == [rule.id for rule in RULES]
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")
        if "security-severity" in rule["properties"]:
            assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
            assert "security" in rule["properties"]["tags"]
    invocation = run_["invocations"][0]
    assert isinstance(invocation["executionSuccessful"], bool)
    for result in run_["results"]:
        assert result["ruleId"] in rule_ids
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("warning", "error") and result["message"]["text"]
        assert result["partialFingerprints"]["primaryLocationLineHash"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        ids = [loc["id"] for loc in result.get("relatedLocations", [])]
        for link in LINK.findall(result["message"]["text"]):
            assert ids.count(int(link)) == 1
    for location in all_locations(doc):
        assert_relative(location["physicalLocation"]["artifactLocation"])


def all_locations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for result in doc["runs"][0]["results"]:
        found += result["locations"] + result.get("relatedLocations", [])
        for flow in result.get("codeFlows", []):
            for thread in flow["threadFlows"]:
                found += [step["location"] for step in thread["locations"]]
    for notification in doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]:
        found += notification.get("locations", [])
    return found


def assert_relative(artifact: dict[str, Any]) -> None:
    uri = artifact["uri"]
    assert artifact["uriBaseId"] == "%SRCROOT%", uri
    assert not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", uri) and not uri.startswith("/"), uri


def findings_of(*paths: str) -> list[ReportedFinding]:
    return [f for p in paths for f in report_of(p).findings]


@pytest.mark.parametrize("paths", [(UNSAFE,), (SAFE,), (HANDSHAKE,), (LOOP,), (UNSAFE, SAFE, HANDSHAKE, LOOP)])
def test_valid_sarif_for_github(paths: tuple[str, ...]) -> None:
    doc = sarif_of(*paths)
    validate(doc)
    results = doc["runs"][0]["results"]
    findings = findings_of(*paths)
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        (f.rule.id, f.span.line) for f in findings
    ]
    assert [r["level"] for r in results] == ["warning" if f.rule.severity == "warning" else "error" for f in findings]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris <= set(paths)


def test_safe_script_has_no_results_and_succeeds() -> None:
    doc = sarif_of(SAFE)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


@pytest.mark.parametrize("path", [UNSAFE, HANDSHAKE, LOOP])
def test_code_flow_follows_the_counterexample(path: str) -> None:
    doc = sarif_of(path)
    for result, finding in zip(doc["runs"][0]["results"], report_of(path).findings, strict=True):
        (flow,) = result["codeFlows"]
        (thread,) = flow["threadFlows"]
        steps = thread["locations"]
        assert [s["executionOrder"] for s in steps] == [s.number for s in finding.steps]
        assert [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps] == [
            s.span.line for s in finding.steps
        ]
        for step, path_step in zip(steps, finding.steps):
            text = step["location"]["message"]["text"]
            assert text and step["kinds"]
            for note in path_step.notes:
                assert note in text
            for state in path_step.objects:
                if state.status == "alive":
                    assert step["state"][state.name]["text"].startswith(str(state.count))
        assert "danger" in steps[-1]["kinds"] and finding.message in steps[-1]["location"]["message"]["text"]
        if finding.shown_choices:
            assert finding.shown_choices[0].text in flow["message"]["text"]
        related = [label for label in finding.labels if not label.primary]
        assert [loc["message"]["text"] for loc in result.get("relatedLocations", [])] == [lab.text for lab in related]


def test_library_steps_inside_a_call_say_so() -> None:
    doc = sarif_of(HANDSHAKE)
    texts = [
        step
        for result in doc["runs"][0]["results"]
        for step in result["codeFlows"][0]["threadFlows"][0]["locations"]
        if "implicit" in step["kinds"]
    ]
    assert texts and all(s["location"]["message"]["text"].startswith("inside `SSL_connect(ssl)`") for s in texts)


def test_fingerprints_are_stable_across_runs_and_lines(tmp_path: Path) -> None:
    first = run("check", "--format", "sarif", HANDSHAKE, UNSAFE)
    second = run("check", "--format", "sarif", HANDSHAKE, UNSAFE)
    assert first.returncode == second.returncode == 1

    def prints(doc: dict[str, Any]) -> list[str]:
        return [r["partialFingerprints"]["primaryLocationLineHash"] for r in doc["runs"][0]["results"]]

    once, twice = prints(json.loads(first.stdout)), prints(json.loads(second.stdout))
    assert once == twice and len(set(once)) == len(once)
    # Lines moved down by one: the same fingerprints, at other lines.
    (tmp_path / ".git").mkdir()
    script = tmp_path / "specs" / Path(UNSAFE).name
    script.parent.mkdir()
    source = (ROOT / UNSAFE).read_text()
    script.write_text(source)
    before = json.loads(report_sarif.render([check_file(script, Options())], [], root=tmp_path))
    script.write_text("\n" + source)
    after = json.loads(report_sarif.render([check_file(script, Options())], [], root=tmp_path))
    assert prints(before) == prints(after)
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in before["runs"][0]["results"]]
    moved = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after["runs"][0]["results"]]
    assert moved == [line + 1 for line in lines]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository holding three specs and a script with a typo in `specs/`."""
    (tmp_path / ".git").mkdir()
    specs = tmp_path / "specs"
    specs.mkdir()
    for path in (UNSAFE, SAFE, HANDSHAKE):
        shutil.copy(ROOT / path, specs / Path(path).name)
    (specs / "bad.sess").write_text("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\nSSL_SESION_free(NULL);\n")
    return tmp_path


def test_several_files_with_bad_input(project: Path) -> None:
    r = run("check", "--format", "sarif", ".", cwd=project / "specs")  # the root is found above
    assert r.returncode == 2  # bad input wins, as with text and JSON
    doc = json.loads(r.stdout)
    validate(doc)
    run_ = doc["runs"][0]
    assert len(run_["results"]) == len(findings_of(UNSAFE, HANDSHAKE))
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]} == {
        "specs/borrowed_free.sess",
        "specs/new_cb_free_return_0.sess",
    }
    invocation = run_["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (error,) = [n for n in invocation["toolExecutionNotifications"] if n["descriptor"]["id"] == "input-error"]
    assert error["level"] == "error" and "SSL_SESION_free" in error["message"]["text"]
    location = error["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "specs/bad.sess"
    assert location["region"] == {"startLine": 2, "startColumn": 1}
    notification_ids = {n["id"] for n in run_["tool"]["driver"]["notifications"]}
    assert {n["descriptor"]["id"] for n in invocation["toolExecutionNotifications"]} <= notification_ids


@pytest.mark.parametrize("fmt", ["sarif", "github"])
@pytest.mark.parametrize(("path", "code"), [(SAFE, 0), (UNSAFE, 1)])
def test_exit_codes_as_for_text(fmt: str, path: str, code: int) -> None:
    assert run("check", "--format", fmt, path).returncode == code


def unknown_report() -> FileReport:
    source = "SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\n"
    return FileReport("specs/undecided.sess", source, "unknown", False, False, 4, "timeout", ())


def test_unknown_verdict_is_a_failed_run_not_no_results() -> None:
    doc = json.loads(report_sarif.render([unknown_report()], [], root=ROOT))
    validate(doc)
    invocation = doc["runs"][0]["invocations"][0]
    assert doc["runs"][0]["results"] == [] and invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["descriptor"]["id"] == "unknown-verdict"
    assert "timeout" in note["message"]["text"]
    lines = report_github.render([unknown_report()], [], root=ROOT).splitlines()
    assert lines[0].startswith("::error file=specs/undecided.sess,title=sessref unknown verdict::")


def unescape(text: str) -> str:
    table = {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}
    return re.sub(r"%(25|0D|0A|3A|2C)", lambda m: table[m.group(1)], text)


def parse(line: str) -> tuple[str, dict[str, str], str]:
    match = COMMAND.match(line)
    assert match, line
    assert not re.search(r"%(?!25|0D|0A)", match["message"]), line
    properties = {}
    for pair in (match["props"] or "").split(",") if match["props"] else []:
        key, _, value = pair.partition("=")
        assert not re.search(r"%(?!25|0D|0A|3A|2C)", value), line
        properties[key] = unescape(value)
    return match["name"], properties, unescape(match["message"])


def test_github_annotations_parse(project: Path) -> None:
    r = run("check", "--format", "github", "specs", cwd=project)
    assert r.returncode == 2
    *commands, summary = r.stdout.splitlines()
    assert summary.startswith("sessref: 4 file(s):") and not summary.startswith("::")
    parsed = [parse(line) for line in commands]
    findings = findings_of(UNSAFE, HANDSHAKE)
    assert len(parsed) == len(findings) + 1
    finding_lines = [p for p in parsed if p[1]["title"].startswith("sessref SR")]
    assert [(p[1]["title"], int(p[1]["line"])) for p in finding_lines] == [
        (f"sessref {f.rule.id} {f.rule.name}", f.span.line) for f in findings
    ]
    for (name, properties, message), f in zip(finding_lines, findings):
        assert name == ("warning" if f.rule.severity == "warning" else "error")
        assert properties["file"].startswith("specs/") and message.startswith(f.message)
        assert int(properties["col"]) == f.span.column and int(properties["endColumn"]) == f.span.end_column - 1
    (error,) = [p for p in parsed if p[1]["title"] == "sessref input error"]
    assert error[0] == "error" and error[1] == {"file": "specs/bad.sess", "line": "2", "col": "1", "title": "sessref input error"}


def test_github_escaping() -> None:
    span = Span("dir/a,b:c.sess", 3, 1, 3, 20)
    message = "100% sure: line one,\r\nline two %0A"
    finding = ReportedFinding(
        DOUBLE_FREE, message, span, (Label(span, "released again here", primary=True),), (), "", (), ()
    )
    report = FileReport("dir/a,b:c.sess", "\n\nSSL_SESSION_free(s);\n", "unsafe", False, False, 4, "", (finding,))
    line = report_github.render([report], [], root=Path("/nonexistent")).splitlines()[0]
    assert "\n" not in line and "\r" not in line
    name, properties, text = parse(line)
    assert name == "error"
    assert properties["file"] == "dir/a,b:c.sess" and "a%2Cb%3Ac.sess" in line
    assert text.startswith(message + "\n")
    assert report_github.escape_data("a%:\n") == "a%25:%0A"
    assert report_github.escape_property("a%:,\r") == "a%25%3A%2C%0D"


def test_vacuous_and_bounded_safe_verdicts_are_said(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    vacuous = tmp_path / "v.sess"
    vacuous.write_text("SSL_SESSION *s = SSL_SESSION_new();\nassume(s == NULL);\n")
    bounded = tmp_path / "loop.sess"  # a counter: its states never repeat
    bounded.write_text("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\nint n = 0;\n"
                       "while (*) { n = n + 1; }\nSSL_CTX_free(ctx);\n")
    reports = [check_file(vacuous, Options()), check_file(bounded, Options())]
    assert reports[0].vacuous and reports[1].bounded
    doc = json.loads(report_sarif.render(reports, [], root=tmp_path))
    validate(doc)
    invocation = doc["runs"][0]["invocations"][0]
    said = {(n["descriptor"]["id"], n["level"]) for n in invocation["toolExecutionNotifications"]}
    assert said == {("vacuous", "warning"), ("bounded", "note")}
    assert invocation["executionSuccessful"] is True
    (line, summary) = report_github.render(reports, [], root=tmp_path).splitlines()
    assert parse(line)[:2] == ("warning", {"file": "v.sess", "title": "sessref vacuous verdict"})
    assert summary.startswith("sessref: 2 file(s): 2 safe")
