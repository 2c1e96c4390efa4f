"""The docs site (mkdocs.yml, docs/): a strict build (no broken link, no docstring griffe cannot
read), an API reference that documents every public name, and the notebooks as pages."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dnabert_viz as dv

ROOT = Path(__file__).parents[1]
API = ROOT / "docs" / "api"


def documented(page: str) -> set[str]:
    """The objects a docs/api page renders (its ``::: dotted.name`` lines)."""
    return set(re.findall(r"^::: (\S+)$", (API / page).read_text(), flags=re.M))


def test_api_pages_cover_every_public_name():
    names = documented("index.md")
    missing = {n for n in dv.__all__ if f"dnabert_viz.{n}" not in names} - {"plot", "widgets"}
    assert not missing, f"public names missing from docs/api/index.md: {sorted(missing)}"
    assert {"dnabert_viz.plot"} == documented("plot.md")
    assert {"dnabert_viz.widgets"} == documented("widgets.md")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built strictly without running the notebooks (tests/test_lab.py runs them)."""
    tmp = tmp_path_factory.mktemp("docs")
    env = {
        **os.environ,
        "DOCS_EXECUTE": "false",
        "DOCS_CACHE_DIR": str(tmp / "cache"),  # not the executed pages' cache of make docs
        "NO_MKDOCS_2_WARNING": "1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return tmp / "site"


def text_of(html: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.read_text()))


@pytest.mark.slow  # about 15 CPU-seconds: griffe reads the package, nbconvert the notebooks
def test_strict_build_documents_the_api(site):
    page = (site / "api" / "index.html").read_text()
    for name in set(dv.__all__) - {"plot", "widgets"}:
        assert f'id="dnabert_viz.{name}"' in page, name
    score = text_of(site / "api" / "index.html").split("Per-nucleotide scores of", 1)[1][:3000]
    for parameter in ("sequences", "method", "target", "batch_size", "out", "engine", "resume"):
        assert f" {parameter} " in score, parameter
    plot = (site / "api" / "plot" / "index.html").read_text()
    assert all(f'id="dnabert_viz.plot.{n}"' in plot for n in dv.plot.__all__)
    widgets = (site / "api" / "widgets" / "index.html").read_text()
    assert all(f'id="dnabert_viz.widgets.{n}"' in widgets for n in dv.widgets.__all__)


@pytest.mark.slow
def test_strict_build_has_the_notebooks_and_included_pages(site):
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 8
    for name in notebooks:
        assert (site / "notebooks" / name / "index.html").is_file(), name
    genome = text_of(site / "notebooks" / "06_genome_scale" / "index.html")
    assert "read_intervals" in genome
    assert "One place to change" in text_of(site / "architecture" / "index.html")
    benchmarks = text_of(site / "benchmarks" / "index.html")
    assert "attribution_memory.py" in benchmarks and "--8<--" not in benchmarks
    home = text_of(site / "index.html")
    assert "08_language_model.ipynb" in home and "make demo" in home
