"""Scores back onto the genome: bedGraph and bigWig tracks, BED files of intervals.

Scores of windows read by :func:`dnabert_viz.read_intervals` (or a Zarr store
scored from them) carry each window's ``chrom``, ``start``, ``end`` and
``strand`` in ``extra``. :func:`genome_track` lays a window's values onto
the genome: position ``j`` of a ``+`` (or ``.``) window is base
``start + j``; of a ``-`` window (whose sequence was reverse-complemented)
base ``end - 1 - j``, and its four per-base channels (A, C, G, T) swap to
their complements (T, G, C, A). **Overlapping windows are merged by the
mean**: a base's value is the mean of the finite values of the windows
covering it (NaN values, past a sequence's end, do not count); a base no
window covers has no entry.

:func:`write_tracks` writes one file per track: the scores (``NAME``), and
where the Scores carry (N, L, 4) hypothetical contributions
(``extra["hypothetical"]``) or ISM effects (``extra["effects"]``) four more,
one per base (``NAME.hypothetical.A`` ...), and, for hypothetical
contributions, the dynseq track ``NAME.dynseq``: the contribution of the
reference base at every base (what a genome browser's dynseq view scales
each letter by). bigWig headers take the chromosome sizes of the genome
FASTA's ``.fai`` index (:func:`chrom_sizes`). :func:`write_bed` writes
intervals (motif instances, hits) as BED6.

Bad input (a window on a chromosome the genome does not have, one past a
chromosome's end, one whose length is not its sequence's, Scores without
coordinates) is one error naming the window (index, name and coordinates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .intervals import COORDINATES, open_genome
from .outputs import atomic_path, atomic_write
from .sequences import ALPHABET, one_hot

FORMATS = {"bigwig": ".bw", "bedgraph": ".bedGraph"}
"""Track formats :func:`write_tracks` writes, and their file suffixes."""

PER_BASE = ("hypothetical", "effects")
"""The (N, L, 4) extras written as four tracks, one per base."""


@dataclass
class Track:
    """One genome track: merged values at the bases windows cover.

    Attributes
    ----------
    name : str
        The track's name (file stem, bedGraph ``name=``).
    chroms : dict of str to (positions, values)
        Per chromosome, in first-seen order: sorted 0-based positions (int64)
        and their merged values (float32), both (n,).
    """

    name: str
    chroms: dict[str, tuple[np.ndarray, np.ndarray]]

    def runs(self, chrom: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, values) of ``chrom``: consecutive bases with the same value joined
        into one run, as bedGraph lines are."""
        positions, values = self.chroms[chrom]
        if not len(positions):
            return positions, positions, values
        new = np.ones(len(positions), dtype=bool)
        new[1:] = (np.diff(positions) != 1) | (values[1:] != values[:-1])
        starts = np.flatnonzero(new)
        ends = np.append(starts[1:], len(positions))
        return positions[starts], positions[ends - 1] + 1, values[starts]


def coordinates(scores, what: str | None = None) -> dict[str, np.ndarray]:
    """The windows' ``chrom``, ``start``, ``end``, ``strand`` (each (N,)) that ``scores``
    carry.

    Raises
    ------
    ValueError
        Scores without them, naming ``what`` (a file) or the scores' source and kind.
    """
    missing = [c for c in COORDINATES if c not in scores.extra]
    if missing:
        where = what or (f"scores of {scores.source}" if scores.source else "these scores")
        raise ValueError(
            f"{where} ({scores.kind}) carry no genome coordinates (no {', '.join(missing)}): "
            "score the table read_intervals(...) returns (or dnabert-viz score --bed), not "
            "bare sequences"
        )
    return {c: np.asarray(scores.extra[c]) for c in COORDINATES}


def _window(scores, i: int, coords: dict[str, np.ndarray]) -> str:
    """``window 3 (peak7, chr1:100-300 -)``: how errors name a window."""
    name = f"{scores.names[i]}, " if scores.names else ""
    c = {k: coords[k][i].item() for k in COORDINATES}
    return f"window {i} ({name}{c['chrom']}:{c['start']}-{c['end']} {c['strand']})"


def check_windows(scores, sizes: dict[str, int] | None = None, what: str | None = None) -> None:
    """Raise unless every window has its sequence's length and, given ``sizes``, lies on a
    chromosome of the genome, inside it.

    Raises
    ------
    ValueError
        Naming ``what`` (a file), the first bad window and what is wrong with it.
    """
    coords = coordinates(scores, what)
    prefix = f"{what}: " if what else ""
    width = coords["end"] - coords["start"]
    bad = np.flatnonzero(width != scores.lengths)
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"{prefix}{_window(scores, i, coords)} spans {width[i]} nt but its sequence has "
            f"{scores.lengths[i]}: the coordinates are not those of the scored sequences"
        )
    if sizes is None:
        return
    for i, (chrom, end) in enumerate(zip(coords["chrom"].tolist(), coords["end"].tolist())):
        if chrom not in sizes:
            listed = ", ".join(list(sizes)[:5]) + (", ..." if len(sizes) > 5 else "")
            raise ValueError(
                f"{prefix}{_window(scores, i, coords)}: chromosome {chrom!r} is not in the "
                f"genome ({len(sizes)}: {listed})"
            )
        if end > sizes[chrom] or coords["start"][i] < 0:
            raise ValueError(
                f"{prefix}{_window(scores, i, coords)} runs past the end of {chrom} "
                f"({sizes[chrom]} nt in the genome)"
            )


def genome_track(scores, values: np.ndarray | None = None, *, name: str | None = None) -> Track:
    """Lay per-window values onto the genome, overlapping windows merged by the mean.

    Parameters
    ----------
    scores : Scores
        Scores with coordinates (:func:`coordinates`), in memory or a store's
        (read a block of rows at a time).
    values : numpy.ndarray, optional
        (N, L) values in the windows' sequence orientation; default
        ``scores.values``.
    name : str, optional
        The track's name; default ``scores.kind``.

    Returns
    -------
    Track
        Position ``j`` of window ``(chrom, start, end, strand)`` is base
        ``start + j``, or ``end - 1 - j`` on ``-``; a base's value is the mean
        of the finite values of the windows covering it.
    """
    coords = coordinates(scores)
    check_windows(scores)
    per_chrom: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    lo = 0
    blocks = scores.blocks() if values is None else [np.asarray(values)]
    for block in blocks:
        for r in range(len(block)):
            i = lo + r
            n, start = int(scores.lengths[i]), int(coords["start"][i])
            row = np.asarray(block[r, :n], dtype=np.float64)
            if coords["strand"][i] == "-":
                row = row[::-1]
            keep = np.isfinite(row)
            positions = np.arange(start, start + n, dtype=np.int64)[keep]
            per_chrom.setdefault(str(coords["chrom"][i]), []).append((positions, row[keep]))
        lo += len(block)
    chroms = {}
    for chrom, pieces in per_chrom.items():
        positions = np.concatenate([p for p, _ in pieces])
        found = np.concatenate([v for _, v in pieces])
        bases, where = np.unique(positions, return_inverse=True)
        total = np.bincount(where, weights=found, minlength=len(bases))
        count = np.bincount(where, minlength=len(bases))
        chroms[chrom] = (bases, (total / count).astype(np.float32))
    return Track(name or scores.kind, chroms)


def _reference_base(scores, hypothetical: np.ndarray) -> np.ndarray:
    """(N, L): each window's hypothetical contribution of its own base (NaN at N and past each
    end)."""
    x = one_hot(list(scores.sequences), length=hypothetical.shape[1])
    own = (hypothetical * x).sum(axis=-1)
    return np.where(x.any(axis=-1), own, np.nan).astype(np.float32)


def score_tracks(scores, *, name: str | None = None) -> list[Track]:
    """Every track of ``scores``: the values, four per-base tracks for each (N, L, 4) extra of
    :data:`PER_BASE` and, for hypothetical contributions, the dynseq track.

    A ``-`` window's per-base channels are complemented with its positions, so
    a per-base track's A is the genome's A at every base.

    Parameters
    ----------
    scores : Scores
        Scores with coordinates.
    name : str, optional
        Stem of the tracks' names; default ``scores.kind``.

    Returns
    -------
    list of Track
        ``NAME``, then ``NAME.hypothetical.A`` ... ``.T`` and ``NAME.dynseq``,
        ``NAME.effects.A`` ... as present.
    """
    name = name or scores.kind
    tracks = [genome_track(scores, name=name)]
    strand = coordinates(scores)["strand"]
    for extra in PER_BASE:
        if extra not in scores.extra:
            continue
        per_base = np.asarray(scores.extra[extra], dtype=np.float32)
        # on a - window, channel b is the genome's complement of b: A C G T -> T G C A
        genome_order = np.where((strand == "-")[:, None, None], per_base[..., ::-1], per_base)
        for b, base in enumerate(ALPHABET):
            track = genome_track(scores, genome_order[..., b], name=f"{name}.{extra}.{base}")
            tracks.append(track)
        if extra == "hypothetical":
            dynseq = _reference_base(scores, per_base)
            tracks.append(genome_track(scores, dynseq, name=f"{name}.dynseq"))
    return tracks


def chrom_sizes(genome: str | Path) -> dict[str, int]:
    """The chromosome sizes of a FASTA (plain or bgzip), from its ``.fai`` (built when
    missing, see :func:`dnabert_viz.intervals.open_genome`), in the genome's order."""
    fasta = open_genome(genome)
    try:
        return {name: len(fasta[name]) for name in fasta.keys()}
    finally:
        fasta.close()


def write_bedgraph(track: Track, path: str | Path) -> Path:
    """Write ``track`` as bedGraph (a ``track`` line, then ``chrom start end value``, runs of
    equal values on consecutive bases joined; each value as the shortest text that reads back as
    the same float32), atomically; the path."""
    path = Path(path)

    def write(handle) -> None:
        handle.write(f"track type=bedGraph name={track.name}\n".encode())
        for chrom in track.chroms:
            starts, ends, values = track.runs(chrom)
            # float32's shortest text that reads back as the same float32
            columns = (starts.astype(str), ends.astype(str), values.astype(np.float32).astype(str))
            lines = "".join(f"{chrom}\t{s}\t{e}\t{v}\n" for s, e, v in zip(*columns))
            handle.write(lines.encode())

    atomic_write(path, write)
    return path


def write_bigwig(track: Track, path: str | Path, sizes: dict[str, int]) -> Path:
    """Write ``track`` as bigWig with pyBigWig, atomically; the path.

    Parameters
    ----------
    track : Track
        Values at covered bases (float32 in the file, as bigWig stores them).
    path : str or Path
        The ``.bw`` file.
    sizes : dict of str to int
        Chromosome sizes for the header (:func:`chrom_sizes`), in the genome's
        order; the track's chromosomes must be among them.
    """
    import pyBigWig

    path = Path(path)
    missing = [c for c in track.chroms if c not in sizes]
    if missing:
        raise ValueError(f"{path}: chromosome {missing[0]!r} of track {track.name} has no size")
    with atomic_path(path) as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader(list(sizes.items()), maxZooms=10)
            for chrom in (c for c in sizes if c in track.chroms):
                positions, values = track.chroms[chrom]
                if not len(positions):
                    continue
                # one fixed-step block per stretch of consecutive bases
                breaks = np.flatnonzero(np.diff(positions) != 1) + 1
                for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(positions)]):
                    bw.addEntries(
                        chrom,
                        int(positions[lo]),
                        values=values[lo:hi].astype(np.float64),
                        span=1,
                        step=1,
                        validate=False,  # sorted here: chromosomes in header order, bases rising
                    )
        finally:
            bw.close()
    return path


def write_tracks(
    scores: Sequence,
    out: str | Path,
    *,
    genome: str | Path,
    formats: Sequence[str] = ("bigwig",),
    names: Sequence[str] | None = None,
) -> list[Path]:
    """Write the tracks of one or more Scores (:func:`score_tracks`) into folder ``out``.

    Overlapping windows are merged by the mean of the windows covering a base;
    ``-`` windows are mapped back to the genome's orientation (see the module).

    Parameters
    ----------
    scores : Scores or sequence of Scores
        Scores with coordinates; several (attention of each layer or head,
        several methods) give several sets of files.
    out : str or Path
        Output folder: files ``NAME[.extra.BASE].bw`` / ``.bedGraph``.
    genome : str or Path
        The FASTA the windows are on; its ``.fai`` gives the chromosome sizes.
    formats : sequence of {"bigwig", "bedgraph"}
        What to write.
    names : sequence of str, optional
        A name per Scores; default each one's kind (made unique with ``.2``,
        ``.3`` ...).

    Returns
    -------
    list of Path
        The files written, in order.

    Raises
    ------
    ValueError
        Scores without coordinates, a window on an unknown chromosome or past
        a chromosome's end (naming the window), an unknown format; checked for
        every Scores before anything is written.
    """
    from .scores import Scores

    group = [scores] if isinstance(scores, Scores) else list(scores)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}, not {list(formats)}")
    if names is not None and len(names) != len(group):
        raise ValueError(f"{len(names)} names for {len(group)} Scores")
    sizes = chrom_sizes(genome)
    for s in group:
        check_windows(s, sizes, f"scores of {s.source}" if s.source else None)
    stems = list(names) if names is not None else _unique([s.kind for s in group])
    out, written = Path(out), []
    for s, stem in zip(group, stems):
        for track in score_tracks(s, name=stem):
            for fmt in formats:
                path = out / f"{track.name}{FORMATS[fmt]}"
                if fmt == "bigwig":
                    written.append(write_bigwig(track, path, sizes))
                else:
                    written.append(write_bedgraph(track, path))
    return written


def _unique(names: list[str]) -> list[str]:
    """``names`` with repeats numbered: ``a, a.2, a.3``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def write_bed(
    table: pd.DataFrame, path: str | Path, *, name: str = "name", score: str = "score"
) -> Path:
    """Write intervals as BED6 (``chrom start end name score strand``), sorted by chrom and
    start, atomically; the path.

    Parameters
    ----------
    table : pandas.DataFrame
        ``chrom``, ``start``, ``end`` (0-based, end exclusive) and optionally the
        columns ``name`` and ``score`` name (default ``.`` and 0) and ``strand``
        (default ``.``): :func:`dnabert_viz.genome_instances`' table, motif hits.
        Or variants keyed by a VCF's ``CHROM``, ``POS`` and ``REF``
        (:func:`dnabert_viz.variant_effects` of :func:`dnabert_viz.read_vcf`'s
        table): each written over its REF bases, e.g. ``name="ID",
        score="diff"``.
    path : str or Path
        The BED file.
    name, score : str
        The columns written as BED's name and score (a float score is written
        as it is; BED's own 0-1000 range is the reader's concern).

    Raises
    ------
    ValueError
        A missing coordinate column, or a row with start < 0 or end < start
        (naming the row).
    """
    bed = bed_frame(table, where=str(path), name=name, score=score)
    atomic_write(Path(path), bed.to_csv(sep="\t", header=False, index=False))
    return Path(path)


def bed_frame(
    table: pd.DataFrame, *, where: str, name: str = "name", score: str = "score"
) -> pd.DataFrame:
    """``table``'s intervals as BED6 columns (``chrom start end name score strand``), sorted by
    chrom and start (what :func:`write_bed` writes); ``where`` names the table in errors.

    Raises
    ------
    ValueError
        A missing coordinate column, or a row with start < 0 or end < start.
    """
    if "chrom" not in table and {"CHROM", "POS", "REF"} <= set(table):  # variants of a VCF
        first = table["POS"].astype(np.int64) - 1
        table = table.assign(
            chrom=table["CHROM"], start=first, end=first + table["REF"].str.len(), strand="."
        )
    missing = [c for c in ("chrom", "start", "end") if c not in table]
    if missing:
        raise ValueError(f"{where}: the table has no {', '.join(missing)} column(s)")
    bed = pd.DataFrame(
        {
            "chrom": table["chrom"].astype(str),
            "start": table["start"].astype(np.int64),
            "end": table["end"].astype(np.int64),
            "name": table[name].astype(str) if name in table else ".",
            "score": table[score] if score in table else 0,
            "strand": table["strand"].astype(str) if "strand" in table else ".",
        }
    )
    bad = bed.index[(bed.start < 0) | (bed.end < bed.start)]
    if len(bad):
        row = bed.loc[bad[0]]
        raise ValueError(
            f"{where}: row {bad[0]} ({row.chrom}:{row.start}-{row.end}) needs 0 <= start <= end"
        )
    return bed.sort_values(["chrom", "start", "end"], kind="stable")
