"""Fine-tune a loaded checkpoint on your labels: a new sequence head, full or LoRA.

The head is the family's own ``*ForSequenceClassification`` class, found in
the module that defines the loaded model's class (transformers'
``modeling_bert``/``modeling_esm`` for the stock families, this package's
``architectures/<family>.py`` for the native ones): a family plugs in by
defining that class beside its network, with the same ``base_model_prefix``.
The checkpoint's encoder (``model.base_model``) is copied into it, tensors it
lacks (a pooler a masked LM never had) start at random, and the result saves
in the family's published layout with ``config.problem_type`` saying what
the head is, so :func:`dnabert_viz.load_model` (and transformers, for a stock
family) reads it back. LoRA (peft) trains low-rank adapters on the encoder's
linear layers and the head in full; the adapters are merged into the weights
before the model is returned, so it loads without peft.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .finetune import (
    MultiLabel,
    Regression,
    SingleLabel,
    _class_indices,
    _sequences_and_sources,
    check_labels,
    check_loop,
    fit,
    save_trained,
    stratified_split,
)
from .model import DnaModel
from .sequences import check_sequences

TASKS = {"classification": SingleLabel, "multilabel": MultiLabel, "regression": Regression}
LORA_DEFAULTS = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": None}


def sequence_head_class(m: DnaModel) -> type:
    """The family's sequence-head class: the one ``*ForSequenceClassification`` defined in the
    module of the loaded model's class.

    Raises
    ------
    ValueError
        When that module defines none (or several).
    """
    from transformers import PreTrainedModel

    module = sys.modules[type(m.model).__module__]
    found = [
        c
        for name, c in vars(module).items()
        if name.endswith("ForSequenceClassification")
        and isinstance(c, type)
        and issubclass(c, PreTrainedModel)
        and c.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise ValueError(
            f"{m.name} cannot be fine-tuned: {module.__name__} (where its "
            f"{type(m.model).__name__} is defined) has {len(found) or 'no'} "
            "*ForSequenceClassification class, and a family needs exactly one to take a head"
        )
    return found[0]


def with_head(m: DnaModel, n_outputs: int, problem_type: str, *, seed: int = 0):
    """A copy of ``m``'s encoder under a new sequence head of ``n_outputs`` outputs.

    Parameters
    ----------
    m : DnaModel
        Any loaded checkpoint (masked LM, causal LM, bare encoder or classifier: its own head
        is dropped).
    n_outputs : int
        Classes, labels or regression outputs.
    problem_type : str
        ``config.problem_type`` of the head (:data:`dnabert_viz.model.PROBLEM_TYPES`).
    seed : int
        Seed of the new tensors' random initialisation.

    Returns
    -------
    model : transformers.PreTrainedModel
        The family's ``*ForSequenceClassification``, in training mode, on ``m``'s device.
    new : list of str
        Names of its tensors that did not come from ``m`` (the head, a pooler).
    """
    cls = sequence_head_class(m)
    config = copy.deepcopy(m.model.config)
    config.num_labels = n_outputs
    config.problem_type = problem_type
    config.architectures = [cls.__name__]
    torch.manual_seed(seed)
    model = cls(config).to(m.device)
    if model.base_model_prefix != m.model.base_model_prefix:
        raise ValueError(
            f"{m.name} cannot be fine-tuned: {cls.__name__} keeps its encoder under "
            f"{model.base_model_prefix!r}, {type(m.model).__name__} under "
            f"{m.model.base_model_prefix!r}"
        )
    copied = model.base_model.load_state_dict(m.model.base_model.state_dict(), strict=False)
    if copied.unexpected_keys:
        raise ValueError(
            f"{m.name} cannot be fine-tuned: {cls.__name__}'s encoder has no "
            f"{', '.join(copied.unexpected_keys[:3])} of {type(m.model).__name__}'s"
        )
    prefix = model.base_model_prefix
    encoder = {f"{prefix}.{name}" for name in model.base_model.state_dict()}
    new = [n for n in model.state_dict() if n not in encoder]
    new += [f"{prefix}.{name}" for name in copied.missing_keys]
    return model, sorted(new)


def fine_tune(
    m: DnaModel,
    sequences,
    labels,
    *,
    task: str = "classification",
    lora: bool | dict = False,
    epochs: int = 10,
    batch_size: int = 16,
    learning_rate: float | None = None,
    weight_decay: float = 0.01,
    warmup_fraction: float = 0.1,
    validation_fraction: float = 0.1,
    validation: tuple | None = None,
    patience: int = 3,
    max_minutes: float | None = 10.0,
    reverse_complement: bool = False,
    seed: int = 0,
    progress: bool | None = None,
    out: str | Path | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    autocast: bool | None = None,
    gradient_checkpointing: bool | None = None,
) -> DnaModel:
    """Fine-tune a loaded checkpoint on labelled sequences, with a new head (full or LoRA).

    The checkpoint's encoder gets the family's sequence head (:func:`with_head`) and is trained
    by the loop of :func:`dnabert_viz.train_classifier` (:func:`dnabert_viz.finetune.fit`): the
    same seeded validation split (stratified by class, by label pattern for ``multilabel``,
    random for ``regression``), a history row per epoch, early stopping on the validation
    criterion (AUROC; Spearman for regression), the best epoch restored, a time budget.
    ``m`` is left as it was. On a GPU, by default, the forward passes run in bfloat16
    autocast and activations are recomputed in the backward pass (gradient checkpointing)
    where the family supports it.

    Parameters
    ----------
    m : DnaModel
        Any checkpoint the workbench loads (DNABERT-1, DNABERT-2, Nucleotide Transformer,
        HyenaDNA, ...), with or without a head.
    sequences : list of str or pandas.DataFrame
        N training sequences (or a table with a ``sequence`` column), each within the model's
        positions.
    labels : array-like
        ``classification``: (N,) class indices 0 .. C - 1, two classes or more.
        ``multilabel``: (N, C) of 0 and 1, every label both present and absent.
        ``regression``: (N,) or (N, C) finite numbers.
    task : {"classification", "multilabel", "regression"}
        The head: softmax over classes (cross-entropy), a sigmoid per label (binary
        cross-entropy) or real values (mean squared error); saved as ``config.problem_type``
        (``single_label_classification``, ``multi_label_classification``, ``regression``).
    lora : bool or dict
        False: every parameter trains. True or a dict of ``r`` (8), ``alpha`` (16),
        ``dropout`` (0.0) and ``target_modules`` (names of linear layers; default every linear
        layer of the encoder): low-rank adapters on those layers, the head (and any tensor new
        to the checkpoint, such as a pooler) in full, everything else frozen; merged into the
        weights at the end.
    epochs, batch_size, weight_decay, warmup_fraction, patience, max_minutes, seed, progress,
    on_epoch
        As :func:`dnabert_viz.train_classifier`.
    learning_rate : float, optional
        Peak AdamW learning rate; default 1e-4 (full) or 1e-3 (LoRA).
    validation_fraction : float
        Share held out for validation (0: none, all epochs run).
    validation : (sequences, labels), optional
        An explicit validation set instead of the split.
    reverse_complement : bool
        Each batch reads the reverse-complemented sequences with probability 1/2.
    out : str or Path, optional
        Also write the model folder there (published layout, ``history.tsv``,
        ``training.json``), atomically; checked before training.
    autocast : bool, optional
        Forward passes in bfloat16 autocast (less memory and time on a GPU; on a CPU it
        runs, usually slower). Default: on a GPU only.
    gradient_checkpointing : bool, optional
        Recompute each layer's activations in the backward pass instead of keeping them
        (less memory, about a third more time; the same gradients). Default: on a GPU, where
        the family supports it; asked for on a family that does not, an error.

    Returns
    -------
    DnaModel
        In evaluation mode, ``problem_type`` as asked, with ``history`` (as
        :func:`dnabert_viz.train_classifier`'s; its ``attrs`` add ``problem_type``,
        ``trainable_parameters``, ``parameters`` and ``new_tensors``).

    Raises
    ------
    ValueError
        One line naming the problem: labels of the wrong count or kind, one class only, NaN
        or text in a regression target, LoRA target modules the model lacks, a checkpoint
        that cannot take a head, an output that cannot be written.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    check_loop(epochs=epochs, batch_size=batch_size, patience=patience, max_minutes=max_minutes)
    lora = _lora_settings(lora)
    if out is not None:
        from .outputs import check_output

        check_output(out, kind="model")
    sequences, sources = _sequences_and_sources(sequences)
    sequences = check_sequences(sequences, "sequences")
    labels, n_outputs = task_labels(task, labels, len(sequences), validation_fraction)
    kind = TASKS[task](n_outputs)
    if validation is not None:
        val_seqs = check_sequences(validation[0], "validation sequences")
        val_labels, n_val = task_labels(task, validation[1], len(val_seqs), 0, "validation labels")
        if n_val != n_outputs:
            raise ValueError(
                f"validation labels have {n_val} outputs, the training labels {n_outputs}"
            )
        train_rows = np.arange(len(sequences))
    else:
        train_rows, val_rows = stratified_split(kind.strata(labels), validation_fraction, seed)
        val_seqs, val_labels = [sequences[i] for i in val_rows], labels[val_rows]
    model, new = with_head(m, n_outputs, kind.problem_type, seed=seed)
    if learning_rate is None:
        learning_rate = 1e-3 if lora else 1e-4
    dm = m.with_network(model, name=f"{m.name} fine-tuned")
    dm.tokenizer.check_lengths(sequences, sources)
    adapted = _add_lora(model, lora, new) if lora else None
    gpu = dm.device.type == "cuda"
    if gradient_checkpointing and not model.supports_gradient_checkpointing:
        raise ValueError(
            f"{m.name} cannot be fine-tuned with gradient checkpointing: "
            f"{type(model).__name__} does not support it"
        )
    if gradient_checkpointing is None:
        gradient_checkpointing = gpu and model.supports_gradient_checkpointing
    if gradient_checkpointing:
        model.activation_checkpointing_enable({"use_reentrant": False})
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    fit(
        dm,
        kind,
        (sequences, labels, train_rows),
        (val_seqs, val_labels),
        reverse_complement=reverse_complement,
        autocast=gpu if autocast is None else autocast,
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
    if gradient_checkpointing:
        model.activation_checkpointing_disable()
    if adapted is not None:
        dm.model = adapted.merge_and_unload().eval()
    dm.history.attrs.update(
        problem_type=kind.problem_type,
        trainable_parameters=trainable,
        parameters=sum(p.numel() for p in dm.model.parameters()),
        new_tensors=new,
    )
    if out is not None:
        save_trained(
            dm,
            out,
            {
                "base_model": m.name,
                "task": task,
                "lora": lora or False,
                "learning_rate": learning_rate,
                "n_sequences": len(sequences),
            },
        )
    return dm


def task_labels(
    task: str,
    labels,
    n_sequences: int,
    validation_fraction: float = 0.1,
    name: str = "labels",
) -> tuple[np.ndarray, int]:
    """Labels of ``task`` checked for ``n_sequences`` sequences, and the head's outputs.

    Returns
    -------
    labels : numpy.ndarray
        (N,) int class indices (classification), (N, C) float 0/1 (multilabel) or (N, C) float
        values (regression).
    n_outputs : int
        C.

    Raises
    ------
    ValueError
        Starting with ``name``: the wrong count, a class without sequences, one class only,
        labels that are not 0/1, NaN or text in a regression target.
    """
    if task == "classification":
        checked = _class_indices(labels, name)
        if checked.shape != (n_sequences,):
            raise ValueError(
                f"{name} has shape {checked.shape}, expected ({n_sequences},): one class index "
                "per sequence"
            )
        return checked, check_labels(checked, validation_fraction, name)
    array = np.asarray(labels, dtype=object)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) != n_sequences:
        raise ValueError(
            f"{name} has shape {np.shape(labels)}, expected ({n_sequences},) or "
            f"({n_sequences}, C): one row per sequence"
        )
    try:
        values = array.astype(float)
    except (TypeError, ValueError):
        bad = next(v for v in array.ravel() if not _is_number(v))
        raise ValueError(f"{name}: {bad!r} is not a number") from None
    if not np.isfinite(values).all():
        row = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise ValueError(f"{name}: row {row} is {values[row].tolist()}, not finite numbers")
    if task == "multilabel":
        if not np.isin(values, (0, 1)).all():
            raise ValueError(f"{name}: multi-label targets must be 0 or 1 (a column per label)")
        for j in range(values.shape[1]):
            if values[:, j].min() == values[:, j].max():
                raise ValueError(
                    f"{name}: label {j} is {int(values[0, j])} in all {n_sequences} sequences; "
                    "each label needs sequences with and without it"
                )
    elif n_sequences > 1 and (values.std(axis=0) == 0).any():
        j = int(np.argmax(values.std(axis=0) == 0))
        raise ValueError(f"{name}: output {j} is {values[0, j]:g} for every sequence")
    return values.astype(np.float32), values.shape[1]


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _lora_settings(lora: bool | dict) -> dict | None:
    """``lora`` as a full dict of settings (None: full fine-tuning), unknown keys refused."""
    if lora is False or lora is None:
        return None
    given = {} if lora is True else lora
    if not isinstance(given, dict):
        raise ValueError(f"lora must be True, False or a dict of {', '.join(LORA_DEFAULTS)}")
    unknown = set(given) - set(LORA_DEFAULTS)
    if unknown:
        raise ValueError(
            f"lora: unknown setting {sorted(unknown)[0]!r} (settings: {', '.join(LORA_DEFAULTS)})"
        )
    return {**LORA_DEFAULTS, **given}


def _add_lora(model, lora: dict, new: list[str]):
    """Wrap ``model`` (in place) in peft LoRA adapters: the head and the tensors in ``new`` train
    in full, the rest of the encoder through adapters on ``lora["target_modules"]``."""
    from peft import LoraConfig, get_peft_model

    prefix = model.base_model_prefix + "."
    full = sorted({n.rsplit(".", 1)[0] for n in new})  # the modules of the new tensors
    targets = lora["target_modules"]
    if targets is None:
        targets = [
            name
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear)
            and name.startswith(prefix)
            and not any(name == f or name.startswith(f + ".") for f in full)
        ]
    config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=targets,
        modules_to_save=full,
    )
    try:
        with warnings.catch_warnings():  # peft reads transformers' deprecated attribute names
            warnings.simplefilter("ignore", FutureWarning)
            return get_peft_model(model, config)
    except ValueError as err:
        raise ValueError(
            f"lora target_modules {lora['target_modules']!r}: {str(err).splitlines()[0]}"
        ) from None
