"""dv.ism (batched mutants) versus one forward pass per variant, on the demo model.

Usage: python benchmarks/ism_speed.py [N_SEQUENCES]
"""

import sys

import numpy as np
from common import timed

import dnabert_viz as dv


def one_by_one(m, seqs, target=1):
    out = []
    for seq in seqs:
        ref = m.predict([seq])[0, target]
        for pos in range(len(seq)):
            for base in "ACGT":
                if base != seq[pos]:
                    out.append(m.predict([seq[:pos] + base + seq[pos + 1 :]])[0, target] - ref)
    return np.array(out)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    m = dv.load_model(device="cpu")
    seqs = dv.load_demo().sequences("heldout", label=1)[:n]
    variants = sum(3 * len(s) for s in seqs)
    batched, t_batched = timed(dv.ism, m, seqs)
    batched = batched.extra["effects"]
    single, t_single = timed(one_by_one, m, seqs)
    agree = np.allclose(
        np.sort(batched[~np.isnan(batched) & (batched != 0)]),
        np.sort(single[single != 0]),
        atol=1e-5,
    )
    print(f"{n} sequences, {variants} variants")
    print(f"batched ISM: {t_batched:.2f} s ({variants / t_batched:.0f} variants/s)")
    print(f"one forward per variant: {t_single:.2f} s ({variants / t_single:.0f} variants/s)")
    print(f"speed-up: {t_single / t_batched:.1f}x; same numbers: {agree}")


if __name__ == "__main__":
    main()
