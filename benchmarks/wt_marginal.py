"""The wild-type marginal against the masked scores, on the embedded masked LM.

On N held-out demo positives: CPU time of ``base_log_probs`` masked (one
masked copy per token) and unmasked (one forward pass per window), the rank
agreement (Spearman) of the two log-ratios log p(alt) - log p(ref) over
every substitution, and the mean probability each gives the reference base
(a model that predicts an unmasked token as itself gives it more unmasked).

Usage: ``python benchmarks/wt_marginal.py [--n 20]``; give ``uptime`` beside it.
"""

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

import dnabert_viz as dv
from dnabert_viz.language_model import base_log_probs


def substitutions(sequences: list[str], log_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every substitution's log p(alt) - log p(ref), and each known base's p(ref)."""
    effects, reference = [], []
    for i, seq in enumerate(sequences):
        for p, base in enumerate(seq):
            if base != "N":
                r = "ACGT".index(base)
                effects.extend(np.delete(log_probs[i, p] - log_probs[i, p, r], r))
                reference.append(np.exp(log_probs[i, p, r]))
    return np.array(effects), np.array(reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="held-out positives")
    args = parser.parse_args()
    m = dv.load_model("demo-mlm")
    sequences = dv.load_demo().sequences("heldout", 1)[: args.n]
    runs = {}
    for masked in (True, False):
        start = time.process_time()
        log_probs = base_log_probs(m, sequences, masked=masked)
        runs[masked] = (time.process_time() - start, *substitutions(sequences, log_probs))
    (masked_s, masked_fx, masked_ref), (wt_s, wt_fx, wt_ref) = runs[True], runs[False]
    print(f"CPU seconds, masked {masked_s:.2f}, unmasked {wt_s:.3f}: {masked_s / wt_s:.1f}x")
    rho = spearmanr(masked_fx, wt_fx).statistic
    print(f"Spearman over {len(wt_fx)} substitutions: {rho:.3f}")
    print(f"mean p(reference base), masked {masked_ref.mean():.3f}, unmasked {wt_ref.mean():.3f}")


if __name__ == "__main__":
    main()
