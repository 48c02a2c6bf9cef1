"""The library rule behind each finding (`= note:`) and the fix (`help:`). Both come
from the rule's page (`explain/`, its Note and Help sections), the one source of these
texts; a variant of the rule (`model/rules.py`) may have its own, tagged in the page."""

from __future__ import annotations

from .explain import page_for
from .model.rules import Rule, Variant


def advice_for(rule: Rule, variant: Variant | None) -> tuple[tuple[str, ...], str]:
    """The notes and help for a finding of `rule`, of `variant` when the rule has variants."""
    return page_for(rule).advice(variant)
