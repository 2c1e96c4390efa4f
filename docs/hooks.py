"""mkdocs hook: the notebooks in notebooks/ become pages under notebooks/, where mkdocs-jupyter
converts them (they stay in one place: the folder JupyterLab and the tests use)."""

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


@event_priority(100)  # before mkdocs-jupyter's on_files, which picks up .ipynb files
def on_files(files, config):
    """Add every notebooks/*.ipynb as docs/notebooks/<name>.ipynb."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(NOTEBOOKS.parent),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files
