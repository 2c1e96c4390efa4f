"""The views' figure widget: plotly's 5 MB of browser code goes to a page once, not per figure."""

import json

import comm
import plotly.graph_objects as go
from ipywidgets import Widget
from ipywidgets.widgets.widget import _remove_buffers

from dnabert_viz.widgets import AttentionView, SequenceExplorer
from dnabert_viz.widgets.figure import Figure, PlotlyCode, plotly_code


def state_bytes(widget) -> int:
    """Bytes of the state a page gets for ``widget`` (what a reload asks the kernel for)."""
    state, _paths, buffers = _remove_buffers(widget.get_state())
    return len(json.dumps(state)) + sum(len(b) for b in buffers)


def page_state_bytes(widgets) -> int:
    return sum(state_bytes(w) for w in widgets)


def test_figures_share_one_copy_of_plotlys_code():
    bundle = str(go.FigureWidget._esm)
    assert len(bundle) > 4_000_000  # plotly 7's widget bundle, sent with every plain FigureWidget
    figs = [Figure(go.Figure(go.Bar(y=[1, 2, k]))) for k in range(5)]
    plain = [go.FigureWidget(go.Figure(go.Bar(y=[1, 2, k]))) for k in range(5)]
    holder = plotly_code()
    assert all(f._plotly_code is holder for f in figs) and holder.code == bundle
    assert {f.get_state()["_plotly_digest"] for f in figs} == {figs[0]._plotly_digest}
    # the reference to the shared code is in the state the browser creates the model from
    assert figs[0].get_state()["_plotly_code"] == f"IPY_MODEL_{holder.model_id}"
    shared = page_state_bytes([*figs, holder])
    assert page_state_bytes(plain) > 5 * len(bundle)
    assert len(bundle) < shared < len(bundle) + 5 * 50_000
    # what stays plotly's: traces, layout, batch updates
    with figs[0].batch_update():
        figs[0].data[0].y = [3, 2, 1]
    assert list(figs[0].data[0].y) == [3, 2, 1]
    assert go.Figure(figs[0]).data[0].type == "bar"


def test_a_closed_holder_is_made_again():
    holder = plotly_code()
    holder.close()
    fresh = Figure()
    assert fresh._plotly_code is not holder and fresh._plotly_code.comm is not None
    assert isinstance(fresh._plotly_code, PlotlyCode)


def figure_widgets(view) -> list[Figure]:
    """The figure widgets a view puts on the page (reached from its top widget)."""
    found, todo = [], [view]
    while todo:
        w = todo.pop()
        if isinstance(w, go.FigureWidget):
            found.append(w)
        todo += [c for c in getattr(w, "children", ()) if isinstance(c, Widget)]
    return found


def test_views_make_figures_only_for_what_they_show(demo_model, demo_data):
    seqs = demo_data.sequences("heldout", 1)[:2]
    ex = SequenceExplorer(demo_model, seqs)
    assert len(figure_widgets(ex)) == 1 and ex.mutations is None and ex.hypothetical is None
    ex.position = 10  # ISM effects now exist: the map under the track appears
    assert {id(f) for f in figure_widgets(ex)} == {id(ex.figure), id(ex.mutations)}
    assert all(isinstance(f, Figure) for f in figure_widgets(ex))
    view = AttentionView(demo_model, seqs[0])
    assert {id(f) for f in figure_widgets(view)} == {id(view.figure), id(view.summary)}


def test_a_figure_reaches_the_browser_with_its_content(monkeypatch):
    """The model a page creates already holds the traces and layout: a view rendered at once (a
    figure put into a box) must not draw an empty plot, which later edits could not fix."""
    sent = []

    class Recording(comm.DummyComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            sent.append((self.comm_id, msg_type, data))

    monkeypatch.setattr(comm, "create_comm", Recording)
    fig = Figure(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]), layout_title_text="a map"))
    mine = [(kind, data) for comm_id, kind, data in sent if comm_id == fig.comm.comm_id]
    assert [kind for kind, _ in mine] == ["comm_open"]  # no update follows
    state = mine[0][1]["state"]
    assert state["_widget_data"][0]["type"] == "heatmap"
    assert state["_widget_layout"]["title"]["text"] == "a map"
