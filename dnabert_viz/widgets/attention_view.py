"""AttentionView: every layer and head of one sequence's attention, in nucleotide coordinates."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from ..attention import AttentionMaps
from ..compute import ScoreCache
from ..model import DnaModel
from ..plot.html import Page
from ..plot.tracks import attention_heatmap, head_view, layer_head_summary
from .common import LABELS, refresh
from .figure import Figure

ALL = -1  # the head control's "mean of heads" and the position control's "all positions"


class AttentionView:
    """Layer and head selectors over a sequence's attention map, with a bertviz-style head view.

    The model runs once (all layers and heads come from one forward pass,
    through the compute layer); every control redraws from those maps. Clicking a cell of the layer
    x head summary selects that layer and head. The head view shows the positions of the *region*
    slider (zoom into a long sequence to read every letter) and, under *from*, one position's
    lines.

    Parameters
    ----------
    m : DnaModel
        The model.
    seq : str
        One sequence that fits the model's positions.
    layer : int
        First layer shown (negative counts from the last).
    head : int, optional
        First head shown; ``None`` is the mean of the layer's heads.
    """

    def __init__(self, m: DnaModel, seq: str, layer: int = -1, head: int | None = None):
        if not isinstance(seq, str):
            raise TypeError(f"AttentionView shows one sequence (a str), got {type(seq).__name__}")
        self.cache = ScoreCache(m, [seq])
        self.maps: AttentionMaps = self.cache.maps(0)
        n_layers, n_heads = self.maps.attentions.shape[:2]
        self.layer_control = W.Dropdown(
            options=list(range(n_layers)),
            value=layer % n_layers,
            description="layer",
            layout=W.Layout(width="110px"),
            style=LABELS,
        )
        # -1 stands for "mean of heads" and "all positions": a Dropdown whose value is None shows
        # nothing selected
        self.head_control = W.Dropdown(
            options=[("mean", ALL)] + [(str(h), h) for h in range(n_heads)],
            value=ALL if head is None else head,
            description="head",
            layout=W.Layout(width="130px"),
            style=LABELS,
        )
        self.mode_control = W.ToggleButtons(options=["heatmap", "head view"], value="heatmap")
        self.position_control = W.Dropdown(
            options=[("all", ALL)] + [(f"{p} {b}", p) for p, b in enumerate(self.maps.sequence)],
            value=ALL,
            description="from",
            layout=W.Layout(width="150px"),
            style=LABELS,
        )
        n = len(self.maps.sequence)
        self.region_control = W.IntRangeSlider(
            value=(0, n - 1),
            min=0,
            max=n - 1,
            description="region",
            continuous_update=False,
            layout=W.Layout(width="360px"),
            style=LABELS,
        )
        self._holding = False
        self.summary = Figure(layer_head_summary(self.maps))
        self.summary.data[0].on_click(self._on_summary_click)
        self.figure = Figure(self._figure())
        self._enable()
        for control in (
            self.layer_control,
            self.head_control,
            self.mode_control,
            self.position_control,
            self.region_control,
        ):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = W.VBox(
            [
                W.HBox(
                    [
                        self.layer_control,
                        self.head_control,
                        self.mode_control,
                        self.position_control,
                        self.region_control,
                    ],
                    layout=W.Layout(flex_flow="row wrap"),
                ),
                # the summary goes under the map where the two do not fit side by side
                W.HBox([self.figure, self.summary], layout=W.Layout(flex_flow="row wrap")),
            ]
        )

    def _figure(self) -> go.Figure:
        layer = self.layer_control.value
        head = None if self.head_control.value == ALL else self.head_control.value
        if self.mode_control.value == "heatmap":
            return attention_heatmap(self.maps, layer, head)
        position = None if self.position_control.value == ALL else self.position_control.value
        start, last = self.region_control.value
        if position is not None and not start <= position <= last:  # the region holds its position
            start, last = min(start, position), max(last, position)
        return head_view(self.maps, layer, head, position=position, window=(start, last + 1))

    def _enable(self) -> None:
        """Position and region choose what the head view shows: live only there."""
        heatmap = self.mode_control.value == "heatmap"
        self.position_control.disabled = self.region_control.disabled = heatmap

    def update(self) -> None:
        """Redraw for the current controls."""
        if self._holding:
            return
        self._enable()
        refresh(self.figure, self._figure())

    def _on_summary_click(self, _trace, points, _state) -> None:
        if points.point_inds:
            layer, head = points.point_inds[0]
            self.select(int(layer), int(head))

    def select(self, layer: int, head: int | None) -> None:
        """Show ``layer`` and ``head`` (None: the mean of heads), in one redraw (what a click on
        the summary does)."""
        self._holding = True
        try:
            self.layer_control.value, self.head_control.value = (
                layer,
                ALL if head is None else head,
            )
        finally:
            self._holding = False
        self.update()

    def save_html(self, path: str | Path) -> Path:
        """The current view and the summary as a standalone HTML file (opens offline)."""
        page = Page("dnabert_viz: attention")
        page.add(page.figure(go.Figure(self.figure)), page.figure(go.Figure(self.summary)))
        return page.save(path)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
