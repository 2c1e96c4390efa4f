"""Engines that run a registered scoring method over many sequences, streaming rows into a Zarr
store.

``dv.score(m, seqs, method, out="scores.zarr")`` runs the :class:`Local`
engine (a loop over chunks of rows in this process); ``engine="ray"`` or
``engine=Ray(workers=8, gpus_per_worker=1, address="auto")`` runs the same
chunks on Ray Data (:mod:`dnabert_viz.engines.ray`). Both write the same
store (:mod:`dnabert_viz.zarr_store`) and return it opened lazily, so
the values are the same whichever engine computed them, and either engine
can resume a run the other started.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass

from ..runtime import show_progress
from ..scores import Scores
from ..zarr_store import is_store, open_for_writing, pad_rows

CHUNK_ROWS = 256


@dataclass(frozen=True)
class Local:
    """Score in this process, ``chunk_rows`` rows at a time (memory: one chunk of results)."""

    chunk_rows: int = CHUNK_ROWS


@dataclass(frozen=True)
class Ray:
    """Score on Ray Data: an actor pool of ``workers`` actors, each loading the model once.

    Parameters
    ----------
    workers : int
        Actors (model copies).
    gpus_per_worker : float
        GPUs Ray assigns to each actor (0: CPU).
    cpus_per_worker : float
        CPUs reserved per actor (torch uses that many threads, at least one).
    address : str, optional
        Cluster to join (``"auto"``: the one ``ray start`` set up here); None
        starts a local one when Ray is not initialised yet.
    chunk_rows : int
        Rows per task and per store chunk.
    """

    workers: int = 1
    gpus_per_worker: float = 0
    cpus_per_worker: float = 1
    address: str | None = None
    chunk_rows: int = CHUNK_ROWS


def resolve(engine: str | Local | Ray) -> Local | Ray:
    """An engine from its name (``"local"``, ``"ray"``) or itself."""
    if isinstance(engine, (Local, Ray)):
        return engine
    if engine == "local":
        return Local()
    if engine == "ray":
        return Ray()
    raise ValueError(
        "engine must be 'local', 'ray', dnabert_viz.engines.Local(...) or Ray(...), not "
        f"{engine!r}"
    )


def run(
    engine: Local | Ray,
    spec,
    m,
    sequences: list[str],
    coordinates: dict | None,
    kwargs: dict,
    out,
    resume: bool,
    progress: bool | None,
) -> Scores:
    """Run ``spec`` over ``sequences`` with ``engine`` into the store ``out``; the store, opened
    lazily.

    ``kwargs`` are the method's keywords (target, batch_size, options); the
    store's fingerprint covers all of them but ``batch_size``.
    """
    if not is_store(out):
        raise ValueError(f"streaming writes a Zarr store: out must end with .zarr (got {out!r})")
    options = {k: v for k, v in kwargs.items() if k != "batch_size"}
    store = open_for_writing(
        out,
        sequences,
        coordinates,
        spec.name,
        engine.chunk_rows,
        fingerprint(m, spec.name, options, sequences, engine.chunk_rows),
        resume,
    )
    # one bar: chunks, not batches
    kwargs, progress = (
        {**kwargs, "progress": False},
        show_progress(progress),
    )
    started, details = time.time(), {}
    try:
        if isinstance(engine, Ray):
            from .ray import score_chunks

            details = score_chunks(
                store, spec.function, _on_cpu(m), sequences, kwargs, engine, progress
            )
        else:
            _score_chunks_here(store, spec.function, m, sequences, kwargs, progress)
    finally:
        store.finish(type(engine).__name__.lower(), started, **details)
    return Scores.open(out)


def _score_chunks_here(
    store, function, m, sequences: list[str], kwargs: dict, progress: bool
) -> None:
    """The local engine: each pending chunk scored and written in turn."""
    from tqdm.auto import tqdm

    for chunk in tqdm(store.pending(), desc="chunks", disable=not progress):
        lo, hi = store.bounds(chunk)
        scores = function(m, sequences[lo:hi], **kwargs)
        values, extras = pad_rows(scores.values, scores.extra, store.width)
        store.write_chunk(chunk, values, extras, scores.meta)


def fingerprint(m, method: str, options: dict, sequences: list[str], chunk_rows: int) -> str:
    """sha256 of what a run computes: model name and size, method, options, chunking and the
    sequences."""
    digest = hashlib.sha256()
    n_parameters = sum(p.numel() for p in m.model.parameters())
    digest.update(
        json.dumps(
            [m.name, n_parameters, method, options, chunk_rows], sort_keys=True, default=str
        ).encode()
    )
    for seq in sequences:
        digest.update(seq.encode() + b"\n")
    return digest.hexdigest()


def _on_cpu(m):
    """``m``, or a CPU copy of it when it is on an accelerator (Ray actors place it on their own
    device)."""
    if m.device.type == "cpu":
        return m
    import torch

    moved = copy.copy(m)
    moved.model = copy.deepcopy(m.model).to("cpu")
    moved.device = torch.device("cpu")
    return moved


__all__ = ["Local", "Ray", "is_store", "resolve", "run"]
