import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dnabert_viz as dv

from .checkpoints import assert_same_weights


def test_training_is_reproducible_and_learns(demo_data, device):
    seqs, labels = demo_data.sequences("train")[:1000], demo_data.labels("train")[:1000]
    settings = dict(hidden_size=32, num_layers=1, num_heads=2, epochs=3, seed=7, progress=False, device=device)
    a = dv.train_classifier(seqs, labels, **settings)
    b = dv.train_classifier(seqs, labels, **settings)
    assert_same_weights(a, b)
    held, y = demo_data.sequences("heldout")[:300], demo_data.labels("heldout")[:300]
    assert (a.predict(held).argmax(1) == y).mean() > 0.8  # 0.87 measured; chance is 0.5


def test_built_model_has_dnabert_config_keys():
    m = dv.build_classifier(k=4, hidden_size=16, num_layers=1, num_heads=2)
    cfg = m.model.config.to_dict()
    for key in ("attention_probs_dropout_prob", "hidden_act", "hidden_dropout_prob", "hidden_size", "initializer_range",
                "intermediate_size", "max_position_embeddings", "num_attention_heads", "num_hidden_layers",
                "type_vocab_size", "vocab_size"):
        assert key in cfg
    assert cfg["vocab_size"] == 261 and m.k == 4


def test_save_and_reload_gives_the_same_predictions(tmp_path, device):
    m = dv.build_classifier(k=3, hidden_size=16, num_layers=1, num_heads=2, device=device)
    m.save_pretrained(tmp_path / "m")
    again = dv.load_model(tmp_path / "m", device=device)
    seqs = ["ACGTACGGATCCA", "TTTTGGGGCCCAA"]
    np.testing.assert_allclose(m.predict(seqs), again.predict(seqs), rtol=1e-6)


def test_label_errors():
    with pytest.raises(ValueError, match=r"labels has shape \(1,\), expected \(2,\)"):
        dv.train_classifier(["ACGTACGT", "ACGTACGA"], [1], progress=False)
    with pytest.raises(ValueError, match="non-negative integers"):
        dv.train_classifier(["ACGTACGT", "ACGTACGA"], [0.5, 1.0], progress=False)


def test_build_script_reproduces_a_model(tmp_path, device):
    """A short run of scripts/build_demo_model.py (the full run is offline: about 4 minutes)."""
    script = Path(__file__).parents[1] / "scripts" / "build_demo_model.py"
    runs = []
    for name in ("a", "b"):
        r = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / name), "--epochs", "1", "--n-train", "300"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        runs.append(json.loads((tmp_path / name / "training.json").read_text()))
    assert runs[0]["heldout_accuracy"] == runs[1]["heldout_accuracy"] and runs[0]["epochs"] == 1
    a, b = (dv.load_model(tmp_path / n, device=device) for n in "ab")
    assert_same_weights(a, b)
