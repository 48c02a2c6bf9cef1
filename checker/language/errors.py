"""Errors sessref reports about a script, and their rustc-style rendering."""

from __future__ import annotations

import re

from .ast import Span


class SessrefError(Exception):
    """A problem located in a script.

    `label` is printed under the caret, `notes` and `help` after the snippet.
    `source` optionally carries the text the span points into, so the error can be
    rendered without re-reading the file (the parser fills it in).
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        label: str = "",
        notes: tuple[str, ...] = (),
        help: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.label = label
        self.notes = tuple(notes)
        self.help = help
        self.source = source

    def __str__(self) -> str:
        return f"{self.span}: {self.message}" if self.span else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keep every field through pickling (e.g. across worker processes).
        return (type(self), (self.message, self.span), self.__dict__)


class ParseError(SessrefError):
    """The text is not a well-formed script (bad bytes, bad tokens, bad syntax)."""


class ResolveError(SessrefError):
    """The script parses but breaks a naming, typing or structure rule."""


class NotModelledError(SessrefError):
    """The script calls an OpenSSL function the model has no semantics for yet."""


class InternalError(SessrefError):
    """A bug in sessref itself."""

    kind = "internal error"


_TAB = "    "
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # shown as U+FFFD so the terminal stays sane


def render_error(err: SessrefError, source: str | None = None) -> str:
    """Render `err` like rustc: headline, location, the source line with carets, notes.

    `source` defaults to the text carried by the error; without any source (or if the
    span lies outside it) only the headline, location and notes are printed.
    """
    text = source if source is not None else err.source
    out = [f"{err.kind}: {err.message}"]
    span = err.span
    if span is None:
        out.extend(f"= note: {n}" for n in err.notes)
        if err.help:
            out.append(f"= help: {err.help}")
        return "\n".join(out) + "\n"

    lines = text.split("\n") if text is not None else []
    has_line = 1 <= span.line <= len(lines)
    pad = " " * len(str(span.line))
    out.append(f"{pad}--> {span}")
    if has_line:
        raw = lines[span.line - 1].rstrip("\r")
        start = max(span.column - 1, 0)
        if span.end_line == span.line:
            end = max(span.end_column - 1, start + 1)
        else:
            end = max(len(raw), start + 1)  # multi-line span: caret to the end of the first line
        # Tabs widen to four columns; carets must follow the widened text.
        shown = _CONTROL.sub("\ufffd", raw.replace("\t", _TAB))
        caret_from = len(raw[:start].replace("\t", _TAB))
        caret_to = len(raw[:end].replace("\t", _TAB))
        if end > len(raw):
            caret_to += end - len(raw)
        carets = " " * caret_from + "^" * max(caret_to - caret_from, 1)
        out.append(f"{pad} |")
        out.append(f"{span.line} | {shown}".rstrip())
        out.append(f"{pad} | {carets}" + (f" {err.label}" if err.label else ""))
    if err.notes or err.help:
        out.append(f"{pad} |")
        out.extend(f"{pad} = note: {n}" for n in err.notes)
        if err.help:
            out.append(f"{pad} = help: {err.help}")
    return "\n".join(out) + "\n"
