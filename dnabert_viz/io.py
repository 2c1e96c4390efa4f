"""Files in: DNABERT's mutation files (more readers join as the command line grows); atomic file writing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd


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
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
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
                f"{path}, line {number}: expected 'index<TAB>start<TAB>end<TAB>replacement' with integers ({err})"
            ) from None
        if start > end:
            raise ValueError(f"{path}, line {number}: start {start} is after end {end}")
        rows.append((index, start, end, fields[3].strip()))
    return pd.DataFrame(rows, columns=["sequence_index", "start", "end", "replacement"])


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object] | str | bytes) -> None:
    """Write a file so that it is complete or absent, never half-written.

    Parameters
    ----------
    path : str or Path
        Destination; a temporary file in the same folder is renamed onto it.
    write : callable, str or bytes
        Content, or a function that writes to the binary file handle it is given.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(write):
                write(handle)
            else:
                handle.write(write.encode() if isinstance(write, str) else write)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
