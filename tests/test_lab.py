"""The notebooks in a live JupyterLab, run and used in chromium as a person would.

One JupyterLab server (started from this environment on a free loopback
port, serving a temporary copy of ``notebooks/`` so nothing in the
repository changes, news and update checks off) serves every notebook; its
kernels import this checkout. Each notebook is opened in Debian's chromium
through playwright, run with *Run All* (JupyterLab's own command, through
``window.jupyterapp``), every output scrolled into view, and checked: no
error output, no stderr, no "Error displaying widget", no page or console
error, no request leaving the machine; results shown as a cell's last
expression render as HTML (a model's summary, motif cards with their logos
drawn). Then the widgets are used with the
mouse and keyboard: the explorer's sequence (then set from code: the page
follows the view's state), score kind, layer and head, a click in the
column of the position with the lowest bar (its context must name it), the
gallery's pages and an instance opened in its explorer (only that
sequence's instances shaded; the gallery's state and its explorer's say
which); in the workshop every check first says
"not answered yet", then each solution is revealed with ``%load`` and run
and its check must print its answer, and the AttentionView's entropy summary
and head view are checked (heads differ; every letter of the region, in
order, none overlapping); finally
the saved notebook is reloaded and every plot must render again, the
explorer showing what its controls say. What the kernel holds is read back
through the kernel itself.
Screenshots go to ``tests/artifacts/lab/`` (the README's pictures come from there).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.test_browser import TEXTS, covering

REPO = Path(__file__).parent.parent
ARTIFACTS = Path(__file__).parent / "artifacts" / "lab"
pytestmark = [pytest.mark.lab, pytest.mark.slow]  # JupyterLab, chromium, every notebook
NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
MINUTE = 60_000  # ms
SLOW_PLUGIN = re.compile(
    r"Plugin \S+ (\(with \d+ dependants\) took [\d.]+ms|is taking too long) to activate"
)
# JupyterLab's settings for the test: no news, no update check (both would go online)
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_lab(root: Path, tmp: Path) -> Iterator[str]:
    """Run a JupyterLab server on a free loopback port serving ``root`` (its settings, config
    and runtime files under ``tmp``; news and update checks off); yields its URL."""
    for name, values in SETTINGS.items():
        (tmp / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "settings" / name).write_text(json.dumps(values))
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp / "server.log").read_text()
            assert time.monotonic() < deadline, "JupyterLab did not start within 2 minutes"
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook at ``path`` of code cells with these sources (none run yet)."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """URL of a JupyterLab server on loopback, its root a copy of notebooks/ (with solutions/)."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(
        REPO / "notebooks",
        root,
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    with serve_lab(root, tmp) as url:
        yield url


class Lab:
    """One notebook open in JupyterLab in a chromium page, with what the page logged and
    requested."""

    def __init__(self, browser, url: str, name: str):
        self.url, self.name = url, name
        self.page: Page = browser.new_page(viewport={"width": 1440, "height": 900})
        self.page.set_default_timeout(2 * MINUTE)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.log: list[str] = []
        self.page.on("console", lambda m: self.log.append(f"{m.type}: {m.text[:300]}"))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") and not self._benign(m.text)
                else None
            ),
        )
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.open()

    @staticmethod
    def _benign(text: str) -> bool:
        # JupyterLab's own notices, not the notebook's: it warns about plugins it has no settings
        # for, and about plugins slow to start on a loaded machine
        return "Failed to load the schema" in text or bool(SLOW_PLUGIN.match(text))

    def open(self) -> None:
        """Open (or reopen, after a reload) the notebook, and wait for its kernel."""
        self.page.goto(f"{self.url}/lab/tree/{self.name}?reset")
        self.page.wait_for_function(
            "() => { const w = window.jupyterapp?.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.isReady && w.content; }",
            timeout=3 * MINUTE,
        )
        self.page.evaluate(
            "() => { const app = window.jupyterapp; app.shell.collapseLeft();"
            " app.shell.currentWidget.content.widgets.forEach("
            "   (c, i) => c.node.setAttribute('data-cell', String(i))); }"
        )

    def run_all(self, *, one_at_a_time: bool = False) -> list[dict]:
        """Run All; returns every code cell's outputs as saved in the notebook, by cell index.

        ``one_at_a_time``: run each cell once the one before has finished instead (JupyterLab's
        Run All queues them all at once; on the latency benchmark's notebook, with its
        10,000-point scatter, it now and then reported the last cell as not succeeded, its
        outputs and count intact or not yet there)."""
        ok = self.page.evaluate(  # a run that has not ended in 20 minutes fails, named
            "async ([each, ms]) => { const app = window.jupyterapp;"
            " const late = new Promise((_, no) => setTimeout("
            "   () => no(new Error(`Run All had not ended after ${ms} ms`)), ms));"
            " if (!each) return Promise.race([app.commands.execute('notebook:run-all-cells'),"
            "   late]);"
            " const nb = app.shell.currentWidget.content;"
            " for (let k = 0; k < nb.widgets.length; k++) { nb.activeCellIndex = k;"
            "   if (!(await Promise.race([app.commands.execute('notebook:run-cell'), late])))"
            "     return false; }"
            " return true; }",
            [one_at_a_time, 20 * MINUTE],
        )
        cells = self.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.widgets.map((c, i) => "
            "c.model.type === 'code'"
            " ? {index: i, count: c.model.executionCount, "
            "outputs: c.model.outputs.toJSON()} : null)"
            ".filter(c => c)"
        )
        errors = [
            f"cell {c['index']}: {o['ename']}: {o['evalue']}"
            for c in cells
            for o in c["outputs"]
            if o["output_type"] == "error"
        ]
        assert ok and not errors, errors or (
            "Run All reported a cell that did not succeed: "
            + str(
                [(c["index"], c["count"], [o["output_type"] for o in c["outputs"]]) for c in cells]
            )
            + f"; the page logged {self.errors}"
        )
        assert all(c["count"] for c in cells), "cells that did not run: " + str(
            [c["index"] for c in cells if not c["count"]]
        )
        stderr = [
            f"cell {c['index']}: {o['text']}"
            for c in cells
            for o in c["outputs"]
            if o.get("name") == "stderr"
        ]
        assert not stderr, stderr
        return cells

    def show_all_outputs(self) -> int:
        """Scroll every output into view as a reader does (widgets and plots render when shown);
        returns how many."""
        outputs = self.page.locator(".jp-OutputArea-output")
        for k in range(outputs.count()):
            try:
                outputs.nth(k).scroll_into_view_if_needed(timeout=10_000)
            except PlaywrightTimeout:  # gone meanwhile, or hidden (a cleared progress area)
                continue
            self.page.wait_for_timeout(150)
        return outputs.count()

    def assert_clean(self) -> None:
        """No widget that failed to display, no page or console error, nothing fetched from
        outside."""
        broken = self.broken_widgets()
        assert not broken, (
            f"{self.name}: widgets failed to display in cells {broken}; "
            f"the page logged {self.errors}"
        )
        assert not self.errors, self.errors
        outside = [u for u in self.requests if not u.startswith((self.url, "blob:", "data:"))]
        assert not outside, outside

    def assert_laid_out(self) -> int:
        """Every view shown lays out within its boxes: no widget box or HTML pane is wider
        inside than out (``scrollWidth <= clientWidth``: content clipped behind a scroll bar or
        spilling over), and in no plotly graph does an axis or colour-bar title, a tick label,
        the title, an annotation or the legend's text cover another. Returns how many graphs
        were read."""
        wide = self.page.evaluate(
            "() => [...document.querySelectorAll('.jp-OutputArea-output :is(.widget-box,"
            " .widget-html-content, .widget-label)')]"
            ".filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)"
            ".map(e => `${e.closest('.jp-Cell')?.dataset.cell}: ${e.className} `"
            " + `${e.scrollWidth} > ${e.clientWidth}: ${e.innerText.slice(0, 60)}`)"
        )
        assert not wide, f"{self.name}: wider inside than out: {wide}"
        graphs = self.page.locator(".jp-OutputArea-output .js-plotly-plot")
        covered = []
        for k in range(graphs.count()):
            graph = graphs.nth(k)
            if not graph.is_visible():
                continue
            texts = graph.evaluate(TEXTS)["texts"]
            covered += [(k, *pair) for pair in covering(texts)]
        assert not covered, f"{self.name}: texts covering each other: {covered}"
        return graphs.count()

    def broken_widgets(self) -> list[str]:
        """The cells (index: source) showing "Error displaying widget"."""
        return self.page.locator(".jp-Cell", has_text="Error displaying widget").evaluate_all(
            "cells => cells.map(c => c.dataset.cell + ': ' + "
            "c.querySelector('.jp-InputArea').innerText.slice(0, 80))"
        )

    def kernel(self, code: str) -> str:
        """What ``code`` prints in the notebook's kernel (the state the widgets come from).

        A reply that has not come in 5 minutes fails the test, naming the code (playwright's
        ``evaluate`` itself waits for ever, and a lost reply hung a run once)."""
        return self.page.evaluate(
            "async ([code, ms]) => { "
            """const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                let out = ''; const f = k.requestExecute({code, store_history: false});
                f.onIOPub = m => { if (m.header.msg_type === 'stream') out += m.content.text;
                                   if (m.header.msg_type === 'error')
                                     out += `ERROR ${m.content.ename}: ${m.content.evalue}`; };
                const late = new Promise((_, no) => setTimeout(
                    () => no(new Error(`no reply from the kernel in ${ms} ms to: ${code}`)), ms));
                await Promise.race([f.done, late]); return out; }""",
            [code, 5 * MINUTE],
        )

    def cell(self, index: int):
        return self.page.locator(f'[data-cell="{index}"]')

    def screenshot(self, name: str, locator=None) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (locator or self.page).screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def reload(self) -> None:
        """Save, reload the page and reopen the notebook (the kernel keeps running)."""
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        self.page.reload()
        self.open()


# ---------------------------------------------------------------------- the widgets, as a person
# uses them
def control(scope, kind: str, label: str):
    """An ipywidgets control by its description: kind 'dropdown' (a select) or 'text' (an
    input)."""
    inner = "select" if kind == "dropdown" else "input"
    return scope.locator(f'.widget-{kind}:has(> label:text-is("{label}")) {inner}')


def graph_state(locator) -> dict:
    """Title, y-axis titles, shapes and annotation texts of the plotly graph ``locator`` points
    at."""
    return locator.evaluate(
        "gd => ({title: gd.layout.title?.text ?? '', yaxis: gd._fullLayout.yaxis.title.text,"
        " shading: (gd.layout.shapes || []).filter(s => s.layer === 'below').length,"
        " labels: (gd.layout.annotations || []).map(a => a.text).sort(), n: gd.data[0].x.length,"
        " y: Array.from(gd.data[0].y)})"
    )


def wait_for_graph(lab: Lab, locator, test: str, arg=None) -> None:
    """Wait until ``test`` (a JS expression of ``gd`` and ``arg``) holds for the plotly graph."""
    handle = locator.element_handle()
    try:
        # While plotly swaps a figure in, ``gd.layout`` can lack fields that ``test`` reads: a
        # throw there means "not yet", not a failure.
        lab.page.wait_for_function(
            f"([gd, arg]) => {{ try {{ return {test}; }} catch (e) {{ return false; }} }}",
            arg=[handle, arg],
            timeout=3 * MINUTE,
        )
    except PlaywrightTimeout:
        state = graph_state(locator)
        state.pop("y")
        raise AssertionError(f"{test} (arg {arg!r}) never held; the graph shows {state}") from None


def click_column(lab: Lab, graph, position: int) -> None:
    """A real mouse click in the middle of the top row, in ``position``'s column (however low its
    bar)."""
    graph.scroll_into_view_if_needed()
    x, y = graph.evaluate(
        "(gd, p) => { const box = gd.getBoundingClientRect(), "
        """xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
           return [box.left + xa._offset + xa.l2p(p), box.top + ya._offset + ya._length / 2]; }""",
        position,
    )
    lab.page.mouse.move(x, y)
    lab.page.wait_for_timeout(200)
    lab.page.mouse.click(x, y)


# ---------------------------------------------------------------------- EmbeddingView selections
# Kernel code (``view``: an EmbeddingView) printing the corner of a box that holds the points above
# and right of it, at the middle of the widest gap between neighbouring coordinates in the middle
# half (no point lies near its edges)
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


def drag(lab: Lab, graph, path: list[tuple]) -> None:
    """Drag the mouse along ``path`` over the plotly graph ``graph``: data points (x, y), where a
    coordinate "low" or "high" is the plot area's edge on that axis (2 px inside it)."""
    points = graph.evaluate(
        "(gd, path) => { const box = gd.getBoundingClientRect(), "
        """xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
           const px = v => v === 'low' ? px(xa.range[0]) + 2 : v === 'high' ? px(xa.range[1]) - 2
                           : box.left + xa._offset + xa.l2p(v),
                 py = v => v === 'low' ? py(ya.range[0]) - 2 : v === 'high' ? py(ya.range[1]) + 2
                           : box.top + ya._offset + ya.l2p(v);
           return path.map(([x, y]) => [px(x), py(y)]); }""",
        [list(p) for p in path],
    )
    lab.page.mouse.move(*points[0])
    lab.page.mouse.down()
    for point in points[1:]:
        lab.page.mouse.move(*point, steps=12)
    lab.page.mouse.up()


def drag_box(lab: Lab, graph, x0: float, y0: float) -> None:
    """Drag with the mouse from data point (x0, y0) to the plot area's top right corner: with
    the box select tool, selects the points with x > x0 and y > y0."""
    drag(lab, graph, [(x0, y0), ("high", "high")])


def drive_explorer(lab: Lab, cell: int, name: str, *, layer_and_head: bool) -> dict:
    """Use the SequenceExplorer shown by ``cell`` (``name`` in the kernel, e.g. ``Out[7]``);
    returns what it shows."""
    scope = lab.cell(cell)
    track = scope.locator(".js-plotly-plot").first
    track.scroll_into_view_if_needed()
    n_sequences = int(lab.kernel(f"print(len({name}.sequences))"))
    index = min(3, n_sequences - 1)
    box = control(scope, "text", "sequence")
    box.fill(str(index))
    box.press("Enter")
    wait_for_graph(lab, track, "gd.layout.title.text.startsWith(`sequence ${arg} `)", index)
    assert lab.kernel(f"print({name}.index)").strip() == str(index)  # the box set the state
    # the state set from code: the box and the track in the page follow it
    other = 0 if index else 1
    lab.kernel(f"{name}.index = {other}")
    wait_for_graph(lab, track, "gd.layout.title.text.startsWith(`sequence ${arg} `)", other)
    assert box.input_value() == str(other)
    lab.kernel(f"{name}.index = {index}")
    wait_for_graph(lab, track, "gd.layout.title.text.startsWith(`sequence ${arg} `)", index)
    expected = json.loads(
        lab.kernel(
            f"import json; h = {name}._instances_here(); "
            f"print(json.dumps(sorted(h['name'] if 'name' in h else h['motif'])))"
        )
    )
    state = graph_state(track)
    assert state["labels"] == expected and state["shading"] == len(
        expected
    )  # this sequence's instances only
    control(scope, "dropdown", "score").select_option(label="saliency")
    wait_for_graph(lab, track, "gd._fullLayout.yaxis.title.text === 'saliency'")
    assert (
        "saliency" in scope.locator(".widget-html").first.inner_text()
    )  # the status line names the new kind
    if layer_and_head:
        control(scope, "dropdown", "score").select_option(label="[CLS] attention")
        control(scope, "dropdown", "layer").select_option(label="0")
        control(scope, "dropdown", "heads").select_option(label="2")
        wait_for_graph(
            lab, track, "gd._fullLayout.yaxis.title.text === 'cls attention<br>(layer 0, head 2)'"
        )
        assert lab.kernel(f"print({name}.layer, {name}.head)").split() == ["0", "2"]
    values = graph_state(track)["y"]
    low = min(
        range(len(values)), key=lambda p: abs(values[p])
    )  # the lowest bar: a hard target for a click
    base = lab.kernel(f"print({name}.sequences[{index}][{low}])").strip()
    click_column(lab, track, low)
    if layer_and_head:
        # chosen while the kernel still computes the click's ISM: it must reach the kernel (with
        # ipykernel 7.4.0 such a change got no idle status and the menu never spoke again)
        control(scope, "dropdown", "layer").select_option(label="1")
    heading = scope.locator("h3")
    heading.filter(has_text=f"sequence {index}, position {low} ({base})").wait_for(
        timeout=3 * MINUTE
    )
    assert graph_state(track)["shading"] == len(expected)
    # the context panel lays its content out within its width
    panel = heading.first.locator("xpath=ancestor::div[contains(@class, 'widget-html')][1]")
    wide = panel.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert wide[0] <= wide[1] + 1, wide
    # the click computed ISM: its map under the track, column under column
    ism = scope.locator(".js-plotly-plot").nth(1)
    ism.wait_for(timeout=3 * MINUTE)
    wait_for_graph(lab, ism, "gd.layout.title.text.startsWith('in-silico mutagenesis')")
    track_x, ism_x = plot_area(track), plot_area(ism)
    assert all(abs(a - b) < 1 for a, b in zip(track_x, ism_x)), (track_x, ism_x)
    # the context's attention tables follow the layer and say which, and the menu still speaks
    # after the change it sent while the kernel was busy
    if layer_and_head:
        panel.get_by_text("attends to (layer 1, head 2)").wait_for(timeout=3 * MINUTE)
        control(scope, "dropdown", "layer").select_option(label="0")
        panel.get_by_text("attends to (layer 0, head 2)").wait_for(timeout=3 * MINUTE)
    return {"index": index, "position": low, "title": graph_state(track)["title"]}


WIDGET_PLOT = ".jupyter-widgets .js-plotly-plot"  # a FigureWidget's graph, inside a view


def plots(lab: Lab) -> dict[str, int]:
    """How many plotly graphs each cell's widgets draw (cells with none left out)."""
    return lab.page.evaluate(
        "plot => Object.fromEntries(Array.from(document.querySelectorAll('[data-cell]'))"
        ".map(c => [c.dataset.cell, c.querySelectorAll(plot).length]).filter(([_, n]) => n))",
        WIDGET_PLOT,
    )


def reload(lab: Lab) -> None:
    """Reload the page: every plot drawn before must come back, and nothing may fail.

    plotly 7 ships 5 MB of widget code in every FigureWidget's state, and on a reload
    ipywidgets waits 4 s for all states while anywidget gives each model 2 s to load its
    code: with four or five FigureWidgets on a page some did not come back. The views'
    figures (:mod:`dnabert_viz.widgets.figure`) send that code once per page.
    """
    lab.show_all_outputs()
    before = plots(lab)
    assert before, f"{lab.name}: no widget drew a plot before the reload"
    print(f"{lab.name}: widget plots by cell before the reload {before}")
    lab.errors.clear()
    lab.reload()
    lab.show_all_outputs()
    for cell, n in before.items():
        scope = lab.cell(int(cell))
        scope.scroll_into_view_if_needed()
        try:
            scope.locator(WIDGET_PLOT).nth(n - 1).wait_for(timeout=MINUTE)
        except PlaywrightTimeout:
            raise AssertionError(
                f"{lab.name}: cell {cell} drew {scope.locator(WIDGET_PLOT).count()} of its "
                f"{n} plots after the reload; widgets that failed: {lab.broken_widgets()}; "
                f"the page logged {lab.errors}"
            ) from None
    lab.page.wait_for_timeout(2000)
    lab.assert_clean()


def check_after_reload(lab: Lab, cell: int, shown: dict) -> None:
    """After a reload the explorer renders again, showing the sequence and position its controls
    hold."""
    reload(lab)
    scope = lab.cell(cell)
    scope.scroll_into_view_if_needed()
    track = scope.locator(".js-plotly-plot").first
    try:
        track.wait_for()
    except PlaywrightTimeout:
        raise AssertionError(
            f"the explorer did not render after a reload: {scope.inner_text()[-300:]!r}; "
            f"the page logged {lab.errors}"
        ) from None
    assert control(scope, "text", "sequence").input_value() == str(shown["index"])
    wait_for_graph(lab, track, "gd.layout.title.text === arg", shown["title"])
    heading = scope.locator("h3").first.inner_text()
    assert heading.startswith(f"sequence {shown['index']}, position {shown['position']} ")
    lab.assert_clean()


def drive_gallery(lab: Lab, cell: int) -> None:
    """Page the gallery, list a motif's instances, open two of them (different sequences) in its
    explorer."""
    scope = lab.cell(cell)
    scope.get_by_text("page 1 of").wait_for()
    scope.get_by_role("button", name="next ▶").click()
    scope.get_by_text("page 2 of").wait_for()
    lab.screenshot("gallery", scope.locator(".jp-OutputArea-output").first)
    scope.get_by_role("button", name="◀ previous").click()
    scope.get_by_text("page 1 of").wait_for()
    first = scope.locator(".widget-gridbox .widget-button").first
    # the button calls the motif by its JASPAR match where it has one
    motif, name = lab.kernel(
        "print(gallery.motifs[0].name); print(gallery.name_of(gallery.motifs[0]))"
    ).splitlines()
    assert first.inner_text().strip() == name
    first.click()
    listing = scope.locator(".widget-select select")
    listing.locator("option").first.wait_for(state="attached")
    # ipywidgets writes a Select's spaces as no-break spaces
    options = [o.replace("\xa0", " ") for o in listing.locator("option").all_inner_texts()]
    fits = [float(o.split()[0]) for o in options]
    assert fits == sorted(fits, reverse=True)  # best fitting first
    sequences = [int(o.split(":")[0].split("sequence ")[1]) for o in options]
    rows = json.loads(lab.kernel("print([v for _, v in gallery.instance_list.options])"))
    picks = [0] + [k for k, s in enumerate(sequences) if s != sequences[0]][:1]
    for k in picks:
        listing.select_option(index=k)
        track = scope.locator(".js-plotly-plot").first
        track.wait_for(timeout=3 * MINUTE)
        wait_for_graph(
            lab, track, "gd.layout.title.text.startsWith(`sequence ${arg} `)", sequences[k]
        )
        assert control(scope, "text", "sequence").input_value() == str(sequences[k])
        expected = json.loads(
            lab.kernel(
                "import json; from dnabert_viz.motifs.motif import instance_table\n"
                "t = instance_table(gallery.motifs); "
                "names = {m.name: gallery.name_of(m) for m in gallery.motifs}; "
                f"print(json.dumps(sorted(t[t.sequence_index == {sequences[k]}]"
                "['motif'].map(names))))"
            )
        )
        wait_for_graph(
            lab,
            track,
            "gd.layout.shapes.filter(s => s.layer === 'below').length === arg",
            len(expected),
        )
        assert graph_state(track)["labels"] == expected, motif
        scope.locator("h3").filter(has_text=f"sequence {sequences[k]}, position").wait_for()
        # the list set the gallery's state, and the gallery the explorer's
        assert lab.kernel(
            "print(gallery.motif, gallery.instance, gallery.explorer.index)"
        ).split() == [motif, str(rows[k]), str(sequences[k])]
    scope.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    lab.screenshot("gallery-explorer")


def plot_area(graph) -> list[float]:
    """Page x of the left and right ends of a plotly graph's x axis (its plot area's columns)."""
    return graph.evaluate(
        "gd => { const xa = gd._fullLayout.xaxis, left = gd.getBoundingClientRect().left;"
        " return [left + xa._offset, left + xa._offset + xa._length]; }"
    )


SOLVED = {  # what each workshop check prints once its exercise holds the solution
    1: r"held-out accuracy 0\.\d{3}: correct",
    2: r"\d+% of the top positions are in sites, which cover \d+% of the sequence",
    3: r"[ACGT]\d+[ACGT] lowers p\(motif\) by \d\.\d{3}; inside a planted site: (True|False)",
    4: r"\d+% of the model's favourite nucleotides are in sites, which cover \d+% of the sequence"
    r" \(no label used\)",
    5: r"\w+ moves the log-odds \d+\.\dx more than random at k = 5 \(runner-up \w+, \d+\.\dx\)",
    6: r"layer \d+ knows the label best \(probe accuracy [01]\.\d{3}\); \d+ of 200 held-out "
    r"sequences are mispredicted",
}


def first_code_cell(name: str, text: str) -> int:
    """Index of the first code cell of notebook ``name`` whose source holds ``text``."""
    cells = json.loads((REPO / "notebooks" / name).read_text())["cells"]
    return next(
        i for i, c in enumerate(cells) if c["cell_type"] == "code" and text in "".join(c["source"])
    )


def reveal_solution(lab: Lab, exercise: int) -> str:
    """Do what the workshop says: replace the exercise cell's text with ``%load``, run it twice,
    then run the check under it; returns what the check printed (it must match
    :data:`SOLVED`)."""
    load = f"%load solutions/exercise_{exercise}.py"
    cell = first_code_cell(lab.name, load)
    editor = lab.cell(cell).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    lab.page.keyboard.press("Control+a")
    lab.page.keyboard.type(load)
    lab.page.keyboard.press("Control+Enter")  # run the cell, stay on it
    source = (
        "i => window.jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel.source"
    )
    lab.page.wait_for_function(f"i => ({source})(i).startsWith('# {load}')", arg=cell)
    solution = (REPO / "notebooks" / "solutions" / f"exercise_{exercise}.py").read_text()
    assert solution.strip() in lab.page.evaluate(source, cell)  # the cell holds the solution
    editor.click()
    lab.page.keyboard.press("Control+Enter")  # run the solution
    check = lab.cell(cell + 1)
    check.locator(".cm-content").click()
    lab.page.keyboard.press("Control+Enter")
    printed = check.locator(".jp-OutputArea-output").filter(
        has_text=re.compile(SOLVED[exercise] + "|Error")
    )
    printed.first.wait_for(timeout=3 * MINUTE)
    lab.screenshot(f"{lab.name[:2]}-solution-{exercise}", lab.cell(cell))
    text = printed.first.inner_text().strip()
    assert re.fullmatch(SOLVED[exercise], text), text
    return text


def drive_attention(lab: Lab, cell: int) -> None:
    """The AttentionView: its head atlas tells heads apart (masking each moves the output by its
    own amount); the head view writes every letter of its region, in order, and none overlaps
    another."""
    scope = lab.cell(cell)
    summary = scope.locator(".js-plotly-plot").nth(1)
    summary.scroll_into_view_if_needed()
    summary.locator(".hm").first.wait_for(state="attached")
    grids = summary.evaluate(
        "gd => Object.fromEntries(gd.data.filter(t => t.type === 'heatmap')"
        ".map(t => [t.name, t.z.map(row => Array.from(row))]))"
    )
    assert "ablation" in grids, grids  # the atlas of a classifier: each head masked
    values = [v for row in grids["ablation"] for v in row]
    assert all(v == v for v in values), grids  # a number for every head
    assert max(values) - min(values) > 1e-3, grids  # heads do not all matter alike
    scope.get_by_role("button", name="head view").click()
    figure = scope.locator(".js-plotly-plot").first
    wait_for_graph(lab, figure, "gd.layout.title.text.startsWith('head view')")
    rows = figure.evaluate(
        """gd => { const rows = {};
           gd.querySelectorAll('.textpoint text').forEach(t => {
             if (!t.textContent || t.textContent.length > 1) return;  // letters, not labels
             const r = t.getBoundingClientRect(), y = Math.round(r.top);
             (rows[y] = rows[y] || []).push([r.left, r.right, r.height, t.textContent]); });
           return Object.values(rows); }"""
    )
    first, last = figure.evaluate(
        "gd => { const x = gd.data.find(t => t.name === 'query').x; return [x[0], x.at(-1)]; }"
    )
    region = lab.kernel(f"print(seq[{first}:{last + 1}])").strip()
    assert len(rows) == 2, rows  # the query row and the attended row
    for row in rows:
        row.sort()
        assert "".join(letter for *_, letter in row) == region  # every letter, in order
        assert all(h >= 10 for _, _, h, _ in row)  # 11 px letters
        overlaps = [(a, b) for a, b in zip(row, row[1:]) if a[1] > b[0] + 0.5]
        assert not overlaps, overlaps
    lab.page.mouse.move(1, 1)
    lab.screenshot(f"{lab.name[:2]}-attention", scope.locator(".jp-OutputArea-output").first)


def drive_dependency(lab: Lab, cell: int) -> None:
    """Click a cell of the DependencyView's heatmap (notebook 08: ``view``, beside ``explorer``):
    the view's pair and its explorer's position follow in the kernel, and the page names the
    pair."""
    scope = lab.cell(cell)
    heatmap = scope.locator(".js-plotly-plot").first
    heatmap.scroll_into_view_if_needed()
    wait_for_graph(lab, heatmap, "gd.data[0].type === 'heatmap'")
    start, before = lab.kernel("print(dep.start, view.query, view.target)").split(" ", 1)
    row, column = 2, 15  # in the region: substitute its third nucleotide, read the sixteenth
    x, y = heatmap.evaluate(
        "(gd, [r, c]) => { const box = gd.getBoundingClientRect(), "
        """xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
           return [box.left + xa._offset + xa.l2p(c), box.top + ya._offset + ya.l2p(r)]; }""",
        [row, column],
    )
    lab.page.mouse.move(x, y)
    lab.page.wait_for_timeout(200)
    lab.page.mouse.click(x, y)
    query, target = int(start) + row, int(start) + column
    for _ in range(300):
        if lab.kernel("print(view.query, view.target)").strip() == f"{query} {target}":
            break
        lab.page.wait_for_timeout(200)
    shown = lab.kernel("print(view.query, view.target, explorer.index == i, explorer.position)")
    assert shown.split() == [str(query), str(target), "True", str(query)], (before, shown)
    panel = scope.locator(".widget-html", has_text="substituting").first
    panel.wait_for(timeout=MINUTE)
    assert f"{query} changes what the model expects at" in panel.inner_text()
    lab.page.mouse.move(1, 1)
    heatmap.scroll_into_view_if_needed()  # the view and its explorer are taller than the window
    lab.screenshot(f"{lab.name[:2]}-dependency")
    lab.assert_clean()


def check_reprs(lab: Lab) -> int:
    """Results shown as a cell's last expression render as HTML: a model's summary table names its
    architecture and parameters, and every motif card's logo (an inline PNG) is drawn. Returns how
    many such outputs the notebook has."""
    models = lab.page.locator(".jp-RenderedHTMLCommon", has_text="DnaModel '")
    for k in range(models.count()):
        text = models.nth(k).text_content()
        assert "architecture" in text and "parameters" in text, text
    if models.count():
        models.first.scroll_into_view_if_needed()
        lab.screenshot(f"{lab.name[:2]}-model", models.first)
    logos = lab.page.locator(".jp-RenderedHTMLCommon img[alt^='logo of ']")
    widths = logos.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths
    return models.count() + len(widths)


# ---------------------------------------------------------------------- the test
WIDGETS = {  # notebook -> the views the test drives, by the call that shows them
    "01_quickstart.ipynb": {"explorer": "SequenceExplorer("},
    "02_motif_discovery.ipynb": {"gallery": "MotifGallery("},
    "04_workshop.ipynb": {"explorer": "SequenceExplorer(", "attention": "AttentionView("},
    "08_language_model.ipynb": {"dependency": "DependencyView("},
}


def widget_cells(name: str) -> dict[str, int]:
    """Index of the first cell of notebook ``name`` that calls each view of :data:`WIDGETS`."""
    return {view: first_code_cell(name, call) for view, call in WIDGETS.get(name, {}).items()}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_jupyterlab(browser, lab, name):
    lab_page = Lab(browser, lab, name)
    try:
        start = time.perf_counter()
        cells_run = lab_page.run_all()
        ran = time.perf_counter() - start
        lab_page.show_all_outputs()
        lab_page.assert_clean()
        print(f"{name}: {check_reprs(lab_page)} rich reprs")
        print(f"{name}: {lab_page.assert_laid_out()} graphs laid out")
        cells = widget_cells(name)
        if "explorer" in cells:
            cell = cells["explorer"]
            count = next(c["count"] for c in cells_run if c["index"] == cell)
            shown = drive_explorer(
                lab_page, cell, f"Out[{count}]", layer_and_head=name.startswith("04")
            )
            lab_page.page.mouse.move(1, 1)  # no hover label over the picture
            lab_page.screenshot(
                f"{name[:2]}-explorer", lab_page.cell(cell).locator(".jp-OutputArea-output").first
            )
            lab_page.assert_clean()
        if name.startswith("04"):
            unsolved = [
                "".join(o.get("text", "") for o in c["outputs"])
                for c in cells_run
                if any("not answered yet" in o.get("text", "") for o in c["outputs"])
            ]
            assert unsolved == [f"Exercise {k}: not answered yet\n" for k in SOLVED], unsolved
            for exercise in SOLVED:
                reveal_solution(lab_page, exercise)
        if "attention" in cells:
            drive_attention(lab_page, cells["attention"])
        if "dependency" in cells:
            drive_dependency(lab_page, cells["dependency"])
            reload(lab_page)
        if "explorer" in cells:
            check_after_reload(lab_page, cells["explorer"], shown)
        if "gallery" in cells:
            drive_gallery(lab_page, cells["gallery"])
            lab_page.assert_clean()
            reload(lab_page)
            lab_page.assert_clean()
        lab_page.show_all_outputs()
        lab_page.assert_laid_out()  # again, after every view was used
        lab_page.screenshot(f"{name[:2]}-end")
        print(f"{name}: Run All {ran:.0f} s, everything {time.perf_counter() - start:.0f} s")
    finally:
        lab_page.screenshot(f"{name[:2]}-last")
        (ARTIFACTS / f"{name[:2]}-console.txt").write_text("\n".join(lab_page.log))
        lab_page.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget?.sessionContext?.shutdown()"
        )
        lab_page.page.close()


# ---------------------------------------------------------------------- GenomeView (igv.js)
GENOME_CELLS = [
    """import shutil

import pandas as pd

import dnabert_viz as dv

genome = shutil.copy("/usr/share/doc/python-pyfaidx-examples/examples/chr17.hg19.part.fa", ".")
peak = pd.DataFrame({"chrom": ["chr17"], "start": [1000], "end": [1100]})
peaks = dv.read_intervals(peak, genome)
m = dv.load_model()
scores = dv.score(m, peaks, "cls_attention", progress=False)
(bigwig,) = dv.write_tracks(scores, "tracks", genome=genome, names=["attention"])
hits = pd.DataFrame({"chrom": ["chr17"], "start": [1060], "end": [1070], "name": ["site"]})""",
    """view = dv.widgets.GenomeView(
    m, genome, {"attention": bigwig, "hits": hits}, locus="chr17:901-1,300"
)
view""",
    # two models side by side: an untrained one-hot CNN's track under the demo model's
    """from dnabert_viz.finetune import build_classifier

cnn = build_classifier(architecture="cnn", hidden_size=16, seed=3, device="cpu")
compared = dv.widgets.SequenceExplorer(m, peaks.sequence, compare=cnn, kind="saliency")
compared""",
]


def put_notebook(url: str, name: str, cells: list[str]) -> None:
    """Write a notebook of ``cells`` into the server's root (its contents API)."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    # the server wants its XSRF cookie back as a header (set by any page it serves)
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    opener.open(f"{url}/lab", timeout=60)
    xsrf = next(c.value for c in cookies if c.name == "_xsrf")
    request = urllib.request.Request(
        f"{url}/api/contents/{name}",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json", "X-XSRFToken": xsrf},
    )
    opener.open(request, timeout=60)


def check_compared_explorer(lab: Lab, graph) -> None:
    """The explorer of ``compared`` (two models): both rows drawn with the kernel's numbers, each
    named by its model; a real click in the second row's column 30 selects position 30."""
    graph.scroll_into_view_if_needed()
    wait_for_graph(
        lab,
        graph,
        "gd.data[0].name === 'demo: saliency' && gd.data[1].name === 'cnn-small: saliency'"
        " && gd._fullLayout.yaxis2.title.text.startsWith('cnn-small')",
    )
    # the bars as plotly.js drew them (decoded from the figure's typed arrays)
    shown = graph.evaluate("gd => gd._fullData.slice(0, 2).map(t => Array.from(t.y))")
    kernel = "print(json.dumps([compared.values().tolist(), compared.values(model=1).tolist()]))"
    expected = json.loads(lab.kernel(f"import json; {kernel}"))
    for row, values in zip(shown, expected, strict=True):
        assert len(row) == len(values) > 0
        assert max(abs(a - b) for a, b in zip(row, values)) < 1e-5
    x, y = graph.evaluate(
        "(gd, p) => { const box = gd.getBoundingClientRect(), "
        """xa = gd._fullLayout.xaxis2, ya = gd._fullLayout.yaxis2;
           return [box.left + xa._offset + xa.l2p(p), box.top + ya._offset + ya._length / 2]; }""",
        30,
    )
    lab.page.mouse.click(x, y)
    deadline = time.monotonic() + 60
    while (got := lab.kernel("print(compared.position)").strip()) != "30":
        assert time.monotonic() < deadline, got
        lab.page.wait_for_timeout(500)
    lab.page.mouse.move(1, 1)  # no hover label or tool bar over the picture
    lab.page.wait_for_timeout(500)
    lab.screenshot("compared-explorer", graph)


def test_genome_view_in_jupyterlab(browser, lab):
    """igv.js draws the tracks offline (every request off the machine refused) and a click on a
    feature opens its window in the view's explorer, as the kernel says. In the same notebook,
    an explorer comparing two models draws both tracks and a click in the second row selects."""
    name = "genome_view.ipynb"
    put_notebook(lab, name, GENOME_CELLS)
    lab_page = Lab(browser, lab, name)
    local = (lab, "blob:", "data:")
    lab_page.page.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith(local) else r.abort()
    )
    try:
        cells = lab_page.run_all()
        lab_page.show_all_outputs()
        output = lab_page.cell(1).locator(".jp-OutputArea-output").first
        labels = output.locator(".igv-track-label")
        labels.filter(has_text="hits").wait_for()
        assert sorted(labels.all_inner_texts()) == ["attention", "hits"]
        # the output's mime bundle: the widget and a table of the tracks, never igv.js
        (bundle,) = [o for o in cells[1]["outputs"] if o["output_type"] == "execute_result"]
        snapshot = bundle["data"]["text/html"]
        assert "attention" in snapshot and "createBrowser" not in snapshot
        assert len(json.dumps(bundle)) < 20_000
        lab_page.screenshot("genome-view", output)
        # the hit (chr17:1,061-1,070) in a 400 nt view: click its middle
        viewport = output.locator(
            ".igv-viewport", has=lab_page.page.locator(".igv-track-label", has_text="hits")
        )
        viewport.scroll_into_view_if_needed()
        width = viewport.bounding_box()["width"]
        viewport.click(position={"x": width * (1065 - 900) / 400, "y": 15})
        state = "print(view.selected_feature, view.explorer and str(view.explorer_window))"
        deadline = time.monotonic() + 60
        while "chr17:966-1,165" not in (got := lab_page.kernel(state)):
            assert time.monotonic() < deadline, got
            lab_page.page.wait_for_timeout(500)
        assert "'start': 1060, 'end': 1070" in got and "'name': 'site'" in got, got
        same = "print(view.explorer.sequences == [view.fasta['chr17'][965:1165]])"
        assert lab_page.kernel(same).strip() == "True"
        output.locator(".js-plotly-plot").first.wait_for()  # the explorer, drawn below igv
        # the locus both ways: set in the kernel, igv goes there and says so back
        lab_page.kernel("view.locus = 'chr17:1,001-1,200'")
        search = output.locator("input.igv-search-input")
        search.wait_for()
        lab_page.page.wait_for_function(
            "el => el.value.replace(/,/g, '') === 'chr17:1001-1200'", arg=search.element_handle()
        )
        # and back: a locus typed into igv's search box is the kernel's
        search.fill("chr17:1,101-1,300")
        output.locator(".igv-search-icon-container").click()
        deadline = time.monotonic() + 60
        while (got := lab_page.kernel("print(view.locus)").strip()) != "chr17:1,101-1,300":
            assert time.monotonic() < deadline, (got, search.input_value())
            lab_page.page.wait_for_timeout(500)
        lab_page.screenshot("genome-view-explorer", output)
        check_compared_explorer(lab_page, lab_page.cell(2).locator(".js-plotly-plot").first)
        lab_page.assert_clean()
    finally:
        lab_page.screenshot("genome-view-last")
        (ARTIFACTS / "genome-view-console.txt").write_text("\n".join(lab_page.log))
        lab_page.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget?.sessionContext?.shutdown()"
        )
        lab_page.page.close()
