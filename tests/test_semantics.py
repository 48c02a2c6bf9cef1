"""`docs/semantics.md`, the account of OpenSSL's session semantics the model rests on:
every citation of it (`semantics §4.4`, mistakes `M11`, user rules `R4`) in the model,
the checker, the rule pages and the specs names a section, mistake or rule it has; the
facts it marks `[V7]` hold on the installed library (`tests/data/semantics_probe.c`,
built and run under valgrind); the specs it names as conformance evidence exist; and,
given an OpenSSL 3.0 source tree (`SESSREF_OPENSSL_SRC`), every `file.c function Lx-y`
citation lies in the function it names."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from sessref import memcheck

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "semantics.md"
PROBE = ROOT / "tests" / "data" / "semantics_probe.c"

SECTION_REF = re.compile(r"(?<![\w.])(?:issue \d+ )?§(\d+(?:\.\d+)*)")
MISTAKE_REF = re.compile(r"\bM(\d{1,2})\b")
RULE_REF = re.compile(r"\bR(\d{1,2})\b")


def _doc() -> str:
    return DOC.read_text()


def _anchors() -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', _doc()))


def _citing_files() -> list[Path]:
    files = [*(ROOT / "model").glob("*.py"), *(ROOT / "checker").rglob("*.py"), *(ROOT / "checker" / "explain").glob("*.md")]
    files += [*(ROOT / "specs").rglob("*.sess")]
    return sorted(files)


def test_every_section_anchor_heads_its_section() -> None:
    lines = _doc().split("\n")
    for i, line in enumerate(lines):
        m = re.fullmatch(r'<a id="s(\d+(?:\.\d+)*)"></a>', line)
        if m:
            number = m.group(1)
            heading = lines[i + 1]
            assert re.match(rf"#+ {re.escape(number)}[. ]", heading), f"anchor s{number} is not followed by its heading: {heading!r}"


def test_every_citation_resolves_to_the_document() -> None:
    anchors = _anchors()
    missing = []
    for path in _citing_files():
        text = path.read_text(errors="replace")
        where = path.relative_to(ROOT)
        for m in SECTION_REF.finditer(text):
            if m.group(0).startswith("issue "):
                continue  # a section of an issue, not of this document
            if f"s{m.group(1)}" not in anchors:
                missing.append(f"{where}: §{m.group(1)}")
        for m in MISTAKE_REF.finditer(text):
            if f"M{m.group(1)}" not in anchors:
                missing.append(f"{where}: M{m.group(1)}")
        for m in RULE_REF.finditer(text):
            if f"R{m.group(1)}" not in anchors:
                missing.append(f"{where}: R{m.group(1)}")
    assert not missing, "citations that name nothing in docs/semantics.md:\n" + "\n".join(missing)


def test_the_model_cites_the_document_inside_the_project() -> None:
    for path in _citing_files():
        text = path.read_text(errors="replace")
        assert "openssl-session-semantics" not in text and "../shared/" not in text, (
            f"{path.relative_to(ROOT)} cites a file outside the repository: cite docs/semantics.md"
        )


def test_every_mistake_and_user_rule_is_defined_once() -> None:
    anchors = re.findall(r'<a id="([MR]\d+)"></a>\*\*\1\*\*', _doc())
    assert len(anchors) == len(set(anchors))
    assert {a for a in anchors if a[0] == "M"} == {f"M{n}" for n in range(1, 24)}
    assert {a for a in anchors if a[0] == "R"} == {f"R{n}" for n in range(1, 15)}


def test_conformance_evidence_names_existing_specs() -> None:
    specs = {p.stem for p in (ROOT / "specs").rglob("*.sess")}
    named = set()
    for group in re.findall(r"\[conform: ([^\]]+)\]", _doc()):
        for name in re.split(r",\s*", group.replace("\n", " ")):
            name = name.strip().removeprefix("via specs/examples/")
            if name and not name.startswith(("the specs", "*")):
                named.add(name.split()[0])
    assert named, "the document names no spec as evidence"
    assert not named - specs, f"[conform: ...] names no spec: {sorted(named - specs)}"


def _probe_ids() -> list[str]:
    return re.findall(r'check\("(V\d+)"', PROBE.read_text())


def test_the_document_cites_every_probe_check() -> None:
    probe = _probe_ids()
    assert len(probe) == len(set(probe))
    cited = set(re.findall(r"\bV\d+\b", " ".join(re.findall(r"\*\*\[(V[^\]]*)\]\*\*", _doc()))))
    assert cited == set(probe), f"in the probe only: {sorted(set(probe) - cited)}; in the document only: {sorted(cited - set(probe))}"


@pytest.fixture(scope="module")
def toolchain() -> None:
    problem = memcheck.toolchain_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the semantics probe must run in CI: {problem}")
        pytest.skip(problem)


def test_the_installed_library_behaves_as_the_document_says(toolchain: None, tmp_path: Path) -> None:
    binary = tmp_path / "probe"
    subprocess.run(["cc", "-g", "-O0", "-o", str(binary), str(PROBE), "-lssl", "-lcrypto"], check=True, capture_output=True)
    done = subprocess.run(
        ["valgrind", "-q", "--child-silent-after-fork=yes", "--error-exitcode=9", str(binary)],
        capture_output=True, text=True, timeout=300,
    )
    results = dict(re.findall(r"^(V\d+) (ok|FAIL)", done.stdout, re.M))
    assert set(results) == set(_probe_ids()), done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if " FAIL " in line]
    assert not failed, "\n".join(failed)
    assert done.returncode == 0, f"the probe itself made memory errors:\n{done.stderr}"


# ---- the source lines, against an OpenSSL 3.0 tree -------------------------------------------------

CITATION = re.compile(r"`?([A-Za-z_][A-Za-z0-9_]{3,})`?\s+\(?L(\d+)(?:-(\d+))?")


def _functions(lines: list[str]) -> dict[str, int]:
    """Each function defined at the start of a line, with the line it starts on (1-based)."""
    found: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        m = re.match(r"(?:[A-Za-z_][\w \*]*?\b)?([A-Za-z_]\w*)\s*\(", line)
        if m and not line.startswith((" ", "\t", "#", "/", "*")) and not line.rstrip().endswith(";"):
            found.setdefault(m.group(1), number)
    return found


def _enclosing(lines: list[str], number: int) -> str | None:
    """The function whose body holds line `number`."""
    for i in range(number - 1, -1, -1):
        if lines[i].startswith("{"):
            for j in range(i - 1, max(i - 6, -1), -1):
                m = re.search(r"\b([A-Za-z_]\w*)\s*\(", lines[j])
                if m and not lines[j].startswith((" ", "\t", "#", "/", "*")):
                    return m.group(1)
            return None
        if lines[i].startswith("}") and i != number - 1:
            return None
    return None


@pytest.mark.skipif(not os.environ.get("SESSREF_OPENSSL_SRC"), reason="set SESSREF_OPENSSL_SRC to an OpenSSL 3.0 source tree")
def test_source_citations_lie_in_the_functions_they_name() -> None:
    tree = Path(os.environ["SESSREF_OPENSSL_SRC"])
    sources: dict[str, list[str] | None] = {}
    wrong = []
    for path in [*_citing_files(), DOC]:
        text = path.read_text(errors="replace")
        for m in re.finditer(r"([a-z0-9_]+\.c)[^\n]{0,200}", text):
            name, segment = m.group(1), m.group(0)
            following = re.search(r"[a-z0-9_]+\.c", segment[len(name) :])
            if following:
                segment = segment[: len(name) + following.start()]
            if name not in sources:
                found = [p for p in tree.rglob(name) if "test" not in p.parts and "fuzz" not in p.parts]
                sources[name] = found[0].read_text(errors="replace").split("\n") if found else None
            lines = sources[name]
            if lines is None:
                continue
            functions = _functions(lines)
            for c in CITATION.finditer(segment):
                function, first = c.group(1), int(c.group(2))
                last = int(c.group(3) or first)
                if function not in functions:
                    continue  # a word, not a function of that file
                inside = _enclosing(lines, first) == function or abs(functions[function] - first) <= 2
                mentioned = any(function in lines[k] for k in range(first - 1, min(last, len(lines))))
                if not (inside or mentioned):
                    wrong.append(f"{path.relative_to(ROOT)}: {name} {function} L{first}: {function} starts at L{functions[function]}")
    assert not wrong, "citations that miss their function:\n" + "\n".join(wrong)
