"""Linear probes per layer: how much of a label each layer's embedding holds, linearly.

:func:`probe_layers` embeds the sequences at every layer asked for
(:meth:`DnaModel.embed`) and cross-validates a linear model on each:
logistic regression for classes (accuracy), ridge regression for numbers
(Pearson r), standardised features, the same folds for every layer. Compare
models on one figure (:func:`dnabert_viz.plot.probe_curve`): the pretrained
model, its fine-tuned copy, and the same architecture with random weights
(:func:`random_model`), the baseline that says what the architecture alone
gives.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch

from .model import DnaModel


def random_model(m: DnaModel, *, seed: int = 0) -> DnaModel:
    """The same architecture, config and tokenizer as ``m``, with freshly initialised weights.

    Parameters
    ----------
    m : DnaModel
    seed : int
        Seeds torch's generator for the initialisation (the global state is left as it was).

    Returns
    -------
    DnaModel
        Named ``"<m.name> (random init)"``, on ``m``'s device.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = type(m.model)(copy.deepcopy(m.model.config))
    return m.with_network(network, name=f"{m.name} (random init)")


def _pearson_r(y_true, y_pred) -> float:
    """Pearson r; NaN for a constant prediction (a layer that holds nothing that varies, e.g.
    the [CLS] embedding at layer 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.corrcoef(y_true, y_pred)[0, 1])


def probe_layers(
    m: DnaModel,
    sequences,
    labels,
    *,
    layers: int | list[int] | str = "all",
    pool: str = "mean",
    cv: int = 5,
    seed: int = 0,
    task: str | None = None,
    batch_size: int = 64,
    window_size: int | None = None,
    stride: int | None = None,
) -> pd.DataFrame:
    """Cross-validated linear probe of ``labels`` on each layer's sequence embeddings.

    Parameters
    ----------
    m : DnaModel
    sequences : str, list of str or pandas.DataFrame
        N sequences (as :meth:`DnaModel.embed`).
    labels : array-like
        (N,) classes (ints, bools or strings) or numbers.
    layers : int, list of int or "all"
        Hidden states to probe (0: the embedding output).
    pool : {"mean", "cls", "max"}
        How a sequence's tokens become one vector.
    cv : int
        Folds (stratified for classes), shuffled with ``seed``.
    seed : int
        The folds' and the probes' random state.
    task : {"classification", "regression"}, optional
        By default: regression for float labels, classification for ints, bools and strings.
    batch_size, window_size, stride :
        As :meth:`DnaModel.embed`.

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer``, ``score`` (mean over folds: accuracy, or Pearson r),
        ``std`` (over folds), ``metric`` and ``model`` (``m.name``).
    """
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(labels)
    emb = m.embed(
        sequences,
        layers=layers,
        pool=pool,
        batch_size=batch_size,
        window_size=window_size,
        stride=stride,
    )
    if y.shape != (len(emb),):
        raise ValueError(f"labels has shape {y.shape}; give one label per sequence ({len(emb)})")
    if task is None:
        task = "regression" if y.dtype.kind == "f" else "classification"
    if task == "classification":
        counts = pd.Series(y).value_counts()
        if len(counts) < 2 or counts.min() < cv:
            raise ValueError(
                f"labels: {cv}-fold probing needs two classes or more with {cv} sequences each "
                f"({len(counts)} classes, the smallest {counts.index[-1]!r} with {counts.min()}); "
                "for numbers pass float labels or task='regression'"
            )
        folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
        probe, scoring, metric = LogisticRegression(max_iter=2000), "accuracy", "accuracy"
    elif task == "regression":
        folds = KFold(cv, shuffle=True, random_state=seed)
        probe, scoring, metric = Ridge(), make_scorer(_pearson_r), "pearson_r"
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    rows = []
    for i, layer in enumerate(emb.layers):
        x = np.asarray(emb.values[i], dtype=np.float64)
        scores = cross_val_score(
            make_pipeline(StandardScaler(), probe), x, y, cv=folds, scoring=scoring
        )
        rows.append((layer, scores.mean(), scores.std(), metric, m.name))
    return pd.DataFrame(rows, columns=["layer", "score", "std", "metric", "model"])
