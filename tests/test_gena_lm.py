"""GENA-LM built natively: routing, the published layout, the workbench on it, bad input, and
parity with the published ``modeling_bert.py`` and tokenizer (AIRI-Institute/GENA_LM)."""

import importlib.util
import json
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from tokenizers import Tokenizer

import dnabert_viz as dv
from dnabert_viz.architectures.gena_lm import GenaLmForMaskedLM
from dnabert_viz.architectures.weights import read_state_dict
from dnabert_viz.methods import get_method, method_names

from .checkpoints import GENA_LM_CONFIG, gena_lm, moderngena
from .published import published_files

SEQS = ["ACGTTGCAACGGATCCGTAGCTAGGCTTAACG", "GGCATNNNNNNNNNNNNNCGATACGTAAT", "ACGNTTA"]


@pytest.fixture(scope="module")
def mlm(tmp_path_factory, device):
    return dv.load_model(gena_lm(tmp_path_factory.mktemp("gena") / "mlm"), device=device)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, device):
    folder = gena_lm(tmp_path_factory.mktemp("gena") / "classifier", head="classifier")
    return dv.load_model(folder, device=device)


@pytest.mark.parametrize(
    "head, keys, cls, last_ln",
    [
        ("mlm", {}, "GenaLmForMaskedLM", True),
        ("mlm", {"last_layer_norm": False}, "GenaLmForMaskedLM", False),
        ("classifier", {}, "GenaLmForSequenceClassification", True),
        ("encoder", {}, "GenaLmModel", True),
    ],
)
def test_a_pre_ln_bert_config_loads_natively_every_tensor_from_the_file(
    tmp_path, head, keys, cls, last_ln
):
    folder = gena_lm(tmp_path / "g", head, weights="safetensors", **keys)
    m = dv.load_model(folder, device="cpu")
    assert type(m.model).__name__ == cls
    assert m.model.config.model_type == "bert" and m.model.config.pre_layer_norm
    built = m.model.state_dict()
    prefix = "" if head == "encoder" else "bert."
    assert (f"{prefix}encoder.last_layer_ln.weight" in built) == last_ln
    for name, tensor in read_state_dict(folder / "model.safetensors").items():
        if name in built:  # position_ids: a buffer transformers 4 saved, built here, not saved
            assert torch.equal(built[name], tensor), name
    assert m.is_masked_lm == (head == "mlm") and m.is_classifier == (head == "classifier")


def test_a_post_ln_bert_config_still_loads_as_stock_bert_with_the_same_outputs(tmp_path):
    folder = gena_lm(tmp_path / "post", pre_layer_norm=False)
    stock = dv.load_model(folder, device="cpu")
    assert type(stock.model).__name__ == "BertForMaskedLM"
    native = GenaLmForMaskedLM(stock.model.config).eval()  # the post-LN network built here
    native.load_state_dict(stock.model.state_dict())
    inputs = stock.inputs(stock.encode(SEQS), np.arange(len(SEQS)))
    with torch.no_grad():
        difference = (native(**inputs).logits - stock.model(**inputs).logits).abs().max()
    assert difference < 1e-5


def test_save_pretrained_loads_back_natively(mlm, tmp_path, device):
    mlm.save_pretrained(tmp_path / "saved")
    back = dv.load_model(tmp_path / "saved", device=device)
    assert type(back.model).__name__ == "GenaLmForMaskedLM"
    assert np.allclose(back.embed(SEQS).layer(-1), mlm.embed(SEQS).layer(-1), atol=1e-6)


def test_n_runs_are_one_token_spanning_the_run(mlm):
    enc = mlm.encode(SEQS[1])
    tokens = mlm.tokenizer.convert_ids_to_tokens(enc.input_ids[0])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    dash = tokens.index("-")
    assert enc.spans[0, dash].tolist() == [5, 18]  # the 13 N
    real = enc.spans[0][enc.spans[0, :, 0] >= 0]
    assert real[0, 0] == 0 and real[-1, 1] == len(SEQS[1])
    assert (real[1:, 0] == real[:-1, 1]).all()  # every nucleotide in exactly one token


def test_attention_is_read_eagerly_and_padding_changes_nothing(mlm):
    maps = dv.attention_maps(mlm, SEQS[0])
    n_tokens = len(maps.tokens)
    assert maps.attentions.shape == (2, 4, n_tokens, n_tokens)
    assert np.allclose(maps.attentions.sum(-1), 1, atol=1e-5)
    alone = dv.score(mlm, SEQS[0], "cls_attention").values[0]
    batched = dv.score(mlm, SEQS, "cls_attention").values[0]
    assert np.allclose(alone, batched, atol=1e-5)
    assert mlm.model.config._attn_implementation != "eager"  # switched back


def test_long_sequences_are_scored_in_windows(mlm):
    rng = np.random.default_rng(1)
    long = "".join(rng.choice(list("ACGT"), size=600))
    enc = mlm.encode(long)
    assert len(enc.input_ids) > 1 and enc.input_ids.shape[1] <= mlm.max_tokens
    embedding = mlm.embed(long).layer(-1)
    assert embedding.shape == (1, 32) and np.isfinite(embedding).all()


def test_every_method_runs_but_the_one_hot_bridge_of_k_mer_models(mlm, classifier):
    for name in method_names():
        method = get_method(name)
        if name.startswith("onehot_"):
            with pytest.raises(ValueError, match="Use method='hypothetical_ism'"):
                dv.score(classifier, SEQS[:2], name)
            continue
        m = next((m for m in (classifier, mlm) if method.unavailable(m) is None), None)
        assert m is not None, name
        scores = dv.score(m, SEQS[:2], name)
        assert scores.values.shape[0] == 2, name
        bases = [np.array([c != "N" for c in s]) for s in SEQS[:2]]  # N: no reference base
        finite = [np.isfinite(v[: len(b)][b]).all() for v, b in zip(scores.values, bases)]
        assert all(finite), name


def test_zero_shot_variant_effects_are_the_mutation_map(mlm):
    table = pd.DataFrame({"sequence_index": [0, 0], "position": [3, 10], "ref": ["T", "G"]})
    table["alt"] = ["A", "C"]
    effects = dv.lm_variant_effects(mlm, table, sequences=SEQS[:1])
    mutation_map = dv.score(mlm, SEQS[0], "lm_mutation_map").extra["effects"][0]
    expected = [mutation_map[3, "ACGT".index("A")], mutation_map[10, "ACGT".index("C")]]
    assert np.allclose(effects["llr"], expected, atol=1e-5)
    assert (effects["pll_diff"] != 0).all()


@pytest.mark.parametrize(
    "keys, named",
    [
        (
            {"sparse_config_cls": "deepspeed.ops.sparse_attention:BigBirdSparsityConfig"},
            "sparse_config_cls",
        ),
        ({"sparse_attention": {"block": 64}}, "sparse_attention"),
        (
            {"position_embedding_type": "rotary", "rotary_dim": 8},
            "position_embedding_type 'rotary'",
        ),
        ({"last_layer_norm": False}, "last_layer_norm is false"),
        ({"hidden_size": 48}, "hidden_size is 48, the weights' 32"),
        ({"num_hidden_layers": 3}, "num_hidden_layers is 3, the weights' 2"),
        ({"vocab_size": 100}, "vocab_size 100"),
    ],
)
def test_a_config_that_disagrees_is_one_line_naming_the_file_and_key(tmp_path, keys, named):
    folder = gena_lm(tmp_path / "g")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **keys}))
    with pytest.raises(ValueError) as err:
        dv.load_model(folder, device="cpu")
    message = str(err.value)
    assert "\n" not in message and named in message
    assert str(folder) in message


def test_weights_without_the_final_norm_under_a_config_without_the_key_are_named(tmp_path):
    folder = gena_lm(tmp_path / "g", last_layer_norm=False)
    config = json.loads((folder / "config.json").read_text())
    del config["last_layer_norm"]  # published default: pre_layer_norm's value
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"last_layer_norm is absent \(so true\) but the weights"):
        dv.load_model(folder, device="cpu")


def test_block_sparse_bigbird_is_refused_naming_the_key(tmp_path):
    folder = gena_lm(tmp_path / "g")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="big_bird", architectures=["BigBirdForMaskedLM"])
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        ValueError, match=r"config\.json: attention_type 'block_sparse'.*original_full"
    ):
        dv.load_model(folder, device="cpu")


def test_missing_tensors_are_named(tmp_path):
    folder = gena_lm(tmp_path / "g")
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    del state["bert.encoder.layer.1.post_attention_ln.weight"]
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(
        ValueError,
        match=r"pytorch_model\.bin: lacks 1 GENA-LM \(mlm\).*"
        r"layer\.1\.post_attention_ln\.weight",
    ):
        dv.load_model(folder, device="cpu")


# ------------------------------------------------------------------ parity with the published code
GENA = "AIRI-Institute/GENA_LM"
CODE = "src/gena_lm/modeling_bert.py"
TOKENIZER = "data/tokenizers/t2t_1000h_multi_32k/tokenizer.json"
CONFIGS = {
    "preln": "data/configs/L12-H768-A12-V32k-preln.json",  # last_layer_norm: false
    "preln-lastln": "data/configs/L12-H768-A12-V32k-preln-lastln.json",  # no key: last LN
    "postln": "data/configs/L12-H768-A12-V32k-preln.json",  # pre_layer_norm set false below
}


def _extended_attention_mask(self, attention_mask, input_shape, device=None):
    """transformers 4's ``get_extended_attention_mask`` (removed in 5), for the published code."""
    mask = attention_mask[:, None, None, :].to(self.dtype)
    return (1.0 - mask) * torch.finfo(self.dtype).min


def _head_mask(self, head_mask, num_hidden_layers):
    """transformers 4's ``get_head_mask`` (removed in 5) for no head mask."""
    assert head_mask is None
    return [None] * num_hidden_layers


def _no_pruning(*args, **kwargs):
    raise NotImplementedError("find_pruneable_heads_and_indices: removed in transformers 5")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The published ``modeling_bert`` (imported with the shims above) and snapshot folder."""
    import transformers.pytorch_utils
    from transformers import PreTrainedModel

    root = published_files(
        GENA, [CODE, TOKENIZER, *CONFIGS.values()], tmp_path_factory.mktemp("published")
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            transformers.pytorch_utils,
            "find_pruneable_heads_and_indices",
            _no_pruning,
            raising=False,
        )
        patch.setattr(
            PreTrainedModel, "get_extended_attention_mask", _extended_attention_mask, raising=False
        )
        patch.setattr(PreTrainedModel, "get_head_mask", _head_mask, raising=False)
        spec = importlib.util.spec_from_file_location("gena_published", root / CODE)
        module = importlib.util.module_from_spec(spec)
        sys.modules["gena_published"] = module
        spec.loader.exec_module(module)
        yield module, root
    sys.modules.pop("gena_published", None)


def _published_checkpoint(published, folder, config_name: str, head: str):
    """A random model of the published classes and config keys (sizes reduced), saved in the
    published layout with the published tokenizer; returns (model, folder)."""
    module, root = published
    keys = json.loads((root / CONFIGS[config_name]).read_text())
    keys.update(GENA_LM_CONFIG, architectures=keys["architectures"])
    keys.pop("auto_map")
    keys["vocab_size"] = 32000
    if config_name == "postln":
        keys["pre_layer_norm"] = False
    if head == "classifier":
        keys.update(architectures=["BertForSequenceClassification"], num_labels=3)
    cls = module.BertForSequenceClassification if head == "classifier" else module.BertForMaskedLM
    torch.manual_seed(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(module.BertConfig(**keys)).eval()
    with torch.no_grad():  # away from the ones/zeros initialisation, so every parameter matters
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        if head == "mlm":  # transformers 4 tied the decoder to the word embeddings
            model.cls.predictions.decoder.weight = model.bert.embeddings.word_embeddings.weight
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes((root / TOKENIZER).read_bytes())
    (folder / "config.json").write_text(json.dumps(keys, indent=2))
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model, folder


def _parity_sequences() -> list[str]:
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), size=n)) for n in (40, 300, 120, 9)]
    seqs[1] = seqs[1][:100] + "N" * 14 + seqs[1][114:200] + "NN" + seqs[1][202:]
    return seqs


@pytest.mark.parity
@pytest.mark.parametrize(
    "config_name, head",
    [("preln", "mlm"), ("preln-lastln", "mlm"), ("preln-lastln", "classifier"), ("postln", "mlm")],
)
def test_random_published_model_matches_on_padded_batches(published, tmp_path, config_name, head):
    model, folder = _published_checkpoint(published, tmp_path / "ckpt", config_name, head)
    m = dv.load_model(folder, device="cpu")
    native = "GenaLm" if config_name != "postln" else "Bert"
    assert type(m.model).__name__.startswith(native)
    enc = m.encode(_parity_sequences())
    assert len(set(enc.attention_mask.sum(1))) == 4  # four lengths: padding in every row but one
    inputs = {
        "input_ids": torch.as_tensor(enc.input_ids),
        "attention_mask": torch.as_tensor(enc.attention_mask),
    }
    options = dict(output_hidden_states=True, output_attentions=True)
    with torch.no_grad(), m.attention_readable():
        theirs = model(**inputs, **options)
        ours = m.model(**inputs, **options)
    real = inputs["attention_mask"].bool()
    worst = {"logits": (ours.logits - theirs.logits).abs().max().item()}
    assert len(ours.hidden_states) == len(theirs.hidden_states) == 3
    worst["hidden"] = max(
        (a - b)[real].abs().max().item() for a, b in zip(ours.hidden_states, theirs.hidden_states)
    )
    worst["attention"] = max(
        (a - b).abs().max().item() for a, b in zip(ours.attentions, theirs.attentions)
    )
    print(config_name, head, worst)
    assert max(worst.values()) < 1e-5, worst


@pytest.mark.parity
def test_our_tokens_and_spans_are_the_published_tokenizer_s(published):
    _, root = published
    tok = Tokenizer.from_file(str(root / TOKENIZER))
    ours = dv.load_tokenizer(root / TOKENIZER.rsplit("/", 1)[0])
    seqs = [*_parity_sequences(), "NNNNNNNNNNNNACGTAC", "ACGTNNNNNNNNNNNNNN", "ACNGTNNACGT"]
    enc = ours.encode(seqs)
    for row, seq in enumerate(seqs):
        published_enc = tok.encode(seq)
        n = len(published_enc.ids)
        assert enc.input_ids[row, :n].tolist() == published_enc.ids
        assert enc.attention_mask[row].sum() == n
        starts, ends = enc.spans[row, 1 : n - 1].T
        published_ends = [end for _, end in published_enc.offsets[1:-1]]
        assert ends.tolist() == published_ends  # a token ends where the published one does
        assert starts[0] == 0 and (starts[1:] == ends[:-1]).all() and ends[-1] == len(seq)


# ------------------------------------------------------------- ModernGENA: stock ModernBERT
@pytest.fixture(scope="module")
def modern(tmp_path_factory, device):
    return dv.load_model(moderngena(tmp_path_factory.mktemp("modern") / "m"), device=device)


def test_moderngena_loads_as_stock_modernbert_with_its_local_layers_named(modern):
    assert type(modern.model).__name__ == "ModernBertForMaskedLM"
    assert modern.attention_kinds == ["global", "local ±4 tokens"] * 2
    maps = dv.attention_maps(modern, SEQS[0] * 3)
    reach = [
        max(abs(i - j) for i, j in zip(*np.nonzero(maps.attentions[layer, 0] > 0)))
        for layer in range(4)
    ]
    assert reach[1] == reach[3] == 4 and reach[0] == reach[2] == len(maps.tokens) - 1
    local, full = (dv.score(modern, SEQS[0], "cls_attention", layer=i).values[0] for i in (1, 2))
    reached = modern.encode(SEQS[0]).spans[0, 4, 1]  # [CLS] reads tokens 0-4 only
    assert (local[:reached] > 0).all() and (local[reached:] == 0).all() and (full > 0).all()


@pytest.mark.slow  # the widgets' first import
def test_the_attention_views_label_moderngena_s_local_layers(modern):
    from dnabert_viz.widgets import AttentionView, SequenceExplorer

    labels = ["0", "1 (local ±4 tokens)", "2", "3 (local ±4 tokens)"]
    view = AttentionView(modern, SEQS[0], layer=1)
    assert [label for label, _ in view.layer_control.options] == labels
    assert view.layer_control.label == labels[1]
    explorer = SequenceExplorer(modern, SEQS[:1])
    assert [label for label, _ in explorer.layer_control.options] == labels


def test_a_bert_s_layers_are_all_global(mlm):
    assert mlm.attention_kinds == ["global", "global"]
