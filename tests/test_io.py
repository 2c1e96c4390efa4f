"""Readers of FASTA and DNABERT tables on real published files."""

import gzip
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz.sequences import kmers_to_sequence

from .conftest import FIXTURES


def test_fasta_plain_and_gzipped(tmp_path):
    text = ">seq1 first one\nACGT\nacgu\n\n>seq2\nNNAC\n"
    (tmp_path / "a.fa").write_text(text)
    with gzip.open(tmp_path / "a.fasta.gz", "wt") as handle:
        handle.write(text)
    for name in ("a.fa", "a.fasta.gz"):
        table = dv.read_sequences(tmp_path / name)
        assert table["name"].tolist() == ["seq1", "seq2"]
        assert table["sequence"].tolist() == ["ACGTACGT", "NNAC"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("ACGT\n>x\nACGT\n", r"bad.fa, line 1: sequence before the first '>' header"),
        (
            ">x\nACGT\n>y\nACRT\n",
            r"bad.fa, record 'y' \(line 3\) has 'R' at position 2: an IUPAC ambiguity code",
        ),
        (">x\nACGT\n>y\n\n", r"bad.fa, record 'y' \(line 3\) is empty"),
        ("", r"bad.fa: no FASTA records"),
    ],
)
def test_fasta_errors_name_file_record_and_line(tmp_path, text, message):
    (tmp_path / "bad.fa").write_text(text)
    with pytest.raises(ValueError, match=message):
        dv.read_sequences(tmp_path / "bad.fa")


def test_dnabert_tables_as_published():
    # prom-core: header separated by spaces, rows by tabs, CRLF line ends, 65 6-mers of 70 nt
    prom = dv.read_sequences(FIXTURES / "prom_core" / "dev_first330.tsv")
    first = (FIXTURES / "prom_core" / "dev_first330.tsv").read_text().splitlines()[1].split("\t")
    assert (
        len(prom) == 330
        and prom["sequence"][0] == kmers_to_sequence(first[0])
        and prom["label"][0] == int(first[1])
    )
    assert {len(s) for s in prom["sequence"]} == {70}
    sample = dv.read_sequences(FIXTURES / "dnabert1_sample" / "dev.tsv")
    assert {len(s) for s in sample["sequence"]} == {101}
    csv = dv.read_sequences(FIXTURES / "dnabert2" / "sample_data" / "dev.csv")
    assert len(csv) == 15 and set(csv["label"]) == {0, 1} and csv["name"][0] == "line2"


def test_table_errors_name_the_line(tmp_path):
    (tmp_path / "t.tsv").write_text(
        "sequence\tlabel\nACGTAC CGTACG GTACGT TACGTA\t1\nACGTAC CGTAAA\t0\n"
    )
    with pytest.raises(
        ValueError, match=r"t.tsv, line 3: k-mers 0 \('ACGTAC'\) and 1 \('CGTAAA'\) do not overlap"
    ):
        dv.read_sequences(tmp_path / "t.tsv")
    (tmp_path / "u.tsv").write_text("seq\tlabel\nACGT\t1\n")
    with pytest.raises(
        ValueError, match="u.tsv, line 1: the header must name a 'sequence' column"
    ):
        dv.read_sequences(tmp_path / "u.tsv")
    (tmp_path / "v.tsv").write_text("sequence\tlabel\nACGT\tyes\n")
    with pytest.raises(ValueError, match="v.tsv, line 2: label is not an integer"):
        dv.read_sequences(tmp_path / "v.tsv")
    with pytest.raises(FileNotFoundError, match="missing.fa: no such file"):
        dv.read_sequences(tmp_path / "missing.fa")


def test_content_decides_fasta_or_table_and_fastq_is_refused(tmp_path):
    (tmp_path / "seqs.txt").write_text(">a\nACGTAC\n>b\nGGCCTA\n")
    table = dv.read_sequences(tmp_path / "seqs.txt")
    assert table["sequence"].tolist() == ["ACGTAC", "GGCCTA"]
    assert table["source"].tolist() == [
        f"{tmp_path / 'seqs.txt'}, record 'a' (line 1)",
        f"{tmp_path / 'seqs.txt'}, record 'b' (line 3)",
    ]
    (tmp_path / "reads.fa").write_text("@r1\nACGT\n+\nIIII\n")  # FASTQ whatever its name
    with pytest.raises(ValueError, match=r"reads.fa: FASTQ \(reads with base qualities\)"):
        dv.read_sequences(tmp_path / "reads.fa")
    (tmp_path / "empty.tsv").write_text("\n\n")
    with pytest.raises(ValueError, match="empty.tsv is empty: expected FASTA"):
        dv.read_sequences(tmp_path / "empty.tsv")


def test_named_pipes_read_like_files(tmp_path):
    """A FIFO (what ``<(zcat x.fa.gz)`` gives) is read once, gzipped or not."""
    text = ">a\nACGTAC\n>b\nGGCCTA\n"
    for name, data in [("plain", text.encode()), ("gzipped", gzip.compress(text.encode()))]:
        fifo = tmp_path / name
        os.mkfifo(fifo)
        writer = threading.Thread(target=fifo.write_bytes, args=(data,))
        writer.start()
        table = dv.read_sequences(fifo)
        writer.join()
        assert table["sequence"].tolist() == ["ACGTAC", "GGCCTA"]
    assert dv.io.check_input_file("/dev/null") == Path("/dev/null")
    scores = dv.Scores(["ACGTAC"], np.arange(6.0)[None], "test")
    scores.save(tmp_path / "s.npz")
    os.mkfifo(tmp_path / "scores_pipe")
    writer = threading.Thread(
        target=(tmp_path / "scores_pipe").write_bytes, args=((tmp_path / "s.npz").read_bytes(),)
    )
    writer.start()
    loaded = dv.Scores.load(tmp_path / "scores_pipe")  # np.load seeks: read into memory first
    writer.join()
    np.testing.assert_array_equal(loaded.values, scores.values)
