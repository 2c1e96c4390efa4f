"""A variant's reference and alternative sequence, each as an attribution logo around the variant,
one above the other (scores from :func:`dnabert_viz.variant_scores`)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..scores import Scores
from .glyphs import logo_traces
from .tracks import _LAYOUT

SHADE = "rgba(255, 200, 0, 0.25)"


def variant_logos(
    ref: Scores, alt: Scores, index: int, *, flank: int = 20, width: int | None = None
) -> go.Figure:
    """The reference and the alternative sequence of variant ``index`` as attribution logos, REF
    above ALT, from ``flank`` nucleotides before the variant to ``flank`` after it.

    Parameters
    ----------
    ref, alt : Scores
        :func:`dnabert_viz.variant_scores` of the variants: (N, L) scores of
        each variant's reference and alternative sequence (an indel's
        alternative is longer or shorter), with the sites in ``meta["variants"]``.
    index : int
        The variant.
    flank : int
        Nucleotides shown on each side of the variant.
    width : int, optional
        Width in pixels (default: the container's).

    Returns
    -------
    plotly.graph_objects.Figure
        Two logo rows on one x axis, positions counted from the variant's
        first base (0), the changed bases shaded in each row; letters are
        scaled by one factor for both rows (the largest magnitude shown is
        1), so their heights compare; negative letters hang upside down.
    """
    sites = ref.meta.get("variants")
    if sites is None or alt.meta.get("variants") != sites:
        raise ValueError("ref and alt must be dv.variant_scores' pair (their meta['variants'])")
    if not 0 <= index < len(sites):
        raise ValueError(f"variant {index} is not one of the {len(sites)} scored")
    if flank < 0:
        raise ValueError(f"flank must be 0 or more, not {flank}")
    site = sites[index]
    start, end = site["start"], site["end"]
    rows = []
    for scores, changed in ((ref, end - start), (alt, len(site["alt"]))):
        seq = scores.sequences[index]
        low, high = max(start - flank, 0), min(start + changed + flank, len(seq))
        rows.append((seq[low:high], np.nan_to_num(scores[index][low:high]), low - start, changed))
    top = max(np.abs(values).max(initial=0.0) for _, values, _, _ in rows) or 1.0
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for row, (seq, values, offset, changed) in enumerate(rows, start=1):
        traces = logo_traces(seq, values / top)
        for trace in traces:
            trace.x = tuple(np.asarray(trace.x, dtype=float) + offset)
        fig.add_traces(traces, rows=row, cols=1)
        if changed:
            fig.add_vrect(x0=-0.5, x1=changed - 0.5, fillcolor=SHADE, line_width=0, row=row, col=1)
        label = "REF" if row == 1 else "ALT"
        allele = site["ref"] if row == 1 else site["alt"]
        fig.update_yaxes(
            title_text=f"{label} {allele or '-'}",
            range=[-1.05, 1.05],
            showticklabels=False,
            zeroline=True,
            row=row,
            col=1,
        )
    fig.update_xaxes(title_text="position from the variant (nt)", row=2, col=1)
    fig.update_layout(
        title=f"variant {index}: {site['ref'] or '-'} > {site['alt'] or '-'} at {start} "
        f"({ref.kind}; one scale for both rows)",
        height=360,
        width=width,
        **_LAYOUT,
    )
    return fig
