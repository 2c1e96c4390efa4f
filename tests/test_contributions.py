"""The one-hot bridge and hypothetical contributions: exact logits, the analytic gradient, ISM,
files.
"""

import numpy as np
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.contributions import OneHotBridge, _batches

from . import checkpoints


@pytest.fixture(scope="module")
def k3(tmp_path_factory, device):
    folder = checkpoints.dnabert1(tmp_path_factory.mktemp("k3") / "ck", k=3, seed=4)
    return dv.load_model(folder, device=device)


@pytest.fixture(scope="module")
def planted(demo_data):
    """Six held-out positives with their planted sites (table rows, so truth_mask applies)."""
    rows = demo_data.indices("heldout", 1)[:6]
    return demo_data.table.sequence[rows].tolist(), demo_data.truth_mask(rows)


def _bridge_and_model_logits(m, seqs):
    bridge = OneHotBridge(m, output="logit")
    for _, x, ids, mask in _batches(bridge, seqs, 8, False, ""):
        with torch.no_grad():
            yield bridge(x, ids, mask), m.model(input_ids=ids, attention_mask=mask).logits


def test_bridge_reproduces_the_models_logits(demo_model, k3, planted):
    seqs = planted[0][:3] + [
        "ACGTNNACGTTGCA" * 3,
        "GATTACA",
    ]  # unequal lengths; N k-mers are [UNK]
    for m in (demo_model, k3):
        for bridged, own in _bridge_and_model_logits(m, seqs):
            assert (bridged - own).abs().max() < 1e-6


def _analytic_gradient(m, seq: str, target: int) -> np.ndarray:
    """d logit / d x[p, b] = sum over tokens j covering p of g_j . E[k-mer j with base b at p]."""
    k, tok = m.k, m.tokenizer
    enc = m.encode(seq)
    ids = torch.as_tensor(enc.input_ids, device=m.device)
    weight = m.model.get_input_embeddings().weight.detach()
    embeds = weight[ids].clone().requires_grad_(True)
    logit = m.model(inputs_embeds=embeds, attention_mask=torch.ones_like(ids)).logits[0, target]
    (g,) = torch.autograd.grad(logit, embeds)
    out = np.zeros((len(seq), 4))
    for p in range(len(seq)):
        for b, base in enumerate("ACGT"):
            for j in range(max(0, p - k + 1), min(p, len(seq) - k) + 1):
                kmer = seq[j : j + k]
                kmer = kmer[: p - j] + base + kmer[p - j + 1 :]
                row = weight[tok.vocab[kmer]] if "N" not in kmer else weight[tok.unk_id]
                out[p, b] += float(g[0, j + 1] @ row)
    return out


def test_bridge_gradient_is_the_analytic_formula(k3):
    seq = "ACGTTGCAAGGCTTAC"
    s = dv.onehot_gradients(k3, seq, target=1, baseline="zero", output="logit")
    assert s.kind == "onehot_gradient_x_input"
    expected = _analytic_gradient(k3, seq, 1)
    assert np.abs(s.extra["hypothetical"][0] - expected).max() < 1e-5
    assert np.allclose(
        s[0], expected[np.arange(len(seq)), ["ACGT".index(c) for c in seq]], atol=1e-5
    )
    centred = dv.onehot_gradients(k3, seq, target=1, output="logit").extra["hypothetical"][0]
    assert np.allclose(centred, expected - expected.mean(1, keepdims=True), atol=1e-5)


@pytest.mark.slow  # ISM
def test_hypothetical_contributions_agree_in_sign_with_ism_on_planted_sites(demo_model, planted):
    seqs, truth = planted
    hyp = dv.onehot_gradients(demo_model, seqs).extra["hypothetical"]
    effects = dv.ism(demo_model, seqs).extra["effects"]
    x = dv.one_hot(seqs)
    estimate = hyp - (hyp * x).sum(2, keepdims=True)  # hyp[p, b] - hyp[p, ref]: first-order ISM
    strong = truth[..., None] & (np.abs(np.nan_to_num(effects)) > 1e-3) & (x == 0)
    agree = np.sign(estimate[strong]) == np.sign(effects[strong])
    assert strong.sum() > 80 and agree.mean() > 0.8  # recorded: 93 substitutions, 86% agree


@pytest.mark.slow  # integrated gradients, many steps
def test_integrated_gradients_on_the_bridge_are_complete(demo_model, planted):
    seqs = [planted[0][0][:60], planted[0][1][:45]]
    for baseline in ("shuffle", "uniform"):
        s = dv.onehot_integrated_gradients(
            demo_model, seqs, baseline=baseline, n_steps=128, output="logit"
        )
        assert (
            s.extra["hypothetical"].shape == (2, 60, 4)
            and np.isnan(s.extra["hypothetical"][1, 45:]).all()
        )
        total = np.nansum(s.values, axis=1)  # f(x) - f(x'), up to the convergence delta
        assert (
            np.abs(total).min() > 1 and np.abs(s.extra["convergence_delta"] / total).max() < 0.01
        )


@pytest.mark.slow  # many samples
def test_gradient_shap_on_the_bridge_is_complete_in_expectation(demo_model, planted):
    """Expected gradients: sum of actual contributions vs f(x) - mean f(x') over the baselines.

    A Monte-Carlo mean over points on the path: on the demo model's logit the
    path crosses a steep step (about -3.7 to +3.7 logits between a = 0.5 and
    0.9 from the uniform point), so the relative error has a standard
    deviation of about 0.44 at 128 samples and 0.14 at 1,024 (measured over
    20 and 4 seeds on 60 nt of the first two planted sequences, mean within 0.07 of 0: no
    bias). The bound 0.45 is three such standard deviations at 1,024 samples.
    """
    s = dv.onehot_gradient_shap(demo_model, planted[0][0][:60], output="logit", n_samples=1024)
    total = np.nansum(s.values, axis=1)
    gap = total - s.extra["convergence_delta"]  # f(x) - mean f(x') over the 20 shuffles
    assert (np.abs(gap) > 5).all() and (np.abs(s.extra["convergence_delta"] / gap) < 0.45).all()


def test_gradient_shap_gives_each_reference_no_contribution_and_is_seeded(demo_model, planted):
    """DeepSHAP's convention hyp[p, b] = E[g[p, b] - sum_c x'[p, c] g[p, c]]: with one reference,
    at every position the reference's letter contributes exactly 0 (and those letters are a
    dinucleotide shuffle of the sequence); a seed gives the same numbers again, in any batch."""
    seq, other = planted[0][0][:40], planted[0][1][:50]
    state = np.random.get_state()
    s = dv.score(
        demo_model, [seq, other], "onehot_shap", output="logit", n_baselines=1, n_samples=16
    )
    assert np.array_equal(np.random.get_state()[1], state[1])  # captum's draws leave no trace
    hyp = s.extra["hypothetical"][0, :40]
    zero = np.abs(hyp).argmin(1)
    assert np.abs(hyp[np.arange(40), zero]).max() < 1e-6 and np.abs(hyp).max() > 0.1
    shuffled = "".join("ACGT"[b] for b in zero)
    assert shuffled != seq and sorted(zip(shuffled, shuffled[1:])) == sorted(zip(seq, seq[1:]))
    uniform = dv.onehot_gradient_shap(demo_model, seq, baseline="uniform", n_samples=16)
    assert np.abs(uniform.extra["hypothetical"].sum(2)).max() < 1e-6  # x' = 1/4 everywhere
    alone = dv.score(demo_model, seq, "onehot_shap", output="logit", n_baselines=1, n_samples=16)
    # the same draws in any batch; only float32 rounding may differ (padding changes the kernels)
    np.testing.assert_allclose(alone.extra["hypothetical"][0], hyp, rtol=1e-5, atol=1e-6)
    seed1 = dv.onehot_gradient_shap(
        demo_model, seq, output="logit", n_baselines=1, n_samples=16, random_state=1
    )
    assert not np.allclose(seed1.extra["hypothetical"][0], hyp, atol=1e-3)


@pytest.mark.slow  # GradientSHAP and ISM
def test_gradient_shap_agrees_in_sign_with_ism_on_planted_sites(demo_model, planted):
    seqs, truth = planted
    hyp = dv.onehot_gradient_shap(demo_model, seqs, output="logit", n_samples=32)
    hyp = hyp.extra["hypothetical"]
    effects = dv.ism(demo_model, seqs).extra["effects"]  # on p(target): same sign as on the logit
    x = dv.one_hot(seqs)
    estimate = hyp - (hyp * x).sum(2, keepdims=True)
    strong = truth[..., None] & (np.abs(np.nan_to_num(effects)) > 1e-3) & (x == 0)
    agree = np.sign(estimate[strong]) == np.sign(effects[strong])
    assert strong.sum() > 80 and agree.mean() > 0.95  # recorded: 93 substitutions, all agree


@pytest.mark.parametrize("scheme", ["nonoverlapping6", "bpe"])
def test_hypothetical_ism_is_exact_for_any_tokenizer(scheme, tmp_path, device):
    folder = (
        checkpoints.nucleotide_transformer(tmp_path / "nt", head="classifier")
        if scheme == "nonoverlapping6"
        else "dnabert2-demo"
    )  # the embedded DNABERT-2 (BPE)
    m = dv.load_model(folder, device=device)
    seqs = ["ACGTTGCAAGGCTTACGGATCA", "TTGACCATGCANT"]
    with pytest.raises(
        ValueError, match=f"{scheme} tokens are no differentiable.*hypothetical_ism"
    ):
        dv.onehot_gradients(m, seqs)
    s = dv.score(m, seqs, "hypothetical_ism")
    hyp, effects, x = s.extra["hypothetical"], s.extra["effects"], dv.one_hot(seqs)
    assert np.allclose(
        np.nan_to_num(hyp - (hyp * x).sum(2, keepdims=True))[x.sum(2) > 0],
        np.nan_to_num(effects)[x.sum(2) > 0],
        atol=1e-6,
    )
    assert np.abs(np.nan_to_num(effects)).max() > 0


def test_ohe_files_round_trip_and_bad_input_is_named(k3, tmp_path):
    seqs = ["ACGTTGCAAGGCTTAC", "GGCATNAC"]
    s = dv.score(k3, seqs, "onehot_gradients")
    x, hyp = s.to_numpy_ohe()
    assert x.shape == hyp.shape == (2, 4, 16) and x[1, :, 8:].sum() == 0 and x[1, :, 5].sum() == 0
    ohe, shap = dv.save_ohe(s, tmp_path)
    with np.load(
        shap
    ) as archive:  # the layout of `modisco motifs -s ohe.npz -a shap.npz` and tangermeme
        assert archive.files == ["arr_0"] and archive["arr_0"].shape == (2, 4, 16)
    back = dv.load_ohe(ohe, shap, kind="cnn")
    assert back.sequences == seqs and back.kind == "cnn"
    assert np.allclose(back.values, s.values, equal_nan=True)
    assert np.allclose(back.extra["hypothetical"], s.extra["hypothetical"], equal_nan=True)

    np.savez(tmp_path / "short.npz", hyp[:, :, :10])
    with pytest.raises(
        ValueError, match=r"short.npz has shape \(2, 10, 4\) but the one-hot sequences"
    ):
        dv.load_ohe(ohe, tmp_path / "short.npz")
    bad = x.copy()
    bad[1, :, 3] = 0.5
    np.savez(tmp_path / "bad.npz", bad)
    with pytest.raises(ValueError, match="bad.npz: sequence 1, position 3 is not one-hot"):
        dv.load_ohe(tmp_path / "bad.npz", shap)
    with pytest.raises(ValueError, match="scores 'ism' carry no hypothetical contributions"):
        dv.score(k3, seqs, "ism").to_numpy_ohe()


def test_bridge_refuses_what_it_cannot_do(k3, tmp_path, device):
    with pytest.raises(
        ValueError, match="sequence 1 is 600 nt; the one-hot bridge takes at most 512 nt"
    ):
        dv.onehot_gradients(k3, ["ACGT" * 10, "ACG" * 200])
    with pytest.raises(ValueError, match="baseline must be one of"):
        dv.onehot_integrated_gradients(k3, "ACGTACGT", baseline="pad")
    with pytest.raises(ValueError, match="baseline must be one of"):
        dv.onehot_gradient_shap(k3, "ACGTACGT", baseline="zero")
    with pytest.raises(ValueError, match="n_samples must be a whole number of at least 1, not 0"):
        dv.onehot_gradient_shap(k3, "ACGTACGT", n_samples=0)
    mlm = dv.load_model(checkpoints.dnabert1(tmp_path / "mlm", k=3, head="mlm"), device=device)
    with pytest.raises(ValueError, match="no classifier head"):
        dv.onehot_gradients(mlm, "ACGTACGT")
