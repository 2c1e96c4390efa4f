"""Deletion and insertion curves of :func:`dnabert_viz.faithfulness`."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .cards import CARD_STYLE
from .html import element
from .tracks import _LAYOUT


def faithfulness_curves(result, *, maps: list[str] | None = None) -> go.Figure:
    """Each map's deletion and insertion curves (the mean change of the output, with its 95%
    bootstrap band) beside the random-position control and the shifted map.

    Parameters
    ----------
    result : Faithfulness
        What :func:`dnabert_viz.faithfulness` returned.
    maps : list of str, optional
        The maps to draw (default: all, in the summary's order).

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels, deletion (the output falls as the map's top k are mutated: the lower, the
        more faithful) and insertion (it rises as they are restored to a fully replaced
        sequence: the higher, the more faithful); x is k, nucleotides.
    """
    table = result.table
    names = list(result.summary["map"]) if maps is None else list(maps)
    unknown = sorted(set(names) - set(table["map"]))
    if unknown:
        raise ValueError(f"maps {unknown} are not in this result ({sorted(set(table['map']))})")
    scale = result.meta["output"]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"deletion: {scale} change, top k mutated",
            f"insertion: {scale} change, top k restored",
        ),
        horizontal_spacing=0.12,
    )
    colours = qualitative.Plotly
    for col, curve in enumerate(("deletion", "insertion"), start=1):
        rows = table[table["curve"] == curve]
        control = rows[(rows["order"] == "random") & (rows["map"] == names[0])]
        _line(fig, control, "random positions", "grey", "dash", col, legend=col == 1)
        for n, name in enumerate(names):
            colour = colours[n % len(colours)]
            mine = rows[rows["map"] == name]
            _line(fig, mine[mine["order"] == "top"], name, colour, "solid", col, col == 1)
            _line(
                fig,
                mine[mine["order"] == "shifted"],
                f"{name}, shifted",
                colour,
                "dot",
                col,
                col == 1,
                band=False,
            )
        fig.update_xaxes(title_text="k (nucleotides)", row=1, col=col)
    fig.update_yaxes(title_text=f"change in {scale}", row=1, col=1)
    fig.update_layout(**_LAYOUT, height=380, width=900)
    return fig


def _line(fig, rows, name, colour, dash, col, legend, band=True) -> None:
    """One curve: mean and, with ``band``, its confidence band, in one legend group."""
    if band:
        fig.add_trace(
            go.Scatter(
                x=list(rows["k"]) + list(rows["k"])[::-1],
                y=list(rows["ci_high"]) + list(rows["ci_low"])[::-1],
                fill="toself",
                fillcolor=colour,
                opacity=0.15,
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
                legendgroup=name,
            ),
            row=1,
            col=col,
        )
    fig.add_trace(
        go.Scatter(
            x=rows["k"],
            y=rows["delta"],
            mode="lines+markers",
            name=name,
            line=dict(color=colour, dash=dash),
            legendgroup=name,
            showlegend=legend,
        ),
        row=1,
        col=col,
    )


def verdict_line(result) -> str:
    """The result in one sentence, most faithful map first: ``on these 12 sequences,
    integrated_gradients moves the log-odds 4.1x more than random at k = 5; cls_attention
    1.1x``."""
    meta, ratio = result.meta, result.summary.set_index("map")["ratio"]
    first, *others = result.verdict_by_map()
    head = (
        f"on these {meta['n']} sequences, {first} moves the {meta['output']} "
        f"{_ratio(ratio[first])} more than random at k = {meta['k']}"
    )
    return "; ".join([head, *(f"{name} {_ratio(ratio[name])}" for name in others)])


def _ratio(ratio: float) -> str:
    """``4.1x``; ``n/a`` where random positions did not move the output (no ratio)."""
    return f"{ratio:.1f}x" if np.isfinite(ratio) else "n/a"


def verdict_cards(result):
    """One card per map of a :func:`dnabert_viz.faithfulness` result, most faithful first: the
    ratio of its top-k drop to random positions' (k: the summary's), its verdict
    (:meth:`dnabert_viz.Faithfulness.verdict_by_map`) and the drops behind it; an HTML element
    (a flex grid)."""
    k, scale = result.meta["k"], result.meta["output"]
    summary = result.summary.set_index("map")
    cards = []
    for name, verdict in result.verdict_by_map().items():
        row = summary.loc[name]
        lines = [
            verdict,
            f"{scale} drop at k = {k}: top {row.drop_top:.3g}, random {row.drop_random:.3g}, "
            f"map shifted {row.drop_shifted:.3g}, bottom {row.drop_bottom:.3g}",
            f"AOPC deletion {row.aopc_deletion:.3g} (random {row.aopc_deletion_random:.3g}), "
            f"insertion {row.aopc_insertion:.3g} (random {row.aopc_insertion_random:.3g})",
        ]
        cards.append(
            element(
                "div",
                class_="card verdict",
                style=CARD_STYLE,
                children=[
                    element("h3", name, style="margin: 4px 0; font-size: 14px"),
                    element("div", _ratio(row.ratio), class_="ratio", style="font-size: 28px"),
                    element("div", f"more than random at k = {k}", class_="note"),
                    *[element("div", line, class_="note") for line in lines],
                ],
            )
        )
    return element(
        "div", class_="grid", style="display: flex; flex-wrap: wrap; gap: 8px", children=cards
    )
