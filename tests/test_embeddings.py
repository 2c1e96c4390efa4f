"""Embeddings: any layer, per sequence or per nucleotide, files, AnnData; layer probes."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.model import DEMO_MODEL

from .checkpoints import hyenadna

RECORDED_ACCURACY = json.loads((DEMO_MODEL / "training.json").read_text())["heldout_accuracy"]


@pytest.fixture(scope="module")
def seqs(demo_data):
    """Three demo sequences of different lengths (padding in the batch)."""
    return [s[:n] for s, n in zip(demo_data.sequences("heldout")[:3], (90, 40, 66))]


def hidden_states(m, seq: str) -> np.ndarray:
    """(states, T, D) of one sequence alone, [CLS] and [SEP] included, straight from the model."""
    ids = m.encode([seq]).input_ids
    with torch.no_grad():
        out = m.model(input_ids=torch.as_tensor(ids, device=m.device), output_hidden_states=True)
    return torch.stack(out.hidden_states)[:, 0].float().cpu().numpy()


def test_every_layer_equals_the_hidden_states_pooled_by_hand(demo_model, seqs):
    mean = demo_model.embed(seqs, layers="all")
    top = demo_model.embed(seqs, layers=[0, -1], pool="max")
    cls = demo_model.embed(seqs, layers=-2, pool="cls")
    assert mean.layers == [0, 1, 2] and mean.dims == ("layer", "sequence", "feature")
    assert mean.shape == (3, 3, 64) and top.layers == [0, 2] and cls.layers == [1]
    for i, seq in enumerate(seqs):
        h = hidden_states(demo_model, seq)
        assert h.shape == (3, len(seq) - 6 + 3, 64)  # 6-mers, [CLS] and [SEP]
        tokens = h[:, 1:-1]  # the k-mers: [CLS] and [SEP] left out
        np.testing.assert_allclose(mean.values[:, i], tokens.mean(1), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(top.values[:, i], tokens[[0, 2]].max(1), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(cls.values[0, i], h[1, 0], rtol=1e-4, atol=1e-5)
    # the default is what embed always gave: the last layer, mean over the real tokens
    np.testing.assert_allclose(demo_model.embed(seqs).layer(-1), mean.values[2], atol=1e-6)


def test_per_nucleotide_is_the_mean_of_the_kmers_covering_each_base(demo_model):
    seq = "ACGTTGCAACGGATTACAGG"  # 20 nt: 15 overlapping 6-mers, token t covers [t, t + 6)
    emb = demo_model.embed(seq, layers=[1, 2], per="nucleotide")
    assert emb.dims == ("layer", "sequence", "position", "feature") and emb.shape == (2, 1, 20, 64)
    h = hidden_states(demo_model, seq)[[1, 2], 1:-1]  # (2 layers, 15 tokens, 64)
    for j in range(20):
        covering = list(range(max(0, j - 5), min(j, 14) + 1))
        np.testing.assert_allclose(
            emb.values[:, 0, j], h[:, covering].mean(1), rtol=1e-4, atol=1e-5
        )
    # the ends are covered by one token, the middle by all six that hold it
    np.testing.assert_allclose(emb.values[:, 0, 0], h[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(emb.values[:, 0, 19], h[:, 14], rtol=1e-5, atol=1e-6)


def test_padding_positions_past_each_end_are_nan(demo_model, seqs):
    emb = demo_model.embed(seqs, per="nucleotide", pool=None, layers=-1)
    assert emb.shape == (1, 3, 90, 64)
    assert not np.isnan(emb.values[0, 1, :40]).any() and np.isnan(emb.values[0, 1, 40:]).all()
    # per nucleotide, a sequence alone gives what it gives in a padded batch
    alone = demo_model.embed(seqs[1], per="nucleotide").values[0, 0]
    np.testing.assert_allclose(emb.values[0, 1, :40], alone, rtol=1e-4, atol=1e-5)


def test_a_long_sequence_gets_the_mean_of_its_windows(demo_model, demo_data):
    seq = demo_data.sequences("heldout")[5][:100]
    emb = demo_model.embed(seq, layers="all", window_size=60, stride=40)  # [0, 60), [40, 100)
    parts = demo_model.embed([seq[:60], seq[40:]], layers="all").values
    np.testing.assert_allclose(emb.values[:, 0], parts.mean(1), rtol=1e-4, atol=1e-5)
    top = demo_model.embed(seq, pool="max", window_size=60, stride=40).values[0, 0]
    both = demo_model.embed([seq[:60], seq[40:]], pool="max").values[0]
    np.testing.assert_allclose(top, both.max(0), rtol=1e-5, atol=1e-6)


def test_save_load_zarr_folder_and_anndata(demo_model, seqs, tmp_path):
    table = pd.DataFrame({"name": ["a", "b", "c"], "label": [1, 0, 1], "sequence": seqs})
    emb = demo_model.embed(table, layers="all")
    emb.save(tmp_path / "e.npz")
    back = dv.Embeddings.load(tmp_path / "e.npz")
    np.testing.assert_array_equal(back.values, emb.values)
    assert back.layers == [0, 1, 2] and back.sequences == seqs and back.pool == "mean"
    assert back.obs["name"].tolist() == ["a", "b", "c"]
    stored = demo_model.embed(table, layers=[0, 2], per="nucleotide", out=tmp_path / "e.zarr")
    np.testing.assert_allclose(
        np.asarray(stored.values),
        demo_model.embed(seqs, layers=[0, 2], per="nucleotide").values,
        atol=1e-6,
    )
    assert dv.Embeddings.load(tmp_path / "e.zarr").obs["label"].tolist() == [1, 0, 1]
    adata = emb.to_anndata()
    assert adata.shape == (3, 64) and list(adata.obs_names) == ["a", "b", "c"]
    assert adata.obs["label"].tolist() == [1, 0, 1] and adata.obs["length"].tolist() == [
        90,
        40,
        66,
    ]
    np.testing.assert_array_equal(adata.X, emb.values[2])
    assert sorted(adata.obsm) == ["X_layer0", "X_layer1", "X_layer2"]
    np.testing.assert_array_equal(adata.obsm["X_layer0"], emb.values[0])
    with pytest.raises(ValueError, match="per-nucleotide embeddings have no row per sequence"):
        stored.to_anndata()


def test_bad_input_one_line_each(demo_model, seqs, tmp_path_factory):
    with pytest.raises(ValueError, match=r"layer 3 does not exist: demo has hidden states 0"):
        demo_model.embed(seqs, layers=3)
    with pytest.raises(ValueError, match=r"layer -4 does not exist"):
        demo_model.embed(seqs, layers=[0, -4])
    with pytest.raises(ValueError, match="pool='max' pools a sequence into one vector"):
        demo_model.embed(seqs, per="nucleotide", pool="max")
    # 40,000 x 200 nt x 3 states x 64 float32: 5.7 GiB, refused before any forward pass
    many = ["ACGT" * 50] * 40_000
    with pytest.raises(ValueError, match=r"take 5\.7 GiB .*pass out='embeddings.zarr'"):
        demo_model.embed(many, layers="all", per="nucleotide")
    hyena = dv.load_model(hyenadna(tmp_path_factory.mktemp("hyena")), device=demo_model.device)
    with pytest.raises(ValueError, match=r"pool='cls': .* has no \[CLS\] token .*use pool='mean'"):
        hyena.embed(["ACGTACGTAC"], pool="cls")
    assert hyena.embed(["ACGTACGTAC"], pool="mean", layers="all").shape[:2] == (4, 1)


def test_random_model_has_the_shape_and_other_weights(demo_model, seqs):
    random = dv.random_model(demo_model, seed=1)
    again = dv.random_model(demo_model, seed=1)
    assert random.model.config.to_dict() == demo_model.model.config.to_dict()
    a, b = random.embed(seqs, layers="all").values, again.embed(seqs, layers="all").values
    np.testing.assert_array_equal(a, b)  # the seed decides the weights
    assert a.shape == (3, 3, 64)
    assert not np.allclose(a[1:], demo_model.embed(seqs, layers="all").values[1:], atol=1e-2)


@pytest.mark.slow
def test_probe_at_the_last_layer_matches_the_models_heldout_accuracy(demo_model, demo_data):
    seqs, labels = demo_data.sequences("heldout"), demo_data.labels("heldout")
    table = dv.probe_layers(demo_model, seqs, labels, layers=[0, -1], cv=5, seed=0)
    assert table["layer"].tolist() == [0, 2] and set(table["metric"]) == {"accuracy"}
    last = table.set_index("layer")["score"][2]
    assert abs(last - RECORDED_ACCURACY) < 0.03  # 0.967 vs 0.963
    assert table.set_index("layer")["score"][0] < last - 0.05  # k-mer bags hold less of it
    random = dv.probe_layers(dv.random_model(demo_model), seqs, labels, layers=[-1])
    assert random["score"][0] < last - 0.15
    fig = dv.plot.probe_curve([table, random])
    assert [t.name for t in fig.data] == ["demo", "demo (random init)"]
    assert list(fig.data[0].y) == table["score"].tolist()


def test_probe_regression_reads_the_heads_log_odds_from_the_last_cls(demo_model, demo_data):
    seqs = demo_data.sequences("heldout")[:100]
    log_odds = demo_model.predict(seqs, output="log_odds")[:, 1].astype(float)
    table = dv.probe_layers(demo_model, seqs, log_odds, layers="all", pool="cls", cv=3)
    assert table["metric"].tolist() == ["pearson_r"] * 3
    r = table["score"].tolist()
    # layer 0's [CLS] is the same vector for every sequence: nothing to read, r undefined;
    # the head reads the last [CLS] through tanh(dense) and one more linear map: nearly linear
    assert np.isnan(r[0]) and r[2] > 0.99 and r[1] < r[2]
    with pytest.raises(ValueError, match="labels has shape"):
        dv.probe_layers(demo_model, seqs, log_odds[:10], layers=[0])
    with pytest.raises(ValueError, match="needs two classes or more with 3 sequences each"):
        dv.probe_layers(demo_model, seqs[:4], [0, 0, 1, 1], cv=3)
