"""The rule pages: one Markdown source per rule, `explain/SR002-double-free.md`, read by
`sessref explain` and by the reports (`advice.py` takes each rule's `= note:` and `help:`
texts from the page's Note and Help sections).

A page is the title line `# SR002 double-free (error)` and these `## ` sections, in
this order: What it checks, Why it is unsafe, Example, Fixed, Help, Note, Rests on,
Limits of the model. Example holds one fenced script with `//~ rule` annotations, Fixed
one fenced script that opens with `//~ safe` (the tests run both); Help is one
sentence; Note is a `- ` list, one item per note. Prose is paragraphs and `- ` lists.

A rule that declares variants (`model/rules.py`) may give a variant its own help or notes:
in Help, a `- ` list after the sentence, one item `` `variant`: help `` each; in Note,
items that open with `` `variant`: ``. A finding of a variant gets its own help, if
any, else the rule's; its own notes, if any, else the untagged ones. A tag that names
no variant of the rule is a page error.

All pages are read and checked together the first time one is needed. A missing or
malformed page raises `ExplainPageError` with its file and line: it is a packaging
bug, reported as an internal error, never a traceback.
"""

from __future__ import annotations

import difflib
import textwrap
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Callable

from .language.ast import Span
from .language.errors import InternalError
from .language.expectations import read_expectations
from .model.rules import RULES, Rule, Variant, rule_named

WIDTH = 80  # terminal columns of `render_page` and `rule_list`
CODE_INDENT = "    "
SECTIONS = (
    "What it checks",
    "Why it is unsafe",
    "Example",
    "Fixed",
    "Help",
    "Note",
    "Rests on",
    "Limits of the model",
)
FENCE = "```"


class ExplainPageError(InternalError):
    """A rule page that is missing or not shaped as `SECTIONS` says."""


Fail = Callable[[str], ExplainPageError]  # makes the error for a message, located at a section


@dataclass(frozen=True)
class ExplainPage:
    """One rule's page. Prose sections are Markdown as written; `help` and `notes` are
    joined into single lines, as the reports print them."""

    rule: Rule
    file: str
    what_it_checks: str
    why_it_is_unsafe: str
    example: str
    fixed: str
    help: str
    notes: tuple[str, ...]  # the untagged ones
    rests_on: str
    limits: str
    example_script: str  # the fenced script of Example
    fixed_script: str  # the fenced script of Fixed
    variant_help: tuple[tuple[str, str], ...] = ()  # (variant, help)
    variant_notes: tuple[tuple[str, str], ...] = ()  # (variant, note)
    note_items: tuple[tuple[str | None, str], ...] = ()  # every note as (variant or None, note), in page order
    help_markdown: str = ""  # the Help section as written

    def advice(self, variant: Variant | None) -> tuple[tuple[str, ...], str]:
        """The notes and the help the reports print for a finding of `variant`."""
        name = variant.name if variant is not None else None
        notes = tuple(text for v, text in self.variant_notes if v == name) or self.notes
        help_text = next((text for v, text in self.variant_help if v == name), self.help)
        return notes, help_text


def page_for(rule: Rule) -> ExplainPage:
    """The page of `rule` (raises ExplainPageError when any page is missing or malformed)."""
    return _pages()[rule.id]


def page_file_name(rule: Rule) -> str:
    return f"{rule.id}-{rule.name}.md"


@cache
def _pages() -> dict[str, ExplainPage]:
    folder = resources.files(__package__).joinpath("explain")
    present = {entry.name for entry in folder.iterdir() if entry.name.endswith(".md")} if folder.is_dir() else set()
    pages: dict[str, ExplainPage] = {}
    for rule in RULES:
        name = page_file_name(rule)
        if name not in present:
            raise ExplainPageError(
                f"the page of rule {rule.id} ({rule.name}) is missing: no `explain/{name}` in the installed package",
                help="every rule in `model/rules.py` needs a page in `checker/explain/`, shipped as package data",
            )
        text = folder.joinpath(name).read_text(encoding="utf-8")
        pages[rule.id] = parse_page(rule, text, f"explain/{name}")
    strays = sorted(present - {page_file_name(rule) for rule in RULES})
    if strays:
        raise ExplainPageError(
            f"`explain/{strays[0]}` is not the page of any rule",
            help="name pages `ID-name.md` after a rule of `model/rules.py`",
        )
    return pages


def parse_page(rule: Rule, text: str, file: str) -> ExplainPage:
    """Read one page (`file` names it in errors); raises ExplainPageError."""
    lines = text.split("\n")
    title = f"# {rule.id} {rule.name} ({rule.severity})"
    if lines[0].rstrip() != title:
        raise _error(f"the page must open with the title line `{title}`", file, 1, text)
    sections: dict[str, tuple[int, list[str]]] = {}
    current = ""
    in_code = False
    for number, line in enumerate(lines[1:], start=2):
        if not in_code and line.startswith("## "):
            name = line[3:].strip()
            if name not in SECTIONS:
                raise _error(f"unknown section `## {name}`; a page has " + _listing(SECTIONS), file, number, text)
            if name in sections:
                raise _error(f"a second `## {name}` section", file, number, text)
            current = name
            sections[name] = (number, [])
            continue
        if line.startswith(FENCE):
            in_code = not in_code
        if not current:
            if line.strip():
                raise _error("text before the first `## ` section", file, number, text)
            continue
        sections[current][1].append(line)
    if in_code:
        raise _error(f"a code block opened with {FENCE} is never closed", file, len(lines), text)
    missing = [name for name in SECTIONS if name not in sections]
    if missing:
        raise _error(f"the page has no `## {missing[0]}` section", file, len(lines), text)
    order = sorted(sections, key=lambda name: sections[name][0])
    for wanted, found in zip(SECTIONS, order):
        if wanted != found:
            raise _error(f"`## {found}` comes too early: a page has " + _listing(SECTIONS), file, sections[found][0], text)
    body = {name: "\n".join(body_lines).strip("\n") for name, (_, body_lines) in sections.items()}
    for name, content in body.items():
        if not content.strip():
            raise _error(f"the `## {name}` section is empty", file, sections[name][0], text)

    def section_error(name: str, message: str) -> ExplainPageError:
        return _error(message, file, sections[name][0], text)

    example_script = _only_script(body["Example"], lambda m: section_error("Example", m))
    fixed_script = _only_script(body["Fixed"], lambda m: section_error("Fixed", m))
    _check_example(rule, example_script, lambda m: section_error("Example", m))
    expectations = read_expectations(fixed_script)
    if not expectations.safe or expectations.findings:
        raise section_error("Fixed", "the fixed script must open with `//~ safe` and expect no finding")
    help_text, variant_help = _help(rule, body["Help"], lambda m: section_error("Help", m))
    notes, note_items = _notes(rule, body["Note"], lambda m: section_error("Note", m))
    variant_notes = tuple((v, text) for v, text in note_items if v is not None)
    return ExplainPage(
        rule,
        file,
        body["What it checks"],
        body["Why it is unsafe"],
        body["Example"],
        body["Fixed"],
        help_text,
        notes,
        body["Rests on"],
        body["Limits of the model"],
        example_script,
        fixed_script,
        variant_help,
        variant_notes,
        note_items,
        body["Help"],
    )


def _error(message: str, file: str, line: int, text: str) -> ExplainPageError:
    return ExplainPageError(f"rule page: {message}", Span(file, line, 1, line, 2), source=text)


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(f"`## {n}`" for n in names) + ", in this order"


def _only_script(section: str, fail: Fail) -> str:
    scripts = [text for kind, text in _blocks(section) if kind == "code"]
    if len(scripts) != 1:
        raise fail(f"the section must hold exactly one fenced script, not {len(scripts)}")
    return scripts[0] + "\n"


def _check_example(rule: Rule, script: str, fail: Fail) -> None:
    expectations = read_expectations(script)
    if expectations.safe:
        raise fail("the example must fail: it cannot be marked `//~ safe`")
    named = set()
    for _, token in expectations.findings:
        found = rule_named(token)
        if found is None:
            raise fail(f"unknown rule `{token}` in a `//~` annotation of the example")
        named.add(found)
    if rule not in named:
        raise fail(f"the example has no `//~ {rule.name}` annotation on the line where the finding is reported")


def _help(rule: Rule, section: str, fail: Fail) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The help sentence, and each variant's own help (`- `variant`: ...` items after it)."""
    blocks = _blocks(section)
    if not blocks or blocks[0][0] != "paragraph" or any(kind != "item" for kind, _ in blocks[1:]):
        raise fail(
            "the section must be one paragraph, the help sentence the reports print, optionally followed by "
            "a `- ` list of variants' own help (`- `variant`: help`)"
        )
    tagged = tuple(_tagged(rule, text, fail) for _, text in blocks[1:])
    if any(variant is None for variant, _ in tagged):
        raise fail("each item after the help sentence must open with the variant it is for: `- `variant`: help`")
    variants = [variant for variant, _ in tagged]
    if len(set(variants)) != len(variants):
        raise fail("a variant is given two helps")
    return blocks[0][1], tagged  # type: ignore[return-value]


def _notes(rule: Rule, section: str, fail: Fail) -> tuple[tuple[str, ...], tuple[tuple[str | None, str], ...]]:
    """The untagged notes, and every note with its variant tag (or None), in order."""
    blocks = _blocks(section)
    if not blocks or any(kind != "item" for kind, _ in blocks):
        raise fail("the section must be a `- ` list, one item per note the reports print")
    tagged = [_tagged(rule, text, fail) for _, text in blocks]
    plain = tuple(text for variant, text in tagged if variant is None)
    if not plain:
        raise fail("the section needs at least one note that is not tagged with a variant")
    return plain, tuple(tagged)


def _tagged(rule: Rule, text: str, fail: Fail) -> tuple[str | None, str]:
    """`(variant, rest)` for an item opening with `` `variant`: ``, else `(None, text)`."""
    if not text.startswith("`") or "`: " not in text:
        return None, text
    tag, rest = text[1:].split("`: ", 1)
    if " " in tag:
        return None, text
    if tag not in rule.variants:
        declared = ", ".join(f"`{v}`" for v in rule.variants) or "none"
        raise fail(f"`{tag}` is not a variant of {rule.name} (model/rules.py declares {declared})")
    return tag, rest


def _blocks(markdown: str) -> list[tuple[str, str]]:
    """Paragraphs and list items (each joined into one line) and fenced code (verbatim)."""
    blocks: list[tuple[str, str]] = []
    code: list[str] | None = None
    kind, words = "", []  # the paragraph or item being read

    def close() -> None:
        nonlocal kind, words
        if words:
            blocks.append((kind, " ".join(words)))
        kind, words = "", []

    for line in markdown.split("\n"):
        if code is not None:
            if line.startswith(FENCE):
                blocks.append(("code", "\n".join(code)))
                code = None
            else:
                code.append(line)
        elif line.startswith(FENCE):
            close()
            code = []
        elif not line.strip():
            close()
        elif line.startswith("- "):
            close()
            kind, words = "item", [line[2:].strip()]
        elif kind == "item" and line.startswith(" "):
            words.append(line.strip())
        else:
            if kind != "paragraph":
                close()
                kind = "paragraph"
            words.append(line.strip())
    close()
    return blocks


def page_sections(rule: Rule) -> tuple[tuple[str, str], ...]:
    """The page's sections in order, as (heading, Markdown)."""
    page = page_for(rule)
    return (
        ("What it checks", page.what_it_checks),
        ("Why it is unsafe", page.why_it_is_unsafe),
        ("Example", page.example),
        ("Fixed", page.fixed),
        ("Help", page.help_markdown),
        ("Note", "\n".join(f"- `{v}`: {note}" if v else f"- {note}" for v, note in page.note_items)),
        ("Rests on", page.rests_on),
        ("Limits of the model", page.limits),
    )


def render_page(rule: Rule) -> str:
    """The page as plain text for a terminal: prose wrapped to `WIDTH` columns, scripts
    verbatim (indented by four spaces)."""
    out = [f"{rule.id} {rule.name} ({rule.severity})", _fill(rule.summary)]
    for heading, markdown in page_sections(rule):
        out += ["", heading, "-" * len(heading)]
        previous = ""
        for kind, text in _blocks(markdown):
            if previous and not (kind == previous == "item"):
                out.append("")
            previous = kind
            if kind == "code":
                out += [(CODE_INDENT + line).rstrip() for line in text.split("\n")]
            elif kind == "item":
                out.append(_fill(text, "- ", "  "))
            else:
                out.append(_fill(text))
    return "\n".join(out) + "\n"


def rule_list() -> str:
    """Every rule on a line or two (ID, name, severity, summary), and how to see a page."""
    _pages()  # a broken page shows here too
    rows = [("ID", "name", "severity", "summary"), *((r.id, r.name, r.severity, r.summary) for r in RULES)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    out = []
    for row in rows:
        lead = "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  "
        out.append(_fill(row[3], lead, " " * len(lead)))
    out += ["", "For one rule's page: `sessref explain SR002` or `sessref explain double-free`."]
    return "\n".join(out) + "\n"


def did_you_mean(text: str) -> str | None:
    """The rule ID or name closest to `text`, if one is close."""
    spelled = {rule.id.lower(): rule.id for rule in RULES} | {rule.name: rule.name for rule in RULES}
    close = difflib.get_close_matches(text.strip().lower(), list(spelled), n=1, cutoff=0.6)
    return spelled[close[0]] if close else None


def _fill(text: str, first: str = "", rest: str = "") -> str:
    return textwrap.fill(
        text, WIDTH, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    )
