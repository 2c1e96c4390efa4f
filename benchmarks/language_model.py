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

Usage: ``python benchmarks/language_model.py [--n 300]``; prints a table
and writes benchmarks/language_model.tsv. Give ``uptime`` beside it.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

import dnabert_viz as dv

OUT = Path(__file__).parent / "language_model.tsv"


def auroc_at_planted(values: np.ndarray, truth: np.ndarray) -> float:
    keep = ~np.isnan(values)
    return float(roc_auc_score(truth[keep], values[keep]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="held-out positives scored")
    parser.add_argument("--dependency", type=int, default=20, help="sequences for dependency maps")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data, mlm = dv.load_demo(), dv.load_model("demo-mlm")
    rows = data.indices("heldout", 1)[: args.n]
    seqs = data.sequences("heldout", 1)[: args.n]
    truth = data.truth_mask(rows)
    results = []

    started = time.perf_counter()
    mutation = dv.score(mlm, seqs, "lm_mutation_map")
    lm_seconds = time.perf_counter() - started
    surprise = -dv.lm_scores(mlm, seqs, "lm_surprise").values
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
    within, control = [], []
    for i in range(args.dependency):
        planted = np.flatnonzero(truth[i, : len(seqs[i])])
        site = planted[: np.argmax(np.diff(np.r_[planted, 10**9]) > 1) + 1]  # the first site
        region = (max(int(site[0]) - 10, 0), min(int(site[-1]) + 11, len(seqs[i])))
        shuffled = dv.sequences.dinucleotide_shuffle(seqs[i], rng)
        for seq, out in ((seqs[i], within), (shuffled, control)):
            d = dv.dependency_map(mlm, seq, region=region).values
            inner = site - region[0]
            pairs = d[np.ix_(inner, inner)]
            out.append(float(np.nanmean((pairs + pairs.T) / 2)))
    results.append(("dependency within planted sites (mean)", float(np.mean(within))))
    results.append(("same pairs, dinucleotide-shuffled sequence", float(np.mean(control))))

    demo = dv.load_model()
    few = seqs[:50]
    started = time.perf_counter()
    dv.score(demo, few, "ism")
    ism_seconds = time.perf_counter() - started
    started = time.perf_counter()
    dv.score(mlm, few, "lm_mutation_map")
    lm_few = time.perf_counter() - started
    results.append(("lm_mutation_map, sequences per second", len(seqs) / lm_seconds))
    results.append(("ism vs lm_mutation_map time, 50 sequences (ratio)", ism_seconds / lm_few))
    table = pd.DataFrame(results, columns=["measure", "value"])
    table.to_csv(OUT, sep="\t", index=False)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
