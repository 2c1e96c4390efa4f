"""Nucleotide letters as filled polygons, for logos drawn inside plotly figures.

Each letter's outline (DejaVu Sans Bold, from matplotlib's font machinery;
no pyplot) is turned into polygons once and normalised to the unit square.
A logo is then five scatter traces (one per base, plus the white counter of
the letter A) whose coordinates are one numpy broadcast, and it updates in
place in a FigureWidget (layout shapes, one per letter, would each go
through plotly's validation; ``benchmarks/README.md``).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import plotly.graph_objects as go

from ..sequences import ALPHABET
from .logos import COLORS

COUNTER = (
    "counter"  # the trace that draws the holes of letters (A's triangle) in the background colour
)


def _signed_area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


@cache
def _outline(letter: str) -> tuple[np.ndarray, np.ndarray]:
    """(outer, counters): closed polygons of ``letter`` in the unit square, each (n, 2) with a NaN
    row after it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath(
        (0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold")
    )
    polygons = path.to_polygons(closed_only=True)
    points = np.concatenate(polygons)
    low, high = points.min(axis=0), points.max(axis=0)
    polygons = [(p - low) / (high - low) for p in polygons]
    outer_sign = np.sign(_signed_area(max(polygons, key=lambda p: abs(_signed_area(p)))))
    gap = np.full((1, 2), np.nan)
    outer = [np.vstack([p, gap]) for p in polygons if np.sign(_signed_area(p)) == outer_sign]
    counters = [np.vstack([p, gap]) for p in polygons if np.sign(_signed_area(p)) != outer_sign]
    return np.vstack(outer), np.vstack(counters) if counters else np.empty((0, 2))


def _place(
    unit: np.ndarray, x0: np.ndarray, width: float, heights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Copies of a unit-square outline stretched onto boxes [x0, x0 + width] x [0, height]: flat x
    and y arrays."""
    x = x0[:, None] + unit[None, :, 0] * width
    y = heights[:, None] * unit[None, :, 1]
    return x.ravel(), y.ravel()


def logo_coordinates(
    sequence: str, heights: np.ndarray, width: float = 0.9
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Polygon coordinates of a letter logo, per trace.

    Parameters
    ----------
    sequence : str
        Bases; ``N`` and zero (or NaN) heights draw nothing.
    heights : numpy.ndarray
        (len(sequence),) signed letter heights in data units; a negative
        height draws the letter upside down below zero (as logomaker does).
    width : float
        Letter width in positions; letter p is centred on x = p.

    Returns
    -------
    dict
        ``{"A": (x, y), "C": ..., "G": ..., "T": ..., "counter": (x, y)}``,
        flat arrays with NaN between polygons.
    """
    heights = np.nan_to_num(np.asarray(heights, dtype=float)[: len(sequence)])
    bases = np.frombuffer(sequence.encode(), dtype=np.uint8)
    out, counter_x, counter_y = {}, [], []
    for base in ALPHABET:
        where = np.flatnonzero((bases == ord(base)) & (heights != 0))
        outer, counters = _outline(base)
        out[base] = _place(outer, where - width / 2, width, heights[where])
        if len(counters):
            cx, cy = _place(counters, where - width / 2, width, heights[where])
            counter_x.append(cx)
            counter_y.append(cy)
    out[COUNTER] = (np.concatenate(counter_x), np.concatenate(counter_y))
    return out


def logo_traces(
    sequence: str, heights: np.ndarray, background: str = "white", **kwargs
) -> list[go.Scatter]:
    """Scatter traces that draw a letter logo (see :func:`logo_coordinates`); ``kwargs`` go to
    every trace."""
    traces = []
    for key, (x, y) in logo_coordinates(sequence, heights).items():
        color = background if key == COUNTER else COLORS[key]
        traces.append(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                fill="toself",
                fillcolor=color,
                line=dict(width=0, color=color),
                hoverinfo="skip",
                showlegend=False,
                name=f"logo {key}",
                **kwargs,
            )
        )
    return traces
