"""The head atlas (``dv.head_atlas``) of the demo model on held-out positives, against the planted
sites: its time, the top heads by AUROC, by ablation and by attention x gradient, and the
DNABERT-viz recipe's map (last layer, heads summed) beside the per-layer means. With
``--fine-tune N``, also two checkpoints of one architecture: the demo masked LM (``demo-mlm``,
pretrained) and the same fine-tuned here on N training sequences (``dv.fine_tune``, 2 epochs),
their AUROC difference head by head.

    OMP_NUM_THREADS=1 nice -n 10 python head_atlas.py --n 100 --fine-tune 2000
"""

import argparse
import subprocess
import time

import numpy as np

import dnabert_viz as dv
from dnabert_viz.faithful import truth_auroc


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.split("average:")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="held-out positives")
    parser.add_argument("--fine-tune", type=int, default=0, help="training sequences (0: skip)")
    args = parser.parse_args()
    m = dv.load_model(device="cpu")
    demo = dv.load_demo()
    rows = demo.indices("heldout", 1)[: args.n]
    table = demo.table.loc[rows]
    lengths = table.sequence.str.len()
    print(f"load before:{load()}")
    print(f"{len(rows)} held-out positives, {lengths.min()}-{lengths.max()} nt")
    start = time.perf_counter()
    atlas = dv.head_atlas(m, table, annotation=demo.planted, progress=False)
    seconds = time.perf_counter() - start
    print(f"atlas: {seconds:.1f} s ({atlas.meta['annotation']}); load after:{load()}")
    print(atlas.table().round(3).to_string(index=False))
    for q in ("auroc", "ablation", "gradient"):
        top = atlas.top(q, n=3)
        print(
            f"top 3 by {q}: "
            + ", ".join(
                f"L{int(r['layer'])}H{int(r['head'])} {r[q]:+.3f}" for _, r in top.iterrows()
            )
        )
    print(
        "per layer, mean over heads: AUROC",
        np.round(atlas.auroc.mean(1), 3),
        "ablation",
        np.round(atlas.ablation.mean(1), 3),
    )
    mask = demo.truth_mask(rows)
    for layer in (0, -1):
        recipe = dv.cls_attention(m, table, layer=layer, progress=False)
        print(
            f"cls_attention layer {layer} (heads summed): AUROC {truth_auroc(recipe, mask)[0]:.3f}"
        )
    if args.fine_tune:
        pretrained = dv.load_model("demo-mlm", device="cpu")
        train = demo.table[demo.table.split == "train"].iloc[: args.fine_tune]
        start = time.perf_counter()
        tuned = dv.fine_tune(pretrained, train, train.label.to_numpy(), epochs=2, progress=False)
        held = demo.table[demo.table.split == "heldout"].iloc[:500]
        accuracy = np.mean(tuned.predict(held.sequence.tolist()).argmax(1) == held.label)
        print(f"fine-tuned on {len(train)} in {time.perf_counter() - start:.0f} s")
        print(f"held-out accuracy (500): {accuracy:.3f}")
        before = dv.head_atlas(pretrained, table, annotation=demo.planted, progress=False)
        after = dv.head_atlas(tuned, table, annotation=demo.planted, progress=False)
        for name, a in (
            ("pretrained", before),
            ("fine-tuned", after),
            ("difference", after - before),
        ):
            print(f"{name} AUROC per head:\n{np.round(a.auroc, 3)}")
        print(f"fine-tuned ablation per head:\n{np.round(after.ablation, 3)}")
        print(f"load after:{load()}")


if __name__ == "__main__":
    main()
