"""Label-free interpretation with the embedded masked LM (issue 26's figures).

On held-out demo positives (never seen in pretraining), with no labels:

1. AUROC at planted nucleotides of the low surprise (-lm_surprise) and of
   the mutation map's preference for the reference (lm_mutation_map values);
2. planted motifs recovered by seqlets and TF-MoDISco on lm_mutation_map
   (JASPAR, the demo's recovery rule);
3. dependency maps: mean dependency between two nucleotides of the same
   planted site against the same pairs in a dinucleotide shuffle of the
   sequence;
4. throughput of lm_mutation_map on the embedded masked LM against
   classifier ISM on the demo classifier, in one run.

``--unseen SEED`` measures 1-3 on another masked LM instead, so that the
figures are not tuned to the demo: it draws three JASPAR matrices of TF
families the demo does not use (by the seed), plants them like the demo
(:func:`dnabert_viz.synthetic.plant_motifs`), pretrains a model of the
embedded one's shape and settings on the training sequences (no labels;
``--epochs`` and ``--max-minutes`` bound it) and scores held-out positives.

Usage: ``python benchmarks/language_model.py [--n 300] [--unseen SEED]``;
prints a table and writes benchmarks/language_model.tsv (or
language_model_unseen_SEED.tsv). Give ``uptime`` beside it.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

import dnabert_viz as dv

HERE = Path(__file__).parent


def auroc_at_planted(values: np.ndarray, truth: np.ndarray) -> float:
    keep = ~np.isnan(values)
    return float(roc_auc_score(truth[keep], values[keep]))


def unseen(seed: int, *, n_train: int, n_heldout: int, epochs: int, max_minutes: float):
    """A planted set of three TF families the demo does not use, and a masked LM pretrained on
    its training sequences with the embedded model's settings (scripts/build_demo_mlm.py)."""
    sys.path.insert(0, str(HERE.parent / "scripts"))
    from build_demo_mlm import SETTINGS

    from dnabert_viz.demo import DEMO_MOTIFS, DemoData
    from dnabert_viz.synthetic import draw_jaspar_motifs, plant_motifs

    motifs = draw_jaspar_motifs(3, seed=seed, exclude=DEMO_MOTIFS)
    n = n_train + n_heldout
    table, planted = plant_motifs(motifs, n_positive=n // 2, n_negative=n - n // 2, seed=seed)
    table["split"] = np.where(np.arange(n) < n_train, "train", "heldout")
    data = DemoData(table, planted, motifs)
    print("planted:", ", ".join(f"{m.motif_id} {m.name}" for m in motifs), flush=True)
    settings = {**SETTINGS, "epochs": epochs, "max_minutes": max_minutes, "seed": seed}
    started = time.perf_counter()
    mlm = dv.train_masked_lm(data.sequences("train"), **settings, on_epoch=print)
    minutes = (time.perf_counter() - started) / 60
    best = mlm.history.set_index("epoch").loc[mlm.history.attrs["best_epoch"]]
    trained = [
        ("planted motifs", "; ".join(f"{m.motif_id} {m.name}" for m in motifs)),
        ("training sequences (no labels)", n_train),
        ("pretraining minutes", round(minutes, 1)),
        ("stopped", mlm.history.attrs["stopped"]),
        (
            "validation loss (chance)",
            f"{best.val_loss:.3f} ({mlm.history.attrs['chance_loss']:.3f})",
        ),
    ]
    return data, mlm, trained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="held-out positives scored")
    parser.add_argument("--dependency", type=int, default=20, help="sequences for dependency maps")
    parser.add_argument("--unseen", type=int, help="seed of a planted set the demo does not use")
    parser.add_argument("--n-train", type=int, default=10000, help="--unseen: training sequences")
    parser.add_argument("--epochs", type=int, default=8, help="--unseen: pretraining epochs")
    parser.add_argument("--max-minutes", type=float, default=60, help="--unseen: time budget")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.unseen is None:
        data, mlm, results = dv.load_demo(), dv.load_model("demo-mlm"), []
        out = HERE / "language_model.tsv"
    else:
        data, mlm, results = unseen(
            args.unseen,
            n_train=args.n_train,
            n_heldout=2 * args.n,
            epochs=args.epochs,
            max_minutes=args.max_minutes,
        )
        out = HERE / f"language_model_unseen_{args.unseen}.tsv"
    rows = data.indices("heldout", 1)[: args.n]
    seqs = data.sequences("heldout", 1)[: args.n]
    truth = data.truth_mask(rows)

    started = time.perf_counter()
    mutation = dv.score(mlm, seqs, "lm_mutation_map")
    lm_seconds = time.perf_counter() - started
    surprise = -dv.lm_scores(mlm, seqs, kind="lm_surprise").values
    results.append(("AUROC at planted nt, -lm_surprise", auroc_at_planted(surprise, truth)))
    results.append(
        ("AUROC at planted nt, lm_mutation_map", auroc_at_planted(mutation.values, truth))
    )

    for method in ("seqlets", "modisco"):
        motifs = dv.find_motifs(seqs, None, mutation, method=method, merge_similar=True)
        matches = dv.match_jaspar(motifs) if motifs else None
        if matches is None:
            found, spurious = [], 0
        else:
            recovery = data.recovery(matches)
            found, spurious = sorted(set(recovery.planted.dropna())), int(recovery.spurious.sum())
        results.append((f"{method} on lm_mutation_map: planted recovered", len(found)))
        results.append((f"{method} on lm_mutation_map: spurious", spurious))
        results.append((f"{method} on lm_mutation_map: motifs", len(motifs)))

    # dependency maps over each site and 10 nt either side, against the same stretch of a
    # dinucleotide shuffle of the sequence (the site destroyed, composition kept)
    rng = np.random.default_rng(0)
    within, control, blocks = [], [], [0, 0]
    for i in range(args.dependency):
        planted = np.flatnonzero(truth[i, : len(seqs[i])])
        site = planted[: np.argmax(np.diff(np.r_[planted, 10**9]) > 1) + 1]  # the first site
        region = (max(int(site[0]) - 10, 0), min(int(site[-1]) + 11, len(seqs[i])))
        shuffled = dv.sequences.dinucleotide_shuffle(seqs[i], rng)
        for j, (seq, found) in enumerate(((seqs[i], within), (shuffled, control))):
            dependencies = dv.dependency_map(mlm, seq, region=region)
            blocks[j] += len(dependencies.blocks())
            inner = site - region[0]
            pairs = dependencies.values[np.ix_(inner, inner)]
            found.append(float(np.nanmean((pairs + pairs.T) / 2)))
    results.append(("dependency within planted sites (mean)", float(np.mean(within))))
    results.append(("same pairs, dinucleotide-shuffled sequence", float(np.mean(control))))
    results.append(("dependency-map blocks over planted sites", blocks[0]))
    results.append(("dependency-map blocks, dinucleotide-shuffled", blocks[1]))
    results.append(("lm_mutation_map, sequences per second", len(seqs) / lm_seconds))
    if args.unseen is None:
        results.append(
            ("ism vs lm_mutation_map time, 50 sequences (ratio)", throughput(seqs, mlm))
        )
    table = pd.DataFrame(results, columns=["measure", "value"])
    table.to_csv(out, sep="\t", index=False)
    print(table.to_string(index=False))


def throughput(seqs: list[str], mlm) -> float:
    """Classifier ISM on the demo model over lm_mutation_map on ``mlm``: time ratio, 50
    sequences."""
    demo = dv.load_model()
    few = seqs[:50]
    started = time.perf_counter()
    dv.score(demo, few, "ism")
    ism_seconds = time.perf_counter() - started
    started = time.perf_counter()
    dv.score(mlm, few, "lm_mutation_map")
    lm_few = time.perf_counter() - started
    return ism_seconds / lm_few


if __name__ == "__main__":
    main()
