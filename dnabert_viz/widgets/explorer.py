"""SequenceExplorer: one sequence at a time, a score track over an attribution logo, and any position's context."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..attention import AttentionMaps, attention_maps
from ..attribution import attribute, ism, ism_summary
from ..model import DnaModel
from ..motifs.motif import Motif, instance_table
from ..plot.html import Page, element, table, to_string
from ..plot.tracks import mutation_map, track
from ..scores import Scores
from ..sequences import ALPHABET, check_sequences
from .common import refresh

METHODS = {
    "cls_attention": "[CLS] attention (layer, heads)",
    "integrated_gradients": "integrated gradients",
    "saliency": "saliency",
    "ism": "in-silico mutagenesis",
}


def cls_row_scores(maps: AttentionMaps, layer: int = -1, head: int | None = None) -> np.ndarray:
    """The DNABERT-viz [CLS] recipe read off one sequence's full maps, (L,).

    The [CLS] query row of ``layer``, summed over heads (or one ``head``),
    averaged over the tokens covering each nucleotide, L2-normalised: the
    same numbers as :func:`dnabert_viz.cls_attention` for that layer and
    heads, without another forward pass per layer or head.
    """
    row = maps.attentions[layer, :, 0, :].sum(0) if head is None else maps.attentions[layer, head, 0, :]
    values = row @ maps.incidence()
    norm = float(np.sqrt(np.sum(values**2)))
    return values / norm if norm > 0 else values


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
        Change in p(target) for each substitution (A C G T; 0 at the reference).
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

    def to_element(self):
        """The context as an HTML element (tables), for the widget and for exported pages."""
        head = f"sequence {self.sequence_index}, position {self.position} ({self.base})"
        facts = [f"tokens covering it: {', '.join(self.tokens) or 'n/a'}"]
        if self.prediction is not None:
            facts.append(f"p(target) = {self.prediction:.4f}")
        if self.ism is not None:
            alternatives = self.ism.drop(self.base, errors="ignore")
            low, high = alternatives.idxmin(), alternatives.idxmax()
            facts.append(f"largest drop: {self.base}→{low} {alternatives[low]:+.3g}; "
                         f"largest gain: {self.base}→{high} {alternatives[high]:+.3g}")
        parts = [element("h3", head), *(element("p", f, class_="note") for f in facts)]
        for title, frame in (("attends to", self.attends_to), ("attended by", self.attended_by)):
            if len(frame):
                parts += [element("p", title, class_="note"), table(frame)]
        if self.ism is not None:
            parts += [element("p", "ISM: change in p(target) per substitution", class_="note"),
                      table(self.ism.to_frame("effect").T)]
        parts += [element("p", f"motif instances here: {len(self.instances)}", class_="note")]
        if len(self.instances):
            parts.append(table(self.instances))
        return element("div", children=parts)


class SequenceExplorer:
    """Browse sequences with their per-nucleotide scores, and open any position's context.

    Controls: the sequence index, the score kind (given Scores, or computed
    on demand: [CLS] attention with layer and head selectors, integrated
    gradients, saliency, ISM) and, for attention, layer and head. Clicking
    a bar opens the position's context (covering tokens, top attended
    positions both ways, its ISM column, overlapping motif instances, the
    prediction). Computed scores are cached per sequence and method: the
    model runs only for a new sequence or method (``n_model_calls`` counts
    its calls); a changed control redraws from the cache.

    Parameters
    ----------
    m : DnaModel or None
        The model; ``None`` shows given scores only (no context from the model).
    seqs : str or list of str
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
    n_steps : int
        Integrated-gradients steps.
    top_k : int
        Positions listed in the context's attention tables.

    Examples
    --------
    >>> ex = dv.widgets.SequenceExplorer(m, seqs, scores=s)   # doctest: +SKIP
    >>> ex                                                     # shows the widget
    """

    def __init__(self, m: DnaModel | None, seqs, scores: Scores | list[Scores] | None = None,
                 instances: pd.DataFrame | list[Motif] | None = None, target: int = 1, index: int = 0,
                 kind: str | None = None, n_steps: int = 50, top_k: int = 5):
        self.model = m
        self.sequences = check_sequences(seqs)
        given = [] if scores is None else [scores] if isinstance(scores, Scores) else list(scores)
        for s in given:
            if s.sequences != self.sequences:
                bad = next((i for i, (a, b) in enumerate(zip(s.sequences, self.sequences)) if a != b), min(len(s), len(self.sequences)))
                raise ValueError(f"scores {s.kind!r} hold other sequences than seqs (first difference at index {bad}; "
                                 f"{len(s)} vs {len(self.sequences)} sequences)")
        self.given = {s.kind: s for s in given}
        if isinstance(instances, list):
            instances = instance_table(instances)
        self.instances = instances
        self.target, self.n_steps, self.top_k = target, n_steps, top_k
        self.n_model_calls = 0
        self.position: int | None = None
        self._values: dict[tuple, np.ndarray] = {}
        self._maps: dict[int, AttentionMaps] = {}
        self._ism: dict[int, np.ndarray] = {}
        self._prediction: dict[int, float] = {}
        self._tokens: dict[int, list[list[str]]] = {}
        options = [(f"{k} (given)", k) for k in self.given]
        if m is not None:
            options += [(label, k) for k, label in METHODS.items() if k not in self.given]
        if not options:
            raise ValueError("nothing to show: give scores, or a model to compute them")
        n_layers = m.model.config.num_hidden_layers if m is not None else 1
        n_heads = m.model.config.num_attention_heads if m is not None else 1
        self.index_control = W.BoundedIntText(value=index, min=0, max=len(self.sequences) - 1, description="sequence",
                                              layout=W.Layout(width="170px"))
        self.kind_control = W.Dropdown(options=options, value=kind or options[0][1], description="score")
        self.layer_control = W.Dropdown(options=list(range(n_layers)), value=n_layers - 1, description="layer",
                                        layout=W.Layout(width="140px"))
        self.head_control = W.Dropdown(options=[("sum", None)] + [(str(h), h) for h in range(n_heads)], value=None,
                                       description="heads", layout=W.Layout(width="140px"))
        self.status = W.HTML()
        self.figure = go.FigureWidget(self._track_figure())
        self.figure.data[0].on_click(self._on_click)
        self.mutations = go.FigureWidget()
        self.mutations_box = W.Box([self.mutations], layout=W.Layout(display="none"))
        self.context_panel = W.HTML("<p class='note'>Click a bar to see that position's context.</p>")
        for control in (self.index_control, self.kind_control, self.layer_control, self.head_control):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = W.VBox([
            W.HBox([self.index_control, self.kind_control, self.layer_control, self.head_control]),
            self.status, self.figure, self.mutations_box, self.context_panel,
        ])
        self.update()

    # ------------------------------------------------------------------ state
    @property
    def index(self) -> int:
        """The sequence shown."""
        return int(self.index_control.value)

    @property
    def kind(self) -> str:
        """The score kind shown."""
        return self.kind_control.value

    def _key(self, kind: str, i: int) -> tuple:
        if kind == "cls_attention" and kind not in self.given:
            return (kind, i, self.layer_control.value, self.head_control.value)
        return (kind, i)

    def _timed(self, what: str, compute):
        self.status.value = f"<i>computing {what} ...</i>"
        start = time.perf_counter()
        self.n_model_calls += 1
        out = compute()
        self.status.value = f"{what}: {time.perf_counter() - start:.2f} s"
        return out

    def maps(self, i: int) -> AttentionMaps:
        """Attention maps of sequence ``i`` (one forward pass, cached)."""
        if i not in self._maps:
            self._maps[i] = self._timed(f"attention of sequence {i}", lambda: attention_maps(self.model, self.sequences[i]))
        return self._maps[i]

    def ism_effects(self, i: int) -> np.ndarray:
        """(L, 4) ISM effects of sequence ``i`` on p(target) (cached)."""
        if i not in self._ism:
            self._ism[i] = self._timed(f"ISM of sequence {i}",
                                       lambda: ism(self.model, [self.sequences[i]], self.target)[0, : len(self.sequences[i])])
        return self._ism[i]

    def prediction(self, i: int) -> float | None:
        """p(target) of sequence ``i`` (cached); None without a model."""
        if self.model is None:
            return None
        if i not in self._prediction:
            self._prediction[i] = float(self._timed(f"prediction of sequence {i}",
                                                    lambda: self.model.predict([self.sequences[i]])[0, self.target]))
        return self._prediction[i]

    def tokens(self, i: int) -> list[list[str]] | None:
        """For each nucleotide of sequence ``i``, the tokens covering it; None without a model."""
        if self.model is None:
            return None
        if i not in self._tokens:
            enc = self.model.encode(self.sequences[i])
            covering = [[] for _ in self.sequences[i]]
            for ids, spans in zip(enc.input_ids, enc.spans):
                for token, (start, end) in zip(self.model.tokenizer.convert_ids_to_tokens(ids), spans):
                    for p in range(max(start, 0), end):
                        covering[p].append(token)
            self._tokens[i] = [list(dict.fromkeys(c)) for c in covering]
        return self._tokens[i]

    def values(self, kind: str | None = None, i: int | None = None) -> np.ndarray:
        """Per-nucleotide scores shown for ``kind`` and sequence ``i`` (defaults: the current ones), (L,)."""
        kind = self.kind if kind is None else kind
        i = self.index if i is None else i
        if kind in self.given:
            return self.given[kind][i]
        key = self._key(kind, i)
        if key not in self._values:
            seq = self.sequences[i]
            if kind == "cls_attention":
                values = cls_row_scores(self.maps(i), self.layer_control.value, self.head_control.value)
            elif kind == "ism":
                values = ism_summary(self.ism_effects(i))
            else:
                values = self._timed(f"{METHODS[kind]} of sequence {i}", lambda: attribute(
                    self.model, [seq], method=kind, target=self.target, n_steps=self.n_steps)[0])
            self._values[key] = np.asarray(values, dtype=np.float32)
        return self._values[key]

    # ------------------------------------------------------------------ drawing
    def _instances_here(self) -> pd.DataFrame | None:
        if self.instances is None:
            return None
        here = self.instances[self.instances["sequence_index"] == self.index]
        return here.assign(sequence_index=0)

    def _track_figure(self) -> go.Figure:
        i, kind = self.index, self.kind
        seq = self.sequences[i]
        label = kind
        if kind == "cls_attention" and kind not in self.given:
            head = self.head_control.value
            label = f"cls_attention (layer {self.layer_control.value}, {'sum of heads' if head is None else f'head {head}'})"
        scores = Scores([seq], self.values(kind, i)[None], label)
        prediction = self.prediction(i)
        title = f"sequence {i} ({len(seq)} nt)" + ("" if prediction is None else f" · p(class {self.target}) = {prediction:.3f}")
        covering = self.tokens(i)
        hover_tokens = None if covering is None else [" ".join(c) for c in covering]
        fig = track(scores, 0, instances=self._instances_here(), tokens=hover_tokens, title=title)
        if self.position is not None:
            fig.add_vrect(x0=self.position - 0.5, x1=self.position + 0.5, line=dict(color="black", width=1.5),
                          fillcolor="rgba(0,0,0,0)")
        return fig

    def update(self) -> PositionContext | None:
        """Redraw for the current controls (the model runs only for what is not cached); returns the context shown."""
        is_attention = self.kind == "cls_attention" and self.kind not in self.given
        self.layer_control.disabled = self.head_control.disabled = not is_attention
        if self.position is not None and self.position >= len(self.sequences[self.index]):
            self.position = None
        refresh(self.figure, self._track_figure())
        if self.index in self._ism:
            refresh(self.mutations, mutation_map(self._ism[self.index], self.sequences[self.index]))
        self.mutations_box.layout.display = None if self.index in self._ism else "none"
        if self.position is None:
            return None
        context = self.context(self.position)
        self.context_panel.value = to_string(context.to_element())
        return context

    def _on_click(self, _trace, points, _state) -> None:
        if points.point_inds:
            self.select(int(points.point_inds[0]))

    def select(self, position: int) -> PositionContext:
        """Open the context of ``position`` in the current sequence (what a click on its bar does)."""
        n = len(self.sequences[self.index])
        if not 0 <= position < n:
            raise ValueError(f"position {position} is outside sequence {self.index} ({n} nt)")
        self.position = position
        if self.model is not None:
            self.ism_effects(self.index)
        return self.update()

    def context(self, position: int) -> PositionContext:
        """The context of ``position`` in the current sequence."""
        i, seq = self.index, self.sequences[self.index]
        empty = pd.DataFrame(columns=["position", "base", "weight"])
        attends_to = attended_by = empty
        tokens: list[str] = []
        effects = None
        if self.model is not None:
            tokens = self.tokens(i)[position]
            matrix = self.maps(i).nucleotide(self.layer_control.value, self.head_control.value)
            attends_to, attended_by = (self._top(matrix[position]), self._top(matrix[:, position]))
            if i in self._ism:
                effects = pd.Series(self._ism[i][position], index=list(ALPHABET))
        here = pd.DataFrame(columns=["start", "end"])
        if self.instances is not None:
            rows = self.instances[(self.instances["sequence_index"] == i) & (self.instances["start"] <= position)
                                  & (self.instances["end"] > position)]
            here = rows.reset_index(drop=True)
        return PositionContext(i, position, seq[position], tokens, attends_to, attended_by, effects, here,
                               self.prediction(i))

    def _top(self, weights: np.ndarray) -> pd.DataFrame:
        seq = self.sequences[self.index]
        order = np.argsort(-weights, kind="stable")[: self.top_k]
        return pd.DataFrame({"position": order, "base": [seq[p] for p in order], "weight": weights[order]})

    # ------------------------------------------------------------------ output
    def save_html(self, path: str | Path) -> Path:
        """The current view as a standalone HTML file (opens offline): track, mutation map, context."""
        page = Page(f"dnabert_viz: sequence {self.index}")
        page.add(page.figure(go.Figure(self.figure)))
        if self.index in self._ism:
            page.add(page.figure(go.Figure(self.mutations)))
        if self.position is not None:
            page.add(self.context(self.position).to_element())
        page.add(element("p", self.sequences[self.index], class_="mono note"))
        return page.save(path)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
