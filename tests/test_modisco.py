"""TF-MoDISco (tfmodisco-lite) on the demo model's hypothetical contributions."""

import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz.motifs.modisco import modisco_motifs, read_modisco
from dnabert_viz.motifs.numba_cache import cache_kernels
from dnabert_viz.sequences import reverse_complement

from .test_numba_cache import assert_cached_on_disk, compiled_kernels

pytestmark = pytest.mark.slow  # tfmodisco-lite on 300 sequences (and its numba JIT)


@pytest.fixture(scope="module")
def found(demo_data, tmp_path_factory):
    """modisco on hypothetical gradients (logit) of 300 held-out positives, with its .h5 report."""
    m = dv.load_model(device="cpu")  # modisco runs on the CPU whatever the model's device
    pos = demo_data.sequences("heldout", 1)[:300]
    scores = dv.score(m, pos, "onehot_gradients", output="logit")
    report = tmp_path_factory.mktemp("modisco") / "modisco.h5"
    return pos, scores, dv.find_motifs(pos, None, scores, method="modisco", report=report), report


def test_modisco_finds_the_planted_motifs(found, demo_data):
    pos, scores, motifs, _ = found
    assert motifs.sequences == pos and motifs.scores is scores
    recovery = demo_data.recovery(dv.match_jaspar(motifs))
    assert set(recovery["planted"].dropna()) == {"MA0139.2", "MA0108.3", "MA0106.3"}
    assert recovery["spurious"].sum() <= 2
    for (
        motif
    ) in motifs:  # a seqlet's aligned site is the sequence there, reverse-complemented on '-'
        assert motif.method == "modisco" and motif.contribution.shape == motif.counts.shape
        row = motif.instances.iloc[0]
        site = (pos[row.sequence_index] + "N" * len(motif))[
            row.start : row.end
        ]  # past the end: padding, N
        assert row.sequence == (reverse_complement(site) if row.strand == "-" else site)


def test_modisco_report_reads_back(found):
    pos, _, motifs, report = found
    again = read_modisco(report, pos)
    assert [m.name for m in again] == [m.name for m in motifs]
    for a, b in zip(again, motifs):
        assert np.allclose(a.counts, b.counts) and np.allclose(a.contribution, b.contribution)
        assert a.instances.equals(b.instances)


def test_motifs_carry_hypothetical_cwms_whose_top_letter_is_the_consensus(found, tmp_path):
    """modisco's own hypothetical CWM equals the instances' mean hypothetical windows, read on
    their strand; seqlet motifs of the same Scores get theirs that way; the letter with the largest
    hypothetical contribution is the consensus at the informative columns; a folder keeps them."""
    from dnabert_viz.motifs.motif import hypothetical_cwm

    pos, scores, motifs, _ = found
    hyp = scores.extra["hypothetical"]
    for motif in motifs:
        assert np.allclose(hypothetical_cwm(motif.instances, hyp), motif.hypothetical, atol=1e-6)
        flipped = motif.reverse_complement()  # every instance on the other strand
        assert np.allclose(hypothetical_cwm(flipped.instances, hyp), flipped.hypothetical)
    seqlets = dv.find_motifs(pos, None, scores, method="seqlets")
    for found_by in (
        [m for m in motifs if m.meta["sign"] == "positive"],
        [m for m in seqlets if m.n_instances >= 8],
    ):
        agree = [
            (m.hypothetical.argmax(1) == m.pwm.argmax(1))[m.information_content > 1]
            for m in found_by
        ]
        # recorded: modisco 45 of 48 columns above 1 bit, seqlets 30 of 32
        assert sum(map(len, agree)) > 30 and np.concatenate(agree).mean() > 0.9
    back = dv.load_motifs(dv.save_motifs(motifs, tmp_path / "folder"))
    assert all(np.array_equal(a.hypothetical, b.hypothetical) for a, b in zip(back, motifs))
    plain = dv.load_motifs(dv.save_motifs([dv.Motif("flat", np.ones((3, 4)))], tmp_path / "p"))
    assert plain[0].hypothetical is None


def test_modisco_bad_input_is_named(demo_model, demo_data):
    pos = demo_data.sequences("heldout", 1)[:4]
    attention = dv.score(demo_model, pos, "cls_attention")
    with pytest.raises(
        ValueError, match="scores 'cls_attention' carry no hypothetical contributions"
    ):
        dv.find_motifs(pos, None, attention, method="modisco")
    with pytest.raises(ValueError, match="method 'modisco' does not use neg_seqs"):
        dv.find_motifs(pos, pos, attention, method="modisco")
    with pytest.raises(
        ValueError, match=r"hypothetical has shape \(4, 10, 4\) but the one-hot sequences"
    ):
        modisco_motifs(pos, np.zeros((4, 10, 4)))


def test_modisco_kernels_are_in_numbas_cache(found):
    """tfmodisco-lite's kernels are plain @njit; modisco_motifs turns numba's on-disk cache on
    for them, so a later process loads what this one compiled."""
    kernels = set(compiled_kernels("modiscolite")) & set(cache_kernels("modiscolite"))
    assert len(kernels) >= 5  # (those declared with a signature compile at import, uncached)
    assert_cached_on_disk(kernels)
