"""Sequences from a genome: peaks (BED, narrowPeak, a DataFrame) -> fixed windows, with their
coordinates.

:func:`read_intervals` reads intervals, centres a window of ``width`` on each
(the narrowPeak summit, or the middle) and fetches it from an indexed FASTA
through pyfaidx (plain or bgzip-compressed; the ``.fai`` index is built
when missing). The returned table carries ``chrom``, ``start``, ``end``
(0-based, end exclusive, of the window), ``strand`` and ``sequence``;
:func:`dnabert_viz.score` copies the coordinates into ``Scores.extra``, so
motif instances found in those scores map back onto the genome
(:func:`genome_instances`; :func:`dnabert_viz.tracks.write_bed` writes them as BED).

Bad input
---------
A malformed file (a column-name header, a field that is not a number, a
changing number of columns, more than BED's 12 columns, a narrowPeak
without its 10, start after end, a strand other than ``+ - .``) is an
error naming the file and line. Comment lines (``#``), ``track`` and
``browser`` lines are skipped as BED allows. Intervals the genome cannot
serve (an unknown chromosome, a window past the chromosome's end, a window
with more than ``max_n`` N) are an error naming the line with
``errors="raise"`` (the default); with ``errors="skip"`` they are left
out, counted in a warning and listed in ``table.attrs["skipped"]``.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .io import read_lines
from .sequences import check_sequences, reverse_complement

COORDINATES = ("chrom", "start", "end", "strand")
NARROWPEAK_FIELDS = 10
BED_MAX_FIELDS = 12


@dataclass
class _Row:
    where: str  # "file, line N" or "row N"
    chrom: str
    start: int
    end: int
    name: str
    strand: str
    summit: int  # offset from start; -1 when none


def _int(value: str, what: str, where: str, first: bool) -> int:
    try:
        return int(value)
    except ValueError:
        hint = " (a column-name header? comment it out with '#')" if first else ""
        raise ValueError(f"{where}: {what} {value!r} is not an integer{hint}") from None


def _parse_bed(path: Path, narrowpeak: bool) -> list[_Row]:
    """Rows of a BED (3 to 12 columns, the same on every line) or narrowPeak (10 columns) file."""
    rows, n_fields = [], None
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        where = f"{path}, line {number}"
        fields = line.split("\t")
        if narrowpeak and len(fields) != NARROWPEAK_FIELDS:
            raise ValueError(
                f"{where}: {len(fields)} tab-separated fields; narrowPeak has {NARROWPEAK_FIELDS}"
            )
        if not 3 <= len(fields) <= BED_MAX_FIELDS:
            raise ValueError(
                f"{where}: {len(fields)} tab-separated fields; BED has 3 to {BED_MAX_FIELDS} "
                "(chrom, start, end, name, score, strand, ...)"
            )
        if n_fields is not None and len(fields) != n_fields:
            raise ValueError(
                f"{where}: {len(fields)} fields where the lines above have {n_fields}"
            )
        start = _int(fields[1], "start", where, not rows)
        end = _int(fields[2], "end", where, not rows)
        strand = fields[5] if len(fields) > 5 else "."
        summit = _int(fields[9], "summit offset", where, False) if narrowpeak else -1
        if start < 0 or end <= start:
            raise ValueError(f"{where}: start {start} and end {end}: need 0 <= start < end")
        if strand not in ("+", "-", "."):
            raise ValueError(f"{where}: strand {strand!r} (column 6) must be +, - or .")
        if summit < -1 or summit >= end - start:
            raise ValueError(
                f"{where}: summit offset {summit} (column 10) is outside the peak's "
                f"{end - start} nt (-1 means no summit)"
            )
        name = fields[3] if len(fields) > 3 else ""
        rows.append(_Row(where, fields[0], start, end, name, strand, summit))
        n_fields = len(fields)
    if not rows:
        raise ValueError(f"{path}: no intervals (every line is empty or a comment)")
    return rows


def _frame_rows(frame: pd.DataFrame) -> list[_Row]:
    """Rows of a table with ``chrom``, ``start``, ``end`` (optionally ``name``, ``strand``,
    ``summit``)."""
    missing = [c for c in ("chrom", "start", "end") if c not in frame]
    if missing:
        raise ValueError(
            f"the intervals table has no {', '.join(missing)} column(s) (it needs chrom, "
            "start, end)"
        )
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        where = f"row {i}"
        start, end = (
            _int(str(rec["start"]), "start", where, False),
            _int(str(rec["end"]), "end", where, False),
        )
        strand, summit = (
            str(rec.get("strand", ".")),
            _int(str(rec.get("summit", -1)), "summit", where, False),
        )
        if (
            start < 0
            or end <= start
            or strand not in ("+", "-", ".")
            or not -1 <= summit < end - start
        ):
            raise ValueError(
                f"{where}: start {start}, end {end}, strand {strand!r}, summit {summit}: "
                "need 0 <= start < end, strand + - or ., -1 <= summit < end - start"
            )
        rows.append(
            _Row(where, str(rec["chrom"]), start, end, str(rec.get("name", "")), strand, summit)
        )
    if not rows:
        raise ValueError("the intervals table is empty")
    return rows


def open_genome(path: str | Path):
    """Open an indexed FASTA (plain or bgzip) with pyfaidx, building the ``.fai`` (and ``.gzi``)
    when missing or older than the genome.

    The index is written beside the genome; where its folder is not writable,
    it is built in a temporary folder instead (removed when the genome is
    closed), again on every run, with a warning saying how to avoid that. An
    index made here for a genome that then fails to open is removed.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A folder, pipe or device (random access needs a file), plain gzip (not
        bgzip), a file that cannot be indexed, a sequence name used twice;
        each message says what to do.
    """
    import pyfaidx

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a genome FASTA")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such genome file")
    if not path.is_file():
        raise ValueError(
            f"{path} is a pipe or device: the genome is read at random places, so give it as a "
            "file (plain or bgzip)"
        )
    beside = [p for p in (Path(f"{path}.fai"), Path(f"{path}.gzi")) if not p.exists()]
    elsewhere = None
    if _needs_index(path) and not _writable(path.parent):
        elsewhere = Path(tempfile.mkdtemp(prefix="dnabert_viz_index."))
        warnings.warn(
            f"{path}: its folder is not writable, so its index is built in a temporary folder, "
            "again on every run; copy the genome to a folder you can write to index it once",
            stacklevel=2,
        )
    names = (
        {}
        if elsewhere is None
        else {
            "indexname": str(elsewhere / f"{path.name}.fai"),
            "gzi_indexname": str(elsewhere / f"{path.name}.gzi"),
        }
    )
    try:
        fasta = pyfaidx.Fasta(str(path), as_raw=True, sequence_always_upper=True, **names)
    except (ValueError, OSError, pyfaidx.FastaIndexingError) as err:
        for made in beside:
            made.unlink(missing_ok=True)
        if elsewhere is not None:
            shutil.rmtree(elsewhere, ignore_errors=True)
        raise _genome_error(path, err) from None
    if elsewhere is not None:
        weakref.finalize(fasta, shutil.rmtree, elsewhere, True)
    return fasta


def _needs_index(path: Path) -> bool:
    """Whether pyfaidx would (re)build the genome's index: no ``.fai`` or one older than the
    genome, or a bgzip genome without its ``.gzi``."""
    fai, gzi = Path(f"{path}.fai"), Path(f"{path}.gzi")
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    return (
        not fai.exists()
        or fai.stat().st_mtime < path.stat().st_mtime
        or (compressed and not gzi.exists())
    )


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (tried: permissions alone do not say it for root
    or read-only file systems)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _genome_error(path: Path, err: Exception) -> ValueError:
    """One line, naming the genome and what to do, for what pyfaidx raised opening it."""
    import pyfaidx

    text = " ".join(str(err).splitlines())
    if isinstance(err, pyfaidx.UnsupportedCompressionFormat):
        return ValueError(
            f"{path}: compressed with gzip, not bgzip; random access needs bgzip "
            f"(gunzip {path.name}; bgzip {path.name.removesuffix('.gz')})"
        )
    if text.startswith("Duplicate key"):
        return ValueError(
            f"{path}: the sequence name {text.split(chr(34))[1]!r} is used by more than one "
            "record; a genome's names must be unique (rename or remove the others)"
        )
    if isinstance(err, UnicodeDecodeError):
        return ValueError(f"{path}: not a FASTA text file (byte {err.start} is not UTF-8)")
    return ValueError(f"{path}: cannot be indexed as FASTA ({text})")


def _window(row: _Row, width: int | None, center: str) -> tuple[int, int]:
    if width is None:
        return row.start, row.end
    if center == "summit" and row.summit >= 0:
        mid = row.start + row.summit
    else:
        mid = (row.start + row.end) // 2
    start = mid - width // 2
    return start, start + width


def read_intervals(
    source: str | Path | pd.DataFrame,
    genome: str | Path,
    *,
    width: int | None = 200,
    center: str = "summit",
    max_n: float = 0.1,
    errors: str = "raise",
    format: str | None = None,
) -> pd.DataFrame:
    """Genome windows of the intervals in a BED / narrowPeak file or a DataFrame.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A BED file (3 to 12 tab-separated columns), a narrowPeak file (10
        columns; ``.narrowPeak`` or ``format="narrowPeak"``), either plain or
        gzipped (``.bed.gz``, ``.narrowPeak.gz`` as ENCODE ships them), or a table with
        ``chrom``, ``start``, ``end`` and optionally ``name``, ``strand``,
        ``summit`` (offset from start).
    genome : str or Path
        FASTA, plain or bgzip-compressed; indexed on first use (``.fai``).
    width : int or None
        Window length in nucleotides, centred on each interval; None keeps
        the intervals as they are.
    center : {"summit", "middle"}
        Centre windows on the narrowPeak summit (column 10; intervals without
        one, summit -1 or a plain BED, use the middle) or on the middle.
    max_n : float
        Largest fraction of N in a window.
    errors : {"raise", "skip"}
        What to do with an interval the genome cannot serve (unknown
        chromosome, off the chromosome's end, too many N): raise, naming the
        line, or skip it, count it in a warning and list it in
        ``attrs["skipped"]`` (with its ``kind`` and ``reason``).
    format : {"bed", "narrowPeak"}, optional
        File format; by default narrowPeak for names ending ``.narrowPeak``
        or ``.narrowPeak.gz`` (any case), BED otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per window, in input order: ``chrom``, ``start``, ``end``
        (0-based, end exclusive), ``name``, ``strand``, ``sequence``
        (reverse-complemented for ``-`` intervals), ``source`` (file and line,
        or row). ``attrs["skipped"]`` lists what was skipped, with the reason.
    """
    if center not in ("summit", "middle"):
        raise ValueError(f"center must be 'summit' or 'middle', not {center!r}")
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', not {errors!r}")
    if width is not None and width < 1:
        raise ValueError(f"width must be a positive number of nucleotides, not {width}")
    if isinstance(source, pd.DataFrame):
        rows = _frame_rows(source)
    else:
        path = Path(source)
        fmt = format or (
            "narrowPeak"
            if path.name.lower().removesuffix(".gz").endswith(".narrowpeak")
            else "bed"
        )
        if fmt not in ("bed", "narrowPeak"):
            raise ValueError(f"format must be 'bed' or 'narrowPeak', not {format!r}")
        rows = _parse_bed(path, fmt == "narrowPeak")
    fasta = open_genome(genome)
    kept, skipped = [], []
    try:
        for row in rows:
            start, end = _window(row, width, center)
            sequence, problem = _fetch(fasta, genome, row, start, end, max_n)
            if problem is None:
                kept.append(
                    {
                        "chrom": row.chrom,
                        "start": start,
                        "end": end,
                        "name": row.name,
                        "strand": row.strand,
                        "sequence": sequence,
                        "source": row.where,
                    }
                )
            elif errors == "raise":
                raise ValueError(
                    f"{row.where}: {problem[1]} (errors='skip', on the command line "
                    "--skip-bad, leaves such intervals out)"
                )
            else:
                skipped.append(
                    {
                        "source": row.where,
                        "chrom": row.chrom,
                        "start": row.start,
                        "end": row.end,
                        "kind": problem[0],
                        "reason": problem[1],
                    }
                )
    finally:
        fasta.close()
    if not kept:
        raise ValueError(
            f"no interval could be read from {genome}: all {len(rows)} skipped "
            f"(first: {skipped[0]['source']}: {skipped[0]['reason']})"
        )
    table = pd.DataFrame(kept)
    table["sequence"] = check_sequences(
        table["sequence"].tolist(), labels=table["source"].tolist()
    )
    return report_skipped(
        table,
        skipped,
        ["source", "chrom", "start", "end", "kind", "reason"],
        f"of {len(rows)} intervals",
    )


def report_skipped(
    table: pd.DataFrame, skipped: list[dict], columns: list[str], what: str, *, where: str = ""
) -> pd.DataFrame:
    """``table`` with the records ``skipped`` (each with ``source``, ``kind`` and ``reason``) in
    ``.attrs["skipped"]`` (``columns``), and, when there are any, one warning counting them by
    kind: ``{where}skipped N {what} (...)``."""
    table.attrs["skipped"] = pd.DataFrame(skipped, columns=columns)
    if skipped:
        counts = pd.Series([s["kind"] for s in skipped]).value_counts()
        warnings.warn(
            f"{where}skipped {len(skipped)} {what} "
            f"({', '.join(f'{n} {kind}' for kind, n in counts.items())}); "
            f"first: {skipped[0]['source']}; the list is in the table's .attrs['skipped']",
            stacklevel=3,
        )
    return table


def _fetch(fasta, genome, row: _Row, start: int, end: int, max_n: float):
    """The window's sequence (reverse-complemented on ``-``), or why it cannot be had: (kind,
    message).

    Raises
    ------
    ValueError
        The genome returns fewer nucleotides than its index promises (a truncated file or a stale
        index).
    """
    if row.chrom not in fasta:
        names = list(fasta.keys())
        listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return None, (
            "on unknown chromosomes",
            f"unknown chromosome {row.chrom!r}: {genome} has {len(names)} ({listed})",
        )
    length, where = len(fasta[row.chrom]), f"the window {row.chrom}:{start}-{end}"
    if start < 0:
        return None, ("off the chromosome end", f"{where} starts before the start of {row.chrom}")
    if end > length:
        return None, (
            "off the chromosome end",
            f"{where} runs past the end of {row.chrom} ({length} nt)",
        )
    sequence = fasta[row.chrom][start:end]
    if len(sequence) != end - start:
        raise ValueError(
            f"{row.where}: the genome gave {len(sequence)} nt for {row.chrom}:{start}-{end}, "
            f"its index promises {end - start}: {genome} is truncated or its .fai is stale "
            "(delete the .fai to rebuild it)"
        )
    n_fraction = sequence.count("N") / len(sequence)
    if n_fraction > max_n:
        return None, ("N-rich", f"{n_fraction:.0%} of {where} is N (max_n={max_n})")
    return (reverse_complement(sequence) if row.strand == "-" else sequence), None


def split_input(sequences) -> tuple[object, dict[str, np.ndarray] | None]:
    """Sequences and, for a table from :func:`read_intervals`, their coordinates as
    ``Scores.extra`` arrays.

    Returns
    -------
    sequences : str, list of str or the table's ``sequence`` column as a list
    coordinates : dict of str to numpy.ndarray, or None
        ``chrom``, ``start``, ``end``, ``strand`` (each (N,)) when the table has them.
    """
    if not isinstance(sequences, pd.DataFrame):
        return sequences, None
    if "sequence" not in sequences:
        raise ValueError(
            "a table of sequences needs a 'sequence' column (read_intervals and "
            "read_sequences give one)"
        )
    coords = None
    if all(c in sequences for c in COORDINATES):
        coords = {
            "chrom": sequences["chrom"].astype(str).to_numpy(dtype=str),
            "start": sequences["start"].to_numpy(dtype=np.int64),
            "end": sequences["end"].to_numpy(dtype=np.int64),
            "strand": sequences["strand"].astype(str).to_numpy(dtype=str),
        }
    return sequences["sequence"].tolist(), coords


def scoring_function(function: Callable) -> Callable:
    """Decorator of the public scoring functions ``(m, sequences, *, ...) -> Scores``: the one
    reading of their input.

    ``sequences`` may be anything :func:`dnabert_viz.score` takes: one str, a
    list of str, or a table with a ``sequence`` column (:func:`read_intervals`,
    :func:`dnabert_viz.read_sequences`). ``function`` gets the checked list
    (:func:`dnabert_viz.check_sequences`); a table's coordinates go into the
    returned Scores' ``extra`` (:func:`split_input`).
    """

    @functools.wraps(function)
    def run(m, sequences, **options):
        sequences, coordinates = split_input(sequences)
        scores = function(m, check_sequences(sequences), **options)
        scores.extra.update(coordinates or {})
        return scores

    return run


def genome_instances(motifs) -> pd.DataFrame:
    """Motif instances on the genome, from a MotifSet whose scores carry coordinates.

    An instance at ``[s, e)`` of window ``(chrom, start, end, strand)`` lies at
    ``[start + s, start + e)`` on the genome, or at ``[end - e, end - s)`` on
    the other strand for a ``-`` window (whose sequence was reverse-complemented).

    Returns
    -------
    pandas.DataFrame
        BED6 columns ``chrom``, ``start``, ``end``, ``name`` (the motif),
        ``score`` (0), ``strand``, then ``sequence_index`` and ``sequence``.

    Raises
    ------
    ValueError
        When the motifs' scores carry no coordinates (sequences not read by
        :func:`read_intervals`).
    """
    scores = getattr(motifs, "scores", None)
    if scores is None or not all(c in scores.extra for c in COORDINATES):
        raise ValueError(
            "these motifs' scores carry no genome coordinates: score sequences from "
            "read_intervals(...) (the table, not its sequence column) to map instances onto "
            "the genome"
        )
    columns = ["chrom", "start", "end", "name", "score", "strand", "sequence_index", "sequence"]
    frames = []
    for motif in motifs:
        inst = motif.instances
        if not len(inst):
            continue
        i = inst["sequence_index"].to_numpy(dtype=int)
        chrom, start, end, strand = on_genome(
            scores.extra, i, inst["start"], inst["end"], inst["strand"]
        )
        frames.append(
            pd.DataFrame(
                {
                    "chrom": chrom,
                    "start": start,
                    "end": end,
                    "name": motif.name,
                    "score": 0,
                    "strand": strand,
                    "sequence_index": i,
                    "sequence": inst["sequence"].to_numpy(),
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def on_genome(coordinates: dict, rows, starts, ends, strands) -> tuple[np.ndarray, ...]:
    """Where spans of windows lie on the genome: (chrom, start, end, strand), each (n,).

    A span ``[s, e)`` on strand ``t`` of window ``rows[k]`` (``coordinates``:
    ``chrom``, ``start``, ``end``, ``strand`` per window, as :func:`split_input`
    gives them) lies at ``[start + s, start + e)``, or at ``[end - e, end - s)``
    on the other strand for a ``-`` window (whose sequence was reverse-complemented).
    """
    i = np.asarray(rows, dtype=np.int64)
    s, e = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    w_start, w_end = np.asarray(coordinates["start"])[i], np.asarray(coordinates["end"])[i]
    minus = np.asarray(coordinates["strand"])[i] == "-"
    flip = {"+": "-", "-": "+"}
    return (
        np.asarray(coordinates["chrom"])[i],
        np.where(minus, w_end - e, w_start + s),
        np.where(minus, w_end - s, w_start + e),
        np.array([flip[t] if m else t for t, m in zip(strands, minus)], dtype=object),
    )


def sites_mask(sites: str | Path | pd.DataFrame, coordinates: dict, lengths) -> np.ndarray:
    """Where known genome sites lie in windows: a boolean (N, longest length) mask.

    Parameters
    ----------
    sites : str, Path or pandas.DataFrame
        A BED file of sites (3 to 12 columns) or a table with ``chrom``, ``start``, ``end``.
    coordinates : dict
        ``chrom``, ``start``, ``end``, ``strand`` of each window (as :func:`split_input` gives
        them): a site overlapping window ``[start, end)`` marks positions ``[max(site start,
        start) - start, min(site end, end) - start)``, counted from the window's end on a ``-``
        window (whose sequence was reverse-complemented).
    lengths : array of int
        (N,) the windows' sequence lengths.

    Raises
    ------
    ValueError
        A malformed site (its file and line, or its row), as :func:`read_intervals` says it.
    """
    rows = (
        _frame_rows(sites) if isinstance(sites, pd.DataFrame) else _parse_bed(Path(sites), False)
    )
    lengths = np.asarray(lengths, dtype=np.int64)
    mask = np.zeros((len(lengths), int(lengths.max())), dtype=bool)
    chrom = np.asarray(coordinates["chrom"])
    w_start, w_end = np.asarray(coordinates["start"]), np.asarray(coordinates["end"])
    minus = np.asarray(coordinates["strand"]) == "-"
    for row in rows:
        for i in np.flatnonzero((chrom == row.chrom) & (w_start < row.end) & (row.start < w_end)):
            s, e = max(row.start, w_start[i]) - w_start[i], min(row.end, w_end[i]) - w_start[i]
            if minus[i]:
                s, e = w_end[i] - w_start[i] - e, w_end[i] - w_start[i] - s
            mask[i, s : min(e, lengths[i])] = True
    return mask
