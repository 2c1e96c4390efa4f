"""dv.load_model on checkpoints in every published layout, and on broken ones."""

import json

import numpy as np
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.tokenization import NucleotideAccumulator

from . import checkpoints


def _attentions(m, seqs):
    enc = m.encode(seqs)
    with m.attention_readable(), torch.no_grad():
        out = m.model(**m.inputs(enc, np.arange(len(seqs))), output_attentions=True)
    return enc, out.attentions


@pytest.mark.parametrize("k", [3, 4, 5, 6])
@pytest.mark.parametrize("weights", ["safetensors", "bin"])
def test_dnabert1_classifier_every_k(tmp_path, k, weights, device):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=k, weights=weights)
    m = dv.load_model(folder, device=device)
    assert m.k == k and m.n_classes == 2 and m.max_tokens == 512
    seq = "ACGTTGCAAGCTTCGAGGTA"
    enc, att = _attentions(m, [seq, seq[:12]])
    lines = (folder / "vocab.txt").read_text().splitlines()
    assert enc.input_ids[0, 1:-1].tolist()[: len(seq) - k + 1] == [
        lines.index(seq[i : i + k]) for i in range(len(seq) - k + 1)
    ]
    assert len(att) == 2 and att[0].shape == (2, 4, len(seq) - k + 3, len(seq) - k + 3)
    # padding is masked: the short sequence's rows put no attention on padding
    real = len(seq[:12]) - k + 3
    assert torch.allclose(att[-1][1, :, :real, real:].sum(), torch.tensor(0.0))
    probs = m.predict([seq, seq[:12]])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)


def test_bin_weights_equal_the_saved_model(tmp_path, device):
    a = dv.load_model(
        checkpoints.dnabert1(tmp_path / "a", k=4, weights="bin", seed=3), device=device
    )
    b = dv.load_model(
        checkpoints.dnabert1(tmp_path / "b", k=4, weights="safetensors", seed=3), device=device
    )
    checkpoints.assert_same_weights(a, b)


def test_safetensors_preferred_over_bin(tmp_path, device):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=3, seed=1)
    other = checkpoints.dnabert1(tmp_path / "other", k=3, weights="bin", seed=2)
    (other / "pytorch_model.bin").rename(folder / "pytorch_model.bin")
    m = dv.load_model(folder, device=device)
    ref = dv.load_model(checkpoints.dnabert1(tmp_path / "ref", k=3, seed=1), device=device)
    assert torch.equal(m.model.classifier.weight, ref.model.classifier.weight)


def test_pretrained_mlm_has_attention_and_embeddings_but_no_predict(tmp_path, device):
    m = dv.load_model(checkpoints.dnabert1(tmp_path / "ck", k=6, head="mlm"), device=device)
    assert m.n_classes is None
    _, att = _attentions(m, ["ACGTACGTACGTAC"])
    assert att[0].shape == (1, 4, 11, 11)
    assert m.embed(["ACGTACGTACGTAC", "TTTTGGGGCCCCAAA"]).shape == (2, 32)
    with pytest.raises(ValueError, match="has no classifier head .*BertForMaskedLM"):
        m.predict(["ACGTACGTACGTAC"])


def test_hugging_face_copy_loads_with_stock_classes(tmp_path, device):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=5, hf_copy=True)
    m = dv.load_model(folder, device=device)  # no trust_remote_code needed
    assert m.returns_attention and m.k == 5


def test_nucleotide_transformer(tmp_path, device):
    m = dv.load_model(
        checkpoints.nucleotide_transformer(tmp_path / "nt", head="classifier"), device=device
    )
    assert m.tokenizer.scheme == "nonoverlapping6" and m.max_tokens == 64 and m.n_classes == 2
    seq = "ACGTACGTAGGNACGTACGTTT"
    enc, att = _attentions(m, [seq])
    toks = m.tokenizer.convert_ids_to_tokens(enc.input_ids[0])
    assert toks == ["<cls>", "ACGTAC", "G", "T", "A", "G", "G", "N", "ACGTAC", "G", "T", "T", "T"]
    assert att[0].shape == (1, 4, 13, 13)
    assert m.predict([seq]).shape == (1, 2)


def test_missing_and_corrupt_files_are_named(tmp_path):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=3)
    with pytest.raises(FileNotFoundError, match="nowhere is not a checkpoint folder"):
        dv.load_model(tmp_path / "nowhere")
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(
        ValueError, match=r"model.safetensors: weights file is unreadable or corrupt"
    ):
        dv.load_model(folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"not a pickle")
    with pytest.raises(
        ValueError, match=r"pytorch_model.bin: weights file is unreadable or corrupt"
    ):
        dv.load_model(folder)
    (folder / "pytorch_model.bin").unlink()
    with pytest.raises(FileNotFoundError, match="has no weights file"):
        dv.load_model(folder)
    (folder / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        dv.load_model(folder)


def test_bin_with_code_is_refused(tmp_path):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=3, weights="bin")

    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"x": Payload()}, folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match="pytorch_model.bin: weights file is unreadable"):
        dv.load_model(folder)


def test_vocab_of_another_k_is_a_mismatch(tmp_path):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=6)
    (folder / "vocab.txt").write_text((checkpoints.FIXTURES / "k5" / "vocab.txt").read_text())
    with pytest.raises(
        ValueError,
        match=r"tokenizer has 1029 tokens \(a k=5 vocabulary\) but config.json says vocab_size "
        r"4101",
    ):
        dv.load_model(folder)


def test_weights_of_another_model_are_refused(tmp_path):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=3)
    config = json.loads((folder / "config.json").read_text())
    config["num_hidden_layers"] = 3
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"model.safetensors: lacks \d+ parameters"):
        dv.load_model(folder)


def test_long_sequences_are_windowed_and_stitched_exactly(tmp_path, device):
    m = dv.load_model(checkpoints.dnabert1(tmp_path / "ck", k=3, max_positions=42), device=device)
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), size=3 * 42))
    enc = m.encode([seq, seq[:30]], stride=15)
    assert enc.input_ids.shape[1] <= 42 and (enc.sequence_index == 0).sum() >= 3
    # a per-token value that depends only on the token: stitched windows equal the unwindowed
    # projection
    whole = m.tokenizer.encode([seq, seq[:30]])
    for mode in ("mean", "spread"):
        stitched, direct = NucleotideAccumulator(enc, mode), NucleotideAccumulator(whole, mode)
        stitched.add(np.arange(len(enc.input_ids)), enc.input_ids.astype(float))
        direct.add(np.arange(2), whole.input_ids.astype(float))
        a, b = stitched.result(), direct.result()
        assert a.shape == (2, 3 * 42) and np.isnan(a[1, 30:]).all()
        np.testing.assert_allclose(a, b, rtol=1e-6)
    real = whole.spans[0, :, 0] >= 0
    assert np.isclose(np.nansum(b[0]), whole.input_ids[0][real].sum())  # spread keeps the total
    assert m.predict([seq]).shape == (1, 2) and m.embed([seq, seq[:30]]).shape == (2, 32)
    with pytest.raises(ValueError, match="does not fit the model's 42 positions"):
        m.encode([seq], window_size=60)


def test_unsupported_architecture_is_named(tmp_path):
    folder = checkpoints.dnabert1(tmp_path / "ck", k=3)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="not-a-model", architectures=["MysteryForSequenceClassification"])
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="transformers cannot load this checkpoint .*not-a-model"):
        dv.load_model(folder)


def test_custom_code_without_attention_says_so(tmp_path, device):
    m = dv.load_model(checkpoints.dnabert1(tmp_path / "ck", k=3), device=device)
    no_attention = dv.DnaModel(
        m.model, m.tokenizer, name="custom-code", device=device, returns_attention=False
    )
    with pytest.raises(
        NotImplementedError,
        match=r"returns no attention weights .*use attribution \(dv.attribute\) or dv.ism",
    ):
        dv.cls_attention(no_attention, ["ACGTACGTAC"])
    assert dv.attribute(no_attention, ["ACGTACGTAC"], method="saliency").values.shape == (1, 10)
