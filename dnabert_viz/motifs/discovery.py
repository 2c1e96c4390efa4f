"""Motif discovery entry points: input checks, then the DNABERT-viz method or attribution seqlets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..scores import Scores
from ..sequences import check_sequences
from .dnabertviz import dnabert_viz_motifs
from .motif import Motif
from .seqlets import call_seqlets, cluster_seqlets


def score_matrix(seqs: list[str], scores: Scores | np.ndarray | Sequence, name: str = "pos_scores") -> np.ndarray:
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
        if len(scores) != len(seqs):
            raise ValueError(f"{name} holds {len(scores)} sequences, but {len(seqs)} were given")
        for i, (a, b) in enumerate(zip(scores.sequences, seqs)):
            if a != b:
                raise ValueError(f"{name} was computed for other sequences: sequence {i} differs")
        rows = [scores[i] for i in range(len(seqs))]
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


def find_motifs(
    pos_seqs: str | Iterable[str],
    neg_seqs: str | Iterable[str] | None,
    pos_scores: Scores | np.ndarray | Sequence,
    window_size: int = 24,
    min_len: int = 5,
    pval_cutoff: float = 0.005,
    min_n_motif: int = 3,
    align_all_ties: bool = True,
    method: str = "dnabert_viz",
) -> list[Motif]:
    """Discover motifs from per-nucleotide scores of positive sequences.

    ``method="dnabert_viz"`` runs the published DNABERT-viz analysis (high-score
    regions, hypergeometric enrichment against ``neg_seqs`` with
    Benjamini-Hochberg, merging, fixed windows); its steps, and where and why
    they deviate from the published scripts, are documented in
    :mod:`dnabert_viz.motifs.dnabertviz`. ``method="seqlets"`` calls
    :func:`find_seqlet_motifs` with its defaults (``neg_seqs`` is not used,
    and may be None).

    Parameters
    ----------
    pos_seqs : str or iterable of str
        Positive sequences.
    neg_seqs : str or iterable of str
        Negative (background) sequences.
    pos_scores : Scores, numpy.ndarray or list of 1-D arrays
        One score per nucleotide of each positive (attention, attribution).
    window_size : int
        Length in nucleotides of every DNABERT-viz motif instance.
    min_len : int
        Shortest high-score region, in nucleotides.
    pval_cutoff : float
        Benjamini-Hochberg adjusted p-value below which a candidate is kept.
    min_n_motif : int
        Fewest instances a motif must keep.
    align_all_ties : bool
        Merge a candidate into every best-aligning motif, not only the first.
    method : {"dnabert_viz", "seqlets"}
        Discovery method.

    Returns
    -------
    list of Motif
        Most instances first.

    Raises
    ------
    ValueError
        Empty sets, characters other than ACGTN (naming sequence and position),
        scores that do not fit the sequences, unknown method.
    """
    pos = check_sequences(pos_seqs, "pos_seqs")
    values = score_matrix(pos, pos_scores)
    if method == "seqlets":
        return find_seqlet_motifs(pos, values, min_n_motif=min_n_motif)
    if method != "dnabert_viz":
        raise ValueError(f"method must be 'dnabert_viz' or 'seqlets', not {method!r}")
    if neg_seqs is None:
        raise ValueError("neg_seqs is required by the DNABERT-viz method (the enrichment test needs negatives)")
    neg = check_sequences(neg_seqs, "neg_seqs")
    if window_size < 1 or min_len < 1 or min_n_motif < 1:
        raise ValueError("window_size, min_len and min_n_motif must be at least 1")
    return dnabert_viz_motifs(pos, neg, values, window_size, min_len, pval_cutoff, min_n_motif, align_all_ties)


def find_seqlet_motifs(
    seqs: str | Iterable[str],
    scores: Scores | np.ndarray | Sequence,
    width: int = 10,
    flank: int = 5,
    alpha: float = 1e-3,
    max_per_sequence: int = 3,
    min_similarity: float = 0.6,
    min_n_motif: int = 3,
    trim_fraction: float = 0.3,
    sign: str = "positive",
    max_seqlets: int = 2000,
) -> list[Motif]:
    """Motifs from attribution seqlets (see :mod:`dnabert_viz.motifs.seqlets`).

    Parameters
    ----------
    seqs : str or iterable of str
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

    Returns
    -------
    list of Motif
        With contribution matrices; ``p_value`` is NaN.
    """
    seqs = check_sequences(seqs, "seqs")
    values = score_matrix(seqs, scores, "scores")
    seqlets, threshold = call_seqlets(values, width, flank, alpha, max_per_sequence, sign)
    if len(seqlets) > max_seqlets:
        seqlets = seqlets.nlargest(max_seqlets, "score").sort_index()
    motifs = cluster_seqlets(seqs, values, seqlets, flank, min_similarity, min_n_motif, trim_fraction, sign)
    for motif in motifs:
        motif.meta.update(threshold=threshold, width=width, flank=flank)
    return motifs
