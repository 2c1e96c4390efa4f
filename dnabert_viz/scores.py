"""Scores: one value per nucleotide for a set of sequences, with save and load.

Every score function (attention, attribution, ISM summaries) returns one;
motif discovery and the views read it. Files are ``.npz`` archives without
pickled objects, written atomically (a temporary file in the same folder,
then a rename), with a format version.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .io import check_input_file
from .outputs import atomic_write

FORMAT_VERSION = 1


@dataclass
class Scores:
    """Per-nucleotide scores.

    Attributes
    ----------
    sequences : list of str
        The scored sequences (normalised).
    values : numpy.ndarray
        (N, longest length) float32; NaN past each sequence's end.
    kind : str
        What the values are: ``cls_attention``, ``integrated_gradients``, ...
    meta : dict
        JSON-serialisable settings (model, layer, heads, target, ...).
    extra : dict of str to numpy.ndarray
        Per-sequence arrays that come with the scores (e.g. IG's
        ``convergence_delta``, (N,)).
    names : list of str, optional
        The sequences' record names (the command line stores those of its
        input file); names may repeat, positions tell sequences apart.
    source : str, optional
        The file the sequences were read from.
    """

    sequences: list[str]
    values: np.ndarray
    kind: str
    meta: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    names: list[str] | None = None
    source: str | None = None

    def __post_init__(self):
        if not len(self.sequences):
            raise ValueError("Scores need at least one sequence (sequences is empty)")
        if self.names is not None and len(self.names) != len(self.sequences):
            raise ValueError(f"{len(self.names)} names for {len(self.sequences)} sequences")
        self.values = np.asarray(self.values, dtype=np.float32)
        longest = max(len(s) for s in self.sequences)
        if self.values.shape != (len(self.sequences), longest):
            raise ValueError(
                f"values has shape {self.values.shape}, expected ({len(self.sequences)}, "
                f"{longest}): one row per sequence, as long as the longest"
            )

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> np.ndarray:
        """Scores of sequence ``i``, (len(sequences[i]),)."""
        return self.values[i, : len(self.sequences[i])]

    def __repr__(self) -> str:
        return f"Scores({self.kind!r}, {len(self)} sequences, longest {self.values.shape[1]} nt)"

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
        """What identifies the scored sequences: their digest, count, source file and names."""
        return SequenceIdentity.of(self.sequences, self.source, self.names)

    def blocks(self) -> Iterator[np.ndarray]:
        """The values a block of rows at a time, (rows, L) each: one block here, a chunk each for a
        store."""
        yield self.values

    @classmethod
    def open(cls, path: str | Path) -> Scores:
        """Open a Zarr store written by ``dv.score(..., out="scores.zarr")`` lazily (values stay on
        disk).

        See :class:`dnabert_viz.engines.store.StoredScores` for what is loaded.
        """
        from .engines.store import StoredScores

        return StoredScores(path)

    def to_numpy_ohe(self) -> tuple[np.ndarray, np.ndarray]:
        """(one-hot, hypothetical contributions), each (N, 4, L), zero-padded.

        The layout of tangermeme and tfmodisco-lite (:func:`dnabert_viz.onehot.to_numpy_ohe`);
        needs
        ``extra["hypothetical"]``.
        """
        from .onehot import to_numpy_ohe

        return to_numpy_ohe(self)

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
        if str(path).rstrip("/").endswith(".zarr") or Path(path, "zarr.json").is_file():
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
        digest = hashlib.sha256("\n".join(sequences).encode()).hexdigest()[:16]
        return cls(digest, len(sequences), source, None if names is None else list(names))

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
