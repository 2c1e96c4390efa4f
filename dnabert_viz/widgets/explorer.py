"""SequenceExplorer: one sequence at a time, a score track over an attribution logo, and any
position's context.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets

from ..compute import EFFECTS, ScoreCache
from ..model import DnaModel
from ..motifs.motif import Motif, instance_table
from ..plot.html import Page, element, table, to_string
from ..plot.tracks import hover_texts, mutation_map, track
from ..plot.variants import variant_logos
from ..scores import Scores
from ..sequences import ALPHABET
from .common import ALL, LABELS, NONE_IS_ALL, View, layer_menu, refresh, set_shapes, valid_head
from .figure import Figure

if TYPE_CHECKING:
    from ..faithful import Faithfulness

TRACK_WIDTH = (
    780  # px: the track and the ISM map line up; with the context beside them the view fits
)
# px: the plot areas' left and right margins, fixed (no automargin) in the track and the maps under
# it, so their columns line up whatever their tick labels and the two-line y-axis titles take
MARGINS = dict(l=100, r=20)
CONTEXT_WIDTH = (
    400  # a 1,440 px JupyterLab with the side bar closed (else the context wraps under the track)
)

CONTEXT_STYLE = "line-height: 1.4; white-space: normal; overflow-wrap: anywhere"
HINT = (
    "<p class='note'>Click a position (anywhere in its column), type it in the position box or "
    "use the arrow keys on the slider to see its context.</p>"
)


@dataclass
class PositionContext:
    """Everything known about one position of one sequence.

    Attributes
    ----------
    sequence_index, position : int
    base : str
    tokens : list of str
        The tokens covering the position (empty without a model).
    attends_to, attended_by : pandas.DataFrame
        Top positions this one attends to, and that attend to it
        (``position``, ``base``, ``weight``; nucleotide attention of the
        chosen layer and head). Empty without a model.
    ism : pandas.Series or None
        The effect of each substitution (A C G T; 0 at the reference): the
        change in p(target) (ISM) or, on a language model, log p(alt) - log
        p(ref).
    instances : pandas.DataFrame
        Motif instances overlapping the position.
    prediction : float or None
        p(target) of the sequence.
    """

    sequence_index: int
    position: int
    base: str
    tokens: list
    attends_to: pd.DataFrame
    attended_by: pd.DataFrame
    ism: pd.Series | None
    instances: pd.DataFrame
    prediction: float | None
    effects: str = EFFECTS[("ism", "log_odds")][0]
    """What ``ism`` holds, in words."""
    attention: str = ""
    """Whose attention ``attends_to`` and ``attended_by`` hold, e.g. ``layer 1, head 2``."""

    def to_element(self):
        """The context as an HTML element (tables), for the widget and for exported pages.

        Laid out for a narrow panel: text wraps, the instances table shows
        their motif, place and strand (not the sequence index, which is this
        one, nor their long columns), and it comes before the attention
        tables."""
        head = f"sequence {self.sequence_index}, position {self.position} ({self.base})"
        facts = [f"tokens covering it: {', '.join(self.tokens) or 'n/a'}"]
        if self.prediction is not None:
            facts.append(f"p(target) = {self.prediction:.4f}")
        if self.ism is not None:
            alternatives = self.ism.drop(self.base, errors="ignore")
            low, high = alternatives.idxmin(), alternatives.idxmax()
            drop = (
                f"{self.base}→{low} {alternatives[low]:+.3g}" if alternatives[low] < 0 else "none"
            )
            gain = (
                f"{self.base}→{high} {alternatives[high]:+.3g}"
                if alternatives[high] > 0
                else "none"
            )
            facts.append(f"largest drop: {drop}; largest gain: {gain}")
        parts = [element("h3", head), *(element("p", f, class_="note") for f in facts)]
        parts += [element("p", f"motif instances here: {len(self.instances)}", class_="note")]
        if len(self.instances):
            parts.append(table(compact_instances(self.instances)))
        if self.ism is not None:
            parts += [
                element("p", self.effects, class_="note"),
                table(self.ism.to_frame("effect").T),
            ]
        for title, frame in (("attends to", self.attends_to), ("attended by", self.attended_by)):
            if len(frame):
                parts += [element("p", f"{title} ({self.attention})", class_="note"), table(frame)]
        return element("div", children=parts)


def compact_instances(instances: pd.DataFrame) -> pd.DataFrame:
    """Motif instances of one sequence as a narrow table: the motif (a ``motif`` or ``name``
    column), ``at`` (start-end), the strand and any number columns (scores); the sequence index
    and long text columns are left out."""
    label = next((c for c in ("motif", "name", "motif_id") if c in instances), None)
    out = pd.DataFrame(index=instances.index)
    if label is not None:
        out["motif"] = instances[label].astype(str)
    out["at"] = [f"{a}-{b - 1}" for a, b in zip(instances["start"], instances["end"])]
    if "strand" in instances:
        out["strand"] = instances["strand"]
    skip = {"sequence_index", "start", "end", "strand", label}
    for column in instances.columns:
        if column not in skip and pd.api.types.is_numeric_dtype(instances[column]):
            out[column] = instances[column]
    return out.reset_index(drop=True)


class SequenceExplorer(View, W.VBox):
    """Browse sequences with their per-nucleotide scores, and open any position's context.

    A widget (an ``ipywidgets.VBox``): put it in a box, and set, observe
    or link its state from code: ``index``, ``kind``, ``layer``, ``head``
    and ``position`` are synced traits that the controls follow and that
    the controls set (``ex.index = 3`` shows sequence 3;
    ``ipywidgets.link((a, "index"), (b, "index"))`` pages two explorers
    together; ``ex.observe(f, "position")`` hears every click).

    Controls: the sequence index, the score kind (given Scores, or any
    registered scoring method computed on demand: [CLS] attention with
    layer and head selectors, integrated gradients, saliency, ISM, ...),
    layer and head (they choose the attention of the track and of the
    context's tables) and the position. A position is selected by a click
    anywhere in its column of the track, by typing it in the position box,
    with the arrow keys on the position slider or by setting ``position``;
    its context (covering tokens, top attended positions both ways, its
    ISM column, overlapping motif instances, the prediction) appears beside
    the track, and the ISM map under it. Scores that carry (L, 4)
    hypothetical contributions (the one-hot methods, ``hypothetical_ism``,
    a CNN's read with :func:`dnabert_viz.load_ohe`) also show them as a
    4 x L map under the track. A computation over about a second shows a
    progress bar and a status line. The explorer only draws: everything it
    shows comes from its :class:`~dnabert_viz.compute.ScoreCache`
    (``self.cache``), which runs the model once per sequence, method and
    options (``n_model_calls`` counts its runs); a changed state redraws
    from the cache.

    Given a second model (``compare=``), the track shows both models' scores
    of the sequence one above the other on one x axis, each row named by its
    model and method (a one-hot CNN's motifs beside a language model's): the
    score menu holds the methods both run, and the sequence, kind, layer,
    head and position move both rows. The logo under them, the ISM and
    hypothetical maps, the variant and the position's context are the first
    model's.

    Parameters
    ----------
    m : DnaModel or None
        The model; ``None`` shows given scores only (no context from the model).
    sequences : str or list of str
        The sequences.
    scores : Scores or list of Scores, optional
        Precomputed scores over exactly these sequences.
    instances : pandas.DataFrame or list of Motif, optional
        Motif instances to shade (``sequence_index``, ``start``, ``end``,
        and a label column such as ``motif``).
    target : int
        Class whose prediction and attributions are shown.
    index : int
        First sequence shown.
    kind : str, optional
        First score kind (default: the first given, else [CLS] attention).
    n_steps : int, optional
        Integrated-gradients steps (default: each method's own, 50 on token
        embeddings, 128 in one-hot space).
    top_k : int
        Positions listed in the context's attention tables.
    cache : ScoreCache, optional
        Use this compute layer (shared with other views) instead of making
        one from ``m``, ``sequences``, ``scores`` and ``target``.
    variants : pandas.DataFrame or path, optional
        Variants of these sequences in any form
        :func:`dnabert_viz.variant_effects` reads (``sequence_index`` into
        them, or :func:`dnabert_viz.read_vcf`'s table, whose windows are the
        explorer's sequences): where the sequence shown has one, its
        reference and alternative are drawn as attribution logos one above
        the other around it, by the score kind shown (the variant nearest the
        selected position; a given kind has no alternative to show).
    faithfulness : Faithfulness, optional
        :func:`dnabert_viz.faithfulness` of this model's maps: a panel under
        the controls says how much the shown kind's top positions move the
        output against random ones (its verdict first, the other maps'
        after), or that the table has no figure for it.
    compare : DnaModel, optional
        A second model whose track of the same sequence, method and options
        is drawn under ``m``'s (its own :class:`~dnabert_viz.compute.ScoreCache`,
        ``caches[1]``). Both models must run the methods offered, so given
        ``scores`` are refused with it; where both have attention, the layer
        and head menus offer the layers and heads both have.

    Attributes
    ----------
    index : int
        The sequence shown (synced).
    kind : str
        The score kind shown: a given Scores' kind or a registered method (synced).
    layer : int
        The attention layer of the track ([CLS] attention) and of the
        context's tables; a negative value counts from the last (synced).
    head : int or None
        The head; None for all heads, summed in the track and averaged in
        the context (synced).
    position : int or None
        The selected position of the sequence shown, None before any (synced).
    effects_output : str
        The scale of the ISM map and column: ``"log_odds"`` (default on a
        classifier) or ``"probability"`` (synced; the *ISM on* buttons).
    caches : list of ScoreCache
        The compute layer of each model drawn: ``cache``, then the compared
        model's.

    Examples
    --------
    >>> ex = dv.widgets.SequenceExplorer(m, sequences, scores=s)   # doctest: +SKIP
    >>> ex.index, ex.kind = 3, "integrated_gradients"               # doctest: +SKIP
    >>> ex.position = 40; ex.context().tokens                       # doctest: +SKIP
    >>> with ex.hold_trait_notifications():  # another sequence and a position in it, together
    ...     ex.index, ex.position = 2, 17                      # doctest: +SKIP
    >>> ipywidgets.VBox([ex, other])                           # doctest: +SKIP
    >>> cnn = dv.train_classifier(seqs, labels, architecture="cnn")  # doctest: +SKIP
    >>> SequenceExplorer(m, seqs, compare=cnn, kind="onehot_gradients")  # doctest: +SKIP
    """

    index = traitlets.Int(0).tag(sync=True)
    kind = traitlets.Unicode().tag(sync=True)
    layer = traitlets.Int(0).tag(sync=True)
    head = traitlets.Int(None, allow_none=True).tag(sync=True)
    position = traitlets.Int(None, allow_none=True).tag(sync=True)
    effects_output = traitlets.Enum(("log_odds", "probability"), "log_odds").tag(sync=True)

    def __init__(
        self,
        m: DnaModel | None,
        sequences=None,
        scores: Scores | list[Scores] | None = None,
        *,
        instances: pd.DataFrame | list[Motif] | None = None,
        target: int = 1,
        index: int = 0,
        kind: str | None = None,
        n_steps: int | None = None,
        top_k: int = 5,
        cache: ScoreCache | None = None,
        variants=None,
        faithfulness: Faithfulness | None = None,
        compare: DnaModel | None = None,
    ):
        self.cache = (
            cache if cache is not None else ScoreCache(m, sequences, scores, target=target)
        )
        self.sequences = self.cache.sequences
        self.caches = [self.cache]
        if compare is not None:
            self.caches.append(compared_cache(self.cache, compare))
        if isinstance(instances, list):
            instances = instance_table(instances)
        self.instances = instances
        self.n_steps, self.top_k = n_steps, top_k
        options = self.cache.kinds()
        for other in self.caches[1:]:  # the methods every model runs
            theirs = {k for _, k in other.kinds()}
            options = [(label, k) for label, k in options if k in theirs]
        if not options:
            raise ValueError(
                "nothing to show: give scores, or a model to compute them"
                if compare is None
                else f"compare: {m.name} and {compare.name} have no scoring method in common"
            )
        self._kinds = [k for _, k in options]
        config = None if self.cache.model is None else self.cache.model.model.config
        self._n_layers = 1 if config is None else config.num_hidden_layers
        self._n_heads = 1 if config is None else config.num_attention_heads
        if compare is not None and compare.returns_attention and m.returns_attention:
            # the layers and heads both models have
            self._n_layers = min(self._n_layers, compare.model.config.num_hidden_layers)
            self._n_heads = min(self._n_heads, compare.model.config.num_attention_heads)
        super().__init__(
            index=index,
            kind=kind or options[0][1],
            layer=self._n_layers - 1,
            effects_output=self.cache.effects_output,
        )
        small = W.Layout(width="150px")
        self.index_control = W.BoundedIntText(
            min=0, max=len(self.sequences) - 1, description="sequence", layout=small, style=LABELS
        )
        self.kind_control = W.Dropdown(
            options=options, description="score", layout=W.Layout(width="300px"), style=LABELS
        )
        self.layer_control = layer_menu(
            ["global"] if config is None else self.cache.model.attention_kinds[: self._n_layers]
        )
        self.head_control = W.Dropdown(
            options=[("sum", ALL)] + [(str(h), h) for h in range(self._n_heads)],
            description="heads",
            layout=W.Layout(width="120px"),
            style=LABELS,
        )
        self.position_control = W.IntSlider(
            value=0,
            min=0,
            max=len(self.sequences[self.index]) - 1,
            description="position",
            continuous_update=False,
            layout=W.Layout(width="420px"),
            style=LABELS,
        )
        for control in (
            small,
            self.kind_control.layout,
            self.layer_control.layout,
            self.head_control.layout,
        ):
            control.flex = "0 0 auto"
        # the controls follow the state and set it
        for name in ("index", "kind", "layer"):
            W.link((self, name), (getattr(self, f"{name}_control"), "value"))
        W.link((self, "head"), (self.head_control, "value"), transform=NONE_IS_ALL)
        # the slider has no "none selected": it follows a selection and makes one when moved
        self.position_control.observe(self._slider_moved, names="value")
        self.observe(self._follow_position, names="position")
        self.status = W.HTML()
        self.faithfulness = faithfulness
        self.faithfulness_panel = W.HTML(
            layout=W.Layout(display="none" if faithfulness is None else None)
        )
        self.attention_note = W.HTML()  # what layer and head choose, for the kind shown
        self._computations: list[str] = []  # what the compute layer ran since the last redraw
        self._bounding = False  # is the slider's range changing (its value is clipped, not moved)
        self._drawn: dict[int, tuple] = {}  # what each map beside the track shows now
        self._track_key: tuple | None = None  # what the track shows now
        self.progress_area = W.Output(layout=W.Layout(min_height="0px"))
        for each in self.caches:
            each.listeners.append(self._show_status)
            each.progress_context = self._progress
        self.figure = Figure(self._track_figure())
        for bars in self.figure.data[: len(self.caches)]:  # one row of bars per model
            bars.on_click(self._on_click)
        # the maps under the track get their figure the first time they show something
        self.mutations_box = W.Box(layout=W.Layout(display="none"))
        # ISM's scale: log-odds by default on a classifier, probability one click away
        self.effects_control = W.ToggleButtons(
            options=[("log-odds", "log_odds"), ("probability", "probability")],
            description="ISM on",
            style=LABELS,
            layout=W.Layout(display="none"),
        )
        W.link((self, "effects_output"), (self.effects_control, "value"))
        self.hypothetical_box = W.Box(layout=W.Layout(display="none"))
        self.variants = None if variants is None else self._variant_sites(variants)
        self.variant_box = W.Box(layout=W.Layout(display="none"))
        self.variant_note = W.HTML(layout=W.Layout(display="none"))
        self.context_panel = W.HTML(
            HINT,
            layout=W.Layout(
                width=f"{CONTEXT_WIDTH}px", max_height="640px", overflow="auto", flex="0 0 auto"
            ),
        )
        self.children = [
            W.HBox(
                [
                    self.index_control,
                    self.kind_control,
                    self.layer_control,
                    self.head_control,
                    self.attention_note,
                ],
                layout=W.Layout(flex_flow="row wrap"),
            ),
            W.HBox([self.position_control, self.status]),
            self.faithfulness_panel,
            self.progress_area,
            W.HBox(
                [
                    W.VBox(
                        [
                            self.figure,
                            self.variant_note,
                            self.variant_box,
                            self.hypothetical_box,
                            self.effects_control,
                            self.mutations_box,
                        ]
                    ),
                    self.context_panel,
                ],
                layout=W.Layout(flex_flow="row wrap"),
            ),
        ]
        self.observe(
            self._changed, names=["index", "kind", "layer", "head", "position", "effects_output"]
        )
        self._update()

    # ------------------------------------------------------------------ state
    @traitlets.validate("index")
    def _valid_index(self, proposal) -> int:
        i, n = proposal["value"], len(self.sequences)
        if not 0 <= i < n:
            raise traitlets.TraitError(f"index {i} is outside the {n} sequences (0 .. {n - 1})")
        return i

    @traitlets.validate("kind")
    def _valid_kind(self, proposal) -> str:
        if proposal["value"] not in self._kinds:
            raise traitlets.TraitError(
                f"kind {proposal['value']!r} is not one this explorer shows: "
                f"{', '.join(self._kinds)}"
            )
        return proposal["value"]

    @traitlets.validate("layer")
    def _valid_layer(self, proposal) -> int:
        layer, n = proposal["value"], self._n_layers
        if not -n <= layer < n:
            raise traitlets.TraitError(f"layer {layer} is outside the model's {n} layers")
        return layer % n

    @traitlets.validate("head")
    def _valid_head(self, proposal) -> int | None:
        return valid_head(proposal["value"], self._n_heads)

    @traitlets.validate("position")
    def _valid_position(self, proposal) -> int | None:
        position, n = proposal["value"], len(self.sequences[self.index])
        if position is not None and not 0 <= position < n:
            raise traitlets.TraitError(
                f"position {position} is outside sequence {self.index} ({n} nt)"
            )
        return position

    def _changed(self, change) -> None:
        # said at once (the page shows it while the kernel works): the change was heard
        self.status.value = f"<i>{change['name']} {change['new']}: drawing ...</i>"
        if change["name"] == "effects_output":
            self.cache.effects_output = change["new"]
        if change["name"] == "index" and self.position is not None:
            if self.position >= len(self.sequences[self.index]):
                self.position = None  # redraws (a change of its own)
                return
        if self.position is not None:  # a selected position shows its ISM column, also after
            self.cache.effects(self.index)  # the sequence changed under it
        self._update()

    def _slider_moved(self, change) -> None:
        if not self._bounding:
            self.position = int(change["new"])

    def _follow_position(self, change) -> None:
        if change["new"] is not None:
            self.position_control.value = change["new"]

    @property
    def mutations(self) -> Figure | None:
        """The ISM map under the track (None until there are ISM effects to show)."""
        return self.mutations_box.children[0] if self.mutations_box.children else None

    @property
    def hypothetical(self) -> Figure | None:
        """The hypothetical-contribution map (None until a score kind with one is shown)."""
        return self.hypothetical_box.children[0] if self.hypothetical_box.children else None

    @property
    def n_model_calls(self) -> int:
        """How many times the compute layer has run the model (the models, compared)."""
        return sum(each.n_model_calls for each in self.caches)

    def options(self) -> dict:
        """The method options the state stands for (each method takes the ones it knows)."""
        steps = {} if self.n_steps is None else {"n_steps": self.n_steps}
        heads = None if self.head is None else [self.head]
        return {"layer": self.layer, "heads": heads, **steps}

    def _show_status(self, what: str, seconds: float | None) -> None:
        if seconds is None:
            self.status.value = f"<i>computing {what} ...</i>"
        else:
            self._computations.append(f"computed {what} in {seconds:.1f} s")

    @contextlib.contextmanager
    def _progress(self):
        """Where the compute layer's progress bars go while it runs (cleared afterwards)."""
        with self.progress_area:
            yield
        self.progress_area.clear_output()

    def values(
        self, kind: str | None = None, index: int | None = None, *, model: int = 0
    ) -> np.ndarray:
        """Per-nucleotide scores shown for ``kind`` and sequence ``index`` (defaults: the current
        ones), (L,), of the first model or (``model=1``) the compared one.
        """
        kind = self.kind if kind is None else kind
        index = self.index if index is None else index
        return self.caches[model].values(kind, index, **self.options())

    def model_names(self) -> list[str]:
        """The name each track row goes by: the models' names (told apart when they are the
        same); ``[]`` without a model."""
        names = [each.model.name for each in self.caches if each.model is not None]
        if len(set(names)) < len(names):
            names = [f"{name} ({i + 1})" for i, name in enumerate(names)]
        return names

    # ------------------------------------------------------------------ drawing
    def _instances_here(self) -> pd.DataFrame | None:
        if self.instances is None:
            return None
        here = self.instances[self.instances["sequence_index"] == self.index]
        return here.assign(sequence_index=0)

    def _track_figure(self) -> go.Figure:
        i, kind = self.index, self.kind
        seq = self.sequences[i]
        label = self.label()
        compared = len(self.caches) > 1
        names = self.model_names() if compared else [""]
        rows = [f"{name}: {label}" if compared else label for name in names]
        scores = [
            Scores([seq], self.values(kind, i, model=j)[None], row) for j, row in enumerate(rows)
        ]
        predictions = [
            f"{p:.3f}" + f" ({name})" * compared
            for name, p in zip(names, (each.prediction(i) for each in self.caches))
            if p is not None
        ]
        title = f"sequence {i} ({len(seq)} nt)" + (
            f" · p(class {self.cache.target}) = {', '.join(predictions)}" if predictions else ""
        )
        fig = track(
            scores,
            0,
            instances=self._instances_here(),
            tokens=hover_tokens(self.cache, i),
            title=title,
            width=TRACK_WIDTH,
        )
        for bars, s, each in zip(fig.data[1:], scores[1:], self.caches[1:]):
            # a compared model's row names its own tokens (a CNN's are the nucleotides)
            bars.hovertext = hover_texts(seq, s.kind, s[0], hover_tokens(each, i))
        for row, name in enumerate(names, start=1):  # fits the row: a line each for its parts
            fig.update_yaxes(
                title_text=(f"{name}<br>" * compared)
                + label.replace("_", " ").replace(" (", "<br>("),
                row=row,
                col=1,
            )
        if compared:
            fig.update_yaxes(title_text=f"logo<br>({names[0]})", row=len(names) + 1, col=1)
        aligned(fig)
        n = len(fig.layout.shapes)
        # the selection frame, one rectangle per row: kept as templates so a click moves only it
        fig.add_vrect(
            x0=-0.5, x1=0.5, line=dict(color="black", width=1.5), fillcolor="rgba(0,0,0,0)"
        )
        self._base_shapes = [s.to_plotly_json() for s in fig.layout.shapes[:n]]
        self._frame_shapes = [s.to_plotly_json() for s in fig.layout.shapes[n:]]
        fig.layout.shapes = self._shapes()
        return fig

    def _shapes(self) -> list[dict]:
        """The track's shapes: motif shading, and the selection frame at the selected position."""
        if self.position is None:
            return list(self._base_shapes)
        at = {"x0": self.position - 0.5, "x1": self.position + 0.5}
        return self._base_shapes + [{**frame, **at} for frame in self._frame_shapes]

    def attention_choice(self) -> str:
        """What the layer and head controls choose, for the kind shown, in words."""
        if self.cache.model is None:
            return "layer, head: no model, no attention"
        if self.cache.model.why_no_attention is not None:
            return "layer, head: this model has no attention"
        if self.label() != self.kind:  # the track is the chosen layer's [CLS] attention
            return "layer, head: the track and the context's attention tables"
        return f"layer, head: the context's attention tables ({self.kind} has no layers)"

    def label(self) -> str:
        """What the track shows, e.g. ``cls_attention (layer 1, head 2)``."""
        if self.kind == "cls_attention" and self.kind not in self.cache.given:
            head = "sum of heads" if self.head is None else f"head {self.head}"
            return f"cls_attention (layer {self.layer}, {head})"
        return self.kind

    def _redraw(self, box: W.Box, key: tuple, build) -> None:
        """Show a map under the track in ``box``; redrawn only when what it shows changed (a click
        does not)."""
        if self._drawn.get(id(box)) == key:
            return
        if box.children:
            refresh(box.children[0], aligned(build()))
        else:  # made on first show: every figure is one more model for a page to restore
            box.children = (Figure(aligned(build())),)
        self._drawn[id(box)] = key

    def _update(self) -> None:
        """Redraw for the current state (the model runs only for what is not cached)."""
        # layer and head choose the attention of the track and of the context's tables: live
        # whenever there is attention to choose from; the note beside them says what they change
        no_attention = self.cache.model is None or self.cache.model.why_no_attention is not None
        self.layer_control.disabled = self.head_control.disabled = no_attention
        self.attention_note.value = f"<span class='note'>{self.attention_choice()}</span>"
        if self.faithfulness is not None:
            self.faithfulness_panel.value = to_string(self.faithfulness_element())
        n = len(self.sequences[self.index])
        track_key = (self.index, self.kind, repr(self.options()))
        if track_key != self._track_key:
            refresh(self.figure, self._track_figure())
            self._track_key = track_key
        else:  # the same track: only the selection frame moves
            set_shapes(self.figure, self._shapes())
        has_effects = self.cache.has_effects(self.index)
        if has_effects:
            self._redraw(
                self.mutations_box,
                (self.index, self.cache.effects_output),
                lambda: mutation_map(
                    self.cache.effects(self.index),
                    self.sequences[self.index],
                    width=TRACK_WIDTH,
                    label=self.cache.effects_label()[1],
                ),
            )
        self.mutations_box.layout.display = None if has_effects else "none"
        choosable = has_effects and self.cache.effects_scale_choosable()
        self.effects_control.layout.display = None if choosable else "none"
        hypothetical = self.cache.hypothetical(self.kind, self.index, **self.options())
        if hypothetical is not None:
            self._redraw(
                self.hypothetical_box,
                (self.kind, self.index, repr(self.options())),
                lambda: mutation_map(
                    hypothetical,
                    self.sequences[self.index],
                    label="contribution",
                    ylabel="base",
                    width=TRACK_WIDTH,
                    title=f"hypothetical contributions ({self.kind}): what each base would "
                    "contribute here",
                ),
            )
        self.hypothetical_box.layout.display = None if hypothetical is not None else "none"
        self._show_variant()
        self._bounding = True
        try:
            self.position_control.max = n - 1
        finally:
            self._bounding = False
        if self.position is None:
            self.context_panel.value = HINT
        else:
            # widget HTML inherits a 28 px line height (one control's) and may not wrap: the
            # context reads at text spacing and wraps within the panel (tokens at their commas)
            self.context_panel.value = (
                f"<div style='{CONTEXT_STYLE}'>{to_string(self.context().to_element())}</div>"
            )
        # what is shown first, then what this redraw computed (it may be another kind: ISM)
        self.status.value = " · ".join(
            [f"sequence {self.index}: {self.label()}", *self._computations]
        )
        self._computations.clear()

    def _variant_sites(self, variants) -> pd.DataFrame:
        """The variants as ``sequence_index``, ``start``, ``end``, ``ref``, ``alt`` over the
        explorer's sequences, checked to be theirs."""
        from ..attribution import normalise_variants
        from ..io import read_mutation_file

        table = variants if isinstance(variants, pd.DataFrame) else read_mutation_file(variants)
        rows, seqs = normalise_variants(table, self.sequences)
        for i in sorted(set(rows.sequence_index)):
            if i >= len(self.sequences) or seqs[i] != self.sequences[i]:
                raise ValueError(
                    f"variants: sequence {i} of the table is not the explorer's sequence {i} "
                    "(give the explorer the variants' windows, e.g. read_vcf's table)"
                )
        return rows.reset_index(drop=True)

    def shown_variant(self) -> dict | None:
        """The variant drawn under the track: of the sequence shown, the nearest to the selected
        position (the first without one); None where it has none."""
        if self.variants is None:
            return None
        here = self.variants[self.variants.sequence_index == self.index]
        if here.empty:
            return None
        if self.position is not None:
            here = here.iloc[
                np.argsort(np.abs(here.start.to_numpy() - self.position), kind="stable")
            ]
        row = here.iloc[0]
        return {
            k: (int(row[k]) if k in ("start", "end") else str(row[k]))
            for k in ("start", "end", "ref", "alt")
        }

    def _show_variant(self) -> None:
        site = self.shown_variant()
        pair = (
            None
            if site is None
            else self.cache.variant(self.kind, self.index, site, **self.options())
        )
        if site is not None and pair is None:
            self.variant_note.value = (
                f"<span class='note'>a variant here ({site['ref'] or '-'} &gt; "
                f"{site['alt'] or '-'} at {site['start']}): given scores have no alternative "
                "to show; choose a method of the model</span>"
            )
        self.variant_note.layout.display = None if site is not None and pair is None else "none"
        if pair is not None:
            self._redraw(
                self.variant_box,
                (self.index, self.kind, repr(self.options()), tuple(site.items())),
                lambda: variant_logos(*pair, 0, width=TRACK_WIDTH),
            )
        self.variant_box.layout.display = None if pair is not None else "none"

    @property
    def variant_figure(self) -> Figure | None:
        """The live figure of the variant's two alleles (None before one is drawn)."""
        return self.variant_box.children[0] if self.variant_box.children else None

    def _on_click(self, _trace, points, _state) -> None:
        if points.point_inds:
            self.position = int(points.point_inds[0])

    def context(self, position: int | None = None) -> PositionContext:
        """The context of ``position`` (default: the selected one) in the current sequence."""
        position = self.position if position is None else position
        if position is None:
            raise ValueError("no position selected: give one, or set position")
        i, seq = self.index, self.sequences[self.index]
        empty = pd.DataFrame(columns=["position", "base", "weight"])
        attends_to = attended_by = empty
        maps = self.cache.maps(i)
        if maps is not None:
            matrix = maps.nucleotide(self.layer, self.head)
            attends_to, attended_by = (self._top(matrix[position]), self._top(matrix[:, position]))
        covering = self.cache.covering_tokens(i)
        effects = self.cache.effects(i) if self.cache.has_effects(i) else None
        here = pd.DataFrame(columns=["start", "end"])
        if self.instances is not None:
            rows = self.instances[
                (self.instances["sequence_index"] == i)
                & (self.instances["start"] <= position)
                & (self.instances["end"] > position)
            ]
            here = rows.reset_index(drop=True)
        return PositionContext(
            i,
            position,
            seq[position],
            [] if covering is None else covering[position],
            attends_to,
            attended_by,
            None if effects is None else pd.Series(effects[position], index=list(ALPHABET)),
            here,
            self.cache.prediction(i),
            (self.cache.effects_label() or EFFECTS[("ism", "log_odds")])[0],
            f"layer {self.layer}, "
            + ("mean of heads" if self.head is None else f"head {self.head}"),
        )

    def faithfulness_element(self):
        """The faithfulness panel for the kind shown: its verdict (or that the table has none),
        then the other maps', most faithful first, as an element tree."""
        lines = self.faithfulness.verdict_by_map()
        meta = self.faithfulness.meta
        shown = lines.pop(self.kind, None)
        head = (
            element("b", shown)
            if shown is not None
            else element(
                "span",
                f"no faithfulness figure for {self.kind}: give its map to dv.faithfulness",
                class_="note",
            )
        )
        about = f"which map to believe ({meta['n']} sequences, replace={meta['replace']}): "
        return element(
            "div",
            children=[
                element("span", about, class_="note"),
                head,
                *(element("div", line, class_="note") for line in lines.values()),
            ],
            style="font-size: 12px; line-height: 1.4; white-space: normal",
        )

    def _top(self, weights: np.ndarray) -> pd.DataFrame:
        seq = self.sequences[self.index]
        order = np.argsort(-weights, kind="stable")[: self.top_k]
        return pd.DataFrame(
            {"position": order, "base": [seq[p] for p in order], "weight": weights[order]}
        )

    # ------------------------------------------------------------------ output
    def _title(self) -> str:
        return f"dnabert_viz: sequence {self.index}"

    def _fill(self, page: Page, *, whole: bool) -> None:
        """The track, the maps under it, the context and the sequence (``save_html``: the
        current view as a standalone HTML file)."""
        page.add(page.figure(go.Figure(self.figure)))
        if self.hypothetical_box.layout.display is None:
            page.add(page.figure(go.Figure(self.hypothetical)))
        if self.variant_box.layout.display is None:
            page.add(page.figure(go.Figure(self.variant_figure)))
        if self.cache.has_effects(self.index):
            page.add(page.figure(go.Figure(self.mutations)))
        if self.faithfulness is not None:
            page.add(self.faithfulness_element())
        if self.position is not None:
            page.add(self.context().to_element())
        page.add(element("p", self.sequences[self.index], class_="mono note"))


def hover_tokens(cache: ScoreCache, index: int) -> list[str] | None:
    """For each nucleotide of sequence ``index``, the model's tokens covering it as one string
    (a track's hover text); None without a model."""
    covering = cache.covering_tokens(index)
    return None if covering is None else [" ".join(c) for c in covering]


def compared_cache(cache: ScoreCache, compare: DnaModel) -> ScoreCache:
    """The compute layer of the model an explorer compares with ``cache``'s: the same
    sequences and target; refused in one line beside given scores or without a first model."""
    if cache.model is None:
        raise ValueError("compare: there is no first model to compare it with (m is None)")
    if cache.given:
        raise ValueError(
            f"compare: given scores ({', '.join(cache.given)}) are one model's; the explorer "
            "compares methods both models run (show given scores in an explorer of their own)"
        )
    return ScoreCache(compare, cache.sequences, target=cache.target)


def aligned(fig: go.Figure) -> go.Figure:
    """``fig`` with the explorer's fixed margins: its columns line up with the track's."""
    fig.update_layout(margin=MARGINS)
    fig.update_yaxes(automargin=False)
    return fig
