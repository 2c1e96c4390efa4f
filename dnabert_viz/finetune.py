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
from .runtime import show_progress
from .sequences import check_sequences
from .sequences import (
    reverse_complement as _reverse_complement,  # the keyword of train_classifier shadows it
)
from .tokenization import KmerTokenizer, read_vocab

DNABERT6_FILES = Path(__file__).parent / "data" / "dnabert6"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def dnabert_vocab(k: int) -> dict[str, int]:
    """DNABERT-1's vocabulary for k: the five special tokens, then all k-mers in
    ``product("ATCG")`` order.

    For k = 6 this is read from the published ``vocab.txt`` shipped in the package; DNABERT
    published k = 3 to 6 only, and any other k is an error.
    """
    if k not in range(3, 7):
        raise ValueError(f"k must be 3, 4, 5 or 6 (DNABERT's published vocabularies), got {k}")
    if k == 6:
        return read_vocab(DNABERT6_FILES / "vocab.txt")
    kmers = ("".join(p) for p in itertools.product("ATCG", repeat=k))
    return {tok: i for i, tok in enumerate(itertools.chain(SPECIAL_TOKENS, kmers))}


def build_classifier(
    k: int | None = None,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_labels: int = 2,
    max_position_embeddings: int = 512,
    seed: int = 0,
    device=None,
    architecture: str = "dnabert",
    dropout: float = 0.1,
) -> DnaModel:
    """An untrained DNABERT-style classifier with the published config keys at reduced size.

    Parameters
    ----------
    k : int, optional
        k-mer length (3 to 6, as published; default 6); DNABERT only: DNABERT-2 reads BPE
        tokens, and a ``k`` given with it is an error.
    hidden_size, num_layers, num_heads : int
        Transformer size (DNABERT: 768, 12, 12).
    num_labels : int
        Classes.
    max_position_embeddings : int
        Positions (DNABERT: 512).
    seed : int
        Seed of the random initialisation.
    architecture : {"dnabert", "dnabert2"}
        DNABERT (k-mers, absolute positions) or DNABERT-2 (BPE, ALiBi;
        ``max_position_embeddings`` unused: 512 positions as published).
    dropout : float
        Hidden and attention dropout (DNABERT: 0.1). DNABERT-2: hidden dropout only, its
        attention dropout stays the published 0.0.
    """
    from transformers import BertConfig, BertForSequenceClassification

    if architecture not in ("dnabert", "dnabert2"):
        raise ValueError(f"architecture must be 'dnabert' or 'dnabert2', got {architecture!r}")
    if hidden_size % num_heads:
        raise ValueError(
            f"hidden_size ({hidden_size}) must be a multiple of num_heads ({num_heads})"
        )
    if architecture == "dnabert2":
        from .architectures.dnabert2_checkpoint import (
            build_dnabert2_classifier,
            published_tokenizer,
        )

        if k is not None:
            raise ValueError(
                f"k={k} is DNABERT's k-mer length; DNABERT-2 reads BPE tokens: leave k unset"
            )
        model = build_dnabert2_classifier(
            hidden_size, num_layers, num_heads, num_labels, seed, dropout
        )
        return DnaModel(model, published_tokenizer(), name="dnabert2-small", device=device)
    k = 6 if k is None else k
    vocab = dnabert_vocab(k)
    config = BertConfig(
        architectures=["BertForSequenceClassification"],
        attention_probs_dropout_prob=dropout,
        hidden_act="gelu",
        hidden_dropout_prob=dropout,
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
    return DnaModel(
        BertForSequenceClassification(config),
        KmerTokenizer(vocab, k),
        name=f"dnabert{k}-small",
        device=device,
    )


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a seeded, stratified train/validation split.

    Each class gives ``round(fraction * n_class)`` rows to validation (at
    least one when ``fraction > 0`` and the class has two or more rows).

    Returns
    -------
    train, validation : numpy.ndarray
        Sorted row indices, (N - V,) and (V,).
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        n = round(fraction * len(rows))
        held.append(rows[: max(n, 1 if fraction > 0 and len(rows) > 1 else 0)])
    validation = np.sort(np.concatenate(held)) if held else np.zeros(0, int)
    return np.setdiff1d(np.arange(len(labels)), validation), validation


def auroc(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties counted half); macro one-vs-rest average for more than two
    classes.

    Parameters
    ----------
    probabilities : numpy.ndarray
        (N, n_classes) class probabilities, or (N,) scores of the positive class.
    labels : numpy.ndarray
        (N,) class indices.

    Returns
    -------
    float
        NaN when a class has no rows (the area is undefined).
    """
    from scipy.stats import rankdata

    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim == 1:
        probabilities = np.stack([1 - probabilities, probabilities], axis=1)
    classes = [1] if probabilities.shape[1] == 2 else range(probabilities.shape[1])
    areas = []
    for c in classes:
        truth = labels == c
        n_pos, n_neg = truth.sum(), (~truth).sum()
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        ranks = rankdata(probabilities[:, c])
        areas.append((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return float(np.mean(areas))


def train_classifier(
    sequences,
    labels,
    k: int | None = None,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 3e-4,
    weight_decay: float = 0.01,
    warmup_fraction: float = 0.01,
    seed: int = 0,
    device=None,
    progress: bool | None = None,
    architecture: str = "dnabert",
    *,
    validation_fraction: float = 0.1,
    validation: tuple | None = None,
    patience: int = 5,
    max_minutes: float | None = 10.0,
    dropout: float = 0.1,
    label_smoothing: float = 0.0,
    reverse_complement: bool = False,
) -> DnaModel:
    """Train a DNABERT-style classifier from scratch, stopping early on validation AUROC.

    A stratified validation split (``validation_fraction`` of each class,
    seeded) is held out; after every epoch the loop records validation loss,
    accuracy and AUROC, keeps the weights of the best AUROC (among epochs whose
    validation accuracy beats predicting the majority class: the first epochs
    can rank well while still putting every sequence in one class) and stops after
    ``patience`` epochs without a better AUROC, after ``epochs`` epochs or when
    ``max_minutes`` have passed (checked after every batch), whichever comes
    first. The best weights are restored. AdamW with linear warm-up and linear
    decay to zero at ``epochs``, cross-entropy loss (optionally label
    smoothed), batches drawn in a seeded random order: the same data and seed
    give the same model on the same machine, unless ``max_minutes`` cuts the
    run. Denormal floats are flushed to zero (process wide,
    ``torch.set_flush_denormal``): without it CPU training slows about
    fourfold once the loss is small.

    Parameters
    ----------
    sequences : list of str
        Training sequences.
    labels : array-like of int
        Class of each sequence, 0 .. n_classes - 1.
    k, hidden_size, num_layers, num_heads
        Model shape (see :func:`build_classifier`).
    epochs : int
        Most epochs (the learning-rate schedule's length).
    batch_size, weight_decay
        Optimisation settings.
    learning_rate : float
        Peak AdamW learning rate. 3e-4 (``benchmarks/sweep.py``, held-out
        accuracy averaged over ten data sets: 1e-3 gave 0.772, 3e-4 0.790;
        1e-4 was no better on the seven sets it was run on and needs about
        twice the epochs).
    warmup_fraction : float
        Share of the ``epochs``-long schedule spent warming the learning rate
        up. 0.01 (a third of an epoch at 30 epochs): a longer warm-up holds a
        from-scratch model on the loss plateau for its first epochs, where
        early stopping cannot use them (``benchmarks/sweep.py``: 0.1 gave 0.56
        held-out accuracy on DNABERT's CTCF set, 0.01 gave 0.81; mean over ten
        data sets 0.732 -> 0.772).
    seed : int
        Seed for initialisation, validation split and batch order.
    device : str or torch.device, optional
        CUDA when available by default.
    progress : bool, optional
        Show a progress bar with the running loss and validation AUROC;
        None (default) shows it in notebooks and terminals
        (:func:`dnabert_viz.runtime.show_progress`).
    architecture : {"dnabert", "dnabert2"}
        See :func:`build_classifier`.
    validation_fraction : float
        Share of each class held out for validation; 0 trains on everything
        for ``epochs`` epochs without early stopping.
    validation : (sequences, labels), optional
        An explicit validation set instead of the split.
    patience : int
        Epochs without a better validation AUROC before stopping.
    max_minutes : float or None
        Time budget of the training loop.
    dropout : float
        Hidden and attention dropout (DNABERT-2: hidden only, see
        :func:`build_classifier`).
    label_smoothing : float
        Cross-entropy label smoothing.
    reverse_complement : bool
        Augment: each training sequence is reverse-complemented with
        probability 1/2 in every epoch.

    Returns
    -------
    DnaModel
        The trained model, in evaluation mode, with ``history``: a
        DataFrame, one row per epoch (``epoch``, ``seconds``,
        ``learning_rate``, ``train_loss``, ``val_loss``, ``val_accuracy``,
        ``val_auroc``), ``history.attrs["best_epoch"]`` and
        ``history.attrs["stopped"]`` (``"patience"``, ``"epochs"`` or
        ``"max_minutes"``).
    """
    import time

    import pandas as pd
    from tqdm.auto import tqdm

    sequences, labels = _checked(sequences, labels, "sequences", "labels")
    if validation is not None:
        val_seqs, val_labels = _checked(*validation, "validation sequences", "validation labels")
        train_rows = np.arange(len(sequences))
    else:
        train_rows, val_rows = stratified_split(labels, validation_fraction, seed)
        val_seqs, val_labels = [sequences[i] for i in val_rows], labels[val_rows]
    n_labels = max(2, int(max(labels.max(), val_labels.max(initial=0))) + 1)
    dm = build_classifier(
        k,
        hidden_size,
        num_layers,
        num_heads,
        n_labels,
        seed=seed,
        device=resolve_device(device),
        architecture=architecture,
        dropout=dropout,
    )
    enc = _encode(dm, sequences, "training")
    flipped = (
        _encode(dm, [_reverse_complement(s) for s in sequences], "training")
        if reverse_complement
        else None
    )
    val_enc = _encode(dm, val_seqs, "validation") if len(val_seqs) else None
    target = torch.as_tensor(labels, device=dm.device)
    majority = np.bincount(val_labels).max() / len(val_labels) if len(val_labels) else 1.0
    model = dm.model.train()
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    optim = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(train_rows) / batch_size)
    warmup = max(1, int(warmup_fraction * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    rng = np.random.default_rng(seed)
    flips = np.random.default_rng([seed, 1])
    # Once the loss is small, gradients turn denormal and CPU training slows fourfold; flush them
    # to zero.
    torch.set_flush_denormal(True)
    bar = tqdm(total=steps, desc="training", disable=not show_progress(progress))
    started, history, best, stopped = time.perf_counter(), [], None, "epochs"
    peak = (0, -np.inf)
    for epoch in range(1, epochs + 1):
        order = train_rows[rng.permutation(len(train_rows))]
        losses = []
        for start in range(0, len(order), batch_size):
            rows = np.sort(order[start : start + batch_size])
            source = enc
            if flipped is not None and flips.random() < 0.5:
                source = flipped
            logits = model(**dm.inputs(source, rows)).logits
            loss = loss_fn(logits.view(-1, n_labels), target[rows])
            optim.zero_grad()
            loss.backward()
            optim.step()
            sched.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if max_minutes is not None and time.perf_counter() - started > 60 * max_minutes:
                stopped = "max_minutes"
                break
        row = {
            "epoch": epoch,
            "seconds": time.perf_counter() - started,
            "learning_rate": sched.get_last_lr()[0],
            "train_loss": float(np.mean(losses)),
        }
        if val_enc is not None:
            row.update(_evaluate(dm, val_enc, val_labels, loss_fn, batch_size))
            bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_auroc=f"{row['val_auroc']:.3f}")
            # Patience counts from the best AUROC of any epoch; the weights kept are those of the
            # best epoch whose accuracy beats the majority class. A model that puts every
            # validation sequence in one class has not left the loss plateau of the first epochs:
            # its AUROC can be high (the logits rank, the threshold does not), but it is no model
            # to restore.
            if row["val_auroc"] > peak[1]:
                peak = (epoch, row["val_auroc"])
            if row["val_accuracy"] > majority and (best is None or row["val_auroc"] > best[1]):
                best = (
                    epoch,
                    row["val_auroc"],
                    {n: v.detach().clone() for n, v in model.state_dict().items()},
                )
            if epoch - peak[0] >= patience and stopped == "epochs":
                stopped = "patience"
        history.append(row)
        if stopped != "epochs":
            break
    bar.close()
    if best is not None:
        model.load_state_dict(best[2])
    model.eval()
    dm.history = pd.DataFrame(history)
    dm.history.attrs.update(best_epoch=best[0] if best else len(history), stopped=stopped)
    return dm


def _checked(sequences, labels, name: str, label_name: str) -> tuple[list[str], np.ndarray]:
    sequences = check_sequences(sequences, name)
    labels = np.array(labels)  # a copy: torch wants a writable array
    if labels.shape != (len(sequences),):
        raise ValueError(
            f"{label_name} has shape {labels.shape}, expected ({len(sequences)},): "
            "one label per sequence"
        )
    if len(labels) and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0):
        raise ValueError(f"{label_name} must be non-negative integers (class indices)")
    return sequences, labels


def _encode(dm: DnaModel, sequences: list[str], what: str):
    enc = dm.encode(sequences)
    if len(enc.input_ids) != len(sequences):
        raise ValueError(
            f"{what} sequences must fit the model's {dm.max_tokens} positions; cut long ones first"
        )
    return enc


@torch.no_grad()
def _evaluate(dm: DnaModel, enc, labels: np.ndarray, loss_fn, batch_size: int) -> dict[str, float]:
    """Validation loss, accuracy and AUROC of the model (evaluation mode inside, training mode
    after)."""
    dm.model.eval()
    logits = torch.cat(
        [dm.model(**inputs).logits.float() for _, inputs in dm.batches(enc, batch_size)]
    )
    dm.model.train()
    target = torch.as_tensor(labels, device=logits.device)
    probabilities = torch.softmax(logits, -1).cpu().numpy()
    return {
        "val_loss": float(loss_fn(logits, target)),
        "val_accuracy": float((probabilities.argmax(1) == labels).mean()),
        "val_auroc": auroc(probabilities, labels),
    }
