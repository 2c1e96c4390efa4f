"""A small, honest training loop: DNABERT-style classifiers that train on a laptop CPU.

``architecture="dnabert"`` (default) is a ``BertForSequenceClassification``
with DNABERT's published k-mer vocabulary and config keys;
``architecture="dnabert2"`` is the native DNABERT-2 architecture (ALiBi,
gated GELU MLP) with DNABERT-2's published BPE tokenizer and config keys.
Only the sizes are reduced, so everything the workbench does to a real
checkpoint it does to these too. ``architecture="cnn"`` is the one-hot CNN
baseline (:mod:`dnabert_viz.architectures.cnn`), trained by the same loop.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .checks import check_counts
from .intervals import split_input
from .model import DnaModel, resolve_device
from .runtime import show_progress
from .sequences import check_sequences
from .sequences import (
    reverse_complement as _reverse_complement,  # the keyword of train_classifier shadows it
)
from .tokenization import KmerTokenizer, read_vocab

DNABERT6_FILES = Path(__file__).parent / "data" / "dnabert6"
VALIDATION_FRACTION = 0.1  # train_classifier's default share of each class held out
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ARCHITECTURES = ("dnabert", "dnabert2", "cnn")  # what train_classifier builds


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
    *,
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
    architecture : {"dnabert", "dnabert2", "cnn"}
        DNABERT (k-mers, absolute positions), DNABERT-2 (BPE, ALiBi;
        ``max_position_embeddings`` unused: 512 positions as published) or the one-hot CNN
        (:mod:`dnabert_viz.architectures.cnn`: ``hidden_size`` channels, ``num_layers``
        convolutions, the first 15 nt wide, the others 5, global max pooling; ``num_heads``
        unused; ``max_position_embeddings``: the longest window scored whole, ``[SEP]``
        included).
    dropout : float
        Hidden and attention dropout (DNABERT: 0.1). DNABERT-2: hidden dropout only, its
        attention dropout stays the published 0.0.
    """
    from transformers import BertConfig, BertForSequenceClassification

    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
    if architecture == "cnn":
        from .architectures.cnn_checkpoint import build_cnn, tokenizer

        if k is not None:
            raise ValueError(f"k={k} is DNABERT's k-mer length; the CNN reads nucleotides")
        model = build_cnn(
            channels=hidden_size,
            num_layers=num_layers,
            num_labels=num_labels,
            dropout=dropout,
            max_position_embeddings=max_position_embeddings,
            seed=seed,
        )
        return DnaModel(
            model, tokenizer(), name="cnn-small", device=device, returns_attention=False
        )
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

    Each class gives ``round(fraction * n_class)`` rows to validation, at
    least one and at most ``n_class - 1`` when ``fraction > 0`` and the class
    has two or more rows (so that it keeps a training row).

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
        n = min(max(round(fraction * len(rows)), 1), len(rows) - 1) if fraction > 0 else 0
        held.append(rows[:n])
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
    *,
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
    validation_fraction: float = VALIDATION_FRACTION,
    validation: tuple | None = None,
    patience: int = 5,
    max_minutes: float | None = 10.0,
    dropout: float = 0.1,
    label_smoothing: float = 0.0,
    reverse_complement: bool = False,
    on_epoch: Callable[[dict], None] | None = None,
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
    fourfold once the loss is small. Everything is checked before the model
    is built: two or more classes, numbered 0 .. C - 1 and each with
    sequences, every class in validation and (with a split) in training,
    ``epochs``, ``batch_size`` and ``patience`` at least 1, ``max_minutes``
    above 0.

    Parameters
    ----------
    sequences : list of str or pandas.DataFrame
        Training sequences, or a table with a ``sequence`` column
        (:func:`dnabert_viz.read_sequences`'s: its ``source`` column names
        the file and record of a sequence too short for the tokenizer).
    labels : array-like of int
        Class of each sequence, 0 .. C - 1, every class used (two or more).
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
    architecture : {"dnabert", "dnabert2", "cnn"}
        See :func:`build_classifier`. ``"cnn"``: the one-hot CNN (two convolutions and
        global max pooling at the defaults ``hidden_size=64, num_layers=2``), which no
        attention view reads; everything else (prediction, attribution, ISM, exact
        hypothetical contributions, TF-MoDISco, variant effects, faithfulness) does.
    validation_fraction : float
        Share of each class held out for validation (each class needs two
        sequences, one to validate on and one to train on); 0 trains on
        everything for ``epochs`` epochs without early stopping.
    validation : (sequences, labels), optional
        An explicit validation set instead of the split, holding every class.
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
    on_epoch : callable, optional
        Called with each epoch's row of the history (a dict) as soon as the
        epoch ends (the command line prints a line per epoch with it).

    Returns
    -------
    DnaModel
        The trained model, in evaluation mode, with ``history``: a
        DataFrame, one row per epoch (``epoch``, ``seconds``,
        ``learning_rate``, ``train_loss``, ``val_loss``, ``val_accuracy``,
        ``val_auroc``) whose ``attrs`` hold ``best_epoch``, ``stopped``
        (``"patience"``, ``"epochs"`` or ``"max_minutes"``),
        ``beat_majority`` (whether any epoch's validation accuracy beat the
        majority class), ``validation_sizes`` (validation sequences per
        class), ``epochs``, ``patience`` and ``max_minutes``;
        :func:`training_summary` says in one line what they mean.

    Raises
    ------
    ValueError
        For the checks above, naming the class or setting and what would work.
    """
    check_loop(epochs=epochs, batch_size=batch_size, patience=patience, max_minutes=max_minutes)
    sequences, sources = _sequences_and_sources(sequences)
    sequences, labels = _checked(sequences, labels, "sequences", "labels")
    n_labels = check_labels(labels, 0 if validation is not None else validation_fraction)
    if validation is not None:
        val_seqs, val_labels = _checked(*validation, "validation sequences", "validation labels")
        _check_validation_classes(val_labels, n_labels)
        train_rows = np.arange(len(sequences))
    else:
        train_rows, val_rows = stratified_split(labels, validation_fraction, seed)
        val_seqs, val_labels = [sequences[i] for i in val_rows], labels[val_rows]
    dm = build_classifier(
        k=k,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        num_labels=n_labels,
        seed=seed,
        device=resolve_device(device),
        architecture=architecture,
        dropout=dropout,
    )
    dm.tokenizer.check_lengths(sequences, sources)
    fit(
        dm,
        SingleLabel(n_labels, label_smoothing),
        (sequences, labels, train_rows),
        (val_seqs, val_labels),
        reverse_complement=reverse_complement,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        warmup_fraction=warmup_fraction,
        patience=patience,
        max_minutes=max_minutes,
        seed=seed,
        progress=progress,
        on_epoch=on_epoch,
    )
    return dm


def save_trained(dm: DnaModel, out: str | Path, summary: dict) -> None:
    """Write a trained model's folder atomically (:func:`dnabert_viz.outputs.atomic_folder`):
    the checkpoint (``save_pretrained``), ``history.tsv`` (a row per epoch) and
    ``training.json`` (``summary`` and the history's ``attrs``)."""
    import json

    from .outputs import atomic_folder

    with atomic_folder(out, kind="model") as tmp:
        dm.save_pretrained(tmp)
        dm.history.to_csv(tmp / "history.tsv", sep="\t", index=False)
        text = json.dumps({**summary, **dm.history.attrs}, indent=1) + "\n"
        (tmp / "training.json").write_text(text)


def training_summary(history) -> str:
    """One line on a training run: the epoch kept, whether it beat chance on validation, and
    whether the time budget cut the run.

    Beating chance: the kept epoch's validation AUROC is above 0.5 with a one-sided p-value
    below 0.05 against a model that ranks the validation sequences at random
    (:func:`chance_p_value`).

    Parameters
    ----------
    history : pandas.DataFrame
        ``DnaModel.history`` from :func:`train_classifier` or :func:`dnabert_viz.fine_tune`.
    """
    attrs = history.attrs
    kept = history.set_index("epoch").loc[attrs["best_epoch"]]
    parts = [f"epoch {attrs['best_epoch']} of {len(history)} kept"]
    problem = attrs.get("problem_type", SingleLabel.problem_type)
    if "val_loss" not in kept:
        parts.append("no validation (validation_fraction 0): whether it beats chance is unknown")
    elif problem == Regression.problem_type:
        parts.append(
            f"validation Spearman {kept['val_spearman']:.3f} (chance 0) on "
            f"{sum(attrs['validation_sizes'])} sequences"
        )
    elif problem == MultiLabel.problem_type:
        parts.append(
            f"validation AUROC {kept['val_auroc']:.3f} (chance 0.5; mean over "
            f"{len(attrs['validation_sizes'])} labels)"
        )
    else:
        sizes = attrs["validation_sizes"]
        p = chance_p_value(kept["val_auroc"], sizes)
        verdict = (
            "better than chance"
            if p < 0.05
            else "NOT better than chance: the model has not learned to tell the classes apart"
        )
        parts.append(
            f"validation AUROC {kept['val_auroc']:.3f} (chance 0.5; p = {p:.2g} on "
            f"{sum(sizes)} sequences): {verdict}"
        )
        if not attrs["beat_majority"]:
            parts.append("no epoch's validation accuracy beat predicting the majority class")
    if attrs["stopped"] == "max_minutes":
        parts.append(
            f"the time budget (max_minutes {attrs['max_minutes']:g}) cut training in epoch "
            f"{len(history)} of {attrs['epochs']}: more time may give a better model"
        )
    elif attrs["stopped"] == "patience":
        parts.append(
            f"stopped early, {attrs['patience']} epochs without a better validation "
            f"{'Spearman' if problem == Regression.problem_type else 'AUROC'} (not by the time "
            "budget)"
        )
    else:
        parts.append(f"all {attrs['epochs']} epochs ran (not cut by the time budget)")
    return "; ".join(parts)


def chance_p_value(area: float, sizes: list[int]) -> float:
    """One-sided p-value of an AUROC of at least ``area`` from a model that ranks at random.

    The normal approximation of the Mann-Whitney statistic: mean 0.5, variance
    (n1 + n2 + 1) / (12 n1 n2) for n1 sequences of a class and n2 of the rest.
    Two classes: class 1 against class 0; more (a macro average of one
    against the rest): the largest variance among the classes, which is
    conservative.

    Parameters
    ----------
    area : float
        The AUROC.
    sizes : list of int
        Sequences per class (each at least one).
    """
    n = sum(sizes)
    classes = [sizes[1]] if len(sizes) == 2 else sizes
    variance = max((n + 1) / (12 * c * (n - c)) for c in classes)
    return 0.5 * math.erfc((area - 0.5) / math.sqrt(2 * variance))


def check_labels(
    labels, validation_fraction: float = VALIDATION_FRACTION, name: str = "labels"
) -> int:
    """The number of classes C of training labels, after checking that they can be learned.

    Labels must be class indices 0 .. C - 1, two classes or more, each with
    sequences; with a validation split (``validation_fraction`` above 0) each
    class needs two, one to validate on and one to train on.
    :func:`train_classifier` runs this check; the command line runs it first to
    name the labels' file.

    Parameters
    ----------
    labels : array-like of int
        The training labels.
    validation_fraction : float
        As given to :func:`train_classifier` (0 with an explicit validation set).
    name : str
        What to call the labels in errors (a file, a column).

    Raises
    ------
    ValueError
        Starting with ``name``, saying what is wrong and what would work.
    """
    labels = _class_indices(labels, name)
    present, counts = np.unique(labels, return_counts=True)
    if len(present) < 2:
        raise ValueError(
            f"{name}: one class ({present[0] if len(present) else 'none'}) in all {len(labels)} "
            "sequences; a classifier needs two or more: add sequences of another class (such "
            "as negatives)"
        )
    missing = sorted(set(range(int(present[-1]) + 1)) - set(present.tolist()))
    if missing:
        raise ValueError(
            f"{name}: classes {', '.join(map(str, present))}, so class {missing[0]} has no "
            f"sequence; classes must be 0 .. C - 1, each with sequences (renumber them 0 .. "
            f"{len(present) - 1})"
        )
    if validation_fraction > 0 and counts.min() < 2:
        c = int(counts.argmin())
        raise ValueError(
            f"{name}: class {c} has {counts[c]} sequence, and a validation split "
            f"(validation_fraction {validation_fraction:g}) needs two of each class, one to "
            "validate on and one to train on; add sequences, or train without validation "
            "(validation_fraction=0, on the command line --validation-fraction 0)"
        )
    return len(present)


def _class_indices(labels, name: str) -> np.ndarray:
    """``labels`` as a new (writable: torch wants one) array, checked to hold non-negative
    integers."""
    labels = np.array(labels)
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0):
        raise ValueError(f"{name} must be non-negative integers (class indices)")
    return labels


def _check_validation_classes(labels: np.ndarray, n_classes: int) -> None:
    """Raise ValueError unless explicit validation labels hold every training class and no
    other."""
    present = set(np.unique(labels).tolist())
    extra, missing = present - set(range(n_classes)), set(range(n_classes)) - present
    if extra:
        raise ValueError(
            f"validation label {min(extra)} is not a class of the training labels "
            f"(0 .. {n_classes - 1})"
        )
    if missing:
        raise ValueError(
            f"validation labels lack class {min(missing)}: validation AUROC needs sequences of "
            "every class"
        )


def _sequences_and_sources(sequences) -> tuple[object, list[str] | None]:
    """The sequences of a table (or ``sequences`` as given) and, when the table has them, their
    sources (file, record and line)."""
    import pandas as pd

    if not isinstance(sequences, pd.DataFrame):
        return sequences, None
    seqs, _ = split_input(sequences)  # checks that there is a 'sequence' column
    return seqs, sequences["source"].tolist() if "source" in sequences else None


def step(loss: torch.Tensor, optim, sched, bar) -> float:
    """One optimisation step on a batch's loss (the learning-rate schedule and progress bar move
    on); returns the loss."""
    optim.zero_grad()
    loss.backward()
    optim.step()
    sched.step()
    bar.update()
    bar.set_postfix(loss=f"{loss.item():.3f}")
    return loss.item()


def _checked(sequences, labels, name: str, label_name: str) -> tuple[list[str], np.ndarray]:
    sequences = check_sequences(sequences, name)
    labels = _class_indices(labels, label_name)
    if labels.shape != (len(sequences),):
        raise ValueError(
            f"{label_name} has shape {labels.shape}, expected ({len(sequences)},): "
            "one label per sequence"
        )
    return sequences, labels


def _encode(dm: DnaModel, sequences: list[str], what: str):
    enc = dm.encode(sequences)
    if len(enc.input_ids) != len(sequences):
        raise ValueError(
            f"{what} sequences must fit the model's {dm.max_tokens} positions; cut long ones first"
        )
    return enc


class SingleLabel:
    """Single-label classification (softmax, cross-entropy): what :func:`train_classifier`
    trains, and ``task="classification"`` of :func:`dnabert_viz.fine_tune`.

    Each task of :func:`fit` says how labels are checked, split and fed to the loss, what is
    measured on validation and which measure picks the epoch kept (``criterion``, higher is
    better): adding a kind of head is one such class.
    """

    problem_type = "single_label_classification"
    criterion = "val_auroc"

    def __init__(self, n_outputs: int, label_smoothing: float = 0.0):
        self.n_outputs = n_outputs
        self.loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def target(self, labels: np.ndarray, device) -> torch.Tensor:
        """Labels as the loss reads them."""
        return torch.as_tensor(labels, device=device)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss of a batch: logits (B, C), target (B,)."""
        return self.loss_fn(logits.view(-1, self.n_outputs), target)

    def strata(self, labels: np.ndarray) -> np.ndarray:
        """(N,) groups the validation split keeps in proportion."""
        return labels

    def measure(self, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """Validation measures from the head's outputs (N, C) (``DnaModel.head_output``)."""
        return {
            "val_accuracy": float((outputs.argmax(1) == labels).mean()),
            "val_auroc": auroc(outputs, labels),
        }

    def usable(self, row: dict, labels: np.ndarray) -> bool:
        """Whether an epoch may be kept: its validation accuracy beats predicting the majority
        class. A model that puts every validation sequence in one class has not left the loss
        plateau of the first epochs: its AUROC can be high (the logits rank, the threshold does
        not), but it is no model to restore."""
        return row["val_accuracy"] > np.bincount(labels).max() / len(labels)

    def sizes(self, labels: np.ndarray) -> list[int]:
        """Validation sequences per class (``history.attrs["validation_sizes"]``)."""
        return np.bincount(labels, minlength=self.n_outputs).tolist()


class MultiLabel(SingleLabel):
    """Independent labels (a sigmoid each, binary cross-entropy): labels (N, C) of 0 and 1;
    validation AUROC and accuracy (at 0.5) are means over the labels."""

    problem_type = "multi_label_classification"

    def __init__(self, n_outputs: int):
        self.n_outputs = n_outputs
        self.loss_fn = torch.nn.BCEWithLogitsLoss()

    def target(self, labels: np.ndarray, device) -> torch.Tensor:
        return torch.as_tensor(labels, dtype=torch.float32, device=device)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(logits.float(), target)

    def strata(self, labels: np.ndarray) -> np.ndarray:
        return np.unique(labels, axis=0, return_inverse=True)[1].ravel()  # each label pattern

    def measure(self, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        return {
            "val_accuracy": float(((outputs > 0.5) == labels).mean()),
            "val_auroc": float(
                np.mean([auroc(outputs[:, j], labels[:, j]) for j in range(self.n_outputs)])
            ),
        }

    def usable(self, row: dict, labels: np.ndarray) -> bool:
        return True

    def sizes(self, labels: np.ndarray) -> list[int]:
        """Validation sequences carrying each label."""
        return labels.sum(0).astype(int).tolist()


class Regression(MultiLabel):
    """One or more real-valued outputs (mean squared error): targets (N, C); the epoch kept has
    the best validation Spearman correlation (mean over the outputs)."""

    problem_type = "regression"
    criterion = "val_spearman"

    def __init__(self, n_outputs: int):
        self.n_outputs = n_outputs
        self.loss_fn = torch.nn.MSELoss()

    def strata(self, labels: np.ndarray) -> np.ndarray:
        return np.zeros(len(labels), int)  # a plain seeded random split

    def measure(self, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        from scipy.stats import spearmanr

        rhos = [spearmanr(outputs[:, j], labels[:, j])[0] for j in range(self.n_outputs)]
        return {"val_spearman": float(np.mean(rhos))}

    def sizes(self, labels: np.ndarray) -> list[int]:
        """Validation sequences."""
        return [len(labels)]


def check_loop(*, epochs: int, batch_size: int, patience: int, max_minutes: float | None):
    """Check the settings of :func:`fit` (one-line errors naming the setting)."""
    check_counts(epochs=epochs, batch_size=batch_size, patience=patience)
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be above 0 (None: no time budget), not {max_minutes}")


def fit(
    dm: DnaModel,
    task: SingleLabel,
    train: tuple,
    validation: tuple,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    warmup_fraction: float,
    patience: int,
    max_minutes: float | None,
    seed: int,
    progress: bool | None,
    on_epoch: Callable[[dict], None] | None = None,
    reverse_complement: bool = False,
    autocast: bool = False,
) -> None:
    """The training loop of :func:`train_classifier` and :func:`dnabert_viz.fine_tune`: trains
    ``dm.model``'s parameters that require gradients, keeps the best epoch and sets
    ``dm.history``.

    After every epoch it records validation loss and ``task``'s measures; it keeps the weights
    of the best ``task.criterion`` among the epochs ``task.usable`` accepts, stops after
    ``patience`` epochs without a better criterion, after ``epochs`` epochs or when
    ``max_minutes`` have passed (checked after every batch), and restores the weights kept.
    AdamW with linear warm-up and linear decay to zero at ``epochs``; batches in a seeded random
    order. Denormal floats are flushed to zero (process wide, ``torch.set_flush_denormal``):
    without it CPU training slows about fourfold once the loss is small.

    Parameters
    ----------
    dm : DnaModel
        The model, trained in place.
    task : SingleLabel, MultiLabel or Regression
        Loss, measures and the criterion of the epoch kept.
    train : (list of str, numpy.ndarray, numpy.ndarray)
        Training sequences, their labels ((N,) or (N, C)) and the rows of them to train on.
    validation : (list of str, numpy.ndarray)
        Validation sequences and labels; none: all ``epochs`` run and the last is kept.
    reverse_complement : bool
        Each batch reads the training sequences reverse-complemented with probability 1/2.
    autocast : bool
        Forward passes in bfloat16 autocast (on a GPU).
    epochs, batch_size, learning_rate, weight_decay, warmup_fraction, patience, max_minutes,
    seed, progress, on_epoch
        As :func:`train_classifier` documents them.
    """
    import contextlib
    import time

    import pandas as pd
    from tqdm.auto import tqdm

    sequences, labels, train_rows = train
    enc = _encode(dm, sequences, "training")
    flipped = (
        _encode(dm, [_reverse_complement(s) for s in sequences], "training")
        if reverse_complement
        else None
    )
    if len(validation[0]):
        validation = (_encode(dm, validation[0], "validation"), validation[1])
    else:
        validation = None
    target = task.target(labels, dm.device)
    model = dm.model.train()
    trained = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(trained, lr=learning_rate, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(train_rows) / batch_size)
    warmup = max(1, int(warmup_fraction * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    rng = np.random.default_rng(seed)
    flips = np.random.default_rng([seed, 1])
    mixed = (
        torch.autocast(dm.device.type, dtype=torch.bfloat16)
        if autocast
        else contextlib.nullcontext()
    )
    # Once the loss is small, gradients turn denormal and CPU training slows fourfold; flush them
    # to zero.
    torch.set_flush_denormal(True)
    bar = tqdm(total=steps, desc="training", disable=not show_progress(progress))
    started, history, best, stopped = time.perf_counter(), [], None, "epochs"
    peak = (0, -np.inf)
    criterion = task.criterion
    for epoch in range(1, epochs + 1):
        order = train_rows[rng.permutation(len(train_rows))]
        losses = []
        for start in range(0, len(order), batch_size):
            rows = np.sort(order[start : start + batch_size])
            source = enc
            if flipped is not None and flips.random() < 0.5:
                source = flipped
            with mixed:
                logits = model(**dm.inputs(source, rows)).logits
            losses.append(step(task.loss(logits.float(), target[rows]), optim, sched, bar))
            if max_minutes is not None and time.perf_counter() - started > 60 * max_minutes:
                stopped = "max_minutes"
                break
        row = {
            "epoch": epoch,
            "seconds": time.perf_counter() - started,
            "learning_rate": sched.get_last_lr()[0],
            "train_loss": float(np.mean(losses)),
        }
        if validation is not None:
            with mixed:
                row.update(_evaluate(dm, task, *validation, batch_size))
            bar.set_postfix(
                loss=f"{row['train_loss']:.3f}", **{criterion: f"{row[criterion]:.3f}"}
            )
            # Patience counts from the best criterion of any epoch; the weights kept are those of
            # the best epoch the task accepts (task.usable).
            if row[criterion] > peak[1]:
                peak = (epoch, row[criterion])
            if task.usable(row, validation[1]) and (best is None or row[criterion] > best[1]):
                best = (
                    epoch,
                    row[criterion],
                    {n: v.detach().clone() for n, v in model.state_dict().items()},
                )
            if epoch - peak[0] >= patience and stopped == "epochs":
                stopped = "patience"
        history.append(row)
        if on_epoch is not None:
            on_epoch(dict(row))
        if stopped != "epochs":
            break
    bar.close()
    if best is not None:
        model.load_state_dict(best[2])
    model.eval()
    dm.history = pd.DataFrame(history)
    dm.history.attrs.update(
        best_epoch=best[0] if best else len(history),
        stopped=stopped,
        beat_majority=best is not None,
        validation_sizes=task.sizes(validation[1]) if validation is not None else [],
        epochs=epochs,
        patience=patience,
        max_minutes=max_minutes,
    )


@torch.no_grad()
def _evaluate(
    dm: DnaModel, task: SingleLabel, enc, labels: np.ndarray, batch_size: int
) -> dict[str, float]:
    """Validation loss and the task's measures (evaluation mode inside, training mode after)."""
    dm.model.eval()
    logits = torch.cat(
        [dm.model(**inputs).logits.float() for _, inputs in dm.batches(enc, batch_size=batch_size)]
    )
    dm.model.train()
    outputs = dm.head_output(logits).cpu().numpy()
    return {
        "val_loss": float(task.loss(logits, task.target(labels, logits.device))),
        **task.measure(outputs, labels),
    }
