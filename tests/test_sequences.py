import pytest

from dnabert_viz.sequences import check_sequences, kmers_to_sequence


def test_normalisation_rules():
    assert check_sequences("acgtn") == ["ACGTN"]
    assert check_sequences(["  ACGU\n"]) == ["ACGT"]
    assert check_sequences(("AC", "GT")) == ["AC", "GT"]


def test_kmer_text_becomes_raw_sequence():
    # DNABERT#124: k-mer text given where a raw sequence was expected
    assert check_sequences(["ACGTAC CGTACG GTACGT"]) == ["ACGTACGT"]
    assert kmers_to_sequence("ATG TGC GCA") == "ATGCA"


def test_kmer_text_that_does_not_overlap_is_an_error():
    with pytest.raises(ValueError, match=r"sequence 0: k-mers 0 \('ACG'\) and 1 \('TTT'\) do not overlap"):
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
