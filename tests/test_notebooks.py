"""The notebooks as files: committed without outputs, the workshop's solutions hidden and checked.

(Running them top to bottom is nbmake's job: ``pytest`` collects ``notebooks/``.)
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_the_five_tutorials_exist():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_workshop_exercises_have_a_stub_a_hidden_solution_and_a_check():
    cells = nbformat.read(NOTEBOOKS[3], as_version=4).cells
    solutions = [i for i, c in enumerate(cells) if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) == 3
    for i in solutions:
        assert cells[i].metadata["jupyter"]["source_hidden"] is True
        assert cells[i - 1].source.strip() == "# your code here"
        assert "answer =" in cells[i].source and "assert" in cells[i + 1].source and "answer" in cells[i + 1].source
