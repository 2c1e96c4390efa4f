"""EmbeddingView driven from Python: colourings checked against values computed by hand, a
selection as the browser sends it, the explorer it opens, and refused input."""

import json

import numpy as np
import pandas as pd
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers
from plotly.callbacks import LassoSelector, Points

import dnabert_viz as dv
from dnabert_viz.widgets import EmbeddingView, embedding_view

SEQUENCES = ["GGCC", "AATT", "GATC", "GCGA", "ACGTACGT", "TTTTG"]
GC = [1.0, 0.0, 0.5, 0.75, 0.5, 0.2]  # by hand: G and C over the length


def embeddings(n=6, d=5):
    """Points spread along one direction (PCA's first axis) with a little noise."""
    rng = np.random.default_rng(0)
    return np.outer(np.arange(n), rng.normal(size=d)) + 0.01 * rng.normal(size=(n, d))


def select(view, indices):
    """What the browser's lasso selection sends: plotly's own dispatch."""
    view.figure.data[0]._dispatch_on_selection(
        Points(point_inds=indices, xs=[0] * len(indices), ys=[0] * len(indices), trace_index=0),
        LassoSelector(xs=[0, 1, 1], ys=[0, 0, 1]),
    )


def test_colourings_are_the_values_computed_by_hand():
    motifs = pd.DataFrame(
        {
            "motif": ["a", "a", "b"],
            "sequence_index": [0, 3, 3],
            "start": [0, 1, 0],
            "end": [2, 3, 2],
        }
    )
    table = pd.DataFrame({"batch": ["x", "y"] * 3, "depth": np.arange(6) * 1.5})
    view = EmbeddingView(
        None,
        SEQUENCES,
        embeddings=embeddings(),
        labels=[0, 1, 0, 1, 1, 0],
        motifs=motifs,
        table=table,
    )
    assert view.color_by == "label"  # given labels come first
    assert view.colour_options == ["label", "gc", "motif: a", "motif: b", "batch", "depth"]
    view.color_by = "gc"
    np.testing.assert_allclose(view.colour_values(), GC)
    np.testing.assert_allclose(view.figure.data[0].marker.color, GC)  # what the figure shows
    assert view.colour_values("motif: a").tolist() == [True, False, False, True, False, False]
    view.color_by = "motif: b"  # a category each: absent 0, present 1, named on the colour bar
    assert list(view.figure.data[0].marker.color) == [0, 0, 0, 1, 0, 0]
    assert view.figure.data[0].marker.colorbar.ticktext == ("False", "True")
    view.color_by = "depth"
    np.testing.assert_allclose(view.figure.data[0].marker.color, np.arange(6) * 1.5)
    # PCA's first axis follows the planted direction: the sequences in order along it
    x = view.coordinates[:, 0]
    assert abs(np.corrcoef(x, np.arange(6))[0, 1]) > 0.99
    np.testing.assert_allclose(view.figure.data[0].x, x)


def test_a_selection_sets_selected_and_opens_exactly_those_sequences(demo_model, demo_data):
    seqs = demo_data.sequences("heldout", 1)[:6]
    view = EmbeddingView(demo_model, seqs)  # m.embed's embeddings, coloured by the prediction
    assert view.embeddings.shape == (6, demo_model.model.config.hidden_size)
    np.testing.assert_allclose(
        view.embeddings, demo_model.embed(seqs).layer(-1), rtol=1e-5, atol=1e-6
    )
    expected = demo_model.predict(seqs)[:, 1]
    assert view.color_by == "prediction"
    np.testing.assert_allclose(view.figure.data[0].marker.color, expected, rtol=1e-5)
    assert view.figure.data[0].customdata[2][0] == "sequence 2"
    assert view.figure.data[0].customdata[2][2] == f"{expected[2]:.3f}"  # on hover
    assert view.open_button.disabled and view.explorer is None
    select(view, [4, 1, 3])
    assert view.selected == [4, 1, 3] and not view.open_button.disabled
    assert view.figure.data[0].selectedpoints == (4, 1, 3)  # the others are dimmed
    view.open_button.click()
    assert view.explorer.sequences == [seqs[4], seqs[1], seqs[3]]
    assert view.explorer_box.children == (view.explorer,)
    snapshot = view._repr_mimebundle_()["text/html"]  # the scatter and the explorer under it
    assert "embeddings of 6 sequences</h3>" in snapshot and "3 selected" in snapshot
    assert "dnabert_viz: sequence 0</h2>" in snapshot
    view.figure.data[0]._dispatch_on_deselect(Points())
    assert view.selected == [] and view.open_button.disabled
    view.selected = [5, 5, 0]  # from code: each once
    assert view.selected == [5, 0]
    assert view.open_selected().sequences == [seqs[5], seqs[0]]


def test_a_box_drawn_in_the_browser_is_said_and_its_state_can_be_sent():
    """The messages chromium's plotly.js sent for a box selection (recorded in JupyterLab): the
    box in ``layout.selections``, two of its values "undefined", then the points."""
    view = EmbeddingView(None, SEQUENCES, embeddings=embeddings())
    box = {"xref": "x", "yref": "y", "opacity": "_undefined_", "type": "rect", "x0": -1, "y0": -1}
    box |= {"line": {"color": "_undefined_", "width": 1, "dash": "dot"}, "x1": 1, "y1": 1}
    view.figure.set_state(
        {"_js2py_relayout": {"relayout_data": {"selections": [box]}, "source_view_id": "v"}}
    )
    points = {"xs": [0, 0], "ys": [0, 0], "point_indexes": [1, 4], "trace_indexes": [0, 0]}
    selector = {"type": "box", "selector_state": {"xrange": [-1, 1], "yrange": [-1, 1]}}
    view.figure.set_state(
        {
            "_js2py_pointsCallback": {
                "event_type": "plotly_selected",
                "points": points,
                "selector": selector,
            }
        }
    )
    assert view.selected == [1, 4] and view.status.value == "2 selected"
    # what the kernel sends the page (and a reloaded page draws from): JSON, the box's undefined
    # values as plotly's own marker, the others dimmed
    state, _, _ = _remove_buffers(view.figure.get_state())
    sent = json.loads(json.dumps(state))
    assert sent["_widget_layout"]["selections"][0]["line"] == {
        "color": "_undefined_",
        "width": 1,
        "dash": "dot",
    }
    assert sent["_widget_data"][0]["selectedpoints"] == [1, 4]


def test_given_scores_go_to_the_explorer_cut_to_the_selection():
    scores = dv.Scores(SEQUENCES, np.arange(6 * 8, dtype=float).reshape(6, 8), "given")
    view = EmbeddingView(None, SEQUENCES, embeddings=embeddings(), scores=scores)
    view.selected = [3, 0]
    ex = view.open_selected()
    assert ex.kind == "given" and ex.values(index=0).tolist() == [24.0, 25.0, 26.0, 27.0]


class Labelled:
    """Embeddings as another helper's object: an (N, D) array in ``values``."""

    def __init__(self, values):
        self.values = values


def test_bad_input_is_refused_in_one_line():
    view = EmbeddingView(None, SEQUENCES, embeddings=Labelled(embeddings()))
    with pytest.raises(traitlets.TraitError, match=r"^color_by 'depth' is not one of gc$"):
        view.color_by = "depth"
    with pytest.raises(traitlets.TraitError, match="selected 6 is outside the 6 sequences"):
        view.selected = [1, 6]
    with pytest.raises(
        ValueError,
        match=r"^embeddings of shape \(5, 5\): expected one row per sequence, \(6, D\)$",
    ):
        EmbeddingView(None, SEQUENCES, embeddings=embeddings(5))
    bad = embeddings()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"^embeddings: row 2 is not finite"):
        EmbeddingView(None, SEQUENCES, embeddings=bad)
    with pytest.raises(ValueError, match="no model to compute embeddings"):
        EmbeddingView(None, SEQUENCES)
    with pytest.raises(ValueError, match=r"^table: 2 rows for 6 sequences$"):
        EmbeddingView(None, SEQUENCES, embeddings=embeddings(), table=pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(ValueError, match="nothing selected"):
        view.open_selected()


def test_umap_without_umap_learn_says_which_extra_installs_it(monkeypatch):
    view = EmbeddingView(None, SEQUENCES, embeddings=embeddings())
    monkeypatch.setattr(embedding_view, "umap_installed", lambda: False)
    with pytest.raises(
        traitlets.TraitError,
        match=r"^projection 'umap' needs umap-learn: pip install 'dnabert_viz\[umap\]'$",
    ):
        view.projection = "umap"
    with pytest.raises(traitlets.TraitError, match=r"pip install 'dnabert_viz\[umap\]'$"):
        EmbeddingView(None, SEQUENCES, embeddings=embeddings(), projection="umap")


@pytest.mark.slow  # numba compiles umap-learn's kernels on first use
def test_umap_keeps_two_separated_groups_apart():
    pytest.importorskip(
        "umap", reason="umap-learn is the umap extra: pip install 'dnabert_viz[umap]'"
    )
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1], 20)
    points = rng.normal(size=(40, 8)) + 10 * groups[:, None]
    sequences = ["ACGT"] * 40
    view = EmbeddingView(None, sequences, embeddings=points, labels=groups, projection="umap")
    x = view.coordinates
    assert x.shape == (40, 2)
    # every point is nearer its own group's centre than the other's
    centres = np.array([x[groups == g].mean(0) for g in (0, 1)])
    nearest = np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == groups).all()
    assert view.figure.layout.xaxis.title.text == "UMAP 1"


def test_layer_is_the_hidden_state_embedded(demo_model, demo_data):
    seqs = list(demo_data.sequences("heldout")[:6])
    # layer 0: the embedding output, not the last layer (the default)
    view = EmbeddingView(demo_model, seqs, layer=0)
    np.testing.assert_allclose(
        view.embeddings, demo_model.embed(seqs, layers=0).layer(0), rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(view.embeddings, EmbeddingView(demo_model, seqs).embeddings)
    # labelled embeddings of one layer are taken as they are; of two, refused in one line
    given = demo_model.embed(seqs, layers=[0, 1])
    np.testing.assert_allclose(
        EmbeddingView(demo_model, seqs, embeddings=given.layer(1)).embeddings, given.layer(1)
    )
    with pytest.raises(ValueError, match=r"^embeddings of shape \(2, 6, \d+\): expected one"):
        EmbeddingView(demo_model, seqs, embeddings=given)
