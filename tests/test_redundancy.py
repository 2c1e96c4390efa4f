"""Merging discovered motifs that are the same motif (TOMTOM, both strands, any offset)."""

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.sequences import reverse_complement

from .test_motifs import random_dna

SITE = "GATTACAGGCTTG"


def sites_motif(name, seqs, rows, starts, left, width, strand, p_value):
    """A motif whose instances are ``width``-nt windows from ``site start - left`` on, read on
    ``strand``."""
    table = pd.DataFrame(
        {
            "sequence_index": rows,
            "start": [s - left for s in starts],
            "end": [s - left + width for s in starts],
            "strand": strand,
        }
    )
    table["sequence"] = [
        seqs[i][a:b] if strand == "+" else reverse_complement(seqs[i][a:b])
        for i, a, b in table[["sequence_index", "start", "end"]].itertuples(index=False)
    ]
    return dv.Motif.from_sites(name, table, p_value=p_value, method="dnabert_viz")


def planted(n=120, length=60, seed=0):
    rng = np.random.default_rng(seed)
    seqs = random_dna(rng, n, length)
    starts = rng.integers(6, length - len(SITE) - 6, size=n)
    starts[-1] = 1  # its site sits near the start: a wider window falls off the sequence
    for i, s in enumerate(starts):
        seqs[i] = seqs[i][:s] + SITE + seqs[i][s + len(SITE) :]
    return seqs, starts


def test_a_site_listed_on_both_strands_and_shifted_becomes_one_motif():
    """The founder lists 70 sites in 21-nt windows on +; the other motif lists the rest, plus one
    of the founder's, in 15-nt windows read on - at another offset. Merged, every site sits at
    the founder's column 4 on +; the window off its sequence and the duplicate are counted."""
    seqs, starts = planted()
    founder = sites_motif("A", seqs, range(70), starts[:70], 4, 21, "+", 1e-8)
    rows = [*range(70, 120), 0]
    other = sites_motif("B", seqs, rows, starts[rows], 1, 15, "-", 1e-12)
    merged = dv.merge_similar(dv.MotifSet([founder, other], seqs))
    assert len(merged) == 1
    m = merged[0]
    assert m.name == "A" and len(m) == 21 and m.p_value == 1e-12
    assert m.consensus[4:17] == SITE
    expected = {(i, int(starts[i]) - 4, int(starts[i]) + 17, "+") for i in range(119)}
    got = set(m.instances[["sequence_index", "start", "end", "strand"]].itertuples(index=False))
    assert got == expected  # row 119 (site at 1) is off its sequence in the founder's frame
    assert m.meta["merged"] == {
        "motifs": ["B"],
        "instances": 51,
        "off_sequence": 1,
        "already_listed": 1,
    }
    assert all(s[4:17] == SITE for s in m.sequences)
    swapped = dv.merge_similar(dv.MotifSet([other, founder], seqs))  # more instances keep first
    assert [x.name for x in swapped] == ["A"] and swapped[0].instances.equals(m.instances)


def test_the_founder_read_on_minus_takes_plus_sites_onto_its_strand():
    seqs, starts = planted()
    founder = sites_motif("A", seqs, range(80), starts[:80], 3, 19, "-", 1e-9)
    other = sites_motif("B", seqs, range(80, 119), starts[80:119], 2, 16, "+", 1e-6)
    m = dv.merge_similar(dv.MotifSet([founder, other], seqs))[0]
    assert m.n_instances == 119 and (m.instances["strand"] == "-").all()
    # On -, the window [start - 3, start + 16) reads the site backwards from column 3.
    assert m.consensus[3:16] == reverse_complement(SITE)
    assert set(m.instances["start"] - starts[m.instances["sequence_index"]]) == {-3}


def test_different_motifs_stay_apart():
    rng = np.random.default_rng(1)
    seqs, starts = planted()
    other_site = "CCGGTATACGCAT"
    for i in range(60, 120):
        s = int(starts[i])
        seqs[i] = seqs[i][:s] + other_site + seqs[i][s + len(other_site) :]
    a = sites_motif("A", seqs, range(60), starts[:60], 4, 21, "+", 1e-8)
    b = sites_motif("B", seqs, range(60, 119), starts[60:119], 4, 21, "+", 1e-8)
    noise = random_dna(rng, 40, 21)
    c = dv.Motif.from_sites(
        "C",
        pd.DataFrame(
            {"sequence_index": 0, "start": 0, "end": 21, "strand": "+", "sequence": noise}
        ),
    )
    merged = dv.merge_similar(dv.MotifSet([a, b, c], seqs))
    assert [m.name for m in merged] == ["A", "B", "C"]
    assert not any("merged" in m.meta for m in merged)


def test_find_motifs_merges_dnabert_viz_motifs_of_both_strands():
    """DNABERT-viz merges candidates on the given strand only: a site planted on both strands
    comes out as two motifs, merged as one."""
    rng = np.random.default_rng(2)
    n, length = 150, 70
    pos, neg = random_dna(rng, n, length), random_dna(rng, n, length)
    scores = np.full((n, length), 0.01)
    truth = []
    for i in range(n):
        s = int(rng.integers(8, length - len(SITE) - 8))
        site = SITE if i % 2 else reverse_complement(SITE)
        pos[i] = pos[i][:s] + site + pos[i][s + len(SITE) :]
        scores[i, s : s + len(SITE)] = 1.0
        truth.append(s)
    raw = dv.find_motifs(pos, neg, scores, window_size=19)
    assert len(raw) >= 2
    merged = dv.find_motifs(pos, neg, scores, window_size=19, merge_similar=True)
    assert len(merged) == 1 and merged[0].n_instances == n
    m = merged[0]
    column = m.consensus.index(SITE if SITE in m.consensus else reverse_complement(SITE))
    for row in m.instances.itertuples():
        centre = row.start + column if row.strand == "+" else row.end - column - len(SITE)
        assert centre == truth[row.sequence_index]
    assert m.meta["sequences"] == raw[0].meta["sequences"]


def test_merged_seqlet_motifs_rebuild_their_contribution_from_the_scores():
    """The largest seqlet motif split in two, one half read on the other strand, merges back into
    the motif the seqlet code built: same instances, same contribution matrix (computed there
    from its own padded windows)."""
    rng = np.random.default_rng(3)
    n, length = 80, 70
    seqs = random_dna(rng, n, length)
    scores = rng.normal(0, 0.02, size=(n, length))
    for i in range(n):
        s = int(rng.integers(5, length - len(SITE) - 5))
        site = SITE if i % 2 else reverse_complement(SITE)
        seqs[i] = seqs[i][:s] + site + seqs[i][s + len(SITE) :]
        scores[i, s : s + len(SITE)] += 0.5 + 0.1 * rng.random(len(SITE))
    whole = dv.find_seqlet_motifs(seqs, scores, width=10, flank=3)
    m = whole[0]
    assert m.n_instances > 40
    half = m.n_instances // 2
    a = dv.Motif.from_sites(
        "a", m.instances[:half], method="seqlets", contribution=np.zeros((len(m), 4))
    )
    b = dv.Motif.from_sites(
        "b", m.instances[half:], method="seqlets", contribution=np.zeros((len(m), 4))
    ).reverse_complement()
    merged = dv.merge_similar(dv.MotifSet([a, b], seqs, whole.scores))
    assert len(merged) == 1
    key = ["sequence_index", "start", "end", "strand"]
    assert sorted(merged[0].instances[key].itertuples(index=False)) == sorted(
        m.instances[key].itertuples(index=False)
    )
    assert np.allclose(merged[0].contribution, m.contribution, atol=1e-6)
    assert np.abs(m.contribution).sum() > 1


def test_matrices_without_instances_are_refused():
    a = dv.Motif("a", np.eye(4)[[0, 1, 2, 3, 0, 1]] + 0.1)
    with pytest.raises(ValueError, match="instances and the sequences"):
        dv.merge_similar(dv.MotifSet([a, a]))
