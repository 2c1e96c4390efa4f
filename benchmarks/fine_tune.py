"""Fine-tuning a pretrained masked LM against training from scratch and the CNN: held-out
accuracy, AUROC, CPU time and trainable parameters, on the recovery table's data sets.

Data sets: the seven real sets of ``recovery.py`` and its planted seeds 4-7 (``--sets``),
training pools subsampled to ``--n-train``, held-out to ``--n-test``, the same split for every
run. Runs (``--runs``):

- ``scratch dnabert6``: ``dv.train_classifier`` (DNABERT 6-mers, hidden 64, 2 layers; its
  defaults otherwise: learning rate 3e-4, batch 32);
- ``cnn``: ``dv.train_classifier(architecture="cnn")`` at the settings it was benchmarked with
  (``cnn.SETTINGS``: learning rate 1e-3, batch 64, dropout 0.2; its default 3e-4 learns
  slowly); ``cnn 30 epochs``: the same at its own benchmarked schedule (30 epochs, patience 5),
  which costs it less CPU than 4 epochs of a transformer;
- ``genome-mlm full`` and ``genome-mlm lora``: ``dv.fine_tune`` from the embedded masked LM
  pretrained on real human and mouse sequence (scripts/build_genome_mlm.py; learning rate 1e-3,
  batch 16; LoRA: r 8 on every linear layer of the encoder, the head in full);
- ``demo-mlm full``, ``demo-mlm lora`` (the same from the masked LM pretrained on the demo's
  planted sequences) and ``scratch nt`` (``dv.fine_tune`` from a randomly initialised masked LM
  of the same Nucleotide Transformer v1 layout: what pretraining adds, the architecture fixed).

Every run but ``cnn 30 epochs``: seed 0, exactly ``--epochs`` epochs (patience = epochs, so
none stops early; the best epoch on a 10% validation split is restored), no time budget by
default (on a shared machine a wall-clock budget cuts runs by the load, not by their work).
Rows are appended to ``--out`` as they finish and a rerun skips the ones done: data set, run,
held-out accuracy and AUROC, process CPU seconds, trainable parameters, best epoch / epochs,
load average.

``--motifs N``: the motifs each run's model recovers, by ``recovery.py``'s JASPAR matching
(the planted matrices' families; the ChIP target's): seqlets on integrated gradients (20
steps) of N held-out positives, a method every run's model has (the CNN's tokens are its
one-hot nucleotides), and, on models with attention, DNABERT-viz on [CLS] attention of every
positive against every negative, as ``recovery.py`` runs it. Their CPU seconds are apart from
training's.

    DNABERT_VIZ_THREADS=1 nice -n 10 python fine_tune.py --out fine_tune_genome.tsv
    DNABERT_VIZ_THREADS=1 nice -n 10 python fine_tune.py --motifs 200 --out fine_tune_motifs.tsv \
        --runs "scratch dnabert6" "cnn 30 epochs" "genome-mlm full" "genome-mlm lora"
"""

import argparse
import os
import time
from pathlib import Path

import common  # noqa: F401  (torch threads)
import pandas as pd
import torch
from cnn import SETTINGS as CNN_SETTINGS
from recovery import (
    REAL,
    families,
    of_label,
    planted_set,
    planted_targets,
    real_set,
    recovery,
    subsample,
)

import dnabert_viz as dv
from dnabert_viz.finetune import auroc
from dnabert_viz.pretraining import build_masked_lm

SETS = (*REAL, *(f"planted seed {s}" for s in (4, 5, 6, 7)))
RUNS = ("scratch dnabert6", "cnn", "cnn 30 epochs", "genome-mlm full", "genome-mlm lora")
MORE_RUNS = ("scratch nt", "demo-mlm full", "demo-mlm lora")


def data(name: str, n_train: int, n_test: int, seed: int = 0):
    """Training and held-out (sequences, labels), and the motifs to recover (name -> JASPAR
    families)."""
    if name.startswith("planted seed"):
        motifs, train, test = planted_set(int(name.split()[-1]), n_train)
        targets = planted_targets(motifs)
    else:
        folder, names = REAL[name]
        train, test = real_set(folder, n_train, seed)
        targets = {names[0]: families(names)}
    return train, subsample(*test, n_test, seed), targets


def motifs_found(m, train, test, targets: dict, n: int) -> dict:
    """What ``m`` recovers: seqlets on integrated gradients of ``n`` held-out positives, and
    DNABERT-viz on [CLS] attention where ``m`` has attention (``recovery``'s columns each)."""
    start = time.process_time()
    held_out = of_label([test], 1)[:n]
    ig = dv.score(m, held_out, "integrated_gradients", n_steps=20, progress=False)
    found = {"IG seqlets": recovery(dv.find_motifs(held_out, None, ig, method="seqlets"), targets)}
    if m.returns_attention:
        positives, negatives = of_label((train, test), 1), of_label((train, test), 0)
        cls = dv.cls_attention(m, positives, progress=False)
        found["[CLS] DNABERT-viz"] = recovery(dv.find_motifs(positives, negatives, cls), targets)
    else:  # the same columns in every row (the table is appended to)
        found["[CLS] DNABERT-viz"] = dict.fromkeys(found["IG seqlets"], "no attention")
    row = {
        f"{how}: {key}": value
        for how, figures in found.items()
        for key, value in figures.items()
        if key in ("motifs", "recovered", "spurious", "best match")
    }
    return row | {"motif CPU s": round(time.process_time() - start)}


def trainer(run: str, epochs: int, minutes: float | None):
    """``train(sequences, labels) -> DnaModel`` for one run."""
    loop = dict(epochs=epochs, patience=epochs, max_minutes=minutes, progress=False, seed=0)
    if run == "scratch dnabert6":
        return lambda s, y: dv.train_classifier(s, y, device="cpu", **loop)
    if run.startswith("cnn"):  # "cnn 30 epochs": its own schedule (cnn.SETTINGS), as benchmarked
        cnn = {**CNN_SETTINGS, **loop} if run == "cnn" else {**loop, **CNN_SETTINGS}
        return lambda s, y: dv.train_classifier(s, y, architecture="cnn", device="cpu", **cnn)
    if run == "scratch nt":
        start = build_masked_lm(architecture="nt", seed=0, device="cpu")
        start.name = "random nt"
    else:
        start = dv.load_model(run.split()[0], device="cpu")
    lora = run.endswith("lora")
    full = {} if lora else {"learning_rate": 1e-3}  # LoRA's default is 1e-3 too
    return lambda s, y: dv.fine_tune(start, s, y, lora=lora, **full, **loop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=None, help="time budget (default none)")
    parser.add_argument("--sets", nargs="+", default=SETS, choices=SETS, help="data sets")
    parser.add_argument("--runs", nargs="+", default=RUNS, choices=RUNS + MORE_RUNS)
    parser.add_argument("--out", default="fine_tune_genome.tsv", help="TSV, appended to")
    parser.add_argument(
        "--motifs", type=int, default=0, help="held-out positives for motif recovery (0: none)"
    )
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ["DNABERT_VIZ_THREADS"]))
    out = Path(args.out)
    kept = pd.read_csv(out, sep="\t") if out.exists() else None
    done = set() if kept is None else set(zip(kept["data set"], kept["run"]))
    for name in args.sets:
        (seqs, labels), (test, truth), targets = data(name, args.n_train, args.n_test)
        for run in args.runs:
            if (name, run) in done:
                continue
            start = time.process_time()
            m = trainer(run, args.epochs, args.minutes)(seqs, labels)
            seconds = time.process_time() - start
            p = m.predict(test)
            trainable = m.history.attrs.get(
                "trainable_parameters", sum(w.numel() for w in m.model.parameters())
            )
            row = {
                "data set": name,
                "run": run,
                "n train": len(seqs),
                "n test": len(test),
                "accuracy": round(float((p.argmax(1) == truth).mean()), 4),
                "AUROC": round(auroc(p, truth), 4),
                "CPU s": round(seconds),
                "trainable parameters": trainable,
                "epochs": f"{m.history.attrs['best_epoch']}/{len(m.history)}",
                "load": round(os.getloadavg()[0], 1),
            }
            if args.motifs:
                row |= motifs_found(m, (seqs, labels), (test, truth), targets, args.motifs)
            header = not out.exists()
            pd.DataFrame([row]).to_csv(out, sep="\t", index=False, mode="a", header=header)
            print("\t".join(map(str, row.values())), flush=True)


if __name__ == "__main__":
    main()
