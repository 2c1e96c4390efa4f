"""The Zarr store: the file format of :class:`~dnabert_viz.Scores` written a chunk of rows at a
time (by the engines, resumably) and read back lazily (:meth:`dnabert_viz.Scores.open`).

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

Reading: :func:`read_store` loads the attributes, the lengths and the 1-D
extras; values, sequences and per-position extras become a
:class:`StoredArray` and :class:`StoredSequences`, read a row or a block of
rows at a time, so a store of any size opens in the memory of its lengths.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sequences import sequence_digest

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


def pad_rows(
    values: np.ndarray, extra: dict[str, np.ndarray], width: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A chunk's values (rows, own width) and extras padded to the store's ``width`` (NaN past the
    end).

    An extra is per-position when its second axis is as long as the chunk's
    values; it is padded like the values. Others are returned as they are.
    """
    rows, own = values.shape

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.full((rows, width, *a.shape[2:]), np.nan, dtype=np.float32)
        out[:, :own] = a
        return out

    extras = {}
    for name, a in extra.items():
        a = np.asarray(a)
        if len(a) != rows:
            raise ValueError(
                f"extra {name!r} has {len(a)} rows for a chunk of {rows}: it cannot be streamed"
            )
        extras[name] = pad(a) if a.ndim >= 2 and a.shape[1] == own else a
    return pad(values), extras


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
                "digest": sequence_digest(sequences),
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


@dataclass(frozen=True)
class Store:
    """Where lazy Scores read their values: a finished store.

    Attributes
    ----------
    path : Path
        The store's folder.
    chunk_rows : int
        Rows per chunk of every array.
    runs : list of dict
        The runs that wrote it: engine, chunks written, duplicates skipped, seconds, ...
    """

    path: Path
    chunk_rows: int
    runs: list


def _expand(key, ndim: int) -> tuple:
    """A numpy index as one entry per axis (``...`` and missing trailing axes become ``:``)."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:at] + (slice(None),) * (ndim - len(key) + 1) + key[at + 1 :]
    return key + (slice(None),) * (ndim - len(key))


class StoredArray:
    """An array of a store read on demand: ``len``, ``shape``, ``dtype``, indexing, ``np.asarray``.

    A view of some of its rows (``rows``, positions in the store) and of its
    first ``width`` columns, made by :meth:`take`, reads only those. Indexing
    is numpy's for ints and slices; index arrays select along each axis on
    its own (Zarr's orthogonal indexing).

    Parameters
    ----------
    array : zarr.Array
        (n, ...) the stored array.
    rows : numpy.ndarray, optional
        (N,) int the store rows this array shows; all by default.
    width : int, optional
        Columns shown of a 2-D or wider array; all by default.
    """

    def __init__(self, array, rows: np.ndarray | None = None, width: int | None = None):
        self.array, self.rows = array, rows
        shape = list(array.shape)
        if rows is not None:
            shape[0] = len(rows)
        if width is not None:
            shape[1] = width
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(array.dtype), len(shape)
        self.chunk_rows = int(array.chunks[0])

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, rows: np.ndarray, width: int | None = None) -> StoredArray:
        """The rows ``rows`` (positions in this array) and the first ``width`` columns, unread."""
        rows = np.asarray(rows, dtype=np.int64)
        stored = rows if self.rows is None else self.rows[rows]
        return StoredArray(self.array, stored, self.shape[1] if width is None else width)

    def __getitem__(self, key) -> np.ndarray:
        if self.rows is None and self.shape == tuple(self.array.shape):
            return np.asarray(self.array[key])
        key = _expand(key, self.ndim)
        first = key[0] if self.rows is None else self.rows[key[0]]
        rest = key[1:]
        if self.ndim > 1 and self.shape[1] != self.array.shape[1]:
            rest = (np.arange(self.shape[1])[rest[0]], *rest[1:])
        return np.asarray(self.array.oindex[(first, *rest)])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype)


class StoredSequences(Sequence):
    """A store's sequences, decoded a chunk at a time (the last chunk read is kept).

    Parameters
    ----------
    codes : zarr.Array
        (n, width) uint8 ASCII codes.
    lengths : numpy.ndarray
        (n,) int32 every stored sequence's length.
    rows : numpy.ndarray, optional
        (N,) int the store rows shown; all by default.
    digest : str, optional
        The shown sequences' digest (:func:`~dnabert_viz.sequences.sequence_digest`), when known.
    """

    def __init__(
        self,
        codes,
        lengths: np.ndarray,
        rows: np.ndarray | None = None,
        digest: str | None = None,
    ):
        self.codes, self.all_lengths, self.rows, self.digest = codes, lengths, rows, digest
        self.lengths = lengths if rows is None else lengths[rows]
        self.chunk_rows = int(codes.chunks[0])
        self._chunk, self._block = -1, []

    def __len__(self) -> int:
        return len(self.lengths)

    def take(self, rows: np.ndarray) -> StoredSequences:
        """The sequences at ``rows`` (positions in this one), undecoded."""
        rows = np.asarray(rows, dtype=np.int64)
        return StoredSequences(
            self.codes, self.all_lengths, rows if self.rows is None else self.rows[rows]
        )

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        row = i if self.rows is None else int(self.rows[i])
        chunk = row // self.chunk_rows
        if chunk != self._chunk:
            lo = chunk * self.chunk_rows
            block = self.codes[lo : lo + self.chunk_rows]
            self._block = [
                codes[:n].tobytes().decode()
                for codes, n in zip(block, self.all_lengths[lo : lo + self.chunk_rows])
            ]
            self._chunk = chunk
        return self._block[row - chunk * self.chunk_rows]


def read_store(path: str | Path) -> dict:
    """The fields of lazy :class:`~dnabert_viz.Scores` over the finished store at ``path``.

    Loaded: the attributes, the lengths (N int32), the coordinates and the
    other 1-D extras (N each). Values, sequences and per-position extras stay
    in the store (:class:`StoredArray`, :class:`StoredSequences`).

    Raises
    ------
    FileNotFoundError
        No such path.
    ValueError
        Naming ``path``: not a scores store, a newer format, or unfinished
        (with how many chunks are missing and how to finish it).
    """
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
            f"{path}: store format {attrs['format_version']} is newer than this dnabert_viz reads"
        )
    if not attrs["complete"]:
        done = group["done"][:]
        raise ValueError(
            f"{path}: unfinished ({int((done == 0).sum())} of {len(done)} chunks missing); "
            "finish it with resume=True (--resume)"
        )
    extra = {}
    for name, array in group["extra"].arrays() if "extra" in group else ():
        if "categories" in array.attrs:
            extra[name] = np.asarray(array.attrs["categories"])[array[:]]
        elif len(array.shape) == 1:
            extra[name] = array[:]
        else:
            extra[name] = StoredArray(array)
    return {
        "sequences": StoredSequences(
            group["sequences"], group["lengths"][:], digest=attrs["digest"]
        ),
        "values": StoredArray(group["values"]),
        "kind": attrs["kind"],
        "meta": dict(attrs["meta"] or {}),
        "extra": extra,
        "source": path.name,
        "store": Store(path, int(attrs["chunk_rows"]), list(attrs["runs"])),
    }
