"""The findings sessref reports: a stable ID, a kebab-case name, and whether the path ends there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    # A crash is undefined behaviour in the real library: the path is not followed further.
    crash: bool
    severity: str = "error"


USE_AFTER_FREE = Rule("SR001", "use-after-free", "a call reads or writes a destroyed object", crash=True)
DOUBLE_FREE = Rule("SR002", "double-free", "a reference is released on an already destroyed object", crash=True)
DANGLING_REFERENCE = Rule(
    "SR003",
    "dangling-reference",
    "an object is destroyed while another holder still points at it",
    crash=False,
)
LEAK = Rule("SR004", "leak", "an object is never released, or its last owned reference is lost", crash=False)
BORROWED_FREE = Rule(
    "SR005",
    "borrowed-free",
    "the script releases a reference it never owned",
    crash=False,
    severity="warning",
)
NULL_DEREFERENCE = Rule(
    "SR006", "null-dereference", "a possibly NULL pointer is passed where the library dereferences it", crash=True
)
CACHE_CORRUPTION = Rule(
    "SR007",
    "cache-corruption",
    "a session is linked into a second cache, which corrupts both caches' lists",
    crash=True,
)

CALLBACK_OWNERSHIP = Rule(
    "SR008",
    "callback-ownership",
    "a session callback breaks its reference contract (new_session_cb, get_session_cb's `*copy`, remove_session_cb)",
    crash=False,
)
STALE_SESSION = Rule(
    "SR009",
    "stale-session",
    "a session the library marked not resumable is offered for resumption",
    crash=False,
    severity="warning",
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


def rule_named(text: str) -> Rule | None:
    """Find a rule by ID (`SR002`) or kebab-case name (`double-free`), case-insensitively."""
    key = text.strip().lower()
    for rule in RULES:
        if key in (rule.id.lower(), rule.name):
            return rule
    return None
