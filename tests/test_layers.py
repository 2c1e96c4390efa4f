"""The layers of ARCHITECTURE.md, checked against the imports in the code.

The table is read from ARCHITECTURE.md itself, so the two cannot drift
apart: every module of the package sits in exactly one layer, every import
of a ``dnabert_viz`` module (at the top of a file or inside a function)
goes to its own layer or one below, and the imports have no circle.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "dnabert_viz"


def read_layers(text: str) -> list[tuple[str, list[str]]]:
    """(layer, module paths) of the table under ``## Layers``, top layer first.

    A module is a backticked name ending in ``.py`` or ``/`` (a sub-package)
    in the modules column, outside parentheses (which name what is in it).
    """
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # after header
    layers = []
    for row in rows:
        layer, modules = (cell.strip() for cell in row.strip("|").split("|")[:2])
        while re.search(r"\([^()]*\)", modules):
            modules = re.sub(r"\([^()]*\)", "", modules)
        layers.append((layer, re.findall(r"`([\w/.]+(?:\.py|/))`", modules)))
    return layers


def module_name(path: Path, root: Path = ROOT) -> str:
    """``dnabert_viz.motifs.motif`` for ``root/dnabert_viz/motifs/motif.py`` (a package is its
    ``__init__.py``)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """The package's modules ``path`` imports, anywhere in the file (a name that is a module:
    ``from . import x`` imports ``x``)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    return {m for m in found if m in modules and m != name}


def layer_of_modules(layers: list[tuple[str, list[str]]]) -> dict[str, int]:
    """Module name -> layer rank (0 the lowest), from the table's paths."""
    ranks = {}
    for rank, (_, paths) in enumerate(reversed(layers)):
        for entry in paths:
            target = PACKAGE / entry
            assert target.exists(), f"ARCHITECTURE.md names {entry}, which is not in dnabert_viz/"
            files = sorted(target.rglob("*.py")) if entry.endswith("/") else [target]
            for file in files:
                ranks[module_name(file)] = rank
    return ranks


def upward(graph: dict[str, set[str]], rank: dict[str, int]) -> list[str]:
    """Every import of a module in a higher layer, as ``importer -> imported``."""
    return sorted(
        f"{a} -> {b}" for a, targets in graph.items() for b in targets if rank[b] > rank[a]
    )


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.fixture(scope="module")
def layers():
    return read_layers((ROOT / "ARCHITECTURE.md").read_text())


@pytest.fixture(scope="module")
def graph():
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports(f, modules) for f in files}


def test_the_table_places_every_module_once(layers, graph):
    assert [name for name, _ in layers][:2] == ["public API", "views"]
    assert [name for name, _ in layers][-2:] == ["data", "runtime"]
    seen = [entry for _, paths in layers for entry in paths]
    assert len(seen) == len(set(seen)), f"a module in two layers: {seen}"
    rank = layer_of_modules(layers)
    assert sorted(set(graph) - set(rank)) == [], "modules missing from ARCHITECTURE.md's table"


def test_no_module_imports_from_a_layer_above_its_own(layers, graph):
    assert upward(graph, layer_of_modules(layers)) == []


def test_imports_have_no_circle(graph):
    assert circle(graph) is None


def test_the_checks_find_an_upward_import_and_a_circle():
    # the layering before issue 29: Scores opened stores through the engines, and
    # scores <-> onehot imported each other
    rank = {"dnabert_viz.engines.store": 1, "dnabert_viz.scores": 0, "dnabert_viz.onehot": 0}
    before = {
        "dnabert_viz.engines.store": {"dnabert_viz.scores"},
        "dnabert_viz.scores": {"dnabert_viz.engines.store", "dnabert_viz.onehot"},
        "dnabert_viz.onehot": {"dnabert_viz.scores"},
    }
    assert upward(before, rank) == ["dnabert_viz.scores -> dnabert_viz.engines.store"]
    assert circle(before) == [
        "dnabert_viz.engines.store",
        "dnabert_viz.scores",
        "dnabert_viz.engines.store",
    ]
    table = "## Layers\n\n| layer | modules | job |\n|---|---|---|\n" + (
        "| top | `cli.py` (`main`, see `io.py`) | x |\n| data | `io.py`, `plot/` (`logos`) | y |\n"
    )
    assert read_layers(table) == [("top", ["cli.py"]), ("data", ["io.py", "plot/"])]


def test_a_lazy_import_counts(tmp_path):
    (tmp_path / "dnabert_viz").mkdir()
    source = tmp_path / "dnabert_viz" / "scores.py"
    source.write_text("def open():\n    from .engines.store import StoredScores\n")
    found = imports(source, {"dnabert_viz.scores", "dnabert_viz.engines.store"}, tmp_path)
    assert found == {"dnabert_viz.engines.store"}
