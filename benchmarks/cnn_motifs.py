"""The one-hot CNN beside the embedded demo transformer on the demo's planted motifs: held-out
accuracy, and the motifs TF-MoDISco finds in each model's hypothetical contributions (the
CNN's: its exact one-hot gradients; the transformer's: its one-hot bridge's).

    OMP_NUM_THREADS=1 python benchmarks/cnn_motifs.py --n-train 2000
"""

import argparse
import os
import time

import numpy as np
import torch
from cnn import train_cnn

import dnabert_viz as dv
from dnabert_viz.finetune import auroc


def motifs_found(m: dv.DnaModel, demo, positives: list[str]) -> dict:
    """TF-MoDISco on the logit's hypothetical gradients of ``positives``: what it recovers."""
    start = time.perf_counter()
    scores = dv.score(m, positives, "onehot_gradients", output="logit")
    motifs = dv.find_motifs(positives, None, scores, method="modisco")
    recovery = demo.recovery(dv.match_jaspar(motifs))
    return {
        "motifs": len(motifs),
        "planted recovered": sorted(set(recovery["planted"].dropna())),
        "spurious": int(recovery["spurious"].sum()),
        "scoring + modisco s": round(time.perf_counter() - start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-positives", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    demo = dv.load_demo()
    seqs, labels = demo.sequences("train")[: args.n_train], demo.labels("train")[: args.n_train]
    held, truth = demo.sequences("heldout"), demo.labels("heldout")
    positives = demo.sequences("heldout", 1)[: args.n_positives]
    start = time.perf_counter()
    cnn = train_cnn(seqs, labels, max_minutes=10)
    trained = time.perf_counter() - start
    transformer = dv.load_model(device="cpu")
    for name, m in (("CNN", cnn), ("demo transformer", transformer)):
        p = m.predict(held)
        row = {
            "held-out accuracy": round(float((p.argmax(1) == truth).mean()), 3),
            "AUROC": round(auroc(p, truth), 3),
            **motifs_found(m, demo, positives),
        }
        if m is cnn:
            row["training s"] = round(trained)
            row["epochs kept/run"] = f"{cnn.history.attrs['best_epoch']}/{len(cnn.history)}"
        print(name, row, flush=True)
    print("planted:", sorted(np.unique(demo.planted.motif_id)))


if __name__ == "__main__":
    main()
