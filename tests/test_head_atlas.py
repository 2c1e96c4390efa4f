"""dv.head_atlas on the demo model: AUROC of every head's nucleotide [CLS] attention at the planted
sites, ablation checked against a network without that head, gradient-weighted attention against
a finite difference, and the one-line errors."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

import dnabert_viz as dv
from dnabert_viz.atlas import QUANTITIES, annotation_mask, mask_head
from dnabert_viz.intervals import sites_mask
from dnabert_viz.motifs.motif import Motif
from dnabert_viz.widgets import AttentionView

from .checkpoints import hyenadna
from .test_widgets import click


@pytest.fixture(scope="module")
def rows(demo_data):
    return demo_data.indices("heldout", 1)[:8]


@pytest.fixture(scope="module")
def seqs(demo_data, rows):
    return demo_data.table.sequence.loc[rows].tolist()


@pytest.fixture(scope="module")
def atlas(demo_model, demo_data, rows):
    """The atlas of 8 held-out positives against the demo's planted table (the table's rows)."""
    return dv.head_atlas(demo_model, demo_data.table.loc[rows], annotation=demo_data.planted)


def test_auroc_at_the_planted_sites_is_the_by_hand_auroc_of_the_head_s_attention(
    demo_model, demo_data, rows, seqs, atlas
):
    assert atlas.shape == (2, 4) and atlas.meta["n"] == 8 and atlas.meta["n_truth"] == 8
    best = atlas.top("auroc", n=1).iloc[0]
    assert best.auroc > 0.5
    assert np.nanmin(atlas.auroc) > 0.5  # every head of the demo looks at the planted motifs
    mask = demo_data.truth_mask(rows)
    for layer, head in [(int(best["layer"]), int(best["head"])), (0, 3)]:
        values = dv.cls_attention(demo_model, seqs, layer=layer, heads=head).values
        by_hand = np.mean(
            [roc_auc_score(mask[i, : len(s)], values[i, : len(s)]) for i, s in enumerate(seqs)]
        )
        assert atlas.auroc[layer, head] == pytest.approx(by_hand, abs=1e-9)
    # the same mask given as an array, or the planted rows as positions of a list: the same atlas
    again = dv.head_atlas(demo_model, seqs, annotation=mask)
    assert np.allclose(again.auroc, atlas.auroc) and np.allclose(again.ablation, atlas.ablation)
    assert (
        np.abs((atlas - again).table()[["auroc", "ablation", "gradient"]].to_numpy()).max() < 1e-9
    )


def test_masking_a_head_changes_the_output_by_what_a_network_without_it_gives(
    demo_model, seqs, atlas
):
    layer, head = 1, 1
    base = demo_model.predict(seqs, output="log_odds")[:, 1]
    with mask_head(demo_model, layer, head):
        masked = demo_model.predict(seqs, output="log_odds")[:, 1]
    # an independent network: the head's columns of the output projection zeroed
    network = copy.deepcopy(demo_model.model)
    size = network.config.hidden_size // network.config.num_attention_heads
    with torch.no_grad():
        network.bert.encoder.layer[layer].attention.output.dense.weight[
            :, head * size : (head + 1) * size
        ] = 0
    without = demo_model.with_network(network, name="no head").predict(seqs, output="log_odds")
    assert np.abs(masked - base).max() > 0.05  # the head matters
    assert np.allclose(masked, without[:, 1], atol=1e-6, rtol=0)
    assert atlas.ablation[layer, head] == pytest.approx(np.mean(without[:, 1] - base), abs=1e-6)
    # outside the block the model is whole again
    assert np.allclose(demo_model.predict(seqs, output="log_odds")[:, 1], base, atol=1e-6)


def test_gradient_weighted_attention_is_the_first_order_change(demo_model, seqs):
    """Scaling a head's attention by (1 - eps) moves the log-odds by -eps x its gradient-weighted
    attention, to first order (float64 so the difference is exact enough)."""
    m64 = demo_model.with_network(copy.deepcopy(demo_model.model).double(), name="demo64")
    atlas = dv.head_atlas(m64, seqs[:4])
    assert np.isnan(atlas.auroc).all() and atlas.meta["annotation"] == "none"
    eps, layer, head = 1e-4, 0, 3
    size = m64.model.config.hidden_size // m64.model.config.num_attention_heads

    def scale(_module, _inputs, out):
        context = out[0].clone()
        context[..., head * size : (head + 1) * size] *= 1 - eps
        return (context, *out[1:])

    base = m64.predict(seqs[:4], output="log_odds")[:, 1].astype(float)
    module = m64.model.bert.encoder.layer[layer].attention.self
    handle = module.register_forward_hook(scale)
    try:
        scaled = m64.predict(seqs[:4], output="log_odds")[:, 1].astype(float)
    finally:
        handle.remove()
    first_order = -eps * atlas.gradient[layer, head]
    assert np.mean(scaled - base) == pytest.approx(first_order, rel=0.02)
    # and its sign is the ablation's, for every head of the demo
    assert (np.sign(atlas.gradient) == -np.sign(atlas.ablation)).all()


def test_two_checkpoints_difference(demo_model, seqs, rows, demo_data):
    network = copy.deepcopy(demo_model.model)
    with torch.no_grad():
        network.bert.encoder.layer[1].attention.self.query.weight.mul_(3)
    other = demo_model.with_network(network, name="sharper")
    mask = demo_data.truth_mask(rows[:3])
    diff = dv.head_atlas(demo_model, seqs[:3], annotation=mask, compare=other)
    mine = dv.head_atlas(demo_model, seqs[:3], annotation=mask)
    theirs = dv.head_atlas(other, seqs[:3], annotation=mask)
    assert diff.meta["difference"] == "demo - sharper"
    assert np.allclose(diff.auroc, mine.auroc - theirs.auroc)
    assert np.allclose(diff.ablation, mine.ablation - theirs.ablation)
    assert np.allclose(diff.auroc[0], 0) and not np.allclose(diff.auroc[1], 0)  # layer 1 changed
    assert "demo - sharper" in repr(diff) and "top by ablation" in diff._repr_html_()


def test_annotations_of_every_kind(seqs):
    lengths = np.array([len(s) for s in seqs])
    # motif instances of these sequences
    inst = pd.DataFrame(
        {
            "sequence_index": [0, 2],
            "start": [5, 10],
            "end": [9, 14],
            "strand": ["+", "-"],
            "sequence": [seqs[0][5:9], seqs[2][10:14]],
        }
    )
    motifs = dv.MotifSet([Motif.from_sites("m", inst)], sequences=seqs)
    mask = annotation_mask(motifs, seqs, seqs, None, top=0.1)
    assert mask.shape == (8, lengths.max()) and mask.sum() == 8
    assert mask[0, 5:9].all() and mask[2, 10:14].all()
    # an attribution map's top 10% (ISM's most negative first)
    values = np.tile(np.arange(lengths.max(), dtype=float), (8, 1))
    top = annotation_mask(dv.Scores(seqs, values, "x"), seqs, seqs, None, top=0.1)
    n = round(0.1 * lengths[0])
    assert top[0, lengths[0] - n : lengths[0]].all() and top[0].sum() == n
    ism = annotation_mask(dv.Scores(seqs, values, "ism"), seqs, seqs, None, top=0.1)
    assert ism[0, :n].all() and ism[0].sum() == n


def test_bed_sites_land_on_both_strands_of_the_windows(tmp_path):
    coordinates = {
        "chrom": np.array(["chr1", "chr1", "chr2"]),
        "start": np.array([100, 100, 0]),
        "end": np.array([120, 120, 20]),
        "strand": np.array(["+", "-", "+"]),
    }
    bed = tmp_path / "sites.bed"
    bed.write_text("chr1\t95\t103\nchr1\t118\t130\n")
    mask = sites_mask(bed, coordinates, [20, 20, 20])
    assert np.flatnonzero(mask[0]).tolist() == [0, 1, 2, 18, 19]
    assert np.flatnonzero(mask[1]).tolist() == [0, 1, 17, 18, 19]  # counted from the end
    assert not mask[2].any()
    # a BED file or a table of sites, as head_atlas reads its annotation
    windows = ["A" * 20] * 3
    sites = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [95, 118], "end": [103, 130]})
    for given in (str(bed), sites):
        assert (annotation_mask(given, windows, windows, coordinates, top=0.1) == mask).all()
    bad = tmp_path / "bad.bed"
    bad.write_text("chr1\t10\t5\n")
    with pytest.raises(ValueError, match=r"bad.bed, line 1: start 10 and end 5"):
        sites_mask(bad, coordinates, [20, 20, 20])


def test_bad_input_is_one_line(demo_model, seqs, atlas):
    cases = [
        (
            dict(annotation=np.zeros((3, 10), dtype=bool)),
            r"the annotation mask is bool \(3, 10\): expected bool \(8, >= \d+\)",
        ),
        (
            dict(annotation=dv.Scores(seqs[::-1], np.zeros((8, max(map(len, seqs)))), "x")),
            r"the annotation's scores were computed for other sequences: sequence 0 differs",
        ),
        (
            dict(annotation=dv.MotifSet([], sequences=seqs[:3])),
            r"motifs were found in other sequences \(3 vs 8",
        ),
        (dict(annotation="sites.bed"), r"the annotation sites.bed holds sites on the genome"),
        (dict(annotation=3), r"annotation is a int: give a boolean \(N, L\) mask"),
        (
            dict(annotation=np.zeros((8, 200), dtype=bool)),
            r"the annotation marks no position of these 8 sequences",
        ),
        (dict(target=2), r"target 2 is not a class of demo \(0 .. 1\)"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            dv.head_atlas(demo_model, seqs, **options)
        assert "\n" not in str(err.value)
    for call, message in [
        (lambda: atlas.head(0, 4), r"heads \[4\] invalid: the model has 4 heads \(0 .. 3\)"),
        (lambda: atlas.head(2, 0), r"layer 2 does not exist: the model has 2 layers"),
        (lambda: mask_head(demo_model, 0, -1).__enter__(), r"heads \[-1\] invalid"),
        (lambda: atlas.values("entropy"), r"quantity must be one of"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()
    assert atlas.head(-1, 1)["ablation"] == atlas.ablation[1, 1]
    smaller = dv.HeadAtlas(atlas.auroc[:1], atlas.ablation[:1], atlas.gradient[:1], atlas.meta)
    with pytest.raises(ValueError, match=r"atlases of 2 x 4 and 1 x 4 heads"):
        atlas - smaller


def test_a_model_without_attention_is_refused_in_one_line(tmp_path):
    causal = dv.load_model(hyenadna(tmp_path / "hyena"), device="cpu")
    with pytest.raises(NotImplementedError, match="HyenaDNA has no attention") as err:
        dv.head_atlas(causal, ["ACGTACGTAC"])
    assert "\n" not in str(err.value)


def test_plot_draws_a_grid_per_quantity_with_the_head_framed(atlas):
    fig = dv.plot.head_atlas(atlas, selected=(1, 2))
    assert [t.name for t in fig.data] == ["auroc", "ablation", "gradient"]
    for trace, q in zip(fig.data, QUANTITIES):
        assert np.allclose(np.array(trace.z, dtype=float), atlas.values(q))
    assert fig.data[0].zmin + fig.data[0].zmax == pytest.approx(1.0)  # AUROC around chance
    assert fig.data[1].zmin + fig.data[1].zmax == pytest.approx(0.0)
    assert "ablation: " in fig.data[0].hovertext[1][2]
    frames = [(s.x0, s.y0) for s in fig.layout.shapes]
    assert frames == [(1.5, 0.5)] * 3
    one = dv.plot.head_atlas(atlas, quantities=["ablation"], selected=(0, None))
    assert len(one.data) == 1 and (one.layout.shapes[0].x0, one.layout.shapes[0].x1) == (-0.5, 3.5)
    with pytest.raises(ValueError, match="quantity must be one of"):
        dv.plot.head_atlas(atlas, quantities=["entropy"])


def test_attention_view_shows_the_atlas_and_a_click_opens_the_head(demo_model, seqs, atlas):
    view = AttentionView(demo_model, seqs[0])
    own = view.atlas  # this sequence's, computed: no annotation, so no AUROC
    assert own.meta["n"] == 1 and [t.name for t in view.summary.data] == ["ablation", "gradient"]
    assert np.allclose(np.array(view.summary.data[0].z, dtype=float), own.ablation)
    click(view.summary.data[1], [0, 3])  # the gradient panel's layer 0, head 3
    assert (view.layer, view.head) == (0, 3)
    assert (view.layer_control.value, view.head_control.value) == (0, 3)
    assert np.allclose(view.figure.data[0].z, view.maps.nucleotide(0, 3))
    assert [(s.x0, s.y0) for s in view.summary.layout.shapes] == [(2.5, -0.5)] * 2
    view.layer, view.head = 1, None  # from code: the frame follows, the whole row
    assert [(s.x0, s.x1, s.y0) for s in view.summary.layout.shapes] == [(-0.5, 3.5, 0.5)] * 2


@pytest.mark.slow  # four views
def test_attention_view_takes_a_given_atlas_an_annotation_or_none(demo_model, seqs, atlas):
    """A data set's atlas, given; an annotation of this sequence; or the entropy summary."""
    given = AttentionView(demo_model, seqs[0], atlas=atlas)
    assert np.allclose(np.array(given.summary.data[0].z, dtype=float), atlas.auroc)
    mask = np.zeros((1, len(seqs[0])), dtype=bool)
    mask[0, 10:25] = True
    annotated = AttentionView(demo_model, seqs[0], annotation=mask)
    assert annotated.summary.data[0].name == "auroc" and annotated.atlas.meta["n_truth"] == 1
    plain = AttentionView(demo_model, seqs[0], atlas=False)
    assert plain.atlas is None and "entropy" in plain.summary.layout.title.text
    smaller = dv.HeadAtlas(atlas.auroc[:1], atlas.ablation[:1], atlas.gradient[:1], atlas.meta)
    with pytest.raises(ValueError, match=r"the atlas is of 1 layers x 4 heads; this model has 2"):
        AttentionView(demo_model, seqs[0], atlas=smaller)
