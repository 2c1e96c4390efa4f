"""Peak memory of dv.cls_attention on 10,000 sequences of 512 tokens.

DNABERT's script preallocates N x layers x 512 x 512 float64 attention; this
streams batches and keeps only the [CLS] row of the requested layer.
Usage: python benchmarks/attention_memory.py [N]
"""

import sys

from common import peak_rss_mb, random_sequences, timed

import dnabert_viz as dv


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    m = dv.load_model(device="cpu")
    length = m.max_tokens - 2 + m.k - 1  # 510 k-mers + [CLS] + [SEP] = 512 tokens
    seqs = random_sequences(n, length)
    base = peak_rss_mb()
    scores, seconds = timed(dv.cls_attention, m, seqs, batch_size=32)
    layers = m.model.config.num_hidden_layers
    dnabert_gb = n * layers * 512 * 512 * 8 / 1e9
    print(f"sequences: {n} x {length} nt = 512 tokens; model: {m}")
    print(
        f"cls_attention: {seconds:.1f} s ({n / seconds:.0f} seq/s), scores "
        f"{scores.values.nbytes / 1e6:.0f} MB"
    )
    print(f"peak RSS: {peak_rss_mb():.0f} MB (before scoring: {base:.0f} MB)")
    print(
        f"DNABERT-style preallocation for this model: {dnabert_gb:.0f} GB; for DNABERT's 12 "
        f"layers: {dnabert_gb * 12 / layers:.0f} GB"
    )


if __name__ == "__main__":
    main()
