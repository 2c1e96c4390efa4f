"""HyenaDNA-tiny on the CPU: load time, forward throughput and the causal-LM scores' cost.

FOLDER is a HyenaDNA checkpoint in the published layout, e.g. one of the two
fine-tuned HyenaDNA-tiny backbones in the PyPI package ``anticapt`` 1.0
(``pip download anticapt==1.0 --no-deps``, unzip, then
``anticapt/models/dataset1/finetuned_hyenadna``). Printed: ``dv.load_model``'s
wall time (transformers already imported, as after any first load), the
embedding throughput (``m.embed``) on N random sequences of 1,024 nt (the
longest the 1k model takes with its [SEP]), and, on a random-weight causal
LM of the same config (FOLDER's backbone has no LM head), the time of
``lm_surprise`` (left context, one forward pass a sequence) and of
``lm_mutation_map`` (3 forward passes a nucleotide) on a few sequences.
Wall and CPU time are both printed: on a shared machine the CPU time is the
figure that carries over to an idle one.
Usage: python benchmarks/hyena.py FOLDER [N] [threads]
"""

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import random_sequences, timed

import dnabert_viz as dv
from dnabert_viz.architectures.hyenadna import HyenaDnaConfig, HyenaDnaForCausalLM


def cpu_timed(fn, *args, **kwargs):
    """(result, wall seconds, process CPU seconds) of one call."""
    cpu = time.process_time()
    out, wall = timed(fn, *args, **kwargs)
    return out, wall, time.process_time() - cpu


def causal_copy(folder: Path, into: Path) -> Path:
    """FOLDER's config and tokenizer with a random-weight causal-LM head: the same network."""
    config = json.loads((folder / "config.json").read_text())
    keys = {k: v for k, v in config.items() if k not in ("auto_map", "architectures", "dtype")}
    torch.manual_seed(0)
    HyenaDnaForCausalLM(HyenaDnaConfig(**keys)).save_pretrained(into)
    shutil.copy(folder / "tokenizer_config.json", into / "tokenizer_config.json")
    return into


def main() -> None:
    folder = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    dv.load_model(folder, device="cpu")  # imports transformers
    m, wall, cpu = cpu_timed(dv.load_model, folder, device="cpu")
    print(f"model: {m}; {sum(p.numel() for p in m.model.parameters()):,} parameters")
    print(f"load_model: {wall:.2f} s wall, {cpu:.2f} s CPU")
    length = m.max_tokens - 1
    seqs = random_sequences(n, length)
    for batch_size in (1, 16):
        _, wall, cpu = cpu_timed(m.embed, seqs, batch_size=batch_size)
        print(
            f"embed, {n} x {length} nt, batch {batch_size}: {wall:.1f} s wall ({n / wall:.1f} "
            f"seq/s, {n * length / wall / 1e3:.0f} knt/s), {cpu:.1f} s CPU"
        )
    with tempfile.TemporaryDirectory() as tmp:
        lm = dv.load_model(causal_copy(folder, Path(tmp)), device="cpu")
        few = random_sequences(16, length, seed=1)
        _, wall, cpu = cpu_timed(dv.score, lm, few, "lm_surprise")
        print(f"lm_surprise, 16 x {length} nt: {wall:.1f} s wall, {cpu:.1f} s CPU")
        short = random_sequences(1, 200, seed=2)
        _, wall, cpu = cpu_timed(dv.score, lm, short, "lm_mutation_map")
        print(f"lm_mutation_map, 1 x 200 nt (601 forwards): {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
