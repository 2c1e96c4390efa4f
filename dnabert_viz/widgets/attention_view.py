"""AttentionView: every layer and head of one sequence's attention, in nucleotide coordinates."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go
import traitlets

from ..atlas import HeadAtlas
from ..attention import AttentionMaps
from ..compute import ScoreCache
from ..model import DnaModel
from ..plot.atlas import head_atlas
from ..plot.html import Page
from ..plot.tracks import (
    attention_heatmap,
    head_view,
    head_view_room,
    head_view_window,
    layer_head_summary,
)
from .common import ALL, LABELS, NONE_IS_ALL, View, layer_menu, refresh, valid_head
from .figure import Figure

MODES = ("heatmap", "head view")
HEAD_VIEW_WIDTH = 900  # pixels


class AttentionView(View, W.VBox):
    """Layer and head selectors over a sequence's attention map, with a bertviz-style head view.

    A widget (an ``ipywidgets.VBox``) whose state is synced traits that the
    controls follow and set: ``layer``, ``head`` (None: the mean of the
    layer's heads), ``mode`` (``"heatmap"`` or ``"head view"``), ``position``
    (the head view's *from* position; None: all) and ``region`` (the head
    view's first and last positions). The model runs once (all layers and
    heads come from one forward pass, through the compute layer); every
    change redraws from those maps. Beside the map, the head atlas
    (:func:`dnabert_viz.head_atlas`: each head's AUROC at an annotation, the
    change in the output when it is masked, attention x gradient), given or
    computed for this sequence where it has a number (a model with a
    sequence head, or an annotation), else the layer x head entropy of the
    [CLS] attention; clicking a cell of either selects that layer and head,
    which the atlas frames. The head view writes every letter
    of its region (at most as many positions as it has room for: the whole
    sequence where it fits, else a stretch to move along it) and draws the
    lines of every position of it or of the *from* position, whose menu
    lists the region's positions; a position set outside the region moves
    the region to it.

    Parameters
    ----------
    m : DnaModel
        The model.
    sequence : str
        One sequence that fits the model's positions.
    layer : int
        First layer shown (negative counts from the last).
    head : int, optional
        First head shown; ``None`` is the mean of the layer's heads.
    atlas : HeadAtlas or False, optional
        The atlas shown (of any sequences, e.g. a data set's, for this model's heads); by
        default this sequence's (computed); False: the entropy summary.
    annotation : optional
        Sites of this sequence for the computed atlas's AUROC: a boolean (1, L) mask, or anything
        else :func:`dnabert_viz.head_atlas` takes as an annotation of ``[sequence]``.

    Attributes
    ----------
    layer : int
        The layer shown (synced).
    head : int or None
        The head shown; None for the mean of the layer's heads (synced).
    mode : str
        ``"heatmap"`` or ``"head view"`` (synced).
    position : int or None
        The head view's position whose lines are drawn; None for all (synced).
    region : tuple of int
        The head view's first and last positions (synced).
    """

    layer = traitlets.Int(0).tag(sync=True)
    head = traitlets.Int(None, allow_none=True).tag(sync=True)
    mode = traitlets.Enum(MODES, default_value="heatmap").tag(sync=True)
    position = traitlets.Int(None, allow_none=True).tag(sync=True)
    region = traitlets.Tuple(traitlets.Int(), traitlets.Int()).tag(sync=True)

    def __init__(
        self,
        m: DnaModel,
        sequence: str,
        *,
        layer: int = -1,
        head: int | None = None,
        atlas: HeadAtlas | bool | None = None,
        annotation=None,
    ):
        if not isinstance(sequence, str):
            raise TypeError(
                f"AttentionView shows one sequence (a str), got {type(sequence).__name__}"
            )
        self.cache = ScoreCache(m, [sequence])
        self.maps: AttentionMaps = self.cache.maps(0)
        n_heads = self.maps.attentions.shape[1]
        n = len(self.maps.sequence)
        self._holding = False
        self.room = head_view_room(HEAD_VIEW_WIDTH)
        start, end = head_view_window(n, self.room)
        super().__init__(layer=layer, head=head, region=(start, end - 1))
        self.layer_control = layer_menu(m.attention_kinds)
        self.head_control = W.Dropdown(
            options=[("mean", ALL)] + [(str(h), h) for h in range(n_heads)],
            description="head",
            layout=W.Layout(width="130px"),
            style=LABELS,
        )
        self.mode_control = W.ToggleButtons(options=MODES)
        self.position_control = W.Dropdown(
            options=self._positions(),
            description="from",
            layout=W.Layout(width="150px"),
            style=LABELS,
        )
        self.region_control = W.IntRangeSlider(
            min=0,
            max=n - 1,
            description="region",
            continuous_update=False,
            layout=W.Layout(width="360px"),
            style=LABELS,
        )
        # the controls follow the state and set it
        for name in ("layer", "mode", "region"):
            W.link((self, name), (getattr(self, f"{name}_control"), "value"))
        for name in ("head", "position"):
            W.link(
                (self, name), (getattr(self, f"{name}_control"), "value"), transform=NONE_IS_ALL
            )
        if atlas is None or atlas is True:
            atlas = self.cache.atlas(0, annotation=annotation)
        if isinstance(atlas, HeadAtlas) and atlas.shape != self.maps.attentions.shape[:2]:
            layers, heads = self.maps.attentions.shape[:2]
            raise ValueError(
                f"the atlas is of {atlas.shape[0]} layers x {atlas.shape[1]} heads; this model "
                f"has {layers} x {heads}"
            )
        self.atlas: HeadAtlas | None = atlas or None
        self.summary = Figure(self._summary())
        for trace in self.summary.data:
            trace.on_click(self._on_summary_click)
        self.figure = Figure(self._figure())
        self.status = W.HTML()  # what is being drawn, while it is
        self._enable()
        self.observe(self._update, names=["layer", "head", "mode", "position", "region"])
        self.observe(self._on_region, names="region")
        self.children = [
            W.HBox(
                [
                    self.layer_control,
                    self.head_control,
                    self.mode_control,
                    self.position_control,
                    self.region_control,
                    self.status,
                ],
                layout=W.Layout(flex_flow="row wrap"),
            ),
            # the summary goes under the map where the two do not fit side by side
            W.HBox([self.figure, self.summary], layout=W.Layout(flex_flow="row wrap")),
        ]

    @traitlets.validate("layer")
    def _valid_layer(self, proposal) -> int:
        layer, n = proposal["value"], self.maps.attentions.shape[0]
        if not -n <= layer < n:
            raise traitlets.TraitError(f"layer {layer} is outside the model's {n} layers")
        return layer % n

    @traitlets.validate("head")
    def _valid_head(self, proposal) -> int | None:
        return valid_head(proposal["value"], self.maps.attentions.shape[1])

    @traitlets.validate("position")
    def _valid_position(self, proposal) -> int | None:
        position, n = proposal["value"], len(self.maps.sequence)
        if position is not None and not 0 <= position < n:
            raise traitlets.TraitError(f"position {position} is outside the sequence ({n} nt)")
        return position

    @traitlets.validate("region")
    def _valid_region(self, proposal) -> tuple[int, int]:
        """A region of the sequence, at most as long as the head view writes letters for: one
        dragged wider keeps the end that moved and brings the other along."""
        start, last = proposal["value"]
        n = len(self.maps.sequence)
        if not 0 <= start <= last < n:
            raise traitlets.TraitError(
                f"region {(start, last)} is not a region of the sequence "
                f"(0 <= start <= last < {n})"
            )
        if last - start + 1 > self.room:
            if start != self.region[0]:
                last = start + self.room - 1
            else:
                start = last - self.room + 1
        return start, last

    @traitlets.observe("position")
    def _region_holds_position(self, _change) -> None:
        self.region = self._shown_region()

    def _shown_region(self) -> tuple[int, int]:
        """The region, or where the position lies outside it, the region of the same length
        centred on the position."""
        start, last = self.region
        position = self.position
        if position is None or start <= position <= last:
            return start, last
        first, end = head_view_window(len(self.maps.sequence), last - start + 1, around=position)
        return first, end - 1

    def _positions(self) -> list[tuple[str, int | object]]:
        """The "from" menu: all, or one position of the region."""
        start, last = self.region
        seq = self.maps.sequence
        return [("all", ALL)] + [(f"{p} {seq[p]}", p) for p in range(start, last + 1)]

    def _on_region(self, _change=None) -> None:
        self.position_control.options = self._positions()
        self.position_control.value = ALL if self.position is None else self.position

    def _figure(self) -> go.Figure:
        if self.mode == "heatmap":
            return attention_heatmap(self.maps, layer=self.layer, head=self.head)
        start, last = self._shown_region()
        return head_view(
            self.maps,
            layer=self.layer,
            head=self.head,
            position=self.position,
            window=(start, last + 1),
            width=HEAD_VIEW_WIDTH,
        )

    def _summary(self) -> go.Figure:
        """The head atlas with the current head framed, or the entropy summary."""
        if self.atlas is None:
            return layer_head_summary(self.maps)
        self._framed = (self.layer, self.head)
        return head_atlas(self.atlas, selected=self._framed)

    def _enable(self) -> None:
        """Position and region choose what the head view shows: live only there."""
        heatmap = self.mode == "heatmap"
        self.position_control.disabled = self.region_control.disabled = heatmap

    def _update(self, _change=None) -> None:
        """Redraw for the current state."""
        if self._holding:
            return
        self._enable()
        # said at once: the redraw below sends a whole figure
        head = "mean of heads" if self.head is None else f"head {self.head}"
        self.status.value = f"<span class='note'>drawing layer {self.layer}, {head}…</span>"
        refresh(self.figure, self._figure())
        if self.atlas is not None and self._framed != (self.layer, self.head):
            refresh(self.summary, self._summary())
        self.status.value = ""

    def _on_summary_click(self, _trace, points, _state) -> None:
        if points.point_inds:
            layer, head = points.point_inds[0]
            self.select(int(layer), int(head))

    def select(self, layer: int, head: int | None) -> None:
        """Show ``layer`` and ``head`` (None: the mean of heads), in one redraw (what a click on
        the summary does)."""
        self._holding = True
        try:
            self.layer, self.head = layer, head
        finally:
            self._holding = False
        self._update()

    def _title(self) -> str:
        head = "mean of heads" if self.head is None else f"head {self.head}"
        return f"dnabert_viz: attention, layer {self.layer}, {head}"

    def _fill(self, page: Page, *, whole: bool) -> None:
        """The current map and the summary."""
        page.add(page.figure(go.Figure(self.figure)), page.figure(go.Figure(self.summary)))
