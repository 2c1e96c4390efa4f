"""The test genome: 40 kb of human chr17 (hg19) and 20 human mRNAs, as Debian's
python-pyfaidx-examples ships them (pyfaidx's own test data; ``make test`` installs the
package), and helpers of the tests that read it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path("/usr/share/doc/python-pyfaidx-examples/examples")


def copy_chr17(folder: Path) -> Path:
    """A copy of chr17.hg19.part.fa in ``folder`` (its .fai is built there on first use)."""
    if not (EXAMPLES / "chr17.hg19.part.fa").is_file():
        pytest.fail(
            "the test genome is missing: apt-get install python-pyfaidx-examples (make test does)"
        )
    shutil.copy(EXAMPLES / "chr17.hg19.part.fa", folder)
    return folder / "chr17.hg19.part.fa"


def chr17(genome: Path) -> str:
    """The sequence of the copy ``genome``, upper case."""
    return "".join(genome.read_text().split("\n")[1:]).upper()


def write(path: Path, lines: list[str]) -> Path:
    """``lines`` as a text file at ``path``, one per line; the path."""
    path.write_text("".join(line + "\n" for line in lines))
    return path
