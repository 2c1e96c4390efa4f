"""The head atlas: which attention heads look at the sites, and which the model needs.

For every (layer, head) of an attention model, over a set of sequences:

* ``auroc``: how well the head's nucleotide-level [CLS]-row attention (the query row of
  ``[CLS]``, carried onto nucleotides by the one token -> nucleotide rule, as
  :func:`dnabert_viz.cls_attention` does for one head) ranks annotated positions above the rest:
  the mean per-sequence AUROC;
* ``ablation``: the mean change of the model's output (the target's log-odds for a classifier,
  its value for regression) when the head is masked (its output zeroed before the attention's
  output projection, :func:`mask_head`);
* ``gradient``: gradient-weighted attention, the sum over queries and keys of
  ``attention x d output / d attention``, mean over sequences. It is the first-order estimate
  of minus the ablation: masking a head is setting its attention to zero.

Two atlases of the same heads subtract (``fine_tuned - pretrained``), or
``head_atlas(..., compare=other)`` gives the difference at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .attention import _AttentionTap, _heads, _layers, attention_modules
from .checks import check_counts
from .intervals import split_input
from .markup import summary
from .model import DnaModel
from .motifs import MotifSet
from .scores import Scores
from .sequences import check_sequences, sequence_digest
from .tokenization import NucleotideAccumulator, per_sequence_mean
from .truth import oriented, truth_mask

QUANTITIES = ("auroc", "ablation", "gradient")
LABELS = {
    "auroc": "AUROC of [CLS] attention at the annotation",
    "ablation": "change in the output, head masked",
    "gradient": "attention x gradient",
}


@dataclass(repr=False)
class HeadAtlas:
    """What :func:`head_atlas` found: one number per (layer, head) and quantity.

    Attributes
    ----------
    auroc : numpy.ndarray
        (layers, heads) mean per-sequence AUROC of the head's nucleotide [CLS] attention at the
        annotated positions (0.5: no better than chance); NaN without an annotation.
    ablation : numpy.ndarray
        (layers, heads) mean change of the output (masked minus intact: negative where the head
        supports the target); NaN for a model without a sequence head.
    gradient : numpy.ndarray
        (layers, heads) mean over sequences of the sum of attention x d output / d attention;
        NaN for a model without a sequence head.
    meta : dict
        ``model``, ``target``, ``output`` (``"log-odds"`` or ``"value"``), ``n`` sequences,
        ``digest`` (of the sequences), ``annotation`` (what it was, in words), ``n_truth``
        (sequences with annotated and other positions) and, for a difference, ``difference``
        (``"a - b"``).
    """

    auroc: np.ndarray
    ablation: np.ndarray
    gradient: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(layers, heads)."""
        return self.auroc.shape

    def values(self, quantity: str) -> np.ndarray:
        """(layers, heads) values of ``quantity`` (one of :data:`QUANTITIES`)."""
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
        return getattr(self, quantity)

    def head(self, layer: int, head: int) -> dict[str, float]:
        """The three numbers of one head (``layer`` may count from the last)."""
        layer = _layers(self.shape[0], layer)[0]
        head = _heads(self.shape[1], head)[0]
        return {q: float(self.values(q)[layer, head]) for q in QUANTITIES}

    def table(self) -> pd.DataFrame:
        """One row per head: ``layer``, ``head``, ``auroc``, ``ablation``, ``gradient``."""
        layers, heads = np.indices(self.shape)
        frame = {"layer": layers.ravel(), "head": heads.ravel()}
        return pd.DataFrame({**frame, **{q: self.values(q).ravel() for q in QUANTITIES}})

    def top(self, quantity: str, *, n: int = 3) -> pd.DataFrame:
        """The ``n`` heads first by ``quantity``: the highest AUROC (of one atlas), else the
        largest in absolute value (ablation, gradient, any difference); NaN last."""
        values = self.values(quantity)
        key = values if quantity == "auroc" and "difference" not in self.meta else abs(values)
        order = np.argsort(-np.nan_to_num(key.ravel(), nan=-np.inf), kind="stable")[:n]
        return self.table().iloc[order].reset_index(drop=True)

    def __sub__(self, other: HeadAtlas) -> HeadAtlas:
        """The difference of two atlases of the same heads and sequences (``self - other``)."""
        if not isinstance(other, HeadAtlas):
            return NotImplemented
        if other.shape != self.shape:
            raise ValueError(
                f"atlases of {self.shape[0]} x {self.shape[1]} and {other.shape[0]} x "
                f"{other.shape[1]} heads (layers x heads): compare models of one architecture"
            )
        if other.meta.get("digest") != self.meta.get("digest"):
            raise ValueError(
                f"the atlases are of other sequences ({self.meta.get('n')} and "
                f"{other.meta.get('n')}, digests differ): compute both on the same sequences"
            )
        meta = {**self.meta, "difference": f"{self.meta['model']} - {other.meta['model']}"}
        return HeadAtlas(*(self.values(q) - other.values(q) for q in QUANTITIES), meta)

    def __repr__(self) -> str:
        what = self.meta.get("difference", self.meta.get("model"))
        return (
            f"HeadAtlas({what}: {self.shape[0]} layers x {self.shape[1]} heads, "
            f"{self.meta.get('n')} sequences)"
        )

    def _repr_html_(self) -> str:
        """The settings and the top head by each quantity."""
        rows = [
            ("model", str(self.meta.get("difference", self.meta.get("model")))),
            ("heads", f"{self.shape[0]} layers x {self.shape[1]} heads"),
            ("sequences", str(self.meta.get("n"))),
            ("annotation", str(self.meta.get("annotation"))),
        ]
        for q in QUANTITIES:
            best = self.top(q, n=1).iloc[0]
            rows.append(
                (f"top by {q}", f"layer {best['layer']}, head {best['head']}: {best[q]:+.3g}")
            )
        return summary("HeadAtlas", rows)


@contextlib.contextmanager
def mask_head(m: DnaModel, layer: int, head: int) -> Iterator[None]:
    """Run ``m`` with one attention head masked inside the block.

    The head's slice of its self-attention's output (B, T, heads x head size, before the output
    projection) is set to zero: the same as zeroing the output projection's columns of that
    head, or its attention weights.

    Parameters
    ----------
    m : DnaModel
        An attention model.
    layer : int
        The layer (negative counts from the last).
    head : int
        The head, 0 .. heads - 1.
    """
    if not m.returns_attention:
        raise NotImplementedError(m.why_no_attention)
    cfg = m.model.config
    layer = _layers(cfg.num_hidden_layers, layer)[0]
    head = _heads(cfg.num_attention_heads, head)[0]
    n_heads = cfg.num_attention_heads

    def zero(_module, _inputs, out):
        context = out[0] if isinstance(out, tuple) else out
        size = context.shape[-1] // n_heads
        masked = context.clone()
        masked[..., head * size : (head + 1) * size] = 0
        return (masked, *out[1:]) if isinstance(out, tuple) else masked

    handle = attention_modules(m)[layer].register_forward_hook(zero)
    try:
        yield
    finally:
        handle.remove()


def head_atlas(
    m: DnaModel,
    sequences,
    *,
    annotation=None,
    top: float = 0.1,
    target: int = 1,
    compare: DnaModel | None = None,
    batch_size: int = 32,
    progress: bool | None = None,
) -> HeadAtlas:
    """AUROC at an annotation, ablation and gradient-weighted attention of every head.

    Parameters
    ----------
    m : DnaModel
        An attention model; ablation and gradient need a sequence head (classifier,
        multi-label or regression), else they are NaN.
    sequences : str, list of str or pandas.DataFrame
        N sequences that fit the model's positions (a table: its ``sequence`` column, and
        its coordinates for a BED annotation).
    annotation : optional
        Where the sites are, any of: a boolean (N, L) mask (L at least the longest
        sequence); a table (or TSV file, such as the demo's ``planted.tsv``) of
        ``sequence_index``, ``start``, ``end`` (0-based, end exclusive), where
        ``sequence_index`` is the position in ``sequences``, or, when ``sequences`` is a
        table, its index label (the demo's planted table with ``demo.table.loc[rows]``; sites
        of other rows are left out); a :class:`MotifSet` of these sequences (its instances);
        a BED file of known sites (``.bed``, or a table with ``chrom``, ``start``, ``end``)
        with ``sequences`` read by :func:`dnabert_viz.read_intervals`; or a :class:`Scores` of
        these sequences, whose ``top`` fraction of positions (per sequence, highest first;
        ISM's lowest) is the annotation. None: no AUROC.
    top : float
        The fraction of each sequence's positions a Scores annotation marks (at least one).
    target : int
        The output read (a class's or label's log-odds, or a regression value).
    compare : DnaModel, optional
        A model of the same architecture (the pretrained checkpoint of a fine-tuned ``m``):
        the result is this atlas minus that model's, on the same sequences and annotation.
    batch_size : int
        Sequences per forward pass.
    progress : bool or None
        Show progress bars; None (default): in Jupyter and terminals only.

    Returns
    -------
    HeadAtlas
        ``auroc``, ``ablation``, ``gradient``, each (layers, heads); ``table()``, ``top()``.

    Raises
    ------
    NotImplementedError
        A model without attention (HyenaDNA, Caduceus): why, and what to use instead.
    ValueError
        An annotation of another shape, of other sequences or marking nothing, a BED without
        coordinates, a target the model lacks, a ``compare`` model of other heads.
    """
    if not m.returns_attention:
        raise NotImplementedError(m.why_no_attention)
    check_counts(batch_size=batch_size)
    given, coordinates = split_input(sequences)
    seqs = check_sequences(given)
    lengths = np.array([len(s) for s in seqs])
    mask = None
    if annotation is not None:
        mask = annotation_mask(annotation, seqs, sequences, coordinates, top=top)
        if not mask.any():
            raise ValueError(
                f"the annotation marks no position of these {len(seqs)} sequences (a table's "
                "sequence_index: positions in the list, or the index labels of a table given)"
            )
    atlas = _atlas(m, seqs, mask, target, batch_size, progress)
    atlas.meta["annotation"] = _describe(annotation, mask, lengths)
    if compare is None:
        return atlas
    if not compare.returns_attention:
        raise NotImplementedError(compare.why_no_attention)
    theirs = _atlas(compare, seqs, mask, target, batch_size, progress)
    theirs.meta["annotation"] = atlas.meta["annotation"]
    return atlas - theirs


def _atlas(m, seqs, mask, target, batch_size, progress) -> HeadAtlas:
    cfg = m.model.config
    n_layers, n_heads = cfg.num_hidden_layers, cfg.num_attention_heads
    classifier = m.is_classifier
    if classifier:
        m._require_target(target)
    output = "probability" if m.problem_type == "regression" else "log_odds"
    enc = m.encode(seqs)
    acc = NucleotideAccumulator(enc, "mean", features=n_layers * n_heads)
    gradient = np.zeros((len(enc.input_ids), n_layers, n_heads))
    kept: dict[int, torch.Tensor] = {}
    with m.attention_readable(), _AttentionTap(m, kept.__setitem__):
        for rows, inputs in m.batches(
            enc, batch_size=batch_size, progress=progress, desc="head atlas"
        ):
            with torch.set_grad_enabled(classifier):
                logits = getattr(m.model(**inputs), "logits", None)
            weights = [kept[i] for i in range(n_layers)]
            cls_rows = torch.stack([w[:, :, 0, :].detach().float() for w in weights], dim=1)
            acc.add(rows, cls_rows.flatten(1, 2).transpose(1, 2).cpu().numpy())  # (B, T, LxH)
            if classifier:
                y = m.head_output(logits.float(), output=output)[:, target].sum()
                grads = torch.autograd.grad(y, weights)
                gradient[rows] = (
                    torch.stack([(w * g).sum(dim=(-1, -2)) for w, g in zip(weights, grads)], dim=1)
                    .detach()
                    .float()
                    .cpu()
                    .numpy()
                )
            kept.clear()
    attention = acc.result().reshape(len(seqs), -1, n_layers, n_heads)
    auroc, n_truth = (
        (np.full((n_layers, n_heads), np.nan), 0)
        if mask is None
        else _auroc(attention, mask, enc.lengths)
    )
    ablation = np.full((n_layers, n_heads), np.nan)
    if classifier:
        gradient = per_sequence_mean(gradient, enc.sequence_index, len(seqs)).mean(0)
        base = m.predict(seqs, batch_size=batch_size, output=output)[:, target]
        for layer in range(n_layers):
            for head in range(n_heads):
                with mask_head(m, layer, head):
                    masked = m.predict(seqs, batch_size=batch_size, output=output)[:, target]
                ablation[layer, head] = float(np.mean(masked.astype(float) - base))
    else:
        gradient = np.full((n_layers, n_heads), np.nan)
    meta = {
        "model": m.name,
        "target": target,
        "output": "value" if output == "probability" else "log-odds",
        "n": len(seqs),
        "digest": sequence_digest(seqs),
        "n_truth": n_truth,
    }
    return HeadAtlas(auroc, ablation, gradient, meta)


def _auroc(attention: np.ndarray, mask: np.ndarray, lengths) -> tuple[np.ndarray, int]:
    """Mean per-sequence AUROC of every head's attention (N, L, layers, heads) at the mask's
    positions (Mann-Whitney on average ranks; ties count half; a position no token covers
    ranks lowest), and the sequences counted."""
    from scipy.stats import rankdata

    total, counted = np.zeros(attention.shape[2:]), 0
    for i, values in enumerate(np.nan_to_num(attention, nan=-np.inf)):
        length = int(lengths[i])
        truth = mask[i, :length]
        n_true = int(truth.sum())
        if n_true in (0, length):
            continue
        ranks = rankdata(values[:length], axis=0)
        n_other = length - n_true
        total += (ranks[truth].sum(0) - n_true * (n_true + 1) / 2) / (n_true * n_other)
        counted += 1
    return (total / counted if counted else total + np.nan), counted


def annotation_mask(annotation, sequences: list[str], given, coordinates, *, top: float):
    """A boolean (N, longest length) mask of annotated positions from any annotation
    :func:`head_atlas` takes (``given``: the sequences as given, a table's index labels)."""
    lengths = np.array([len(s) for s in sequences])
    if isinstance(annotation, Scores):
        annotation.check_sequences(sequences, "the annotation's scores")
        if not 0 < top <= 1:
            raise ValueError(f"top must be a fraction in (0, 1], got {top!r}")
        mask = np.zeros((len(sequences), int(lengths.max())), dtype=bool)
        for i, n in enumerate(lengths):
            ranked = np.argsort(-oriented(annotation, i)[:n], kind="stable")
            mask[i, ranked[: max(1, round(top * n))]] = True
        return mask
    if isinstance(annotation, MotifSet):
        if annotation.sequences is not None and list(annotation.sequences) != sequences:
            raise ValueError(
                f"the annotation's motifs were found in other sequences "
                f"({len(annotation.sequences)} vs {len(sequences)} given, or others in order)"
            )
        parts = [motif.instances[["sequence_index", "start", "end"]] for motif in annotation]
        table = pd.concat(parts, ignore_index=True) if parts else None
        if table is None or not len(table):
            raise ValueError("the annotation's motifs have no instances")
        return truth_mask(table, lengths, name="the annotation")
    if isinstance(annotation, (str, Path, pd.DataFrame, np.ndarray)):
        labels = given.index if isinstance(given, pd.DataFrame) else None
        return truth_mask(annotation, lengths, coordinates, labels=labels, name="the annotation")
    raise ValueError(
        f"annotation is a {type(annotation).__name__}: give a boolean (N, L) mask, a table or "
        "TSV of sequence_index/start/end, a MotifSet, a BED of sites or Scores"
    )


def _describe(annotation, mask, lengths) -> str:
    if mask is None:
        return "none"
    kind = type(annotation).__name__ if not isinstance(annotation, (str, Path)) else "file"
    share = mask.sum() / lengths.sum()
    return f"{kind}, {int(mask.sum())} positions ({share:.1%} of all)"
