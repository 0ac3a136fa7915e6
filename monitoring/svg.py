"""Two small inline SVG charts for the overview page: score histograms and calibration.

Drawn by hand rather than with matplotlib, whose import and rendering cost about as much
as all of monitoring's own statistics on a million rows. The page stays one self-contained
file; the numbers behind each chart are in ``summary.json``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

WIDTH, HEIGHT, MARGIN = 540, 260, 44
COLOURS = ("#1f77b4", "#ff7f0e")


def _frame(title_x: str, title_y: str, body: list[str], legend: Sequence[str]) -> str:
    """Axes from 0 to 1 on x, titles and a legend around the chart's ``body``."""
    x0, y0, x1, y1 = MARGIN, HEIGHT - MARGIN, WIDTH - 10, 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="11">',
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>',
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>',
        *(
            f'<text x="{x0 + t * (x1 - x0):.1f}" y="{y0 + 14}" text-anchor="middle">{t:g}</text>'
            for t in (0.0, 0.25, 0.5, 0.75, 1.0)
        ),
        f'<text x="{(x0 + x1) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
        f"{html.escape(title_x)}</text>",
        f'<text x="12" y="{(y0 + y1) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {(y0 + y1) / 2})">{html.escape(title_y)}</text>',
        *body,
        *(
            f'<rect x="{x0 + 10}" y="{y1 + 4 + 16 * i}" width="10" height="10" '
            f'fill="{COLOURS[i % 2]}" fill-opacity="0.6"/><text x="{x0 + 24}" '
            f'y="{y1 + 13 + 16 * i}">{html.escape(name)}</text>'
            for i, name in enumerate(legend)
        ),
        "</svg>",
    ]
    return "".join(parts)


def _x(value: float) -> float:
    """Pixel column of a value in [0, 1]."""
    return MARGIN + value * (WIDTH - 10 - MARGIN)


def _y(value: float, top: float) -> float:
    """Pixel row of a value on an axis from 0 to ``top``."""
    span = HEIGHT - MARGIN - 10
    return HEIGHT - MARGIN - (value / top if top > 0 else 0.0) * span


def histograms(samples: dict[str, np.ndarray], bins: int = 40) -> str:
    """Density histograms on [0, 1] of each named sample, overlaid (empty samples skipped)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    densities = {
        name: np.histogram(np.clip(values, 0.0, 1.0), bins=edges, density=True)[0]
        for name, values in samples.items()
        if values.size
    }
    top = max((float(d.max()) for d in densities.values()), default=1.0) * 1.05
    body = [
        f'<rect x="{_x(edges[i]):.1f}" y="{_y(height, top):.1f}" '
        f'width="{_x(edges[i + 1]) - _x(edges[i]):.1f}" '
        f'height="{_y(0.0, top) - _y(height, top):.1f}" fill="{COLOURS[k % 2]}" '
        f'fill-opacity="0.5"/>'
        for k, density in enumerate(densities.values())
        for i, height in enumerate(density)
        if height > 0
    ]
    return _frame("predicted probability", "density", body, list(densities))


def calibration(mean_predicted: Sequence[float], observed: Sequence[float]) -> str:
    """Observed rate against mean predicted probability per bucket, with the diagonal."""
    points = " ".join(
        f"{_x(p):.1f},{_y(o, 1.0):.1f}" for p, o in zip(mean_predicted, observed, strict=True)
    )
    body = [
        f'<line x1="{_x(0)}" y1="{_y(0, 1)}" x2="{_x(1)}" y2="{_y(1, 1)}" stroke="grey" '
        f'stroke-dasharray="4 3"/>',
        f'<polyline points="{points}" fill="none" stroke="{COLOURS[0]}"/>',
        *(
            f'<circle cx="{_x(p):.1f}" cy="{_y(o, 1.0):.1f}" r="3" fill="{COLOURS[0]}"/>'
            for p, o in zip(mean_predicted, observed, strict=True)
        ),
    ]
    return _frame("mean predicted probability", "observed rate", body, ["this window"])
