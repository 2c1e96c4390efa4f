"""plot/static.py: the package's plotly figures drawn as PNG without a browser, checked by the
pixels they draw where the figure says."""

import io

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

import dnabert_viz as dv
from dnabert_viz.plot.html import NO_PLOTLY, Page
from dnabert_viz.plot.logos import COLORS
from dnabert_viz.plot.static import UnsupportedFigure, plotly_png


def pixels(png: bytes) -> np.ndarray:
    """(height, width, 3) RGB values of a PNG."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def near(image: np.ndarray, colour: str, tolerance: int = 12) -> np.ndarray:
    """Where ``image`` has the colour ``#rrggbb``."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return (np.abs(image - rgb) <= tolerance).all(axis=-1)


def plot_area(fig: go.Figure, xkey: str = "xaxis", ykey: str = "yaxis") -> tuple[float, ...]:
    """A subplot's pixel box (left, right, top, bottom) from the figure's margins and domains."""
    width, height, margin = fig.layout.width, fig.layout.height, fig.layout.margin
    plot_w, plot_h = width - margin.l - margin.r, height - margin.t - margin.b
    (x0, x1), (y0, y1) = fig.layout[xkey].domain or (0, 1), fig.layout[ykey].domain or (0, 1)
    return (
        margin.l + x0 * plot_w,
        margin.l + x1 * plot_w,
        margin.t + (1 - y1) * plot_h,
        margin.t + (1 - y0) * plot_h,
    )


def test_a_track_draws_each_bar_at_its_position_as_tall_as_its_score():
    sequence = "ACGT" * 25
    values = np.zeros(100)
    values[10], values[70] = 1.0, 0.5  # both G
    fig = dv.plot.track(dv.Scores([sequence], values[None], "ism"), 0, width=800)
    image = pixels(plotly_png(fig))
    assert image.shape == (fig.layout.height, 800, 3)
    left, right, top, bottom = plot_area(fig)  # the bar row (its own y axis, the shared x's)
    rows = image[int(top) : int(bottom)]

    def column(position: int) -> np.ndarray:  # x range -0.5 .. 99.5
        return rows[:, int(left + (position + 0.5) / 100 * (right - left))]

    tall, half = near(column(10), COLORS["G"]).sum(), near(column(70), COLORS["G"]).sum()
    assert tall > 0.7 * (bottom - top)  # the highest bar: most of the row (autorange pads it)
    assert half / tall == pytest.approx(0.5, abs=0.05)
    assert not any(near(column(40), c).any() for c in COLORS.values())  # a zero score: no bar
    # the letter logo under it: a G at position 10, nothing at 40
    left, right, top, bottom = plot_area(fig, "xaxis2", "yaxis2")
    letters = image[int(top) : int(bottom), int(left) : int(right)]
    x10, x40 = (int((p + 0.5) / 100 * (right - left)) for p in (10, 40))
    assert near(letters[:, x10 - 3 : x10 + 4], COLORS["G"]).sum() > 20
    assert not near(letters[:, x40 - 3 : x40 + 4], COLORS["G"]).any()


def test_a_mutation_map_colours_the_cell_of_the_substitution():
    sequence = "ACGT" * 10
    effects = np.zeros((40, 4))
    effects[30, 2] = 1.0  # position 30 to G: the largest gain, the top of RdBu_r (dark red)
    effects[5, 0] = -1.0  # position 5 to A: the bottom (dark blue)
    fig = dv.plot.mutation_map(effects, sequence, width=600)
    image = pixels(plotly_png(fig))
    left, right, top, bottom = plot_area(fig)

    def cell(position: int, base: int) -> np.ndarray:  # rows A (bottom) .. T (top)
        x = left + (position + 0.5) / 40 * (right - left)
        y = bottom - (base + 0.5) / 4 * (bottom - top)
        return image[int(y), int(x)]

    red, blue, middle = cell(30, 2), cell(5, 0), cell(20, 1)
    assert red[0] > 90 and red[2] < 60 and red[0] > 2 * red[2]
    assert blue[2] > 80 and blue[0] < 40
    assert (middle > 235).all()  # no effect: the scale's white middle


def test_every_figure_is_its_own_size_marked_as_a_snapshot(demo_model):
    fig = dv.plot.embedding_scatter(np.random.default_rng(0).normal(size=(50, 2)), np.arange(50.0))
    image = pixels(plotly_png(fig))
    assert image.shape == (560, 720, 3)
    assert (image < 200).any(axis=-1).sum() > 500  # points, axes and labels drawn
    corner = (slice(-14, None), slice(-120, None))
    assert (image[corner] < 230).any()  # "static snapshot", small and grey, bottom right
    assert (pixels(plotly_png(fig, mark=None))[corner] > 250).all()
    maps = dv.attention_maps(demo_model, "ACGTAGGCTTACGATCGATTACGGATC" * 2)
    for fig in (
        dv.plot.head_view(maps, layer=0, head=1),
        dv.plot.attention_heatmap(maps, layer=0, head=1),
        dv.plot.layer_head_summary(maps),
    ):
        image = pixels(plotly_png(fig))
        assert image.shape == (fig.layout.height, fig.layout.width, 3)
        assert (image < 200).any(axis=-1).mean() > 0.02


def test_categories_are_drawn_in_their_own_colours():
    """A colour scale of #hex bands (the embedding's categories) is drawn, each point in its
    category's colour (plotly interpolates rgb() only: hex bands once failed)."""
    import plotly.colors

    xy = np.array([[0.0, 0.0], [1.0, 1.0]]).repeat(20, axis=0)
    fig = dv.plot.embedding_scatter(xy, np.array(["neg", "pos"]).repeat(20))
    image = pixels(plotly_png(fig))
    first, second = plotly.colors.qualitative.Dark24[:2]
    assert near(image, first, 30).sum() > 20 and near(image, second, 30).sum() > 20


def test_a_figure_it_cannot_draw_is_refused_and_its_page_says_what_it_is():
    pie = go.Figure(go.Pie(values=[1, 2]))
    with pytest.raises(UnsupportedFigure, match="no static drawing of pie traces"):
        plotly_png(pie)
    page = Page("t", images=True)
    page.add(page.figure(pie), page.figure(dv.plot.probe_curve(probe_table())))
    html = page.to_snapshot("note")
    assert len(page.images) == 1 and html.count("data:image/png;base64,") == 1
    assert NO_PLOTLY in html
    assert Page("t").images is None  # a saved page draws none: plotly.js draws its figures


def probe_table():
    import pandas as pd

    return pd.DataFrame(
        {
            "model": ["a"] * 3,
            "layer": [0, 1, 2],
            "score": [0.5, 0.7, 0.9],
            "std": [0.05, 0.04, 0.02],
            "metric": ["accuracy"] * 3,
        }
    )
