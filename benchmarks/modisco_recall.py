"""TF-MoDISco on the demo model's hypothetical contributions: planted motifs recovered, spurious
ones, time.

Usage: python benchmarks/modisco_recall.py [N] [METHOD]
  N held-out positives (default 300); METHOD a registered method giving extra["hypothetical"]
  (default onehot_gradients, on the logit). Run with nice and NUMBA_NUM_THREADS=1
  OMP_NUM_THREADS=1.
"""

import os
import sys

from common import timed

import dnabert_viz as dv


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    method = sys.argv[2] if len(sys.argv) > 2 else "onehot_gradients"
    m = dv.load_model(device="cpu")
    data = dv.load_demo()
    pos = data.sequences("heldout", 1)[:n]
    options = {"output": "logit"} if "output" in dv.get_method(method).options else {}
    scores, t_score = timed(dv.score, m, pos, method, **options)
    motifs, t_modisco = timed(dv.find_motifs, pos, None, scores, method="modisco")
    recovery = data.recovery(dv.match_jaspar(motifs))
    print(os.popen("uptime").read().strip())
    print(
        f"{method} {options} of {n} positives: {t_score:.1f} s; "
        f"modisco {t_modisco:.1f} s, {len(motifs)} motifs"
    )
    for motif, row in zip(motifs, recovery.itertuples()):
        print(
            f"  {motif.name} ({motif.n_instances} seqlets, {motif.trimmed().consensus}): "
            f"{row.jaspar_name} q={row.q_value:.2g} -> "
            f"{row.planted if not row.spurious else 'spurious'}"
        )
    found = sorted(set(recovery["planted"].dropna()))
    print(
        f"planted recovered: {len(found)}/3 ({', '.join(found)}); "
        f"spurious: {int(recovery['spurious'].sum())}"
    )


if __name__ == "__main__":
    main()
