"""Interactive plotly figures: score tracks, ISM mutation maps, attention heatmaps.

Figures are ``plotly.graph_objects.Figure`` objects (they render in
JupyterLab, export to standalone HTML with plotly.js embedded, and to PNG/SVG
with kaleido where installed). Colours are the nucleotide scheme of
:mod:`dnabert_viz.plot.logos`; diverging maps are centred on zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..attention import AttentionMaps
from ..scores import Scores
from ..sequences import ALPHABET
from ..tokenization import real_tokens
from .glyphs import logo_traces
from .logos import COLORS

HEAD_VIEW_LETTER_PX = 9  # room a head view gives each letter it writes (11 px monospace: 6.6 px)
HEAD_VIEW_AXIS_PX = 100  # of a head view's width, what its margins and row labels take
HEAD_VIEW_MARGIN = 5  # letters' room left beside the region for the positions outside it
_SPAN_COLORS = ["#8E44AD", "#16A085", "#D35400", "#2C3E50", "#C0392B"]
_LAYOUT = dict(
    template="simple_white",
    font=dict(family="Arial, sans-serif", size=12),
    margin=dict(l=70, r=20, t=50, b=40),
)


def _instances_of(instances: pd.DataFrame | None, i: int) -> pd.DataFrame:
    if instances is None or len(instances) == 0:
        return pd.DataFrame(columns=["start", "end", "label"])
    table = (
        instances[instances["sequence_index"] == i] if "sequence_index" in instances else instances
    )
    label = next((c for c in ("name", "motif", "motif_id", "label") if c in table), None)
    return pd.DataFrame(
        {
            "start": table["start"].to_numpy(),
            "end": table["end"].to_numpy(),
            "label": table[label].astype(str).to_numpy() if label else ["instance"] * len(table),
        }
    )


def span_decorations(instances: pd.DataFrame | None, i: int) -> tuple[list[dict], list[dict]]:
    """Layout shapes and annotations that shade sequence ``i``'s motif instances over the whole
    figure height.

    One colour per label; see :func:`track` for the table's columns.
    """
    spans = _instances_of(instances, i)
    labels = sorted(set(spans["label"]))
    shapes, notes = [], []
    for span in spans.itertuples():
        color = _SPAN_COLORS[labels.index(span.label) % len(_SPAN_COLORS)]
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="paper",
                x0=span.start - 0.5,
                x1=span.end - 0.5,
                y0=0,
                y1=1,
                fillcolor=color,
                opacity=0.15,
                line_width=0,
                layer="below",
            )
        )
        notes.append(
            dict(
                xref="x",
                yref="paper",
                x=span.start - 0.5,
                y=1,
                xanchor="left",
                yanchor="bottom",
                text=span.label,
                showarrow=False,
                font=dict(color=color, size=11),
            )
        )
    return shapes, notes


def hover_texts(
    sequence: str, kind: str, values: np.ndarray, tokens: Sequence[str] | None = None
) -> list[str]:
    """Hover text of each position: position, base, value and (when given) the covering tokens."""
    covering = [f"<br>tokens: {t}" for t in tokens] if tokens is not None else [""] * len(sequence)
    return [
        f"position {p}<br>base {b}<br>{kind}: {v:.4g}{c}"
        for p, (b, v, c) in enumerate(zip(sequence, values, covering))
    ]


def logo_heights(values: np.ndarray) -> np.ndarray:
    """Letter heights of a track's logo row: the scores scaled to a largest magnitude of 1 (NaN ->
    0).
    """
    values = np.nan_to_num(np.asarray(values, dtype=float))
    top = np.abs(values).max(initial=0.0)
    return values / top if top > 0 else values


def track(
    scores: Scores | Sequence[Scores],
    index: int,
    *,
    instances: pd.DataFrame | None = None,
    tokens: Sequence[str] | None = None,
    title: str | None = None,
    width: int | None = None,
) -> go.Figure:
    """Per-nucleotide scores of sequence ``index`` along the sequence, one row per score kind,
    over a letter logo.

    Parameters
    ----------
    scores : Scores or list of Scores
        One or several score sets over the same sequences (e.g. [CLS]
        attention and integrated gradients).
    index : int
        Sequence index.
    instances : pandas.DataFrame, optional
        Motif instances to shade: ``start``, ``end`` and a label column
        (``name``, ``motif``, ``motif_id`` or ``label``); rows of other
        sequences are ignored when a ``sequence_index`` column is present.
    tokens : list of str, optional
        For each nucleotide, the tokens covering it (shown on hover).
    title : str, optional
        Figure title; defaults to the sequence index and length.
    width : int, optional
        Width in pixels (default: the container's).

    Returns
    -------
    plotly.graph_objects.Figure
        Rows: one bar trace per score kind (bars coloured by base), and a
        bottom row with the sequence's letters scaled by the first score
        kind (an attribution logo; negative letters upside down). Hover and
        clicks take the whole column of a position (``hovermode="x"``), so a
        position is reachable however short its bar.
    """
    sets = [scores] if isinstance(scores, Scores) else list(scores)
    if not sets:
        raise ValueError("give at least one Scores")
    seq = sets[0].sequences[index]
    for s in sets[1:]:
        if s.sequences[index] != seq:
            raise ValueError(f"the score sets hold different sequences at index {index}")
    n = len(seq)
    x = np.arange(n)
    fig = make_subplots(
        rows=len(sets) + 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[1.0] * len(sets) + [0.45],
    )
    colors = [COLORS.get(b, "#999999") for b in seq]
    for row, s in enumerate(sets, start=1):
        fig.add_trace(
            go.Bar(
                x=x,
                y=s[index],
                name=s.kind,
                marker_color=colors,
                hovertext=hover_texts(seq, s.kind, s[index], tokens),
                hoverinfo="text",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=s.kind.replace("_", " "), row=row, col=1)
    logo_row = len(sets) + 1
    heights = logo_heights(sets[0][index])
    fig.add_traces(logo_traces(seq, heights), rows=logo_row, cols=1)
    low, high = -1.05 * (heights.min(initial=0) < 0), 1.05 * (heights.max(initial=0) > 0)
    fig.update_yaxes(
        title_text="logo",
        range=[low, high] if high > low else [-1, 1],
        showticklabels=False,
        zeroline=True,
        row=logo_row,
        col=1,
    )
    fig.update_xaxes(title_text="position (nt)", range=[-0.5, n - 0.5], row=logo_row, col=1)
    shapes, notes = span_decorations(instances, index)
    fig.update_layout(
        title=title or f"sequence {index} ({n} nt)",
        height=170 + 160 * len(sets),
        width=width,
        bargap=0.05,
        hovermode="x",
        shapes=shapes,
        annotations=notes,
        **_LAYOUT,
    )
    return fig


def mutation_map(
    effects: np.ndarray,
    sequence: str,
    *,
    title: str | None = None,
    width: int | None = None,
    label: str = "Δ p(target)",
    ylabel: str = "substituted base",
) -> go.Figure:
    """ISM effects, or any (L, 4) values (hypothetical contributions), as a 4 x L heatmap,
    references marked.

    Parameters
    ----------
    effects : numpy.ndarray
        (L, 4) change in the target probability for each substitution (a row
        of :func:`dnabert_viz.ism`'s output); the reference entries are 0.
    sequence : str
        The reference sequence.
    title : str, optional
        Figure title.
    width : int, optional
        Width in pixels; the colour bar lies above the map, so the columns
        line up with a :func:`track` of the same width.
    label : str
        What the values are (the colour bar's title).
    ylabel : str
        What the rows are: substituted bases (effects), or ``"base"`` for
        hypothetical contributions.

    Returns
    -------
    plotly.graph_objects.Figure
        The heatmap and the reference bases (open circles, in the legend).
    """
    effects = np.asarray(effects, dtype=float)
    if effects.ndim != 2 or effects.shape[1] != 4 or effects.shape[0] < len(sequence):
        raise ValueError(f"effects must be (L, 4) with L >= {len(sequence)}, got {effects.shape}")
    n = len(sequence)
    z = effects[:n].T
    limit = float(np.nanmax(np.abs(z))) or 1.0
    text = [
        [
            f"position {p}<br>{sequence[p]} → {ALPHABET[b]}<br>effect {z[b, p]:+.4g}"
            for p in range(n)
        ]
        for b in range(4)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=np.arange(n),
            y=list(ALPHABET),
            colorscale="RdBu_r",
            zmin=-limit,
            zmax=limit,
            hovertext=text,
            hoverinfo="text",
            colorbar=dict(
                title=dict(text=label, side="top"),
                exponentformat="e",
                nticks=4,  # few, level labels: a long tick label tilts the bar's others
                tickangle=0,
                orientation="h",
                x=1,
                xanchor="right",
                y=1.02,
                yanchor="bottom",
                len=0.35,
                thickness=10,
            ),
        )
    )
    ref = [(p, ALPHABET.index(b)) for p, b in enumerate(sequence) if b in ALPHABET]
    fig.add_trace(
        go.Scatter(
            x=[p for p, _ in ref],
            y=[ALPHABET[b] for _, b in ref],
            mode="markers",
            name="reference base",
            showlegend=True,
            marker=dict(symbol="circle-open", size=7, color="black"),
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title=title or f"in-silico mutagenesis ({n} nt)",
        xaxis=dict(title="position (nt)", range=[-0.5, n - 0.5]),
        yaxis_title=ylabel,
        height=300,
        width=width,
        # the legend on the colour bar's row, at the left: neither covers the map
        legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom"),
        **{**_LAYOUT, "margin": dict(l=70, r=20, t=50, b=50)},
    )
    return fig


def attention_heatmap(
    maps: AttentionMaps, *, layer: int = -1, head: int | None = None
) -> go.Figure:
    """Nucleotide-level attention (L x L): row = querying nucleotide, column = attended nucleotide.

    ``head=None`` averages the heads of the layer.
    """
    matrix = maps.nucleotide(layer, head)
    n = len(maps.sequence)
    label = f"layer {layer if layer >= 0 else maps.attentions.shape[0] + layer}, " + (
        "mean of heads" if head is None else f"head {head}"
    )
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=np.arange(n),
            y=np.arange(n),
            colorscale="Viridis",
            colorbar=dict(title="attention"),
            hovertemplate="from %{y} to %{x}<br>attention %{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"nucleotide attention, {label}",
        xaxis_title="attended position (nt)",
        yaxis_title="query position (nt)",
        yaxis_autorange="reversed",
        height=520,
        width=580,
        **_LAYOUT,
    )
    return fig


def layer_head_summary(maps: AttentionMaps) -> go.Figure:
    """Layers x heads heatmap of how focused the [CLS] attention of each head is.

    Colour: the entropy in bits of the [CLS] row over the sequence's tokens
    (renormalised to them), scaled to the range the heads span: dark heads
    look at a few tokens, light ones spread evenly. (The share of attention
    on sequence tokens, nearly 1 for every head of a fine-tuned DNABERT,
    would paint a uniform block; it is in the hover text.)
    """
    cls_rows = maps.attentions[:, :, 0, :]  # (layers, heads, T)
    real = real_tokens(maps.spans)
    on_real = cls_rows[..., real].sum(axis=-1)
    p = np.clip(cls_rows[..., real] / np.maximum(on_real[..., None], 1e-12), 1e-12, 1)
    entropy = -(p * np.log2(p)).sum(axis=-1)
    layers, heads = on_real.shape
    text = [
        [
            f"layer {a}, head {h}<br>entropy {entropy[a, h]:.2f} bits (uniform: "
            f"{np.log2(real.sum()):.2f})"
            f"<br>on sequence tokens {on_real[a, h]:.2f}"
            for h in range(heads)
        ]
        for a in range(layers)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=entropy,
            x=[f"head {h}" for h in range(heads)],
            y=[f"layer {a}" for a in range(layers)],
            colorscale="Blues_r",
            hovertext=text,
            hoverinfo="text",
            colorbar=dict(title=dict(text="bits", side="top"), thickness=12),
        )
    )
    fig.update_layout(
        title="[CLS] attention entropy<br><sup>dark: focused heads; click one</sup>",
        height=150 + 50 * layers,
        width=260 + 70 * heads,
        **_LAYOUT,
    )
    return fig


def head_view_room(width: int) -> int:
    """How many positions a head view of ``width`` pixels writes a letter for, each one (beside
    its row labels and the margin where the positions of targets outside the region go)."""
    return max((width - HEAD_VIEW_AXIS_PX) // HEAD_VIEW_LETTER_PX - HEAD_VIEW_MARGIN, 1)


def head_view_window(n: int, room: int, *, around: int | None = None) -> tuple[int, int]:
    """The region of an ``n``-nt sequence a head view with ``room`` letters shows: the whole
    sequence where it fits, else ``room`` positions centred on ``around`` (from the start by
    default), as ``(start, end)``."""
    if n <= room:
        return 0, n
    start = 0 if around is None else min(max(around - room // 2, 0), n - room)
    return start, start + room


def head_view(
    maps: AttentionMaps,
    *,
    layer: int = -1,
    head: int | None = None,
    position: int | None = None,
    top_k: int = 3,
    window: tuple[int, int] | None = None,
    width: int = 900,
) -> go.Figure:
    """A bertviz-style head view in nucleotide coordinates.

    The region's sequence is written twice, every letter of it: querying
    nucleotides on the top row and attended nucleotides on the bottom row; a
    line joins each query to the ``top_k`` nucleotides it attends most (from
    :meth:`AttentionMaps.nucleotide`), darker and wider for larger weights
    (four bands of the largest weight shown). A line to a nucleotide outside
    the region stops at the region's edge, where the positions such lines go
    to are written.

    Parameters
    ----------
    maps : AttentionMaps
        Attention of one sequence.
    layer : int
        Layer (negative counts from the last).
    head : int, optional
        Head; ``None`` averages the heads of the layer.
    position : int, optional
        Show only this query position's lines; all positions by default.
    top_k : int
        Lines per query position.
    window : (int, int), optional
        The region: positions ``start`` to ``end - 1``, at most as many as
        ``width`` has room for (:func:`head_view_room`, ``HEAD_VIEW_LETTER_PX``
        a letter). By default the whole sequence where it fits, else that
        many positions around ``position`` (or from the start).
    width : int
        Width in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        Four line traces (weight bands, lightest first), where lines leave
        the region a label of the positions they go to (``outside left``,
        ``outside right``), and two letter rows (``query``, ``attended``).
        The title names the layer, head and region.
    """
    matrix = maps.nucleotide(layer, head)
    n = len(maps.sequence)
    room = head_view_room(width)
    start, end = head_view_window(n, room, around=position) if window is None else window
    if not 0 <= start < end <= n:
        raise ValueError(f"window {window} is not a region of the {n}-nt sequence")
    if end - start > room:
        raise ValueError(
            f"window {window} has {end - start} positions; a head view {width} px wide writes "
            f"at most {room} letters: narrow the window or widen the view"
        )
    if position is not None and not start <= position < end:
        raise ValueError(f"position {position} is outside positions {start}-{end - 1} shown")
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    queries = np.arange(start, end) if position is None else np.array([position])
    targets = np.argsort(-matrix[queries], axis=1, kind="stable")[:, :top_k]
    weights = np.take_along_axis(matrix[queries], targets, axis=1)
    band = np.minimum((4 * weights / max(float(weights.max()), 1e-12)).astype(int), 3)
    # a target outside the region: the line stops where it crosses the region's edge
    ends = np.clip(targets, start - 0.5, end - 0.5).astype(float)
    run = targets - queries[:, None]  # the line from (query, 1) to (target, 0)
    heights = np.where(run == 0, 0.0, 1 - (ends - queries[:, None]) / np.where(run == 0, 1, run))
    fig = go.Figure()
    for level in range(4):
        q, k = np.nonzero(band == level)
        x = np.column_stack([queries[q], ends[q, k], np.full(len(q), np.nan)]).ravel()
        y = np.column_stack([np.ones(len(q)), heights[q, k], np.full(len(q), np.nan)]).ravel()
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                name=f"band {level}",
                line=dict(color="#1F4E79", width=0.4 + 0.6 * level),
                opacity=0.12 + 0.2 * level,
            )
        )
    for side, beyond, x, align in (
        ("left", targets < start, start - 0.5, "middle left"),
        ("right", targets >= end, end - 0.5, "middle right"),
    ):  # one label a side: the positions its lines go to
        if beyond.any():
            where = np.unique(targets[beyond])
            listed = ", ".join(map(str, where[:4])) + (", …" if len(where) > 4 else "")
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[float(heights[beyond].mean())],
                    mode="text",
                    text=[listed],
                    textposition=align,
                    textfont=dict(size=9, color="#1F4E79"),
                    name=f"outside {side}",
                    showlegend=False,
                    hovertext=f"{beyond.sum()} lines to positions outside the region: "
                    + ", ".join(map(str, where)),
                    hoverinfo="text",
                )
            )
    shown = maps.sequence[start:end]
    colors = [COLORS.get(b, "#999999") for b in shown]
    for y, role in ((1.06, "query"), (-0.06, "attended")):
        fig.add_trace(
            go.Scatter(
                x=np.arange(start, end),
                y=np.full(end - start, y),
                mode="text",
                text=list(shown),
                name=role,
                textfont=dict(color=colors, family="monospace", size=11),
                showlegend=False,
                hovertemplate=f"{role} position %{{x}} (%{{text}})<extra></extra>",
            )
        )
    label = f"layer {layer % maps.attentions.shape[0]}, " + (
        "mean of heads" if head is None else f"head {head}"
    )
    region = "" if (start, end) == (0, n) else f", positions {start}-{end - 1} of {n}"
    fig.update_layout(
        title=f"head view, {label}"
        + ("" if position is None else f", from position {position}")
        + region,
        xaxis=dict(title="position (nt)", range=[start - 3, end + HEAD_VIEW_MARGIN - 3]),
        height=300,
        width=width,
        yaxis=dict(range=[-0.2, 1.2], tickvals=[1.06, -0.06], ticktext=["query", "attended"]),
        **_LAYOUT,
    )
    return fig


def dependency_heatmap(dep, *, blocks=None) -> go.Figure:
    """A nucleotide dependency map (:func:`dnabert_viz.dependency_map`) as an R x R heatmap, the
    region's bases on both axes; the left-out band is blank and the title says so; each block
    (:meth:`dnabert_viz.DependencyMap.blocks`) is outlined on both sides of the diagonal.

    Parameters
    ----------
    dep : dnabert_viz.DependencyMap
    blocks : pandas.DataFrame, optional
        Blocks to outline; ``dep.blocks()`` by default (an empty table outlines none).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    n = len(dep.values)
    positions = np.arange(dep.start, dep.start + n)
    ticks = [f"{p} {b}" for p, b in zip(positions, dep.region)]
    fig = go.Figure(
        go.Heatmap(
            z=dep.values,
            x=ticks,
            y=ticks,
            colorscale="Viridis",
            colorbar=dict(title="max |Δ log-odds|"),
            hovertemplate="substituted %{y}<br>target %{x}<br>dependency %{z:.3f}<extra></extra>",
        )
    )
    band = (
        f"pairs under {dep.band} nt apart left out (blank)" if dep.band > 1 else "diagonal blank"
    )
    blocks = dep.blocks() if blocks is None else blocks
    for b in blocks.itertuples():
        # categorical axes: cell c spans c - 0.5 to c + 0.5
        first = (b.first_start - dep.start - 0.5, b.first_end - dep.start - 0.5)
        second = (b.second_start - dep.start - 0.5, b.second_end - dep.start - 0.5)
        for rows, columns in ((first, second), (second, first)):
            fig.add_shape(
                type="rect",
                x0=columns[0],
                x1=columns[1],
                y0=rows[0],
                y1=rows[1],
                line=dict(color="#d62728", width=2),
            )
    found = f", {len(blocks)} block{'s' * (len(blocks) != 1)} outlined" if len(blocks) else ""
    fig.update_layout(
        title=f"nucleotide dependencies, {dep.start}-{dep.start + n}<br><sup>{band}{found}</sup>",
        xaxis_title="target nucleotide (masked)",
        yaxis_title="substituted nucleotide",
        yaxis_autorange="reversed",
        height=560,
        width=620,
        **_LAYOUT,
    )
    return fig
