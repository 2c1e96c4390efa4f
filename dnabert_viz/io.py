"""Files in: FASTA (plain or gzipped), DNABERT's sequence tables and mutation files.

Files out are written by :mod:`dnabert_viz.outputs`."""

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
    """``path`` as a Path, checked to be a file: a clear error for a missing path or a folder."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path


def _lines(path: Path) -> list[str]:
    """The file's lines, gunzipped when it starts with gzip's magic bytes."""
    with open(check_input_file(path), "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    try:
        with gzip.open(path, "rt") if gzipped else open(path) as handle:
            return handle.read().splitlines()
    except (EOFError, zlib.error) as err:
        raise ValueError(f"{path}: truncated or corrupt gzip file ({err})") from None
    except (UnicodeDecodeError, OSError) as err:
        raise ValueError(f"{path}: not a text file ({err})") from None


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
        Columns ``name`` (the header's first word) and ``sequence``
        (normalised by :func:`dnabert_viz.check_sequences`), in file order.

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
    names, starts, chunks = [], [], []
    for number, line in enumerate(_lines(path), start=1):
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
    return pd.DataFrame(
        {"name": names, "sequence": check_sequences(["".join(c) for c in chunks], labels=labels)}
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a sequence table: DNABERT's ``sequence<TAB>label`` tsv (k-mer text or raw) or
    DNABERT-2's csv.

    The header must name a ``sequence`` column; ``label`` (integers) and
    ``name`` are kept when present. Separator: comma for ``.csv``, tab otherwise.

    Returns
    -------
    pandas.DataFrame
        ``name`` (from the file or ``line<N>``), ``sequence`` (k-mer text
        turned back into raw sequence) and ``label`` when the file has one.
    """
    path = Path(path)
    lines = _lines(path)
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
    out["sequence"] = check_sequences(
        table["sequence"].tolist(), labels=[f"{path}, line {n}" for n in numbers]
    )
    if "label" in table:
        bad = [n for n, v in zip(numbers, table["label"]) if not v.strip().lstrip("-").isdigit()]
        if bad:
            raise ValueError(f"{path}, line {bad[0]}: label is not an integer")
        out["label"] = table["label"].astype(int).to_numpy()
    return out


def read_sequences(path: str | Path) -> pd.DataFrame:
    """Read sequences from FASTA (``.fa``, ``.fasta``, ``.fna``, ``.fas``, optionally ``.gz``) or a
    sequence table.

    See :func:`read_fasta` and :func:`read_table` for the columns.
    """
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    return read_fasta(path) if name.endswith(FASTA_SUFFIXES) else read_table(path)


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
    for number, line in enumerate(check_input_file(path).read_text().splitlines(), start=1):
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
