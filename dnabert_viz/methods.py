"""The registry of scoring methods: one name, one signature, one place to add a method.

Every per-nucleotide scoring method is registered here under its canonical
name as a function

    ``(m, sequences, *, target, batch_size, progress, **options) -> Scores``

together with the options it takes (and their defaults). The library
(:func:`score`), the command line (``dnabert-viz score --method``) and the
widgets' compute layer (:class:`dnabert_viz.compute.ScoreCache`) all
dispatch through :func:`get_method`, so a method registered here is
available everywhere at once.

Adding a method is one ``@register`` function in this file; it may call
into the module that does the work (attention, attribution, ...)::

    @register("my_method", "what it shows", options={"strength": 1.0})
    def _my_method(m, sequences, *, target, batch_size, progress, strength):
        values = ...                             # (N, longest length), NaN past each end
        return Scores(sequences, values, "my_method", {"model": m.name, "strength": strength})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import engines
from .attention import cls_attention
from .attribution import attribute, ism
from .contributions import (
    hypothetical_ism,
    onehot_gradient_shap,
    onehot_gradients,
    onehot_integrated_gradients,
)
from .intervals import split_input
from .language_model import lm_scores
from .model import DnaModel
from .scores import Scores
from .sequences import check_sequences


@dataclass(frozen=True)
class Method:
    """A registered scoring method.

    Attributes
    ----------
    name : str
        Canonical name (the ``kind`` of the Scores it returns).
    function : callable
        ``(m, sequences, *, target, batch_size, progress, **options) -> Scores``.
    description : str
        One line for menus and ``--help``.
    options : dict
        Option name -> default, beyond the common keywords.
    batch_size : int
        Default rows per forward pass (what was fastest on 2 CPU cores for the demo model).
    needs : {"classifier", "attention", "lm"} or None
        What the model must have: a classifier head (the method explains a
        class output, ``target``), attention weights, a language-model head
        (masked or causal), or nothing in particular.
    aliases : tuple of str
        Short names accepted too (the command line's ``cls``, ``ig``).
    """

    name: str
    function: Callable[..., Scores]
    description: str
    options: dict = field(default_factory=dict)
    batch_size: int = 16
    needs: str | None = "classifier"
    aliases: tuple[str, ...] = ()

    @property
    def uses_target(self) -> bool:
        """Whether the method explains a class output (``target``)."""
        return self.needs == "classifier"

    def unavailable(self, m: DnaModel) -> str | None:
        """Why the method cannot run on ``m`` (one line), or None when it can."""
        if self.needs == "classifier" and not m.is_classifier:
            return f"{self.name} explains a class output and {m.name} has no classifier head"
        if self.needs == "lm" and not m.is_lm:
            return (
                f"{self.name} reads a language-model head (masked or causal) and {m.name} has none"
            )
        if self.needs == "attention" and not m.returns_attention:
            return f"{self.name} reads attention weights; {m.why_no_attention}"
        return None


_REGISTRY: dict[str, Method] = {}


def register(
    name: str,
    description: str,
    options: dict | None = None,
    batch_size: int = 16,
    needs: str | None = "classifier",
    aliases: tuple[str, ...] = (),
) -> Callable:
    """Decorator that registers a scoring function under ``name`` (see the module docstring)."""

    def decorate(function: Callable[..., Scores]) -> Callable[..., Scores]:
        taken = {n for method in _REGISTRY.values() for n in (method.name, *method.aliases)}
        clash = sorted(taken & {name, *aliases})
        if clash:
            raise ValueError(f"scoring method name(s) {clash} already registered")
        _REGISTRY[name] = Method(
            name, function, description, dict(options or {}), batch_size, needs, aliases
        )
        return function

    return decorate


def method_names() -> list[str]:
    """Canonical names of the registered methods, in registration order."""
    return list(_REGISTRY)


def get_method(name: str) -> Method:
    """The registered method called ``name`` (canonical name or alias).

    Raises
    ------
    ValueError
        An unknown name; the message lists the registered ones.
    """
    for method in _REGISTRY.values():
        if name == method.name or name in method.aliases:
            return method
    known = ", ".join(
        f"{m.name}" + (f" ({'/'.join(m.aliases)})" if m.aliases else "")
        for m in _REGISTRY.values()
    )
    raise ValueError(f"unknown scoring method {name!r}; registered: {known}")


def score(
    m: DnaModel,
    sequences,
    method: str = "cls_attention",
    *,
    target: int = 1,
    batch_size: int | None = None,
    progress: bool | None = None,
    out: str | Path | None = None,
    engine="local",
    resume: bool = False,
    **options,
) -> Scores:
    """Per-nucleotide scores of ``sequences`` by any registered method.

    Parameters
    ----------
    m : DnaModel
        The model.
    sequences : str, list of str or pandas.DataFrame
        Sequences, or a table with a ``sequence`` column; the coordinates of a
        :func:`dnabert_viz.read_intervals` table (``chrom``, ``start``, ``end``,
        ``strand``) go into the Scores' ``extra``.
    method : str
        A registered method (:func:`method_names`) or alias.
    target : int
        Class explained by methods that use one (ignored by attention).
    batch_size : int, optional
        Rows per forward pass; the method's own default when None.
    progress : bool or None
        Show a progress bar; None (default): in Jupyter and on a terminal only
        (:func:`dnabert_viz.runtime.show_progress`).
    out : str or Path, optional
        Also save the Scores there: ``.npz`` (written atomically at the end),
        or a ``.zarr`` store written a chunk of rows at a time as they are
        computed (:mod:`dnabert_viz.engines`); a store comes back opened lazily.
    engine : {"local", "ray"} or dnabert_viz.engines.Local / Ray
        Where a store's chunks are computed: this process, or Ray Data actors
        (``Ray(workers=8, gpus_per_worker=1, address="auto")``; needs ``out=*.zarr``).
    resume : bool
        Continue the unfinished store at ``out`` (a finished chunk is never
        recomputed); without it an existing store is an error.
    **options
        The method's options (``get_method(method).options`` lists them with
        their defaults), e.g. ``layer`` for ``cls_attention``, ``n_steps``
        for ``integrated_gradients``.

    Returns
    -------
    Scores
        ``kind`` is the method's canonical name; values (N, longest length).

    Raises
    ------
    ValueError
        An unknown method, an option the method does not take (named, with
        the ones it does take), or a method that cannot run on ``m`` (why,
        and the methods that can).
    """
    spec = get_method(method)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        takes = ", ".join(spec.options) or "no options"
        raise ValueError(
            f"scoring method {spec.name!r} does not take {', '.join(unknown)} (it takes {takes})"
        )
    reason = spec.unavailable(m)
    if reason is not None:
        usable = [n for n in method_names() if get_method(n).unavailable(m) is None]
        raise ValueError(f"{reason}; on this model use {', '.join(usable) or 'no method'}")
    sequences, coordinates = split_input(sequences)
    sequences = check_sequences(sequences)
    kwargs = {
        "target": target,
        "batch_size": spec.batch_size if batch_size is None else batch_size,
        **spec.options,
        **options,
    }
    engine = engines.resolve(engine)
    if engines.is_store(out) or resume or not isinstance(engine, engines.Local):
        return engines.run(engine, spec, m, sequences, coordinates, kwargs, out, resume, progress)
    scores = spec.function(m, sequences, progress=progress, **kwargs)
    scores.extra.update(coordinates or {})
    if out is not None:
        scores.save(out)
    return scores


# ------------------------------------------------------------------------------------- the methods
_WINDOWS = {"window_size": None, "stride": None}


@register(
    "cls_attention",
    "[CLS] attention (DNABERT-viz recipe; layer, heads)",
    options={"layer": -1, "heads": None, **_WINDOWS},
    batch_size=32,
    needs="attention",
    aliases=("cls",),
)
def _cls_attention(m, sequences, *, target, batch_size, progress, **options) -> Scores:
    return cls_attention(m, sequences, batch_size=batch_size, progress=progress, **options)


def _captum(name: str, description: str, options: dict, aliases: tuple[str, ...] = ()) -> None:
    """Register one captum method of :func:`dnabert_viz.attribute` (they share everything but their
    options)."""

    def run(m, sequences, *, target, batch_size, progress, **opts) -> Scores:
        return attribute(
            m,
            sequences,
            method=name,
            target=target,
            batch_size=batch_size,
            progress=progress,
            **opts,
        )

    register(name, description, options={**options, **_WINDOWS}, aliases=aliases)(run)


_REFERENCE = {"baseline": "pad", "random_state": 0}
_captum(
    "integrated_gradients",
    "integrated gradients (captum, on token embeddings)",
    {"n_steps": 50, "internal_batch_size": 64, "output": "probability", **_REFERENCE},
    aliases=("ig",),
)
_captum("saliency", "saliency: gradient norm per token (captum)", {"output": "probability"})
_captum("input_x_gradient", "input x gradient (captum)", {"output": "probability"})
_captum("deeplift", "DeepLift, rescale rule (captum)", {"output": "probability", **_REFERENCE})


@register(
    "ism",
    "in-silico mutagenesis: mean effect of the 3 substitutions; (N, L, 4) in extra['effects']",
)
def _ism(m, sequences, *, target, batch_size, progress) -> Scores:
    effects = ism(m, sequences, target=target, batch_size=batch_size, progress=progress)
    # the reference column is 0: the mean over the three substitutions
    summary = effects.sum(axis=-1) / 3
    return Scores(
        sequences, summary, "ism", {"model": m.name, "target": target}, {"effects": effects}
    )


# the one-hot bridge and ISM: (N, L, 4) hypothetical contributions in extra["hypothetical"]
# (contributions.py)
@register(
    "onehot_gradients",
    "hypothetical gradients on the one-hot bridge (k-mer models): gradient centred "
    "over the 4 bases; (N, L, 4) in extra['hypothetical']",
    options={"output": "probability"},
)
def _onehot_gradients(m, sequences, *, target, batch_size, progress, output) -> Scores:
    return onehot_gradients(m, sequences, target, "uniform", output, batch_size, progress)


@register(
    "onehot_gradient_x_input",
    "gradient x input on the one-hot bridge (k-mer models); raw gradient "
    "(N, L, 4) in extra['hypothetical']",
    options={"output": "probability"},
)
def _onehot_gradient_x_input(m, sequences, *, target, batch_size, progress, output) -> Scores:
    return onehot_gradients(m, sequences, target, "zero", output, batch_size, progress)


@register(
    "onehot_integrated_gradients",
    "integrated gradients in one-hot space (k-mer models; shuffled or "
    "uniform baseline); (N, L, 4) in extra['hypothetical']",
    options={
        "n_steps": 128,
        "baseline": "shuffle",
        "output": "probability",
        "internal_batch_size": 64,
        "random_state": 0,
    },
    aliases=("onehot_ig",),
)
def _onehot_ig(m, sequences, *, target, batch_size, progress, **options) -> Scores:
    return onehot_integrated_gradients(
        m, sequences, target, batch_size=batch_size, progress=progress, **options
    )


@register(
    "onehot_gradient_shap",
    "GradientSHAP (expected gradients) in one-hot space (k-mer models; shuffled or "
    "uniform baselines); (N, L, 4) in extra['hypothetical']",
    options={
        "n_samples": 128,
        "n_baselines": 20,
        "baseline": "shuffle",
        "output": "probability",
        "internal_batch_size": 64,
        "random_state": 0,
    },
    aliases=("onehot_shap",),
)
def _onehot_shap(m, sequences, *, target, batch_size, progress, **options) -> Scores:
    return onehot_gradient_shap(
        m, sequences, target, batch_size=batch_size, progress=progress, **options
    )


@register(
    "hypothetical_ism",
    "hypothetical contributions from ISM, exact, any tokenizer (BPE, 6-mers); "
    "(N, L, 4) in extra['hypothetical']",
)
def _hypothetical_ism(m, sequences, *, target, batch_size, progress) -> Scores:
    return hypothetical_ism(m, sequences, target, batch_size, progress)


# a pretrained language model (masked or causal) as it is: no labels, no classifier
# (language_model.py)
def _language_model(name: str, description: str) -> None:
    """Register one language-model score of :func:`dnabert_viz.language_model.lm_scores`."""

    def run(m, sequences, *, target, batch_size, progress, **options) -> Scores:
        return lm_scores(m, sequences, name, batch_size=batch_size, progress=progress, **options)

    # context: a causal LM's (None: the left for surprise and entropy, both sides for the
    # mutation map; language_model.lm_scores)
    options = {"strands": "forward", "context": None, **_WINDOWS}
    register(name, description, options=options, batch_size=32, needs="lm")(run)


_language_model(
    "lm_surprise",
    "language-model surprise: -log p(reference base), nats (a causal LM: from the left "
    "context); (N, L, 4) log p in extra['log_probs']",
)
_language_model("lm_entropy", "language-model entropy of the four-base distribution, nats")
_language_model(
    "lm_mutation_map",
    "language-model zero-shot mutation map: log p(alt) - log p(ref) in extra['effects'] (a "
    "causal LM: the whole sequence's log-likelihood change), centred "
    "(N, L, 4) in extra['hypothetical'] (seqlets, TF-MoDISco)",
)
