"""Shared fixtures: paths, the device every model test runs on, the demo model and data,
chromium."""

import contextlib
import io
import os
from pathlib import Path

import pytest
import torch

import dnabert_viz as dv

FIXTURES = Path(__file__).parent / "fixtures"
# the CUDA runs carry the gpu marker: -m "not gpu" leaves them out on a machine that has CUDA
DEVICES = ["cpu"] + (
    [pytest.param("cuda", marks=pytest.mark.gpu)] if torch.cuda.is_available() else []
)

# one thread per process when pytest-xdist spreads the tests over several (make check, make test):
# two processes of two threads each on two cores would fight for them
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of the demo pipeline share one xdist worker (``--dist loadgroup``), so the
    session's one demo run is not made once per worker."""
    for item in items:
        if "demo_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("demo_run"))


@pytest.fixture(scope="session", params=DEVICES)
def device(request) -> str:
    """Each model test runs on the CPU and, where CUDA is available, again on the GPU."""
    return request.param


@pytest.fixture(scope="session")
def demo_model(device):
    return dv.load_model(device=device)


@pytest.fixture(scope="session")
def demo_data():
    return dv.load_demo()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, str]:
    """The demo pipeline, run once for the session from the command line (5,500 + 5,500
    sequences: [CLS] attention, DNABERT-viz motifs, JASPAR, the report): its output folder and
    what it printed."""
    from dnabert_viz.cli import main

    out = tmp_path_factory.mktemp("demo_run") / "demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--device", "cpu", "--out", str(out)]) == 0
    return out, printed.getvalue()


CHROMIUM = "/usr/bin/chromium"  # Debian's; playwright drives it (never ``playwright install``)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Chromium driven by playwright, for the browser tests of one module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()
