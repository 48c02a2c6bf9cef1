"""The rule catalogue: every fact about each rule sessref reports, declared once.

A rule is this entry plus its page, `checker/explain/ID-name.md` (the prose: what it
checks, why, an example and its fix, the `help:` and `note:` texts the reports print, what
it rests on). Everything else a report, the reproducer or the conformance suite says
about a rule is a field here, and each reader takes it from here, never from a table of
its own:

- `label`: the primary label at the finding's span (text, JSON, HTML/SVG reports);
- `cwe`, `security_severity`, `sarif_use`: the SARIF rule's tags and GitHub's
  security-severity, and whether its last code-flow step is a `use`;
- `valgrind`: what `sessref repro` tells the user the real run shows;
- `conformance`: how `sessref conform` judges the real run (`Conformance`);
- `fix`: the name of the verified-fix maker in `checker/fixes.py` (None: help in words only);
- `variants`: the finer kinds of finding the model reports under the rule. When a rule
  declares variants, the model passes one (`Variant`) with each of its findings; the
  reports choose a variant's own help or notes (tagged in the page as `` `variant`: `` items)
  and the fix maker its edits by it, never by the words of the message.

`tests/test_rules.py` fails when a rule lacks any of these, when a page is missing, or
when a reader keeps its own table.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Conformance(enum.Enum):
    """What the real run under valgrind must show at the finding's step (`checker/conform.py`)."""

    # Crash rules: valgrind's first error is at the finding's line and is ...
    INVALID_FREE = "invalid-free"  # ... an invalid free (after reads of the freed block)
    FREED_ACCESS = "freed-access"  # ... an invalid read or write inside a freed block
    NEAR_NULL = "near-null"  # ... an access to the first page (or the program dies of SIGSEGV)
    SILENT = "silent"  # no error up to the line; the damage shows later (corrupted cache links)
    # Rules whose step runs clean; the path must then be clean, with ...
    CLEAN = "clean"  # ... no error at the finding's step (a later step shows the damage)
    LOST = "lost"  # ... the finding's objects among the blocks valgrind finds lost
    LOST_IF_UNRELEASED = "lost-if-unreleased"  # ... like LOST when the script never releases them either

    @property
    def crash(self) -> bool:
        return self in (Conformance.INVALID_FREE, Conformance.FREED_ACCESS, Conformance.NEAR_NULL, Conformance.SILENT)


@dataclass(frozen=True)
class Rule:
    id: str  # `SR002`
    name: str  # `double-free`
    summary: str  # one line, for `sessref explain` and SARIF's short description
    # A crash is undefined behaviour in the real library: the path is not followed further.
    crash: bool
    severity: str  # "error" or "warning"
    label: str
    cwe: tuple[int, ...]
    security_severity: str | None  # GitHub's 0.1-10 ("7.0" and up is high); None: not a security finding
    sarif_use: bool
    valgrind: str  # `{file}` and `{line}` are the finding's
    conformance: Conformance
    fix: str | None
    variants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not re.fullmatch(r"SR\d{3}", self.id):
            problems.append(f"id {self.id!r} is not SRnnn")
        if not re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", self.name):
            problems.append(f"name {self.name!r} is not kebab-case")
        if self.severity not in ("error", "warning"):
            problems.append(f"severity {self.severity!r} is neither error nor warning")
        for text_field in ("summary", "label", "valgrind"):
            if not getattr(self, text_field).strip():
                problems.append(f"`{text_field}` is empty")
        if self.conformance.crash != self.crash:
            problems.append(f"conformance {self.conformance.value} does not match crash={self.crash}")
        if self.security_severity is not None and not 0.1 <= float(self.security_severity) <= 10:
            problems.append(f"security_severity {self.security_severity} is not within 0.1-10")
        if self.fix is not None and not self.fix:
            problems.append("`fix` is empty: name the maker or say None")
        for variant in self.variants:
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", variant):
                problems.append(f"variant {variant!r} is not kebab-case")
        if len(set(self.variants)) != len(self.variants):
            problems.append("a variant is declared twice")
        if problems:
            raise ValueError(f"rule {self.id}: " + "; ".join(problems))

    def variant(self, name: str) -> Variant:
        return Variant(self, name)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(f"external/cwe/cwe-{n}" for n in self.cwe)


@dataclass(frozen=True)
class Variant:
    """One declared kind of finding of `rule` (a leak *because a variable is overwritten*).
    Only names the rule declares can be made, so a misspelt variant fails at import."""

    rule: Rule
    name: str

    def __post_init__(self) -> None:
        if self.name not in self.rule.variants:
            raise ValueError(f"rule {self.rule.id} ({self.rule.name}) has no variant {self.name!r}: "
                             f"it declares {', '.join(self.rule.variants) or 'none'}")


USE_AFTER_FREE = Rule(
    "SR001",
    "use-after-free",
    "a call reads or writes a destroyed object",
    crash=True,
    severity="error",
    label="the destroyed object is used here",
    cwe=(416,),
    security_severity="8.1",
    sarif_use=True,
    valgrind='valgrind reports "Invalid read" (or write) inside a freed block at {file}:{line}',
    conformance=Conformance.FREED_ACCESS,
    fix="keep-reference-for-use",
)
DOUBLE_FREE = Rule(
    "SR002",
    "double-free",
    "a reference is released on an already destroyed object",
    crash=True,
    severity="error",
    label="released again here",
    cwe=(415,),
    security_severity="8.1",
    sarif_use=False,
    valgrind='valgrind reports "Invalid free()" at {file}:{line}, after invalid reads of the freed block',
    conformance=Conformance.INVALID_FREE,
    fix="clear-or-drop-second-free",
    # Released by the script, by a library holder, or a session's hostname freed twice.
    variants=("by-script", "by-library", "hostname"),
)
DANGLING_REFERENCE = Rule(
    "SR003",
    "dangling-reference",
    "an object is destroyed while another holder still points at it",
    crash=False,
    severity="error",
    label="destroyed here while still pointed at",
    cwe=(825,),
    security_severity="7.5",
    sarif_use=False,
    valgrind="no error at {file}:{line} itself; the holder left dangling fails later (see its own finding)",
    conformance=Conformance.CLEAN,
    fix="fix-root-release",
)
LEAK = Rule(
    "SR004",
    "leak",
    "an object is never released, or its last owned reference is lost",
    crash=False,
    severity="error",
    label="this reference is never released",
    cwe=(401,),
    security_severity="3.7",
    sarif_use=False,
    valgrind='valgrind reports the object allocated for line {line} as "definitely lost" (or indirectly, '
    "when a lost object holds it)",
    conformance=Conformance.LOST,
    fix="release-lost-reference",
    # Where the last reference went: a variable overwritten, a call's result not kept, a
    # variable out of scope, lost at another statement, or still owned when the script ends.
    variants=("overwritten", "unused-result", "out-of-scope", "lost", "at-end"),
)
BORROWED_FREE = Rule(
    "SR005",
    "borrowed-free",
    "the script releases a reference it never owned",
    crash=False,
    severity="warning",
    label="releases a reference the script does not own",
    cwe=(763, 911),
    security_severity="5.9",
    sarif_use=False,
    valgrind="no error at {file}:{line} itself: the free was not yours to make, and a later release "
    "by the real owner is what fails",
    conformance=Conformance.CLEAN,
    fix="stop-borrowed-free",
    # A reference it never took, or `OPENSSL_free` of a `get0` result the session owns.
    variants=("unowned", "get0-result"),
)
NULL_DEREFERENCE = Rule(
    "SR006",
    "null-dereference",
    "a possibly NULL pointer is passed where the library dereferences it",
    crash=True,
    severity="error",
    label="NULL is dereferenced here",
    cwe=(476,),
    security_severity="6.5",
    sarif_use=True,
    valgrind="the program crashes at {file}:{line}: an access near address 0 (SIGSEGV)",
    conformance=Conformance.NEAR_NULL,
    fix="guard-null",
)
CACHE_CORRUPTION = Rule(
    "SR007",
    "cache-corruption",
    "a session is linked into a second cache, which corrupts both caches' lists",
    crash=True,
    severity="error",
    label="the cache is corrupted here",
    # A linked list corrupted by an object in two lists: no CWE names it well.
    cwe=(),
    security_severity="7.5",
    sarif_use=False,
    valgrind="no error at {file}:{line} itself: the corruption is silent until the caches are used again",
    conformance=Conformance.SILENT,
    fix=None,
)
CALLBACK_OWNERSHIP = Rule(
    "SR008",
    "callback-ownership",
    "a session callback breaks its reference contract (new_session_cb, get_session_cb's `*copy`, remove_session_cb)",
    crash=False,
    severity="error",
    label="the callback breaks its reference contract here",
    cwe=(911,),
    security_severity="7.0",
    sarif_use=False,
    valgrind="no error at {file}:{line} itself: a reference the callback kept nowhere shows as "
    '"definitely lost"; a lent session freed in the callback fails when the library lets go of it',
    conformance=Conformance.LOST_IF_UNRELEASED,
    fix="keep-callback-contract",
    variants=(
        "new-cb-kept-nowhere",  # `new_session_cb` returned 1 and stored nothing
        "new-cb-freed-lent",  # `new_session_cb` freed the session and returned 0
        "remove-cb-freed-lent",  # `remove_session_cb` freed the session it is lent
        "copy0-unowned",  # `get_session_cb` set `*copy = 0` on a reference it does not own
        "copy0-only-reference",  # ... on the only reference a store it keeps relies on
        "copy-left-1",  # `*copy` left at 1 on a session made for the call
    ),
)
STALE_SESSION = Rule(
    "SR009",
    "stale-session",
    "a session the library marked not resumable is offered for resumption",
    crash=False,
    severity="warning",
    label="a session that is not resumable is offered here",
    cwe=(),
    security_severity=None,  # a full handshake instead of a resumption: not a security finding
    sarif_use=True,
    valgrind="no memory error: the handshake at {file}:{line} does not resume (`SSL_session_reused` is 0)",
    conformance=Conformance.CLEAN,
    fix=None,
)

RULES: tuple[Rule, ...] = (
    USE_AFTER_FREE,
    DOUBLE_FREE,
    DANGLING_REFERENCE,
    LEAK,
    BORROWED_FREE,
    NULL_DEREFERENCE,
    CACHE_CORRUPTION,
    CALLBACK_OWNERSHIP,
    STALE_SESSION,
)

# The variants the model reports (each fails at import if its rule does not declare it).
DOUBLE_FREE_BY_SCRIPT = DOUBLE_FREE.variant("by-script")
DOUBLE_FREE_BY_LIBRARY = DOUBLE_FREE.variant("by-library")
DOUBLE_FREE_HOSTNAME = DOUBLE_FREE.variant("hostname")
LEAK_OVERWRITTEN = LEAK.variant("overwritten")
LEAK_UNUSED_RESULT = LEAK.variant("unused-result")
LEAK_OUT_OF_SCOPE = LEAK.variant("out-of-scope")
LEAK_LOST = LEAK.variant("lost")
LEAK_AT_END = LEAK.variant("at-end")
BORROWED_UNOWNED = BORROWED_FREE.variant("unowned")
BORROWED_GET0_RESULT = BORROWED_FREE.variant("get0-result")
CALLBACK_NEW_KEPT_NOWHERE = CALLBACK_OWNERSHIP.variant("new-cb-kept-nowhere")
CALLBACK_NEW_FREED_LENT = CALLBACK_OWNERSHIP.variant("new-cb-freed-lent")
CALLBACK_REMOVE_FREED_LENT = CALLBACK_OWNERSHIP.variant("remove-cb-freed-lent")
CALLBACK_COPY0_UNOWNED = CALLBACK_OWNERSHIP.variant("copy0-unowned")
CALLBACK_COPY0_ONLY_REFERENCE = CALLBACK_OWNERSHIP.variant("copy0-only-reference")
CALLBACK_COPY_LEFT_1 = CALLBACK_OWNERSHIP.variant("copy-left-1")


def rule_named(text: str) -> Rule | None:
    """Find a rule by ID (`SR002`) or kebab-case name (`double-free`), case-insensitively."""
    key = text.strip().lower()
    for rule in RULES:
        if key in (rule.id.lower(), rule.name):
            return rule
    return None


def check_variant(rule: Rule, variant: Variant | None) -> None:
    """A finding of `rule` carries a variant exactly when the rule declares variants, and
    only one of its own (both backends call this for every finding)."""
    if variant is None:
        if rule.variants:
            raise ValueError(f"a finding of {rule.name} must say which variant it is ({', '.join(rule.variants)})")
    elif variant.rule is not rule:
        raise ValueError(f"variant {variant.name!r} of {variant.rule.name} given for a finding of {rule.name}")
