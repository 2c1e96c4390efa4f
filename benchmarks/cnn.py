"""The CNN baseline of the recovery table: the package's one-hot CNN
(``dv.train_classifier(architecture="cnn")``: two convolutions, global max pooling, a linear
head), at the settings it was benchmarked with.

It trains in :func:`dnabert_viz.train_classifier`'s loop: the same stratified validation
split (same function, same seed), early stopping on validation AUROC with the best weights
restored, the same time budget. Before the CNN moved into the package (issue 28) this file
had its own loop at a constant learning rate; the package's warms up and decays linearly,
so figures from before then come from that loop.
"""

import numpy as np

import dnabert_viz as dv

# the benchmarked settings: the transformer's defaults are tuned for it (benchmarks/sweep.py)
SETTINGS = {"learning_rate": 1e-3, "batch_size": 64, "dropout": 0.2, "patience": 5, "epochs": 30}


def train_cnn(seqs: list[str], labels: np.ndarray, max_minutes: float, seed: int = 0):
    """Train the baseline on the CPU; a :class:`dnabert_viz.DnaModel` with ``history``."""
    return dv.train_classifier(
        seqs,
        labels,
        architecture="cnn",
        max_minutes=max_minutes,
        seed=seed,
        device="cpu",
        progress=False,
        **SETTINGS,
    )
