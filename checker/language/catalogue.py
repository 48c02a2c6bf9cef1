"""The function catalogue: one entry per C function or function-like macro sessref knows.

The data is `catalogue.toml` beside this file (its header documents every field); this
module loads it once, checks its shape (an unknown field, status or reason is an error at
import, so a typo cannot pass silently) and parses each prototype. Every table of names in
sessref derives from `CATALOGUE`: the resolver's prototypes, the executor's modelled,
neutral and unmodelled calls and its handshake list, the reproducer's renderings, the
generator's calls, the fix maker's free functions, the C front end's lookup of names, and
`sessref functions`. `tests/test_catalogue.py` holds each consumer to it, and the catalogue
to the installed `openssl/ssl.h`.

Status, in short: *modelled* calls have an effect in `sessref.model.api` (with its
citation); *neutral* calls change nothing the model tracks (the entry says why); a path
through an *unmodelled* call is `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import cheader
from .cheader import Prototype
from .datacache import cached

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PATH = Path(__file__).with_name("catalogue.toml")
STATUSES = ("modelled", "neutral", "unmodelled")
RESULTS = ("owned", "borrowed", "untracked")
REPRO = ("d2i", "set1_id", "sleep", "unchecked", "none", "decode_bio", "verify")
REGISTERS = ("remove_session_cb", "new_session_cb", "get_session_cb", "servername_cb")
_FIELDS = {
    "prototype", "kind", "header", "status", "reason", "why", "cite", "result", "free", "alias", "io",
    "registers", "repro", "allocates", "generator", "reads_session", "untouched", "null", "expands",
    "prototype_from", "null_args",
}


class CatalogueError(ValueError):
    """The catalogue's data is malformed (a bug in sessref, caught at import)."""


@dataclass(frozen=True)
class Entry:
    name: str
    prototype: Prototype
    declaration: str  # the prototype as written in the data
    status: str
    header: str
    kind: str = "function"  # or "macro"
    reason: str = ""  # a key of the reasons table, or "" for an entry's own `why`
    why: str = ""  # why it is neutral, or what an unmodelled one would need
    cite: str = ""  # the source or manual page the classification rests on
    result: str = ""  # "owned", "borrowed", "untracked" or "" (not a pointer, or not said)
    free: str = ""  # what releases an owned result
    alias: str = ""  # the function whose effect this one has, with the same arguments
    io: bool = False  # a handshake or I/O call
    registers: str = ""  # the session callback it registers
    repro: str = ""  # "tls:N", "d2i", "set1_id", "sleep", "unchecked" or "" (as written)
    allocates: bool = False
    generator: bool = False
    reads_session: bool = False
    untouched: dict[str, str] = field(default_factory=dict)  # pointer parameter -> why
    null: str = ""
    null_args: dict[str, str] = field(default_factory=dict)  # object parameter -> what NULL does
    expands: str = ""
    prototype_from: str = ""

    @property
    def modelled(self) -> bool:
        return self.status == "modelled"

    @property
    def neutral(self) -> bool:
        return self.status == "neutral"

    @property
    def unmodelled(self) -> bool:
        return self.status == "unmodelled"

    @property
    def effect_name(self) -> str:
        """The model effect a modelled call runs (its own, or its alias's)."""
        return self.alias or self.name

    @property
    def tls_code(self) -> int | None:
        """The reproducer runtime's code for a call it runs against its peer."""
        return int(self.repro.split(":", 1)[1]) if self.repro.startswith("tls:") else None

    @property
    def queues(self) -> bool:
        """Whether the library may owe the script callbacks or stages after this call."""
        return self.io or bool(self.registers)


def _load(path: Path = PATH) -> tuple[dict[str, Entry], dict[str, dict], frozenset[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    reasons: dict[str, dict] = data.get("reasons", {})
    callback_types = frozenset(data.get("types", {}).get("callbacks", []))
    for key, r in reasons.items():
        if r.get("status") not in ("neutral", "unmodelled") or not r.get("text"):
            raise CatalogueError(f"reason `{key}`: needs a status (neutral or unmodelled) and a text")
    raw: dict[str, dict] = data.get("fn", {})
    protos = cheader.prototypes([e.get("prototype", "") for e in raw.values()], callback_types)
    entries: dict[str, Entry] = {}
    for (name, e), proto in zip(raw.items(), protos):
        unknown = set(e) - _FIELDS
        if unknown:
            raise CatalogueError(f"`{name}`: unknown field(s) {sorted(unknown)}")
        if proto.name != name:
            raise CatalogueError(f"`{name}`: its prototype declares `{proto.name}`")
        status = e.get("status")
        if status not in STATUSES:
            raise CatalogueError(f"`{name}`: status must be one of {STATUSES}, not {status!r}")
        reason = e.get("reason", "")
        why, cite = e.get("why", ""), e.get("cite", "")
        if reason:
            r = reasons.get(reason)
            if r is None:
                raise CatalogueError(f"`{name}`: unknown reason `{reason}`")
            if r["status"] != status:
                raise CatalogueError(f"`{name}` is {status} but its reason `{reason}` is for {r['status']} calls")
            why, cite = why or r["text"], cite or r.get("cite", "")
        if status != "modelled" and not why:
            raise CatalogueError(f"`{name}` is {status}: it needs a reason or a why")
        if e.get("result", "") not in ("", *RESULTS):
            raise CatalogueError(f"`{name}`: result must be one of {RESULTS}")
        if e.get("result") == "owned" and not e.get("free"):
            raise CatalogueError(f"`{name}`: an owned result needs its free function")
        repro = e.get("repro", "")
        if repro and repro not in REPRO and not repro.startswith("tls:"):
            raise CatalogueError(f"`{name}`: unknown repro rendering {repro!r}")
        if e.get("registers", "") not in ("", *REGISTERS):
            raise CatalogueError(f"`{name}`: unknown callback kind {e.get('registers')!r}")
        if e.get("kind", "function") not in ("function", "macro"):
            raise CatalogueError(f"`{name}`: kind must be function or macro")
        entries[name] = Entry(
            name=name, prototype=proto, declaration=e["prototype"], status=status, header=e.get("header", ""),
            kind=e.get("kind", "function"), reason=reason, why=why, cite=cite, result=e.get("result", ""),
            free=e.get("free", ""), alias=e.get("alias", ""), io=bool(e.get("io", False)),
            registers=e.get("registers", ""), repro=repro, allocates=bool(e.get("allocates", False)),
            generator=bool(e.get("generator", False)), reads_session=bool(e.get("reads_session", False)),
            untouched=dict(e.get("untouched", {})), null=e.get("null", ""), expands=e.get("expands", ""),
            null_args=dict(e.get("null_args", {})),
            prototype_from=e.get("prototype_from", ""),
        )
    for entry in entries.values():
        for other in (entry.alias, entry.free):
            if other and other not in entries:
                raise CatalogueError(f"`{entry.name}` names `{other}`, which has no entry")
    return entries, reasons, callback_types


# Parsing 1,300 prototypes took 0.11 s of every run's start: kept between runs.
CATALOGUE, REASONS, CALLBACK_TYPES = cached("catalogue", [PATH, Path(__file__), Path(cheader.__file__)], _load)


def entry(name: str) -> Entry | None:
    """The catalogue's entry for `name`, or None: the one lookup of an OpenSSL or C name."""
    return CATALOGUE.get(name)


def require(name: str) -> Entry:
    """The entry of a name a consumer's table lists: a missing one is a bug in sessref."""
    found = CATALOGUE.get(name)
    if found is None:
        raise CatalogueError(f"`{name}` is used by sessref but has no catalogue entry")
    return found


def names(**wanted) -> frozenset[str]:
    """The names whose entries have every field of `wanted` (`names(io=True)`)."""
    return frozenset(n for n, e in CATALOGUE.items() if all(getattr(e, k) == v for k, v in wanted.items()))
