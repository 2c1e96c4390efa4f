"""A small, honest training loop: DNABERT-style classifiers that train on a laptop CPU.

``architecture="dnabert"`` (default) is a ``BertForSequenceClassification``
with DNABERT's published k-mer vocabulary and config keys;
``architecture="dnabert2"`` is the native DNABERT-2 architecture (ALiBi,
gated GELU MLP) with DNABERT-2's published BPE tokenizer and config keys.
Only the sizes are reduced, so everything the workbench does to a real
checkpoint it does to these too.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import torch

from .model import DnaModel, resolve_device
from .sequences import check_sequences
from .tokenization import KmerTokenizer, read_vocab

DNABERT6_FILES = Path(__file__).parent / "data" / "dnabert6"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def dnabert_vocab(k: int) -> dict[str, int]:
    """DNABERT-1's vocabulary for k: the five special tokens, then all k-mers in ``product("ATCG")`` order.

    For k = 6 this is read from the published ``vocab.txt`` shipped in the package.
    """
    if k == 6:
        return read_vocab(DNABERT6_FILES / "vocab.txt")
    kmers = ("".join(p) for p in itertools.product("ATCG", repeat=k))
    return {tok: i for i, tok in enumerate(itertools.chain(SPECIAL_TOKENS, kmers))}


def build_classifier(
    k: int = 6,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_labels: int = 2,
    max_position_embeddings: int = 512,
    seed: int = 0,
    device=None,
    architecture: str = "dnabert",
) -> DnaModel:
    """An untrained DNABERT-style classifier with the published config keys at reduced size.

    Parameters
    ----------
    k : int
        k-mer length (3 to 6, as published); DNABERT only.
    hidden_size, num_layers, num_heads : int
        Transformer size (DNABERT: 768, 12, 12).
    num_labels : int
        Classes.
    max_position_embeddings : int
        Positions (DNABERT: 512).
    seed : int
        Seed of the random initialisation.
    architecture : {"dnabert", "dnabert2"}
        DNABERT (k-mers, absolute positions) or DNABERT-2 (BPE, ALiBi; ``k`` and
        ``max_position_embeddings`` unused: 512 positions as published).
    """
    from transformers import BertConfig, BertForSequenceClassification

    if architecture not in ("dnabert", "dnabert2"):
        raise ValueError(f"architecture must be 'dnabert' or 'dnabert2', got {architecture!r}")
    if hidden_size % num_heads:
        raise ValueError(f"hidden_size ({hidden_size}) must be a multiple of num_heads ({num_heads})")
    if architecture == "dnabert2":
        from .architectures.dnabert2_checkpoint import build_dnabert2_classifier, published_tokenizer

        model = build_dnabert2_classifier(hidden_size, num_layers, num_heads, num_labels, seed)
        return DnaModel(model, published_tokenizer(), name="dnabert2-small", device=device)
    vocab = dnabert_vocab(k)
    config = BertConfig(
        architectures=["BertForSequenceClassification"],
        attention_probs_dropout_prob=0.1,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        hidden_size=hidden_size,
        initializer_range=0.02,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=max_position_embeddings,
        num_attention_heads=num_heads,
        num_hidden_layers=num_layers,
        type_vocab_size=2,
        vocab_size=len(vocab),
        num_labels=num_labels,
    )
    torch.manual_seed(seed)
    return DnaModel(BertForSequenceClassification(config), KmerTokenizer(vocab, k), name=f"dnabert{k}-small", device=device)


def train_classifier(
    sequences,
    labels,
    k: int = 6,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    epochs: int = 5,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.01,
    warmup_fraction: float = 0.1,
    seed: int = 0,
    device=None,
    progress: bool = True,
    architecture: str = "dnabert",
) -> DnaModel:
    """Train a DNABERT-style classifier from scratch.

    AdamW with linear warm-up and linear decay, cross-entropy loss, batches
    drawn in a seeded random order: the same data and seed give the same
    model on the same machine. Denormal floats are flushed to zero (process
    wide, ``torch.set_flush_denormal``): without it CPU training slows about
    fourfold once the loss is small.

    Parameters
    ----------
    sequences : list of str
        Training sequences.
    labels : array-like of int
        Class of each sequence, 0 .. n_classes - 1.
    k, hidden_size, num_layers, num_heads
        Model shape (see :func:`build_classifier`).
    epochs, batch_size, learning_rate, weight_decay, warmup_fraction
        Optimisation settings.
    seed : int
        Seed for initialisation and batch order.
    device : str or torch.device, optional
        CUDA when available by default.
    progress : bool
        Show a progress bar with the running loss.
    architecture : {"dnabert", "dnabert2"}
        See :func:`build_classifier`.

    Returns
    -------
    DnaModel
        The trained model, in evaluation mode.
    """
    from tqdm.auto import tqdm

    sequences = check_sequences(sequences, "sequences")
    labels = np.array(labels)  # a copy: torch wants a writable array
    if labels.shape != (len(sequences),):
        raise ValueError(f"labels has shape {labels.shape}, expected ({len(sequences)},): one label per sequence")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("labels must be non-negative integers (class indices)")
    n_labels = max(2, int(labels.max()) + 1)
    dm = build_classifier(
        k, hidden_size, num_layers, num_heads, n_labels, seed=seed, device=resolve_device(device),
        architecture=architecture,
    )
    enc = dm.encode(sequences)
    if len(enc.input_ids) != len(sequences):
        raise ValueError(f"training sequences must fit the model's {dm.max_tokens} positions; cut long ones first")
    target = torch.as_tensor(labels, device=dm.device)
    model = dm.model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(sequences) / batch_size)
    warmup = max(1, int(warmup_fraction * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    rng = np.random.default_rng(seed)
    # Once the loss is small, gradients turn denormal and CPU training slows fourfold; flush them to zero.
    torch.set_flush_denormal(True)
    bar = tqdm(total=steps, desc="training", disable=not progress)
    for _ in range(epochs):
        order = rng.permutation(len(sequences))
        for start in range(0, len(order), batch_size):
            rows = np.sort(order[start:start + batch_size])
            out = model(**dm.inputs(enc, rows), labels=target[rows])
            optim.zero_grad()
            out.loss.backward()
            optim.step()
            sched.step()
            bar.update()
            bar.set_postfix(loss=f"{out.loss.item():.3f}")
    bar.close()
    model.eval()
    return dm
