"""The motif report: one standalone HTML page with the motifs' logos, their JASPAR matches and example tracks."""

from __future__ import annotations

import pandas as pd

from .motifs.motif import Motif, instance_table
from .plot.html import Page, element, table
from .plot.tracks import track
from .scores import Scores
from .plot.cards import motif_cards


def build_report(motifs: list[Motif], scores: Scores, matches: pd.DataFrame | None = None,
                 recovery: pd.DataFrame | None = None, n_examples: int = 3,
                 title: str = "dnabert_viz motif report") -> Page:
    """Assemble the report page.

    Parameters
    ----------
    motifs : list of Motif
        Discovered motifs (instances index ``scores``' sequences).
    scores : Scores
        The scores the motifs were found from.
    matches : pandas.DataFrame, optional
        :func:`dnabert_viz.match_jaspar`'s table.
    recovery : pandas.DataFrame, optional
        Comparison with planted truth (the demo's ``DemoData.recovery``).
    n_examples : int
        Example tracks: the sequences holding the most motif instances.
    title : str
        Page title.

    Returns
    -------
    Page
        Save it with ``.save(path)``.
    """
    page = Page(title)
    meta = ", ".join(f"{k} {v}" for k, v in scores.meta.items() if v is not None)
    page.add(element("p", f"{len(scores)} sequences scored by {scores.kind} ({meta}); {len(motifs)} motifs."))
    if not motifs:
        page.add(element("p", "No motif passed the thresholds.", class_="note"))
        return page
    page.add(element("h2", "Motifs"), motif_cards(motifs, matches))
    if matches is not None and len(matches):
        page.add(element("h2", "JASPAR matches"), table(matches))
    if recovery is not None:
        page.add(element("h2", "Planted motifs recovered"), table(recovery))
    instances = instance_table(motifs)
    busiest = instances["sequence_index"].value_counts().head(n_examples).index
    page.add(element("h2", "Example sequences (most motif instances)"))
    for i in busiest:
        page.add(page.figure(track(scores, int(i), instances=instances)))
    return page
