"""The registry of scoring methods: one name, one signature, one place to add a method.

Every per-nucleotide scoring method is a public function

    ``(m, sequences, *, target=..., batch_size=..., progress=None, **options) -> Scores``

(``target`` only for methods that explain a class output) registered here
under its canonical name. The registry reads the method's options and their
defaults, and its default ``batch_size``, from that signature: a default is
written once, in the function. The library (:func:`score`), the command line
(``dnabert-viz score --method``, one flag per option of any method) and the
widgets' compute layer (:class:`dnabert_viz.compute.ScoreCache`) all
dispatch through :func:`get_method`, so a method registered here is
available everywhere at once.

Adding a method is one function in the module that does the work and one
``register`` here (or ``@register`` on a function of your own)::

    @register("my_method", "what it shows")
    def my_method(m, sequences, *, target=1, batch_size=16, progress=None, strength=1.0):
        values = ...                             # (N, longest length), NaN past each end
        return Scores(sequences, values, "my_method", {"model": m.name, "strength": strength})
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import engines
from .attention import cls_attention
from .attribution import apply_variants, attribute, ism, normalise_variants
from .contributions import (
    hypothetical_ism,
    onehot_gradient_shap,
    onehot_gradients,
    onehot_integrated_gradients,
    why_no_bridge,
)
from .intervals import split_input
from .language_model import lm_scores
from .model import DnaModel
from .scores import Scores
from .sequences import check_sequences

# the keywords every method takes (target: those that explain a class output), not options
COMMON = ("target", "batch_size", "progress")


@dataclass(frozen=True)
class Method:
    """A registered scoring method.

    Attributes
    ----------
    name : str
        Canonical name (the ``kind`` of the Scores it returns).
    function : callable
        ``(m, sequences, *, [target], batch_size, progress, **options) -> Scores``: the
        implementing function with the keywords that make it this method bound.
    description : str
        One line for menus and ``--help``.
    options : dict
        Option name -> default, beyond the common keywords, read from the
        implementing function's signature.
    batch_size : int
        Default rows per forward pass: the implementing function's.
    needs : {"classifier", "bridge", "attention", "lm"} or None
        What the model must have: a classifier head (the method explains a
        class output, ``target``), a classifier head and tokens the one-hot
        bridge differentiates (overlapping k-mers or the one-hot CNN:
        :func:`dnabert_viz.contributions.why_no_bridge`), attention weights, a
        language-model head (masked or causal), or nothing in particular.
    aliases : tuple of str
        Short names accepted too (the command line's ``cls``, ``ig``).
    target : int or None
        The class explained by default (the function's); None for a method
        that explains no class output (its function takes no ``target``).
    """

    name: str
    function: Callable[..., Scores]
    description: str
    options: dict = field(default_factory=dict)
    batch_size: int = 16
    needs: str | None = "classifier"
    aliases: tuple[str, ...] = ()
    target: int | None = 1

    @property
    def uses_target(self) -> bool:
        """Whether the method explains a class output (``target``)."""
        return self.target is not None

    def unavailable(self, m: DnaModel) -> str | None:
        """Why the method cannot run on ``m`` (one line), or None when it can."""
        if self.needs in ("classifier", "bridge") and not m.is_classifier:
            return f"{self.name} explains a class output and {m.name} has no classifier head"
        if self.needs == "bridge" and why_no_bridge(m) is not None:
            return f"{self.name} runs on {m.name}'s one-hot bridge: {why_no_bridge(m)}"
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
    *,
    options: tuple[str, ...] | None = None,
    fixed: dict | None = None,
    needs: str | None = "classifier",
    aliases: tuple[str, ...] = (),
) -> Callable:
    """Decorator that registers a scoring function under ``name`` (see the module docstring).

    Parameters
    ----------
    name, description : str
        Canonical name and one line for menus and ``--help``.
    options : tuple of str, optional
        Which of the function's keywords are this method's options; by
        default all but ``target``, ``batch_size``, ``progress`` and ``fixed``.
        Their defaults are the function's.
    fixed : dict, optional
        Keywords that make the function this method (``method="saliency"``
        of :func:`dnabert_viz.attribute`).
    needs : {"classifier", "bridge", "attention", "lm"} or None
        What the model must have (see :class:`Method`).
    aliases : tuple of str
        Short names accepted too.

    Raises
    ------
    ValueError
        A name already taken, or a function that is not ``(m, sequences, *,
        batch_size=..., progress=..., option=default, ...)``.
    """
    fixed = dict(fixed or {})

    def decorate(function: Callable[..., Scores]) -> Callable[..., Scores]:
        taken = {n for method in _REGISTRY.values() for n in (method.name, *method.aliases)}
        clash = sorted(taken & {name, *aliases})
        if clash:
            raise ValueError(f"scoring method name(s) {clash} already registered")
        defaults = _keyword_defaults(name, function)
        missing = sorted({"batch_size", "progress", *(options or ()), *fixed} - set(defaults))
        if missing:
            raise ValueError(
                f"scoring method {name!r}: the function takes no {', '.join(missing)}"
            )
        chosen = options if options is not None else [k for k in defaults if k not in fixed]
        _REGISTRY[name] = Method(
            name,
            functools.partial(function, **fixed) if fixed else function,
            description,
            {k: defaults[k] for k in chosen if k not in COMMON},
            defaults["batch_size"],
            needs,
            aliases,
            defaults.get("target"),
        )
        return function

    return decorate


def _keyword_defaults(name: str, function: Callable) -> dict:
    """The keyword-only parameters of a scoring function and their defaults, checking its shape."""
    parameters = list(inspect.signature(function).parameters.values())
    first = [p.name for p in parameters[:2]]
    rest = [p for p in parameters[2:] if p.kind is not p.VAR_KEYWORD]
    bad = [p.name for p in rest if p.kind is not p.KEYWORD_ONLY or p.default is p.empty]
    if len(first) < 2 or bad:
        raise ValueError(
            f"scoring method {name!r}: the function must be (m, sequences, *, option=default, "
            f"...); {', '.join(bad) or 'm, sequences'} is not"
        )
    return {p.name: p.default for p in rest}


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
    target: int | None = None,
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
    target : int, optional
        Class explained by methods that explain a class output; the method's
        own default (1) when None. An error for the others.
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
    given = {**options, **({} if target is None else {"target": target})}
    takes = [*(["target"] if spec.uses_target else []), *spec.options]
    unknown = sorted(set(given) - set(takes))
    if unknown:
        raise ValueError(
            f"scoring method {spec.name!r} does not take {', '.join(unknown)} "
            f"(it takes {', '.join(takes) or 'no options'})"
        )
    reason = spec.unavailable(m)
    if reason is not None:
        usable = [n for n in method_names() if get_method(n).unavailable(m) is None]
        raise ValueError(f"{reason}; on this model use {', '.join(usable) or 'no method'}")
    sequences, coordinates = split_input(sequences)
    sequences = check_sequences(sequences)
    kwargs = {
        **({"target": spec.target} if spec.uses_target else {}),
        "batch_size": spec.batch_size if batch_size is None else batch_size,
        **spec.options,
        **given,
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
register(
    "cls_attention",
    "[CLS] attention (DNABERT-viz recipe; layer, heads)",
    needs="attention",
    aliases=("cls",),
)(cls_attention)

# captum's methods: dnabert_viz.attribute, each with the options it reads
_WINDOWS = ("window_size", "stride")
_REFERENCE = ("baseline", "random_state")
for _method, _description, _options, _aliases in (
    (
        "integrated_gradients",
        "integrated gradients (captum, on token embeddings)",
        ("n_steps", "internal_batch_size", "output", *_REFERENCE),
        ("ig",),
    ),
    ("saliency", "saliency: gradient norm per token (captum)", ("output",), ()),
    ("input_x_gradient", "input x gradient (captum)", ("output",), ()),
    ("deeplift", "DeepLift, rescale rule (captum)", ("output", *_REFERENCE), ()),
):
    register(
        _method,
        _description,
        options=(*_options, *_WINDOWS),
        fixed={"method": _method},
        aliases=_aliases,
    )(attribute)
register(
    "ism",
    "in-silico mutagenesis: mean effect of the 3 substitutions; (N, L, 4) in extra['effects']",
)(ism)

# the one-hot bridge and ISM: (N, L, 4) hypothetical contributions in extra["hypothetical"]
# (contributions.py)
register(
    "onehot_gradients",
    "hypothetical gradients on the one-hot bridge (k-mer models): gradient centred "
    "over the 4 bases; (N, L, 4) in extra['hypothetical']",
    fixed={"baseline": "uniform"},
    needs="bridge",
)(onehot_gradients)
register(
    "onehot_gradient_x_input",
    "gradient x input on the one-hot bridge (k-mer models); raw gradient "
    "(N, L, 4) in extra['hypothetical']",
    fixed={"baseline": "zero"},
    needs="bridge",
)(onehot_gradients)
register(
    "onehot_integrated_gradients",
    "integrated gradients in one-hot space (k-mer models; shuffled or "
    "uniform baseline); (N, L, 4) in extra['hypothetical']",
    aliases=("onehot_ig",),
    needs="bridge",
)(onehot_integrated_gradients)
register(
    "onehot_gradient_shap",
    "GradientSHAP (expected gradients) in one-hot space (k-mer models; shuffled or "
    "uniform baselines); (N, L, 4) in extra['hypothetical']",
    aliases=("onehot_shap",),
    needs="bridge",
)(onehot_gradient_shap)
register(
    "hypothetical_ism",
    "hypothetical contributions from ISM, exact, any tokenizer (BPE, 6-mers); "
    "(N, L, 4) in extra['hypothetical']",
)(hypothetical_ism)

# a pretrained language model (masked or causal) as it is: no labels, no classifier
# (language_model.py)
for _kind, _description in {
    "lm_surprise": "language-model surprise: -log p(reference base), nats (a causal LM: from "
    "the left context); (N, L, 4) log p in extra['log_probs']",
    "lm_entropy": "language-model entropy of the four-base distribution, nats",
    "lm_mutation_map": "language-model zero-shot mutation map: log p(alt) - log p(ref) in "
    "extra['effects'] (a causal LM: the whole sequence's log-likelihood change), centred "
    "(N, L, 4) in extra['hypothetical'] (seqlets, TF-MoDISco)",
}.items():
    register(_kind, _description, fixed={"kind": _kind}, needs="lm")(lm_scores)


def variant_scores(
    m: DnaModel,
    variants,
    *,
    method: str = "integrated_gradients",
    sequences=None,
    **options,
) -> tuple[Scores, Scores]:
    """Per-nucleotide scores of each variant's reference and alternative sequence, by any
    registered method: what :func:`dnabert_viz.plot.variant_logos` draws one above the other.

    Parameters
    ----------
    m : DnaModel
        The model.
    variants : pandas.DataFrame or path
        Variants in any form :func:`dnabert_viz.variant_effects` reads
        (:func:`dnabert_viz.read_vcf`'s table, ``position``/``ref``/``alt``,
        DNABERT's mutation file).
    method : str
        A registered scoring method (:func:`method_names`).
    sequences : list of str, optional
        The sequences that the table's ``sequence_index`` refers to.
    **options
        Passed to :func:`score` (``target``, ``batch_size``, the method's options).

    Returns
    -------
    ref, alt : Scores
        (N, L) scores of the N variants' reference sequences and of their
        alternative sequences (an indel's is longer or shorter), each
        carrying the sites in ``meta["variants"]``: ``start``, ``end``
        (0-based, end exclusive, on the reference), ``ref``, ``alt``.
    """
    from .io import read_mutation_file

    table = variants if isinstance(variants, pd.DataFrame) else read_mutation_file(variants)
    rows, seqs = normalise_variants(table, sequences)
    alternatives = apply_variants(rows, seqs)
    ref = score(m, [seqs[i] for i in rows.sequence_index], method, **options)
    alt = score(m, alternatives, method, **options)
    sites = [
        {"start": int(start), "end": int(end), "ref": str(r), "alt": str(a)}
        for start, end, r, a in rows[["start", "end", "ref", "alt"]].itertuples(index=False)
    ]
    ref.meta["variants"] = alt.meta["variants"] = sites
    return ref, alt
