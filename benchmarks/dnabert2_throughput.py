"""Full-size DNABERT-2 (117M parameters, random weights): forward throughput and cls_attention peak
memory.

The published config (12 layers x 12 heads, hidden 768, gated MLP 3072, 4,096
BPE tokens) with a 2-class head, built natively; N random sequences of 500 nt
(about 110 BPE tokens each with [CLS]/[SEP]). ``dv.cls_attention`` runs first
(eager attention, the weights read), so the peak RSS it reports is its own;
then ``m.predict`` (sdpa fast path, no weights) over the same sequences.
Wall and CPU (process) time are both printed: on a shared machine the CPU
time is the figure that carries over to an idle one (threads x wall).
Usage: python benchmarks/dnabert2_throughput.py [N] [threads]
"""

import sys
import time

import torch
from common import peak_rss_mb, random_sequences, timed

import dnabert_viz as dv
from dnabert_viz.architectures.dnabert2_checkpoint import (
    build_dnabert2_classifier,
    published_tokenizer,
)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    model = build_dnabert2_classifier(hidden_size=768, num_layers=12, num_heads=12, num_labels=2)
    m = dv.DnaModel(model, published_tokenizer(), name="dnabert2-117M-random", device="cpu")
    n_params = sum(p.numel() for p in model.parameters())
    seqs = random_sequences(n, 500)
    tokens = int(m.encode(seqs).attention_mask.sum())
    base = peak_rss_mb()
    cpu = time.process_time()
    _, attention_s = timed(dv.cls_attention, m, seqs, batch_size=32)
    attention_cpu, cpu = time.process_time() - cpu, time.process_time()
    attention_peak = peak_rss_mb()
    _, forward_s = timed(m.predict, seqs, batch_size=32)
    forward_cpu = time.process_time() - cpu
    print(
        f"model: {n_params / 1e6:.1f} M parameters, {torch.get_num_threads()} threads; "
        f"sequences: {n} x 500 nt, {tokens / n:.1f} tokens each on average"
    )
    print(
        f"forward (predict, sdpa): {forward_s:.1f} s wall = {n / forward_s:.2f} seq/s; "
        f"{forward_cpu:.1f} s CPU = {n / forward_cpu:.2f} seq/s per CPU-second"
    )
    print(
        f"cls_attention (eager, weights read): {attention_s:.1f} s wall = {n / attention_s:.2f} "
        f"seq/s; {attention_cpu:.1f} s CPU = {n / attention_cpu:.2f} seq/s per CPU-second"
    )
    print(
        f"peak RSS: before scoring {base:.0f} MB, after cls_attention {attention_peak:.0f} MB "
        f"(+{attention_peak - base:.0f} MB), at the end {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
