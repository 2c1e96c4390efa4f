"""The command line on demo data: each command's outputs checked by content."""

import dataclasses
import gzip
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main


def write_fasta(path, seqs):
    text = "".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs))
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.slow  # the demo pipeline, 5,500 + 5,500 (run once a session: conftest.demo_run)
def test_demo_runs_the_pipeline_and_writes_the_report(demo_run, demo_model, demo_data):
    out, printed = demo_run
    assert float(printed.split("held-out accuracy: ")[1].split()[0]) >= 0.95
    assert (
        "planted motifs recovered: 3/3 (MA0106.3, MA0108.3, MA0139.2); spurious motifs: 0"
        in printed
    )
    pos = demo_data.sequences(label=1)
    scores = dv.Scores.load(out / "scores.npz")
    assert scores.sequences == pos and scores.kind == "cls_attention"
    assert all(
        np.allclose(scores[i], dv.cls_attention(demo_model, pos[i])[0], atol=1e-6)
        for i in range(3)
    )
    motifs = dv.load_motifs(out / "motifs")
    matches = pd.read_csv(out / "motifs" / "matches.tsv", sep="\t")
    assert {m.name for m in motifs} == set(matches["motif"])
    report = (out / "report.html").read_text()
    for m in motifs:
        assert f">{m.name}</h3>" in report  # each card, headed by its name
    assert report.count("Plotly.newPlot(") == 3 and "Planted motifs recovered" in report
    assert {"CTCF", "TBP", "TP53"} <= {
        n for n in matches["jaspar_name"] if f"JASPAR: {n} (" in report
    }


@pytest.mark.slow  # ISM of two whole sequences, twice
def test_score_reads_fasta_gz_and_dnabert_tsv(tmp_path, demo_model, demo_data):
    seqs = demo_data.sequences("heldout")[:5]
    fasta = write_fasta(tmp_path / "in.fa.gz", seqs)
    assert (
        main(
            ["score", "--input", str(fasta), "--method", "cls", "--out", str(tmp_path / "cls.npz")]
        )
        == 0
    )
    cls = dv.Scores.load(tmp_path / "cls.npz")
    assert cls.sequences == seqs and np.allclose(
        cls.values, dv.cls_attention(demo_model, seqs).values, atol=1e-6, equal_nan=True
    )

    kmers = lambda s: " ".join(s[j : j + 6] for j in range(len(s) - 5))  # noqa: E731
    (tmp_path / "in.tsv").write_text(
        "sequence\tlabel\n" + "".join(f"{kmers(s)}\t1\n" for s in seqs[:2])
    )
    assert (
        main(
            [
                "score",
                "--input",
                str(tmp_path / "in.tsv"),
                "--method",
                "ism",
                "--out",
                str(tmp_path / "ism.npz"),
            ]
        )
        == 0
    )
    ism = dv.Scores.load(tmp_path / "ism.npz")
    effects = dv.ism(demo_model, seqs[:2]).extra["effects"]
    assert ism.sequences == seqs[:2] and ism.kind == "ism"
    assert np.allclose(ism.extra["effects"], effects, atol=1e-6, equal_nan=True)
    assert np.allclose(ism[0], effects[0, : len(seqs[0])].sum(axis=1) / 3, atol=1e-6)


@pytest.mark.slow  # JASPAR matching (memelite's JIT) and a report
def test_motifs_and_report_commands(tmp_path, demo_model, demo_data):
    pos, neg = demo_data.sequences("train", 1)[:1000], demo_data.sequences("train", 0)[:1000]
    write_fasta(tmp_path / "pos.fa", pos)
    write_fasta(tmp_path / "neg.fa", neg)
    scores = dv.cls_attention(demo_model, pos)
    dataclasses.replace(scores, names=[f"s{i}" for i in range(len(pos))]).save(tmp_path / "s.npz")
    assert (
        main(
            [
                "motifs",
                "--pos",
                str(tmp_path / "pos.fa"),
                "--neg",
                str(tmp_path / "neg.fa"),
                "--scores",
                str(tmp_path / "s.npz"),
                "--out",
                str(tmp_path / "motifs"),
            ]
        )
        == 0
    )
    motifs = dv.load_motifs(tmp_path / "motifs")
    expected = dv.find_motifs(pos, neg, dv.Scores.load(tmp_path / "s.npz"))
    assert [m.name for m in motifs] == [m.name for m in expected]
    assert all(np.array_equal(a.counts, b.counts) for a, b in zip(motifs, expected))
    matches = pd.read_csv(tmp_path / "motifs" / "matches.tsv", sep="\t")
    assert demo_data.recovery(matches)["planted"].dropna().nunique() == 3
    tidy = pd.read_csv(
        tmp_path / "motifs" / "motifs.tsv", sep="\t"
    )  # instances name their records
    assert (tidy["sequence_name"] == "s" + tidy["sequence_index"].astype(str)).all() and len(tidy)
    merged_args = ["--scores", str(tmp_path / "s.npz"), "--no-jaspar", "--merge-similar"]
    main(["motifs", "--neg", str(tmp_path / "neg.fa"), *merged_args, "--out", str(tmp_path / "m")])
    merged = dv.load_motifs(tmp_path / "m")
    assert len(merged) == 3 < len(motifs)
    again = dv.merge_similar(expected)
    assert [m.name for m in merged] == [m.name for m in again]
    assert [m.meta["merged"] for m in merged] == [m.meta["merged"] for m in again]

    assert (
        main(
            [
                "report",
                "--motifs",
                str(tmp_path / "motifs"),
                "--scores",
                str(tmp_path / "s.npz"),
                "--examples",
                "2",
                "--out",
                str(tmp_path / "report"),
            ]
        )
        == 0
    )
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("Plotly.newPlot(") == 2 and page.count(
        '<img src="data:image/png;base64,'
    ) == len(motifs)
    assert "<h2>JASPAR matches</h2>" in page and "1000 sequences scored by cls_attention" in page


def test_bad_input_exits_2_and_leaves_no_output(tmp_path, capsys, demo_model, demo_data):
    write_fasta(tmp_path / "bad.fa", ["ACGT", "ACGRT"])
    assert (
        main(["score", "--input", str(tmp_path / "bad.fa"), "--out", str(tmp_path / "x.npz")]) == 2
    )
    assert "bad.fa, record 's1' (line 3) has 'R' at position 3" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()

    pos = demo_data.sequences("train", 1)[:20]
    write_fasta(tmp_path / "pos.fa", pos)
    write_fasta(tmp_path / "neg.fa", demo_data.sequences("train", 0)[:20])
    dv.cls_attention(demo_model, pos[::-1]).save(
        tmp_path / "other.npz"
    )  # scores of the sequences in another order
    assert (
        main(
            [
                "motifs",
                "--pos",
                str(tmp_path / "pos.fa"),
                "--neg",
                str(tmp_path / "neg.fa"),
                "--scores",
                str(tmp_path / "other.npz"),
                "--out",
                str(tmp_path / "motifs"),
            ]
        )
        == 2
    )
    assert "--scores " + str(tmp_path / "other.npz") + ": 20 sequences" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.fa",
        "neg.fa",
        "other.npz",
        "pos.fa",
    ]

    assert (
        main(
            [
                "motifs",
                "--pos",
                str(tmp_path / "pos.fa"),
                "--scores",
                str(tmp_path / "other.npz"),
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 2
    )
    assert "--neg is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--device", "tpu"], "error"),
        (["score", "--input", "missing.fa", "--out", "x.npz"], "missing.fa: no such file"),
    ],
)
@pytest.mark.slow  # a fresh Python per case
def test_console_script_reports_bad_input(tmp_path, argv, message):
    r = subprocess.run(
        [sys.executable, "-m", "dnabert_viz.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and message in r.stderr and list(tmp_path.iterdir()) == []


def test_score_output_option_reaches_one_hot_methods(tmp_path, demo_model):
    seqs = [s[:50] for s in dv.load_demo().sequences("heldout", 1)[:2]]
    out = tmp_path / "h.npz"
    assert (
        main(
            [
                "score",
                "--device",
                str(demo_model.device),
                "--input",
                str(write_fasta(tmp_path / "in.fa", seqs)),
                "--method",
                "onehot_gradients",
                "--output",
                "logit",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    saved = dv.Scores.load(out)
    assert saved.meta["output"] == "logit"
    assert np.allclose(
        saved.extra["hypothetical"],
        dv.onehot_gradients(demo_model, seqs, output="logit").extra["hypothetical"],
        atol=1e-6,
        equal_nan=True,
    )


@pytest.mark.slow  # a fresh Python scores
def test_score_reads_a_process_substitution(tmp_path, demo_model, demo_data):
    """``--input <(zcat seqs.fa.gz)``: a pipe, read like a file (it was 'no such file')."""
    seqs = demo_data.sequences("heldout")[:3]
    write_fasta(tmp_path / "in.fa.gz", seqs)
    command = (
        f"{sys.executable} -m dnabert_viz.cli score --device cpu --input <(gzip -dc in.fa.gz) "
        "--out s.npz"
    )
    r = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    scores = dv.Scores.load(tmp_path / "s.npz")
    assert scores.sequences == seqs and scores.names == ["s0", "s1", "s2"]
    np.testing.assert_allclose(
        scores.values, dv.cls_attention(demo_model, seqs).values, atol=1e-6, equal_nan=True
    )
