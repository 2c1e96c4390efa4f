"""Attribution seqlets clustered into motifs, in the spirit of TF-MoDISco, for short sequences.

1. :func:`call_seqlets`: sums of the score over every ``width``-nt window;
   a Laplace distribution fitted to the window sums (their median, and the
   mean deviation of the sums below it, which motif signal does not inflate)
   gives the threshold where its upper tail holds ``alpha``;
   per sequence, the best window above it is a seqlet, its neighbourhood is
   suppressed, and so on up to ``max_per_sequence``. Each seqlet is kept with
   ``flank`` nucleotides on both sides.
2. :func:`cluster_seqlets`: each seqlet is its contribution-weighted one-hot
   matrix; similarity is the best cosine over shifts of up to ``flank`` and
   both strands; greedily, the seqlet with the most neighbours above
   ``min_similarity`` founds a cluster with them.
3. Members are aligned to the founder (shift and strand), flanks whose mean
   contribution is below ``trim_fraction`` of the peak column are cut, and the
   aligned sites give the PWM; the mean aligned contribution gives the
   contribution logo.

Unlike tfmodisco-lite (400-nt default windows, no motifs on 100-nt inputs),
every window here is sized from ``width`` and ``flank``, so 70-nt DNABERT
inputs work. Seqlet motifs carry no enrichment p-value (NaN): they come from
the positives' scores alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..sequences import ALPHABET, reverse_complement
from .motif import INSTANCE_COLUMNS, Motif


def call_seqlets(
    values: np.ndarray,
    width: int = 10,
    flank: int = 5,
    alpha: float = 1e-3,
    max_per_sequence: int = 3,
    sign: str = "positive",
) -> tuple[pd.DataFrame, float]:
    """Seqlets: windows of high total score.

    Parameters
    ----------
    values : numpy.ndarray
        (N, longest length) scores, NaN past each sequence's end.
    width : int
        Core window in nucleotides.
    flank : int
        Nucleotides added on both sides of the core.
    alpha : float
        Upper-tail probability of the fitted Laplace null at the threshold.
    max_per_sequence : int
        At most this many seqlets per sequence, cores not overlapping.
    sign : {"positive", "negative", "both"}
        Seek high, low, or high absolute window sums.

    Returns
    -------
    seqlets : pandas.DataFrame
        ``sequence_index``, ``start``, ``end`` (core plus flanks; may reach past
        the sequence's ends) and ``score`` (the core's sum).
    threshold : float
        The window-sum threshold used.
    """
    x = _signed(values, sign)
    valid = ~np.isnan(x)
    csum = np.pad(np.cumsum(np.where(valid, x, 0.0), axis=1), ((0, 0), (1, 0)))
    sums = csum[:, width:] - csum[:, :-width]
    inside = np.pad(np.cumsum(valid, axis=1), ((0, 0), (1, 0)))
    sums = np.where(inside[:, width:] - inside[:, :-width] == width, sums, -np.inf)
    finite = sums[np.isfinite(sums)]
    if finite.size == 0:
        raise ValueError(f"no sequence is at least width={width} nt long")
    centre = float(np.median(finite))
    scale = float(np.mean(centre - finite[finite < centre])) if (finite < centre).any() else 0.0
    threshold = centre + scale * np.log(1 / (2 * alpha))
    rows, starts, scores = [], [], []
    positions = np.arange(sums.shape[1])
    all_rows = np.arange(len(sums))
    for _ in range(max_per_sequence):
        best = sums.argmax(axis=1)
        value = sums[all_rows, best]
        hit = value > threshold
        if not hit.any():
            break
        rows.append(all_rows[hit])
        starts.append(best[hit])
        scores.append(value[hit])
        suppress = np.abs(positions[None, :] - best[:, None]) < width
        sums[hit[:, None] & suppress] = -np.inf
    rows, starts, scores = (
        np.concatenate(a) if a else np.zeros(0) for a in (rows, starts, scores)
    )
    order = np.lexsort((starts, rows))
    table = pd.DataFrame(
        {
            "sequence_index": rows[order].astype(np.int64),
            "start": starts[order].astype(np.int64) - flank,
            "end": starts[order].astype(np.int64) + width + flank,
            "score": scores[order],
        }
    )
    return table, threshold


def cluster_seqlets(
    seqs: list[str],
    values: np.ndarray,
    seqlets: pd.DataFrame,
    max_shift: int = 5,
    min_similarity: float = 0.6,
    min_n_motif: int = 3,
    trim_fraction: float = 0.3,
    sign: str = "positive",
    min_width: int = 5,
) -> list[Motif]:
    """Group seqlets into motifs (see the module docstring).

    Parameters
    ----------
    seqs : list of str
        The scored sequences.
    values : numpy.ndarray
        (N, longest length) scores, NaN past each sequence's end.
    seqlets : pandas.DataFrame
        From :func:`call_seqlets`; all the same length.
    max_shift : int
        Largest shift, in nucleotides, tried when comparing two seqlets.
    min_similarity : float
        Cosine similarity (0-1) above which two seqlets are neighbours.
    min_n_motif : int
        Smallest cluster kept.
    trim_fraction : float
        Flank columns whose summed |mean contribution| is below this fraction
        of the strongest column are cut.
    sign : {"positive", "negative", "both"}
        As given to :func:`call_seqlets`.
    min_width : int
        Narrowest motif kept, in nucleotides after trimming: a cluster whose
        contribution sits on one to four bases is no binding site (on the
        recovery benchmark's ten sets, two model generations, all six such
        motifs were spurious; a 5-nt one, GAGGA, recovered a planted Spi1).

    Returns
    -------
    list of Motif
        Largest cluster first, named ``seqlets_1``, ``seqlets_2``, ...
    """
    if len(seqlets) < min_n_motif:
        return []
    x = _signed(values, sign)
    size = int((seqlets["end"] - seqlets["start"]).iloc[0])
    pad = size + max_shift
    padded_x = np.pad(np.nan_to_num(x, nan=0.0), ((0, 0), (pad, pad)))
    padded_seqs = ["N" * pad + s + "N" * (x.shape[1] - len(s) + pad) for s in seqs]
    contrib = _windows(
        padded_seqs,
        padded_x,
        seqlets["sequence_index"].to_numpy(),
        seqlets["start"].to_numpy() + pad,
        size,
    )
    similarity, shift, strand = _similarities(contrib, max_shift)
    motifs = []
    free = np.ones(len(seqlets), dtype=bool)
    while True:
        neighbours = (similarity >= min_similarity) & free[None, :] & free[:, None]
        degree = neighbours.sum(axis=1)
        seed = int(degree.argmax())
        if degree[seed] < min_n_motif:
            break
        members = np.flatnonzero(neighbours[seed])
        free[members] = False
        motif = _aligned_motif(
            padded_seqs,
            padded_x,
            seqlets.iloc[members],
            shift[seed, members],
            strand[seed, members],
            size,
            pad,
            trim_fraction,
            [len(s) for s in seqs],
        )
        if motif is not None and motif.n_instances >= min_n_motif and len(motif) >= min_width:
            motifs.append(motif)
    motifs.sort(key=lambda m: -m.n_instances)
    for number, motif in enumerate(motifs, start=1):
        motif.name = f"seqlets_{number}"
    return motifs


def _signed(values: np.ndarray, sign: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if sign == "positive":
        return values
    if sign == "negative":
        return -values
    if sign == "both":
        return np.abs(values)
    raise ValueError(f"sign must be positive, negative or both, not {sign!r}")


def _windows(
    padded_seqs: list[str], padded_x: np.ndarray, rows: np.ndarray, starts: np.ndarray, size: int
) -> np.ndarray:
    """Contribution-weighted one-hot windows, (n, size, 4)."""
    letters = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    text = np.array(
        [
            np.frombuffer(padded_seqs[r][s : s + size].encode(), dtype=np.uint8)
            for r, s in zip(rows, starts)
        ]
    )
    scores = padded_x[rows[:, None], starts[:, None] + np.arange(size)[None, :]]
    return (text[:, :, None] == letters[None, None, :]) * scores[:, :, None]


def _similarities(
    contrib: np.ndarray, max_shift: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best cosine similarity over shifts and strands, with the shift and strand that give it.

    ``shift[i, j] = d`` means position t of seqlet i faces position t - d of
    seqlet j (read on ``strand[i, j]``, 0 for +, 1 for -).
    """
    n, size, _ = contrib.shape
    norms = np.sqrt((contrib**2).sum(axis=(1, 2))).clip(min=1e-12)
    flat = contrib.reshape(n, -1) / norms[:, None]
    best = np.full((n, n), -np.inf)
    shift = np.zeros((n, n), dtype=np.int64)
    strand = np.zeros((n, n), dtype=np.int64)
    for s, other in enumerate((contrib, contrib[:, ::-1, ::-1])):
        for d in range(-max_shift, max_shift + 1):
            moved = np.zeros_like(other)
            if d >= 0:
                moved[:, d:] = other[:, : size - d]
            else:
                moved[:, :d] = other[:, -d:]
            sim = flat @ (moved.reshape(n, -1) / norms[:, None]).T
            better = sim > best
            best[better], shift[better], strand[better] = sim[better], d, s
    return best, shift, strand


def _aligned_motif(
    padded_seqs, padded_x, members, shifts, strands, size, pad, trim_fraction, lengths
) -> Motif | None:
    """Align cluster members on their founder, trim weak flanks, build the motif."""
    rows = members["sequence_index"].to_numpy()
    starts = members["start"].to_numpy() + pad  # padded coordinates
    window_starts = np.where(strands == 0, starts - shifts, starts + shifts)
    contrib = _windows(padded_seqs, padded_x, rows, window_starts, size)
    contrib = np.where(strands[:, None, None] == 1, contrib[:, ::-1, ::-1], contrib)
    mean = contrib.mean(axis=0)
    strength = np.abs(mean).sum(axis=1)
    strong = np.flatnonzero(strength >= trim_fraction * strength.max())
    lo, hi = int(strong[0]), int(strong[-1]) + 1
    seq_start = np.where(strands == 0, window_starts + lo, window_starts + size - hi) - pad
    seq_end = seq_start + (hi - lo)
    lengths = np.asarray(lengths)[rows]
    inside = (seq_start >= 0) & (seq_end <= lengths)
    if not inside.any():
        return None
    table = pd.DataFrame(
        {
            "sequence_index": rows[inside],
            "start": seq_start[inside],
            "end": seq_end[inside],
            "strand": np.where(strands[inside] == 0, "+", "-"),
        }
    )
    table["sequence"] = [
        site if st == "+" else reverse_complement(site)
        for site, st in zip(
            (
                padded_seqs[r][s + pad : e + pad]
                for r, s, e in table[["sequence_index", "start", "end"]].itertuples(index=False)
            ),
            table["strand"],
        )
    ]
    return Motif.from_sites(
        "seqlets",
        table[INSTANCE_COLUMNS],
        method="seqlets",
        contribution=contrib[inside, lo:hi].mean(axis=0),
        meta={"n_seqlets": len(members), "off_sequence": int((~inside).sum())},
    )
