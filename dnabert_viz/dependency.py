"""Nucleotide dependency maps of a language model, and the blocks in them.

A dependency map (Tomaz da Silva et al., Nat. Genet. 2025) asks, for every
pair of nucleotides (i, j) in a region, how much substituting i changes what
the model expects at j (with j masked as in
:func:`dnabert_viz.language_model.base_log_probs`). Nucleotides that the
model reads together, such as the two arms of a hairpin or two sites that
co-occur at a fixed spacing, show up as off-diagonal blocks;
:meth:`DependencyMap.blocks` finds them and says where the two parts are,
how far apart and in which orientation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .language_model import base_log_probs
from .model import DnaModel
from .sequences import ALPHABET, check_sequences
from .tokenization import KmerTokenizer

BLOCK_COLUMNS = [
    "first_start",
    "first_end",
    "second_start",
    "second_end",
    "first",
    "second",
    "spacing",
    "orientation",
    "cells",
    "strength",
    "z",
]


@dataclass
class DependencyMap:
    """How substituting one nucleotide changes what the model expects at another.

    Attributes
    ----------
    values : numpy.ndarray
        (R, R) float32: ``values[i, j]`` is the largest absolute change in
        the log-odds of any base at target j over the three substitutions at
        query i (Tomaz da Silva et al., Nat. Genet. 2025), with j masked as
        in :func:`base_log_probs`; NaN on the band ``|i - j| < band``.
    start : int
        Sequence position of row and column 0 (the region's start).
    sequence : str
        The whole sequence (the context).
    band : int
        Pairs closer than this are left out (NaN): a k-mer model reads a
        neighbour within k - 1 nucleotides through the very tokens the
        substitution changes, so that band says little about the sequence.
    """

    values: np.ndarray
    start: int
    sequence: str
    band: int

    @property
    def region(self) -> str:
        """The region's nucleotides."""
        return self.sequence[self.start : self.start + len(self.values)]

    def blocks(
        self, *, min_z: float = 4.0, min_strength: float = 0.1, min_cells: int = 3
    ) -> pd.DataFrame:
        """Blocks of strong dependency between two stretches of the region.

        The map is made symmetric (the larger of ``values[i, j]`` and
        ``values[j, i]``: either direction counts), each pair gets a robust
        z-score against all pairs of the map (median and 1.4826 x the median
        absolute deviation). Pairs with ``z >= min_z`` and a dependency of at
        least ``min_strength`` that touch (also diagonally) form a block. A
        block of at least ``min_cells`` pairs is reported as two stretches,
        the first before the second. The z-score adapts to the model's scale;
        the floor keeps a flat map's faint ripples (a model that links
        nothing) from being outlined.

        Orientation comes from how the pairs line up: ``"same"`` when the
        first stretch's nucleotides pair with the second's in the same order
        (a direct repeat, two sites read in tandem), ``"inverted"`` when in
        reverse order (a reverse complement: a hairpin's stem, a
        palindromic pair), ``"mixed"`` otherwise (weighted correlation of
        the two positions between -0.5 and 0.5, or a block one nucleotide
        wide).

        Parameters
        ----------
        min_z : float
            Robust z-score a pair needs to count.
        min_strength : float
            Dependency a pair needs to count, in the map's units (absolute
            change in log-odds: 0.1 is the odds of a base changed by about 10%).
        min_cells : int
            Pairs a block needs.

        Returns
        -------
        pandas.DataFrame
            One row per block, strongest first: ``first_start``,
            ``first_end``, ``second_start``, ``second_end`` (sequence
            positions, ends exclusive), ``first`` and ``second`` (their
            nucleotides), ``spacing`` (``second_start - first_end``),
            ``orientation``, ``cells`` (pairs in the block), ``strength``
            (their mean dependency) and ``z`` (their mean robust z-score).
        """
        from scipy import ndimage

        if min_cells < 1:
            raise ValueError(f"min_cells must be at least 1, not {min_cells}")
        both = np.fmax(self.values, self.values.T)
        upper = np.triu(np.ones(both.shape, dtype=bool), k=1) & ~np.isnan(both)
        if not upper.any():
            return pd.DataFrame(columns=BLOCK_COLUMNS)
        median = np.median(both[upper])
        spread = 1.4826 * np.median(np.abs(both[upper] - median))
        if spread == 0:
            return pd.DataFrame(columns=BLOCK_COLUMNS)
        z = np.where(upper, (both - median) / spread, -np.inf)
        strong = (z >= min_z) & (np.nan_to_num(both) >= min_strength)
        labels, n = ndimage.label(strong, structure=np.ones((3, 3)))
        rows = []
        for label in range(1, n + 1):
            i, j = np.nonzero(labels == label)
            if len(i) < min_cells:
                continue
            a, b = self.start + i.min(), self.start + i.max() + 1
            c, d = self.start + j.min(), self.start + j.max() + 1
            rows.append(
                {
                    "first_start": a,
                    "first_end": b,
                    "second_start": c,
                    "second_end": d,
                    "first": self.sequence[a:b],
                    "second": self.sequence[c:d],
                    "spacing": c - b,
                    "orientation": _orientation(i, j, both[i, j]),
                    "cells": len(i),
                    "strength": float(both[i, j].mean()),
                    "z": float(z[i, j].mean()),
                }
            )
        table = pd.DataFrame(rows, columns=BLOCK_COLUMNS)
        return table.sort_values("strength", ascending=False, ignore_index=True)


def _orientation(i: np.ndarray, j: np.ndarray, weights: np.ndarray) -> str:
    """ "same", "inverted" or "mixed": the sign of the weighted correlation of the pairs'
    positions (R,) i and j."""
    if np.ptp(i) == 0 or np.ptp(j) == 0:
        return "mixed"
    w = weights / weights.sum()
    di, dj = i - w @ i, j - w @ j
    r = (w @ (di * dj)) / np.sqrt((w @ di**2) * (w @ dj**2))
    return "same" if r > 0.5 else "inverted" if r < -0.5 else "mixed"


def dependency_map(
    m: DnaModel,
    sequence: str,
    *,
    region: tuple[int, int] | None = None,
    strands: str = "forward",
    batch_size: int = 64,
    progress: bool | None = None,
) -> DependencyMap:
    """Nucleotide dependency map of one sequence: every substitution in ``region`` against every
    target in it, the whole sequence as context.

    Costs 3R + 1 calls of :func:`base_log_probs` restricted to the region (R
    masked copies each for DNABERT-1, about R/6 for Nucleotide
    Transformer): keep the region to the stretch of interest (a few dozen
    to a few hundred nucleotides).

    Parameters
    ----------
    m : DnaModel
        A masked or causal language model. A causal one reads each target
        from its left context, so only substitutions before the target
        count (the map's lower triangle is 0).
    sequence : str
        One sequence.
    region : (int, int), optional
        ``[start, end)`` of the queries and targets; the whole sequence by default.
    strands, batch_size, progress
        See :func:`base_log_probs`.

    Returns
    -------
    DependencyMap
    """
    (sequence,) = check_sequences([sequence])
    start, end = (0, len(sequence)) if region is None else region
    if not 0 <= start < end <= len(sequence):
        raise ValueError(
            f"region ({start}, {end}) is not inside the sequence's {len(sequence)} nt"
        )
    mutants, owner = [], []
    for i in range(start, end):
        for b in ALPHABET:
            if b != sequence[i] and sequence[i] != "N":
                mutants.append(sequence[:i] + b + sequence[i + 1 :])
                owner.append(i - start)
    options = {"strands": strands, "batch_size": batch_size, "region": (start, end)}
    ref = base_log_probs(m, sequence, progress=progress, **options)[0, start:end]
    alt = base_log_probs(m, mutants, progress=progress, **options)[:, start:end]
    change = np.abs(_log_odds(alt) - _log_odds(ref)[None]).max(axis=-1)  # (3R, R)
    values = np.full((end - start, end - start), np.nan, dtype=np.float32)
    for i in range(end - start):
        rows = change[np.asarray(owner) == i]
        if len(rows):
            values[i] = rows.max(axis=0)
    band = m.k if isinstance(m.tokenizer, KmerTokenizer) else 1
    offsets = np.abs(np.subtract.outer(np.arange(end - start), np.arange(end - start)))
    values[offsets < band] = np.nan
    return DependencyMap(values, start, sequence, band)


def _log_odds(log_probs: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) from log p, elementwise."""
    return log_probs - np.log1p(-np.exp(np.minimum(log_probs, -1e-7)))
