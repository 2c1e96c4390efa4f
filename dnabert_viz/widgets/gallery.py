"""MotifGallery: a grid of motif logos with their statistics and JASPAR matches, leading to
instances and sequences."""

from __future__ import annotations

import ipywidgets as W
import pandas as pd
import traitlets

from ..compute import ScoreCache
from ..model import DnaModel
from ..motifs.motif import Motif, MotifSet, instance_table
from ..plot.cards import best_match_by_motif, caption_element, display_name, motif_cards
from ..plot.html import Page, element, table, to_string
from ..plot.logos import logo_png
from .common import View
from .explorer import SequenceExplorer


class MotifGallery(View, W.VBox):
    """Motif logos in a paged grid; a motif's instances; an instance opened in a SequenceExplorer.

    A widget (an ``ipywidgets.VBox``) whose state is synced traits: ``page``
    (the page shown), ``motif`` (the name of the motif whose instances are
    listed, what its button sets) and ``instance`` (the row of that motif's
    instances open in the explorer below, what the list sets). The gallery
    drives its explorer (``explorer``, made when the first instance opens)
    through the explorer's own state: it sets ``index`` to the instance's
    sequence and ``position`` to its first base.

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
        :func:`dnabert_viz.match_jaspar`'s table; each card shows its best
        match (without it, the one the motif recorded when it was matched).
    model : DnaModel, optional
        Model for the explorer that instances open in.
    kind : {"information", "probability", "counts", "contribution"}
        Logo letter heights.
    page_size : int
        Logos per page.

    Attributes
    ----------
    page : int
        The page shown, 0-based (synced).
    motif : str or None
        The motif whose instances are listed (synced).
    instance : int or None
        The row of ``motif``'s instances open in the explorer (synced).

    Examples
    --------
    >>> g = dv.widgets.MotifGallery(motifs, matches, model=m)   # doctest: +SKIP
    >>> g.motif, g.instance = motifs[0].name, 2                  # doctest: +SKIP
    >>> g.explorer.index, g.explorer.position                    # doctest: +SKIP
    """

    page = traitlets.Int(0).tag(sync=True)
    motif = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    instance = traitlets.Int(None, allow_none=True).tag(sync=True)

    def __init__(
        self,
        motifs: MotifSet | list[Motif],
        matches: pd.DataFrame | None = None,
        *,
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
        self.n_pages = -(-len(self.motifs) // page_size)
        super().__init__()
        self.grid = W.GridBox(
            layout=W.Layout(grid_template_columns="repeat(3, minmax(320px, 1fr))", grid_gap="10px")
        )
        self.previous_button = W.Button(description="◀ previous", layout=W.Layout(width="110px"))
        self.next_button = W.Button(description="next ▶", layout=W.Layout(width="110px"))
        self.page_label = W.Label()
        self.previous_button.on_click(lambda _b: setattr(self, "page", self.page - 1))
        self.next_button.on_click(lambda _b: setattr(self, "page", self.page + 1))
        self.instance_list = W.Select(
            options=[], rows=8, layout=W.Layout(width="100%", margin="2px 0", display="none")
        )
        self.instance_title = W.HTML()
        W.link((self, "instance"), (self.instance_list, "value"))
        self.explorer_box = W.VBox()
        self.children = [
            W.HBox([self.previous_button, self.page_label, self.next_button]),
            self.grid,
            self.instance_title,
            self.instance_list,
            self.explorer_box,
        ]
        self.observe(lambda _change: self._show_page(), names="page")
        self.observe(lambda _change: self._list_instances(), names="motif")
        self.observe(lambda _change: self._open_instance(), names="instance")
        self._show_page()

    # ------------------------------------------------------------------ state
    @traitlets.validate("page")
    def _valid_page(self, proposal) -> int:
        """Pages past either end show the first or the last (the buttons never go further)."""
        return min(max(proposal["value"], 0), self.n_pages - 1)

    @traitlets.validate("motif")
    def _valid_motif(self, proposal) -> str | None:
        name = proposal["value"]
        if name is not None and name not in {m.name for m in self.motifs}:
            raise traitlets.TraitError(f"no motif named {name!r}")
        return name

    @traitlets.validate("instance")
    def _valid_instance(self, proposal) -> int | None:
        row = proposal["value"]
        if row is None:
            return None
        if self.chosen is None:
            raise traitlets.TraitError("choose a motif first (set motif)")
        if self.cache is None:
            raise traitlets.TraitError(
                "these motifs carry no sequences (a plain list, not find_motifs' MotifSet): "
                "instances cannot be opened"
            )
        n = len(self.chosen.instances)
        if not 0 <= row < n:
            raise traitlets.TraitError(
                f"instance {row} is outside {self.chosen.name}'s {n} instances"
            )
        return row

    @property
    def chosen(self) -> Motif | None:
        """The motif named by ``motif``."""
        return next((m for m in self.motifs if m.name == self.motif), None)

    def _card(self, motif: Motif) -> W.VBox:
        match = self.best.get(motif.name, motif.best_match)
        button = W.Button(
            description=display_name(motif, match),
            tooltip=f"list the instances of {motif.name}",
            layout=W.Layout(width="auto"),
        )
        button.on_click(lambda _b: setattr(self, "motif", motif.name))
        text = W.HTML(
            to_string(
                element("div", style="line-height: 1.4", children=[caption_element(motif, match)])
            )
        )
        image = W.Image(
            value=logo_png(motif, kind=self.kind),
            format="png",
            # the card's whole width: ipywidgets' 2 px side margins would make it wider than that
            layout=W.Layout(width="100%", margin="2px 0"),
        )
        return W.VBox(
            [image, button, text], layout=W.Layout(border="1px solid #ddd", padding="4px")
        )

    def _show_page(self) -> None:
        """Draw the logos of the page ``page``; the label says so at once (drawing a page's
        logos takes about a second)."""
        self.page_label.value = f"drawing page {self.page + 1}…"
        self.grid.children = [self._card(m) for m in self._shown()]
        self.page_label.value = (
            f"page {self.page + 1} of {self.n_pages} ({len(self.motifs)} motifs)"
        )
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page == self.n_pages - 1

    def _shown(self) -> list[Motif]:
        """The motifs of the page shown."""
        return self.motifs[self.page * self.page_size : (self.page + 1) * self.page_size]

    def _list_instances(self) -> None:
        """List the instances of ``motif`` (none open yet)."""
        self.instance = None
        motif = self.chosen
        if motif is None:
            self.instance_list.layout.display = "none"
            self.instance_title.value = ""
            return
        inst = motif.instances.reset_index(drop=True)
        fit = motif.site_scores()
        self.instance_title.value = to_string(
            element(
                "p",
                f"instances of {self.name_of(motif)} ({len(inst)}), best fitting first (log-odds "
                "under its matrix, bits): select one to open its sequence in the explorer below",
            )
        )
        self.instance_list.layout.display = None
        self.instance_list.options = [
            (
                f"{fit[k]:5.1f} bits · sequence {r.sequence_index}: {r.start}-{r.end - 1} "
                f"({r.strand}) {r.sequence}",
                k,
            )
            for k, r in sorted(enumerate(inst.itertuples()), key=lambda kr: -fit[kr[0]])
        ]

    def name_of(self, motif: Motif) -> str:
        """What the gallery calls ``motif``: its JASPAR match's name beside its own, if any."""
        return display_name(motif, self.best.get(motif.name, motif.best_match))

    def _open_instance(self) -> None:
        """Open row ``instance`` of the chosen motif in the explorer, its first base selected."""
        if self.instance is None:
            return
        inst = self.chosen.instances.iloc[self.instance]
        index, start = int(inst["sequence_index"]), int(inst["start"])
        self.instance_title.value = to_string(
            element(
                "p",
                f"opening sequence {index} ({self.chosen.name} at {start}-{inst['end']}) ...",
            )
        )
        if self.explorer is None:
            shading = instance_table(self.motifs)  # labelled as the gallery names them
            names = {m.name: self.name_of(m) for m in self.motifs}
            shading["motif"] = shading["motif"].map(names)
            self.explorer = SequenceExplorer(
                None, cache=self.cache, instances=shading, index=index
            )
            self.explorer_box.children = [self.explorer]
        # both at once: the explorer never draws the new sequence with the old position
        with self.explorer.hold_trait_notifications():
            self.explorer.index, self.explorer.position = index, start
        self.instance_title.value = to_string(
            element("p", f"instances of {self.chosen.name}: sequence {index} is open below")
        )

    def _title(self) -> str:
        return f"dnabert_viz: {len(self.motifs)} motifs"

    def _fill(self, page: Page, *, whole: bool) -> None:
        """``whole`` (``save_html``): every motif with its logo, and the matches table; else the
        page shown and the explorer open below it."""
        if whole:
            page.add(motif_cards(self.motifs, self.matches, self.kind))
            if self.matches is not None and len(self.matches):
                page.add(element("h2", "JASPAR matches"), table(self.matches))
            return
        page.add(
            element("p", self.page_label.value, class_="note"),
            motif_cards(self._shown(), self.matches, self.kind),
        )
        if self.explorer is not None:
            page.add(element("h2", self.explorer._title()))
            self.explorer._fill(page, whole=False)
