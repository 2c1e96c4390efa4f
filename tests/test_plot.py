"""Figures: real logomaker logos and plotly figures, checked by the numbers they draw."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.plot.logos import COLORS


@pytest.mark.slow  # two fresh Pythons
def test_importing_the_package_leaves_views_and_their_libraries_for_first_use():
    heavy = [
        "matplotlib",
        "plotly",
        "ipywidgets",
        "scipy.stats",
        "dnabert_viz.plot",
        "dnabert_viz.widgets",
    ]
    code = f"import sys, dnabert_viz; print([m for m in {heavy!r} if m in sys.modules])"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    code = (
        "import sys, dnabert_viz as dv; dv.widgets; "
        "print('ipywidgets' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        run.stdout.strip() == "True False"
    )  # dv.widgets loads on first use; pyplot still only when a logo is drawn


def motif():
    inst = pd.DataFrame(
        {
            "sequence_index": range(4),
            "start": [0] * 4,
            "end": [4] * 4,
            "strand": ["+"] * 4,
            "sequence": ["TATA", "TATA", "TATC", "GATA"],
        }
    )
    return dv.Motif.from_sites("tata", inst, p_value=1e-5)


def glyph_heights(ax):
    """(letter, x, height) of every glyph logomaker drew, from the patches on the axes."""
    out = []
    for patch in ax.patches:
        box = patch.get_path().get_extents()
        out.append((round(box.x0 + box.width / 2), box.height))
    return out


def test_information_logo_draws_letters_as_tall_as_their_bits():
    m = motif()
    fig = dv.plot.logo(m)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "information (bits)" and ax.get_ylim() == (0, 2)
    assert ax.get_title(loc="left") == "tata (4 instances, p = 1e-05)"
    heights = {}
    for x, h in glyph_heights(ax):
        heights[x] = heights.get(x, 0) + h
    expected = (
        m.information_content
    )  # the glyphs of a column stack to its bits (minus logomaker's padding)
    assert [heights[x] for x in range(4)] == pytest.approx(expected, rel=0.12, abs=0.05)


def test_attribution_logo_points_negative_letters_down():
    fig = dv.plot.attribution_logo("ACGT", np.array([0.5, -0.25, 1.0, 0.0]))
    ax = fig.axes[0]
    boxes = sorted((p.get_path().get_extents() for p in ax.patches), key=lambda b: b.x0)
    assert len(boxes) == 3  # the zero-score T draws nothing
    assert (
        boxes[0].y0 >= -1e-9
        and boxes[1].y1 <= 1e-9
        and boxes[2].y1 == pytest.approx(1.0, abs=0.06)
    )
    with pytest.raises(ValueError, match="values has 3 entries for a sequence of 4 nt"):
        dv.plot.attribution_logo("ACGT", np.zeros(3))


def test_logos_display_inline_in_notebooks():
    """IPython's display machinery (JupyterLab, VS Code, nbconvert) finds a PNG for every logo
    figure."""
    from IPython.core.formatters import DisplayFormatter

    for fig in (
        dv.plot.logo(motif()),
        dv.plot.attribution_logo("ACGT", np.array([0.5, -0.25, 1.0, 0.0])),
    ):
        data, _ = DisplayFormatter().format(fig)
        assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
        assert "Figure size" in data["text/plain"]


def test_contribution_logo_draws_every_base_of_every_position():
    hyp = np.array([[0.5, -0.25, 0.0, 0.1], [0.0, 0.0, 1.0, -0.5]])
    ax = dv.plot.contribution_logo(hyp, title="hyp").axes[0]
    boxes = sorted((p.get_path().get_extents() for p in ax.patches), key=lambda b: (b.x0, b.y0))
    assert len(boxes) == 5 and ax.get_ylabel() == "contribution"  # the two zeros draw nothing
    assert min(b.y0 for b in boxes) == pytest.approx(-0.5, abs=0.06)
    assert max(b.y1 for b in boxes) == pytest.approx(1.0, abs=0.06)
    with pytest.raises(
        ValueError, match=r"values must be \(L, 4\) over A C G T, got shape \(2, 3\)"
    ):
        dv.plot.contribution_logo(hyp[:, :3])


def test_motif_logo_kinds_pwm_cwm_and_hypothetical():
    m = motif()
    m.hypothetical = np.array(
        [[-0.1, 0.0, 0.0, 0.8], [0.6, -0.2, 0.0, 0.0], [0.0, 0.0, 0.0, 0.9], [0.5, 0.0, -0.3, 0.0]]
    )
    ax = dv.plot.logo(m, kind="hypothetical").axes[0]
    assert ax.get_ylabel() == "hypothetical contribution" and len(ax.patches) == 7
    tallest = {}
    for x, h in glyph_heights(ax):
        tallest[x] = max(tallest.get(x, 0), h)
    assert [tallest[x] for x in range(4)] == pytest.approx([0.8, 0.6, 0.9, 0.5], abs=0.06)
    assert dv.plot.logo(m, kind="pwm").axes[0].get_ylabel() == "probability"
    with pytest.raises(ValueError, match="motif 'tata' has no contribution matrix"):
        dv.plot.logo(m, kind="cwm")
    with pytest.raises(ValueError, match="kind must be one of .*hypothetical, pwm, cwm"):
        dv.plot.logo(m, kind="hyp")
    with pytest.raises(ValueError, match=r"hypothetical has shape \(3, 4\), counts \(4, 4\)"):
        dv.Motif("x", m.counts, hypothetical=m.hypothetical[:3])


def test_logo_png_is_cached():
    m = motif()
    first = dv.plot.logo_png(m)
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert dv.plot.logo_png(m) is first


def test_track_rows_hover_letters_and_spans():
    seqs = ["ACGTACGTAA", "GGGG"]
    a = dv.Scores(
        seqs,
        np.array([np.arange(10), [1, 2, 3, 4] + [np.nan] * 6], dtype=np.float32),
        "cls_attention",
    )
    b = dv.Scores(seqs, -a.values, "integrated_gradients")
    inst = pd.DataFrame(
        {"sequence_index": [0, 1], "start": [2, 0], "end": [6, 2], "name": ["CTCF", "TBP"]}
    )
    fig = dv.plot.track([a, b], 0, instances=inst, tokens=["ACGTAC"] * 10)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["cls_attention", "integrated_gradients"]
    assert list(bars[0].y) == list(range(10)) and list(bars[1].y) == [-v for v in range(10)]
    assert bars[0].marker.color[0] == COLORS["A"] and bars[0].marker.color[1] == COLORS["C"]
    assert "position 3<br>base T<br>cls_attention: 3<br>tokens: ACGTAC" == bars[0].hovertext[3]
    logo = {t.name: t for t in fig.data if t.type == "scatter"}
    assert sorted(logo) == ["logo A", "logo C", "logo G", "logo T", "logo counter"]
    # A sits at 0, 4, 8, 9 with heights 0, 4/9, 8/9, 1 (scaled to the largest score): the zero
    # draws nothing
    a_x = np.array(logo["logo A"].x, dtype=float)
    a_y = np.array(logo["logo A"].y, dtype=float)
    gaps = np.isnan(a_x)
    centres = sorted(
        {
            round(float(np.nanmean(part)))
            for part in np.split(a_x, np.flatnonzero(gaps))
            if np.isfinite(part).any()
        }
    )
    assert centres == [4, 8, 9]
    assert np.nanmax(a_y) == pytest.approx(1.0) and np.nanmin(a_y) == pytest.approx(0.0)
    spans = [s for s in fig.layout.shapes if s.type == "rect"]
    assert {(s.x0, s.x1) for s in spans} == {(1.5, 5.5)}  # only sequence 0's instance, both rows
    assert fig.layout.annotations[-1].text == "CTCF"
    assert len(dv.plot.track(a, 1).data[0].y) == 4


def test_mutation_map_marks_the_reference():
    effects = np.zeros((3, 4))
    effects[0, 2], effects[2, 0] = -0.5, 0.25
    fig = dv.plot.mutation_map(effects, "ACT")
    heat, ref = fig.data
    assert np.array(heat.z).shape == (4, 3) and heat.z[2][0] == -0.5 and heat.z[0][2] == 0.25
    assert heat.zmin == -0.5 and heat.zmax == 0.5
    assert list(ref.x) == [0, 1, 2] and list(ref.y) == ["A", "C", "T"]
    assert heat.hovertext[2][0] == "position 0<br>A → G<br>effect -0.5"


def test_attention_figures_on_the_demo_model(demo_model):
    maps = dv.attention_maps(demo_model, "ACGTACGTTGCATGCAAACCGGTT")
    fig = dv.plot.attention_heatmap(maps, layer=-1, head=2)
    assert np.allclose(fig.data[0].z, maps.nucleotide(-1, 2))
    summary = dv.plot.layer_head_summary(maps)
    z = np.array(summary.data[0].z)
    assert z.shape == (2, 4)
    real = maps.spans[:, 0] >= 0
    row = maps.attentions[1, 3, 0, real] / maps.attentions[1, 3, 0, real].sum()
    assert z[1, 3] == pytest.approx(-(row * np.log2(row)).sum(), rel=1e-5)
    assert z.max() - z.min() > 0.1  # heads differ visibly (the colour scale spans them)
