"""Full-size DNABERT-2 (117M parameters, random weights): ``m.embed`` of all 13 hidden states
(the embedding output and 12 layers), per sequence and per nucleotide.

The published config (12 layers x 12 heads, hidden 768) built natively as
in ``dnabert2_throughput.py``; N random sequences of 500 nt (about 110 BPE
tokens each with [CLS]/[SEP]). Each mode runs in its own interpreter, so
each peak RSS is its own:

* ``sequence``: ``layers="all", pool="mean"`` in memory, (13, N, 768);
* ``nucleotide``: ``layers="all", per="nucleotide"`` into a Zarr folder
  (``out=``), (13, N, 500, 768): 20 GB at N = 1,000, past the 4 GiB an
  in-memory result may take.

Wall and CPU (process) time are both printed: on a shared machine the CPU
time is what carries over to an idle one.
Usage: python benchmarks/embed.py [N] [threads] [mode]
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import peak_rss_mb, random_sequences, timed

import dnabert_viz as dv
from dnabert_viz.architectures.dnabert2_checkpoint import (
    build_dnabert2_classifier,
    published_tokenizer,
)


def run(n: int, mode: str) -> None:
    model = build_dnabert2_classifier(hidden_size=768, num_layers=12, num_heads=12, num_labels=2)
    m = dv.DnaModel(model, published_tokenizer(), name="dnabert2-117M-random", device="cpu")
    seqs = random_sequences(n, 500)
    base = peak_rss_mb()
    folder = Path(tempfile.mkdtemp())
    options = dict(layers="all", batch_size=32, progress=False)
    if mode == "nucleotide":
        options.update(per="nucleotide", out=folder / "embeddings.zarr")
    cpu = time.process_time()
    emb, wall = timed(m.embed, seqs, **options)
    cpu = time.process_time() - cpu
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    print(
        f"{mode}: {emb.shape} ({', '.join(emb.dims)}); {wall:.1f} s wall = {n / wall:.2f} seq/s; "
        f"{cpu:.1f} s CPU = {n / cpu:.2f} seq/s per CPU-second; peak RSS {peak_rss_mb():.0f} MB "
        f"({base:.0f} MB before embedding)" + (f"; store {size / 2**30:.2f} GiB" if size else "")
    )
    shutil.rmtree(folder)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    if len(sys.argv) > 3:
        run(n, sys.argv[3])
        return
    print(f"N = {n} x 500 nt, {threads} threads, all 13 hidden states")
    for mode in ("sequence", "nucleotide"):
        subprocess.run([sys.executable, __file__, str(n), str(threads), mode], check=True)


if __name__ == "__main__":
    main()
