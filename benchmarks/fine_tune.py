"""Fine-tuning the embedded pretrained masked LM (``demo-mlm``) against training from scratch, at
a small size: held-out AUROC and CPU time.

For each data set (planted seed 4 of ``recovery.py``, GUE human_tf_4 (E-box) and
prom_core_tata, training pools subsampled to ``--n-train``, held-out to ``--n-test``):

- ``scratch dnabert6``: ``dv.train_classifier`` (DNABERT 6-mers, hidden 64, 2 layers; its
  defaults otherwise);
- ``scratch nt``: ``dv.fine_tune`` from a randomly initialised masked LM of demo-mlm's own
  architecture (Nucleotide Transformer v1 layout, non-overlapping 6-mers, hidden 64, 2 layers):
  what pretraining adds, the architecture held fixed;
- ``demo-mlm full`` and ``demo-mlm lora``: ``dv.fine_tune`` from demo-mlm (LoRA: r 8 on every
  linear layer of the encoder, the head in full).

Every run: the same seed, ``--epochs`` epochs at most (no time budget by default: on a shared
machine a wall-clock budget cuts runs by the load, not by their work), early stopping on a 10%
validation split. Prints one row per run (tab-separated): data set, run,
held-out AUROC, process CPU seconds, trainable parameters, epochs run.

    python fine_tune.py > fine_tune.tsv
"""

import argparse
import time

import common  # noqa: F401  (torch threads)
from recovery import REAL, planted_set, real_set, subsample

import dnabert_viz as dv
from dnabert_viz.finetune import auroc
from dnabert_viz.pretraining import build_masked_lm

SETS = ("planted seed 4", "human_tf_4 (E-box)", "prom_core_tata (TATA)")


def data(name: str, n_train: int, n_test: int, seed: int = 0):
    if name.startswith("planted seed"):
        _, train, test = planted_set(int(name.split()[-1]), n_train)
    else:
        train, test = real_set(REAL[name][0], n_train, seed)
    return train, subsample(*test, n_test, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=None, help="time budget (default none)")
    parser.add_argument("--sets", nargs="+", default=SETS, choices=SETS, help="data sets")
    args = parser.parse_args()
    pretrained = dv.load_model("demo-mlm", device="cpu")
    random_nt = build_masked_lm(architecture="nt", seed=0, device="cpu")
    random_nt.name = "random nt"
    settings = dict(epochs=args.epochs, max_minutes=args.minutes, progress=False, seed=0)
    full = dict(learning_rate=1e-3, **settings)
    runs = {
        "scratch dnabert6": lambda s, y: dv.train_classifier(s, y, device="cpu", **settings),
        "scratch nt": lambda s, y: dv.fine_tune(random_nt, s, y, **full),
        "demo-mlm full": lambda s, y: dv.fine_tune(pretrained, s, y, **full),
        "demo-mlm lora": lambda s, y: dv.fine_tune(pretrained, s, y, lora=True, **settings),
    }
    print("data set\trun\theld-out AUROC\tCPU s\ttrainable parameters\tepochs")
    for name in args.sets:
        (seqs, labels), (test, truth) = data(name, args.n_train, args.n_test)
        for run, train in runs.items():
            start = time.process_time()
            m = train(seqs, labels)
            seconds = time.process_time() - start
            area = auroc(m.predict(test), truth)
            trainable = m.history.attrs.get(
                "trainable_parameters", sum(p.numel() for p in m.model.parameters())
            )
            print(
                f"{name}\t{run}\t{area:.3f}\t{seconds:.0f}\t{trainable}\t{len(m.history)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
