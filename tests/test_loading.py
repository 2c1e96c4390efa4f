"""dv.load_model on checkpoints in every published layout, and on broken ones."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.model import quiet_transformers
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
    assert m.embed(["ACGTACGTACGTAC", "TTTTGGGGCCCCAAA"]).layer(-1).shape == (2, 32)
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


def _edited(folder: Path, **keys) -> Path:
    """The checkpoint folder with keys of its config.json changed."""
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **keys}))
    return folder


def _dnabert2_weights_in_dnabert(folder: Path) -> Path:
    dnabert = checkpoints.dnabert1(folder, k=3)
    dnabert2 = checkpoints.dnabert2(folder.with_name("dnabert2"))
    shutil.copy(dnabert2 / "model.safetensors", dnabert / "model.safetensors")
    return dnabert


def _weights_of_another_k(folder: Path) -> Path:
    dnabert = checkpoints.dnabert1(folder, k=3)
    other = checkpoints.dnabert1(folder.with_name("k6"), k=6)
    shutil.copy(other / "model.safetensors", dnabert / "model.safetensors")
    return dnabert


WEIGHTS = "model.safetensors"
BIN = "pytorch_model.bin"
# case: (make the broken checkpoint in a folder, the file named, what the one line must say)
BROKEN_CHECKPOINTS = {
    "DNABERT, num_hidden_layers lowered": (
        lambda d: _edited(checkpoints.dnabert1(d, k=3), num_hidden_layers=1),
        WEIGHTS,
        [
            "16 weights BertForSequenceClassification does not have, e.g. ['bert.encoder.layer.1.",
            "config.json's num_hidden_layers is 1, the weights' 2",
        ],
    ),
    "DNABERT, num_hidden_layers raised": (
        lambda d: _edited(checkpoints.dnabert1(d, k=3), num_hidden_layers=3),
        WEIGHTS,
        [
            "lacks 16 BertForSequenceClassification parameters (they would run with random "
            "weights), e.g. ['bert.encoder.layer.2.",
            "config.json's num_hidden_layers is 3, the weights' 2",
        ],
    ),
    "DNABERT, hidden_size changed": (
        lambda d: _edited(checkpoints.dnabert1(d, k=3), hidden_size=64),
        WEIGHTS,
        [
            "shapes disagree with config.json: bert.embeddings.word_embeddings.weight (69, 32) "
            "(config.json: (69, 64))",
            "config.json's hidden_size is 64, the weights' 32",
        ],
    ),
    "DNABERT, weights of another k": (
        _weights_of_another_k,
        WEIGHTS,
        [
            "bert.embeddings.word_embeddings.weight (4101, 32) (config.json: (69, 32))",
            "config.json's vocab_size is 69, the weights' 4101",
        ],
    ),
    "DNABERT, DNABERT-2 weights": (
        _dnabert2_weights_in_dnabert,
        WEIGHTS,
        [
            "weights BertForSequenceClassification does not have, e.g. "
            "['bert.encoder.layer.0.attention.self.Wqkv.bias'",
            "lacks 25 BertForSequenceClassification parameters",
        ],
    ),
    "DNABERT, pretrained weights under a classifier's config": (
        lambda d: _edited(
            checkpoints.dnabert1(d, k=3, head="mlm"),
            architectures=["BertForSequenceClassification"],
        ),
        WEIGHTS,
        [
            "lacks 4 BertForSequenceClassification parameters (they would run with random "
            "weights), e.g. ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', "
            "'classifier.weight']",
        ],
    ),
    "DNABERT, config.json an array": (
        lambda d: (checkpoints.dnabert1(d, k=3) / "config.json").write_text("[]") and d,
        "config.json",
        ["holds an array, not a JSON object of the model's settings"],
    ),
    "Nucleotide Transformer, num_hidden_layers lowered": (
        lambda d: _edited(checkpoints.nucleotide_transformer(d), num_hidden_layers=1),
        WEIGHTS,
        [
            "16 weights EsmForMaskedLM does not have, e.g. ['esm.encoder.layer.1.",
            "config.json's num_hidden_layers is 1, the weights' 2",
        ],
    ),
    "HyenaDNA, n_layer raised": (
        lambda d: _edited(checkpoints.hyenadna(d), n_layer=3),
        BIN,
        [
            "lacks 28 HyenaDNA (causal_lm) parameters (they would run with random weights), "
            "e.g. ['hyena.backbone.layers.2.mixer.in_proj.weight'",
            "config.json's n_layer is 3, the weights' 2",
        ],
    ),
    "HyenaDNA, max_seq_len changed (the filters' positional encoding)": (
        lambda d: _edited(checkpoints.hyenadna(d), max_seq_len=1026),
        BIN,
        [
            "shapes disagree with config.json: hyena.backbone.layers.0.mixer.filter_fn.pos_emb.z "
            "(1, 66, 5) (config.json: (1, 1026, 5))",
            "config.json's max_seq_len is 1026, the weights' 66",
        ],
    ),
    "HyenaDNA, backbone weights under a causal LM's config": (
        lambda d: _edited(
            checkpoints.hyenadna(d, head="backbone"), architectures=["HyenaDNAForCausalLM"]
        ),
        BIN,
        [
            "lacks 1 HyenaDNA (causal_lm) parameters (they would run with random weights), "
            "e.g. ['lm_head.weight']"
        ],
    ),
    "Nucleotide Transformer, hidden_size changed": (
        lambda d: _edited(checkpoints.nucleotide_transformer(d), hidden_size=64),
        WEIGHTS,
        [
            "shapes disagree with config.json: esm.embeddings.word_embeddings.weight "
            "(4107, 32) (config.json: (4107, 64))",
            "config.json's hidden_size is 64, the weights' 32",
        ],
    ),
    "DNABERT-S, num_hidden_layers raised": (
        lambda d: _edited(checkpoints.dnabert_s(d), num_hidden_layers=3),
        BIN,
        [
            "lacks 11 DNABERT-2 (encoder) parameters (they would run with random weights), "
            "e.g. ['encoder.layer.2.attention.self.Wqkv.weight'",
            "config.json's num_hidden_layers is 3, the weights' 2",
        ],
    ),
    "DNABERT-S, a vocab_size the tokenizer disagrees with": (
        lambda d: _edited(checkpoints.dnabert_s(d), vocab_size=4000),
        "config.json",
        ["tokenizer has 4096 tokens but config.json says vocab_size 4000"],
    ),
    "GROVER, num_hidden_layers raised": (
        lambda d: _edited(checkpoints.grover(d), num_hidden_layers=3),
        BIN,
        [
            "lacks 16 BertForMaskedLM parameters (they would run with random weights), "
            "e.g. ['bert.encoder.layer.2.attention.self.query.weight'",
            "config.json's num_hidden_layers is 3, the weights' 2",
        ],
    ),
    "GROVER, a vocab_size the tokenizer disagrees with": (
        lambda d: _edited(checkpoints.grover(d), vocab_size=10),
        "config.json",
        ["tokenizer has 14 tokens but config.json says vocab_size 10"],
    ),
    "GROVER, file lacks a tensor": (
        lambda d: _without(checkpoints.grover(d), "bert.encoder.layer.1.output.dense.weight"),
        BIN,
        [
            "lacks 1 BertForMaskedLM parameters (they would run with random weights), "
            "e.g. ['bert.encoder.layer.1.output.dense.weight']"
        ],
    ),
    "ModernBERT DNA, num_hidden_layers lowered": (
        lambda d: _edited(checkpoints.modernbert_dna(d), num_hidden_layers=2),
        WEIGHTS,
        [
            "6 weights ModernBertForMaskedLM does not have, e.g. ['model.layers.2.attn.Wo.weight'",
            "config.json's num_hidden_layers is 2, the weights' 3",
        ],
    ),
    "ModernBERT DNA, hidden_size changed": (
        lambda d: _edited(checkpoints.modernbert_dna(d), hidden_size=64),
        WEIGHTS,
        [
            "shapes disagree with config.json: model.embeddings.tok_embeddings.weight (9, 32) "
            "(config.json: (9, 64))",
            "config.json's hidden_size is 64, the weights' 32",
        ],
    ),
    "ModernBERT DNA, a vocab_size the tokenizer disagrees with": (
        lambda d: _edited(checkpoints.modernbert_dna(d), vocab_size=8),
        "config.json",
        ["tokenizer has 9 tokens but config.json says vocab_size 8"],
    ),
    "ModernBERT DNA, file lacks a tensor": (
        lambda d: _without(checkpoints.modernbert_dna(d), "model.layers.1.mlp.Wo.weight"),
        WEIGHTS,
        ["lacks 1 ModernBertForMaskedLM parameters", "e.g. ['model.layers.1.mlp.Wo.weight']"],
    ),
    "plant-dnabert-6mer, a vocab_size the tokenizer disagrees with": (
        lambda d: _edited(checkpoints.plant_dnabert_6mer(d), vocab_size=4101),
        "config.json",
        ["tokenizer has 4107 tokens (a k=6 vocabulary) but config.json says vocab_size 4101"],
    ),
    "plant-dnabert-6mer, file lacks a tensor": (
        lambda d: _without(checkpoints.plant_dnabert_6mer(d), "bert.embeddings.LayerNorm.bias"),
        WEIGHTS,
        ["lacks 1 BertForMaskedLM parameters", "e.g. ['bert.embeddings.LayerNorm.bias']"],
    ),
}


def _without(folder: Path, tensor: str) -> Path:
    """The checkpoint folder with one tensor left out of its weights file."""
    from safetensors.torch import load_file, save_file

    if (folder / WEIGHTS).exists():
        state = load_file(str(folder / WEIGHTS))
        del state[tensor]
        save_file(state, str(folder / WEIGHTS))
    else:
        state = torch.load(folder / BIN, weights_only=True)
        del state[tensor]
        torch.save(state, folder / BIN)
    return folder


@pytest.mark.parametrize("case", BROKEN_CHECKPOINTS)
def test_weights_that_do_not_fit_config_are_one_line(case, tmp_path, capfd, monkeypatch):
    make, named, expected = BROKEN_CHECKPOINTS[case]
    folder = make(tmp_path / "ck")
    with pytest.raises(ValueError) as info:
        dv.load_model(folder, device="cpu")
    message = str(info.value)
    assert message.startswith(f"{folder / named}: ") and "\n" not in message, message
    for text in expected:
        assert text in message, message
    assert capfd.readouterr().err == ""  # transformers' load report is not printed

    # the command line: exit status 2, that line on stderr, nothing written
    monkeypatch.chdir(tmp_path)
    Path("x.fa").write_text(">s0\nACGTACGTTGCAAGCTTCGAGGTA\n")
    before = sorted(tmp_path.rglob("*"))
    assert main(["score", "--model", str(folder), "--input", "x.fa", "--out", "x.npz"]) == 2
    err = capfd.readouterr().err
    assert err == f"dnabert-viz score: error: {message}\n"
    assert sorted(tmp_path.rglob("*")) == before


def test_what_transformers_leaves_out_on_purpose_loads(tmp_path, capfd):
    # pretrained BERT weights as transformers 2 and torch < 1.6 wrote them (DNABERT-1's): a
    # pooler BertForMaskedLM no longer builds, the next-sentence head, the position_ids buffer,
    # no zip archive
    folder = checkpoints.dnabert1(tmp_path / "ck", k=3, head="mlm", weights="bin")
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    old = {
        **state,
        "bert.pooler.dense.weight": torch.zeros(32, 32),
        "bert.pooler.dense.bias": torch.zeros(32),
        "cls.seq_relationship.weight": torch.zeros(2, 32),
        "cls.seq_relationship.bias": torch.zeros(2),
        "bert.embeddings.position_ids": torch.arange(512)[None],
    }
    del old["cls.predictions.decoder.weight"]  # tied to the word embeddings
    torch.save(old, folder / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    m = dv.load_model(folder, device="cpu")
    decoder = m.model.cls.predictions.decoder.weight
    assert torch.equal(decoder, state["bert.embeddings.word_embeddings.weight"])
    # a head-less load (no architectures: the bare encoder) leaves the checkpoint's head out
    encoder = dv.load_model(_edited(folder, architectures=None, model_type="bert"), device="cpu")
    assert type(encoder.model).__name__ == "BertModel"
    assert torch.equal(
        encoder.model.encoder.layer[1].output.dense.weight,
        state["bert.encoder.layer.1.output.dense.weight"],
    )
    assert capfd.readouterr().err == ""


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
    assert m.predict([seq]).shape == (1, 2) and m.embed([seq, seq[:30]]).layer(-1).shape == (2, 32)
    with pytest.raises(ValueError, match="does not fit the model's 42 positions"):
        m.encode([seq], window_size=60)


STOCK = {
    "DNABERT-1": lambda d: checkpoints.dnabert1(d, k=3),
    "Nucleotide Transformer v1": checkpoints.nucleotide_transformer,
    "GROVER": checkpoints.grover,
    "ModernBERT DNA": checkpoints.modernbert_dna,
    "plant-dnabert-6mer": checkpoints.plant_dnabert_6mer,
}


@pytest.mark.parametrize("family", STOCK)
def test_folder_of_an_unsupported_family_is_one_line(family, tmp_path):
    folder = _edited(
        STOCK[family](tmp_path / "ck"),
        model_type="not-a-model",
        architectures=["MysteryForSequenceClassification"],
    )
    with pytest.raises(ValueError) as info:
        dv.load_model(folder)
    message = str(info.value)
    assert message.startswith(
        f"{folder / 'config.json'}: transformers cannot load this checkpoint (not-a-model, "
        "architectures ['MysteryForSequenceClassification']): "
    )
    assert "\n" not in message and message.endswith(
        f"families built natively, with no remote code: {_native_families()}"
    )


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


# Our own remote code (a tiny model in the checkpoint folder, named by config.json's auto_map),
# not published code: it stands for checkpoints whose own code runs with trust_remote_code=True.
REMOTE_CODE = """
import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput
{extra_import}


class TinyConfig(PretrainedConfig):
    model_type = "tiny-dna"

    def __init__(self, vocab_size=69, hidden_size=8, num_hidden_layers=1,
                 num_attention_heads=1, max_position_embeddings=32, **kwargs):
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.num_hidden_layers, self.num_attention_heads = num_hidden_layers, num_attention_heads
        self.max_position_embeddings = max_position_embeddings
        super().__init__(**kwargs)


class Mixer(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n, n))
        if {buffer}:  # a buffer the file does not hold: transformers initialises the module again
            self.register_buffer("scale", torch.ones(n), persistent=False)

    def forward(self, x):
        return x @ self.weight


class TinyModel(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mixer = Mixer(config.hidden_size)
        self.post_init()

    def _init_weights(self, module):
        # as vendored remote code does: in place, whatever was loaded
        if isinstance(module, Mixer):
            module.weight.data.normal_(0, 1)

    def forward(self, input_ids, attention_mask=None, output_hidden_states=False, **kwargs):
        h = self.mixer(self.embed(input_ids))
        return BaseModelOutput(last_hidden_state=h, hidden_states=(h,) * output_hidden_states)
"""


def _remote_code_checkpoint(folder: Path, *, buffer: bool, extra_import: str = "") -> Path:
    """A DNABERT-1 k=3 vocabulary, weights of TinyModel (drawn here, not by its _init_weights) and
    its code, named by config.json's auto_map."""
    import importlib.util

    folder.mkdir()
    # the weights are drawn with the code less its extra import (which may fail on purpose)
    (folder / "modeling_tiny.py").write_text(REMOTE_CODE.format(buffer=buffer, extra_import=""))
    spec = importlib.util.spec_from_file_location(
        f"tiny_{folder.name}", folder / "modeling_tiny.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    model = module.TinyModel(module.TinyConfig())
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 1)
    from safetensors.torch import save_file

    save_file(model.state_dict(), str(folder / "model.safetensors"))
    config = {
        "model_type": "tiny-dna",
        "vocab_size": 69,
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "max_position_embeddings": 32,
        "auto_map": {
            "AutoConfig": "modeling_tiny.TinyConfig",
            "AutoModel": "modeling_tiny.TinyModel",
        },
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_tiny.py").write_text(
        REMOTE_CODE.format(buffer=buffer, extra_import=extra_import)
    )
    shutil.copy(checkpoints.FIXTURES / "k3" / "vocab.txt", folder / "vocab.txt")
    return folder


def _native_families() -> str:
    from dnabert_viz.architectures.families import FAMILIES

    return ", ".join(family.name for family in FAMILIES)


def test_remote_code_is_an_opt_in_that_names_the_native_families(tmp_path):
    folder = _remote_code_checkpoint(tmp_path / "opt_in", buffer=False)
    with pytest.raises(ValueError) as info:
        dv.load_model(folder)
    message = str(info.value)
    assert "needs custom code (modeling_tiny.TinyConfig, modeling_tiny.TinyModel)" in message
    assert f"none of the families built natively ({_native_families()})" in message
    assert "pass trust_remote_code=True if you trust its source" in message


def test_remote_code_that_keeps_its_loaded_weights_loads(tmp_path, device):
    folder = _remote_code_checkpoint(tmp_path / "keeps", buffer=False)
    m = dv.load_model(folder, trust_remote_code=True, device=device)
    from safetensors.torch import load_file

    saved = load_file(str(folder / "model.safetensors"))
    assert all(torch.equal(m.model.state_dict()[k].cpu(), v) for k, v in saved.items())
    assert not m.returns_attention and m.embed(["ACGTACGT"]).layer(-1).shape == (1, 8)


def test_remote_code_that_overwrites_loaded_weights_is_refused(tmp_path):
    # its _init_weights runs again on a module whose buffer the file does not hold, and draws
    # the loaded mixer weight anew: it would run on random weights
    folder = _remote_code_checkpoint(tmp_path / "overwrites", buffer=True)
    with pytest.raises(ValueError) as info:
        dv.load_model(folder, trust_remote_code=True, device="cpu")
    assert str(info.value) == (
        f"{folder / 'model.safetensors'}: 1 tensors of the built model differ from the file "
        "after loading (they would run with other weights than published), e.g. ['mixer.weight']"
    )


def test_remote_code_that_fails_names_the_native_families(tmp_path):
    # old remote code imports what transformers 5 removed (GENA-LM's modeling_bert.py does)
    folder = _remote_code_checkpoint(
        tmp_path / "removed",
        buffer=False,
        extra_import="from transformers.pytorch_utils import find_pruneable_heads_and_indices",
    )
    with pytest.raises(ValueError) as info:
        dv.load_model(folder, trust_remote_code=True, device="cpu")
    message = str(info.value)
    assert message.startswith(
        f"{folder / 'config.json'}: transformers cannot load this checkpoint (tiny-dna"
    )
    assert "find_pruneable_heads_and_indices" in message and "\n" not in message
    assert message.endswith(f"families built natively, with no remote code: {_native_families()}")


def test_sharded_weights_load_and_are_compared_shard_by_shard(tmp_path):
    from dnabert_viz.architectures.weights import FileTensors

    single = dv.load_model(checkpoints.dnabert1(tmp_path / "one", k=3, seed=4), device="cpu")
    folder = checkpoints.dnabert1(tmp_path / "sharded", k=3, seed=4)
    with quiet_transformers():
        single.model.save_pretrained(folder, max_shard_size="20KB")
    (folder / "model.safetensors").unlink(missing_ok=True)
    assert len(list(folder.glob("model-*-of-*.safetensors"))) > 3
    tensors = FileTensors(folder / "model.safetensors.index.json")  # one shard at a time
    assert set(tensors) == set(single.model.state_dict())
    name = "bert.encoder.layer.1.output.dense.weight"
    assert torch.equal(tensors[name], single.model.state_dict()[name])
    checkpoints.assert_same_weights(dv.load_model(folder, device="cpu"), single)
