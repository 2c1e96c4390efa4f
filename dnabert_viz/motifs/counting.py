"""Count, in one vectorised pass per pattern length, how many sequences contain each pattern.

DNABERT-viz counts every candidate motif in every positive and negative
sequence with Aho-Corasick. Here the same exact, once-per-sequence count is
done with polynomial hashes of all windows, computed in numpy from one
prefix sum over the concatenated sequences:

* bases are digits 0-4 (A C G T N) of a base-5 number, so the hash of a
  window of length <= 27 is its exact base-5 value (no collisions at all);
  longer windows hash modulo 2**64 and every hit is checked against the
  string itself;
* per pattern length, a table over the first ``p`` bases (p <= 8) selects the
  windows that can match at all, so lengths with few patterns cost one table
  lookup over the text;
* hits become (sequence, pattern) pairs, made unique, and counted per group.

Cost: O(total length x number of distinct pattern lengths) table lookups plus
O(hits log hits); memory: a few 8-byte arrays as long as the text.
"""

from __future__ import annotations

import numpy as np

_BASE = 5
_EXACT_LENGTH = 27  # 5**27 < 2**63: hashes of windows up to this length are exact
_PREFIX = 8
_DIGITS = np.zeros(256, dtype=np.uint64)
for _digit, _letter in enumerate("ACGTN"):
    _DIGITS[ord(_letter)] = _digit


class _HashedText:
    """Window hashes of a list of strings concatenated end to end."""

    def __init__(self, texts: list[str]):
        self.text = "".join(texts)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        ends = np.cumsum(lengths)
        self.sequence_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        self.remaining = (ends[self.sequence_of] - np.arange(len(self.text))).astype(np.int64)
        digits = _DIGITS[np.frombuffer(self.text.encode(), dtype=np.uint8)]
        n = len(self.text)
        inverse = np.uint64(pow(_BASE, -1, 2**64))
        powers = np.ones(n + 1, dtype=np.uint64)
        inverse_powers = np.ones(n + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            powers[1:] = np.uint64(_BASE)
            inverse_powers[1:] = inverse
            powers = np.cumprod(powers)
            inverse_powers = np.cumprod(inverse_powers)
            self.prefix = np.zeros(n + 1, dtype=np.uint64)
            self.prefix[1:] = np.cumsum(digits * inverse_powers[:n])
        self.powers = powers

    def hashes(self, starts: np.ndarray, length: int | np.ndarray) -> np.ndarray:
        """Hash of text[start:start + length] for each start (uint64)."""
        with np.errstate(over="ignore"):
            return (self.prefix[starts + length] - self.prefix[starts]) * self.powers[
                starts + length - 1
            ]


def count_containing(texts: list[str], patterns: list[str], groups: np.ndarray) -> np.ndarray:
    """How many texts of each group contain each pattern at least once.

    Parameters
    ----------
    texts : list of str
        Sequences over ``ACGTN``.
    patterns : list of str
        Distinct, non-empty patterns over ``ACGTN``.
    groups : numpy.ndarray
        (len(texts),) group number (0, 1, ...) of each text.

    Returns
    -------
    numpy.ndarray
        (len(patterns), number of groups) int64 counts.
    """
    groups = np.asarray(groups, dtype=np.int64)
    counts = np.zeros((len(patterns), int(groups.max()) + 1 if len(groups) else 1), dtype=np.int64)
    if not patterns or not texts:
        return counts
    text = _HashedText(texts)
    pats = _HashedText(patterns)
    pattern_lengths = np.fromiter((len(p) for p in patterns), dtype=np.int64, count=len(patterns))
    pattern_starts = np.r_[0, np.cumsum(pattern_lengths)[:-1]]
    window_codes = {}
    long_patterns = pattern_lengths > _PREFIX
    # windows sorted by their first 8 bases: each long pattern looks up its own range
    if long_patterns.any():
        window_codes[_PREFIX] = _window_codes(text, _PREFIX)
        by_prefix = np.argsort(window_codes[_PREFIX], kind="stable")
        sorted_prefix = window_codes[_PREFIX][by_prefix]
    for length in np.unique(pattern_lengths):
        which = np.flatnonzero(pattern_lengths == length)
        prefix = int(min(length, _PREFIX))
        if prefix not in window_codes:
            window_codes[prefix] = _window_codes(text, prefix)
        prefix_codes = pats.hashes(pattern_starts[which], prefix).astype(np.int64)
        if length <= _PREFIX:  # the prefix is the whole pattern: a table lookup is the exact match
            # the last slot: windows that run off a sequence
            table = np.full(_BASE**prefix + 1, -1, dtype=np.int64)
            table[prefix_codes] = which
            found = table[window_codes[prefix]]
            starts = np.flatnonzero(found >= 0)
            found = found[starts]
        else:
            wanted = np.unique(prefix_codes)
            starts = by_prefix[
                _ranges(
                    np.searchsorted(sorted_prefix, wanted),
                    np.searchsorted(sorted_prefix, wanted, "right"),
                )
            ]
            starts = starts[text.remaining[starts] >= length]
            starts, found = _match_hashes(
                text, pats, patterns, starts, which, pattern_starts[which], int(length)
            )
        _add_once_per_text(counts, text.sequence_of[starts], found, groups, which)
    return counts


def _window_codes(text: _HashedText, length: int) -> np.ndarray:
    """Exact base-5 code of every window of ``length`` (<= 8); ``5**length`` where it runs off its
    sequence."""
    codes = np.full(len(text.text), _BASE**length, dtype=np.int64)
    with np.errstate(over="ignore"):
        codes[: len(codes) - length + 1] = (
            text.prefix[length:] - text.prefix[:-length]
        ) * text.powers[length - 1 : -1]
    codes[text.remaining < length] = _BASE**length
    return codes


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` over i, without a Python loop."""
    sizes = hi - lo
    keep = sizes > 0
    lo, sizes = lo[keep], sizes[keep]
    if len(sizes) == 0:
        return np.zeros(0, dtype=np.int64)
    step = np.ones(int(sizes.sum()), dtype=np.int64)
    heads = np.r_[0, np.cumsum(sizes)[:-1]]
    step[heads] = lo - np.r_[0, lo[:-1] + sizes[:-1] - 1]
    return np.cumsum(step)


def _match_hashes(text, pats, patterns, starts, which, own_starts, length):
    """Keep the window starts whose hash equals one of the patterns' (verified by string above 27
    nt)."""
    own = pats.hashes(own_starts, length)
    order = np.argsort(own)
    own = own[order]
    hashed = text.hashes(starts, length)
    slot = np.minimum(np.searchsorted(own, hashed), len(own) - 1)
    hit = own[slot] == hashed
    starts, found = starts[hit], which[order[slot[hit]]]
    if length > _EXACT_LENGTH:
        same = np.fromiter(
            (text.text[s : s + length] == patterns[f] for s, f in zip(starts, found)),
            dtype=bool,
            count=len(starts),
        )
        starts, found = starts[same], found[same]
    return starts, found


def _add_once_per_text(
    counts: np.ndarray,
    text_index: np.ndarray,
    found: np.ndarray,
    groups: np.ndarray,
    which: np.ndarray,
) -> None:
    """Add 1 per distinct (text, pattern) pair to ``counts[pattern, group of text]``.

    A presence matrix (texts x the patterns in ``which``) filled chunk by chunk
    of texts, at most 2**25 cells at a time, replaces sorting the pairs.
    """
    if len(found) == 0:
        return
    local = np.zeros(len(counts), dtype=np.int64)
    local[which] = np.arange(len(which))
    if np.any(text_index[1:] < text_index[:-1]):
        order = np.argsort(text_index, kind="stable")
        text_index, found = text_index[order], found[order]
    found = local[found]
    rows = max(1, 2**25 // len(which))
    for first in range(0, len(groups), rows):
        last = min(first + rows, len(groups))
        lo, hi = np.searchsorted(text_index, [first, last])
        if lo == hi:
            continue
        present = np.zeros((last - first, len(which)), dtype=bool)
        present[text_index[lo:hi] - first, found[lo:hi]] = True
        for g in range(counts.shape[1]):
            counts[which, g] += present[groups[first:last] == g].sum(axis=0)
