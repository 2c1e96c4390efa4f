"""DependencyView: a nucleotide dependency map to click through, beside an explorer."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import traitlets

from ..dependency import DependencyMap
from ..markup import element, to_string
from ..plot.html import Page
from ..plot.tracks import dependency_heatmap
from .common import LABELS, View, set_shapes
from .explorer import SequenceExplorer
from .figure import Figure

PAIR_COLOURS = {"query": "#d62728", "target": "#1f77b4"}


class DependencyView(View, W.VBox):
    """A dependency map (:func:`dnabert_viz.dependency_map`) whose cells select a pair of
    nucleotides, with the blocks it holds (:meth:`~dnabert_viz.DependencyMap.blocks`).

    A widget (an ``ipywidgets.VBox``) whose state is synced traits: ``query``
    (the substituted nucleotide) and ``target`` (the one whose expectation
    changes), sequence positions or None, and ``block``, a row of
    :attr:`blocks` or None. Clicking a cell selects its pair; choosing a block
    selects its strongest pair. The selected pair is framed on the map and
    both nucleotides are marked in the region's sequence under it, with the
    dependency between them and the block they belong to. Given an
    ``explorer``, the view shows the substituted nucleotide there: the
    explorer moves to sequence ``index`` and its ``position`` follows
    ``query``, so its tracks, context and mutation map are read at the same
    place. The view draws a map computed before; it never runs the model.

    Parameters
    ----------
    dependencies : DependencyMap
        The map to show.
    explorer : SequenceExplorer, optional
        An explorer whose ``position`` follows ``query``.
    index : int, optional
        The map's sequence among the explorer's sequences (required with
        ``explorer``; its sequence must be the map's).
    min_z, min_strength, min_cells
        :meth:`~dnabert_viz.DependencyMap.blocks`' thresholds.

    Attributes
    ----------
    query, target : int or None
        The selected pair, in sequence positions (synced).
    block : int or None
        The selected block, a row of :attr:`blocks` (synced).
    blocks : pandas.DataFrame
        The map's blocks.
    """

    query = traitlets.Int(None, allow_none=True).tag(sync=True)
    target = traitlets.Int(None, allow_none=True).tag(sync=True)
    block = traitlets.Int(None, allow_none=True).tag(sync=True)

    def __init__(
        self,
        dependencies: DependencyMap,
        *,
        explorer: SequenceExplorer | None = None,
        index: int | None = None,
        min_z: float = 4.0,
        min_strength: float = 0.1,
        min_cells: int = 3,
    ):
        if explorer is not None:
            if index is None or not 0 <= index < len(explorer.sequences):
                raise ValueError(
                    f"index must say which of the explorer's {len(explorer.sequences)} sequences "
                    f"the map is of, not {index}"
                )
            if explorer.sequences[index] != dependencies.sequence:
                raise ValueError(f"the explorer's sequence {index} is not the map's sequence")
        self.dependencies, self.explorer, self.index = dependencies, explorer, index
        self.blocks = dependencies.blocks(
            min_z=min_z, min_strength=min_strength, min_cells=min_cells
        )
        super().__init__()
        figure = dependency_heatmap(dependencies, blocks=self.blocks)
        # the band's NaN as null: a widget's state must be plain JSON (NaN is not)
        figure.data[0].z = [
            [None if np.isnan(v) else float(v) for v in row] for row in dependencies.values
        ]
        self._outlines = [s.to_plotly_json() for s in figure.layout.shapes]
        self.figure = Figure(figure)
        self.figure.data[0].on_click(self._on_click)
        self.block_control = W.Dropdown(
            options=[("none", -1)]
            + [
                (f"{b.first_start}-{b.first_end} / {b.second_start}-{b.second_end}", r)
                for r, b in enumerate(self.blocks.itertuples())
            ],
            description=f"blocks ({len(self.blocks)})",
            style=LABELS,
            layout=W.Layout(width="300px"),
        )
        W.link(
            (self, "block"),
            (self.block_control, "value"),
            transform=(lambda v: -1 if v is None else v, lambda v: None if v == -1 else v),
        )
        self.pair_panel = W.HTML()
        self.observe(self._on_block, names="block")
        self.observe(self._update, names=["query", "target"])
        self.children = [self.block_control, self.figure, self.pair_panel]
        self._update()

    @traitlets.validate("query", "target")
    def _inside(self, proposal):
        value, (start, end) = proposal["value"], self._region()
        if value is not None and not start <= value < end:
            raise traitlets.TraitError(
                f"{proposal['trait'].name} {value} is outside the map's region {start}-{end}"
            )
        return value

    @traitlets.validate("block")
    def _a_block(self, proposal):
        value = proposal["value"]
        if value is not None and not 0 <= value < len(self.blocks):
            raise traitlets.TraitError(f"block {value} is not one of the {len(self.blocks)}")
        return value

    def _region(self) -> tuple[int, int]:
        start = self.dependencies.start
        return start, start + len(self.dependencies.values)

    def value(self, query: int, target: int) -> float:
        """The map's dependency of ``target`` on substituting ``query`` (sequence positions)."""
        start = self.dependencies.start
        return float(self.dependencies.values[query - start, target - start])

    def _on_click(self, _trace, points, _state) -> None:
        if points.point_inds:
            row, column = points.point_inds[0]
            start = self.dependencies.start
            with self.hold_trait_notifications():
                self.query, self.target = start + int(row), start + int(column)

    def _on_block(self, change) -> None:
        if change.new is None:
            return
        b = self.blocks.iloc[change.new]
        start, values = self.dependencies.start, self.dependencies.values
        rows = slice(b.first_start - start, b.first_end - start)
        columns = slice(b.second_start - start, b.second_end - start)
        both = np.fmax(values[rows, columns], values[columns, rows].T)
        i, j = np.unravel_index(np.nanargmax(both), both.shape)
        with self.hold_trait_notifications():
            self.query, self.target = int(b.first_start + i), int(b.second_start + j)

    def _update(self, _change=None) -> None:
        shapes = list(self._outlines)
        start = self.dependencies.start
        if self.query is not None and self.target is not None:
            q, t = self.query - start, self.target - start
            shapes.append(
                dict(
                    type="rect",
                    x0=t - 0.5,
                    x1=t + 0.5,
                    y0=q - 0.5,
                    y1=q + 0.5,
                    line=dict(color="white", width=3),
                )
            )
        set_shapes(self.figure, shapes)
        self.pair_panel.value = to_string(self._pair_element())
        if self.explorer is not None and self.query is not None:
            with self.explorer.hold_trait_notifications():
                self.explorer.index, self.explorer.position = self.index, self.query

    def _pair_element(self):
        """The region's letters with the pair marked, and one line on the pair."""
        start, end = self._region()
        letters = []
        for p in range(start, end):
            role = "query" if p == self.query else "target" if p == self.target else None
            style = {"style": f"color: white; background: {PAIR_COLOURS[role]}"} if role else {}
            letters.append(element("span", self.dependencies.sequence[p], **style))
        strip = element(
            "div",
            children=letters,
            style="font-family: monospace; font-size: 14px; letter-spacing: 1px",
        )
        return element("div", children=[strip, element("div", self._describe())])

    def _describe(self) -> str:
        if self.query is None or self.target is None:
            return "Click a cell (or choose a block) to select a pair of nucleotides."
        q, t, seq = self.query, self.target, self.dependencies.sequence
        value = self.value(q, t)
        if np.isnan(value):
            return f"{seq[q]}{q} and {seq[t]}{t} are too close to read apart (left out)."
        text = (
            f"substituting {seq[q]}{q} changes what the model expects at {seq[t]}{t} by "
            f"{value:.3f} in log-odds"
        )
        for b in self.blocks.itertuples():
            ends = ((b.first_start, b.first_end), (b.second_start, b.second_end))
            if any(a <= q < z for a, z in ends) and any(a <= t < z for a, z in ends):
                text += (
                    f"; in the block {b.first_start}-{b.first_end} / {b.second_start}-"
                    f"{b.second_end} ({b.orientation}, spacing {b.spacing})"
                )
        return text

    def _title(self) -> str:
        return "dnabert_viz: dependency map"

    def _fill(self, page: Page, *, whole: bool) -> None:
        """The map as shown, and the selected pair."""
        page.add(page.figure(go.Figure(self.figure)), self._pair_element())
