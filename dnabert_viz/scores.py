"""Scores: one value per nucleotide for a set of sequences, in memory or read lazily from a store.

Every score function (attention, attribution, ISM summaries) returns one;
motif discovery and the views read it. One type, two backends for its
arrays (as xarray's): numpy arrays in memory, or a Zarr store written by
``dv.score(..., out="scores.zarr")`` read a block of rows at a time
(:meth:`Scores.open`, :mod:`dnabert_viz.zarr_store`). Selecting sequences
(``scores[:10]``, an index array, a boolean mask) gives Scores again, on the
same backend. ``.npz`` files (:meth:`Scores.save`) are archives without
pickled objects, written atomically (a temporary file in the same folder,
then a rename), with a format version.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .io import check_input_file
from .markup import summary
from .outputs import atomic_write
from .sequences import one_hot, sequence_digest
from .zarr_store import Store, StoredArray, StoredSequences, is_store, read_store

FORMAT_VERSION = 1


@dataclass(repr=False)
class Scores:
    """Per-nucleotide scores.

    Attributes
    ----------
    sequences : list of str
        The scored sequences (normalised); a store's are decoded on access.
    values : numpy.ndarray or StoredArray
        (N, longest length) float32; NaN past each sequence's end. Read from
        the store on indexing (``np.asarray`` reads it whole) when ``store`` is set.
    kind : str
        What the values are: ``cls_attention``, ``integrated_gradients``, ...
    meta : dict
        JSON-serialisable settings (model, layer, heads, target, ...).
    extra : dict of str to numpy.ndarray
        Per-sequence arrays that come with the scores (e.g. IG's
        ``convergence_delta``, (N,); ISM's ``effects``, (N, L, 4)).
    names : list of str, optional
        The sequences' record names (the command line stores those of its
        input file); names may repeat, positions tell sequences apart.
    source : str, optional
        The file the sequences were read from.
    store : Store, optional
        The Zarr store the arrays are read from (path, chunking, runs); None in memory.
    lengths : numpy.ndarray
        (N,) int, each sequence's length (set from ``sequences``).
    """

    sequences: Sequence[str]
    values: np.ndarray | StoredArray
    kind: str
    meta: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    names: list[str] | None = None
    source: str | None = None
    store: Store | None = None
    lengths: np.ndarray = field(init=False, compare=False)

    def __post_init__(self):
        if not len(self.sequences):
            raise ValueError("Scores need at least one sequence (sequences is empty)")
        if self.names is not None and len(self.names) != len(self.sequences):
            raise ValueError(f"{len(self.names)} names for {len(self.sequences)} sequences")
        if isinstance(self.sequences, StoredSequences):
            self.lengths = self.sequences.lengths
        else:
            self.lengths = np.array([len(s) for s in self.sequences], dtype=np.int64)
        if not isinstance(self.values, StoredArray):
            self.values = np.asarray(self.values, dtype=np.float32)
        longest = int(self.lengths.max())
        if self.values.shape != (len(self.sequences), longest):
            raise ValueError(
                f"values has shape {self.values.shape}, expected ({len(self.sequences)}, "
                f"{longest}): one row per sequence, as long as the longest"
            )

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, key) -> np.ndarray | Scores:
        """Scores of sequence ``key`` (an int), (its length,); or Scores of the sequences a slice,
        an index array or a boolean mask selects.

        A selection keeps kind, meta, names, source and backend (a store's
        stays unread); its values and per-position extras are cut to its
        longest sequence, and every extra with one row per sequence is
        selected with them.

        Raises
        ------
        IndexError
            An index out of range, or a mask of another length.
        TypeError
            Any other key (a tuple: index ``scores.values`` for positions).
        ValueError
            A selection of no sequence.
        """
        if isinstance(key, (int, np.integer)):
            i = range(len(self))[key]
            return self.values[i, : int(self.lengths[i])]
        if isinstance(key, slice) or (isinstance(key, (list, np.ndarray)) and np.ndim(key) == 1):
            rows = np.arange(len(self))[np.asarray(key) if isinstance(key, list) else key]
            if not len(rows):
                raise ValueError(f"scores[{key!r}] selects no sequence; Scores hold at least one")
            return self._take(rows)
        raise TypeError(
            f"Scores are indexed by one int (a sequence's scores), a slice, an index array or a "
            f"boolean mask, not {type(key).__name__} {key!r}; positions: scores.values[i, j]"
        )

    def _take(self, rows: np.ndarray) -> Scores:
        """The Scores of sequences ``rows`` (positions), on the same backend."""
        width, full = int(self.lengths[rows].max()), self.values.shape[1]

        def select(a):
            a = a if isinstance(a, StoredArray) else np.asarray(a)
            per_position = a.ndim > 1 and a.shape[1] == full
            if isinstance(a, StoredArray):
                return a.take(rows, width if per_position else None)
            if a.ndim == 0 or len(a) != len(self):  # not one row per sequence
                return a
            return a[rows, :width] if per_position else a[rows]

        sequences = (
            self.sequences.take(rows)
            if isinstance(self.sequences, StoredSequences)
            else [self.sequences[i] for i in rows]
        )
        return Scores(
            sequences,
            select(self.values),
            self.kind,
            dict(self.meta),
            {name: select(a) for name, a in self.extra.items()},
            None if self.names is None else [self.names[i] for i in rows],
            self.source,
            self.store,
        )

    def __repr__(self) -> str:
        span, backend = self._span(), self._backend()
        return f"Scores({self.kind!r}, {len(self)} sequences, {span} nt, {backend})"

    def _span(self) -> str:
        lo, hi = int(self.lengths.min()), int(self.lengths.max())
        return str(hi) if lo == hi else f"{lo}-{hi}"

    def _backend(self) -> str:
        if self.store is None:
            return "in memory"
        where = f"zarr {self.store.path}, chunks of {self.store.chunk_rows} rows"
        selected = isinstance(self.values, StoredArray) and self.values.rows is not None
        return f"{where}, {len(self)} rows selected" if selected else where

    def _repr_html_(self) -> str:
        """A compact summary for notebooks: kind, settings, sequences, values, extras, backend."""
        if isinstance(self.values, StoredArray):
            values = f"{self.values.dtype} {self.values.shape}, not read (lazy)"
        else:
            values = f"{self.values.dtype} {self.values.shape}, {_value_range(self.values)}"
        sequences = f"{len(self)}, {self._span()} nt"
        if self.source:
            sequences += f", from {self.source}"
        rows = [("sequences", sequences), ("values", values)]
        rows += [(f"meta.{k}", _short(v)) for k, v in self.meta.items()]
        for name, a in self.extra.items():
            a = a if isinstance(a, StoredArray) else np.asarray(a)
            rows.append((f"extra.{name}", f"{a.dtype} {a.shape}"))
        rows.append(("backend", self._backend()))
        return summary(f"Scores {self.kind!r}", rows)

    def check_sequences(self, sequences: list[str], name: str = "scores") -> None:
        """Raise unless these scores were computed for exactly ``sequences`` (normalised), in that
        order.

        The one scores-vs-sequences check of the workbench (motif discovery,
        views); the message names ``name``, the first differing index and both counts.
        """
        if len(self.sequences) == len(sequences) and all(
            a == b for a, b in zip(self.sequences, sequences)
        ):
            return
        bad = next(
            (i for i, (a, b) in enumerate(zip(self.sequences, sequences)) if a != b),
            min(len(self), len(sequences)),
        )
        raise ValueError(
            f"{name} were computed for other sequences: sequence {bad} differs "
            f"(first difference at index {bad}; {len(self)} scored vs {len(sequences)} given)"
        )

    @property
    def identity(self) -> SequenceIdentity:
        """What identifies the scored sequences: their digest, count, source file and names (a
        whole store's digest is read from it, nothing decoded)."""
        stored = isinstance(self.sequences, StoredSequences) and self.sequences.digest
        digest = self.sequences.digest if stored else sequence_digest(self.sequences)
        return SequenceIdentity(
            digest, len(self), self.source, None if self.names is None else list(self.names)
        )

    def blocks(self) -> Iterator[np.ndarray]:
        """The values a block of rows at a time, (rows, L) each: one block in memory, a chunk's
        worth of rows each from a store."""
        step = self.values.chunk_rows if isinstance(self.values, StoredArray) else len(self)
        for lo in range(0, len(self), step):
            yield self.values[lo : lo + step]

    @classmethod
    def open(cls, path: str | Path) -> Scores:
        """Open a Zarr store written by ``dv.score(..., out="scores.zarr")`` lazily: values stay on
        disk (:func:`dnabert_viz.zarr_store.read_store` says what is loaded).

        Raises
        ------
        FileNotFoundError
            No such path.
        ValueError
            Naming ``path``: not a scores store, a newer format, or unfinished.
        """
        return cls(**read_store(path))

    def hypothetical(self) -> np.ndarray:
        """The (N, L, 4) hypothetical contributions carried in ``extra["hypothetical"]`` (NaN past
        each end), float32.

        Raises
        ------
        ValueError
            When it carries none (naming its kind and the methods that give them).
        """
        if "hypothetical" not in self.extra:
            raise ValueError(
                f"scores {self.kind!r} carry no hypothetical contributions "
                "(extra['hypothetical']); compute them with a one-hot method (dv.score(m, seqs, "
                "'onehot_gradients'), 'onehot_integrated_gradients', ...) or 'hypothetical_ism', "
                "or read a CNN's with dv.load_ohe"
            )
        return np.asarray(self.extra["hypothetical"], dtype=np.float32)

    def to_numpy_ohe(self) -> tuple[np.ndarray, np.ndarray]:
        """(one-hot, hypothetical contributions), each (N, 4, L) float32, zero past each end.

        The channels-first layout of tangermeme and tfmodisco-lite's command
        line; an ``N`` is an all-zero one-hot column and keeps its
        hypothetical contributions. Needs ``extra["hypothetical"]``.
        """
        hypothetical = np.nan_to_num(self.hypothetical())  # NaN past each end becomes 0
        x = one_hot(list(self.sequences))
        return x.transpose(0, 2, 1).copy(), hypothetical.transpose(0, 2, 1).copy()

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (``.npz``) atomically: the file is complete or absent, never
        half-written."""
        path = Path(path)
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "sequences": np.array(self.sequences),
            "values": self.values,
            "kind": np.array(self.kind),
            "meta": np.array(json.dumps(self.meta)),
        }
        arrays.update({f"extra/{k}": np.asarray(v) for k, v in self.extra.items()})
        if self.names is not None:
            arrays["names"] = np.array(self.names, dtype=str)
        if self.source is not None:
            arrays["source"] = np.array(self.source)
        atomic_write(path, lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> Scores:
        """Read a file written by :meth:`save` (or a named pipe giving one), or open a Zarr store
        lazily (:meth:`open`): a ``.zarr`` name, or any folder holding ``zarr.json``.

        Raises
        ------
        FileNotFoundError
            When ``path`` does not exist.
        ValueError
            Naming ``path``, for a folder, a truncated or corrupt file, or a
            file that is not a Scores file (or one of a newer format).
        """
        if is_store(path) or Path(path, "zarr.json").is_file():
            return cls.open(path)
        path = check_input_file(path)
        if path.is_file():
            source = path
            with open(path, "rb") as handle:
                magic = handle.read(6)
        else:  # a pipe: np.load seeks, so it is read into memory
            source = io.BytesIO(path.read_bytes())
            magic = source.getvalue()[:6]
        if magic[:4] != b"PK\x03\x04" and magic != b"\x93NUMPY":
            raise ValueError(
                f"{path}: not a readable Scores file (not an .npz archive: it starts with "
                f"{magic!r}); Scores files are written by dv.score and dnabert-viz score"
            )
        try:
            archive = np.load(source, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError(
                    f"{path}: not a dnabert_viz Scores file (one array, not an .npz archive)"
                )
            with archive as z:
                return cls._from_archive(z, path)
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
            text = " ".join(str(err).splitlines())
            message = (
                text
                if text.startswith(str(path))
                else f"{path}: not a readable Scores file ({text})"
            )
            raise ValueError(message) from None

    @classmethod
    def _from_archive(cls, z, path: Path) -> Scores:
        if "format_version" not in z:
            raise ValueError(f"{path}: not a dnabert_viz Scores file (no format_version)")
        version = int(z["format_version"])
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path}: Scores format {version} is newer than this dnabert_viz reads "
                f"({FORMAT_VERSION})"
            )
        return cls(
            sequences=[str(s) for s in z["sequences"]],
            values=z["values"],
            kind=str(z["kind"]),
            meta=json.loads(str(z["meta"])),
            extra={k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("extra/")},
            names=[str(n) for n in z["names"]] if "names" in z.files else None,
            source=str(z["source"]) if "source" in z.files else None,
        )


@dataclass(frozen=True)
class SequenceIdentity:
    """What identifies a set of sequences, carried by Scores, motif folders and reports.

    Attributes
    ----------
    digest : str
        The first 16 hex digits of SHA-256 over the sequences, one a line.
    n : int
        Number of sequences.
    source : str or None
        The file they were read from.
    names : list of str or None
        Their record names.
    """

    digest: str
    n: int
    source: str | None = None
    names: list[str] | None = None

    @classmethod
    def of(
        cls, sequences: list[str], source: str | None = None, names: list[str] | None = None
    ) -> SequenceIdentity:
        """The identity of (normalised) ``sequences``."""
        names = None if names is None else list(names)
        return cls(sequence_digest(sequences), len(sequences), source, names)

    def to_meta(self) -> dict:
        """Digest, count and source as a JSON-ready dict (what a motif's ``meta["sequences"]``
        holds)."""
        return {"digest": self.digest, "n": self.n, "source": self.source}

    @classmethod
    def from_meta(cls, meta: dict) -> SequenceIdentity:
        """The inverse of :meth:`to_meta`."""
        return cls(str(meta["digest"]), int(meta["n"]), meta.get("source"))

    def describe(self) -> str:
        """One phrase: ``20 sequences of pos.fa (digest 0123456789abcdef)``."""
        return (
            f"{self.n} sequences{f' of {self.source}' if self.source else ''} (digest "
            f"{self.digest})"
        )

    def check(self, other: SequenceIdentity, mine: str, theirs: str) -> None:
        """Raise ValueError naming ``mine`` and ``theirs`` (e.g. file names) when the sequences
        differ."""
        if self.digest != other.digest:
            raise ValueError(
                f"{mine}: {self.describe()}; {theirs}: {other.describe()}: "
                "not the same sequences, so they do not go together"
            )


def _value_range(values: np.ndarray) -> str:
    """``min … max`` of the finite values, or that there are none."""
    finite = values[np.isfinite(values)]
    return f"{finite.min():.4g} … {finite.max():.4g}" if finite.size else "no finite value"


def _short(value, limit: int = 80) -> str:
    """A meta value as compact JSON, cut to ``limit`` characters."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
