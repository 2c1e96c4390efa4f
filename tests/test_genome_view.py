"""GenomeView's kernel side: the reference and tracks the page gets (read back from the data URIs
igv.js reads), loci, the window a clicked feature opens, bad input in one line. igv.js itself runs
in tests/test_lab.py (live JupyterLab, network blocked)."""

import base64
import gzip
import json
from pathlib import Path

import pandas as pd
import pyBigWig
import pytest
import traitlets

import dnabert_viz as dv
from dnabert_viz.widgets import GenomeView, genome_view
from dnabert_viz.widgets.genome_view import Locus, igv_code, parse_locus

from .genome import chr17, copy_chr17, write

HITS = pd.DataFrame(
    {
        "chrom": ["chr17", "chr17", "chr17"],
        "start": [1060, 30000, 500],
        "end": [1070, 30012, 520],
        "name": ["site", "far", "early"],
        "score": [2.5, 1.0, 0.5],
        "strand": ["+", "-", "+"],
    }
)


@pytest.fixture
def genome(tmp_path) -> Path:
    return copy_chr17(tmp_path)


@pytest.fixture
def bigwig(tmp_path) -> Path:
    path = tmp_path / "signal.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr17", 40000)])
    bw.addEntries("chr17", [1000, 1001, 1002], values=[0.5, 1.5, -2.0], span=1)
    bw.close()
    return path


def decoded(uri: str) -> bytes:
    """The bytes of a ``data:`` URI as igv.js reads them (gunzipped where it says gzip)."""
    head, body = uri.split(",", 1)
    raw = base64.b64decode(body)
    return gzip.decompress(raw) if "gzip" in head else raw


def test_tracks_are_listed_and_the_page_gets_their_lines_on_the_region(genome, bigwig, tmp_path):
    bedgraph = write(
        tmp_path / "s.bedGraph",
        ["track type=bedGraph name=s", "chr17\t10\t20\t0.25", "chr17\t39990\t40000\t1"],
    )
    bed = write(
        tmp_path / "peaks.bed", ["chr17\t100\t200\tp1\t0\t+", "chr17\t5000\t5100\tp2\t0\t-"]
    )
    view = GenomeView(
        None,
        genome,
        {"signal": bigwig, "s": bedgraph, "peaks": bed, "hits": HITS},
        region="chr17:1-20,000",
    )
    table = view.track_table()
    assert list(table.name) == ["signal", "s", "peaks", "hits"]
    assert list(table.kind) == ["bigwig", "bedgraph", "bed", "bed"]
    assert list(table.records) == [1, 1, 2, 2]  # bigWig: its chromosomes; the others on the region
    configs = {t.name: t.config for t in view.tracks}
    assert decoded(configs["signal"]["url"]) == bigwig.read_bytes()
    assert decoded(configs["s"]["url"]).decode() == "chr17\t10\t20\t0.25\n"
    assert [
        line.split("\t")[3] for line in decoded(configs["hits"]["url"]).decode().split("\n")[:-1]
    ] == [
        "early",
        "site",
    ]
    assert configs["peaks"]["type"] == "annotation" and configs["s"]["format"] == "bedgraph"
    # the reference: the region's bases, placed by igv-reports' header form
    header, bases = decoded(view.panel._config["reference"]["fastaURL"]).decode().split("\n")[:2]
    assert header == ">chr17:1-20000 @len=40000"
    assert bases == chr17(genome)[:20000]
    # dv.scan's hits: their genome coordinates, not their place in the window
    scanned = pd.DataFrame(
        {"motif": ["CTCF core"], "start": [3], "end": [9], "p_value": [1e-5], "chrom": ["chr17"]}
        | {"genome_start": [1203], "genome_end": [1209], "genome_strand": ["-"]}
    )
    (track,) = GenomeView(None, genome, {"scan": scanned}).tracks
    assert track.lines == ["chr17\t1203\t1209\tCTCF_core\t50\t-"]
    # track names without a mapping: the file's stem
    assert [t.name for t in GenomeView(None, genome, [bigwig, bed]).tracks] == ["signal", "peaks"]


def test_loci_parse_and_go_back_in_igvs_form(genome):
    sizes = {"chr17": 40000, "chrM": 16569}
    assert parse_locus("chr17:1,001-2,000", sizes) == Locus("chr17", 1000, 2000)
    assert parse_locus("chr17", sizes) == Locus("chr17", 0, 40000)
    assert parse_locus(" chrM:5 ", sizes) == Locus("chrM", 4, 5)
    assert str(Locus("chr17", 1000, 2000)) == "chr17:1,001-2,000"
    view = GenomeView(None, genome, locus="chr17:901-1300")
    assert view.locus == "chr17:901-1,300" and view.panel.locus == view.locus
    view.locus = "chr17:1001-1200"
    assert view.panel.locus == "chr17:1,001-1,200"  # linked: the page follows


@pytest.mark.parametrize(
    "locus, message",
    [
        ("chrX:1-10", "locus 'chrX:1-10': chrX is not in the genome (chr17)"),
        ("chr17:0-5", "locus 'chr17:0-5': needs 1 <= start <= end"),
        ("chr17:50-10", "locus 'chr17:50-10': needs 1 <= start <= end"),
        ("chr17:1-40001", "locus 'chr17:1-40001': past the end of chr17 (40,000 bases)"),
        ("chr17:a-b", "locus 'chr17:a-b': not chrom, chrom:pos or chrom:start-end"),
    ],
)
def test_bad_loci_are_one_line(genome, locus, message):
    view = GenomeView(None, genome)
    with pytest.raises(traitlets.TraitError) as err:
        view.locus = locus
    assert str(err.value) == message


def test_bad_input_is_one_line_naming_it(genome, tmp_path, monkeypatch):
    missing = tmp_path / "nope.bw"
    with pytest.raises(FileNotFoundError, match=rf"^{missing}: no such track file$"):
        GenomeView(None, genome, [missing])
    with pytest.raises(ValueError, match=r"x\.txt: not a track file \(\.bw, "):
        GenomeView(None, genome, [write(tmp_path / "x.txt", ["a"])])
    fake = write(tmp_path / "fake.bw", ["not a bigwig"])
    with pytest.raises(ValueError, match=rf"^{fake}: not a bigWig file$"):
        GenomeView(None, genome, [fake])
    with pytest.raises(ValueError, match=r"^locus 'chr1': chr1 is not in the genome"):
        GenomeView(None, genome, region="chr1")
    with pytest.raises(ValueError, match=r"^track table: the table has no end column"):
        GenomeView(None, genome, {"hits": HITS.drop(columns="end")})
    view = GenomeView(None, genome, region="chr17:1-1000")
    with pytest.raises(
        traitlets.TraitError, match=r"^selected_feature: locus 'chrX:6-10': chrX is"
    ):
        view.selected_feature = {"chrom": "chrX", "start": 5, "end": 10}
    with pytest.raises(ValueError, match=r"no model: give GenomeView a model"):
        view.open_window("chr17:1-100")
    monkeypatch.setattr(genome_view, "MAX_BASES", 1000)
    with pytest.raises(ValueError, match=r"region chr17:1-40,000 is 40,000 bases, over the 1,000"):
        GenomeView(None, genome)
    monkeypatch.setattr(genome_view, "MAX_TRACK_BYTES", 30)
    with pytest.raises(
        ValueError, match=r"^table of 3 rows: \d+ bytes to send, over the 30 a view takes"
    ):
        GenomeView(None, genome, {"hits": HITS}, region="chr17:1-1000")


@pytest.mark.slow  # an explorer scoring with the demo model
def test_a_clicked_feature_opens_its_window_in_the_explorer(genome, demo_model):
    view = GenomeView(demo_model, genome, {"hits": HITS}, locus="chr17:901-1,300", width=200)
    # what the page sends on a click (a message), as the widget gets it
    view._on_click(
        view.panel,
        {"track": "hits", "chrom": "chr17", "start": 1060, "end": 1070, "name": "site"},
        [],
    )
    assert view.selected_feature == {
        "track": "hits",
        "chrom": "chr17",
        "start": 1060,
        "end": 1070,
        "name": "site",
    }
    assert view.explorer_window == Locus("chr17", 965, 1165)
    assert view.explorer.sequences == [chr17(genome)[965:1165]]
    shaded = view.explorer.instances
    assert list(shaded.motif) == ["site"] and (shaded.start[0], shaded.end[0]) == (95, 105)
    assert view.explorer_box.children == (view.explorer,)
    assert "chr17:966-1,165 (200 nt)" in view.status.value
    # near the genome's start and end the window slides inside; width=None: the feature itself
    assert view.window({"chrom": "chr17", "start": 10, "end": 20}) == Locus("chr17", 0, 200)
    assert view.window({"chrom": "chr17", "start": 39990, "end": 40000}) == Locus(
        "chr17", 39800, 40000
    )
    view.width = None
    assert view.window({"chrom": "chr17", "start": 30000, "end": 30012}) == Locus(
        "chr17", 30000, 30012
    )
    # the snapshot: the tracks as a table and the explorer's page, never igv.js
    snapshot = view.snapshot()
    assert "hits" in snapshot and "chr17:966-1,165" in snapshot
    assert "createBrowser" not in snapshot


def test_igvs_code_goes_to_the_page_once_per_kernel(genome):
    views = [GenomeView(None, genome) for _ in range(3)]
    holder = igv_code()
    assert all(v.panel._igv_code is holder for v in views)
    assert len(holder.code) > 1_000_000 and "createBrowser" in holder.code
    state = views[0].panel.get_state()
    assert state["_igv_code"] == f"IPY_MODEL_{holder.model_id}"
    assert len(json.dumps(state)) < 100_000  # the panel's own state: the shim, reference, tracks
    # the bundled licence sits beside the code
    licence = Path(dv.__file__).parent / "data" / "igv" / "LICENSE"
    assert licence.read_text().startswith("The MIT License")
