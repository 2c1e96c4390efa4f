"""Files in: FASTA (plain or gzipped), DNABERT's sequence tables and mutation files.

Every reader reads its file once, start to end, so named pipes (``<(zcat x.fa.gz)``) and
character devices (``/dev/stdin``) work as files; what a file is, FASTA or a table, is told by its
content (a FASTQ file is refused with what to do). Files out are written by
:mod:`dnabert_viz.outputs`."""

from __future__ import annotations

import csv
import gzip
import warnings
import zlib
from pathlib import Path

import pandas as pd

from .sequences import check_sequences

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")


def check_input_file(path: str | Path) -> Path:
    """``path`` as a Path, checked to be readable as a file: a regular file, a named pipe or a
    character device; a clear error for a missing path, a folder or anything else."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    if path.is_file() or path.is_fifo() or path.is_char_device():
        return path
    if path.exists():
        raise ValueError(f"{path} is not a file (a socket or block device)")
    raise FileNotFoundError(f"{path}: no such file")


def read_lines(path: str | Path) -> list[str]:
    """The lines of a text file, gunzipped when it starts with gzip's magic bytes.

    The file is read once, so a named pipe works as well as a file.

    Raises
    ------
    ValueError
        Naming the file, for a truncated or corrupt gzip file and for one that is not text
        (UTF-8).
    """
    data = check_input_file(path).read_bytes()
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data.decode().splitlines()
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise ValueError(f"{path}: truncated or corrupt gzip file ({err})") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a text file (byte {err.start} is not UTF-8)") from None


def _sequence_lines(path: Path) -> list[str]:
    """:func:`read_lines`, refusing FASTQ (an '@' header with a '+' line two below) by name."""
    lines = read_lines(path)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if (
        first is not None
        and lines[first].startswith("@")
        and first + 2 < len(lines)
        and lines[first + 2].startswith("+")
    ):
        raise ValueError(
            f"{path}: FASTQ (reads with base qualities), which is not read here; convert it to "
            f"FASTA (seqtk seq -A {path.name} > reads.fa) or to a table with a 'sequence' column"
        )
    return lines


def _warn_duplicates(path: Path, names: list[str], where: list[int | str]) -> None:
    """Warn, naming the file and lines, when record names repeat (records stay apart by
    position)."""
    first: dict[str, int | str] = {}
    for name, line in zip(names, where):
        if name in first:
            warnings.warn(
                f"{path}: record name {name!r} is used more than once (lines {first[name]} and "
                f"{line}); records are told apart by their position",
                stacklevel=3,
            )
            return
        first[name] = line


def read_fasta(path: str | Path) -> pd.DataFrame:
    """Read a FASTA file, plain or gzipped.

    Returns
    -------
    pandas.DataFrame
        Columns ``name`` (the header's first word), ``sequence``
        (normalised by :func:`dnabert_viz.check_sequences`) and ``source``
        (file, record and line, as errors name them), in file order.

    Raises
    ------
    ValueError
        Naming the file, the record and its line for text before the first
        header, an empty record or a character outside the alphabet (white
        space inside sequence lines only as unambiguous DNABERT k-mer text).

    Warns
    -----
    UserWarning
        When a record name is used twice (naming both lines): records stay
        apart by their position, names only label them.
    """
    path = Path(path)
    return _fasta(path, _sequence_lines(path))


def _fasta(path: Path, lines: list[str]) -> pd.DataFrame:
    """:func:`read_fasta` of the file's lines."""
    names, starts, chunks = [], [], []
    for number, line in enumerate(lines, start=1):
        if line.startswith(">"):
            names.append(line[1:].split()[0] if line[1:].split() else f"record{len(names) + 1}")
            starts.append(number)
            chunks.append([])
        elif line.strip():
            if not chunks:
                raise ValueError(
                    f"{path}, line {number}: sequence before the first '>' header: is this FASTA?"
                )
            chunks[-1].append(line.strip())
    if not names:
        raise ValueError(f"{path}: no FASTA records (no line starts with '>')")
    _warn_duplicates(path, names, starts)
    labels = [f"{path}, record {n!r} (line {line})" for n, line in zip(names, starts)]
    sequences = check_sequences(["".join(c) for c in chunks], labels=labels)
    return pd.DataFrame({"name": names, "sequence": sequences, "source": labels})


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a sequence table: DNABERT's ``sequence<TAB>label`` tsv (k-mer text or raw) or
    DNABERT-2's csv.

    The header must name a ``sequence`` column; ``label`` (integers) and
    ``name`` are kept when present. Separator: comma for ``.csv``, tab otherwise.

    Returns
    -------
    pandas.DataFrame
        ``name`` (from the file or ``line<N>``), ``sequence`` (k-mer text
        turned back into raw sequence), ``source`` (file and line) and
        ``label`` when the file has one.
    """
    path = Path(path)
    return _table(path, _sequence_lines(path))


def _table(path: Path, lines: list[str]) -> pd.DataFrame:
    """:func:`read_table` of the file's lines."""
    delimiter = "," if path.name.lower().removesuffix(".gz").endswith(".csv") else "\t"
    # CRLF files exist (prom-core)
    rows = [[field.strip() for field in row] for row in csv.reader(lines, delimiter=delimiter)]
    if rows and len(rows[0]) == 1:
        # DNABERT's prom-core header is separated by spaces, its rows by tabs
        rows[0] = lines[0].split()
    if not rows or "sequence" not in rows[0]:
        raise ValueError(
            f"{path}, line 1: the header must name a 'sequence' column (DNABERT: "
            "'sequence<TAB>label')"
        )
    header = rows[0]
    numbers, records = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {number}: {len(row)} fields, the header has {len(header)}"
            )
        numbers.append(number)
        records.append(dict(zip(header, row)))
    if not records:
        raise ValueError(f"{path}: no rows under the header")
    table = pd.DataFrame(records)
    if "name" in table:
        _warn_duplicates(path, table["name"].tolist(), numbers)
    out = pd.DataFrame(
        {"name": table["name"] if "name" in table else [f"line{n}" for n in numbers]}
    )
    sources = [f"{path}, line {n}" for n in numbers]
    out["sequence"] = check_sequences(table["sequence"].tolist(), labels=sources)
    out["source"] = sources
    if "label" in table:
        bad = [n for n, v in zip(numbers, table["label"]) if not v.strip().lstrip("-").isdigit()]
        if bad:
            raise ValueError(f"{path}, line {bad[0]}: label is not an integer")
        out["label"] = table["label"].astype(int).to_numpy()
    return out


def read_sequences(path: str | Path) -> pd.DataFrame:
    """Read sequences from FASTA or a sequence table, plain or gzipped, told apart by content.

    A file whose first line starts with '>' is FASTA whatever its name; so is
    one named ``.fa``, ``.fasta``, ``.fna`` or ``.fas`` (optionally ``.gz``),
    whose errors then say so; anything else is a table. See
    :func:`read_fasta` and :func:`read_table` for the columns.

    Raises
    ------
    ValueError
        Naming the file: an empty file, FASTQ (with how to convert it), and
        the readers' errors.
    """
    path = Path(path)
    lines = _sequence_lines(path)
    first = next((line for line in lines if line.strip()), "")
    if first.startswith(">") or path.name.lower().removesuffix(".gz").endswith(FASTA_SUFFIXES):
        return _fasta(path, lines)
    if not first:
        raise ValueError(
            f"{path} is empty: expected FASTA ('>' headers) or a table whose header names a "
            "'sequence' column"
        )
    return _table(path, lines)


def read_mutation_file(path: str | Path) -> pd.DataFrame:
    """Read DNABERT's mutation file.

    Tab-separated, no header, one variant a line: sequence index, start, end
    (0-based, end exclusive), replacement. An empty replacement is a
    deletion; ``start == end`` is an insertion.

    Returns
    -------
    pandas.DataFrame
        Columns ``sequence_index``, ``start``, ``end``, ``replacement``.

    Raises
    ------
    ValueError
        Naming the file and line of a malformed row.
    """
    rows = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 3:
            fields.append("")
        try:
            if len(fields) != 4:
                raise ValueError(f"{len(fields)} fields")
            index, start, end = (int(f) for f in fields[:3])
        except ValueError as err:
            raise ValueError(
                f"{path}, line {number}: expected 'index<TAB>start<TAB>end<TAB>replacement' "
                f"with integers ({err})"
            ) from None
        if start > end:
            raise ValueError(f"{path}, line {number}: start {start} is after end {end}")
        rows.append((index, start, end, fields[3].strip()))
    return pd.DataFrame(rows, columns=["sequence_index", "start", "end", "replacement"])
