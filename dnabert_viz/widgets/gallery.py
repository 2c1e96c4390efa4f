"""MotifGallery: a grid of motif logos with their statistics and JASPAR matches, leading to
instances and sequences."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W
import pandas as pd

from ..compute import ScoreCache
from ..model import DnaModel
from ..motifs.motif import Motif, MotifSet
from ..plot.cards import best_match_by_motif, caption_element, motif_cards
from ..plot.html import Page, element, table, to_string
from ..plot.logos import logo_png
from .explorer import SequenceExplorer


class MotifGallery:
    """Motif logos in a paged grid; a motif's instances; an instance opened in a SequenceExplorer.

    Logos are drawn only for the page shown (``page_size`` at a time) and
    cached as PNGs, so a gallery appears in about a second and pages it has
    shown come back at once.

    Parameters
    ----------
    motifs : MotifSet or list of Motif
        The motifs, as :func:`dnabert_viz.find_motifs` returns them: a
        :class:`~dnabert_viz.motifs.MotifSet` carries the sequences its
        instances index and their scores, which opening an instance needs
        (a plain list shows logos only).
    matches : pandas.DataFrame, optional
        :func:`dnabert_viz.match_jaspar`'s table; each card shows its best match.
    model : DnaModel, optional
        Model for the explorer that instances open in.
    kind : {"information", "probability", "counts", "contribution"}
        Logo letter heights.
    page_size : int
        Logos per page.
    """

    def __init__(
        self,
        motifs: MotifSet | list[Motif],
        matches: pd.DataFrame | None = None,
        model: DnaModel | None = None,
        kind: str = "information",
        page_size: int = 8,
    ):
        if not motifs:
            raise ValueError("no motifs to show")
        names = [m.name for m in motifs]
        if len(set(names)) != len(names):
            raise ValueError(
                "motif names must be unique: the gallery and the matches table refer to motifs "
                "by name"
            )
        self.motifs, self.kind, self.page_size = list(motifs), kind, page_size
        self.best = best_match_by_motif(matches)
        self.matches = matches
        sequences = getattr(motifs, "sequences", None)
        self.cache = (
            None
            if sequences is None
            else ScoreCache(model, sequences, getattr(motifs, "scores", None))
        )
        self.explorer: SequenceExplorer | None = None
        self.chosen: Motif | None = None
        self.page = 0
        self.n_pages = -(-len(self.motifs) // page_size)
        self.grid = W.GridBox(
            layout=W.Layout(grid_template_columns="repeat(3, minmax(320px, 1fr))", grid_gap="10px")
        )
        self.previous_button = W.Button(description="◀ previous", layout=W.Layout(width="110px"))
        self.next_button = W.Button(description="next ▶", layout=W.Layout(width="110px"))
        self.page_label = W.Label()
        self.previous_button.on_click(lambda _b: self.show_page(self.page - 1))
        self.next_button.on_click(lambda _b: self.show_page(self.page + 1))
        self.instance_list = W.Select(
            options=[], rows=8, layout=W.Layout(width="100%", display="none")
        )
        self.instance_title = W.HTML()
        self.instance_list.observe(
            lambda change: (
                self.open_instance(change["new"]) if change["new"] is not None else None
            ),
            names="value",
        )
        self.explorer_box = W.VBox()
        self.widget = W.VBox(
            [
                W.HBox([self.previous_button, self.page_label, self.next_button]),
                self.grid,
                self.instance_title,
                self.instance_list,
                self.explorer_box,
            ]
        )
        self.show_page(0)

    def _card(self, motif: Motif) -> W.VBox:
        button = W.Button(
            description=f"{motif.name}",
            tooltip="list this motif's instances",
            layout=W.Layout(width="auto"),
        )
        button.on_click(lambda _b: self.choose(motif.name))
        text = W.HTML(
            "<div style='line-height: 1.4'>"
            f"{to_string(caption_element(motif, self.best.get(motif.name)))}</div>"
        )
        image = W.Image(
            value=logo_png(motif, self.kind), format="png", layout=W.Layout(width="100%")
        )
        return W.VBox(
            [image, button, text], layout=W.Layout(border="1px solid #ddd", padding="4px")
        )

    def show_page(self, page: int) -> None:
        """Show page ``page`` (0-based; clipped to the pages there are), drawing its logos."""
        self.page = min(max(page, 0), self.n_pages - 1)
        shown = self.motifs[self.page * self.page_size : (self.page + 1) * self.page_size]
        self.grid.children = [self._card(m) for m in shown]
        self.page_label.value = (
            f"page {self.page + 1} of {self.n_pages} ({len(self.motifs)} motifs)"
        )
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page == self.n_pages - 1

    def choose(self, name: str) -> pd.DataFrame:
        """List the instances of motif ``name`` (what its button does); returns them."""
        motif = next((m for m in self.motifs if m.name == name), None)
        if motif is None:
            raise ValueError(f"no motif named {name!r}")
        self.chosen = motif
        inst = motif.instances.reset_index(drop=True)
        self.instance_title.value = to_string(
            element(
                "p",
                f"instances of {name} ({len(inst)}): select one to open "
                "its sequence in the explorer below",
            )
        )
        self.instance_list.layout.display = None
        self.instance_list.value = None
        self.instance_list.options = [
            (f"sequence {r.sequence_index}: {r.start}-{r.end} ({r.strand}) {r.sequence}", k)
            for k, r in enumerate(inst.itertuples())
        ]
        return inst

    def open_instance(self, row: int) -> SequenceExplorer:
        """Open instance ``row`` of the chosen motif in a SequenceExplorer, its first base
        selected."""
        if self.chosen is None:
            raise ValueError("choose a motif first")
        if self.cache is None:
            raise ValueError(
                "these motifs carry no sequences (a plain list, not find_motifs' MotifSet): "
                "instances cannot be opened"
            )
        inst = self.chosen.instances.iloc[row]
        self.instance_title.value = to_string(
            element(
                "p",
                f"opening sequence {inst['sequence_index']} "
                f"({self.chosen.name} at {inst['start']}-{inst['end']}) ...",
            )
        )
        if self.explorer is None:
            self.explorer = SequenceExplorer(
                None, cache=self.cache, instances=self.motifs, index=int(inst["sequence_index"])
            )
            self.explorer_box.children = [self.explorer.widget]
        self.explorer.index_control.value = int(inst["sequence_index"])
        self.explorer.select(int(inst["start"]))
        self.instance_title.value = to_string(
            element(
                "p",
                f"instances of {self.chosen.name}: sequence "
                f"{inst['sequence_index']} is open below",
            )
        )
        return self.explorer

    def save_html(self, path: str | Path) -> Path:
        """All motifs (every page) with their logos and the matches table, as a standalone HTML
        file."""
        page = Page(f"dnabert_viz: {len(self.motifs)} motifs")
        page.add(motif_cards(self.motifs, self.matches, self.kind))
        if self.matches is not None and len(self.matches):
            page.add(element("h2", "JASPAR matches"), table(self.matches))
        return page.save(path)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
