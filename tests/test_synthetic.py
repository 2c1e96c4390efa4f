from collections import Counter

import numpy as np
import pytest

from dnabert_viz.sequences import dinucleotide_shuffle, reverse_complement
from dnabert_viz.synthetic import PlantedMotif, best_hit_scores, has_hit, plant_motifs


def _dinucleotides(s):
    return Counter(zip(s, s[1:]))


def test_dinucleotide_shuffle_keeps_counts_and_ends():
    rng = np.random.default_rng(3)
    for _ in range(50):
        s = "".join(rng.choice(list("ACGT"), size=int(rng.integers(3, 80))))
        t = dinucleotide_shuffle(s, rng)
        assert _dinucleotides(s) == _dinucleotides(t)
        assert (s[0], s[-1]) == (t[0], t[-1])
    long = "".join(rng.choice(list("ACGT"), size=300))
    assert dinucleotide_shuffle(long, rng) != long


def test_best_hit_scores_sees_both_strands():
    pwm = np.eye(4)[[0, 0, 1, 2]]  # AACG
    motif = PlantedMotif("X", "x", pwm)
    bg = np.full(4, 0.25)
    fwd = best_hit_scores("TTAACGTT", motif, bg)
    rev = best_hit_scores("TT" + reverse_complement("AACG") + "TT", motif, bg)
    assert fwd.argmax() == 2 and rev.argmax() == 2
    assert np.isclose(fwd.max(), rev.max())
    assert np.isclose(fwd.max(), 4 * np.log2((1.01 / 1.04) / 0.25))


def test_planted_truth_is_exact_and_negatives_are_motif_free():
    pwm = np.array(
        [
            [0.9, 0.05, 0.025, 0.025],
            [0.025, 0.9, 0.05, 0.025],
            [0.025, 0.025, 0.9, 0.05],
            [0.05, 0.025, 0.025, 0.9],
            [0.9, 0.05, 0.025, 0.025],
            [0.9, 0.05, 0.025, 0.025],
        ]
    )
    motif = PlantedMotif("M1", "m1", pwm)
    table, truth = plant_motifs([motif], 40, 40, length=(60, 80), seed=5)
    again, _ = plant_motifs([motif], 40, 40, length=(60, 80), seed=5)
    assert table.equals(again)
    assert table.label.sum() == 40 and set(truth.sequence_index) == set(
        np.flatnonzero(table.label == 1)
    )
    bg = np.array([0.29, 0.21, 0.21, 0.29])
    for r in truth.itertuples():
        seq = table.sequence[r.sequence_index]
        assert seq[r.start : r.end] == r.site
        assert r.end - r.start == 6
    for seq in table.sequence[table.label == 0]:
        assert not has_hit(seq, [motif], bg, 0.8)


def test_drawn_jaspar_motifs_are_of_distinct_families_and_never_the_excluded_ones():
    from dnabert_viz.demo import DEMO_MOTIFS
    from dnabert_viz.motifs.jaspar import jaspar_matrices
    from dnabert_viz.synthetic import draw_jaspar_motifs

    family = {m.matrix_id: set(m.family.split(";")) for m in jaspar_matrices()}
    banned = set().union(*(family[i] for i in DEMO_MOTIFS))
    for seed in range(5):
        drawn = draw_jaspar_motifs(3, seed, exclude=DEMO_MOTIFS)
        fams = [family[m.motif_id] for m in drawn]
        assert all(not f & banned for f in fams) and len(set().union(*fams)) >= 3
        assert all(8 <= len(m.pwm) <= 16 for m in drawn)
        assert [m.motif_id for m in draw_jaspar_motifs(3, seed, exclude=DEMO_MOTIFS)] == [
            m.motif_id for m in drawn
        ]
    with pytest.raises(ValueError, match="only 0 TF families fit"):
        draw_jaspar_motifs(1, length=(40, 41))
