"""Tokenizers for DNA language models, with an exact token -> nucleotide map.

Four schemes, each giving, for every token, the half-open nucleotide span
``[start, end)`` it stands for (``-1, -1`` for special tokens and padding):

* ``KmerTokenizer(overlapping=True)``: DNABERT-1. A sequence of length L gives
  the L - k + 1 overlapping k-mers; token t covers ``[t, t + k)``. A k-mer
  holding N becomes ``[UNK]`` (DNABERT has no N k-mers) and keeps its span.
  Wrapped as ``[CLS] tokens [SEP]``.
* ``KmerTokenizer(overlapping=False)``: Nucleotide Transformer. The sequence
  is split at N; each N-free stretch is cut into non-overlapping 6-mers from
  its start, leftovers become single-nucleotide tokens; each N is the token
  ``N``. ``<cls>`` is prepended and no end token is added.
* ``BpeTokenizer``: DNABERT-2, GENA-LM and any other fast tokenizer
  (``tokenizer.json``). Spans come from the tokenizer's character offsets (a
  token that stands for a run the tokenizer's normalizer replaced, GENA-LM's
  ``-`` for 10 or more N, spans the whole run). Sequences are normalised
  before tokenizing (the published DNABERT-2 tokenizer has no normalizer: raw
  lowercase would become one ``[UNK]`` per character); DNABERT-2's makes N one
  ``[UNK]`` per character with its own span.
* ``CharTokenizer``: HyenaDNA and Caduceus. One token per nucleotide (``N``
  included), token t covers ``[t, t + 1)``; the published vocabulary (seven
  special tokens, then A, C, G, T, N at ids 7..11) and layout: ``[SEP]``
  after the sequence, nothing before it.

The vocabulary files are read directly: DNABERT's published
``tokenizer_config.json`` says ``do_lower_case: true``, which makes a stock
``BertTokenizer`` turn every k-mer into ``[UNK]``; here k-mers are looked up
upper-case, exactly as in ``vocab.txt``.

Sequences longer than a model's positions are cut into overlapping windows
(:func:`plan_windows`); spans are always in the coordinates of the full
sequence, so per-nucleotide outputs of all windows add up in place.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sequences import ALPHABET, check_sequences

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _CODE[ord(_c)] = _i


@dataclass
class Encoding:
    """Token ids, mask and nucleotide spans of a batch of sequences or windows.

    Attributes
    ----------
    input_ids : numpy.ndarray
        (W, T) int64 token ids, padded on the right.
    attention_mask : numpy.ndarray
        (W, T) int64, 1 for real tokens (special tokens included), 0 for padding.
    spans : numpy.ndarray
        (W, T, 2) int64 nucleotide ``[start, end)`` of each token in the
        coordinates of its full sequence; ``-1`` for special tokens and padding.
    sequence_index : numpy.ndarray
        (W,) which input sequence each row belongs to (rows are windows when a
        sequence is longer than the model's positions; otherwise W = N and
        ``sequence_index == arange(N)``).
    lengths : numpy.ndarray
        (N,) nucleotide length of each input sequence.
    sequences : list of str
        The N input sequences after normalisation.
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    spans: np.ndarray
    sequence_index: np.ndarray
    lengths: np.ndarray
    sequences: list[str]

    @property
    def real(self) -> np.ndarray:
        """(W, T) bool: the tokens that cover nucleotides (not special tokens, not padding)."""
        return real_tokens(self.spans)


def real_tokens(spans: np.ndarray) -> np.ndarray:
    """Which tokens cover nucleotides: ``spans[..., 0] >= 0``, (...,) bool for spans (..., 2)."""
    return np.asarray(spans)[..., 0] >= 0


def covers(spans: np.ndarray, length: int) -> np.ndarray:
    """(T, L) bool: token t covers nucleotide p, i.e. ``start_t <= p < end_t``, for spans (T, 2).

    The token -> nucleotide rule of the whole workbench in its dense form,
    for one sequence; :class:`NucleotideAccumulator` applies the same rule to
    batches and windows with difference arrays.
    """
    pos = np.arange(length)
    return (pos >= spans[:, :1]) & (pos < spans[:, 1:])


def per_sequence_mean(rows: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Average per-row values over the rows (windows) of each sequence: (W, ...) -> (N, ...).

    ``owner`` is :attr:`Encoding.sequence_index`, ``n`` the number of sequences.
    """
    if len(owner) == n:
        return rows
    total = np.zeros((n,) + rows.shape[1:], dtype=rows.dtype)
    np.add.at(total, owner, rows)
    count = np.bincount(owner, minlength=n).reshape((n,) + (1,) * (rows.ndim - 1))
    return total / count


class NucleotideAccumulator:
    """Put per-token values onto nucleotides, across batches and windows.

    Two rules:

    * ``"mean"`` (attention, the DNABERT-viz recipe): each nucleotide gets
      the mean of the values of the tokens that cover it;
    * ``"spread"`` (attributions): each token's value is split equally over
      the nucleotides it covers, so a sequence's nucleotide values add up to
      its token values (completeness carries over).

    Windows: a token appearance is weighted by 1 / (number of windows whose
    range holds its span). For overlapping k-mers, where every window
    tokenizes a stretch the same way, the result equals the unwindowed one
    exactly; for other tokenizers it is the mean over the windows.

    Sums are kept as difference arrays, so a batch costs O(tokens +
    nucleotides), not O(tokens x nucleotides).

    Parameters
    ----------
    enc : Encoding
        The encoding whose rows will be added.
    mode : {"mean", "spread"}
    features : int, optional
        Values are vectors of this length (a hidden state per token:
        per-nucleotide embeddings); None: one number per token.
    """

    def __init__(self, enc: Encoding, mode: str = "mean", features: int | None = None):
        if mode not in ("mean", "spread"):
            raise ValueError(f"mode must be 'mean' or 'spread', got {mode!r}")
        self.enc, self.mode = enc, mode
        n, width = len(enc.lengths), int(enc.lengths.max()) + 1
        self._tail = () if features is None else (int(features),)
        self._sums = np.zeros((n, width, *self._tail), dtype=np.float64)
        self._counts = np.zeros((n, width), dtype=np.float64)
        real = enc.real
        first = np.where(real, enc.spans[..., 0], width).min(axis=1)
        last = np.where(real, enc.spans[..., 1], -1).max(axis=1)
        slot = np.zeros(len(first), dtype=np.int64)
        per_seq = np.bincount(enc.sequence_index, minlength=n)
        for s in np.flatnonzero(per_seq > 1):
            rows = np.flatnonzero(enc.sequence_index == s)
            slot[rows] = np.arange(len(rows))
        # window ranges per sequence, (N, most windows), empty slots never contain anything
        self._win_start = np.full((n, int(per_seq.max())), width, dtype=np.int64)
        self._win_end = np.full_like(self._win_start, -1)
        self._win_start[enc.sequence_index, slot] = first
        self._win_end[enc.sequence_index, slot] = last

    def add(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Add per-token values (len(rows), T'[, features]) of some rows; T' may be shorter than
        the padding."""
        values = np.asarray(values, dtype=np.float64)
        spans = self.enc.spans[rows, : values.shape[1]]
        real = real_tokens(spans)
        owner_rows = np.broadcast_to(self.enc.sequence_index[rows][:, None], real.shape)
        owner, start, end, v = (
            owner_rows[real],
            spans[..., 0][real],
            spans[..., 1][real],
            values[real],
        )
        held = (self._win_start[owner] <= start[:, None]) & (end[:, None] <= self._win_end[owner])
        weight = 1.0 / held.sum(axis=1)
        tail = (slice(None),) + (None,) * len(self._tail)  # weights broadcast over features
        if self.mode == "spread":
            v = v / (end - start)[tail]
        _add_ranges(self._sums, owner, start, end, v * weight[tail])
        _add_ranges(self._counts, owner, start, end, weight)

    def result(self) -> np.ndarray:
        """(N, longest length[, features]) float32 per-nucleotide values; NaN past each
        sequence's end."""
        sums = np.cumsum(self._sums, axis=1)[:, :-1]
        counts = np.cumsum(self._counts, axis=1)[:, :-1]
        counts = counts.reshape(counts.shape + (1,) * len(self._tail))
        covered = counts > 1e-9
        with np.errstate(invalid="ignore", divide="ignore"):
            out = sums / counts if self.mode == "mean" else sums
        out = np.where(covered, out, np.nan).astype(np.float32)
        out[np.arange(out.shape[1])[None, :] >= self.enc.lengths[:, None]] = np.nan
        return out


def _add_ranges(target: np.ndarray, owner, start, end, amount) -> None:
    """Add ``amount`` over ``[start, end)`` of rows ``owner`` of a difference array."""
    np.add.at(target, (owner, start), amount)
    np.add.at(target, (owner, end), -amount)


def plan_windows(length: int, window_size: int, stride: int) -> list[tuple[int, int]]:
    """Cut ``[0, length)`` into windows of ``window_size`` nucleotides, ``stride`` apart.

    The last window is aligned to the end of the sequence, so every nucleotide
    is covered and no window is shorter than ``window_size`` (unless the
    sequence itself is).

    Returns
    -------
    list of (start, end)
    """
    if window_size < 1 or stride < 1:
        raise ValueError(f"window_size ({window_size}) and stride ({stride}) must be >= 1")
    if stride > window_size:
        raise ValueError(
            f"stride ({stride}) larger than window_size ({window_size}) would skip nucleotides"
        )
    if length <= window_size:
        return [(0, length)]
    starts = list(range(0, length - window_size, stride)) + [length - window_size]
    return [(s, s + window_size) for s in starts]


class DnaTokenizer:
    """Common interface of the tokenizers: normalise, tokenize, window, pad.

    Subclasses implement :meth:`tokenize` (one normalised sequence, no special
    tokens) and :meth:`max_nucleotides`.
    """

    scheme: str = ""
    min_nucleotides: int = 1  # the shortest sequence that gives a token (overlapping k-mers: k)
    cls_token: str | None
    sep_token: str | None
    pad_token: str
    unk_token: str
    mask_token: str

    def __init__(self, vocab: dict[str, int]):
        self.vocab = dict(vocab)
        for attr in ("cls_token", "pad_token", "unk_token", "mask_token", "sep_token"):
            tok = getattr(self, attr)
            if tok is not None and tok not in self.vocab:
                raise ValueError(f"vocabulary has no {attr.replace('_', ' ')} {tok!r}")
        self.cls_id = None if self.cls_token is None else self.vocab[self.cls_token]
        self.sep_id = None if self.sep_token is None else self.vocab[self.sep_token]
        self.pad_id = self.vocab[self.pad_token]
        self.unk_id = self.vocab[self.unk_token]
        self.mask_id = self.vocab[self.mask_token]
        self.id_to_token = {i: t for t, i in self.vocab.items()}

    @property
    def n_special(self) -> int:
        """Special tokens added around each sequence."""
        return (self.cls_id is not None) + (self.sep_id is not None)

    def tokenize(self, seq: str, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Token ids (T,) and spans (T, 2) of one normalised sequence, no special tokens."""
        raise NotImplementedError

    def max_nucleotides(self, max_tokens: int) -> int:
        """Longest stretch of sequence whose tokens always fit in ``max_tokens``."""
        raise NotImplementedError

    def check_lengths(self, seqs: list[str], labels: list[str] | None = None) -> None:
        """Raise ValueError naming the first sequence too short to give a token.

        Parameters
        ----------
        seqs : list of str
            Normalised sequences.
        labels : list of str, optional
            What to call each sequence (a file, record and line) instead of ``sequences[i]``.
        """
        short = next((i for i, s in enumerate(seqs) if len(s) < self.min_nucleotides), None)
        if short is not None:
            where = f"sequences[{short}]" if labels is None else labels[short]
            raise ValueError(
                f"{where} is {len(seqs[short])} nt, shorter than k = {self.min_nucleotides}: "
                f"it has no {self.min_nucleotides}-mer for the model's {self.scheme} tokens; "
                "leave it out or give a longer sequence"
            )

    def convert_ids_to_tokens(self, ids) -> list[str]:
        """Token strings of ids."""
        return [self.id_to_token[int(i)] for i in ids]

    def encode(
        self,
        seqs,
        max_tokens: int | None = None,
        window_size: int | None = None,
        stride: int | None = None,
    ) -> Encoding:
        """Normalise, tokenize, window and pad sequences.

        Parameters
        ----------
        seqs : str or iterable of str
            Sequences (see :func:`dnabert_viz.sequences.check_sequences`).
        max_tokens : int, optional
            Most tokens a row may hold, special tokens included (the model's
            positions). Longer sequences are cut into windows.
        window_size, stride : int, optional
            Window length and step in nucleotides; by default the longest
            window that fits and half of it (BPE: see
            :meth:`BpeTokenizer._rows`).

        Returns
        -------
        Encoding
        """
        seqs = check_sequences(seqs)
        self.check_lengths(seqs)
        rows, owner = [], []
        for i, seq in enumerate(seqs):
            for row in self._rows(i, seq, max_tokens, window_size, stride):
                rows.append(row)
                owner.append(i)
        return self._pad(rows, np.asarray(owner), seqs)

    def _rows(self, i: int, seq: str, max_tokens, window_size, stride):
        """Token ids and spans of each window of sequence ``i``, windows planned in nucleotides."""
        for start, end in self._windows(len(seq), max_tokens, window_size, stride):
            ids, spans = self.tokenize(seq[start:end], offset=start)
            if max_tokens is not None and len(ids) + self.n_special > max_tokens:
                raise ValueError(
                    f"sequence {i}: window [{start}, {end}) gives {len(ids)} tokens, more than "
                    f"the model's {max_tokens - self.n_special}; pass a smaller window_size"
                )
            yield ids, spans

    def _windows(self, length, max_tokens, window_size, stride):
        if max_tokens is None and window_size is None:
            return [(0, length)]
        fit = (
            self.max_nucleotides(max_tokens - self.n_special) if max_tokens is not None else length
        )
        window_size = fit if window_size is None else window_size
        if window_size > fit:
            raise ValueError(
                f"window_size {window_size} nt does not fit the model's {max_tokens} "
                f"positions (at most {fit} nt)"
            )
        return plan_windows(length, window_size, stride or max(1, window_size // 2))

    def _pad(self, rows, owner, seqs) -> Encoding:
        width = max(len(ids) for ids, _ in rows) + self.n_special
        n = len(rows)
        input_ids = np.full((n, width), self.pad_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        spans = np.full((n, width, 2), -1, dtype=np.int64)
        lead = int(self.cls_id is not None)
        for r, (ids, sp) in enumerate(rows):
            t = len(ids)
            if lead:
                input_ids[r, 0] = self.cls_id
            input_ids[r, lead : t + lead] = ids
            spans[r, lead : t + lead] = sp
            if self.sep_id is not None:
                input_ids[r, t + lead] = self.sep_id
            mask[r, : t + self.n_special] = 1
        return Encoding(input_ids, mask, spans, owner, np.array([len(s) for s in seqs]), seqs)


class KmerTokenizer(DnaTokenizer):
    """k-mer tokenizer: overlapping (DNABERT-1) or non-overlapping (Nucleotide Transformer).

    Parameters
    ----------
    vocab : dict
        Token -> id, as read from ``vocab.txt`` (line number = id).
    k : int
        k-mer length.
    overlapping : bool
        DNABERT-1 (True) or Nucleotide Transformer (False) scheme.
    """

    def __init__(self, vocab: dict[str, int], k: int, overlapping: bool = True):
        self.k = k
        self.overlapping = overlapping
        if overlapping:
            self.scheme, self.min_nucleotides = f"kmer{k}", k
            self.cls_token, self.sep_token, self.pad_token = "[CLS]", "[SEP]", "[PAD]"
            self.unk_token, self.mask_token = "[UNK]", "[MASK]"
        else:
            self.scheme = f"nonoverlapping{k}"
            self.cls_token, self.sep_token, self.pad_token = "<cls>", None, "<pad>"
            self.unk_token, self.mask_token = "<unk>", "<mask>"
        super().__init__(vocab)
        kmers = ["".join(p) for p in itertools.product(ALPHABET, repeat=k)]
        missing = [km for km in kmers if km not in self.vocab]
        if missing:
            raise ValueError(
                f"vocabulary lacks {len(missing)} of the {4**k} {k}-mers, e.g. {missing[0]!r}"
            )
        self._table = np.array([self.vocab[km] for km in kmers], dtype=np.int64)
        self._weights = 4 ** np.arange(k - 1, -1, -1)
        if not overlapping:
            absent = [c for c in ALPHABET + "N" if c not in self.vocab]
            if absent:
                raise ValueError(f"vocabulary lacks the single-nucleotide tokens {absent}")

    def max_nucleotides(self, max_tokens: int) -> int:
        return max_tokens + self.k - 1 if self.overlapping else max_tokens * self.k

    def _kmer_ids(self, codes: np.ndarray, step: int) -> np.ndarray:
        """Ids of the k-mers starting every ``step`` nucleotides (codes of one N-free or N-holding
        stretch)."""
        n = (len(codes) - self.k) // step + 1
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        idx = np.arange(n)[:, None] * step + np.arange(self.k)[None, :]
        win = codes[idx]
        ids = self._table[np.where(win < 4, win, 0) @ self._weights]
        return np.where((win < 4).all(axis=1), ids, self.unk_id)

    def tokenize(self, seq: str, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        codes = _CODE[np.frombuffer(seq.encode(), dtype=np.uint8)]
        if self.overlapping:
            if len(seq) < self.k:
                raise ValueError(
                    f"sequence of {len(seq)} nt is shorter than k = {self.k}: it has no "
                    f"{self.k}-mer"
                )
            ids = self._kmer_ids(codes, 1)
            starts = np.arange(len(ids))
            return ids, np.stack([starts, starts + self.k], axis=1) + offset
        ids, spans = [], []
        for m in _runs(codes == 4):
            a, b, is_n = m
            if is_n:
                ids.append(np.full(b - a, self.vocab["N"], dtype=np.int64))
                st = np.arange(a, b)
                spans.append(np.stack([st, st + 1], axis=1))
                continue
            full = self._kmer_ids(codes[a:b], self.k)
            st = a + self.k * np.arange(len(full))
            rest = np.arange(a + self.k * len(full), b)
            ids.append(full)
            ids.append(np.array([self.vocab[seq[p]] for p in rest], dtype=np.int64))
            spans.append(np.stack([st, st + self.k], axis=1))
            spans.append(np.stack([rest, rest + 1], axis=1))
        return np.concatenate(ids), np.concatenate(spans).reshape(-1, 2) + offset

    def save(self, folder: str | Path) -> None:
        """Write ``vocab.txt`` (one token a line, line number = id), ``special_tokens_map.json``
        and ``tokenizer_config.json`` (``do_lower_case: false``, so stock tokenizers read it
        right)."""
        tokens = sorted(self.vocab, key=self.vocab.get)
        Path(folder, "vocab.txt").write_text("\n".join(tokens) + "\n")
        names = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
        specials = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        Path(folder, "special_tokens_map.json").write_text(json.dumps(specials))
        Path(folder, "tokenizer_config.json").write_text(
            json.dumps({"do_lower_case": False, "max_len": 512})
        )


def _runs(flags: np.ndarray) -> list[tuple[int, int, bool]]:
    """Maximal runs of equal values in a boolean array, as (start, end, value)."""
    if len(flags) == 0:
        return []
    edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [len(flags)]])
    return [(int(a), int(b), bool(flags[a])) for a, b in zip(bounds[:-1], bounds[1:])]


class BpeTokenizer(DnaTokenizer):
    """Any fast tokenizer from a ``tokenizer.json`` (DNABERT-2's and GROVER's BPE, a ModernBERT
    DNA model's characters), spans from offsets.

    Its special tokens are named by the folder (``special_tokens_map.json``,
    ``tokenizer_config.json``; BERT's ``[CLS]``, ``[SEP]``, ``[PAD]``, ``[UNK]``,
    ``[MASK]`` where neither says); which of them go before and after a
    sequence is read from ``tokenizer.json``'s post-processor, as transformers
    adds them (none without one).

    Parameters
    ----------
    path : str or Path
        The ``tokenizer.json`` file.
    specials : dict, optional
        ``pad_token``, ``unk_token``, ``mask_token`` (and ``cls_token``,
        ``sep_token``, saved with the tokenizer) by name, where they are not
        BERT's.
    """

    scheme = "bpe"
    DEFAULTS = {
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "mask_token": "[MASK]",
    }

    def __init__(self, path: str | Path, specials: dict[str, str] | None = None):
        from tokenizers import Tokenizer

        self.path = Path(path)
        self._tok = Tokenizer.from_file(str(path))
        self.specials = {**self.DEFAULTS, **(specials or {})}
        self.pad_token = self.specials["pad_token"]
        self.unk_token = self.specials["unk_token"]
        self.mask_token = self.specials["mask_token"]
        self.cls_token, self.sep_token = self._added_around()
        super().__init__(self._tok.get_vocab())

    def _added_around(self) -> tuple[str | None, str | None]:
        """The special token the post-processor puts before a sequence and the one after it
        (None where it puts none)."""
        enc = self._tok.encode("ACGT", add_special_tokens=True)
        flags = list(enc.special_tokens_mask)
        lead = next((i for i, f in enumerate(flags) if not f), len(flags))
        trail = next((i for i, f in enumerate(reversed(flags)) if not f), 0)
        if lead > 1 or trail > 1:
            raise ValueError(
                f"its post-processor adds {lead} tokens before a sequence and {trail} after it; "
                "one at most on each side is supported"
            )
        return (enc.tokens[0] if lead else None, enc.tokens[-1] if trail else None)

    def max_nucleotides(self, max_tokens: int) -> int:
        return max_tokens

    def _rows(self, i: int, seq: str, max_tokens, window_size, stride):
        """Without ``window_size`` and ``stride``: the whole sequence's tokens when they fit, else
        windows of ``max_tokens`` tokens (special tokens included), half overlapping, cut from the
        whole sequence's tokens. BPE tokens have no fixed length, so windows planned in nucleotides
        would have to assume one token per nucleotide and use a fifth of the positions.
        """
        if window_size is not None or stride is not None or max_tokens is None:
            yield from super()._rows(i, seq, max_tokens, window_size, stride)
            return
        ids, spans = self.tokenize(seq)
        width = max_tokens - self.n_special
        for start, end in plan_windows(len(ids), width, max(1, width // 2)):
            yield ids[start:end], spans[start:end]

    def tokenize(self, seq: str, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        enc = self._tok.encode(seq, add_special_tokens=False)
        spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
        # a normalizer that replaces a run by one token (GENA-LM's: 10 or more N -> '-') gives it
        # the offset of the run's last character: it covers the run from the previous token's end
        previous_end = np.concatenate([[0], spans[:-1, 1]])
        spans[:, 0] = np.minimum(spans[:, 0], previous_end)
        covered = np.zeros(len(seq), dtype=bool)
        for a, b in spans:
            covered[a:b] = True
        if not covered.all():
            raise ValueError(
                f"tokenizer {self.path} left nucleotide {int(np.argmin(covered))} of a "
                "sequence untokenized"
            )
        return np.asarray(enc.ids, dtype=np.int64), spans + offset

    def save(self, folder: str | Path) -> None:
        """Write ``tokenizer.json`` and ``special_tokens_map.json`` (its special tokens' names)."""
        self._tok.save(str(Path(folder, "tokenizer.json")))
        Path(folder, "special_tokens_map.json").write_text(json.dumps(self.specials))


class CharTokenizer(DnaTokenizer):
    """One token per nucleotide: the character tokenizer of HyenaDNA and Caduceus (one
    vocabulary, fixed in code).

    Parameters
    ----------
    characters : str
        The characters after the seven special tokens, ids 7, 8, ... (the
        published tokenizers: ``ACGTN``). Each must be one of ACGTN.
    tokenizer_class : str
        tokenizer_config.json's class, written back by :meth:`save`: one of ``CLASSES``.
    """

    scheme = "char"
    SPECIAL = ("[CLS]", "[SEP]", "[BOS]", "[MASK]", "[PAD]", "[RESERVED]", "[UNK]")
    # tokenizer_config.json's class: HyenaDNA's (and its older name), Caduceus's
    CLASSES = ("HyenaDNATokenizer", "CharacterTokenizer", "CaduceusTokenizer")

    def __init__(self, characters: str = "ACGTN", *, tokenizer_class: str = CLASSES[0]):
        if not characters or set(characters) - set(ALPHABET + "N") or "N" not in characters:
            raise ValueError(
                f"characters {characters!r}: a character tokenizer here reads ACGT and N, each "
                "once (the published HyenaDNA tokenizer: 'ACGTN')"
            )
        self.characters, self.tokenizer_class = characters, tokenizer_class
        self.cls_token, self.sep_token, self.pad_token = None, "[SEP]", "[PAD]"
        self.unk_token, self.mask_token = "[UNK]", "[MASK]"
        tokens = (*self.SPECIAL, *characters)
        super().__init__({t: i for i, t in enumerate(tokens)})
        self._ids = np.full(256, self.unk_id, dtype=np.int64)
        for c in characters:
            self._ids[ord(c)] = self.vocab[c]

    def max_nucleotides(self, max_tokens: int) -> int:
        return max_tokens

    def tokenize(self, seq: str, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        ids = self._ids[np.frombuffer(seq.encode(), dtype=np.uint8)]
        starts = np.arange(len(seq), dtype=np.int64) + offset
        return ids, np.stack([starts, starts + 1], axis=1)

    def save(self, folder: str | Path) -> None:
        """Write ``tokenizer_config.json`` (the published class name and the characters)."""
        Path(folder, "tokenizer_config.json").write_text(
            json.dumps(
                {"tokenizer_class": self.tokenizer_class, "characters": list(self.characters)}
            )
        )


def _character_tokenizer(config_file: Path) -> CharTokenizer | None:
    """The character tokenizer a ``tokenizer_config.json`` names (HyenaDNA's, Caduceus's), or
    None."""
    try:
        config = json.loads(config_file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_file}: not valid JSON ({err})") from None
    if not isinstance(config, dict) or config.get("tokenizer_class") not in CharTokenizer.CLASSES:
        return None
    try:
        characters = "".join(config.get("characters") or "ACGTN")
        return CharTokenizer(characters, tokenizer_class=config["tokenizer_class"])
    except ValueError as err:
        raise ValueError(f"{config_file}: {err}") from None


def _special_tokens(folder: Path) -> dict[str, str]:
    """The special tokens a checkpoint folder names (``tokenizer_config.json``, then
    ``special_tokens_map.json``; an entry is a string or ``{"content": ...}``), by role."""
    names: dict[str, str] = {}
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        file = folder / name
        if not file.exists():
            continue
        try:
            entries = json.loads(file.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{file}: not valid JSON ({err})") from None
        for role in BpeTokenizer.DEFAULTS:
            value = entries.get(role) if isinstance(entries, dict) else None
            value = value.get("content") if isinstance(value, dict) else value
            if isinstance(value, str):
                names[role] = value
    return names


def read_vocab(path: str | Path) -> dict[str, int]:
    """Read a ``vocab.txt`` (one token a line, line number = id; a missing final newline is
    fine)."""
    lines = Path(path).read_text().splitlines()
    vocab: dict[str, int] = {}
    for i, tok in enumerate(lines):
        tok = tok.strip()
        if tok in vocab:
            raise ValueError(
                f"{path}: token {tok!r} appears twice (lines {vocab[tok] + 1} and {i + 1})"
            )
        vocab[tok] = i
    return vocab


def load_tokenizer(folder: str | Path) -> DnaTokenizer:
    """Read the tokenizer of a checkpoint folder, detecting its scheme.

    ``vocab.txt`` of all 4^k k-mers of one length plus ``[CLS]`` is DNABERT-1
    (k from the vocabulary); 6-mers plus single nucleotides and ``<cls>`` is
    Nucleotide Transformer; otherwise ``tokenizer.json`` is read as a fast
    tokenizer (DNABERT-2's BPE); without either, a ``tokenizer_config.json``
    naming HyenaDNA's or Caduceus's character tokenizer gives :class:`CharTokenizer`.

    Raises
    ------
    FileNotFoundError
        When the folder has neither ``vocab.txt`` nor ``tokenizer.json`` nor a
        character tokenizer's ``tokenizer_config.json``.
    ValueError
        When the vocabulary matches no supported scheme, naming the file.
    """
    folder = Path(folder)
    vocab_file, json_file = folder / "vocab.txt", folder / "tokenizer.json"
    if vocab_file.exists():
        vocab = read_vocab(vocab_file)
        lengths = {len(t) for t in vocab if len(t) > 1 and set(t) <= set(ALPHABET)}
        try:
            if len(lengths) == 1 and "[CLS]" in vocab:
                return KmerTokenizer(vocab, lengths.pop(), overlapping=True)
            if len(lengths) == 1 and "<cls>" in vocab:
                return KmerTokenizer(vocab, lengths.pop(), overlapping=False)
        except ValueError as err:
            raise ValueError(f"{vocab_file}: {err}") from None
        if not json_file.exists():
            bpe = (
                "; tokens of several lengths are a BPE vocabulary, which cuts sequences only "
                "with its merges: give the folder its tokenizer.json"
                if len(lengths) > 1
                else ""
            )
            raise ValueError(
                f"{vocab_file}: not a DNA k-mer vocabulary (k-mer lengths found: "
                f"{sorted(lengths) or 'none'}; expected all 4^k k-mers of one length with [CLS] "
                f"(DNABERT) or <cls> (Nucleotide Transformer)){bpe}"
            )
    if json_file.exists():
        try:
            return BpeTokenizer(json_file, _special_tokens(folder))
        except ValueError as err:
            raise ValueError(f"{json_file}: {err}") from None
        except Exception as err:  # the tokenizers library raises its own exception type
            raise ValueError(f"{json_file}: cannot be read as a tokenizer ({err})") from None
    char_config = folder / "tokenizer_config.json"
    char = _character_tokenizer(char_config) if char_config.exists() else None
    if char is not None:
        return char
    raise FileNotFoundError(
        f"{folder} has neither vocab.txt nor tokenizer.json (nor a tokenizer_config.json naming "
        "a character tokenizer): no tokenizer to load"
    )
