"""The views' compute layer: what a widget shows, computed on demand for one sequence at a time and
cached.

Widgets draw and hold UI state; they never call the model. Everything they
show that needs it comes from a :class:`ScoreCache`: per-nucleotide scores
of any registered method (:mod:`dnabert_viz.methods`) keyed by method,
options and sequence, attention maps, predictions and the tokens covering
each position, and every sequence's embedding. A cache can be shared: the
gallery hands its cache to the explorer it opens, so nothing is computed
twice.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np

from .atlas import HeadAtlas, head_atlas
from .attention import AttentionMaps, attention_maps
from .methods import get_method, method_names, score
from .model import DnaModel
from .scores import Scores
from .sequences import check_sequences
from .tokenization import covers

EFFECTS = {
    ("ism", "log_odds"): ("ISM: change in the target's log-odds per substitution", "Δ log-odds"),
    ("ism", "probability"): ("ISM: change in p(target) per substitution", "Δ p(target)"),
    ("ism", "value"): ("ISM: change in the target value per substitution", "Δ value"),
    ("lm_mutation_map", None): (
        "zero-shot: log p(alt) - log p(ref) per substitution",
        "Δ log p (nats)",
    ),
}
"""Methods whose ``extra["effects"]`` the views show per substitution, by method and ISM's output:
what the effects are, and the mutation map's colour-bar label."""


def given_kind(s: Scores, m: DnaModel | None) -> str:
    """The name a given Scores goes by in a cache of ``m``: its ``kind``, followed by the model
    that computed it (``meta["model"]``) in parentheses when that is another model, so another
    model's scores (a CNN's beside a transformer's) stand beside ``m``'s own of the same
    method."""
    other = s.meta.get("model")
    if m is None or other is None or other == m.name:
        return s.kind
    return f"{s.kind} ({other})"


class ScoreCache:
    """Scores, attention maps and predictions of single sequences, computed once.

    Parameters
    ----------
    m : DnaModel or None
        The model; None serves given scores only.
    sequences : str or list of str
        The sequences (indices below refer to them).
    scores : Scores or list of Scores, optional
        Precomputed scores over exactly these sequences (the given scores); their ``kind``
        names them (another model's: ``"kind (model)"``, :func:`given_kind`). A
        given ``ism`` with ``extra["effects"]`` also serves :meth:`effects`.
    target : int
        Class explained by attribution, ISM and the prediction.

    Attributes
    ----------
    n_model_calls : int
        How many times the model has run (each computation counts once).
    listeners : list of callable
        Called as ``listener(what, seconds)`` around each computation:
        ``seconds`` is None when it starts, the time it took when it ends
        (the widgets' status line).
    progress_context : callable, optional
        A context-manager factory; when set, scoring runs inside it with
        progress bars on (a view passes its ``ipywidgets.Output`` area, so
        the bars show in the view).
    """

    def __init__(
        self,
        m: DnaModel | None,
        sequences,
        scores: Scores | list[Scores] | None = None,
        *,
        target: int = 1,
    ):
        self.model = m
        self.sequences = check_sequences(sequences)
        given = [] if scores is None else [scores] if isinstance(scores, Scores) else list(scores)
        for s in given:
            s.check_sequences(self.sequences, f"scores {s.kind!r}")
        self.given = {given_kind(s, m): s for s in given}
        self.target = target
        self.n_model_calls = 0
        self.listeners: list[Callable[[str, float | None], None]] = []
        self.progress_context: Callable[[], AbstractContextManager] | None = None
        self._scores: dict[tuple, Scores] = {}
        # ISM's scale in the views: log-odds where there is a choice (a model sure of a sequence
        # moves its probability by 1e-4 where its log-odds move by units)
        self.effects_output = "log_odds" if self.effects_scale_choosable() else "probability"
        self._maps: dict[int, AttentionMaps] = {}
        self._atlases: dict[tuple[int, int | None], HeadAtlas] = {}
        self._prediction: dict[int, float] = {}
        self._embeddings: dict[int | None, np.ndarray] = {}

    def kinds(self) -> list[tuple[str, str]]:
        """(label, kind) for a menu: the given kinds first, then every registered method not given
        that can run on the model (a classifier's attributions, a masked LM's LM scores).

        The label is the method's description up to its first colon or parenthesis.
        """
        out = [(f"{k} (given)", k) for k in self.given]
        if self.model is not None:
            out += [
                (get_method(k).description.split(":")[0].split(" (")[0], k)
                for k in method_names()
                if k not in self.given and get_method(k).unavailable(self.model) is None
            ]
        return out

    def _compute(self, what: str, compute: Callable[[bool], object]):
        """Run ``compute(progress)`` once, telling the listeners, inside :attr:`progress_context`
        when set.
        """
        for listener in self.listeners:
            listener(what, None)
        start = time.perf_counter()
        self.n_model_calls += 1
        with self.progress_context() if self.progress_context else contextlib.nullcontext():
            out = compute(self.progress_context is not None)
        for listener in self.listeners:
            listener(what, time.perf_counter() - start)
        return out

    def scores(self, kind: str, index: int, **options) -> Scores:
        """Scores of sequence ``index`` by ``kind`` (given, or a registered method run with
        ``options``), one row.

        Options a method does not take are dropped, so one dict of the
        views' settings (layer, heads, n_steps) serves every method.
        """
        if kind in self.given:
            s = self.given[kind]
            return Scores(
                [s.sequences[index]],
                s[index][None],
                kind,
                s.meta,
                {k: v[index : index + 1] for k, v in s.extra.items() if len(v) == len(s)},
            )
        if self.model is None:
            raise ValueError(
                f"no scores {kind!r} were given and there is no model to compute them"
            )
        spec, used = self._method(kind, options)
        key = (spec.name, index, tuple(sorted(used.items())))
        if key not in self._scores:
            self._scores[key] = self._score(
                spec, self.sequences[index], used, f"{spec.name} of sequence {index}"
            )
        return self._scores[key]

    def _method(self, kind: str, options: dict) -> tuple:
        """The registered method ``kind`` and the options of ``options`` it takes (lists as
        tuples, so they key a cache)."""
        spec = get_method(kind)
        used = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in options.items()
            if k in spec.options
        }
        return spec, used

    def _score(self, spec, sequence: str, used: dict, what: str) -> Scores:
        """``sequence`` scored by the method ``spec`` with options ``used`` (one model run)."""
        target = {"target": self.target} if spec.uses_target else {}
        return self._compute(
            what,
            lambda progress: score(
                self.model,
                [sequence],
                spec.name,
                **target,
                progress=progress,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in used.items()},
            ),
        )

    def variant(
        self, kind: str, index: int, site: dict, **options
    ) -> tuple[Scores, Scores] | None:
        """Sequence ``index`` and its alternative with the variant ``site`` (``start``, ``end``,
        ``ref``, ``alt``: 0-based, end exclusive) scored by ``kind``, the pair
        :func:`dnabert_viz.plot.variant_logos` draws; None for a given kind or without a model
        (nothing to score the alternative with)."""
        if kind in self.given or self.model is None:
            return None
        ref = self.scores(kind, index, **options)
        spec, used = self._method(kind, options)
        seq = self.sequences[index]
        changed = seq[: site["start"]] + site["alt"] + seq[site["end"] :]
        key = (
            "variant",
            spec.name,
            index,
            tuple(sorted(site.items())),
            tuple(sorted(used.items())),
        )
        if key not in self._scores:
            self._scores[key] = self._score(
                spec, changed, used, f"{spec.name} of sequence {index} with its variant"
            )
        alt = self._scores[key]
        meta = {"variants": [site]}
        return (
            Scores(ref.sequences, ref.values, ref.kind, {**ref.meta, **meta}),
            Scores(alt.sequences, alt.values, alt.kind, {**alt.meta, **meta}),
        )

    def values(self, kind: str, index: int, **options) -> np.ndarray:
        """(L,) per-nucleotide values of sequence ``index`` (see :meth:`scores`)."""
        return self.scores(kind, index, **options)[0]

    def effects_kind(self) -> str | None:
        """The method whose ``extra["effects"]`` the views show per substitution (a method of
        :data:`EFFECTS`): given Scores of one of them, else ISM on a classifier and the zero-shot
        mutation map on a language model; None when none applies."""
        for kind in dict.fromkeys(method for method, _ in EFFECTS):
            if kind in self.given:
                return kind
        if self.model is None:
            return None
        if self.model.is_classifier:
            return "ism"
        return "lm_mutation_map" if self.model.is_lm else None

    def effects_scale_choosable(self) -> bool:
        """Whether the effects are ISM computed here on a head with probabilities, so that
        :attr:`effects_output` chooses their scale (log-odds or probability); not for given
        Scores, a regression head's values or a language model's zero-shot map."""
        return (
            self.effects_kind() == "ism"
            and "ism" not in self.given
            and self.model.problem_type != "regression"
        )

    def _effects_options(self, kind: str) -> dict:
        """The options the views' effects are computed with: ISM's output, when computed."""
        return {"output": self.effects_output} if kind == "ism" and kind not in self.given else {}

    def effects_label(self) -> tuple[str, str] | None:
        """What the effects shown are, in words, and the mutation map's colour-bar label (a row of
        :data:`EFFECTS`); None when there are none."""
        kind = self.effects_kind()
        if kind is None:
            return None
        output = self.effects_output if kind == "ism" else None
        if kind in self.given:
            output = self.given[kind].meta.get("output", "probability") if output else None
        elif output and self.model.problem_type == "regression":
            output = "value"
        return EFFECTS[(kind, output)]

    def has_effects(self, index: int) -> bool:
        """Whether sequence ``index``'s (L, 4) substitution effects are at hand without running the
        model."""
        kind = self.effects_kind()
        if kind is None:
            return False
        options = tuple(sorted(self._effects_options(kind).items()))
        return kind in self.given or (kind, index, options) in self._scores

    def effects(self, index: int) -> np.ndarray | None:
        """(L, 4) substitution effects of sequence ``index`` (:meth:`effects_kind`'s: for ISM on
        the target's log-odds or probability, as :attr:`effects_output` says, for a language
        model log p(alt) - log p(ref)), A C G T; None when there are none to compute.
        """
        kind = self.effects_kind()
        if kind is None:
            return None
        extra = self.scores(kind, index, **self._effects_options(kind)).extra
        if "effects" not in extra:
            return None
        return extra["effects"][0, : len(self.sequences[index])]

    def hypothetical(self, kind: str, index: int, **options) -> np.ndarray | None:
        """(L, 4) hypothetical contributions of sequence ``index`` if ``kind``'s Scores carry them,
        else None.
        """
        extra = self.scores(kind, index, **options).extra
        if "hypothetical" not in extra:
            return None
        return extra["hypothetical"][0, : len(self.sequences[index])]

    def maps(self, index: int) -> AttentionMaps | None:
        """Attention maps of sequence ``index`` (one forward pass); None without a model."""
        if self.model is None:
            return None
        if index not in self._maps:
            self._maps[index] = self._compute(
                f"attention maps of sequence {index}",
                lambda _progress: attention_maps(self.model, self.sequences[index]),
            )
        return self._maps[index]

    def atlas(self, index: int, *, annotation=None) -> HeadAtlas | None:
        """The head atlas of sequence ``index`` (:func:`dnabert_viz.head_atlas` of the target,
        with ``annotation`` of that one sequence, e.g. a boolean (1, L) mask); None where it has
        no number: no model, no attention, or neither a sequence head nor an annotation."""
        m = self.model
        if m is None or not m.returns_attention or (annotation is None and not m.is_classifier):
            return None
        key = (index, None if annotation is None else id(annotation))
        if key not in self._atlases:
            self._atlases[key] = self._compute(
                f"head atlas of sequence {index}",
                lambda progress: head_atlas(
                    m,
                    [self.sequences[index]],
                    annotation=annotation,
                    target=self.target,
                    progress=progress,
                ),
            )
        return self._atlases[key]

    def prediction(self, index: int) -> float | None:
        """p(target) of sequence ``index``; None without a model or a classifier head."""
        if self.model is None or not self.model.is_classifier:
            return None
        if index not in self._prediction:
            self._prediction[index] = float(
                self._compute(
                    f"prediction of sequence {index}",
                    lambda _progress: self.model.predict([self.sequences[index]])[0, self.target],
                )
            )
        return self._prediction[index]

    def predictions(self) -> np.ndarray | None:
        """p(target) of every sequence, (N,), in one batched run; None without a model or a
        classifier head."""
        if self.model is None or not self.model.is_classifier:
            return None
        missing = [index for index in range(len(self.sequences)) if index not in self._prediction]
        if missing:
            out = self._compute(
                f"predictions of {len(missing)} sequences",
                lambda _progress: self.model.predict([self.sequences[index] for index in missing]),
            )
            self._prediction.update(zip(missing, map(float, out[:, self.target])))
        return np.array([self._prediction[index] for index in range(len(self.sequences))])

    def embeddings(self, *, layer: int = -1) -> np.ndarray:
        """Sequence embeddings, (N, D): ``layer``'s hidden states (0: the embedding output, -1:
        the last layer), mean-pooled over real tokens (``DnaModel.embed``)."""
        if layer not in self._embeddings:
            if self.model is None:
                raise ValueError("no model to compute embeddings: give embeddings, or a model")
            out = self._compute(
                f"embeddings of {len(self.sequences)} sequences (layer {layer})",
                lambda progress: self.model.embed(self.sequences, layers=layer, progress=progress),
            )
            self._embeddings[layer] = embedding_values(out.layer(layer), len(self.sequences))
        return self._embeddings[layer]

    def covering_tokens(self, index: int) -> list[list[str]] | None:
        """For each nucleotide of sequence ``index``, the distinct tokens covering it (all
        windows); None without a model.
        """
        if self.model is None:
            return None
        seq = self.sequences[index]
        enc = self.model.encode(seq)
        covering: list[dict[str, None]] = [{} for _ in seq]
        for ids, spans in zip(enc.input_ids, enc.spans):
            tokens = self.model.tokenizer.convert_ids_to_tokens(ids)
            for t, p in zip(*np.nonzero(covers(spans, len(seq)))):
                covering[p][tokens[t]] = None
        return [list(c) for c in covering]


def embedding_values(embeddings, n: int) -> np.ndarray:
    """One embedding per sequence as an (n, D) float array: an array, or any object holding one
    in ``.values``, such as ``Embeddings`` of one layer, (1, n, D); refused in one line when it is
    not (n, D) or not finite."""
    values = np.asarray(getattr(embeddings, "values", embeddings), dtype=float)
    if values.ndim == 3 and len(values) == 1:  # Embeddings of one layer
        values = values[0]
    if values.ndim != 2 or len(values) != n:
        raise ValueError(
            f"embeddings of shape {values.shape}: expected one row per sequence, ({n}, D)"
        )
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        raise ValueError(f"embeddings: row {bad[0]} is not finite (NaN or inf)")
    return values
