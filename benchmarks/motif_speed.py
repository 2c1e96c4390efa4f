"""DNABERT-viz motif discovery time versus N (positives = negatives, 500 nt).

Positives hold one sampled instance of each of three JASPAR motifs and scores
shaped like [CLS] attention (a smooth positive background, a bump over each
site); negatives are random. Prints the time of each step for N = 2,500,
5,000 and 10,000 (the target: 10,000 + 10,000 in under 30 s on 2 cores),
and the motifs found at the largest N.
"""

import sys
import time

import numpy as np
from common import peak_rss_mb, random_sequences

import dnabert_viz as dv
from dnabert_viz.demo import DEMO_MOTIFS
from dnabert_viz.motifs.dnabertviz import (
    candidate_instances,
    centre_windows,
    enriched_candidates,
    high_score_regions,
    merge_candidates,
)
from dnabert_viz.synthetic import jaspar_motif

LENGTH = 500


def planted_set(n: int, seed: int = 0):
    """n positives with planted sites, their attention-like scores, and n random negatives."""
    rng = np.random.default_rng(seed)
    motifs = [jaspar_motif(m) for m in DEMO_MOTIFS]
    pos = random_sequences(n, LENGTH, seed)
    neg = random_sequences(n, LENGTH, seed + 1)
    kernel = np.hanning(15) / np.hanning(15).sum()
    noise = rng.normal(size=(n, LENGTH + 14))
    smooth = np.array([np.convolve(row, kernel, mode="valid") for row in noise])[:, :LENGTH]
    scores = np.exp(2.5 * smooth / smooth.std())  # like attention: mostly small, a few broad peaks
    for i in range(n):
        seq = pos[i]
        for k, m in enumerate(motifs):
            start = 20 + k * 160 + int(rng.integers(0, 100))
            site = m.sample(rng)
            seq = seq[:start] + site + seq[start + len(site) :]
            scores[i, start : start + len(site)] += 10.0
        pos[i] = seq
    return pos, neg, scores


def main(sizes=(2500, 5000, 10000)) -> None:
    print(
        f"{'N':>7} {'regions':>8} {'count+test':>11} {'merge':>7} {'windows':>8} "
        f"{'find_motifs':>12} {'motifs':>7}"
    )
    for n in sizes:
        pos, neg, scores = planted_set(n)
        t0 = time.perf_counter()
        regions = high_score_regions(scores, 5).to_numpy(np.int64)
        sites = [pos[i][s:e] for i, s, e in regions]
        t1 = time.perf_counter()
        kept = enriched_candidates(pos, neg, list(dict.fromkeys(sites)), 0.005)
        t2 = time.perf_counter()
        instances = candidate_instances(sites, regions, set(kept["candidate"]))
        merged = merge_candidates(kept["candidate"].tolist(), instances)
        t3 = time.perf_counter()
        lengths = np.full(n, LENGTH)
        for group in merged.values():
            centre_windows(group["instances"], lengths, 24)
        t4 = time.perf_counter()
        motifs = dv.find_motifs(pos, neg, scores)
        t5 = time.perf_counter()
        print(
            f"{n:>7} {t1 - t0:>8.2f} {t2 - t1:>11.2f} {t3 - t2:>7.2f} {t4 - t3:>8.2f} "
            f"{t5 - t4:>12.2f} {len(motifs):>7}   ({len(sites)} regions, {len(set(sites))} "
            f"distinct, {len(kept)} significant, {len(merged)} merged)"
        )
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    for m in motifs[:8]:
        print(f"  {m.name:<12} {m.n_instances:>6} instances  {m.consensus}")


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (2500, 5000, 10000))
