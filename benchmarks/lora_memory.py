"""LoRA against full fine-tuning on a full-size DNABERT-2 (117M parameters, random weights), one
batch on the CPU: trainable parameters and peak memory.

Each mode runs in its own interpreter (peak RSS is per process): the published config (12
layers x 12 heads, hidden 768, 4,096 BPE tokens) with a 2-class head, built natively, then
``dv.fine_tune`` for one epoch of one batch (``--batch`` random 101-nt sequences, the GUE
length, plus a validation share of 2), with LoRA's defaults (r 8 on every linear layer of the
encoder, the head in full) or in full. Peak RSS before fine-tuning (torch + model) and after
(the forward, backward and AdamW step of the batch, its validation and the merge) are printed
with the trainable parameters and the process CPU seconds.

    DNABERT_VIZ_THREADS=1 nice -n 10 python lora_memory.py
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
from common import peak_rss_mb, random_sequences

import dnabert_viz as dv
from dnabert_viz.architectures.dnabert2_checkpoint import (
    build_dnabert2_classifier,
    published_tokenizer,
)


def measure(mode: str, batch: int) -> None:
    """One mode in this process; prints a tab-separated row."""
    import torch

    torch.set_num_threads(int(os.environ["DNABERT_VIZ_THREADS"]))
    model = build_dnabert2_classifier(hidden_size=768, num_layers=12, num_heads=12, num_labels=2)
    m = dv.DnaModel(model, published_tokenizer(), name="dnabert2-117M-random", device="cpu")
    seqs = random_sequences(batch + 2, 101)
    labels = np.arange(batch + 2) % 2
    before, cpu = peak_rss_mb(), time.process_time()
    tuned = dv.fine_tune(
        m,
        seqs,
        labels,
        lora=mode == "lora",
        epochs=1,
        batch_size=batch,
        validation_fraction=2 / (batch + 2),
        max_minutes=None,
        progress=False,
    )
    attrs = tuned.history.attrs
    print(
        f"{mode}\t{attrs['parameters']}\t{attrs['trainable_parameters']}\t{before:.0f}"
        f"\t{peak_rss_mb():.0f}\t{time.process_time() - cpu:.0f}\t{os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--mode", choices=["full", "lora"], help="one mode in this process")
    args = parser.parse_args()
    if args.mode:
        measure(args.mode, args.batch)
        return
    print("mode\tparameters\ttrainable\tpeak RSS before MB\tpeak RSS after MB\tCPU s\tload")
    for mode in ("full", "lora"):
        command = [sys.executable, __file__, "--mode", mode, "--batch", str(args.batch)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
