"""How big a notebook with every view gets with their static snapshots, saved and exported.

A notebook of the four views (an explorer of 3 demo sequences with a
position's context, a gallery of 3 motifs, an AttentionView, a
DependencyView) run by nbclient: the .ipynb as JupyterLab saves it (no
widget state) and with the widget state nbclient stores, and nbconvert's
HTML of each. plotly.js (about 4.6 MB) is in the first snapshot only.
"""

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
CELLS = [
    "import dnabert_viz as dv\nfrom tests.test_widgets import planted_motifs, stem_map\n"
    "m = dv.load_model(device='cpu')\nseqs = dv.load_demo().sequences('heldout', 1)[:3]",
    "ex = dv.widgets.SequenceExplorer(m, seqs)\nex.position = 12\nex",
    "dv.widgets.MotifGallery(dv.MotifSet(planted_motifs(3), sequences=seqs))",
    "dv.widgets.AttentionView(m, seqs[0], layer=0, head=1)",
    "v = dv.widgets.DependencyView(stem_map(seqs[0], start=50))\nv.query, v.target = 60, 95\nv",
]


def sizes(nb, folder: Path, name: str) -> str:
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    html, _ = HTMLExporter().from_notebook_node(nb)
    shown = html.count("Static snapshot of this view")
    return (
        f"{path.stat().st_size / 1e6:.2f} MB .ipynb, {len(html.encode()) / 1e6:.2f} MB HTML "
        f"({shown} snapshots shown)"
    )


def main() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(ROOT)}}).execute()
    snapshots = [
        len(o.data["text/html"])
        for c in nb.cells
        for o in c.outputs
        if "text/html" in o.get("data", {})
    ]
    print(
        "snapshots (text/html) of the four views:",
        ", ".join(f"{n / 1e3:.0f} kB" for n in snapshots),
    )
    with tempfile.TemporaryDirectory() as folder:
        print("with widget state (nbclient's default):", sizes(nb, Path(folder), "state"))
        del nb.metadata["widgets"]
        print("as JupyterLab saves it (no widget state):", sizes(nb, Path(folder), "saved"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
