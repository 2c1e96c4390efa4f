"""Widgets driven from Python: controls set, clicks dispatched, figure data checked against the
library's numbers."""

import base64
import io
import json
import re

import ipywidgets as W
import numpy as np
import pandas as pd
import pytest
import traitlets
from PIL import Image
from plotly.callbacks import InputDeviceState, Points
from plotly.offline import get_plotlyjs

import dnabert_viz as dv
from dnabert_viz.finetune import build_classifier
from dnabert_viz.plot.logos import COLORS
from dnabert_viz.widgets import AttentionView, MotifGallery, SequenceExplorer

from .test_static import near, pixels


def click(trace, index):
    """What the browser's click on point ``index`` of ``trace`` does: plotly's own dispatch."""
    trace._dispatch_on_click(
        Points(point_inds=[index], xs=[0], ys=[0], trace_name=trace.name, trace_index=0),
        InputDeviceState(),
    )


@pytest.fixture(scope="module")
def seqs(demo_data):
    return demo_data.sequences("heldout", 1)[:4]


def test_a_reloaded_page_gets_the_figure_the_controls_show(demo_model, seqs):
    """A page reload rebuilds each FigureWidget from its synced state (ipywidgets asks the kernel):
    after a control
    change that state must be the figure shown, not the one the widget was built with."""
    ex = SequenceExplorer(demo_model, seqs)
    ex.index_control.value = 2
    ex.position = 5
    data, layout = (
        ex.figure._widget_data,
        ex.figure._widget_layout,
    )  # the synced traits a reconnecting page gets
    assert layout["title"]["text"].startswith(f"sequence 2 ({len(seqs[2])} nt)")
    y = data[0]["y"]  # plotly's base64 typed array
    y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
    assert np.allclose(y, dv.cls_attention(demo_model, seqs[2])[0][: len(seqs[2])], atol=1e-6)
    assert [s["x0"] for s in layout["shapes"]] == [4.5, 4.5]  # the frame, in both rows
    assert "_widget_data" in ex.figure.get_state()


def test_explorer_controls_redraw_from_the_cache(demo_model, seqs):
    ex = SequenceExplorer(demo_model, seqs)
    bars = ex.figure.data[0]
    assert np.allclose(bars.y, dv.cls_attention(demo_model, seqs[0])[0], atol=1e-6)
    assert f"p(class 1) = {demo_model.predict(seqs[:1])[0, 1]:.3f}" in ex.figure.layout.title.text
    calls = ex.n_model_calls

    ex.head_control.value = 1
    ex.layer_control.value = 0
    assert (ex.layer, ex.head) == (0, 1)  # the controls set the state
    assert (
        ex.n_model_calls == calls + 2
    )  # (last layer, head 1) and (layer 0, head 1), through the registry
    assert np.allclose(
        bars.y, dv.cls_attention(demo_model, seqs[0], layer=0, heads=[1])[0], atol=1e-6
    )
    assert ex.figure.layout.yaxis.title.text == "cls attention<br>(layer 0, head 1)"
    assert "the track and the context's attention tables" in ex.attention_note.value
    ex.layer_control.value = 1
    ex.layer_control.value = 0
    assert ex.n_model_calls == calls + 2  # back and forth: both come from the cache
    calls = ex.n_model_calls

    ex.kind_control.value = "integrated_gradients"
    assert ex.n_model_calls == calls + 1
    assert np.allclose(bars.y, dv.attribute(demo_model, seqs[0])[0], atol=1e-6)
    assert not ex.layer_control.disabled  # layer and head still choose the context's attention
    note = "layer, head: the context's attention tables (integrated_gradients has no layers)"
    assert note in ex.attention_note.value
    # the status names what is shown first, then what was computed for it
    assert ex.status.value.startswith("sequence 0: integrated_gradients · computed ")
    ex.kind = "cls_attention"
    ex.kind = "integrated_gradients"
    assert ex.n_model_calls == calls + 1  # back and forth: nothing recomputed

    ex.index = 2
    assert ex.index_control.value == 2  # the state sets the controls
    assert len(bars.y) == len(seqs[2])
    assert np.allclose(bars.y, dv.attribute(demo_model, seqs[2])[0], atol=1e-6)
    # the logo row draws the same scores: the tallest letter is the base with the largest |score|
    tallest = int(np.argmax(np.abs(bars.y)))
    logo = next(t for t in ex.figure.data if t.name == f"logo {seqs[2][tallest]}")
    assert np.nanmax(np.abs(np.array(logo.y, dtype=float))) == pytest.approx(1.0)


def test_explorer_state_is_set_observed_and_linked_from_code(demo_model, seqs):
    a, b = SequenceExplorer(demo_model, seqs), SequenceExplorer(demo_model, seqs)
    box = W.VBox([a, b])  # views are widgets: they go into boxes
    assert box.children == (a, b) and "index" in a.keys and a.get_state()["index"] == 0
    heard = []
    a.observe(
        lambda change: heard.append((change["name"], change["new"])), names=["index", "head"]
    )
    link = W.link((a, "index"), (b, "index"))
    a.index = 3  # code moves a; the link moves b; each draws its new sequence
    assert b.index == 3 and b.index_control.value == 3
    for ex in (a, b):
        assert ex.figure.layout.title.text.startswith(f"sequence 3 ({len(seqs[3])} nt)")
        assert np.allclose(
            ex.figure.data[0].y, dv.cls_attention(demo_model, seqs[3])[0], atol=1e-6
        )
    b.index_control.value = 1  # a person's change in b reaches a through the link
    assert a.index == 1 and a.figure.layout.title.text.startswith("sequence 1 ")
    a.head_control.value = 2
    assert heard == [("index", 3), ("index", 1), ("head", 2)]
    a.layer = -2  # the first of the demo model's 2 layers
    assert a.layer == 0 and a.layer_control.value == 0
    assert np.allclose(
        a.figure.data[0].y, dv.cls_attention(demo_model, seqs[1], layer=0, heads=[2])[0], atol=1e-6
    )
    link.unlink()
    a.index = 0
    assert b.index == 1
    # a selected position outside the next sequence is dropped, not clipped to its end
    long, short = sorted(range(4), key=lambda i: -len(seqs[i]))[::3]
    a.index, a.position = long, len(seqs[long]) - 1
    a.index = short
    assert a.position is None and "Click a position" in a.context_panel.value
    for name, value, message in [
        ("index", 4, "index 4 is outside the 4 sequences"),
        ("kind", "nope", "kind 'nope' is not one this explorer shows"),
        ("layer", 2, "layer 2 is outside the model's 2 layers"),
        ("head", 12, "head 12 is outside the model's"),
    ]:
        with pytest.raises(traitlets.TraitError, match=message):
            setattr(a, name, value)


def test_attention_view_state_from_code(demo_model, seqs):
    view = AttentionView(demo_model, seqs[0])
    maps = view.maps
    assert (view.layer, view.head, view.mode, view.position) == (1, None, "heatmap", None)
    view.head = 3
    assert view.head_control.value == 3
    assert np.allclose(view.figure.data[0].z, maps.nucleotide(1, 3))
    view.mode, view.region, view.position = "head view", (10, 49), 30
    assert view.mode_control.value == "head view" and view.region_control.value == (10, 49)
    row = next(t for t in view.figure.data if t.name == "query")
    assert list(row.x) == list(range(10, 50))
    title = "head view, layer 1, head 3, from position 30, positions 10-49 of 175"
    assert view.figure.layout.title.text == title
    with pytest.raises(traitlets.TraitError, match="region \\(50, 10\\) is not a region"):
        view.region = (50, 10)


@pytest.mark.slow  # ISM and attention maps
def test_explorer_click_opens_the_position_context(demo_model, seqs):
    inst = pd.DataFrame(
        {
            "sequence_index": [0, 0, 1],
            "start": [30, 60, 30],
            "end": [42, 70, 42],
            "motif": ["CTCF", "TP53", "CTCF"],
        }
    )
    ex = SequenceExplorer(demo_model, seqs, instances=inst)
    click(ex.figure.data[0], 35)
    ctx = ex.context(35)
    seq = seqs[0]
    assert ex.position == 35 and ctx.base == seq[35]
    assert ctx.tokens == [
        seq[s : s + 6] for s in range(30, 36)
    ]  # the six 6-mers covering position 35
    matrix = dv.attention_maps(demo_model, seq).nucleotide(-1, None)
    assert (
        ctx.attends_to["position"].tolist() == np.argsort(-matrix[35], kind="stable")[:5].tolist()
    )
    assert ctx.attended_by["weight"].iloc[0] == pytest.approx(matrix[:, 35].max())
    # ISM on the log-odds by default: the demo model is sure of its positives (p = 0.9995)
    effects = dv.ism(demo_model, seq, output="log_odds").extra["effects"][0, 35]
    assert np.allclose(ctx.ism.to_numpy(), effects, atol=1e-5)
    assert ctx.effects == "ISM: change in the target's log-odds per substitution"
    assert ctx.instances["motif"].tolist() == ["CTCF"]
    assert ctx.prediction == pytest.approx(float(demo_model.predict([seq])[0, 1]), abs=1e-6)
    html = ex.context_panel.value
    assert f"position 35 ({seq[35]})" in html and "CTCF" in html and "<table>" in html
    # the mutation map appears, with the ISM of this sequence; the selected position is framed
    assert ex.mutations_box.layout.display is None
    assert np.allclose(np.array(ex.mutations.data[0].z)[:, 35], effects, atol=1e-5)
    assert ex.mutations.data[0].colorbar.title.text == "Δ log-odds"
    assert ex.effects_control.layout.display is None  # probability one click away
    calls = ex.n_model_calls
    ex.effects_control.value = "probability"
    probability = dv.ism(demo_model, seq).extra["effects"][0, 35]
    assert ex.effects_output == "probability" and ex.n_model_calls == calls + 1
    assert np.allclose(ex.context().ism.to_numpy(), probability, atol=1e-6)
    assert np.allclose(np.array(ex.mutations.data[0].z)[:, 35], probability, atol=1e-6)
    assert ex.mutations.data[0].colorbar.title.text == "Δ p(target)"
    assert np.abs(effects).max() > 100 * np.abs(probability).max()  # what log-odds are for
    ex.effects_output = "log_odds"  # back: from the cache
    assert ex.n_model_calls == calls + 1
    frames = [s for s in ex.figure.layout.shapes if s.x0 == 34.5 and s.x1 == 35.5]
    assert frames
    shaded = {(s.x0, s.x1) for s in ex.figure.layout.shapes if s.fillcolor and s.opacity == 0.15}
    assert shaded == {(29.5, 41.5), (59.5, 69.5)}
    with pytest.raises(traitlets.TraitError, match="position 500 is outside sequence 0"):
        ex.position = 500
    # the position box / slider (arrow keys) selects too, and follows clicks
    assert ex.position_control.value == 35
    ex.position_control.value = 3
    assert ex.position == 3 and "position 3 (" in ex.context_panel.value
    # the whole column takes clicks, and the context sits beside the track
    assert ex.figure.layout.hovermode == "x"
    assert ex.context_panel in ex.children[-1].children
    # the ISM map lines up with the track: same width, same fixed margins (no automargin)
    for fig in (ex.figure, ex.mutations):
        assert fig.layout.width == 780
        assert (fig.layout.margin.l, fig.layout.margin.r) == (100, 20)
        assert all(axis.automargin is False for axis in fig.select_yaxes())


def test_explorer_keeps_only_the_shown_sequences_overlays(demo_model, seqs):
    inst = pd.DataFrame(
        {
            "sequence_index": [0, 0, 2],
            "start": [30, 60, 5],
            "end": [42, 70, 15],
            "motif": ["CTCF", "TP53", "TBP"],
        }
    )
    ex = SequenceExplorer(demo_model, seqs, instances=inst)
    ex.position = 35
    ex.index = 3  # no instances: no shading and no labels from sequence 0
    assert ex.figure.layout.annotations == ()
    assert {(s.x0, s.fillcolor) for s in ex.figure.layout.shapes} == {
        (34.5, "rgba(0,0,0,0)")
    }  # the selection only
    ex.index = 2
    fresh = dv.plot.track(
        dv.Scores([seqs[2]], ex.values()[None], "x"),
        0,
        instances=inst[inst.sequence_index == 2].assign(sequence_index=0),
    )
    shading = [s for s in ex.figure.layout.shapes if s.opacity == 0.15]
    assert (
        [(s.x0, s.x1) for s in shading]
        == [(s.x0, s.x1) for s in fresh.layout.shapes]
        == [(4.5, 14.5)]
    )
    assert [a.text for a in ex.figure.layout.annotations] == ["TBP"]


@pytest.mark.slow  # ISM of two sequences
def test_a_selected_position_keeps_its_context_whole_in_another_sequence(demo_model, seqs):
    ex = SequenceExplorer(demo_model, seqs[:2], kind="saliency")
    ex.position = 30
    assert ex.context().ism is not None
    ex.index = 1  # the position stays selected: its ISM column comes with the new sequence
    ctx = ex.context()
    assert ctx.sequence_index == 1 and ctx.ism is not None
    expected = dv.ism(demo_model, seqs[1], output="log_odds").extra["effects"][0, 30]
    np.testing.assert_allclose(ctx.ism.to_numpy(), expected, atol=1e-5)
    # the status names the kind shown, then what this redraw computed (ISM, another kind)
    assert ex.status.value.startswith("sequence 1: saliency · computed ")
    assert "ISM" in ex.status.value or "ism" in ex.status.value


def test_context_names_drops_and_gains_by_their_sign():
    from dnabert_viz.widgets import PositionContext

    empty = pd.DataFrame(columns=["position", "base", "weight"])
    ctx = PositionContext(
        0,
        3,
        "A",
        [],
        empty,
        empty,
        pd.Series([0.0, -0.2, -0.1, -0.3], index=list("ACGT")),
        pd.DataFrame(columns=["start", "end"]),
        0.9,
    )
    html = dv.plot.html.to_string(ctx.to_element())
    assert "largest drop: A→T -0.3; largest gain: none" in html


def test_context_lists_instances_narrowly_before_the_attention_it_names():
    from dnabert_viz.widgets import PositionContext
    from dnabert_viz.widgets.explorer import compact_instances

    top = pd.DataFrame({"position": [5, 9], "base": ["C", "G"], "weight": [0.4, 0.2]})
    planted = pd.DataFrame(
        {
            "sequence_index": [4],
            "motif_id": ["MA0139.2"],
            "name": ["CTCF"],
            "start": [30],
            "end": [49],
            "strand": ["-"],
            "site": ["CCACCAGGGGGCGCTAGCA"],
            "score": [7.25],
        }
    )
    narrow = compact_instances(planted)
    assert narrow.to_dict("records") == [
        {"motif": "CTCF", "at": "30-48", "strand": "-", "score": 7.25}
    ]
    ctx = PositionContext(
        4, 33, "C", ["ACCCAG"], top, top, None, planted, 0.9, attention="layer 1, head 2"
    )
    html = dv.plot.html.to_string(ctx.to_element())
    assert "sequence_index" not in html and "CCACCAGGGGGCGCTAGCA" not in html
    assert html.index("CTCF") < html.index("attends to (layer 1, head 2)")
    assert "attended by (layer 1, head 2)" in html


def test_explorer_of_given_scores_needs_no_model(demo_data):
    seqs = demo_data.sequences("heldout")[:3]
    values = np.arange(3 * len(seqs[0]), dtype=np.float32).reshape(3, -1)
    s = dv.Scores(seqs, values, "my_score")
    ex = SequenceExplorer(None, seqs, scores=s, index=1)
    assert [v for _, v in ex.kind_control.options] == ["my_score"]
    assert (
        ex.layer_control.disabled and ex.head_control.disabled
    )  # no model: no attention to choose
    assert np.array_equal(ex.figure.data[0].y, values[1, : len(seqs[1])])
    ex.position = 3
    ctx = ex.context()
    assert ctx.tokens == [] and ctx.ism is None and ctx.prediction is None
    with pytest.raises(ValueError, match="first difference at index 0"):
        SequenceExplorer(None, seqs[::-1], scores=s)
    with pytest.raises(ValueError, match="nothing to show"):
        SequenceExplorer(None, seqs)


def test_explorer_shows_hypothetical_contributions_of_a_cnn_beside_the_model(
    demo_model, seqs, tmp_path
):
    ex = SequenceExplorer(demo_model, seqs[:2])
    assert ex.hypothetical_box.layout.display == "none"  # [CLS] attention has no (L, 4) view
    ex.kind = "onehot_gradients"
    hyp = dv.score(demo_model, seqs[1], "onehot_gradients").extra["hypothetical"][0]
    ex.index = 1
    assert ex.hypothetical_box.layout.display is None
    assert np.allclose(ex.hypothetical.data[0].z, hyp.T, atol=1e-6)
    # a CNN's (N, 4, L) files, as tangermeme writes them
    x = dv.one_hot(seqs[:2]).transpose(0, 2, 1)
    np.savez(tmp_path / "ohe.npz", x)
    np.savez(tmp_path / "shap.npz", x * 0.5 - 0.125)
    cnn = dv.load_ohe(tmp_path / "ohe.npz", tmp_path / "shap.npz", kind="cnn")
    ex = SequenceExplorer(demo_model, seqs[:2], scores=cnn)
    assert ex.kind == "cnn" and np.allclose(ex.figure.data[0].y, 0.375)
    assert np.allclose(ex.hypothetical.data[0].z, (x[0] * 0.5 - 0.125)[:, : len(seqs[0])])


def test_explorer_compares_two_models_tracks_on_one_axis(demo_model, seqs, device, tmp_path):
    """compare=: the CNN's track under the transformer's, each the model's own dv.score of the
    sequence shown, both following the sequence, the kind and a click in either row."""
    cnn = build_classifier(architecture="cnn", hidden_size=16, seed=3, device=device)
    ex = SequenceExplorer(demo_model, seqs, compare=cnn, kind="saliency")
    assert "cls_attention" not in [k for _, k in ex.kind_control.options]  # methods both run
    for kind, index in (("saliency", 0), ("saliency", 2), ("onehot_gradients", 2)):
        ex.kind, ex.index = kind, index
        rows = ex.figure.data[:2]
        for model, bars in zip((demo_model, cnn), rows):
            expected = dv.score(model, seqs[index], kind)[0]
            assert np.allclose(bars.y, expected, atol=1e-6)
            assert np.allclose(ex.values(model=int(model is cnn)), expected, atol=1e-6)
        assert [bars.name for bars in rows] == [f"demo: {kind}", f"cnn-small: {kind}"]
        seq = seqs[index]  # each row's hover names its model's tokens: 6-mers, the CNN's bases
        assert seq[35:41] in rows[0].hovertext[40]
        assert rows[1].hovertext[40].endswith(f"tokens: {seq[40]}")
        assert not np.allclose(rows[0].y, rows[1].y, atol=1e-3)  # two models, two tracks
    layout = ex.figure.layout
    assert [layout.yaxis.title.text, layout.yaxis2.title.text, layout.yaxis3.title.text] == [
        "demo<br>onehot gradients",
        "cnn-small<br>onehot gradients",
        "logo<br>(demo)",
    ]
    assert layout.xaxis.matches == layout.xaxis2.matches == "x3"  # one x axis
    p = [float(model.predict(seqs[2:3])[0, 1]) for model in (demo_model, cnn)]
    assert f"p(class 1) = {p[0]:.3f} (demo), {p[1]:.3f} (cnn-small)" in layout.title.text
    click(rows[1], 40)  # the CNN's row selects the position too
    assert ex.position == 40 and [s["x0"] for s in ex.figure.layout.shapes] == [39.5] * 3
    html = ex.save_html(tmp_path / "compare.html").read_text()
    snapshot = ex.snapshot()
    for page in (html, snapshot):
        assert "demo: onehot_gradients" in page and "cnn-small: onehot_gradients" in page
    # one model: the track as before
    single = SequenceExplorer(demo_model, seqs[:2], kind="saliency")
    assert [t.name for t in single.figure.data[:2]] == ["saliency", "logo A"]
    assert single.figure.layout.yaxis.title.text == "saliency"


def test_compare_is_refused_beside_given_scores_or_without_a_model(demo_model, seqs, device):
    cnn = build_classifier(architecture="cnn", hidden_size=16, seed=3, device=device)
    given = dv.score(demo_model, seqs[:2], "saliency")
    with pytest.raises(ValueError, match=r"compare: given scores \(saliency\) are one model"):
        SequenceExplorer(demo_model, seqs[:2], scores=given, compare=cnn)
    with pytest.raises(ValueError, match="no first model to compare it with"):
        SequenceExplorer(None, seqs[:2], scores=given, compare=cnn)


def test_attention_view_selectors_and_summary_click(demo_model, seqs):
    view = AttentionView(demo_model, seqs[0])
    maps = view.maps
    assert np.allclose(view.figure.data[0].z, maps.nucleotide(-1, None))
    assert (
        view.head_control.label == "mean" and view.position_control.label == "all"
    )  # shown, not blank
    click(view.summary.data[0], [0, 2])
    assert (view.layer, view.head) == (0, 2)
    assert (view.layer_control.value, view.head_control.value) == (0, 2)
    assert np.allclose(view.figure.data[0].z, maps.nucleotide(0, 2))
    view.mode_control.value = "head view"
    view.position_control.value = 40
    assert (view.mode, view.position) == ("head view", 40)
    lines = [t for t in view.figure.data if t.name.startswith("band")]
    ends = sorted(int(x) for t in lines for x in np.array(t.x, dtype=float)[1::3])
    assert ends == sorted(np.argsort(-maps.nucleotide(0, 2)[40], kind="stable")[:3].tolist())
    title = "head view, layer 0, head 2, from position 40, positions 0-82 of 175"
    assert view.figure.layout.title.text == title


def planted_motifs(n):
    rng = np.random.default_rng(0)
    motifs = []
    for k in range(n):
        core = "".join(rng.choice(list("ACGT"), 8))
        sites = [core if j % 3 else core[:-1] + "A" for j in range(6)]
        inst = pd.DataFrame(
            {
                "sequence_index": np.arange(6) % 3,
                "start": [10 + k] * 6,
                "end": [18 + k] * 6,
                "strand": ["+"] * 6,
                "sequence": sites,
            }
        )
        motifs.append(dv.Motif.from_sites(f"m{k}", inst, p_value=10.0 ** -(k + 2)))
    return motifs


def test_gallery_pages_captions_and_instances(demo_model, seqs):
    motifs = dv.MotifSet(planted_motifs(11), sequences=seqs[:3])
    matches = pd.DataFrame(
        {
            "motif": ["m0", "m0"],
            "rank": [2, 1],
            "jaspar_id": ["MA0001.1", "MA0139.2"],
            "jaspar_name": ["X", "CTCF"],
            "q_value": [0.5, 1e-4],
        }
    )
    g = MotifGallery(motifs, matches, model=demo_model)
    assert g.page_label.value == "page 1 of 2 (11 motifs)" and len(g.grid.children) == 8
    first = g.grid.children[0]
    assert first.children[0].value == dv.plot.logo_png(motifs[0])
    assert "JASPAR: CTCF (MA0139.2), q = 0.0001" in first.children[2].value  # the rank-1 match
    g.next_button.click()
    assert g.page == 1 and len(g.grid.children) == 3 and g.next_button.disabled
    g.page = 0  # code sets the page too
    # a button calls its motif by the JASPAR match where there is one
    assert [c.children[1].description for c in g.grid.children[:2]] == ["CTCF · m0", "m1"]
    assert g.previous_button.disabled
    g.page = 1
    g.grid.children[1].children[1].click()  # the card of m9: its button lists its instances
    assert g.motif == "m9" and g.chosen is motifs[9]
    assert len(g.instance_list.options) == 6
    assert [label.split(": ")[1].split(" ")[0] for label, _ in g.instance_list.options] == [
        "19-26"
    ] * 6
    # the core sites first (rows 1, 2, 4, 5), then the two with an A at the end
    fit = motifs[9].site_scores()
    assert [v for _, v in g.instance_list.options] == [1, 2, 4, 5, 0, 3]
    assert fit[1] == fit[2] == fit[4] == fit[5] > fit[0] == fit[3]
    assert g.instance_list.options[0][0].startswith(f"{fit[1]:5.1f} bits · sequence 1: ")
    g.instance_list.value = 4  # sequence 1, start 19
    ex = g.explorer
    assert g.instance == 4 and ex.index == 1 and ex.position == 19
    assert ex.index_control.value == 1 and ex.position_control.value == 19
    assert g.explorer_box.children == (ex,)
    assert {(s.x0, s.x1) for s in ex.figure.layout.shapes if s.opacity == 0.15} >= {(18.5, 26.5)}
    assert ex.cache is g.cache  # the explorer draws from the gallery's compute layer
    g.instance = 2  # code opens an instance: the gallery moves its explorer through its state
    assert (ex.index, ex.position, g.instance_list.value) == (2, 19, 2)
    g.motif = "m1"  # another motif: its instances listed, none open
    assert g.instance is None and g.instance_list.value is None
    assert sorted(v for _, v in g.instance_list.options) == list(range(6))
    seen = []  # what the explorer holds when it draws another sequence
    ex.observe(lambda _change: seen.append((ex.index, ex.position)), names="index")
    g.instance = 0  # sequence 0, start 11: drawn with its own position, never with the old 19
    assert seen == [(0, 11)] and ex.position_control.value == 11
    with pytest.raises(traitlets.TraitError, match="no motif named 'm99'"):
        g.motif = "m99"
    with pytest.raises(traitlets.TraitError, match="instance 6 is outside m1's 6 instances"):
        g.instance = 6
    plain = MotifGallery(planted_motifs(2))
    plain.motif = "m1"
    with pytest.raises(traitlets.TraitError, match="carry no sequences"):
        plain.instance = 0


def test_saved_pages_are_standalone(tmp_path, demo_model, seqs):
    ex = SequenceExplorer(demo_model, seqs)
    ex.position = 12
    text = ex.save_html(tmp_path / "explorer.html").read_text()
    assert text.count("Plotly.newPlot(") == 2  # the track and the mutation map
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", text)
    assert (
        "position 12" in text and get_plotlyjs()[:300] in text
    )  # plotly.js itself is on the page
    gallery = MotifGallery(planted_motifs(3)).save_html(tmp_path / "gallery.html").read_text()
    assert (
        gallery.count('<img src="data:image/png;base64,') == 3 and "Plotly.newPlot" not in gallery
    )
    view = AttentionView(demo_model, seqs[0]).save_html(tmp_path / "attention.html").read_text()
    assert view.count("Plotly.newPlot(") == 2


@pytest.mark.slow  # kaleido starts chromium
def test_figures_export_to_png_and_svg(tmp_path):
    fig = dv.plot.logo(planted_motifs(1)[0])
    assert dv.plot.save_figure(fig, tmp_path / "logo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in dv.plot.save_figure(fig, tmp_path / "logo.svg").read_bytes()[:500]
    s = dv.Scores(["ACGTACGT"], np.arange(8)[None], "x")
    svg = dv.plot.save_figure(dv.plot.track(s, 0), tmp_path / "track.svg").read_text()
    assert svg.startswith("<svg") and svg.count('class="point"') >= 8
    with pytest.raises(ValueError, match="saved as png or svg"):
        dv.plot.save_figure(fig, tmp_path / "logo.pdf")


def test_head_view_writes_every_letter_of_its_region_and_where_lines_leave_it(demo_model, seqs):
    seq = seqs[0]
    n = len(seq)
    maps = dv.attention_maps(demo_model, seq)

    def letters(fig):
        row = next(t for t in fig.data if t.name == "query")
        return dict(zip(map(int, row.x), row.text))

    room = (900 - 100) // 9 - 5  # 9 px a letter beside the row labels and the edge labels: 83
    assert n > room
    # too long to write whole: the first 83 positions, every letter, the title says which
    fig = dv.plot.head_view(maps, width=900)
    assert letters(fig) == {p: seq[p] for p in range(room)}
    assert fig.layout.title.text.endswith(f"positions 0-{room - 1} of {n}")
    # around a position: centred on it
    assert min(letters(dv.plot.head_view(maps, position=120))) == 120 - room // 2
    # zoomed to 60 positions: every letter, their lines, the axis on the region and its labels
    fig = dv.plot.head_view(maps, window=(30, 90))
    assert letters(fig) == {p: seq[p] for p in range(30, 90)}
    bands = [t for t in fig.data if t.name.startswith("band")]
    starts = [x for t in bands for x in t.x[0::3]]
    assert len(starts) == 60 * 3 and all(30 <= x < 90 for x in starts)
    assert tuple(fig.layout.xaxis.range) == (27, 92)
    # a line to a target outside the region stops on its edge, on the line to the target
    matrix = maps.nucleotide(-1, None)
    top = np.argsort(-matrix[30:90], axis=1, kind="stable")[:, :3]
    out = {int(t) for t in top.ravel() if not 30 <= t < 90}
    assert out  # the demo's last layer reaches beyond 60 positions
    ends = [(x0, y0, x1, y1) for t in bands for x0, y0, x1, y1 in _segments(t)]
    for q, y_end in [(x0, y1) for x0, _, x1, y1 in ends if x1 in (29.5, 89.5)]:
        assert 0 < y_end < 1 and 30 <= q < 90
    labelled = {
        int(p)
        for t in fig.data
        if t.name.startswith("outside")
        for p in t.hovertext.split(": ")[1].split(", ")
    }
    assert labelled == out
    with pytest.raises(ValueError, match=r"window \(50, 10\) is not a region"):
        dv.plot.head_view(maps, window=(50, 10))
    with pytest.raises(ValueError, match="position 5 is outside positions 30-89"):
        dv.plot.head_view(maps, window=(30, 90), position=5)
    with pytest.raises(ValueError, match="writes at most 83 letters"):
        dv.plot.head_view(maps, window=(0, 100))


def _segments(trace):
    """A line trace's segments (x0, y0, x1, y1): points in threes, the third a gap."""
    x, y = list(trace.x), list(trace.y)
    return [(x[i], y[i], x[i + 1], y[i + 1]) for i in range(0, len(x), 3)]


def test_attention_view_switches_figures_whole_and_zooms_the_head_view(demo_model, seqs):
    view = AttentionView(demo_model, seqs[0])
    assert view.region_control.disabled  # a heatmap shows every position
    view.mode_control.value = "head view"
    layout = view.figure.layout
    # nothing of the heatmap's layout is left over (it named the y axis and reversed it)
    assert layout.yaxis.title.text is None and layout.yaxis.autorange is None
    assert layout.width == 900 and layout.yaxis.ticktext == ("query", "attended")
    assert view.region == (0, 82)  # as many positions as the head view writes letters for
    view.region_control.value = (100, 139)
    row = next(t for t in view.figure.data if t.name == "query")
    assert list(row.x) == list(range(100, 140)) and "".join(row.text) == seqs[0][100:140]
    # the "from" menu lists the region's positions
    assert [v for _, v in view.position_control.options[1:]] == list(range(100, 140))
    # dragged wider than the view has room for: the end that moved brings the other along
    view.region_control.value = (100, 174)
    view.region_control.value = (60, 174)
    assert view.region == (60, 142)
    view.region = (100, 139)
    view.position = 20  # outside the region: the region moves to centre on it, same length
    assert view.region == (0, 39) and view.position_control.value == 20
    assert view.figure.layout.xaxis.range == (-3, 42)
    assert view.figure._widget_layout["xaxis"]["range"] == [-3, 42]  # what a reload draws
    view.mode_control.value = "heatmap"
    assert layout.yaxis.title.text == "query position (nt)"
    assert layout.yaxis.autorange == "reversed"
    assert layout.width == 580 and layout.yaxis.ticktext is None


def stem_map(sequence: str, *, start: int = 100, size: int = 80) -> dv.DependencyMap:
    """A dependency map with small background values and one planted stem: region positions
    10-15 pair with 45-40 (0.5 in log-odds), pairs closer than 3 left out."""
    rng = np.random.default_rng(1)
    values = (0.02 + np.abs(rng.normal(0, 0.01, (size, size)))).astype(np.float32)
    values[np.abs(np.subtract.outer(np.arange(size), np.arange(size))) < 3] = np.nan
    for a in range(6):
        values[10 + a, 45 - a] = values[45 - a, 10 + a] = 0.5
    return dv.DependencyMap(values, start=start, sequence=sequence, band=3)


def test_the_dependency_view_selects_pairs_by_click_block_and_state():
    sequence = "".join(np.random.default_rng(0).choice(list("ACGT"), 200))
    view = dv.widgets.DependencyView(stem_map(sequence))
    assert len(view.blocks) == 1 and view.block_control.options[1] == ("110-116 / 140-146", 0)
    assert "Click a cell" in view.pair_panel.value and len(view.figure.layout.shapes) == 2
    # the state the browser gets is plain JSON: the left-out band is null, not NaN
    json.dumps(view.figure._widget_data, allow_nan=False)
    assert view.figure.data[0].z[0][0] is None and view.figure.data[0].z[0][5] > 0
    view.block = 0  # its strongest pair: the first of the stem's equal pairs
    assert (view.query, view.target) == (110, 145)
    assert "by 0.500 in log-odds; in the block 110-116 / 140-146 (inverted, spacing 24)" in (
        view.pair_panel.value
    )
    frame = view.figure.layout.shapes[-1]
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (44.5, 45.5, 9.5, 10.5)
    assert len(view.figure.layout.shapes) == 3
    marked = re.findall(
        r'<span style="color: white; background: (#\w+)">([ACGT])</span>', (view.pair_panel.value)
    )
    assert marked == [("#d62728", sequence[110]), ("#1f77b4", sequence[145])]
    # a click on the heatmap's cell (row 3, column 50): what the browser sends for a heatmap
    view.figure.data[0]._dispatch_on_click(
        Points(point_inds=[[3, 50]], xs=[0], ys=[0], trace_name="", trace_index=0),
        InputDeviceState(),
    )
    assert (view.query, view.target) == (103, 150)
    value = float(view.dependencies.values[3, 50])
    assert f"by {value:.3f} in log-odds" in view.pair_panel.value
    assert "in the block" not in view.pair_panel.value
    view.target = 104
    assert "too close to read apart" in view.pair_panel.value
    with pytest.raises(traitlets.TraitError, match="query 5 is outside the map's region 100-180"):
        view.query = 5


def test_the_dependency_view_moves_its_explorer(demo_model, seqs):
    ex = SequenceExplorer(demo_model, seqs)
    dep = stem_map(seqs[1], start=5, size=60)
    view = dv.widgets.DependencyView(dep, explorer=ex, index=1)
    view.block = 0
    assert (ex.index, ex.position) == (1, view.query) == (1, 15)
    box = W.VBox([view, ex])  # both are widgets
    assert box.children[0] is view
    with pytest.raises(ValueError, match="the explorer's sequence 0 is not the map's sequence"):
        dv.widgets.DependencyView(dep, explorer=ex, index=0)
    with pytest.raises(ValueError, match="index must say which of the explorer's 4 sequences"):
        dv.widgets.DependencyView(dep, explorer=ex)


def test_on_a_language_model_a_position_shows_its_zero_shot_effects(seqs):
    """A masked LM has no class to run ISM on: the explorer's mutation map and context show the
    zero-shot mutation map's log p(alt) - log p(ref) instead, labelled so."""
    m = dv.load_model("demo-mlm")
    ex = SequenceExplorer(m, seqs[:2])
    ex.position = 7
    expected = dv.score(m, seqs[:1], "lm_mutation_map").extra["effects"][0, 7]
    context = ex.context()
    np.testing.assert_allclose(context.ism.to_numpy(), expected, atol=1e-6)
    assert context.effects.startswith("zero-shot: log p(alt) - log p(ref)")
    assert ex.mutations.data[0].colorbar.title.text == "Δ log p (nats)"
    assert context.prediction is None


def test_a_head_the_model_lacks_is_refused_by_every_view(demo_model, seqs):
    for view in (SequenceExplorer(demo_model, seqs[:1]), AttentionView(demo_model, seqs[0])):
        with pytest.raises(traitlets.TraitError, match=r"head 4 is outside the model's 4 heads"):
            view.head = 4
        view.head = 3
        assert view.head == 3


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_every_view_outputs_its_snapshot_beside_the_live_widget(demo_model, seqs):
    """A view's output holds the live widget and a static snapshot (text/html) of the state when
    it was made; no snapshot carries plotly.js (4.6 MB)."""
    ex = SequenceExplorer(demo_model, seqs[:2])
    ex.position = 12
    gallery = MotifGallery(dv.MotifSet(planted_motifs(3), sequences=seqs[:3]), page_size=2)
    sequence = "".join(np.random.default_rng(0).choice(list("ACGT"), 200))
    dependency = dv.widgets.DependencyView(stem_map(sequence))
    dependency.block = 0
    outputs = [v._repr_mimebundle_() for v in (gallery, ex, dependency)]
    ex.index = 1  # after the output was made: not in its snapshot
    for view, out in zip((gallery, ex, dependency), outputs):
        assert out[WIDGET_VIEW]["model_id"] == view.model_id
        assert "Static snapshot of this view" in out["text/html"]
    gallery_html, explorer_html, dependency_html = (out["text/html"] for out in outputs)
    # the gallery's page shown (2 of its 3 motifs), no figure: no plotly.js
    assert re.findall(r">(m\d+)</h3>", gallery_html) == ["m0", "m1"]
    assert "page 1 of 2 (3 motifs)" in gallery_html and "Plotly.newPlot" not in gallery_html
    # the explorer as it was: sequence 0, position 12's context; its two figures, no plotly.js
    assert "dnabert_viz: sequence 0</h3>" in explorer_html and "position 12 (" in explorer_html
    assert "sequence 0 (175 nt)" in explorer_html and explorer_html.count("Plotly.newPlot(") == 2
    assert not any(get_plotlyjs()[:300] in html for html in (explorer_html, dependency_html))
    # each plotly figure's place shows its PNG until plotly.js (where present) draws it; the
    # first also as the output's image/png, for renderers that show no HTML
    assert len(snapshot_images(explorer_html)) == 2
    assert len(snapshot_images(dependency_html)) == 1
    assert "image/png" not in outputs[0]  # the gallery's logos are images in its HTML already
    track = snapshot_images(explorer_html)[0]
    assert base64.b64decode(outputs[1]["image/png"]) == track
    assert "by 0.500 in log-odds; in the block 110-116 / 140-146" in dependency_html
    # every figure's element id is unique among the outputs of a notebook
    ids = re.findall(r'<div id="([^"]+)" class="plotly-figure"', explorer_html + dependency_html)
    assert len(ids) == 3 == len(set(ids))


def snapshot_images(html: str) -> list[bytes]:
    """The PNGs in the places of a snapshot's plotly figures (nbconvert reorders attributes)."""
    tags = re.findall(r'class="plotly-figure"[^>]*>\s*<img ([^>]+)>', html)
    found = [re.search(r'src="data:image/png;base64,([^"]+)"', tag) for tag in tags]
    return [base64.b64decode(f.group(1)) for f in found if f]


def test_views_in_a_row_or_column_carry_their_snapshots(demo_model, seqs):
    """A plain ipywidgets box's output has no snapshot; Row and Column carry every view's inside
    them (and inside plain boxes in them), in order, each under its title."""
    explorer = SequenceExplorer(demo_model, seqs[:2])
    dependency = dv.widgets.DependencyView(stem_map(seqs[0], start=50), explorer=explorer, index=0)
    gallery = MotifGallery(dv.MotifSet(planted_motifs(3), sequences=seqs[:3]), page_size=2)
    assert "text/html" not in W.VBox([dependency, explorer])._repr_mimebundle_()
    column = dv.widgets.Column([dependency, W.HBox([W.Label("beside"), explorer])])
    row = dv.widgets.Row([gallery, column], layout=W.Layout(flex_flow="row wrap"))
    assert isinstance(row, W.HBox) and isinstance(column, W.VBox)
    assert row.layout.flex_flow == "row wrap" and list(row.children) == [gallery, column]
    out = row._repr_mimebundle_()
    assert out[WIDGET_VIEW]["model_id"] == row.model_id
    html = out["text/html"]
    assert "Static snapshot of this view" in html
    assert "dnabert_viz: 3 motifs; dependency map; sequence 0</h3>" in html
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings[:3] == [
        "dnabert_viz: 3 motifs",
        "dnabert_viz: dependency map",
        "dnabert_viz: sequence 0",
    ]
    assert re.findall(r">(m\d+)</h3>", html) == ["m0", "m1"]  # the gallery's page
    images = snapshot_images(html)  # the dependency map, the explorer's track
    assert len(images) == 2 and base64.b64decode(out["image/png"]) == images[0]
    assert [Image.open(io.BytesIO(png)).size for png in images] == [(620, 560), (780, 330)]


@pytest.mark.slow  # a kernel starts, loads the demo model and draws the four views
def test_a_notebook_exported_by_nbconvert_shows_every_view_as_its_snapshot():
    """Run by nbclient and exported by nbconvert's HTMLExporter, as the notebook is saved by
    JupyterLab (no widget state): every view's snapshot is on the page (without plotly.js), each
    plotly figure as a PNG in its place, views in a Column too. With the widget state kept,
    nbconvert (like JupyterLab with its widget manager) picks the live widget."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    from .test_notebooks import NOTEBOOKS

    cells = [
        "import dnabert_viz as dv\nfrom tests.test_widgets import planted_motifs, stem_map\n"
        "m = dv.load_model(device='cpu')\nseqs = dv.load_demo().sequences('heldout', 1)[:3]",
        "ex = dv.widgets.SequenceExplorer(m, seqs)\nex.position = 12\nex",
        "dv.widgets.MotifGallery(dv.MotifSet(planted_motifs(3), sequences=seqs))",
        "dv.widgets.AttentionView(m, seqs[0], layer=0, head=1)",
        "v = dv.widgets.DependencyView(stem_map(seqs[0], start=50))\n"
        "v.query, v.target = 60, 95\nv",
        "dv.widgets.EmbeddingView(m, seqs * 4)",
        "ex2 = dv.widgets.SequenceExplorer(m, seqs)\n"
        "d = dv.widgets.DependencyView(stem_map(seqs[0], start=50), explorer=ex2, index=0)\n"
        "dv.widgets.Column([d, ex2])",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    root = NOTEBOOKS[0].parent.parent
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(root)}}).execute()
    live, _ = HTMLExporter().from_notebook_node(nb)
    assert live.count(f'<script type="{WIDGET_VIEW}">') == 6 and "Static snapshot" not in live
    del nb.metadata["widgets"]
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert html.count("Static snapshot of this view") == 6 and WIDGET_VIEW not in html
    # every plotly figure's place holds its image: explorer (track, and the ISM map its selected
    # position computed), gallery (logos only), attention (map, atlas), dependency map,
    # embeddings, the column (the map, the explorer's track)
    # (the embedding view's progress bar leaves an empty text/plain output before the view)
    outputs = [
        o.data["text/html"]
        for c in nb.cells[1:]
        for o in c.outputs
        if "text/html" in o.get("data", {})
    ]
    assert [len(snapshot_images(o)) for o in outputs] == [2, 0, 2, 1, 1, 2]
    assert [o.count('class="plotly-figure"') for o in outputs] == [2, 0, 2, 1, 1, 2]
    images = [pixels(png) for png in snapshot_images(html)]
    assert len(images) == 8
    for image in images:  # real pictures of the figures' sizes: axes, labels, marks on white
        assert 250 <= image.shape[1] <= 1000 and 200 <= image.shape[0] <= 700
        assert 0.01 < (image < 250).any(axis=-1).mean() < 0.9
    # the explorer's track: a bar in its base's colour at every one of the 175 positions
    track = images[0]
    assert track.shape == (330, 780, 3)
    bar_row = track[60:200]  # under the title, above the logo row
    left, right = 100, 760  # the explorer's margins
    columns = [bar_row[:, int(left + (p + 0.5) / 175 * (right - left))] for p in range(175)]
    drawn = [any(near(c, colour).any() for colour in COLORS.values()) for c in columns]
    assert np.mean(drawn) > 0.95
    assert get_plotlyjs()[:300] not in html
    assert "sequence 0 (175 nt)" in html and "position 12 (" in html  # the explorer
    assert re.findall(r">(m\d)</h3>", html) == ["m0", "m1", "m2"]  # the gallery's motifs
    assert "attention, layer 0, head 1</h3>" in html
    assert re.search(r"substituting [ACGT]60 changes what the model expects at [ACGT]95", html)
