"""Attention: the DNABERT-viz [CLS] recipe, full maps for one sequence, rollout.

Memory: DNABERT's script keeps every layer's full (T x T) attention of every
sequence (N x 12 x 512 x 512 float64, about 250 GB for 10,000 sequences).
Here forward hooks on the self-attention modules keep only the [CLS] row of
the layers asked for, batch by batch, and fold it straight into
per-nucleotide sums: memory is one batch's activations plus (N x L) results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .intervals import scoring_function
from .model import DnaModel
from .scores import Scores
from .tokenization import NucleotideAccumulator, covers


def attention_modules(m: DnaModel) -> list[torch.nn.Module]:
    """The self-attention modules of ``m``, one a layer, first layer first.

    The modules are those transformers records attentions from (the model class's
    ``_can_record_outputs["attentions"]``: BERT's and ESM's self-attention, ModernBERT's
    attention), else those whose class name ends in ``SelfAttention`` (the native families),
    else in ``Attention``. Each returns its heads' outputs (B, T, heads x head size, before
    the output projection) first, then its weights (B, H, T, T).
    """
    recorded = (getattr(m.model, "_can_record_outputs", None) or {}).get("attentions")
    recorded = recorded if isinstance(recorded, (list, tuple)) else [recorded]
    classes = tuple(getattr(r, "target_class", r) for r in recorded if r is not None)
    named = [(type(mod).__name__, mod) for mod in m.model.modules()]
    # else by name: BERT's and ESM's self-attention sits inside an ``*Attention`` wrapper;
    # a model without ``*SelfAttention`` modules (ModernBERT's) attends in its ``*Attention``
    modules = (
        [mod for _, mod in named if classes and isinstance(mod, classes)]
        or [mod for name, mod in named if name.endswith("SelfAttention")]
        or [mod for name, mod in named if name.endswith("Attention")]
    )
    if not modules:
        raise NotImplementedError(
            f"{m.name}: no self-attention modules found to read attention from"
        )
    return modules


class _AttentionTap:
    """Forward hooks that hand each self-attention module's weights (B, H, T, T) to a callback
    (the modules: :func:`attention_modules`)."""

    def __init__(self, m: DnaModel, keep):
        self.modules = attention_modules(m)
        self.keep = keep
        self.handles = []

    def __enter__(self):
        for i, mod in enumerate(self.modules):
            self.handles.append(
                mod.register_forward_hook(lambda _m, _in, out, i=i: self._call(i, out))
            )
        return self

    def _call(self, layer, out):
        weights = out[1] if isinstance(out, tuple) and len(out) > 1 else None
        if not isinstance(weights, torch.Tensor) or weights.dim() != 4:
            raise NotImplementedError("this model's attention modules return no attention weights")
        self.keep(layer, weights)

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()


def _layers(n_layers: int, layer) -> list[int]:
    if isinstance(layer, str):
        if layer != "mean":
            raise ValueError(f"layer must be an int, a list of ints or 'mean', got {layer!r}")
        return list(range(n_layers))
    chosen = [layer] if isinstance(layer, (int, np.integer)) else list(layer)
    for c in chosen:
        if not -n_layers <= c < n_layers:
            raise ValueError(
                f"layer {c} does not exist: the model has {n_layers} layers (0 .. "
                f"{n_layers - 1}, or negative)"
            )
    return sorted({c % n_layers for c in chosen})


def _heads(n_heads: int, heads) -> list[int]:
    if heads is None:
        return list(range(n_heads))
    heads = [heads] if isinstance(heads, (int, np.integer)) else list(heads)
    bad = [h for h in heads if not 0 <= h < n_heads]
    if bad or not heads:
        raise ValueError(
            f"heads {bad or heads} invalid: the model has {n_heads} heads (0 .. {n_heads - 1})"
        )
    return heads


@scoring_function
def cls_attention(
    m: DnaModel,
    sequences,
    *,
    layer: int | Sequence[int] | str = -1,
    heads: int | Sequence[int] | None = None,
    batch_size: int = 32,
    window_size: int | None = None,
    stride: int | None = None,
    progress: bool | None = None,
) -> Scores:
    """Per-nucleotide [CLS] attention: the DNABERT-viz recipe.

    Recipe (DNABERT's ``visualize.py`` / ``get_real_score``): take the
    attention of the chosen layer, the query row of ``[CLS]``, summed over
    heads, for each real token (``[CLS]``, ``[SEP]`` and padding excluded);
    each nucleotide gets the mean over the tokens that cover it; each
    sequence's vector is L2-normalised.

    Deviations from the published scripts, on purpose:

    * padding is masked. DNABERT's ``get_extended_attention_mask`` never
      applies the mask (a typo), so its scores depend on how much padding a
      batch has; here they do not.
    * several layers (a list, or ``"mean"`` for all) are averaged before the
      nucleotide projection; DNABERT uses the last layer only (``layer=-1``,
      the default).
    * sequences longer than the model's positions are scored in overlapping
      windows; each nucleotide gets the mean over all covering tokens of all
      windows, then the whole vector is normalised.

    Parameters
    ----------
    m : DnaModel
        The model (any tokenizer: k-mer, non-overlapping or BPE).
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column (as :func:`dnabert_viz.score`).
    layer : int, list of int or "mean"
        Layer(s) to read; negative counts from the last.
    heads : int or list of int, optional
        Heads to sum; all by default.
    batch_size : int
        Sequences (windows) per forward pass.
    window_size, stride : int, optional
        Windows for long sequences (nucleotides).
    progress : bool or None
        Show a progress bar; None (default): in Jupyter and terminals only.

    Returns
    -------
    Scores
        ``kind="cls_attention"``, values (N, L), each row of unit L2 norm.
    """
    cfg = m.model.config
    layers = _layers(cfg.num_hidden_layers, layer)
    head_idx = _heads(cfg.num_attention_heads, heads)
    enc = m.encode(sequences, window_size=window_size, stride=stride)
    acc = NucleotideAccumulator(enc, "mean")
    rows_cls: dict[int, torch.Tensor] = {}

    def keep(i, weights):
        if i in layers:
            rows_cls[i] = weights[:, head_idx, 0, :].sum(dim=1).float()

    with m.attention_readable(), _AttentionTap(m, keep), torch.no_grad():
        for rows, inputs in m.batches(
            enc, batch_size=batch_size, progress=progress, desc="attention"
        ):
            m.model(**inputs)
            row = torch.stack([rows_cls[i] for i in layers]).mean(0)
            acc.add(rows, row.cpu().numpy())
            rows_cls.clear()
    values = acc.result()
    norms = np.sqrt(np.nansum(values**2, axis=1, keepdims=True))
    meta = {
        "model": m.name,
        "layer": layer if isinstance(layer, (int, str)) else list(layer),
        "heads": None if heads is None else _heads(cfg.num_attention_heads, heads),
    }
    return Scores(enc.sequences, values / np.where(norms > 0, norms, 1), "cls_attention", meta)


@scoring_function
def cls_attention_ensemble(models: Sequence[DnaModel], sequences, **options) -> Scores:
    """DNABERT's multi-k ensemble: the per-model normalised [CLS] vectors summed (e.g. k = 3, 4, 5,
    6).

    Parameters
    ----------
    models : list of DnaModel
        One model per k (any models over the same sequences).
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column.
    **options
        :func:`cls_attention`'s keywords.
    """
    if not models:
        raise ValueError("models is empty: give one model per k")
    parts = [cls_attention(mm, sequences, **options) for mm in models]
    meta = {
        "models": [mm.name for mm in models],
        **{k: v for k, v in parts[0].meta.items() if k != "model"},
    }
    return Scores(
        parts[0].sequences,
        np.sum([p.values for p in parts], axis=0),
        "cls_attention_ensemble",
        meta,
    )


@dataclass
class AttentionMaps:
    """All attention of one sequence.

    Attributes
    ----------
    sequence : str
    tokens : list of str
        (T,) token strings, special tokens included.
    spans : numpy.ndarray
        (T, 2) nucleotide span of each token, -1 for special tokens.
    attentions : numpy.ndarray
        (layers, heads, T, T) float32; rows are queries.
    """

    sequence: str
    tokens: list[str]
    spans: np.ndarray
    attentions: np.ndarray

    def incidence(self) -> np.ndarray:
        """(T, L) token-to-nucleotide map, each covered column averaging its covering tokens."""
        p = covers(self.spans, len(self.sequence)).astype(np.float32)
        return p / np.maximum(p.sum(axis=0, keepdims=True), 1)

    def nucleotide(self, layer: int = -1, head: int | None = None) -> np.ndarray:
        """(L, L) attention between nucleotides for a layer and head (None: mean of heads).

        Entry (i, j) is the mean attention from the tokens covering i to the
        tokens covering j; special tokens are left out.
        """
        a = self.attentions[layer].mean(0) if head is None else self.attentions[layer, head]
        p = self.incidence()
        return p.T @ a @ p

    def rollout(self) -> np.ndarray:
        """(T, T) attention rollout (Abnar and Zuidema 2020).

        Per layer: mean over heads, plus the identity for the residual path,
        rows renormalised; the layers' matrices multiplied from the first up.
        """
        eye = np.eye(self.attentions.shape[-1], dtype=np.float64)
        out = eye
        for layer in self.attentions.astype(np.float64):
            a = 0.5 * layer.mean(0) + 0.5 * eye
            out = (a / a.sum(axis=1, keepdims=True)) @ out
        return out.astype(np.float32)


def attention_maps(m: DnaModel, sequence: str) -> AttentionMaps:
    """Attention of every layer and head for one sequence.

    Parameters
    ----------
    m : DnaModel
    sequence : str
        One sequence that fits the model's positions.

    Returns
    -------
    AttentionMaps
        ``attentions`` (layers, heads, T, T), with token strings and spans.
    """
    if not isinstance(sequence, str):
        raise TypeError(
            f"attention_maps takes one sequence (a str), got {type(sequence).__name__}"
        )
    enc = m.encode(sequence)
    if len(enc.input_ids) > 1:
        raise ValueError(
            f"sequence of {enc.lengths[0]} nt is longer than the model's positions; give a "
            "piece of it"
        )
    with m.attention_readable(), torch.no_grad():
        out = m.model(**m.inputs(enc, np.arange(1)), output_attentions=True)
    att = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()
    return AttentionMaps(
        enc.sequences[0], m.tokenizer.convert_ids_to_tokens(enc.input_ids[0]), enc.spans[0], att
    )
