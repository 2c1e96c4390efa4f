"""GenomeView: the genome and its tracks in igv.js, offline; a clicked feature opens its window in
an explorer.

igv.js (``dnabert_viz/data/igv/igv.esm.min.js``, 1.5 MB, MIT, from the npm
registry's ``igv`` 3.8.10) reaches the page once per kernel, as the code of
one invisible holder widget (:func:`igv_code`, the way plotly's code
reaches the figures: :mod:`dnabert_viz.widgets.figure`), never in an
output's mime bundle: the snapshot a view's output carries is a table of
its reference, locus and tracks. Nothing is fetched by the page: the
reference and the tracks travel in the widget's state as ``data:`` URIs
(gzip, base64), which igv.js reads in memory, and igv's list of genomes
from igv.org is off.

Size limits: the reference the page gets is one ``region=`` (a
chromosome or a part of one; by default the genome's first chromosome) of
at most :data:`MAX_BASES` bases; each track at most :data:`MAX_TRACK_BYTES`
(a bigWig whole, its zoom levels read by igv.js; bedGraph and BED only
their lines on the region's chromosome, gzipped).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import anywidget
import ipywidgets as W
import pandas as pd
import traitlets

from ..intervals import open_genome
from ..markup import element
from ..model import DnaModel
from ..motifs.scan import GENOME_COLUMNS, genome_hits
from ..plot.html import Page, table
from ..tracks import bed_frame
from .common import View
from .explorer import SequenceExplorer
from .figure import SHARED_MODULE, SharedCode, shared_code

MAX_BASES = 2_000_000
"""The most reference bases sent to the page."""
MAX_TRACK_BYTES = 20_000_000
"""The most bytes of one track sent to the page (a bigWig file, or gzipped bedGraph/BED lines)."""
KINDS = {
    ".bw": "bigwig",
    ".bigwig": "bigwig",
    ".bedgraph": "bedgraph",
    ".bg": "bedgraph",
    ".bed": "bed",
    ".narrowpeak": "bed",
}
"""Track files by suffix (case-insensitive; ``.gz`` after bedGraph and BED allowed)."""
BIGWIG_MAGIC = (bytes.fromhex("26fc8f88"), bytes.fromhex("888ffc26"))
"""A bigWig file's first four bytes (either byte order)."""
LOCUS = re.compile(r"^\s*([^:\s]+)(?::([\d,]+)(?:-([\d,]+))?)?\s*$")

# The panel's browser code: igv.js from the shared holder, one browser per view; the locus
# follows the ``locus`` state both ways, and a click on a track goes to the kernel as a message.
ESM = (
    SHARED_MODULE
    + """
export default {
  async render({ model, el }) {
    const igv = (await sharedModule(model, "igv")).default;
    const div = document.createElement("div");
    el.appendChild(div);
    const browser = await igv.createBrowser(div, model.get("_config"));
    // what igv shows, in whole bases; compared without the commas the kernel writes
    const loci = () => browser.referenceFrameList
      .map(f => `${f.chr}:${Math.floor(f.start) + 1}-${Math.round(f.end)}`).join(" ");
    const plain = text => text.replace(/,/g, "");
    let shown = loci();
    browser.on("locuschange", () => {
      shown = loci();
      if (plain(shown) !== plain(model.get("locus"))) {
        model.set("locus", shown);
        model.save_changes();
      }
    });
    const follow = () => {
      if (plain(model.get("locus")) !== plain(shown)) browser.search(model.get("locus"));
    };
    model.on("change:locus", follow);
    follow();
    browser.on("trackclick", (track, _data, position, features) => {
      const f = features && features.length ? features[0] : null;
      model.send({
        track: track.name,
        chrom: f ? f.chr : browser.referenceFrameList[0].chr,
        start: f ? f.start : Math.floor(position),
        end: f ? f.end : Math.floor(position) + 1,
        name: f && f.name ? String(f.name) : "",
      });
      return false;  // no popup: the kernel opens the window
    });
    return () => {
      model.off("change:locus", follow);
      igv.removeBrowser(browser);
    };
  },
};
"""
)


class IgvCode(SharedCode):
    """igv.js (``igv.esm.min.js``)."""


def igv_code() -> IgvCode:
    """The kernel's one :class:`IgvCode`."""
    source = files("dnabert_viz") / "data" / "igv" / "igv.esm.min.js"
    return shared_code(IgvCode, source.read_text)


class IgvPanel(anywidget.AnyWidget):
    """One igv.js browser (the GenomeView's panel): ``_config`` is igv's, ``locus`` what it
    shows; a click on a track is a message ``{track, chrom, start, end, name}``."""

    _esm = ESM
    _igv_code = traitlets.Instance(IgvCode).tag(sync=True, **W.widget_serialization)
    _igv_digest = traitlets.Unicode().tag(sync=True)
    _config = traitlets.Dict().tag(sync=True)
    locus = traitlets.Unicode().tag(sync=True)

    @traitlets.default("_igv_code")
    def _default_code(self) -> IgvCode:
        return igv_code()

    @traitlets.default("_igv_digest")
    def _default_digest(self) -> str:
        return hashlib.sha256(self._igv_code.code.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Locus:
    """A stretch of one chromosome: 0-based ``start``, ``end`` exclusive."""

    chrom: str
    start: int
    end: int

    def __str__(self) -> str:
        """igv's form: ``chr17:1,001-2,000`` (1-based, end included)."""
        return f"{self.chrom}:{self.start + 1:,}-{self.end:,}"


def parse_locus(text: str, sizes: Mapping[str, int]) -> Locus:
    """``chrom``, ``chrom:pos`` or ``chrom:start-end`` (1-based, end included, commas allowed)
    checked against the chromosome ``sizes``.

    Raises
    ------
    ValueError
        Not a locus, an unknown chromosome, start after end, or past the
        chromosome's end (one line naming the locus).
    """
    match = LOCUS.match(text)
    if not match:
        raise ValueError(f"locus {text!r}: not chrom, chrom:pos or chrom:start-end")
    chrom, first, last = match.groups()
    if chrom not in sizes:
        known = ", ".join(list(sizes)[:5]) + (" ..." if len(sizes) > 5 else "")
        raise ValueError(f"locus {text!r}: {chrom} is not in the genome ({known})")
    size = sizes[chrom]
    if first is None:
        return Locus(chrom, 0, size)
    start = int(first.replace(",", ""))
    end = start if last is None else int(last.replace(",", ""))
    if not 1 <= start <= end:
        raise ValueError(f"locus {text!r}: needs 1 <= start <= end")
    if end > size:
        raise ValueError(f"locus {text!r}: past the end of {chrom} ({size:,} bases)")
    return Locus(chrom, start - 1, end)


def data_uri(content: bytes, *, compress: bool = True) -> str:
    """``content`` as a base64 ``data:`` URI, gzipped unless ``compress`` is False."""
    if compress:
        content = gzip.compress(content, mtime=0)
    kind = "application/gzip" if compress else "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(content).decode()}"


@dataclass
class GenomeTrack:
    """A track as the page gets it: its name, kind (``bigwig``, ``bedgraph``, ``bed``), source,
    how many of its records lie on the region (bigWig: its chromosomes), igv's config, and its
    lines on the region (bedGraph, BED)."""

    name: str
    kind: str
    source: str
    records: int
    config: dict
    lines: list[str]


def _text_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt") as handle:
        return handle.read().splitlines()


def _on_region(lines: list[str], region: Locus) -> list[str]:
    """The data lines (no ``track``, ``browser`` or ``#`` line) that overlap ``region``."""
    kept = []
    for line in lines:
        fields = line.split("\t")
        if not line.strip() or line.startswith(("track", "browser", "#")) or len(fields) < 3:
            continue
        if (
            fields[0] == region.chrom
            and int(fields[1]) < region.end
            and int(fields[2]) > region.start
        ):
            kept.append(line)
    return kept


def load_track(source, name: str | None, region: Locus) -> GenomeTrack:
    """A track file (bigWig, bedGraph, BED; by suffix) or an intervals table (``chrom``,
    ``start``, ``end``, optional ``name``, ``score``, ``strand``: instances, variants; or
    ``dv.scan``'s hits with their genome coordinates) as the page gets it.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        An unknown suffix, or a track over :data:`MAX_TRACK_BYTES` (one line each).
    """
    if isinstance(source, pd.DataFrame):
        hits = all(c in source for c in GENOME_COLUMNS)  # dv.scan's: start is in the sequence
        bed = bed_frame(genome_hits(source) if hits else source, where="track table")
        lines = _on_region(bed.to_csv(sep="\t", header=False, index=False).splitlines(), region)
        kind, label, name = "bed", f"table of {len(source)} rows", name or "intervals"
    else:
        path = Path(source)
        suffixes = [s.lower() for s in path.suffixes]
        suffix = suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1 else path.suffix
        kind = KINDS.get(suffix.lower())
        if kind is None:
            raise ValueError(
                f"{path}: not a track file ({', '.join(KINDS)}, bedGraph and BED gzipped too)"
            )
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such track file")
        label, name = str(path), name or path.name.split(".")[0]
        if kind == "bigwig":
            import pyBigWig

            with open(path, "rb") as handle:
                if handle.read(4) not in BIGWIG_MAGIC:  # pyBigWig would print to stderr
                    raise ValueError(f"{path}: not a bigWig file")
            bw = pyBigWig.open(str(path))
            records = len(bw.chroms())
            bw.close()
            url = _sized(data_uri(path.read_bytes(), compress=False), label)
            config = {"name": name, "type": "wig", "format": "bigwig", "url": url}
            return GenomeTrack(name, kind, label, records, config, [])
        lines = _on_region(_text_lines(path), region)
    url = _sized(data_uri("".join(f"{line}\n" for line in lines).encode()), label)
    config = (
        {"type": "wig", "format": "bedgraph"}
        if kind == "bedgraph"
        else {"type": "annotation", "format": "bed", "displayMode": "EXPANDED"}
    )
    config = {"name": name, "url": url, **config}
    return GenomeTrack(name, kind, label, len(lines), config, lines)


def _sized(uri: str, label: str) -> str:
    """``uri``, refused when over :data:`MAX_TRACK_BYTES`."""
    if len(uri) > MAX_TRACK_BYTES:
        raise ValueError(
            f"{label}: {len(uri):,} bytes to send, over the {MAX_TRACK_BYTES:,} a view takes; "
            "give a smaller region or track"
        )
    return uri


class GenomeView(View, W.VBox):
    """A genome and its tracks in igv.js (offline); clicking a feature (or a place on a signal
    track) opens that window in a :class:`SequenceExplorer` below.

    A widget (an ``ipywidgets.VBox``) whose state is synced traits: ``locus``
    (what igv.js shows, ``chr17:1,001-2,000``; set it to go there) and
    ``selected_feature`` (the clicked feature: ``track``, ``chrom``,
    ``start``, ``end`` (0-based, end exclusive) and ``name``; set it from
    code to open a window). The window is the feature, or ``width`` bases
    centred on it (slid inside its chromosome); the explorer
    (``explorer``) shows its sequence with the model's scores, the BED
    features on it shaded.

    Parameters
    ----------
    m : DnaModel or None
        The model the explorer scores windows with; None: clicks set
        ``selected_feature`` only.
    genome : str or Path
        The genome FASTA (plain or bgzip; indexed on first use).
    tracks : sequence or mapping
        Track files (bigWig ``.bw``, bedGraph, BED; named by their file's
        stem), or a mapping of names to files or to intervals tables
        (``chrom``, ``start``, ``end``, optional ``name``, ``score``,
        ``strand``: ``dv.scan`` hits, ``dv.genome_instances``, variants).
    region : str, optional
        The part of the genome the page gets (``chrom`` or
        ``chrom:start-end``, at most :data:`MAX_BASES` bases; default: the
        genome's first chromosome). Windows open anywhere on the genome.
    locus : str, optional
        What igv.js shows first (default: the region).
    width : int or None
        Bases of the window opened on a click, centred on the feature (None:
        the feature itself), slid inside its chromosome.
    target : int
        The class the explorer explains.

    Attributes
    ----------
    locus : str
        What igv.js shows (synced).
    selected_feature : dict
        The clicked feature (synced); empty before any.
    region : Locus
        The part of the genome the page has.
    tracks : list of GenomeTrack
        The tracks, in order.
    explorer : SequenceExplorer or None
        The explorer of the last window opened.

    Examples
    --------
    >>> view = dv.widgets.GenomeView(m, "hg38.fa", ["tracks/ig.bw", "hits.bed"],
    ...                              region="chr17:7,660,000-7,700,000")   # doctest: +SKIP
    >>> view.locus = "chr17:7,670,000-7,672,000"                          # doctest: +SKIP
    >>> view.selected_feature = {"chrom": "chr17", "start": 7670500,
    ...                          "end": 7670510}                           # doctest: +SKIP
    >>> view.explorer.sequences                                            # doctest: +SKIP
    """

    locus = traitlets.Unicode().tag(sync=True)
    selected_feature = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        m: DnaModel | None,
        genome: str | Path,
        tracks: Sequence | Mapping = (),
        *,
        region: str | None = None,
        locus: str | None = None,
        width: int | None = 200,
        target: int = 1,
    ):
        self.m, self.genome, self.width, self.target = m, Path(genome), width, target
        if width is not None and width < 1:
            raise ValueError(f"width must be at least 1 or None, not {width}")
        self.fasta = open_genome(genome)
        self.sizes = {name: len(self.fasta[name]) for name in self.fasta.keys()}
        self.region = parse_locus(
            region if region is not None else next(iter(self.sizes)), self.sizes
        )
        if self.region.end - self.region.start > MAX_BASES:
            raise ValueError(
                f"{self.genome}: region {self.region} is {self.region.end - self.region.start:,} "
                f"bases, over the {MAX_BASES:,} a view sends to the page; give a smaller region="
            )
        named = tracks.items() if isinstance(tracks, Mapping) else [(None, t) for t in tracks]
        self.tracks = [load_track(source, name, self.region) for name, source in named]
        self.explorer: SequenceExplorer | None = None
        super().__init__(locus=locus if locus is not None else str(self.region))
        self.panel = IgvPanel(_config=self._config(), locus=self.locus)
        W.link((self, "locus"), (self.panel, "locus"))
        self.panel.on_msg(self._on_click)
        self.status = W.HTML()
        self.explorer_box = W.VBox()
        self.children = [self.panel, self.status, self.explorer_box]
        self.observe(self._open_selected, names="selected_feature")
        self.status.value = "click a feature to open its window"

    # ------------------------------------------------------------------ state
    def _config(self) -> dict:
        """igv.js's browser config: the region as the reference, the tracks."""
        region = self.region
        bases = self.fasta[region.chrom][region.start : region.end]
        header = f">{region.chrom}:{region.start + 1}-{region.end} @len={self.sizes[region.chrom]}"
        reference = {
            "id": self.genome.name,
            "name": self.genome.name,
            "fastaURL": data_uri(f"{header}\n{bases}\n".encode()),
            "indexed": False,
        }
        return {
            "reference": reference,
            "locus": self.locus,
            "tracks": [t.config for t in self.tracks],
            "showSampleNames": False,
            "loadDefaultGenomes": False,  # igv.org's genome list: nothing leaves the machine
        }

    @traitlets.validate("locus")
    def _valid_locus(self, proposal) -> str:
        try:
            loci = [parse_locus(text, self.sizes) for text in proposal["value"].split()]
        except ValueError as err:
            raise traitlets.TraitError(str(err)) from None
        return " ".join(str(locus) for locus in loci)

    @traitlets.validate("selected_feature")
    def _valid_feature(self, proposal) -> dict:
        feature = dict(proposal["value"])
        if not feature:
            return feature
        missing = [k for k in ("chrom", "start", "end") if k not in feature]
        if missing:
            raise traitlets.TraitError(f"selected_feature needs {', '.join(missing)}")
        start, end = int(feature["start"]), int(feature["end"])
        try:
            parse_locus(f"{feature['chrom']}:{start + 1}-{max(end, start + 1)}", self.sizes)
        except ValueError as err:
            raise traitlets.TraitError(f"selected_feature: {err}") from None
        return {"track": "", "name": "", **feature, "start": start, "end": end}

    def window(self, feature: Mapping | None = None) -> Locus:
        """The window a feature (default: ``selected_feature``) opens: ``width`` bases centred on
        it, or the feature itself, slid inside its chromosome."""
        f = self.selected_feature if feature is None else feature
        start, end = int(f["start"]), int(f["end"])
        if self.width is not None:
            start = (start + end) // 2 - self.width // 2
            end = start + self.width
        size = self.sizes[str(f["chrom"])]
        shift = max(0, -start) - max(0, end - size)
        return Locus(str(f["chrom"]), max(0, start + shift), min(size, end + shift))

    def feature_table(self) -> pd.DataFrame:
        """The tracks' BED features on the region: ``track``, ``chrom``, ``start``, ``end``,
        ``name``."""
        rows = []
        for track in self.tracks:
            if track.kind != "bed":
                continue
            for line in track.lines:
                fields = line.split("\t")
                name = fields[3] if len(fields) > 3 else ""
                rows.append((track.name, fields[0], int(fields[1]), int(fields[2]), name))
        return pd.DataFrame(rows, columns=["track", "chrom", "start", "end", "name"])

    # ------------------------------------------------------------------ clicks
    def _on_click(self, _widget, content: dict, _buffers) -> None:
        self.selected_feature = {
            k: content[k] for k in ("track", "chrom", "start", "end", "name") if k in content
        }

    def _open_selected(self, _change=None) -> None:
        if not self.selected_feature:
            return
        if self.m is None:
            self.status.value = f"selected {self._feature_label()} (no model: no explorer)"
            return
        self.open_window(self.window())

    def _feature_label(self) -> str:
        f = self.selected_feature
        where = str(Locus(f["chrom"], f["start"], max(f["end"], f["start"] + 1)))
        return f"{f['name'] or f['track'] or 'feature'} at {where}"

    def open_window(self, window: Locus | str) -> SequenceExplorer:
        """Open ``window`` (a :class:`Locus` or a locus string) in a :class:`SequenceExplorer`
        below igv.js, the BED features on it shaded; returns it."""
        if self.m is None:
            raise ValueError("no model: give GenomeView a model to open windows in an explorer")
        if isinstance(window, str):
            window = parse_locus(window, self.sizes)
        sequence = self.fasta[window.chrom][window.start : window.end]
        features = self.feature_table()
        on = features[
            (features.chrom == window.chrom)
            & (features.start < window.end)
            & (features.end > window.start)
        ].reset_index(drop=True)
        instances = pd.DataFrame(
            {
                "sequence_index": 0,
                "start": (on.start - window.start).clip(lower=0),
                "end": (on.end - window.start).clip(upper=len(sequence)),
                "motif": [n or t for n, t in zip(on.name, on.track)],
            }
        )
        self.explorer = SequenceExplorer(
            self.m, [sequence], instances=instances if len(instances) else None, target=self.target
        )
        self.explorer_window = window
        self.explorer_box.children = [self.explorer]
        self.status.value = f"window {window} ({len(sequence)} nt) in the explorer"
        return self.explorer

    # ------------------------------------------------------------------ output
    def _title(self) -> str:
        return f"dnabert_viz: {self.genome.name} at {self.locus}"

    def _fill(self, page: Page, *, whole: bool) -> None:
        """The region, locus and tracks as a table (igv.js draws only live), and the explorer."""
        page.add(
            element(
                "p",
                f"Genome {self.genome.name}, region {self.region} sent to the page; "
                f"showing {self.locus}.",
            )
        )
        page.add(table(self.track_table()))
        if self.explorer is not None:
            page.add(element("h2", f"{self.explorer_window}: {self.explorer._title()}"))
            self.explorer._fill(page, whole=whole)

    def track_table(self) -> pd.DataFrame:
        """One row per track: ``name``, ``kind``, ``source``, ``records`` (lines on the region;
        a bigWig's chromosomes) and ``bytes`` sent to the page."""
        return pd.DataFrame(
            [(t.name, t.kind, t.source, t.records, len(t.config["url"])) for t in self.tracks],
            columns=["name", "kind", "source", "records", "bytes"],
        )
