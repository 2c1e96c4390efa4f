"""Which map to believe: ``dv.faithfulness`` and ``dv.sanity_check`` for every registered method
that runs on the model, on the demo model (held-out positives, planted truth), on the embedded
DNABERT-2-architecture demo model (``dnabert2-demo``: the same sequences and truth) and on a GUE
set of recovery.py's table (``--gue``, by default mouse_tf_3, MAFK ChIP-seq, 101 nt; at most 2,000
training sequences, drawn as recovery.py draws them) with a model trained here by
``dv.train_classifier``.

Beside the registry's methods: [CLS] attention of the first layer (the recipe takes the last)
and GC content, a map that knows nothing of the model. Prints the summary per map, the
verdicts, the sanity table and the time of each step; writes the tables next to this script
(``faithfulness_<set>_summary.tsv``, ``_curves.tsv``, ``_sanity.tsv``).

    OMP_NUM_THREADS=1 nice -n 10 python faithfulness.py --n 100 --n-sanity 20
    OMP_NUM_THREADS=1 nice -n 10 python faithfulness.py --n 12 --n-sanity 6 --only dnabert2
    python faithfulness.py --timing 500 200   # time only: N random sequences of one length

``--timing N LENGTH`` times the three maps a user would compare first ([CLS] attention,
integrated gradients, ISM) and ``dv.faithfulness`` of them (with its default ``worst``
replacement) on the demo model, N random sequences of LENGTH nt, on as many threads as
``DNABERT_VIZ_THREADS`` (default: the cores); the cost depends on N and the length, not on
what the sequences hold.
"""

import argparse
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from recovery import real_set

import dnabert_viz as dv

HERE = Path(__file__).resolve().parent
# the one-hot bridge's sampling methods at reduced settings (the same passes, fewer of them)
OPTIONS = {
    "onehot_integrated_gradients": {"n_steps": 32},
    "onehot_gradient_shap": {"n_samples": 32},
}


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.split("average:")[1]


def gc_content(m, sequences):
    """1 at G and C, 0 elsewhere, smoothed over 5 nt: a map the model has no part in."""
    width = max(map(len, sequences))
    values = np.full((len(sequences), width), np.nan, dtype=np.float32)
    for i, s in enumerate(sequences):
        gc = np.array([c in "GC" for c in s], dtype=np.float32)
        values[i, : len(s)] = np.convolve(gc, np.ones(5) / 5, mode="same")
    return dv.Scores(sequences, values, "gc_content")


def maps_of(m, seqs) -> tuple[dict, dict]:
    """Every map that runs on ``m``, and the seconds each took."""
    maps, seconds = {}, {}
    runnable = [n for n in dv.method_names() if dv.get_method(n).unavailable(m) is None]
    jobs = {n: (n, OPTIONS.get(n, {})) for n in runnable}
    if "cls_attention" in runnable:
        jobs["cls_attention layer 0"] = ("cls_attention", {"layer": 0})
    for name, (method, options) in jobs.items():
        start = time.perf_counter()
        maps[name] = dv.score(m, seqs, method, **options)
        seconds[name] = time.perf_counter() - start
        print(f"  {name}: {seconds[name]:.1f} s", flush=True)
    maps["gc_content"] = gc_content(m, seqs)
    return maps, seconds


def run(name: str, m, seqs, truth, n_sanity: int, ks) -> None:
    print(
        f"== {name}: {len(seqs)} sequences, {min(map(len, seqs))}-{max(map(len, seqs))} nt; "
        f"load {load()}",
        flush=True,
    )
    maps, _ = maps_of(m, seqs)
    start = time.perf_counter()
    result = dv.faithfulness(m, seqs, maps, ks=ks, truth=truth)
    print(f"faithfulness of {len(maps)} maps: {time.perf_counter() - start:.1f} s; load {load()}")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(result.summary.round(3).to_string(index=False))
    print("\n".join(result.verdicts()))
    result.summary.to_csv(HERE / f"faithfulness_{name}_summary.tsv", sep="\t", index=False)
    result.table.to_csv(HERE / f"faithfulness_{name}_curves.tsv", sep="\t", index=False)
    methods = {
        n: n
        for n in (
            "cls_attention",
            "saliency",
            "input_x_gradient",
            "deeplift",
            "integrated_gradients",
            "onehot_gradients",
        )
        if n in maps  # ran above
    }
    methods["gc_content"] = gc_content
    start = time.perf_counter()
    sanity = dv.sanity_check(m, seqs[:n_sanity], methods)
    print(
        f"sanity check, {n_sanity} sequences: {time.perf_counter() - start:.1f} s; load {load()}"
    )
    print(
        sanity.pivot(index="method", columns="randomised", values="spearman")[
            sanity.randomised.unique()
        ]
        .round(3)
        .to_string()
    )
    sanity.to_csv(HERE / f"faithfulness_{name}_sanity.tsv", sep="\t", index=False)


def timing(n: int, length: int) -> None:
    """Seconds for three maps and their faithfulness curves on n random sequences."""
    from common import random_sequences

    m = dv.load_model(device="cpu")
    seqs = random_sequences(n, length)
    print(f"{n} x {length} nt on the demo model; load {load()}", flush=True)
    maps = {}
    for method in ("cls_attention", "integrated_gradients", "ism"):
        start = time.perf_counter()
        maps[method] = dv.score(m, seqs, method)
        print(f"  {method}: {time.perf_counter() - start:.1f} s; load {load()}", flush=True)
    start = time.perf_counter()
    dv.faithfulness(m, seqs, maps, progress=False)
    print(f"faithfulness of {len(maps)} maps: {time.perf_counter() - start:.1f} s; load {load()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gue", default="gue_tfbs/mouse_tf_3", help="a set of recovery.py's")
    parser.add_argument("--n", type=int, default=100, help="sequences per set")
    parser.add_argument("--n-sanity", type=int, default=20)
    parser.add_argument("--only", choices=["demo", "dnabert2", "gue"])
    parser.add_argument("--timing", type=int, nargs=2, metavar=("N", "LENGTH"))
    args = parser.parse_args()
    if args.timing:
        return timing(*args.timing)
    os.environ.setdefault("DNABERT_VIZ_THREADS", "1")
    data = dv.load_demo()
    rows = data.indices("heldout", label=1)[: args.n]
    seqs = data.table.sequence[rows].tolist()
    for name, model in (("demo", None), ("dnabert2", "dnabert2-demo")):
        if args.only in (None, name):
            m = dv.load_model(model, device="cpu")
            run(name, m, seqs, data.truth_mask(rows), args.n_sanity, (1, 2, 5, 10, 20))
    if args.only in (None, "gue"):
        name = Path(args.gue).name
        (train, labels), (test, test_labels) = real_set(args.gue, 2000, 0)
        start = time.perf_counter()
        m = dv.train_classifier(train, labels, max_minutes=3, device="cpu")
        accuracy = float((m.predict(test).argmax(1) == test_labels).mean())
        print(
            f"{name}: trained in {time.perf_counter() - start:.0f} s, held-out accuracy "
            f"{accuracy:.3f}; load {load()}"
        )
        pos = [s for s, y in zip(test, test_labels) if y == 1]
        rng = np.random.default_rng(0)
        seqs = [pos[i] for i in sorted(rng.choice(len(pos), min(args.n, len(pos)), replace=False))]
        run(name, m, seqs, None, args.n_sanity, (1, 2, 5, 10, 20))


if __name__ == "__main__":
    main()
