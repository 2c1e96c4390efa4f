"""Training curves of a model trained by :func:`dnabert_viz.train_classifier` or
:func:`dnabert_viz.fine_tune`."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .tracks import _LAYOUT


def training_curves(model) -> go.Figure:
    """Loss (training and validation) and validation accuracy and AUROC (regression: Spearman)
    per epoch, the restored epoch marked.

    Parameters
    ----------
    model : DnaModel
        A model returned by :func:`dnabert_viz.train_classifier` or :func:`dnabert_viz.fine_tune`
        (it carries ``history``).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    history = getattr(model, "history", None)
    if history is None or not len(history):
        raise ValueError(
            "this model has no training history: only models from dv.train_classifier and "
            "dv.fine_tune carry one"
        )
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("loss", "validation"), horizontal_spacing=0.12
    )
    epochs = history["epoch"]
    columns = [
        (1, "train_loss", "training loss"),
        (1, "val_loss", "validation loss"),
        (2, "val_accuracy", "accuracy"),
        (2, "val_auroc", "AUROC"),
        (2, "val_spearman", "Spearman"),
    ]
    for col, key, label in columns:
        if key in history:
            fig.add_trace(
                go.Scatter(x=epochs, y=history[key], mode="lines+markers", name=label),
                row=1,
                col=col,
            )
    best = history.attrs.get("best_epoch")
    if best is not None and "val_loss" in history:
        for col in (1, 2):
            fig.add_vline(x=best, line_dash="dot", line_color="grey", row=1, col=col)
        fig.add_trace(  # the dotted line's name, in the legend (a note over a plot collides)
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line=dict(dash="dot", color="grey"),
                name=f"kept: epoch {best}",
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="epoch", dtick=max(1, -(-len(epochs) // 10)))  # whole epochs
    stopped = history.attrs.get("stopped")
    fig.update_layout(
        **_LAYOUT,
        height=340,
        width=760,
        title=f"training: {len(epochs)} epochs, {STOPPED[stopped]}" if stopped else None,
    )
    return fig


# why training stopped, as history.attrs["stopped"] says
STOPPED = {
    "epochs": "all that were asked for",
    "patience": "stopped early (no better validation AUROC)",
    "max_minutes": "cut by the time budget",
}
