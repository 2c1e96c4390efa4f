"""dv.scan against finemo 0.41 (Fi-NeMo) on the same contribution scores: the demo model's
one-hot integrated gradients of held-out positives, TF-MoDISco's motifs from them, and each
tool's hits compared with the planted truth.

    python scan_finemo.py [N] [OUT]

finemo is not a dependency (``uv pip install finemo``); it reads the scores
through ``dv.save_ohe`` (tfmodisco-lite's (N, 4, L) layout) and modisco's
``.h5``. dv.scan scans the same modisco motifs (their hypothetical CWMs as
the agreement direction) and keeps the hits it calls used. A planted site
is recovered by a hit that overlaps it by half its width or more; other
hits are counted as off the truth.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from common import random_sequences  # noqa: F401  (sets the thread settings)

import dnabert_viz as dv
from dnabert_viz.motifs.modisco import modisco_motifs


def recovered(hits: pd.DataFrame, planted: pd.DataFrame) -> tuple[int, int]:
    """(planted sites a hit overlaps by half their width or more, hits overlapping none)."""
    found, off = set(), 0
    by_seq = {i: g for i, g in planted.groupby("sequence_index")}
    for i, s, e in hits[["sequence_index", "start", "end"]].itertuples(index=False):
        sites = by_seq.get(i)
        hit = False
        if sites is not None:
            for k, a, b in zip(sites.index, sites["start"], sites["end"]):
                if min(e, b) - max(s, a) >= (b - a) / 2:
                    found.add(k)
                    hit = True
        off += not hit
    return len(found), off


def main(n: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()}")
    demo, m = dv.load_demo(), dv.load_model()
    rows = demo.indices("heldout", 1)[:n]
    seqs = demo.table.sequence[rows].tolist()
    planted = demo.planted[demo.planted["sequence_index"].isin(rows)]
    planted = planted.assign(
        sequence_index=planted["sequence_index"].map(dict(zip(rows, range(n))))
    ).reset_index(drop=True)
    t = time.perf_counter()
    scores = dv.score(m, seqs, "onehot_integrated_gradients", output="logit", n_steps=16)
    print(f"integrated gradients of {n} sequences: {time.perf_counter() - t:.0f} s")
    motifs = modisco_motifs(seqs, scores, report=out / "modisco.h5")
    print(f"modisco: {len(motifs)} motifs: {[x.name for x in motifs]}")
    dv.save_ohe(scores, out)
    width = max(map(len, seqs))
    t = time.perf_counter()
    subprocess.run(
        [
            "finemo",
            "extract-regions-modisco-fmt",
            "-s",
            str(out / "ohe.npz"),
            "-a",
            str(out / "shap.npz"),
            "-o",
            str(out / "regions.npz"),
            "-w",
            str(width),
        ],
        check=True,
    )
    subprocess.run(
        [
            "finemo",
            "call-hits",
            "-r",
            str(out / "regions.npz"),
            "-m",
            str(out / "modisco.h5"),
            "-o",
            str(out / "finemo"),
            "-d",
            "cpu",
        ],
        check=True,
    )
    t_finemo = time.perf_counter() - t
    theirs = pd.read_csv(out / "finemo" / "hits.tsv", sep="\t")
    print(theirs.head().to_string())
    theirs = theirs.rename(columns={"peak_id": "sequence_index", "start_untrimmed": "s"})
    t = time.perf_counter()
    ours = dv.scan(seqs, list(motifs), scores=scores)
    t_scan = time.perf_counter() - t
    used = ours[ours["used"] == True]  # noqa: E712  (a nullable boolean)
    for name, hits, seconds in (
        ("finemo", theirs, t_finemo),
        ("dv.scan all", ours, t_scan),
        ("dv.scan used", used, t_scan),
    ):
        got, off = recovered(hits, planted)
        print(
            f"{name}: {len(hits)} hits, {got} of {len(planted)} planted sites, {off} off the "
            f"truth, {seconds:.1f} s"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 150,
        Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/scan_finemo"),
    )
