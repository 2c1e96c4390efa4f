"""EmbeddingView on 10,000 sequences: the Python side of the first draw, a colour change, a
selection round trip and opening the selection in an explorer; the size of its snapshot.

Embeddings are given (10,000 x 768 random, DNABERT's hidden size), so the
first draw is PCA, the static figure and the FigureWidget, not the model;
scikit-learn's import (once a kernel) is timed apart. The selection round
trip is what a lasso of 500 points costs in the kernel: plotly's selection
callback sets ``selected``, the figure dims the others and its synced
state is brought up to date. The browser's own drawing is
not in these figures.
"""

import time

import numpy as np
from common import random_sequences
from plotly.callbacks import LassoSelector, Points
from widget_speed import median_ms

import dnabert_viz as dv
from dnabert_viz.widgets import EmbeddingView

N, D, LENGTH = 10_000, 768, 200


def main() -> None:
    seqs = random_sequences(N, LENGTH)
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(N, D)).astype(np.float32)
    labels = rng.integers(0, 2, N)
    scores = dv.Scores(seqs, rng.normal(size=(N, LENGTH)), "given")
    start = time.perf_counter()
    import sklearn.decomposition  # noqa: F401 - a kernel's first view pays it once

    print(f"import scikit-learn's PCA (once a kernel): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    view = EmbeddingView(None, seqs, embeddings=embeddings, labels=labels, scores=scores)
    print(f"first draw, {N:,} points (PCA, figure, widget): {time.perf_counter() - start:.2f} s")
    colours = iter(["gc", "label"] * 3)
    print(f"colour change: {median_ms(lambda: setattr(view, 'color_by', next(colours))):.0f} ms")
    trace = view.figure.data[0]
    lassos = iter([rng.choice(N, 500, replace=False).tolist() for _ in range(5)])

    def lasso():
        chosen = next(lassos)
        trace._dispatch_on_selection(
            Points(point_inds=chosen, xs=[0] * 500, ys=[0] * 500, trace_index=0),
            LassoSelector(xs=[0, 1, 1], ys=[0, 0, 1]),
        )
        assert view.selected == chosen

    print(f"selection round trip (lasso of 500 points): {median_ms(lasso):.0f} ms")
    start = time.perf_counter()
    view.open_selected()
    print(f"open 500 selected in an explorer: {time.perf_counter() - start:.2f} s")
    view.snapshot()  # the first snapshot of the kernel carries plotly.js
    start = time.perf_counter()
    html = view.snapshot()
    print(
        f"snapshot (scatter and explorer, without plotly.js): {len(html) / 1e6:.1f} MB in "
        f"{time.perf_counter() - start:.2f} s"
    )


if __name__ == "__main__":
    main()
