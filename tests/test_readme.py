"""The README's tour and the docs' variant-effects page: their variant-effect lines run as
written (they build the mutation file they read)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def tour_statements(page: str, heading: str) -> list[str]:
    """The first code block after heading, one top-level statement a string (a statement may span
    lines)."""
    text = (ROOT / page).read_text()
    block = text.split(heading, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    return [ast.get_source_segment(block, node) for node in ast.parse(block).body]


@pytest.mark.parametrize(
    ("page", "heading"), [("README.md", "## A tour"), ("docs/variants.md", "# Variant effects")]
)
def test_tour_variant_effects_lines_run(page, heading, tmp_path, monkeypatch):
    lines = tour_statements(page, heading)
    setup = [ln for ln in lines if ln.startswith(("import ", "m = ", "data = ", "seqs = "))]
    variants = [ln for ln in lines if "mutations.txt" in ln]
    assert len(setup) == 4 and len(variants) == 2
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec("\n".join(setup + variants), scope)
    v, seqs = scope["v"], scope["seqs"]
    rows = v[["sequence_index", "start", "end", "alt"]].values.tolist()
    assert rows == [[0, 10, 11, "A"], [1, 20, 23, ""]]
    assert v["ref"].tolist() == [seqs[0][10], seqs[1][20:23]]
    assert ((v.p_ref >= 0) & (v.p_ref <= 1) & (v.p_alt >= 0) & (v.p_alt <= 1)).all()
