"""The native DNABERT-2: loading the published layout, bad folders, long inputs, attribution,
training.

Parity with the published code is in test_dnabert2_parity.py.
"""

import json

import numpy as np
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.architectures.dnabert2 import alibi_slopes

from . import checkpoints

SEQS = ["ACGTAGCTAGCTAGCATCGATCGACTGACTAGCTAGCTAGCATCGAC", "ACGTTTTTGGGCCCAAAT", "GATTACA" * 9]


def test_alibi_slopes_for_powers_of_two_and_the_rest():
    assert alibi_slopes(8) == [2.0**-i for i in range(1, 9)]
    # 12 heads: the 8 slopes of 8, then every other slope of 16 (2^-0.5, 2^-1.5, ...)
    assert alibi_slopes(12) == pytest.approx(
        [2.0**-i for i in range(1, 9)] + [2.0 ** -(i + 0.5) for i in range(4)]
    )


@pytest.mark.parametrize("head", ["classifier", "mlm", "encoder"])
@pytest.mark.parametrize("weights", ["safetensors", "bin"])
def test_published_layout_loads_natively(tmp_path, head, weights, device):
    folder = checkpoints.dnabert2(tmp_path / "d2", head=head, weights=weights)
    assert "auto_map" in json.loads((folder / "config.json").read_text())
    m = dv.load_model(folder, device=device)  # no trust_remote_code
    assert (
        m.returns_attention and m.is_classifier == (head == "classifier") and m.max_tokens == 512
    )
    assert (
        dv.load_model(folder, device=device, trust_remote_code=True).model.state_dict().keys()
        == m.model.state_dict().keys()
    )
    s = dv.cls_attention(m, SEQS)
    assert s.values.shape == (3, 63) and np.allclose(np.nansum(s.values**2, axis=1), 1)
    maps = dv.attention_maps(m, SEQS[0])
    assert maps.attentions.shape[:2] == (2, 4) and maps.tokens[0] == "[CLS]"
    np.testing.assert_allclose(maps.attentions.sum(-1), 1, atol=1e-6)
    assert m.embed(SEQS).layer(-1).shape == (3, 32)


def test_the_folders_own_code_never_runs(tmp_path, device):
    folder = checkpoints.dnabert2(tmp_path / "d2")
    for name in ("bert_layers.py", "configuration_bert.py"):
        (folder / name).write_text('raise RuntimeError("the checkpoint\'s own code ran")\n')
    m = dv.load_model(folder, device=device, trust_remote_code=True)
    assert type(m.model).__module__ == "dnabert_viz.architectures.dnabert2"


def test_fast_path_equals_attention_path_and_padding_changes_nothing(tmp_path, device):
    m = dv.load_model(checkpoints.dnabert2(tmp_path / "d2"), device=device)
    enc = m.encode(SEQS)
    inputs = m.inputs(enc, np.arange(3))
    with torch.no_grad():
        fast = m.model(**inputs).logits
        alone = torch.cat([m.model(**m.inputs(enc, np.array([i]))).logits for i in range(3)])
        with m.attention_readable():
            eager = m.model(**inputs).logits
    torch.testing.assert_close(fast, eager, atol=1e-6, rtol=0)
    torch.testing.assert_close(fast, alone, atol=1e-6, rtol=0)


def test_long_sequences_windows_by_default_or_whole(tmp_path, device):
    folder = checkpoints.dnabert2(tmp_path / "d2")
    seq = "".join(np.random.default_rng(0).choice(list("ACGT"), size=3000))
    windowed = dv.load_model(folder, device=device)
    whole = dv.load_model(folder, device=device, max_tokens=4096)  # up to 4,096 tokens in one row
    assert len(windowed.encode(seq).input_ids) > 1 and len(whole.encode(seq).input_ids) == 1
    assert (
        whole.encode(seq).attention_mask.sum() > 512
    )  # past the published positions: ALiBi extrapolates
    a, b = dv.cls_attention(windowed, seq), dv.cls_attention(whole, seq)
    assert a.values.shape == b.values.shape == (1, 3000)
    assert not np.allclose(a.values, b.values)  # one context vs stitched windows
    assert whole.predict(seq).shape == (1, 2)
    with pytest.raises(ValueError, match="max_tokens 600: .* 512 position embeddings"):
        dv.load_model(checkpoints.dnabert1(tmp_path / "d1", k=3), max_tokens=600)


def test_save_and_reload_keeps_the_published_layout(tmp_path, device):
    m = dv.load_model(checkpoints.dnabert2(tmp_path / "d2"), device=device)
    m.save_pretrained(tmp_path / "again")
    config = json.loads((tmp_path / "again" / "config.json").read_text())
    assert (
        config["auto_map"]["AutoModelForSequenceClassification"]
        == "bert_layers.BertForSequenceClassification"
    )
    again = dv.load_model(tmp_path / "again", device=device)
    checkpoints.assert_same_weights(m, again)
    np.testing.assert_allclose(m.predict(SEQS), again.predict(SEQS), rtol=1e-6)


def test_integrated_gradients_through_bpe_embeddings(tmp_path, device):
    m = dv.load_model(checkpoints.dnabert2(tmp_path / "d2"), device=device)
    s = dv.attribute(m, SEQS, method="integrated_gradients", target=1, n_steps=64, output="logit")
    enc = m.encode(SEQS)
    inputs = m.inputs(enc, np.arange(3))
    base = torch.where(
        torch.as_tensor(enc.real, device=m.device), m.tokenizer.pad_id, inputs["input_ids"]
    )
    with torch.no_grad():
        gap = (
            m.model(**inputs).logits[:, 1] - m.model(base, inputs["attention_mask"]).logits[:, 1]
        ).cpu()
    # completeness: the nucleotide scores (token attributions spread over their spans)
    # add up to f(x) - f(baseline)
    np.testing.assert_allclose(
        np.nansum(s.values, axis=1), gap.numpy(), atol=2e-3 * float(gap.abs().max()) + 1e-5
    )
    assert (
        np.isnan(s.values[1, len(SEQS[1]) :]).all()
        and not np.isnan(s.values[1, : len(SEQS[1])]).any()
    )


def _write(folder, name, text):
    (folder / name).write_text(text)


def test_bad_folders_are_named_before_any_computation(tmp_path):
    folder = checkpoints.dnabert2(tmp_path / "d2", weights="bin")
    good = (folder / "pytorch_model.bin").read_bytes()
    (folder / "pytorch_model.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"d2 has no weights file .*found config.json"):
        dv.load_model(folder)
    (folder / "pytorch_model.bin").write_bytes(good[: len(good) // 2])
    with pytest.raises(
        ValueError, match=r"pytorch_model.bin: weights file is unreadable or corrupt"
    ):
        dv.load_model(folder)
    state = torch.load(_restore(folder, good), weights_only=True)
    config = json.loads((folder / "config.json").read_text())
    _write(folder, "config.json", json.dumps({**config, "vocab_size": 5000}))
    with pytest.raises(
        ValueError, match=r"config.json: vocab_size 5000 but .*tokenizer.json has 4096 tokens"
    ):
        dv.load_model(folder)
    _write(folder, "config.json", json.dumps(config))
    torch.save(
        {**state, "bert.encoder.layer.0.attention.self.query.weight": torch.zeros(32, 32)},
        folder / "pytorch_model.bin",
    )
    with pytest.raises(
        ValueError,
        match=r"pytorch_model.bin: 1 weights DNABERT-2 \(classifier\) does not have, e\.g\. "
        r"\['bert.encoder.layer.0.attention.self.query.weight'\]",
    ):
        dv.load_model(folder)
    torch.save(
        {k: v for k, v in state.items() if ".mlp.wo." not in k}, folder / "pytorch_model.bin"
    )
    with pytest.raises(
        ValueError, match=r"pytorch_model.bin: lacks 4 DNABERT-2 \(classifier\) parameters"
    ):
        dv.load_model(folder)
    _restore(folder, good)
    _write(folder, "config.json", json.dumps({**config, "intermediate_size": 48}))
    with pytest.raises(
        ValueError,
        match=r"shapes disagree with config.json: .*gated_layers.weight \(128, 32\) "
        r"\(config.json: \(96, 32\)\)",
    ):
        dv.load_model(folder)
    _write(folder, "config.json", json.dumps({**config, "num_labels": 3}))
    with pytest.raises(ValueError, match="classifier has 2 classes but config.json says 3"):
        dv.load_model(folder)


def _restore(folder, good: bytes):
    path = folder / "pytorch_model.bin"
    path.write_bytes(good)
    return path


@pytest.mark.slow  # a training
def test_train_classifier_dnabert2_learns_the_demo_motifs(demo_data, device):
    seqs, labels = demo_data.sequences("train")[:2000], demo_data.labels("train")[:2000]
    m = dv.train_classifier(
        seqs, labels, architecture="dnabert2", epochs=3, progress=False, device=device
    )
    assert (
        type(m.model).__name__ == "DnaBert2ForSequenceClassification"
        and m.tokenizer.scheme == "bpe"
    )
    assert len(m.tokenizer.vocab) == 4096
    held, y = demo_data.sequences("heldout")[:300], demo_data.labels("heldout")[:300]
    assert (m.predict(held).argmax(1) == y).mean() > 0.7
    with pytest.raises(ValueError, match="architecture must be one of"):
        dv.build_classifier(architecture="dnabert3")


def test_dnabert2_classifier_takes_the_dropout_given_and_refuses_a_k():
    m = dv.build_classifier(architecture="dnabert2", dropout=0.3)
    assert m.model.config.hidden_dropout_prob == 0.3
    assert m.model.config.attention_probs_dropout_prob == 0.0  # as published
    dropouts = {x.p for x in m.model.modules() if isinstance(x, torch.nn.Dropout)}
    assert 0.3 in dropouts and 0.1 not in dropouts
    with pytest.raises(ValueError, match="k=4 is DNABERT's k-mer length"):
        dv.build_classifier(k=4, architecture="dnabert2")
    with pytest.raises(ValueError, match="k must be 3, 4, 5 or 6"):
        dv.build_classifier(k=7)


def test_embedded_dnabert2_model(demo_data, device):
    m = dv.load_model("dnabert2-demo", device=device)
    assert (
        type(m.model).__name__ == "DnaBert2ForSequenceClassification"
        and m.tokenizer.scheme == "bpe"
    )
    recorded = json.loads((dv.model.EMBEDDED["dnabert2-demo"] / "training.json").read_text())
    held, y = demo_data.sequences("heldout"), demo_data.labels("heldout")
    assert (m.predict(held).argmax(1) == y).mean() == pytest.approx(
        recorded["heldout_accuracy"], abs=1e-3
    )


@pytest.mark.slow  # JASPAR matching
def test_dnabert_viz_motifs_on_the_embedded_dnabert2_recover_the_planted_ones(demo_data, device):
    """[CLS] attention of BPE tokens, projected to nucleotides by spans, feeds DNABERT-viz motif
    discovery."""
    m = dv.load_model("dnabert2-demo", device=device)
    pos, neg = demo_data.sequences("heldout", label=1), demo_data.sequences("heldout", label=0)
    motifs = dv.find_motifs(
        pos,
        neg,
        dv.cls_attention(m, pos),
        window_size=24,
        min_len=5,
        pval_cutoff=0.005,
        min_n_motif=3,
    )
    found = demo_data.recovery(dv.match_jaspar(motifs))
    assert set(found.planted.dropna()) == {"MA0139.2", "MA0108.3", "MA0106.3"}  # CTCF, TBP, TP53
    assert found.spurious.sum() <= 2  # 1 measured
