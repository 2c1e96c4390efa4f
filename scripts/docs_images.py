"""Copy the live JupyterLab test's screenshots of each view into the docs' pictures.

``tests/test_lab.py`` and ``tests/test_lab_embedding.py`` drive every view in
JupyterLab in chromium (1,440 x 900) and save screenshots to
``tests/artifacts/lab/``; the docs show those, never a picture made another
way. After ``make test`` (or ``pytest -m lab``):

    python scripts/docs_images.py

A screenshot that is missing (its test did not run) is an error naming it, and
nothing is copied.
"""

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "tests" / "artifacts" / "lab"
IMAGES = REPO / "docs" / "images"
# docs picture -> the test's screenshot (what the test did before it is in docs/views.md)
PICTURES = {
    "explorer.png": "04-explorer.png",
    "gallery.png": "gallery.png",
    "attention-view.png": "04-attention.png",
    "dependency-view.png": "08-dependency.png",
    "embedding-view.png": "embedding-view.png",
    "compared-explorer.png": "compared-explorer.png",
    "genome-view.png": "genome-view-explorer.png",
}


def main() -> None:
    missing = [shot for shot in PICTURES.values() if not (SHOTS / shot).exists()]
    if missing:
        sys.exit(f"no screenshot {', '.join(missing)} in {SHOTS}: run pytest -m lab first")
    for picture, shot in PICTURES.items():
        shutil.copyfile(SHOTS / shot, IMAGES / picture)
        print(f"{IMAGES / picture} <- {SHOTS / shot}")


if __name__ == "__main__":
    main()
