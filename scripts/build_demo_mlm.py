"""Pretrain the embedded masked language model on the demo's training sequences, reproducibly.

Writes dnabert_viz/data/demo_mlm (``dv.load_model("demo-mlm")``): a Nucleotide
Transformer v1 shaped masked LM (stock ESM, non-overlapping 6-mers) with no
classifier head, trained by :func:`dnabert_viz.train_masked_lm` on the
10,000 training sequences of the demo (positives and negatives alike; no
labels are used), a fixed number of epochs with a seeded 10% validation
split, no time budget. Also writes history.tsv (the pretraining curve) and
training.json (settings, best epoch, the validation loss against a uniform
guess). The held-out demo sequences are never seen.

Why this family: a DNABERT-1 shaped model (overlapping k-mers, span
masking) of this size stays on the loss plateau of a uniform guess over the
k-mers that agree with its neighbours for as long as was tried here on two
CPU cores (benchmarks/README.md, "The embedded masked LM"); with
non-overlapping tokens every masked token is predicted from its context
alone, and the small model learns within minutes.
"""

import argparse
import json
import time

import torch

import dnabert_viz as dv
from dnabert_viz.model import EMBEDDED

SETTINGS = dict(
    architecture="nt",
    hidden_size=64,
    num_layers=2,
    num_heads=4,
    epochs=8,
    batch_size=32,
    learning_rate=1e-3,
    validation_fraction=0.1,
    patience=3,
    max_minutes=None,
    seed=0,
)


def save(m: dv.DnaModel, out: str, summary: dict) -> dict:
    """Write the pretrained ``m`` to ``out`` with history.tsv (its curve) and training.json
    (``summary``, the history's attrs and the best epoch's validation loss and accuracy)."""
    m.save_pretrained(out)
    m.history.to_csv(f"{out}/history.tsv", sep="\t", index=False)
    best = m.history.set_index("epoch").loc[m.history.attrs["best_epoch"]]
    summary = {
        **m.history.attrs,
        "val_loss": round(float(best.val_loss), 4),
        "val_accuracy": round(float(best.val_accuracy), 4),
        **summary,
    }
    with open(f"{out}/training.json", "w") as handle:
        json.dump(summary, handle, indent=1)
    print(m.history.to_string())
    print(json.dumps(summary))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(EMBEDDED["demo-mlm"]), help="output folder")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    args = parser.parse_args()
    torch.set_num_threads(2)
    settings = {**SETTINGS, "epochs": args.epochs}
    started = time.perf_counter()
    m = dv.train_masked_lm(dv.load_demo().sequences("train"), **settings)
    seconds = round(time.perf_counter() - started)
    save(m, args.out, {**settings, "seconds": seconds, "torch_threads": 2})


if __name__ == "__main__":
    main()
