"""Helpers shared by the benchmark scripts: random sequences, peak memory, timing."""

import os
import resource
import time

import numpy as np
import torch

torch.set_num_threads(2)
# else dv.load_model chooses by the machine's load
os.environ.setdefault("DNABERT_VIZ_THREADS", "2")


def random_sequences(n: int, length: int, seed: int = 0) -> list[str]:
    """n uniform random ACGT sequences of one length."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    return [letters[rng.integers(0, 4, length)].tobytes().decode() for _ in range(n)]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start
