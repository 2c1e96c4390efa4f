"""Files in: DNABERT's mutation files (more readers join as the command line grows)."""

from __future__ import annotations

from pathlib import Path

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
