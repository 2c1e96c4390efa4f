"""HyenaDNA built natively (dnabert_viz/architectures/hyenadna.py): loading, causal-LM scores,
attribution, and parity with the published code and weights.

The published code and real weights come from the PyPI package ``anticapt``
1.0 (GPL-3.0), which ships two HyenaDNA-tiny backbones fine-tuned from
``LongSafari/hyenadna-tiny-1k-seqlen-hf`` with the published Hugging Face
port (``modeling_hyena.py``). It is downloaded (``pip download``) into a
temporary folder at test time and imported from there; nothing of it is in
the project. Without the download those tests skip, saying so.
"""

import importlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.architectures.weights import check_loaded, read_state_dict

from .checkpoints import HYENADNA_CONFIG, dnabert1, hyenadna, hyenadna_files

SEQS = ["ACGTTGCAACGGATTACA", "GGATCNATTA", "TTTACGCGCGATATAGCATCGACTTA"]
BASES = "ACGT"


@pytest.fixture(scope="module")
def causal(tmp_path_factory, device):
    return dv.load_model(hyenadna(tmp_path_factory.mktemp("hyena_lm")), device=device)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, device):
    folder = hyenadna(tmp_path_factory.mktemp("hyena_cls"), head="classifier")
    return dv.load_model(folder, device=device)


def _next_base_log_probs(m, ids: list[int]) -> np.ndarray:
    """log p(next base | ids) over ACGT from one forward pass of ``ids`` alone."""
    with torch.no_grad():
        logits = m.model(input_ids=torch.tensor([ids], device=m.device)).logits[0, -1]
    bases = [m.tokenizer.vocab[b] for b in BASES]
    return torch.log_softmax(logits[bases].double(), dim=-1).cpu().numpy()


def _log_likelihood(m, seq: str) -> float:
    """Sum over i >= 1 of log p(base i | bases < i), each prefix run on its own (N left out)."""
    ids = [m.tokenizer.vocab[c] for c in seq]
    return sum(
        _next_base_log_probs(m, ids[:i])[BASES.index(seq[i])]
        for i in range(1, len(seq))
        if seq[i] != "N"
    )


# ------------------------------------------------------------------------------------ loading
def test_a_published_layout_loads_natively_with_its_character_tokenizer(causal):
    assert causal.is_causal_lm and causal.is_lm and not causal.is_masked_lm
    assert not causal.returns_attention and not causal.is_classifier
    assert causal.max_tokens == HYENADNA_CONFIG["max_seq_len"]
    enc = causal.encode(["ACGTN", "AC"])
    # the published tokenizer: A C G T N at 7..11, [SEP] (1) after the sequence, nothing before
    assert enc.input_ids.tolist() == [[7, 8, 9, 10, 11, 1], [7, 8, 1, 4, 4, 4]]
    assert enc.spans[0, :5].tolist() == [[p, p + 1] for p in range(5)]
    assert enc.spans[0, 5].tolist() == [-1, -1]


def test_the_config_keys_are_read_unchanged(causal):
    cfg = causal.model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.d_inner) == (16, 2, 64)
    assert cfg.activation_freq == 10 and cfg.emb_dim == 5 and cfg.filter_order == 16
    freq = causal.model.hyena.backbone.layers[0].mixer.filter_fn.implicit_filter[1].freq
    assert freq is causal.model.hyena.backbone.layers[0].mixer.filter_fn.implicit_filter[5].freq


def test_save_pretrained_writes_the_published_layout_and_loads_back(causal, tmp_path, device):
    causal.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "pytorch_model.bin",
        "tokenizer_config.json",
    ]
    state = torch.load(tmp_path / "pytorch_model.bin", weights_only=True)
    assert "hyena.backbone.layers.1.mixer.filter_fn.implicit_filter.3.freq" in state
    again = dv.load_model(tmp_path, device=device)
    for name, tensor in causal.model.state_dict().items():
        assert torch.equal(tensor, again.model.state_dict()[name]), name


def test_padding_on_the_right_changes_no_real_position(causal):
    batch = causal.encode(SEQS)
    with torch.no_grad():
        together = causal.model(**causal.inputs(batch, np.arange(3))).logits
        for i, seq in enumerate(SEQS):
            alone = causal.model(**causal.inputs(causal.encode(seq), np.arange(1))).logits[0]
            torch.testing.assert_close(together[i, : len(seq) + 1], alone, rtol=1e-5, atol=1e-5)


def test_a_tensor_overwritten_after_loading_is_named(tmp_path):
    # what a weight initialisation that runs after loading (published _init_weights without
    # transformers' initialised-flag guard) would do: check_loaded names the tensor
    folder = hyenadna(tmp_path)
    m = dv.load_model(folder, device="cpu")
    state = read_state_dict(folder / "pytorch_model.bin")
    names = {name: name for name in state}
    check_loaded(folder / "pytorch_model.bin", m.model, state, names)
    with torch.no_grad():
        m.model.hyena.backbone.layers[1].mlp.fc2.weight.mul_(2)
    with pytest.raises(ValueError, match=r"1 tensors .*differ .*layers\.1\.mlp\.fc2\.weight"):
        check_loaded(folder / "pytorch_model.bin", m.model, state, names)


def test_attention_views_say_hyena_has_none_and_what_to_use(causal):
    usable = "use attribution (dv.attribute), dv.ism or the lm_* scores instead"
    with pytest.raises(ValueError) as err:
        dv.score(causal, SEQS, "cls_attention")
    message = str(err.value)
    assert "\n" not in message and "HyenaDNA has no attention" in message and usable in message
    with pytest.raises(NotImplementedError, match="HyenaDNA has no attention"):
        dv.attention_maps(causal, SEQS[0])


# --------------------------------------------------------------------------- causal-LM scores
def test_left_context_log_probs_equal_each_prefix_run_alone(causal):
    scores = dv.score(causal, SEQS, "lm_surprise")
    log_probs = scores.extra["log_probs"]
    seq = SEQS[0]
    ids = [causal.tokenizer.vocab[c] for c in seq]
    for i in range(1, len(seq)):
        np.testing.assert_allclose(
            log_probs[0, i], _next_base_log_probs(causal, ids[:i]), rtol=1e-5, atol=1e-5
        )
    # four probabilities summing to 1 wherever there is a left context and a base
    known = ~np.isnan(scores.values)
    np.testing.assert_allclose(np.exp(log_probs[known]).sum(-1), 1, atol=1e-5)
    assert np.isnan(scores.values[:, 0]).all()  # no left context
    assert np.isnan(scores.values[1, 5])  # an N
    for i, seq in enumerate(SEQS):
        # the surprise summed over a sequence is minus its log-likelihood
        assert np.nansum(scores.values[i]) == pytest.approx(-_log_likelihood(causal, seq), 1e-5)
    entropy = dv.score(causal, SEQS, "lm_entropy").values
    assert np.nanmax(entropy) <= np.log(4) + 1e-6 and np.nanmin(entropy) < 1.0


def test_the_mutation_map_is_the_whole_sequence_log_likelihood_change(causal):
    seq = SEQS[1]  # with an N
    mm = dv.score(causal, seq, "lm_mutation_map")
    effects = mm.extra["effects"][0]
    reference = _log_likelihood(causal, seq)
    for i in (0, 3, len(seq) - 1):
        for b in BASES:
            mutant = seq[:i] + b + seq[i + 1 :]
            expected = _log_likelihood(causal, mutant) - reference
            assert effects[i, BASES.index(b)] == pytest.approx(expected, abs=1e-4)
    # antisymmetric: the way back undoes it
    i, alt = 3, "G" if seq[3] != "G" else "C"
    back = dv.score(causal, seq[:i] + alt + seq[i + 1 :], "lm_mutation_map").extra["effects"]
    assert back[0, i, BASES.index(seq[i])] == pytest.approx(-effects[i, BASES.index(alt)], 1e-4)
    assert np.isnan(effects[5]).all()  # the N
    np.testing.assert_allclose(np.nansum(mm.extra["hypothetical"][0], axis=-1), 0, atol=1e-5)
    # a substitution at the start changes what follows: not the left-context ratio at i
    assert np.abs(effects[0]).max() > 0.1
    # the front door's context option: the surprise given every other base reads the same
    # distributions
    both = dv.score(causal, seq, "lm_surprise", context="both")
    np.testing.assert_allclose(both.extra["log_probs"], mm.extra["log_probs"])
    assert both.meta["context"] == "both" and mm.meta["context"] == "both"


def test_variant_effects_on_a_causal_lm_are_exact_log_likelihoods(causal):
    table = {"sequence_index": [0, 0], "position": [4, 9], "ref": ["T", "C"], "alt": ["A", "G"]}
    import pandas as pd

    out = dv.lm_variant_effects(causal, pd.DataFrame(table), sequences=[SEQS[0]])
    assert out.pll_ref[0] == pytest.approx(_log_likelihood(causal, SEQS[0]), 1e-5)
    mutant = SEQS[0][:4] + "A" + SEQS[0][5:]
    assert out.pll_alt[0] == pytest.approx(_log_likelihood(causal, mutant), 1e-5)
    np.testing.assert_allclose(out.llr, out.pll_diff)
    mm = dv.score(causal, SEQS[0], "lm_mutation_map").extra["effects"][0]
    assert out.llr[1] == pytest.approx(mm[9, BASES.index("G")], abs=1e-4)
    with pytest.raises(ValueError, match="is a causal LM: it hides nothing"):
        dv.lm_variant_effects(causal, pd.DataFrame(table), sequences=[SEQS[0]], wt_marginal=True)


def test_a_causal_lm_s_dependency_map_looks_only_ahead(causal):
    values = dv.dependency_map(causal, SEQS[0][:14]).values
    # a substitution at i changes what the model expects at j > i only
    assert np.nanmax(np.tril(values, -1)) < 1e-4
    assert np.nanmax(np.triu(values, 1)) > 0.1


def test_a_masked_lm_cannot_be_read_from_the_left(tmp_path):

    m = dv.load_model(dnabert1(tmp_path, k=3, head="mlm"), device="cpu")
    with pytest.raises(ValueError, match="is a masked LM: it reads both sides"):
        dv.base_log_probs(m, SEQS[0], context="left")


# ----------------------------------------------------------------- attribution on a classifier
def test_attribution_and_ism_run_on_a_hyena_classifier(classifier):
    probs = classifier.predict(SEQS)
    assert probs.shape == (3, 2)
    ig = dv.attribute(classifier, SEQS, method="integrated_gradients", target=1, n_steps=32)
    assert np.isfinite(ig.values[0, : len(SEQS[0])]).all()
    # integrated gradients are complete: they add up to p(target) - p(baseline) (to a few %)
    delta = ig.extra["convergence_delta"]
    assert np.abs(delta).max() < 0.05 * np.abs(np.nansum(ig.values, axis=1)).max() + 1e-3
    effects = dv.ism(classifier, SEQS[1], target=1).extra["effects"][0]
    mutant = SEQS[1][:2] + "C" + SEQS[1][3:]
    expected = classifier.predict(mutant)[0, 1] - probs[1, 1]
    assert effects[2, BASES.index("C")] == pytest.approx(expected, abs=1e-5)


# ------------------------------------------------------------- the published code and weights
@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """anticapt 1.0 unpacked (``root``), and its HyenaDNA modules imported from there."""
    root = tmp_path_factory.mktemp("anticapt")
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "anticapt==1.0", "--no-deps", "-d", root],
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (subprocess.SubprocessError, OSError) as err:
        pytest.skip(
            f"anticapt 1.0 (the published HyenaDNA code and weights) not downloadable: {err}"
        )
    (wheel,) = root.glob("anticapt-1.0-*.whl")
    zipfile.ZipFile(wheel).extractall(root)
    models = root / "anticapt" / "models"
    package = root / "hyena_published"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("configuration_hyena.py", "modeling_hyena.py", "tokenization_hyena.py"):
        shutil.copy(models / "dataset1" / "finetuned_hyenadna" / name, package / name)
    sys.path.insert(0, str(root))
    try:
        modeling = importlib.import_module("hyena_published.modeling_hyena")
        tokenization = importlib.import_module("hyena_published.tokenization_hyena")
    finally:
        sys.path.remove(str(root))
    folders = [models / f"dataset{i}" / "finetuned_hyenadna" for i in (1, 2)]
    return modeling, tokenization, folders


def _published_random(modeling, folder: Path, head: str, seed: int = 0):
    """A random-weight model of the published classes, saved in the published layout."""
    keys = {k: v for k, v in HYENADNA_CONFIG.items() if k != "auto_map"}
    config = modeling.HyenaConfig(**keys, num_labels=3)
    cls = {
        "causal_lm": modeling.HyenaDNAForCausalLM,
        "classifier": modeling.HyenaDNAForSequenceClassification,
    }[head]
    torch.manual_seed(seed)
    model = cls(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.5)
    hyenadna_files(folder, head, **({"num_labels": 3} if head == "classifier" else {}))
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model


@pytest.mark.slow
@pytest.mark.parity
@pytest.mark.parametrize("head", ["causal_lm", "classifier"])
def test_random_published_model_matches_on_padded_batches(published, tmp_path, head):
    modeling, _, _ = published
    reference = _published_random(modeling, tmp_path, head)
    m = dv.load_model(tmp_path, device="cpu")
    seqs = ["ACGT" * 16, "GATTACA", "CCGNTA" * 5]  # 64 nt: the longest the model takes
    enc = m.encode(seqs)  # padded on the right
    with torch.no_grad():
        ours = m.model(**m.inputs(enc, np.arange(3)), output_hidden_states=True)
        theirs = reference(
            input_ids=torch.as_tensor(enc.input_ids), output_hidden_states=True, return_dict=True
        )
    assert len(ours.hidden_states) == len(theirs.hidden_states) == 4
    for i, seq in enumerate(seqs):
        real = slice(0, len(seq) + 1)  # the bases and [SEP]
        if head == "causal_lm":
            torch.testing.assert_close(
                ours.logits[i, real], theirs.logits[i, real], rtol=1e-5, atol=1e-5
            )
        for a, b in zip(ours.hidden_states, theirs.hidden_states):
            torch.testing.assert_close(a[i, real], b[i, real], rtol=1e-5, atol=1e-5)
    if head == "classifier":  # read at [SEP], the token before the first [PAD] (published rule)
        torch.testing.assert_close(ours.logits, theirs.logits, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parity
@pytest.mark.parametrize("which", [0, 1])
def test_real_weights_load_natively_every_tensor_from_the_file(published, which):
    modeling, tokenization, folders = published
    folder = folders[which]
    m = dv.load_model(folder, device="cpu")
    assert type(m.model).__name__ == "HyenaDnaModel" and not m.is_lm
    # saved on a GPU: read to the CPU
    state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    built = m.model.state_dict()
    assert sorted(built) == sorted(state)
    assert sum(t.numel() for t in state.values()) == 448_920
    for name, tensor in state.items():
        assert torch.equal(built[name], tensor), name
    # the published tokenizer and the published network on the same sequences
    published_tokenizer = tokenization.HyenaDNATokenizer(model_max_length=1026)
    reference = modeling.HyenaDNAModel.from_pretrained(folder).eval()
    seqs = ["ACGTTGCAACGGATTACAGG" * 6, "GGATCNATTA", "TTTACGCGCG" * 25]
    enc = m.encode(seqs)  # padded on the right
    for i, seq in enumerate(seqs):
        assert published_tokenizer(seq)["input_ids"] == enc.input_ids[i, : len(seq) + 1].tolist()
    with torch.no_grad():
        ours = m.model(**m.inputs(enc, np.arange(3))).last_hidden_state
        theirs = reference(torch.as_tensor(enc.input_ids), return_dict=True).last_hidden_state
    embeddings = m.embed(seqs).layer(-1)
    for i, seq in enumerate(seqs):
        real = slice(0, len(seq) + 1)  # the bases and [SEP]
        torch.testing.assert_close(ours[i, real], theirs[i, real], rtol=1e-5, atol=1e-5)
        # dv's embedding: the mean over the bases ([SEP] left out)
        expected = theirs[i, : len(seq)].mean(0).numpy()
        np.testing.assert_allclose(embeddings[i], expected, rtol=1e-5, atol=1e-5)
