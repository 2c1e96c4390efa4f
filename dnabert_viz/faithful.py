"""Which map to believe: perturbation tests of per-nucleotide maps against the model itself.

:func:`faithfulness` mutates the nucleotides a map ranks highest (and lowest) and reads what
the model's output does, against random positions and against the map shifted off the
sequence; :func:`sanity_check` re-initialises the model from the top layer down and asks
whether the map changes (Adebayo et al. 2018, "Sanity checks for saliency maps"). Where the
truth is known (planted sites), :func:`faithfulness` reports each map's AUROC at the true
positions beside them.

Every map is a :class:`~dnabert_viz.scores.Scores` of the same sequences, or a method of the
registry (:func:`dnabert_viz.method_names`) computed here. Positions are ranked by the map's
values, highest first, except ISM's (``kind="ism"``: the mean change of the target when a base
is substituted, most negative where the sequence supports the target), ranked lowest first.
Mutants are scored in batches through :meth:`DnaModel.predict`, on the log-odds of the target
(a classifier: :meth:`DnaModel.head_output`) or its value (regression).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .attribution import ism
from .checks import check_counts
from .markup import summary
from .methods import get_method, score
from .model import DnaModel
from .scores import Scores
from .sequences import ALPHABET, check_sequences, dinucleotide_shuffle
from .truth import oriented, truth_auroc, truth_mask

REPLACE = ("worst", "N", "shuffle")
ORDERS = ("top", "bottom", "random", "shifted")
CURVES = ("deletion", "insertion")
_LETTERS = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
_GROUP = 16  # sequences whose mutants go to the model together


@dataclass(repr=False)
class Faithfulness:
    """The result of :func:`faithfulness`: the curves as a tidy table and a summary per map.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (``map``, ``curve``, ``order``, ``k``): ``delta``, the mean change of the
        output over sequences (deletion: mutant minus sequence; insertion: restored minus fully
        replaced), its bootstrap confidence interval ``ci_low``, ``ci_high``, and ``n``
        sequences. ``order``: ``top`` (the map's k highest), ``bottom`` (its k lowest),
        ``random`` (k random positions, mean of ``n_random`` draws; the same for every map)
        and ``shifted`` (the map rolled by a random offset: its values and their spacing, off
        the sequence; mean of ``n_random`` shifts).
    summary : pandas.DataFrame
        One row per map at ``k`` (the summary's k, in ``meta``): ``drop_top`` (top-k deletion, the
        output's fall), ``drop_random``, ``drop_shifted``, ``drop_bottom``, ``ratio`` (drop_top /
        drop_random) with its bootstrap CI (``ratio_low``, ``ratio_high``), the AOPCs (mean
        over the curve's k of the drop, deletion, or of the gain, insertion; ``aopc_*_random``
        for random positions) and, given ``truth``, ``auroc`` (mean per-sequence AUROC of the
        map at the true positions) and ``n_truth`` (sequences that have true and other
        positions).
    meta : dict
        Settings: ``model``, ``target``, ``output``, ``replace``, ``ks``, ``k``, ``n_random``,
        ``n_boot``, ``seed``, ``n`` sequences, ``baseline`` (mean output of the sequences) and
        ``replaced`` (mean output of the fully replaced ones).
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def verdicts(self) -> list[str]:
        """One line per map, most faithful first: ``integrated_gradients moves the log-odds 4.1x
        more than random at k = 5 (95% CI 3.2-5.0)``."""
        return list(self.verdict_by_map().values())

    def verdict_by_map(self) -> dict[str, str]:
        """Map name -> its line of :meth:`verdicts`, most faithful first."""
        k, scale = self.meta["k"], self.meta["output"]
        lines = {}
        for row in self.summary.sort_values("ratio", ascending=False).itertuples():
            truth = "" if "auroc" not in self.summary else f"; AUROC at the truth {row.auroc:.2f}"
            if not np.isfinite(row.ratio):
                lines[row.map] = (
                    f"{row.map}: random positions do not move the {scale} at k = {k} "
                    f"(drop {row.drop_random:+.3g}); the map's top {k} move it "
                    f"{row.drop_top:+.3g}{truth}"
                )
                continue
            lines[row.map] = (
                f"{row.map} moves the {scale} {row.ratio:.1f}x more than random at k = {k} "
                f"(95% CI {row.ratio_low:.1f}-{row.ratio_high:.1f}){truth}"
            )
        return lines

    def __repr__(self) -> str:
        return (
            f"Faithfulness({len(self.summary)} maps, {self.meta['n']} sequences, "
            f"replace={self.meta['replace']!r}, k = {self.meta['k']})"
        )

    def _repr_html_(self) -> str:
        """A compact summary for notebooks: the settings and one verdict per map."""
        meta = self.meta
        rows = [
            ("model", str(meta["model"])),
            ("sequences", str(meta["n"])),
            ("output", f"{meta['output']} of output {meta['target']}"),
            ("replace", f"{meta['replace']}; k = {', '.join(map(str, meta['ks']))}"),
        ]
        rows += [(f"#{i + 1}", line) for i, line in enumerate(self.verdicts())]
        return summary("Faithfulness", rows)


def faithfulness(
    m: DnaModel,
    sequences,
    maps,
    *,
    ks: tuple[int, ...] = (1, 2, 5, 10, 20),
    fraction: float | None = 0.1,
    replace: str = "worst",
    target: int = 1,
    n_random: int = 4,
    n_boot: int = 1000,
    summary_k: int | None = None,
    truth=None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
) -> Faithfulness:
    """Deletion and insertion curves of per-nucleotide maps, against random positions.

    Parameters
    ----------
    m : DnaModel
        A model with a sequence head (classifier, multi-label or regression).
    sequences : str, list of str or pandas.DataFrame
        N sequences (a table: its ``sequence`` column; :func:`dnabert_viz.read_intervals`'
        table also gives their genome coordinates, for a ``truth`` on the genome).
    maps : dict or list
        Name -> :class:`Scores` of these same sequences (checked), or name -> a registered
        method's name to compute here (``dv.score(m, sequences, method, target=target)``); a
        list of method names is the same as ``{name: name}``.
    ks : tuple of int
        Numbers of nucleotides mutated (deletion) or restored (insertion). Each must be at
        most the shortest sequence's length.
    fraction : float or None
        Also the k that is this fraction of the shortest sequence (rounded, at least 1): a
        size that scales with length. None: only ``ks``.
    replace : {"worst", "N", "shuffle"}
        What a mutated nucleotide becomes: the base whose substitution there lowers the
        target most (ISM's effects: taken from a map of kind ``ism`` or ``hypothetical_ism``
        of the same target when ``maps`` holds one, else computed), ``N``, or the base at
        that position in a dinucleotide-shuffled copy of the sequence (which may be the same
        base: no change there).
    target : int
        Output read: a class's or label's log-odds, or a regression value.
    n_random : int
        Random position sets (shared by all maps) and random shifts of each map, per
        sequence and k.
    n_boot : int
        Bootstrap resamples of the sequences for the confidence intervals (95%).
    summary_k : int, optional
        The k of the summary and the verdicts: one of the curves' k; by default the one
        nearest 5.
    truth : numpy.ndarray, pandas.DataFrame, str or Path, optional
        Where the truth is: a boolean (N, L) mask (L at least the longest sequence), a
        table (or a TSV file, such as the demo's ``planted.tsv``) with ``sequence_index``,
        ``start``, ``end`` (0-based, end exclusive) of true sites (``sequence_index``: the
        position in ``sequences``, or, when ``sequences`` is a table, its index label; sites of
        other labels are left out), or sites on the genome: a
        BED or narrowPeak file (``.bed``, ``.narrowPeak``, either gzipped) or a table with
        ``chrom``, ``start``, ``end``, placed in the sequences by their coordinates
        (``sequences`` from :func:`dnabert_viz.read_intervals`; see
        :func:`dnabert_viz.truth.truth_mask`).
    seed : int
        Seed of the random positions, shifts, shuffles, ties and bootstrap.
    batch_size : int
        Mutant sequences per forward pass.
    progress : bool or None
        Show progress bars; None (default): in Jupyter and terminals only.

    Returns
    -------
    Faithfulness
        ``table`` (the curves), ``summary`` (one row per map), ``meta``; ``verdicts()``.

    Raises
    ------
    ValueError
        A k larger than a sequence (naming it), a map of other sequences, a method the model
        cannot run (why), a bad ``replace``, ``truth`` of another shape, sites on the genome
        for sequences without coordinates.
    """
    from tqdm.auto import tqdm

    from .intervals import split_input
    from .runtime import show_progress

    if replace not in REPLACE:
        raise ValueError(f"replace must be one of {REPLACE}, got {replace!r}")
    check_counts(n_random=n_random, n_boot=n_boot, batch_size=batch_size, summary_k=summary_k)
    check_counts(**{f"ks[{i}]": k for i, k in enumerate(ks)})
    m._require_target(target)
    given, coordinates = split_input(sequences)
    seqs = check_sequences(given)
    lengths = np.array([len(s) for s in seqs])
    ks = sorted(set(map(int, ks)))
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        ks = sorted({*ks, max(1, round(fraction * int(lengths.min())))})
    short = int(np.argmin(lengths))
    if ks[-1] > lengths[short]:
        raise ValueError(
            f"k = {ks[-1]} is larger than sequence {short} ({lengths[short]} nt): every k must "
            "be at most the shortest sequence's length"
        )
    if summary_k is None:
        summary_k = min(ks, key=lambda k: (abs(k - 5), k))
    if summary_k not in ks:
        raise ValueError(f"summary_k {summary_k} is not one of the curves' k ({ks})")
    labels = sequences.index if isinstance(sequences, pd.DataFrame) else None
    mask = None if truth is None else truth_mask(truth, lengths, coordinates, labels=labels)
    maps = resolve_maps(m, seqs, maps, target=target)
    output = "probability" if m.problem_type == "regression" else "log_odds"
    rng = np.random.default_rng(seed)
    replacement = _replacements(m, seqs, maps, replace, target, batch_size, rng, progress)
    names = list(maps)
    # per sequence: deltas[(map or None, curve, order)] -> (n_sequences, len(ks))
    deltas = {
        key: np.zeros((len(seqs), len(ks)))
        for key in [(None, c, "random") for c in CURVES]
        + [(n, c, o) for n in names for c in CURVES for o in ORDERS if o != "random"]
    }
    base = np.zeros(len(seqs))
    replaced = np.zeros(len(seqs))
    bar = tqdm(total=len(seqs), desc="faithfulness", disable=not show_progress(progress))
    for lo in range(0, len(seqs), _GROUP):
        rows = range(lo, min(lo + _GROUP, len(seqs)))
        plans = {i: _plan(seqs[i], replacement[i], maps, i, ks, n_random, rng) for i in rows}
        unique = list(dict.fromkeys(t for i in rows for t in plans[i][1]))
        values = m.predict(unique, batch_size=batch_size, output=output)[:, target]
        out = dict(zip(unique, values.astype(float)))
        for i in rows:
            base[i], replaced[i] = out[seqs[i]], out[replacement[i].tobytes().decode()]
            for key, j, made in plans[i][0]:
                start = base[i] if key[1] == "deletion" else replaced[i]
                deltas[key][i, j] = np.mean([out[t] for t in made]) - start
        bar.update(len(rows))
    bar.close()
    table = _curve_table(deltas, names, ks, n_boot, rng)
    meta = {
        "model": m.name,
        "target": target,
        "output": "value" if output == "probability" else "log-odds",
        "replace": replace,
        "ks": ks,
        "k": summary_k,
        "n_random": n_random,
        "n_boot": n_boot,
        "seed": seed,
        "n": len(seqs),
        "baseline": float(base.mean()),
        "replaced": float(replaced.mean()),
    }
    frame = _summary(deltas, names, ks, summary_k, n_boot, rng)
    if mask is not None:
        frame[["auroc", "n_truth"]] = [truth_auroc(maps[n], mask) for n in names]
        frame["n_truth"] = frame["n_truth"].astype(int)
    return Faithfulness(table, frame, meta)


def _plan(seq, full, maps, i, ks, n_random, rng) -> tuple[list, list[str]]:
    """Sequence ``i``'s mutants: ``[(key, k index, texts of each draw)]`` and every text to
    score (the sequence and its full replacement first)."""
    x = np.frombuffer(seq.encode(), dtype=np.uint8)
    orders = {(None, "random"): [rng.permutation(len(x)) for _ in range(n_random)]}
    for n, scores in maps.items():
        values = oriented(scores, i)
        ranked = _rank(values, rng)
        orders[n, "top"], orders[n, "bottom"] = [ranked], [ranked[::-1]]
        shifts = rng.integers(1, max(2, len(x)), n_random)
        orders[n, "shifted"] = [_rank(np.roll(values, int(s)), rng) for s in shifts]
    texts = [seq, full.tobytes().decode()]
    plan = []
    for (n, order), draws in orders.items():
        for curve in CURVES:
            for j, k in enumerate(ks):
                made = [_mutant(x, full, o[:k], curve) for o in draws]
                texts += made
                plan.append(((n, curve, order), j, made))
    return plan, texts


def resolve_maps(m: DnaModel, sequences: list[str], maps, *, target: int) -> dict[str, Scores]:
    """Name -> Scores of ``sequences``: given Scores checked, method names computed (every
    method checked to run on ``m`` before any is computed)."""
    if isinstance(maps, (list, tuple)):
        maps = {name: name for name in maps}
    if not isinstance(maps, dict) or not maps:
        raise ValueError("maps must be a non-empty dict name -> Scores or method name, or a list")
    for name, given in maps.items():
        if isinstance(given, Scores):
            given.check_sequences(sequences, f"map {name!r}")
        elif isinstance(given, str):
            reason = get_method(given).unavailable(m)
            if reason is not None:
                raise ValueError(f"map {name!r}: {reason}")
        else:
            raise ValueError(
                f"map {name!r} is a {type(given).__name__}: give Scores or a method name"
            )
    return {
        name: given if isinstance(given, Scores) else _compute(m, sequences, given, target)
        for name, given in maps.items()
    }


def _compute(m: DnaModel, sequences: list[str], method: str, target: int) -> Scores:
    spec = get_method(method)
    return score(m, sequences, spec.name, **({"target": target} if spec.uses_target else {}))


def _rank(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions from the highest value down, ties in random order."""
    return np.lexsort((rng.random(len(values)), -values))


def _mutant(x: np.ndarray, full: np.ndarray, where: np.ndarray, curve: str) -> str:
    """Deletion: ``x`` with ``where`` replaced by ``full``'s; insertion: ``full`` with ``where``
    restored to ``x``'s."""
    out = (x if curve == "deletion" else full).copy()
    out[where] = (full if curve == "deletion" else x)[where]
    return out.tobytes().decode()


def _replacements(m, seqs, maps, replace, target, batch_size, rng, progress) -> list[np.ndarray]:
    """Each sequence fully replaced (uint8): every base to its worst substitution, to N, or to
    a dinucleotide shuffle's base."""
    if replace == "N":
        return [np.full(len(s), ord("N"), dtype=np.uint8) for s in seqs]
    if replace == "shuffle":
        return [
            np.frombuffer(dinucleotide_shuffle(s, rng).encode(), dtype=np.uint8).copy()
            for s in seqs
        ]
    effects = next(
        (
            np.asarray(s.extra["effects"])
            for s in maps.values()
            if s.kind in ("ism", "hypothetical_ism")
            and s.meta.get("target") == target
            and "effects" in s.extra
        ),
        None,
    )
    if effects is None:
        effects = ism(m, seqs, target=target, batch_size=batch_size, progress=progress).extra[
            "effects"
        ]
    out = []
    for i, s in enumerate(seqs):
        e = np.array(effects[i, : len(s)], dtype=float)
        x = np.frombuffer(s.encode(), dtype=np.uint8)
        e[x[:, None] == _LETTERS[None, :]] = np.inf  # never the reference base
        out.append(_LETTERS[np.argmin(e, axis=1)])
    return out


def _bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) resampling weights: each row, how often each sequence is drawn, over n."""
    draws = rng.integers(0, n, (n_boot, n))
    return np.stack([np.bincount(row, minlength=n) for row in draws]) / n


def _curve_table(deltas, names, ks, n_boot, rng) -> pd.DataFrame:
    weights = _bootstrap_weights(len(next(iter(deltas.values()))), n_boot, rng)
    rows = []
    for n in names:
        for curve in CURVES:
            for order in ORDERS:
                d = deltas[None if order == "random" else n, curve, order]
                boot = weights @ d  # (n_boot, len(ks))
                low, high = np.percentile(boot, [2.5, 97.5], axis=0)
                for j, k in enumerate(ks):
                    rows.append((n, curve, order, k, d[:, j].mean(), low[j], high[j], len(d)))
    columns = ["map", "curve", "order", "k", "delta", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=columns)


def _summary(deltas, names, ks, k, n_boot, rng) -> pd.DataFrame:
    j = ks.index(k)
    random = -deltas[None, "deletion", "random"]
    weights = _bootstrap_weights(len(random), n_boot, rng)
    rows = []
    for n in names:
        drop = -deltas[n, "deletion", "top"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = (weights @ drop[:, j]) / (weights @ random[:, j])
            ratio = drop[:, j].mean() / random[:, j].mean()
        finite = ratios[np.isfinite(ratios)]
        low, high = np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan)
        rows.append(
            {
                "map": n,
                "drop_top": drop[:, j].mean(),
                "drop_random": random[:, j].mean(),
                "drop_shifted": -deltas[n, "deletion", "shifted"][:, j].mean(),
                "drop_bottom": -deltas[n, "deletion", "bottom"][:, j].mean(),
                "ratio": ratio if random[:, j].mean() > 0 else np.nan,
                "ratio_low": low,
                "ratio_high": high,
                "aopc_deletion": drop.mean(),
                "aopc_deletion_random": random.mean(),
                "aopc_insertion": deltas[n, "insertion", "top"].mean(),
                "aopc_insertion_random": deltas[None, "insertion", "random"].mean(),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the sanity check
def sanity_check(
    m: DnaModel,
    sequences,
    methods,
    *,
    target: int = 1,
    init: str = "model",
    seed: int = 0,
) -> pd.DataFrame:
    """Cascading model randomisation (Adebayo et al. 2018): does a map change with the weights?

    A copy of the model is re-initialised a block at a time from the top down (the head:
    every parameter after the last encoder layer; then each encoder layer, last first; then
    every parameter before the first, the embeddings); after each step every map is
    recomputed and compared with the trained model's, sequence by sequence, by Spearman
    correlation. A map that stays put is not explaining the model.

    Parameters
    ----------
    m : DnaModel
        The trained model (left as it is).
    sequences : str, list of str or pandas.DataFrame
        N sequences.
    methods : dict or list
        Name -> a registered method's name or a function ``(m, sequences) -> Scores``; a list
        of method names is the same as ``{name: name}``.
    target : int
        Class or output explained, for the methods that explain one.
    init : {"model", "normal"}
        How a block is re-initialised: the model's own initialisation (``_init_weights`` of a
        transformers model; tensors it leaves as they were are drawn as with ``normal``), or
        every tensor drawn from N(0, its own standard deviation) (a constant tensor, such as a
        fresh layer norm's, stays as it is).
    seed : int
        Seed of the new weights.

    Returns
    -------
    pandas.DataFrame
        One row per (``method``, ``step``): ``randomised`` (the block re-initialised at that
        step, cumulative from the top; step 0 is the trained model), ``spearman`` (mean
        over sequences of the rank correlation with the trained model's map), ``spearman_abs``
        (the same on absolute values) and ``n`` (sequences whose maps are not constant).

    Raises
    ------
    ValueError
        A method the model cannot run (why), a bad ``init``, a model without parameters.
    """
    from .intervals import split_input

    if init not in ("model", "normal"):
        raise ValueError(f"init must be 'model' or 'normal', got {init!r}")
    seqs = check_sequences(split_input(sequences)[0])
    if isinstance(methods, (list, tuple)):
        methods = {name: name for name in methods}
    functions = {name: _method_function(m, name, how, target) for name, how in methods.items()}
    blocks = model_blocks(m.model)
    original = {name: f(m, seqs) for name, f in functions.items()}
    for name, scores in original.items():
        scores.check_sequences(seqs, f"method {name!r}")
    rows = [
        (name, 0, "none", 1.0, 1.0, len(seqs)) for name in functions
    ]  # the trained model against itself
    shadow = copy.deepcopy(m.model)
    randomised = m.with_network(shadow, name=f"{m.name} (randomised)")
    modules = dict(shadow.named_modules())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step, (block, names) in enumerate(blocks, start=1):
            for module_name in names:
                _reinitialise(shadow, modules[module_name], init)
            for name, f in functions.items():
                rho, rho_abs, n = _spearman(original[name], f(randomised, seqs))
                rows.append((name, step, block, rho, rho_abs, n))
    return pd.DataFrame(
        rows, columns=["method", "step", "randomised", "spearman", "spearman_abs", "n"]
    )


def _method_function(m: DnaModel, name: str, how, target: int) -> Callable:
    if callable(how):
        return how
    if not isinstance(how, str):
        raise ValueError(
            f"method {name!r} is a {type(how).__name__}: give a method name or a function"
        )
    spec = get_method(how)
    reason = spec.unavailable(m)
    if reason is not None:
        raise ValueError(f"method {name!r}: {reason}")
    return lambda model, seqs: _compute(model, seqs, spec.name, target)


def model_blocks(model: torch.nn.Module) -> list[tuple[str, list[str]]]:
    """The model's parameterised modules in blocks, top first: ``("head", [...])``, ``("layer
    L-1", [...])``, ..., ``("layer 0", [...])``, ``("embeddings", [...])``.

    The encoder layers are the items of the module list holding the most parameters; modules
    registered after its last item are the head, before its first the embeddings.
    """
    lists = [
        (sum(p.numel() for p in module.parameters()), name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.ModuleList) and len(module)
    ]
    owners = [
        name
        for name, module in model.named_modules()
        if any(True for _ in module.parameters(recurse=False))
    ]
    if not owners:
        raise ValueError(f"{type(model).__name__} has no parameters to randomise")
    if not lists:
        return [("all", owners)]
    _, prefix, layers = max(lists, key=lambda t: t[0])
    inside = {f"{prefix}.{i}": i for i in range(len(layers))}

    def layer_of(name: str) -> int | None:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in inside:
                return inside[".".join(parts[:end])]
        return None

    index = [layer_of(name) for name in owners]
    first = next(p for p, i in enumerate(index) if i is not None)
    last = max(p for p, i in enumerate(index) if i is not None)
    blocks = [("head", owners[last + 1 :])]
    blocks += [
        (f"layer {i}", [n for n, j in zip(owners, index) if j == i])
        for i in reversed(range(len(layers)))
    ]
    blocks.append(("embeddings", owners[:first]))
    return [(block, names) for block, names in blocks if names]


@torch.no_grad()
def _reinitialise(model: torch.nn.Module, module: torch.nn.Module, init: str) -> None:
    """Re-initialise one module's own parameters in place."""
    before = {name: p.detach().clone() for name, p in module.named_parameters(recurse=False)}
    for p in module.parameters(recurse=False):
        p._is_hf_initialized = False  # transformers' init functions skip tensors it loaded
    if init == "model" and hasattr(model, "_init_weights"):
        model._init_weights(module)
    for name, p in module.named_parameters(recurse=False):
        std = float(p.float().std()) if p.numel() > 1 else 1.0
        if torch.equal(p, before[name]) and std > 0:  # a constant tensor stays: nothing learned
            p.normal_(0.0, std)


def _spearman(a: Scores, b: Scores) -> tuple[float, float, int]:
    """Mean per-sequence Spearman correlation of two maps of the same sequences, of their
    values and of their absolute values, and the sequences where both vary."""
    from scipy.stats import rankdata

    rho, rho_abs = [], []
    for i in range(len(a)):
        x, y = np.nan_to_num(a[i].astype(float)), np.nan_to_num(b[i].astype(float))
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        rho.append(np.corrcoef(rankdata(x), rankdata(y))[0, 1])
        ax, ay = np.abs(x), np.abs(y)
        if np.ptp(ax) and np.ptp(ay):
            rho_abs.append(np.corrcoef(rankdata(ax), rankdata(ay))[0, 1])
    mean = lambda v: float(np.mean(v)) if v else np.nan  # noqa: E731
    return mean(rho), mean(rho_abs), len(rho)
