"""The charts of the monthly report and the dashboard, drawn on the server as inline SVG: they print,
and need no script, stylesheet or font from anywhere (the pages work without internet)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH, ROW, TOP = 230, 300, 90, 22, 8
TONES = {"plain": "#4a6fa5", "hot": "#c0392b", "good": "#2e8b57", "bad": "#c0392b", "none": "#9aa5b1"}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # drawn against the chart's scale
    text: str  # printed beside the bar
    tone: str = "plain"  # a key of TONES: hot spots, figures meeting or missing their target
    mark: float | None = None  # a target drawn across the bar, on the same scale


def bar_chart(name: str, title: str, bars: Sequence[Bar], *, scale: float | None = None) -> Markup:
    """Horizontal bars, one a row, each with its label and its printed value; `scale` is the value
    of a full bar (the largest value when not given)."""
    if not bars:
        return _svg(name, title, LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, 30,
                    f'<text x="4" y="20" class="empty">{escape(title)}: nothing to show</text>')
    full = scale or max(b.value for b in bars) or 1
    parts = []
    for i, bar in enumerate(bars):
        y = TOP + i * ROW
        width = max(0.0, min(bar.value / full, 1.0)) * BAR_WIDTH
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{escape(bar.text)}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title>"
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{escape(_clip(bar.label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{width:.1f}" height="{ROW - 6}" fill="{TONES[bar.tone]}"/>'
            f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + 14}">{escape(bar.text)}</text>'
        )
        if bar.mark is not None:
            x = LABEL_WIDTH + min(bar.mark / full, 1.0) * BAR_WIDTH
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + ROW}" class="target"/>')
        parts.append("</g>")
    return _svg(name, title, LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, TOP * 2 + len(bars) * ROW, "".join(parts))


def trend_chart(name: str, title: str, points: Sequence[tuple[str, float | None]], target: float | None) -> Markup:
    """A rate (0–100 %) over periods, oldest first, with the target as a dashed line; a period with
    nothing to measure leaves a gap."""
    width, height, left, right, bottom = 340, 130, 40, 24, 22
    plot_w, plot_h = width - left - right, height - bottom - 10

    def x(i: int) -> float:
        return left + (plot_w * i / max(len(points) - 1, 1))

    def y(rate: float) -> float:
        return 10 + plot_h * (1 - max(0.0, min(rate, 1.0)))

    parts = [f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="axis"/>',
             f'<text x="{left - 4}" y="{y(1) + 4:.1f}" text-anchor="end">100 %</text>',
             f'<text x="{left - 4}" y="{y(0) + 4:.1f}" text-anchor="end">0 %</text>']
    if target is not None:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(target):.1f}" y2="{y(target):.1f}" class="target">'
                     f"<title>target {percent(target)}</title></line>")
    segment: list[str] = []
    for i, (label, rate) in enumerate(points):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="middle" class="tick">{escape(label)}</text>')
        if rate is None:
            parts.append(_polyline(segment))
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(rate):.1f}")
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(rate):.1f}" r="3" class="point" data-label="{escape(label)}"'
                     f' data-value="{percent(rate)}"><title>{escape(label)}: {percent(rate)}</title></circle>')
    parts.append(_polyline(segment))
    return _svg(name, title, width, height, "".join(parts))


def _polyline(points: list[str]) -> str:
    return f'<polyline points="{" ".join(points)}" class="trend"/>' if len(points) > 1 else ""


def _clip(label: str, length: int = 34) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


def _svg(name: str, title: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(name)}" role="img"'
        f' aria-label="{escape(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
