"""EmbeddingView in a live JupyterLab: a box selection drawn with the mouse in chromium sets the
view's ``selected`` in the kernel, *open selected in explorer* opens exactly those sequences, and
after a page reload the view is drawn again with its selection.

The server and the page are test_lab's (:func:`tests.test_lab.serve_lab`,
:class:`tests.test_lab.Lab`), on a one-view notebook written for the test
(60 held-out demo sequences embedded by the demo model).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.test_lab import (
    MINUTE,
    WIDGET_PLOT,
    Lab,
    reload,
    serve_lab,
    wait_for_graph,
    write_notebook,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]
N = 60
NOTEBOOK = "embedding.ipynb"
CELLS = [
    "import dnabert_viz as dv\n\n"
    "m = dv.load_model()\n"
    f"sequences = dv.load_demo().sequences('heldout')[:{N}]",
    "view = dv.widgets.EmbeddingView(m, sequences)\nview",
]
# the corner of a box that holds the points above and right of it, at the middle of the widest
# gap between neighbouring coordinates in the middle half (no point lies near its edges)
CORNER = """import json
import numpy as np

def cut(values):
    v = np.sort(values)
    k = len(v) // 4 + int(np.argmax(np.diff(v[len(v) // 4 : 3 * len(v) // 4])))
    return float((v[k] + v[k + 1]) / 2)

xy = view.coordinates
print(json.dumps([cut(xy[:, 0]), cut(xy[:, 1])]))"""


def box_select_tool(lab: Lab, graph) -> None:
    """Choose the modebar's box select for the plotly graph ``graph``."""
    graph.scroll_into_view_if_needed()
    graph.hover()
    graph.locator('.modebar-btn[data-title="Box Select"]').click()
    wait_for_graph(lab, graph, "gd._fullLayout.dragmode === 'select'")


def drag_box(lab: Lab, graph, x0: float, y0: float) -> None:
    """Drag with the mouse from data point (x0, y0) to the plot area's top right corner: with
    the box select tool, selects the points with x > x0 and y > y0."""
    start, end = graph.evaluate(
        "(gd, [x, y]) => { const box = gd.getBoundingClientRect(), "
        """xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
           const px = v => box.left + xa._offset + xa.l2p(v),
                 py = v => box.top + ya._offset + ya.l2p(v);
           return [[px(x), py(y)], [px(xa.range[1]) - 2, py(ya.range[1]) + 2]]; }""",
        [x0, y0],
    )
    lab.page.mouse.move(*start)
    lab.page.mouse.down()
    lab.page.mouse.move(*end, steps=12)
    lab.page.mouse.up()


def test_embedding_selection_in_jupyterlab(browser, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / NOTEBOOK, CELLS)
    with serve_lab(root, tmp_path) as url:
        lab = Lab(browser, url, NOTEBOOK)
        try:
            lab.run_all()
            lab.show_all_outputs()
            lab.assert_clean()
            scope = lab.cell(1)
            graph = scope.locator(WIDGET_PLOT).first
            wait_for_graph(lab, graph, "gd._fullData[0]._length === arg", N)
            x0, y0 = json.loads(lab.kernel(CORNER))
            box_select_tool(lab, graph)
            graph.evaluate(
                "gd => gd.on('plotly_selected', e => "
                "{ window.__selected = e ? e.points.map(p => p.pointIndex) : []; })"
            )
            drag_box(lab, graph, x0, y0)
            # what plotly selected in the page: points of the box, some and not all
            chosen = lab.page.wait_for_function("() => window.__selected", timeout=MINUTE)
            chosen = sorted(chosen.json_value())
            assert 0 < len(chosen) < N, chosen
            inside = lab.kernel(
                f"print(bool(((xy[{chosen}, 0] > {x0}) & (xy[{chosen}, 1] > {y0})).all()))"
            )
            assert inside.strip() == "True"
            # the selection reached the kernel, and the page says so
            try:
                scope.get_by_text(f"{len(chosen)} selected").wait_for(timeout=MINUTE)
            except PlaywrightTimeout:
                held = lab.kernel("print(view.selected, view.status.value)")
                raise AssertionError(
                    f"the page never said {len(chosen)} selected; the kernel holds {held}; "
                    f"the page logged {lab.errors}"
                ) from None
            assert sorted(json.loads(lab.kernel("print(json.dumps(view.selected))"))) == chosen
            scope.get_by_role("button", name="open selected in explorer").click()
            track = scope.locator(WIDGET_PLOT).nth(1)
            track.wait_for(timeout=3 * MINUTE)
            wait_for_graph(lab, track, "gd.layout.title.text.startsWith('sequence 0 ')")
            opened = lab.kernel(
                "print(view.explorer.sequences == [sequences[i] for i in view.selected],"
                " len(view.explorer.sequences))"
            )
            assert opened.split() == ["True", str(len(chosen))]
            lab.assert_clean()
            reload(lab)  # every plot drawn before comes back
            graph = lab.cell(1).locator(WIDGET_PLOT).first
            wait_for_graph(
                lab,
                graph,
                "gd._fullData[0]._length === arg[0]"
                " && gd.data[0].selectedpoints.length === arg[1]",
                [N, len(chosen)],
            )
        finally:
            lab.page.evaluate(
                "() => window.jupyterapp.shell.currentWidget?.sessionContext?.shutdown()"
            )
            lab.page.close()
