"""The README's tour and the docs' variant-effects page: their variant-effect lines run as
written (they build the mutation file they read). The README's model-families table has a row
for every family built natively (architectures/families.py) and the stock ones; the README
stays under 150 lines."""

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


def family_rows() -> dict[str, list[str]]:
    """The README's model-families table: family (first column) -> its other cells."""
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- --8<-- [start:families] -->", 1)[1].split("<!--", 1)[0]
    lines = [line for line in table.splitlines() if line.startswith("|")][2:]  # past the header
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return {row[0]: row[1:] for row in rows}


def test_family_table_names_every_native_family_and_the_stock_ones():
    from dnabert_viz.architectures.families import FAMILIES

    rows = family_rows()
    header = "| family | loads | attention | attribution | LM scores | parity test | licence"
    assert header in (ROOT / "README.md").read_text()
    assert all(len(cells) == 6 and all(cells) for cells in rows.values()), rows
    first_words = {name.split(",")[0] for name in rows}
    missing = [f.name for f in FAMILIES if f.name not in first_words]
    assert not missing, f"README's model-families table has no row for {missing}"
    stock = ["DNABERT-1", "DNABERT-S", "Nucleotide Transformer v1", "GROVER", "ModernBERT DNA"]
    assert set(stock + ["zhangtaolab plant models", "any BERT-like"]) <= first_words


def test_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) < 150
