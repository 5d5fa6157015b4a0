"""The charts BENCHMARKS.md shows, as hand-written SVG: no plotting library, nothing to install,
and text that diffs. Each chart is a column of labels, a plot area and a column of figures, laid
out from the longest text in each, so that no text runs into other text or into the bars."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

FONT = "font-family=\"DejaVu Sans, Verdana, sans-serif\""
SIZE = 12  # px, every label
CHAR = 0.62  # a generous average glyph width, in ems, for DejaVu Sans / Verdana
ROW = 28  # px from one row to the next
PAD = 12  # px between columns and around the chart
TOP = 58  # px above the first row: title and legend
PLOT = 360  # px wide plot area
MET, MISSED, NO_GOAL = "#2e7d32", "#c62828", "#607d8b"
P50, P99 = "#90caf9", "#1565c0"


def text_width(text: str, size: float = SIZE) -> float:
    """An upper estimate of how wide `text` is drawn, in px."""
    return len(text) * size * CHAR


@dataclass(frozen=True)
class Ratio:
    """A case's throughput as a share of its ceiling's, and the goal for it (if any)."""

    label: str
    ratio: float
    goal: float | None = None

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.ratio >= self.goal


@dataclass(frozen=True)
class Latency:
    label: str
    p50_ms: float
    p99_ms: float


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = SIZE, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0.0, w):.1f}" height="{h:.1f}" fill="{fill}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{width}"{dashed}/>')


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" {FONT}>',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        _text(PAD, 20, title, size=SIZE + 2, weight="bold"),
        *body,
        "</svg>",
        "",
    ])


def _legend(x: float, y: float, entries: list[tuple[str, str]]) -> tuple[list[str], float]:
    """Swatches in a row from (x, y); an entry's colour "goal" is drawn as the goal marker.
    Returns the elements and the x where they end."""
    out = []
    for colour, text in entries:
        if colour == "goal":
            out.append(_line(x + 5, y - 10, x + 5, y + 2, "#000000", 2))
        else:
            out.append(_rect(x, y - 9, 10, 10, colour))
        out.append(_text(x + 15, y, text))
        x += 15 + text_width(text) + PAD
    return out, x


def nice_ceiling(value: float, step: float) -> float:
    """The smallest multiple of `step` at or above `value` (at least one step)."""
    return max(step, math.ceil(value / step - 1e-9) * step)


def tick_step(top: float, most: int = 8) -> float:
    """The finest of 0.25, 0.5, 1, 2, 5, 10, ... that needs at most `most` steps to reach `top`,
    so that the axis' labels keep apart."""
    steps = [0.25, 0.5] + [m * 10**e for e in range(6) for m in (1, 2, 5)]
    return next((s for s in steps if nice_ceiling(top, s) / s <= most), steps[-1])


def ratio_chart(rows: list[Ratio], title: str, axis: str) -> str:
    """Horizontal bars: each row's ratio, coloured by whether it meets its goal, the goal
    marked with a black tick; a dashed line at 1x, the ceiling."""
    figures = [f"{r.ratio:.2f}x" + (f"  (goal {r.goal:g}x)" if r.goal is not None else "") for r in rows]
    label_w = max(text_width(r.label) for r in rows)
    x0 = PAD + label_w + PAD
    top = max([r.ratio for r in rows if math.isfinite(r.ratio)] + [r.goal or 0 for r in rows] + [1.0])
    step = tick_step(top * 1.05)
    xmax = nice_ceiling(top * 1.05, step)

    def x(value: float) -> float:
        return x0 + PLOT * min(max(value, 0.0), xmax) / xmax

    fig_x = x0 + PLOT + PAD
    legend, legend_end = _legend(PAD, 42, [(MET, "meets its goal"), (MISSED, "misses it"), (NO_GOAL, "no goal"),
                                           ("goal", "goal")])
    width = max(fig_x + max(text_width(f) for f in figures) + PAD, legend_end, text_width(title, SIZE + 2) + 2 * PAD)
    bottom = TOP + ROW * len(rows)
    out = legend
    ticks = round(xmax / step)
    for i in range(ticks + 1):
        value = i * step
        out.append(_line(x(value), TOP - 6, x(value), bottom, "#e0e0e0"))
        out.append(_text(x(value), bottom + 16, f"{value:g}x", anchor="middle"))
    out.append(_line(x(1.0), TOP - 6, x(1.0), bottom, "#424242", 1, "4 3"))
    out.append(_line(x0, bottom, x0 + PLOT, bottom, "#424242"))
    out.append(_text(x0 + PLOT / 2, bottom + 34, axis, anchor="middle"))
    for i, (row, figure) in enumerate(zip(rows, figures)):
        y = TOP + ROW * i
        colour = NO_GOAL if row.met is None else MET if row.met else MISSED
        out.append(_text(x0 - PAD, y + 14, row.label, anchor="end"))
        if math.isfinite(row.ratio):
            out.append(_rect(x0, y + 4, x(row.ratio) - x0, 14, colour))
        if row.goal is not None:
            out.append(_line(x(row.goal), y, x(row.goal), y + 22, "#000000", 2))
        out.append(_text(fig_x, y + 14, figure if math.isfinite(row.ratio) else "n/a"))
    return _svg(width, bottom + 46, title, out)


def decades(low: float, high: float) -> list[float]:
    """Powers of ten from at or below `low` to at or above `high`."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [10.0 ** e for e in range(first, max(last, first + 1) + 1)]


def ms_text(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


def latency_chart(rows: list[Latency], title: str) -> str:
    """Two bars per row on a log scale, p50 above p99, with both figures in a column."""
    values = [v for r in rows for v in (r.p50_ms, r.p99_ms) if math.isfinite(v) and v > 0]
    marks = decades(min(values, default=0.1), max(values, default=10.0))
    lo, hi = math.log10(marks[0]), math.log10(marks[-1])
    label_w = max(text_width(r.label) for r in rows)
    x0 = PAD + label_w + PAD

    def x(ms: float) -> float:
        return x0 + PLOT * (math.log10(ms) - lo) / (hi - lo)

    def fmt(ms: float) -> str:
        if not math.isfinite(ms):
            return "n/a"
        return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"

    figures = [f"p50 {fmt(r.p50_ms)} · p99 {fmt(r.p99_ms)} ms" for r in rows]
    fig_x = x0 + PLOT + PAD
    legend, legend_end = _legend(PAD, 42, [(P50, "p50"), (P99, "p99 (log scale)")])
    width = max(fig_x + max(text_width(f) for f in figures) + PAD, legend_end, text_width(title, SIZE + 2) + 2 * PAD)
    bottom = TOP + ROW * len(rows)
    out = legend
    for mark in marks:
        out.append(_line(x(mark), TOP - 6, x(mark), bottom, "#e0e0e0"))
        out.append(_text(x(mark), bottom + 16, ms_text(mark), anchor="middle"))
    out.append(_line(x0, bottom, x0 + PLOT, bottom, "#424242"))
    for i, (row, figure) in enumerate(zip(rows, figures)):
        y = TOP + ROW * i
        out.append(_text(x0 - PAD, y + 14, row.label, anchor="end"))
        for offset, value, colour in ((3, row.p50_ms, P50), (12, row.p99_ms, P99)):
            if math.isfinite(value) and value > 0:
                out.append(_rect(x0, y + offset, x(value) - x0, 8, colour))
        out.append(_text(fig_x, y + 14, figure))
    return _svg(width, bottom + 30, title, out)
