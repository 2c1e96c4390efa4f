"""The package's plotly figures drawn as PNG without a browser: the images of views' snapshots.

Why by hand: plotly's own exporter, kaleido, drives Chrome or Chromium
(18 s the first figure, 1-2 s each after, on a loaded machine): far too
slow for every output a view makes, and absent where no browser is
installed; no library draws a plotly figure without one. The figures of
:mod:`dnabert_viz.plot` use a few of plotly's parts: bar, scatter (lines
with NaN gaps, filled polygons such as the logos' letters, markers, text,
error bars) and heatmap traces on one or more subplots (``make_subplots``'
domains, matched axes, categorical axes), rectangle and line shapes,
annotations, colour bars and a legend. This module draws those with
matplotlib (the Agg canvas, no pyplot), which draws the package's logos
already, at the figure's own size in pixels, in tens of milliseconds
(``benchmarks/snapshot_size.py``). A figure with anything else (another
trace type, a non-uniform heatmap) is refused with :class:`UnsupportedFigure`.

It draws what a figure shows, not how plotly styles it: axes in the
manner of plotly's ``simple_white`` template whatever the figure's
template, DejaVu Sans for every font, no hover text, colour bars and
legends where plotly would put them but without its automatic margins
(a right-hand colour bar or legend widens the right margin by a fixed
amount).
"""

from __future__ import annotations

import base64
import html
import io
import re
from functools import lru_cache

import numpy as np

PT = 0.72  # points per pixel: figures are drawn at 100 dpi, one pixel of plotly's a pixel here
DPI = 100
DEFAULT_SIZE = (700, 450)  # plotly's size of a figure that does not give one
DEFAULT_MARGIN = dict(l=80, r=80, t=100, b=80)
SNAPSHOT_MARK = "static snapshot"
_OUTSIDE_PX = 80  # what a colour bar or legend right of the plot adds to the right margin
_LABEL_PX = 45  # categorical axes: a tick label at most every this many pixels
_DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-.", "longdash": "--"}
_SYMBOLS = {"circle": "o", "square": "s", "diamond": "D", "cross": "P", "x": "X"}
_RGB = re.compile(r"rgba?\(([^)]*)\)")


class UnsupportedFigure(ValueError):
    """A figure with a part this renderer does not draw (its message names the part)."""


def _rgba(color, opacity: float = 1.0) -> tuple[float, float, float, float]:
    """A plotly colour (``#hex``, ``rgb()``, ``rgba()``, a CSS name) as matplotlib's RGBA."""
    from matplotlib.colors import to_rgba

    found = _RGB.fullmatch(str(color).replace(" ", ""))
    if found:
        parts = [float(v) for v in found.group(1).split(",")]
        r, g, b, a = (*[v / 255 for v in parts[:3]], parts[3] if len(parts) > 3 else 1.0)
    else:
        r, g, b, a = to_rgba(color)
    return r, g, b, a * opacity


@lru_cache(maxsize=64)
def _colormap(scale: tuple):
    """A matplotlib colour map of a plotly colour scale (pairs of position and colour), linear
    between its stops as plotly's is; a stop repeated at one position is a step (the categories'
    bands; plotly's own ``sample_colorscale`` fails on those)."""
    from matplotlib.colors import LinearSegmentedColormap

    stops = [(float(p), _rgba(c)) for p, c in scale]
    return LinearSegmentedColormap.from_list("plotly", stops, N=256).with_extremes(
        bad=(0, 0, 0, 0)
    )  # NaN: blank


def _scale(colorscale, reverse: bool):
    """The colour map of a trace's ``colorscale`` (a name or pairs; Plasma, plotly's default)."""
    import plotly.colors

    pairs = (
        plotly.colors.get_colorscale(colorscale or "Plasma")
        if isinstance(colorscale, str) or colorscale is None
        else colorscale
    )
    if reverse:
        pairs = [[1 - p, c] for p, c in reversed(pairs)]
    return _colormap(tuple((float(p), str(c)) for p, c in pairs))


def _text(value) -> str:
    """plotly's text (``<br>`` line breaks, tags such as ``<sup>``, entities) as plain text."""
    text = re.sub(r"<br\s*/?>", "\n", str(value or ""))
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _title(entry) -> str:
    """The text of a title entry (a string, or a dict with ``text``)."""
    return _text(entry.get("text") if isinstance(entry, dict) else entry)


def _array(value) -> np.ndarray:
    """A figure's array: plotly keeps numpy arrays as plotly.js typed-array specs (``dtype``,
    base64 ``bdata``, ``shape``) since plotly 6; lists and tuples as they are."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value if value is not None else [])


def _axis_key(ref: str) -> str:
    """A trace's or shape's axis reference (``x2``, ``y domain``) as its layout key
    (``xaxis2``)."""
    ref = ref.split()[0]
    return f"{ref[0]}axis{ref[1:]}"


class _Canvas:
    """One plotly figure (as ``Figure.to_dict()``) drawn onto a matplotlib Figure."""

    def __init__(self, spec: dict):
        from matplotlib.figure import Figure
        from matplotlib.transforms import Affine2D

        self.data, self.layout = spec["data"], spec["layout"]
        self.width, self.height = (
            self.layout.get("width") or DEFAULT_SIZE[0],
            self.layout.get("height") or DEFAULT_SIZE[1],
        )
        margin = {**DEFAULT_MARGIN, **self.layout.get("margin", {})}
        if self._outside_right():
            margin["r"] = max(margin["r"], _OUTSIDE_PX)
        self.margin = margin
        self.font_px = self.layout.get("font", {}).get("size") or 12
        self.figure = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI)
        self.plot_w = self.width - margin["l"] - margin["r"]  # the plot area, in pixels
        self.plot_h = self.height - margin["t"] - margin["b"]
        # paper coordinates (0-1 over the plot area, plotly's) to the figure's fractions
        self.paper = (
            Affine2D()
            .scale(self.plot_w / self.width, self.plot_h / self.height)
            .translate(margin["l"] / self.width, margin["b"] / self.height)
            + self.figure.transFigure
        )
        template = self.layout.get("template", {}).get("layout", {})
        self.colorway = self.layout.get("colorway") or template.get("colorway")
        if not self.colorway:
            import plotly.colors

            self.colorway = plotly.colors.qualitative.Plotly
        self.axes: dict[str, object] = {}  # axis key (xaxis2) -> the matplotlib Axes it is on
        self.categories: dict[str, list] = {}  # categorical axis key -> its categories in order
        self.legend: list[tuple[dict, object]] = []  # (trace, the artist its entry shows)

    def _outside_right(self) -> bool:
        """Whether a colour bar or a legend sits right of the plot (plotly widens the margin)."""
        for trace in self.data:
            marker = trace.get("marker", {})
            bar = trace.get("colorbar") or marker.get("colorbar") or {}
            shown = trace.get("showscale", trace["type"] == "heatmap") or marker.get("showscale")
            if shown and bar.get("orientation", "v") == "v" and bar.get("x", 1.02) >= 1:
                return True
        legend = self.layout.get("legend", {})
        return (
            bool(self._legend_traces())
            and legend.get("orientation", "v") == "v"
            and (legend.get("x", 1.02) >= 1)
        )

    def _legend_traces(self) -> list[dict]:
        shown = [
            t for t in self.data if t["type"] != "heatmap" and t.get("showlegend") is not False
        ]
        explicit = [t for t in shown if t.get("showlegend")]
        return shown if len(shown) > 1 and self.layout.get("showlegend", True) else explicit

    def fraction(self, x: float, y: float) -> tuple[float, float]:
        """A point in paper coordinates as fractions of the figure."""
        return (
            (self.margin["l"] + x * self.plot_w) / self.width,
            (self.margin["b"] + y * self.plot_h) / self.height,
        )

    # ---------------------------------------------------------------- axes
    def _rect(self, xkey: str, ykey: str) -> list[float]:
        """A subplot's place in figure fractions, from its axes' domains."""
        (x0, x1) = self.layout.get(xkey, {}).get("domain", [0, 1])
        (y0, y1) = self.layout.get(ykey, {}).get("domain", [0, 1])
        (fx0, fy0), (fx1, fy1) = self.fraction(x0, y0), self.fraction(x1, y1)
        return [fx0, fy0, fx1 - fx0, fy1 - fy0]

    def subplot(self, trace: dict):
        """The matplotlib Axes of a trace's x and y axes (made on first use)."""
        from matplotlib.ticker import MaxNLocator

        xkey, ykey = _axis_key(trace.get("xaxis", "x")), _axis_key(trace.get("yaxis", "y"))
        ax = self.axes.get(xkey)
        if ax is None or self.axes.get(ykey) is not ax:
            ax = self.figure.add_axes(self._rect(xkey, ykey))
            ax.set_facecolor("none")  # shapes below the traces show through
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=self.font_px * PT, length=4, color="#444")
            for axis in (ax.xaxis, ax.yaxis):  # few ticks: each is several matplotlib artists
                axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            self.axes.setdefault(xkey, ax)
            self.axes.setdefault(ykey, ax)
        return ax

    def coordinates(self, values, key: str) -> np.ndarray:
        """A trace's x or y values as numbers: categories (strings) are their index on the
        axis, in order of first appearance, as plotly places them."""
        values = _array(values)
        if values.dtype.kind not in "OUS":
            return values.astype(float)
        known = self.categories.setdefault(key, [])
        for v in dict.fromkeys(values.tolist()):
            if v not in known:
                known.append(v)
        index = {v: i for i, v in enumerate(known)}
        return np.array([index[v] for v in values.tolist()], dtype=float)

    def finish_axes(self) -> None:
        """Ranges, reversals, matched axes, titles and ticks, as the layout says."""
        for key, ax in self.axes.items():
            axis = self.layout.get(key, {})
            limits = ax.set_xlim if key[0] == "x" else ax.set_ylim
            if axis.get("range") is not None:
                limits(*axis["range"])
            if key in self.categories:
                self._category_ticks(ax, key[0], self.categories[key])
            if axis.get("tickvals") is not None:
                ticks = ax.set_xticks if key[0] == "x" else ax.set_yticks
                ticks(
                    axis["tickvals"], labels=[_text(t) for t in axis.get("ticktext", [])] or None
                )
        for key, ax in self.axes.items():  # matched axes (make_subplots' shared ones)
            other = self.axes.get(_axis_key(self.layout.get(key, {}).get("matches") or key))
            if other is not None and other is not ax:
                get = other.get_xlim if key[0] == "x" else other.get_ylim
                (ax.set_xlim if key[0] == "x" else ax.set_ylim)(*get())
        for key, ax in self.axes.items():
            axis, which = self.layout.get(key, {}), key[0]
            if axis.get("autorange") == "reversed":
                (ax.invert_xaxis if which == "x" else ax.invert_yaxis)()
            if axis.get("showticklabels") is False:  # no ticks at all: matplotlib's are slow
                (ax.set_xticks if which == "x" else ax.set_yticks)([])
            title = _title(axis.get("title"))
            if title:
                label = ax.set_xlabel if which == "x" else ax.set_ylabel
                label(title, fontsize=self.font_px * PT, parse_math=False)
            if axis.get("zeroline"):
                (ax.axvline if which == "x" else ax.axhline)(0, color="#444", linewidth=0.8)

    def _category_ticks(self, ax, which: str, categories: list) -> None:
        """Tick labels of a categorical axis: every category where they fit, else evenly
        spaced ones."""
        box = ax.get_position()
        room = (box.width * self.width if which == "x" else box.height * self.height) // _LABEL_PX
        step = max(1, int(np.ceil(len(categories) / max(room, 1))))
        where = np.arange(0, len(categories), step)
        setter = ax.set_xticks if which == "x" else ax.set_yticks
        setter(where, labels=[_text(categories[i]) for i in where])

    # ---------------------------------------------------------------- traces
    def draw(self) -> None:
        for number, trace in enumerate(self.data):
            kind = trace["type"]
            if kind == "bar":
                self.bar(trace, number)
            elif kind in ("scatter", "scattergl"):
                self.scatter(trace, number)
            elif kind == "heatmap":
                self.heatmap(trace)
            else:
                raise UnsupportedFigure(f"no static drawing of {kind} traces")
        self.finish_axes()
        for shape in self.layout.get("shapes", []):
            self.shape(shape)
        for note in self.layout.get("annotations", []):
            self.annotation(note)
        self.title()
        self.draw_legend()

    def _color(self, trace: dict, number: int):
        return trace.get("marker", {}).get("color") or self.colorway[number % len(self.colorway)]

    def bar(self, trace: dict, number: int) -> None:
        from matplotlib.collections import PolyCollection

        if trace.get("orientation", "v") != "v":
            raise UnsupportedFigure("no static drawing of horizontal bars")
        ax = self.subplot(trace)
        x = self.coordinates(trace.get("x"), _axis_key(trace.get("xaxis", "x")))
        y = np.nan_to_num(_array(trace.get("y")).astype(float))
        if len(x) == 0:
            return
        spacing = np.diff(np.sort(x)).min() if len(x) > 1 else 1.0
        half = (1 - self.layout.get("bargap", 0.2)) * spacing / 2
        corners = np.stack(
            [
                np.column_stack([x - half, np.zeros_like(y)]),
                np.column_stack([x - half, y]),
                np.column_stack([x + half, y]),
                np.column_stack([x + half, np.zeros_like(y)]),
            ],
            axis=1,
        )
        color = self._color(trace, number)
        colors = _rgba(color) if isinstance(color, str) else [_rgba(c) for c in _array(color)]
        ax.add_collection(PolyCollection(corners, facecolors=colors, linewidths=0))
        ax.update_datalim(corners.reshape(-1, 2))
        ax.autoscale_view()

    def scatter(self, trace: dict, number: int) -> None:
        ax = self.subplot(trace)
        x = self.coordinates(trace.get("x"), _axis_key(trace.get("xaxis", "x")))
        y = self.coordinates(trace.get("y"), _axis_key(trace.get("yaxis", "y")))
        mode = trace.get("mode") or ("lines+markers" if len(x) < 20 else "lines")
        opacity = trace.get("opacity", 1.0)
        line = trace.get("line", {})
        color = line.get("color") or self._color(trace, number)
        handle = None
        if trace.get("fill") == "toself":
            self._polygons(ax, x, y, _rgba(trace.get("fillcolor") or color, opacity))
        elif trace.get("fill") not in (None, "none"):
            raise UnsupportedFigure(f"no static drawing of fill={trace['fill']!r}")
        elif "lines" in mode:
            (handle,) = ax.plot(
                x,
                y,
                color=_rgba(color, opacity),
                linewidth=line.get("width", 2) * PT,
                linestyle=_DASHES.get(line.get("dash", "solid"), "-"),
                marker=None,
            )
        if "markers" in mode:
            handle = self._markers(ax, trace, x, y, number, opacity)
        if "text" in mode:
            self._texts(ax, trace, x, y)
        error = trace.get("error_y", {})
        if error.get("array") is not None:
            ax.errorbar(
                x,
                y,
                yerr=_array(error["array"]).astype(float),
                fmt="none",
                ecolor=_rgba(color, opacity),
                elinewidth=1,
            )
        if handle is not None and trace.get("name"):
            self.legend.append((trace, handle))

    def _polygons(self, ax, x: np.ndarray, y: np.ndarray, color) -> None:
        """A ``fill="toself"`` trace: polygons separated by NaN, filled."""
        from matplotlib.collections import PolyCollection

        points = np.column_stack([x, y])
        breaks = np.flatnonzero(np.isnan(x) | np.isnan(y))
        pieces = [p for p in np.split(points, breaks) if len(p)]
        pieces = [p[~np.isnan(p).any(axis=1)] for p in pieces]
        pieces = [p for p in pieces if len(p) > 2]
        if pieces:
            ax.add_collection(PolyCollection(pieces, facecolors=[color], linewidths=0))
            ax.update_datalim(np.concatenate(pieces))
            ax.autoscale_view()

    def _markers(self, ax, trace: dict, x, y, number: int, opacity: float):
        marker = trace.get("marker", {})
        size = _array(marker.get("size", 6)).astype(float)
        symbol = str(marker.get("symbol", "circle"))
        shape = _SYMBOLS.get(symbol.removesuffix("-open"), "o")
        color = (
            marker.get("color") if marker.get("color") is not None else self._color(trace, number)
        )
        values = _array(color) if not isinstance(color, str) else None
        if values is not None and values.dtype.kind in "fiub":
            low = marker.get("cmin", np.nanmin(values) if len(values) else 0)
            high = marker.get("cmax", np.nanmax(values) if len(values) else 1)
            cmap = _scale(marker.get("colorscale"), marker.get("reversescale", False))
            from matplotlib.colors import Normalize

            colors = cmap(Normalize(low, high)(values.astype(float)))
            if marker.get("showscale"):
                self.colorbar(cmap, low, high, marker.get("colorbar", {}))
        elif values is not None:
            colors = np.array([_rgba(c) for c in values])
        else:
            colors = np.array([_rgba(color)] * len(x)) if len(x) else np.empty((0, 4))
        colors = np.array(colors, dtype=float).reshape(-1, 4)
        colors[:, 3] *= opacity
        selected = trace.get("selectedpoints")
        if selected is not None:  # plotly dims the others
            dim = np.ones(len(colors), dtype=bool)
            dim[_array(selected).astype(int)] = False
            colors[dim, 3] *= 0.2
        if symbol.endswith("-open"):
            style = dict(facecolors="none", edgecolors=colors, linewidths=1)
        else:
            style = dict(c=colors, linewidths=0)
        return ax.scatter(x, y, s=(size * PT) ** 2, marker=shape, **style)

    def _texts(self, ax, trace: dict, x, y) -> None:
        """A ``mode="text"`` trace: one label a point, placed as ``textposition`` says."""
        texts = trace.get("text")
        texts = [texts] * len(x) if isinstance(texts, str) else list(texts or [])
        font = trace.get("textfont", {})
        colors = font.get("color") or "#444"
        colors = [colors] * len(x) if isinstance(colors, str) else list(colors)
        vertical, _, horizontal = str(trace.get("textposition", "middle center")).partition(" ")
        ha = {"left": "right", "right": "left"}.get(horizontal, "center")
        va = {"top": "bottom", "bottom": "top"}.get(vertical, "center")
        family = "monospace" if "mono" in str(font.get("family", "")) else None
        for xi, yi, label, color in zip(x, y, texts, colors):
            ax.text(
                xi,
                yi,
                _text(label),
                ha=ha,
                va=va,
                color=_rgba(color),
                family=family,
                fontsize=font.get("size", self.font_px) * PT,
                parse_math=False,
            )

    def heatmap(self, trace: dict) -> None:
        ax = self.subplot(trace)
        z = _array(trace.get("z")).astype(float)
        rows, columns = z.shape
        x, y = trace.get("x"), trace.get("y")
        x = (
            np.arange(columns, dtype=float)
            if x is None
            else self.coordinates(x, _axis_key(trace.get("xaxis", "x")))
        )
        y = (
            np.arange(rows, dtype=float)
            if y is None
            else self.coordinates(y, _axis_key(trace.get("yaxis", "y")))
        )
        extent = []
        for centres in (x, y):
            step = np.diff(centres)
            if len(step) and not np.allclose(step, step[0]):
                raise UnsupportedFigure("no static drawing of heatmaps on uneven coordinates")
            half = step[0] / 2 if len(step) else 0.5
            extent += [centres[0] - half, centres[-1] + half]
        low = trace.get("zmin", np.nanmin(z) if np.isfinite(z).any() else 0)
        high = trace.get("zmax", np.nanmax(z) if np.isfinite(z).any() else 1)
        cmap = _scale(trace.get("colorscale"), trace.get("reversescale", False))
        ax.imshow(
            z,
            origin="lower",
            extent=extent,
            aspect="auto",
            interpolation="nearest",
            cmap=cmap,
            vmin=low,
            vmax=high,
        )
        if trace.get("showscale", True):
            self.colorbar(cmap, low, high, trace.get("colorbar", {}))

    def colorbar(self, cmap, low: float, high: float, bar: dict) -> None:
        """A colour bar where plotly puts it (``x``, ``y``, ``len`` in paper fractions,
        ``thickness`` in pixels; vertical at the plot's right by default)."""
        from matplotlib.ticker import MaxNLocator

        vertical = bar.get("orientation", "v") == "v"
        along = bar.get("len", 1.0)
        thick = bar.get("thickness", 30)
        x = bar.get("x", 1.02 if vertical else 0.5)
        y = bar.get("y", 0.5 if vertical else 1.02)
        xanchor = bar.get("xanchor", "left" if vertical else "center")
        yanchor = bar.get("yanchor", "middle" if vertical else "bottom")
        px = self.margin["l"] + x * self.plot_w
        py = self.margin["b"] + y * self.plot_h
        w, h = (thick, along * self.plot_h) if vertical else (along * self.plot_w, thick)
        px -= {"left": 0, "center": w / 2, "middle": w / 2, "right": w}.get(xanchor, 0)
        py -= {"bottom": 0, "middle": h / 2, "center": h / 2, "top": h}.get(yanchor, 0)
        # an image and a few labels, not a matplotlib colour bar: an Axes and its ticks cost
        # more than the rest of a heatmap
        ramp = np.linspace(0, 1, max(int(h if vertical else w), 2))
        colors = (cmap(ramp)[::-1, None] if vertical else cmap(ramp)[None, :]) * 255
        pixels = np.broadcast_to(colors, (int(h), int(w), 4) if vertical else (int(h), int(w), 4))
        self.figure.figimage(pixels.astype(np.uint8), xo=int(px), yo=int(py), origin="upper")
        if bar.get("tickvals") is not None:
            values = np.asarray(bar["tickvals"], dtype=float)
            labels = [_text(t) for t in bar.get("ticktext", [])] or [f"{v:.3g}" for v in values]
        else:
            values = MaxNLocator(3 if not vertical else 5).tick_values(low, high)
            values = values[(values >= low) & (values <= high)]
            labels = [f"{v:.3g}" for v in values]
        size = self.font_px * PT * 0.9
        for value, label in zip(values, labels):
            where = (value - low) / ((high - low) or 1)
            if vertical:
                at, align = (px + w + 3, py + where * h), dict(ha="left", va="center")
            else:
                at, align = (px + where * w, py - 2), dict(ha="center", va="top")
            self.figure.text(
                at[0] / self.width,
                at[1] / self.height,
                label,
                fontsize=size,
                color="#444",
                parse_math=False,
                **align,
            )
        title = _title(bar.get("title"))
        if title:  # over the bar, inside the figure (about 0.55 of a pixel size a character)
            half = len(title) * self.font_px * 0.55 / 2
            centre = min(max(px + w / 2, half), self.width - half)
            self.figure.text(
                centre / self.width,
                (py + h + 4) / self.height,
                title,
                fontsize=self.font_px * PT,
                ha="center",
                va="bottom",
                parse_math=False,
            )

    # ---------------------------------------------------------------- layout
    def _transform(self, xref: str, yref: str):
        """The transform of a shape's or annotation's coordinates: data, ``domain`` or
        ``paper``, per direction; and the Axes it belongs to (None: the figure)."""
        from matplotlib.transforms import blended_transform_factory

        parts, owner = [], set()
        for ref in (xref, yref):
            if ref == "paper":
                parts.append(self.paper)
                owner.add(None)
                continue
            ax = self.axes.get(_axis_key(ref))
            if ax is None:
                raise UnsupportedFigure(f"a shape or annotation on {ref}, an axis with no trace")
            parts.append(ax.transAxes if ref.endswith("domain") else ax.transData)
            owner.add(ax)
        return blended_transform_factory(*parts), owner.pop() if len(owner) == 1 else None

    def shape(self, shape: dict) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        kind = shape.get("type", "rect")
        transform, ax = self._transform(shape.get("xref", "x"), shape.get("yref", "y"))
        line = shape.get("line", {})
        width = line.get("width", 2) * PT
        style = dict(
            transform=transform,
            zorder=0.5 if shape.get("layer") == "below" else 5,
            alpha=None,
        )
        opacity = shape.get("opacity", 1.0)
        edge = _rgba(line.get("color", "#444"), opacity) if width else "none"
        x0, x1, y0, y1 = (float(shape[k]) for k in ("x0", "x1", "y0", "y1"))
        if kind == "rect":
            fill = shape.get("fillcolor")
            artist = Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                facecolor=_rgba(fill, opacity) if fill else "none",
                edgecolor=edge,
                linewidth=width,
                linestyle=_DASHES.get(line.get("dash", "solid"), "-"),
                **style,
            )
        elif kind == "line":
            artist = Line2D(
                [x0, x1],
                [y0, y1],
                color=edge,
                linewidth=width,
                linestyle=_DASHES.get(line.get("dash", "solid"), "-"),
                **style,
            )
        else:
            raise UnsupportedFigure(f"no static drawing of {kind} shapes")
        if ax is None:  # over several subplots (paper coordinates): on the figure, unclipped
            artist.set_zorder(-1 if shape.get("layer") == "below" else 5)
            self.figure.add_artist(artist)
        elif kind == "rect":
            ax.add_patch(artist)
        else:
            ax.add_line(artist)

    def annotation(self, note: dict) -> None:
        transform, _ = self._transform(note.get("xref", "x"), note.get("yref", "y"))
        font = note.get("font", {})
        ha = {"auto": "center"}.get(note.get("xanchor", "auto"), note.get("xanchor"))
        va = {"auto": "center", "middle": "center"}.get(
            note.get("yanchor", "auto"), note.get("yanchor")
        )
        self.figure.text(
            note.get("x", 0),
            note.get("y", 0),
            _text(note.get("text")),
            transform=transform,
            ha=ha,
            va=va,
            fontsize=font.get("size", self.font_px) * PT,
            color=_rgba(font.get("color", "#222")),
            parse_math=False,
        )

    def title(self) -> None:
        """The figure's title at the top left, its ``<sup>`` line under it, smaller."""
        title = self.layout.get("title", {})
        main, _, sub = str(
            title.get("text") if isinstance(title, dict) else title or ""
        ).partition("<sup>")
        top = 1 - 6 / self.height
        size = ((title.get("font", {}) if isinstance(title, dict) else {}).get("size") or 17) * PT
        for text, points in ((_text(main).strip(), size), (_text(sub).strip(), size * 0.7)):
            if text:
                self.figure.text(
                    0.05,
                    top,
                    text,
                    ha="left",
                    va="top",
                    fontsize=points,
                    color="#222",
                    parse_math=False,
                    linespacing=1.1,
                )
                top -= (text.count("\n") + 1) * points / PT * 1.25 / self.height

    def draw_legend(self) -> None:
        entries = [(t, h) for t, h in self.legend if t in self._legend_traces()]
        if not entries:
            return
        legend = self.layout.get("legend", {})
        horizontal = legend.get("orientation", "v") == "h"
        x, y = legend.get("x", 0 if horizontal else 1.02), legend.get("y", 1)
        xanchor, yanchor = legend.get("xanchor", "left"), legend.get("yanchor", "top")
        loc = f"{ {'top': 'upper', 'bottom': 'lower'}.get(yanchor, 'center') } " + (
            {"left": "left", "right": "right"}.get(xanchor, "center")
        )
        self.figure.legend(
            [h for _, h in entries],
            [_text(t["name"]) for t, _ in entries],
            loc=loc.replace("center center", "center"),
            bbox_to_anchor=self.fraction(x, y),
            frameon=False,
            fontsize=self.font_px * PT,
            ncols=len(entries) if horizontal else 1,
            borderaxespad=0,
            handletextpad=0.3,
        )

    def png(self, mark: str | None) -> bytes:
        if mark:
            self.figure.text(
                1 - 4 / self.width,
                3 / self.height,
                mark,
                ha="right",
                va="bottom",
                fontsize=9 * PT,
                color="#888",
                parse_math=False,
            )
        buffer = io.BytesIO()
        self.figure.savefig(
            buffer, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1}
        )
        return buffer.getvalue()


def figure_title(fig) -> str:
    """A plotly figure's title as one line of plain text ("untitled" where it has none)."""
    return " · ".join(_text(fig.layout.title.text).splitlines()) or "untitled"


def plotly_png(fig, *, mark: str | None = SNAPSHOT_MARK) -> bytes:
    """A plotly figure of this package as a PNG, drawn with matplotlib (no browser).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A figure of :mod:`dnabert_viz.plot` (a FigureWidget works too).
    mark : str, optional
        Small grey text in the image's bottom right corner (default: that it
        is a static snapshot); None: none.

    Returns
    -------
    bytes
        PNG of ``layout.width`` x ``layout.height`` pixels (plotly's 700 x 450
        where the figure does not say).

    Raises
    ------
    UnsupportedFigure
        The figure has a part this renderer does not draw.
    """
    canvas = _Canvas(fig.to_dict())
    canvas.draw()
    return canvas.png(mark)
