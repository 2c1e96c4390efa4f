"""The Ray engine on a local two-CPU Ray cluster: the same store as the local engine, and a killed
actor."""

import os
import signal
import threading
import time

import numpy as np
import psutil
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.engines import Local

ray = pytest.importorskip(
    "ray", reason="the ray extra: pip install 'dnabert_viz[ray]' (the test extra has it)"
)


@pytest.fixture(scope="module")
def cluster():
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


def test_cli_ray_store_equals_local_and_survives_a_killed_actor(cluster, demo_data, tmp_path):
    seqs = [s[:32] for s in demo_data.sequences("heldout", 1)[:16]]
    # the workers run on the CPU: the reference too, for the very same numbers
    cpu = dv.load_model(device="cpu")
    local = dv.score(cpu, seqs, "ism", out=tmp_path / "local.zarr", engine=Local(chunk_rows=2))
    out = tmp_path / "ray.zarr"
    killed = {}

    def kill_an_actor_mid_run():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            done = (
                len(list((out / "done" / "c").glob("*"))) if (out / "done" / "c").exists() else 0
            )
            workers = actors()
            if done >= 1 and workers:
                killed.update(pid=workers[0].pid, done_before=done)
                os.kill(workers[0].pid, signal.SIGKILL)
            time.sleep(0.01)

    killer = threading.Thread(target=kill_an_actor_mid_run)
    killer.start()
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
    killer.join()
    stored = dv.Scores.open(out)
    assert killed and killed["done_before"] < 8, "no actor was killed mid-run"
    run = stored.runs[-1]
    assert run["engine"] == "ray" and run["workers"] == 2
    # every row written exactly once
    assert run["chunks_written"] == 8 and run["duplicates_skipped"] == 0
    assert np.array_equal(np.asarray(stored.values), np.asarray(local.values), equal_nan=True)
    assert np.array_equal(
        np.asarray(stored.extra["effects"]), np.asarray(local.extra["effects"]), equal_nan=True
    )
    assert stored.meta == local.meta
