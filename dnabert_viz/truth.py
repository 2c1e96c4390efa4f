"""Where the truth is, and how a map ranks positions against it.

The one reader of known sites for the evaluation layer: :func:`dnabert_viz.faithfulness`'s
``truth=`` and :func:`dnabert_viz.head_atlas`' ``annotation=`` both become a boolean (N, L) mask
through :func:`truth_mask`. :func:`oriented` is the one rule of which end of a map is
"important" (ISM's mean effect is negated), and :func:`truth_auroc` scores a map at a mask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .intervals import sites_mask
from .scores import Scores

GENOME_SUFFIXES = (".bed", ".narrowpeak")


def oriented(scores: Scores, i: int) -> np.ndarray:
    """Sequence ``i``'s map (L,), higher = more important (ISM's mean effect negated), NaN
    lowest."""
    values = np.asarray(scores[i], dtype=float) * (-1.0 if scores.kind == "ism" else 1.0)
    return np.nan_to_num(values, nan=-np.inf)


def truth_mask(
    truth,
    lengths: np.ndarray,
    coordinates: dict | None = None,
    *,
    labels: pd.Index | None = None,
    name: str = "truth",
) -> np.ndarray:
    """A boolean (N, longest length) mask of true positions.

    Parameters
    ----------
    truth : numpy.ndarray, pandas.DataFrame, str or Path
        A boolean (N, L) mask (L at least the longest sequence); a table, or a TSV file (such
        as the demo's ``planted.tsv``), of ``sequence_index``, ``start``, ``end`` (0-based, end
        exclusive); or sites on the genome: a BED or narrowPeak file (``.bed``,
        ``.narrowPeak``, either gzipped) or a table of ``chrom``, ``start``, ``end``, placed
        by the sequences' ``coordinates``.
    lengths : numpy.ndarray
        (N,) the sequences' lengths.
    coordinates : dict, optional
        The sequences' genome coordinates, as :func:`dnabert_viz.intervals.split_input`
        gives them; needed for sites on the genome.
    labels : pandas.Index, optional
        The index of the table the sequences were given as: a table's ``sequence_index``
        names these labels (sites of other labels are left out). None: positions 0 .. N-1.
    name : str
        What the caller calls it, in errors (``"truth"``, ``"the annotation"``).

    Returns
    -------
    numpy.ndarray
        (N, max(lengths)) bool.

    Raises
    ------
    ValueError
        A mask of another shape, a table without those columns, a site outside its sequence,
        sites on the genome without ``coordinates`` or in none of the sequences.
    """
    n, width = len(lengths), int(lengths.max())
    is_path = isinstance(truth, (str, Path))
    on_genome = (is_path and str(truth).lower().removesuffix(".gz").endswith(GENOME_SUFFIXES)) or (
        isinstance(truth, pd.DataFrame)
        and "sequence_index" not in truth
        and {"chrom", "start", "end"} <= set(truth.columns)
    )
    if on_genome:
        label = str(truth) if is_path else f"(a table of {len(truth)} sites)"
        if coordinates is None:
            raise ValueError(
                f"{name} {label} holds sites on the genome: give the sequences as genome "
                "intervals (read_intervals' table; on the command line --bed on --genome) to "
                "place them"
            )
        mask = sites_mask(truth, coordinates, lengths)
        if not mask.any():
            raise ValueError(f"{name} {label}: none of its sites overlaps the {n} sequences")
        return mask
    if is_path:
        truth = pd.read_csv(truth, sep="\t")
    if isinstance(truth, pd.DataFrame):
        missing = sorted({"sequence_index", "start", "end"} - set(truth.columns))
        if missing:
            raise ValueError(f"{name} table has no column {', '.join(missing)}")
        if labels is not None:
            where = {label: i for i, label in enumerate(labels)}
            truth = truth[truth["sequence_index"].isin(where)].copy()
            truth["sequence_index"] = truth["sequence_index"].map(where)
        mask = np.zeros((n, width), dtype=bool)
        for row in truth.itertuples():
            i, start, end = int(row.sequence_index), int(row.start), int(row.end)
            if not (0 <= i < n and 0 <= start < end <= lengths[i]):
                raise ValueError(
                    f"{name} row {row.Index}: [{start}, {end}) of sequence {i} is not within "
                    f"the {n} sequences (that one {lengths[i] if 0 <= i < n else '-'} nt)"
                )
            mask[i, start:end] = True
        return mask
    mask = np.asarray(truth)
    if mask.dtype != bool or mask.ndim != 2 or mask.shape[0] != n or mask.shape[1] < width:
        raise ValueError(
            f"{name} mask is {mask.dtype} {mask.shape}: expected bool ({n}, >= {width}), one row "
            "per sequence"
        )
    return mask[:, :width]


def truth_auroc(scores: Scores, mask: np.ndarray) -> tuple[float, int]:
    """(mean per-sequence AUROC of the map at the true positions, sequences counted): the
    sequences with both true and other positions."""
    from sklearn.metrics import roc_auc_score

    aucs = []
    for i in range(len(scores)):
        truth = mask[i, : scores.lengths[i]]
        if truth.any() and not truth.all():
            aucs.append(roc_auc_score(truth, oriented(scores, i)))
    return (float(np.mean(aucs)) if aucs else np.nan), len(aucs)
