"""Expected outcomes written into a script as `//~` comments.

    //~ safe                         first non-blank line: no finding is expected
    SSL_SESSION_free(x);  //~ double-free
    SSL_free(ssl);        //~ SR001, leak

Rules are kept as written (kebab-case name or ID); mapping them to rules is done by
the caller. Only `//~` comments that follow code on their line count as findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Comments and strings are matched whole so that `//~` inside them is not a marker.
_SCAN = re.compile(
    r'(?P<comment>//[^\n]*)'
    r'|(?P<block>/\*[\s\S]*?(?:\*/|\Z))'
    r'|(?P<string>"(?:[^"\\\n]+|\\.)*"?)'
    r'|(?P<newline>\n)'
    r'|(?P<code>[^\s/"]+|/)'
)


@dataclass
class Expectations:
    """`safe`: the script says `//~ safe`; `findings`: (line, rule as written), in order."""

    safe: bool = False
    findings: list[tuple[int, str]] = field(default_factory=list)


def read_expectations(source: str) -> Expectations:
    """Collect the `//~` markers of a script (lines count from 1)."""
    result = Expectations()
    line = 1
    code_on_line = False  # code seen earlier on the current line
    seen_content = False  # any non-blank line before the current one
    content_on_line = False
    for m in _SCAN.finditer(source):
        kind = m.lastgroup
        if kind == "newline":
            line += 1
            seen_content = seen_content or content_on_line
            code_on_line = content_on_line = False
            continue
        if kind == "comment" and m.group().startswith("//~"):
            text = m.group()[3:].strip()
            if code_on_line:
                result.findings.extend((line, rule.strip()) for rule in text.split(",") if rule.strip())
            elif not seen_content and not content_on_line and text == "safe":
                result.safe = True
        elif kind == "block" and "\n" in m.group():
            line += m.group().count("\n")  # a `/* */` spanning lines ends on a later line
            seen_content, code_on_line = True, False
        elif kind in ("code", "string"):
            code_on_line = True
        content_on_line = True
    return result
