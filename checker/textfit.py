"""Text measured and wrapped without a browser, for drawing SVG (which does not wrap).

Widths are the advances of DejaVu Sans and DejaVu Sans Mono (the widest fonts the font
stacks of the reports can fall back to), plus a margin, so a line that fits here fits
in any of those fonts. Text between backticks is code: set in the monospace font.
"""

from __future__ import annotations

from dataclasses import dataclass

MONO_EM = 0.602
MARGIN = 1.04
BOLD = 1.1  # DejaVu Sans Bold is about 10% wider

# DejaVu Sans advance widths in em, grouped.
_SANS_GROUPS = (
    ("'ijlIJ", 0.29),
    (" ,.", 0.32),
    ("/:;\\|", 0.34),
    ("f-", 0.36),
    ("()[]t!", 0.4),
    ("r", 0.41),
    ('"', 0.46),
    ("*_`", 0.5),
    ("s?z", 0.53),
    ("cLFkvxy", 0.59),
    ("PTYaeoEhnu", 0.63),
    ("$0123456789Sbdgpq{}", 0.64),
    ("KAVBRXZC", 0.7),
    ("UHND", 0.77),
    ("&GOQ", 0.79),
    ("w", 0.82),
    ("#+<=>^~M", 0.86),
    ("%mW@", 1.0),
)
_SANS = {ch: em for chars, em in _SANS_GROUPS for ch in chars}


def sans_width(text: str, size: float, bold: bool = False) -> float:
    return sum(_SANS.get(ch, 1.0) for ch in text) * size * MARGIN * (BOLD if bold else 1.0)


def mono_width(text: str, size: float) -> float:
    return len(text) * MONO_EM * size * MARGIN


@dataclass(frozen=True)
class Run:
    """A piece of one line in one font."""

    text: str
    code: bool


Line = tuple[Run, ...]


def _pieces(text: str, all_code: bool) -> list[tuple[str, bool]]:
    """The characters of `text` with whether each is code; backticks themselves are dropped."""
    if all_code:
        return [(ch, True) for ch in text]
    out: list[tuple[str, bool]] = []
    code = False
    for ch in text:
        if ch == "`":
            code = not code
        else:
            out.append((ch, code))
    return out


def _words(pieces: list[tuple[str, bool]]) -> list[list[tuple[str, bool]]]:
    words: list[list[tuple[str, bool]]] = [[]]
    for ch, code in pieces:
        if ch.isspace():
            if words[-1]:
                words.append([])
        else:
            words[-1].append((ch, code))
    return [w for w in words if w]


class Measure:
    """Widths for one font size: sans for prose, mono for code."""

    def __init__(self, size: float, bold: bool = False):
        self.size = size
        self.bold = bold

    def char(self, ch: str, code: bool) -> float:
        if code:
            return mono_width(ch, self.size)
        return sans_width(ch, self.size, self.bold)

    def line(self, line: Line) -> float:
        return sum(self.char(ch, run.code) for run in line for ch in run.text)

    def wrap(self, text: str, width: float, all_code: bool = False) -> list[Line]:
        """Greedy wrapping at spaces; a word wider than `width` is cut where it must be."""
        lines: list[list[tuple[str, bool]]] = []
        current: list[tuple[str, bool]] = []
        used = 0.0
        for word in _words(_pieces(text, all_code)):
            word_width = sum(self.char(ch, code) for ch, code in word)
            joined = bool(current) and current[-1][1] and word[0][1]  # a space inside backticks
            space = self.char(" ", joined) if current else 0.0
            if current and used + space + word_width <= width:
                current.append((" ", joined))
                current.extend(word)
                used += space + word_width
                continue
            if current:
                lines.append(current)
            current, used = [], 0.0
            for ch, code in word:
                w = self.char(ch, code)
                if current and used + w > width:
                    lines.append(current)
                    current, used = [], 0.0
                current.append((ch, code))
                used += w
        if current:
            lines.append(current)
        return [_runs(line) for line in lines]


def _runs(chars: list[tuple[str, bool]]) -> Line:
    runs: list[Run] = []
    for ch, code in chars:
        if runs and runs[-1].code == code:
            runs[-1] = Run(runs[-1].text + ch, code)
        else:
            runs.append(Run(ch, code))
    return tuple(runs)
