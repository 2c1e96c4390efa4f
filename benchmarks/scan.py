"""dv.scan of every JASPAR CORE vertebrate matrix over N random sequences of 500 nt, against
memelite's own FIMO on the same one-hot input, and the cost of the contribution columns.

    python scan.py [N] [N_SCORED]

N (default 10,000: the issue's target) sequences are scanned by both on both
strands at p < 1e-4; the hits must be the same. Then the first N_SCORED
(default 1,000) are scanned again with Scores whose hypothetical
contributions are random normal (the cost does not depend on their values):
the time of the contribution, agreement and used columns. Prints the times,
hit counts, peak RSS and the load average.
"""

import os
import sys
import time

import numpy as np
from common import peak_rss_mb, random_sequences, timed
from memelite import fimo

import dnabert_viz as dv
from dnabert_viz.contributions import contribution_scores
from dnabert_viz.motifs.jaspar import jaspar_matrices

LENGTH = 500


def main(n: int, n_scored: int) -> None:
    print(f"load average before: {os.getloadavg()}")
    seqs = random_sequences(n, LENGTH)
    matrices = jaspar_matrices()
    dv.scan(seqs[:10], [m.matrix_id for m in matrices[:2]])  # numba kernels loaded, JASPAR read
    x = np.ascontiguousarray(dv.one_hot(seqs).astype(np.int8).transpose(0, 2, 1))
    pwms = {m.matrix_id: m.pwm.T for m in matrices}
    theirs, t_fimo = timed(fimo, pwms, x)
    n_theirs = sum(len(f) for f in theirs)
    hits, t_scan = timed(dv.scan, seqs)
    assert len(hits) == n_theirs, (len(hits), n_theirs)
    print(
        f"{len(matrices)} matrices x {n} x {LENGTH} nt, both strands, p < 1e-4: "
        f"memelite fimo {t_fimo:.1f} s, dv.scan {t_scan:.1f} s ({t_scan / t_fimo:.2f}x), "
        f"{len(hits):,} hits each; load {os.getloadavg()}"
    )
    rng = np.random.default_rng(0)
    part = seqs[:n_scored]
    hyp = rng.normal(0, 0.01, (n_scored, LENGTH, 4)).astype(np.float32)
    scores = contribution_scores(part, hyp, "random", {})
    plain, t_plain = timed(dv.scan, part)
    start = time.perf_counter()
    scored = dv.scan(part, scores=scores)
    t_scored = time.perf_counter() - start
    print(
        f"{n_scored} sequences: scan {t_plain:.1f} s, with contributions {t_scored:.1f} s "
        f"(+{t_scored - t_plain:.1f} s for {len(scored):,} hits); used: "
        f"{scored['used'].mean():.4f} of hits on random contributions; load {os.getloadavg()}"
    )
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 10_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1_000,
    )
