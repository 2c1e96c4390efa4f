"""Caduceus built natively (dnabert_viz/architectures/caduceus.py): loading, padded batches,
reverse-complement equivariance, masked-LM scores, attribution, bad input, and parity with the
published code.

The published Caduceus code imports ``mamba_ssm``, whose kernels need CUDA
(and triton). The parity tests build, in a temporary folder, a ``mamba_ssm``
package from the published python source of ``state-spaces/mamba``
(``modules/mamba_simple.py``, ``modules/block.py``,
``ops/selective_scan_interface.py``, ``utils/torch.py``) and a
``ops/triton/layer_norm.py`` shim made of that file's published pure-torch
``layer_norm_ref``, ``rms_norm_ref`` and ``RMSNorm`` (the rest needs
triton), with the fused add-norm functions written over the references; the
selective scan is the published ``selective_scan_ref``. The published
Caduceus code (``kuleshov-group/caduceus``) then runs on the CPU, its fused
and unfused paths both. Nothing of it is in the project.
"""

import ast
import importlib
import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.architectures.weights import read_state_dict

from .checkpoints import CADUCEUS_CONFIG, caduceus, caduceus_files
from .published import MIRROR, published_files

SEQS = ["ACGTTGCAACGGATTACA", "GGATCNATTA", "TTTACGCGCGATATAGCATCGACTTA"]
BASES = "ACGT"
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def reverse_complement(seq: str) -> str:
    return seq.translate(COMPLEMENT)[::-1]


@pytest.fixture(scope="module")
def ps(tmp_path_factory, device):
    """The published "ps" layout: RCPS, fused add-norm (the published checkpoints' settings)."""
    return dv.load_model(caduceus(tmp_path_factory.mktemp("caduceus_ps")), device=device)


@pytest.fixture(scope="module")
def ph(tmp_path_factory, device):
    """The "ph" layout: no RCPS (post-hoc conjoining is the user's), masked LM."""
    folder = caduceus(tmp_path_factory.mktemp("caduceus_ph"), rcps=False)
    return dv.load_model(folder, device=device)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, device):
    # weights drawn narrower than the LMs': integrated gradients add up within 32 steps
    folder = caduceus(tmp_path_factory.mktemp("caduceus_cls"), head="classifier", scale=0.2)
    return dv.load_model(folder, device=device)


def _ids(m, seq: str) -> torch.Tensor:
    """(1, L) token ids of the bases alone (no [SEP])."""
    return torch.tensor([[m.tokenizer.vocab[c] for c in seq]], device=m.device)


# ------------------------------------------------------------------------------------ loading
def test_a_published_layout_loads_natively_with_its_character_tokenizer(ps):
    assert ps.is_masked_lm and ps.is_lm and not ps.is_causal_lm
    assert not ps.returns_attention and not ps.is_classifier
    assert ps.max_tokens == 131072  # tokenizer_config.json's model_max_length
    assert ps.tokenizer.tokenizer_class == "CaduceusTokenizer"
    enc = ps.encode(["ACGTN", "AC"])
    # the published tokenizer: A C G T N at 7..11, [SEP] (1) after the sequence, nothing before
    assert enc.input_ids.tolist() == [[7, 8, 9, 10, 11, 1], [7, 8, 1, 4, 4, 4]]


def test_the_config_keys_are_read_unchanged(ps, tmp_path):
    cfg = ps.model.config
    assert (cfg.d_model, cfg.n_layer, cfg.hidden_size, cfg.padded_vocab_size) == (16, 3, 32, 16)
    assert cfg.rcps and cfg.fused_add_norm and cfg.ssm_cfg["d_state"] == 4
    layer = ps.model.caduceus.backbone.layers[0]
    fwd, rev = layer.mixer.submodule.mamba_fwd, layer.mixer.submodule.mamba_rev
    assert (fwd.ssm_state_size, fwd.intermediate_size, fwd.time_step_rank) == (4, 32, 1)
    # bidirectional_weight_tie: one in_proj and out_proj for both directions; the LM head is the
    # embedding
    assert rev.in_proj.weight is fwd.in_proj.weight and rev.out_proj.weight is fwd.out_proj.weight
    assert rev.x_proj.weight is not fwd.x_proj.weight
    embedding = ps.model.caduceus.backbone.embeddings.word_embeddings.embedding.weight
    assert ps.model.lm_head.lm_head.weight is embedding
    # fused RCPS layers name their norm norm.weight, unfused ones norm.submodule.weight
    names = set(ps.model.state_dict())
    assert "caduceus.backbone.layers.2.norm.weight" in names
    unfused = dv.load_model(caduceus(tmp_path, fused_add_norm=False), device="cpu")
    assert "caduceus.backbone.layers.2.norm.submodule.weight" in unfused.model.state_dict()
    assert "caduceus.backbone.norm_f.submodule.weight" in unfused.model.state_dict()


def test_save_pretrained_writes_the_published_layout_and_loads_back(ps, tmp_path, device):
    ps.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "pytorch_model.bin",
        "tokenizer_config.json",
    ]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "caduceus" and config["architectures"] == [
        "CaduceusForMaskedLM"
    ]
    assert config["complement_map"] == CADUCEUS_CONFIG["complement_map"]
    tokenizer = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert tokenizer["tokenizer_class"] == "CaduceusTokenizer"
    again = dv.load_model(tmp_path, device=device)
    assert again.max_tokens == ps.max_tokens
    for name, tensor in ps.model.state_dict().items():
        assert torch.equal(tensor, again.model.state_dict()[name]), name


@pytest.mark.parametrize("keys", [{}, {"rcps": False}], ids=["ps", "ph"])
def test_a_padded_batch_gives_every_row_what_it_gives_alone(keys, tmp_path, device):
    # in float64, so that the comparison is exact: float32 differs by the rounding of matrix
    # products of other sizes (1e-5 here)
    m = dv.load_model(caduceus(tmp_path, **keys), device=device)
    m.model.double()
    batch = m.encode(SEQS)  # padded on the right
    with torch.no_grad():
        together = m.model(**m.inputs(batch, np.arange(3)), output_hidden_states=True)
        for i, seq in enumerate(SEQS):
            alone = m.model(**m.inputs(m.encode(seq), np.arange(1)), output_hidden_states=True)
            real = slice(0, len(seq) + 1)
            torch.testing.assert_close(
                together.logits[i, real], alone.logits[0], rtol=1e-12, atol=1e-12
            )
            for a, b in zip(together.hidden_states, alone.hidden_states, strict=True):
                torch.testing.assert_close(a[i, real], b[0], rtol=1e-12, atol=1e-12)
    assert len(together.hidden_states) == m.model.config.n_layer + 1


def test_a_left_padded_mask_is_refused(ps):
    ids = torch.tensor([[4, 4, 7, 8], [7, 8, 9, 10]], device=ps.device)
    mask = (ids != 4).long()
    with pytest.raises(ValueError, match="padded on the right"):
        ps.model(input_ids=ids, attention_mask=mask)


# ----------------------------------------------------------- reverse-complement equivariance
@pytest.mark.parametrize("fused", [True, False])
def test_the_ps_model_is_reverse_complement_equivariant(fused, tmp_path, device):
    m = dv.load_model(caduceus(tmp_path, fused_add_norm=fused), device=device)
    complement = m.model.config.complement_ids()
    seq = "ACGTTGCAACGGATTACAGGGTCAT"
    with torch.no_grad():
        forward = m.model(_ids(m, seq), output_hidden_states=True)
        reverse = m.model(_ids(m, reverse_complement(seq)), output_hidden_states=True)
    # the log-probabilities of the reverse complement are the complemented reversed ones
    lp, lp_rc = (torch.log_softmax(o.logits[0], dim=-1) for o in (forward, reverse))
    torch.testing.assert_close(lp_rc, lp.flip(0)[:, complement], rtol=1e-5, atol=1e-5)
    assert (lp - lp.flip(0)[:, complement]).abs().max() > 0.1  # the strands differ
    # every hidden state: the reverse complement's is the forward's reversed in length and
    # channels (the strands' halves trade places)
    for a, b in zip(forward.hidden_states, reverse.hidden_states, strict=True):
        torch.testing.assert_close(b[0], a[0].flip(0, 1), rtol=1e-5, atol=1e-5)


def test_embeddings_are_reverse_complement_invariant_after_the_published_pooling(ps):
    # dv's embedding (mean over the bases) of the reverse complement is the forward strand's with
    # the channels reversed; the published pooling (the mean of the forward half and the other
    # half read back) is the same for both strands
    seqs = ["ACGTTGCAACGGATTACAGGGTCAT", "GGATCAATTAC"]
    d = ps.model.config.d_model
    with torch.no_grad():
        forward = [ps.model.caduceus(_ids(ps, s)).last_hidden_state[0].mean(0) for s in seqs]
        reverse = [
            ps.model.caduceus(_ids(ps, reverse_complement(s))).last_hidden_state[0].mean(0)
            for s in seqs
        ]
    for a, b in zip(forward, reverse):
        torch.testing.assert_close(b, a.flip(0), rtol=1e-5, atol=1e-5)
        pooled_a, pooled_b = ((e[:d] + e[d:].flip(0)) / 2 for e in (a, b))
        torch.testing.assert_close(pooled_a, pooled_b, rtol=1e-5, atol=1e-5)
        assert (a[:d] - a[d:].flip(0)).abs().max() > 0.1
    assert ps.embed(seqs).layer(-1).shape == (2, 2 * d)


def test_the_ps_classifier_gives_both_strands_one_prediction(classifier):
    with torch.no_grad():
        for seq in SEQS:
            a = classifier.model(_ids(classifier, seq)).logits
            b = classifier.model(_ids(classifier, reverse_complement(seq))).logits
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- masked-LM scores
def test_masked_lm_base_log_probs_mask_each_nucleotide(ph):
    seq = SEQS[1]  # with an N: its scores are NaN
    log_probs = dv.base_log_probs(ph, seq)[0]
    bases = [ph.tokenizer.vocab[b] for b in BASES]
    for i, base in enumerate(seq):
        if base == "N":
            assert np.isnan(log_probs[i]).all()
            continue
        ids = [ph.tokenizer.vocab[c] for c in seq] + [ph.tokenizer.sep_id]
        ids[i] = ph.tokenizer.mask_id
        with torch.no_grad():
            logits = ph.model(input_ids=torch.tensor([ids], device=ph.device)).logits[0, i]
        expected = torch.log_softmax(logits[bases].double(), dim=-1).cpu().numpy()
        np.testing.assert_allclose(log_probs[i], expected, rtol=1e-5, atol=1e-5)
    assert np.nanmax(np.abs(log_probs - np.log(0.25))) > 0.3  # far from uniform


def test_lm_scores_and_zero_shot_variant_effects_run(ps):
    for method in ("lm_surprise", "lm_entropy", "lm_mutation_map"):
        scores = dv.score(ps, SEQS[:2], method)
        assert np.isfinite(scores.values[0, : len(SEQS[0])]).all()
    table = pd.DataFrame({"sequence_index": [0], "position": [3], "ref": ["T"], "alt": ["C"]})
    effects = dv.lm_variant_effects(ps, table, sequences=SEQS[:1])
    log_probs = dv.base_log_probs(ps, SEQS[0])[0]
    assert effects.llr[0] == pytest.approx(log_probs[3, 1] - log_probs[3, 3], abs=1e-5)


def test_attention_views_say_caduceus_has_none_and_what_to_use(ps):
    usable = "use attribution (dv.attribute), dv.ism or the lm_* scores instead"
    with pytest.raises(ValueError) as err:
        dv.score(ps, SEQS, "cls_attention")
    message = str(err.value)
    assert "\n" not in message and "Caduceus has no attention" in message and usable in message
    with pytest.raises(NotImplementedError, match="Caduceus has no attention"):
        dv.attention_maps(ps, SEQS[0])


@pytest.mark.slow
def test_attribution_and_ism_run_on_a_caduceus_classifier(classifier):
    probs = classifier.predict(SEQS)
    assert probs.shape == (3, 2)
    ig = dv.attribute(classifier, SEQS, method="integrated_gradients", target=1, n_steps=32)
    assert np.isfinite(ig.values[0, : len(SEQS[0])]).all()
    delta = ig.extra["convergence_delta"]
    assert np.abs(delta).max() < 0.05 * np.abs(np.nansum(ig.values, axis=1)).max() + 1e-3
    effects = dv.ism(classifier, SEQS[1], target=1).extra["effects"][0]
    mutant = SEQS[1][:2] + "C" + SEQS[1][3:]
    expected = classifier.predict(mutant)[0, 1] - probs[1, 1]
    assert effects[2, BASES.index("C")] == pytest.approx(expected, abs=1e-5)


# ---------------------------------------------------------------------------------- bad input
def test_a_config_whose_keys_disagree_with_the_weights_is_named(tmp_path):
    folder = caduceus(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "n_layer": 2}))
    with pytest.raises(ValueError, match=r"pytorch_model\.bin: .*config\.json's n_layer is 2"):
        dv.load_model(folder, device="cpu")
    (folder / "config.json").write_text(json.dumps({**config, "rcps": False}))
    with pytest.raises(ValueError, match=r"pytorch_model\.bin: .*weights Caduceus"):
        dv.load_model(folder, device="cpu")


def test_a_weights_file_that_lacks_tensors_is_named(tmp_path):
    folder = caduceus(tmp_path)
    state = read_state_dict(folder / "pytorch_model.bin")
    del state["caduceus.backbone.layers.1.mixer.submodule.mamba_rev.A_log"]
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match=r"lacks 1 .*mamba_rev\.A_log"):
        dv.load_model(folder, device="cpu")


def test_tied_tensors_left_out_of_a_safetensors_file_load_from_what_they_are_tied_to(tmp_path):
    # the hub's layout: model.safetensors, which holds a tensor shared under several names once
    from safetensors.torch import save_file

    folder = caduceus(tmp_path)
    state = read_state_dict(folder / "pytorch_model.bin")
    tied = [n for n in state if "mamba_rev.in_proj" in n or "mamba_rev.out_proj" in n]
    tied.append("lm_head.lm_head.weight")
    reference = dv.load_model(folder, device="cpu").model.state_dict()
    (folder / "pytorch_model.bin").unlink()
    kept = {n: t.contiguous() for n, t in state.items() if n not in tied}
    save_file(kept, folder / "model.safetensors")
    loaded = dv.load_model(folder, device="cpu").model.state_dict()
    for name in tied:
        assert torch.equal(loaded[name], reference[name]), name


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"ssm_cfg": {"d_state": 4, "headdim": 8}}, r"ssm_cfg keys \['headdim'\]"),
        ({"bidirectional_strategy": "concat"}, "bidirectional_strategy 'concat'"),
        ({"complement_map": None}, "rcps is true but there is no complement_map"),
        ({"complement_map": {"7": 16}}, "complement_map '7': 16 is not a pair of token ids"),
        ({"layer_cfg": {"mamba_cfg": {"version": "v2"}}}, "Mamba version 'v2'"),
    ],
)
def test_a_config_caduceus_does_not_take_is_one_line_naming_it(tmp_path, keys, message):
    folder = caduceus(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **keys}))
    with pytest.raises(ValueError, match=message) as err:
        dv.load_model(folder, device="cpu")
    assert "\n" not in str(err.value) and "config.json" in str(err.value)


def test_a_complement_map_that_is_no_reverse_complement_is_named(tmp_path):
    # a published layout whose map (config.json's, and so the weights' buffers) pairs A with G
    identity = {str(i): i for i in range(16)}
    folder = caduceus(tmp_path, complement_map={**identity, "7": 9, "9": 7})
    with pytest.raises(ValueError, match=r"complement_map maps A->G, T->T, C->C, G->A") as err:
        dv.load_model(folder, device="cpu")
    assert "pytorch_model.bin" in str(err.value) and "\n" not in str(err.value)


def test_another_tokenizer_is_refused(tmp_path):
    folder = caduceus(tmp_path, vocab_size=69)  # k = 3 vocabulary size, so only the kind differs
    (folder / "tokenizer_config.json").unlink()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    kmers = ["".join(p) for p in itertools.product(BASES, repeat=3)]
    (folder / "vocab.txt").write_text("\n".join(special + kmers))
    with pytest.raises(ValueError, match="Caduceus reads one token per nucleotide"):
        dv.load_model(folder, device="cpu")


# ------------------------------------------------------------------------ the published code
@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The published Caduceus modules, importable on the CPU (module docstring)."""
    root = tmp_path_factory.mktemp("published")
    published_files(
        "state-spaces/mamba",
        [
            "mamba_ssm/utils/torch.py",
            "mamba_ssm/modules/mamba_simple.py",
            "mamba_ssm/modules/block.py",
            "mamba_ssm/ops/selective_scan_interface.py",
        ],
        root,
    )
    for package in ("", "/utils", "/modules", "/ops", "/ops/triton"):
        (root / f"mamba_ssm{package}").mkdir(parents=True, exist_ok=True)
        (root / f"mamba_ssm{package}" / "__init__.py").write_text("")
    (root / "mamba_ssm/ops/triton/layer_norm.py").write_text(_layer_norm_shim())
    names = ["__init__", "configuration_caduceus", "modeling_caduceus", "modeling_rcps"]
    published_files("kuleshov-group/caduceus", [f"caduceus/{n}.py" for n in names], root)
    published_files("kuleshov-group/caduceus", ["caduceus/tokenization_caduceus.py"], root)
    # transformers binds mamba_ssm's kernels where it finds the package when its Mamba module is
    # imported: import it before this mamba_ssm exists, so that the native model keeps its torch
    # scan
    importlib.import_module("transformers.models.mamba.modeling_mamba")
    before = set(sys.modules)
    sys.path.insert(0, str(root))
    try:
        modeling = importlib.import_module("caduceus.modeling_caduceus")
        tokenization = importlib.import_module("caduceus.tokenization_caduceus")
        mamba_simple = importlib.import_module("mamba_ssm.modules.mamba_simple")
        scan = importlib.import_module("mamba_ssm.ops.selective_scan_interface")
    finally:
        sys.path.remove(str(root))
    # the published pure-torch scan in place of the CUDA one
    mamba_simple.selective_scan_fn = scan.selective_scan_ref
    # transformers 5 calls tie_weights(recompute_mapping=...), which the published override
    # does not take, and no longer ties an output embedding that _tied_weights_keys does not
    # name: its RCPS branch as published, transformers 4's tie for the other
    published_tie = modeling.CaduceusForMaskedLM.tie_weights

    def tie_weights(self, **_):
        if self.config.rcps:
            published_tie(self)
        elif getattr(self.config, "tie_word_embeddings", True):  # transformers 4: True
            self.lm_head.weight = self.get_input_embeddings().weight

    modeling.CaduceusForMaskedLM.tie_weights = tie_weights
    yield modeling, tokenization
    for name in set(sys.modules) - before:  # transformers must not find this mamba_ssm later
        del sys.modules[name]


def _layer_norm_shim() -> str:
    """``mamba_ssm/ops/triton/layer_norm.py`` for the CPU: the published file's reference
    functions and RMSNorm, the fused functions computed by the references."""
    git_dir = MIRROR / "state-spaces+mamba" / "repo"
    source = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", "HEAD:mamba_ssm/ops/triton/layer_norm.py"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    wanted = ("layer_norm_ref", "rms_norm_ref", "RMSNorm")
    parts = [
        ast.get_source_segment(source, node)
        for node in ast.parse(source).body
        if getattr(node, "name", None) in wanted
    ]
    return "\n\n".join(
        [
            "import torch\nimport torch.nn.functional as F",
            *parts,
            "_layer_norm_fwd = None  # imported by selective_scan_interface, used by kernels",
            """def layer_norm_fn(x, weight, bias, residual=None, eps=1e-6, prenorm=False,
                  residual_in_fp32=False, is_rms_norm=False, **_):
    ref = rms_norm_ref if is_rms_norm else layer_norm_ref
    out = ref(x, weight, bias, residual=residual, eps=eps, prenorm=prenorm, upcast=True)
    if not prenorm:
        return out
    out, residual = out
    return out, residual.float() if residual_in_fp32 else residual.to(x.dtype)""",
            """def rms_norm_fn(x, weight, bias, **kwargs):
    return layer_norm_fn(x, weight, bias, is_rms_norm=True, **kwargs)""",
        ]
    )


PUBLISHED_HEADS = {
    "masked_lm": "CaduceusForMaskedLM",
    "classifier": "CaduceusForSequenceClassification",
    "backbone": "Caduceus",
}


def _published_random(modeling, folder, head: str, seed: int = 0, **keys):
    """A random-weight model of the published classes, saved in the published layout."""
    config = caduceus_files(folder, head, **keys)
    built = {k: v for k, v in config.items() if k not in ("auto_map", "architectures")}
    torch.manual_seed(seed)
    model = getattr(modeling, PUBLISHED_HEADS[head])(modeling.CaduceusConfig(**built)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.3)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model


LAYOUTS = {  # config keys of the published checkpoints' kinds
    "ps, fused": {},
    "ps, unfused": {"fused_add_norm": False},
    "ph": {"rcps": False},
    "ps, LayerNorm, fp32 residual, ew_multiply": {
        "rms_norm": False,
        "residual_in_fp32": True,
        "bidirectional_strategy": "ew_multiply",
    },
    "one direction, untied": {"bidirectional": False, "rcps": False},
}


@pytest.mark.slow
@pytest.mark.parity
@pytest.mark.parametrize("head", ["masked_lm", "classifier"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_random_published_model_matches_on_padded_batches(published, tmp_path, layout, head):
    """Ours on a right-padded batch against the published code on each sequence alone (the
    published code has no padding mask: its backward scans would read the padding)."""
    modeling, _ = published
    reference = _published_random(modeling, tmp_path, head, **LAYOUTS[layout])
    m = dv.load_model(tmp_path, device="cpu")
    seqs = ["ACGT" * 10, "GATTACA", "CCGNTA" * 5]
    enc = m.encode(seqs)
    with torch.no_grad():
        ours = m.model(**m.inputs(enc, np.arange(3)), output_hidden_states=True)
        for i, seq in enumerate(seqs):
            ids = torch.as_tensor(enc.input_ids[i : i + 1, : len(seq) + 1])  # bases and [SEP]
            theirs = reference(input_ids=ids, output_hidden_states=True, return_dict=True)
            logits = ours.logits[i, : ids.shape[1]] if head == "masked_lm" else ours.logits[i]
            torch.testing.assert_close(logits, theirs.logits[0], rtol=1e-5, atol=1e-5)
            # the published unfused code leaves the final norm's output out of hidden_states
            assert len(theirs.hidden_states) == len(ours.hidden_states) - (
                not m.model.config.fused_add_norm
            )
            for a, b in zip(ours.hidden_states, theirs.hidden_states):
                torch.testing.assert_close(a[i, : ids.shape[1]], b[0], rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parity
def test_the_published_fused_and_unfused_rcps_layers_differ_and_each_is_followed(
    published, tmp_path
):
    """The published RCPS layer's fused add-norm reads the strands' halves in swapped places:
    the same weights give other outputs fused and unfused (caduceus.py's docstring)."""
    modeling, _ = published
    reference = _published_random(modeling, tmp_path, "masked_lm")
    unfused_config = modeling.CaduceusConfig(
        **{**reference.config.to_dict(), "fused_add_norm": False}
    )
    unfused = modeling.CaduceusForMaskedLM(unfused_config).eval()
    state = reference.state_dict()
    renamed = {
        name.replace(".norm.weight", ".norm.submodule.weight").replace(
            "norm_f.weight", "norm_f.submodule.weight"
        ): tensor
        for name, tensor in state.items()
    }
    unfused.load_state_dict(renamed)
    ids = torch.tensor([[7, 8, 9, 10, 10, 9, 7, 11, 8, 1]])
    with torch.no_grad():
        fused_logits = reference(input_ids=ids, return_dict=True).logits
        unfused_logits = unfused(input_ids=ids, return_dict=True).logits
    assert (fused_logits - unfused_logits).abs().max() > 0.1
    ours = dv.load_model(tmp_path, device="cpu")
    with torch.no_grad():
        torch.testing.assert_close(ours.model(input_ids=ids).logits, fused_logits)


@pytest.mark.slow
@pytest.mark.parity
def test_the_published_tokenizer_gives_the_same_ids(published, tmp_path):
    _, tokenization = published
    tokenizer = tokenization.CaduceusTokenizer(model_max_length=131072)
    caduceus_files(tmp_path, "masked_lm")
    ours = dv.load_tokenizer(tmp_path)
    for seq in ["ACGTNACG", "acgtt", "GATTACA"]:
        assert ours.encode(seq).input_ids[0].tolist() == tokenizer(seq)["input_ids"], seq


def test_the_pure_torch_mixers_run_without_advice_to_install_cuda_kernels(ps, capfd):
    """transformers advises installing mamba_ssm / causal_conv1d (CUDA-only) the first time its
    Mamba mixer takes the pure-torch path; on the CPU that is the path to take, so it is not
    printed (a notebook would show it in red)."""
    from transformers.utils import logging as hf_logging

    hf_logging.warning_once.cache_clear()  # as in a fresh process
    capfd.readouterr()
    dv.score(ps, "ACGTACGTAA", "lm_surprise")
    assert "falling back" not in capfd.readouterr().err
