"""Enrichment statistics: the hypergeometric test and Benjamini-Hochberg adjustment."""

from __future__ import annotations

import numpy as np


def hypergeometric_pvalues(
    in_positives: np.ndarray, in_all: np.ndarray, n_positives: int, n_all: int
) -> np.ndarray:
    """P(X >= x) for X ~ Hypergeometric(n_all, n_positives, in_all), elementwise.

    Parameters
    ----------
    in_positives : numpy.ndarray
        Number of positive sequences holding each candidate (x).
    in_all : numpy.ndarray
        Number of sequences, positive or negative, holding it (the draws).
    n_positives, n_all : int
        Positive sequences, and all sequences (the population).
    """
    # scipy.stats takes half a second to import: only when testing
    from scipy.stats import (
        hypergeom,
    )

    return hypergeom.sf(np.asarray(in_positives) - 1, n_all, n_positives, np.asarray(in_all))


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), same order as given."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty_like(p)
    out[order] = adjusted
    return out
