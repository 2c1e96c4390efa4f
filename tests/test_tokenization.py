import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import BertTokenizer

from dnabert_viz.tokenization import (
    BpeTokenizer,
    KmerTokenizer,
    load_tokenizer,
    plan_windows,
    read_vocab,
)

from .conftest import FIXTURES

KS = [3, 4, 5, 6]


@pytest.mark.parametrize("k", KS)
def test_published_vocab_detected_and_ids_exact(k):
    tok = load_tokenizer(FIXTURES / f"k{k}")
    assert isinstance(tok, KmerTokenizer) and tok.k == k and tok.overlapping
    assert len(tok.vocab) == 4**k + 5
    lines = (FIXTURES / f"k{k}" / "vocab.txt").read_text().splitlines()
    seq = "ACGTTGCAAGCTTCGA"
    enc = tok.encode(seq)
    kmers = [seq[i : i + k] for i in range(len(seq) - k + 1)]
    expected = [lines.index("[CLS]")] + [lines.index(km) for km in kmers] + [lines.index("[SEP]")]
    assert enc.input_ids[0].tolist() == expected
    assert tok.unk_id not in enc.input_ids[0]


@pytest.mark.parametrize("k", KS)
def test_parity_with_bert_tokenizer_without_lowercasing(k):
    seq = "GATTACAGATTACACCGGTTAAN"
    ours = load_tokenizer(FIXTURES / f"k{k}").encode(seq).input_ids[0].tolist()
    bert = BertTokenizer.from_pretrained(FIXTURES / f"k{k}", do_lower_case=False)
    text = " ".join(seq[i : i + k] for i in range(len(seq) - k + 1))
    assert bert(text)["input_ids"] == ours
    # the published do_lower_case: true turns every k-mer into [UNK]: the trap we avoid
    stock = BertTokenizer.from_pretrained(FIXTURES / f"k{k}")
    assert set(stock(text)["input_ids"][1:-1]) == {1}


@settings(max_examples=60, deadline=None)
@given(seq=st.text(alphabet="ACGTN", min_size=6, max_size=120), k=st.sampled_from(KS))
def test_kmer_spans_map_every_token_back(seq, k):
    tok = load_tokenizer(FIXTURES / f"k{k}")
    enc = tok.encode(seq)
    ids, spans = enc.input_ids[0], enc.spans[0]
    real = spans[:, 0] >= 0
    assert real.sum() == len(seq) - k + 1
    for tid, (a, b) in zip(ids[real], spans[real]):
        piece = seq[a:b]
        assert b - a == k
        assert tok.id_to_token[int(tid)] == piece if "N" not in piece else tid == tok.unk_id
    assert enc.attention_mask[0].sum() == real.sum() + 2


def _nt_vocab(tmp_path):
    kmers = ["".join(p) for p in itertools.product("ATCG", repeat=6)]
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"] + kmers + list("ATCGN")
    (tmp_path / "vocab.txt").write_text("\n".join(tokens) + "\n")
    return tmp_path


def test_nucleotide_transformer_scheme(tmp_path):
    tok = load_tokenizer(_nt_vocab(tmp_path))
    assert isinstance(tok, KmerTokenizer) and not tok.overlapping and len(tok.vocab) == 4107
    seq = "ACGTACGTANNACGTACGTT"
    enc = tok.encode(seq)
    tokens = tok.convert_ids_to_tokens(enc.input_ids[0])
    assert tokens == ["<cls>", "ACGTAC", "G", "T", "A", "N", "N", "ACGTAC", "G", "T", "T"]
    spans = enc.spans[0].tolist()
    assert (
        spans[0] == [-1, -1]
        and spans[1] == [0, 6]
        and spans[5] == [9, 10]
        and spans[7] == [11, 17]
    )
    assert enc.attention_mask[0].sum() == len(tokens)  # <cls> and no end token


@settings(max_examples=40, deadline=None)
@given(seq=st.text(alphabet="ACGTN", min_size=1, max_size=100))
def test_nucleotide_transformer_spans_tile_the_sequence(tmp_path_factory, seq):
    tok = load_tokenizer(_nt_vocab(tmp_path_factory.mktemp("nt")))
    enc = tok.encode(seq)
    real = enc.spans[0][enc.spans[0][:, 0] >= 0]
    assert real[0, 0] == 0 and real[-1, 1] == len(seq) and (real[1:, 0] == real[:-1, 1]).all()
    tokens = tok.convert_ids_to_tokens(enc.input_ids[0][1 : len(real) + 1])
    assert "".join(tokens) == seq


def test_dnabert2_published_bpe_tokenizer():
    tok = load_tokenizer(FIXTURES / "dnabert2")
    assert isinstance(tok, BpeTokenizer) and len(tok.vocab) == 4096
    seq = (
        (FIXTURES / "dnabert2" / "sample_data" / "dev.csv")
        .read_text()
        .splitlines()[1]
        .split(",")[0]
    )
    enc = tok.encode(seq)
    real = enc.spans[0][:, 0] >= 0
    pieces = tok.convert_ids_to_tokens(enc.input_ids[0][real])
    assert "".join(pieces) == seq
    assert [seq[a:b] for a, b in enc.spans[0][real]] == pieces
    assert enc.input_ids[0][0] == 1 and enc.input_ids[0][real.sum() + 1] == 2  # [CLS] ... [SEP]
    assert (tok.encode(seq.lower()).input_ids == enc.input_ids).all()  # normalised, not [UNK]


def test_dnabert2_n_is_one_unk_per_nucleotide():
    tok = load_tokenizer(FIXTURES / "dnabert2")
    enc = tok.encode("ACGTNNACGT")
    ids, spans = enc.input_ids[0], enc.spans[0]
    unk = np.flatnonzero(ids == tok.unk_id)
    assert [tuple(spans[u]) for u in unk] == [(4, 5), (5, 6)]


def test_dnabert2_windows_are_cut_from_the_whole_sequences_tokens():
    tok = load_tokenizer(FIXTURES / "dnabert2")
    rng = np.random.default_rng(0)
    short, long = ("".join(rng.choice(list("ACGT"), n)) for n in (2000, 5000))
    # about 440 tokens: fits, never cut
    assert len(tok.encode(short, max_tokens=512).input_ids) == 1
    whole_ids, whole_spans = tok.tokenize(long)
    enc = tok.encode(long, max_tokens=512)
    assert len(enc.input_ids) == 4 and (enc.attention_mask.sum(1) == 512).all()
    for ids, spans, real in zip(enc.input_ids, enc.spans, enc.real):
        # same tokens as the whole sequence
        first = int(np.flatnonzero((whole_spans == spans[real][0]).all(1))[0])
        assert (ids[real] == whole_ids[first : first + real.sum()]).all()
    assert enc.spans[0, 1, 0] == 0 and enc.spans[-1].max() == 5000
    nt = tok.encode(long, max_tokens=512, window_size=400)  # nucleotide windows when asked for
    assert len(nt.input_ids) == len(plan_windows(5000, 400, 200))


def test_bpe_tokenizer_trained_here(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    rng = np.random.default_rng(0)
    corpus = ["".join(rng.choice(list("ACGT"), 200)) + "TATAAAAGGC" * 3 for _ in range(200)]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
        ),
    )
    tok.save(str(tmp_path / "tokenizer.json"))
    ours = load_tokenizer(tmp_path)
    seq = "GGCTATAAAAGGCTATAAAAGGCAC"
    enc = ours.encode(seq)
    real = enc.spans[0][:, 0] >= 0
    lengths = np.diff(enc.spans[0][real], axis=1).ravel()
    assert lengths.max() > 1  # merges learned
    assert [seq[a:b] for a, b in enc.spans[0][real]] == ours.convert_ids_to_tokens(
        enc.input_ids[0][real]
    )


def test_plan_windows_cover_everything():
    assert plan_windows(10, 20, 5) == [(0, 10)]
    w = plan_windows(100, 40, 25)
    assert w == [(0, 40), (25, 65), (50, 90), (60, 100)]
    with pytest.raises(ValueError, match="skip nucleotides"):
        plan_windows(100, 10, 20)


def test_windows_keep_full_sequence_coordinates():
    tok = load_tokenizer(FIXTURES / "k3")
    seq = "ACGT" * 30  # 120 nt
    enc = tok.encode(seq, max_tokens=22, stride=10)  # 20 tokens -> windows of 22 nt
    assert enc.input_ids.shape[1] == 22 and len(enc.input_ids) > 1
    assert (enc.sequence_index == 0).all()
    for ids, spans in zip(enc.input_ids, enc.spans):
        for tid, (a, b) in zip(ids, spans):
            if a >= 0:
                assert tok.id_to_token[int(tid)] == seq[a:b]
    covered = np.zeros(len(seq), bool)
    for a, b in enc.spans[enc.spans[..., 0] >= 0]:
        covered[a:b] = True
    assert covered.all()


def test_vocab_errors_name_the_file(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\nhello\nworld\n")
    with pytest.raises(ValueError, match="vocab.txt: not a DNA k-mer vocabulary"):
        load_tokenizer(tmp_path)
    (tmp_path / "vocab.txt").write_text("[PAD]\nAAA\nAAA\n")
    with pytest.raises(ValueError, match="appears twice"):
        read_vocab(tmp_path / "vocab.txt")
    with pytest.raises(FileNotFoundError, match="neither vocab.txt nor tokenizer.json"):
        load_tokenizer(tmp_path / "nothing")
