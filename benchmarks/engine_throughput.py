"""Streaming engines: sequences/s of dv.score in memory, into a Zarr store here, on Ray with 1 and
2 workers; peak memory of each Ray worker; traced allocations of the local engine as N grows.

Run from this folder: ``../.venv/bin/python engine_throughput.py [N]`` (default 2048 sequences of
200 nt, [CLS] attention of the embedded demo model, chunks of 256 rows).
"""

import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import peak_rss_mb, random_sequences, timed

import dnabert_viz as dv
from dnabert_viz.engines import Local, Ray


def traced_peak_mb(m, seqs: list[str], out) -> float:
    """Peak of numpy/Python allocations (tracemalloc) while scoring, in MB: results, encodings,
    chunks."""
    tracemalloc.start()
    dv.score(m, seqs, "cls_attention", out=out)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def memory(n: int = 512) -> None:
    """Traced peak for N and 4 N sequences, in memory and into a store (torch's buffers are not
    traced)."""
    m = dv.load_model(device="cpu")
    tmp = Path(tempfile.mkdtemp())
    for size in (n, 4 * n):
        seqs = random_sequences(size, 200)
        print(
            f"N={size}: traced peak in memory {traced_peak_mb(m, seqs, None):.1f} MB, "
            f"local engine into Zarr {traced_peak_mb(m, seqs, tmp / f'{size}.zarr'):.1f} MB"
        )


def main(n: int = 2048) -> None:
    import ray

    print(f"load: {os.getloadavg()}")
    m = dv.load_model(device="cpu")
    seqs = random_sequences(n, 200)
    tmp = Path(tempfile.mkdtemp())
    _, seconds = timed(dv.score, m, seqs, "cls_attention")
    print(f"in memory:          {n / seconds:7.1f} seq/s ({seconds:.1f} s)")
    _, seconds = timed(dv.score, m, seqs, "cls_attention", out=tmp / "local.zarr", engine=Local())
    print(f"local engine, Zarr: {n / seconds:7.1f} seq/s ({seconds:.1f} s)")
    _, seconds = timed(ray.init, num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"ray.init (2 CPUs):  {seconds:.1f} s")
    for workers in (1, 2):
        stored, seconds = timed(
            dv.score,
            m,
            seqs,
            "cls_attention",
            out=tmp / f"ray{workers}.zarr",
            engine=Ray(workers=workers),
        )
        run = stored.store.runs[-1]
        print(
            f"ray, {workers} worker(s):   {n / seconds:7.1f} seq/s ({seconds:.1f} s, actor start "
            f"included); worker peak MB {json.dumps(run['worker_peak_mb'])}"
        )
    ray.shutdown()
    print(f"driver peak RSS {peak_rss_mb():.0f} MB")
    memory()
    print(f"load: {os.getloadavg()}  ({time.strftime('%Y-%m-%d %H:%M')})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["memory"]:
        memory()
    else:
        main(*(int(a) for a in sys.argv[1:]))
