"""Widget responsiveness: how long a control change takes once scores are cached, and how soon a
gallery appears.

Explorer: demo model, 4 held-out positives (175 nt), and a given 500-nt
score set; each control change is timed after its scores are cached (the
median of 5 rounds), i.e. the Python side of a redraw: building the static
figure and copying it into the FigureWidget. Gallery: 20 DNABERT-viz motifs
of logo_speed.py, logos not yet cached (first page drawn), then each later page.
"""

import statistics
import time

import numpy as np
from common import random_sequences
from logo_speed import motifs

import dnabert_viz as dv
from dnabert_viz.widgets import MotifGallery, SequenceExplorer


def median_ms(change, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        change()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def explorer_figures() -> None:
    m = dv.load_model(device="cpu")
    seqs = dv.load_demo().sequences("heldout", 1)[:4]
    ex = SequenceExplorer(m, seqs)
    for kind in ("integrated_gradients", "ism", "cls_attention"):  # fill the caches
        for i in range(2):
            ex.index, ex.kind = i, kind
    for i in range(2):  # each head's [CLS] scores are computed once, through the registry
        ex.index = i
        for head in (0, 1, 2, 3, None):
            ex.head = head
    calls = ex.n_model_calls
    kinds = iter(["integrated_gradients", "ism", "cls_attention"] * 5)
    print(f"kind change (175 nt): {median_ms(lambda: setattr(ex, 'kind', next(kinds))):.0f} ms")
    heads = iter([0, 1, 2, 3, None] * 2)
    print(f"head change (175 nt): {median_ms(lambda: setattr(ex, 'head', next(heads))):.0f} ms")
    index = iter([0, 1] * 5)
    print(
        f"sequence change (175 nt): {median_ms(lambda: setattr(ex, 'index', next(index))):.0f} ms"
    )
    ex.position = 40
    positions = iter(range(41, 51))
    print(
        "click on a position, context panel (175 nt): "
        f"{median_ms(lambda: setattr(ex, 'position', next(positions))):.0f} ms"
    )
    print(f"model calls during the timed changes: {ex.n_model_calls - calls}")
    long = random_sequences(2, 500)
    given = [
        dv.Scores(long, np.random.default_rng(k).normal(size=(2, 500)), kind)
        for k, kind in enumerate(("a", "b"))
    ]
    big = SequenceExplorer(None, long, scores=given)
    kinds = iter(["a", "b"] * 5)
    print(
        "kind change (500 nt, given scores): "
        f"{median_ms(lambda: setattr(big, 'kind', next(kinds))):.0f} ms"
    )


def gallery_figures() -> None:
    ms = motifs(20)
    start = time.perf_counter()
    g = MotifGallery(ms)
    print(
        f"gallery of {len(ms)} motifs, first page of {g.page_size} logos drawn: "
        f"{time.perf_counter() - start:.2f} s"
    )
    for page in range(1, g.n_pages):
        start = time.perf_counter()
        g.page = page
        print(f"  page {page + 1}: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    MotifGallery(ms)
    print(f"the same gallery again (logos cached): {1000 * (time.perf_counter() - start):.0f} ms")


if __name__ == "__main__":
    explorer_figures()
    gallery_figures()
