"""The embedded demo data: sequences with three planted JASPAR motifs, labels, split and truth.

Positives (label 1) are 100-200 nt of human-like background (A/T 0.29,
C/G 0.21) holding one or two instances, on either strand, of

* MA0139.2 CTCF (15 nt), the insulator protein DNABERT-viz showed first,
* MA0108.3 TBP (7 nt), the TATA box of core promoters,
* MA0106.3 TP53 (18 nt), a long palindromic dimer site,

sampled from their JASPAR 2026 matrices; negatives (label 0) are
dinucleotide shuffles of positives that hold no hit of any of the three (see
:mod:`dnabert_viz.synthetic`). ``scripts/make_demo_data.py`` rebuilds the
files with :func:`make_demo_data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .synthetic import PlantedMotif, jaspar_motif, plant_motifs

DEMO_DATA = Path(__file__).parent / "data" / "demo"
DEMO_MOTIFS = ("MA0139.2", "MA0108.3", "MA0106.3")


@dataclass
class DemoData:
    """Demo sequences and their ground truth.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per sequence: ``sequence``, ``label``, ``split`` (``train`` or ``heldout``).
    planted : pandas.DataFrame
        One row per planted instance: ``sequence_index`` (row of ``table``),
        ``start``, ``end`` (0-based, end exclusive), ``motif_id``, ``name``,
        ``strand``, ``site``.
    motifs : list of PlantedMotif
        The planted matrices.
    """

    table: pd.DataFrame
    planted: pd.DataFrame
    motifs: list[PlantedMotif]

    def sequences(self, split: str | None = None, label: int | None = None) -> list[str]:
        """Sequences of a split (``train``, ``heldout`` or None for all) and label (or None for
        both)."""
        return self.table.sequence[self._rows(split, label)].tolist()

    def labels(self, split: str | None = None) -> np.ndarray:
        """Labels of a split, (N,) int."""
        return self.table.label[self._rows(split, None)].to_numpy()

    def indices(self, split: str | None = None, label: int | None = None) -> np.ndarray:
        """Row numbers in ``table`` of a split and label, in the order :meth:`sequences` gives
        them."""
        return np.flatnonzero(self._rows(split, label))

    def truth_mask(self, rows: np.ndarray) -> np.ndarray:
        """Boolean (len(rows), longest length) mask of planted nucleotides of the given table
        rows."""
        lengths = self.table.sequence.str.len().to_numpy()[rows]
        mask = np.zeros((len(rows), int(lengths.max())), dtype=bool)
        where = {r: i for i, r in enumerate(rows)}
        for r in self.planted.itertuples():
            if r.sequence_index in where:
                mask[where[r.sequence_index], r.start : r.end] = True
        return mask

    def recovery(self, matches: pd.DataFrame, *, q_cutoff: float = 0.05) -> pd.DataFrame:
        """Which discovered motifs recover a planted one, from :func:`dnabert_viz.match_jaspar`'s
        table.

        A discovered motif recovers a planted motif when its best JASPAR match
        is the planted matrix or a matrix of the same TF family, with q below
        ``q_cutoff``; any other motif is spurious.

        Returns
        -------
        pandas.DataFrame
            One row per discovered motif: ``motif``, ``jaspar_id``,
            ``jaspar_name``, ``q_value``, ``planted`` (the recovered planted id,
            or None) and ``spurious``.
        """
        from .motifs.jaspar import best_matches, jaspar_matrices

        family = {m.matrix_id: m.family for m in jaspar_matrices()}
        planted_family = {m.motif_id: family.get(m.motif_id) for m in self.motifs}
        best = best_matches(matches)[["motif", "jaspar_id", "jaspar_name", "q_value"]]

        def which(row) -> str | None:
            if not row.q_value < q_cutoff:
                return None
            for planted_id, fam in planted_family.items():
                if row.jaspar_id == planted_id or (fam and family.get(row.jaspar_id) == fam):
                    return planted_id
            return None

        out = best.reset_index(drop=True)
        out["planted"] = [which(r) for r in out.itertuples()]
        out["spurious"] = out["planted"].isna()
        return out

    def _rows(self, split, label) -> np.ndarray:
        if split not in (None, "train", "heldout"):
            raise ValueError(f"split must be 'train', 'heldout' or None, got {split!r}")
        keep = np.ones(len(self.table), dtype=bool)
        if split is not None:
            keep &= (self.table.split == split).to_numpy()
        if label is not None:
            keep &= (self.table.label == label).to_numpy()
        return keep

    def save(self, folder: str | Path) -> None:
        """Write ``sequences.tsv``, ``planted.tsv`` and ``motifs.json`` to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.table.to_csv(folder / "sequences.tsv", sep="\t", index=False)
        self.planted.to_csv(folder / "planted.tsv", sep="\t", index=False)
        motifs = [
            {"motif_id": m.motif_id, "name": m.name, "pwm": m.pwm.round(6).tolist()}
            for m in self.motifs
        ]
        (folder / "motifs.json").write_text(json.dumps(motifs, indent=1))


def load_demo(folder: str | Path = DEMO_DATA) -> DemoData:
    """Read the demo data shipped with the package (or written by :meth:`DemoData.save`)."""
    folder = Path(folder)
    motifs = [
        PlantedMotif(m["motif_id"], m["name"], np.array(m["pwm"]))
        for m in json.loads((folder / "motifs.json").read_text())
    ]
    return DemoData(
        pd.read_csv(folder / "sequences.tsv", sep="\t"),
        pd.read_csv(folder / "planted.tsv", sep="\t"),
        motifs,
    )


def make_demo_data(n_train: int = 10000, n_heldout: int = 1000, seed: int = 0) -> DemoData:
    """Generate the demo data: balanced classes, the last ``n_heldout`` rows held out.

    Parameters
    ----------
    n_train, n_heldout : int
        Sequences in each split (half positive, half negative).
    seed : int
        Random seed; the shipped data uses 0.
    """
    motifs = [jaspar_motif(m) for m in DEMO_MOTIFS]
    n = n_train + n_heldout
    table, planted = plant_motifs(motifs, n_positive=n // 2, n_negative=n - n // 2, seed=seed)
    table["split"] = np.where(np.arange(n) < n_train, "train", "heldout")
    return DemoData(table, planted, motifs)
