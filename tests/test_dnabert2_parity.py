"""The native DNABERT-2 against the published remote code
(../shared/reference/dnabert2/remote_code).

A small random-weight model is built with the published classes and the
published config.json keys (plus ``pad_token_id``, which transformers 5
needs), saved in the published layout, loaded with ``dv.load_model`` and run
on padded batches of BPE-tokenised sequences of different lengths.
``alibi_starting_size`` is set below the longest input so that the published
code rebuilds (extrapolates) its ALiBi tensor too.
"""

import importlib
import importlib.util
import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.architectures.dnabert2 import alibi_slopes

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dnabert2"
SIZES = dict(
    num_hidden_layers=2,
    hidden_size=48,
    num_attention_heads=6,
    intermediate_size=64,
    alibi_starting_size=16,
)

pytestmark = [
    pytest.mark.parity,
    pytest.mark.skipif(
        not REFERENCE.is_dir(), reason=f"{REFERENCE} (the published DNABERT-2 code) is absent"
    ),
]


@pytest.fixture(scope="module")
def published():
    """The published ``bert_layers`` and ``configuration_bert``, imported as a package from
    ../shared."""
    code = REFERENCE / "remote_code"
    spec = importlib.util.spec_from_file_location(
        "dnabert2_published", code / "__init__.py", submodule_search_locations=[str(code)]
    )
    sys.modules["dnabert2_published"] = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        # "Unable to import Triton": the PyTorch attention path is the one compared
        warnings.simplefilter("ignore")
        layers = importlib.import_module("dnabert2_published.bert_layers")
        config = importlib.import_module("dnabert2_published.configuration_bert")
    assert layers.flash_attn_qkvpacked_func is None, (
        "triton is installed: the published code would not use PyTorch attention"
    )
    return layers, config


def _published_checkpoint(published, folder: Path, head: str):
    """A random published model saved in the published layout; returns (model, folder)."""
    layers, configuration = published
    keys = json.loads((REFERENCE / "config.json").read_text())
    keys.update(SIZES, pad_token_id=3)
    if head == "classifier":
        keys["num_labels"] = 3
    torch.manual_seed(1)
    cls = layers.BertForSequenceClassification if head == "classifier" else layers.BertForMaskedLM
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # is_decoder: read by the published BertForMaskedLM, no longer a config default in
        # transformers 5
        model = cls(configuration.BertConfig(**keys, is_decoder=False)).eval()
    with torch.no_grad():  # away from the ones/zeros initialisation, so every parameter matters
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(REFERENCE / name, folder / name)
    (folder / "config.json").write_text(json.dumps(keys, indent=2))
    if head == "classifier":
        from safetensors.torch import save_file

        save_file(model.state_dict(), str(folder / "model.safetensors"))
    else:  # the published 117M checkpoint: pytorch_model.bin, decoder tied to the word embeddings
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model, folder


def _sequences(n_nt=(12, 150, 420, 60)) -> list[str]:
    rng = np.random.default_rng(0)
    return ["".join(rng.choice(list("ACGT"), size=n)) for n in n_nt]


class _SoftmaxTap:
    """Record what the published attention's softmax returns (it never returns its
    probabilities)."""

    def __init__(self, monkeypatch):
        self.probs = []
        original = torch.nn.functional.softmax

        def softmax(x, *args, **kwargs):
            out = original(x, *args, **kwargs)
            self.probs.append(out.detach().clone())
            return out

        monkeypatch.setattr(torch.nn.functional, "softmax", softmax)


def _published_forward(model, inputs, monkeypatch):
    """Logits, last hidden state, per-layer softmax probabilities and attention outputs (published
    model)."""
    contexts = []
    hooks = [
        mod.register_forward_hook(lambda _m, _i, out: contexts.append(out.detach().clone()))
        for mod in model.modules()
        if type(mod).__name__ == "BertUnpadSelfAttention"
    ]
    with monkeypatch.context() as mp, torch.no_grad():
        tap = _SoftmaxTap(mp)
        out = model(**inputs)
    for h in hooks:
        h.remove()
    return out.logits, out.hidden_states, tap.probs, contexts


@pytest.mark.parametrize("head", ["classifier", "mlm"])
def test_logits_hidden_states_and_attention_match_the_published_code(
    published, tmp_path, monkeypatch, head
):
    reference, folder = _published_checkpoint(published, tmp_path / head, head)
    m = dv.load_model(folder, device="cpu")
    # native, not the folder's code
    assert type(m.model).__module__ == "dnabert_viz.architectures.dnabert2"
    seqs = _sequences()
    enc = m.encode(seqs)
    inputs = m.inputs(enc, np.arange(len(seqs)))
    mask = inputs["attention_mask"].bool()
    # extrapolated, and padded
    assert mask.sum(1).max() > SIZES["alibi_starting_size"] and not mask.all()
    logits, hidden, probs, contexts = _published_forward(reference, inputs, monkeypatch)

    with torch.no_grad():
        fast = m.model(**inputs, output_hidden_states=True)
    torch.testing.assert_close(fast.logits, logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(fast.hidden_states[-1], hidden, atol=1e-5, rtol=0)

    values = []
    hooks = [
        mod.register_forward_hook(lambda mod, args, out: values.append(_values(mod, args[0])))
        for mod in m.model.modules()
        if type(mod).__name__ == "DnaBert2SelfAttention"
    ]
    with m.attention_readable(), torch.no_grad():
        eager = m.model(**inputs, output_attentions=True)
    for h in hooks:
        h.remove()
    torch.testing.assert_close(eager.logits, logits, atol=1e-5, rtol=0)
    assert len(eager.attentions) == len(probs) == len(contexts) == SIZES["num_hidden_layers"]
    real_keys = mask[:, None, None, :]
    for weights, p, v, context in zip(eager.attentions, probs, values, contexts):
        assert weights.shape == (
            len(seqs),
            SIZES["num_attention_heads"],
            mask.shape[1],
            mask.shape[1],
        )
        rows = weights.transpose(1, 2)[mask]  # (real queries, H, T)
        torch.testing.assert_close(rows.sum(-1), torch.ones_like(rows.sum(-1)), atol=1e-6, rtol=0)
        assert (weights * ~real_keys).abs().max() == 0  # padding gets no attention
        torch.testing.assert_close(
            weights.transpose(1, 2)[mask], p.transpose(1, 2)[mask], atol=1e-6, rtol=0
        )
        # (B, T, D): the attention output, before attention.output
        out = (weights @ v).transpose(1, 2).flatten(2)
        torch.testing.assert_close(out[mask], context, atol=1e-5, rtol=0)


def _values(mod, hidden: torch.Tensor) -> torch.Tensor:
    """V (B, H, T, d) of a native self-attention module, from its packed Wqkv."""
    b, t, _ = hidden.shape
    return mod.Wqkv(hidden).view(b, t, 3, mod.n_heads, mod.head_size)[:, :, 2].transpose(1, 2)


def test_attention_maps_of_one_sequence_are_the_published_probabilities(
    published, tmp_path, monkeypatch
):
    reference, folder = _published_checkpoint(published, tmp_path / "c", "classifier")
    m = dv.load_model(folder, device="cpu")
    seq = _sequences((90,))[0]
    maps = dv.attention_maps(m, seq)
    _, _, probs, _ = _published_forward(
        reference, m.inputs(m.encode(seq), np.arange(1)), monkeypatch
    )
    np.testing.assert_allclose(
        maps.attentions, torch.stack([p[0] for p in probs]).numpy(), atol=1e-6
    )
    assert maps.tokens[0] == "[CLS]" and maps.tokens[-1] == "[SEP]"


@pytest.mark.parametrize("n_heads", [1, 5, 6, 8, 12, 24])
def test_alibi_slopes_are_the_published_ones(published, n_heads):
    layers, configuration = published
    keys = json.loads((REFERENCE / "config.json").read_text())
    keys.update(
        SIZES,
        num_attention_heads=n_heads,
        hidden_size=8 * n_heads,
        pad_token_id=3,
        alibi_starting_size=3,
    )
    encoder = layers.BertEncoder(configuration.BertConfig(**keys))
    assert torch.equal(
        encoder.alibi[0, :, 0, 1], -torch.tensor(alibi_slopes(n_heads), dtype=torch.float32)
    )
