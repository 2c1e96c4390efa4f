"""Nucleotide Transformer v2 built natively (dnabert_viz/architectures/nucleotide_transformer.py):
routing, the published layout, every workbench method on it, bad input, and parity with
InstaDeep's own (JAX/haiku) implementation.

The parity tests read ``nucleotide_transformer/`` from the published repository
instadeepai/nucleotide-transformer (a snapshot, :mod:`tests.published`) and run it with
``jax`` and ``dm-haiku``; without either they skip, saying so. No copy of the published
Hugging Face ``modeling_esm.py`` of NT v2 could be found in a public repository, so the
PyTorch port's layout is checked against transformers' own ESM, from which it derives.
"""

import json
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

import dnabert_viz as dv
from dnabert_viz.architectures.nucleotide_transformer import (
    NtV2Config,
    NtV2ForMaskedLM,
    NtV2ForSequenceClassification,
)

from .checkpoints import NT_V2_CONFIG, nt_v2, nucleotide_transformer
from .published import published_files
from .test_language_model import brute_force_token

SEQS = ["ACGTACGTAGGNACGTACGTTTACG", "TTGACGGCATCGAAGCTAGCTAGGCTTACCAGTACGAT", "GATTACAGATTACA"]
BASES = "ACGT"


@pytest.fixture(scope="module")
def mlm(tmp_path_factory, device):
    return dv.load_model(nt_v2(tmp_path_factory.mktemp("nt2_mlm")), device=device)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, device):
    folder = nt_v2(tmp_path_factory.mktemp("nt2_cls"), head="classifier", seed=1)
    return dv.load_model(folder, device=device)


def _edited(folder, **keys):
    """The folder with config.json's keys changed."""
    config = json.loads((folder / "config.json").read_text())
    config.update(keys)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


# ------------------------------------------------------------------------------------ loading
def test_the_published_layout_loads_natively_and_v1_keeps_transformers_esm(mlm, tmp_path):
    assert type(mlm.model) is NtV2ForMaskedLM and mlm.is_masked_lm and mlm.returns_attention
    assert mlm.tokenizer.scheme == "nonoverlapping6" and len(mlm.tokenizer.vocab) == 4107
    # ESM's positions: 2,050 less [PAD] + 1, as the published port counts them
    assert mlm.max_tokens == 2048
    toks = mlm.tokenizer.convert_ids_to_tokens(mlm.encode(SEQS[0]).input_ids[0])
    assert toks[:4] == ["<cls>", "ACGTAC", "G", "T"]
    # NT v1: transformers' ESM with absolute positions and a GELU feed-forward, as before
    v1 = dv.load_model(nucleotide_transformer(tmp_path / "v1"), device="cpu")
    assert type(v1.model).__name__ == "EsmForMaskedLM"
    assert type(v1.model).__module__.startswith("transformers.")
    # a config without model_type (the remote code's auto_map alone) routes here too
    folder = nt_v2(tmp_path / "no_type")
    config = json.loads((folder / "config.json").read_text())
    del config["model_type"], config["add_bias_fnn"]
    (folder / "config.json").write_text(json.dumps(config))
    again = dv.load_model(folder, device="cpu")
    assert type(again.model) is NtV2ForMaskedLM and again.model.config.add_bias_fnn is False


def test_the_parameter_names_are_transformers_esm_with_a_bias_free_gated_feed_forward():
    from transformers import EsmConfig, EsmForMaskedLM

    keys = {k: v for k, v in NT_V2_CONFIG.items() if k not in ("auto_map", "architectures")}
    torch.manual_seed(0)
    ours = dict(NtV2ForMaskedLM(NtV2Config(**keys)).named_parameters())
    stock = dict(EsmForMaskedLM(EsmConfig(**keys)).named_parameters())
    # the published port's feed-forward: no biases, intermediate.dense twice as wide; the
    # contact head is not built here
    biases = ("intermediate.dense.bias", "output.dense.bias")
    feed_forward = {n for n in stock if n.endswith(biases) and "attention.output" not in n}
    contact = {n for n in stock if ".contact_head." in n}
    assert set(ours) == set(stock) - feed_forward - contact
    for name, p in ours.items():
        wide = name.endswith("intermediate.dense.weight")
        expected = (2 * stock[name].shape[0], stock[name].shape[1]) if wide else stock[name].shape
        assert p.shape == expected, name


def test_every_tensor_equals_the_file_and_published_extras_are_passed_over(mlm, tmp_path):
    file = load_file(mlm.name + "/model.safetensors")
    built = mlm.model.state_dict()
    passed_over = {n for n in file if n not in built}
    assert passed_over == {
        "esm.embeddings.position_embeddings.weight",
        "esm.contact_head.regression.weight",
        "esm.contact_head.regression.bias",
    }
    for name, tensor in built.items():
        assert torch.equal(tensor.cpu(), file[name]), name
    # published rotary frequencies: 1 / 10000^(2i / head size)
    inv_freq = file["esm.encoder.layer.0.attention.self.rotary_embeddings.inv_freq"]
    np.testing.assert_allclose(inv_freq, 1 / 10000 ** (np.arange(0, 8, 2) / 8), rtol=1e-6)


def test_save_pretrained_writes_the_published_layout_and_loads_back(classifier, tmp_path):
    classifier.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "esm" and config["add_bias_fnn"] is False
    assert config["auto_map"] == NT_V2_CONFIG["auto_map"]
    assert config["position_embedding_type"] == "rotary"
    again = dv.load_model(tmp_path, device="cpu")
    assert type(again.model) is NtV2ForSequenceClassification
    for name, tensor in classifier.model.state_dict().items():
        assert torch.equal(tensor.cpu(), again.model.state_dict()[name]), name


def test_tied_decoder_gated_biases_and_embedding_norm_load(tmp_path):
    # keys of the published port this family supports beyond the NT v2 configs' values
    folder = nt_v2(
        tmp_path / "ck", tie_word_embeddings=True, add_bias_fnn=True, emb_layer_norm_before=True
    )
    assert "lm_head.decoder.weight" not in load_file(folder / "model.safetensors")
    m = dv.load_model(folder, device="cpu")
    model = m.model
    assert model.lm_head.decoder.weight is model.esm.embeddings.word_embeddings.weight
    assert model.esm.encoder.layer[0].intermediate.dense.bias.shape == (128,)
    assert model.esm.embeddings.layer_norm is not None
    assert np.isfinite(m.embed(SEQS).layer(-1)).all()


def test_the_heads_compute_what_transformers_esm_heads_compute(mlm, classifier):
    # the published port's heads are transformers' ESM heads; run those on our final states
    from transformers import EsmConfig
    from transformers.models.esm.modeling_esm import EsmClassificationHead, EsmLMHead

    enc = mlm.encode(SEQS)
    for m, stock in ((mlm, EsmLMHead), (classifier, EsmClassificationHead)):
        keys = {k: v for k, v in m.model.config.to_dict().items() if k in NT_V2_CONFIG}
        head = stock(EsmConfig(**keys, num_labels=2)).to(m.device).eval()
        ours = m.model.lm_head if stock is EsmLMHead else m.model.classifier
        head.load_state_dict(ours.state_dict())
        with torch.no_grad():
            out = m.model(**m.inputs(enc, np.arange(3)), output_hidden_states=True)
            torch.testing.assert_close(head(out.hidden_states[-1]), out.logits)


# ------------------------------------------------------------------------- forward behaviour
def test_padding_changes_no_real_position_and_eager_equals_sdpa(mlm):
    enc = mlm.encode(SEQS)
    with torch.no_grad():
        together = mlm.model(**mlm.inputs(enc, np.arange(3)), output_hidden_states=True)
        with mlm.attention_readable():
            eager = mlm.model(**mlm.inputs(enc, np.arange(3))).logits
        for i, seq in enumerate(SEQS):
            one = mlm.encode(seq)
            alone = mlm.model(**mlm.inputs(one, np.arange(1))).logits[0]
            n = int(one.attention_mask.sum())
            torch.testing.assert_close(together.logits[i, :n], alone, rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(eager[i, :n], together.logits[i, :n], rtol=1e-5, atol=1e-5)
    # the published port's states: embeddings, layer 1, and the last layer's after the final
    # norm, which the LM head reads
    assert len(together.hidden_states) == 3
    with torch.no_grad():
        logits = mlm.model.lm_head(together.hidden_states[-1])
    torch.testing.assert_close(logits, together.logits, rtol=1e-6, atol=1e-6)
    real = mlm.inputs(enc, np.arange(3))["attention_mask"].bool()
    final = mlm.model.esm.encoder.emb_layer_norm_after
    with torch.no_grad():
        unscaled = (together.hidden_states[-1][real] - final.bias) / final.weight
    torch.testing.assert_close(unscaled.mean(-1), torch.zeros(len(unscaled)), atol=1e-4, rtol=0)
    torch.testing.assert_close(unscaled.var(-1, unbiased=False), torch.ones(len(unscaled)))
    # padding embeddings are zero, as the published port's
    assert together.hidden_states[0][~real].abs().max() == 0


def test_attention_maps_and_cls_attention(mlm):
    maps = dv.attention_maps(mlm, SEQS[1])
    att = maps.attentions
    n = int(mlm.encode(SEQS[1]).attention_mask.sum())
    assert att.shape == (2, 4, n, n)
    np.testing.assert_allclose(att.sum(-1), 1, atol=1e-5)
    assert att.std() > 0.01  # not uniform
    scores = dv.score(mlm, SEQS, "cls_attention")
    assert np.isfinite(scores.values[1, : len(SEQS[1])]).all()


def test_embeddings_average_the_last_state_over_real_tokens(mlm):
    got = mlm.embed(SEQS).layer(-1)
    enc = mlm.encode(SEQS[2])
    with torch.no_grad():
        out = mlm.model(**mlm.inputs(enc, np.arange(1)), output_hidden_states=True)
    last = out.hidden_states[-1][0].cpu().numpy()
    np.testing.assert_allclose(got[2], last[enc.real[0, : last.shape[0]]].mean(0), rtol=1e-5)


def test_windows_over_6mer_tokens_cover_a_long_sequence(tmp_path, device):
    m = dv.load_model(nt_v2(tmp_path / "ck"), device=device, max_tokens=6)
    long = (SEQS[1] * 3)[:100]
    enc = m.encode(long, window_size=30, stride=24)
    assert enc.input_ids.shape[1] <= 6 and len(enc.input_ids) > 1
    scores = dv.score(m, long, "lm_surprise")
    assert np.isfinite(scores.values[0]).all()


# ---------------------------------------------------------------------- language-model scores
def test_masked_lm_scores_equal_masking_each_token_by_hand(mlm):
    got = dv.base_log_probs(mlm, SEQS, batch_size=5)
    for i, seq in enumerate(SEQS):
        for p in range(len(seq)):
            if seq[p] == "N":
                assert np.isnan(got[i, p]).all()
                continue
            np.testing.assert_allclose(
                got[i, p], brute_force_token(mlm, seq, p), rtol=1e-4, atol=1e-5
            )
    assert np.nanmax(np.abs(got - np.log(0.25))) > 0.5  # far from uniform


def test_zero_shot_variant_effects_equal_the_mutation_map(mlm):
    mm = dv.score(mlm, SEQS[0], "lm_mutation_map").extra["effects"][0]
    table = pd.DataFrame(
        {"sequence_index": [0, 0], "position": [3, 13], "ref": ["T", "C"], "alt": ["A", "G"]}
    )
    out = dv.lm_variant_effects(mlm, table, sequences=[SEQS[0]])
    assert out.llr[0] == pytest.approx(mm[3, BASES.index("A")], abs=1e-4)
    assert out.llr[1] == pytest.approx(mm[13, BASES.index("G")], abs=1e-4)
    assert np.nanmax(np.abs(mm)) > 0.1


# ------------------------------------------------------------------ attribution on a classifier
def test_prediction_attribution_and_ism_on_a_classifier(classifier):
    probs = classifier.predict(SEQS)
    assert probs.shape == (3, 2) and np.ptp(probs[:, 1]) > 1e-3
    ig = dv.attribute(classifier, SEQS, method="integrated_gradients", target=1, n_steps=32)
    assert np.isfinite(ig.values[0, : len(SEQS[0])]).all()
    delta = ig.extra["convergence_delta"]
    assert np.abs(delta).max() < 0.05 * np.abs(np.nansum(ig.values, axis=1)).max() + 1e-3
    effects = dv.ism(classifier, SEQS[2], target=1).extra["effects"][0]
    mutant = SEQS[2][:4] + "C" + SEQS[2][5:]
    expected = classifier.predict(mutant)[0, 1] - probs[2, 1]
    assert effects[4, BASES.index("C")] == pytest.approx(expected, abs=1e-5)


def test_every_registered_method_runs_or_says_why_not(mlm, classifier):
    from dnabert_viz.methods import method_names

    ran = {}
    for m in (mlm, classifier):
        for name in method_names():
            options = {"n_steps": 4} if name == "integrated_gradients" else {}
            try:
                values = dv.score(m, SEQS[:2], name, **options).values
            except ValueError as err:
                assert "\n" not in str(err)
                continue
            assert np.isfinite(values[0, : len(SEQS[0])]).any(), name
            ran.setdefault(m.is_classifier, []).append(name)
    assert {"cls_attention", "lm_surprise", "lm_entropy", "lm_mutation_map"} <= set(ran[False])
    # the one-hot bridge needs overlapping k-mers; the rest explain the classifier
    assert {"integrated_gradients", "deeplift", "ism", "hypothetical_ism"} <= set(ran[True])
    assert not any(name.startswith("onehot_") for name in ran[True])


# ------------------------------------------------------------------------------------ bad input
def _one_line(folder, match):
    with pytest.raises(ValueError) as info:
        dv.load_model(folder, device="cpu")
    message = str(info.value)
    assert "\n" not in message and str(folder) in message, message
    assert match in message, message
    return message


def test_config_keys_that_disagree_with_the_weights_are_named(tmp_path):
    message = _one_line(
        _edited(nt_v2(tmp_path / "a"), intermediate_size=32),
        "shapes disagree with config.json: esm.encoder.layer.0.intermediate.dense.weight "
        "(128, 32)",
    )
    assert message.startswith(f"{tmp_path / 'a' / 'model.safetensors'}: ")
    assert "config.json's intermediate_size is 32, the weights' 64" in message
    message = _one_line(
        _edited(nt_v2(tmp_path / "b"), num_hidden_layers=3),
        "lacks 14 Nucleotide Transformer v2 (mlm) parameters",
    )
    assert "config.json's num_hidden_layers is 3, the weights' 2" in message
    # weights with feed-forward biases under add_bias_fnn: false
    _one_line(
        _edited(nt_v2(tmp_path / "c", add_bias_fnn=True), add_bias_fnn=False),
        "4 weights Nucleotide Transformer v2 (mlm) does not have, e.g. "
        "['esm.encoder.layer.0.intermediate.dense.bias'",
    )


def test_a_file_that_lacks_tensors_is_named(tmp_path):
    folder = nt_v2(tmp_path / "ck")
    state = load_file(folder / "model.safetensors")
    del state["lm_head.layer_norm.weight"], state["esm.encoder.layer.1.output.dense.weight"]
    save_file(state, folder / "model.safetensors")
    _one_line(folder, "lacks 2 Nucleotide Transformer v2 (mlm) parameters (they would run with")


def test_a_vocabulary_that_disagrees_with_the_config_is_named(tmp_path):
    _one_line(
        _edited(nt_v2(tmp_path / "a"), vocab_size=4108),
        "tokenizer has 4107 tokens (a k=6 vocabulary) but config.json says vocab_size 4108",
    )
    _one_line(
        _edited(nt_v2(tmp_path / "b"), mask_token_id=3),
        "mask_token_id 3 but " + str(tmp_path / "b" / "vocab.txt") + " has <mask> at 2",
    )
    # a 3-mer vocabulary (the codon model's) under a 6-mer model's weights
    folder = nt_v2(tmp_path / "c")
    (tmp_path / "d").mkdir()
    nt_v2(tmp_path / "d", k=3)
    for name in ("vocab.txt", "config.json"):
        (folder / name).write_text((tmp_path / "d" / name).read_text())
    _one_line(folder, "word_embeddings.weight (4107, 32) (config.json: (75, 32))")


def test_what_this_family_does_not_build_is_refused_in_one_line(tmp_path):
    _one_line(
        _edited(nt_v2(tmp_path / "a"), position_embedding_type="absolute"),
        "not a Nucleotide Transformer v2 config (position_embedding_type 'absolute'",
    )
    _one_line(
        _edited(nt_v2(tmp_path / "b"), token_dropout=True),
        "token_dropout True: the native Nucleotide Transformer v2 takes False only",
    )
    _one_line(
        _edited(nt_v2(tmp_path / "d"), rescaling_factor=2.0),
        "rescaling_factor 2.0: the native Nucleotide Transformer v2 takes None only",
    )
    _one_line(
        _edited(nt_v2(tmp_path / "c"), architectures=["EsmForTokenClassification"]),
        "a per-token classifier, which the native Nucleotide Transformer v2 does not build",
    )


def test_the_codon_model_s_3mer_vocabulary_loads(tmp_path):
    m = dv.load_model(nt_v2(tmp_path / "ck", k=3), device="cpu")
    assert m.tokenizer.scheme == "nonoverlapping3" and len(m.tokenizer.vocab) == 75
    assert m.embed(SEQS).layer(-1).shape == (3, 32)


# --------------------------------------------------------- parity with InstaDeep's published code
PUBLISHED = [
    f"nucleotide_transformer/{name}.py"
    for name in ("__init__", "model", "layers", "types", "utils")
]


@pytest.fixture(scope="module")
def haiku_nt(tmp_path_factory):
    """InstaDeep's ``nucleotide_transformer.model`` (JAX/haiku), from the published repository."""
    hk = pytest.importorskip("haiku", reason="dm-haiku (InstaDeep's NT runs on it) is absent")
    jax = pytest.importorskip("jax", reason="jax (InstaDeep's NT runs on it) is absent")
    into = tmp_path_factory.mktemp("nt")
    root = published_files("instadeepai/nucleotide-transformer", PUBLISHED, into)
    sys.path.insert(0, str(root))
    try:
        import nucleotide_transformer.model as model
    finally:
        sys.path.remove(str(root))
    return hk, jax, model


def _haiku_params(ours: dict[str, torch.Tensor], n_layers: int, name: str) -> dict:
    """The native model's state dict under the haiku names of InstaDeep's NucleotideTransformer
    (``w`` is the transpose of torch's ``weight``; layer norms' ``scale`` / ``offset``)."""
    import jax.numpy as jnp

    def t(key: str, transpose: bool = False):
        value = ours[key].detach().cpu().numpy()
        return jnp.asarray(value.T if transpose else value)

    def linear(key: str, bias: bool = True) -> dict:
        out = {"w": t(f"{key}.weight", True)}
        return {**out, "b": t(f"{key}.bias")} if bias else out

    def norm(key: str) -> dict:
        return {"scale": t(f"{key}.weight"), "offset": t(f"{key}.bias")}

    params = {f"{name}/~/embed": {"embeddings": t("esm.embeddings.word_embeddings.weight")}}
    if "esm.embeddings.layer_norm.weight" in ours:
        params[f"{name}/~/emb_layer_norm_before"] = norm("esm.embeddings.layer_norm")
    for i in range(n_layers):
        ours_, theirs = f"esm.encoder.layer.{i}", f"{name}/attention_layer_{i}/~/"
        for part in ("query", "key", "value"):
            params[theirs + f"self_attention/{part}"] = linear(f"{ours_}.attention.self.{part}")
        params[theirs + "self_attention/mha_output"] = linear(f"{ours_}.attention.output.dense")
        params[theirs + "self_attention_layer_norm"] = norm(f"{ours_}.attention.LayerNorm")
        params[theirs + "final_layer_norm"] = norm(f"{ours_}.LayerNorm")
        params[theirs + "fc1"] = linear(f"{ours_}.intermediate.dense", bias=False)
        params[theirs + "fc2"] = linear(f"{ours_}.output.dense", bias=False)
    head = f"{name}/~/roberta_lm_head/~/"
    params[head + "emb_layer_norm_after"] = norm("esm.encoder.emb_layer_norm_after")
    params[head + "lm_head_fc_1"] = linear("lm_head.dense")
    params[head + "lm_head_layer_norm"] = norm("lm_head.layer_norm")
    params[head + "lm_final_fc"] = {"w": t("lm_head.decoder.weight", True), "b": t("lm_head.bias")}
    return params


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("norm_before", [False, True])
def test_logits_states_and_attention_equal_instadeep_s_implementation(
    haiku_nt, tmp_path, norm_before
):
    hk, jax, model = haiku_nt
    # every layer norm at haiku's 1e-5: InstaDeep's code fixes the LM head's two there, the
    # published port takes config.json's layer_norm_eps for all
    folder = nt_v2(tmp_path / "ck", layer_norm_eps=1e-5, emb_layer_norm_before=norm_before)
    m = dv.load_model(folder, device="cpu")
    cfg = m.model.config
    layers, heads = cfg.num_hidden_layers, cfg.num_attention_heads
    config = model.NucleotideTransformerConfig(
        alphabet_size=cfg.vocab_size,
        pad_token_id=cfg.pad_token_id,
        mask_token_id=cfg.mask_token_id,
        embed_dim=cfg.hidden_size,
        attention_heads=heads,
        ffn_embed_dim=cfg.intermediate_size,
        num_layers=layers,
        positional_embedding=None,
        use_rotary_embedding=True,
        add_bias_ffn=False,
        ffn_activation_name="swish",
        use_glu_in_ffn=True,
        layer_norm_eps=1e-5,
        pre_layer_norm=True,
        emb_layer_norm_before=norm_before,
        embeddings_layers_to_save=tuple(range(1, layers + 1)),
        # the published code returns head number + 1 (``attention_weights[:, map_number + 1]``)
        attention_maps_to_save=[(n, h - 1) for n in range(1, layers + 1) for h in range(heads)],
    )
    forward = jax.jit(
        hk.transform(model.build_nucleotide_transformer_fn(config, model_name="nt")).apply
    )
    params = _haiku_params(m.model.state_dict(), layers, "nt")
    # padded batches of different lengths (and a sequence with an N)
    for rows in ([0, 1, 2], [2, 0]):
        enc = m.encode([SEQS[r] for r in rows])
        inputs = m.inputs(enc, np.arange(len(rows)))
        with torch.no_grad(), m.attention_readable():
            out = m.model(**inputs, output_hidden_states=True, output_attentions=True)
        theirs = forward(params, None, np.asarray(inputs["input_ids"]))
        real = inputs["attention_mask"].bool().numpy()
        for i in range(len(rows)):
            r = real[i]
            np.testing.assert_allclose(
                out.logits[i][r].numpy(), np.asarray(theirs["logits"])[i][r], rtol=1e-5, atol=1e-5
            )
            for layer in range(1, layers + 1):
                np.testing.assert_allclose(
                    out.hidden_states[layer][i][r].numpy(),
                    np.asarray(theirs[f"embeddings_{layer}"])[i][r],
                    rtol=1e-5,
                    atol=1e-5,
                )
                for h in range(heads):
                    mine = out.attentions[layer - 1][i, h][r][:, r].numpy()
                    key = f"attention_map_layer_{layer}_number_{h - 1}"
                    np.testing.assert_allclose(
                        mine, np.asarray(theirs[key])[i][r][:, r], rtol=1e-5, atol=1e-6
                    )
                    # padding gets no attention in either
                    assert (out.attentions[layer - 1][i, h][r][:, ~r] == 0).all()
