"""Published code of public GitHub repositories, for parity tests: read and run, never copied.

A repository is read from a snapshot (a bare git directory) in
``$DNABERT_VIZ_MIRROR/<owner>+<name>/repo``, by default the ``.mirror``
folder beside the project's checkout (where this workplace's ``fetch``
puts them). A test that needs one skips, naming the repository, when it is
absent: a fresh clone passes without any.
"""

import os
import subprocess
from pathlib import Path

import pytest

BESIDE = Path(__file__).resolve().parents[2] / ".mirror"
MIRROR = Path(os.environ.get("DNABERT_VIZ_MIRROR", BESIDE))


def published_files(repo: str, paths: list[str], into: Path) -> Path:
    """Write the published ``paths`` of GitHub ``repo`` ("owner/name") under ``into``.

    Parameters
    ----------
    repo : str
        ``owner/name`` on GitHub.
    paths : list of str
        Files in the repository, relative to its root; written at the same relative paths.
    into : Path
        Folder to write them in (a test's ``tmp_path``).

    Returns
    -------
    Path
        ``into``. Skips the calling test when the snapshot is absent.
    """
    git_dir = MIRROR / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        pytest.skip(f"the published code of {repo} is absent ({git_dir}; set DNABERT_VIZ_MIRROR)")
    for path in paths:
        text = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"],
            capture_output=True,
            check=True,
        ).stdout
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text)
    return into
