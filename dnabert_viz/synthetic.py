"""Synthetic sequences with planted motifs: the demo data and workshop exercises.

Positives are random background with instances sampled from real position
weight matrices planted at recorded places; negatives are dinucleotide
shuffles of positives (the same composition, motif included) that hold no
motif hit. Scores are log-odds against the background, on either strand,
as a fraction of the PWM's best score: planted instances are re-sampled
until they reach ``hit_fraction``, and backgrounds and negatives are
re-drawn until no window reaches ``free_fraction`` (lower: a margin between
the classes), so the planted intervals are the whole truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .motifs.jaspar import jaspar_pwm
from .sequences import ALPHABET, dinucleotide_shuffle, reverse_complement


@dataclass
class PlantedMotif:
    """A position weight matrix to plant: JASPAR id, name and (L, 4) probabilities over ACGT."""

    motif_id: str
    name: str
    pwm: np.ndarray

    def log_odds(self, background: np.ndarray) -> np.ndarray:
        """(L, 4) log2 odds against a background composition, with a small pseudocount."""
        p = (self.pwm + 0.01) / (1 + 0.04)
        return np.log2(p / background[None, :])

    def sample(self, rng: np.random.Generator) -> str:
        """One instance drawn column by column from the PWM."""
        u = rng.random(len(self.pwm))[:, None]
        return "".join(
            ALPHABET[i] for i in (u > np.cumsum(self.pwm, axis=1)).sum(axis=1).clip(0, 3)
        )


def jaspar_motif(motif_id: str) -> PlantedMotif:
    """Fetch a JASPAR matrix (offline, from pyjaspar's bundled database) as a PlantedMotif."""
    from pyjaspar import jaspardb

    m = jaspardb().fetch_motif_by_id(motif_id)
    if m is None:
        raise ValueError(f"JASPAR has no matrix {motif_id!r}")
    return PlantedMotif(m.matrix_id, m.name, jaspar_pwm(m))


def draw_jaspar_motifs(
    n: int,
    seed: int = 0,
    exclude: tuple[str, ...] = (),
    length: tuple[int, int] = (8, 16),
    min_information: float = 10.0,
) -> list[PlantedMotif]:
    """Draw ``n`` JASPAR CORE vertebrate matrices of ``n`` different TF families, by a seed
    (offline).

    Parameters
    ----------
    n : int
        How many matrices.
    seed : int
        The same seed draws the same matrices.
    exclude : tuple of str
        Matrix ids whose TF families are left out (the demo's, for instance).
    length : (int, int)
        Matrix widths allowed (closed range, nucleotides).
    min_information : float
        Fewest bits (summed over columns) a matrix must carry to be plantable.

    Returns
    -------
    list of PlantedMotif
        In drawing order.
    """
    from .motifs.jaspar import jaspar_matrices

    matrices = jaspar_matrices()
    banned = {f for m in matrices if m.matrix_id in exclude for f in m.family.split(";")}
    pool = [
        m
        for m in matrices
        if length[0] <= len(m.pwm) <= length[1]
        and m.family
        and not banned & set(m.family.split(";"))
        and (2 + (m.pwm * np.log2(np.clip(m.pwm, 1e-9, 1))).sum(axis=1)).sum() >= min_information
    ]
    rng = np.random.default_rng(seed)
    drawn: list[PlantedMotif] = []
    families: set[str] = set()
    for i in rng.permutation(len(pool)):
        m = pool[i]
        if len(drawn) < n and not families & set(m.family.split(";")):
            drawn.append(PlantedMotif(m.matrix_id, m.name, m.pwm))
            families.update(m.family.split(";"))
    if len(drawn) < n:
        raise ValueError(
            f"only {len(drawn)} TF families fit length {length} and {min_information} bits; "
            f"asked {n}"
        )
    return drawn


def best_hit_scores(seq: str, motif: PlantedMotif, background: np.ndarray) -> np.ndarray:
    """Best log-odds score of every window on either strand, (L - w + 1,)."""
    lo = motif.log_odds(background)
    w = len(lo)
    codes = np.frombuffer(seq.encode(), dtype=np.uint8)
    idx = np.searchsorted(np.frombuffer(ALPHABET.encode(), dtype=np.uint8), codes)
    win = np.lib.stride_tricks.sliding_window_view(idx, w)
    fwd = lo[np.arange(w), win].sum(axis=1)
    rev = lo[::-1, ::-1][np.arange(w), win].sum(axis=1)
    return np.maximum(fwd, rev)


def has_hit(
    seq: str, motifs: list[PlantedMotif], background: np.ndarray, hit_fraction: float
) -> bool:
    """Whether any motif scores at least ``hit_fraction`` of its best score somewhere in
    ``seq``."""
    for m in motifs:
        best = m.log_odds(background).max(axis=1).sum()
        if (
            len(seq) >= len(m.pwm)
            and best_hit_scores(seq, m, background).max() >= hit_fraction * best
        ):
            return True
    return False


def plant_motifs(
    motifs: list[PlantedMotif],
    n_positive: int,
    n_negative: int,
    length: tuple[int, int] = (100, 200),
    composition: tuple[float, float, float, float] = (0.29, 0.21, 0.21, 0.29),
    max_per_sequence: int = 2,
    hit_fraction: float = 0.9,
    free_fraction: float = 0.75,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make positives with planted motif instances and motif-free shuffled negatives.

    Parameters
    ----------
    motifs : list of PlantedMotif
        Matrices to plant.
    n_positive, n_negative : int
        How many sequences of each class.
    length : (int, int)
        Sequence lengths are drawn uniformly from this closed range (nucleotides).
    composition : 4 floats
        Background probabilities of A, C, G, T.
    max_per_sequence : int
        Each positive holds 1 to this many instances of distinct motifs,
        at non-overlapping places, on a random strand.
    hit_fraction : float
        Planted instances score at least this fraction of the PWM's best log-odds score.
    free_fraction : float
        Backgrounds and negatives hold no window scoring this fraction or more.
    seed : int
        Random seed: the same seed gives the same data.

    Returns
    -------
    sequences : pandas.DataFrame
        Columns ``sequence``, ``label`` (1 positive, 0 negative), in random order.
    planted : pandas.DataFrame
        One row per instance: ``sequence_index``, ``start``, ``end`` (0-based,
        end exclusive), ``motif_id``, ``name``, ``strand``, ``site``.
    """
    rng = np.random.default_rng(seed)
    background = np.asarray(composition, dtype=float)
    positives, planted = [], []
    while len(positives) < n_positive:
        seq = _background(rng, background, length, motifs, free_fraction)
        chosen = rng.choice(
            len(motifs),
            size=rng.integers(1, min(max_per_sequence, len(motifs)) + 1),
            replace=False,
        )
        sites = [_hit_instance(motifs[c], rng, background, hit_fraction) for c in chosen]
        starts = _place(len(seq), [len(s) for s in sites], rng)
        if starts is None:
            continue
        for c, site, start in zip(chosen, sites, starts):
            strand = "+" if rng.random() < 0.5 else "-"
            site = site if strand == "+" else reverse_complement(site)
            seq = seq[:start] + site + seq[start + len(site) :]
            planted.append(
                (
                    len(positives),
                    start,
                    start + len(site),
                    motifs[c].motif_id,
                    motifs[c].name,
                    strand,
                    site,
                )
            )
        positives.append(seq)
    negatives = []
    while len(negatives) < n_negative:
        cand = dinucleotide_shuffle(positives[rng.integers(n_positive)], rng)
        if not has_hit(cand, motifs, background, free_fraction):
            negatives.append(cand)
    order = rng.permutation(n_positive + n_negative)
    new_index = np.empty_like(order)
    new_index[order] = np.arange(len(order))
    table = pd.DataFrame(
        {"sequence": positives + negatives, "label": [1] * n_positive + [0] * n_negative}
    )
    table = table.iloc[order].reset_index(drop=True)
    truth = pd.DataFrame(
        planted, columns=["sequence_index", "start", "end", "motif_id", "name", "strand", "site"]
    )
    truth["sequence_index"] = new_index[truth["sequence_index"]]
    return table, truth.sort_values(["sequence_index", "start"]).reset_index(drop=True)


def _background(rng, background, length, motifs, free_fraction) -> str:
    while True:
        n = int(rng.integers(length[0], length[1] + 1))
        seq = "".join(np.array(list(ALPHABET))[rng.choice(4, size=n, p=background)])
        if not has_hit(seq, motifs, background, free_fraction):
            return seq


def _hit_instance(motif: PlantedMotif, rng, background, hit_fraction) -> str:
    best = motif.log_odds(background).max(axis=1).sum()
    while True:
        site = motif.sample(rng)
        if best_hit_scores(site, motif, background)[0] >= hit_fraction * best:
            return site


def _place(length: int, widths: list[int], rng) -> list[int] | None:
    """Random non-overlapping start positions for sites of the given widths, or None when they do
    not fit."""
    for _ in range(100):
        starts = [int(rng.integers(0, length - w + 1)) for w in widths]
        spans = sorted(zip(starts, widths))
        if all(a + wa <= b for (a, wa), (b, _) in zip(spans, spans[1:])):
            return starts
    return None
