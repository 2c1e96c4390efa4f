"""Gapless pairwise alignment with free end gaps, match 1 and mismatch 0.

This is what DNABERT-viz's merge step asked Biopython for
(``PairwiseAligner`` with its defaults of the time: match 1, mismatch 0,
gaps 0, and ``internal_gap_score = -10000``): the best number of identical
letters over all relative shifts of two strings, one query against many keys
at once.
"""

from __future__ import annotations

import numpy as np

_KEY_PAD = 255
_QUERY_PAD = 254


def encode(seqs: list[str], width: int | None = None) -> np.ndarray:
    """Byte codes of strings padded to ``width`` with a filler that matches nothing, (N, width)
    uint8.
    """
    width = max((len(s) for s in seqs), default=0) if width is None else width
    out = np.full((len(seqs), width), _KEY_PAD, dtype=np.uint8)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = np.frombuffer(s.encode(), dtype=np.uint8)
    return out


def align_to_keys(
    query: str, keys: np.ndarray, key_lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best gapless alignment of ``query`` against every key.

    Parameters
    ----------
    query : str
        The query string.
    keys : numpy.ndarray
        (M, W) keys from :func:`encode`.
    key_lengths : numpy.ndarray
        (M,) true key lengths.

    Returns
    -------
    scores : numpy.ndarray
        (M,) identical letters in the best alignment.
    offsets : numpy.ndarray
        (M,) where each key starts in query coordinates in that alignment
        (key position j faces query position j + offset; may be negative).
        Among equally good shifts, the one Biopython 1.85's ``PairwiseAligner``
        returns first: the rightmost when some tied shift leaves the key
        overhanging the query's right end (offset > len(query) - len(key)),
        the leftmost otherwise (the rule was read off its traceback on random
        pairs; ``tests/test_motifs.py`` checks it against Biopython).
    """
    q = np.frombuffer(query.encode(), dtype=np.uint8)
    width = keys.shape[1]
    padded = np.concatenate(
        [np.full(width - 1, _QUERY_PAD, np.uint8), q, np.full(width - 1, _QUERY_PAD, np.uint8)]
    )
    windows = np.lib.stride_tricks.sliding_window_view(
        padded, width
    )  # (len(q) + width - 1, width)
    offsets = np.arange(-(width - 1), len(q))
    scores = (keys[:, None, :] == windows[None, :, :]).sum(axis=2)  # (M, n_offsets)
    best_score = scores.max(axis=1)
    tied = scores == best_score[:, None]
    rightmost = len(offsets) - 1 - tied[:, ::-1].argmax(axis=1)
    leftmost = tied.argmax(axis=1)
    overhanging = offsets[rightmost] > len(q) - key_lengths
    best = np.where(overhanging, rightmost, leftmost)
    return best_score, offsets[best]
