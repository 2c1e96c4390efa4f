"""Sequence embeddings in two dimensions: a scatter coloured by a label, a prediction or any
value per sequence (what :class:`dnabert_viz.widgets.EmbeddingView` shows and exports)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

MAX_CATEGORIES = 20
"""Colour values that are not floats are categories (labels, a motif's presence), up to this many
distinct ones; more are drawn on a continuous scale."""
WEBGL_FROM = 2000  # points: from here the scatter is drawn with WebGL (Scattergl)


def categorical(colour: pd.Series) -> bool:
    """Whether ``colour`` is drawn as categories (a legend of names) rather than a colour scale:
    not floats, and at most :data:`MAX_CATEGORIES` distinct values."""
    if pd.api.types.is_float_dtype(colour):
        return False
    return colour.nunique() <= MAX_CATEGORIES or not pd.api.types.is_numeric_dtype(colour)


def _marker(colour: pd.Series, label: str) -> dict:
    """The marker of every point: its colour, and a colour bar that names the categories."""
    if not categorical(colour):
        values = colour.to_numpy(dtype=float)
        return dict(color=values, colorscale="Viridis", colorbar=dict(title=dict(text=label)))
    names = sorted(colour.unique(), key=str)
    codes = colour.map({v: k for k, v in enumerate(names)}).to_numpy()
    palette = plotly.colors.qualitative.Dark24
    k = len(names)
    steps = []  # one flat band of the colour scale per category
    for j in range(k):
        steps += [(j / k, palette[j % len(palette)]), ((j + 1) / k, palette[j % len(palette)])]
    return dict(
        color=codes,
        colorscale=steps,
        cmin=-0.5,
        cmax=k - 0.5,
        colorbar=dict(
            title=dict(text=label), tickvals=list(range(k)), ticktext=[str(n) for n in names]
        ),
    )


def embedding_scatter(
    coordinates: np.ndarray,
    colour: pd.Series | np.ndarray,
    *,
    names: list[str] | None = None,
    predictions: np.ndarray | None = None,
    colour_label: str = "",
    axis_labels: tuple[str, str] = ("1", "2"),
    selected: list[int] | None = None,
    title: str | None = None,
    width: int = 720,
    height: int = 560,
) -> go.Figure:
    """Sequences as points of a 2-D projection of their embeddings, coloured by a value each.

    Parameters
    ----------
    coordinates : numpy.ndarray
        (N, 2) positions of the N sequences (PCA or UMAP of their embeddings).
    colour : pandas.Series or numpy.ndarray
        (N,) value per sequence: floats on a colour scale; labels, booleans
        or other categories (at most :data:`MAX_CATEGORIES`) in a colour each.
    names : list of str, optional
        (N,) what hovering a point says it is (default ``sequence i``).
    predictions : numpy.ndarray, optional
        (N,) p(target), shown on hover.
    colour_label : str
        What ``colour`` is (the colour bar's title).
    axis_labels : (str, str)
        The axes' titles.
    selected : list of int, optional
        Indices of selected points (the others are dimmed).
    title : str, optional
    width, height : int
        In pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace whose point ``i`` is sequence ``i``.
    """
    coordinates = np.asarray(coordinates, dtype=float)
    n = len(coordinates)
    colour = pd.Series(np.asarray(colour)).reset_index(drop=True)
    names = [f"sequence {i}" for i in range(n)] if names is None else [str(s) for s in names]
    hover = [names, colour.astype(str).tolist()]
    template = "%{customdata[0]}<br>" + f"{colour_label or 'colour'}: " + "%{customdata[1]}"
    if predictions is not None:
        hover.append([f"{p:.3f}" for p in predictions])
        template += "<br>p(target): %{customdata[2]}"
    scatter = go.Scattergl if n >= WEBGL_FROM else go.Scatter
    fig = go.Figure(
        scatter(
            x=coordinates[:, 0],
            y=coordinates[:, 1],
            mode="markers",
            marker=dict(size=6 if n < WEBGL_FROM else 4, **_marker(colour, colour_label)),
            customdata=np.array(hover, dtype=object).T,
            hovertemplate=template + "<extra></extra>",
            selectedpoints=selected,
        )
    )
    fig.update_layout(
        title=title,
        width=width,
        height=height,
        dragmode="lasso",
        template="plotly_white",
        xaxis_title=axis_labels[0],
        yaxis_title=axis_labels[1],
        margin=dict(l=60, r=20, t=50 if title else 20, b=50),
    )
    return fig
