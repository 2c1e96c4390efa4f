from collections import Counter

import numpy as np

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
