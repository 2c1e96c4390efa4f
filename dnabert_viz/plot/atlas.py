"""The head atlas of :func:`dnabert_viz.head_atlas`: a layer x head grid per quantity."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..atlas import LABELS, QUANTITIES, HeadAtlas
from .tracks import _LAYOUT

_PANEL_PX = 420  # the widest a panel's cells get, all heads together


def head_atlas(
    atlas: HeadAtlas,
    *,
    quantities: list[str] | None = None,
    selected: tuple[int, int | None] | None = None,
) -> go.Figure:
    """Layers x heads heatmaps, one per quantity, side by side; every cell's hover gives all
    three numbers.

    Parameters
    ----------
    atlas : HeadAtlas
        What :func:`dnabert_viz.head_atlas` returned (or a difference of two).
    quantities : list of str, optional
        Which of ``auroc``, ``ablation``, ``gradient`` to draw; by default those with a number
        (an atlas without an annotation has no AUROC, a model without a sequence head no
        ablation or gradient).
    selected : (int, int or None), optional
        A (layer, head) framed in every panel (the attention view's current head; a head of
        None, the mean of the layer's heads, frames the whole row).

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace per quantity (z: (layers, heads)), in the order drawn: a click's point
        is (layer, head). Colours diverge around chance (AUROC 0.5; a difference's 0) and no
        effect (0); red is high.
    """
    if not isinstance(atlas, HeadAtlas):
        raise TypeError(f"head_atlas draws a HeadAtlas, got {type(atlas).__name__}")
    if quantities is None:
        quantities = [q for q in QUANTITIES if np.isfinite(atlas.values(q)).any()]
        if not quantities:
            raise ValueError("this atlas has no numbers to draw (no annotation and no head)")
    for q in quantities:
        atlas.values(q)  # a quantity of another name: one line
    layers, heads = atlas.shape
    difference = "difference" in atlas.meta
    fig = make_subplots(
        rows=1,
        cols=len(quantities),
        subplot_titles=[LABELS[q] + (" (difference)" if difference else "") for q in quantities],
        horizontal_spacing=0.12 / max(len(quantities) - 1, 1) + 0.06,
    )
    hover = _hover(atlas)
    for col, q in enumerate(quantities, start=1):
        z = atlas.values(q)
        middle = 0.5 if q == "auroc" and not difference else 0.0
        spread = np.nanmax(np.abs(z - middle)) if np.isfinite(z).any() else 1.0
        domain = fig.layout[f"xaxis{'' if col == 1 else col}"].domain
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=[f"head {h}" for h in range(heads)],
                y=[f"layer {a}" for a in range(layers)],
                zmin=middle - (spread or 1.0),
                zmax=middle + (spread or 1.0),
                colorscale="RdBu_r",
                hovertext=hover,
                hoverinfo="text",
                name=q,
                colorbar=dict(x=domain[1] + 0.005, thickness=10, len=0.9),
            ),
            row=1,
            col=col,
        )
        fig.update_yaxes(autorange="reversed", row=1, col=col, showticklabels=col == 1)
    if selected is not None:
        layer, head = selected
        for col in range(1, len(quantities) + 1):
            x0, x1 = (-0.5, heads - 0.5) if head is None else (head - 0.5, head + 0.5)
            fig.add_shape(
                type="rect",
                x0=x0,
                x1=x1,
                y0=layer - 0.5,
                y1=layer + 0.5,
                line=dict(color="black", width=2),
                row=1,
                col=col,
            )
    what = atlas.meta.get("difference", atlas.meta.get("model"))
    cell = max(12, min(50, _PANEL_PX // heads))
    n = atlas.meta.get("n")
    fig.update_layout(
        **_LAYOUT,
        title=f"head atlas: {what}, {n} sequence{'' if n == 1 else 's'}"
        "<br><sup>click a head</sup>",
        height=205 + cell * layers,
        width=120 + len(quantities) * (cell * heads + 110),
    )
    fig.update_layout(margin_t=95)  # the two-line title above the panels' own titles
    return fig


def _hover(atlas: HeadAtlas) -> list[list[str]]:
    layers, heads = atlas.shape
    return [
        [
            f"layer {a}, head {h}<br>"
            + "<br>".join(f"{q}: {atlas.values(q)[a, h]:+.4g}" for q in QUANTITIES)
            for h in range(heads)
        ]
        for a in range(layers)
    ]
