"""Click-to-redraw in a live JupyterLab: every interaction with the views, timed in chromium.

Starts JupyterLab on a free loopback port (tests/test_lab.py's server), writes a
small notebook (a SequenceExplorer on the demo model computing its scores on
demand, a MotifGallery, an AttentionView, an EmbeddingView of 10,000 points),
runs it in headless chromium through playwright and times each interaction
from the browser's input event (pointer down, key down, a menu's change) to

- *acknowledged*: the first change of the view's page (its status line for
  the explorer; anything but plotly's hover labels elsewhere), and
- *redrawn*: the state the interaction asked for drawn in full (the title,
  axis, heading or status that names it; the explorer no longer
  "drawing" or "computing"),

the median of a few repetitions, each begun on a page that has had nothing to do for a
second. Prints a table and writes it, with ``uptime``
before and after, to ``benchmarks/lab_latency.tsv``. Runs in a few minutes:

    .venv/bin/python benchmarks/lab_latency.py

Needs Debian's chromium at /usr/bin/chromium (never ``playwright install``).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DNABERT_VIZ_THREADS", "2")  # the kernel's threads: not by the load

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.test_lab import (  # noqa: E402
    CORNER,
    MINUTE,
    WIDGET_PLOT,
    Lab,
    box_select_tool,
    click_column,
    control,
    drag_box,
    serve_lab,
    write_notebook,
)

REPEATS = 3

N_POINTS = 10_000
OUT = Path(__file__).parent / "lab_latency.tsv"
NOTEBOOK = "latency.ipynb"
CELLS = [
    "import numpy as np\n\nimport dnabert_viz as dv\n\n"
    "m = dv.load_model()\n"
    "data = dv.load_demo()\n"
    "seqs = data.sequences('heldout', label=1)[:6]\n"
    "pos, neg = data.sequences(label=1)[:300], data.sequences(label=0)[:300]\n"
    "motifs = dv.find_motifs(pos, neg, dv.cls_attention(m, pos, batch_size=64), window_size=24,"
    " min_len=5, pval_cutoff=0.005, min_n_motif=3)\n"
    "rng = np.random.default_rng(0)\n"
    f"points = [data.table['sequence'][i % len(data.table)] for i in range({N_POINTS})]\n"
    f"embeddings = rng.normal(size=({N_POINTS}, 768)).astype(np.float32)\n"
    f"labels = rng.integers(0, 2, {N_POINTS})\n"
    "lengths = np.array([len(s) for s in points])\n"
    "values = rng.normal(size=(len(points), lengths.max()))\n"
    "values[np.arange(lengths.max()) >= lengths[:, None]] = np.nan\n"
    "given = dv.Scores(points, values, 'given')",
    "explorer = dv.widgets.SequenceExplorer(m, seqs)\nexplorer",
    "gallery = dv.widgets.MotifGallery(motifs, model=m, page_size=2)\ngallery",
    "attention = dv.widgets.AttentionView(m, seqs[0])\nattention",
    "view = dv.widgets.EmbeddingView(None, points, embeddings=embeddings, labels=labels,"
    " scores=given)\nview",
]
EXPLORER, GALLERY, ATTENTION, EMBEDDING = 1, 2, 3, 4

# Arms the clock: the next of ``events`` starts it, the first change under ``roots`` (but inside
# none of ``ignore``) acknowledges.
ARM = """([roots, ignore, events]) => {
  window.__lat?.observer?.disconnect();
  const lat = (window.__lat = {t0: null, ack: null});
  const start = () => { if (lat.t0 === null) lat.t0 = performance.now(); };
  for (const ev of events)
    document.addEventListener(ev, start, {capture: true, once: true});
  lat.observer = new MutationObserver(records => {
    if (lat.t0 === null || lat.ack !== null) return;
    for (const r of records) {
      const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (!ignore || !node.closest(ignore)) { lat.ack = performance.now(); break; }
    }
  });
  for (const root of roots)
    lat.observer.observe(root, {subtree: true, childList: true, characterData: true,
                                attributes: true});
}"""
INPUT = ["pointerdown", "keydown", "change", "input"]  # what starts the clock
# the page has had nothing to do for a second (idle callbacks a second apart, none waited for)
IDLE = """async () => { for (let quiet = 0; quiet < 10;) {
  const t = performance.now();
  await new Promise(ok => requestIdleCallback(ok));
  await new Promise(ok => setTimeout(ok, 100));
  quiet = performance.now() - t < 150 ? quiet + 1 : 0; } }"""
STATUS = ".widget-hbox:has(> .widget-slider) > .widget-html"  # the explorer's status line
# ``done`` (a JS expression of ``el``, the view's output, ``arg``, ``lat``, ``st``, the status
# line's text, ``idle``, not drawing or computing, and ``plots``, its plotly graphs) holds:
# returns the time it first held
DONE = """([el, arg]) => { const lat = window.__lat; if (lat.t0 === null) return false;
  const st = el.querySelector(%r)?.innerText ?? "", idle = !/drawing|computing/.test(st);
  const plots = el.querySelectorAll(".js-plotly-plot");
  try { if (%s) return performance.now(); } catch (e) {} return false; }"""
# not a view's answer: plotly's hover labels and drag outlines, a menu's own options
IGNORE = "select, .hoverlayer, .modebar-container, .select-outline, .selectionlayer, .zoomlayer"


class Clock:
    """Times interactions on one notebook's page: ack and redraw per repetition, by name."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.rows: dict[str, list[tuple[float, float]]] = {}

    def output(self, cell: int):
        """The cell's last output: its view (after the emptied progress bar of one being made)."""
        return self.lab.cell(cell).locator(".jp-OutputArea-output").last

    def time(
        self,
        name: str,
        cell: int,
        act,
        done: str,
        arg=None,
        *,
        ack_in=None,
        ack_when=None,
        within=None,
        events=INPUT,
    ) -> None:
        """Arm the clock, ``act()``, wait until ``done`` holds in the cell's output (or in
        ``within``, a locator: then the clock starts at ``act``, which need not be an input
        event); record (ack, redraw) in ms, acknowledged by a change in ``ack_in`` (element
        handles; default: the output; none: the redraw is the first change) or, given
        ``ack_when`` (an expression as ``done``), when that first holds."""
        # from a settled page, as a person acts once the last answer is drawn: else the time
        # would hold the previous interaction's tail (the page redraws a dimmed 10,000-point
        # scatter from the kernel's state after its status line says the selection)
        self.lab.page.evaluate(IDLE)
        el = (self.output(cell) if within is None else within).element_handle()
        roots = [el] if ack_in is None else ack_in
        self.lab.page.evaluate(ARM, [roots, IGNORE, events])
        if within is not None:
            self.lab.page.evaluate("() => { window.__lat.t0 = performance.now(); }")
        act()
        if ack_when is not None:
            acked = self.lab.page.wait_for_function(
                DONE % (STATUS, ack_when), arg=[el, arg], timeout=5 * MINUTE
            ).json_value()
            self.lab.page.evaluate("t => { window.__lat.ack = t; }", acked)
        finished = self.lab.page.wait_for_function(
            DONE % (STATUS, done), arg=[el, arg], timeout=5 * MINUTE
        ).json_value()
        t0, ack = self.lab.page.evaluate("() => [window.__lat.t0, window.__lat.ack]")
        ack = finished if ack is None or ack > finished else ack
        self.rows.setdefault(name, []).append((ack - t0, finished - t0))
        print(f"  {name}: ack {ack - t0:.0f} ms, redrawn {finished - t0:.0f} ms", flush=True)

    def settle(self, code: str, cell: int, done: str, arg=None) -> None:
        """Set state from the kernel (untimed) and wait until ``done`` holds."""
        self.lab.kernel(code)
        self.lab.page.evaluate("() => { window.__lat = {t0: 0, ack: 0}; }")
        el = self.output(cell).element_handle()
        self.lab.page.wait_for_function(DONE % (STATUS, done), arg=[el, arg], timeout=5 * MINUTE)


def drive_explorer(clock: Clock) -> None:
    scope = clock.lab.cell(EXPLORER)
    track = scope.locator(".js-plotly-plot").first
    track.scroll_into_view_if_needed()
    status = scope.locator(STATUS).element_handles()
    titled = (
        "idle && lat.ack !== null && plots[0].layout.title.text.startsWith(`sequence ${arg} `)"
    )
    box = control(scope, "text", "sequence")
    for i in (1, 2, 3):
        box.fill(str(i))
        clock.time(
            "explorer: sequence change",
            EXPLORER,
            lambda: box.press("Enter"),
            titled,
            i,
            ack_in=status,
        )
    heading = (
        "idle && lat.ack !== null && el.querySelector('h3')?.innerText.startsWith("
        "`sequence ${arg[0]}, position ${arg[1]} `) && plots.length > 1"
        " && plots[1].layout.title.text.startsWith('in-silico')"
    )
    for i in (1, 2, 3):  # the first click in a sequence computes its ISM
        clock.settle(
            f"explorer.position = None; explorer.index = {i}",
            EXPLORER,
            "idle && plots[0].layout.title.text.startsWith(`sequence ${arg} `)",
            i,
        )
        clock.time(
            "explorer: position click, first in a sequence",
            EXPLORER,
            lambda: click_column(clock.lab, track, 40),
            heading,
            [i, 40],
            ack_in=status,
        )
    for p in (60, 80, 100):
        clock.time(
            "explorer: position click, ISM cached",
            EXPLORER,
            lambda p=p: click_column(clock.lab, track, p),
            heading,
            [3, p],
            ack_in=status,
        )
    axis = "idle && lat.ack !== null && plots[0]._fullLayout.yaxis.title.text.includes(arg)"
    menus = [
        ("layer", "layer", ("0", "1", "0"), "(layer {},"),
        ("head", "heads", "012", "head {})"),
    ]
    for name, menu, choices, shown in menus:
        for choice in choices:
            clock.time(
                f"explorer: {name} change",
                EXPLORER,
                lambda menu=menu, choice=choice: control(scope, "dropdown", menu).select_option(
                    label=choice
                ),
                axis,
                shown.format(choice),
                ack_in=status,
            )
    kinds = [
        ("saliency", "saliency"),
        ("integrated gradients", "integrated_gradients"),
        ("GradientSHAP", "onehot_gradient_shap"),
    ]
    for label, kind in kinds:
        for i in (0, 1, 2):  # each on a sequence it has not been computed for
            clock.settle(
                f"explorer.position = None; explorer.kind = 'cls_attention'; explorer.index = {i}",
                EXPLORER,
                "idle && st.startsWith(`sequence ${arg}: cls_attention`)",
                i,
            )
            clock.time(
                f"explorer: score kind -> {label}",
                EXPLORER,
                lambda label=label: control(scope, "dropdown", "score").select_option(label=label),
                "idle && lat.ack !== null && st.startsWith(`sequence ${arg[0]}: ${arg[1]}`)",
                [i, kind],
                ack_in=status,
            )


def drive_gallery(clock: Clock) -> None:
    scope = clock.lab.cell(GALLERY)
    scope.scroll_into_view_if_needed()
    logos = (
        "el.innerText.includes(`page ${arg} of`) && Array.from("
        "el.querySelectorAll('.widget-gridbox img')).every(i => i.complete && i.naturalWidth)"
    )
    for page in (2, 3, 4):
        clock.time(
            "gallery: next page",
            GALLERY,
            lambda: scope.get_by_role("button", name="next ▶").click(),
            logos,
            page,
        )
    listing = scope.locator(".widget-select select")
    clock.time(
        "gallery: list a motif's instances",
        GALLERY,
        lambda: scope.locator(".widget-gridbox .widget-button").first.click(),
        "el.querySelectorAll('.widget-select option').length > 0"
        " && el.innerText.includes('instances of')",
    )
    rows = clock.lab.kernel(
        "import json; t = gallery.chosen.instances.reset_index(drop=True)\n"
        "print(json.dumps([[int(t.sequence_index[k]), int(t.start[k])] for _, k in "
        "gallery.instance_list.options]))"
    )
    opened = (
        "idle && plots.length > 0"
        " && plots[0].layout.title.text.startsWith(`sequence ${arg[0]} `)"
        " && el.querySelector('h3')?.innerText"
        ".startsWith(`sequence ${arg[0]}, position ${arg[1]} `)"
    )
    options = json.loads(rows)
    picks = [0] + [k for k, r in enumerate(options) if r[0] != options[0][0]][:2]
    for n, k in enumerate(picks):
        name = (
            "gallery: first instance (opens the explorer)"
            if n == 0
            else "gallery: another instance"
        )
        clock.time(name, GALLERY, lambda k=k: listing.select_option(index=k), opened, options[k])


def drive_attention(clock: Clock) -> None:
    scope = clock.lab.cell(ATTENTION)
    scope.scroll_into_view_if_needed()
    for head in ("0", "1", "2"):
        clock.time(
            "attention view: head change",
            ATTENTION,
            lambda head=head: control(scope, "dropdown", "head").select_option(label=head),
            "plots[0].layout.title.text.includes(`head ${arg}`)",
            head,
        )


def drive_embedding(clock: Clock) -> None:
    lab = clock.lab
    cell = lab.cell(EMBEDDING)
    cell.scroll_into_view_if_needed()
    drawn = (
        "plots.length > 0 && !plots[0].hasAttribute('data-old')"
        " && plots[0]._fullData[0]._length === arg && plots[0].querySelector('canvas') !== null"
        " && plots[0]._fullLayout.xaxis._length > 0"
    )
    # not awaited: ``evaluate`` would wait for the cell's end, and the clock would look for its
    # progress bar only once it is gone
    run = (
        "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
        f" nb.activeCellIndex = {EMBEDDING};"
        " window.jupyterapp.commands.execute('notebook:run-cell'); }"
    )
    for _ in range(REPEATS):  # run the cell again: the clock starts at the run
        cell.locator(".js-plotly-plot").evaluate_all(
            "plots => plots.forEach(p => p.setAttribute('data-old', ''))"
        )
        clock.time(
            f"embedding view: first draw, {N_POINTS:,} points (cell run)",
            EMBEDDING,
            lambda: lab.page.evaluate(run),
            drawn,
            N_POINTS,
            within=cell,
            ack_in=[],
            ack_when=f"el.querySelector('.widget-hprogress') !== null || ({drawn})",  # its bar
        )
    graph = clock.output(EMBEDDING).locator(WIDGET_PLOT).first
    box_select_tool(lab, graph)
    x0, y0 = json.loads(lab.kernel(CORNER))
    expected = int(lab.kernel(f"print(int(((xy[:, 0] > {x0}) & (xy[:, 1] > {y0})).sum()))"))
    clock.time(
        "embedding view: box selection -> kernel's selected, status",
        EMBEDDING,
        lambda: drag_box(lab, graph, x0, y0),
        "/\\d+ selected/.test(el.innerText)",
        events=["pointerup"],  # plotly selects when the drag ends
    )
    selected = int(lab.kernel("print(len(view.selected))"))
    print(f"  selected {selected:,} points; {expected:,} lie in the box", flush=True)
    button = clock.output(EMBEDDING).get_by_role("button", name="open selected in explorer")
    clock.time(
        "embedding view: open selected in explorer",
        EMBEDDING,
        button.click,
        "idle && plots.length > 1 && plots[1].layout.title.text.startsWith('sequence 0 ')",
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    started = time.perf_counter()
    before = uptime()
    failed: list[str] = []
    print(f"before: {before}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        (tmp / "root").mkdir()
        write_notebook(tmp / "root" / NOTEBOOK, CELLS)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        with serve_lab(tmp / "root", tmp) as url:
            lab = Lab(browser, url, NOTEBOOK)
            try:
                start = time.perf_counter()
                lab.run_all(one_at_a_time=True)
                lab.show_all_outputs()
                print(f"Run All and show: {time.perf_counter() - start:.0f} s", flush=True)
                clock = Clock(lab)
                for drive in (drive_explorer, drive_gallery, drive_attention, drive_embedding):
                    try:
                        drive(clock)
                    except PlaywrightTimeout as error:  # the others are still measured
                        failed.append(f"{drive.__name__}: {str(error).splitlines()[0]}")
                        print(f"  not measured: {failed[-1]}", flush=True)
                # what the page logged is reported, not fatal: chromium's software WebGL warns
                # of stalls under 10,000 points
                logged = list(
                    dict.fromkeys(re.sub(r"0x[0-9a-f]+", "0x", e)[:160] for e in lab.errors)
                )
                logged += [f"widget failed to display: {w}" for w in lab.broken_widgets()]
            finally:
                lab.page.evaluate(
                    "() => window.jupyterapp.shell.currentWidget?.sessionContext?.shutdown()"
                )
                lab.page.close()
                browser.close()
    after = uptime()
    lines = [
        f"# uptime before: {before}",
        f"# uptime after: {after}",
        "interaction\trepeats\tack_ms\tredrawn_ms",
    ]
    lines[2:2] = [f"# not measured (timed out): {f}" for f in failed] + [
        f"# the page logged: {e}" for e in logged
    ]
    for name, times in clock.rows.items():
        ack = statistics.median(a for a, _ in times)
        done = statistics.median(d for _, d in times)
        lines.append(f"{name}\t{len(times)}\t{ack:.0f}\t{done:.0f}")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"after: {after}; {time.perf_counter() - started:.0f} s in all; table in {OUT}")


if __name__ == "__main__":
    main()
