"""TF-MoDISco on real ChIP-seq windows: GUE mouse_tf_3 (MAFK), with a small model trained here.

Trains a demo-sized DNABERT-6 classifier (``dv.train_classifier``) on a
subsample of the training split, scores the positives of dev + test with
hypothetical gradients of the logit on the one-hot bridge, runs
``find_motifs(method="modisco")`` and matches the motifs to JASPAR.
Reads ``../../shared/data/gue_tfbs/mouse_tf_3`` (the benchmark, not the library, needs it).

Usage: python benchmarks/modisco_gue.py [N_TRAIN] [EPOCHS]  (nice, OMP_NUM_THREADS=1
NUMBA_NUM_THREADS=1)
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from common import timed

import dnabert_viz as dv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gue_tfbs" / "mouse_tf_3"


def main() -> None:
    n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 1904
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(1)
    train = pd.read_csv(DATA / "train.csv.gz").sample(frac=1.0, random_state=0).head(n_train)
    held = pd.concat(
        [pd.read_csv(DATA / "dev.csv.gz"), pd.read_csv(DATA / "test.csv.gz")], ignore_index=True
    )
    m, t_train = timed(
        dv.train_classifier,
        train.sequence.tolist(),
        train.label.to_numpy(),
        epochs=epochs,
        device="cpu",
        progress=False,
    )
    accuracy = float(np.mean(m.predict(held.sequence.tolist()).argmax(1) == held.label.to_numpy()))
    pos = held.sequence[held.label == 1].tolist()
    scores, t_score = timed(dv.score, m, pos, "onehot_gradients", output="logit")
    motifs, t_modisco = timed(dv.find_motifs, pos, None, scores, method="modisco")
    matches = dv.match_jaspar(motifs, max_q=0.05)  # every significant match, paralogs too
    print(os.popen("uptime").read().strip())
    print(
        f"trained on {len(train)} sequences, {epochs} epochs: {t_train:.0f} s; "
        f"held-out accuracy {accuracy:.3f}"
    )
    print(
        f"hypothetical gradients of {len(pos)} held-out positives {t_score:.1f} s; "
        f"modisco {t_modisco:.1f} s"
    )
    for motif in motifs:
        rows = matches[(matches.motif == motif.name) & (matches.q_value < 0.05)]
        print(
            f"  {motif.name}: {motif.n_instances} seqlets, {motif.trimmed().consensus}: "
            f"{len(rows)} matches with q < 0.05"
        )
        for family, group in rows.groupby("tf_family", sort=False):
            names = ", ".join(
                f"{r.jaspar_name} #{r.rank} (q={r.q_value:.1g})" for r in group.itertuples()
            )
            print(f"    {family} ({group.tf_class.iloc[0]}): {names}")
        mafk = rows[rows.jaspar_name.str.upper() == "MAFK"]
        print(
            "    MAFK: "
            + (
                f"rank {mafk['rank'].iloc[0]}, q = {mafk.q_value.iloc[0]:.2g}"
                if len(mafk)
                else "not among the significant matches"
            )
        )


if __name__ == "__main__":
    main()
