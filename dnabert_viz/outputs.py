"""Outputs: written atomically, and never over what the user gave.

Every file is written under a temporary name and renamed into place
(:func:`atomic_write`); every output folder is built aside and moved into
place whole (:func:`atomic_folder`), with a manifest of the files it wrote
(:data:`MANIFEST`, their SHA-256). :func:`check_output` runs before a
command reads or computes anything and refuses, naming the path:

- an output that is, holds or lies inside one of the command's inputs;
- an existing file that is not an earlier output of the same kind (a Scores
  file, a dnabert_viz page);
- an existing folder that is not an earlier output folder of the same kind,
  or holds a file the project did not write there, or one changed since.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

MANIFEST = ".dnabert_viz_output"
"""In every folder :func:`atomic_folder` writes: its kind and the SHA-256 of each file it wrote."""

GENERATOR = "dnabert_viz"
"""The ``<meta name="generator">`` of every page the project writes: how a report is known."""

FOLDER_KINDS = {
    "motifs": "motif folder",
    "model": "model folder",
    "demo": "demo folder",
    "embeddings": "embeddings folder",
    "scan": "scan folder",
    "tracks": "track folder",
    "variants": "variant folder",
}
"""Kinds of output folder, with the words errors use for them."""


def _is_scores_file(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "format_version.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _is_page(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return f'<meta name="generator" content="{GENERATOR}"'.encode() in handle.read(4096)
    except OSError:
        return False


def _is_store_root(path: Path) -> bool:
    try:
        return "zarr_format" in json.loads(path.read_text())
    except (OSError, ValueError, TypeError):
        return False


def _is_table(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().startswith(TABLE_HEADERS)
    except (OSError, UnicodeDecodeError):
        return False


# the first columns of the command line's TSV tables (faithfulness curves, sanity check)
TABLE_HEADERS = ("map\tcurve\torder\tk\t", "method\tstep\trandomised\t")

FILE_KINDS: dict[str, tuple[str, Callable[[Path], bool]]] = {
    "scores": ("dnabert_viz Scores file", _is_scores_file),
    "page": ("dnabert_viz page", _is_page),
    # X.zarr/zarr.json: a store is resumed, never replaced (zarr_store)
    "store": ("Zarr store's root", _is_store_root),
    "table": ("dnabert_viz table", _is_table),
}
"""Kinds of output file: the words errors use, and how an earlier output of the kind is known."""


def _temporary_prefix(path: Path) -> str:
    """Temporaries of ``path`` are ``.NAME.PID-RANDOM.tmp`` next to it: the process id tells stale
    ones."""
    return f".{path.name}.{os.getpid()}-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporaries of ``path`` left by processes that ended (killed mid-write); returns
    them.

    Only names of this project's pattern (``.NAME.PID-RANDOM.tmp``, see
    :func:`atomic_write`) whose process is no longer running are touched.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)-\w+\.tmp")
    if not path.parent.is_dir():
        return []
    matches = [(p, pattern.fullmatch(p.name)) for p in path.parent.iterdir()]
    stale = [p for p, m in matches if m and not _running(int(m[1]))]
    for p in stale:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return stale


def _overlap(output: Path, inputs: Iterable[str | Path | None]) -> Path | None:
    """The first input that is ``output``, lies inside it or holds it (links resolved), or None."""
    out = output.resolve()
    for given in inputs:
        if given is None or not Path(given).exists():
            continue
        source = Path(given).resolve()
        if out == source or source.is_relative_to(out) or out.is_relative_to(source):
            return Path(given)
    return None


def check_output(path: str | Path, *, kind: str, inputs: Iterable[str | Path | None] = ()) -> Path:
    """Check, before any work, that an output of ``kind`` can be written at ``path``; nothing is
    created.

    The nearest existing folder above ``path`` must accept a file (a
    temporary is made there and removed at once); missing folders between
    them are created when the output is written. Stale temporaries of
    ``path`` are removed (:func:`remove_stale_temporaries`).

    Parameters
    ----------
    path : str or Path
        The output file or folder.
    kind : str
        A key of :data:`FILE_KINDS` (a file) or :data:`FOLDER_KINDS` (a folder).
    inputs : iterable of paths
        What the command reads (None entries are skipped): the output may not
        be, hold or lie inside any of them.

    Raises
    ------
    ValueError
        Naming ``path`` and the reason: an input it would replace, a folder
        where a file goes (or the reverse), an existing file or folder that
        is not an earlier output of this kind (:func:`check_replaceable`), a
        file where a parent folder goes, a location not writable.
    """
    path = Path(path)
    folder = kind in FOLDER_KINDS
    if kind not in FOLDER_KINDS and kind not in FILE_KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    clash = _overlap(path, inputs)
    if clash is not None:
        out, source = path.resolve(), clash.resolve()
        relation = "is" if out == source else "holds" if source.is_relative_to(out) else "lies in"
        raise ValueError(
            f"{path} {relation} {clash}, an input of this command: the output would replace it; "
            "choose another output"
        )
    if path.exists() and path.is_dir() != folder:
        kinds = ("file", "folder") if folder else ("folder", "file")
        raise ValueError(f"{path} is a {kinds[0]}; the output is a {kinds[1]}")
    check_replaceable(path, kind=kind)
    existing = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path("."))
    if not existing.is_dir():
        raise ValueError(f"{path}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=_temporary_prefix(path), suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"{path}: cannot write in {existing} ({err.strerror or err})") from None
    remove_stale_temporaries(path)
    return path


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` (recursively, links included), relative, sorted; not the
    manifest."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if not p.is_dir() and p.relative_to(folder) != Path(MANIFEST)
    )


def _manifest(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def _listed(names: list[str]) -> str:
    """The first three names, and how many more."""
    more = len(names) - 3
    return ", ".join(names[:3]) + (f" and {more} more" if more > 0 else "")


def check_replaceable(path: str | Path, *, kind: str) -> None:
    """Raise unless an output of ``kind`` may be (re)written at ``path``.

    A missing path may. An existing file may be replaced when it is an
    earlier output of the same kind (:data:`FILE_KINDS`); an existing folder
    when it is empty, or when its manifest (:data:`MANIFEST`) says it is an
    earlier output folder of the same kind and every file in it is one that
    was written there, unchanged. Anything else (``--out .``, someone's data,
    a note added to an output folder, an edited output) is refused, naming
    what it would destroy.
    """
    path = Path(path)
    if not path.exists():
        return
    if kind in FILE_KINDS:
        words, recognise = FILE_KINDS[kind]
        if path.is_file() and not recognise(path):
            raise ValueError(
                f"{path} exists and is not a {words}: it would be replaced; choose another name "
                "or remove it yourself"
            )
        return
    if not path.is_dir() or not any(path.iterdir()):
        return
    words = FOLDER_KINDS[kind]
    manifest = _manifest(path)
    if manifest is None:
        raise ValueError(
            f"{path} is a folder with other files in it, not an earlier dnabert-viz {words}: it "
            "would be replaced; choose a new or empty folder"
        )
    if manifest.get("kind") != kind:
        other = FOLDER_KINDS.get(manifest.get("kind"), "output of another kind")
        raise ValueError(f"{path} is a dnabert-viz {other}, not a {words}: choose another folder")
    written = manifest["files"]
    foreign = [name for name in _files(path) if name not in written]
    if foreign:
        names = _listed(foreign)
        raise ValueError(
            f"{path} holds files dnabert-viz did not write there ({names}): replacing it would "
            "delete them; move them out or choose another folder"
        )
    changed = [name for name in _files(path) if _digest(path / name) != written[name]]
    if changed:
        raise ValueError(
            f"{path}: {_listed(changed)} changed since dnabert-viz wrote "
            "it: replacing the folder would lose the change; choose another folder"
        )


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object] | str | bytes) -> None:
    """Write a file so that it is complete or absent, never half-written.

    Parameters
    ----------
    path : str or Path
        Destination; a temporary file in the same folder is renamed onto it.
        Missing parent folders are created; stale temporaries of earlier,
        killed writes to ``path`` are removed.
    write : callable, str or bytes
        Content, or a function that writes to the binary file handle it is given.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        if callable(write):
            write(handle)
        else:
            handle.write(write.encode() if isinstance(write, str) else write)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a library that writes files by name (pyBigWig),
    renamed onto ``path`` when the block succeeds, removed when it fails.

    Missing parent folders are created; stale temporaries of earlier, killed
    writes to ``path`` are removed (:func:`remove_stale_temporaries`). The
    file is synced to disk before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        # mkstemp makes the file private; give it the usual permissions
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, kind: str) -> Iterator[Path]:
    """Build a folder under a temporary name and move it into place only when the block succeeds.

    On an error (Ctrl-C included) the temporary folder is removed and an
    existing ``path`` is left as it was; on success an existing ``path`` is
    replaced, but only an empty one or an earlier, untouched output folder of
    the same ``kind`` (:func:`check_replaceable`, checked before the block
    runs and again before the swap). The new folder gets a manifest
    (:data:`MANIFEST`) of the files the block wrote. Missing parent folders
    are created; stale temporaries of earlier, killed runs into ``path`` are
    removed.

    Parameters
    ----------
    path : str or Path
        The output folder.
    kind : str
        A key of :data:`FOLDER_KINDS`.
    """
    if kind not in FOLDER_KINDS:
        raise ValueError(f"unknown output folder kind {kind!r}")
    path = Path(path)
    check_replaceable(path, kind=kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp"))
    try:
        yield tmp
        files = {name: _digest(tmp / name) for name in _files(tmp)}
        (tmp / MANIFEST).write_text(json.dumps({"kind": kind, "files": files}, indent=1) + "\n")
        os.chmod(tmp, 0o777 & ~_umask())
        check_replaceable(path, kind=kind)  # nothing was added while the block ran
        _swap(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(new: Path, path: Path) -> None:
    """Move folder ``new`` to ``path``; an existing ``path`` is moved aside first and deleted only
    once ``new`` is in place (put back if the move fails)."""
    if not path.exists():
        os.replace(new, path)
        return
    aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp"))
    os.replace(path, aside / path.name)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(aside / path.name, path)
        aside.rmdir()
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
