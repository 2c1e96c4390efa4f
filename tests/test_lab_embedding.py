"""The EmbeddingView's box and lasso selections in a live JupyterLab, drawn with the mouse in
chromium.

A box dragged over the scatter must reach all three places a person looks
at: the kernel's ``selected`` (exactly the points in the box), the page's
status line ("N selected") and, through *open selected in explorer*, an
explorer of those sequences drawn below the scatter; after a page reload the
scatter still shows that selection; then a lasso drawn round another corner selects
exactly the points in it and opens them. Every step waits for
its condition (generous timeouts, nothing timed): on a loaded machine it is
slower, never different.
"""

from __future__ import annotations

import json

import pytest

from tests.test_lab import (
    CORNER,
    MINUTE,
    WIDGET_PLOT,
    Lab,
    box_select_tool,
    drag,
    drag_box,
    serve_lab,
    wait_for_graph,
    write_notebook,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]

N = 120  # 60 planted positives and 60 negatives of the demo data
CELLS = [
    "import dnabert_viz as dv\n\n"
    "m = dv.load_model()\n"
    "data = dv.load_demo()\n"
    f"seqs = data.sequences(label=1)[: {N // 2}] + data.sequences(label=0)[: {N // 2}]\n"
    f"labels = [1] * {N // 2} + [0] * {N // 2}",
    "view = dv.widgets.EmbeddingView(m, seqs, labels=labels)\nview",
]
VIEW = 1  # the cell showing the view


def test_a_box_selection_sets_selected_the_status_and_opens_an_explorer(browser, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "embedding.ipynb", CELLS)
    with serve_lab(root, tmp_path) as url:
        lab = Lab(browser, url, "embedding.ipynb")
        try:
            lab.run_all()
            # the view's output: the last (a progress bar, emptied once the view is made, comes
            # before it)
            output = lab.cell(VIEW).locator(".jp-OutputArea-output").last
            graph = output.locator(WIDGET_PLOT).first
            wait_for_graph(lab, graph, "gd._fullData[0]._length === arg", N)
            status = output.get_by_text("box or lasso to select")
            status.wait_for()
            box_select_tool(lab, graph)
            x0, y0 = json.loads(lab.kernel(CORNER))
            inside = json.loads(
                lab.kernel(
                    f"print(json.dumps(np.flatnonzero((xy[:, 0] > {x0}) & (xy[:, 1] > {y0}))"
                    ".tolist()))"
                )
            )
            assert 0 < len(inside) < N  # the box holds some points, not all
            drag_box(lab, graph, x0, y0)
            # the page's status line says how many, and the kernel holds exactly those
            output.get_by_text(f"{len(inside)} selected", exact=True).wait_for(timeout=3 * MINUTE)
            assert sorted(json.loads(lab.kernel("print(json.dumps(view.selected))"))) == inside
            # the others dimmed in the page: the trace's selected points are the box's
            wait_for_graph(
                lab,
                graph,
                "JSON.stringify(Array.from(gd.data[0].selectedpoints).sort((a, b) => a - b))"
                " === JSON.stringify(arg)",
                inside,
            )
            output.get_by_role("button", name="open selected in explorer").click()
            track = output.locator(WIDGET_PLOT).nth(1)  # the explorer's, below the scatter
            wait_for_graph(lab, track, "gd.layout.title.text.startsWith('sequence 0 ')")
            opened = "print(view.explorer.sequences == [seqs[i] for i in view.selected])"
            assert lab.kernel(opened).strip() == "True"
            assert lab.kernel("print(len(view.explorer.sequences))").strip() == str(len(inside))
            output.get_by_text(f"{len(inside)} selected", exact=True).wait_for()
            # a reloaded page draws from the kernel's state: the selection is still there
            lab.reload()
            output = lab.cell(VIEW).locator(".jp-OutputArea-output").last
            output.scroll_into_view_if_needed()
            output.get_by_text(f"{len(inside)} selected", exact=True).wait_for(timeout=3 * MINUTE)
            wait_for_graph(
                lab,
                output.locator(WIDGET_PLOT).first,
                "JSON.stringify(Array.from(gd.data[0].selectedpoints).sort((a, b) => a - b))"
                " === JSON.stringify(arg)",
                inside,
            )
            # a lasso round the other corner, drawn with the mouse, selects the points in it
            graph = output.locator(WIDGET_PLOT).first
            graph.hover()
            graph.locator('.modebar-btn[data-title="Lasso Select"]').click()
            wait_for_graph(lab, graph, "gd._fullLayout.dragmode === 'lasso'")
            below = json.loads(
                lab.kernel(
                    f"print(json.dumps(np.flatnonzero((xy[:, 0] < {x0}) & (xy[:, 1] < {y0}))"
                    ".tolist()))"
                )
            )
            assert 0 < len(below) < N and not set(below) & set(inside)
            # begun at the bottom left corner, not at (x0, y0): a drag begun on the box
            # selection's corner would move that box instead
            lasso = [("low", "low"), (x0, "low"), (x0, y0), ("low", y0), ("low", "low")]
            drag(lab, graph, lasso)
            output.get_by_text(f"{len(below)} selected", exact=True).wait_for(timeout=3 * MINUTE)
            assert sorted(json.loads(lab.kernel("print(json.dumps(view.selected))"))) == below
            # the box's explorer, until the lasso's replaces it: waited for in the page (asking
            # the kernel over and over while it builds the explorer once left a reply that
            # never came)
            output.locator(WIDGET_PLOT).nth(1).evaluate("gd => gd.setAttribute('data-old', '')")
            output.get_by_role("button", name="open selected in explorer").click()
            new_track = output.locator(f"{WIDGET_PLOT}:not([data-old])").nth(1)
            wait_for_graph(lab, new_track, "gd.layout.title.text.startsWith('sequence 0 ')")
            assert lab.kernel(opened).strip() == "True"
            assert lab.kernel("print(len(view.explorer.sequences))").strip() == str(len(below))
            lab.screenshot("embedding-view", graph)
            lab.assert_clean()
        finally:
            lab.page.evaluate(
                "() => window.jupyterapp.shell.currentWidget?.sessionContext?.shutdown()"
            )
            lab.page.close()
