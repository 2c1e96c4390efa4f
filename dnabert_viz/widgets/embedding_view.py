"""EmbeddingView: sequences as points of their embeddings' projection; a lasso opens them in an
explorer."""

from __future__ import annotations

import importlib.util

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets

from ..compute import ScoreCache, embedding_values
from ..model import DnaModel
from ..motifs.motif import Motif, instance_table
from ..plot.embedding import embedding_scatter
from ..plot.html import Page, element
from ..scores import Scores
from .common import LABELS, View, making, refresh, sync_state
from .explorer import SequenceExplorer
from .figure import Figure

PROJECTIONS = ("pca", "umap")
UMAP_MISSING = "projection 'umap' needs umap-learn: pip install 'dnabert_viz[umap]'"


def umap_installed() -> bool:
    """Whether umap-learn can be imported (the ``umap`` extra)."""
    return importlib.util.find_spec("umap") is not None


def project(values: np.ndarray, projection: str, *, random_state: int = 0) -> np.ndarray:
    """(N, D) embeddings to (N, 2): scikit-learn's PCA, or umap-learn's UMAP."""
    if projection == "pca":
        from sklearn.decomposition import PCA

        # two components of many: randomized SVD (a full eigendecomposition of D x D is seconds)
        pca = PCA(n_components=2, svd_solver="randomized", random_state=random_state)
        return pca.fit_transform(values)
    if not umap_installed():
        raise ValueError(UMAP_MISSING)
    from umap import UMAP

    neighbours = min(15, len(values) - 1)
    umap = UMAP(n_components=2, n_neighbors=neighbours, random_state=random_state, n_jobs=1)
    return umap.fit_transform(values)


def gc_content(sequences: list[str]) -> np.ndarray:
    """(N,) fraction of G and C in each sequence."""
    return np.array([(s.count("G") + s.count("C")) / len(s) for s in sequences])


class EmbeddingView(View, W.VBox):
    """Sequences as points of a 2-D projection (PCA, or UMAP) of their embeddings, coloured by a
    label, the prediction, GC content, a motif's presence or any column of a table; a box or
    lasso selection opens the selected sequences in a :class:`SequenceExplorer` below.

    A widget (an ``ipywidgets.VBox``) whose state is synced traits that the
    controls follow and set: ``projection`` (``"pca"``, or ``"umap"`` where
    umap-learn is installed), ``color_by`` (one of :attr:`colour_options`)
    and ``selected`` (the indices of the selected sequences: what a box or
    lasso selection in the figure sets; set it from code to select). The
    *open in explorer* button (or :meth:`open_selected`) shows the selected
    sequences in an explorer (``explorer``; its sequence ``k`` is
    ``selected[k]``). Hovering a point shows its name, colour value and
    prediction.

    Parameters
    ----------
    m : DnaModel or None
        The model: embeddings (``m.embed``), predictions and the explorer's
        scores. None needs ``embeddings``.
    sequences : list of str
        The N sequences.
    embeddings : numpy.ndarray or object with ``.values``, optional
        (N, D) one embedding per sequence, or ``Embeddings`` of one layer
        (default: ``m.embed(sequences, layers=layer)``, mean over real tokens).
    color_by : str, optional
        First colouring: ``"label"``, ``"prediction"``, ``"gc"``,
        ``"motif: NAME"`` or a column of ``table`` (default: the labels if
        given, else the prediction on a classifier, else GC content).
    labels : array-like, optional
        (N,) a label per sequence.
    table : pandas.DataFrame, optional
        N rows, one per sequence: each column is a colouring.
    motifs : MotifSet, list of Motif or pandas.DataFrame, optional
        Motifs, or an instances table (``sequence_index`` and ``motif``):
        each motif's presence in a sequence is a colouring.
    names : list of str, optional
        (N,) what hovering a point calls it (default ``sequence i``).
    scores : Scores or list of Scores, optional
        Scores over the N sequences for the explorer.
    layer : int
        The hidden state embedded when ``embeddings`` is not given (0: the
        embedding output, -1: the last layer).
    projection : {"pca", "umap"}
    target : int
        The class whose probability is the prediction.
    random_state : int
        Seed of the projection.

    Attributes
    ----------
    projection : str
        The projection shown (synced).
    color_by : str
        What colours the points (synced).
    selected : list of int
        The selected sequences (synced).
    coordinates : numpy.ndarray
        (N, 2) the points shown.
    explorer : SequenceExplorer or None
        The explorer of the selected sequences, once opened.

    Examples
    --------
    >>> view = dv.widgets.EmbeddingView(m, seqs, labels=labels)   # doctest: +SKIP
    >>> view.color_by = "gc"; view.selected = [3, 17, 40]          # doctest: +SKIP
    >>> view.open_selected().sequences                             # doctest: +SKIP
    """

    projection = traitlets.Enum(PROJECTIONS, default_value="pca").tag(sync=True)
    color_by = traitlets.Unicode().tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(
        self,
        m: DnaModel | None,
        sequences,
        *,
        embeddings=None,
        color_by: str | None = None,
        labels=None,
        table: pd.DataFrame | None = None,
        motifs: list[Motif] | pd.DataFrame | None = None,
        names: list[str] | None = None,
        scores: Scores | list[Scores] | None = None,
        layer: int = -1,
        projection: str = "pca",
        target: int = 1,
        random_state: int = 0,
    ):
        self.cache = ScoreCache(m, sequences, scores, target=target)
        self.sequences = self.cache.sequences
        n = len(self.sequences)
        steps = 2 + (m is not None) + (embeddings is None)
        # shown at once, while the view is made (it shows only once complete: seconds for
        # 10,000 points)
        with making(f"EmbeddingView of {n:,}", steps) as step:
            self._make(
                step,
                embeddings=embeddings,
                names=names,
                layer=layer,
                labels=labels,
                table=table,
                motifs=motifs,
                random_state=random_state,
            )
            super().__init__(
                projection=projection,
                color_by=color_by if color_by is not None else next(iter(self._colours)),
            )
            step(f"projecting {n:,} embeddings ({self.projection.upper()})")
            self.coordinates  # noqa: B018 - computed here, inside the progress bar
            step(f"drawing {n:,} points")
            self.figure = Figure(self._figure())
        self.projection_control = W.ToggleButtons(
            options=[("PCA", "pca"), ("UMAP", "umap")], description="projection", style=LABELS
        )
        self.color_control = W.Dropdown(
            options=list(self._colours),
            description="colour by",
            layout=W.Layout(width="300px"),
            style=LABELS,
        )
        W.link((self, "projection"), (self.projection_control, "value"))
        W.link((self, "color_by"), (self.color_control, "value"))
        self.open_button = W.Button(description="open selected in explorer", disabled=True)
        self.open_button.layout.width = "auto"
        self.open_button.on_click(lambda _b: self.open_selected())
        self.status = W.HTML()
        self.figure.data[0].on_selection(self._on_selection)
        self.figure.data[0].on_deselect(lambda *_: setattr(self, "selected", []))
        self.explorer_box = W.VBox()
        self.children = [
            W.HBox([self.projection_control, self.color_control]),
            self.figure,
            W.HBox([self.open_button, self.status]),
            self.explorer_box,
        ]
        self.observe(self._redraw, names=["projection", "color_by"])
        self.observe(self._show_selection, names="selected")
        self._show_selection()

    # ------------------------------------------------------------------ state
    def _make(
        self, step, *, embeddings, names, layer, labels, table, motifs, random_state
    ) -> None:
        """The embeddings, predictions and colourings (``step`` says each long one)."""
        n = len(self.sequences)
        if embeddings is None:
            step(f"embedding {n:,} sequences (layer {layer})")
            self.embeddings = self.cache.embeddings(layer=layer)
        else:
            self.embeddings = embedding_values(embeddings, n)
        self.names, self.random_state = names, random_state
        if names is not None and len(names) != n:
            raise ValueError(f"names: {len(names)} for {n} sequences")
        if self.cache.model is not None:
            step(f"predicting {n:,} sequences")
        self.predictions = self.cache.predictions()
        self._colours = self._colourings(labels, table, motifs)
        self._projected: dict[str, np.ndarray] = {}
        self.explorer: SequenceExplorer | None = None

    def _colourings(self, labels, table, motifs) -> dict[str, pd.Series]:
        """Every colouring offered, by name: (N,) values."""
        n = len(self.sequences)
        out = {}
        if labels is not None:
            out["label"] = pd.Series(np.asarray(labels))
            if len(out["label"]) != n:
                raise ValueError(f"labels: {len(out['label'])} for {n} sequences")
        if self.predictions is not None:
            out["prediction"] = pd.Series(self.predictions)
        out["gc"] = pd.Series(gc_content(self.sequences))
        if motifs is not None:
            given = getattr(motifs, "sequences", None)
            if given is not None and list(given) != self.sequences:
                raise ValueError("motifs: found in other sequences than the view's")
            found = motifs if isinstance(motifs, pd.DataFrame) else instance_table(list(motifs))
            label = "motif" if "motif" in found else "name"
            for name, rows in found.groupby(label, sort=False):
                present = np.zeros(n, dtype=bool)
                present[rows["sequence_index"].to_numpy(dtype=int)] = True
                out[f"motif: {name}"] = pd.Series(present)
        if table is not None:
            if len(table) != n:
                raise ValueError(f"table: {len(table)} rows for {n} sequences")
            for column in table.columns:
                out[str(column)] = table[column].reset_index(drop=True)
        return out

    @property
    def colour_options(self) -> list[str]:
        """What ``color_by`` may be."""
        return list(self._colours)

    @traitlets.validate("color_by")
    def _valid_colour(self, proposal) -> str:
        if proposal["value"] not in self._colours:
            raise traitlets.TraitError(
                f"color_by {proposal['value']!r} is not one of {', '.join(self._colours)}"
            )
        return proposal["value"]

    @traitlets.validate("projection")
    def _valid_projection(self, proposal) -> str:
        if proposal["value"] == "umap" and not umap_installed():
            raise traitlets.TraitError(UMAP_MISSING)
        return proposal["value"]

    @traitlets.validate("selected")
    def _valid_selected(self, proposal) -> list[int]:
        n = len(self.sequences)
        bad = [i for i in proposal["value"] if not 0 <= i < n]
        if bad:
            raise traitlets.TraitError(f"selected {bad[0]} is outside the {n} sequences")
        return list(dict.fromkeys(proposal["value"]))  # each once, in the order given

    def colour_values(self, color_by: str | None = None) -> pd.Series:
        """(N,) the values ``color_by`` (default: the current one) colours the points by."""
        return self._colours[self.color_by if color_by is None else color_by]

    @property
    def coordinates(self) -> np.ndarray:
        """(N, 2) the points of the current projection (computed once each)."""
        if self.projection not in self._projected:
            self._projected[self.projection] = project(
                self.embeddings, self.projection, random_state=self.random_state
            )
        return self._projected[self.projection]

    # ------------------------------------------------------------------ drawing
    def _figure(self) -> go.Figure:
        axis = "PC" if self.projection == "pca" else "UMAP"
        return embedding_scatter(
            self.coordinates,
            self.colour_values(),
            names=self.names,
            predictions=self.predictions,
            colour_label=self.color_by,
            axis_labels=(f"{axis} 1", f"{axis} 2"),
            selected=self.selected or None,
            title=f"{len(self.sequences)} sequences, {self.projection.upper()} of embeddings",
        )

    def _redraw(self, _change=None) -> None:
        refresh(self.figure, self._figure())

    def _on_selection(self, _trace, points, _selector) -> None:
        self.selected = [int(i) for i in points.point_inds]

    def _show_selection(self, _change=None) -> None:
        """Say how many points are selected (at once), and dim the others (all shown where none
        is)."""
        self.open_button.disabled = not self.selected
        self.status.value = (
            f"{len(self.selected)} selected" if self.selected else "box or lasso to select"
        )
        self.figure.data[0].selectedpoints = self.selected or None
        sync_state(self.figure)

    def open_selected(self) -> SequenceExplorer:
        """Show the selected sequences in a :class:`SequenceExplorer` below the figure (its
        sequence ``k`` is ``selected[k]``); returns it."""
        if not self.selected:
            raise ValueError("nothing selected: select points (box or lasso) or set selected")
        rows = list(self.selected)
        self.status.value = f"opening {len(rows)} sequences in an explorer…"  # said at once
        self.explorer = SequenceExplorer(
            self.cache.model,
            [self.sequences[i] for i in rows],
            [s[np.array(rows)] for s in self.cache.given.values()] or None,
            target=self.cache.target,
        )
        self.explorer_box.children = [self.explorer]
        self.status.value = f"{len(rows)} selected"
        return self.explorer

    # ------------------------------------------------------------------ output
    def _title(self) -> str:
        return f"dnabert_viz: embeddings of {len(self.sequences)} sequences"

    def _fill(self, page: Page, *, whole: bool) -> None:
        """The scatter as shown, and the explorer opened below it."""
        page.add(page.figure(go.Figure(self.figure)))
        page.add(element("p", self.status.value, class_="note"))
        if self.explorer is not None:
            page.add(element("h2", self.explorer._title()))
            self.explorer._fill(page, whole=whole)
