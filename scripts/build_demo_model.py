"""Train an embedded demo model on the demo data, reproducibly.

``--architecture dnabert`` (default): dnabert_viz/data/demo_model, DNABERT-1
shaped (6-mers). ``--architecture dnabert2``: dnabert_viz/data/dnabert2_demo,
the DNABERT-2 architecture with its published BPE tokenizer
(``dv.load_model("dnabert2-demo")``). Fixed seed, a few minutes on CPU.
Prints the held-out accuracy that the README records and writes it, with the
settings, to training.json beside the weights.
"""

import argparse
import json
import time
from pathlib import Path

import torch

import dnabert_viz as dv
from dnabert_viz.model import EMBEDDED

SETTINGS = {
    "dnabert": dict(
        k=6,
        hidden_size=64,
        num_layers=2,
        num_heads=4,
        epochs=4,
        batch_size=32,
        learning_rate=1e-3,
        seed=0,
    ),
    "dnabert2": dict(
        hidden_size=64,
        num_layers=2,
        num_heads=4,
        epochs=6,
        batch_size=32,
        learning_rate=1e-3,
        seed=0,
    ),
}
OUT = {"dnabert": EMBEDDED["demo"], "dnabert2": EMBEDDED["dnabert2-demo"]}
THREADS = {"dnabert": 2, "dnabert2": 1}
# No validation split, no time budget, the optimisation settings the demo models were first built
# with: they train
# on all their training sequences for a fixed number of epochs (train_classifier's defaults have
# moved on since).
FIXED_RUN = dict(weight_decay=0.01, warmup_fraction=0.1, validation_fraction=0.0, max_minutes=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--architecture", choices=sorted(SETTINGS), default="dnabert")
    parser.add_argument(
        "--out", default=None, help="output folder (default: the embedded model's)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="default: the recorded setting")
    parser.add_argument(
        "--n-train", type=int, default=None, help="use only the first N training sequences"
    )
    args = parser.parse_args()
    settings = {
        **SETTINGS[args.architecture],
        "epochs": args.epochs or SETTINGS[args.architecture]["epochs"],
    }
    out = Path(args.out or OUT[args.architecture])
    torch.set_num_threads(THREADS[args.architecture])
    data = dv.load_demo()
    seqs, labels = data.sequences("train")[: args.n_train], data.labels("train")[: args.n_train]
    start = time.perf_counter()
    model = dv.train_classifier(
        seqs, labels, **settings, **FIXED_RUN, architecture=args.architecture, device="cpu"
    )
    seconds = time.perf_counter() - start
    accuracy = float(
        (model.predict(data.sequences("heldout")).argmax(1) == data.labels("heldout")).mean()
    )
    model.save_pretrained(out)
    summary = {
        "heldout_accuracy": round(accuracy, 4),
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "architecture": args.architecture,
        **settings,
    }
    (out / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
