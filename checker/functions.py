"""`sessref functions`: the function catalogue, listed (text) or as data (JSON).

The JSON follows `functions.schema.json` (schema `sessref-functions/1`, installed with the
package, checked by tests/test_functions.py). For a modelled function the citation is its
effect's (`sessref.model.api`), for the others the catalogue's reason.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from .language.catalogue import CATALOGUE, STATUSES, Entry
from .model.api import EFFECTS

SCHEMA = "sessref-functions/1"


def cite(e: Entry) -> str:
    """Where the entry's classification (or, modelled, its effect) comes from."""
    if e.modelled:
        effect = EFFECTS[e.effect_name].cite
        return f"as `{e.alias}`: {effect}" if e.alias else effect
    return e.cite


def select(patterns: list[str], status: str | None = None) -> list[Entry]:
    """The entries whose name matches one of `patterns` (shell globs; none: all), in name order."""
    chosen = [
        e for name, e in sorted(CATALOGUE.items())
        if (not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)) and (status is None or e.status == status)
    ]
    return chosen


def as_json(e: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": e.name,
        "status": e.status,
        "prototype": e.declaration,
        "cite": cite(e),
        "kind": e.kind,
        "header": e.header,
        "why": e.why or None,
        "result": e.result or None,
        "free": e.free or None,
        "io": e.io,
        "generator": e.generator,
    }
    if e.alias:
        out["alias"] = e.alias
    if e.reads_session:
        out["reads_session"] = True
    if e.null_args:
        out["null_args"] = dict(e.null_args)
    return out


def render_json(entries: list[Entry]) -> str:
    totals = {s: sum(1 for e in entries if e.status == s) for s in STATUSES}
    doc = {"schema": SCHEMA, "openssl": "3.0", "functions": [as_json(e) for e in entries],
           "totals": {**totals, "all": len(entries)}}
    return json.dumps(doc, indent=2) + "\n"


def render_text(entries: list[Entry], detailed: bool) -> str:
    """One line per function (name, status, prototype), or with `detailed` a paragraph each."""
    out: list[str] = []
    width = max((len(e.name) for e in entries), default=0)
    for e in entries:
        if not detailed:
            out.append(f"{e.name:<{width}}  {e.status:<10}  {e.declaration}")
            continue
        out.append(f"{e.name}: {e.status} ({e.kind} in {e.header})")
        out.append(f"  {e.declaration}")
        if e.why:
            out.append(f"  why: {e.why}")
        out.append(f"  cite: {cite(e)}")
        if e.result:
            out.append(f"  result: {e.result}" + (f", released with `{e.free}`" if e.free else ""))
        if e.null_args:
            out.append("  NULL: " + ", ".join(f"`{p}` NULL {what}" for p, what in e.null_args.items()))
        flags = [name for name, on in (("handshake/I-O", e.io), ("reads the SSL's session", e.reads_session),
                                       ("generated", e.generator)) if on]
        if flags:
            out.append(f"  {', '.join(flags)}")
        out.append("")
    totals = ", ".join(f"{sum(1 for e in entries if e.status == s)} {s}" for s in STATUSES)
    out.append(f"{len(entries)} function(s): {totals}")
    return "\n".join(out) + "\n"
