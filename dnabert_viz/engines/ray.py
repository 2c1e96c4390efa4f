"""The Ray engine: the store's pending chunks scored by a Ray Data actor pool, written by this
process.

One dataset row per pending chunk (its index and sequences) goes through
``map_batches`` with an actor pool of ``workers`` actors; each actor gets
the model once (through Ray's object store) and places it on the GPU Ray
assigned it, if any. An actor returns one row per sequence (index, values
padded to the store's width, extras, its process id and peak memory), and
this process, the only writer, assembles the rows of each chunk and writes
it to the store with its done flag. Ray Data restarts an actor that dies
and retries its task (``max_restarts`` / ``max_task_retries`` default to
-1 for actor pools); a chunk whose rows arrive again is not written twice
(counted as ``duplicates_skipped`` in the store's run log). The store may
live on this machine only: workers never touch it.
"""

from __future__ import annotations

import json
import os
import resource

import numpy as np

from ..zarr_store import ScoreStore, pad_rows


class _Scorer:
    """A Ray Data actor: holds the model, scores one chunk per call."""

    def __init__(self, model, function, kwargs: dict, width: int, threads: int):
        import ray
        import torch

        torch.set_num_threads(threads)
        m = ray.get(model) if isinstance(model, ray.ObjectRef) else model
        if ray.get_gpu_ids():
            m.device = torch.device("cuda")
            m.model.to(m.device)
        self.m, self.function, self.kwargs, self.width = m, function, kwargs, width

    def __call__(self, batch: dict) -> dict:
        (chunk,), (lo,), (sequences,) = batch["chunk"], batch["lo"], batch["sequences"]
        scores = self.function(self.m, [str(s) for s in sequences], **self.kwargs)
        values, extras = pad_rows(scores.values, scores.extra, self.width)
        n = len(values)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "chunk": np.full(n, chunk),
            "row": np.arange(lo, lo + n),
            "values": values,
            **{f"extra.{k}": v for k, v in extras.items()},
            "meta": np.array([json.dumps(scores.meta)] * n),
            "pid": np.full(n, os.getpid()),
            "peak_mb": np.full(n, peak_mb),
        }


def score_chunks(
    store: ScoreStore, function, m, sequences: list[str], kwargs: dict, engine, progress: bool
) -> dict:
    """Score the store's pending chunks on Ray; returns the run's details (workers' peak memory in
    MB)."""
    try:
        import ray
    except ImportError:
        raise ValueError("engine='ray' needs Ray: pip install 'dnabert_viz[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=engine.address, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = progress
    pending = store.pending()
    if not pending:
        return {"workers": engine.workers, "worker_peak_mb": {}}
    items = []
    for chunk in pending:
        lo, hi = store.bounds(chunk)
        items.append({"chunk": chunk, "lo": lo, "sequences": sequences[lo:hi]})
    dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _Scorer,
        batch_size=1,
        batch_format="numpy",
        fn_constructor_kwargs={
            "model": ray.put(m),
            "function": function,
            "kwargs": kwargs,
            "width": store.width,
            "threads": max(1, int(engine.cpus_per_worker)),
        },
        compute=ray.data.ActorPoolStrategy(size=engine.workers),
        num_gpus=engine.gpus_per_worker,
        num_cpus=engine.cpus_per_worker,
    )
    parts: dict[int, list[dict]] = {}
    peaks: dict[int, float] = {}
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for pid, mb in zip(batch["pid"], batch["peak_mb"]):
            peaks[int(pid)] = max(peaks.get(int(pid), 0.0), float(mb))
        for chunk in np.unique(batch["chunk"]):
            pick = batch["chunk"] == chunk
            parts.setdefault(int(chunk), []).append({k: v[pick] for k, v in batch.items()})
            _write_when_whole(store, int(chunk), parts)
    if parts:
        raise RuntimeError(
            f"Ray returned incomplete chunks {sorted(parts)}; they stay pending (resume to finish)"
        )
    return {
        "workers": engine.workers,
        "gpus_per_worker": engine.gpus_per_worker,
        "worker_peak_mb": {str(k): round(v, 1) for k, v in sorted(peaks.items())},
    }


def _write_when_whole(store: ScoreStore, chunk: int, parts: dict[int, list[dict]]) -> None:
    """Write ``chunk`` once all of its rows have arrived (each row once: a repeated row is an
    error)."""
    lo, hi = store.bounds(chunk)
    got = {k: np.concatenate([p[k] for p in parts[chunk]]) for k in parts[chunk][0]}
    if len(got["row"]) < hi - lo:
        return
    order = np.argsort(got["row"], kind="stable")
    if not np.array_equal(got["row"][order], np.arange(lo, hi)):
        raise RuntimeError(
            f"chunk {chunk}: rows {got['row'][order].tolist()} arrived for rows {lo}..{hi - 1}"
        )
    del parts[chunk]
    extras = {k.removeprefix("extra."): v[order] for k, v in got.items() if k.startswith("extra.")}
    store.write_chunk(chunk, got["values"][order], extras, json.loads(got["meta"][0]))
