"""Motif discovery entry points: input checks, then DNABERT-viz, seqlets or TF-MoDISco."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..checks import check_counts
from ..scores import Scores
from ..sequences import check_sequences
from .dnabertviz import dnabert_viz_motifs
from .motif import MotifSet, hypothetical_cwm
from .redundancy import merge_similar
from .seqlets import call_seqlets, cluster_seqlets


def score_matrix(
    seqs: list[str], scores: Scores | np.ndarray | Sequence, name: str = "pos_scores"
) -> np.ndarray:
    """Check scores against their sequences and return them as (N, longest length), NaN-padded.

    Parameters
    ----------
    seqs : list of str
        Normalised sequences.
    scores : Scores, numpy.ndarray or list of 1-D arrays
        A :class:`~dnabert_viz.Scores` for exactly these sequences, an (N, >= longest
        length) array, or one vector per sequence.
    name : str
        The argument's name, for error messages.

    Raises
    ------
    ValueError
        When the counts differ, a row is shorter than its sequence, a value
        inside a sequence is not finite, or a Scores object holds other sequences.
    """
    if isinstance(scores, Scores):
        scores.check_sequences(seqs, name)
        rows = (
            row for block in scores.blocks() for row in block
        )  # a store is read a chunk at a time
    else:
        rows = list(scores)
        if len(rows) != len(seqs):
            raise ValueError(f"{name} has {len(rows)} rows for {len(seqs)} sequences")
    out = np.full((len(seqs), max(len(s) for s in seqs)), np.nan)
    for i, (row, seq) in enumerate(zip(rows, seqs)):
        row = np.asarray(row, dtype=float).ravel()
        if len(row) < len(seq):
            raise ValueError(f"{name}[{i}] has {len(row)} values for a sequence of {len(seq)} nt")
        bad = np.flatnonzero(~np.isfinite(row[: len(seq)]))
        if len(bad):
            raise ValueError(f"{name}[{i}] is not finite at position {bad[0]}")
        out[i, : len(seq)] = row[: len(seq)]
    return out


DNABERT_VIZ_OPTIONS = {
    "window_size": 24,
    "min_len": 5,
    "pval_cutoff": 0.005,
    "align_all_ties": True,
    "regions": "auto",
}


def find_motifs(
    pos_seqs: str | Iterable[str],
    neg_seqs: str | Iterable[str] | None,
    pos_scores: Scores | np.ndarray | Sequence,
    *,
    window_size: int | None = None,
    min_len: int | None = None,
    pval_cutoff: float | None = None,
    min_n_motif: int = 3,
    align_all_ties: bool | None = None,
    method: str = "dnabert_viz",
    regions: str | float | None = None,
    merge_similar: bool = False,
    **options,
) -> MotifSet:
    """Discover motifs from per-nucleotide scores of positive sequences.

    ``method="dnabert_viz"`` runs the published DNABERT-viz analysis (high-score
    regions, hypergeometric enrichment against ``neg_seqs`` with
    Benjamini-Hochberg, merging, fixed windows); its steps, and where and why
    they deviate from the published scripts, are documented in
    :mod:`dnabert_viz.motifs.dnabertviz`. ``method="seqlets"`` calls
    :func:`find_seqlet_motifs`; it uses no negatives (``neg_seqs`` must be
    None) and takes its own options as keywords. ``method="modisco"`` runs
    tfmodisco-lite (:func:`dnabert_viz.motifs.modisco.modisco_motifs`) on the
    (N, L, 4) hypothetical contributions that ``pos_scores`` carries in
    ``extra["hypothetical"]``; no negatives either, and modisco's options as
    keywords. An option the chosen method does not use is an error, never
    silently ignored.

    Parameters
    ----------
    pos_seqs : str or iterable of str
        Positive sequences.
    neg_seqs : str or iterable of str
        Negative (background) sequences.
    pos_scores : Scores, numpy.ndarray or list of 1-D arrays
        One score per nucleotide of each positive (attention, attribution).
    window_size : int, optional
        DNABERT-viz: length in nucleotides of every motif instance (default 24).
    min_len : int, optional
        DNABERT-viz: shortest high-score region, in nucleotides (default 5).
    pval_cutoff : float, optional
        DNABERT-viz: Benjamini-Hochberg adjusted p-value below which a
        candidate is kept (default 0.005).
    min_n_motif : int
        Fewest instances a motif must keep (both methods).
    align_all_ties : bool, optional
        DNABERT-viz: accepted for the published ``motif_analysis``
        signature, where it has no effect (each candidate joins the first
        best-aligning motif only; see :mod:`dnabert_viz.motifs.dnabertviz`);
        so here too.
    method : {"dnabert_viz", "seqlets", "modisco"}
        Discovery method.
    regions : "auto", "published" or float, optional
        DNABERT-viz: which nucleotides are "high". ``"published"``: above the
        sequence's mean and above 10 x its minimum, as ``motif_utils.py``;
        a number z: above the sequence's mean + z standard deviations;
        ``"auto"`` (default): the published rule when most sequences' minimum
        is below a tenth of their mean (DNABERT's attention), mean + 2.5 SD
        otherwise (flat attention of small models, where the published rule
        finds regions in about 1% of sequences; see
        :func:`dnabert_viz.motifs.dnabertviz.region_rule`). Each motif's
        ``meta["regions"]`` names the rule used.
    merge_similar : bool
        Merge motifs that are the same motif (TOMTOM between the found
        motifs, either strand: :func:`dnabert_viz.motifs.redundancy.merge_similar`).
        DNABERT-viz lists one site as several motifs (its two strands,
        fragments of a long site: ten motifs on DNABERT's CTCF set, all of
        them CTCF); merged, the recovery benchmark's ten data sets gave 29
        motifs instead of 64 and 15 spurious instead of 26. Off by default,
        so that DNABERT-viz's output is the published analysis's.
    **options
        Seqlets: :func:`find_seqlet_motifs`' options (``width``, ``flank``,
        ``alpha``, ...); modisco: tfmodisco-lite's (``sliding_window_size``,
        ``flank_size``, ``report``, ...).

    Returns
    -------
    MotifSet
        Most instances first, carrying ``pos_seqs`` and their scores. Each
        motif's ``meta["sequences"]`` identifies those sequences (digest, count
        and source file: :class:`dnabert_viz.scores.SequenceIdentity`), so that
        a saved motif folder can refuse scores of other sequences. Without
        motifs, ``why_none`` says in one phrase where the candidates fell out
        (no high-score region, too few sequences for any p-value to pass, none
        enriched, too few instances; seqlets: none above the threshold, none
        alike; modisco: no pattern) and what would help.

    Raises
    ------
    ValueError
        Empty sets, characters other than ACGTN (naming sequence and position),
        scores that do not fit the sequences, unknown method; DNABERT-viz:
        negatives much shorter or longer than the positives
        (:func:`check_background`), counts below 1, ``pval_cutoff`` outside (0, 1].
    """
    pos = check_sequences(pos_seqs, "pos_seqs")
    values = score_matrix(pos, pos_scores)
    scores = pos_scores if isinstance(pos_scores, Scores) else Scores(pos, values, "scores")
    identity = scores.identity.to_meta()
    viz = {
        "window_size": window_size,
        "min_len": min_len,
        "pval_cutoff": pval_cutoff,
        "align_all_ties": align_all_ties,
        "regions": regions,
    }
    if method in ("seqlets", "modisco"):
        unused = [k for k, v in viz.items() if v is not None] + (
            ["neg_seqs"] if neg_seqs is not None else []
        )
        if unused:
            own = (
                "those of find_seqlet_motifs (width, flank, alpha, ...)"
                if method == "seqlets"
                else "tfmodisco-lite's (sliding_window_size, flank_size, ...)"
            )
            raise ValueError(
                f"method {method!r} does not use {', '.join(unused)} (DNABERT-viz options); "
                f"its options are {own}"
            )
        if method == "modisco":
            from .modisco import (
                modisco_motifs,
            )  # tfmodisco-lite (numba, igraph) loads only when asked for

            found = modisco_motifs(pos, scores, min_n_motif=min_n_motif, **options)
            return _identified(_merged(found, merge_similar), identity)
        found = find_seqlet_motifs(pos, scores, min_n_motif=min_n_motif, **options)
        return _identified(_with_hypothetical(_merged(found, merge_similar)), identity)
    if method != "dnabert_viz":
        raise ValueError(f"method must be 'dnabert_viz', 'seqlets' or 'modisco', not {method!r}")
    if options:
        raise ValueError(
            f"method 'dnabert_viz' does not take {', '.join(sorted(options))} "
            f"(its options: {', '.join(DNABERT_VIZ_OPTIONS)}, min_n_motif)"
        )
    if neg_seqs is None:
        raise ValueError(
            "neg_seqs is required by the DNABERT-viz method (the enrichment test needs negatives)"
        )
    neg = check_sequences(neg_seqs, "neg_seqs")
    check_background(pos, neg)
    settings = {k: DNABERT_VIZ_OPTIONS[k] if v is None else v for k, v in viz.items()}
    check_counts(
        window_size=settings["window_size"], min_len=settings["min_len"], min_n_motif=min_n_motif
    )
    if not 0 < settings["pval_cutoff"] <= 1:
        raise ValueError(f"pval_cutoff must be in (0, 1], not {settings['pval_cutoff']}")
    motifs, why_none = dnabert_viz_motifs(
        pos,
        neg,
        values,
        settings["window_size"],
        settings["min_len"],
        settings["pval_cutoff"],
        min_n_motif,
        settings["regions"],
    )
    found = MotifSet(motifs, pos, scores)
    found.why_none = why_none
    return _identified(_with_hypothetical(_merged(found, merge_similar)), identity)


# Negatives whose mean length differs from the positives' by more than this factor are refused.
LENGTH_RATIO = 2.0


def check_background(
    pos_seqs: list[str],
    neg_seqs: list[str],
    pos_name: str = "pos_seqs",
    neg_name: str = "neg_seqs",
) -> None:
    """Refuse negatives that the DNABERT-viz enrichment test cannot compare with the positives.

    The test counts the sequences that hold each candidate, so it assumes
    positives and negatives of about one length: a negative half as long
    holds a candidate about half as often, and every frequent region of the
    positives then looks enriched (8-nt negatives against 200-nt positives:
    ten "enriched" motifs from nothing). This is an error, not a warning:
    the motifs would be written as found. Mean lengths must be within
    :data:`LENGTH_RATIO` of each other.

    Raises
    ------
    ValueError
        Naming both sets (``pos_name``, ``neg_name``: files on the command line), their mean
        lengths and what would work.
    """
    pos_mean, neg_mean = (float(np.mean([len(s) for s in seqs])) for seqs in (pos_seqs, neg_seqs))
    if not 1 / LENGTH_RATIO <= neg_mean / pos_mean <= LENGTH_RATIO:
        raise ValueError(
            f"{neg_name}: {neg_mean:.0f} nt on average against {pos_mean:.0f} nt in {pos_name}; "
            "the enrichment test counts sequences holding each candidate, so negatives must be "
            f"about as long as positives (within a factor of {LENGTH_RATIO:g}): take them at the "
            "positives' length (dinucleotide shuffles of the positives, or genome windows of the "
            "same width)"
        )


def _merged(motifs: MotifSet, merge: bool) -> MotifSet:
    """The motifs, similar ones merged when asked (keeping ``why_none``)."""
    if not merge:
        return motifs
    merged = merge_similar(motifs)
    merged.why_none = motifs.why_none
    return merged


def _with_hypothetical(motifs: MotifSet) -> MotifSet:
    """Give each motif its instances' mean hypothetical contributions (:func:`hypothetical_cwm`)
    when the motifs' scores carry ``extra["hypothetical"]`` (modisco's motifs bring their own)."""
    extra = motifs.scores.extra if motifs.scores is not None else {}
    if "hypothetical" in extra:
        for motif in (m for m in motifs if len(m.instances)):
            motif.hypothetical = hypothetical_cwm(motif.instances, extra["hypothetical"])
    return motifs


def _identified(motifs: MotifSet, identity: dict) -> MotifSet:
    """The motifs, each with ``meta["sequences"] = identity``."""
    for motif in motifs:
        motif.meta["sequences"] = identity
    return motifs


def find_seqlet_motifs(
    sequences: str | Iterable[str],
    scores: Scores | np.ndarray | Sequence,
    *,
    width: int = 10,
    flank: int = 5,
    alpha: float = 1e-3,
    max_per_sequence: int = 3,
    min_similarity: float = 0.6,
    min_n_motif: int = 3,
    trim_fraction: float = 0.3,
    sign: str = "positive",
    max_seqlets: int = 2000,
    min_width: int = 5,
) -> MotifSet:
    """Motifs from attribution seqlets (see :mod:`dnabert_viz.motifs.seqlets`).

    Parameters
    ----------
    sequences : str or iterable of str
        The scored sequences.
    scores : Scores, numpy.ndarray or list of 1-D arrays
        Their per-nucleotide attribution (or ISM summary, or attention).
    width, flank : int
        Seqlet core and flank lengths in nucleotides; flanks are also the
        largest shift tried when aligning two seqlets.
    alpha : float
        Tail probability of the Laplace null at the seqlet threshold: smaller
        is stricter.
    max_per_sequence : int
        Most seqlets taken from one sequence.
    min_similarity : float
        Cosine similarity for two seqlets to be neighbours.
    min_n_motif : int
        Smallest motif kept.
    trim_fraction : float
        Cut flanks weaker than this fraction of the strongest column.
    sign : {"positive", "negative", "both"}
        Which scores count as important.
    max_seqlets : int
        Cluster at most this many seqlets, the highest-scoring ones
        (similarity costs memory and time quadratic in their number).
    min_width : int
        Narrowest motif kept, in nucleotides after trimming.

    Returns
    -------
    MotifSet
        With contribution matrices; ``p_value`` is NaN; ``why_none`` says why when there are
        none.
    """
    sequences = check_sequences(sequences)
    values = score_matrix(sequences, scores, "scores")
    scores = scores if isinstance(scores, Scores) else Scores(sequences, values, "scores")
    seqlets, threshold = call_seqlets(values, width, flank, alpha, max_per_sequence, sign)
    if len(seqlets) > max_seqlets:
        seqlets = seqlets.nlargest(max_seqlets, "score").sort_index()
    motifs = cluster_seqlets(
        sequences,
        values,
        seqlets,
        flank,
        min_similarity,
        min_n_motif,
        trim_fraction,
        sign,
        min_width,
    )
    for motif in motifs:
        motif.meta.update(threshold=threshold, width=width, flank=flank)
    found = MotifSet(motifs, sequences, scores)
    if not len(seqlets):
        found.why_none = (
            f"no {width}-nt window of the {len(sequences)} sequences scores above the seqlet "
            f"threshold {threshold:.3g} (Laplace tail alpha {alpha:g}); a larger alpha admits "
            "weaker ones"
        )
    elif not motifs:
        found.why_none = (
            f"{len(seqlets)} seqlets, but no {min_n_motif} of them alike enough (similarity "
            f"{min_similarity:g}) to make a motif of {min_width} nt or more; more sequences, or "
            "a lower min_n_motif or min_similarity, may give some"
        )
    return found
