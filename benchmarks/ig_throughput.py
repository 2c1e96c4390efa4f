"""Integrated gradients throughput versus a plain forward+backward loop at the same batch size.

IG with n_steps evaluates n_steps interpolated batches; the plain loop runs
n_steps forward+backward passes of the same batch, the floor IG cannot beat.
Usage: python benchmarks/ig_throughput.py [N_SEQUENCES]
"""

import sys

import numpy as np
import torch
from common import timed

import dnabert_viz as dv

N_STEPS, BATCH = 50, 16


def plain_loop(m, seqs):
    enc = m.encode(seqs)
    for _rows, inputs in m.batches(enc, batch_size=BATCH):
        for _ in range(N_STEPS):
            emb = m.model.get_input_embeddings()(inputs["input_ids"]).detach().requires_grad_(True)
            out = m.model(inputs_embeds=emb, attention_mask=inputs["attention_mask"]).logits
            torch.softmax(out, -1)[:, 1].sum().backward()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    m = dv.load_model(device="cpu")
    seqs = dv.load_demo().sequences("heldout", label=1)[:n]
    scores, t_ig = timed(dv.attribute, m, seqs, n_steps=N_STEPS, batch_size=BATCH)
    _, t_plain = timed(plain_loop, m, seqs)
    print(f"{n} sequences of 100-200 nt, batch {BATCH}, n_steps {N_STEPS}")
    print(
        f"integrated gradients: {t_ig:.1f} s ({n / t_ig:.2f} seq/s), mean |delta| "
        f"{np.abs(scores.extra['convergence_delta']).mean():.4f}"
    )
    print(f"plain forward+backward x {N_STEPS}: {t_plain:.1f} s ({n / t_plain:.2f} seq/s)")
    print(f"IG time / plain loop time: {t_ig / t_plain:.2f}")


if __name__ == "__main__":
    main()
