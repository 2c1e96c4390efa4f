"""Attribution (captum), in-silico mutagenesis and variant effects.

Gradient methods work on the token embeddings (the only differentiable
input of a token model) and are put onto nucleotides by splitting each
token's attribution equally over the nucleotides it covers, so that a
sequence's nucleotide attributions add up to its token attributions (and
integrated gradients' completeness, f(x) - f(baseline), carries over).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .checks import check_counts
from .intervals import scoring_function
from .model import DnaModel
from .runtime import show_progress
from .scores import Scores
from .sequences import ALPHABET, check_sequences, dinucleotide_shuffle
from .tokenization import Encoding, NucleotideAccumulator, per_sequence_mean, real_tokens
from .vcf import KEYS

METHODS = ("integrated_gradients", "saliency", "input_x_gradient", "deeplift")
BASELINES = ("pad", "mask", "shuffle")


class _TargetOutput(torch.nn.Module):
    """The model as captum sees it: (input_ids, attention_mask) -> (B, n_classes) what
    ``m.predict`` returns (probabilities or regression values) or logits."""

    def __init__(self, m: DnaModel, output: str):
        super().__init__()
        self.m, self.model, self.output = m, m.model, output

    def forward(self, input_ids, attention_mask):
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
        return self.m.head_output(logits) if self.output == "probability" else logits


def _baseline_ids(
    m: DnaModel, enc: Encoding, rows, ids: torch.Tensor, baseline: str, rng
) -> torch.Tensor:
    """Baseline token ids: every real token replaced by [PAD] or [MASK], or the tokens of a
    dinucleotide shuffle."""
    real = torch.as_tensor(enc.real[rows, : ids.shape[1]], device=ids.device)
    if baseline in ("pad", "mask"):
        fill = m.tokenizer.pad_id if baseline == "pad" else m.tokenizer.mask_id
        return torch.where(real, torch.full_like(ids, fill), ids)
    out = ids.clone()
    for r, row in enumerate(rows):
        spans = enc.spans[row][real_tokens(enc.spans[row])]
        start, end = int(spans[:, 0].min()), int(spans[:, 1].max())
        seq = enc.sequences[enc.sequence_index[row]][start:end]
        shuffled, _ = m.tokenizer.tokenize(dinucleotide_shuffle(seq, rng))
        if len(shuffled) != int(real[r].sum()):
            raise ValueError(
                f"sequence {enc.sequence_index[row]}: its shuffle has {len(shuffled)} tokens, the "
                f"sequence {int(real[r].sum())}; the 'shuffle' baseline needs a tokenizer whose "
                "token count depends only on length (k-mers); use 'pad' or 'mask'"
            )
        out[r, real[r]] = torch.as_tensor(shuffled, device=ids.device)
    return out


@scoring_function
def attribute(
    m: DnaModel,
    sequences,
    *,
    method: str = "integrated_gradients",
    target: int = 1,
    baseline: str = "pad",
    n_steps: int = 50,
    batch_size: int = 16,
    internal_batch_size: int | None = 64,
    output: str = "probability",
    window_size: int | None = None,
    stride: int | None = None,
    random_state: int = 0,
    progress: bool | None = None,
) -> Scores:
    """Per-nucleotide attribution of an output of the sequence head with captum.

    Parameters
    ----------
    m : DnaModel
        A model with a sequence head (classifier, multi-label or regression).
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column (as :func:`dnabert_viz.score`).
    method : str
        ``integrated_gradients`` (LayerIntegratedGradients on the token
        embeddings; the convergence delta is kept in ``extra``),
        ``saliency`` (L2 norm of the gradient at each token embedding, >= 0),
        ``input_x_gradient`` (embedding x gradient, summed over dimensions) or
        ``deeplift`` (LayerDeepLift with the rescale rule; captum treats
        softmax and layer norm approximately).
    target : int
        Output attributed: a class, a label or a regression output (``m.n_classes`` of them).
    baseline : {"pad", "mask", "shuffle"}
        Reference input for integrated gradients and DeepLift: every real
        token replaced by ``[PAD]`` or ``[MASK]`` (special tokens kept), or
        the tokens of a dinucleotide-shuffled copy of the sequence.
    n_steps : int
        Integration steps of integrated gradients (accuracy vs time).
    batch_size : int
        Sequences per call.
    internal_batch_size : int, optional
        Rows per forward pass of integrated gradients, which expands a batch
        into ``batch_size x n_steps`` rows (memory vs speed; at least one
        step of every sequence of a batch; peak memory by setting:
        ``benchmarks/attribution_memory.py``).
    output : {"probability", "logit"}
        Attribute what ``m.predict`` returns for the target (softmax probability of a class,
        sigmoid probability of a label, a regression value itself) or its logit (the same as
        the value for regression).
    window_size, stride : int, optional
        Windows for sequences longer than the model's positions.
    random_state : int
        Seed of the shuffled baselines.
    progress : bool or None
        Show a progress bar; None (default): in Jupyter and terminals only.

    Returns
    -------
    Scores
        ``kind=method``; values (N, L) sum to each sequence's token attributions.
    """
    from captum.attr import LayerDeepLift, LayerGradientXActivation, LayerIntegratedGradients

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
    if output not in ("probability", "logit"):
        raise ValueError(f"output must be 'probability' or 'logit', got {output!r}")
    check_counts(n_steps=n_steps, internal_batch_size=internal_batch_size)
    m._require_target(target)
    forward = _TargetOutput(m, output)
    layer = m.model.get_input_embeddings()
    enc = m.encode(sequences, window_size=window_size, stride=stride)
    acc = NucleotideAccumulator(enc, "spread")
    deltas = np.zeros(len(enc.input_ids), dtype=np.float32)
    rng = np.random.default_rng(random_state)
    for rows, inputs in m.batches(enc, batch_size=batch_size, progress=progress, desc=method):
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        base = _baseline_ids(m, enc, rows, ids, baseline, rng)
        with torch.enable_grad():
            if method == "integrated_gradients":
                attr, delta = LayerIntegratedGradients(forward, layer).attribute(
                    ids,
                    baselines=base,
                    additional_forward_args=(mask,),
                    target=target,
                    n_steps=n_steps,
                    internal_batch_size=internal_batch_size,
                    return_convergence_delta=True,
                )
                deltas[rows] = delta.detach().cpu().numpy()
                token = attr.sum(-1)
            elif method == "deeplift":
                token = (
                    LayerDeepLift(forward, layer)
                    .attribute(ids, baselines=base, additional_forward_args=(mask,), target=target)
                    .sum(-1)
                )
            else:
                times_input = method == "input_x_gradient"
                attr = LayerGradientXActivation(
                    forward, layer, multiply_by_inputs=times_input
                ).attribute(ids, additional_forward_args=(mask,), target=target)
                token = attr.sum(-1) if times_input else attr.norm(dim=-1)
        acc.add(rows, token.detach().float().cpu().numpy())
    explained = m.output_name if output == "probability" else "logit"
    meta = {"model": m.name, "target": target, "baseline": baseline, "output": output}
    meta["explains"] = f"{explained} of output {target}"
    extra = {}
    if method == "integrated_gradients":
        meta["n_steps"] = n_steps
        extra["convergence_delta"] = per_sequence_mean(
            deltas, enc.sequence_index, len(enc.lengths)
        )
    return Scores(enc.sequences, acc.result(), method, meta, extra)


@scoring_function
def ism(
    m: DnaModel,
    sequences,
    *,
    target: int = 1,
    output: str = "probability",
    batch_size: int = 16,
    progress: bool | None = None,
) -> Scores:
    """In-silico mutagenesis: every single-nucleotide substitution of every sequence.

    Parameters
    ----------
    m : DnaModel
        A model with a sequence head (classifier, multi-label or regression).
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column (as :func:`dnabert_viz.score`).
    target : int
        Output read: a class's or label's probability, or a regression value
        (what ``m.predict`` returns).
    output : {"probability", "log_odds"}
        The scale of the effects: the change in the target's probability (or
        value), or in its log-odds, log p / (1 - p), from the logits. A model
        sure of a sequence (p = 0.9995) moves its probability by 1e-4 where
        its log-odds move by units: what DNABERT users compare.
    batch_size : int
        Mutant sequences per forward pass (cache-sized batches suit a CPU,
        ``benchmarks/ism_speed.py``; raise it on a GPU).
    progress : bool or None
        Show a progress bar; None (default): in Jupyter and terminals only.

    Returns
    -------
    Scores
        ``kind="ism"``; values (N, L): the mean effect of the three
        substitutions at each position (the effects' sum over bases / 3);
        ``extra["effects"]`` (N, L, 4) float32, columns A C G T:
        p(target | mutant) - p(target | sequence) (for regression the change in the
        value; with ``output="log_odds"`` the change in log-odds), 0 for the reference base,
        NaN past each sequence's end. At an N every base is a substitution.
    """
    from tqdm.auto import tqdm

    m._require_target(target)
    ref = m.predict(sequences, batch_size=batch_size, output=output)[:, target]
    out = np.full((len(sequences), max(map(len, sequences)), 4), np.nan, dtype=np.float32)
    bar = tqdm(
        total=sum(3 * len(s) + s.count("N") for s in sequences),
        desc="ISM",
        unit="mutant",
        disable=not show_progress(progress),
    )
    for i, seq in enumerate(sequences):
        arr = np.frombuffer(seq.encode(), dtype=np.uint8)
        mutants = np.repeat(arr[None, :], 4 * len(seq), axis=0).reshape(len(seq), 4, len(seq))
        pos = np.arange(len(seq))
        mutants[pos, :, pos] = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[None, :]
        is_ref = mutants[pos, :, pos] == arr[:, None]
        texts = [row.tobytes().decode() for row in mutants.reshape(-1, len(seq))[~is_ref.ravel()]]
        p_mutant = np.empty(len(texts), dtype=np.float32)
        # a few batches at a time: the bar moves
        for start in range(0, len(texts), 4 * batch_size):
            chunk = texts[start : start + 4 * batch_size]
            p_mutant[start : start + len(chunk)] = m.predict(
                chunk, batch_size=batch_size, output=output
            )[:, target]
            bar.update(len(chunk))
        delta = np.zeros((len(seq), 4), dtype=np.float32)
        delta[~is_ref] = p_mutant - ref[i]
        out[i, : len(seq)] = delta
    bar.close()
    # the reference column is 0: the mean over the three substitutions
    scale = "log-odds" if output == "log_odds" else m.output_name
    meta = {
        "model": m.name,
        "target": target,
        "output": output,
        "explains": f"{scale} of output {target}",
    }
    return Scores(sequences, out.sum(axis=-1) / 3, "ism", meta, {"effects": out})


def variant_effects(
    m: DnaModel,
    table,
    *,
    sequences=None,
    target: int = 1,
    batch_size: int = 64,
    n_background: int = 0,
    random_state: int = 0,
) -> pd.DataFrame:
    """Effect of variants on the target probability (or regression value), with DNABERT's two
    scores.

    Parameters
    ----------
    m : DnaModel
        A model with a sequence head (classifier, multi-label or regression).
    table : pandas.DataFrame or path
        Either substitutions with columns ``position``, ``ref``, ``alt`` and
        ``sequence_index`` (into ``sequences``) or ``sequence``; ``ref`` must
        match the sequence at ``position``. Or DNABERT's mutation format
        (a path to a mutation file, or a DataFrame with ``sequence_index``,
        ``start``, ``end``, ``replacement``: 0-based, end exclusive; an
        empty replacement deletes, ``start == end`` inserts).
    sequences : list of str, optional
        The sequences that ``sequence_index`` refers to.
    target : int
        Output read: a class's or label's probability, or a regression value.
    batch_size : int
        Sequences per forward pass.
    n_background : int
        With n > 0, each variant's ``diff`` gets a percentile against two
        backgrounds of n random single-nucleotide substitutions each (a
        window, a position in it and one of the three other bases drawn
        uniformly): in the variants' own windows (``percentile_substitutions``)
        and in dinucleotide-shuffled copies of them, the effect taken against
        the shuffled window (``percentile_shuffled``). A percentile is the
        share (in %) of the background's |diff| at most the variant's |diff|.
        Costs n + 2n forward passes.
    random_state : int
        Seed of the backgrounds' draws: the same seed, the same percentiles.

    Returns
    -------
    pandas.DataFrame
        One row per variant, led by the table's ``CHROM``, ``POS``, ``ID``,
        ``REF``, ``ALT``, ``line`` and ``source`` where it has them
        (:func:`dnabert_viz.read_vcf`); then ``sequence_index``, ``start``, ``end``, ``ref``,
        ``alt``, ``p_ref``, ``p_alt``, ``diff`` (p_alt - p_ref),
        ``dnabert_score`` ((p_alt - p_ref) x max(p_ref, p_alt)) and
        ``log2_odds_ratio`` (log2 odds(p_ref) - log2 odds(p_alt)). A regression model: the
        values in ``p_ref`` and ``p_alt`` and their change in ``diff``, without the two
        probability scores.
    """
    from .io import read_mutation_file

    m._require_target(target)
    check_counts(n_background=n_background, minimum=0)
    if not isinstance(table, pd.DataFrame):
        table = read_mutation_file(table)
    variants, seqs = normalise_variants(table, sequences)
    mutated = apply_variants(variants, seqs)
    used = sorted(set(variants.sequence_index))
    p_seq = dict(zip(used, m.predict([seqs[i] for i in used], batch_size=batch_size)[:, target]))
    p_ref = variants.sequence_index.map(p_seq).to_numpy(dtype=float)
    p_alt = m.predict(mutated, batch_size=batch_size)[:, target].astype(float)
    out = keyed_variants(table, variants)
    out["p_ref"], out["p_alt"], out["diff"] = p_ref, p_alt, p_alt - p_ref
    if m.problem_type != "regression":
        out["dnabert_score"] = (p_alt - p_ref) * np.maximum(p_ref, p_alt)
        out["log2_odds_ratio"] = _log2_odds(p_ref) - _log2_odds(p_alt)
    if n_background:
        windows = [seqs[i] for i in used]
        rng = np.random.default_rng(random_state)
        size = np.abs(out["diff"].to_numpy())
        for column, reference in (
            ("percentile_substitutions", np.array([p_seq[i] for i in used])),
            ("percentile_shuffled", None),
        ):
            effects = _random_substitutions(
                m, windows, reference, n_background, rng, target, batch_size
            )
            out[column] = percentiles(size, effects)
    return out


def _random_substitutions(
    m: DnaModel,
    windows: list[str],
    reference: np.ndarray | None,
    n: int,
    rng: np.random.Generator,
    target: int,
    batch_size: int,
) -> np.ndarray:
    """Effects on the target of ``n`` random single-nucleotide substitutions, (n,), drawn by
    :func:`draw_substitutions`. Given the windows' ``reference`` outputs, in the windows;
    without, in a dinucleotide-shuffled copy of the window, the effect taken against that
    copy."""
    shuffle = reference is None
    which = rng.integers(len(windows), size=n)
    contexts = [dinucleotide_shuffle(windows[i], rng) if shuffle else windows[i] for i in which]
    _, positions, alts = draw_substitutions(contexts, rng, which=np.arange(n))
    mutated = [c[:j] + a + c[j + 1 :] for c, j, a in zip(contexts, positions, alts)]
    before = m.predict(contexts, batch_size=batch_size)[:, target] if shuffle else reference[which]
    return m.predict(mutated, batch_size=batch_size)[:, target].astype(float) - before


def draw_substitutions(
    windows: list[str], rng: np.random.Generator, *, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Random single-nucleotide substitutions, one in each window ``windows[w]`` for ``w`` in
    ``which``: a position drawn uniformly and one of the three other bases (any of the four
    at an N).

    Returns
    -------
    which : numpy.ndarray
        (n,) window of each substitution (as given).
    positions : numpy.ndarray
        (n,) its position in the window.
    alts : list of str
        (n,) the new base.
    """
    positions = np.empty(len(which), dtype=np.int64)
    alts = []
    for r, w in enumerate(which):
        window = windows[w]
        positions[r] = j = int(rng.integers(len(window)))
        alts.append(str(rng.choice([b for b in ALPHABET if b != window[j]])))
    return which, positions, alts


def keyed_variants(table: pd.DataFrame, variants: pd.DataFrame) -> pd.DataFrame:
    """``variants`` (:func:`normalise_variants`' table) led by the columns of ``table`` that key
    a variant where it has them: a VCF's ``CHROM``, ``POS``, ``ID``, ``REF``, ``ALT``, and its
    ``line`` and ``source`` (:func:`dnabert_viz.read_vcf`)."""
    keys = [c for c in (*KEYS, "line", "source") if c in table]
    return pd.concat([table[keys].reset_index(drop=True), variants.reset_index(drop=True)], axis=1)


def percentiles(effects: np.ndarray, background: np.ndarray) -> np.ndarray:
    """For each effect, the share (in %) of the ``background`` at most its size (absolute
    values), (n,); NaN where an effect is NaN. NaN in the background (a substitution that
    cannot be scored) is left out."""
    sizes = np.sort(np.abs(background[~np.isnan(background)]))
    out = 100 * np.searchsorted(sizes, np.abs(effects), side="right") / max(len(sizes), 1)
    return np.where(np.isnan(effects), np.nan, out)


def _log2_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log2(p / (1 - p))


def apply_variants(variants: pd.DataFrame, seqs: list[str]) -> list[str]:
    """The sequence of each variant (a row of :func:`normalise_variants`' table), checked.

    Raises
    ------
    ValueError
        For an empty table.
    """
    if variants.empty:
        raise ValueError("the variant table is empty")
    columns = variants[["sequence_index", "start", "end", "alt"]].itertuples(index=False)
    mutated = [seqs[i][:s] + alt + seqs[i][e:] for i, s, e, alt in columns]
    return check_sequences(mutated, "mutated sequences")


def normalise_variants(table: pd.DataFrame, sequences) -> tuple[pd.DataFrame, list[str]]:
    """Variants as (sequence_index, start, end, ref, alt) over a list of normalised sequences."""
    cols = set(table.columns)
    if "sequence" in cols:
        seqs = check_sequences(table["sequence"].tolist(), "table.sequence")
        table = table.assign(sequence_index=np.arange(len(table)))
    else:
        if sequences is None:
            raise ValueError("the table gives sequence_index: pass sequences=[...] as well")
        seqs = check_sequences(sequences)
    if "sequence_index" not in table.columns:
        raise ValueError("the variant table needs a sequence_index or a sequence column")
    bad = table.index[(table.sequence_index < 0) | (table.sequence_index >= len(seqs))]
    if len(bad):
        raise ValueError(
            f"variant row {bad[0]}: sequence_index {table.sequence_index[bad[0]]} is not one "
            f"of the {len(seqs)} sequences"
        )
    if {"position", "ref", "alt"} <= cols:
        out = pd.DataFrame(
            {
                "sequence_index": table.sequence_index.astype(int),
                "start": table.position.astype(int),
                "end": table.position.astype(int) + table.ref.str.len(),
                "ref": table.ref.str.upper(),
                "alt": table.alt.fillna("").str.upper(),
            }
        )
        for row in out.itertuples():
            found = seqs[row.sequence_index][row.start : row.end]
            if found != row.ref:
                raise ValueError(
                    f"variant row {row.Index}: ref {row.ref!r} does not match sequence "
                    f"{row.sequence_index} at position {row.start}, which reads {found!r}"
                )
    elif {"start", "end", "replacement"} <= cols:
        out = pd.DataFrame(
            {
                "sequence_index": table.sequence_index.astype(int),
                "start": table.start.astype(int),
                "end": table.end.astype(int),
                "alt": table.replacement.fillna("").astype(str).str.upper(),
            }
        )
        out.insert(
            3,
            "ref",
            [
                seqs[i][s:e]
                for i, s, e in out[["sequence_index", "start", "end"]].itertuples(index=False)
            ],
        )
    else:
        raise ValueError(
            f"variant table columns {sorted(cols)}: expected position, ref, alt (substitutions) "
            "or start, end, replacement (DNABERT's mutation format)"
        )
    for row in out.itertuples():
        length = len(seqs[row.sequence_index])
        if not 0 <= row.start <= row.end <= length:
            raise ValueError(
                f"variant row {row.Index}: [{row.start}, {row.end}) is outside sequence "
                f"{row.sequence_index} (length {length})"
            )
    return out, seqs
