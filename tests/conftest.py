"""Shared fixtures: paths, the device every model test runs on, the demo model and data,
chromium."""

from pathlib import Path

import pytest
import torch

import dnabert_viz as dv

FIXTURES = Path(__file__).parent / "fixtures"
# the CUDA runs carry the gpu marker: -m "not gpu" leaves them out on a machine that has CUDA
DEVICES = ["cpu"] + (
    [pytest.param("cuda", marks=pytest.mark.gpu)] if torch.cuda.is_available() else []
)

torch.set_num_threads(2)


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
