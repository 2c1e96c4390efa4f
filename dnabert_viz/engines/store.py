"""The Zarr v3 store that streamed scores are written to, chunk by chunk, and read back lazily.

Layout of ``scores.zarr`` (one Zarr v3 group)::

    values          float32 (N, L)      NaN past each sequence's end; L = the longest sequence
    lengths         int32   (N,)
    sequences       uint8   (N, L)      ASCII codes, 0 past each end
    extra/<name>    the method's per-sequence arrays: per-position ones padded to L with NaN
                    (ISM's effects: (N, L, 4)), others as they are (IG's convergence_delta: (N,))
    extra/chrom ... coordinates of intervals (read_intervals): chrom and strand as int codes
                    (their names in the array's attributes), start and end as int64
    done            uint8   (n_chunks,) 1 once every array's rows of that chunk are written

Every array is chunked by ``chunk_rows`` rows; the group's attributes hold
the format version, the kind, the method's meta, the chunking, a
fingerprint of what is being computed and a log of the runs that wrote it.

Resuming: a chunk's ``done`` flag is written after all of its rows (Zarr's
local store writes each chunk file through a temporary file and a rename,
so a killed process leaves whole files or none); a chunk without the flag
is recomputed and never read, a chunk with it is never recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..scores import Scores, SequenceIdentity

FORMAT = "dnabert_viz.scores"
FORMAT_VERSION = 1
CATEGORICAL = ("chrom", "strand")


def _check_store(path: Path) -> Path:
    """``path``, checked to be a Zarr store: a ValueError naming it otherwise (Zarr's own error
    names no file)."""
    if not (path / "zarr.json").is_file():
        raise ValueError(
            f"{path}: not a Zarr store (no zarr.json in it); scores stores are written by "
            "dv.score(..., out='scores.zarr') and dnabert-viz score --out scores.zarr"
        )
    return path


def is_store(path) -> bool:
    """Whether ``path`` names a Zarr store (a ``.zarr`` name)."""
    return path is not None and str(path).rstrip("/").endswith(".zarr")


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


def pad_rows(scores: Scores, width: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A chunk's values and extras padded to the store's ``width`` (NaN past the end).

    An extra is per-position when its second axis is as long as the chunk's
    values; it is padded like the values. Others are returned as they are.
    """
    rows, own = scores.values.shape

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.full((rows, width, *a.shape[2:]), np.nan, dtype=np.float32)
        out[:, :own] = a
        return out

    extras = {}
    for name, a in scores.extra.items():
        a = np.asarray(a)
        if len(a) != rows:
            raise ValueError(
                f"extra {name!r} has {len(a)} rows for a chunk of {rows}: it cannot be streamed"
            )
        extras[name] = pad(a) if a.ndim >= 2 and a.shape[1] == own else a
    return pad(scores.values), extras


class ScoreStore:
    """A scores store being written (see the module docstring for the layout).

    Use :meth:`create` or :meth:`resume` (through :func:`open_for_writing`);
    then :meth:`pending`, :meth:`write_chunk` and :meth:`finish`.
    """

    def __init__(self, group, path: Path):
        self.group, self.path = group, path
        attrs = group.attrs
        self.n, self.width, self.chunk_rows = attrs["n"], attrs["width"], attrs["chunk_rows"]
        self.n_chunks = -(-self.n // self.chunk_rows)
        self.writes = 0
        self.duplicates = 0

    @classmethod
    def create(
        cls,
        path: Path,
        sequences: list[str],
        coordinates: dict | None,
        kind: str,
        chunk_rows: int,
        run_key: str,
    ) -> ScoreStore:
        import zarr

        n, width = len(sequences), max(len(s) for s in sequences)
        group = zarr.open_group(str(path), mode="w-", zarr_format=3)
        group.attrs.update(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kind": kind,
                "meta": None,
                "n": n,
                "width": width,
                "chunk_rows": chunk_rows,
                "fingerprint": run_key,
                "complete": False,
                "runs": [],
                "digest": SequenceIdentity.of(sequences).digest,
            }
        )
        group.create_array(
            "values",
            shape=(n, width),
            chunks=(chunk_rows, width),
            dtype="float32",
            fill_value=np.nan,
        )
        lengths = group.create_array(
            "lengths", shape=(n,), chunks=(chunk_rows,), dtype="int32", fill_value=0
        )
        codes = group.create_array(
            "sequences", shape=(n, width), chunks=(chunk_rows, width), dtype="uint8", fill_value=0
        )
        group.create_array(
            "done", shape=(-(-n // chunk_rows),), chunks=(1,), dtype="uint8", fill_value=0
        )
        for lo in range(0, n, chunk_rows):
            block = sequences[lo : lo + chunk_rows]
            lengths[lo : lo + len(block)] = [len(s) for s in block]
            codes[lo : lo + len(block)] = encode(block, width)
        for name, a in (coordinates or {}).items():
            _write_coordinate(group, name, a, chunk_rows)
        return cls(group, path)

    @classmethod
    def resume(cls, path: Path, run_key: str) -> ScoreStore:
        import zarr

        group = zarr.open_group(str(_check_store(path)), mode="r+")
        if group.attrs.get("format") != FORMAT:
            raise ValueError(f"{path}: not a dnabert_viz scores store")
        if group.attrs["fingerprint"] != run_key:
            raise ValueError(
                f"{path} was started for another model, method, options, chunking or other "
                "sequences; resume it with the same ones, or delete it to start again"
            )
        return cls(group, path)

    def bounds(self, chunk: int) -> tuple[int, int]:
        """Rows ``[lo, hi)`` of a chunk."""
        return chunk * self.chunk_rows, min(self.n, (chunk + 1) * self.chunk_rows)

    def pending(self) -> list[int]:
        """Chunks not yet written (their ``done`` flag is 0)."""
        return np.flatnonzero(self.group["done"][:] == 0).tolist()

    def write_chunk(
        self, chunk: int, values: np.ndarray, extras: dict[str, np.ndarray], meta: dict
    ) -> bool:
        """Write a chunk's padded rows (:func:`pad_rows`), then its done flag; False if done
        already."""
        done = self.group["done"]
        if done[chunk]:
            self.duplicates += 1
            return False
        lo, hi = self.bounds(chunk)
        if values.shape != (hi - lo, self.width):
            raise ValueError(
                f"chunk {chunk}: values {values.shape}, expected {(hi - lo, self.width)}"
            )
        if self.group.attrs["meta"] is None:
            self.group.attrs["meta"] = meta
        self.group["values"][lo:hi] = values
        for name, a in extras.items():
            key = f"extra/{name}"
            if key not in self.group:
                self.group.create_array(
                    key,
                    shape=(self.n, *a.shape[1:]),
                    chunks=(self.chunk_rows, *a.shape[1:]),
                    dtype=a.dtype,
                    fill_value=np.nan if a.dtype.kind == "f" else 0,
                )
            self.group[key][lo:hi] = a
        done[chunk] = 1
        self.writes += 1
        return True

    def finish(self, engine: str, started: float, **details) -> None:
        """Log this run in the attributes; mark the store complete when no chunk is pending."""
        runs = list(self.group.attrs["runs"])
        runs.append(
            {
                "engine": engine,
                "chunks_written": self.writes,
                "duplicates_skipped": self.duplicates,
                "seconds": round(time.time() - started, 3),
                **details,
            }
        )
        self.group.attrs.update({"runs": runs, "complete": not self.pending()})


def encode(sequences: Sequence[str], width: int) -> np.ndarray:
    """ASCII codes of sequences, (n, width) uint8, 0 past each end."""
    out = np.zeros((len(sequences), width), dtype=np.uint8)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = np.frombuffer(s.encode(), dtype=np.uint8)
    return out


def _write_coordinate(group, name: str, a: np.ndarray, chunk_rows: int) -> None:
    a = np.asarray(a)
    if name in CATEGORICAL:
        names, codes = np.unique(a.astype(str), return_inverse=True)
        array = group.create_array(
            f"extra/{name}", shape=a.shape, chunks=(chunk_rows,), dtype="int32"
        )
        array.attrs["categories"] = names.tolist()
        array[:] = codes.astype(np.int32)
    else:
        array = group.create_array(
            f"extra/{name}", shape=a.shape, chunks=(chunk_rows,), dtype=a.dtype
        )
        array[:] = a


def open_for_writing(
    path,
    sequences: list[str],
    coordinates: dict | None,
    kind: str,
    chunk_rows: int,
    run_key: str,
    resume: bool,
) -> ScoreStore:
    """A store to write: a new one, or with ``resume`` the unfinished (or absent) one at ``path``.

    Raises
    ------
    ValueError
        ``path`` exists and ``resume`` is False (the message says how many
        chunks it holds and the two ways on), or it was started for other input.
    """
    path = Path(path)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    if path.exists():
        if not resume:
            raise ValueError(
                f"{path} exists: pass resume=True (--resume) to continue or reuse it, "
                "or delete it to start again"
            )
        return ScoreStore.resume(path, run_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    # made whole, then renamed: never half-created
    building = path.with_name(f".{path.name}.creating")
    shutil.rmtree(building, ignore_errors=True)
    ScoreStore.create(building, sequences, coordinates, kind, chunk_rows, run_key)
    os.replace(building, path)
    return ScoreStore.resume(path, run_key)


class Rows:
    """Rows of a Zarr array read on demand: ``len``, ``shape``, ``dtype``, numpy indexing,
    ``np.asarray``."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, np.dtype(array.dtype), len(array.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        return np.asarray(self.array[key])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.array[...]
        return out if dtype is None else out.astype(dtype)


class StoredSequences(Sequence):
    """The store's sequences, decoded a chunk at a time (the last chunk read is kept)."""

    def __init__(self, codes, lengths: np.ndarray, chunk_rows: int):
        self.codes, self.lengths, self.chunk_rows = codes, lengths, chunk_rows
        self._chunk, self._block = -1, []

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        chunk = i // self.chunk_rows
        if chunk != self._chunk:
            lo = chunk * self.chunk_rows
            block = self.codes[lo : lo + self.chunk_rows]
            self._block = [
                row[:n].tobytes().decode()
                for row, n in zip(block, self.lengths[lo : lo + self.chunk_rows])
            ]
            self._chunk = chunk
        return self._block[i - chunk * self.chunk_rows]


class StoredScores(Scores):
    """Scores read lazily from a finished store (:meth:`dnabert_viz.Scores.open`).

    What is loaded on opening: the attributes, the lengths (N int32) and the
    coordinates (N each) and 1-D extras. Values, sequences and per-position
    extras stay in the store and are read a row (``scores[i]``) or a block
    of rows (``scores.values[lo:hi]``) at a time; ``np.asarray(scores.values)``
    loads them whole.
    """

    def __init__(self, path: str | Path):
        import zarr

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such scores store")
        group = zarr.open_group(str(_check_store(path)), mode="r")
        attrs = group.attrs
        if attrs.get("format") != FORMAT:
            raise ValueError(f"{path}: not a dnabert_viz scores store")
        if attrs["format_version"] > FORMAT_VERSION:
            raise ValueError(
                f"{path}: store format {attrs['format_version']} is newer than this "
                "dnabert_viz reads"
            )
        if not attrs["complete"]:
            done = group["done"][:]
            raise ValueError(
                f"{path}: unfinished ({int((done == 0).sum())} of {len(done)} chunks missing); "
                "finish it with resume=True (--resume)"
            )
        self.path, self.chunk_rows, self.runs = path, attrs["chunk_rows"], attrs["runs"]
        self.kind, self.meta = attrs["kind"], dict(attrs["meta"] or {})
        self.names, self.source, self._digest = None, path.name, attrs["digest"]
        self.values = Rows(group["values"])
        self.sequences = StoredSequences(group["sequences"], group["lengths"][:], self.chunk_rows)
        self.extra = {}
        for name, array in group["extra"].arrays() if "extra" in group else ():
            if "categories" in array.attrs:
                self.extra[name] = np.asarray(array.attrs["categories"])[array[:]]
            elif len(array.shape) == 1:
                self.extra[name] = array[:]
            else:
                self.extra[name] = Rows(array)

    @property
    def identity(self) -> SequenceIdentity:
        """The sequences' identity, from the digest stored when the store was made (nothing
        decoded)."""
        return SequenceIdentity(self._digest, len(self), self.source, None)

    def __getitem__(self, i: int) -> np.ndarray:
        """Scores of sequence ``i``, (its length,), read from the store."""
        return self.values[i, : int(self.sequences.lengths[i])]

    def blocks(self) -> Iterator[np.ndarray]:
        """The values a chunk of rows at a time, (chunk_rows, L) each (the last may be shorter)."""
        for lo in range(0, len(self), self.chunk_rows):
            yield self.values[lo : lo + self.chunk_rows]

    def __repr__(self) -> str:
        longest = self.values.shape[1]
        return (
            f"StoredScores({self.kind!r}, {len(self)} sequences, longest {longest} nt, "
            f"{self.path})"
        )
