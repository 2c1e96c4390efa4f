"""The embedded demo model: exact DNABERT ids, recorded accuracy, bad input."""

import json
import time
from html.parser import HTMLParser

import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz.model import DEMO_MODEL

from . import checkpoints
from .conftest import FIXTURES

RECORDED_ACCURACY = json.loads((DEMO_MODEL / "training.json").read_text())["heldout_accuracy"]


def test_demo_model_is_dnabert6_with_published_vocab(demo_model):
    assert demo_model.k == 6 and demo_model.n_classes == 2
    published = (FIXTURES / "k6" / "vocab.txt").read_text().splitlines()
    assert (DEMO_MODEL / "vocab.txt").read_text().splitlines() == published
    seq = "ACGTTAGCATGCAAT"
    enc = demo_model.encode(seq)
    kmers = [seq[i : i + 6] for i in range(len(seq) - 5)]
    assert enc.input_ids[0].tolist() == [2] + [published.index(k) for k in kmers] + [3]
    assert demo_model.tokenizer.unk_id not in enc.input_ids
    spans = enc.spans[0]
    assert (
        spans[0].tolist() == [-1, -1]
        and spans[1].tolist() == [0, 6]
        and spans[-2].tolist() == [9, 15]
    )


def test_heldout_accuracy_reaches_the_recorded_figure(demo_model, demo_data):
    probs = demo_model.predict(demo_data.sequences("heldout"))
    assert probs.shape == (len(demo_data.sequences("heldout")), 2)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    accuracy = (probs.argmax(1) == demo_data.labels("heldout")).mean()
    assert accuracy >= 0.95 and abs(accuracy - RECORDED_ACCURACY) < 1e-6


def test_demo_model_loads_fast(device):
    start = time.perf_counter()
    dv.load_model(device=device)
    assert time.perf_counter() - start < 3.0


@pytest.mark.parametrize(
    "bad, error",
    [
        ([], "sequences is empty"),
        ([""], r"sequences\[0\] is empty"),
        (["ACGTXACGTACG"], "'X' at position 4"),
    ],
)
def test_bad_input_to_predict_and_encode(demo_model, bad, error):
    with pytest.raises(ValueError, match=error):
        demo_model.predict(bad)
    with pytest.raises(ValueError, match=error):
        demo_model.encode(bad)


def test_lowercase_is_normalised_and_n_is_an_explicit_unk(demo_model):
    seq = "acgtacgtacgtacgtacgt"
    np.testing.assert_array_equal(
        demo_model.encode(seq).input_ids, demo_model.encode(seq.upper()).input_ids
    )
    enc = demo_model.encode("ACGTACNGTACGTA")
    unk = np.flatnonzero(enc.input_ids[0] == demo_model.tokenizer.unk_id)
    assert [tuple(enc.spans[0][u]) for u in unk] == [
        (1, 7),
        (2, 8),
        (3, 9),
        (4, 10),
        (5, 11),
        (6, 12),
    ]
    with pytest.raises(ValueError, match="shorter than k = 6"):
        demo_model.encode("ACGTA")


def test_models_show_a_summary_in_notebooks(demo_model, tmp_path):
    class Texts(HTMLParser):
        def __init__(self, html):
            super().__init__()
            self.texts = []
            self.feed(html)

        def handle_data(self, data):
            self.texts.append(data)

    n_parameters = sum(p.numel() for p in demo_model.model.parameters())
    assert Texts(demo_model._repr_html_()).texts == [
        "DnaModel 'demo'",
        "architecture",
        "BertForSequenceClassification (bert)",
        "size",
        f"2 layers x 4 heads, 64 hidden units; {n_parameters:,} parameters",
        "tokens",
        "kmer6, 4,101 in the vocabulary",
        "positions",
        "512 tokens, special tokens included",
        "head",
        "classifier, 2 classes",
        "device",
        str(demo_model.device),
    ]
    lm = dv.load_model(checkpoints.dnabert1(tmp_path / "lm", k=3, head="mlm"), device="cpu")
    texts = Texts(lm._repr_html_()).texts
    assert texts[texts.index("head") + 1] == "masked language model"
    assert (
        texts[texts.index("tokens") + 1] == f"kmer3, {len(lm.tokenizer.vocab):,} in the vocabulary"
    )
    odd = dv.DnaModel(
        demo_model.model, demo_model.tokenizer, name="<b>&", device=demo_model.device
    )
    assert "<b>&" not in odd._repr_html_() and "DnaModel '&lt;b&gt;&amp;'" in odd._repr_html_()
    # an attention-free model says so, and what head it has
    hyena = dv.load_model(checkpoints.hyenadna(tmp_path / "hyena"), device="cpu")
    assert repr(hyena).endswith(
        ", char tokens, 2 layers, no attention, causal language model, cpu)"
    )
    texts = Texts(hyena._repr_html_()).texts
    assert texts[texts.index("size") + 1].startswith("2 layers, no attention, ")
