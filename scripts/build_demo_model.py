"""Train the embedded demo model (dnabert_viz/data/demo_model) on the demo data, reproducibly.

Fixed seed, 2 CPU cores, a few minutes. Prints the held-out accuracy that the
README records and writes it, with the settings, to training.json beside the weights.
"""

import argparse
import json
import time
from pathlib import Path

import torch

import dnabert_viz as dv
from dnabert_viz.model import DEMO_MODEL

SETTINGS = dict(k=6, hidden_size=64, num_layers=2, num_heads=4, epochs=4, batch_size=32, learning_rate=1e-3, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(DEMO_MODEL), help="output folder")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--n-train", type=int, default=None, help="use only the first N training sequences")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = dv.load_demo()
    seqs, labels = data.sequences("train")[: args.n_train], data.labels("train")[: args.n_train]
    start = time.perf_counter()
    model = dv.train_classifier(seqs, labels, **{**SETTINGS, "epochs": args.epochs}, device="cpu")
    seconds = time.perf_counter() - start
    accuracy = float((model.predict(data.sequences("heldout")).argmax(1) == data.labels("heldout")).mean())
    model.save_pretrained(args.out)
    summary = {"heldout_accuracy": round(accuracy, 4), "train_seconds": round(seconds, 1), **SETTINGS, "epochs": args.epochs}
    (Path(args.out) / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
