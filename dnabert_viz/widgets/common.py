"""What the widgets share: refreshing a FigureWidget from a freshly built static figure.

Every view draws through the static functions of :mod:`dnabert_viz.plot`,
so what a widget shows and what it exports are the same figure. A control
change builds the static figure and copies its traces and layout into the
live FigureWidget in one batch (the template is left alone: plotly
validates a template anew each time it is set, the slowest part of an
update); traces keep their identity, so click handlers
stay attached. Shapes and annotations (motif shading, labels, the
selection frame) are replaced, never merged: a merge would keep another
sequence's overlays, and plotly refuses to set a shape and one of its
attributes in the same update.

A FigureWidget sends changes to the browser as messages and keeps the
figure it was built with as its synced state; a page reload restores
widgets from that state (ipywidgets asks the kernel for every model), so
after each refresh the state is set to the figure now shown: a reloaded
page draws what the controls say.

Every view is also a :class:`View`: ``save_html`` writes it as an offline
page, and its notebook output carries a static snapshot beside the live
widget, for wherever the widget cannot be drawn.
"""

from __future__ import annotations

import base64
import contextlib
import sys
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go
import traitlets
from _plotly_utils.utils import convert_to_base64
from plotly.basedatatypes import Undefined

from ..plot.html import Page

# a head or position control's "all" (the sum or mean of heads, every position): a Dropdown whose
# value is None shows nothing selected, so the control holds -1 where the view's state is None
ALL = -1
NONE_IS_ALL = (lambda v: ALL if v is None else v, lambda v: None if v == ALL else v)
"""``ipywidgets.link``'s transforms between such a state and its control."""
LABELS = {
    "description_width": "initial"
}  # a control's label as wide as its text (not a fixed 80 px)


def layer_menu(kinds: list[str]) -> W.Dropdown:
    """The views' layer menu: each layer's index, with what it attends to when that is not every
    token (``DnaModel.attention_kinds``: ``"1 (local ±64 tokens)"``)."""
    local = any(kind != "global" for kind in kinds)
    return W.Dropdown(
        options=[(str(i) if k == "global" else f"{i} ({k})", i) for i, k in enumerate(kinds)],
        description="layer",
        layout=W.Layout(width="220px" if local else "110px"),
        style=LABELS,
    )


def valid_head(head: int | None, n: int) -> int | None:
    """A view's ``head`` state checked against the model's ``n`` heads (None: all of them)."""
    if head is not None and not 0 <= head < n:
        raise traitlets.TraitError(f"head {head} is outside the model's {n} heads (0 .. {n - 1})")
    return head


def refresh(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Make ``widget`` show ``fig``: in place when the traces have the same types, else by
    replacing them."""
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    shapes, annotations = layout.pop("shapes", []), layout.pop("annotations", [])
    same = [t.type for t in widget.data] == [t.type for t in fig.data]
    with widget.batch_update():
        if same:
            for live, new in zip(widget.data, fig.data):
                live.update(new.to_plotly_json(), overwrite=True)
        else:  # a new kind of figure: its traces, its layout (nothing of the old one kept)
            widget.data = []
            widget.add_traces(list(fig.data))
            if widget.layout.template != fig.layout.template:
                widget.layout.template = fig.layout.template
            old = widget.layout.to_plotly_json()
            widget.layout.update({k: None for k in old if k not in layout and k != "template"})
        # a new kind of figure replaces each layout entry (axes, colour bars) whole
        widget.layout.update(layout, overwrite=not same)
    # whole lists, in their own updates: the frontend replaces them instead of merging them item by
    # item
    widget.layout.shapes = shapes
    widget.layout.annotations = annotations
    sync_state(widget)


def set_shapes(widget: go.FigureWidget, shapes: list[dict]) -> None:
    """Replace only the shapes of ``widget`` (a moved selection frame); its synced state too."""
    widget.layout.shapes = shapes
    sync_state(widget)


def sync_state(widget: go.FigureWidget) -> None:
    """Make the synced state a reloaded page draws from equal the figure shown.

    plotly updates that state only when the widget itself is displayed. The figure as
    ``to_dict`` makes it (typed arrays in base64), but keeping plotly's ``Undefined`` sentinel
    itself: the browser says "no value" with it (a box selection's ``layout.selections``), and
    ``to_dict``'s copy of it is an object the widget's serializer does not know (the state could
    not be sent, and what set it stopped there). Assigned, not changed in place: changed in
    place, a notebook's Run All drew a broken figure in live JupyterLab (notebook 08, plotly.js:
    "Cannot use 'in' operator to search for 'line' in undefined").
    """
    keep = {id(Undefined): Undefined}  # deepcopy's memo: the sentinel is not copied
    state = {"data": deepcopy(widget._data, keep), "layout": deepcopy(widget._layout, keep)}
    convert_to_base64(state)
    widget._widget_data, widget._widget_layout = state["data"], state["layout"]


@contextlib.contextmanager
def making(what: str, steps: int) -> Iterator[Callable[[str], None]]:
    """While a view is being made, before it can be shown: a progress bar of ``steps`` steps and
    a line saying what it does, in the running cell's output at once (in a Jupyter kernel only).

    Yields ``step(text)``, called as each step starts: the line says ``text``, the bar the steps
    done before it. When the block ends the bar is replaced by an empty output (the view, shown
    next, says the rest).
    """
    shell = sys.modules.get("IPython")
    if shell is None or getattr(shell.get_ipython(), "kernel", None) is None:
        yield lambda _text: None
        return
    from IPython.display import display

    bar = W.IntProgress(value=0, max=steps, description=what, style=LABELS)
    line = W.HTML()
    box = W.HBox([bar, line])
    handle = display(box, display_id=True)
    done = iter(range(steps + 1))  # the bar's value: the steps done before this one

    def step(text: str) -> None:
        bar.value = next(done)
        line.value = f"<span class='note'>{text}…</span>"

    try:
        yield step
    finally:
        handle.update({"text/plain": ""}, raw=True)
        for widget in (box, bar, line):
            widget.close()


SNAPSHOT_NOTE = (
    "Static snapshot of this view as it was when the cell ran; run the notebook for the live view."
)


class View:
    """What every view is besides its box: an offline page of what it shows (``save_html``), and
    a notebook output that shows that page where no widget can be drawn.

    A view's output (``_repr_mimebundle_``) holds the live widget
    (``application/vnd.jupyter.widget-view+json``, what JupyterLab, Notebook 7
    and VS Code draw while the kernel runs) and a snapshot (``text/html``,
    the page of :meth:`to_page` without its document around it): nbconvert's
    HTML (when the notebook holds no widget state, as JupyterLab saves it by
    default), nbviewer, GitHub and a frontend without the widget manager show
    that. The snapshot is the state when the output was made (the cell ran):
    later changes through the controls or from code are not in it. plotly.js
    is not in it: carried in the first view's output, its megabytes stalled
    the live page's widget models on a loaded machine ("[anywidget] Failed
    to initialize model"; the snapshots' sizes are measured by
    ``benchmarks/snapshot_size.py``), so a snapshot's plotly figures draw
    only where plotly.js is already on the page; elsewhere (GitHub runs no
    scripts) each shows a PNG of itself drawn without a browser
    (:func:`dnabert_viz.plot.static.plotly_png`, marked *static snapshot*),
    and the output carries the first of them as ``image/png`` too, for
    renderers that show no HTML (nbconvert's PDF and LaTeX).

    A view subclasses it before its ``ipywidgets`` box and adds its content to
    the page in ``_fill``.
    """

    def _title(self) -> str:
        """The page's title."""
        raise NotImplementedError

    def _fill(self, page: Page, *, whole: bool) -> None:
        """Add what the view shows to ``page``: figures through ``page.figure``, tables, text.
        ``whole``: everything it holds (``save_html``), not only what is on the screen (a
        gallery's other pages)."""
        raise NotImplementedError

    def to_page(
        self, *, whole: bool = True, figure_ids: str = "figure", images: bool = False
    ) -> Page:
        """The view as an offline page (:class:`dnabert_viz.plot.html.Page`).

        Parameters
        ----------
        whole : bool
            Everything the view holds (a gallery's every page); False: what it
            shows now.
        figure_ids : str
            Prefix of the figures' element ids.
        images : bool
            Draw each plotly figure as a PNG too (the snapshot's).
        """
        page = Page(self._title(), figure_ids=figure_ids, images=images)
        self._fill(page, whole=whole)
        return page

    def save_html(self, path: str | Path) -> Path:
        """The view as a standalone HTML file that opens offline (plotly.js embedded)."""
        return self.to_page().save(path)

    def _snapshot_page(self) -> Page:
        return self.to_page(
            whole=False, figure_ids=f"dnabert-viz-{uuid.uuid4().hex[:12]}", images=True
        )

    def snapshot(self) -> str:
        """The view's static snapshot as an HTML fragment (what its notebook output carries)."""
        return self._snapshot_page().to_snapshot(SNAPSHOT_NOTE)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        data = super()._repr_mimebundle_(**kwargs)
        page = self._snapshot_page()
        data["text/html"] = page.to_snapshot(SNAPSHOT_NOTE)
        if page.images:  # the first figure, for renderers that show images but no HTML
            data["image/png"] = base64.b64encode(page.images[0]).decode("ascii")
        return data
