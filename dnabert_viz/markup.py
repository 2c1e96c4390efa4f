"""HTML built as element trees, and the compact summary tables of results' ``_repr_html_``.

Every text and attribute goes through ``xml.etree.ElementTree``'s
serialiser, which escapes it: nothing is pasted into a template. The
figures' pages (:mod:`dnabert_viz.plot.html`) and the notebooks' summaries of
results (``Scores._repr_html_``) are built from these; nothing here loads
from a CDN.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

# inline so that the summary looks the same in JupyterLab, VS Code and an exported notebook
_TABLE_STYLE = "border-collapse: collapse; font-size: 12px; text-align: left"
_KEY_STYLE = (
    "padding: 1px 10px 1px 0; color: #555; font-weight: normal; vertical-align: top; "
    "text-align: left"
)
_VALUE_STYLE = "padding: 1px 0; font-family: monospace; text-align: left"


def element(tag: str, text: str | None = None, children=(), **attributes) -> ET.Element:
    """An element with escaped text, child elements and attributes (``class_`` for ``class``)."""
    node = ET.Element(
        tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attributes.items()}
    )
    node.text = text
    node.extend(children)
    return node


def to_string(node: ET.Element) -> str:
    """Serialise an element (HTML method: script text is written as is)."""
    return ET.tostring(node, encoding="unicode", method="html")


def summary(title: str, rows: list[tuple[str, str]]) -> str:
    """A result's compact HTML summary: a bold title over a table of (field, value) rows.

    Parameters
    ----------
    title : str
        The first line, e.g. ``Scores 'cls_attention'``.
    rows : list of (str, str)
        Field names and their values as text (escaped here).

    Returns
    -------
    str
        An HTML fragment (a ``div``) for ``_repr_html_``.
    """
    lines = [
        element(
            "tr",
            children=[
                element("th", key, style=_KEY_STYLE),
                element("td", value, style=_VALUE_STYLE),
            ],
        )
        for key, value in rows
    ]
    return to_string(
        element(
            "div",
            children=[
                element("b", title),
                element("table", children=lines, style=_TABLE_STYLE),
            ],
        )
    )
