"""The Ray engine on a local two-CPU Ray cluster: the same store as the local engine, and a killed
actor."""

import os
import signal

import numpy as np
import psutil
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.engines import Local
from dnabert_viz.zarr_store import ScoreStore

ray = pytest.importorskip(
    "ray", reason="the ray extra: pip install 'dnabert_viz[ray]' (the test extra has it)"
)
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster():
    # On a busy machine Ray's agents can take over 30 s to start and the raylet then aborts
    # ("Timed out waiting for file .../metrics_agent_port...": 3 starts in a row at load 6-7 on 2
    # cores); the raylet started here waits up to 10 minutes for them (2 of 2 at load 7-8 passed)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_agent_register_timeout_ms", str(10 * 60_000))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def actors() -> list[psutil.Process]:
    """This test's Ray Data actors: processes under this one titled ray::MapWorker(...)."""
    found = []
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "MapWorker" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            pass
    return found


def test_cli_ray_store_equals_local_and_survives_a_killed_actor(
    cluster, demo_data, tmp_path, monkeypatch
):
    seqs = [s[:32] for s in demo_data.sequences("heldout", 1)[:16]]
    # the workers run on the CPU: the reference too, for the very same numbers
    cpu = dv.load_model(device="cpu")
    local = dv.score(cpu, seqs, "ism", out=tmp_path / "local.zarr", engine=Local(chunk_rows=2))
    out = tmp_path / "ray.zarr"
    killed = {}
    write_chunk = ScoreStore.write_chunk

    def write_then_kill_an_actor(store, chunk, *args, **kwargs):
        """The first chunk written kills an actor, from the writer itself (this process): the run
        is then mid-way, 7 of its 8 chunks still to write, however slow or busy the machine (a
        watcher thread with a deadline missed it when the machine was busy)."""
        written = write_chunk(store, chunk, *args, **kwargs)
        if not killed:
            workers = actors()
            assert workers, "a chunk was written but no Ray Data actor runs"
            killed.update(pid=workers[0].pid, done_before=int(store.group["done"][:].sum()))
            os.kill(workers[0].pid, signal.SIGKILL)
        return written

    monkeypatch.setattr(ScoreStore, "write_chunk", write_then_kill_an_actor)
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    assert (
        main(
            [
                "score",
                "--device",
                "cpu",
                "--input",
                str(fasta),
                "--method",
                "ism",
                "--out",
                str(out),
                "--engine",
                "ray",
                "--workers",
                "2",
                "--chunk-rows",
                "2",
            ]
        )
        == 0
    )
    stored = dv.Scores.open(out)
    assert killed.get("done_before") == 1, "no actor was killed after the first chunk"
    run = stored.store.runs[-1]
    assert run["engine"] == "ray" and run["workers"] == 2
    # every row written exactly once
    assert run["chunks_written"] == 8 and run["duplicates_skipped"] == 0
    assert np.array_equal(np.asarray(stored.values), np.asarray(local.values), equal_nan=True)
    assert np.array_equal(
        np.asarray(stored.extra["effects"]), np.asarray(local.extra["effects"]), equal_nan=True
    )
    assert stored.meta == local.meta
