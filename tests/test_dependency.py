"""Blocks in nucleotide dependency maps: planted blocks found with their stretches, spacing and
orientation, noise left alone. (The maps themselves: tests/test_language_model.py.)"""

import numpy as np
import pytest

import dnabert_viz as dv

RNG_SEQUENCE = "".join(np.random.default_rng(0).choice(list("ACGT"), 200))


def noisy_map(size: int = 80, *, band: int = 3, seed: int = 1) -> np.ndarray:
    """(size, size) background dependencies: small, positive, skewed like a real map's, with the
    band left out."""
    rng = np.random.default_rng(seed)
    values = (0.02 + np.abs(rng.normal(0, 0.01, (size, size)))).astype(np.float32)
    offsets = np.abs(np.subtract.outer(np.arange(size), np.arange(size)))
    values[offsets < band] = np.nan
    return values


def test_planted_blocks_are_found_with_spacing_and_orientation():
    values = noisy_map()
    for a in range(6):
        values[10 + a, 45 - a] = values[45 - a, 10 + a] = 0.5  # a stem: 10-15 pairs with 45-40
        values[55 + a, 68 + a] = 0.4  # a tandem pair, one direction only
    dep = dv.DependencyMap(values, start=100, sequence=RNG_SEQUENCE, band=3)
    blocks = dep.blocks()
    assert len(blocks) == 2, blocks
    stem, tandem = blocks.iloc[0], blocks.iloc[1]
    assert (stem.first_start, stem.first_end, stem.second_start, stem.second_end) == (
        110,
        116,
        140,
        146,
    )
    assert stem.spacing == 24 and stem.orientation == "inverted" and stem.cells == 6
    assert stem["first"] == RNG_SEQUENCE[110:116] and stem["second"] == RNG_SEQUENCE[140:146]
    assert (tandem.first_start, tandem.second_start, tandem.spacing) == (155, 168, 7)
    assert tandem.orientation == "same" and tandem.strength == pytest.approx(0.4)
    assert stem.z > 20 and stem.strength == pytest.approx(0.5)


def test_noise_and_lone_pairs_are_no_blocks():
    values = noisy_map()
    dep = dv.DependencyMap(values, start=0, sequence=RNG_SEQUENCE, band=3)
    assert dep.blocks().empty
    values[20, 60] = 0.9  # one strong pair alone
    assert dep.blocks().empty
    # four noise pairs just over z = 4 (0.06 at most) besides it: the strength floor drops them
    assert len(dep.blocks(min_cells=1, min_strength=0)) == 5
    assert len(dep.blocks(min_cells=1)) == 1
    lone = dep.blocks(min_cells=1, min_z=10)
    assert len(lone) == 1 and lone.orientation[0] == "mixed" and lone.spacing[0] == 39
    flat = dv.DependencyMap(np.full((10, 10), 0.1), start=0, sequence="A" * 10, band=1)
    assert flat.blocks().empty
    with pytest.raises(ValueError, match="min_cells must be at least 1, not 0"):
        dep.blocks(min_cells=0)


def test_the_heatmap_outlines_each_block_on_both_sides_of_the_diagonal():
    values = noisy_map()
    for a in range(6):
        values[10 + a, 45 - a] = 0.5
    dep = dv.DependencyMap(values, start=100, sequence=RNG_SEQUENCE, band=3)
    fig = dv.plot.dependency_heatmap(dep)
    assert (
        "1 block outlined" in fig.layout.title.text and "pairs under 3 nt" in fig.layout.title.text
    )
    boxes = sorted((s.x0, s.x1, s.y0, s.y1) for s in fig.layout.shapes)
    assert boxes == [(9.5, 15.5, 39.5, 45.5), (39.5, 45.5, 9.5, 15.5)]
    none = dv.plot.dependency_heatmap(dep, blocks=dep.blocks().iloc[:0])
    assert not none.layout.shapes and "outlined" not in none.layout.title.text
