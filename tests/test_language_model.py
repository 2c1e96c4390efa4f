"""Language-model scores on tiny masked LMs in the published layouts: each tokenizer's recipe
against brute force, the laws the scores obey, and bad input."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.language_model import base_log_probs
from dnabert_viz.sequences import reverse_complement

from . import checkpoints

SEQS = ["ACGTTGCAAGGCTTACGATCGATCCGTAN", "TTGACGGCATCGAAGCTAGCTAGGCTTACCAGTACG"]


@pytest.fixture(scope="module")
def models(tmp_path_factory, device):
    """Tiny masked LMs (random weights, seeded) of the three tokenizer kinds."""
    root = tmp_path_factory.mktemp("lm")
    folders = {
        "kmer3": checkpoints.dnabert1(root / "k3", k=3, head="mlm", seed=1),
        "kmer6": checkpoints.dnabert1(root / "k6", k=6, head="mlm", seed=2),
        "nt": checkpoints.nucleotide_transformer(root / "nt", head="mlm", seed=3),
        "bpe": checkpoints.dnabert2(root / "bpe", head="mlm", seed=4),
    }
    models = {name: dv.load_model(folder, device=device) for name, folder in folders.items()}
    for name in ("kmer3", "kmer6"):
        # a random head spreads its mass over 4^k k-mers almost evenly, so every base marginal
        # would be near 1/4 and any way of combining them would pass; sharpen it (the decoder is
        # tied to the input embeddings, which the embedding layer norm rescales)
        with torch.no_grad():
            models[name].model.get_input_embeddings().weight.mul_(20)
            models[name].model.get_output_embeddings().bias.normal_(0, 2)
    return models


def log_softmax_at(m, ids: list[int], reads: list[int]) -> torch.Tensor:
    """One unpadded forward pass: log-softmax over the vocabulary at token positions ``reads``."""
    with torch.no_grad():
        logits = m.model(input_ids=torch.tensor([ids], device=m.device)).logits[0]
    return torch.log_softmax(logits[reads].double(), dim=-1).cpu()


def brute_force_kmer(m, seq: str, p: int, masked: bool = True) -> np.ndarray:
    """DNABERT-1: mask the tokens covering nucleotide p (or not), marginalise each k-mer
    distribution there to the base at p by summing over the vocabulary's k-mer strings,
    geometric mean."""
    k, tok = m.k, m.tokenizer
    enc = m.encode(seq)
    ids, spans = list(enc.input_ids[0]), enc.spans[0]
    cover = [t for t in range(len(ids)) if spans[t, 0] <= p < spans[t, 1]]
    row = [tok.mask_id if t in cover and masked else i for t, i in enumerate(ids)]
    lp = log_softmax_at(m, row, cover)
    kmers = {s: i for s, i in tok.vocab.items() if len(s) == k and set(s) <= set("ACGT")}
    logs = []
    for r, t in enumerate(cover):
        probs = {s: float(torch.exp(lp[r, i])) for s, i in kmers.items()}
        total = sum(probs.values())
        offset = p - spans[t, 0]
        logs.append(
            [np.log(sum(v for s, v in probs.items() if s[offset] == b) / total) for b in "ACGT"]
        )
    mean = np.mean(logs, axis=0)
    return mean - np.logaddexp.reduce(mean)


def brute_force_token(m, seq: str, p: int, masked: bool = True) -> np.ndarray:
    """Nucleotide Transformer: mask the token holding p (or not), the logits of its four
    variants."""
    tok = m.tokenizer
    enc = m.encode(seq)
    ids, spans = list(enc.input_ids[0]), enc.spans[0]
    t = next(t for t in range(len(ids)) if spans[t, 0] <= p < spans[t, 1])
    row = [tok.mask_id if u == t and masked else i for u, i in enumerate(ids)]
    lp = log_softmax_at(m, row, [t])[0]
    text, o = seq[spans[t, 0] : spans[t, 1]], p - spans[t, 0]
    scores = np.array([float(lp[tok.vocab[text[:o] + b + text[o + 1 :]]]) for b in "ACGT"])
    return scores - np.logaddexp.reduce(scores)


def brute_force_bpe(m, seq: str, p: int) -> np.ndarray:
    """BPE: the covering token's string with each base, re-tokenised alone, scored at as many
    masks."""
    tok = m.tokenizer
    enc = m.encode(seq)
    ids, spans = list(enc.input_ids[0]), enc.spans[0]
    t = next(t for t in range(len(ids)) if spans[t, 0] <= p < spans[t, 1])
    text, o = seq[spans[t, 0] : spans[t, 1]], p - spans[t, 0]
    scores = []
    for b in "ACGT":
        alt = tok._tok.encode(text[:o] + b + text[o + 1 :], add_special_tokens=False).ids
        row = ids[:t] + [tok.mask_id] * len(alt) + ids[t + 1 :]
        lp = log_softmax_at(m, row, list(range(t, t + len(alt))))
        scores.append(sum(float(lp[j, a]) for j, a in enumerate(alt)))
    scores = np.array(scores)
    return scores - np.logaddexp.reduce(scores)


BRUTE = {"kmer3": brute_force_kmer, "kmer6": brute_force_kmer, "nt": brute_force_token}
BRUTE["bpe"] = brute_force_bpe


# k = 6: the brute force sums 4,096 k-mer probabilities in Python for every covering token of every
# position (slow: make test runs it, make check leaves it out)
@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=pytest.mark.slow) if k == "kmer6" else k for k in BRUTE],
)
def test_each_tokenizer_equals_brute_force_masking_one_nucleotide_at_a_time(models, kind):
    m = models[kind]
    # batches of 7 masked copies: copies of different lengths (BPE) padded together
    got = base_log_probs(m, SEQS, batch_size=7)
    for i, seq in enumerate(SEQS):
        for p in range(len(seq)):
            if seq[p] == "N":
                assert np.isnan(got[i, p]).all()
                continue
            expected = BRUTE[kind](m, seq, p)
            np.testing.assert_allclose(got[i, p], expected, atol=2e-5, err_msg=f"{kind} {i} {p}")
        assert np.isnan(got[i, len(seq) :]).all()
    # the four bases' probabilities sum to 1 everywhere
    total = np.exp(got).sum(axis=-1)
    np.testing.assert_allclose(total[~np.isnan(total)], 1, rtol=1e-5)


@pytest.mark.parametrize("kind", ["kmer6", "nt"])
def test_the_mutation_map_is_antisymmetric(models, kind):
    """LLR(ref -> alt) at p is minus LLR(alt -> ref) on the mutated sequence: the context of p is
    the same (exact for k-mers; BPE re-tokenises the site, an approximation)."""
    m, seq = models[kind], SEQS[1]
    forward = dv.score(m, seq, "lm_mutation_map").extra["effects"][0]
    for p, alt in [(3, "G"), (17, "A"), (30, "C")]:
        mutated = seq[:p] + alt + seq[p + 1 :]
        back = dv.score(m, mutated, "lm_mutation_map").extra["effects"][0]
        ref = "ACGT".index(seq[p])
        assert forward[p, ref] == 0
        np.testing.assert_allclose(forward[p, "ACGT".index(alt)], -back[p, ref], atol=1e-5)


@pytest.mark.parametrize("kind", ["kmer3", "nt", "bpe"])
def test_both_strands_do_not_depend_on_the_strand_given(models, kind):
    m, seq = models[kind], SEQS[1]
    plus = base_log_probs(m, seq, strands="both")[0]
    minus = base_log_probs(m, reverse_complement(seq), strands="both")[0]
    np.testing.assert_allclose(plus, minus[::-1, ::-1], atol=1e-5)
    assert not np.allclose(plus, base_log_probs(m, seq)[0], atol=1e-4)


def test_the_three_scores_are_read_from_one_distribution(models):
    m = models["kmer6"]
    seqs = SEQS
    surprise, entropy, mutation = (
        dv.score(m, seqs, kind) for kind in ("lm_surprise", "lm_entropy", "lm_mutation_map")
    )
    lp = surprise.extra["log_probs"]
    ref = np.array(["ACGT".index(c) for c in seqs[0][:-1]])  # its last base is N
    rows = np.arange(len(ref))
    np.testing.assert_allclose(surprise.values[0, rows], -lp[0, rows, ref], rtol=1e-6)
    assert np.isnan(surprise.values[0, len(ref)])
    np.testing.assert_allclose(
        entropy.values[0, rows], -(np.exp(lp[0, rows]) * lp[0, rows]).sum(-1), rtol=1e-5
    )
    assert (entropy.values[0, rows] <= np.log(4) + 1e-6).all()
    hyp = mutation.extra["hypothetical"]
    np.testing.assert_allclose(hyp.sum(-1)[0, rows], 0, atol=1e-5)
    np.testing.assert_allclose(mutation.values[0, rows], hyp[0, rows, ref], rtol=1e-5)
    np.testing.assert_allclose(
        mutation.extra["effects"][0, rows], lp[0, rows] - lp[0, rows, ref][:, None], atol=1e-6
    )


def test_windows_cover_long_sequences(tmp_path, device):
    """A sequence longer than the model's positions: every nucleotide scored, each window's
    result matching the window scored alone where only one window holds it."""
    folder = checkpoints.dnabert1(tmp_path / "short", k=3, head="mlm", max_positions=24)
    m = dv.load_model(folder, device=device)
    seq = SEQS[1] * 2
    lp = base_log_probs(m, seq)[0]
    assert not np.isnan(lp).any()
    alone = base_log_probs(m, seq[:24])[0]
    np.testing.assert_allclose(lp[:5], alone[:5], atol=1e-5)


def test_a_model_without_a_language_model_head_says_so(demo_model, tmp_path, capsys):
    with pytest.raises(ValueError, match="has no language-model head") as err:
        dv.lm_scores(demo_model, SEQS, kind="lm_surprise")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError) as err:
        dv.score(demo_model, SEQS, "lm_surprise")
    assert str(err.value).startswith(
        "lm_surprise reads a language-model head (masked or causal) and demo has none; on this "
        "model use cls_attention, integrated_gradients"
    )
    (tmp_path / "s.fa").write_text(">a\nACGTACGTAC\n")
    argv = ["score", "--input", str(tmp_path / "s.fa"), "--method", "lm_surprise"]
    assert main([*argv, "--out", str(tmp_path / "s.npz")]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "lm_surprise reads a language-model head (masked or causal) and demo has none" in err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.fa"]


def test_a_sequence_shorter_than_k_is_named(models):
    with pytest.raises(ValueError, match="shorter than k = 6"):
        dv.score(models["kmer6"], ["ACGTACGTAC", "ACG"], "lm_surprise")
    with pytest.raises(ValueError, match="strands must be one of"):
        dv.score(models["kmer6"], SEQS, "lm_surprise", strands="minus")


@pytest.mark.parametrize("kind", ["kmer6", "nt"])
def test_zero_shot_variant_effects(models, kind):
    m, seq = models[kind], SEQS[1]
    p, alt = 17, "A"
    mutated = seq[:p] + alt + seq[p + 1 :]
    table = pd.DataFrame(
        {
            "sequence": [seq, seq, mutated, seq],
            "position": [p, p, p, 4],
            "ref": [seq[p], seq[p], alt, seq[4:7]],
            "alt": [alt, seq[p], seq[p], ""],  # a substitution, REF->REF, its reverse, a deletion
        }
    )
    v = dv.lm_variant_effects(m, table)
    lp = base_log_probs(m, seq)[0]
    expected = lp[p, "ACGT".index(alt)] - lp[p, "ACGT".index(seq[p])]
    np.testing.assert_allclose(v.llr[0], expected, atol=1e-6)
    assert v.llr[1] == 0 and v.pll_diff[1] == 0 and abs(v.embedding_distance[1]) < 1e-6
    np.testing.assert_allclose(v.llr[2], -v.llr[0], atol=1e-5)
    np.testing.assert_allclose(v.pll_diff[2], -v.pll_diff[0], atol=1e-4)
    assert np.isnan(v.llr[3]) and np.isfinite(v.pll_diff[3]) and v.embedding_distance[3] > 0
    pll = -dv.score(m, seq, "lm_surprise").values[0]
    np.testing.assert_allclose(v.pll_ref[0], pll.sum(), rtol=1e-5)

    # both strands: the same variant given on the other strand scores the same
    rc, q = reverse_complement(seq), len(seq) - 1 - p
    other = pd.DataFrame({"sequence": [rc], "position": [q], "ref": [rc[q]], "alt": ["T"]})
    both = dv.lm_variant_effects(m, table.iloc[:1], strands="both")
    flipped = dv.lm_variant_effects(m, other, strands="both")
    for column in ("llr", "pll_diff", "embedding_distance"):
        np.testing.assert_allclose(both[column][0], flipped[column][0], atol=1e-4)


@pytest.mark.parametrize("kind", ["kmer3", "nt"])
def test_the_wild_type_marginal_reads_the_unmasked_sequence(models, kind):
    m, seq = models[kind], SEQS[1]
    unmasked = base_log_probs(m, seq, masked=False)[0]
    for p in (0, 17, len(seq) - 1):
        np.testing.assert_allclose(unmasked[p], BRUTE[kind](m, seq, p, masked=False), atol=1e-5)
    assert not np.allclose(unmasked, base_log_probs(m, seq)[0], atol=1e-3)
    p, alt = 17, "A" if seq[17] != "A" else "C"
    table = pd.DataFrame(
        {"sequence": [seq, seq, seq], "position": [p, p, 4], "ref": [seq[p], seq[p], seq[4:7]]}
    ).assign(alt=[alt, seq[p], ""])  # a substitution, REF->REF, a deletion
    v = dv.lm_variant_effects(m, table, wt_marginal=True)
    assert list(v.columns).index("wt_marginal") == list(v.columns).index("llr") + 1
    expected = unmasked[p, "ACGT".index(alt)] - unmasked[p, "ACGT".index(seq[p])]
    np.testing.assert_allclose(v.wt_marginal[0], expected, atol=1e-6)
    assert v.wt_marginal[1] == 0 and np.isnan(v.wt_marginal[2])
    assert "wt_marginal" not in dv.lm_variant_effects(m, table).columns


def test_a_bpe_model_has_no_unmasked_reading(models):
    m, seq = models["bpe"], SEQS[1]
    table = pd.DataFrame({"sequence": [seq], "position": [5], "ref": [seq[5]], "alt": ["A"]})
    message = "a BPE model has no unmasked reading of one nucleotide .* use the masked scores"
    with pytest.raises(ValueError, match=message):
        dv.lm_variant_effects(m, table, wt_marginal=True)
    with pytest.raises(ValueError, match=message):
        base_log_probs(m, seq, masked=False)


@pytest.mark.parametrize("kind", ["kmer3", "nt"])
def test_dependency_map_reads_substitutions_against_masked_targets(models, kind):
    m, seq = models[kind], SEQS[1]
    dep = dv.dependency_map(m, seq, region=(8, 20), batch_size=11)
    assert dep.values.shape == (12, 12) and dep.start == 8 and dep.region == seq[8:20]
    assert dep.band == m.k
    near = np.abs(np.subtract.outer(np.arange(12), np.arange(12))) < m.k
    assert np.isnan(dep.values[near]).all() and not np.isnan(dep.values[~near]).any()
    # one pair by hand: the three substitutions at query 9, the four bases at target 19
    ref = base_log_probs(m, seq)[0, 19]
    changes = []
    for b in "ACGT".replace(seq[9], ""):
        alt = base_log_probs(m, seq[:9] + b + seq[10:])[0, 19]
        odds = [np.log(np.exp(x) / (1 - np.exp(x))) for x in (alt, ref)]
        changes.append(np.abs(odds[0] - odds[1]).max())
    np.testing.assert_allclose(dep.values[1, 11], max(changes), rtol=1e-3, atol=1e-6)
    with pytest.raises(ValueError, match="region \\(30, 40\\) is not inside the sequence's 36 nt"):
        dv.dependency_map(m, seq, region=(30, 40))


def test_the_genome_masked_lm_is_embedded_and_beats_a_uniform_guess():
    """The stand-in pretrained on real human and mouse sequence (scripts/build_genome_mlm.py)
    loads from the package alone, and on its held-out share of that sequence it predicts masked
    6-mers better than a uniform guess."""
    folder = dv.model.EMBEDDED["genome-mlm"]
    assert folder.is_relative_to(Path(dv.__file__).parent)
    m = dv.load_model("genome-mlm", device="cpu")
    assert m.is_lm and not m.is_classifier
    training = json.loads((folder / "training.json").read_text())
    history = pd.read_csv(folder / "history.tsv", sep="\t")
    assert training["uniform_6mer_loss"] == pytest.approx(np.log(4**6), abs=1e-4)
    assert training["val_loss"] == pytest.approx(history["val_loss"].min(), abs=1e-4)
    # measured: 7.950 nats against ln 4096 = 8.318 (3 epochs of 24,000 sequences)
    assert training["val_loss"] < training["uniform_6mer_loss"] - 0.25


@pytest.mark.slow
def test_the_embedded_masked_lm_expects_the_planted_sites(demo_data):
    """Pretrained without labels on the demo's training sequences, on held-out positives it is
    less surprised inside planted sites than elsewhere."""
    m = dv.load_model("demo-mlm")
    assert dv.get_method("lm_surprise").unavailable(m) is None and not m.is_classifier
    rows = demo_data.indices("heldout", 1)[:60]
    truth = demo_data.truth_mask(rows)
    surprise = dv.score(m, demo_data.sequences("heldout", 1)[:60], "lm_surprise").values
    inside, outside = np.nanmean(surprise[truth]), np.nanmean(surprise[~truth])
    # measured: 1.00 nats inside, 1.40 elsewhere (a uniform guess: 1.39); AUROC 0.81
    assert inside < outside - 0.25, (inside, outside)
    known = ~np.isnan(surprise)
    assert roc_auc_score(truth[known], -surprise[known]) > 0.75
