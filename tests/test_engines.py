"""Streaming scores into a Zarr store: the local engine, lazy reading, resuming a killed run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.compute import ScoreCache
from dnabert_viz.engines import Local
from dnabert_viz.zarr_store import StoredArray

from .test_intervals import EXAMPLES, genome  # noqa: F401 - the genome fixture

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def positives(demo_data):
    return demo_data.sequences("heldout", 1)


def test_store_holds_what_score_returns_and_reads_lazily(demo_model, positives, tmp_path):
    seqs = positives[:40]
    here = dv.score(demo_model, seqs, "cls_attention")
    stored = dv.score(
        demo_model, seqs, "cls_attention", out=tmp_path / "s.zarr", engine=Local(chunk_rows=32)
    )
    assert type(stored) is dv.Scores and isinstance(stored.values, StoredArray)
    assert (
        stored.values.shape == here.values.shape
        and stored.kind == "cls_attention"
        and stored.meta == here.meta
    )
    assert list(stored.sequences) == seqs and [len(stored[i]) for i in (0, 39)] == [
        len(seqs[0]),
        len(seqs[39]),
    ]
    # chunks of 32 rows are the method's own batches of 32: the very same numbers
    assert np.array_equal(np.asarray(stored.values), here.values, equal_nan=True)
    assert [b.shape[0] for b in stored.blocks()] == [32, 8]
    again = dv.Scores.load(tmp_path / "s.zarr")  # load of a .zarr opens it lazily too
    assert np.array_equal(again[5], here[5])
    run = stored.store.runs[0]
    assert run["engine"] == "local" and run["chunks_written"] == 2


def test_ism_effects_stream_alongside_padded_to_the_longest(demo_model, positives, tmp_path):
    seqs = [positives[0][:30], positives[1][:24], positives[2][:27]]
    here = dv.score(demo_model, seqs, "ism")
    stored = dv.score(demo_model, seqs, "ism", out=tmp_path / "i.zarr", engine=Local(chunk_rows=2))
    effects = stored.extra["effects"]
    assert effects.shape == (3, 30, 4) and np.isnan(effects[1][24:]).all()
    # chunks of 2 are other batches than 3 at once: equal to float32 rounding
    for i, seq in enumerate(seqs):
        assert np.allclose(effects[i][: len(seq)], here.extra["effects"][i, : len(seq)], atol=1e-6)
        assert np.allclose(stored[i], here[i], atol=1e-6)
    cache = ScoreCache(None, seqs, stored)  # the views' compute layer reads one row from the store
    assert np.allclose(cache.effects(2), here.extra["effects"][2, :27], atol=1e-6)


def test_find_motifs_on_a_store_finds_what_it_finds_in_memory(demo_model, demo_data, tmp_path):
    pos, neg = demo_data.sequences("heldout", 1)[:128], demo_data.sequences("heldout", 0)[:128]
    here = dv.score(demo_model, pos, "cls_attention")
    stored = dv.score(
        demo_model, pos, "cls_attention", out=tmp_path / "s.zarr", engine=Local(chunk_rows=64)
    )
    a, b = dv.find_motifs(pos, neg, here), dv.find_motifs(pos, neg, stored)
    assert len(a) > 0 and [m.name for m in a] == [m.name for m in b]
    assert all(x.instances.equals(y.instances) for x, y in zip(a, b))
    assert b.scores is stored


def test_existing_store_needs_resume_and_the_same_input(demo_model, positives, tmp_path):
    out = tmp_path / "s.zarr"
    dv.score(demo_model, positives[:4], out=out, engine=Local(chunk_rows=2))
    with pytest.raises(
        ValueError, match=r"s\.zarr exists: pass resume=True \(--resume\) to continue or reuse it"
    ):
        dv.score(demo_model, positives[:4], out=out)
    again = dv.score(demo_model, positives[:4], out=out, engine=Local(chunk_rows=2), resume=True)
    assert again.store.runs[-1]["chunks_written"] == 0  # nothing recomputed
    with pytest.raises(
        ValueError, match="started for another model, method, options, chunking or other sequences"
    ):
        dv.score(demo_model, positives[1:5], out=out, engine=Local(chunk_rows=2), resume=True)
    with pytest.raises(ValueError, match="streaming writes a Zarr store: out must end with .zarr"):
        dv.score(demo_model, positives[:4], out=tmp_path / "s.npz", engine="ray")


@pytest.mark.slow  # a fresh Python scores, killed, then resumed
def test_killed_run_resumes_to_the_same_result(genome, tmp_path):  # noqa: F811 - the genome fixture
    bed = tmp_path / "peaks.bed"
    bed.write_text("".join(f"chr17\t{1000 + 2000 * i}\t{1200 + 2000 * i}\n" for i in range(12)))
    out = tmp_path / "ism.zarr"
    argv = [
        "score",
        "--device",
        "cpu",
        "--bed",
        str(bed),
        "--genome",
        str(genome),
        "--width",
        "40",
        "--method",
        "ism",
        "--chunk-rows",
        "2",
        "--out",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(
        [sys.executable, "-m", "dnabert_viz.cli", *argv], env=env, stderr=subprocess.DEVNULL
    )
    done = out / "done" / "c"
    deadline = time.time() + 120
    while run.poll() is None and time.time() < deadline and len(list(done.glob("*"))) < 2:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    assert run.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    with pytest.raises(
        ValueError, match=r"unfinished \(\d+ of 6 chunks missing\); finish it with resume=True"
    ):
        dv.Scores.open(out)
    import zarr

    group = zarr.open_group(str(out), mode="r+")
    finished = int(group["done"][:].sum())
    pending = int(np.flatnonzero(group["done"][:] == 0)[0])
    group["values"][2 * pending : 2 * pending + 2] = (
        1e9  # a half-written chunk: rows there, no done flag
    )

    assert main([*argv, "--resume"]) == 0
    resumed = dv.Scores.open(out)
    # the killed run logged nothing
    assert [r["chunks_written"] for r in resumed.store.runs] == [6 - finished]
    m = dv.load_model(None, device="cpu")
    peaks = dv.read_intervals(bed, genome, width=40)
    whole = dv.score(m, peaks, "ism", out=tmp_path / "whole.zarr", engine=Local(chunk_rows=2))
    assert np.array_equal(np.asarray(resumed.values), np.asarray(whole.values))
    assert np.array_equal(np.asarray(resumed.extra["effects"]), np.asarray(whole.extra["effects"]))
    assert resumed.extra["start"].tolist() == peaks["start"].tolist()


def test_cli_motifs_from_a_store_write_instances_on_the_genome(genome, demo_model, tmp_path):  # noqa: F811
    peaks = pd.DataFrame({"chrom": "chr17", "start": np.arange(30) * 1200 + 300})
    peaks["end"] = peaks["start"] + 100
    windows = dv.read_intervals(peaks, genome, width=100)
    dv.score(demo_model, windows, "cls_attention", out=tmp_path / "s.zarr")
    assert (
        main(
            [
                "motifs",
                "--scores",
                str(tmp_path / "s.zarr"),
                "--method",
                "seqlets",
                "--min-n-motif",
                "2",
                "--no-jaspar",
                "--out",
                str(tmp_path / "motifs"),
            ]
        )
        == 0
    )
    bed = pd.read_csv(tmp_path / "motifs" / "instances.bed", sep="\t", header=None)
    chrom17 = "".join((EXAMPLES / "chr17.hg19.part.fa").read_text().split("\n")[1:]).upper()
    assert len(bed) > 0 and set(bed[0]) == {"chr17"}
    motifs = dv.load_motifs(tmp_path / "motifs")
    sites = {m.name: set(m.sequences) for m in motifs}
    for _chrom, start, end, name, _, strand in bed.itertuples(index=False):
        site = chrom17[start:end]
        assert (site if strand == "+" else dv.sequences.reverse_complement(site)) in sites[name]


def test_cli_engine_options_build_the_engine():
    from dnabert_viz.cli import _engine, build_parser
    from dnabert_viz.engines import Ray

    args = build_parser().parse_args(
        [
            "score",
            "--input",
            "x.fa",
            "--out",
            "s.zarr",
            "--engine",
            "ray",
            "--address",
            "auto",
            "--workers",
            "8",
            "--gpus-per-worker",
            "1",
            "--chunk-rows",
            "512",
        ]
    )
    assert _engine(args) == Ray(workers=8, gpus_per_worker=1, address="auto", chunk_rows=512)
    args = build_parser().parse_args(["score", "--input", "x.fa", "--out", "s.zarr"])
    assert _engine(args) == Local(chunk_rows=256)
    with pytest.raises(SystemExit):  # --input and --bed exclude each other
        build_parser().parse_args(
            ["score", "--input", "x.fa", "--bed", "p.bed", "--out", "s.zarr"]
        )
