"""The one-hot bridge against ISM on the demo model: per-sequence correlation of estimated and
exact effects.

For every substitution (position p, base b != reference) the bridge's
hypothetical contributions estimate the ISM effect as hyp[p, b] - hyp[p, ref];
ISM (``dv.ism``) measures it. Both on p(target), the quantity ISM reports.
Prints, per method, the median and range of the per-sequence Pearson
correlations over N held-out positives and N negatives, and the time.

Usage: python benchmarks/bridge_vs_ism.py [N]   (run with nice, OMP_NUM_THREADS=1)
"""

import os
import sys

import numpy as np
from common import timed

import dnabert_viz as dv


def correlations(hyp: np.ndarray, effects: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-sequence Pearson r between hyp[p, b] - hyp[p, ref] and the ISM effect, over
    substitutions.
    """
    estimate = hyp - (hyp * x).sum(2, keepdims=True)
    out = []
    for i in range(len(x)):
        sub = (x[i] == 0) & (x[i].sum(1, keepdims=True) > 0)
        out.append(np.corrcoef(estimate[i][sub], effects[i][sub])[0, 1])
    return np.array(out)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    m = dv.load_model(device="cpu")
    data = dv.load_demo()
    seqs = data.sequences("heldout", 1)[:n] + data.sequences("heldout", 0)[:n]
    p = m.predict(seqs)[:, 1]
    effects, t_ism = timed(dv.ism, m, seqs)
    effects = effects.extra["effects"]
    x = dv.one_hot(seqs)
    print(os.popen("uptime").read().strip())
    print(
        f"{n} positives + {n} negatives, {sum(map(len, seqs))} nt; p(target) median "
        f"{np.median(p):.3f}; "
        f"ISM {t_ism:.1f} s"
    )
    runs = {
        "onehot_gradients": {},
        "onehot_integrated_gradients": {"baseline": "shuffle"},
        "onehot_integrated_gradients (uniform)": {"baseline": "uniform"},
        "onehot_gradient_shap": {"baseline": "shuffle"},
        "onehot_gradient_shap (uniform)": {"baseline": "uniform"},
    }
    for label, options in runs.items():
        s, seconds = timed(dv.score, m, seqs, label.split(" ")[0], **options)
        r = correlations(s.extra["hypothetical"], effects, x)
        saturated = (p > 0.99) | (p < 0.01)
        print(
            f"{label}: {seconds:.1f} s; per-sequence r median {np.median(r):.2f} (range "
            f"{r.min():.2f} .. "
            f"{r.max():.2f}); positives {np.median(r[:n]):.2f}, negatives {np.median(r[n:]):.2f}; "
            "p in (0.01, 0.99): "
            f"{np.median(r[~saturated]) if (~saturated).any() else float('nan'):.2f} "
            f"({int((~saturated).sum())} sequences)"
        )
    # the same on the log-odds, which does not saturate: gradient of logit1 - logit0 vs ISM's
    # change of log-odds
    lo = (
        dv.onehot_gradients(m, seqs, target=1, output="logit").extra["hypothetical"]
        - dv.onehot_gradients(m, seqs, target=0, output="logit").extra["hypothetical"]
    )
    p64 = p.astype(np.float64)[:, None, None]
    after = np.clip(p64 + effects, 1e-12, 1 - 1e-7)
    r = correlations(lo, np.log(after / (1 - after)) - np.log(p64 / (1 - p64)), x)
    print(
        "onehot_gradients on the log-odds vs ISM's change of log-odds: r median "
        f"{np.median(r):.2f} "
        f"(range {r.min():.2f} .. {r.max():.2f}); positives {np.median(r[:n]):.2f}, "
        f"negatives {np.median(r[n:]):.2f}"
    )


if __name__ == "__main__":
    main()
