"""The [CLS] recipe against an independent computation, padding independence, maps, rollout."""

import numpy as np
import pytest
import torch

import dnabert_viz as dv

from . import checkpoints

SEQS = ["ACGTTGCAAGCTTCGAGGTAC", "TTGACCAGTA", "GGGATTACAGATTACAGATTACACC"]


@pytest.fixture(scope="module")
def k3(tmp_path_factory, device):
    return dv.load_model(
        checkpoints.dnabert1(tmp_path_factory.mktemp("k3") / "ck", k=3, seed=4), device=device
    )


def _reference(m, seq, layers, heads=None):
    """The recipe written out for one sequence, from output_attentions and the k-mer arithmetic."""
    k = m.k
    enc = m.encode([seq])
    with m.attention_readable(), torch.no_grad():
        att = m.model(**m.inputs(enc, np.arange(1)), output_attentions=True).attentions
    rows = []
    for layer in layers:
        a = att[layer][0].numpy()  # (H, T, T)
        a = a if heads is None else a[heads]
        rows.append(a[:, 0, 1 : len(seq) - k + 2].sum(0))  # [CLS] row to each k-mer
    token = np.mean(rows, axis=0)
    total, count = np.zeros(len(seq)), np.zeros(len(seq))
    for t, v in enumerate(token):
        total[t : t + k] += v
        count[t : t + k] += 1
    score = total / count
    return score / np.linalg.norm(score)


@pytest.mark.parametrize("layer", [-1, 0])
def test_cls_recipe_equals_independent_computation(k3, layer):
    s = dv.cls_attention(k3, SEQS, layer=layer)
    for i, seq in enumerate(SEQS):
        np.testing.assert_allclose(s[i], _reference(k3, seq, [layer]), rtol=1e-5, atol=1e-6)
        assert np.isclose(np.linalg.norm(s[i]), 1)
    assert np.isnan(s.values[1, len(SEQS[1]) :]).all()


def test_selected_heads_and_mean_of_layers(k3):
    s = dv.cls_attention(k3, SEQS[:1], heads=[1, 3])
    np.testing.assert_allclose(
        s[0], _reference(k3, SEQS[0], [-1], heads=[1, 3]), rtol=1e-5, atol=1e-6
    )
    both = dv.cls_attention(k3, SEQS[:1], layer="mean")
    np.testing.assert_allclose(both[0], _reference(k3, SEQS[0], [0, 1]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="layer 5 does not exist: the model has 2 layers"):
        dv.cls_attention(k3, SEQS, layer=5)
    with pytest.raises(ValueError, match=r"heads \[7\] invalid"):
        dv.cls_attention(k3, SEQS, heads=[7])


def test_scores_do_not_depend_on_batch_padding(k3):
    alone = dv.cls_attention(k3, [SEQS[1]])
    padded = dv.cls_attention(k3, SEQS, batch_size=3)  # SEQS[1] padded to the longest
    np.testing.assert_allclose(alone[0], padded[1], rtol=1e-5, atol=1e-6)


def test_ensemble_sums_normalised_vectors(tmp_path, device):
    models = [
        dv.load_model(checkpoints.dnabert1(tmp_path / f"k{k}", k=k, seed=k), device=device)
        for k in (3, 4)
    ]
    ens = dv.cls_attention_ensemble(models, SEQS)
    parts = [dv.cls_attention(mm, SEQS) for mm in models]
    np.testing.assert_allclose(ens.values, parts[0].values + parts[1].values, rtol=1e-6)


def test_attention_maps_and_nucleotide_projection(k3):
    seq = SEQS[0]
    a = dv.attention_maps(k3, seq)
    t = len(seq) - 3 + 3
    assert (
        a.attentions.shape == (2, 4, t, t) and a.tokens[0] == "[CLS]" and a.tokens[-1] == "[SEP]"
    )
    np.testing.assert_allclose(a.attentions.sum(-1), 1, rtol=1e-5)
    nt = a.nucleotide(layer=-1, head=2)
    assert nt.shape == (len(seq), len(seq))
    # entry (i, j) = mean over token pairs covering i and j
    cover = lambda p: [u for u in range(1, t - 1) if u - 1 <= p < u + 2]  # noqa: E731
    i, j = 5, 11
    expected = np.mean([a.attentions[-1, 2, u, v] for u in cover(i) for v in cover(j)])
    assert np.isclose(nt[i, j], expected, rtol=1e-5)
    r = a.rollout()
    np.testing.assert_allclose(r.sum(-1), 1, rtol=1e-5)
    with pytest.raises(TypeError, match="one sequence"):
        dv.attention_maps(k3, SEQS)


def _auroc(score, truth):
    keep = ~np.isnan(score)
    s, t = score[keep], truth[keep]
    ranks = np.empty(len(s))
    ranks[np.argsort(s)] = np.arange(1, len(s) + 1)
    n_pos = t.sum()
    return (ranks[t].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(t) - n_pos))


@pytest.mark.slow  # IG on 150 sequences
def test_demo_attention_and_ig_point_at_planted_motifs(demo_model, demo_data):
    rows = demo_data.indices("heldout", label=1)[:150]
    seqs = demo_data.table.sequence[rows].tolist()
    truth = demo_data.truth_mask(rows)
    att = dv.cls_attention(demo_model, seqs)
    ig = dv.attribute(demo_model, seqs, n_steps=20)
    assert _auroc(att.values.ravel(), truth.ravel()) >= 0.9  # 0.954 on 300 sequences, docs/demo.md
    assert _auroc(ig.values.ravel(), truth.ravel()) >= 0.9  # 0.960 on 300 sequences, docs/demo.md
