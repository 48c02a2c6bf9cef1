"""The library rule behind each finding (`= note:`) and the fix (`help:`). Both come
from the rule's page (`explain/`, its Note and Help sections), the one source of these
texts; a few messages get a more precise help here."""

from __future__ import annotations

from .explain import page_for
from .model.rules import Rule


def advice_for(rule: Rule, message: str) -> tuple[tuple[str, ...], str]:
    """The notes and help for a finding of `rule` whose message is `message`."""
    page = page_for(rule)
    notes, help_text = page.notes, page.help
    if rule.name == "borrowed-free" and "`get0` result" in message:
        notes = notes[:1]
        help_text = "do not free a `get0` result; copy it (`OPENSSL_strdup`, `X509_up_ref`) if it must outlive the session"
    if rule.name == "leak" and "overwritten" in message:
        help_text = "free the old value before assigning a new one"
    if rule.name == "leak" and "out of scope" in message:
        help_text = "free the reference before leaving the scope, or hand it to a holder that outlives it"
    return notes, help_text
