"""The stock families (issue 27): DNABERT-S, GROVER, a ModernBERT DNA model and zhangtaolab's plant
models, each a tiny checkpoint in its published layout (tests/checkpoints.py), through
dv.load_model: tokens and their nucleotides, embeddings, attention, per-nucleotide scores."""

import numpy as np
import pytest
import torch

import dnabert_viz as dv

from . import checkpoints

SEQ = "ATATCGAGCTTN"  # the tiny BPE: ATAT CGA GC T T [UNK]
LONGER = "ACGTTGCAAGCTTCGAGGTACCGTAGGCATTA"

# family: (builder, model class, tokenizer scheme, spans of SEQ's tokens, special tokens excluded)
FAMILIES = {
    "DNABERT-S": (
        checkpoints.dnabert_s,
        "DnaBert2Model",
        "bpe",  # DNABERT-2's published BPE: A TATC GAGCTT [UNK]
        [(0, 1), (1, 5), (5, 11), (11, 12)],
    ),
    "GROVER": (
        checkpoints.grover,
        "BertForMaskedLM",
        "bpe",
        [(0, 4), (4, 7), (7, 9), (9, 10), (10, 11), (11, 12)],
    ),
    "ModernBERT DNA": (
        checkpoints.modernbert_dna,
        "ModernBertForMaskedLM",
        "bpe",
        [(i, i + 1) for i in range(12)],
    ),
    "zhangtaolab plant-dnabert-6mer": (
        checkpoints.plant_dnabert_6mer,
        "BertForMaskedLM",
        "nonoverlapping6",
        [(0, 6), *((i, i + 1) for i in range(6, 12))],
    ),
}


@pytest.fixture(scope="module", params=FAMILIES)
def family(request, tmp_path_factory, device):
    build, cls, scheme, spans = FAMILIES[request.param]
    folder = build(tmp_path_factory.mktemp("family") / "ck")
    return request.param, dv.load_model(folder, device=device), cls, scheme, spans


def test_tokens_cover_the_right_nucleotides(family):
    name, m, cls, scheme, spans = family
    assert type(m.model).__name__ == cls and m.tokenizer.scheme == scheme, name
    enc = m.encode(SEQ)
    real = enc.real[0]
    assert [tuple(s) for s in enc.spans[0][real]] == spans
    assert not real[0], "the sequence starts with the model's [CLS]"
    # N is the tokenizer's unknown token (BPE) or the single-nucleotide N (NT-style 6-mers)
    last = m.tokenizer.convert_ids_to_tokens(enc.input_ids[0][real])[-1]
    assert last == ("N" if scheme == "nonoverlapping6" else m.tokenizer.unk_token)


def test_embeddings_do_not_depend_on_the_batch(family):
    name, m, *_ = family
    alone = m.embed([SEQ]).layer(-1)
    batched = m.embed([SEQ, LONGER]).layer(-1)  # SEQ padded to LONGER's tokens
    assert alone.shape == (1, m.model.config.hidden_size) and np.isfinite(batched).all()
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-5, err_msg=name)
    assert not np.allclose(batched[0], batched[1], atol=1e-3)


def test_cls_attention_is_the_cls_row_on_each_tokens_nucleotides(family):
    # two routes to the same number: dv.cls_attention's per-nucleotide score, and the [CLS] row
    # of the last layer's attention (summed over heads) spread onto each token's nucleotides
    name, m, *_ = family
    maps = dv.attention_maps(m, SEQ)
    layers = m.model.config.num_hidden_layers
    tokens = len(maps.tokens)
    assert maps.attentions.shape == (layers, m.model.config.num_attention_heads, tokens, tokens)
    np.testing.assert_allclose(maps.attentions.sum(-1), 1, atol=1e-5)
    row = maps.attentions[-1, :, 0].sum(0)
    expected = np.zeros(len(SEQ))
    for (start, end), value in zip(maps.spans, row):
        if start >= 0:
            expected[start:end] = value
    expected /= np.linalg.norm(expected)
    scores = dv.cls_attention(m, [SEQ])
    assert scores.values.shape == (1, len(SEQ))
    np.testing.assert_allclose(scores[0], expected, rtol=1e-4, err_msg=name)


def test_language_model_scores_per_nucleotide(family):
    name, m, *_ = family
    if not m.is_masked_lm:  # DNABERT-S: an encoder, its embeddings are the product
        with pytest.raises(ValueError, match="has no classifier head .*attention and embeddings"):
            dv.ism(m, [SEQ])
        return
    s = dv.score(m, [SEQ], "lm_mutation_map")
    effects = s.extra["effects"]
    assert s.values.shape == (1, len(SEQ)) and effects.shape == (1, len(SEQ), 4)
    acgt = np.array(["ACGT".index(c) for c in SEQ[:-1]])
    # log p(alt) / p(ref): 0 at the reference base, finite elsewhere; the N has no reference
    assert np.all(effects[0, np.arange(len(acgt)), acgt] == 0), name
    assert np.isfinite(effects[0, :-1]).all() and np.isnan(s.values[0, -1])


def test_modernbert_local_layers_attend_within_their_window(tmp_path, device):
    m = dv.load_model(checkpoints.modernbert_dna(tmp_path / "ck"), device=device)
    maps = dv.attention_maps(m, LONGER)  # 34 tokens
    i, j = np.indices(maps.attentions.shape[-2:])
    far = np.abs(i - j) > m.model.config.local_attention // 2
    assert maps.attentions[0][:, far].max() > 0.01  # layer 0 attends globally
    assert maps.attentions[1][:, far].max() == 0 and maps.attentions[2][:, far].max() == 0


def test_modernbert_lm_scores_equal_its_masked_predictions(tmp_path, device):
    # one token a nucleotide: log p(alt) - log p(ref) at position p is the masked LM's
    # prediction with p masked
    m = dv.load_model(checkpoints.modernbert_dna(tmp_path / "ck"), device=device)
    effects = dv.score(m, [SEQ], "lm_mutation_map").extra["effects"][0]
    ids = torch.as_tensor(m.encode(SEQ).input_ids, device=m.device)
    bases = [m.tokenizer.vocab[b] for b in "ACGT"]
    for p in (0, 5, 10):
        masked = ids.clone()
        masked[0, p + 1] = m.tokenizer.mask_id
        with torch.no_grad():
            logp = torch.log_softmax(m.model(input_ids=masked).logits[0, p + 1], -1)[bases]
        expected = (logp - logp["ACGT".index(SEQ[p])]).cpu().numpy()
        np.testing.assert_allclose(effects[p], expected, atol=1e-5)


def test_plant_6mer_vocabulary_is_not_taken_for_dnabert1(tmp_path, device):
    # the same 4,107-entry NT vocabulary under a stock BERT: non-overlapping 6-mers, where
    # DNABERT-1's vocabulary ([CLS] and the 4,096 6-mers) gives overlapping ones
    plant = dv.load_model(checkpoints.plant_dnabert_6mer(tmp_path / "plant"), device=device)
    dnabert = dv.load_model(checkpoints.dnabert1(tmp_path / "dnabert", k=6), device=device)
    assert len(plant.tokenizer.vocab) == plant.model.config.vocab_size == 4107
    assert (plant.tokenizer.scheme, dnabert.tokenizer.scheme) == ("nonoverlapping6", "kmer6")
    assert "nonoverlapping6 tokens" in repr(plant) and "kmer6 tokens" in repr(dnabert)
    seq = LONGER[:30]
    plant_spans = plant.encode(seq).spans[0]
    assert plant_spans[plant_spans[:, 0] >= 0].tolist() == [[i, i + 6] for i in range(0, 30, 6)]
    assert plant.tokenizer.convert_ids_to_tokens(plant.encode(seq).input_ids[0]) == [
        "<cls>",
        *(seq[i : i + 6] for i in range(0, 30, 6)),
    ]
    dnabert_spans = dnabert.encode(seq).spans[0]
    assert len(dnabert_spans[dnabert_spans[:, 0] >= 0]) == 30 - 6 + 1


@pytest.mark.parametrize(
    ("build", "spans"),
    [
        (checkpoints.grover, FAMILIES["GROVER"][3]),
        (checkpoints.modernbert_dna, FAMILIES["ModernBERT DNA"][3]),
    ],
    ids=["GROVER", "ModernBERT DNA"],
)
def test_fine_tuned_classifiers_predict_and_explain(build, spans, tmp_path, device):
    m = dv.load_model(build(tmp_path / "ck", head="classifier"), device=device)
    probs = m.predict([SEQ, LONGER])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)
    # ISM: each effect is the change of p(class 1) when that one base is substituted
    effects = dv.ism(m, [SEQ], target=1).extra["effects"][0]
    for p, base in ((0, "G"), (5, "T"), (10, "A")):
        mutant = SEQ[:p] + base + SEQ[p + 1 :]
        expected = m.predict([mutant])[0, 1] - probs[0, 1]
        assert effects[p, "ACGT".index(base)] == pytest.approx(expected, abs=1e-6)
    # integrated gradients, each token's share spread evenly over the nucleotides it covers
    ig = dv.attribute(m, [SEQ], method="integrated_gradients", target=1, n_steps=16)[0]
    assert np.isfinite(ig).all() and np.abs(ig).max() > 0
    for start, end in spans:
        np.testing.assert_allclose(ig[start:end], ig[start], rtol=1e-6)


def test_a_bpe_vocabulary_without_its_merges_is_named(tmp_path):
    # GROVER's vocabulary as a vocab.txt (BertTokenizer style) without tokenizer.json: which
    # tokens a sequence is cut into depends on the merges, which only tokenizer.json holds
    folder = checkpoints.grover(tmp_path / "ck")
    vocab = dv.load_tokenizer(folder).vocab
    (folder / "vocab.txt").write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ValueError) as info:
        dv.load_model(folder)
    assert str(info.value) == (
        f"{folder / 'vocab.txt'}: not a DNA k-mer vocabulary (k-mer lengths found: [2, 3, 4]; "
        "expected all 4^k k-mers of one length with [CLS] (DNABERT) or <cls> (Nucleotide "
        "Transformer)); tokens of several lengths are a BPE vocabulary, which cuts sequences "
        "only with its merges: give the folder its tokenizer.json"
    )
