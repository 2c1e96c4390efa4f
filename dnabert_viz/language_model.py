"""Language-model scores: what a pretrained language model expects at each nucleotide.

A DNA language model downloaded as it was pretrained (DNABERT-1 and
DNABERT-2 as masked LMs, Nucleotide Transformer as ``EsmForMaskedLM``,
HyenaDNA as a causal LM) has no classifier head, but its language-model
head says which tokens it expects: at every masked token (masked LMs), or
at the next one (causal LMs). :func:`base_log_probs` turns that into a
distribution over the four bases at every nucleotide, exactly for each
tokenizer of a masked LM:

* **overlapping k-mers (DNABERT-1)**: nucleotide i is hidden by masking the
  (up to) k tokens that cover it, DNABERT's own contiguous span masking (its
  unmasked neighbours then reveal every other nucleotide, so i alone is
  hidden). Each masked token's distribution over the 4^k k-mers (special
  tokens left out, renormalised) is marginalised to the base at i's offset
  in that k-mer; the k marginals are combined by their **geometric mean**,
  renormalised (a product of experts divided by k): they are k readings of
  one context, so their plain product would count that context k times and
  be k times too sharp, while the arithmetic mean would let one flat
  reading hide a sharp one.
* **non-overlapping k-mers (Nucleotide Transformer)**: the token holding i
  is masked, and the four single-base variants of it (the reference k-mer
  with each base at i's offset; a single-nucleotide token's four bases) are
  scored among its logits, normalised over the four. One forward pass gives
  every nucleotide of the token.
* **one token per nucleotide (Caduceus)**: the same with single-nucleotide
  tokens only: nucleotide i's token is masked and the four bases are read
  among its logits.
* **BPE (DNABERT-2 and any ``tokenizer.json``)**, an approximation: the
  token covering i is masked and each alternative is the token's string with
  base b at i, **re-tokenised on its own** (the whole sequence re-tokenised
  might cut differently beyond that token). An alternative that is one token
  is scored by its log-probability at the mask; one of m > 1 tokens by the
  sum of its tokens' log-probabilities at m masks put in the covering
  token's place (a pseudo-likelihood). The four are normalised.

An ``N`` has no reference base: its scores are NaN (its neighbours are
scored as usual, with the N in their context). Windows (sequences longer
than the model's positions) are scored each on their own; a nucleotide in
several windows gets the mean of their log-probabilities, renormalised.
``strands="both"`` averages the log-probabilities of the sequence and of
its reverse complement (mapped back), renormalised, so the result does not
depend on the strand given.

**Causal LMs** (HyenaDNA: one token per nucleotide) are read in one of
two contexts (``context``):

* ``"left"`` (their default): log p(base at i | the bases before i), exact
  from one forward pass (the logits at token i - 1), normalised over the
  four bases. The first nucleotide of a sequence has no left context: NaN.
  The sum of these over a sequence is its log-likelihood (the first base
  left out).
* ``"both"``: log p(base at i | every other base), exact: the
  log-likelihood above of the sequence with each of the four bases at i,
  normalised over the four (the first base's own term taken as uniform).
  It costs 3 forward passes per nucleotide (batched), and it is what
  ``lm_mutation_map`` reads on a causal LM: there ``log p(alt) - log
  p(ref)`` is the change in the whole sequence's log-likelihood that the
  substitution makes, which sees what follows the site (the left-context
  ratio at i would ignore everything after i, the motif a base starts
  included).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch

from .checks import check_counts
from .intervals import scoring_function, split_input
from .model import DnaModel
from .runtime import show_progress
from .scores import Scores
from .sequences import ALPHABET, check_sequences, dinucleotide_shuffle, reverse_complement
from .tokenization import BpeTokenizer, CharTokenizer, KmerTokenizer, real_tokens

STRANDS = ("forward", "both")
LM_SCORES = ("lm_surprise", "lm_entropy", "lm_mutation_map")


CONTEXTS = ("left", "both")


def require_lm(m: DnaModel) -> None:
    """Raise, in one line, unless ``m`` has a language-model head (masked or causal).

    Raises
    ------
    ValueError
        Naming the model's class and what would work.
    """
    kind = type(m.model).__name__
    if not m.is_lm:
        raise ValueError(
            f"{m.name} has no language-model head ({kind}): language-model scores need "
            "the pretrained checkpoint as published (BertForMaskedLM, EsmForMaskedLM, "
            "DNABERT-2's and Caduceus's MLMs, HyenaDNA's causal LM); a fine-tuned classifier is "
            "explained with attention, attribution or ISM"
        )


def _context(m: DnaModel, context: str | None) -> str:
    """The context a model is read in: a masked LM always both sides; a causal LM the left
    unless told."""
    if context is not None and context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS} or None, not {context!r}")
    if m.is_masked_lm:
        if context == "left":
            raise ValueError(
                f"{m.name} is a masked LM: it reads both sides of a nucleotide (context='both')"
            )
        return "both"
    return context or "left"


def base_log_probs(
    m: DnaModel,
    sequences,
    *,
    context: str | None = None,
    strands: str = "forward",
    batch_size: int = 32,
    window_size: int | None = None,
    stride: int | None = None,
    region: tuple[int, int] | None = None,
    masked: bool = True,
    progress: bool | None = None,
) -> np.ndarray:
    """The model's log-probability of each base at every nucleotide, the rest of the sequence
    (a causal LM: by default the bases before it) given.

    Parameters
    ----------
    m : DnaModel
        A language model (:func:`require_lm`).
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column.
    context : {"left", "both"} or None
        What a causal LM is given (module docstring): the bases before the
        nucleotide (None's choice for a causal LM; one forward pass) or all
        the others (exact, 3 forward passes per nucleotide). A masked LM
        reads both sides (None or "both").
    strands : {"forward", "both"}
        Score the sequence as given, or average with its reverse complement.
    batch_size : int
        Masked (or substituted) copies per forward pass.
    window_size, stride : int, optional
        Windows for sequences longer than the model's positions (nucleotides).
    region : (int, int), optional
        Score only nucleotides ``start <= p < end`` (the whole sequence is
        still the context); NaN elsewhere.
    masked : bool
        Hide each nucleotide as described above (the default). False reads
        the same tokens in the unmasked sequence instead, one forward pass
        per window: the "wild-type marginal" of ESM-1v (Meier et al. 2021).
        A model pretrained with BERT's rule (some selected tokens left
        unchanged, with the loss on them) learns to predict an unmasked
        token as itself, which pulls these towards the base that is there;
        one pretrained on masks only (:func:`dnabert_viz.train_masked_lm`)
        reads an unmasked token like a masked one. Overlapping and
        non-overlapping k-mers only: a BPE alternative re-tokenised into
        several tokens has no unmasked reading.
    progress : bool or None
        Show a progress bar; None: when someone watches.

    Returns
    -------
    numpy.ndarray
        (N, longest length, 4) float32 natural-log probabilities of A, C, G,
        T; each position's four sum to 1 in probability; NaN at N, outside
        ``region`` and past each sequence's end; a causal LM read from the
        left also at each sequence's (and window's) first nucleotide.
    """
    require_lm(m)
    context = _context(m, context)
    if strands not in STRANDS:
        raise ValueError(f"strands must be one of {STRANDS}, not {strands!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    sequences = check_sequences(split_input(sequences)[0])
    if not masked and m.is_causal_lm:
        raise ValueError(
            f"{m.name} is a causal LM: it hides nothing, so masked=False does not apply (its "
            "reading from the bases before a nucleotide is context='left')"
        )
    if not masked and isinstance(m.tokenizer, BpeTokenizer):
        raise ValueError(
            f"{m.name}: a BPE model has no unmasked reading of one nucleotide (an alternative "
            "base re-tokenises its token into other, often several, tokens); use the masked "
            "scores (masked=True: llr, pll_diff)"
        )
    options = {
        "batch_size": batch_size,
        "window_size": window_size,
        "stride": stride,
        "masked": masked,
        "context": context,
    }
    start, end = (0, max(map(len, sequences))) if region is None else region
    if not 0 <= start < end:
        raise ValueError(f"region must be (start, end) with 0 <= start < end, not {region}")
    regions = [(start, min(end, len(s))) for s in sequences]
    forward = _one_strand(m, sequences, regions, progress=progress, **options)
    if strands == "forward":
        return forward
    rc_regions = [(len(s) - b, len(s) - a) for s, (a, b) in zip(sequences, regions)]
    rc = [reverse_complement(s) for s in sequences]
    reverse = _one_strand(m, rc, rc_regions, progress=False, **options)
    for i, seq in enumerate(sequences):
        # position p of the reverse complement is L - 1 - p here, its base the complement
        # (ACGT reversed is its complement TGCA)
        reverse[i, : len(seq)] = reverse[i, : len(seq)][::-1, ::-1]
    return _normalise((forward + reverse) / 2)


def _normalise(log_probs: np.ndarray) -> np.ndarray:
    """Log-probabilities renormalised over the last axis (NaN rows stay NaN)."""
    return (log_probs - np.logaddexp.reduce(log_probs, axis=-1, keepdims=True)).astype(np.float32)


def _one_strand(
    m, sequences, regions, *, context, batch_size, window_size, stride, masked, progress
) -> np.ndarray:
    tok = m.tokenizer
    if m.is_causal_lm:
        if not isinstance(tok, CharTokenizer):
            raise ValueError(f"{m.name}: causal-LM scores need one token per nucleotide")
        rows = _causal_queries(m, context)
        enc = m.encode(sequences, window_size=window_size, stride=stride)
    elif isinstance(tok, (KmerTokenizer, CharTokenizer)):
        rows = _kmer_queries if getattr(tok, "overlapping", False) else _token_queries
        enc = m.encode(sequences, window_size=window_size, stride=stride)
    elif isinstance(tok, BpeTokenizer):
        rows = _bpe_queries
        # an alternative of m tokens in a token's place makes the row m - 1 tokens longer
        longest = max(len(t) for t in tok.vocab if set(t) <= set(ALPHABET))
        enc = tok.encode(sequences, m.max_tokens - longest + 1, window_size, stride)
    else:
        raise ValueError(f"{m.name}: no language-model scores for {type(tok).__name__} tokens")
    sums = np.zeros((len(sequences), int(enc.lengths.max()), 4))
    counts = np.zeros(sums.shape[:2])
    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(enc.input_ids), desc="language model", disable=not show_progress(progress)
    )
    for r in range(len(enc.input_ids)):
        width = int(enc.attention_mask[r].sum())
        ids, spans = enc.input_ids[r, :width], enc.spans[r, :width]
        seq = enc.sequences[enc.sequence_index[r]]
        copies, combine = rows(tok, ids, spans, seq, regions[enc.sequence_index[r]])
        if masked:
            log_softmaxes = list(_masked_log_softmax(m, copies, batch_size))
        else:
            log_softmaxes = _unmasked_log_softmax(m, ids, [reads for _, reads in copies])
        positions, log_probs = combine(log_softmaxes)
        s = enc.sequence_index[r]
        sums[s, positions] += log_probs
        counts[s, positions] += 1
        bar.update(1)
    bar.close()
    out = np.full(sums.shape, np.nan, dtype=np.float32)
    seen = counts > 0
    out[seen] = _normalise(sums[seen] / counts[seen][:, None])
    for i, (seq, (a, b)) in enumerate(zip(sequences, regions)):
        out[i, np.flatnonzero(np.frombuffer(seq.encode(), np.uint8) == ord("N"))] = np.nan
        out[i, :a] = out[i, b:] = np.nan
    return out


def _causal_queries(m: DnaModel, context: str):
    """A causal LM with one token per nucleotide: the row itself, and with ``context="both"``
    one copy per substitution in the region; each copy read at every position."""
    bases = np.array([m.tokenizer.vocab[b] for b in ALPHABET])

    def queries(tok, ids: np.ndarray, spans: np.ndarray, seq: str, region):
        tokens = _tokens_in(spans, region)
        if context == "both":
            tokens = tokens[np.isin(ids[tokens], bases)]  # an N has no reference to replace
        reads = np.arange(len(ids))
        copies: Copies = [(ids, reads)]
        for t in tokens if context == "both" else ():
            for b in bases[bases != ids[t]]:
                copy = ids.copy()
                copy[t] = b
                copies.append((copy, reads))

        def combine(log_softmaxes: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
            # next-base log-probabilities over the four bases: row t - 1 predicts token t
            nexts = [torch.log_softmax(lp[:, bases].double(), dim=-1) for lp in log_softmaxes]
            if context == "left":
                ahead = tokens[tokens > 0]
                return spans[ahead, 0], nexts[0][ahead - 1].numpy()
            likelihoods = [
                _log_likelihood(copy, lp, spans, bases) for (copy, _), lp in zip(copies, nexts)
            ]
            # the reference, then 3 copies per token in copy order: put the reference back in
            # its base's place among the four
            out = np.empty((len(tokens), 4))
            for j, t in enumerate(tokens):
                alts = iter(likelihoods[1 + 3 * j : 4 + 3 * j])
                out[j] = [likelihoods[0] if b == ids[t] else next(alts) for b in bases]
            return spans[tokens, 0], _normalise(out)

        return copies, combine

    return queries


def _log_likelihood(
    ids: np.ndarray, next_log_probs: torch.Tensor, spans: np.ndarray, bases: np.ndarray
) -> float:
    """A row's log-likelihood under a causal LM: the sum of its next-base log-probabilities (T, 4)
    at its real tokens after the first; N (no base) left out."""
    real = np.flatnonzero(real_tokens(spans))
    later = real[(real > 0) & np.isin(ids[real], bases)]
    return float(next_log_probs[later - 1, np.searchsorted(bases, ids[later])].sum())


def _tokens_in(spans: np.ndarray, region: tuple[int, int]) -> np.ndarray:
    """Positions of the real tokens whose span meets ``region``."""
    tokens = np.flatnonzero(real_tokens(spans))
    return tokens[(spans[tokens, 1] > region[0]) & (spans[tokens, 0] < region[1])]


Copies = list[tuple[np.ndarray, np.ndarray]]
"""Masked copies of one row: (token ids (T',), token positions to read (R,))."""


@torch.no_grad()
def _masked_log_softmax(m: DnaModel, copies: Copies, batch_size: int) -> Iterator[torch.Tensor]:
    """Each copy's log-softmax over the vocabulary at its read positions, (R, V) float32 on the
    CPU, in the order of ``copies``; copies of different lengths are padded in a batch."""
    pad = m.tokenizer.pad_id
    for start in range(0, len(copies), batch_size):
        chunk = copies[start : start + batch_size]
        width = max(len(ids) for ids, _ in chunk)
        ids = np.full((len(chunk), width), pad, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for j, (row, _) in enumerate(chunk):
            ids[j, : len(row)], mask[j, : len(row)] = row, 1
        logits = m.model(
            input_ids=torch.as_tensor(ids, device=m.device),
            attention_mask=torch.as_tensor(mask, device=m.device),
        ).logits
        for j, (_, reads) in enumerate(chunk):
            yield torch.log_softmax(logits[j, torch.as_tensor(reads)].float(), dim=-1).cpu()


@torch.no_grad()
def _unmasked_log_softmax(m: DnaModel, ids: np.ndarray, reads: list[np.ndarray]):
    """The log-softmax over the vocabulary of one unmasked row (T',) of token ids, read at each
    copy's positions: a list of (R, V) float32 tensors on the CPU."""
    logits = m.model(input_ids=torch.as_tensor(ids[None], device=m.device)).logits[0]
    log_softmax = torch.log_softmax(logits.float(), dim=-1).cpu()
    return [log_softmax[torch.as_tensor(r)] for r in reads]


def _kmer_queries(tok: KmerTokenizer, ids: np.ndarray, spans: np.ndarray, seq: str, region):
    """Overlapping k-mers: one copy per nucleotide with the tokens covering it masked."""
    k, tokens = tok.k, np.flatnonzero(real_tokens(spans))
    first, last = int(spans[tokens, 0].min()), int(spans[tokens, 1].max())
    first, last = max(first, region[0]), min(last, region[1])  # an empty range outside it
    copies, offsets = [], []
    for p in range(first, last):
        cover = tokens[(spans[tokens, 0] <= p) & (p < spans[tokens, 1])]
        masked = ids.copy()
        masked[cover] = tok.mask_id
        copies.append((masked, cover))
        offsets.append(p - spans[cover, 0])
    # base_at[o] is (4^k, 4): which base each k-mer (ACGT order, first base most significant) has
    # at offset o
    codes = np.arange(4**k)
    base_at = torch.stack(
        [
            torch.nn.functional.one_hot(torch.as_tensor((codes // 4 ** (k - 1 - o)) % 4), 4)
            for o in range(k)
        ]
    ).double()
    table = torch.as_tensor(tok._table)

    def combine(log_softmaxes: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros((len(copies), 4))
        for c, (lp, offs) in enumerate(zip(log_softmaxes, offsets)):
            kmers = torch.softmax(lp[:, table].double(), dim=-1)  # renormalised over k-mers
            marginals = torch.stack([kmers[r] @ base_at[o] for r, o in enumerate(offs)])
            out[c] = torch.log(marginals).mean(dim=0).numpy()  # geometric mean (renormalised)
        return np.arange(first, last), out

    return copies, combine


def _token_queries(tok, ids: np.ndarray, spans: np.ndarray, seq: str, region):
    """Non-overlapping k-mers or single characters: one copy per token, its single-base variants
    scored."""
    tokens = _tokens_in(spans, region)
    copies = []
    for t in tokens:
        masked = ids.copy()
        masked[t] = tok.mask_id
        copies.append((masked, np.array([t])))
    singles = np.array([tok.vocab[b] for b in ALPHABET])

    def combine(log_softmaxes: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        positions, out = [], []
        for t, lp in zip(tokens, log_softmaxes):
            start, end = spans[t]
            text = seq[start:end]
            if "N" in text:
                continue
            if end - start == 1:
                candidates = singles[None, :]
            else:
                digits = np.array([ALPHABET.index(c) for c in text])
                place = 4 ** np.arange(len(text) - 1, -1, -1)
                code = int(digits @ place)
                candidates = tok._table[
                    code + (np.arange(4)[None, :] - digits[:, None]) * place[:, None]
                ]
            scores = lp[0, torch.as_tensor(candidates)].double()
            out.append(torch.log_softmax(scores, dim=-1).numpy())
            positions.append(np.arange(start, end))
        if not positions:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 4))
        return np.concatenate(positions), np.concatenate(out)

    return copies, combine


def _bpe_queries(tok: BpeTokenizer, ids: np.ndarray, spans: np.ndarray, seq: str, region):
    """BPE: per token, one copy with it masked, and one per length m > 1 of its re-tokenised
    alternatives, with m masks in its place."""
    tokens = _tokens_in(spans, region)
    copies: Copies = []
    plans = []  # per token: its span and, per (offset, base), (copy index, token ids)
    for t in tokens:
        start, end = (int(x) for x in spans[t])
        text = seq[start:end]
        single = len(copies)
        masked = ids.copy()
        masked[t] = tok.mask_id
        copies.append((masked, np.array([t])))
        if "N" in text:
            plans.append((start, end, None))
            continue
        alternatives, by_length = {}, {1: single}
        for o in range(end - start):
            for b in ALPHABET:
                alt_ids = tuple(int(i) for i in tok.tokenize(text[:o] + b + text[o + 1 :])[0])
                n = len(alt_ids)
                if n not in by_length:
                    by_length[n] = len(copies)
                    row = np.concatenate([ids[:t], np.full(n, tok.mask_id), ids[t + 1 :]])
                    copies.append((row, t + np.arange(n)))
                alternatives[o, b] = (by_length[n], alt_ids)
        plans.append((start, end, alternatives))

    def combine(log_softmaxes: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        positions, out = [], []
        for start, end, alternatives in plans:
            if alternatives is None:
                continue
            for o in range(end - start):
                scores = torch.zeros(4, dtype=torch.float64)
                for j, b in enumerate(ALPHABET):
                    copy, alt_ids = alternatives[o, b]
                    lp = log_softmaxes[copy]
                    scores[j] = sum(float(lp[r, i]) for r, i in enumerate(alt_ids))
                out.append(torch.log_softmax(scores, dim=-1).numpy())
                positions.append(start + o)
        if not positions:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 4))
        return np.array(positions), np.stack(out)

    return copies, combine


def _reference(sequences: list[str], log_probs: np.ndarray) -> np.ndarray:
    """(N, L) log-probability of each sequence's own base; NaN at N and past the end."""
    out = np.full(log_probs.shape[:2], np.nan, dtype=np.float32)
    for i, seq in enumerate(sequences):
        codes = np.frombuffer(seq.encode(), np.uint8)
        known = np.flatnonzero(codes != ord("N"))
        out[i, known] = log_probs[i, known, [ALPHABET.index(chr(c)) for c in codes[known]]]
    return out


@scoring_function
def lm_scores(
    m: DnaModel,
    sequences,
    *,
    kind: str = "lm_surprise",
    strands: str = "forward",
    context: str | None = None,
    batch_size: int = 32,
    window_size: int | None = None,
    stride: int | None = None,
    progress: bool | None = None,
) -> Scores:
    """One of the language-model scores of ``sequences`` (see :mod:`dnabert_viz.methods`).

    Parameters
    ----------
    m : DnaModel
        A language model, masked or causal.
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column (as :func:`dnabert_viz.score`).
    kind : {"lm_surprise", "lm_entropy", "lm_mutation_map"}
        ``lm_surprise``: -log p(reference base), nats. ``lm_entropy``: the
        entropy of the four-base distribution, nats. ``lm_mutation_map``:
        log p(reference) - mean log p(base), nats (how much the model prefers
        what is there), with ``extra["effects"]`` (N, L, 4) log p(alt) -
        log p(ref) (0 at the reference: the ISM convention) and
        ``extra["hypothetical"]`` (N, L, 4) log p(base) - mean log p(base),
        the same map centred over the four bases so that a base's
        contribution (the hypothetical at the reference) is not 0: what
        seqlets and TF-MoDISco read.
    strands, batch_size, window_size, stride, progress
        As in :func:`base_log_probs`.
    context : {"left", "both"} or None
        As in :func:`base_log_probs`; on a causal LM None is ``"left"`` for
        ``lm_surprise`` and ``lm_entropy`` (one forward pass; the first
        nucleotide NaN) and ``"both"`` for ``lm_mutation_map`` (effects are
        the whole sequence's log-likelihood change; 3 forward passes per
        nucleotide).

    Returns
    -------
    Scores
        values (N, L); every kind keeps ``extra["log_probs"]`` (N, L, 4).
    """
    if kind not in LM_SCORES:
        raise ValueError(f"kind must be one of {LM_SCORES}, not {kind!r}")
    if kind == "lm_mutation_map" and m.is_causal_lm and context is None:
        context = "both"
    options = {"strands": strands, "context": context, "batch_size": batch_size}
    options.update(window_size=window_size, stride=stride)
    log_probs = base_log_probs(m, sequences, progress=progress, **options)
    reference = _reference(sequences, log_probs)
    extra = {"log_probs": log_probs}
    if kind == "lm_surprise":
        values = -reference
    elif kind == "lm_entropy":
        values = -np.sum(np.exp(log_probs) * log_probs, axis=-1)
    else:
        centred = log_probs - log_probs.mean(axis=-1, keepdims=True)
        values = _reference(sequences, centred)
        extra.update(effects=log_probs - reference[..., None], hypothetical=centred)
    meta = {"model": m.name, **options}
    return Scores(sequences, values.astype(np.float32), kind, meta, extra)


def lm_variant_effects(
    m: DnaModel,
    table,
    *,
    sequences=None,
    strands: str = "forward",
    wt_marginal: bool = False,
    n_background: int = 0,
    random_state: int = 0,
    batch_size: int = 32,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Zero-shot variant effects from a language model (masked or causal): no labels, no
    classifier.

    Parameters
    ----------
    m : DnaModel
        A language model, masked or causal.
    table : pandas.DataFrame or path
        Variants in any form :func:`dnabert_viz.variant_effects` reads
        (``position``/``ref``/``alt``, DNABERT's mutation file, ...).
    sequences : list of str, optional
        The sequences that the table's ``sequence_index`` refers to.
    strands : {"forward", "both"}
        Score each sequence as given, or average with its reverse complement
        (every score then does not depend on the strand given).
    wt_marginal : bool
        Add the ``wt_marginal`` column (k-mer models; a BPE model refuses it,
        see :func:`base_log_probs`'s ``masked``).
    n_background : int
        With n > 0, each single-nucleotide variant's ``llr`` gets a percentile
        (the share, in %, of a background's absolute llr at most the variant's)
        against n random substitutions (a window, a position, one of the
        other bases, drawn uniformly) in the variants' own windows
        (``percentile_substitutions``) and n in dinucleotide-shuffled copies
        of the windows (one copy each; ``percentile_shuffled``); indels get
        NaN. On a masked LM the background's ``llr`` come from the windows'
        masked log-probabilities, so they cost one more scoring of the
        windows (the shuffled copies); on a causal LM one forward pass each.
    random_state : int
        Seed of the backgrounds' draws.
    batch_size : int
        Masked copies per forward pass.
    progress : bool or None
        Show progress bars; None: when someone watches.

    Returns
    -------
    pandas.DataFrame
        One row per variant, led by the table's ``CHROM``, ``POS``, ``ID``,
        ``REF``, ``ALT``, ``line`` and ``source`` where it has them
        (:func:`dnabert_viz.read_vcf`); then ``sequence_index``, ``start``, ``end``,
        ``ref``, ``alt``, then

        - ``llr``: the masked-marginal log-likelihood ratio log p(alt) -
          log p(ref) at the site, the site hidden and the rest of the
          reference given (single-nucleotide variants; NaN otherwise);
        - ``pll_ref``, ``pll_alt``, ``pll_diff``: pseudo-log-likelihoods
          (the sum over the sequence of log p(base | the rest)) of the
          reference and the variant sequence, and alt - ref (any variant,
          indels included);
        - ``embedding_distance``: cosine distance between the mean-pooled
          last hidden states of the two sequences;
        - with ``wt_marginal``, ``wt_marginal``: log p(alt) - log p(ref) at
          the site read from the unmasked reference (one forward pass per
          sequence instead of one per nucleotide or token; single-nucleotide
          variants). It may be pulled towards the reference (see
          :func:`base_log_probs`'s ``masked``): rank variants by it, don't
          mix it with ``llr``.

        All in nats where they are log-probabilities. On a causal LM ``pll_*`` are the
        sequences' exact log-likelihoods (each base from the bases before it;
        the first left out) and ``llr`` is the exact whole-sequence ratio,
        ``pll_diff``.
    """
    from .attribution import apply_variants, keyed_variants, normalise_variants, percentiles

    require_lm(m)
    check_counts(n_background=n_background, minimum=0)
    if not isinstance(table, pd.DataFrame):
        from .io import read_mutation_file

        table = read_mutation_file(table)
    variants, seqs = normalise_variants(table, sequences)
    mutated = apply_variants(variants, seqs)
    used = sorted(set(variants.sequence_index))
    options = {"strands": strands, "batch_size": batch_size, "progress": progress}
    if m.is_causal_lm:
        options["context"] = "left"
    if wt_marginal:  # first: one pass per sequence, and a BPE model refuses it before any work
        unmasked = dict(
            zip(used, base_log_probs(m, [seqs[i] for i in used], masked=False, **options))
        )
    reference = dict(zip(used, _pll_and_log_probs(m, [seqs[i] for i in used], **options)))
    out = keyed_variants(table, variants)
    llr = np.full(len(out), np.nan)
    for r, (i, start, end, ref, alt) in enumerate(
        out[["sequence_index", "start", "end", "ref", "alt"]].itertuples(index=False)
    ):
        if end - start == 1 and len(alt) == 1 and "N" not in ref + alt:
            site = reference[i][1][start]
            llr[r] = site[ALPHABET.index(alt)] - site[ALPHABET.index(ref)]
    out["llr"] = llr
    if wt_marginal:
        snv = ~np.isnan(llr)
        out["wt_marginal"] = np.nan
        out.loc[snv, "wt_marginal"] = [
            unmasked[i][start, ALPHABET.index(alt)] - unmasked[i][start, ALPHABET.index(ref)]
            for i, start, ref, alt in out.loc[
                snv, ["sequence_index", "start", "ref", "alt"]
            ].itertuples(index=False)
        ]
    out["pll_ref"] = [reference[i][0] for i in out.sequence_index]
    out["pll_alt"] = [pll for pll, _ in _pll_and_log_probs(m, mutated, **options)]
    out["pll_diff"] = out.pll_alt - out.pll_ref
    if m.is_causal_lm:
        out.loc[out.llr.notna(), "llr"] = out.pll_diff
    out["embedding_distance"] = _embedding_distance(
        m, [seqs[i] for i in out.sequence_index], mutated, strands, batch_size
    )
    if n_background:
        rng = np.random.default_rng(random_state)
        windows = [seqs[i] for i in used]
        scored = [reference[i] for i in used]
        shuffled = [dinucleotide_shuffle(w, rng) for w in windows]
        for column, contexts, known in (
            ("percentile_substitutions", windows, scored),
            ("percentile_shuffled", shuffled, None),
        ):
            if known is None:
                known = _pll_and_log_probs(m, contexts, **options)
            background = _substitution_llrs(m, contexts, known, n_background, rng, options=options)
            out[column] = percentiles(out["llr"].to_numpy(), background)
    return out


def _substitution_llrs(
    m: DnaModel,
    contexts: list[str],
    known: list[tuple[float, np.ndarray]],
    n: int,
    rng: np.random.Generator,
    *,
    options: dict,
) -> np.ndarray:
    """``llr`` of ``n`` random single-nucleotide substitutions in ``contexts``, (n,), as
    :func:`lm_variant_effects` computes a variant's, given the contexts' pseudo-log-likelihoods
    and log-probabilities (``known``, :func:`_pll_and_log_probs`'s): on a masked LM from the
    masked log-probabilities, NaN at an N; on a causal LM the exact log-likelihood ratio (one
    forward pass per substitution)."""
    from .attribution import draw_substitutions

    which, positions, alts = draw_substitutions(
        contexts, rng, which=rng.integers(len(contexts), size=n)
    )
    if m.is_causal_lm:
        mutated = [
            contexts[w][:j] + a + contexts[w][j + 1 :] for w, j, a in zip(which, positions, alts)
        ]
        after = np.array([pll for pll, _ in _pll_and_log_probs(m, mutated, **options)])
        return after - np.array([known[w][0] for w in which])
    out = np.full(n, np.nan)
    for r, (w, j, alt) in enumerate(zip(which, positions, alts)):
        ref = contexts[w][j]
        if ref != "N":
            site = known[w][1][j]
            out[r] = site[ALPHABET.index(alt)] - site[ALPHABET.index(ref)]
    return out


def _pll_and_log_probs(m, sequences, **options) -> list[tuple[float, np.ndarray]]:
    """Each sequence's pseudo-log-likelihood and its (L, 4) base log-probabilities."""
    log_probs = base_log_probs(m, sequences, **options)
    reference = _reference(sequences, log_probs)
    return [
        (float(np.nansum(reference[i, : len(s)])), log_probs[i, : len(s)])
        for i, s in enumerate(sequences)
    ]


def _embedding_distance(m, first, second, strands: str, batch_size: int) -> np.ndarray:
    """Cosine distance between the embeddings of paired sequences, (N,); with both strands the
    mean of the two strands' distances."""
    pairs = [(first, second)]
    if strands == "both":
        pairs.append(tuple([reverse_complement(s) for s in group] for group in (first, second)))
    distances = []
    for a, b in pairs:
        x, y = (
            m.embed(a, batch_size=batch_size).layer(-1),
            m.embed(b, batch_size=batch_size).layer(-1),
        )
        cosine = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
        distances.append(1 - cosine)
    return np.mean(distances, axis=0)
