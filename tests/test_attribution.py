"""Attribution, ISM and variant effects against explicit computations on tiny real models."""

import numpy as np
import pandas as pd
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.sequences import kmers_to_sequence

from . import checkpoints
from .conftest import FIXTURES

SEQS = ["ACGTTGCAAGCTTCGAGGTAC", "TTGACCAGTAGG"]


@pytest.fixture(scope="module")
def k3(tmp_path_factory, device):
    return dv.load_model(
        checkpoints.dnabert1(tmp_path_factory.mktemp("k3") / "ck", k=3, seed=4), device=device
    )


def _prob(m, ids, mask, target=1):
    with torch.no_grad():
        return torch.softmax(m.model(input_ids=ids, attention_mask=mask).logits, -1)[:, target]


@pytest.mark.slow  # 300 steps
@pytest.mark.parametrize("baseline", ["pad", "mask", "shuffle"])
def test_integrated_gradients_completeness(k3, baseline):
    s = dv.attribute(k3, SEQS, baseline=baseline, n_steps=300, random_state=1)
    enc = k3.encode(SEQS)
    for i, seq in enumerate(SEQS):
        ids = torch.as_tensor(enc.input_ids[i : i + 1, : len(seq) - 1])
        mask = torch.ones_like(ids)
        if baseline == "shuffle":  # the same shuffle as attribute's: same seed, same order
            continue
        fill = k3.tokenizer.pad_id if baseline == "pad" else k3.tokenizer.mask_id
        base = ids.clone()
        base[0, 1:-1] = fill
        gap = float(_prob(k3, ids, mask) - _prob(k3, base, mask))
        assert np.isclose(np.nansum(s[i]), gap, atol=2e-3), (np.nansum(s[i]), gap)
    assert np.abs(s.extra["convergence_delta"]).max() < 5e-3
    assert s.kind == "integrated_gradients" and s.meta["baseline"] == baseline


@pytest.mark.parametrize("method", ["integrated_gradients", "onehot_integrated_gradients"])
def test_integrated_gradients_do_not_depend_on_rows_per_pass(demo_model, demo_data, method):
    # what bounds memory changes no number: 3 sequences x 8 steps in one pass of 24 rows, in
    # passes of 2 steps (6 rows) and of 1 step (3 rows)
    seqs = [s[: 60 + 10 * i] for i, s in enumerate(demo_data.sequences("heldout", 1)[:3])]
    runs = [
        dv.score(demo_model, seqs, method, n_steps=8, internal_batch_size=rows, output="logit")
        for rows in (None, 6, 3)
    ]
    for run in runs[1:]:
        scale = np.nanmax(np.abs(runs[0].values))
        np.testing.assert_allclose(run.values, runs[0].values, rtol=1e-5, atol=1e-6 * scale)
        for name, extra in runs[0].extra.items():
            np.testing.assert_allclose(run.extra[name], extra, rtol=1e-5, atol=1e-6 * scale)


def test_gradient_methods_match_autograd(k3):
    seq = SEQS[0]
    enc = k3.encode([seq])
    ids = torch.as_tensor(enc.input_ids)
    emb = k3.model.get_input_embeddings()(ids).detach().requires_grad_(True)
    captured = {}
    handle = k3.model.get_input_embeddings().register_forward_hook(lambda *_: emb)
    try:
        p = torch.softmax(k3.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits, -1)[
            0, 1
        ]
        p.backward()
        captured["grad"] = emb.grad[0]
    finally:
        handle.remove()
    token_ixg = (captured["grad"] * emb[0]).sum(-1).detach().numpy()[1:-1]
    token_sal = captured["grad"].norm(dim=-1).numpy()[1:-1]
    ixg = dv.attribute(k3, [seq], method="input_x_gradient")
    sal = dv.attribute(k3, [seq], method="saliency")
    spread = lambda tok: np.convolve(tok / 3, np.ones(3))  # noqa: E731  each 3-mer split over its 3 nt
    np.testing.assert_allclose(ixg[0], spread(token_ixg), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sal[0], spread(token_sal), rtol=1e-4, atol=1e-6)
    assert (sal[0] >= 0).all()


def test_deeplift_runs_and_is_finite(k3):
    s = dv.attribute(k3, SEQS, method="deeplift")
    assert np.isfinite(s[0]).all() and np.isfinite(s[1]).all() and np.abs(s[0]).sum() > 0


def test_attribution_bad_arguments(k3, tmp_path, device):
    with pytest.raises(ValueError, match="method must be one of"):
        dv.attribute(k3, SEQS, method="lime")
    with pytest.raises(ValueError, match="target 2 is not a class"):
        dv.attribute(k3, SEQS, target=2)
    mlm = dv.load_model(checkpoints.dnabert1(tmp_path / "mlm", k=3, head="mlm"), device=device)
    with pytest.raises(ValueError, match="no classifier head"):
        dv.attribute(mlm, SEQS)


def test_ism_equals_explicit_forward_passes(k3):
    x = dv.ism(k3, SEQS, batch_size=7).extra["effects"]
    assert x.shape == (2, len(SEQS[0]), 4) and np.isnan(x[1, len(SEQS[1]) :]).all()
    seq = SEQS[1]
    ref = k3.predict([seq])[0, 1]
    for pos in (0, 5, len(seq) - 1):
        for b, base in enumerate("ACGT"):
            mutant = seq[:pos] + base + seq[pos + 1 :]
            expected = 0.0 if base == seq[pos] else k3.predict([mutant])[0, 1] - ref
            assert np.isclose(x[1, pos, b], expected, atol=1e-6)


def test_variant_effects_snp_table(k3):
    table = pd.DataFrame(
        {"sequence_index": [0, 1], "position": [3, 0], "ref": ["T", "t"], "alt": ["A", "C"]}
    )
    v = dv.variant_effects(k3, table, sequences=SEQS)
    p0 = k3.predict(SEQS)[:, 1]
    p1 = k3.predict([SEQS[0][:3] + "A" + SEQS[0][4:], "C" + SEQS[1][1:]])[:, 1]
    np.testing.assert_allclose(v.p_ref, p0, rtol=1e-6)
    np.testing.assert_allclose(v.p_alt, p1, rtol=1e-6)
    np.testing.assert_allclose(v["diff"], p1 - p0, atol=1e-6)
    np.testing.assert_allclose(v.dnabert_score, (p1 - p0) * np.maximum(p0, p1), atol=1e-6)
    odds = lambda p: np.log2(p / (1 - p))  # noqa: E731
    np.testing.assert_allclose(v.log2_odds_ratio, odds(p0) - odds(p1), atol=1e-4)
    bad = table.assign(ref=["G", "T"])
    with pytest.raises(
        ValueError,
        match="variant row 0: ref 'G' does not match sequence 0 at position 3, which reads 'T'",
    ):
        dv.variant_effects(k3, bad, sequences=SEQS)


def test_dnabert_mutation_file(tmp_path, device):
    table = dv.read_mutation_file(FIXTURES / "snp" / "example_mut_file.txt")
    assert table.values.tolist() == [
        [0, 30, 31, "G"],
        [23, 52, 53, "T"],
        [104, 14, 15, "C"],
        [125, 22, 23, "A"],
        [240, 8, 8, "A"],
        [325, 10, 11, ""],
    ]
    rows = (FIXTURES / "prom_core" / "dev_first330.tsv").read_text().splitlines()[1:]
    seqs = [kmers_to_sequence(r.split("\t")[0]) for r in rows]
    m = dv.load_model(checkpoints.dnabert1(tmp_path / "k6", k=6), device=device)
    v = dv.variant_effects(m, FIXTURES / "snp" / "example_mut_file.txt", sequences=seqs)
    assert len(v) == 6
    insertion, deletion = v.iloc[4], v.iloc[5]
    assert (
        insertion.ref == ""
        and insertion.alt == "A"
        and deletion.alt == ""
        and len(deletion.ref) == 1
    )
    # the published mutated sequences (DNABERT's SNP example output) for the substitutions
    published = [
        kmers_to_sequence(r.split("\t")[0])
        for r in (FIXTURES / "snp" / "mutated_dev.tsv").read_text().splitlines()
    ]
    for row, expected in zip(v.itertuples(), published[:4]):
        s = seqs[row.sequence_index]
        assert s[: row.start] + row.alt + s[row.end :] == expected
    (tmp_path / "bad.txt").write_text("0\t3\tx\tA\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 1: expected"):
        dv.read_mutation_file(tmp_path / "bad.txt")


def test_ism_on_log_odds_reads_the_logits(demo_model, demo_data):
    """On a sequence the model is sure of, ISM on the probability moves by 1e-4 where the
    log-odds, log p / (1 - p) from the logits, move by units; the effects equal the log-odds
    differences by hand."""
    seq = demo_data.sequences("heldout", 1)[0][:60]
    s = dv.ism(demo_model, seq, output="log_odds")
    effects = s.extra["effects"][0]
    assert s.meta["output"] == "log_odds" and s.meta["explains"] == "log-odds of output 1"

    def log_odds(texts):
        enc = demo_model.encode(texts)
        with torch.no_grad():
            logits = demo_model.model(**demo_model.inputs(enc, np.arange(len(texts)))).logits
        return (logits[:, 1] - logits[:, 0]).double().numpy()  # two classes: l1 - l0

    for p, b in [(10, "A"), (31, "G"), (59, "T")]:
        if seq[p] == b:
            continue
        mutant = seq[:p] + b + seq[p + 1 :]
        by_hand = log_odds([mutant])[0] - log_odds([seq])[0]
        assert effects[p, "ACGT".index(b)] == pytest.approx(by_hand, abs=1e-4)
    probability = dv.ism(demo_model, seq).extra["effects"][0]
    assert np.abs(probability).max() < 0.01 < np.abs(effects).max()
    with pytest.raises(ValueError, match="output must be 'probability' or 'log_odds'"):
        dv.ism(demo_model, seq, output="logit")
