"""Masked-language-model pretraining of small DNA language models, in the published layouts.

``architecture="dnabert"``: DNABERT-1 (``BertForMaskedLM``, overlapping
k-mers) with DNABERT's contiguous span masking: a masked token's k-mer can
be read off its unmasked neighbours unless the whole run of k tokens around
it is masked, so spans of k tokens are masked (centres drawn with
probability ``mlm_probability / k``, so about ``mlm_probability`` of the
tokens are masked), and each span hides one nucleotide.
``architecture="dnabert2"``: DNABERT-2 (ALiBi, gated GELU MLP, the
published BPE tokenizer), single tokens masked. ``architecture="nt"``:
Nucleotide Transformer v1 (stock ESM, non-overlapping 6-mers), single
tokens masked. Masked tokens become the mask token (no 80/10/10 random
replacement: the language-model scores of :mod:`dnabert_viz.language_model`
read the model with mask tokens only).

The result loads with :func:`dnabert_viz.load_model` after
``save_pretrained`` and answers the ``lm_*`` scoring methods.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

import numpy as np
import torch

from .model import DnaModel, resolve_device
from .runtime import show_progress
from .sequences import check_sequences
from .tokenization import KmerTokenizer

ARCHITECTURES = ("dnabert", "dnabert2", "nt")
NT_SPECIAL = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]


def nt_vocab() -> dict[str, int]:
    """Nucleotide Transformer v1's vocabulary: six special tokens, the 4,096 6-mers in
    ``product("ATCG")`` order, then A, T, C, G and N."""
    kmers = ("".join(p) for p in itertools.product("ATCG", repeat=6))
    tokens = itertools.chain(NT_SPECIAL, kmers, "ATCGN")
    return {tok: i for i, tok in enumerate(tokens)}


def build_masked_lm(
    *,
    architecture: str = "dnabert",
    k: int | None = None,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    max_position_embeddings: int = 512,
    seed: int = 0,
    device=None,
) -> DnaModel:
    """An untrained masked LM of one of the published families, sizes reduced.

    Parameters
    ----------
    architecture : {"dnabert", "dnabert2", "nt"}
        DNABERT-1 (k-mers), DNABERT-2 (BPE, ALiBi) or Nucleotide Transformer v1 (ESM, 6-mers).
    k : int, optional
        DNABERT-1's k-mer length, 3 to 6 (default 6); an error with the others.
    hidden_size, num_layers, num_heads : int
        Transformer size.
    max_position_embeddings : int
        Positions (DNABERT-1 and NT; DNABERT-2 has ALiBi).
    seed : int
        Seed of the random initialisation.
    device : str or torch.device, optional
        Where it runs.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
    if k is not None and architecture != "dnabert":
        raise ValueError(f"k={k} is DNABERT-1's k-mer length; {architecture} takes no k")
    if hidden_size % num_heads:
        raise ValueError(
            f"hidden_size ({hidden_size}) must be a multiple of num_heads ({num_heads})"
        )
    sizes = {
        "hidden_size": hidden_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "intermediate_size": 4 * hidden_size,
    }
    torch.manual_seed(seed)
    if architecture == "dnabert2":
        from .architectures.dnabert2 import DnaBert2ForMaskedLM
        from .architectures.dnabert2_checkpoint import published_config, published_tokenizer

        config = published_config(
            hidden_size, num_layers, num_heads, architectures=["BertForMaskedLM"]
        )
        model = DnaBert2ForMaskedLM(config)
        return DnaModel(model, published_tokenizer(), name="dnabert2-mlm-small", device=device)
    if architecture == "nt":
        from transformers import EsmConfig, EsmForMaskedLM

        vocab = nt_vocab()
        config = EsmConfig(
            architectures=["EsmForMaskedLM"],
            vocab_size=len(vocab),
            mask_token_id=vocab["<mask>"],
            pad_token_id=vocab["<pad>"],
            max_position_embeddings=max_position_embeddings + vocab["<pad>"] + 1,
            position_embedding_type="absolute",
            emb_layer_norm_before=False,
            token_dropout=False,
            tie_word_embeddings=False,
            **sizes,
        )
        tokenizer = KmerTokenizer(vocab, 6, overlapping=False)
        return DnaModel(EsmForMaskedLM(config), tokenizer, name="nt-mlm-small", device=device)
    from transformers import BertConfig, BertForMaskedLM

    from .finetune import dnabert_vocab

    k = 6 if k is None else k
    vocab = dnabert_vocab(k)
    config = BertConfig(
        architectures=["BertForMaskedLM"],
        vocab_size=len(vocab),
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=2,
        **sizes,
    )
    tokenizer = KmerTokenizer(vocab, k)
    return DnaModel(
        BertForMaskedLM(config), tokenizer, name=f"dnabert{k}-mlm-small", device=device
    )


def mask_tokens(
    input_ids: np.ndarray,
    real: np.ndarray,
    *,
    span: int,
    probability: float,
    mask_id: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Mask runs of ``span`` real tokens around centres drawn with ``probability / span``.

    Parameters
    ----------
    input_ids : numpy.ndarray
        (B, T) token ids.
    real : numpy.ndarray
        (B, T) bool: the tokens that cover nucleotides (special tokens and
        padding are never masked).
    span : int
        Tokens per masked run (DNABERT-1: k; single tokens: 1).
    probability : float
        About this share of the real tokens is masked.
    mask_id : int
    rng : numpy.random.Generator

    Returns
    -------
    ids : numpy.ndarray
        (B, T) with the masked tokens replaced by ``mask_id``.
    labels : numpy.ndarray
        (B, T) the original ids where masked, -100 elsewhere.
    """
    centres = (rng.random(input_ids.shape) < probability / span) & real
    masked = np.zeros_like(real)
    for offset in range(-(span // 2), span - span // 2):
        shifted = np.roll(centres, offset, axis=1)
        # a roll wraps around; a centre near one end must not mask the other end
        if offset > 0:
            shifted[:, :offset] = False
        elif offset < 0:
            shifted[:, offset:] = False
        masked |= shifted
    masked &= real
    labels = np.where(masked, input_ids, -100)
    return np.where(masked, mask_id, input_ids), labels


def train_masked_lm(
    sequences,
    *,
    architecture: str = "dnabert",
    k: int | None = None,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    epochs: int = 20,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.01,
    mlm_probability: float = 0.15,
    validation_fraction: float = 0.1,
    patience: int = 3,
    max_minutes: float | None = 10.0,
    seed: int = 0,
    device=None,
    progress: bool | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> DnaModel:
    """Pretrain a small masked LM on ``sequences``, stopping early on the validation loss.

    A seeded share of the sequences (``validation_fraction``) is held out
    with one fixed mask; after every epoch the loop records the masked-token
    loss and accuracy there, keeps the weights of the lowest validation loss
    and stops after ``patience`` epochs without a lower one, after
    ``epochs`` epochs or when ``max_minutes`` have passed (checked after
    every batch). AdamW, a linear decay to zero at ``epochs``, fresh masks
    every epoch, batches in a seeded order.

    Parameters
    ----------
    sequences : list of str
        Training sequences (each must fit the model's positions).
    architecture, k, hidden_size, num_layers, num_heads
        The model (:func:`build_masked_lm`).
    epochs, batch_size, learning_rate, weight_decay
        Optimisation.
    mlm_probability : float
        Share of the tokens masked (in spans of k for DNABERT-1, see :func:`mask_tokens`).
    validation_fraction : float
        Share of the sequences held out; it must leave at least one sequence on each side.
    patience : int
        Epochs without a lower validation loss before stopping.
    max_minutes : float or None
        Time budget of the loop.
    seed : int
        Seed of initialisation, split, masks and batch order.
    device : str or torch.device, optional
    progress : bool or None
        Show a progress bar; None: when someone watches.
    on_epoch : callable, optional
        Called with each epoch's history row (a dict) as it ends.

    Returns
    -------
    DnaModel
        In evaluation mode, with ``history``: one row per epoch (``epoch``,
        ``seconds``, ``learning_rate``, ``train_loss``, ``val_loss``,
        ``val_accuracy``), ``history.attrs["best_epoch"]``, ``["stopped"]``
        (``"patience"``, ``"epochs"`` or ``"max_minutes"``) and
        ``["chance_loss"]`` (the loss of a uniform guess over the tokens the
        model can predict).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from .finetune import step

    sequences = check_sequences(sequences, "sequences")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, not {epochs}")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), not {validation_fraction}")
    if not 0 < mlm_probability < 1:
        raise ValueError(f"mlm_probability must be in (0, 1), not {mlm_probability}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sequences))
    n_val = round(validation_fraction * len(sequences))
    if n_val < 1 or n_val >= len(sequences):
        raise ValueError(
            f"{len(sequences)} sequences with validation_fraction {validation_fraction} leave "
            f"{n_val} for validation and {len(sequences) - n_val} for training: both need one"
        )
    dm = build_masked_lm(
        architecture=architecture,
        k=k,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        seed=seed,
        device=resolve_device(device),
    )
    enc = dm.encode(sequences)
    if len(enc.input_ids) != len(sequences):
        raise ValueError(
            f"training sequences must fit the model's {dm.max_tokens} positions; cut long ones"
        )
    span = dm.k if isinstance(dm.tokenizer, KmerTokenizer) and dm.tokenizer.overlapping else 1
    real, mask_id = enc.real, dm.tokenizer.mask_id
    train_rows, val_rows = np.sort(order[n_val:]), np.sort(order[:n_val])
    val_ids, val_labels = mask_tokens(
        enc.input_ids[val_rows],
        real[val_rows],
        span=span,
        probability=mlm_probability,
        mask_id=mask_id,
        rng=np.random.default_rng([seed, 1]),
    )
    model = dm.model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(train_rows) / batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: max(0.0, 1 - s / steps))
    torch.set_flush_denormal(True)  # as in train_classifier: denormal gradients slow CPU fourfold
    bar = tqdm(total=steps, desc="pretraining", disable=not show_progress(progress))
    started, history, best, stopped = time.perf_counter(), [], None, "epochs"
    for epoch in range(1, epochs + 1):
        losses = []
        shuffled = train_rows[rng.permutation(len(train_rows))]
        for start in range(0, len(shuffled), batch_size):
            rows = np.sort(shuffled[start : start + batch_size])
            ids, labels = mask_tokens(
                enc.input_ids[rows],
                real[rows],
                span=span,
                probability=mlm_probability,
                mask_id=mask_id,
                rng=rng,
            )
            losses.append(
                step(_loss(dm, ids, enc.attention_mask[rows], labels)[0], optim, sched, bar)
            )
            if max_minutes is not None and time.perf_counter() - started > 60 * max_minutes:
                stopped = "max_minutes"
                break
        row = {
            "epoch": epoch,
            "seconds": time.perf_counter() - started,
            "learning_rate": sched.get_last_lr()[0],
            "train_loss": float(np.mean(losses)),
            **_validate(dm, val_ids, enc.attention_mask[val_rows], val_labels, batch_size),
        }
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_loss=f"{row['val_loss']:.3f}")
        history.append(row)
        if on_epoch is not None:
            on_epoch(dict(row))
        if best is None or row["val_loss"] < best[1]:
            state = {n: v.detach().clone() for n, v in model.state_dict().items()}
            best = (epoch, row["val_loss"], state)
        elif epoch - best[0] >= patience and stopped == "epochs":
            stopped = "patience"
        if stopped != "epochs":
            break
    bar.close()
    model.load_state_dict(best[2])
    model.eval()
    dm.history = pd.DataFrame(history)
    predictable = len(dm.tokenizer.vocab) if span == 1 else 4**dm.k
    dm.history.attrs.update(
        best_epoch=best[0], stopped=stopped, chance_loss=float(np.log(predictable))
    )
    return dm


def _loss(dm: DnaModel, ids: np.ndarray, attention_mask: np.ndarray, labels: np.ndarray):
    """Masked-token cross-entropy and the number of correct top-1 predictions of one batch."""
    width = int(attention_mask.sum(axis=1).max())
    ids, attention_mask, target = (
        torch.as_tensor(np.ascontiguousarray(a[:, :width]), device=dm.device)
        for a in (ids, attention_mask, labels)
    )
    logits = dm.model(input_ids=ids, attention_mask=attention_mask).logits
    chosen = target != -100
    loss = torch.nn.functional.cross_entropy(logits[chosen].float(), target[chosen])
    correct = int((logits[chosen].argmax(-1) == target[chosen]).sum())
    return loss, correct, int(chosen.sum())


@torch.no_grad()
def _validate(dm: DnaModel, ids, attention_mask, labels, batch_size: int) -> dict[str, float]:
    dm.model.eval()
    total = correct = count = 0.0
    for start in range(0, len(ids), batch_size):
        part = slice(start, start + batch_size)
        loss, right, n = _loss(dm, ids[part], attention_mask[part], labels[part])
        total, correct, count = total + float(loss) * n, correct + right, count + n
    dm.model.train()
    return {"val_loss": total / max(count, 1), "val_accuracy": correct / max(count, 1)}
