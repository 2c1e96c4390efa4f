"""One-hot arrays and (N, L, 4) hypothetical contributions: checks, and the files CNN tools
exchange.

Genomics tools for convolutional models speak in one-hot arrays: a sequence
is (L, 4) over A C G T, and an attribution method gives *hypothetical
contributions* (L, 4), the contribution each base would make at each
position; the actual contribution of a position is its row's entry at the
base that is there (``(one_hot * hypothetical).sum(-1)``).

Files: tfmodisco-lite's command line (``modisco motifs -s ohe.npz -a
shap.npz``) and tangermeme both use channels-first arrays (N, 4, L), saved
with ``numpy.savez`` as the archive's only member ``arr_0``.
:func:`save_ohe` writes that layout and :func:`load_ohe` reads it back into a
:class:`~dnabert_viz.Scores` (for example attributions a CNN computed in
tangermeme), so the explorer can show them beside a language model's.
Sequences of unequal length are padded at the end with all-zero columns,
which the readers take as padding (an ``N`` inside a sequence is an all-zero
column too; trailing ``N`` cannot be told from padding and is dropped).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .outputs import atomic_write
from .scores import Scores
from .sequences import one_hot


def check_one_hot(x: np.ndarray, name: str = "one_hot") -> np.ndarray:
    """Check a one-hot array (N, L, 4): every row all zero or a single 1; returns it as float32.

    Raises
    ------
    ValueError
        A wrong shape, or a row that is not one-hot (naming sequence and position).
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != 4:
        raise ValueError(f"{name} must be (N, L, 4) over A C G T, got shape {x.shape}")
    binary = (x == 0) | (x == 1)
    bad = ~binary.all(axis=2) | (x.sum(axis=2) > 1)
    if bad.any():
        i, p = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: sequence {i}, position {p} is not one-hot (row {x[i, p].tolist()}); "
            "each row must be all zero (N or padding) or hold a single 1"
        )
    return x.astype(np.float32)


def check_contributions(
    x: np.ndarray, hypothetical: np.ndarray, name: str = "hypothetical"
) -> np.ndarray:
    """Check hypothetical contributions (N, L, 4) against one-hot sequences (N, L, 4); returns
    float32.

    Raises
    ------
    ValueError
        Shapes that disagree (naming both), or a non-finite value inside a sequence.
    """
    hypothetical = np.asarray(hypothetical, dtype=np.float32)
    if hypothetical.shape != x.shape:
        raise ValueError(
            f"{name} has shape {hypothetical.shape} but the one-hot sequences {x.shape}: "
            "they must agree in sequences, length and bases"
        )
    bad = ~np.isfinite(hypothetical) & (x.sum(axis=2, keepdims=True) > 0)
    if bad.any():
        i, p, _ = map(int, np.argwhere(bad)[0])
        raise ValueError(f"{name}: sequence {i}, position {p} is not finite")
    return hypothetical


def sequences_from_one_hot(x: np.ndarray, name: str = "one_hot") -> list[str]:
    """The sequences a one-hot array (N, L, 4) spells; all-zero rows are ``N``, trailing ones
    padding.
    """
    x = check_one_hot(x, name)
    filled = x.sum(axis=2) > 0
    letters = np.where(filled, x.argmax(axis=2), 4)
    seqs = []
    for i, row in enumerate(letters):
        present = np.flatnonzero(filled[i])
        if not len(present):
            raise ValueError(f"{name}: sequence {i} has no base (all rows are zero)")
        seqs.append("".join("ACGTN"[c] for c in row[: present[-1] + 1]))
    return seqs


def save_ohe(scores: Scores, folder: str | Path) -> tuple[Path, Path]:
    """Write ``ohe.npz`` and ``shap.npz`` (each ``arr_0``, (N, 4, L)) for ``modisco motifs -s ...
    -a ...``.

    Returns
    -------
    (Path, Path)
        The one-hot file and the contributions file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x, hypothetical = scores.to_numpy_ohe()
    paths = folder / "ohe.npz", folder / "shap.npz"
    for path, array in zip(paths, (x, hypothetical)):
        atomic_write(path, lambda handle, a=array: np.savez(handle, a))
    return paths


def _read_array(path: str | Path) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            if len(archive.files) != 1:
                raise ValueError(f"{path}: expected one array (arr_0), found {archive.files}")
            return archive[archive.files[0]]
    return np.load(path, allow_pickle=False)


def load_ohe(
    ohe_path: str | Path,
    attr_path: str | Path,
    *,
    kind: str = "imported",
    channels_first: bool = True,
) -> Scores:
    """Read (one-hot, hypothetical contributions) files into Scores, e.g. a CNN's from tangermeme.

    Parameters
    ----------
    ohe_path, attr_path : str or Path
        ``.npz`` (one array) or ``.npy`` files of one-hot sequences and their
        hypothetical contributions, (N, 4, L), or (N, L, 4) with
        ``channels_first=False``.
    kind : str
        The Scores' kind (its name in the explorer's menu).

    Returns
    -------
    Scores
        Values (N, L) the actual contributions ``(one_hot * hypothetical).sum``;
        ``extra["hypothetical"]`` (N, L, 4), NaN past each sequence's end.

    Raises
    ------
    ValueError
        Shapes that disagree between the two files, rows that are not one-hot
        (naming the file, sequence and position).
    """
    x, attr = _read_array(ohe_path), _read_array(attr_path)
    if channels_first:
        for path, array in ((ohe_path, x), (attr_path, attr)):
            if array.ndim != 3 or array.shape[1] != 4:
                raise ValueError(
                    f"{path}: expected (N, 4, L) channels-first arrays, got shape {array.shape}"
                )
        x, attr = x.transpose(0, 2, 1), attr.transpose(0, 2, 1)
    x = check_one_hot(x, str(ohe_path))
    hypothetical = check_contributions(x, attr, str(attr_path))
    seqs = sequences_from_one_hot(x, str(ohe_path))
    return contribution_scores(seqs, hypothetical, kind, {"source": str(attr_path)})


def contribution_scores(
    sequences: list[str],
    hypothetical: np.ndarray,
    kind: str,
    meta: dict,
    extra: dict | None = None,
) -> Scores:
    """Scores whose values are the actual contributions of hypothetical ones (N, >= L, 4), kept in
    extra.

    Past each sequence's end values and hypothetical contributions are NaN.
    """
    width = max(map(len, sequences))
    x = one_hot(sequences, length=width)
    hypothetical = np.array(hypothetical[:, :width], dtype=np.float32)
    past = np.arange(width)[None, :] >= np.array([len(s) for s in sequences])[:, None]
    hypothetical[past] = np.nan
    values = (x * hypothetical).sum(axis=2)
    values[past] = np.nan
    return Scores(sequences, values, kind, meta, {**(extra or {}), "hypothetical": hypothetical})
