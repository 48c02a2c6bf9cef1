"""The pictures of counterexamples (`sessref check --html/--svg`): well-formed, self-contained,
escaped, with one lane per object, a band per holder, the destruction and the finding
marked and one row per step; then the same pages in headless Chromium, which must render
them without a console error, lay them out without empty lanes or overflowing rows, and
print them to PDF.

The Chromium part needs Debian's `chromium` package. Without it those tests skip, saying
what to install; in CI (`CI=true`) a missing Chromium is a failure, never a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sessref import report_html
from sessref.cli import check_file, main
from sessref.findings import FileReport, ReportedFinding, holder_text
from sessref.solving import Options

ROOT = Path(__file__).resolve().parent.parent
SVG_NS = "http://www.w3.org/2000/svg"
SPECS = {
    "double_free": "specs/examples/set_session_free_order.sess",
    "several": "specs/examples/borrowed_free.sess",
    "leak": "specs/examples/dup_leak.sess",
    "handshake": "specs/handshakes/remove_cb_frees_on_alert.sess",
    "safe": "specs/examples/ctx_lives_on.sess",
    "bounded": "specs/examples/saved_session_loop.sess",
}
VOID = {"meta", "br", "img", "hr", "input", "link", "source", "wbr", "col", "area", "base", "embed", "param", "track"}


@pytest.fixture(scope="module")
def reports() -> dict[str, FileReport]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # relative file names, as a user would type them
    try:
        return {key: check_file(Path(spec), Options()) for key, spec in SPECS.items()}
    finally:
        os.chdir(cwd)


# -- reading the output back ---------------------------------------------------------
class _Page(HTMLParser):
    """Checks that every element is closed in order, and keeps the start tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()


def parse_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    assert not page.problems, page.problems[:5]
    assert not page.stack, f"unclosed: {page.stack}"
    assert text.startswith("<!DOCTYPE html>")
    return page


def svgs_of(page: str) -> list[ET.Element]:
    """The inline SVGs of a page, each parsed as XML (they are written as such)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", page, re.S)]


def q(tag: str) -> str:
    return f"{{{SVG_NS}}}{tag}"


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in svg.iter(q("g")) if cls in (g.get("class") or "").split()]


def text_of(element: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in element.iter(q("text")))


def squash(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def assert_self_contained(text: str) -> None:
    addresses = set(re.findall(r"https?://[^\s\"'<>)]*", text))
    assert addresses <= {SVG_NS}, addresses
    lowered = text.lower()
    for banned in ("<script", "<link", "@import", "<img", "<iframe", "<object", "<embed", " src=", "<use"):
        assert banned not in lowered, banned
    assert "url(" not in lowered  # no pattern, font or image fetched, not even from the page itself
    assert re.findall(r'href="([^"]*)"', text) == [h for h in re.findall(r'href="(#[^"]*)"', text)]


def alive_objects(f: ReportedFinding) -> list[str]:
    names: list[str] = []
    for step in f.steps:
        for o in step.objects:
            if o.status == "alive" and o.name not in names:
                names.append(o.name)
    return names


def check_timeline(svg: ET.Element, report: FileReport, f: ReportedFinding) -> None:
    """The drawing says what the report says: lanes, bands, marks and rows."""
    assert svg.get("data-rule") == f.rule.id
    lanes = groups(svg, "lane")
    assert [lane.get("data-object") for lane in lanes] == alive_objects(f)
    expected_bands = {
        (o.name, holder_text(kind, name))
        for s in f.steps
        for o in s.objects
        if o.status == "alive"
        for kind, name, _ in o.holdings
    }
    bands = {(b.get("data-object"), b.get("data-holder")) for b in groups(svg, "band")}
    assert bands == expected_bands
    for band in groups(svg, "band"):
        rects = band.findall(q("rect"))
        assert rects and all(float(r.get("height", "0")) > 0 and float(r.get("width", "0")) > 0 for r in rects)
    destroyed = {
        (o.name, s.number)
        for before, s in zip(f.steps, f.steps[1:])
        for o in s.objects
        if o.status == "destroyed" and any(p.name == o.name and p.status == "alive" for p in before.objects)
    }
    assert {(g.get("data-object"), int(g.get("data-step", "0"))) for g in groups(svg, "destroyed")} == destroyed
    [fault] = groups(svg, "fault") or [None]
    if fault is not None:
        assert fault.get("data-rule") == f.rule.id and fault.get("data-step") == str(f.steps[-1].number)
        assert f"{f.rule.id} {f.rule.name}" in text_of(fault)
    rows = groups(svg, "step")
    assert [(int(r.get("data-step", "0")), int(r.get("data-line", "0"))) for r in rows] == [
        (s.number, s.span.line) for s in f.steps
    ]
    lines = report.source.split("\n")
    for row, step in zip(rows, f.steps):
        assert squash(lines[step.span.line - 1]) in squash(text_of(row))
    texts = squash(" ".join(text_of(r) for r in rows))
    for label in f.labels:
        assert squash(label.text) in texts, label.text
    assert squash(f.message) in squash(text_of(rows[-1]))


# -- the HTML page -------------------------------------------------------------------
@pytest.mark.parametrize("key", ["double_free", "several", "leak", "handshake"])
def test_page_draws_each_finding(reports: dict[str, FileReport], key: str) -> None:
    report = reports[key]
    page = report_html.render([report])
    parsed = parse_page(page)
    assert_self_contained(page)
    articles = [attrs for tag, attrs in parsed.tags if tag == "article"]
    assert [a["data-rule"] for a in articles] == [f.rule.id for f in report.findings]
    svgs = svgs_of(page)
    assert len(svgs) == len(report.findings)
    for svg, f in zip(svgs, report.findings):
        check_timeline(svg, report, f)
        assert report_html._inline(f.message) in page
        for choice in f.shown_choices:
            assert report_html._inline(choice.text) in page


def test_double_free_timeline_in_detail(reports: dict[str, FileReport]) -> None:
    [svg] = svgs_of(report_html.render([reports["double_free"]]))
    assert [g.get("data-object") for g in groups(svg, "lane")] == ["ssl", "s"]
    bands = {(b.get("data-object"), b.get("data-holder")): b for b in groups(svg, "band")}
    assert set(bands) == {("ssl", "script(ssl)"), ("s", "script(s)"), ("s", "slot(ssl)"), ("s", "borrowed by s")}
    # The slot takes its reference at `SSL_set_session` (line 7) and lets go at `SSL_free` (line 9).
    rows = {g.get("data-step"): g.get("data-line") for g in groups(svg, "step")}
    slot = bands[("s", "slot(ssl)")]
    assert (rows[slot.get("data-from-step")], rows[slot.get("data-to-step")]) == ("7", "9")
    [destroyed] = [g for g in groups(svg, "destroyed") if g.get("data-object") == "s"]
    assert rows[destroyed.get("data-step")] == "9"
    [fault] = groups(svg, "fault")
    assert (fault.get("data-object"), rows[fault.get("data-step")]) == ("s", "10")
    assert fault.get("data-rule-name") == "double-free"


def test_leak_marks_the_end_and_keeps_the_band_open(reports: dict[str, FileReport]) -> None:
    [svg] = svgs_of(report_html.render([reports["leak"]]))
    [band] = groups(svg, "band")
    assert (band.get("data-holder"), band.get("data-to-step")) == ("script(copy)", "end")
    [fault] = groups(svg, "fault")
    assert fault.get("data-object") == "copy" and fault.get("data-rule") == "SR004"


def test_script_text_is_escaped(tmp_path: Path) -> None:
    nasty = "// <b>bold</b> & \"quoted\" 'single' </svg><script>alert(1)</script>"
    source = (
        f"{nasty}\n"
        "SSL_SESSION *s = SSL_SESSION_new();\n"
        'SSL_SESSION_set1_id(s, "<&\\">", 4);       // <i>&amp;</i>\n'
        "SSL_SESSION_free(s);\n"
        "SSL_SESSION_free(s);                      // a < b && c > d\n"
    )
    spec = tmp_path / "odd & 'name' <x>.sess"
    spec.write_text(source)
    report = check_file(spec, Options(), full_trace=True)
    assert [f.rule.name for f in report.findings] == ["double-free"]
    page = report_html.render([report])
    parse_page(page)
    assert_self_contained(page)
    assert "<b>" not in page and "<i>" not in page and "alert(1)</script>" not in page
    [svg] = svgs_of(page)
    rows = groups(svg, "step")
    assert "a < b && c > d" in text_of(rows[-1])
    assert any('"<&\\">"' in text_of(r) for r in rows)
    assert svg.get("data-file") == str(spec)
    for document in report_html.svg_documents([report]):
        ET.fromstring(document)
        assert "<script" not in document


def test_safe_bounded_unknown_and_errors(reports: dict[str, FileReport]) -> None:
    unknown = FileReport(
        "specs/x.sess",
        "SSL_SESSION *s = SSL_SESSION_new();\n",
        "unknown",
        False,
        False,
        4,
        "too many cases in one step",
        (),
    )
    vacuous = FileReport("specs/v.sess", "assume(0);\n", "safe", False, True, 4, "", ())
    counting = FileReport("specs/n.sess", "int n = 0;\nwhile (*) { n = n + 1; }\n", "safe", True, False, 4, "", (),
                          bounded_why=("the loop at line 2: its states still change after 4 iterations (`n`)",))
    error = {"file": "specs/bad.sess", "kind": "input", "message": "missing `;` <here>", "line": 3, "column": 7}
    page = report_html.render([reports["safe"], reports["bounded"], counting, unknown, vacuous], [error])
    parsed = parse_page(page)
    assert_self_contained(page)
    sections = [(a["data-file"], a["data-verdict"]) for tag, a in parsed.tags if tag == "section"]
    assert sections == [
        (SPECS["safe"], "safe"),
        (SPECS["bounded"], "safe"),
        ("specs/n.sess", "safe"),
        ("specs/x.sess", "unknown"),
        ("specs/v.sess", "safe"),
        ("specs/bad.sess", "error"),
    ]
    assert "safe: no finding on any path</p>" in page
    assert "(all iterations: the loop&#x27;s states repeat after 1)" in page or \
        "(all iterations: the loop's states repeat after 1)" in page
    assert "(bounded: loops explored up to 4 iterations; the loop at line 2: its states still change" in page
    assert "unknown: too many cases in one step (this is not a proof of safety)" in page
    assert "vacuous: no path reaches the end" in page
    assert "missing <code>;</code> &lt;here&gt; (line 3, column 7)" in page
    assert "<svg" not in page


def test_cli_writes_html_and_one_svg_per_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check", SPECS["several"], SPECS["safe"]]) == 1
    plain = capsys.readouterr().out
    html, svg = tmp_path / "report.html", tmp_path / "report.svg"
    assert main(["check", SPECS["several"], SPECS["safe"], "--html", str(html), "--svg", str(svg)]) == 1
    out, err = capsys.readouterr()
    assert out == plain  # the text report is unchanged
    files = [html, svg, tmp_path / "report-2.svg", tmp_path / "report-3.svg"]
    assert err.splitlines() == [f"wrote {p}" for p in files]
    assert not (tmp_path / "report-4.svg").exists()
    page = html.read_text()
    parsed = parse_page(page)
    assert [a["data-file"] for tag, a in parsed.tags if tag == "section"] == [SPECS["several"], SPECS["safe"]]
    rules = []
    for path in files[1:]:
        root = ET.parse(path).getroot()
        assert root.tag == q("svg") and root.find(q("style")) is not None
        assert_self_contained(path.read_text())
        rules.append(root.get("data-rule"))
        assert "borrowed_free.sess" in text_of(root)
    assert rules == ["SR005", "SR003", "SR002"]


def test_cli_svg_without_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    svg = tmp_path / "safe.svg"
    assert main(["check", SPECS["safe"], "--svg", str(svg)]) == 0
    assert capsys.readouterr().err == f"wrote {svg}\n"
    root = ET.parse(svg).getroot()
    assert "no counterexample" in text_of(root) and f"{SPECS['safe']}: safe" in text_of(root)


def test_cli_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    missing = tmp_path / "no" / "such" / "report.html"
    assert main(["check", SPECS["double_free"], "--html", str(missing)]) == 2
    assert f"cannot write {missing}: no such directory" in capsys.readouterr().err
    assert main(["check", SPECS["double_free"], "--svg", str(tmp_path)]) == 2
    assert "it is a directory" in capsys.readouterr().err
    if Path("/dev/full").exists():
        assert main(["check", SPECS["double_free"], "--html", "/dev/full"]) == 2
        captured = capsys.readouterr()
        assert "cannot write /dev/full" in captured.err
        assert "error[double-free]" in captured.out  # the report itself was printed


# -- in a real browser ---------------------------------------------------------------
MEASURE = """<script>
(function () {
  var problems = [];
  function size(el) { var r = el.getBoundingClientRect(); return r.width > 0.5 && r.height > 0.5; }
  var marks = document.querySelectorAll('g.lane, g.band, g.destroyed, g.fault, g.step');
  marks.forEach(function (el) {
    if (!size(el)) problems.push('empty ' + el.getAttribute('class') + ' ' + (el.dataset.object || el.dataset.step));
  });
  document.querySelectorAll('g.step').forEach(function (row) {
    var box = row.querySelector('rect.row-text').getBoundingClientRect();
    row.querySelectorAll('text').forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.left < box.left - 1) return;  // the step and line numbers, left of the text column
      if (r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5 || r.top < box.top - 0.5)
        problems.push('overflow in step ' + row.dataset.step + ': ' + t.textContent);
    });
  });
  document.querySelectorAll('g.band').forEach(function (band) {
    var box = band.querySelector('rect').getBoundingClientRect();
    band.querySelectorAll('text').forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.left < box.left || r.right > box.right) problems.push('band label overflows: ' + t.textContent);
    });
  });
  document.querySelectorAll('svg.tl').forEach(function (svg) {
    var frame = svg.getBoundingClientRect();
    svg.querySelectorAll('g.lane').forEach(function (lane) {
      var r = lane.getBoundingClientRect();
      if (r.right > frame.right + 0.5) problems.push('lane clipped: ' + lane.dataset.object);
    });
  });
  document.body.setAttribute('data-lanes', document.querySelectorAll('g.lane').length);
  document.body.setAttribute('data-layout', problems.length ? problems.join(' | ') : 'ok');
})();
</script>"""

CONSOLE_TROUBLE = re.compile(r"CONSOLE|Uncaught|Failed to load|net::ERR_")


def _chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = _chromium_binary()
    if binary is None:
        problem = "headless Chromium is needed to render the pages: install chromium (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the rendering tests must run in CI: {problem}")
        pytest.skip(problem)
    return binary


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    trouble = [line for line in result.stderr.splitlines() if CONSOLE_TROUBLE.search(line)]
    assert not trouble, trouble
    return result


@pytest.mark.slow
@pytest.mark.browser
def test_pages_render_in_chromium(reports: dict[str, FileReport], chromium: str, tmp_path: Path) -> None:
    pages = {
        "double_free": [reports["double_free"]],
        "several": [reports["several"]],
        "mixed": [reports["handshake"], reports["leak"], reports["safe"]],
    }
    for name, chosen in pages.items():
        page = report_html.render(chosen)
        plain = tmp_path / f"{name}.html"
        plain.write_text(page)
        measured = tmp_path / f"{name}-measured.html"
        measured.write_text(page.replace("</body>", MEASURE + "\n</body>"))
        dom = run_chromium(chromium, tmp_path / f"profile-{name}", "--dump-dom", measured.as_uri()).stdout
        lanes = sum(len(alive_objects(f)) for r in chosen for f in r.findings)
        assert f'data-lanes="{lanes}"' in dom
        assert 'data-layout="ok"' in dom, re.search(r'data-layout="([^"]*)"', dom)
        # The page itself, untouched, renders the same elements.
        dumped = run_chromium(chromium, tmp_path / f"profile-{name}-plain", "--dump-dom", plain.as_uri()).stdout
        for cls in ("lane", "band", "destroyed", "fault", "step"):
            assert dumped.count(f'class="{cls}"') == page.count(f'class="{cls}"') > 0, cls


@pytest.mark.slow
@pytest.mark.browser
def test_page_prints_and_svg_renders(reports: dict[str, FileReport], chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "several.html"
    page.write_text(report_html.render([reports["several"]]))
    pdf = tmp_path / "several.pdf"
    run_chromium(chromium, tmp_path / "profile-pdf", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    pages = [int(n) for n in re.findall(rb"/Count (\d+)", data)]
    assert pages and max(pages) >= len(reports["several"].findings)  # a page break before each finding
    svg = tmp_path / "report.svg"
    svg.write_text(report_html.svg_documents([reports["double_free"]])[0])
    png = tmp_path / "report.png"
    run_chromium(chromium, tmp_path / "profile-svg", f"--screenshot={png}", svg.as_uri())
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5_000
