"""Trend charts as inline SVG, drawn on the server: no JavaScript, no fonts or files to fetch.

Written here rather than taken from a chart library: a weekly line with a
few labels is some forty lines, and this way every label is already
translated and formatted in the reader's locale, every text is escaped, and
the page works offline and on a phone browser without scripts. (pygal, the
maintained server-side SVG library, adds tooltips through JavaScript fetched
from its own site unless turned off, and styles we would override anyway.)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 22, 22


def line_chart(title: str, labels: Sequence[str], values: Sequence[int], fmt: Callable[[int], str],
               *, bars: bool = False) -> str:
    """An SVG line (or bar) chart of ``values``, one per label, with its last value and range labelled.

    ``title`` names the chart for screen readers; the first and last week are
    written under the axis, the highest and the last value above the line
    (``fmt`` formats only those two: formatting money in a locale is what a chart costs).
    """
    n = len(values)
    top = max(max(values, default=0), 0) or (0 if min(values, default=0) < 0 else 1)  # all zero: on the floor
    low = min(min(values, default=0), 0)
    span = (top - low) or 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w * (i + 0.5) / n if bars else (inner_w * i / (n - 1) if n > 1 else inner_w / 2))

    def y(v: int) -> float:
        return TOP + inner_h * (top - v) / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}" class="axis"/>']
    if n:
        if bars:
            w = max(inner_w / n - 3, 1)
            for i, v in enumerate(values):
                parts.append(f'<rect x="{x(i) - w / 2:.1f}" y="{min(y(v), y(0)):.1f}" width="{w:.1f}" '
                             f'height="{abs(y(0) - y(v)):.1f}" class="bar"/>')
        else:
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
            parts.append(f'<polyline points="{points}" class="line" fill="none"/>')
            parts += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" class="dot"/>' for i, v in enumerate(values)]
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{TOP - 8}" text-anchor="end" class="last">'
                     f'{escape(fmt(values[-1]))}</text>')
        parts.append(f'<text x="{LEFT}" y="{TOP - 8}" class="max">{escape(fmt(max(values)))}</text>')
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" class="week">{escape(labels[0])}</text>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" class="week">'
                     f'{escape(labels[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts)
