"""Small charts as server-rendered SVG.

The dashboard's CSP allows no inline script or style, so charts are plain SVG with
presentation attributes (``fill``, ``stroke``), drawn here from numbers the page already
has: no chart library, nothing to load, readable without JavaScript. Every text that
goes into the SVG is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

UP = "#2e9e44"
DEGRADED = "#e0a800"
DOWN = "#d63a2f"
MAINT = "#5b8def"
EMPTY = "#c9ced6"
LINE = "#3465a4"
AXIS = "#8a919c"
SEVERITY_COLORS = {"critical": "#9b1c1c", "high": "#d63a2f", "medium": "#e0a800", "low": "#3465a4"}


@dataclass(frozen=True)
class Slot:
    """One bar of an uptime bar: counted checks in a time slot."""

    label: str
    up: int = 0
    down: int = 0
    excluded: int = 0
    """Checks in maintenance (or skipped): not counted in uptime."""

    @property
    def color(self) -> str:
        counted = self.up + self.down
        if counted == 0:
            return MAINT if self.excluded else EMPTY
        if self.down == 0:
            return UP
        return DEGRADED if self.up / counted >= 0.9 else DOWN

    @property
    def text(self) -> str:
        counted = self.up + self.down
        if counted == 0:
            return f"{self.label}: in maintenance" if self.excluded else f"{self.label}: no checks"
        return f"{self.label}: {100.0 * self.up / counted:.2f}% up ({self.down} of {counted} checks down)"


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def uptime_bar(slots: Sequence[Slot], label: str, width: int = 600, height: int = 28) -> Markup:
    """A row of bars, oldest left; each bar's tooltip says its uptime."""
    n = max(1, len(slots))
    gap = 2.0 if n <= 100 else 0.0
    w = (width - gap * (n - 1)) / n
    parts = [
        f'<svg class="chart uptime-bar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="none" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for i, slot in enumerate(slots):
        x = i * (w + gap)
        parts.append(
            f'<rect x="{_f(x)}" y="0" width="{_f(w)}" height="{height}" rx="2" fill="{slot.color}">'
            f"<title>{escape(slot.text)}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape())


def line_chart(
    values: Sequence[float | None],
    label: str,
    left: str = "",
    right: str = "",
    unit: str = "ms",
    width: int = 600,
    height: int = 160,
) -> Markup:
    """A line over evenly spaced points (None breaks the line), with its maximum on the y axis
    and ``left``/``right`` labels under the x axis."""
    pad_l, pad_b, pad_t = 48.0, 18.0, 8.0
    plot_w, plot_h = width - pad_l - 4.0, height - pad_b - pad_t
    known = [v for v in values if v is not None]
    top = max(known) if known else 0.0
    top = top * 1.1 if top > 0 else 1.0
    n = len(values)
    parts = [
        f'<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}" '
        f'stroke="{AXIS}" stroke-width="1"/>',
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 4}" y2="{pad_t + plot_h}" '
        f'stroke="{AXIS}" stroke-width="1"/>',
        f'<text x="{pad_l - 4}" y="{pad_t + 10}" text-anchor="end" font-size="11" fill="{AXIS}">'
        f"{escape(_f(top))} {escape(unit)}</text>",
        f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" text-anchor="end" font-size="11" fill="{AXIS}">0</text>',
        f'<text x="{pad_l}" y="{height - 4}" font-size="11" fill="{AXIS}">{escape(left)}</text>',
        f'<text x="{width - 4}" y="{height - 4}" text-anchor="end" font-size="11" fill="{AXIS}">'
        f"{escape(right)}</text>",
    ]
    if not known:
        parts.append(
            f'<text x="{pad_l + plot_w / 2}" y="{pad_t + plot_h / 2}" text-anchor="middle" font-size="13" '
            f'fill="{AXIS}">no successful checks in this period</text>'
        )
    segment: list[str] = []

    def close() -> None:
        if len(segment) == 1:
            x, y = segment[0].split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="2" fill="{LINE}"/>')
        elif segment:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{LINE}" stroke-width="1.5"/>'
            )
        segment.clear()

    for i, v in enumerate(values):
        if v is None:
            close()
            continue
        x = pad_l + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        y = pad_t + plot_h - plot_h * v / top
        segment.append(f"{_f(x)},{_f(y)}")
    close()
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape())


def trend(series: Mapping[str, Sequence[int]], label: str, width: int = 140, height: int = 32) -> Markup:
    """A sparkline per severity (open findings over the last runs, oldest left)."""
    n = max((len(v) for v in series.values()), default=0)
    top = max((max(v) for v in series.values() if v), default=0) or 1
    parts = [
        f'<svg class="chart trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for sev, vals in series.items():
        if not vals:
            continue
        color = SEVERITY_COLORS.get(sev, AXIS)
        pts = []
        for i, v in enumerate(vals):
            x = 2 + (width - 4) * (i / (n - 1) if n > 1 else 0.5)
            y = height - 2 - (height - 4) * v / top
            pts.append(f"{_f(x)},{_f(y)}")
        if len(pts) == 1:
            cx, cy = pts[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
        else:
            parts.append(
                f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="1.5"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape())


STATE_COLORS = {"ready": UP, "gaps": DOWN, "not_assessed": EMPTY}
STATE_WORDS = {"ready": "ready", "gaps": "gaps", "not_assessed": "not assessed"}


def state_strip(
    rows: Sequence[tuple[str, Sequence[str]]],
    columns: Sequence[str],
    label: str,
    cell: int = 18,
    label_w: int = 210,
) -> Markup:
    """A grid of states: one row per name, one square per column (oldest left), each
    coloured by its state (ready / gaps / not_assessed) with a tooltip saying it."""
    n = max(1, len(columns))
    gap = 3
    width = label_w + n * (cell + gap)
    height = len(rows) * (cell + gap)
    parts = [
        f'<svg class="chart state-strip" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for r, (name, states) in enumerate(rows):
        y = r * (cell + gap)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + cell - 5}" text-anchor="end" font-size="12" fill="{AXIS}">'
            f"{escape(name)}</text>"
        )
        for c, state in enumerate(states):
            col = columns[c] if c < len(columns) else ""
            tip = escape(f"{name}, {col}: {STATE_WORDS.get(state, state)}")
            parts.append(
                f'<rect x="{label_w + c * (cell + gap)}" y="{y}" width="{cell}" height="{cell}" rx="3" '
                f'fill="{STATE_COLORS.get(state, AXIS)}"><title>{tip}</title></rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape())
