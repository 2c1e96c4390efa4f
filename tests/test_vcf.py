"""VCF -> centred windows on a real genome (40 kb of human chr17, hg19: pyfaidx's example) ->
variant effects keyed by CHROM/POS/ID/REF/ALT, with percentiles, as a TSV and an annotated VCF
read back by cyvcf2."""

from pathlib import Path

import cyvcf2
import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.vcf import KEYS, read_vcf, write_tsv, write_vcf

from . import checkpoints
from .genome import chr17, copy_chr17, write

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=chr17,length=40000>",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
]
# chr17 (1-based) 1000 is C, 2000-2001 GG, 3000 G (checked against the file below)
RECORDS = [
    "chr17\t1000\trs1\tC\tT\t50\tPASS\tDP=10",
    "chr17\t2000\tdel1\tGG\tG\t.\t.\t.",
    "chr17\t3000\t.\tG\tGA\t.\t.\t.",
]


@pytest.fixture(scope="module")
def genome(tmp_path_factory) -> Path:
    return copy_chr17(tmp_path_factory.mktemp("genome"))


def test_windows_are_centred_and_both_alleles_checked(genome, tmp_path):
    seq = chr17(genome)
    assert (seq[999], seq[1999:2001], seq[2999]) == ("C", "GG", "G")
    vcf = write(tmp_path / "x.vcf", HEADER + RECORDS)
    table = read_vcf(vcf, genome, width=50)
    assert table[["CHROM", "POS", "ID", "REF", "ALT"]].values.tolist() == [
        ["chr17", 1000, "rs1", "C", "T"],
        ["chr17", 2000, "del1", "GG", "G"],
        ["chr17", 3000, ".", "G", "GA"],
    ]
    assert table[["start", "end", "position", "line"]].values.tolist() == [
        [974, 1024, 25, 5],
        [1974, 2024, 25, 6],
        [2974, 3024, 25, 7],
    ]
    assert table["sequence"].tolist() == [seq[974:1024], seq[1974:2024], seq[2974:3024]]
    assert len(table.attrs["skipped"]) == 0


def test_ref_that_disagrees_with_the_genome_is_refused_naming_file_and_line(genome, tmp_path):
    vcf = write(tmp_path / "wrong.vcf", HEADER + [RECORDS[0], "chr17\t1001\t.\tA\tC\t.\t.\t."])
    assert chr17(genome)[1000] == "T"
    with pytest.raises(ValueError, match=r"wrong.vcf, line 6: REF A but .* reads T at chr17:1001"):
        read_vcf(vcf, genome)


@pytest.mark.parametrize(
    "lines, message",
    [
        (RECORDS, r"x.vcf, line 1: not a VCF \(the first line must be ##fileformat"),
        (HEADER + ["chr17\t1000\t.\tC\tT,G\t.\t.\t."], r"x.vcf, line 5: 2 ALT alleles \(T,G\)"),
        (
            HEADER + ["chr17\t1000\t.\tC\t<DEL>\t.\t.\tSVTYPE=DEL"],
            r"line 5: symbolic ALT allele <DEL>",
        ),
        (HEADER + ["chr9\t10\t.\tC\tT\t.\t.\t."], r"line 5: unknown chromosome 'chr9'"),
        (
            HEADER + ["chr17\t39990\t.\tA\tT\t.\t.\t."],
            r"line 5: the window chr17:39889-40089 runs past",
        ),
        (HEADER + ["chr17\t1000\t.\tC\tT"], r"line 5: 5 tab-separated columns"),
        (
            HEADER + ["chr17\tfirst\t.\tC\tT\t.\t.\t."],
            r"line 5: POS 'first' is not a positive integer",
        ),
        (HEADER + ["chr17\t2000\t.\tGG\tT\t.\t.\t."], r"line 5: indel REF GG ALT T"),
    ],
)
def test_bad_records_are_refused_naming_the_line(genome, tmp_path, lines, message):
    with pytest.raises(ValueError, match=message):
        read_vcf(write(tmp_path / "x.vcf", lines), genome)


def test_skip_bad_counts_and_lists_what_it_leaves_out(genome, tmp_path):
    lines = HEADER + [
        RECORDS[0],
        "chr17\t1000\tm\tC\tT,G\t.\t.\t.",
        "chr17\t1200\tsv\tA\t<DEL>\t.\t.\t.",
        "chr17\t1001\tw\tA\tC\t.\t.\t.",
        RECORDS[1],
    ]
    vcf = write(tmp_path / "x.vcf", lines)
    with pytest.warns(UserWarning, match=r"skipped 3 of 5 records .*first: .*x.vcf, line 6"):
        table = read_vcf(vcf, genome, skip_bad=True)
    assert table["ID"].tolist() == ["rs1", "del1"]
    skipped = table.attrs["skipped"]
    assert skipped[["ID", "kind"]].values.tolist() == [
        ["m", "multi-allelic"],
        ["sv", "symbolic"],
        ["w", "REF differs from the genome"],
    ]
    assert skipped["source"].str.endswith(("line 6", "line 7", "line 8")).all()


def test_effects_keyed_by_the_vcf_ref_to_ref_is_zero_and_percentiles_rank(
    genome, tmp_path, demo_model
):
    m = demo_model
    vcf = write(tmp_path / "x.vcf", HEADER + RECORDS)
    table = read_vcf(vcf, genome, width=100)
    same = table.assign(alt=table["ref"])  # REF -> REF
    np.testing.assert_allclose(dv.variant_effects(m, same)["diff"], 0, atol=1e-6)
    v = dv.variant_effects(m, table, n_background=40, random_state=3)
    assert v[["CHROM", "POS", "ID", "REF", "ALT"]].values.tolist() == (
        table[["CHROM", "POS", "ID", "REF", "ALT"]].values.tolist()
    )
    # the deletion by hand: window 1 without its second G (offset 51)
    window = table["sequence"][1]
    by_hand = m.predict([window[:51] + window[52:], window])[:, 1]
    assert v["p_alt"][1] == pytest.approx(by_hand[0], abs=1e-6)
    assert v["diff"][1] == pytest.approx(by_hand[0] - by_hand[1], abs=1e-6)
    for column in ("percentile_substitutions", "percentile_shuffled"):
        pct = v[column].to_numpy()
        assert ((0 <= pct) & (pct <= 100)).all()
        order = np.argsort(np.abs(v["diff"].to_numpy()))
        assert (np.diff(pct[order]) >= 0).all()  # a larger effect never ranks lower
    again = dv.variant_effects(m, table, n_background=40, random_state=3)
    pd.testing.assert_frame_equal(v, again)  # seeded


def test_annotated_vcf_reads_back_with_cyvcf2_carrying_the_tsv_numbers(
    genome, tmp_path, demo_model
):
    m = demo_model
    vcf = write(tmp_path / "x.vcf", HEADER + RECORDS + ["chr17\t1200\tsv\tA\t<DEL>\t.\t.\t."])
    with pytest.warns(UserWarning, match="skipped 1 of 4"):
        table = read_vcf(vcf, genome, width=100, skip_bad=True)
    v = dv.variant_effects(m, table, n_background=20)
    tsv = pd.read_csv(write_tsv(v, tmp_path / "effects.tsv"), sep="\t")
    out = write_vcf(v, vcf, tmp_path / "effects.vcf")
    records = list(cyvcf2.VCF(str(out)))
    assert [(r.CHROM, r.POS, r.REF, r.ALT) for r in records] == [
        ("chr17", 1000, "C", ["T"]),
        ("chr17", 2000, "GG", ["G"]),
        ("chr17", 3000, "G", ["GA"]),
        ("chr17", 1200, "A", ["<DEL>"]),
    ]
    assert records[0].INFO["DP"] == 10  # the original INFO kept
    for r, row in zip(records[:3], tsv.itertuples()):
        assert (r.ID or ".", r.POS) == (row.ID, row.POS)
        assert r.INFO["DV_DIFF"] == pytest.approx(row.diff, rel=1e-5, abs=1e-9)
        assert r.INFO["DV_PCT_SUB"] == pytest.approx(row.percentile_substitutions, rel=1e-5)
        assert r.INFO["DV_PCT_SHUF"] == pytest.approx(row.percentile_shuffled, rel=1e-5)
    assert records[3].INFO.get("DV_DIFF") is None  # skipped: copied unchanged
    # and as a BED over each variant's REF bases, for a genome browser
    bed = dv.write_bed(v, tmp_path / "variants.bed", name="ID", score="diff")
    lines = [line.split("\t") for line in bed.read_text().splitlines()]
    assert [(c, int(s), int(e), n) for c, s, e, n, *_ in lines] == [
        ("chr17", 999, 1000, "rs1"),
        ("chr17", 1999, 2001, "del1"),
        ("chr17", 2999, 3000, "."),
    ]
    assert float(lines[0][4]) == pytest.approx(v["diff"][0])


def test_variants_command_writes_tsv_and_vcf_and_refuses_bad_lines(genome, tmp_path, capsys):
    vcf = write(tmp_path / "x.vcf", HEADER + RECORDS[:1] + ["chr17\t1000\t.\tC\tT,G\t.\t.\t."])
    out = tmp_path / "out"
    args = ["variants", "--vcf", str(vcf), "--genome", str(genome), "--width", "100"]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{vcf}, line 6: 2 ALT alleles" in err
    assert not out.exists()
    assert main([*args, "--skip-bad", "--n-background", "10", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "skipped 1 of 2 records" in printed.err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "effects.tsv",
        "effects.vcf",
        "skipped.tsv",
    ]
    assert pd.read_csv(out / "effects.tsv", sep="\t")["ID"].tolist() == ["rs1"]
    assert pd.read_csv(out / "skipped.tsv", sep="\t")["kind"].tolist() == ["multi-allelic"]


@pytest.fixture(scope="module", params=["masked", "causal"])
def language_model(request, tmp_path_factory):
    """A tiny masked LM (3-mer DNABERT) and a tiny causal LM (HyenaDNA), random weights."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "masked":
        return dv.load_model(checkpoints.dnabert1(folder, k=3, head="mlm", seed=1), device="cpu")
    return dv.load_model(checkpoints.hyenadna(folder, seed=2), device="cpu")


def loglik(m, sequences: list[str]) -> np.ndarray:
    """Each sequence's log-likelihood under a causal LM, from the left-context log-probs."""
    lp = dv.base_log_probs(m, sequences, context="left")
    reads = [
        lp[i, np.arange(len(s)), ["ACGT".index(b) for b in s]] for i, s in enumerate(sequences)
    ]
    return np.array([np.nansum(r) for r in reads])


@pytest.mark.slow
def test_a_language_model_scores_a_vcf_zero_shot_with_percentiles(
    genome, tmp_path, language_model
):
    m = language_model
    vcf = write(tmp_path / "x.vcf", HEADER + RECORDS)
    table = read_vcf(vcf, genome, width=40)
    same = dv.lm_variant_effects(m, table.assign(alt=table["ref"]))  # REF -> REF
    np.testing.assert_allclose(same["pll_diff"], 0, atol=1e-4)
    # REF -> REF of the one-base REFs is a substitution by itself; of GG, not one
    assert same["llr"].isna().tolist() == [False, True, False]
    np.testing.assert_allclose(same["llr"][[0, 2]], 0, atol=1e-4)
    # the causal LM's background costs a forward pass per substitution: fewer (seeded, so the
    # same draws every run), and a wider sampling margin
    n, margin = (600, 6) if m.is_causal_lm else (3000, 4)
    v = dv.lm_variant_effects(m, table, n_background=n, random_state=4)
    assert v[list(KEYS)].values.tolist() == table[list(KEYS)].values.tolist()
    # the SNV (C -> T at offset 20): the masked LM's log p(T) - log p(C) there, the site
    # hidden; the causal LM's exact log-likelihood ratio of the two windows
    every = []  # and so for every substitution of the three windows, by hand
    for w in table["sequence"]:
        mutants = [(j, b) for j in range(40) for b in "ACGT" if b != w[j]]
        if m.is_causal_lm:
            after = loglik(m, [w[:j] + b + w[j + 1 :] for j, b in mutants])
            every += list(after - loglik(m, [w])[0])
        else:
            lp = dv.base_log_probs(m, [w])[0]
            every += [lp[j, "ACGT".index(b)] - lp[j, "ACGT".index(w[j])] for j, b in mutants]
    assert v["llr"][0] == pytest.approx(every[20 * 3 + 2], abs=1e-4)  # C -> T: A, G, T
    # n random substitutions rank the SNV as all 3 x 40 x 3 of them do, within sampling error
    exact = 100 * np.mean(np.abs(every) <= abs(v["llr"][0]))
    assert v["percentile_substitutions"][0] == pytest.approx(exact, abs=margin)
    for column in ("percentile_substitutions", "percentile_shuffled"):
        assert 0 <= v[column][0] <= 100 and v[column][1:].isna().all()  # indels: no percentile
    seeded = [dv.lm_variant_effects(m, table, n_background=20, random_state=4) for _ in "ab"]
    pd.testing.assert_frame_equal(*seeded)
    out = write_vcf(v, vcf, tmp_path / "effects.vcf")
    records = list(cyvcf2.VCF(str(out)))
    assert records[0].INFO["DV_LLR"] == pytest.approx(v["llr"][0], rel=1e-5, abs=1e-9)
    assert records[0].INFO["DV_PCT_SUB"] == pytest.approx(v["percentile_substitutions"][0])
    assert records[1].INFO.get("DV_LLR") is None  # an indel has no LLR: left out, not "nan"
    assert records[1].INFO["DV_PLL_DIFF"] == pytest.approx(v["pll_diff"][1], rel=1e-5)


def test_the_variants_command_scores_a_language_model_zero_shot(genome, tmp_path, capsys):
    m = checkpoints.dnabert1(tmp_path / "lm", k=3, head="mlm", seed=1)
    vcf = write(tmp_path / "x.vcf", HEADER + RECORDS[:2])
    out = tmp_path / "out"
    args = ["variants", "--model", str(m), "--vcf", str(vcf), "--genome", str(genome)]
    assert main([*args, "--width", "40", "--n-background", "50", "--out", str(out)]) == 0
    effects = pd.read_csv(out / "effects.tsv", sep="\t", float_precision="round_trip")
    expected = dv.lm_variant_effects(
        dv.load_model(m, device="cpu"), read_vcf(vcf, genome, width=40), n_background=50
    )
    np.testing.assert_allclose(effects["llr"], expected["llr"], rtol=1e-6)
    np.testing.assert_allclose(effects["percentile_shuffled"], expected["percentile_shuffled"])
    assert "diff" not in effects and "DV_LLR=" in (out / "effects.vcf").read_text()


def test_variant_scores_and_logos_show_both_alleles_on_one_scale(genome, tmp_path, demo_model):
    m = demo_model
    table = read_vcf(write(tmp_path / "x.vcf", HEADER + RECORDS), genome, width=100)
    ref, alt = dv.variant_scores(m, table, method="saliency")
    window = table["sequence"][1]
    np.testing.assert_allclose(ref[1], dv.score(m, window, "saliency")[0], atol=1e-6)
    deleted = window[:51] + window[52:]  # GG -> G at offset 50
    assert alt.sequences[1] == deleted and len(alt[1]) == 99
    np.testing.assert_allclose(alt[1], dv.score(m, deleted, "saliency")[0], atol=1e-6)
    assert ref.meta["variants"][2] == {"start": 50, "end": 51, "ref": "G", "alt": "GA"}
    fig = dv.plot.variant_logos(ref, alt, 2, flank=10)
    xs = [np.asarray(t.x, float) for t in fig.data if t.x is not None]
    ys = np.concatenate([np.asarray(t.y, float) for t in fig.data if t.y is not None])
    assert np.nanmax(np.abs(ys)) == pytest.approx(1.0, abs=1e-6)  # one scale for both rows
    ref_x = np.concatenate([x for x, t in zip(xs, fig.data) if t.yaxis in (None, "y")])
    alt_x = np.concatenate([x for x, t in zip(xs, fig.data) if t.yaxis == "y2"])
    # REF: 10 nt each side of its one base; ALT: its two bases (G, A) and 10 after
    assert (np.nanmin(ref_x), np.nanmax(ref_x)) == pytest.approx((-10.5, 10.5), abs=0.1)
    assert (np.nanmin(alt_x), np.nanmax(alt_x)) == pytest.approx((-10.5, 11.5), abs=0.1)
    shades = [(s.x0, s.x1) for s in fig.layout.shapes]
    assert shades == [(-0.5, 0.5), (-0.5, 1.5)]
    with pytest.raises(ValueError, match="dv.variant_scores' pair"):
        dv.plot.variant_logos(dv.score(m, table, "saliency"), alt, 0)
    with pytest.raises(ValueError, match="variant 3 is not one of the 3 scored"):
        dv.plot.variant_logos(ref, alt, 3)


@pytest.mark.slow
def test_the_explorer_draws_both_alleles_of_the_variant_near_the_selection(demo_model):
    m = demo_model
    seqs = dv.load_demo().sequences("heldout", label=1)[:3]
    s1 = seqs[1]
    table = pd.DataFrame(
        {
            "sequence_index": [1, 1],
            "position": [10, 60],
            "ref": [s1[10], s1[60]],
            "alt": ["A" if s1[10] != "A" else "C", "G" if s1[60] != "G" else "T"],
        }
    )
    given = dv.score(m, seqs, "cls_attention")
    ex = dv.widgets.SequenceExplorer(m, seqs, given, kind="saliency", variants=table)
    assert ex.variant_box.layout.display == "none" and ex.shown_variant() is None  # sequence 0
    ex.index = 1
    assert ex.shown_variant()["start"] == 10 and ex.variant_box.layout.display is None
    ex.position = 55  # nearer the second variant
    assert ex.shown_variant() == {"start": 60, "end": 61, "ref": s1[60], "alt": table.alt[1]}
    ref, alt = dv.variant_scores(m, table.iloc[1:], method="saliency", sequences=seqs)
    expected = dv.plot.variant_logos(ref, alt, 0)
    drawn = ex.variant_figure
    assert [t.name for t in drawn.data] == [t.name for t in expected.data]
    for a, b in zip(drawn.data, expected.data):
        np.testing.assert_allclose(np.asarray(a.y, float), np.asarray(b.y, float), atol=1e-6)
    calls = ex.n_model_calls
    ex.position = 58  # the same variant: nothing recomputed
    assert ex.n_model_calls == calls
    ex.kind = "cls_attention"  # given scores: no alternative to score
    assert ex.variant_box.layout.display == "none" and ex.variant_note.layout.display is None
    assert "given scores have no alternative" in ex.variant_note.value
    windows = pd.DataFrame({"sequence": [s1], "position": [10], "ref": [s1[10]], "alt": ["N"]})
    with pytest.raises(ValueError, match="sequence 0 of the table is not the explorer's"):
        dv.widgets.SequenceExplorer(m, seqs, variants=windows)  # read_vcf-like: its own windows
