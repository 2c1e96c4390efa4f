"""Motif discovery step by step (hand-built inputs), end to end (planted motifs), and on the
demo."""

import base64
from html.parser import HTMLParser
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.motifs import motif as motif_module
from dnabert_viz.motifs.alignment import align_to_keys, encode
from dnabert_viz.motifs.counting import count_containing
from dnabert_viz.motifs.dnabertviz import centre_windows, high_score_regions, merge_candidates
from dnabert_viz.motifs.stats import benjamini_hochberg, hypergeometric_pvalues
from dnabert_viz.sequences import reverse_complement

SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the checkout, read-only


def random_dna(rng, n, length):
    return ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)]


# ---- step 1: regions -------------------------------------------------------------------------


def test_regions_above_mean_and_ten_times_minimum():
    row = np.array(
        [
            0.01,
            0.01,
            1.5,
            1.5,
            1.5,
            1.5,
            1.5,
            0.01,
            1.5,
            1.5,
            0.01,
            2,
            2,
            2,
            2,
            2,
            2,
            np.nan,
            np.nan,
        ]
    )
    # mean 1.33 (NaN excluded), minimum 0.01
    regions = high_score_regions(row[None, :], min_len=5)
    assert regions.values.tolist() == [
        [0, 2, 7],
        [0, 11, 17],
    ]  # the 2-long run is too short; NaN is padding
    # a high minimum: nothing is above 10 x min, so no region at all
    assert high_score_regions((row + 5)[None, :], min_len=5).empty


def test_regions_are_per_sequence():
    values = np.array([[0.01] * 3 + [1.0] * 6 + [0.01], [1.0] * 6 + [0.01] * 4])
    assert high_score_regions(values, 5).values.tolist() == [[0, 3, 9], [1, 0, 6]]


# ---- step 2: counting and the test -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counting_equals_substring_search(seed):
    rng = np.random.default_rng(seed)
    texts = [
        "".join(rng.choice(list("ACGTN"), p=[0.24] * 4 + [0.04], size=rng.integers(3, 80)))
        for _ in range(200)
    ]
    patterns = set()
    for t in texts[:80]:  # short, medium and > 27 nt (hashed, then verified) patterns
        a = int(rng.integers(0, len(t)))
        patterns.add(t[a : a + int(rng.integers(1, 45))])
    patterns = sorted(patterns)
    groups = rng.integers(0, 2, size=len(texts))
    expected = np.zeros((len(patterns), 2), dtype=int)
    for j, p in enumerate(patterns):
        for i, t in enumerate(texts):
            expected[j, groups[i]] += p in t
    assert (count_containing(texts, patterns, groups) == expected).all()


def test_counting_once_per_sequence():
    counts = count_containing(
        ["AAAAAAA", "CAAAAC", "GGG"], ["AAAA", "GGG", "TTTT"], np.array([0, 1, 1])
    )
    assert counts.tolist() == [[1, 1], [0, 1], [0, 0]]


def test_hypergeometric_pvalue_by_hand():
    # 20 sequences, 10 positive; a candidate in 6 sequences, 5 of them positive
    expected = sum(comb(10, x) * comb(10, 6 - x) for x in (5, 6)) / comb(20, 6)
    assert hypergeometric_pvalues(np.array([5]), np.array([6]), 10, 20)[0] == pytest.approx(
        expected, rel=1e-12
    )


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.06, 0.0533, 0.5 -> running minimum from the top
    assert benjamini_hochberg(p) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


# ---- step 3: alignment and merging -----------------------------------------------------------


def test_gapless_alignment_score_and_offset():
    keys = ["TATAAA", "GGGCCC", "AAAT"]
    scores, offsets = align_to_keys("CTATAAAG", encode(keys), np.array([6, 6, 4]))
    assert scores.tolist() == [6, 1, 3]
    assert offsets[0] == 1  # TATAAA starts at query position 1
    scores, offsets = align_to_keys("AATCG", encode(["CCAAT"]), np.array([5]))
    assert (scores[0], offsets[0]) == (3, -2)  # free end gaps: the key overhangs on the left


def test_merge_moves_instances_onto_the_key():
    instances = {
        "TATAAA": np.array([[0, 10, 16]]),
        "CTATAAAG": np.array([[1, 5, 13], [2, 0, 8]]),
        "GGGCCCGG": np.array([[3, 4, 12]]),
    }
    merged = merge_candidates(list(instances), instances, min_len=5)
    assert list(merged) == ["TATAAA", "GGGCCCGG"]
    assert merged["TATAAA"]["instances"].tolist() == [[0, 10, 16], [1, 6, 12], [2, 1, 7]]
    assert merged["TATAAA"]["members"] == ["TATAAA", "CTATAAAG"]


def test_merge_threshold_is_max_of_min_len_minus_one_and_half_the_shorter():
    instances = {"ACGTAC": np.array([[0, 0, 6]]), "ACGTTTTTTT": np.array([[1, 0, 10]])}
    # best alignment: 5 identical letters (ACGT + one more) >= max(4, 3): merged
    assert len(merge_candidates(list(instances), instances, min_len=5)) == 1
    # min_len 7 raises the bar to 6: not merged
    assert len(merge_candidates(list(instances), instances, min_len=7)) == 2


def test_ties_merge_into_the_first_best_key_only():
    """As published: ``best_score`` there is an alignment object, so only one alignment ever equals
    it."""
    instances = {
        "AAAAC": np.array([[0, 0, 5]]),
        "GGGGT": np.array([[1, 0, 5]]),
        "AAAACGGGGT": np.array([[2, 0, 10]]),
    }
    merged = merge_candidates(list(instances), instances, min_len=5)
    assert merged["AAAAC"]["instances"].tolist() == [[0, 0, 5], [2, 0, 5]]
    assert merged["GGGGT"]["instances"].tolist() == [[1, 0, 5]]


def test_tied_shifts_are_those_biopython_returns_first():
    from Bio import Align

    aligner = Align.PairwiseAligner()  # 1.85's defaults, as the published merge used them
    aligner.internal_gap_score = -10000.0
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(400):
        key, query = (random_dna(rng, 1, int(rng.integers(lo, 13)))[0] for lo in (5, 12))
        best = aligner.align(query, key)[0]
        if best.score < 3:
            continue
        scores, offsets = align_to_keys(query, encode([key]), np.array([len(key)]))
        assert scores[0] == best.score
        assert offsets[0] == best.aligned[0][0][0] - best.aligned[1][0][0], (query, key)
        checked += 1
    assert checked > 300


@pytest.mark.parity
def test_parity_with_the_published_motif_analysis():
    """DNABERT's motif_utils.py (../shared/reference, Apache-2.0) and find_motifs give the same
    instance windows (skipped in a clone without ../shared beside it)."""
    parity = _shared_module(SHARED / "tools" / "motif_parity.py")
    pos, neg, scores = parity.make_data(1500, 1500, 250)
    params = dict(window_size=24, min_len=5, pval_cutoff=0.005, min_n_motif=3)
    reference, _ = parity.reference(pos, neg, scores, {**params, "align_all_ties": True})
    ours = {
        m.name: set(
            map(tuple, m.instances[["sequence_index", "start", "end"]].to_numpy().tolist())
        )
        for m in dv.find_motifs(pos, neg, scores, **params)
    }
    assert len(reference) >= 3 and sum(map(len, reference.values())) > 100
    assert ours == reference


def _shared_module(path):
    """The module at ``path`` in ../shared; the test skips (with the reason) where it is absent,
    as in any clone without the shared folder beside it."""
    import importlib.util

    if not path.exists():
        pytest.skip(f"{path} is absent: the parity test runs DNABERT's published code from there")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- step 4: windows -------------------------------------------------------------------------


def test_windows_centre_with_the_extra_base_on_the_right():
    inst = np.array([[0, 10, 15], [0, 10, 16], [1, 0, 5], [1, 17, 22], [1, 16, 21]])
    out = centre_windows(inst, np.array([40, 24]), 10)
    # 5 nt -> 2 left, 3 right; 6 nt -> 2 and 2; [-2, 8) and [15, 25) fall off their sequence;
    # [14, 24) ends exactly at the sequence's end and is kept (the published code drops it)
    assert out.tolist() == [[0, 8, 18], [0, 8, 18], [1, 14, 24]]
    # a region longer than the window shrinks, one more base from the left when odd
    assert centre_windows(np.array([[0, 10, 17]]), np.array([40]), 4).tolist() == [[0, 12, 16]]


# ---- the whole method ------------------------------------------------------------------------


def planted_set(seed=0, n=60, site="GATTACAGG", length=60):
    rng = np.random.default_rng(seed)
    pos, starts = random_dna(rng, n, length), []
    scores = rng.uniform(0.01, 0.2, size=(n, length))
    for i in range(n):
        s = int(rng.integers(0, length - len(site)))
        pos[i] = pos[i][:s] + site + pos[i][s + len(site) :]
        scores[i, s : s + len(site)] = 1.0
        starts.append(s)
    return pos, random_dna(rng, n, length), scores, np.array(starts)


def test_planted_motif_is_recovered_at_its_places():
    pos, neg, scores, starts = planted_set()
    motifs = dv.find_motifs(pos, neg, scores, window_size=13, min_len=5, min_n_motif=3)
    top = motifs[0]
    assert top.name == "GATTACAGG" and top.method == "dnabert_viz"
    assert top.consensus[2:11] == "GATTACAGG"
    inside = (starts >= 2) & (starts + 11 <= 60)  # 13-nt windows that fit in their sequence
    assert sorted(top.instances["sequence_index"]) == list(np.flatnonzero(inside))
    assert (top.instances["start"].to_numpy() == starts[top.instances["sequence_index"]] - 2).all()
    assert top.p_value < 1e-10
    assert top.to_dataframe().shape == (13, 4)


def test_flat_scores_take_the_spread_rule():
    """Scores on a high floor (minimum about 0.4 x the mean, like a small model's [CLS] attention):
    the published rule (above 10 x the minimum) finds no region, "auto" takes mean + 2.5 SD and
    recovers the planted site at its places."""
    pos, neg, scores, starts = planted_set(length=120)
    rng = np.random.default_rng(3)
    flat = 1.0 + 0.2 * rng.random(scores.shape) + scores  # site 2.0-2.2, floor 1.0-1.2
    assert dv.find_motifs(pos, neg, flat, regions="published") == []
    regions = high_score_regions(flat, 5, 2.5)
    exact = (regions["start"].to_numpy() == starts[regions["sequence_index"]]) & (
        regions["end"] - regions["start"]
    ).eq(9)
    assert exact.sum() >= 0.95 * len(pos) and len(regions) <= len(pos)
    motifs = dv.find_motifs(pos, neg, flat, window_size=13)
    top = motifs[0]
    assert top.meta["regions"] == "mean + 2.5 SD" and top.n_instances >= 55
    assert "GATTACAGG" in top.consensus
    shift = top.instances["start"].to_numpy() - starts[top.instances["sequence_index"]]
    assert np.abs(shift).max() <= 2
    # a 9-nt site over 60 nt (15% of the sequence) stands only 2.4 SD above the mean: too broad
    pos60, neg60, scores60, _ = planted_set()
    assert dv.find_motifs(pos60, neg60, 1.0 + 0.2 * rng.random(scores60.shape) + scores60) == []
    peaked = dv.find_motifs(pos, neg, scores, window_size=13)
    assert peaked[0].meta["regions"] == "published"
    with pytest.raises(ValueError, match="regions must be"):
        dv.find_motifs(pos, neg, flat, regions="loose")


def test_scores_object_and_list_inputs_agree():
    pos, neg, scores, _ = planted_set(1)
    as_scores = dv.Scores(pos, scores.astype(np.float32), "test")
    a = dv.find_motifs(pos, neg, as_scores)
    b = dv.find_motifs(pos, neg, list(scores.astype(np.float32)))
    assert [m.name for m in a] == [m.name for m in b]
    assert all(x.instances.equals(y.instances) for x, y in zip(a, b))


def test_a_slice_of_motifs_is_motifs_of_the_same_sequences_and_scores():
    pos, neg, scores, _ = planted_set(1)
    as_scores = dv.Scores(pos, scores.astype(np.float32), "test")
    motifs = dv.find_motifs(pos, neg, as_scores)
    first, rest = motifs[:1], motifs[1:]
    assert type(first) is dv.MotifSet and first[0] is motifs[0] and first[-1].name == "GATTACAGG"
    assert first.scores is as_scores and first.sequences is motifs.sequences
    assert type(rest) is dv.MotifSet and len(rest) == 0 and rest.scores is as_scores
    with pytest.raises(TypeError, match="list indices must be integers or slices"):
        motifs[[0]]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, n, s: (p, n, s[:-1]), "has 59 rows for 60 sequences"),
        (
            lambda p, n, s: (p, n, s[:, :50]),
            r"pos_scores\[0\] has 50 values for a sequence of 60 nt",
        ),
        (
            lambda p, n, s: (p[:3] + [p[3][:7] + "R" + p[3][8:]] + p[4:], n, s),
            r"pos_seqs\[3\] has 'R' at position 7",
        ),
        (
            lambda p, n, s: (p, n[:5] + ["ACGT-ACGT"] + n[6:], s),
            r"neg_seqs\[5\] has '-' at position 4",
        ),
        (lambda p, n, s: (p, [], s), "neg_seqs is empty"),
        (lambda p, n, s: ([], n, s[:0]), "pos_seqs is empty"),
        (
            lambda p, n, s: (p, n, np.where(np.arange(60) == 9, np.nan, s)),
            r"pos_scores\[0\] is not finite at position 9",
        ),
    ],
)
def test_bad_input_is_named(change, message):
    pos, neg, scores, _ = planted_set()
    with pytest.raises(ValueError, match=message):
        dv.find_motifs(*change(pos, neg, scores))


def test_scores_for_other_sequences_are_refused():
    pos, neg, scores, _ = planted_set()
    other = dv.Scores(pos[:-1] + ["ACGT" * 15], scores.astype(np.float32), "test")
    with pytest.raises(ValueError, match="sequence 59 differs"):
        dv.find_motifs(pos, neg, other)


# ---- seqlets ---------------------------------------------------------------------------------


def test_seqlets_recover_a_planted_motif_on_both_strands():
    rng = np.random.default_rng(3)
    site, n, length = "TGACGTCAGG", 80, 70
    seqs = random_dna(rng, n, length)
    scores = rng.normal(0, 0.02, size=(n, length))
    truth = []
    for i in range(n):
        s = int(rng.integers(5, length - len(site) - 5))
        strand = "+" if i % 2 else "-"
        seqs[i] = (
            seqs[i][:s]
            + (site if strand == "+" else reverse_complement(site))
            + seqs[i][s + len(site) :]
        )
        scores[i, s : s + len(site)] += 0.5
        truth.append((i, s, s + len(site)))
    motifs = dv.find_seqlet_motifs(seqs, scores, width=10, flank=3)
    assert len(motifs) == 1
    m = motifs[0]
    assert m.consensus in (site, reverse_complement(site))
    assert m.n_instances >= 0.9 * n
    got = set(m.instances[["sequence_index", "start", "end"]].itertuples(index=False, name=None))
    assert len(got & set(truth)) >= 0.9 * n
    for row in m.instances.itertuples():
        assert row.sequence == (
            seqs[row.sequence_index][row.start : row.end]
            if row.strand == "+"
            else reverse_complement(seqs[row.sequence_index][row.start : row.end])
        )
    assert m.contribution.shape == (len(site), 4) and m.contribution.sum() > 0
    assert np.isnan(m.p_value)


def test_seqlets_on_single_bases_are_no_motif():
    """Contribution on one base per sequence clusters into a 1-nt "motif"; it is dropped unless
    min_width allows it."""
    rng = np.random.default_rng(5)
    seqs = random_dna(rng, 80, 60)
    scores = rng.normal(0, 0.02, size=(80, 60))
    for i, s in enumerate(seqs):
        at = [j for j, b in enumerate(s) if b == "C"][:1]
        scores[i, at] += 1.0
    narrow = dv.find_seqlet_motifs(seqs, scores, min_width=1)
    assert narrow and max(len(m) for m in narrow) <= 2 and narrow[0].n_instances > 40
    assert dv.find_seqlet_motifs(seqs, scores) == []


def test_seqlets_on_noise_find_nothing():
    rng = np.random.default_rng(4)
    seqs = random_dna(rng, 60, 80)
    assert dv.find_motifs(seqs, None, rng.normal(size=(60, 80)), method="seqlets") == []


# ---- Motif, files ----------------------------------------------------------------------------


def test_motif_information_trimming_and_strands():
    inst = pd.DataFrame(
        {
            "sequence_index": [0, 1, 2, 3],
            "start": [10, 20, 5, 0],
            "end": [16, 26, 11, 6],
            "strand": ["+", "+", "-", "+"],
            "sequence": ["ACGTAA", "CCGTAG", "GCGTAT", "TCGTAC"],
        }
    )
    m = dv.Motif.from_sites("m", inst)
    assert m.information_content[1:4] == pytest.approx([2, 2, 2])
    assert m.information_content[0] == pytest.approx(0.0)  # A C G T once each
    assert m.consensus == "NCGTAN"
    t = m.trimmed(min_information=0.5)
    assert len(t) == 4 and t.sequences == ["CGTA"] * 4
    assert t.instances[["start", "end"]].values.tolist() == [[11, 15], [21, 25], [6, 10], [1, 5]]
    assert m.reverse_complement().consensus == "NTACGN"


def test_meme_jaspar_and_folder_round_trips(tmp_path):
    pos, neg, scores, _ = planted_set()
    motifs = dv.find_motifs(pos, neg, scores, window_size=13)
    folder = dv.save_motifs(motifs, tmp_path / "out")
    back = dv.load_motifs(folder)
    assert [m.name for m in back] == [m.name for m in motifs]
    for a, b in zip(motifs, back):
        assert np.array_equal(a.counts, b.counts) and a.instances.equals(b.instances)
        assert a.p_value == pytest.approx(b.p_value)
    meme = dv.read_meme(folder / "motifs.meme")
    assert (
        np.allclose(meme[0].pwm, motifs[0].pwm, atol=1e-6)
        and meme[0].n_instances == motifs[0].n_instances
    )
    jaspar = dv.read_jaspar(folder / "motifs.jaspar")
    assert np.array_equal(jaspar[0].counts, motifs[0].counts)
    lines = (folder / f"motif_GATTACAGG_{motifs[0].n_instances}.txt").read_text().splitlines()
    assert lines == motifs[0].sequences
    tidy = pd.read_csv(folder / "motifs.tsv", sep="\t")
    assert len(tidy) == sum(m.n_instances for m in motifs)
    assert list(tidy.columns) == [
        "motif",
        "method",
        "p_value",
        "sequence_index",
        "start",
        "end",
        "strand",
        "sequence",
    ]


def test_reading_a_published_jaspar_matrix_and_bad_files(tmp_path):
    path = tmp_path / "MA0108.3.jaspar"
    path.write_text(
        ">MA0108.3\tTBP\nA  [ 3 61 0 62 47 63 39 ]\nC  [ 8 0 2 0 0 1 1 ]\n"
        "G  [ 3 1 1 1 0 3 7 ]\nT  [ 54 6 65 5 21 1 21 ]\n"
    )
    (m,) = dv.read_jaspar(path)
    assert m.name == "MA0108.3" and len(m) == 7 and m.consensus == "TATAAAA"
    path.write_text(">X\nA [ 1 2 ]\nC [ 1 2 ]\nG [ 1 2 ]\nU [ 1 2 ]\n")
    with pytest.raises(ValueError, match="line 5: expected 'T"):
        dv.read_jaspar(path)
    bad = tmp_path / "bad.meme"
    bad.write_text(
        "MEME version 4\n\nMOTIF x\nletter-probability matrix: alength= 4 w= 2\n"
        "0.25 0.25 0.25 0.25\n0.5 0.5\n"
    )
    with pytest.raises(ValueError, match="line 6: expected 4 probabilities"):
        dv.read_meme(bad)


# ---- JASPAR and the demo ---------------------------------------------------------------------


def test_jaspar_matrices_match_themselves_and_uniform_motifs_are_not_matched(demo_data):
    planted = [dv.Motif(p.motif_id, p.pwm * 100) for p in demo_data.motifs]
    uniform = dv.Motif("flat", np.full((12, 4), 25.0))
    table = dv.match_jaspar(planted + [uniform])
    assert table["jaspar_id"].tolist()[:3] == [p.motif_id for p in demo_data.motifs]
    assert (table["q_value"][:3] < 1e-6).all()
    assert table["note"][3].startswith("low information (0.0 bits")
    assert np.isnan(table["p_value"][3])
    # each motif keeps its best match: its card shows it
    best = table.iloc[0]
    assert planted[0].best_match == {
        c: best[c]
        for c in ["jaspar_id", "jaspar_name", "tf_family", "tf_class", "p_value", "q_value"]
    }
    assert uniform.best_match is None
    assert (
        f"JASPAR: {best['jaspar_name']} ({best['jaspar_id']}), q = {best['q_value']:.2g}"
        in planted[0]._repr_html_()
    )


class Tags(HTMLParser):
    """The text nodes of an HTML fragment, and a check that every element it opens is closed."""

    VOID = {"img", "br", "meta", "hr", "input"}

    def __init__(self, html: str):
        super().__init__()
        self.open, self.texts, self.images = [], [], []
        self.feed(html)
        self.close()
        assert not self.open, f"unclosed {self.open}"

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes {self.open}"

    def handle_data(self, data):
        if data.strip():
            self.texts.append(data)


def test_motifs_show_their_card_in_notebooks(demo_data, monkeypatch):
    p = demo_data.motifs[0]
    m = dv.Motif(p.motif_id, p.pwm * 100, p_value=2e-9)
    shown = Tags(m._repr_html_())
    bits = m.information_content.sum()
    assert shown.texts == [
        m.name,
        "100 instances, p = 2e-09",
        f"{len(m)} nt, {bits:.1f} bits",
        f"consensus {m.consensus}",
        "JASPAR: no match given",
    ]
    (logo,) = shown.images  # the logo, inline: nothing fetched
    assert logo["alt"] == f"logo of {m.name}"
    png = base64.b64decode(logo["src"].removeprefix("data:image/png;base64,"))
    assert png == dv.plot.logo_png(m)
    m.meta["jaspar"] = {"jaspar_id": "MA0000.1", "jaspar_name": "X<Y", "q_value": 1.25e-7}
    assert "JASPAR: X<Y (MA0000.1), q = 1.2e-07" in Tags(m._repr_html_()).texts  # match_jaspar's
    # text is escaped, never markup
    odd = dv.Motif('<i>"x" & y</i>', m.counts)
    html = odd._repr_html_()
    assert "<i>" not in html and "&lt;i&gt;" in html and Tags(html).texts[0] == odd.name
    # a set: its size, sequences and scores, the first cards and how many more
    seqs = demo_data.sequences("heldout")[:3]
    scores = dv.Scores(seqs, np.zeros((3, len(seqs[0]))), "my_scores")
    small = [dv.Motif(f"m{k}", np.eye(4)[[k % 4, 1, 2, 3]] * 10 + 1) for k in range(6)]
    many = dv.MotifSet([m, *small], seqs, scores)
    shown = Tags(many._repr_html_())
    assert shown.texts[0] == "MotifSet: 7 motifs in 3 sequences, from scores 'my_scores'"
    assert shown.texts[-1].startswith("... 1 more: dv.widgets.MotifGallery(motifs)")
    assert len(shown.images) == 6 and shown.texts.count("JASPAR: no match given") == 5
    assert "JASPAR: X<Y (MA0000.1), q = 1.2e-07" in shown.texts
    # the logos are drawn by dv.plot, which the public API hands the motifs layer: without it,
    # a motif shows its text repr and a set its summary
    monkeypatch.setattr(motif_module, "draw_cards", None)
    assert m._repr_html_() is None
    assert Tags(many._repr_html_()).texts == [shown.texts[0], shown.texts[-1]]
    empty = dv.MotifSet([], seqs)
    empty.why_none = "no candidate passed min_n_motif=3 (lower it)"
    assert Tags(empty._repr_html_()).texts == [
        "MotifSet: 0 motifs in 3 sequences",
        "none found: no candidate passed min_n_motif=3 (lower it)",
    ]


@pytest.mark.slow  # JASPAR matching, twice
def test_significant_matches_list_a_familys_paralogs_with_family_and_class():
    """A MARE query (JASPAR's MAFA matrix): MAFK, its paralog binding the same site, is among
    the matches with q < 0.05, and every row names JASPAR's family and class."""
    from dnabert_viz.motifs.jaspar import jaspar_matrices

    mafa = next(t for t in jaspar_matrices() if t.name == "MAFA")
    table = dv.match_jaspar([dv.Motif("mare", mafa.pwm * 100)], max_q=0.05)
    assert len(table) > 1 and (table["q_value"] < 0.05).all()
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    best = table.iloc[0]
    assert (best.jaspar_name, best.tf_family) == ("MAFA", "Maf-related")
    assert best.tf_class == "Basic leucine zipper factors (bZIP)"
    assert "MAFK" in set(table.loc[table.tf_family == "Maf-related", "jaspar_name"])
    assert len(dv.match_jaspar([dv.Motif("mare", mafa.pwm * 100)])) == 1  # n_matches alone


@pytest.mark.slow  # the demo pipeline's attention, 5,500 + 5,500 (conftest.demo_run)
def test_demo_motifs_are_found_and_matched(demo_run, demo_data):
    table = demo_data.table
    pos = table.loc[table["label"] == 1, "sequence"].tolist()
    neg = table.loc[table["label"] == 0, "sequence"].tolist()
    attention = dv.Scores.load(demo_run[0] / "scores.npz")  # test_cli checks it against the model
    motifs = dv.find_motifs(pos, neg, attention)
    recovery = demo_data.recovery(dv.match_jaspar(motifs))
    assert set(recovery["planted"].dropna()) == {"MA0139.2", "MA0108.3", "MA0106.3"}
    # the published merge (one key per candidate) leaves one 3-instance GGCGC motif, matched to
    # E2F2
    assert recovery["spurious"].sum() <= 1
    # DNABERT-viz lists each factor several times (both strands, fragments): merged, one each
    merged = dv.merge_similar(motifs)
    assert len(motifs) > 6 and len(merged) == 3
    assert sum(m.n_instances for m in merged) > 0.9 * sum(m.n_instances for m in motifs[:6])
    recovery = demo_data.recovery(dv.match_jaspar(merged))
    assert sorted(recovery["planted"]) == ["MA0106.3", "MA0108.3", "MA0139.2"]


@pytest.mark.slow  # IG on 150 sequences, JASPAR matching
def test_demo_seqlets_from_integrated_gradients(demo_model, demo_data):
    pos = demo_data.sequences("heldout", 1)[:150]
    ig = dv.attribute(demo_model, pos, n_steps=20, progress=False)
    motifs = dv.find_motifs(pos, None, ig, method="seqlets")
    recovery = demo_data.recovery(dv.match_jaspar(motifs))
    assert {"MA0139.2", "MA0106.3"} <= set(recovery["planted"].dropna())
    # the TBP seqlet motif is the exact 6-mer TATAAA: its best match is TBP, but with q > 0.05
    assert recovery["spurious"].sum() <= 2


@pytest.mark.slow  # a training
def test_a_planted_motif_the_demo_does_not_use_is_recovered_end_to_end(device):
    """Plant -> train (defaults but a small model) -> [CLS] attention -> DNABERT-viz -> JASPAR:
    about 40 s."""
    from dnabert_viz.demo import DEMO_MOTIFS
    from dnabert_viz.motifs.jaspar import best_matches
    from dnabert_viz.synthetic import draw_jaspar_motifs, plant_motifs

    motifs = draw_jaspar_motifs(1, seed=0, exclude=DEMO_MOTIFS)
    assert motifs[0].motif_id == "MA1980.1"  # ZNF418, 15 nt
    table, _ = plant_motifs(motifs, 700, 700, length=(100, 100), max_per_sequence=1, seed=0)
    seqs, labels = table["sequence"].tolist(), table["label"].to_numpy()
    m = dv.train_classifier(
        seqs[:1000],
        labels[:1000],
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        epochs=6,
        seed=0,
        progress=False,
        device=device,
    )
    assert m.history["val_auroc"].max() > 0.95  # 0.996 measured
    held = list(zip(seqs[1000:], labels[1000:]))
    pos, neg = [s for s, y in held if y == 1], [s for s, y in held if y == 0]
    found = dv.find_motifs(pos, neg, dv.cls_attention(m, pos, progress=False))
    best = best_matches(dv.match_jaspar(found))
    assert len(found) >= 2 and set(best["jaspar_name"]) == {
        "ZNF418"
    }  # 6 motifs, all ZNF418 (measured)
    assert (best["q_value"] < 0.05).all()


def test_jaspar_matrices_are_cached_on_disk_and_a_broken_cache_is_rebuilt(tmp_path, monkeypatch):
    from dnabert_viz.motifs import jaspar

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    read = jaspar.jaspar_matrices.__wrapped__  # past the in-process cache
    fresh = jaspar._read_database("CORE", "vertebrates", "JASPAR2026")
    first = read()
    path = jaspar._cache_file("CORE", "vertebrates", "JASPAR2026")
    assert path.parent == tmp_path / "dnabert_viz" / "jaspar" and path.exists()
    assert len(first) == len(fresh) > 500
    for a, b in zip(jaspar._read_cache(path), fresh):
        assert (a.matrix_id, a.name, a.family, a.tf_class) == (
            b.matrix_id,
            b.name,
            b.family,
            b.tf_class,
        )
        assert np.array_equal(a.pwm, b.pwm)
    # a later call reads the file, not the database
    planted = jaspar.JasparMatrix("X1.1", "X", "fam", np.full((3, 4), 0.25), "cls")
    jaspar._write_cache(path, (planted,))
    assert [m.matrix_id for m in read()] == ["X1.1"]
    # a broken file is read past and written again
    path.write_bytes(b"PK\x03\x04 cut short")
    assert len(read()) == len(fresh) and len(jaspar._read_cache(path)) == len(fresh)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_site_scores_are_log_odds_bits_under_the_matrix():
    sites = ["ACGT", "ACGT", "ACGA", "TCGT"]
    inst = pd.DataFrame(
        {"sequence_index": range(4), "start": 0, "end": 4, "strand": "+", "sequence": sites}
    )
    m = dv.Motif.from_sites("x", inst)
    counts = m.counts + 0.25
    bits = np.log2(4 * counts / counts.sum(axis=1, keepdims=True))
    by_hand = [sum(bits[p, "ACGT".index(b)] for p, b in enumerate(s)) for s in sites]
    np.testing.assert_allclose(m.site_scores(), by_hand)
    # the consensus fits best: 3 of 4 bases agree at two columns (log2(4 x 3.25 / 5) = 1.38)
    assert m.site_scores()[0] == m.site_scores().max()
    assert round(float(m.site_scores()[0]), 2) == round(2 * 1.3785 + 2 * np.log2(4 * 4.25 / 5), 2)
