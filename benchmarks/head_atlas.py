"""The head atlas (``dv.head_atlas``) of the demo model on held-out positives, against the planted
sites: its time, the top heads by AUROC, by ablation and by attention x gradient, and the
DNABERT-viz recipe's map (last layer, heads summed) beside the per-layer means. With
``--fine-tune N``, also two checkpoints of one architecture: the demo masked LM (``demo-mlm``,
pretrained) and the same fine-tuned here on N training sequences (``dv.fine_tune``, 2 epochs),
their AUROC difference head by head. With ``--model dnabert2-demo``, the embedded
DNABERT-2-architecture model on the same sequences and sites. With ``--gue FOLDER`` (a set of
recovery.py's table, e.g. ``gue_tfbs/human_tf_4``), a model trained there by
``dv.train_classifier`` (3 minutes, at most 2,000 training sequences as recovery.py draws them) on
N held-out positives, against the instances of the set's known factors (recovery.py's JASPAR
names): ``dv.scan`` hits at p < 1e-4, a model-independent annotation.

    OMP_NUM_THREADS=1 nice -n 10 python head_atlas.py --n 100 --fine-tune 2000
    DNABERT_VIZ_THREADS=1 nice -n 10 python head_atlas.py --n 100 --model dnabert2-demo
    DNABERT_VIZ_THREADS=1 nice -n 10 python head_atlas.py --n 100 --gue gue_tfbs/human_tf_4
"""

import argparse
import subprocess
import time

import numpy as np

import dnabert_viz as dv
from dnabert_viz.faithful import truth_auroc
from dnabert_viz.motifs.jaspar import jaspar_matrices
from dnabert_viz.truth import truth_mask


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.split("average:")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="held-out positives")
    parser.add_argument("--fine-tune", type=int, default=0, help="training sequences (0: skip)")
    parser.add_argument("--model", help="a model dv.load_model knows (default: the demo's)")
    parser.add_argument("--gue", help="a GUE folder of recovery.py's table (instead of the demo)")
    args = parser.parse_args()
    print(f"load before:{load()}")
    if args.gue:
        m, seqs, mask = gue(args.gue, args.n)
    else:
        m = dv.load_model(args.model, device="cpu")
        demo = dv.load_demo()
        rows = demo.indices("heldout", 1)[: args.n]
        seqs, mask = demo.table.sequence[rows].tolist(), demo.truth_mask(rows)
    lengths = [len(s) for s in seqs]
    print(f"{len(seqs)} held-out positives, {min(lengths)}-{max(lengths)} nt")
    start = time.perf_counter()
    atlas = dv.head_atlas(m, seqs, annotation=mask, progress=False)
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
    print(f"control, closeness to the centre: AUROC {centre_auroc(seqs, mask):.3f}")
    for layer in (0, -1):
        recipe = dv.cls_attention(m, seqs, layer=layer, progress=False)
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
        before = dv.head_atlas(pretrained, seqs, annotation=mask, progress=False)
        after = dv.head_atlas(tuned, seqs, annotation=mask, progress=False)
        for name, a in (
            ("pretrained", before),
            ("fine-tuned", after),
            ("difference", after - before),
        ):
            print(f"{name} AUROC per head:\n{np.round(a.auroc, 3)}")
        print(f"fine-tuned ablation per head:\n{np.round(after.ablation, 3)}")
        print(f"load after:{load()}")


def centre_auroc(seqs: list[str], mask: np.ndarray) -> float:
    """AUROC at the annotation of a map that knows only where a position is: minus its
    distance to the sequence's centre (ChIP-seq windows are centred on their peaks)."""
    width = max(map(len, seqs))
    values = np.full((len(seqs), width), np.nan, dtype=np.float32)
    for i, s in enumerate(seqs):
        values[i, : len(s)] = -np.abs(np.arange(len(s)) - (len(s) - 1) / 2)
    return truth_auroc(dv.Scores(seqs, values, "centre"), mask)[0]


def gue_positives(folder: str, n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """n held-out positives of a GUE set, drawn as recovery.py and faithfulness.py draw them,
    the positions of its known factors' instances in them, and the set's split."""
    from recovery import REAL, real_set

    factors = next(names for where, names in REAL.values() if where == folder)
    (train, labels), (test, test_labels) = real_set(folder, 2000, 0)
    pos = [s for s, y in zip(test, test_labels) if y == 1]
    rng = np.random.default_rng(0)
    seqs = [pos[i] for i in sorted(rng.choice(len(pos), min(n, len(pos)), replace=False))]
    wanted = {f.upper() for f in factors}
    matrices = [j for j in jaspar_matrices() if j.name.upper() in wanted]
    hits = dv.scan(seqs, matrices)
    print(
        f"annotation: {len(hits)} instances of {', '.join(sorted(wanted))} (p < 1e-4) in "
        f"{hits.sequence_index.nunique()} of {len(seqs)} sequences"
    )
    mask = truth_mask(hits, np.array([len(s) for s in seqs]))
    return seqs, mask, ((train, labels), (test, test_labels))


def gue(folder: str, n: int) -> tuple[dv.DnaModel, list[str], np.ndarray]:
    """A model trained on a GUE set of recovery.py's table, n held-out positives and the
    positions of its known factors' instances in them."""
    seqs, mask, ((train, labels), (test, test_labels)) = gue_positives(folder, n)
    start = time.perf_counter()
    m = dv.train_classifier(train, labels, max_minutes=3, device="cpu", progress=False)
    accuracy = float((m.predict(test).argmax(1) == test_labels).mean())
    print(f"{folder}: trained in {time.perf_counter() - start:.0f} s on {len(train)}, held-out")
    print(f"accuracy {accuracy:.3f} ({len(test)}); load{load()}")
    return m, seqs, mask


if __name__ == "__main__":
    main()
