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
