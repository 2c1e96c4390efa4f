"""dv.faithfulness and dv.sanity_check on a real model whose output reads one nucleotide.

The model (:class:`OnePosition`) is a small torch module wrapped by DnaModel as any checkpoint
is (a ``config``, ``get_input_embeddings``, logits out) with the character tokenizer of
HyenaDNA: one token per nucleotide, embedded one-hot, two per-token layers (identity), a
pooling layer whose weights pick position ``P``, and a classifier whose log-odds of class 1
are 3 when that nucleotide is an A and 0 otherwise. So the truth is exact: only ``P``
matters, mutating it moves the log-odds by 3, and nothing else moves them at all.
"""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import PretrainedConfig
from transformers.modeling_outputs import SequenceClassifierOutput

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.faithful import model_blocks
from dnabert_viz.intervals import sites_mask, split_input
from dnabert_viz.sequences import reverse_complement
from dnabert_viz.tokenization import CharTokenizer
from tests.genome import copy_chr17, write

P, LENGTH, N = 7, 24, 16


class _Pool(torch.nn.Module):
    """A weighted sum over positions (the weights: one per position)."""

    def __init__(self, length: int, position: int):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(length))
        with torch.no_grad():
            self.weight[position] = 1.0

    def forward(self, h):
        return (h * self.weight[: h.shape[1], None]).sum(1)


class OnePosition(torch.nn.Module):
    """Log-odds of class 1: 3 if nucleotide ``position`` is an A, else 0."""

    def __init__(self, position: int = P, length: int = 64):
        super().__init__()
        self.config = PretrainedConfig(
            architectures=["OnePositionForSequenceClassification"],
            num_labels=2,
            max_position_embeddings=length,
        )
        vocab = CharTokenizer().vocab
        self.embeddings = torch.nn.Embedding(len(vocab), 4)
        self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(2)])
        self.pool = _Pool(length, position)
        self.classifier = torch.nn.Linear(4, 2)
        with torch.no_grad():
            self.embeddings.weight.zero_()
            for j, base in enumerate("ACGT"):
                self.embeddings.weight[vocab[base], j] = 1.0
            for layer in self.layers:
                layer.weight.copy_(torch.eye(4))
                layer.bias.zero_()
            self.classifier.weight.zero_()
            self.classifier.bias.zero_()
            self.classifier.weight[1, 0] = 3.0

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids, attention_mask=None, **_):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = torch.relu(layer(h))
        return SequenceClassifierOutput(logits=self.classifier(self.pool(h)))


@pytest.fixture(scope="module")
def one_position(device):
    return dv.DnaModel(
        OnePosition(), CharTokenizer(), name="one position", device=device, returns_attention=False
    )


@pytest.fixture(scope="module")
def seqs():
    rng = np.random.default_rng(0)
    out = ["".join(rng.choice(list("ACGT"), LENGTH)) for _ in range(N)]
    return [s[:P] + "A" + s[P + 1 :] for s in out]


@pytest.fixture(scope="module")
def maps(one_position, seqs):
    rng = np.random.default_rng(1)
    return {
        "ism": dv.ism(one_position, seqs, batch_size=256),
        "saliency": dv.score(one_position, seqs, "saliency"),
        "integrated_gradients": dv.attribute(one_position, seqs, n_steps=8),
        "random": dv.Scores(seqs, rng.random((N, LENGTH)), "random"),
    }


@pytest.fixture(scope="module")
def result(one_position, seqs, maps):
    truth = pd.DataFrame({"sequence_index": range(N), "start": P, "end": P + 1})
    return dv.faithfulness(one_position, seqs, maps, ks=(1, 2, 5, 10), truth=truth)


def _row(result, name, curve, order, k):
    t = result.table
    rows = (t["map"] == name) & (t.curve == curve) & (t.order == order) & (t.k == k)
    return t[rows].iloc[0]


def test_the_model_reads_one_position(one_position, seqs):
    lo = one_position.predict(seqs, output="log_odds")[:, 1]
    assert np.allclose(lo, 3.0)
    mutated = [s[:P] + "C" + s[P + 1 :] for s in seqs]
    assert np.allclose(one_position.predict(mutated, output="log_odds")[:, 1], 0.0)
    elsewhere = [s[:2] + ("C" if s[2] != "C" else "G") + s[3:] for s in seqs]
    assert np.allclose(one_position.predict(elsewhere, output="log_odds")[:, 1], 3.0)


@pytest.mark.parametrize("name", ["ism", "saliency", "integrated_gradients"])
def test_faithful_maps_rank_the_position_first(result, maps, name):
    top1 = [int(np.argmax(-maps[name][i] if name == "ism" else maps[name][i])) for i in range(N)]
    assert top1 == [P] * N
    deletion = _row(result, name, "deletion", "top", 1)
    assert deletion.delta == pytest.approx(-3.0) and deletion.ci_low == pytest.approx(-3.0)
    # restoring the one nucleotide to the fully replaced sequence gives the 3 back
    assert _row(result, name, "insertion", "top", 1).delta == pytest.approx(3.0)
    assert _row(result, name, "deletion", "bottom", 10).delta == pytest.approx(0.0)
    row = result.summary.set_index("map").loc[name]
    # random 5 of 24 positions hold P with chance 5/24: the expected drop is 3 * 5 / 24
    assert row.drop_top == pytest.approx(3.0)
    assert row.drop_random == pytest.approx(3 * 5 / 24, abs=0.3)
    assert row.ratio == pytest.approx(3.0 / row.drop_random)
    assert row.auroc == 1.0 and row.n_truth == N


def test_a_random_map_sits_on_the_random_control(one_position):
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGT"), LENGTH)) for _ in range(64)]
    seqs = [s[:P] + "A" + s[P + 1 :] for s in seqs]
    noise = dv.Scores(seqs, rng.random((64, LENGTH)), "random")
    r = dv.faithfulness(
        one_position, seqs, {"random": noise}, ks=(2, 5, 10), replace="N", summary_k=10
    )
    for k in (2, 5, 10):
        mine, control = (_row(r, "random", "deletion", o, k) for o in ("top", "random"))
        # the two 95% intervals overlap: no difference shown (one random map of 64 sequences
        # is a noisy draw: at k = 5 it holds P in 8 of them where 13.3 are expected)
        assert mine.ci_low <= control.ci_high and control.ci_low <= mine.ci_high
        # k random positions of 24 hold P with chance k / 24
        assert control.delta == pytest.approx(-3 * k / LENGTH, abs=0.15)
    row = r.summary.iloc[0]
    assert row.ratio_low < 1 < row.ratio_high


def test_a_random_map_misses_the_truth(result):
    assert 0.3 < result.summary.set_index("map").auroc["random"] < 0.7


def test_replace_with_n_and_the_table(one_position, seqs, maps):
    r = dv.faithfulness(
        one_position, seqs, {"saliency": maps["saliency"]}, ks=(1, 3), fraction=None, replace="N"
    )
    assert list(r.table.columns) == [
        "map",
        "curve",
        "order",
        "k",
        "delta",
        "ci_low",
        "ci_high",
        "n",
    ]
    assert len(r.table) == 2 * 4 * 2  # curves x orders x ks
    assert r.meta["replaced"] == pytest.approx(0.0) and r.meta["baseline"] == pytest.approx(3.0)
    assert _row(r, "saliency", "deletion", "top", 1).delta == pytest.approx(-3.0)
    assert "auroc" not in r.summary
    assert r.verdicts()[0].startswith("saliency moves the log-odds")
    assert "Faithfulness" in r._repr_html_() and "saliency" in r._repr_html_()


def test_replace_with_a_shuffle(one_position, seqs, maps):
    r = dv.faithfulness(
        one_position, seqs, {"saliency": maps["saliency"]}, ks=(1,), replace="shuffle"
    )
    # the fully replaced sequences score 3 where their shuffle keeps an A at P; mutating P alone
    # leaves each sequence as its shuffle leaves P, so the top-1 drop is 3 less that
    assert 0 < r.meta["replaced"] < 3 and r.meta["replaced"] / 3 * N == pytest.approx(
        round(r.meta["replaced"] / 3 * N)
    )
    assert _row(r, "saliency", "deletion", "top", 1).delta == pytest.approx(
        r.meta["replaced"] - 3.0
    )


def test_truth_mask_and_table_agree(one_position, seqs, maps, result):
    mask = np.zeros((N, LENGTH), dtype=bool)
    mask[:, P] = True
    r = dv.faithfulness(one_position, seqs, {"random": maps["random"]}, ks=(1,), truth=mask)
    assert r.summary.auroc[0] == pytest.approx(result.summary.set_index("map").auroc["random"])


def test_sanity_check_changes_gradients_not_gc(one_position, seqs):
    def gc(m, sequences):
        values = np.array([[c in "GC" for c in s] for s in sequences], dtype=np.float32)
        return dv.Scores(sequences, values + np.arange(LENGTH) / 100, "gc")

    blocks = [b for b, _ in model_blocks(one_position.model)]
    assert blocks == ["head", "layer 1", "layer 0", "embeddings"]
    table = dv.sanity_check(one_position, seqs, {"saliency": "saliency", "gc": gc})
    by = table.set_index(["method", "step"]).spearman
    assert by["gc"].tolist() == pytest.approx([1.0] * 5)
    assert by["saliency", 0] == 1.0
    # the head holds the pooling weights: once they are random, every position counts
    assert abs(by["saliency", 1]) < 0.5
    assert table.randomised.tolist()[:2] == ["none", "none"]
    # the trained model is left as it was
    assert np.allclose(one_position.predict(seqs, output="log_odds")[:, 1], 3.0)


def test_bad_input(one_position, seqs, maps):
    with pytest.raises(ValueError, match=r"^k = 30 is larger than sequence 0 \(24 nt\)"):
        dv.faithfulness(one_position, seqs, {"r": maps["random"]}, ks=(30,))
    with pytest.raises(ValueError, match="map 'r' were computed for other sequences: sequence 0"):
        dv.faithfulness(one_position, seqs[::-1], {"r": maps["random"]}, ks=(1,))
    with pytest.raises(ValueError, match="map 'lm_surprise': lm_surprise reads a language-model"):
        dv.faithfulness(one_position, seqs, ["lm_surprise"], ks=(1,))
    with pytest.raises(ValueError, match="replace must be one of"):
        dv.faithfulness(one_position, seqs, {"r": maps["random"]}, ks=(1,), replace="X")
    with pytest.raises(ValueError, match=r"truth row 0: \[7, 40\) of sequence 0 is not within"):
        truth = pd.DataFrame({"sequence_index": [0], "start": [7], "end": [40]})
        dv.faithfulness(one_position, seqs, {"r": maps["random"]}, ks=(1,), truth=truth)
    with pytest.raises(ValueError, match="method 'cls': cls_attention reads attention weights"):
        dv.sanity_check(one_position, seqs, {"cls": "cls_attention"})


def test_curves_figure(result):
    fig = dv.plot.faithfulness_curves(result, maps=["ism", "random"])
    names = {t.name for t in fig.data if t.showlegend}
    assert names == {"random positions", "ism", "ism, shifted", "random", "random, shifted"}
    top = next(t for t in fig.data if t.name == "ism" and t.mode == "lines+markers")
    assert list(top.y)[0] == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="not in this result"):
        dv.plot.faithfulness_curves(result, maps=["nope"])


@pytest.mark.slow
def test_cli_writes_the_table(tmp_path, demo_data):
    seqs = demo_data.sequences("heldout", label=1)[:3]
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    out = tmp_path / "curves.tsv"
    args = ["faithfulness", "--input", str(fasta), "--methods", "saliency", "--device", "cpu"]
    args += ["--ks", "1,5", "--replace", "N", "--n-random", "2", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out, sep="\t")
    assert set(table.k) == {1, 5, max(1, round(0.1 * min(map(len, seqs))))}
    assert set(table.order) == {"top", "bottom", "random", "shifted"} and set(table.n) == {3}
    assert main(args) == 0  # its own earlier table is replaced
    assert main([*args[:-1], str(fasta)]) == 2
    big = [a if a != "1,5" else "1,5000" for a in args]
    assert main(big) == 2


def test_the_explorer_panel_gives_the_shown_map_s_verdict_first(seqs, maps, result):
    gc = dv.Scores(seqs, np.array([[b in "GC" for b in s] for s in seqs], float), "gc")
    ex = dv.widgets.SequenceExplorer(
        None, seqs, [maps["saliency"], maps["random"], gc], faithfulness=result
    )
    lines = result.verdict_by_map()
    assert list(lines.values()) == result.verdicts() and set(lines) == set(maps)
    panel = ex.faithfulness_panel
    assert panel.layout.display is None
    assert f"<b>{lines['saliency']}</b>" in panel.value  # the shown kind's verdict, in bold
    ex.kind = "random"
    assert f"<b>{lines['random']}</b>" in panel.value and lines["saliency"] in panel.value
    assert panel.value.index(lines["saliency"]) > panel.value.index("<b>")
    ex.kind = "gc"  # a kind the table has no figure for
    assert "no faithfulness figure for gc" in panel.value and "<b>" not in panel.value
    assert lines["ism"] in ex.snapshot()  # the snapshot carries the panel
    plain = dv.widgets.SequenceExplorer(None, seqs, maps["saliency"])
    assert plain.faithfulness_panel.layout.display == "none"


def test_truth_as_a_bed_of_sites_on_the_genome(tmp_path, one_position, seqs, maps):
    """Windows read from a genome by read_intervals (odd ones on the - strand, so their
    sequence is the genome's reverse complement): a BED of the sites on the genome gives the
    AUROC the mask of the same sites in the sequences gives."""
    rng = np.random.default_rng(3)
    chrom, windows, sites = "", [], []
    for i, s in enumerate(seqs):
        chrom += "".join(rng.choice(list("ACGT"), 10))
        start, strand = len(chrom), "-" if i % 2 else "+"
        chrom += reverse_complement(s) if strand == "-" else s
        windows.append(f"chr1\t{start}\t{start + LENGTH}\tw{i}\t0\t{strand}")
        # position P of the window's sequence; on a - window, base end - 1 - P of the genome
        at = start + LENGTH - 1 - P if strand == "-" else start + P
        sites.append(f"chr1\t{at}\t{at + 1}\tP{i}")
    w0 = int(windows[0].split("\t")[1])
    sites += [f"chr1\t{w0 - 3}\t{w0 + 2}\tedge", "chr1\t0\t5\tspacer", "chr2\t0\t9\telsewhere"]
    (tmp_path / "genome.fa").write_text(f">chr1\n{chrom}\n>chr2\n{'A' * 20}\n")
    write(tmp_path / "windows.bed", windows)
    write(tmp_path / "sites.bed", sites)
    table = dv.read_intervals(tmp_path / "windows.bed", tmp_path / "genome.fa", width=None)
    assert table["sequence"].tolist() == seqs
    mask = np.zeros((N, LENGTH), dtype=bool)
    mask[:, P] = True
    mask[0, :2] = True  # the site across window 0's start, cut there
    chosen = {"random": maps["random"], "saliency": maps["saliency"]}
    quick = dict(ks=(1,), fraction=None, n_random=1, n_boot=10, replace="N")
    by_bed = dv.faithfulness(one_position, table, chosen, truth=tmp_path / "sites.bed", **quick)
    by_mask = dv.faithfulness(one_position, seqs, chosen, truth=mask, **quick)
    assert by_bed.summary.auroc.tolist() == pytest.approx(by_mask.summary.auroc.tolist())
    # saliency ranks P first everywhere; the edge site's two bases in sequence 0 it does not
    assert 0.3 < by_bed.summary.auroc[0] < 0.7 and 0.95 < by_bed.summary.auroc[1] < 1
    placed = sites_mask(tmp_path / "sites.bed", split_input(table)[1], [LENGTH] * N)
    assert np.array_equal(placed, mask)  # the - windows' sites mirrored, the edge site cut
    with pytest.raises(ValueError, match="holds sites on the genome: give the sequences as"):
        dv.faithfulness(one_position, seqs, chosen, truth=tmp_path / "sites.bed", **quick)


@pytest.mark.slow
def test_report_verdict_cards_on_the_demo_model(tmp_path, demo_model, demo_data):
    """`dnabert-viz report --faithfulness`: one card per map, most faithful first, whose ratio
    is the table's: the log-odds' drop when the map's top 5 nucleotides are mutated over the
    drop at 5 random positions."""
    seqs = demo_data.sequences("heldout", label=1)[:6]
    dv.cls_attention(demo_model, seqs).save(tmp_path / "s.npz")
    dv.save_motifs([], tmp_path / "motifs")
    methods = ["cls_attention", "integrated_gradients"]
    args = ["report", "--motifs", str(tmp_path / "motifs"), "--scores", str(tmp_path / "s.npz")]
    args += ["--faithfulness", ",".join(methods), "--faithfulness-n", "6", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.html").read_text()
    cards = re.findall(
        r'class="card verdict".*?<h3[^>]*>(\w+)</h3><div class="ratio"[^>]*>([^<]+)<', page
    )
    result = dv.faithfulness(demo_model, seqs, methods)  # what the command computed
    t = result.table[(result.table.curve == "deletion") & (result.table.k == 5)]
    delta = t.set_index(["map", "order"]).delta
    ratios = {n: delta[n, "top"] / delta[n, "random"] for n in methods}
    assert [name for name, _ in cards] == sorted(methods, key=ratios.get, reverse=True)
    assert {name: shown for name, shown in cards} == {n: f"{r:.1f}x" for n, r in ratios.items()}
    # integrated gradients beats random on the demo model; the sentence leads with the best
    assert ratios["integrated_gradients"] > 1.5
    best = cards[0][0]
    assert f"on these 6 sequences, {best} moves the log-odds {ratios[best]:.1f}x more" in page
    assert "Which map to believe" in page and page.count("Plotly.newPlot(") == 1
    alone = [*args[:5], "--faithfulness-n", "6", "--out", str(tmp_path / "r2")]
    assert main(alone) == 2  # --faithfulness-n without --faithfulness: refused


@pytest.mark.slow
def test_cli_truth_as_a_bed_on_the_windows_of_a_genome(tmp_path, capsys):
    """`dnabert-viz faithfulness --bed --genome --truth sites.bed` on the test genome (chr17;
    one window on the - strand): the verdicts carry the AUROC the library gives for the same
    windows and sites; a BED of sites with plain --input, or one that misses every window, is
    one line and exit 2."""
    genome = copy_chr17(tmp_path)
    windows = write(
        tmp_path / "windows.bed",
        [
            f"chr17\t{a}\t{a + 100}\tw{i}\t0\t{'-' if i == 1 else '+'}"
            for i, a in enumerate((1000, 5000, 9000))
        ],
    )
    sites = write(
        tmp_path / "sites.bed", ["chr17\t1010\t1022", "chr17\t5060\t5070", "chr17\t9090\t9130"]
    )
    out = tmp_path / "curves.tsv"
    args = ["faithfulness", "--bed", str(windows), "--genome", str(genome), "--width", "0"]
    args += ["--methods", "saliency", "--ks", "1,5", "--replace", "N", "--n-random", "2"]
    args += ["--device", "cpu", "--out", str(out)]
    assert main([*args, "--truth", str(sites)]) == 0
    printed = capsys.readouterr().out
    table = dv.read_intervals(windows, genome, width=None)
    m = dv.load_model(device="cpu")
    expected = dv.faithfulness(
        m, table, ["saliency"], ks=(1, 5), replace="N", n_random=2, truth=sites
    )
    auroc = expected.summary.auroc[0]
    assert expected.summary.n_truth[0] == 3 and 0 < auroc < 1
    assert f"AUROC at the truth {auroc:.2f}" in printed
    assert pd.read_csv(out, sep="\t")["n"].eq(3).all()

    fasta = write(tmp_path / "in.fa", [f">w{i}\n{s}" for i, s in enumerate(table["sequence"])])
    plain = [a for a in args if a not in ("--bed", str(windows), "--genome", str(genome))]
    plain = [*plain[: plain.index("--width")], *plain[plain.index("--width") + 2 :]]
    for argv, message in (
        ([*plain, "--input", str(fasta), "--truth", str(sites)], "holds sites on the genome"),
        (
            [*args, "--truth", str(write(tmp_path / "far.bed", ["chr17\t20000\t20050"]))],
            "none of its sites overlaps the 3 sequences",
        ),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
