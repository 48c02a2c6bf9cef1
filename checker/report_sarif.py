"""The SARIF 2.1.0 log (`--format sarif`) for GitHub code scanning: one run, every rule in
`tool.driver.rules`, one result per finding with its labelled steps as related locations
and its counterexample as a code flow, and bad input or undecided scripts as tool
execution notifications (a run with any of them is not successful)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import __version__
from .explain import page_for, page_sections, render_page
from .findings import FileReport, ObjectState, PathStep, ReportedFinding, path_text
from .language.ast import Span
from .model.rules import RULES, Rule
from .report_text import loop_summary

VERSION = "2.1.0"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
# No public page of the project exists yet: set this to its README's address when one does,
# and `tool.driver.informationUri` appears.
INFORMATION_URI: str | None = None
# GitHub rejects a result with more than 10,000 thread flow locations and shows 1,000.
MAX_FLOW_STEPS = 1000


# The tool execution notifications (`descriptor.id`), described in `tool.driver.notifications`.
_NOTIFICATIONS = {
    "input-error": "A script could not be checked: a syntax error, an unknown call, a wrong type.",
    "internal-error": "sessref failed on a script: a bug in sessref, to be reported with the script.",
    "unknown-verdict": "The solver could not decide a script in its time limit: the script is not proved safe.",
    "vacuous": "No path reaches the end of a safe script: only what happens before every path stops was checked.",
    "bounded": "A safe script's `while` loops were explored up to `--unroll` iterations.",
}


def render(reports: list[FileReport], errors: list[dict[str, Any]], root: Path | None = None) -> str:
    """One SARIF log for all files; `errors` as `cli` collects them (file, kind, message,
    line, column). URIs are relative to `root` (default: `repository_root()`)."""
    base = (root or repository_root()).resolve()
    results: list[dict[str, Any]] = []
    notifications = [_error_notification(error, base) for error in errors]
    seen: dict[str, int] = {}
    for report in reports:
        for finding in report.findings:
            results.append(_result(report, finding, base, seen))
        notifications += _verdict_notifications(report, base)
    run = {
        "tool": {"driver": _driver()},
        "invocations": [
            {
                "executionSuccessful": not any(n["level"] == "error" for n in notifications),
                "toolExecutionNotifications": notifications,
            }
        ],
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": _folder_uri(base), "description": {"text": "The repository root."}}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return json.dumps({"version": VERSION, "$schema": SCHEMA_URI, "runs": [run]}, indent=2) + "\n"


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (the working directory) that holds `.git`,
    else `start` itself: GitHub reads URIs relative to the repository's root."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def _folder_uri(folder: Path) -> str:
    uri = folder.as_uri()
    return uri if uri.endswith("/") else uri + "/"  # a base URI ends with a slash


def relative_path(file: str, root: Path) -> str | None:
    """`file` relative to `root` with `/` separators, or None when it lies outside."""
    try:
        return _resolved(file).relative_to(_resolved(root)).as_posix()
    except ValueError:
        return None


def _resolved(file: str | Path) -> Path:
    """The absolute path with links followed, as far as they lead (a loop of links or a
    dangling one is reported as an input error elsewhere; its name is kept here)."""
    try:
        return Path(file).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return Path(os.path.abspath(file))


# ---- rules --------------------------------------------------------------------------


def _rule_help(rule: Rule) -> tuple[str, str]:
    """A rule's help as (text, Markdown): its page in `explain/`, as `sessref explain`
    prints it and as written."""
    markdown = [f"**{rule.id} {rule.name}** ({rule.severity}): {_sentence(rule.summary)}"]
    markdown += [f"## {heading}\n\n{body}" for heading, body in page_sections(rule)]
    return render_page(rule), "\n\n".join(markdown) + "\n"


def _driver() -> dict[str, Any]:
    driver: dict[str, Any] = {
        "name": "sessref",
        "semanticVersion": __version__,
        "rules": [_rule(rule) for rule in RULES],
        "notifications": [{"id": key, "shortDescription": {"text": text}} for key, text in _NOTIFICATIONS.items()],
    }
    if INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI
    return driver


def _rule(rule: Rule) -> dict[str, Any]:
    text, markdown = _rule_help(rule)
    properties: dict[str, Any] = {
        "tags": ["openssl", "ssl-session", "reference-counting"],
        # Every counterexample is replayed before it is reported, and the model is checked
        # against the real library under valgrind (`sessref conform`).
        "precision": "high",
        "problem.severity": rule.severity,
    }
    # GitHub's `security-severity` and CWE tags: the rule's (`model/rules.py`).
    if rule.security_severity is not None:
        properties["tags"] = ["security", *properties["tags"], *rule.tags]
        properties["security-severity"] = rule.security_severity
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": _limit(_sentence(rule.summary))},
        "fullDescription": {"text": _limit(_first_paragraph(page_for(rule).what_it_checks))},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": _level(rule)},
        "properties": properties,
    }


def _level(rule: Rule) -> str:
    return "warning" if rule.severity == "warning" else "error"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _first_paragraph(markdown: str) -> str:
    return " ".join(markdown.strip().split("\n\n")[0].split())


def _limit(text: str, most: int = 1024) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


# ---- results ------------------------------------------------------------------------


def _result(report: FileReport, f: ReportedFinding, root: Path, seen: dict[str, int]) -> dict[str, Any]:
    artifact = _artifact(report.file, root)
    primary = next((label for label in f.labels if label.primary), None)
    related = [label for label in f.labels if not label.primary][:MAX_FLOW_STEPS]
    links = "; ".join(f"[line {label.span.line}]({i}): {label.text}" for i, label in enumerate(related, start=1))
    message = _sentence(f.message)
    if links:
        message += f" Steps that led here: {links}."
    if f.choices:
        message += " Path: " + path_text(f) + "."
    if f.help:
        message += f" Help: {_sentence(f.help)}"
    result: dict[str, Any] = {
        "ruleId": f.rule.id,
        "ruleIndex": RULES.index(f.rule),
        "level": f.level,
        "message": {"text": message},
        "locations": [_location(artifact, f.span, primary.text if primary else f.message)],
        "partialFingerprints": {"primaryLocationLineHash": _fingerprint(report, f, artifact, seen)},
    }
    if related:
        result["relatedLocations"] = [
            {"id": i, **_location(artifact, label.span, label.text)} for i, label in enumerate(related, start=1)
        ]
    if f.steps:
        result["codeFlows"] = [_code_flow(report, f, artifact)]
    return result


def _artifact(file: str, root: Path) -> dict[str, Any]:
    relative = relative_path(file, root)
    if relative is None:
        return {"uri": _resolved(file).as_uri()}
    return {"uri": quote(relative), "uriBaseId": SOURCE_ROOT}


def _location(artifact: dict[str, Any], span: Span | None, text: str | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if span is not None and span.line >= 1:
        physical["region"] = _region(span)
    location: dict[str, Any] = {"physicalLocation": physical}
    if text:
        location["message"] = {"text": text}
    return location


def _region(span: Span) -> dict[str, int]:
    region = {"startLine": span.line, "startColumn": max(span.column, 1)}
    if (span.end_line, span.end_column) >= (span.line, span.column) and span.end_column >= 1:
        region |= {"endLine": span.end_line, "endColumn": span.end_column}
    return region


def _fingerprint(report: FileReport, f: ReportedFinding, artifact: dict[str, Any], seen: dict[str, int]) -> str:
    """A hash of the rule, the file and the primary line's text (not its number, so moving
    the line keeps it), with GitHub's `:N` telling equal lines of one file apart."""
    lines = report.source.split("\n")
    line_text = lines[f.span.line - 1].strip() if 1 <= f.span.line <= len(lines) else ""
    key = "\0".join((f.rule.id, artifact["uri"], line_text))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{digest}:{seen[digest]}"


# ---- the counterexample as a code flow ----------------------------------------------


def _code_flow(report: FileReport, f: ReportedFinding, artifact: dict[str, Any]) -> dict[str, Any]:
    labelled = {(label.span.start, label.span.end) for label in f.labels}
    kinds = _step_kinds(f)
    flow = [_flow_step(report, f, step, artifact, kinds[i], labelled) for i, step in enumerate(f.steps)]
    words = [f"Counterexample: {len(f.steps)} step(s) of a {'shortest' if f.minimal else 'possibly longer'} path"]
    if f.hidden_steps:
        words.append(f"{f.hidden_steps} step(s) that touch none of these objects are left out")
    if len(flow) > MAX_FLOW_STEPS:
        words.append(f"only the last {MAX_FLOW_STEPS} steps are listed")
        flow = flow[-MAX_FLOW_STEPS:]
    if f.choices:
        words.append("path: " + path_text(f))
    return {"message": {"text": "; ".join(words) + "."}, "threadFlows": [{"locations": flow}]}


def _flow_step(
    report: FileReport,
    f: ReportedFinding,
    step: PathStep,
    artifact: dict[str, Any],
    kinds: list[str],
    labelled: set[tuple[int, int]],
) -> dict[str, Any]:
    last = step is f.steps[-1]
    call = _call_text(report, step)
    did = "; ".join(step.notes)
    if not did:
        text = call
    elif did.startswith(call):
        text = did
    else:
        text = f"{call}: {did}"
    if last:
        where = "here" if step.span == f.span else "after this step"
        finding = f"finding {where}: {f.rule.name} ({f.rule.id}): {f.message}"
        text = f"{call}: {finding}" if not did else f"{text}. {finding[0].upper()}{finding[1:]}"
    counts = [f"`{o.name}` {_count(o)}" for o in step.objects if o.status != "-"]
    if counts:
        text += ". Counts after it: " + "; ".join(counts)
    location: dict[str, Any] = {
        "location": _location(artifact, step.span, text),
        "kinds": kinds,
        "executionOrder": step.number,
        "importance": "essential" if last or (step.span.start, step.span.end) in labelled else "important",
    }
    state = {o.name: {"text": _count(o)} for o in step.objects if o.status != "-"}
    if state:
        location["state"] = state
    return location


def _call_text(report: FileReport, step: PathStep) -> str:
    """`SSL_free(ssl)`, or for what the library does inside a call, inside `SSL_connect(ssl)`."""
    if not _inside_call(step):
        return f"`{step.call}`"
    inner = " ".join(report.source[step.span.start : step.span.end].split())
    return f"inside `{inner}`" if inner else "inside the call"


def _inside_call(step: PathStep) -> bool:
    """The library's own work inside the call at the step's span, around a callback."""
    return step.call.startswith("(the library")


def _count(o: ObjectState) -> str:
    if o.status == "destroyed":
        return "destroyed"
    return f"{o.count}" + (f" = {' + '.join(o.holders)}" if o.holders else "")


def _step_kinds(f: ReportedFinding) -> list[list[str]]:
    """SARIF's thread flow location kinds for each step, from how its objects' counts
    changed: `acquire` (a count rose or an object appeared), `release` (a count fell or an
    object was destroyed), `implicit` (the library acting inside a call), and at the
    finding `danger` (with `use` where the finding is a use)."""
    before: dict[str, tuple[str, int]] = {}
    out: list[list[str]] = []
    for step in f.steps:
        kinds: set[str] = set()
        for o in step.objects:
            status, count = before.get(o.name, ("-", 0))
            if o.status == "alive" and (status != "alive" or o.count > count):
                kinds.add("acquire")
            if status == "alive" and (o.status == "destroyed" or o.count < count):
                kinds.add("release")
            before[o.name] = (o.status, o.count)
        if _inside_call(step):
            kinds.add("implicit")
        if step is f.steps[-1]:
            kinds.add("danger")
            if f.rule.sarif_use:
                kinds.add("use")
        order = ("call", "implicit", "acquire", "release", "use", "danger")
        out.append([k for k in order if k in kinds] or ["call"])
    return out


# ---- notifications ------------------------------------------------------------------


def _error_notification(error: dict[str, Any], root: Path) -> dict[str, Any]:
    internal = error.get("kind") == "internal"
    physical: dict[str, Any] = {"artifactLocation": _artifact(error["file"], root)}
    if error.get("line"):
        physical["region"] = {"startLine": error["line"], "startColumn": error.get("column") or 1}
    text = f"{'internal error' if internal else 'error'}: {error['file']}: {error['message']}"
    return {
        "level": "error",
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "descriptor": {"id": "internal-error" if internal else "input-error"},
    }


def _verdict_notifications(report: FileReport, root: Path) -> list[dict[str, Any]]:
    """An undecided script fails the run (it is never "no results"); a vacuous or bounded
    safe verdict is said."""
    where = [_location(_artifact(report.file, root), None)]
    out: list[dict[str, Any]] = []
    if report.verdict == "unknown":
        text = f"{report.file}: unknown: the solver could not decide the script ({report.reason}); it is not proved safe"
        out.append({"level": "error", "message": {"text": text}, "locations": where, "descriptor": {"id": "unknown-verdict"}})
    if report.vacuous:
        text = (
            f"{report.file}: no path reaches the end: every path stops at an `assume` that cannot hold "
            "or at a crash, so only what happens before that was checked"
        )
        out.append({"level": "warning", "message": {"text": text}, "locations": where, "descriptor": {"id": "vacuous"}})
    if report.bounded and report.verdict == "safe":
        text = f"{report.file}: {loop_summary(report)}"
        out.append({"level": "note", "message": {"text": text}, "locations": where, "descriptor": {"id": "bounded"}})
    return out
