"""Figures to PNG and SVG files: matplotlib logos directly, plotly figures through kaleido.

kaleido drives a local Chrome or Chromium (Debian's ``chromium`` package
works; nothing is downloaded). Files are written atomically.
"""

from __future__ import annotations

from pathlib import Path

from ..outputs import atomic_write

FORMATS = ("png", "svg")


def save_figure(fig, path: str | Path, *, scale: float = 2.0) -> Path:
    """Write a matplotlib or plotly figure as PNG or SVG, by the path's suffix.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or plotly.graph_objects.Figure
        The figure (a FigureWidget works too).
    path : str or Path
        Destination ending in ``.png`` or ``.svg``.
    scale : float
        Resolution factor for PNGs (2: twice the on-screen pixels, 200 dpi
        for matplotlib).

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"{path}: figures are saved as {' or '.join(FORMATS)} (by the file's suffix)"
        )
    if hasattr(fig, "savefig"):
        atomic_write(path, lambda handle: fig.savefig(handle, format=fmt, dpi=100 * scale))
        return path
    try:
        image = fig.to_image(format=fmt, scale=scale)
    except (RuntimeError, ValueError) as err:  # kaleido without a browser, or without kaleido
        raise RuntimeError(
            f"{path}: plotly figures are exported by kaleido, which needs Chrome or Chromium "
            f"(Debian: apt-get install chromium): {err}"
        ) from err
    atomic_write(path, image)
    return path
