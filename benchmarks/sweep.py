"""A measured sweep of train_classifier's settings across the recovery data sets (held-out
accuracy, AUROC), beside the CNN baseline.

Each run: the same split as recovery.py, a fixed schedule (``epochs`` and
``patience`` of the defaults, no time budget), so a figure does not depend on
the machine's load; each setting changes :data:`REFERENCE` (the settings the
sweep started from, given explicitly so that a row keeps its meaning when
``train_classifier``'s defaults change). Rows are appended to ``--out`` as
they finish and a rerun skips the ones done.

    OMP_NUM_THREADS=1 nice -n 10 python sweep.py --out sweep.tsv
"""

import argparse
import os
import time
from pathlib import Path

import pandas as pd
import torch
from cnn import train_cnn
from recovery import REAL, planted_set, real_set

import dnabert_viz as dv
from dnabert_viz.finetune import auroc

REFERENCE = {  # k: train_classifier's 6 (DNABERT-2 takes no k)
    "hidden_size": 64,
    "num_layers": 2,
    "num_heads": 4,
    "learning_rate": 1e-3,
    "warmup_fraction": 0.01,
    "dropout": 0.1,
    "batch_size": 32,
}
SETTINGS = {
    "reference": {},
    "warm-up 0.1": {"warmup_fraction": 0.1},
    "warm-up 0.03": {"warmup_fraction": 0.03},
    "k 3": {"k": 3},
    "k 4": {"k": 4},
    "k 5": {"k": 5},
    "hidden 128": {"hidden_size": 128},
    "hidden 32": {"hidden_size": 32},
    "1 layer": {"num_layers": 1},
    "4 layers": {"num_layers": 4},
    "lr 3e-4": {"learning_rate": 3e-4},
    "lr 3e-3": {"learning_rate": 3e-3},
    "lr 1e-4": {"learning_rate": 1e-4},
    "lr 3e-4 + hidden 128": {"learning_rate": 3e-4, "hidden_size": 128},
    "dropout 0.3": {"dropout": 0.3},
    "batch 16": {"batch_size": 16},
    "batch 64": {"batch_size": 64},
    "label smoothing 0.1": {"label_smoothing": 0.1},
    "reverse complement": {"reverse_complement": True},
    "dropout 0.2": {"dropout": 0.2},
    "warm-up 0.1 + dropout 0.3": {"warmup_fraction": 0.1, "dropout": 0.3},
    "warm-up 0.1 + reverse complement": {"warmup_fraction": 0.1, "reverse_complement": True},
    "lr 3e-4 + reverse complement": {"learning_rate": 3e-4, "reverse_complement": True},
    "lr 3e-4 + weight decay 0.1": {"learning_rate": 3e-4, "weight_decay": 0.1},
    "DNABERT-2, lr 3e-4": {"architecture": "dnabert2", "learning_rate": 3e-4},
    "DNABERT-2, lr 1e-3": {"architecture": "dnabert2"},
    "DNABERT-2, lr 3e-3": {"architecture": "dnabert2", "learning_rate": 3e-3},
    "DNABERT-2, lr 1e-4": {"architecture": "dnabert2", "learning_rate": 1e-4},
}
SETS = [*REAL, "planted seed 1", "planted seed 2", "planted seed 3"]


def load(name: str, n_train: int):
    if name.startswith("planted seed "):
        return planted_set(int(name.split()[-1]), n_train)[1:]
    return real_set(REAL[name][0], n_train, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--sets", nargs="*", default=SETS)
    parser.add_argument("--settings", nargs="*", default=["CNN", *SETTINGS])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--out", default="sweep.tsv")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = Path(args.out)
    done = pd.read_csv(out, sep="\t") if out.exists() else pd.DataFrame(columns=["key"])
    for label in args.settings:
        for name in args.sets:
            train, test = load(name, args.n_train)
            for seed in args.seeds:
                key = f"{label}|{name}|{seed}"
                if key in set(done["key"]):
                    continue
                start = time.perf_counter()
                if label == "CNN":
                    m = train_cnn(*train, max_minutes=60, seed=seed)
                    p = m.predict(test[0])
                    epochs = f"{m.history.attrs['best_epoch']}/{len(m.history)}"
                else:
                    m = dv.train_classifier(
                        *train,
                        max_minutes=None,
                        seed=seed,
                        progress=False,
                        device="cpu",
                        **{**REFERENCE, **SETTINGS[label]},
                    )
                    p = m.predict(test[0])
                    epochs = f"{m.history.attrs['best_epoch']}/{len(m.history)}"
                row = {
                    "key": key,
                    "setting": label,
                    "data set": name,
                    "seed": seed,
                    "accuracy": (p.argmax(1) == test[1]).mean(),
                    "AUROC": auroc(p, test[1]),
                    "epochs": epochs,
                    "seconds": time.perf_counter() - start,
                    "load": os.getloadavg()[0],
                }
                pd.DataFrame([row]).to_csv(
                    out, sep="\t", index=False, mode="a", header=not out.exists()
                )
                print(
                    pd.DataFrame([row]).round(3).to_string(index=False, header=False), flush=True
                )
    table = pd.read_csv(out, sep="\t")
    wide = table.pivot_table(index="setting", columns="data set", values="accuracy")
    wide["mean"] = wide.mean(1)
    print(wide.round(3).to_string())


if __name__ == "__main__":
    main()
