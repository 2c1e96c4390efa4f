import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz.sequences import check_sequences, kmers_to_sequence


def random_sequence(n: int, seed: int = 0) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


def blocks(seq: str, width: int) -> str:
    return " ".join(seq[j : j + width] for j in range(0, len(seq), width))


def kmer_text(seq: str, k: int) -> str:
    return " ".join(seq[j : j + k] for j in range(len(seq) - k + 1))


def test_normalisation_rules():
    assert check_sequences("acgtn") == ["ACGTN"]
    assert check_sequences(["  ACGU\n"]) == ["ACGT"]
    assert check_sequences(("AC", "GT")) == ["AC", "GT"]


def test_kmer_text_becomes_raw_sequence():
    # DNABERT#124: k-mer text given where a raw sequence was expected
    assert check_sequences(["ACGTAC CGTACG GTACGT"]) == ["ACGTACGT"]
    assert kmers_to_sequence("ATG TGC GCA") == "ATGCA"


def test_kmer_text_that_does_not_overlap_is_an_error():
    with pytest.raises(
        ValueError, match=r"sequences\[0\]: k-mers 0 \('ACG'\) and 1 \('TTT'\) do not"
    ):
        check_sequences(["ACG TTT"])


@pytest.mark.parametrize(
    "seqs, message",
    [
        ([], "sequences is empty"),
        (["ACGT", ""], r"sequences\[1\] is empty"),
        (["ACGT", "ACRT"], r"sequences\[1\] has 'R' at position 2: an IUPAC ambiguity code"),
        (["AC-T"], r"sequences\[0\] has '-' at position 2: allowed are A, C, G, T, N"),
        (["ACG T"], r"white space inside a sequence"),
    ],
)
def test_bad_input_names_index_and_position(seqs, message):
    with pytest.raises(ValueError, match=message):
        check_sequences(seqs)


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError, match=r"sequences\[0\] is a int"):
        check_sequences([5])


def test_published_dnabert_kmer_tsv_rows_become_101_nt():
    from .conftest import FIXTURES

    rows = (FIXTURES / "dnabert1_sample" / "dev.tsv").read_text().splitlines()[1:]
    seqs = check_sequences([r.split("\t")[0] for r in rows])
    assert len(seqs) == 40 and {len(s) for s in seqs} == {101}
    first = rows[0].split("\t")[0].split()
    assert seqs[0][:6] == first[0] and seqs[0][-6:] == first[-1]


# FASTA written in space-separated blocks: kinds of sequence, and the message that names why it is
# refused
BLOCK_SEQUENCES = {
    "random": (random_sequence(60), "do not overlap"),
    "homopolymer": ("A" * 60, "tandem repeat of 'A'"),
    "mostly homopolymer": ("A" * 59 + "C", "blocks of"),
    "dinucleotide repeat": ("AC" * 30, "blocks of|do not overlap"),
    "trinucleotide repeat": ("CAG" * 20, "blocks of|do not overlap"),
}


@pytest.mark.parametrize("width", [3, 4, 5, 6, 10])
@pytest.mark.parametrize("kind", BLOCK_SEQUENCES)
def test_fasta_blocks_are_never_read_as_kmer_text(tmp_path, width, kind):
    (seq, message), name = BLOCK_SEQUENCES[kind], kind.replace(" ", "_")
    (tmp_path / "blocks.fa").write_text(f">ok\nACGT\n>{name}\n{blocks(seq, width)}\n")
    with pytest.raises(ValueError, match=rf"blocks.fa, record '{name}' \(line 3\): .*({message})"):
        dv.read_sequences(tmp_path / "blocks.fa")


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_kmer_text_in_fasta_and_tables_is_read_when_unambiguous(tmp_path, k):
    seq = random_sequence(40, seed=k)
    (tmp_path / "k.fa").write_text(f">s\n{kmer_text(seq, k)}\n")
    (tmp_path / "k.tsv").write_text(f"sequence\tlabel\n{kmer_text(seq, k)}\t1\n")
    assert dv.read_sequences(tmp_path / "k.fa")["sequence"].tolist() == [seq]
    assert dv.read_sequences(tmp_path / "k.tsv")["sequence"].tolist() == [seq]


@pytest.mark.parametrize(
    "text, message",
    [
        # the 7-nt misreading
        ("AAAAA AAAAA AAAAA", r"3 blocks of 5 nt .* \(a tandem repeat of 'A'\)"),
        # blocks of 5 of (AC)n overlap too
        ("ACACA CACAC ACACA CACAC ACACA CACAC", r"a tandem repeat of 'AC'"),
        # a 2-word overlap happens by chance once in 1,000 (4^-5)
        ("ACGTAC CGTACG", r"too few k-mers \(2\)"),
        ("ATG TGC GCA", r"too few k-mers \(3\)"),
    ],
)
def test_ambiguous_kmer_text_is_an_error(text, message):
    with pytest.raises(
        ValueError, match=rf"sequences\[0\]: white space splits it into .*{message}"
    ):
        check_sequences([text])
