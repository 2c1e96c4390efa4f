"""Sequence logos with logomaker: motif logos and attribution logos.

logomaker imports matplotlib's pyplot, so it is imported here only when a
logo is drawn; figures are ``matplotlib.figure.Figure`` objects without
pyplot state. A Figure made without pyplot has no inline display of its own,
so these carry ``_repr_png_``: they show as the last expression of a cell
in JupyterLab, VS Code and nbconvert's HTML like any other figure. Rendered
PNGs are cached per motif and kind, so a gallery draws each logo once.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import pandas as pd

from ..motifs.motif import KIND_NAMES, Motif
from ..sequences import ALPHABET

COLORS = {
    "A": "#109648",
    "C": "#255C99",
    "G": "#F7B32B",
    "T": "#D62839",
}  # the classic nucleotide scheme
_YLABEL = {
    "information": "information (bits)",
    "probability": "probability",
    "counts": "count",
    "contribution": "contribution",
    "hypothetical": "hypothetical contribution",
}
_PNG_CACHE: dict[tuple, bytes] = {}
LOGO_PNG_INCHES = 3.4  # a card logo's width: its 10-pt labels read at 9-12 px in a 300-400 px card


@lru_cache(maxsize=1)
def _inline_figure_class():
    """A matplotlib Figure that displays itself inline (made once, on the first logo)."""
    from matplotlib.figure import Figure

    class LogoFigure(Figure):
        """A matplotlib Figure with a PNG representation for notebooks (no pyplot needed)."""

        def _repr_png_(self) -> bytes:
            return figure_png(self)

    return LogoFigure


def _figure(width: float, height: float):
    fig = _inline_figure_class()(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _draw(frame: pd.DataFrame, ax, ylabel: str, title: str | None) -> None:
    """Draw with logomaker, leaving out glyphs under 0.5% of the y range (below a pixel).

    Each glyph is a font outline logomaker builds one by one; a 24-nt
    motif's flanks hold dozens of invisible ones, so skipping them makes a
    logo faster without changing how it looks (``benchmarks/logo_speed.py``).
    """
    import logomaker

    span = frame.clip(lower=0).sum(axis=1).max() - frame.clip(upper=0).sum(axis=1).min()
    frame = frame.where(frame.abs() >= 0.005 * span, 0.0)
    logomaker.Logo(frame, ax=ax, color_scheme=COLORS, vpad=0.05, width=0.9)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("position (nt)")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=10)


def p_value_text(p: float) -> str:
    """``", p = 3.2e-08"``; ``", p < 1e-300"`` below the smallest double (where it reads 0); empty
    for NaN.
    """
    return "" if np.isnan(p) else ", p < 1e-300" if p < 1e-300 else f", p = {p:.2g}"


def logo(
    motif: Motif,
    *,
    kind: str = "information",
    title: str | None = None,
    width_per_nt: float = 0.28,
):
    """A motif logo.

    Parameters
    ----------
    motif : Motif
        The motif.
    kind : {"information", "probability", "counts", "contribution", "hypothetical"}
        Letter heights: bits (y from 0 to 2), probabilities (``"pwm"``),
        counts, the mean contribution of the aligned instances (``"cwm"``: the
        CWM of seqlet and modisco motifs; negative letters point down), or
        their mean hypothetical contributions (every base at every column:
        what it would contribute there; :attr:`Motif.hypothetical`).
    title : str, optional
        Defaults to the name, instance count and p-value.
    width_per_nt : float
        Figure width per position, in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    kind = KIND_NAMES.get(kind, kind)
    frame = motif.to_dataframe(kind=kind)
    if title is None:
        title = f"{motif.name} ({motif.n_instances} instances{p_value_text(motif.p_value)})"
    fig, ax = _figure(max(2.5, width_per_nt * len(frame) + 1.0), 1.8)
    _draw(frame, ax, _YLABEL[kind], title)
    if kind == "information":
        ax.set_ylim(0, 2)
    elif kind in ("contribution", "hypothetical"):
        ax.axhline(0, color="#555555", linewidth=0.6)
    return fig


def attribution_logo(
    sequence: str,
    values: np.ndarray,
    *,
    start: int = 0,
    end: int | None = None,
    title: str | None = None,
    width_per_nt: float = 0.18,
):
    """The sequence's letters scaled by their per-nucleotide score: positive up, negative down.

    Parameters
    ----------
    sequence : str
        The sequence (``N`` is drawn as no letter).
    values : numpy.ndarray
        (len(sequence),) scores.
    start, end : int
        The stretch to draw (0-based, end exclusive).

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = np.asarray(values, dtype=float)
    if len(values) < len(sequence):
        raise ValueError(f"values has {len(values)} entries for a sequence of {len(sequence)} nt")
    codes = np.frombuffer(sequence.encode(), dtype=np.uint8)
    letters = codes[:, None] == np.frombuffer(ALPHABET.encode(), np.uint8)[None]
    return contribution_logo(
        letters * np.nan_to_num(values[: len(sequence)])[:, None],
        start=start,
        end=end,
        title=title,
        width_per_nt=width_per_nt,
        ylabel="score",
    )


def contribution_logo(
    values: np.ndarray,
    *,
    start: int = 0,
    end: int | None = None,
    title: str | None = None,
    width_per_nt: float = 0.18,
    ylabel: str = "contribution",
):
    """Any (L, 4) matrix over A C G T as a logo: hypothetical contributions of a sequence, a CWM.

    Each base's letter is as tall as its value, positive up, negative down;
    for hypothetical contributions (``scores.extra["hypothetical"][i]``)
    every position shows all four bases, the effect each would have there.

    Parameters
    ----------
    values : numpy.ndarray
        (L, 4) values, columns A C G T (NaN is drawn as nothing).
    start, end : int
        Positions ``[start, end)`` to draw; ``end`` None: to the last.
    title, width_per_nt, ylabel
        Title, figure width per position (inches), y-axis label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != 4:
        raise ValueError(f"values must be (L, 4) over A C G T, got shape {values.shape}")
    end = len(values) if end is None else end
    if not 0 <= start < end <= len(values):
        raise ValueError(
            f"start={start}, end={end} is not a stretch of a {len(values)}-position matrix"
        )
    frame = pd.DataFrame(
        np.nan_to_num(values[start:end]),
        columns=list(ALPHABET),
        index=pd.RangeIndex(start, end, name="pos"),
    )
    fig, ax = _figure(max(3.0, width_per_nt * (end - start) + 1.0), 1.8)
    _draw(frame, ax, ylabel, title)
    ax.axhline(0, color="#555555", linewidth=0.6)
    return fig


def figure_png(fig, *, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def logo_png(motif: Motif, *, kind: str = "information") -> bytes:
    """PNG of :func:`logo` without a title (the cards that show it print name and statistics
    legibly beside it), cached by the motif's matrix, name and kind.

    Every motif's PNG is :data:`LOGO_PNG_INCHES` wide (at 150 dpi): a card
    shows it about 300-400 px wide, where the axis labels read at 9-12 px
    whatever the motif's length (drawn at 0.28 in a position, a 24-nt
    logo's labels shrank to 6-7 px in a card)."""
    key = (motif.name, kind, motif.n_instances, motif.counts.tobytes())
    if key not in _PNG_CACHE:
        per_nt = (LOGO_PNG_INCHES - 1.0) / len(motif)
        _PNG_CACHE[key] = figure_png(
            logo(motif, kind=kind, title="", width_per_nt=per_nt), dpi=150
        )
    return _PNG_CACHE[key]
