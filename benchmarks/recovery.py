"""Motif recovery on data nobody tuned for: train with defaults -> score -> discover -> match
JASPAR.

For each data set: train ``dv.train_classifier`` with its defaults (its own
time budget unless ``--minutes`` is given), and beside it the small CNN of
``cnn.py`` on the same split; score with [CLS] attention every positive
(training and held-out: DNABERT-viz counts exact region sequences, so it needs
numbers) and with integrated gradients (20 steps) the held-out positives;
run DNABERT-viz against every negative (as published, and again with
similar motifs merged: ``dv.merge_similar``) and seqlets on the gradients; match
every motif to JASPAR 2026 CORE vertebrates. Prints, per data set and method:
held-out accuracy and AUROC of both models, training time, motifs found, the
best match of the expected family (else the best overall) with its q,
whether the known factor's family was recovered (a motif's best match of
that family, q < 0.05; and, looser, that family among any motif's
significant matches) and how many motifs are spurious (best match not of
an expected family, or no significant match). Models and scores are kept
under ``--cache`` and reused, so a change to discovery reruns in seconds.
``--architecture dnabert2`` trains DNABERT-2's architecture (BPE, ALiBi)
instead of the 6-mer DNABERT, with the same defaults otherwise.

Data (read from ../shared at run time; big sets subsampled so the table runs
in bounded time: training pool <= --n-train sequences, held-out <= 1,000,
scored positives <= --n-score):
GUE mouse_tf_3 (MAFK), mouse_tf_2 (AP-1), human_tf_3 (AP-1), human_tf_4
(E-box), prom_core_tata (TATA), DNABERT's CTCF set (sample_data/ft/6) and
prom-core set, and planted sets: three JASPAR matrices of different families
drawn by a seed (never the demo's families), one PWM-sampled site per
positive, 200 nt; for those the accuracy of a scan with the true PWMs (the
ceiling) is printed.

    OMP_NUM_THREADS=1 nice -n 10 python recovery.py > recovery.txt
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from cnn import train_cnn

import dnabert_viz as dv
from dnabert_viz.demo import DEMO_MOTIFS
from dnabert_viz.finetune import auroc, stratified_split
from dnabert_viz.motifs.jaspar import best_matches, jaspar_matrices
from dnabert_viz.synthetic import best_hit_scores, draw_jaspar_motifs, plant_motifs

SHARED = Path(__file__).resolve().parents[2] / "shared"
GUE = SHARED / "data"
DNABERT = SHARED / "reference" / "dnabert1" / "sample_data" / "ft"
CORE_PROMOTER = ["TBP", "SP1", "KLF4", "NFYA", "ELK1", "GABPA", "Nrf1", "Yy1"]
# data set -> (a GUE folder under ../shared/data, or a DNABERT sample file; JASPAR names whose
# families count)
REAL = {
    "mouse_tf_3 (MAFK)": ("gue_tfbs/mouse_tf_3", ["MAFK", "NFE2", "BACH1"]),
    "mouse_tf_2 (AP-1)": ("gue_tfbs/mouse_tf_2", ["FOS::JUN", "JUN"]),
    "human_tf_3 (AP-1)": ("gue_tfbs/human_tf_3", ["FOS::JUN", "JUN"]),
    "human_tf_4 (E-box)": ("gue_tfbs/human_tf_4", ["MAX", "MYC", "USF1"]),
    "prom_core_tata (TATA)": ("gue_promoter_tata/prom_core_tata", ["TBP"]),
    "DNABERT CTCF": ("6/dev.tsv", ["CTCF"]),
    "DNABERT prom-core": ("prom-core/6/dev.tsv", CORE_PROMOTER),
}
BACKGROUND = np.array([0.29, 0.21, 0.21, 0.29])


def family_by_id() -> dict[str, set[str]]:
    """JASPAR matrix id -> its families."""
    return {m.matrix_id: set(m.family.split(";")) for m in jaspar_matrices()}


def planted_targets(motifs: list) -> dict[str, set[str]]:
    """The planted matrices to recover: name -> JASPAR families."""
    family = family_by_id()
    return {m.name: family[m.motif_id] for m in motifs}


def of_label(parts, label: int) -> list[str]:
    """The sequences of ``label`` in every (sequences, labels) of ``parts``."""
    return [s for part in parts for s, y in zip(*part) if y == label]


def families(names: list[str]) -> set[str]:
    by_name = {}
    for m in jaspar_matrices():
        by_name.setdefault(m.name.upper(), set()).update(m.family.split(";"))
    return set().union(*(by_name[n.upper()] for n in names))


def subsample(
    seqs: list[str], labels: np.ndarray, n: int, seed: int
) -> tuple[list[str], np.ndarray]:
    if len(seqs) <= n:
        return seqs, labels
    _, rows = stratified_split(labels, n / len(seqs), seed)
    return [seqs[i] for i in rows], labels[rows]


def real_set(folder: str, n_train: int, seed: int):
    if folder.endswith(".tsv"):
        table = dv.read_table(DNABERT / folder)
        seqs, labels = table["sequence"].tolist(), table["label"].to_numpy()
        seqs, labels = subsample(seqs, labels, int(n_train / 0.8), seed)
        train, test = stratified_split(labels, 0.2, seed)
        return ([seqs[i] for i in train], labels[train]), ([seqs[i] for i in test], labels[test])
    path = GUE / folder
    suffix = ".csv.gz" if (path / "train.csv.gz").exists() else ".csv"
    parts = [dv.read_table(path / f"{split}{suffix}") for split in ("train", "test")]
    (a, b), (c, d) = ((t["sequence"].tolist(), t["label"].to_numpy()) for t in parts)
    return subsample(a, b, n_train, seed), subsample(c, d, 1000, seed)


def planted_set(seed: int, n_train: int):
    motifs = draw_jaspar_motifs(3, seed, exclude=DEMO_MOTIFS)
    n = int(n_train / 0.8) // 2
    table, _ = plant_motifs(
        motifs, n, n, length=(200, 200), max_per_sequence=1, hit_fraction=0.0, seed=seed
    )
    seqs, labels = table["sequence"].tolist(), table["label"].to_numpy()
    train, test = stratified_split(labels, 0.2, seed)
    return (
        motifs,
        ([seqs[i] for i in train], labels[train]),
        ([seqs[i] for i in test], labels[test]),
    )


def cache_folder(root: Path, name: str) -> Path:
    """Where a data set's models and scores are kept, e.g. ``root/planted_seed_1``."""
    return root / name.split(":")[0].split(" (")[0].replace(" ", "_")


def scan_ceiling(motifs, train, test) -> float:
    """Held-out accuracy of the best-threshold scan with the true PWMs (threshold fitted on
    training data)."""

    def score(seqs):
        return np.array(
            [
                max(
                    best_hit_scores(s, m, BACKGROUND).max() / m.log_odds(BACKGROUND).max(1).sum()
                    for m in motifs
                )
                for s in seqs
            ]
        )

    s_train, s_test = score(train[0]), score(test[0])
    cuts = np.unique(s_train)
    accuracy = [((s_train >= c) == train[1]).mean() for c in cuts]
    return float(((s_test >= cuts[int(np.argmax(accuracy))]) == test[1]).mean())


def recovery(motifs: list, targets: dict[str, set[str]]) -> dict:
    """Recovered targets (label -> JASPAR families) and spurious motifs, from each motif's best
    JASPAR match; and the targets whose family is among any motif's significant matches
    (``recovered, any match``: JASPAR holds near-identical matrices of related families, and
    which one TOMTOM ranks first can flip)."""
    family = family_by_id()
    if not motifs:
        return {
            "motifs": 0,
            "best match": "-",
            "q": np.nan,
            "recovered": f"0/{len(targets)}",
            "recovered, any match": f"0/{len(targets)}",
            "spurious": 0,
        }
    matches = dv.match_jaspar(motifs, max_q=0.05)
    significant = set().union(
        *(family.get(j, set()) for j in matches.loc[matches["q_value"] < 0.05, "jaspar_id"])
    )
    best = best_matches(matches)
    fams = [family.get(j, set()) for j in best["jaspar_id"]]
    wanted = set().union(*targets.values())
    hit = np.array([bool(ok and f & wanted) for ok, f in zip(best["q_value"].lt(0.05), fams)])
    recovered = [t for t, tf in targets.items() if any(ok and f & tf for ok, f in zip(hit, fams))]
    shown = best[hit].nsmallest(1, "q_value") if hit.any() else best.nsmallest(1, "q_value")
    row = shown.iloc[0]
    return {
        "motifs": len(motifs),
        "best match": f"{row.jaspar_name} ({row.jaspar_id})" if row.jaspar_id else "-",
        "q": float(row.q_value),
        "recovered": f"{len(recovered)}/{len(targets)} {' '.join(recovered)}".strip(),
        "recovered, any match": f"{sum(bool(tf & significant) for tf in targets.values())}"
        f"/{len(targets)}",
        "spurious": int((~hit).sum()),
    }


def train_cnn_baseline(train, test, minutes: float | None, cache: Path, seed: int) -> dict:
    """The CNN's figures, kept in ``cache`` apart from the transformer's (a change to
    ``train_classifier``'s defaults does not retrain it)."""
    done = cache / "cnn.json"
    if done.exists():
        return json.loads(done.read_text())
    start = time.perf_counter()
    cnn = train_cnn(*train, max_minutes=10 if minutes is None else minutes, seed=seed)
    seconds = time.perf_counter() - start
    q = cnn.predict(test[0])
    figures = {
        "CNN accuracy": float((q.argmax(1) == test[1]).mean()),
        "CNN AUROC": auroc(q, test[1]),
        "CNN s": seconds,
    }
    cache.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps(figures))
    return figures


def train_and_score(
    train, test, minutes: float | None, n_score: int, cache: Path, seed: int, architecture: str
) -> dict:
    """Train the transformer, score, and keep what discovery needs in ``cache`` (model folder,
    [CLS] attention of every positive, IG of the held-out positives, the figures); a finished
    cache is reused."""
    done = cache / "figures.json"
    if done.exists():
        return json.loads(done.read_text())
    options = {} if minutes is None else {"max_minutes": minutes}
    start = time.perf_counter()
    m = dv.train_classifier(
        *train, seed=seed, architecture=architecture, progress=False, device="cpu", **options
    )
    seconds = time.perf_counter() - start
    p = m.predict(test[0])
    m.save_pretrained(cache / "model")
    # DNABERT-viz counts exact region sequences, so it sees every positive (training and held
    # out, as a motif hunter scores all their peaks); IG, 20 passes each, the held-out ones.
    positives = of_label((train, test), 1)
    dv.cls_attention(m, positives, progress=False).save(cache / "cls.npz")
    held_out = of_label([test], 1)[:n_score]
    dv.attribute(m, held_out, n_steps=20, progress=False).save(cache / "ig.npz")
    figures = {
        "n train": len(train[0]),
        "n held-out": len(test[0]),
        "accuracy": float((p.argmax(1) == test[1]).mean()),
        "AUROC": auroc(p, test[1]),
        "epochs": f"{m.history.attrs['best_epoch']}/{len(m.history)}",
        "train s": seconds,
        "load": os.getloadavg()[0],
    }
    done.write_text(json.dumps(figures))
    return figures


def discover(train, test, targets: dict, cache: Path, **dnabert_viz_options) -> list[dict]:
    """DNABERT-viz on [CLS] attention of all positives against all negatives (as published, and
    with similar motifs merged); seqlets on IG."""
    negatives = of_label((train, test), 0)
    cls, ig = dv.Scores.load(cache / "cls.npz"), dv.Scores.load(cache / "ig.npz")
    published = dv.find_motifs(cls.sequences, negatives, cls, **dnabert_viz_options)
    return [
        {"method": "DNABERT-viz ([CLS])", **recovery(published, targets)},
        {
            "method": "DNABERT-viz, similar merged",
            **recovery(dv.merge_similar(published), targets),
        },
        {
            "method": "seqlets (IG)",
            **recovery(dv.find_motifs(ig.sequences, None, ig, method="seqlets"), targets),
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--minutes", type=float, help="training budget of each model (default: train_classifier's)"
    )
    parser.add_argument(
        "--n-train", type=int, default=2000, help="training pool per data set (subsampled)"
    )
    parser.add_argument("--n-score", type=int, default=300, help="held-out positives scored")
    parser.add_argument("--planted-seeds", type=int, nargs="*", default=[1, 2])
    parser.add_argument(
        "--seed", type=int, default=0, help="training seed of both models (the data stay the same)"
    )
    parser.add_argument(
        "--architecture",
        default="dnabert",
        choices=["dnabert", "dnabert2"],
        help="the transformer: DNABERT (6-mers) or DNABERT-2 (BPE, ALiBi), as train_classifier",
    )
    parser.add_argument("--only", nargs="*", help="run only these data sets (names as printed)")
    parser.add_argument(
        "--regions", default="auto", help="DNABERT-viz regions rule: auto, published or a number"
    )
    parser.add_argument("--out", default="recovery.tsv")
    parser.add_argument(
        "--cache", default="recovery_cache", help="trained models and scores, reused when present"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    pd.set_option("display.width", 250)
    jobs = [(name, folder, names) for name, (folder, names) in REAL.items()]
    jobs += [(f"planted seed {s}", s, None) for s in args.planted_seeds]
    rows = []
    for name, source, names in jobs:
        if args.only and name not in args.only:
            continue
        ceiling = None
        if names is None:
            motifs, train, test = planted_set(source, args.n_train)
            targets = planted_targets(motifs)
            ceiling = scan_ceiling(motifs, train, test)
            name = f"{name}: " + ", ".join(m.name for m in motifs)
        else:
            train, test = real_set(source, args.n_train, seed=0)
            targets = {names[0]: families(names)}
        cache = cache_folder(Path(args.cache), name)
        figures = train_and_score(
            train, test, args.minutes, args.n_score, cache, args.seed, args.architecture
        )
        figures |= train_cnn_baseline(train, test, args.minutes, cache, args.seed)
        common = {"data set": name, **figures, "scan ceiling": ceiling}
        regions = args.regions if args.regions in ("auto", "published") else float(args.regions)
        rows += [
            {**common, **row} for row in discover(train, test, targets, cache, regions=regions)
        ]
        print(pd.DataFrame(rows[-3:]).round(3).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out, sep="\t", index=False)
    shown = table.round(3).map(lambda v: "" if v is None or pd.isna(v) else str(v))
    print("| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns))
    print("\n".join("| " + " | ".join(row) + " |" for row in shown.to_numpy()))


if __name__ == "__main__":
    main()
