"""Motif cards for static pages and the gallery: a logo, the motif's name and a caption with its
best JASPAR match."""

from __future__ import annotations

import pandas as pd

from ..motifs.jaspar import best_matches
from ..motifs.motif import Motif
from .html import element, png_image
from .logos import logo_png, p_value_text


def best_match_by_motif(matches: pd.DataFrame | None) -> dict[str, pd.Series]:
    """Each motif's best (rank-1) JASPAR match row of :func:`dnabert_viz.match_jaspar`'s table, by
    motif name."""
    if matches is None or len(matches) == 0:
        return {}
    matched = best_matches(matches).dropna(subset=["jaspar_id"])
    return {str(row["motif"]): row for _, row in matched.iterrows()}


def caption(motif: Motif, match: pd.Series | None) -> list[str]:
    """The lines under a motif's logo: instances, p-value, consensus (and the seed it grew from)
    and its best JASPAR match with the match's TF family and class (paralogs of a family bind the
    same site: the family says more than which member ranks first).

    A DNABERT-viz motif is named after the enriched seed its windows grew
    from, which need not read like the consensus of the windows; the caption
    says so. A p-value below the smallest double is shown as ``p < 1e-300``.
    """
    lines = [
        f"{motif.n_instances} instances{p_value_text(motif.p_value)}",
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


def caption_element(motif: Motif, match: pd.Series | None):
    """:func:`caption` as an HTML element (one line per ``div``)."""
    return element(
        "div", children=[element("div", line, class_="note") for line in caption(motif, match)]
    )


def motif_cards(
    motifs: list[Motif], matches: pd.DataFrame | None = None, kind: str = "information"
):
    """A grid of motif cards for a static page: logo (PNG), name and :func:`caption`."""
    best = best_match_by_motif(matches)
    cards = [
        element(
            "div",
            class_="card",
            children=[
                png_image(logo_png(m, kind), f"logo of {m.name}", width=300),
                element("h3", m.name),
                caption_element(m, best.get(m.name)),
            ],
        )
        for m in motifs
    ]
    return element("div", class_="grid", children=cards)
