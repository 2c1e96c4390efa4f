"""The notebooks as files: committed without outputs; the workshop run as a class runs it,
solutions checked.

(Every notebook is run top to bottom, and its widgets used, in a live JupyterLab by
``tests/test_lab.py``.)
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
WORKSHOP = NOTEBOOKS[3]


def test_the_seven_tutorials_exist():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def _outputs_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_workshop_runs_as_a_class_runs_it_and_every_solution_passes_its_check(tmp_path):
    """One execution, both paths: Run All with empty exercises (every check says "not answered
    yet"),
    then each solution as a participant loads it (``%load solutions/exercise_k.py``) followed by
    its check again."""
    nb = nbformat.read(WORKSHOP, as_version=4)
    stubs = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "%load solutions/exercise_" in c.source
    ]
    assert len(stubs) == 3 and not any("solution" in c.metadata.get("tags", []) for c in nb.cells)
    plain_checks = [nb.cells[i + 1] for i in stubs]
    solved_checks = []
    for k, i in reversed(
        list(enumerate(stubs, start=1))
    ):  # from the end, so earlier indices stay valid
        path = re.search(r"%load (solutions/exercise_\d\.py)", nb.cells[i].source).group(1)
        assert path == f"solutions/exercise_{k}.py"
        solution = (WORKSHOP.parent / path).read_text()
        assert "answer =" in solution
        check = nbformat.v4.new_code_cell(nb.cells[i + 1].source)
        nb.cells[i + 2 : i + 2] = [nbformat.v4.new_code_cell(solution), check]
        solved_checks.insert(0, check)
    NotebookClient(
        nb, timeout=900, resources={"metadata": {"path": str(WORKSHOP.parent)}}
    ).execute()
    for k, (plain, solved) in enumerate(zip(plain_checks, solved_checks), start=1):
        assert _outputs_text(plain) == f"Exercise {k}: not answered yet\n"
        assert "not answered" not in _outputs_text(solved) and _outputs_text(solved).strip()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
