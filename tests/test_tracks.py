"""Tracks: Scores with coordinates -> bigWig / bedGraph read back base by base, overlapping
windows merged by the mean (computed here by hand), ``-`` windows mapped back; BED."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.sequences import reverse_complement
from dnabert_viz.tracks import score_tracks, write_bed, write_tracks

from .genome import copy_chr17

CHR_A = "ACGTACGGTCAATTGCCAGTACGATCGATTGCAAGCTTACGGATCCAGTTGACCATGGCA"  # 60 nt
CHR_B = "TTGACGTCAGGCATTACGGATCCGTAGCTA"  # 30 nt


@pytest.fixture
def genome(tmp_path) -> Path:
    path = tmp_path / "genome.fa"
    path.write_text(f">chrA\n{CHR_A[:40]}\n{CHR_A[40:]}\n>chrB\n{CHR_B}\n")
    return path


def windowed(windows: list[tuple[str, int, int, str]], values: list[np.ndarray], **extra):
    """Scores of genome windows (chrom, start, end, strand) with the given per-position
    values."""
    genome = {"chrA": CHR_A, "chrB": CHR_B}
    seqs = [
        reverse_complement(genome[c][s:e]) if t == "-" else genome[c][s:e]
        for c, s, e, t in windows
    ]
    width = max(map(len, seqs))
    padded = np.full((len(seqs), width), np.nan, dtype=np.float32)
    for i, v in enumerate(values):
        padded[i, : len(v)] = v
    coords = {
        "chrom": np.array([w[0] for w in windows]),
        "start": np.array([w[1] for w in windows]),
        "end": np.array([w[2] for w in windows]),
        "strand": np.array([w[3] for w in windows]),
    }
    return dv.Scores(seqs, padded, "demo_kind", extra={**coords, **extra})


def bigwig_values(path: Path, chrom: str, size: int) -> np.ndarray:
    bw = pyBigWig.open(str(path))
    try:
        return np.array(bw.values(chrom, 0, size), dtype=np.float64)
    finally:
        bw.close()


def bedgraph_values(path: Path, sizes: dict[str, int]) -> dict[str, np.ndarray]:
    lines = path.read_text().splitlines()
    assert lines[0].startswith("track type=bedGraph")
    out = {c: np.full(n, np.nan) for c, n in sizes.items()}
    for line in lines[1:]:
        chrom, start, end, value = line.split("\t")
        out[chrom][int(start) : int(end)] = float(value)
    return out


def test_overlapping_and_minus_windows_read_back_as_the_mean_by_hand(genome, tmp_path):
    a = np.arange(1, 11, dtype=np.float32)  # chrA [10, 20), +
    b = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], dtype=np.float32)  # chrA [15, 25), -
    c = np.array([0.5, -1.5, 2.25, 3.0, 4.0], dtype=np.float32)  # chrB [3, 8), +
    scores = windowed(
        [("chrA", 10, 20, "+"), ("chrA", 15, 25, "-"), ("chrB", 3, 8, ".")], [a, b, c]
    )
    files = write_tracks(scores, tmp_path / "out", genome=genome, formats=("bigwig", "bedgraph"))
    assert [f.name for f in files] == ["demo_kind.bw", "demo_kind.bedGraph"]
    # by hand: chrA 10-14 only the + window (1..5); 15-19 both: + gives 6..10, the - window's
    # position j is base 24 - j, so base 15 has j=9 (100) ... base 19 has j=5 (60); 20-24 only -
    expected_a = np.full(60, np.nan)
    expected_a[10:15] = [1, 2, 3, 4, 5]
    expected_a[15:20] = [(6 + 100) / 2, (7 + 90) / 2, (8 + 80) / 2, (9 + 70) / 2, (10 + 60) / 2]
    expected_a[20:25] = [50, 40, 30, 20, 10]
    expected_b = np.full(30, np.nan)
    expected_b[3:8] = c
    for values, chrom, expected in [
        (bigwig_values(files[0], "chrA", 60), "chrA", expected_a),
        (bigwig_values(files[0], "chrB", 30), "chrB", expected_b),
    ]:
        np.testing.assert_array_equal(values, expected.astype(np.float32), err_msg=chrom)
    graph = bedgraph_values(files[1], {"chrA": 60, "chrB": 30})
    np.testing.assert_array_equal(graph["chrA"], expected_a.astype(np.float32))
    np.testing.assert_array_equal(graph["chrB"], expected_b.astype(np.float32))
    bw = pyBigWig.open(str(files[0]))
    assert bw.chroms() == {"chrA": 60, "chrB": 30}  # the .fai's sizes
    bw.close()


def test_hypothetical_contributions_give_four_base_tracks_and_dynseq(genome, tmp_path):
    rng = np.random.default_rng(0)
    windows = [("chrA", 30, 38, "+"), ("chrB", 10, 18, "-")]
    hyp = rng.normal(size=(2, 8, 4)).astype(np.float32)
    scores = windowed(windows, [hyp[0].sum(1), hyp[1].sum(1)], hypothetical=hyp)
    names = [t.name for t in score_tracks(scores, name="ig")]
    assert names == ["ig"] + [f"ig.hypothetical.{b}" for b in "ACGT"] + ["ig.dynseq"]
    files = write_tracks(scores, tmp_path / "t", genome=genome, names=["ig"])
    got = {f.name: f for f in files}
    # + window: base 30 + j, channel b as it is
    for b, base in enumerate("ACGT"):
        a_track = bigwig_values(got[f"ig.hypothetical.{base}.bw"], "chrA", 60)[30:38]
        np.testing.assert_array_equal(a_track, hyp[0, :, b])
        # - window: base 17 - j, channel of the complement (A on the genome is T in the window)
        b_track = bigwig_values(got[f"ig.hypothetical.{base}.bw"], "chrB", 30)[10:18]
        np.testing.assert_array_equal(b_track, hyp[1, ::-1, 3 - b])
    dynseq_a = bigwig_values(got["ig.dynseq.bw"], "chrA", 60)[30:38]
    own = ["ACGT".index(x) for x in CHR_A[30:38]]
    np.testing.assert_array_equal(dynseq_a, hyp[0, np.arange(8), own])
    # on the genome's strand the dynseq value at a base is the per-base track of that base
    dynseq_b = bigwig_values(got["ig.dynseq.bw"], "chrB", 30)[10:18]
    by_base = {x: bigwig_values(got[f"ig.hypothetical.{x}.bw"], "chrB", 30)[10:18] for x in "ACGT"}
    np.testing.assert_array_equal(dynseq_b, [by_base[x][j] for j, x in enumerate(CHR_B[10:18])])


def test_bad_windows_are_refused_naming_the_window_and_nothing_is_written(genome, tmp_path):
    out = tmp_path / "out"
    unknown = windowed([("chrA", 0, 5, "+")], [np.ones(5)])
    unknown.extra["chrom"] = np.array(["chrZ"])
    with pytest.raises(ValueError, match=r"window 0 \(chrZ:0-5 \+\): chromosome 'chrZ' is not"):
        write_tracks(unknown, out, genome=genome)
    past = windowed([("chrB", 20, 30, "+")], [np.ones(10)])
    past.extra["start"], past.extra["end"] = np.array([25]), np.array([35])
    with pytest.raises(ValueError, match=r"window 0 \(chrB:25-35 \+\) runs past the end of chrB"):
        write_tracks(past, out, genome=genome)
    bare = dv.Scores(["ACGT"], np.ones((1, 4)), "cls_attention", source="pos.fa")
    with pytest.raises(ValueError, match="scores of pos.fa .cls_attention. carry no genome coord"):
        write_tracks(bare, out, genome=genome)
    assert not out.exists()


def test_write_bed_writes_bed6_sorted_with_names_and_scores(tmp_path):
    hits = pd.DataFrame(
        {
            "chrom": ["chr2", "chr1", "chr1"],
            "start": [5, 30, 10],
            "end": [12, 38, 18],
            "motif": ["CTCF", "TBP", "CTCF"],
            "p": [1e-5, 0.002, 3.5e-7],
            "strand": ["+", "-", "+"],
        }
    )
    path = write_bed(hits, tmp_path / "hits.bed", name="motif", score="p")
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert rows == [
        ["chr1", "10", "18", "CTCF", "3.5e-07", "+"],
        ["chr1", "30", "38", "TBP", "0.002", "-"],
        ["chr2", "5", "12", "CTCF", "1e-05", "+"],
    ]
    with pytest.raises(ValueError, match=r"row 0 \(chr1:9-3\) needs 0 <= start <= end"):
        write_bed(pd.DataFrame({"chrom": ["chr1"], "start": [9], "end": [3]}), tmp_path / "x.bed")


@pytest.mark.slow
def test_real_genome_scored_windows_export_from_the_command_line(tmp_path, capsys):
    """chr17 windows (one on -) scored by the demo model, through a Scores file and the CLI."""
    genome = copy_chr17(tmp_path)
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr17\t1000\t1100\tp1\t0\t+\nchr17\t1050\t1150\tp2\t0\t-\n")
    peaks = dv.read_intervals(bed, genome, width=None)
    scores = dv.score(dv.load_model(), peaks, "cls_attention")
    scores.save(tmp_path / "s.npz")
    assert (
        main(
            [
                "export-tracks",
                "--scores",
                str(tmp_path / "s.npz"),
                "--genome",
                str(genome),
                "--format",
                "bigwig",
                "bedgraph",
                "--out",
                str(tmp_path / "tracks"),
            ]
        )
        == 0
    )
    size = dv.chrom_sizes(genome)["chr17"]
    got = bigwig_values(tmp_path / "tracks" / "s.bw", "chr17", size)[1000:1150]
    expected = np.full(150, np.nan)
    expected[:50] = scores[0][:50]
    expected[50:100] = (scores[0][50:] + scores[1][::-1][:50]) / 2
    expected[100:] = scores[1][::-1][50:]
    np.testing.assert_allclose(got, expected.astype(np.float32), rtol=1e-6)
    assert "2 files (bigwig, bedgraph) of 1 Scores" in capsys.readouterr().out
    # the same scores streamed into a Zarr store give the same track, read a chunk at a time
    stored = dv.score(dv.load_model(), peaks, "cls_attention", out=tmp_path / "s.zarr")
    (from_store,) = write_tracks(
        dv.Scores.open(tmp_path / "s.zarr"), tmp_path / "z", genome=genome
    )
    assert stored.store is not None
    np.testing.assert_array_equal(bigwig_values(from_store, "chr17", size)[1000:1150], got)


def test_the_command_line_refuses_scores_without_coordinates_naming_the_file(
    genome, tmp_path, capsys
):
    dv.Scores(["ACGT"], np.ones((1, 4)), "x").save(tmp_path / "bare.npz")
    windowed([("chrA", 0, 4, "+")], [np.ones(4)]).save(tmp_path / "ok.npz")
    out = tmp_path / "t"
    args = ["export-tracks", "--genome", str(genome), "--out", str(out), "--scores"]
    assert main([*args, str(tmp_path / "ok.npz"), str(tmp_path / "bare.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"--scores {tmp_path / 'bare.npz'} (x) carry no genome" in err
    assert not out.exists()
    assert main([*args, str(tmp_path / "ok.npz")]) == 0
    np.testing.assert_array_equal(
        bigwig_values(out / "ok.bw", "chrA", 60)[:5], [1, 1, 1, 1, np.nan]
    )
