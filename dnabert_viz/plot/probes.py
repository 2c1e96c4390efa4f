"""Layer-probe curves: how linearly a label reads from each layer
(:func:`dnabert_viz.probe_layers`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .tracks import _LAYOUT

METRICS = {"accuracy": "probe accuracy", "pearson_r": "probe Pearson r"}


def probe_curve(tables) -> go.Figure:
    """Probe score per layer, one line per model, ± the standard deviation over folds.

    Parameters
    ----------
    tables : pandas.DataFrame or list of pandas.DataFrame
        :func:`dnabert_viz.probe_layers` tables (``layer``, ``score``, ``std``, ``metric``,
        ``model``), e.g. of a pretrained model, its fine-tuned copy and
        :func:`dnabert_viz.random_model` of it; models are told apart by ``model``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    table = pd.concat(list(tables)) if isinstance(tables, (list, tuple)) else tables
    missing = {"layer", "score", "std", "metric", "model"} - set(table.columns)
    if missing:
        raise ValueError(
            f"not a probe_layers table: no column {', '.join(sorted(missing))} "
            "(make it with dv.probe_layers)"
        )
    metrics = table["metric"].unique()
    if len(metrics) != 1:
        raise ValueError(f"the tables mix metrics ({', '.join(metrics)}): plot one at a time")
    fig = go.Figure()
    for name, rows in table.groupby("model", sort=False):
        rows = rows.sort_values("layer")
        fig.add_trace(
            go.Scatter(
                x=rows["layer"],
                y=rows["score"],
                error_y=dict(type="data", array=rows["std"]),
                mode="lines+markers",
                name=str(name),
            )
        )
    fig.update_xaxes(title_text="layer (0: embedding output)", dtick=1)
    fig.update_yaxes(title_text=METRICS.get(metrics[0], metrics[0]))
    fig.update_layout(**_LAYOUT, height=360, width=620)
    return fig
