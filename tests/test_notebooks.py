"""The notebooks as files: committed without outputs; the workshop's exercises each with a
solution file and a check.

(Every notebook is run top to bottom, and its widgets used, in a live JupyterLab by
``tests/test_lab.py``.)
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
WORKSHOP = NOTEBOOKS[3]


def test_the_eight_tutorials_exist():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_every_workshop_exercise_has_its_solution_file_and_a_check():
    """Each exercise cell tells the participant which file to ``%load``; that file exists and
    sets ``answer``, and a check follows the exercise. (``tests/test_lab.py`` loads each solution
    in JupyterLab and runs its check.)"""
    nb = nbformat.read(WORKSHOP, as_version=4)
    stubs = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "%load solutions/exercise_" in c.source
    ]
    assert len(stubs) == 6 and not any("solution" in c.metadata.get("tags", []) for c in nb.cells)
    for k, i in enumerate(stubs, start=1):
        path = re.search(r"%load (solutions/exercise_\d\.py)", nb.cells[i].source).group(1)
        assert path == f"solutions/exercise_{k}.py"
        assert "answer = None" in nb.cells[i].source
        assert "answer =" in (WORKSHOP.parent / path).read_text()
        assert f"Exercise {k}: not answered yet" in nb.cells[i + 1].source
