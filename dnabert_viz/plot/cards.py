"""Motif cards for static pages and the gallery: a logo, the motif's name and a caption with its
best JASPAR match."""

from __future__ import annotations

import pandas as pd

from ..motifs.jaspar import best_matches
from ..motifs.motif import Motif
from .html import element, png_image
from .logos import logo_png, p_value_text

THUMBNAIL_HEIGHT = 120  # px: a logo PNG (1.8 x 3.4 in) at 225 px wide: its 10-pt labels at 9 px
CARD_STYLE = (
    "display: inline-block; vertical-align: top; max-width: 320px; border: 1px solid #ddd; "
    "border-radius: 6px; padding: 8px; line-height: 1.4; font-size: 13px"
)


def best_match_by_motif(matches: pd.DataFrame | None) -> dict[str, pd.Series]:
    """Each motif's best (rank-1) JASPAR match row of :func:`dnabert_viz.match_jaspar`'s table, by
    motif name."""
    if matches is None or len(matches) == 0:
        return {}
    matched = best_matches(matches).dropna(subset=["jaspar_id"])
    return {str(row["motif"]): row for _, row in matched.iterrows()}


def display_name(motif: Motif, match: pd.Series | dict | None) -> str:
    """What a view calls a motif: its best JASPAR match's name beside its own (``CTCF ·
    CCCCT``) where there is a match, else its own; the Ns that pad a seed's ends left out."""
    own = motif.name.strip("N") or motif.name
    return own if match is None else f"{match['jaspar_name']} · {own}"


def caption(motif: Motif, match: pd.Series | dict | None) -> list[str]:
    """The lines under a motif's logo: instances, p-value, width, information, consensus (and the
    seed it grew from) and its best JASPAR match (a row of :func:`dnabert_viz.match_jaspar`'s
    table, or what the motif recorded of it, :attr:`Motif.best_match`) with the match's TF family
    and class (paralogs of a family bind the same site: the family says more than which member
    ranks first).

    A DNABERT-viz motif is named after the enriched seed its windows grew
    from, which need not read like the consensus of the windows; the caption
    says so. A p-value below the smallest double is shown as ``p < 1e-300``.
    """
    lines = [
        f"{motif.n_instances} instances{p_value_text(motif.p_value)}",
        f"{len(motif)} nt, {motif.information_content.sum():.1f} bits",
        f"consensus {motif.consensus}",
    ]
    if motif.method == "dnabert_viz":
        lines.append(f"grown from the enriched seed {motif.name}")
    if match is None:
        lines.append("JASPAR: no match given")
    else:
        lines.append(
            f"JASPAR: {match['jaspar_name']} ({match['jaspar_id']}), q = {match['q_value']:.2g}"
        )
        family, tf_class = (match.get(c) for c in ("tf_family", "tf_class"))
        if isinstance(family, str) and family:
            lines.append(
                f"family {family}"
                + (f" ({tf_class})" if isinstance(tf_class, str) and tf_class else "")
            )
    return lines


def caption_element(motif: Motif, match: pd.Series | dict | None):
    """:func:`caption` as an HTML element (one line per ``div``)."""
    return element(
        "div", children=[element("div", line, class_="note") for line in caption(motif, match)]
    )


def card(
    motif: Motif,
    match: pd.Series | dict | None,
    kind: str = "information",
    width: int | None = 300,
):
    """A motif's card: logo (an inline PNG), name and :func:`caption`; styled inline, so it reads
    the same on a page and in a notebook (``Motif._repr_html_``).

    ``width`` is the logo's in px; None draws it :data:`THUMBNAIL_HEIGHT` px high, so that the
    letters of every motif have one height (a notebook's thumbnails).
    """
    logo = png_image(logo_png(motif, kind=kind), f"logo of {motif.name}", width=width)
    if width is None:
        logo.set("style", f"height: {THUMBNAIL_HEIGHT}px")
    return element(
        "div",
        class_="card",
        style=CARD_STYLE,
        children=[
            logo,
            element("h3", motif.name, style="margin: 4px 0; font-size: 14px"),
            caption_element(motif, match),
        ],
    )


def motif_cards(
    motifs: list[Motif],
    matches: pd.DataFrame | None = None,
    kind: str = "information",
    width: int | None = 300,
):
    """A grid of :func:`card`; each motif's best match from ``matches``, else the one it
    recorded."""
    best = best_match_by_motif(matches)
    return element(
        "div",
        class_="grid",
        style="display: flex; flex-wrap: wrap; gap: 8px",
        children=[card(m, best.get(m.name, m.best_match), kind, width) for m in motifs],
    )
