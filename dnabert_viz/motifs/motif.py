"""The Motif object: instances, aligned sites, PWM, information content."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..markup import element, to_string
from ..scores import Scores
from ..sequences import ALPHABET, reverse_complement

INSTANCE_COLUMNS = ["sequence_index", "start", "end", "strand", "sequence"]


def site_counts(sites: list[str]) -> np.ndarray:
    """Base counts of equal-length aligned sites, (L, 4) over ACGT; ``N`` counts nowhere.

    Raises
    ------
    ValueError
        When the sites are missing or differ in length.
    """
    if not sites:
        raise ValueError("no sites: a motif needs at least one aligned instance")
    width = len(sites[0])
    for i, site in enumerate(sites):
        if len(site) != width:
            raise ValueError(
                f"site {i} is {len(site)} nt, the first is {width} nt: aligned sites must be "
                "equally long"
            )
    codes = np.frombuffer("".join(sites).encode(), dtype=np.uint8).reshape(len(sites), width)
    letters = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    return (codes[:, :, None] == letters[None, None, :]).sum(axis=0).astype(float)


def information_content(pwm: np.ndarray) -> np.ndarray:
    """Information content of each column against a uniform background, in bits, (L,)."""
    p = np.asarray(pwm, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log2(p), 0.0)
    return 2.0 + plogp.sum(axis=1)


@dataclass
class Motif:
    """A discovered (or read) motif.

    Attributes
    ----------
    name : str
        Its name (DNABERT-viz motifs are named by their seed sequence).
    counts : numpy.ndarray
        (L, 4) base counts over A C G T at each aligned position.
    instances : pandas.DataFrame
        One row per instance: ``sequence_index``, ``start``, ``end`` (0-based,
        end exclusive, in the scanned sequence), ``strand`` and the aligned
        ``sequence`` (reverse-complemented for ``-``). Empty for motifs read
        from a matrix file.
    p_value : float
        Enrichment p-value (BH-adjusted for DNABERT-viz), NaN where none applies.
    method : str
        ``dnabert_viz``, ``seqlets`` or the file format it came from.
    contribution : numpy.ndarray or None
        (L, 4) mean per-nucleotide contribution of the aligned instances
        (seqlets), for contribution-weighted logos.
    meta : dict
        Anything else (merged candidates, thresholds).
    hypothetical : numpy.ndarray or None
        (L, 4) mean hypothetical contributions of the aligned instances
        (modisco's ``hypothetical_contribs``; :func:`hypothetical_cwm` for
        motifs found from Scores that carry ``extra["hypothetical"]``): what
        every base would contribute at each column, for hypothetical logos.
    """

    name: str
    counts: np.ndarray
    instances: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INSTANCE_COLUMNS))
    p_value: float = float("nan")
    method: str = ""
    contribution: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    hypothetical: np.ndarray | None = None

    def __post_init__(self):
        self.counts = np.asarray(self.counts, dtype=float)
        if self.counts.ndim != 2 or self.counts.shape[1] != 4:
            raise ValueError(
                f"motif {self.name!r}: counts must be (L, 4) over ACGT, got {self.counts.shape}"
            )
        if (self.counts.sum(axis=1) <= 0).any():
            raise ValueError(f"motif {self.name!r}: a column has no counts")
        for what in ("contribution", "hypothetical"):
            matrix = getattr(self, what)
            if matrix is not None and np.shape(matrix) != self.counts.shape:
                raise ValueError(
                    f"motif {self.name!r}: {what} has shape {np.shape(matrix)}, counts "
                    f"{self.counts.shape}"
                )

    @classmethod
    def from_sites(cls, name: str, instances: pd.DataFrame, **kwargs) -> Motif:
        """Build a motif from an instance table whose ``sequence`` column holds aligned sites."""
        instances = instances.reset_index(drop=True)[INSTANCE_COLUMNS]
        return cls(name, site_counts(instances["sequence"].tolist()), instances, **kwargs)

    def __len__(self) -> int:
        return len(self.counts)

    def __repr__(self) -> str:
        return (
            f"Motif({self.name!r}, {len(self)} nt, {self.n_instances} instances, "
            f"{self.information_content.sum():.1f} bits, p={self.p_value:.3g})"
        )

    def _repr_html_(self) -> str | None:
        """The motif's card for notebooks: its logo (an inline PNG), instances, p-value, width,
        information, consensus and best JASPAR match; None (the text repr) without
        :data:`draw_cards`."""
        return None if draw_cards is None else to_string(draw_cards([self]))

    @property
    def best_match(self) -> dict | None:
        """The best JASPAR match :func:`dnabert_viz.match_jaspar` found for this motif (its
        table's row: ``jaspar_id``, ``jaspar_name``, ``q_value``, ...), kept in
        ``meta["jaspar"]``; None before matching or when nothing matched."""
        return self.meta.get("jaspar")

    @property
    def n_instances(self) -> int:
        """Number of instances (for a matrix read from a file: its site count)."""
        return len(self.instances) if len(self.instances) else int(round(self.counts[0].sum()))

    @property
    def sequences(self) -> list[str]:
        """The aligned instance sequences."""
        return self.instances["sequence"].tolist()

    def site_scores(self) -> np.ndarray:
        """How well each instance fits the motif: the log-odds, in bits, of its aligned sequence
        under the motif's matrix against a uniform background (counts + 0.25 pseudocount per
        base; an N or a position past the site scores 0), (n_instances,)."""
        counts = self.counts + 0.25
        bits = np.log2(4 * counts / counts.sum(axis=1, keepdims=True))  # (L, 4)
        bits = np.vstack([bits.T, np.zeros(len(bits))]).T  # column 4: N
        codes = {b: i for i, b in enumerate(ALPHABET)}
        return np.array(
            [
                sum(bits[p, codes.get(b, 4)] for p, b in enumerate(site[: len(bits)]))
                for site in self.sequences
            ],
            dtype=float,
        )

    @property
    def pwm(self) -> np.ndarray:
        """Position probability matrix, (L, 4), rows sum to 1."""
        return self.counts / self.counts.sum(axis=1, keepdims=True)

    @property
    def information_content(self) -> np.ndarray:
        """Bits per column against a uniform background, (L,)."""
        return information_content(self.pwm)

    @property
    def consensus(self) -> str:
        """Most frequent base of each column (``N`` where no base has half the column)."""
        pwm = self.pwm
        best = pwm.argmax(axis=1)
        return "".join(ALPHABET[b] if pwm[i, b] >= 0.5 else "N" for i, b in enumerate(best))

    def to_dataframe(self, *, kind: str = "probability") -> pd.DataFrame:
        """The matrix in logomaker's layout: columns A C G T, one row per position.

        Parameters
        ----------
        kind : {"probability", "counts", "information", "contribution", "hypothetical"}
            ``information`` scales each column's probabilities by its bits;
            ``contribution`` is the mean contribution of the aligned instances
            (the CWM), ``hypothetical`` their mean hypothetical contributions;
            ``pwm`` and ``cwm`` are other names for ``probability`` and ``contribution``.
        """
        kind = KIND_NAMES.get(kind, kind)
        if kind in ("contribution", "hypothetical") and getattr(self, kind) is None:
            raise ValueError(
                f"motif {self.name!r} has no {kind} matrix (modisco motifs have both; seqlet "
                "and DNABERT-viz motifs have the hypothetical one when their scores carry "
                "extra['hypothetical'], seqlet motifs always a contribution matrix)"
            )
        matrices = {
            "probability": self.pwm,
            "counts": self.counts,
            "information": self.pwm * self.information_content[:, None],
            "contribution": self.contribution,
            "hypothetical": self.hypothetical,
        }
        if kind not in matrices:
            raise ValueError(
                f"kind must be one of {', '.join([*matrices, *KIND_NAMES])}, not {kind!r}"
            )
        frame = pd.DataFrame(matrices[kind], columns=list(ALPHABET))
        frame.index.name = "pos"
        return frame

    def trimmed(self, *, min_information: float = 0.25) -> Motif:
        """A copy without the flanking columns below ``min_information`` bits.

        Instance coordinates and sequences are cut to the kept columns (on the
        right strand). A motif with no column above the threshold is returned whole.
        """
        keep = np.flatnonzero(self.information_content >= min_information)
        if len(keep) == 0 or (keep[0] == 0 and keep[-1] == len(self) - 1):
            return self
        left, right = int(keep[0]), int(len(self) - 1 - keep[-1])
        inst = self.instances.copy()
        if len(inst):
            plus = (inst["strand"] != "-").to_numpy()
            inst["start"] = inst["start"] + np.where(plus, left, right)
            inst["end"] = inst["end"] - np.where(plus, right, left)
            inst["sequence"] = [s[left : len(s) - right] for s in inst["sequence"]]
        return self._with_columns(
            lambda matrix: matrix[left : len(self) - right],
            inst,
            {**self.meta, "trimmed": [left, right]},
        )

    def reverse_complement(self) -> Motif:
        """The motif read on the other strand (instances keep their coordinates, strands flip)."""
        inst = self.instances.copy()
        if len(inst):
            inst["strand"] = inst["strand"].map({"+": "-", "-": "+"})
            inst["sequence"] = [reverse_complement(s) for s in inst["sequence"]]
        return self._with_columns(lambda matrix: matrix[::-1, ::-1].copy(), inst, dict(self.meta))

    def _with_columns(self, columns, instances: pd.DataFrame, meta: dict) -> Motif:
        """A copy whose (L, 4) matrices (counts, contribution, hypothetical) are
        ``columns(matrix)``."""
        return replace(
            self,
            counts=columns(self.counts),
            instances=instances,
            contribution=None if self.contribution is None else columns(self.contribution),
            hypothetical=None if self.hypothetical is None else columns(self.hypothetical),
            meta=meta,
        )


KIND_NAMES = {"pwm": "probability", "cwm": "contribution"}


def hypothetical_cwm(instances: pd.DataFrame, hypothetical) -> np.ndarray:
    """Mean hypothetical contributions of a motif's instances, (width, 4), read on each one's
    strand.

    Parameters
    ----------
    instances : pandas.DataFrame
        ``sequence_index``, ``start``, ``end``, ``strand`` (equal widths, as a
        :class:`Motif`'s); a ``-`` instance's window is reverse-complemented
        (positions and bases reversed), as its aligned site is.
    hypothetical : array-like
        (N, L, 4) hypothetical contributions (``Scores.extra["hypothetical"]``),
        NaN past each sequence's end; columns past an end, or before its start,
        count as 0 (no base, no contribution), as for modisco's padding.

    Returns
    -------
    numpy.ndarray
        (width, 4); modisco computes its patterns' ``hypothetical_contribs``
        the same way from its seqlets.
    """
    widths = (instances["end"] - instances["start"]).unique()
    if len(widths) != 1:
        raise ValueError(f"instances must be equally wide, got widths {sorted(widths)}")
    width = int(widths[0])
    total = np.zeros((width, 4))
    for row, start, end, strand in instances[
        ["sequence_index", "start", "end", "strand"]
    ].itertuples(index=False):
        seq = np.asarray(hypothetical[int(row)], dtype=float)
        window = np.zeros((width, 4))
        lo, hi = max(0, start), min(end, len(seq))
        window[lo - start : hi - start] = np.nan_to_num(seq[lo:hi])
        total += window[::-1, ::-1] if strand == "-" else window
    return total / max(len(instances), 1)


def instance_table(motifs: list[Motif]) -> pd.DataFrame:
    """All instances of several motifs in one table, with a ``motif`` column (the motif's name)
    first."""
    frames = [m.instances.assign(motif=m.name) for m in motifs if len(m.instances)]
    if not frames:
        return pd.DataFrame(columns=["motif", *INSTANCE_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["motif", *INSTANCE_COLUMNS]]


CARDS_SHOWN = 6  # motifs a MotifSet shows in a notebook (a gallery pages through the rest)
# Motif cards (logo, name, caption) for notebooks, as one HTML element: ``draw_cards(motifs)``.
# A logo is a figure, drawn a layer above this one, so the public API (dnabert_viz/__init__.py)
# sets this to a function that imports plot/cards.py on first use; None leaves text only.
draw_cards: Callable[[list[Motif]], ET.Element] | None = None


class MotifSet(list):
    """Motifs found in one set of sequences: a list of :class:`Motif` that carries what its
    instances index.

    It is a plain list of motifs (iterate, index, ``len``) with two more
    attributes, so a view or a report takes one object. A slice is a
    MotifSet of the same sequences and scores (``motifs[:3]`` keeps its
    gallery's explorer); an index array or a mask raises, as for a list.

    Parameters
    ----------
    motifs : iterable of Motif
    sequences : list of str, optional
        The sequences the instances' ``sequence_index`` refers to.
    scores : Scores, optional
        The per-nucleotide scores of those sequences the motifs were found from.

    Attributes
    ----------
    why_none : str or None
        When :func:`dnabert_viz.find_motifs` found no motif: why, in one
        phrase (the step where the candidates fell out, with what would help).
    """

    def __init__(
        self,
        motifs: Iterable[Motif] = (),
        sequences: list[str] | None = None,
        scores: Scores | None = None,
    ):
        super().__init__(motifs)
        if scores is not None and sequences is not None:
            scores.check_sequences(sequences, "the motifs' scores")
        self.sequences, self.scores = sequences, scores
        self.why_none: str | None = None

    def __getitem__(self, key):
        """Motif ``key`` (an int), or a MotifSet of the slice ``key`` with the same sequences,
        scores and ``why_none``."""
        if not isinstance(key, slice):
            return super().__getitem__(key)
        part = MotifSet(super().__getitem__(key))  # no check: these sequences and scores agree
        part.sequences, part.scores, part.why_none = self.sequences, self.scores, self.why_none
        return part

    def __repr__(self) -> str:
        where = "" if self.sequences is None else f" in {len(self.sequences)} sequences"
        return (
            f"MotifSet({len(self)} motifs{where}: "
            f"{', '.join(m.name for m in self[:5])}{', ...' if len(self) > 5 else ''})"
        )

    def _repr_html_(self) -> str:
        """A summary for notebooks: how many motifs, in which sequences, from which scores, and
        the cards (:meth:`Motif._repr_html_`) of the first :data:`CARDS_SHOWN`."""
        head = f"MotifSet: {len(self)} motif{'s' * (len(self) != 1)}"
        if self.sequences is not None:
            head += f" in {len(self.sequences)} sequences"
        if self.scores is not None:
            head += f", from scores {self.scores.kind!r}"
        parts = [element("b", head)]
        if not len(self) and self.why_none:
            parts.append(element("div", f"none found: {self.why_none}"))
        if len(self) and draw_cards is not None:
            parts.append(draw_cards(list(self)[:CARDS_SHOWN]))
        if len(self) > CARDS_SHOWN:
            parts.append(
                element(
                    "div",
                    f"... {len(self) - CARDS_SHOWN} more: dv.widgets.MotifGallery(motifs) pages "
                    "through them all",
                )
            )
        return to_string(element("div", children=parts))
