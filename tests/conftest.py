"""Shared fixtures: paths, the demo model and data, tiny real checkpoints."""

from pathlib import Path

import pytest
import torch

import dnabert_viz as dv

FIXTURES = Path(__file__).parent / "fixtures"

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def demo_model():
    return dv.load_model(device="cpu")


@pytest.fixture(scope="session")
def demo_data():
    return dv.load_demo()
