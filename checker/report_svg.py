"""Each counterexample as a timeline in SVG: the steps top to bottom, the script line and
the text report's labels beside each, and one lane per object with its reference count
(a step area with the number written) and a band per holder, from the step where the
holder takes its reference to the step where it lets go. The object's destruction and
the finding are marked. `report_html` embeds these drawings; `--svg` writes them alone.

SVG does not wrap text, so every text is wrapped here (`textfit`), and the rows grow to
hold their lines. Everything taken from the script is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from .findings import FileReport, ObjectState, PathStep, ReportedFinding, holder_text, path_text
from .model.rules import LEAK_AT_END
from .textfit import Line, Measure, mono_width, sans_width

SANS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif'
)
MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace'

# Shared by the standalone SVG and the HTML page (which holds it once, in its head).
CSS = f"""
svg.tl {{ background: #fff; }}
svg.tl text {{ font-family: {SANS}; fill: #111; }}
svg.tl .code {{ font-family: {MONO}; }}
svg.tl .dim {{ fill: #555; }}
svg.tl .error {{ fill: #9b1c1c; }}
svg.tl .warning {{ fill: #8a4b00; }}
"""

# Holder kinds, in the order of the legend: (label as in the text report, what it is, ink,
# tint, pattern). The patterns and labels tell the bands apart without colour.
HOLDERS = {
    "script": ("script(s)", "the script's variables own a reference", "#2f5d9e", "#dbe7f8", "solid"),
    "slot": ("slot(ssl)", "an `SSL`'s session slot", "#2e7d3a", "#e3f2e5", "diagonal"),
    "cache": ("cache(ctx)", "a context's session cache", "#a85d00", "#fcebd4", "cross"),
    "ssl": ("ssl(x2)", "an `SSL`'s two references to its context", "#6b3fa0", "#efe5f8", "horizontal"),
    "library": ("library", "the library, during a call", "#555555", "#ececec", "dots"),
    "borrowed": ("borrowed by p", "a pointer without a reference", "#444444", "none", "dashed"),
}
SEVERITY_COLOUR = {"error": "#c62828", "warning": "#c77700"}

PAD = 16
STEP_X = PAD + 26  # right edge of the step number
LINE_X = PAD + 62  # right edge of the line number
TEXT_X = PAD + 74
TEXT_W = 390
LANES_X = TEXT_X + TEXT_W + 18
LANE_GAP = 10
GUTTER = 50  # the count: its number, then its step area
AREA_X, AREA_W = 22, 22
TRACK_GAP = 6
HEAD_H = 44
GAP_H = 22
EVENT_DY = 14  # from a row's top to the line where its step happens
MIN_ROW = 36
BAND_WRAP = 92  # band labels wrap beyond this width

CODE = Measure(12)
SMALL_CODE = Measure(11)
PROSE = Measure(11.5)
BOLD_PROSE = Measure(11.5, bold=True)
BAND = Measure(10.5)


@dataclass
class _Run:
    """One holder's reference over consecutive rows."""

    kind: str
    name: str
    first: int
    last: int
    refs: list[int]
    track: int = 0


@dataclass
class _Lane:
    name: str
    kind: str
    states: list[ObjectState | None]
    runs: list[_Run] = field(default_factory=list)
    tracks: list[float] = field(default_factory=list)  # widths
    x: float = 0
    width: float = 0


@dataclass
class _Row:
    step: PathStep
    hidden_before: int
    indent: float
    code: list[Line]
    call: list[Line]
    labels: list[tuple[Line, bool, bool]]  # (line, primary, first line of its label)
    fault: list[Line]
    top: float = 0
    height: float = 0

    @property
    def event(self) -> float:
        return self.top + EVENT_DY

    @property
    def bottom(self) -> float:
        return self.top + self.height


def fault_object(finding: ReportedFinding, names: list[str]) -> str | None:
    """The lane the finding is about: the first of its objects that has a lane."""
    return next((name for name in finding.objects if name in names), None)


class Timeline:
    """The drawing of one finding. `prefix` keeps the ids of several drawings on one page apart."""

    def __init__(self, report: FileReport, finding: ReportedFinding, prefix: str, header: list[str] | None = None):
        self.report = report
        self.f = finding
        self.prefix = prefix
        self.severity = finding.level
        self.source = report.source.split("\n")
        self.lanes = self._lanes()
        self.fault_lane = fault_object(finding, [lane.name for lane in self.lanes])
        self.rows = self._rows()
        self.header_lines = header or []
        self._place()

    # -- content -------------------------------------------------------------------
    def _lanes(self) -> list[_Lane]:
        order: list[str] = []
        kinds: dict[str, str] = {}
        for step in self.f.steps:
            for o in step.objects:
                if o.status == "alive" and o.name not in kinds:
                    order.append(o.name)
                    kinds[o.name] = o.kind
        lanes = []
        for name in order:
            states = [next((o for o in step.objects if o.name == name), None) for step in self.f.steps]
            lane = _Lane(name, kinds[name], states)
            lane.runs = _runs(states)
            _assign_tracks(lane)
            lanes.append(lane)
        return lanes

    def _rows(self) -> list[_Row]:
        steps = self.f.steps
        label_rows: dict[int, list[tuple[str, bool]]] = {}
        for label in self.f.labels:
            text = label.text
            at = _row_of(steps, label.span.line, (label.span.start, label.span.end))
            if at is None and steps:
                # A line that is no step of its own (a `return`, a callback's `*copy = 0`):
                # beside the finding, or after the step before it, saying which line.
                before = [i for i, s in enumerate(steps) if s.span.line <= label.span.line]
                at = len(steps) - 1 if label.primary or not before else before[-1]
                code = self._line(label.span.line).split("//")[0].strip().replace("`", "")
                text = f"line {label.span.line}" + (f" (`{code}`)" if code else "") + f": {text}"
            if at is not None:
                label_rows.setdefault(at, []).append((text, label.primary))
        rows = []
        previous = 0
        for i, step in enumerate(steps):
            raw = self._line(step.span.line) or step.call
            stripped = raw.lstrip(" \t")
            indent = mono_width(" ", 12) * min(len(raw) - len(stripped), 8)
            code = CODE.wrap(stripped.rstrip(), TEXT_W - indent, all_code=True) or [()]
            shared = sum(1 for s in steps if s.span.line == step.span.line) > 1
            call = (
                []
                if step.call in raw and not shared
                else SMALL_CODE.wrap("\u21b3 " + step.call, TEXT_W - 12, all_code=True)
            )
            labels = []
            for text, primary in label_rows.get(i, []):
                wrapped = (BOLD_PROSE if primary else PROSE).wrap(text, TEXT_W - 24)
                labels += [(line, primary, k == 0) for k, line in enumerate(wrapped)]
            fault = []
            if i == len(steps) - 1:
                rule = self.f.rule
                text = f"{self.f.level}[{rule.name}] {rule.id}: {self.f.message}"
                if self.f.variant is LEAK_AT_END:
                    text += " (found when the script ends, after this step)"
                fault = BOLD_PROSE.wrap(text, TEXT_W - 18)
            rows.append(_Row(step, step.number - previous - 1, indent, code, call, labels, fault))
            previous = step.number
        return rows

    def _line(self, line: int) -> str:
        return self.source[line - 1] if 0 < line <= len(self.source) else ""

    # -- geometry ------------------------------------------------------------------
    def _place(self) -> None:
        x = LANES_X
        for lane in self.lanes:
            need = GUTTER + sum(lane.tracks) + TRACK_GAP * max(len(lane.tracks) - 1, 0) + 8
            need = max(need, mono_width(lane.name, 13) * 1.1 + 16, sans_width(lane.kind, 10.5) + 16)
            need = max(need, AREA_X + sans_width("destroyed", 11, bold=True) + 12)
            if lane.name == self.fault_lane:
                need = max(need, 30 + sans_width(self._fault_tag(), 11, bold=True) + 12)
            lane.x, lane.width = x, need
            x += need + LANE_GAP
        self.width = max(x - LANE_GAP + PAD, 720)
        self.header_height = self._header_height()
        y = PAD + self.header_height
        self.head_top = y
        y += HEAD_H
        starts = self._band_label_heights()
        for i, row in enumerate(self.rows):
            if row.hidden_before:
                y += GAP_H
            row.top = y
            text = 6 + 16 * len(row.code) + 15 * (len(row.call) + len(row.labels) + len(row.fault)) + 8
            marks = EVENT_DY + self._fault_offset(i) + 14 if i == len(self.rows) - 1 else 0
            row.height = max(MIN_ROW, text, starts.get(i, 0), marks)
            y += row.height
        self.timeline_bottom = y
        self.legend_top = y + 18
        self.legend = self._legend_items()
        self.height = self.legend_top + self._legend_height() + PAD

    def _band_label_heights(self) -> dict[int, float]:
        need: dict[int, float] = {}
        for lane in self.lanes:
            for run in lane.runs:
                lines = self._band_lines(lane, run)
                need[run.first] = max(need.get(run.first, 0), EVENT_DY + 4 + 12 * len(lines) + 14)
        return need

    def _band_lines(self, lane: _Lane, run: _Run) -> list[Line]:
        return BAND.wrap(holder_text(run.kind, run.name, run.refs[0]), lane.tracks[run.track] - 8)[:3]

    def _fault_offset(self, i: int) -> float:
        """How far below row `i`'s event the finding's mark goes: clear of a destruction
        mark or of a band's label at the same row."""
        for lane in self.lanes:
            if lane.name == self.fault_lane:
                if any(run.first == i for run in lane.runs):
                    return 28
                if _destroyed_at(lane, i):
                    return 22
        return 0

    def _fault_tag(self) -> str:
        return f"{self.f.rule.id} {self.f.rule.name}"

    def _header_height(self) -> float:
        return sum(h for _, _, h in self._header_layout())

    def _header_layout(self) -> list[tuple[Line, Measure, float]]:
        out = []
        for i, text in enumerate(self.header_lines):
            measure = Measure(15, bold=True) if i == 0 else PROSE
            step = 20 if i == 0 else 16
            for line in measure.wrap(text, self._header_width()):
                out.append((line, measure, step))
        if out:
            out.append(((), PROSE, 8))
        return out

    def _header_width(self) -> float:
        lanes_right = max((lane.x + lane.width for lane in self.lanes), default=LANES_X)
        return max(lanes_right, 720 - PAD) - 2 * PAD

    # -- drawing -------------------------------------------------------------------
    def svg(self, standalone: bool) -> str:
        f = self.f
        title = f"{f.level}[{f.rule.name}] {f.rule.id} at {f.span}: {f.message}"
        attrs = (
            f'class="tl" width="{self.width:.0f}" height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'role="img" aria-labelledby="{self.prefix}title" data-rule="{f.rule.id}" data-rule-name="{f.rule.name}" '
            f'data-file="{escape(self.report.file)}"'
        )
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" {attrs}>',
            f'<title id="{self.prefix}title">{escape(title)}</title>',
        ]
        if standalone:
            out.append(f"<style>{CSS}</style>")
        out.append(f'<rect x="0" y="0" width="{self.width:.0f}" height="{self.height:.0f}" fill="#fff"/>')
        out += self._header()
        out += self._row_backgrounds()
        out += self._column_heads()
        for lane in self.lanes:
            out += self._lane(lane)
        out += self._row_texts()
        out += self._legend()
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def _header(self) -> list[str]:
        out = []
        y = PAD
        for line, measure, step in self._header_layout():
            y += step
            if line:
                weight = ' font-weight="bold"' if measure.bold else ""
                out.append(_text(PAD, y - 4, line, measure.size, attrs=weight))
        return out

    def _right(self) -> float:
        return self.width - PAD

    def _row_backgrounds(self) -> list[str]:
        out = []
        for i, row in enumerate(self.rows):
            if row.hidden_before:
                y = row.top - GAP_H / 2
                x1 = TEXT_X + PROSE.line(PROSE.wrap(_hidden_text(row), 10_000)[0]) * 10.5 / 11.5 + 8
                out.append(
                    f'<path d="M{PAD},{y:.1f} H{TEXT_X - 6} M{x1:.1f},{y:.1f} H{self._right():.1f}" stroke="#999" '
                    'stroke-dasharray="2 4"/>'
                )
            fill = "#f5f6f8" if i % 2 else "#fff"
            if i == len(self.rows) - 1:
                fill = "#fdecea" if self.severity == "error" else "#fff3e0"
            out.append(
                f'<rect class="row-bg" x="{PAD}" y="{row.top:.1f}" width="{self._right() - PAD:.1f}" height="{row.height:.1f}" fill="{fill}"/>'
            )
            if i == len(self.rows) - 1:
                colour = SEVERITY_COLOUR[self.severity]
                out.append(f'<rect x="{PAD}" y="{row.top:.1f}" width="4" height="{row.height:.1f}" fill="{colour}"/>')
        return out

    def _column_heads(self) -> list[str]:
        y = self.head_top + 26
        out = [
            f'<text x="{STEP_X}" y="{y}" font-size="11" text-anchor="end" class="dim">step</text>',
            f'<text x="{LINE_X}" y="{y}" font-size="11" text-anchor="end" class="dim">line</text>',
            f'<text x="{TEXT_X}" y="{y}" font-size="11" class="dim">script line, and what the step does to these objects</text>',
            f'<line x1="{PAD}" y1="{self.head_top + HEAD_H - 0.5:.1f}" x2="{self._right():.1f}" y2="{self.head_top + HEAD_H - 0.5:.1f}" stroke="#888"/>',
        ]
        return out

    def _row_texts(self) -> list[str]:
        out = []
        for i, row in enumerate(self.rows):
            step = row.step
            notes = "\n".join(step.notes) or step.call
            body = [
                f"<title>step {step.number}, line {step.span.line}: {escape(notes)}</title>",
                f'<rect class="row-text" x="{TEXT_X}" y="{row.top:.1f}" width="{TEXT_W}" height="{row.height:.1f}" fill="none"/>',
            ]
            if row.hidden_before:
                gap_y = row.top - GAP_H / 2 + 4
                out.append(
                    f'<text class="hidden-steps dim" x="{TEXT_X}" y="{gap_y:.1f}" font-size="10.5" font-style="italic">'
                    f"{escape(_hidden_text(row))}</text>"
                )
            base = row.top + 18
            bold = ' font-weight="bold"' if i == len(self.rows) - 1 else ""
            body.append(
                f'<text x="{STEP_X}" y="{base:.1f}" font-size="12" text-anchor="end"{bold}>{step.number}</text>'
            )
            body.append(
                f'<text x="{LINE_X}" y="{base:.1f}" font-size="12" text-anchor="end" class="dim">{step.span.line}</text>'
            )
            y = base
            for line in row.code:
                body.append(_text(TEXT_X + row.indent, y, line, 12))
                y += 16
            y -= 1
            for line in row.call:
                body.append(_text(TEXT_X + 12, y, line, 11, "dim"))
                y += 15
            for line, primary, first in row.labels:
                weight = ' font-weight="bold"' if primary else ""
                if first:
                    mark = "^" if primary else "-"
                    body.append(
                        f'<text x="{TEXT_X + 12}" y="{y:.1f}" font-size="11.5" class="code"{weight}>{mark}</text>'
                    )
                body.append(_text(TEXT_X + 24, y, line, 11.5, "" if primary else "dim", weight))
                y += 15
            if row.fault:
                colour = SEVERITY_COLOUR[self.severity]
                cy = y - 4
                body.append(
                    f'<path d="M{TEXT_X + 6},{cy - 6:.1f} l6,6 l-6,6 l-6,-6 z" fill="{colour}" stroke="#000" stroke-width="0.6"/>'
                )
                for line in row.fault:
                    body.append(_text(TEXT_X + 18, y, line, 11.5, self.severity, ' font-weight="bold"'))
                    y += 15
            out.append(
                f'<g class="step" data-step="{step.number}" data-line="{step.span.line}">' + "".join(body) + "</g>"
            )
        return out

    def _next_y(self, i: int) -> float:
        """Where the state after row `i` ends: the next step's event, or the bottom."""
        return self.rows[i + 1].event if i + 1 < len(self.rows) else self.rows[i].bottom - 3

    def _lane(self, lane: _Lane) -> list[str]:
        x = lane.x
        top, bottom = self.head_top, self.timeline_bottom
        out = [
            f'<g class="lane" data-object="{escape(lane.name)}" data-kind="{escape(lane.kind)}">',
            f'<rect class="lane-frame" x="{x:.1f}" y="{top:.1f}" width="{lane.width:.1f}" height="{bottom - top:.1f}" '
            'fill="none" stroke="#b9bec6"/>',
            f'<text x="{x + 8:.1f}" y="{top + 17:.1f}" font-size="13" font-weight="bold" class="code">{escape(lane.name)}</text>',
            f'<text x="{x + 8:.1f}" y="{top + 33:.1f}" font-size="10.5" class="dim">{escape(lane.kind)}</text>',
        ]
        out += self._count_area(lane)
        for run in lane.runs:
            out += self._band(lane, run)
        for i in range(len(self.rows)):
            if _destroyed_at(lane, i):
                out += self._destroyed(lane, i)
        if lane.name == self.fault_lane and self.rows:
            out += self._fault_mark(lane)
        out.append("</g>")
        return out

    def _count_area(self, lane: _Lane) -> list[str]:
        x0 = lane.x + AREA_X
        top = max((s.count for s in lane.states if s and s.status == "alive"), default=1)
        unit = min(9.0, AREA_W / max(top, 1))
        out = []
        segment: list[tuple[float, float, float]] = []  # (y0, y1, width)

        def flush() -> None:
            if not segment:
                return
            d = f"M{x0:.1f},{segment[0][0]:.1f}"
            for y0, y1, w in segment:
                d += f" V{y0:.1f} H{x0 + w:.1f} V{y1:.1f}"
            d += f" H{x0:.1f} Z"
            out.append(f'<path class="count-area" d="{d}" fill="#cfd5de" stroke="#3b4350" stroke-width="1.2"/>')
            segment.clear()

        previous = None
        for i, state in enumerate(lane.states):
            if state is None or state.status != "alive":
                flush()
                previous = None
                continue
            row = self.rows[i]
            segment.append((row.event, self._next_y(i), state.count * unit))
            changed = previous is None or previous != state.count
            style = 'class="count" font-weight="bold"' if changed else 'class="count dim"'
            out.append(
                f'<text {style} data-step="{row.step.number}" x="{lane.x + 18:.1f}" y="{row.event + 4:.1f}" '
                f'font-size="12" text-anchor="end">{state.count}</text>'
            )
            previous = state.count
        flush()
        return out

    def _track_x(self, lane: _Lane, track: int) -> float:
        return lane.x + GUTTER + sum(lane.tracks[:track]) + TRACK_GAP * track

    def _band(self, lane: _Lane, run: _Run) -> list[str]:
        x = self._track_x(lane, run.track)
        w = lane.tracks[run.track]
        y0 = self.rows[run.first].event + 1.5
        y1 = self._next_y(run.last) - 1.5
        ink = HOLDERS[run.kind][2]
        released = run.last + 1 < len(self.rows)
        until = str(self.rows[run.last + 1].step.number) if released else "end"
        label = holder_text(run.kind, run.name)
        attrs = (
            f'class="band" data-holder="{escape(label)}" data-kind="{run.kind}" data-object="{escape(lane.name)}" '
            f'data-from-step="{self.rows[run.first].step.number}" data-to-step="{until}"'
        )
        held = f"from step {self.rows[run.first].step.number}" + (f" to step {until}" if released else " to the end")
        out = [
            f"<g {attrs}><title>{escape(holder_text(run.kind, run.name, max(run.refs)))}: {escape(lane.name)}, {held}</title>",
            band_box(run.kind, x, y0, w, max(y1 - y0, 2)),
        ]
        if released:
            out.append(
                f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x + w:.1f}" y2="{y1:.1f}" stroke="{ink}" stroke-width="3"/>'
            )
        lines = self._band_lines(lane, run)
        box_h = 4 + 12 * len(lines)
        out.append(
            f'<rect x="{x + 3:.1f}" y="{y0 + 3:.1f}" width="{w - 6:.1f}" height="{box_h:.1f}" rx="2" fill="#fff" '
            f'stroke="{ink}" stroke-width="0.6"/>'
        )
        for k, line in enumerate(lines):
            out.append(_text(x + 6, y0 + 3 + 11.5 + 12 * k, line, 10.5))
        for k in range(1, len(run.refs)):
            if run.refs[k] != run.refs[k - 1]:
                ey = self.rows[run.first + k].event
                tag = f"x{run.refs[k]}"
                tw = sans_width(tag, 10.5, bold=True) + 8
                out.append(
                    f'<rect x="{x + w / 2 - tw / 2:.1f}" y="{ey - 7:.1f}" width="{tw:.1f}" height="14" rx="7" fill="#fff" stroke="{ink}"/>'
                    f'<text x="{x + w / 2:.1f}" y="{ey + 4:.1f}" font-size="10.5" font-weight="bold" text-anchor="middle">{tag}</text>'
                )
        out.append("</g>")
        return out

    def _destroyed(self, lane: _Lane, i: int) -> list[str]:
        row = self.rows[i]
        cx, cy = lane.x + 14, row.event
        text_w = sans_width("destroyed", 11, bold=True)
        return [
            f'<g class="destroyed" data-object="{escape(lane.name)}" data-step="{row.step.number}">',
            f"<title>{escape(lane.name)} is destroyed at step {row.step.number}: its count reaches 0</title>",
            f'<rect x="{cx - 9:.1f}" y="{cy - 9:.1f}" width="{AREA_X + text_w + 2:.1f}" height="18" rx="3" fill="#fff" stroke="#111"/>',
            f'<path d="M{cx - 5:.1f},{cy - 5:.1f} L{cx + 5:.1f},{cy + 5:.1f} M{cx + 5:.1f},{cy - 5:.1f} L{cx - 5:.1f},{cy + 5:.1f}" '
            'stroke="#111" stroke-width="2.4"/>',
            f'<text x="{cx + 11:.1f}" y="{cy + 4:.1f}" font-size="11" font-weight="bold">destroyed</text>',
            "</g>",
        ]

    def _fault_mark(self, lane: _Lane) -> list[str]:
        i = len(self.rows) - 1
        row = self.rows[i]
        cx, cy = lane.x + 14, row.event + self._fault_offset(i)
        colour = SEVERITY_COLOUR[self.severity]
        out = [
            f'<g class="fault" data-rule="{self.f.rule.id}" data-rule-name="{self.f.rule.name}" '
            f'data-object="{escape(lane.name)}" data-step="{row.step.number}">',
            f"<title>{escape(self.f.message)}</title>",
        ]
        last_alive = max((k for k, s in enumerate(lane.states) if s and s.status == "alive"), default=None)
        state = lane.states[i]
        if state is not None and state.status == "destroyed" and last_alive is not None and last_alive < i - 1:
            # The object died earlier: its pointer is still used here.
            y0 = self.rows[last_alive + 1].event + 10
            out.append(
                f'<line x1="{cx:.1f}" y1="{y0:.1f}" x2="{cx:.1f}" y2="{cy - 10:.1f}" stroke="{colour}" stroke-width="1.5" '
                'stroke-dasharray="3 3"/>'
            )
        tag = self._fault_tag()
        tw = sans_width(tag, 11, bold=True)
        out += [
            f'<rect x="{cx + 12:.1f}" y="{cy - 8:.1f}" width="{tw + 8:.1f}" height="16" rx="3" fill="#fff" stroke="{colour}"/>',
            f'<path d="M{cx:.1f},{cy - 10:.1f} l10,10 l-10,10 l-10,-10 z" fill="{colour}" stroke="#000" stroke-width="0.8"/>',
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" font-size="12" font-weight="bold" text-anchor="middle" '
            'style="fill:#fff">!</text>',
            f'<text x="{cx + 16:.1f}" y="{cy + 4:.1f}" font-size="11" font-weight="bold" class="{self.severity}">{escape(tag)}</text>',
            "</g>",
        ]
        return out

    # -- legend --------------------------------------------------------------------
    def _legend_items(self) -> list[tuple[str, str, float]]:
        items = [(kind, f"{HOLDERS[kind][0]}: {HOLDERS[kind][1]}") for kind in HOLDERS]
        items += [
            ("count", "count after the step"),
            ("destroyed", "destroyed: the count reached 0"),
            ("fault", "the finding"),
        ]
        return [(key, text, 34 + PROSE.line(PROSE.wrap(text, 10_000)[0]) + 18) for key, text in items]

    def _legend_rows(self) -> list[list[tuple[str, str, float]]]:
        rows: list[list[tuple[str, str, float]]] = [[]]
        used = 0.0
        room = self.width - 2 * PAD - 50
        for item in self.legend:
            if rows[-1] and used + item[2] > room:
                rows.append([])
                used = 0.0
            rows[-1].append(item)
            used += item[2]
        return rows

    def _legend_height(self) -> float:
        return 20 * len(self._legend_rows()) + 4

    def _legend(self) -> list[str]:
        out = ['<g class="legend">']
        y = self.legend_top
        out.append(f'<text x="{PAD}" y="{y + 12:.1f}" font-size="11" font-weight="bold">legend</text>')
        for items in self._legend_rows():
            x = PAD + 50
            for key, text, width in items:
                out.append(self._swatch(key, x, y))
                out.append(_text(x + 32, y + 12, PROSE.wrap(text, 10_000)[0], 11.5))
                x += width
            y += 20
        out.append("</g>")
        return out

    def _swatch(self, key: str, x: float, y: float) -> str:
        if key in HOLDERS:
            return band_box(key, x, y + 1, 26, 14)
        if key == "count":
            return (
                f'<path d="M{x:.1f},{y + 15:.1f} V{y + 1:.1f} H{x + 8:.1f} V{y + 7:.1f} H{x + 18:.1f} V{y + 15:.1f} Z" '
                'fill="#cfd5de" stroke="#3b4350" stroke-width="1.2"/>'
            )
        if key == "destroyed":
            cx, cy = x + 13, y + 8
            return (
                f'<path d="M{cx - 5},{cy - 5} L{cx + 5},{cy + 5} M{cx + 5},{cy - 5} L{cx - 5},{cy + 5}" stroke="#111" '
                'stroke-width="2.4"/>'
            )
        colour = SEVERITY_COLOUR[self.severity]
        return f'<path d="M{x + 13},{y} l8,8 l-8,8 l-8,-8 z" fill="{colour}" stroke="#000" stroke-width="0.8"/>'


def band_box(kind: str, x: float, y: float, w: float, h: float) -> str:
    """A holder's band: its tint, its pattern drawn as lines (so that it prints as drawn and
    needs no `<pattern>`), and its outline (dashed for a borrowed pointer)."""
    _, _, ink, tint, pattern = HOLDERS[kind]
    x1, y1 = x + w, y + h
    segments: list[tuple[float, float, float, float]] = []
    if pattern in ("diagonal", "cross"):
        step = 6 if pattern == "diagonal" else 8
        for k in range(int((x + y) // step) * step + step, int(x1 + y1), step):  # x + y = k
            a, b = max(x, k - y1), min(x1, k - y)
            if b > a:
                segments.append((a, k - a, b, k - b))
        if pattern == "cross":
            for k in range(int((x - y1) // step) * step + step, int(x1 - y), step):  # x - y = k
                a, b = max(x, k + y), min(x1, k + y1)
                if b > a:
                    segments.append((a, a - k, b, b - k))
    elif pattern == "horizontal":
        segments = [(x, yy, x1, yy) for yy in _grid(y, y1, 5)]
    elif pattern == "dots":
        segments = [(xx, yy, xx + 0.01, yy) for yy in _grid(y, y1, 6) for xx in _grid(x, x1, 6)]
    fill = "#fff" if pattern == "dashed" else tint
    out = f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3" fill="{fill}"/>'
    if segments:
        d = "".join(f"M{a:.1f},{b:.1f}L{c:.2f},{e:.1f}" for a, b, c, e in segments)
        width = "2.2" if pattern == "dots" else "1" if pattern != "cross" else "0.8"
        out += f'<path d="{d}" stroke="{ink}" stroke-width="{width}" stroke-linecap="{"round" if pattern == "dots" else "butt"}"/>'
    dash = ' stroke-dasharray="5 3"' if pattern == "dashed" else ""
    out += f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3" fill="none" stroke="{ink}" stroke-width="1.4"{dash}/>'
    return out


def _grid(start: float, end: float, step: int) -> list[float]:
    """Multiples of `step` strictly inside (start, end), at least 1.5 from either edge."""
    first = (int(start) // step + 1) * step
    return [float(v) for v in range(first, int(end), step) if start + 1.5 <= v <= end - 1.5]


def _text(x: float, y: float, line: Line, size: float, classes: str = "", attrs: str = "") -> str:
    """One wrapped line; its runs of code in the monospace font."""
    if all(run.code for run in line):
        classes = f"code {classes}".strip()
        body = escape("".join(run.text for run in line))
    else:
        body = "".join(f'<tspan class="code">{escape(r.text)}</tspan>' if r.code else escape(r.text) for r in line)
    cls = f' class="{classes}"' if classes else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{cls}{attrs}>{body}</text>'


def _hidden_text(row: _Row) -> str:
    first, last = row.step.number - row.hidden_before, row.step.number - 1
    which = f"step {first}" if first == last else f"steps {first}\u2013{last}"
    return f"{which} not shown: they touch none of these objects"


def _row_of(steps: tuple[PathStep, ...], line: int, span: tuple[int, int]) -> int | None:
    """The last row at exactly `span`, else the last row on `line`."""
    exact = [i for i, s in enumerate(steps) if (s.span.start, s.span.end) == span]
    if exact:
        return exact[-1]
    same_line = [i for i, s in enumerate(steps) if s.span.line == line]
    return same_line[-1] if same_line else None


def _runs(states: list[ObjectState | None]) -> list[_Run]:
    runs: list[_Run] = []
    open_runs: dict[tuple[str, str], _Run] = {}
    for i, state in enumerate(states):
        if state is None or state.status != "alive":
            continue
        for kind, name, refs in state.holdings:
            run = open_runs.get((kind, name))
            if run is not None and run.last == i - 1:
                run.last = i
                run.refs.append(refs)
            else:
                run = _Run(kind if kind in HOLDERS else "library", name, i, i, [refs])
                open_runs[(kind, name)] = run
                runs.append(run)
    return runs


def _assign_tracks(lane: _Lane) -> None:
    """Bands that never overlap share a track (a script's reference that becomes a borrowed
    pointer continues in place); the same holder keeps its track when it can."""
    ends: list[int] = []  # per track: the first row free again
    holder_track: dict[tuple[str, str], int] = {}
    for run in lane.runs:
        free = [t for t, end in enumerate(ends) if end <= run.first]
        preferred = holder_track.get((run.kind, run.name))
        track = preferred if preferred in free else (free[0] if free else len(ends))
        if track == len(ends):
            ends.append(0)
            lane.tracks.append(0.0)
        ends[track] = run.last + 1
        run.track = track
        holder_track[(run.kind, run.name)] = track
        label = holder_text(run.kind, run.name, run.refs[0])
        widest = max(BAND.line(line) for line in BAND.wrap(label, BAND_WRAP)) + 14
        lane.tracks[track] = max(lane.tracks[track], 52.0, widest)


def _destroyed_at(lane: _Lane, i: int) -> bool:
    state = lane.states[i]
    if state is None or state.status != "destroyed":
        return False
    before = lane.states[i - 1] if i > 0 else None
    return before is not None and before.status == "alive"


def finding_svg(report: FileReport, finding: ReportedFinding, number: int, total: int, prefix: str = "tl-") -> str:
    """A standalone SVG of one finding, with its own header and styles."""
    rule = finding.rule
    header = [
        f"{finding.level}[{rule.name}] {rule.id}: {finding.message}",
        f"{finding.span} ({report.file} is {report.verdict}: finding {number} of {total})",
    ]
    if finding.choices:
        header.append("path: " + path_text(finding))
    return Timeline(report, finding, prefix, header).svg(standalone=True)


def verdicts_svg(lines: list[str]) -> str:
    """A standalone SVG for a run without any finding: one line per file."""
    width = 720.0
    wrapped = [line for text in lines for line in PROSE.wrap(text, width - 2 * PAD)]
    height = PAD * 2 + 20 + 16 * len(wrapped)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tl" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="tl-title">',
        '<title id="tl-title">sessref: no counterexample</title>',
        f"<style>{CSS}</style>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#fff"/>',
        f'<text x="{PAD}" y="{PAD + 14}" font-size="15" font-weight="bold">sessref: no counterexample</text>',
    ]
    y = PAD + 36
    for line in wrapped:
        out.append(_text(PAD, y, line, 11.5))
        y += 16
    out.append("</svg>")
    return "\n".join(out) + "\n"
