"""Motif files: MEME minimal format, JASPAR format, and a motif folder (save_motifs / load_motifs).

Every file is written to a temporary name in its folder and renamed into
place, so an interrupted save never leaves a half-written file.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..outputs import atomic_write
from ..sequences import ALPHABET
from .jaspar import check_matches
from .motif import INSTANCE_COLUMNS, Motif

_MEME_HEADER = (
    "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
    "Background letter frequencies\nA 0.25 C 0.25 G 0.25 T 0.25\n\n"
)


def _check_name(name: str) -> str:
    if not name or re.search(r"\s", name):
        raise ValueError(
            f"motif name {name!r} cannot be written: names must be non-empty and without "
            "white space"
        )
    return name


def meme_text(motifs: list[Motif]) -> str:
    """MEME minimal format: probabilities, ``nsites`` = instances, ``E`` = the motif's p-value."""
    parts = [_MEME_HEADER]
    for m in motifs:
        e = "NA" if np.isnan(m.p_value) else f"{m.p_value:.3g}"
        parts.append(
            f"MOTIF {_check_name(m.name)}\nletter-probability matrix: alength= 4 w= {len(m)} "
            f"nsites= {m.n_instances} E= {e}\n"
        )
        parts.extend(" ".join(f"{v:.6f}" for v in row) + "\n" for row in m.pwm)
        parts.append("\n")
    return "".join(parts)


def write_meme(motifs: list[Motif], path: str | Path) -> None:
    """Write motifs to a MEME minimal-format file."""
    atomic_write(Path(path), meme_text(motifs))


def read_meme(path: str | Path) -> list[Motif]:
    """Read a MEME minimal-format file (DNA alphabet).

    Counts are probabilities times ``nsites`` (20 when absent, MEME's convention).

    Raises
    ------
    ValueError
        Naming the file and line of a malformed matrix.
    """
    lines = Path(path).read_text().splitlines()
    motifs, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("MOTIF"):
            i += 1
            continue
        fields = lines[i].split()
        if len(fields) < 2:
            raise ValueError(f"{path}, line {i + 1}: MOTIF without a name")
        name, header_line = fields[1], i + 1
        while i < len(lines) and not lines[i].startswith("letter-probability"):
            i += 1
        if i == len(lines):
            raise ValueError(
                f"{path}, line {header_line}: motif {name} has no letter-probability matrix"
            )
        width = re.search(r"\bw=\s*(\d+)", lines[i])
        nsites = re.search(r"\bnsites=\s*([\d.]+)", lines[i])
        evalue = re.search(r"\bE=\s*(\S+)", lines[i])
        if width is None:
            raise ValueError(f"{path}, line {i + 1}: the letter-probability line has no w=")
        rows = []
        for j in range(i + 1, i + 1 + int(width.group(1))):
            try:
                row = [float(v) for v in lines[j].split()]
            except (IndexError, ValueError):
                row = []
            if len(row) != 4:
                raise ValueError(
                    f"{path}, line {j + 1}: expected 4 probabilities (A C G T) for motif {name}"
                )
            rows.append(row)
        sites = float(nsites.group(1)) if nsites else 20.0
        p_value = _float_or_nan(evalue.group(1)) if evalue else float("nan")
        motifs.append(Motif(name, np.array(rows) * sites, p_value=p_value, method="meme"))
        i += 1 + len(rows)
    return motifs


def jaspar_text(motifs: list[Motif]) -> str:
    """JASPAR format: ``>name consensus`` then one ``X [ counts ]`` line per base."""
    parts = []
    for m in motifs:
        parts.append(f">{_check_name(m.name)}\t{m.consensus}\n")
        for b, column in zip(ALPHABET, m.counts.T):
            parts.append(f"{b}  [ " + " ".join(f"{v:g}" for v in column) + " ]\n")
    return "".join(parts)


def write_jaspar(motifs: list[Motif], path: str | Path) -> None:
    """Write motifs to a JASPAR-format count file."""
    atomic_write(Path(path), jaspar_text(motifs))


def read_jaspar(path: str | Path) -> list[Motif]:
    """Read a JASPAR-format count file (one or several matrices).

    Raises
    ------
    ValueError
        Naming the file and line of a malformed matrix.
    """
    lines = [
        (n, line.strip())
        for n, line in enumerate(Path(path).read_text().splitlines(), start=1)
        if line.strip()
    ]
    motifs, i = [], 0
    while i < len(lines):
        number, line = lines[i]
        if not line.startswith(">"):
            raise ValueError(f"{path}, line {number}: expected a '>' header")
        name = line[1:].split()[0] if line[1:].split() else ""
        counts = []
        for b, (n, row) in zip(ALPHABET, lines[i + 1 : i + 5]):
            match = re.fullmatch(rf"{b}\s*\[([^\]]*)\]", row)
            if match is None:
                raise ValueError(f"{path}, line {n}: expected '{b} [ counts ]' for motif {name}")
            counts.append([float(v) for v in match.group(1).split()])
        if len(counts) != 4 or len({len(c) for c in counts}) != 1:
            raise ValueError(
                f"{path}, line {number}: motif {name} needs four count rows of equal length"
            )
        motifs.append(Motif(name, np.array(counts).T, method="jaspar"))
        i += 5
    return motifs


def instance_file_name(motif: Motif) -> str:
    """DNABERT-viz's instance file name: ``motif_<name>_<number of instances>.txt``."""
    return f"motif_{_check_name(motif.name)}_{motif.n_instances}.txt"


def save_motifs(
    motifs: list[Motif], folder: str | Path, matches: pd.DataFrame | None = None
) -> Path:
    """Write a motif folder.

    Files: ``motifs.meme``, ``motifs.jaspar``, ``motifs.tsv`` (tidy: one row
    per instance with the motif's name, method and p-value, and the record
    name of its sequence when the motifs' scores carry names),
    ``motif_<name>_<n>.txt`` per motif (its aligned instance sequences, one a
    line, as DNABERT-viz writes them), ``contributions.npz`` (seqlet and modisco
    motifs' contribution matrices), ``hypothetical.npz`` (hypothetical CWMs, where
    motifs have them), ``motifs.json`` (order and metadata) and, when
    ``matches`` (:func:`dnabert_viz.match_jaspar`'s table) is given, ``matches.tsv``.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [_check_name(m.name) for m in motifs]
    if len(set(names)) != len(names):
        raise ValueError("motif names must be distinct to be saved in one folder")
    write_meme(motifs, folder / "motifs.meme")
    write_jaspar(motifs, folder / "motifs.jaspar")
    tables = [
        m.instances.assign(motif=m.name, method=m.method, p_value=m.p_value)
        for m in motifs
        if len(m.instances)
    ]
    tidy = (
        pd.concat(tables)
        if tables
        else pd.DataFrame(columns=["motif", "method", "p_value", *INSTANCE_COLUMNS])
    )
    columns = ["motif", "method", "p_value", *INSTANCE_COLUMNS]
    record_names = getattr(getattr(motifs, "scores", None), "names", None)
    if record_names is not None:
        tidy = tidy.assign(sequence_name=[record_names[i] for i in tidy["sequence_index"]])
        columns.append("sequence_name")
    atomic_write(folder / "motifs.tsv", tidy[columns].to_csv(sep="\t", index=False))
    for m in motifs:
        if len(m.instances):
            atomic_write(folder / instance_file_name(m), "".join(s + "\n" for s in m.sequences))
    contributions = {m.name: m.contribution for m in motifs if m.contribution is not None}
    atomic_write(folder / "contributions.npz", lambda handle: np.savez(handle, **contributions))
    hypothetical = {m.name: m.hypothetical for m in motifs if m.hypothetical is not None}
    if hypothetical:
        atomic_write(folder / "hypothetical.npz", lambda handle: np.savez(handle, **hypothetical))
    info = [
        {
            "name": m.name,
            "method": m.method,
            "p_value": None if np.isnan(m.p_value) else m.p_value,
            "meta": json.loads(json.dumps(m.meta, default=_jsonable)),
            "hypothetical": m.hypothetical is not None,
        }
        for m in motifs
    ]
    atomic_write(folder / "motifs.json", json.dumps(info, indent=1))
    if matches is not None:
        atomic_write(folder / "matches.tsv", matches.to_csv(sep="\t", index=False))
    return folder


def load_motifs(folder: str | Path) -> list[Motif]:
    """Read a folder written by :func:`save_motifs` back into Motif objects (instances included).

    Raises
    ------
    FileNotFoundError
        For a missing folder or file of the folder (named).
    ValueError
        Naming the file that is truncated, corrupt or not of its format.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: no such motif folder{' (a file)' if folder.exists() else ''}"
        )
    info = _read(folder / "motifs.json", lambda f: _check_info(json.loads(f.read_text())))
    matrices = _read(folder / "motifs.meme", lambda f: {m.name: m for m in read_meme(f)})
    columns = {"strand": str, "sequence": str}
    tidy = _read(folder / "motifs.tsv", lambda f: pd.read_csv(f, sep="\t", dtype=columns))
    contributions = _read(folder / "contributions.npz", _read_arrays)
    # folders written before hypothetical CWMs were kept have no "hypothetical" entries
    wanted = [e["name"] for e in info if e.get("hypothetical")]
    hypothetical = _read(folder / "hypothetical.npz", _read_arrays) if wanted else {}
    missing = [name for name in wanted if name not in hypothetical]
    if missing:
        raise ValueError(
            f"{folder / 'hypothetical.npz'}: has no matrix for {', '.join(missing)}, which "
            "motifs.json says it has"
        )
    motifs = []
    for entry in info:
        name = entry["name"]
        rows = tidy[tidy["motif"] == name]
        p_value = float("nan") if entry["p_value"] is None else entry["p_value"]
        common = dict(
            p_value=p_value,
            method=entry["method"],
            contribution=contributions.get(name),
            meta=entry["meta"],
            hypothetical=hypothetical.get(name),
        )
        if len(rows):
            motifs.append(Motif.from_sites(name, rows[INSTANCE_COLUMNS], **common))
        elif name in matrices:
            motifs.append(Motif(name, matrices[name].counts, **common))
        else:
            raise ValueError(
                f"{folder / 'motifs.meme'}: has no motif {name!r}, which motifs.json lists"
            )
    return motifs


def read_matches(path: str | Path) -> pd.DataFrame:
    """Read a motif folder's ``matches.tsv`` (:func:`dnabert_viz.match_jaspar`'s table).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Naming the file: unreadable, or without a column the report reads
        (:func:`dnabert_viz.motifs.jaspar.check_matches`).
    """
    path = Path(path)
    matches = _read(path, lambda f: pd.read_csv(f, sep="\t"))
    check_matches(matches, str(path))
    return matches


def _read(path: Path, reader):
    """``reader(path)``, with any failure of a present file turned into one ValueError naming
    it."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file; {path.parent} is not a complete motif folder"
        )
    try:
        return reader(path)
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"{path}: unreadable or corrupt ({type(err).__name__}: {str(err)[:200]})"
        ) from None


def _check_info(info) -> list[dict]:
    keys = {"name", "method", "p_value", "meta"}
    if not isinstance(info, list) or not all(isinstance(e, dict) and keys <= set(e) for e in info):
        raise ValueError("expected a list of motifs with name, method, p_value and meta")
    return info


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in motifs.json")
