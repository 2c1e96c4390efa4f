"""Exported views in a real browser: Debian's chromium driven by playwright, pages served on
loopback.

The test serves the explorer's and the gallery's ``save_html`` pages from
a local HTTP server it starts and stops itself, and checks from the page
that the plotly graph, the letter logo and the motif logos are drawn, that
no request leaves the machine, and that the page raised no error.
Screenshots go to ``tests/artifacts/`` (the README's pictures come from them).
"""

import functools
import http.server
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.widgets import MotifGallery, SequenceExplorer

ARTIFACTS = Path(__file__).parent / "artifacts"
pytestmark = pytest.mark.browser


@contextmanager
def served(folder: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def open_page(browser, url):
    """A page at ``url`` (1280 px wide), with the requests it made and the errors it raised."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, requests, errors


def test_explorer_page_draws_track_logo_and_context(browser, tmp_path, demo_model, demo_data):
    seqs = demo_data.sequences("heldout", 1)[:3]
    ex = SequenceExplorer(demo_model, seqs)
    ex.kind = "integrated_gradients"
    ex.position = int(abs(ex.values()).argmax())
    ex.save_html(tmp_path / "explorer.html")
    with served(tmp_path) as root:
        page, requests, errors = open_page(browser, f"{root}/explorer.html")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        bars = page.locator("#figure-1 .barlayer .point").count()
        letters = page.locator("#figure-1 .scatterlayer path.js-fill").count()
        heat = page.locator("#figure-2 .heatmaplayer image").count()
        context = page.locator("h3").first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)
    assert bars == len(seqs[0])  # one bar per nucleotide
    assert letters >= 4  # the A, C, G and T fills of the logo row
    assert heat == 1  # the mutation map
    assert context == f"sequence 0, position {ex.position} ({seqs[0][ex.position]})"
    assert all(url.startswith(root) for url in requests), [
        u for u in requests if not u.startswith(root)
    ]
    assert errors == []


def test_gallery_page_draws_every_logo(browser, tmp_path, demo_model, demo_data):
    pos, neg = demo_data.sequences("train", 1)[:1000], demo_data.sequences("train", 0)[:1000]
    motifs = dv.find_motifs(pos, neg, dv.cls_attention(demo_model, pos))
    matches = dv.match_jaspar(motifs)
    MotifGallery(motifs, matches).save_html(tmp_path / "gallery.html")
    with served(tmp_path) as root:
        page, requests, errors = open_page(browser, f"{root}/gallery.html")
        page.wait_for_load_state("load")
        widths = page.eval_on_selector_all(
            ".card img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
        )
        names = page.locator(".card h3").all_inner_texts()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=False)
    assert len(widths) == len(motifs) and min(widths) > 100
    assert names == [m.name for m in motifs]
    assert all(url.startswith(root) for url in requests) and errors == []


# text of a figure that must not cover another: axis and colour-bar titles and ticks, the legend,
# the title (letters drawn as data, e.g. the head view's, are checked where they are drawn)
TEXTS = """gd => {
  const box = e => { const r = e.getBoundingClientRect();
                     return [r.left, r.top, r.right, r.bottom, e.textContent]; };
  const texts = [...gd.querySelectorAll(
    '.xtick text, .ytick text, .g-xtitle text, .g-x2title text, .g-ytitle text, ' +
    '.x2tick text, .y2tick text, .gtitle, .colorbar text, .annotation-text, .legendtext')];
  const legend = gd.querySelector('.legend'), plot = gd.querySelector('.nsewdrag');
  return {texts: texts.filter(t => t.textContent).map(box),
          legend: legend ? box(legend) : null, plot: box(plot)};
}"""


def overlap(a, b) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def covering(texts: list) -> list[tuple[str, str]]:
    """The pairs of :data:`TEXTS` boxes that cover each other, by their texts."""
    return [(a[4], b[4]) for i, a in enumerate(texts) for b in texts[i + 1 :] if overlap(a, b)]


def test_figure_texts_do_not_overlap(browser, tmp_path, demo_model, demo_data):
    """At the widths the views use, no axis title, tick label, colour-bar label or legend covers
    another or the plot (what a person saw: tilted colour-bar ticks, an axis title on its tick
    numbers, a legend on the map)."""
    seq = demo_data.sequences("heldout", 1)[0]
    effects = dv.ism(demo_model, seq[:120]).extra["effects"][0]
    maps = dv.attention_maps(demo_model, seq)
    data = demo_data.sequences("train")[:120], demo_data.labels("train")[:120]
    trained = dv.train_classifier(*data, hidden_size=16, num_layers=1, num_heads=2, epochs=3)
    page = dv.plot.html.Page("figures")
    figures = {
        "mutation map 520 px": dv.plot.mutation_map(effects, seq[:120], width=520),
        "mutation map 900 px": dv.plot.mutation_map(effects, seq[:120], width=900),
        "contributions": dv.plot.mutation_map(
            effects * 300, seq[:120], label="contribution", ylabel="base", width=900
        ),
        "head view": dv.plot.head_view(maps, window=(40, 100)),
        "attention": dv.plot.attention_heatmap(maps),
        "training": dv.plot.training_curves(trained),
        # a one-sequence atlas without an annotation: two panels under a two-line title
        "head atlas": dv.plot.head_atlas(dv.head_atlas(demo_model, [seq])),
        "embeddings": dv.plot.embedding_scatter(
            np.random.default_rng(0).normal(size=(40, 2)),
            pd.Series(np.random.default_rng(1).random(40)),
            colour_label="GC content",
            axis_labels=("PC 1 (12.3%)", "PC 2 (8.1%)"),
        ),
    }
    page.add(*(page.figure(fig) for fig in figures.values()))
    page.save(tmp_path / "figures.html")
    with served(tmp_path) as root:
        browser_page, _, errors = open_page(browser, f"{root}/figures.html")
        browser_page.wait_for_selector(".js-plotly-plot .main-svg")
        graphs = browser_page.locator(".js-plotly-plot")
        assert graphs.count() == len(figures)
        found = [graphs.nth(i).evaluate(TEXTS) for i in range(len(figures))]
    assert errors == []
    for name, drawn in zip(figures, found):
        texts = drawn["texts"]
        assert len(texts) > 6, name
        covered = covering(texts)
        assert not covered, (name, covered)
        if drawn["legend"]:
            assert not overlap(drawn["legend"], drawn["plot"]), name
