"""Standalone HTML pages that open offline: views' ``save_html`` and the command line's report.

Pages are built as element trees (:mod:`dnabert_viz.markup`), so every text
and attribute is escaped by the serialiser, never pasted into a template.
plotly.js comes from the installed plotly package and is embedded once per
page; logos are PNG data URIs. Nothing is fetched from a CDN: a page works
behind a firewall and in ten years.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from ..markup import element, to_string
from ..outputs import GENERATOR, atomic_write
from .static import UnsupportedFigure, figure_title, plotly_png

# the page's rules; a snapshot in a notebook takes them under its own class (the notebook's own
# body and headings keep their style)
_BODY = (
    "font-family: Arial, Helvetica, sans-serif; color: #222; margin: 24px auto; max-width: 1180px"
)
_RULES = (
    ("h1", "font-size: 22px"),
    ("h2", "font-size: 18px; margin-top: 28px"),
    ("h3", "font-size: 15px; margin: 4px 0"),
    ("table", "border-collapse: collapse; font-size: 13px; margin: 8px 0"),
    ("th, td", "border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left"),
    ("th", "background: #f4f4f4"),
    (".grid", "display: flex; flex-wrap: wrap; gap: 12px"),
    (".card", "border: 1px solid #ddd; border-radius: 6px; padding: 8px; background: #fff"),
    (".note", "color: #555; font-size: 13px"),
    (".mono", "font-family: monospace"),
)
SNAPSHOT_CLASS = "dnabert-viz-snapshot"


def _style(scope: str | None = None) -> str:
    """The CSS of a page, or of a snapshot: every rule under the class ``scope``."""
    if scope is None:
        return "\n".join([f"body {{ {_BODY}; }}"] + [f"{s} {{ {d}; }}" for s, d in _RULES])
    return "\n".join(
        ", ".join(f".{scope} {one.strip()}" for one in s.split(",")) + f" {{ {d}; }}"
        for s, d in _RULES
    )


# where plotly.js is not on the page (a snapshot whose notebook lost the output that carried it,
# or a renderer that runs no scripts, such as GitHub's), the figure's place says so
NO_PLOTLY = (
    "[a plotly figure: it draws where JavaScript runs and plotly.js is on the page (the "
    "notebook's first view snapshot carries it); run the notebook for the live view]"
)


def plotly_figure(fig, div_id: str, *, image: bytes | None = None) -> ET.Element:
    """A plotly figure as a ``div`` and the script that draws it with plotly.js (where it is not
    on the page, the ``div`` shows ``image``, a PNG of the figure, or says what it would
    show)."""
    config = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "svg"}}
    code = (
        f"(function () {{ const spec = {fig.to_json()}; "
        f"const div = document.getElementById({json.dumps(div_id)}); "
        "if (typeof Plotly === 'undefined') return; div.textContent = ''; "
        f"Plotly.newPlot(div, spec.data, spec.layout, {json.dumps(config)}); }})();"
    )
    script = element("script", code.replace("</", "<\\/"))
    stand_in = (
        element("span", NO_PLOTLY, class_="note")
        if image is None
        else png_image(image, f"static snapshot of the figure: {figure_title(fig)}")
    )
    place = element("div", id=div_id, class_="plotly-figure", children=[stand_in])
    return element("div", children=[place, script])


def png_image(png: bytes, alt: str, width: int | None = None) -> ET.Element:
    """A PNG as an ``img`` with a data URI."""
    attributes = {"src": "data:image/png;base64," + base64.b64encode(png).decode(), "alt": alt}
    if width:
        attributes["width"] = width
    return element("img", **attributes)


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.3g}"
    return str(value)


def table(frame: pd.DataFrame, max_rows: int | None = None) -> ET.Element:
    """A DataFrame as an HTML table (floats to 3 significant digits, NaN blank)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    head = element("tr", children=[element("th", str(c)) for c in shown.columns])
    rows = [
        element("tr", children=[element("td", _cell(v)) for v in row])
        for row in shown.itertuples(index=False)
    ]
    out = element(
        "table", children=[element("thead", children=[head]), element("tbody", children=rows)]
    )
    if max_rows is not None and len(frame) > max_rows:
        return element(
            "div",
            children=[out, element("p", f"... {len(frame) - max_rows} more rows", class_="note")],
        )
    return out


class Page:
    """A standalone HTML page, or a notebook output's snapshot of a view.

    Parameters
    ----------
    title : str
        The page's title and top heading.
    figure_ids : str
        The prefix of its figures' element ids (``figure-1``, ...): unique
        per snapshot where several share a notebook.
    images : bool
        Draw each plotly figure as a PNG too (:func:`dnabert_viz.plot.static.plotly_png`),
        shown where plotly.js does not draw it: a snapshot's figures
        wherever scripts do not run or plotly.js is not on the page.

    Examples
    --------
    >>> page = Page("report")
    >>> page.add(element("p", "hello"))
    >>> "<p>hello</p>" in page.to_html()
    True
    """

    def __init__(self, title: str, *, figure_ids: str = "figure", images: bool = False):
        self.title = title
        self.figure_ids = figure_ids
        self.body = element("body", children=[element("h1", title)])
        self._figures = 0
        self.images = [] if images else None
        """The PNGs of the page's plotly figures, in order (None: not drawn)."""

    def add(self, *nodes: ET.Element) -> Page:
        """Append elements to the body."""
        self.body.extend(nodes)
        return self

    def figure(self, fig) -> ET.Element:
        """An element for a plotly figure with a page-unique id (add it where it belongs)."""
        self._figures += 1
        image = None
        if self.images is not None:
            try:
                image = plotly_png(fig)
                self.images.append(image)
            except UnsupportedFigure:  # a figure made elsewhere: its place says what it is
                pass
        return plotly_figure(fig, f"{self.figure_ids}-{self._figures}", image=image)

    @property
    def has_figures(self) -> bool:
        """Whether the page holds a plotly figure (and so needs plotly.js)."""
        return self._figures > 0

    def to_html(self) -> str:
        """The whole document, plotly.js embedded when the page has a plotly figure."""
        head = element(
            "head",
            children=[
                element("meta", charset="utf-8"),
                element("meta", name="generator", content=GENERATOR),
                element("title", self.title),
                element("style", _style()),
            ],
        )
        if self._figures:
            from plotly.offline import get_plotlyjs

            head.append(element("script", get_plotlyjs()))
        return "<!DOCTYPE html>\n" + to_string(
            element("html", children=[head, self.body], lang="en")
        )

    def to_snapshot(self, note: str, *, plotly_js: bool = False) -> str:
        """The page as an HTML fragment for a notebook output (``text/html``): a note over the
        body, styled under its own class (the notebook's page keeps its styles).

        Parameters
        ----------
        note : str
            The line above the content (what the snapshot is).
        plotly_js : bool
            Embed plotly.js (about 4.6 MB) ahead of the figures. Scripts of a
            notebook's outputs share one page (an nbconvert export, nbviewer),
            so one output carrying it draws the figures of all; AMD's ``define``
            (require.js on nbconvert's pages) is hidden from it, so it sets
            ``window.Plotly``.
        """
        children = [element("style", _style(SNAPSHOT_CLASS))]
        if plotly_js:
            from plotly.offline import get_plotlyjs

            code = f"(function (define, module, exports) {{\n{get_plotlyjs()}\n}}).call(window);"
            children.append(element("script", code))
        title, *body = list(self.body)  # the title, as a notebook output's heading
        children += [element("h3", title.text), element("p", note, class_="note"), *body]
        return to_string(element("div", class_=SNAPSHOT_CLASS, children=children))

    def save(self, path: str | Path) -> Path:
        """Write the page atomically; returns the path."""
        path = Path(path)
        atomic_write(path, self.to_html())
        return path
