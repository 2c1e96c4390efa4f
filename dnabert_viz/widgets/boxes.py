"""Views side by side or one under another, as one view: its output carries their snapshots.

A view put in a plain ipywidgets box (``ipywidgets.VBox([view, explorer])``)
draws live, but the cell's output is the box's, and a box has no snapshot:
where no widget manager draws it (an nbconvert export, nbviewer, GitHub)
the output shows nothing of the views in it. :class:`Row` and
:class:`Column` are those boxes made views: the same live layout, and a
snapshot of every view inside them (in boxes nested in them too), each
under its own heading, in the order they stand.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import ipywidgets as W

from ..markup import element
from ..plot.html import Page
from .common import View


class _Views(View):
    """What :class:`Row` and :class:`Column` share: their snapshot is their views'."""

    def __init__(self, views: Sequence[W.Widget], **kwargs):
        super().__init__(children=list(views), **kwargs)

    def _title(self) -> str:
        shown = [v._title().removeprefix("dnabert_viz: ") for v in views_in(self.children)]
        return "dnabert_viz: " + ("; ".join(shown) or "no view")

    def _fill(self, page: Page, *, whole: bool) -> None:
        """Every view inside, under its title."""
        for view in views_in(self.children):
            page.add(element("h2", view._title()))
            view._fill(page, whole=whole)


def views_in(widgets: Sequence[W.Widget]) -> Iterator[View]:
    """The views among ``widgets`` and inside the boxes among them (rows and columns too), in
    order (a view's own parts, such as a gallery's explorer, are its own to show)."""
    for widget in widgets:
        if isinstance(widget, _Views) or (
            isinstance(widget, W.Box) and not isinstance(widget, View)
        ):
            yield from views_in(widget.children)
        elif isinstance(widget, View):
            yield widget


class Row(_Views, W.HBox):
    """Views (and any widgets) side by side: an ``ipywidgets.HBox`` whose notebook output
    carries every view's snapshot (:class:`dnabert_viz.widgets.common.View`).

    Parameters
    ----------
    views : list of ipywidgets.Widget
        The views, and any other widgets, in order (boxes of views too).
    **kwargs
        What ``ipywidgets.HBox`` takes (``layout``).

    Examples
    --------
    >>> dv.widgets.Row([explorer, gallery])   # doctest: +SKIP
    """


class Column(_Views, W.VBox):
    """Views (and any widgets) one under another: an ``ipywidgets.VBox`` whose notebook output
    carries every view's snapshot; see :class:`Row`.

    Examples
    --------
    >>> dv.widgets.Column([dependency_view, explorer])   # doctest: +SKIP
    """
