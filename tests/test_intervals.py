"""read_intervals on a real genome: 40 kb of human chr17 (hg19) and 20 human mRNAs, as Debian's
python-pyfaidx-examples ships them (pyfaidx's own test data; ``make test`` installs the
package)."""

import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.intervals import genome_instances, read_intervals
from dnabert_viz.motifs import Motif, MotifSet
from dnabert_viz.sequences import reverse_complement
from dnabert_viz.tracks import write_bed

from .genome import EXAMPLES, chr17, copy_chr17, write


@pytest.fixture(scope="module")
def genome(tmp_path_factory) -> Path:
    return copy_chr17(tmp_path_factory.mktemp("genome"))


def test_bed_windows_centred_on_the_middle_match_the_genome(genome, tmp_path):
    bed = write(
        tmp_path / "peaks.bed",
        ["track name=peaks", "# comment", "chr17\t1000\t1300", "chr17\t5000\t5101"],
    )
    table = read_intervals(bed, genome, width=200)
    assert table[["start", "end"]].values.tolist() == [[1050, 1250], [4950, 5150]]
    assert table["sequence"].tolist() == [chr17(genome)[1050:1250], chr17(genome)[4950:5150]]
    assert table["source"].tolist() == [f"{bed}, line 3", f"{bed}, line 4"]
    assert len(table.attrs["skipped"]) == 0


def test_narrowpeak_summit_centres_and_minus_strand_is_reverse_complemented(genome, tmp_path):
    # MACS2's narrowPeak: 10 columns, the summit (column 10) is an offset from the start; -1 means
    # none
    peaks = write(
        tmp_path / "x.narrowPeak",
        [
            "chr17\t2000\t2600\tp1\t50\t.\t8.1\t12.0\t10.2\t100",
            "chr17\t3000\t3400\tp2\t50\t-\t8.1\t12.0\t10.2\t-1",
        ],
    )
    table = read_intervals(peaks, genome, width=50)
    assert table[["start", "end"]].values.tolist() == [[2075, 2125], [3175, 3225]]
    assert table["sequence"][1] == reverse_complement(chr17(genome)[3175:3225])
    middle = read_intervals(peaks, genome, width=50, center="middle")
    assert middle["start"].tolist() == [2275, 3175]
    kept = read_intervals(peaks, genome, width=None)
    assert [len(s) for s in kept["sequence"]] == [600, 400]


def test_the_bed12_gene_model_shipped_with_the_genome_reads(genome):
    # gene.bed12: uc010vpx.1 on chr17, minus strand, 12 columns (blocks ignored: the window is the
    # interval)
    table = read_intervals(EXAMPLES / "gene.bed12", genome, width=100)
    assert table[["chrom", "name", "strand"]].values.tolist() == [["chr17", "uc010vpx.1", "-"]]
    mid = (6010 + 31420) // 2
    assert table["sequence"][0] == reverse_complement(chr17(genome)[mid - 50 : mid + 50])


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            ["chrom\tstart\tend", "chr17\t10\t20"],
            "line 1: start 'start' is not an integer (a column-name header?",
        ),
        (
            ["chr17\t10\t20\tp\t0\t+\tx\ty\tz\tq\tr\ts\textra"],
            "line 1: 13 tab-separated fields; BED has 3 to 12",
        ),
        (
            ["chr17\t10\t20", "chr17\t30\t40\tname"],
            "line 2: 4 fields where the lines above have 3",
        ),
        (["chr17\t10"], "line 1: 2 tab-separated fields"),
        (["chr17\t30\t20"], "line 1: start 30 and end 20"),
        (["chr17\t10\t20\tp\t0\t*"], "line 1: strand '*' (column 6) must be +, - or ."),
    ],
)
def test_malformed_bed_lines_are_named(genome, tmp_path, lines, message):
    with pytest.raises(ValueError, match=re.escape(f"peaks.bed, {message}")):
        read_intervals(write(tmp_path / "peaks.bed", lines), genome, width=20)


def test_gzipped_narrowpeak_as_encode_ships_it(genome, tmp_path):
    line = "chr17\t2000\t2600\tp1\t50\t.\t8.1\t12.0\t10.2\t100\n"
    (tmp_path / "x.narrowPeak.gz").write_bytes(gzip.compress(line.encode()))
    assert read_intervals(tmp_path / "x.narrowPeak.gz", genome, width=50)["start"].tolist() == [
        2075
    ]


def test_narrowpeak_needs_ten_columns(genome, tmp_path):
    with pytest.raises(ValueError, match=r"line 1: 6 tab-separated fields; narrowPeak has 10"):
        read_intervals(write(tmp_path / "a.narrowPeak", ["chr17\t10\t20\tp\t0\t+"]), genome)


def test_bad_intervals_raise_naming_the_line_or_are_skipped_and_counted(genome, tmp_path):
    lines = [
        "chr17\t1000\t1100",
        "chr17\t39950\t39990",
        "chrUn_gl000220\t10\t50",
        "chr17\t20\t40",
        "chr17\t8000\t8100",
    ]
    bed = write(tmp_path / "peaks.bed", lines)
    with pytest.raises(
        ValueError,
        match=r"line 2: the window chr17:39870-40070 runs past the end of chr17 "
        r"\(40000 nt\)",
    ):
        read_intervals(bed, genome, width=200)
    with pytest.warns(
        UserWarning,
        match=r"skipped 3 of 5 intervals \(2 off the chromosome end, "
        r"1 on unknown chromosomes\); first: .*line 2",
    ):
        table = read_intervals(bed, genome, width=200, errors="skip")
    assert table["start"].tolist() == [950, 7950]
    skipped = table.attrs["skipped"]
    assert (
        skipped["source"].str.endswith(("line 2", "line 3", "line 4")).all() and len(skipped) == 3
    )
    off, unknown = "off the chromosome end", "on unknown chromosomes"
    assert skipped["kind"].tolist() == [off, unknown, off]
    assert "unknown chromosome 'chrUn_gl000220': " in skipped["reason"][1]
    assert "starts before the start of chr17" in skipped["reason"][2]


def test_n_rich_windows(genome, tmp_path):
    # an assembly gap as hg19 writes them: 500 N inside the real sequence
    seq = chr17(genome)
    gapped = write(tmp_path / "gapped.fa", [">chr17", seq[:10000] + "N" * 500 + seq[10500:]])
    # windows with 100%, 40% and 10% N (10% is the most allowed by default), and none
    bed = write(
        tmp_path / "peaks.bed",
        [
            "chr17\t10100\t10300",
            "chr17\t10420\t10620",
            "chr17\t10480\t10680",
            "chr17\t20000\t20200",
        ],
    )
    with pytest.raises(
        ValueError, match=r"line 1: 100% of the window chr17:10100-10300 is N \(max_n=0.1\)"
    ):
        read_intervals(bed, gapped, width=200)
    with pytest.warns(UserWarning, match=r"skipped 2 of 4 intervals \(2 N-rich\)"):
        table = read_intervals(bed, gapped, width=200, errors="skip")
    assert table["start"].tolist() == [10480, 20000]
    assert table["sequence"][0].count("N") == 20
    assert len(read_intervals(bed, gapped, width=200, max_n=1.0)) == 4


def test_bgzip_genome_reads_and_plain_gzip_is_refused(tmp_path):
    shutil.copy(EXAMPLES / "genes.fasta.gz", tmp_path)  # bgzip-compressed by the package
    name = "gi|563317589|dbj|AB821309.1|"
    plain = [line for line in (EXAMPLES / "genes.fasta").read_text().split(">")[1].split("\n")[1:]]
    table = read_intervals(
        pd.DataFrame({"chrom": [name], "start": [100], "end": [160]}),
        tmp_path / "genes.fasta.gz",
        width=None,
    )
    assert table["sequence"][0] == "".join(plain)[100:160]
    (tmp_path / "plain.fa.gz").write_bytes(gzip.compress((EXAMPLES / "genes.fasta").read_bytes()))
    with pytest.raises(ValueError, match=r"plain\.fa\.gz: compressed with gzip, not bgzip"):
        read_intervals(
            pd.DataFrame({"chrom": [name], "start": [0], "end": [10]}), tmp_path / "plain.fa.gz"
        )


def test_truncated_genome_with_a_stale_index_is_an_error(genome, tmp_path):
    shutil.copy(genome, tmp_path / "g.fa")
    shutil.copy(str(genome) + ".fai", tmp_path / "g.fa.fai")
    data = (tmp_path / "g.fa").read_bytes()
    (tmp_path / "g.fa").write_bytes(data[:20000])  # cut short after it was indexed
    fai = tmp_path / "g.fa.fai"
    fai.touch()  # the index looks newer than the file, so pyfaidx trusts it
    bed = write(tmp_path / "p.bed", ["chr17\t19600\t19800", "chr17\t30000\t30200"])
    with pytest.raises(
        ValueError,
        match=r"p\.bed, line 2: the genome gave 0 nt for chr17:30000-30200, its index "
        r"promises 200: .*g\.fa is truncated or its \.fai is stale",
    ):
        read_intervals(bed, tmp_path / "g.fa", width=200)
    with pytest.raises(FileNotFoundError, match="no such genome file"):
        read_intervals(bed, tmp_path / "absent.fa")


def test_dataframe_input_and_its_errors(genome):
    frame = pd.DataFrame(
        {"chrom": ["chr17", "chr17"], "start": [100, 500], "end": [200, 700], "summit": [10, -1]}
    )
    table = read_intervals(frame, genome, width=20)
    assert table["start"].tolist() == [100, 590]
    with pytest.raises(ValueError, match=r"row 1: start 500, end 400"):
        read_intervals(frame.assign(end=[200, 400]), genome)
    with pytest.raises(ValueError, match="no end column"):
        read_intervals(frame.drop(columns="end"), genome)


def test_coordinates_travel_into_scores_and_motif_instances_onto_the_genome(
    genome, tmp_path, demo_model
):
    frame = pd.DataFrame(
        {"chrom": "chr17", "start": [1000, 4000], "end": [1100, 4100], "strand": ["+", "-"]}
    )
    peaks = read_intervals(frame, genome, width=None)
    scores = dv.score(demo_model, peaks, "cls_attention")
    assert scores.extra["chrom"].tolist() == ["chr17", "chr17"] and scores.extra[
        "start"
    ].tolist() == [
        1000,
        4000,
    ]
    loaded_path = tmp_path / "s.npz"
    scores.save(loaded_path)
    assert dv.Scores.load(loaded_path).extra["strand"].tolist() == ["+", "-"]
    seqs = peaks["sequence"].tolist()
    # one motif with an instance on each window: [10, 16) on +, and [5, 11) reverse-complemented
    inst = pd.DataFrame(
        {
            "sequence_index": [0, 1],
            "start": [10, 5],
            "end": [16, 11],
            "strand": ["+", "-"],
            "sequence": [seqs[0][10:16], reverse_complement(seqs[1][5:11])],
        }
    )
    motifs = MotifSet([Motif.from_sites("m1", inst)], seqs, scores)
    bed = genome_instances(motifs)
    genome_seq = chr17(genome)
    assert bed[["start", "end", "strand"]].values.tolist() == [
        [1010, 1016, "+"],
        [4089, 4095, "+"],
    ]
    # each instance, read off the genome on its strand, is the motif site
    for row in bed.itertuples():
        site = genome_seq[row.start : row.end]
        assert (site if row.strand == "+" else reverse_complement(site)) == row.sequence
    out = write_bed(bed, tmp_path / "instances.bed")
    assert out.read_text().splitlines()[0] == "chr17\t1010\t1016\tm1\t0\t+"
    with pytest.raises(ValueError, match="carry no genome coordinates"):
        genome_instances(MotifSet([], seqs, dv.Scores(seqs, scores.values, "x")))


def test_cli_names_the_bad_line_or_counts_the_skip(genome, tmp_path, capsys):
    from dnabert_viz.cli import main

    bed = write(tmp_path / "peaks.bed", ["chr17\t1000\t1100", "chr17\t39980\t39999"])
    argv = [
        "score",
        "--device",
        "cpu",
        "--bed",
        str(bed),
        "--genome",
        str(genome),
        "--width",
        "60",
    ]
    assert main([*argv, "--out", str(tmp_path / "a.npz")]) == 2
    err = capsys.readouterr().err
    assert (
        "peaks.bed, line 2: the window chr17:39959-40019 runs past the end of chr17 (40000 nt)"
        in err
    )
    assert "--skip-bad" in err
    assert main([*argv, "--skip-bad", "--out", str(tmp_path / "a.npz")]) == 0
    assert (
        "skipped 1 of 2 intervals (1 off the chromosome end); first: " in capsys.readouterr().err
    )
    scores = dv.Scores.load(tmp_path / "a.npz")
    assert scores.extra["start"].tolist() == [1020] and scores.source == "peaks.bed"


@pytest.mark.slow  # a fresh Python scores
def test_a_genome_in_a_read_only_folder_is_indexed_elsewhere(genome, tmp_path):
    """No .fai beside the genome and no right to write one: the index is built in a temporary
    folder (removed after), with a one-line warning; the genome's folder is left as it was. Root
    writes anywhere, so the command runs without that right (setpriv)."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    shutil.copy(genome, folder / "g.fa")
    bed = write(tmp_path / "p.bed", ["chr17\t1000\t1300"])
    folder.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root writes in any folder and setpriv (util-linux) is missing")
        prefix = ["setpriv", "--bounding-set", "-dac_override"]
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    before = sorted(p.name for p in folder.iterdir())
    command = [sys.executable, "-m", "dnabert_viz.cli", "score", "--device", "cpu"]
    r = subprocess.run(
        [*prefix, *command, "--bed", str(bed), "--genome", str(folder / "g.fa"), "--out", "s.npz"],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(temporary)},
        capture_output=True,
        text=True,
    )
    folder.chmod(0o755)
    assert r.returncode == 0, r.stderr
    assert r.stderr == (
        f"dnabert-viz score: {folder / 'g.fa'}: its folder is not writable, so its index is built "
        "in a temporary folder, again on every run; copy the genome to a folder you can write to "
        "index it once\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == before == ["g.fa"]
    assert not list(temporary.glob("dnabert_viz_index.*"))
    scores = dv.Scores.load(tmp_path / "s.npz")
    assert scores.sequences == [chr17(genome)[1050:1250]]
