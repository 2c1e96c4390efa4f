"""The motif report: one standalone HTML page with the motifs' logos, their JASPAR matches and
example tracks, and, given faithfulness results, one verdict card per map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .checks import check_counts
from .motifs.jaspar import check_matches
from .motifs.motif import Motif, instance_table
from .plot.cards import motif_cards
from .plot.html import Page, element, table
from .plot.tracks import track
from .scores import Scores, SequenceIdentity

if TYPE_CHECKING:
    from .faithful import Faithfulness


def build_report(
    motifs: list[Motif],
    scores: Scores,
    matches: pd.DataFrame | None = None,
    recovery: pd.DataFrame | None = None,
    n_examples: int = 3,
    title: str = "dnabert_viz motif report",
    *,
    faithfulness: Faithfulness | None = None,
) -> Page:
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
        Example tracks: the sequences holding the most motif instances (0 or more).
    title : str
        Page title.
    faithfulness : Faithfulness, optional
        :func:`dnabert_viz.faithfulness`'s result: a section "Which map to believe" with one
        verdict card per map (its top-k drop over random positions') and the curves.

    Returns
    -------
    Page
        Save it with ``.save(path)``. It names the scored sequences' source
        file and digest.

    Raises
    ------
    ValueError
        When the motifs were found on other sequences than ``scores``'
        (see :func:`check_motifs_match`), ``matches`` lack a column the cards
        read (:func:`dnabert_viz.motifs.jaspar.check_matches`) or
        ``n_examples`` is negative.
    """
    check_counts(0, n_examples=n_examples)
    check_motifs_match(motifs, scores)
    if matches is not None:
        check_matches(matches)
    page = Page(title)
    meta = ", ".join(f"{k} {v}" for k, v in scores.meta.items() if v is not None)
    page.add(
        element(
            "p",
            f"{len(scores)} sequences scored by {scores.kind} ({meta}); {len(motifs)} motifs. "
            f"Sequences: {scores.identity.describe()}.",
        )
    )
    if faithfulness is not None:
        _faithfulness_section(page, faithfulness)
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


def _faithfulness_section(page: Page, result: Faithfulness) -> None:
    """Which map to believe: the verdict in a sentence, a card per map, the curves."""
    from .plot.faithfulness import faithfulness_curves, verdict_cards, verdict_line

    meta = result.meta
    page.add(
        element("h2", "Which map to believe"),
        element(
            "p",
            f"{verdict_line(result)}. Mutating the nucleotides each map ranks highest "
            f"({meta['replace']} replacement) and reading the {meta['output']} of output "
            f"{meta['target']} of {meta['model']}, against random positions.",
        ),
        verdict_cards(result),
        page.figure(faithfulness_curves(result)),
    )


def check_motifs_match(
    motifs: list[Motif],
    scores: Scores,
    motifs_label: str = "the motifs",
    scores_label: str = "the scores",
) -> None:
    """Raise ValueError, naming both labels, when ``motifs`` were not found on ``scores``'
    sequences.

    Motifs from :func:`dnabert_viz.find_motifs` carry their sequences' digest
    (``meta["sequences"]``); motifs without one are checked by their
    instances: each must lie inside a sequence of ``scores``.
    """
    recorded = [m.meta["sequences"] for m in motifs if "sequences" in m.meta]
    if recorded:
        SequenceIdentity.from_meta(recorded[0]).check(scores.identity, motifs_label, scores_label)
        return
    instances = instance_table(motifs)
    lengths = [len(s) for s in scores.sequences]
    for row in instances.itertuples():
        if not (0 <= row.sequence_index < len(lengths) and row.end <= lengths[row.sequence_index]):
            raise ValueError(
                f"{motifs_label}: motif {row.motif} has an instance in sequence "
                f"{row.sequence_index} [{row.start}, {row.end}), which {scores_label} "
                f"({len(lengths)} sequences) does not hold"
            )
