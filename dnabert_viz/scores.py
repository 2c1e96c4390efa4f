"""Scores: one value per nucleotide for a set of sequences, with save and load.

Every score function (attention, attribution, ISM summaries) returns one;
motif discovery and the views read it. Files are ``.npz`` archives without
pickled objects, written atomically (a temporary file in the same folder,
then a rename), with a format version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .io import atomic_write

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
    """

    sequences: list[str]
    values: np.ndarray
    kind: str
    meta: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.values = np.asarray(self.values, dtype=np.float32)
        longest = max(len(s) for s in self.sequences)
        if self.values.shape != (len(self.sequences), longest):
            raise ValueError(
                f"values has shape {self.values.shape}, expected ({len(self.sequences)}, {longest}): "
                "one row per sequence, as long as the longest"
            )

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> np.ndarray:
        """Scores of sequence ``i``, (len(sequences[i]),)."""
        return self.values[i, : len(self.sequences[i])]

    def __repr__(self) -> str:
        return f"Scores({self.kind!r}, {len(self)} sequences, longest {self.values.shape[1]} nt)"

    def check_sequences(self, sequences: list[str], name: str = "scores") -> None:
        """Raise unless these scores were computed for exactly ``sequences`` (normalised), in that order.

        The one scores-vs-sequences check of the workbench (motif discovery,
        views); the message names ``name``, the first differing index and both counts.
        """
        if self.sequences == list(sequences):
            return
        bad = next((i for i, (a, b) in enumerate(zip(self.sequences, sequences)) if a != b),
                   min(len(self), len(sequences)))
        raise ValueError(f"{name} were computed for other sequences: sequence {bad} differs "
                         f"(first difference at index {bad}; {len(self)} scored vs {len(sequences)} given)")

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (``.npz``) atomically: the file is complete or absent, never half-written."""
        path = Path(path)
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "sequences": np.array(self.sequences),
            "values": self.values,
            "kind": np.array(self.kind),
            "meta": np.array(json.dumps(self.meta)),
        }
        arrays.update({f"extra/{k}": np.asarray(v) for k, v in self.extra.items()})
        atomic_write(path, lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> Scores:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            if "format_version" not in z:
                raise ValueError(f"{path}: not a dnabert_viz Scores file (no format_version)")
            version = int(z["format_version"])
            if version > FORMAT_VERSION:
                raise ValueError(f"{path}: Scores format {version} is newer than this dnabert_viz reads ({FORMAT_VERSION})")
            return cls(
                sequences=[str(s) for s in z["sequences"]],
                values=z["values"],
                kind=str(z["kind"]),
                meta=json.loads(str(z["meta"])),
                extra={k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("extra/")},
            )
