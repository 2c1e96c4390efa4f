"""dv.scan: FIMO hits of JASPAR or discovered motifs, on both strands and the genome; which hits
the model used; enrichment in positives."""

import numpy as np
import pandas as pd
import pytest
from memelite import fimo

import dnabert_viz as dv
from dnabert_viz.demo import DEMO_MOTIFS
from dnabert_viz.motifs.jaspar import jaspar_matrices
from dnabert_viz.motifs.scan import genome_hits, hit_enrichment
from dnabert_viz.sequences import reverse_complement
from dnabert_viz.synthetic import jaspar_motif

CTCF = "MA0139.2"
DECOY = "MA0138.3"  # REST: 20 nt, 22.8 bits, in no demo training sequence


def _consensus(motif_id: str) -> str:
    return "".join("ACGT"[i] for i in jaspar_motif(motif_id).pwm.argmax(axis=1))


@pytest.fixture(scope="module")
def heldout(demo_data):
    rows = demo_data.indices("heldout")[:60]
    return demo_data.table.sequence[rows].tolist(), demo_data.table.label[rows].to_numpy()


def test_p_values_and_scores_are_memelites_fimo_on_the_same_input(heldout):
    seqs = [s[:100] for s in heldout[0]]  # one length: fimo's one-hot input as it is
    hits = dv.scan(seqs, list(DEMO_MOTIFS))
    pwms = {m.matrix_id: m.pwm.T for m in jaspar_matrices() if m.matrix_id in DEMO_MOTIFS}
    same = list(range(len(seqs)))
    x = dv.one_hot(seqs).transpose(0, 2, 1)
    theirs = pd.concat(
        [f.assign(motif_id=k) for k, f in zip(pwms, fimo(pwms, np.ascontiguousarray(x)))]
    )
    theirs["sequence_index"] = np.array(same)[theirs["sequence_name"].to_numpy(dtype=int)]
    ours = hits[hits["sequence_index"].isin(same)]
    key = ["sequence_index", "start", "strand"]
    for motif_id in DEMO_MOTIFS:
        a = ours[ours["motif_id"] == motif_id].sort_values(key)
        b = theirs[theirs["motif_id"] == motif_id].sort_values(key)
        assert len(a) == len(b) > 0
        assert (a["start"].to_numpy() == b["start"].to_numpy()).all()
        assert (a["strand"].to_numpy() == b["strand"].to_numpy()).all()
        np.testing.assert_array_equal(a["p_value"].to_numpy(), b["p-value"].to_numpy())
        np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy())
    # the score is the log2-odds of the site by hand: log2(p + 1e-4) - log2(1/4) summed
    row = hits.iloc[0]
    pwm = pwms[row["motif_id"]].T
    site = row["sequence"]  # read on the hit's strand, as the forward matrix reads it
    by_hand = sum(np.log2(pwm[j, "ACGT".index(b)] + 1e-4) + 2 for j, b in enumerate(site))
    assert abs(by_hand - row["score"]) < 1e-3


def test_q_values_are_benjamini_hochberg_over_every_window(heldout):
    seqs = [s[:100] for s in heldout[0][:30]]
    hits = dv.scan(seqs, CTCF, threshold=1e-3)
    every = dv.scan(seqs, CTCF, threshold=1.0)  # every window of both strands is a "hit"
    assert len(every) == 2 * 30 * (100 - 15 + 1)
    q = dv.motifs.stats.benjamini_hochberg(every["p_value"].to_numpy())
    merged = hits.merge(every.assign(q=q), on=["sequence_index", "start", "strand"])
    exact = merged["q_value_x"] <= 1e-3
    np.testing.assert_allclose(merged["q_value_x"][exact], merged["q"][exact], rtol=1e-9)
    assert (merged["q_value_x"] >= merged["q"] - 1e-12).all()  # above the threshold: a bound


def test_minus_strand_hits_read_the_reverse_complement():
    rng = np.random.default_rng(0)
    site = _consensus(CTCF)
    left, right = "".join(rng.choice(list("ACGT"), 40)), "".join(rng.choice(list("ACGT"), 45))
    seqs = [left + site + right, left + reverse_complement(site) + right]
    hits = dv.scan(seqs, CTCF, threshold=1e-6)
    assert hits[["sequence_index", "start", "end", "strand"]].values.tolist() == [
        [0, 40, 55, "+"],
        [1, 40, 55, "-"],
    ]
    assert hits["sequence"].tolist() == [site, site]
    assert hits["score"][0] == pytest.approx(hits["score"][1], rel=1e-12)
    assert (
        not dv.scan(seqs, CTCF, threshold=1e-6, both_strands=False)["sequence_index"].eq(1).any()
    )


def test_discovered_motifs_scan_like_their_matrix():
    pwm = jaspar_motif(CTCF).pwm
    motif = dv.Motif("found", pwm * 100)
    seq = "AT" * 20 + _consensus(CTCF) + "GC" * 20
    ours = dv.scan(seq, motif)
    jaspar = dv.scan(seq, CTCF)
    assert ours["motif"].tolist() == ["found"] and ours["start"].tolist() == [40]
    np.testing.assert_allclose(ours["p_value"], jaspar["p_value"])


def test_hits_land_on_the_genome_and_write_as_bed(tmp_path):
    rng = np.random.default_rng(1)
    chrom = list("".join(rng.choice(list("ACGT"), 2000)))
    site = _consensus(CTCF)
    chrom[1000:1015] = site
    (tmp_path / "g.fa").write_text(">chrT\n" + "".join(chrom) + "\n")
    (tmp_path / "p.bed").write_text("chrT\t950\t1050\tplus\t0\t+\nchrT\t950\t1050\tminus\t0\t-\n")
    table = dv.read_intervals(tmp_path / "p.bed", tmp_path / "g.fa", width=100)
    hits = dv.scan(table, CTCF, threshold=1e-6)
    assert hits["sequence_name"].tolist() == ["plus", "minus"]
    assert hits["start"].tolist() == [50, 35]  # the minus window was reverse-complemented
    assert hits["strand"].tolist() == ["+", "-"]
    assert (hits["genome_start"] == 1000).all() and (hits["genome_end"] == 1015).all()
    assert (hits["genome_strand"] == "+").all()
    bed = genome_hits(hits)
    dv.write_bed(bed, tmp_path / "hits.bed")
    line = (tmp_path / "hits.bed").read_text().splitlines()[0].split("\t")
    assert line[:4] == ["chrT", "1000", "1015", f"{CTCF}_CTCF"] and line[5] == "+"


def test_enrichment_is_fishers_exact_test(heldout):
    from scipy.stats import fisher_exact

    seqs, labels = heldout
    hits = dv.scan(seqs, [*DEMO_MOTIFS, DECOY])
    table = hit_enrichment(hits, labels).set_index("motif")
    for label, row in table.iterrows():
        holding = set(hits[hits["motif"] == label]["sequence_index"])
        a = sum(labels[i] == 1 for i in holding)
        assert row["positives"] == a and row["negatives"] == len(holding) - a
        cells = [[a, labels.sum() - a], [len(holding) - a, (labels == 0).sum() - len(holding) + a]]
        assert row["p_value"] == pytest.approx(fisher_exact(cells, "greater")[1], rel=1e-9)
    # the demo's negatives hold no planted site: all three enriched (recorded q 2e-7 to 2e-3)
    assert (
        table.loc[[m for m in table.index if m.split()[0] in DEMO_MOTIFS], "q_value"] < 0.01
    ).all()
    assert table.loc[f"{DECOY} REST", "q_value"] == 1


@pytest.fixture(scope="module")
def decoyed(demo_data):
    """Twelve held-out positives with the REST consensus written over background (away from the
    planted sites), and their planted sites."""
    rows = demo_data.indices("heldout", 1)[:12]
    rng = np.random.default_rng(0)
    site, seqs, where = _consensus(DECOY), [], []
    planted = demo_data.planted[demo_data.planted["sequence_index"].isin(rows)]
    for row in rows:
        seq = demo_data.table.sequence[row]
        taken = planted[planted["sequence_index"] == row]
        free = [
            p
            for p in range(len(seq) - len(site) + 1)
            if all(p + len(site) <= a or p >= b for a, b in zip(taken["start"], taken["end"]))
        ]
        p = int(rng.choice(free))
        seqs.append(seq[:p] + site + seq[p + len(site) :])
        where.append(p)
    planted = planted.assign(
        sequence_index=planted["sequence_index"].map(dict(zip(rows, range(12))))
    )
    return seqs, where, planted


@pytest.mark.slow  # one-hot integrated gradients of 12 sequences
def test_planted_sites_the_model_uses_are_used_and_a_decoy_is_ignored(demo_model, decoyed):
    seqs, where, planted = decoyed
    scores = dv.score(demo_model, seqs, "onehot_integrated_gradients", output="logit", n_steps=16)
    hits = dv.scan(seqs, [*DEMO_MOTIFS, DECOY], scores=scores)
    site = hits.merge(planted, on=["sequence_index", "start", "end", "motif_id"])
    assert len(site) >= 12 and site["used"].all()  # recorded: 19 hits, every one used
    assert site["contribution_z"].min() > 2 and site["contribution_z"].median() > 10
    assert (site["agreement"] > 0.5).all()  # recorded: z 2.7 to 65 (median 19), cosine >= 0.59
    decoy = hits[hits["motif_id"] == DECOY]
    assert decoy["start"].tolist() == where  # one hit per sequence, where it was written
    assert not decoy["used"].any()  # recorded: contribution_z at most 1.7, agreement at most 0.1
    assert (decoy["contribution_z"].abs() < 3).all()


def test_the_rule_follows_the_background_and_needs_hypothetical_agreement(decoyed):
    """Hand-made scores: contributions of 1 over the decoy's site on noise give it a large z, and
    hypothetical contributions that are the motif's log-odds there agree with cosine 1."""
    seqs, where, _ = decoyed
    seqs, where = seqs[:6], where[:6]
    rng = np.random.default_rng(2)
    x = dv.one_hot(seqs)
    hyp = rng.normal(0, 0.1, x.shape).astype(np.float32)
    pwm = jaspar_motif(DECOY).pwm
    direction = np.log2((0.9 * pwm + 0.025) / 0.25)
    for i, p in enumerate(where[:3]):  # the first three carry the motif; the others noise only
        hyp[i, p : p + len(pwm)] = direction
    past = np.arange(x.shape[1])[None, :] >= np.array([len(s) for s in seqs])[:, None]
    hyp[past] = np.nan
    values = np.nansum(hyp * x, axis=2)
    values[past] = np.nan
    scores = dv.Scores(seqs, values, "hand", extra={"hypothetical": hyp})
    hits = dv.scan(seqs, DECOY, scores=scores, threshold=1e-8)
    assert hits["used"].tolist() == [True] * 3 + [False] * 3
    np.testing.assert_allclose(hits["agreement"][:3], 1.0, atol=1e-5)
    assert (hits["contribution_z"][:3] > 10).all() and (hits["contribution_z"][3:].abs() < 3).all()
    # without hypothetical contributions only the contribution decides
    plain = dv.scan(seqs, DECOY, scores=dv.Scores(seqs, values, "hand"), threshold=1e-8)
    assert plain["agreement"].isna().all() and plain["used"].tolist() == [True] * 3 + [False] * 3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: dv.scan(s, "MA9999.1"), "unknown JASPAR id 'MA9999.1'"),
        (
            lambda s: dv.scan([s[0][:10]], CTCF),
            "motif 'MA0139.2 CTCF' is 15 nt, longer than sequence 0 .10 nt.",
        ),
        (
            lambda s: dv.scan(
                s[:3], CTCF, scores=dv.Scores(s[3:6], np.zeros((3, max(map(len, s[3:6])))), "x")
            ),
            "scores were computed for other sequences: sequence 0 differs",
        ),
        (lambda s: dv.scan(s, CTCF, threshold=0), "threshold must be a p-value"),
        (lambda s: dv.scan(s, [CTCF, CTCF]), "given more than once"),
        (
            lambda s: hit_enrichment(dv.scan(s[:4], CTCF), [1, 0]),
            "2 labels for 4 scanned sequences",
        ),
    ],
)
def test_bad_input_is_one_line(heldout, call, message):
    with pytest.raises(ValueError, match=message) as err:
        call(heldout[0])
    assert "\n" not in str(err.value)


def test_hits_shade_the_explorer_as_they_are(heldout):
    from dnabert_viz.plot.tracks import span_decorations

    hits = dv.scan(heldout[0], list(DEMO_MOTIFS))
    i = int(hits["sequence_index"].iloc[0])
    shapes, notes = span_decorations(hits, i)
    here = hits[hits["sequence_index"] == i]
    assert len(shapes) == len(here)
    assert {n["text"] for n in notes} <= set(here["motif"])


def test_command_line_writes_hits_and_enrichment_and_refuses_bad_input(heldout, tmp_path, capsys):
    from dnabert_viz.cli import main

    seqs, labels = heldout
    fasta = tmp_path / "s.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    (tmp_path / "labels.txt").write_text("".join(f"{y}\n" for y in labels))
    out = tmp_path / "scan"
    ids = ",".join(DEMO_MOTIFS)
    args = ["scan", "--input", str(fasta), "--motifs", ids, "--out", str(out)]
    assert main([*args, "--labels", str(tmp_path / "labels.txt")]) == 0
    # read back exactly as written (pandas 2's default parser can miss the last bit)
    hits = pd.read_csv(out / "hits.tsv", sep="\t", float_precision="round_trip")
    expected = dv.scan(seqs, list(DEMO_MOTIFS))
    assert len(hits) == len(expected) and (hits["p_value"] == expected["p_value"]).all()
    assert hits["sequence_name"].iloc[0] == f"s{hits['sequence_index'].iloc[0]}"
    table = pd.read_csv(out / "enrichment.tsv", sep="\t")
    np.testing.assert_allclose(table["p_value"], hit_enrichment(expected, labels)["p_value"])
    capsys.readouterr()
    assert main(["scan", "--input", str(fasta), "--motifs", "MA0000.9", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown JASPAR id 'MA0000.9'" in err and err.count("\n") == 1
    (tmp_path / "short.txt").write_text("1\n0\n")
    assert main([*args, "--labels", str(tmp_path / "short.txt")]) == 2
    assert "2 labels for 60 sequences" in capsys.readouterr().err
