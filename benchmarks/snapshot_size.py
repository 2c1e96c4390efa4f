"""How big a notebook with every view gets with their static snapshots, saved and exported.

A notebook of the four views (an explorer of 3 demo sequences with a
position's context, a gallery of 3 motifs, an AttentionView, a
DependencyView) run by nbclient: the .ipynb as JupyterLab saves it (no
widget state) and with the widget state nbclient stores, and nbconvert's
HTML of each. No snapshot carries plotly.js (about 4.6 MB); each plotly
figure's place holds a PNG of it (``dnabert_viz.plot.static``), and the
output the first of them as ``image/png``.

Then, in this process, what those PNGs add to each view's display (its
``_repr_mimebundle_``): the snapshot made with and without them, wall and
CPU time (the best of 3; on a shared machine the load is printed beside),
with an EmbeddingView of 1,000 points and a Column of a DependencyView and
its explorer (``dv.widgets.Column``) besides the four.
"""

import os
import sys
import tempfile
import time
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


def added_time() -> None:
    """Per view: the snapshot without and with its figures' PNGs (ms wall / ms CPU, best of 3),
    the PNGs' size and the whole output's."""
    import numpy as np

    import dnabert_viz as dv
    from dnabert_viz.widgets.common import SNAPSHOT_NOTE
    from tests.test_widgets import planted_motifs, stem_map

    m = dv.load_model(device="cpu")
    seqs = dv.load_demo().sequences("heldout", 1)[:3]
    ex = dv.widgets.SequenceExplorer(m, seqs)
    ex.position = 12
    dependency = dv.widgets.DependencyView(stem_map(seqs[0], start=50))
    dependency.query, dependency.target = 60, 95
    many = dv.load_demo().sequences("heldout", 1)[:40] * 25  # 1,000 points
    embedding = np.random.default_rng(0).normal(size=(len(many), 64))
    explorer = dv.widgets.SequenceExplorer(m, seqs)
    views = {
        "SequenceExplorer": ex,
        "MotifGallery": dv.widgets.MotifGallery(dv.MotifSet(planted_motifs(3), sequences=seqs)),
        "AttentionView": dv.widgets.AttentionView(m, seqs[0], layer=0, head=1),
        "DependencyView": dependency,
        "EmbeddingView (1,000)": dv.widgets.EmbeddingView(m, many, embeddings=embedding),
        "Column (dependency + explorer)": dv.widgets.Column(
            [
                dv.widgets.DependencyView(stem_map(seqs[0], start=50), explorer=explorer, index=0),
                explorer,
            ]
        ),
    }
    print(f"snapshot without / with its PNGs (best of 3; load average {os.getloadavg()[0]:.1f}):")
    for name, view in views.items():
        best = {}
        for images in (False, True):
            runs = []
            for _ in range(3):
                wall, cpu = time.perf_counter(), time.process_time()
                page = view.to_page(whole=False, images=images)
                html = page.to_snapshot(SNAPSHOT_NOTE)
                runs.append((time.perf_counter() - wall, time.process_time() - cpu))
            best[images] = (min(r[0] for r in runs), min(r[1] for r in runs), page, html)
        (w0, c0, _, html0), (w1, c1, page, html1) = best[False], best[True]
        pngs = sum(len(p) for p in page.images)
        print(
            f"  {name}: {w0 * 1e3:.0f} -> {w1 * 1e3:.0f} ms wall, {c0 * 1e3:.0f} -> "
            f"{c1 * 1e3:.0f} ms CPU (+{(c1 - c0) * 1e3:.0f}); {len(page.images)} PNGs "
            f"{pngs / 1e3:.0f} kB; snapshot {len(html0) / 1e3:.0f} -> {len(html1) / 1e3:.0f} kB"
        )
    print(f"(load average after: {os.getloadavg()[0]:.1f})")


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
        "snapshots (text/html, with their PNGs) of the four views:",
        ", ".join(f"{n / 1e3:.0f} kB" for n in snapshots),
    )
    with tempfile.TemporaryDirectory() as folder:
        print("with widget state (nbclient's default):", sizes(nb, Path(folder), "state"))
        del nb.metadata["widgets"]
        print("as JupyterLab saves it (no widget state):", sizes(nb, Path(folder), "saved"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
    added_time()
