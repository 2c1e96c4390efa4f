"""A small measured sweep of train_classifier's settings on subsampled recovery data sets (held-out
accuracy, AUROC).

Each run: the same split as recovery.py, one thread, a fixed time budget;
settings are changes from the defaults (``base``).

    OMP_NUM_THREADS=1 nice -n 10 python sweep.py --minutes 1 > sweep.txt
"""

import argparse
import time

import pandas as pd
import torch
from recovery import REAL, planted_set, real_set

import dnabert_viz as dv
from dnabert_viz.finetune import auroc

SETTINGS = {
    "base": {},
    "warmup 0.1": {"warmup_fraction": 0.1},
    "warmup 0.02": {"warmup_fraction": 0.02},
    "k 4": {"k": 4},
    "k 3": {"k": 3},
    "lr 3e-4": {"learning_rate": 3e-4},
    "lr 3e-3": {"learning_rate": 3e-3},
    "reverse complement": {"reverse_complement": True},
    "label smoothing 0.1": {"label_smoothing": 0.1},
    "hidden 128": {"hidden_size": 128},
    "1 layer": {"num_layers": 1},
    "dropout 0.2": {"dropout": 0.2},
    "batch 64": {"batch_size": 64},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument(
        "--sets",
        nargs="*",
        default=["mouse_tf_3 (MAFK)", "prom_core_tata (TATA)", "planted seed 1"],
    )
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in args.sets:
        if name.startswith("planted seed "):
            _, train, test = planted_set(int(name.split()[-1]), args.n_train)
        else:
            train, test = real_set(REAL[name][0], args.n_train, seed=0)
        for label in args.settings:
            start = time.perf_counter()
            m = dv.train_classifier(
                *train,
                max_minutes=args.minutes,
                seed=0,
                progress=False,
                device="cpu",
                **SETTINGS[label],
            )
            p = m.predict(test[0])
            rows.append(
                {
                    "data set": name,
                    "setting": label,
                    "accuracy": (p.argmax(1) == test[1]).mean(),
                    "AUROC": auroc(p, test[1]),
                    "epochs": f"{m.history.attrs['best_epoch']}/{len(m.history)}",
                    "seconds": time.perf_counter() - start,
                }
            )
            print(
                pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=len(rows) == 1),
                flush=True,
            )
    table = pd.DataFrame(rows)
    print(table.pivot(index="setting", columns="data set", values="accuracy").round(3).to_string())


if __name__ == "__main__":
    main()
