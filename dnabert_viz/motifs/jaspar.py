"""Match motifs to JASPAR offline: TOMTOM (memelite) against pyjaspar's bundled database.

memelite's TOMTOM compares columns by Euclidean distance only, so a
near-uniform query (a DNABERT-viz window's flanks, a weak cluster) can still
match "significantly". Queries are therefore trimmed of flanking columns
below ``trim_information`` bits, and queries whose trimmed total information
is below ``min_information`` bits are reported without a match. Every row
carries the query's information content so a reader can judge a match.
Discovered motifs often have columns of exactly 0 and 1 (a model that learned
one k-mer); such hard columns sit far, in Euclidean distance, from every
soft JASPAR column, so each query column is mixed with ``pseudocount`` of
the uniform distribution first (as MEME-suite tools do when turning sites
into matrices).

The first TOMTOM call after memelite is installed compiles its numba
kernels; later processes load them from numba's on-disk cache
(``benchmarks/jit_cache.py``). Reading pyjaspar's database is the other
per-process cost, so the matrices of each selection are kept in the user's
cache folder too (``$XDG_CACHE_HOME/dnabert_viz/jaspar``, else
``~/.cache/dnabert_viz/jaspar``), one ``.npz`` per release, collection,
group and pyjaspar version; a file that cannot be read or written is
ignored and the database read instead.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..sequences import ALPHABET
from .motif import Motif
from .stats import benjamini_hochberg

MATCH_COLUMNS = [
    "motif",
    "information",
    "n_instances",
    "rank",
    "jaspar_id",
    "jaspar_name",
    "tf_family",
    "tf_class",
    "p_value",
    "q_value",
    "orientation",
    "offset",
    "overlap",
    "note",
]


def jaspar_pwm(record) -> np.ndarray:
    """(L, 4) probabilities over ACGT of a pyjaspar (Biopython) motif record's counts."""
    counts = np.array([record.counts[b] for b in ALPHABET], dtype=float).T
    return counts / counts.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class JasparMatrix:
    """One JASPAR matrix: id, TF name, TF family and class (JASPAR's annotation, ;-joined for
    dimers) and (L, 4) probabilities."""

    matrix_id: str
    name: str
    family: str
    pwm: np.ndarray
    tf_class: str = ""


@lru_cache(maxsize=8)
def jaspar_matrices(
    collection: str = "CORE", tax_group: str = "vertebrates", release: str = "JASPAR2026"
) -> tuple[JasparMatrix, ...]:
    """JASPAR matrices of a collection and taxonomic group, from pyjaspar's offline database
    (cached).

    Raises
    ------
    ValueError
        When the selection is empty (unknown collection, group or release).
    """
    cached = _cache_file(collection, tax_group, release)
    try:
        return _read_cache(cached)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass  # no cache yet, or one that cannot be read: read the database
    matrices = _read_database(collection, tax_group, release)
    try:
        _write_cache(cached, matrices)
    except OSError:
        pass  # a read-only home: the database is read again next time
    return matrices


def _read_database(collection: str, tax_group: str, release: str) -> tuple[JasparMatrix, ...]:
    """A selection of matrices from pyjaspar's database."""
    from pyjaspar import jaspardb

    try:
        found = jaspardb(release=release).fetch_motifs(
            collection=collection, tax_group=[tax_group]
        )
    except Exception as err:
        raise ValueError(f"pyjaspar cannot read release {release!r}: {err}") from None
    out = [
        JasparMatrix(
            m.matrix_id,
            m.name,
            ";".join(m.tf_family or []),
            jaspar_pwm(m),
            ";".join(m.tf_class or []),
        )
        for m in found
    ]
    if not out:
        raise ValueError(
            f"JASPAR {release} has no {collection} matrices for tax_group={tax_group!r}"
        )
    return tuple(out)


def _cache_file(collection: str, tax_group: str, release: str) -> Path:
    """Where a selection's matrices are cached: named by the selection and pyjaspar's version."""
    from importlib.metadata import version

    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = f"{release}-{collection}-{tax_group}-pyjaspar{version('pyjaspar')}.npz"
    return root / "dnabert_viz" / "jaspar" / name


_TEXT_FIELDS = ("matrix_id", "name", "family", "tf_class")


def _write_cache(path: Path, matrices: tuple[JasparMatrix, ...]) -> None:
    """The matrices as one ``.npz``: text fields as string arrays, the (sum of L, 4) stacked
    matrices and their lengths; written to a temporary file and moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f: np.array([getattr(m, f) for m in matrices]) for f in _TEXT_FIELDS}
    arrays["lengths"] = np.array([len(m.pwm) for m in matrices])
    arrays["pwms"] = np.concatenate([m.pwm for m in matrices])
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _read_cache(path: Path) -> tuple[JasparMatrix, ...]:
    """The matrices :func:`_write_cache` wrote."""
    with np.load(path, allow_pickle=False) as z:
        pwms = np.split(z["pwms"], np.cumsum(z["lengths"])[:-1])
        fields = zip(*(z[f].tolist() for f in _TEXT_FIELDS))
        return tuple(
            JasparMatrix(matrix_id, name, family, pwm, tf_class)
            for (matrix_id, name, family, tf_class), pwm in zip(fields, pwms)
        )


def match_jaspar(
    motifs: list[Motif],
    *,
    collection: str = "CORE",
    tax_group: str = "vertebrates",
    release: str = "JASPAR2026",
    n_matches: int = 1,
    max_q: float | None = None,
    min_information: float = 4.0,
    trim_information: float = 0.25,
    pseudocount: float = 0.1,
) -> pd.DataFrame:
    """Best JASPAR matches of each motif by TOMTOM, fully offline.

    Parameters
    ----------
    motifs : list of Motif
        Query motifs.
    collection, tax_group, release : str
        The JASPAR selection (pyjaspar's names).
    n_matches : int
        Rows per query, best first.
    max_q : float, optional
        Also list every further target with q below this (e.g. 0.05): the
        paralogs of one family that bind the same site (MAFK, MAFA, MAFF and
        Mafg all read the MARE) are then all in the table, not only the one
        TOMTOM happens to rank first.
    min_information : float
        Queries with less total information (bits, after trimming) get one
        row with no match and a note.
    trim_information : float
        Flanking columns below this many bits are trimmed before matching.
    pseudocount : float
        Weight of the uniform distribution mixed into each query column
        (0 leaves the query as it is).

    Returns
    -------
    pandas.DataFrame
        Columns ``motif``, ``information`` (bits of the trimmed query),
        ``n_instances``, ``rank``, ``jaspar_id``, ``jaspar_name``,
        ``tf_family`` and ``tf_class`` (JASPAR's annotation of the target:
        e.g. ``Maf-related`` in ``Basic leucine zipper factors (bZIP)``),
        ``p_value``, ``q_value`` (Benjamini-Hochberg over all
        targets of that query), ``orientation`` (``+`` or ``-``, the target's
        strand), ``offset`` and ``overlap`` (as memelite's TOMTOM reports
        them), ``note``. Each motif also keeps its best row as
        :attr:`Motif.best_match` (what its card and notebook summary show).
    """
    from memelite import tomtom

    targets = jaspar_matrices(collection, tax_group, release)
    queries = [m.trimmed(min_information=trim_information) for m in motifs]
    bits = np.array([q.information_content.sum() for q in queries])
    usable = np.flatnonzero(bits >= min_information)
    if len(usable):
        softened = [((1 - pseudocount) * queries[i].pwm + pseudocount / 4).T for i in usable]
        p, _, offsets, overlaps, strands = tomtom(
            softened, [t.pwm.T for t in targets], reverse_complement=True
        )
    row_of_query = {i: k for k, i in enumerate(usable)}
    rows, first_rows = [], []
    for i, motif in enumerate(motifs):
        first_rows.append(len(rows))
        if i not in row_of_query:
            rows.append(
                (
                    motif.name,
                    bits[i],
                    motif.n_instances,
                    0,
                    None,
                    None,
                    None,
                    None,
                    np.nan,
                    np.nan,
                    None,
                    None,
                    None,
                    f"low information ({bits[i]:.1f} bits < {min_information}): not matched",
                )
            )
            continue
        k = row_of_query[i]
        q = benjamini_hochberg(p[k])
        order = np.argsort(p[k], kind="stable")
        listed = max(n_matches, int((q < max_q).sum())) if max_q is not None else n_matches
        for rank, t in enumerate(order[:listed], start=1):
            target = targets[t]
            rows.append(
                (
                    motif.name,
                    bits[i],
                    motif.n_instances,
                    rank,
                    target.matrix_id,
                    target.name,
                    target.family,
                    target.tf_class,
                    p[k, t],
                    q[t],
                    "-" if strands[k, t] else "+",
                    int(offsets[k, t]),
                    int(overlaps[k, t]),
                    "",
                )
            )
    table = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    for motif, k in zip(motifs, first_rows):
        best = table.iloc[k]
        motif.meta.pop("jaspar", None)
        if pd.notna(best["jaspar_id"]):  # an unmatched motif has no id (NaN in the table)
            motif.meta["jaspar"] = {
                c: v.item() if isinstance(v, np.generic) else v
                for c, v in best.items()
                if c in BEST_MATCH_COLUMNS
            }
    return table


# what a motif keeps of its best match (``Motif.best_match``)
BEST_MATCH_COLUMNS = ["jaspar_id", "jaspar_name", "tf_family", "tf_class", "p_value", "q_value"]


# what the report and the motif cards read of a match table
READ_COLUMNS = ["motif", "rank", "jaspar_id", "jaspar_name", "q_value"]


def check_matches(matches: pd.DataFrame, name: str = "matches") -> None:
    """Raise ValueError, naming ``name`` (a file), when a match table lacks a column that the
    report and the motif cards read (:data:`READ_COLUMNS` of :func:`match_jaspar`'s table)."""
    missing = [c for c in READ_COLUMNS if c not in matches]
    if missing:
        raise ValueError(
            f"{name}: no {', '.join(missing)} column: not a table of match_jaspar's (it has "
            f"{', '.join(MATCH_COLUMNS)}); match again (dnabert-viz motifs, dv.match_jaspar) or "
            "remove it"
        )


def best_matches(matches: pd.DataFrame) -> pd.DataFrame:
    """Each motif's best row of a :func:`match_jaspar` table, in the table's order.

    The best row is the lowest rank; a motif that was not matched has one
    row, of rank 0, with no JASPAR id and a note.
    """
    return matches.sort_values("rank", kind="stable").drop_duplicates("motif").sort_index()
