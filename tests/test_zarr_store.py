"""The Zarr store as a file format of Scores: stores of earlier versions open, and a store of
any size opens and is selected from without reading its values."""

import time
import tracemalloc
from pathlib import Path

import numpy as np

import dnabert_viz as dv
from dnabert_viz.zarr_store import StoredArray, open_for_writing

# written by dv.score(demo model, 5 demo positives cut to 40, 33, 38, 25, 40 nt, "ism",
# out=..., engine=Local(chunk_rows=2)) at 62b7b19, before Scores and the store met in the
# data layer
STORE_V1 = Path(__file__).parent / "fixtures" / "ism_store_v1.zarr"


def test_a_store_of_the_first_format_opens_lazily_and_selects_scores(demo_model, tmp_path):
    stored = dv.Scores.open(STORE_V1)
    assert type(stored) is dv.Scores and isinstance(stored.values, StoredArray)
    assert (
        repr(stored) == f"Scores('ism', 5 sequences, 25-40 nt, zarr {STORE_V1}, chunks of 2 rows)"
    )
    assert (
        "not read (lazy)" in stored._repr_html_() and stored.store.runs[0]["chunks_written"] == 3
    )
    seqs = list(stored.sequences)
    assert [len(s) for s in seqs] == [40, 33, 38, 25, 40] and stored.meta == {
        "model": "demo",
        "target": 1,
    }
    here = dv.score(demo_model, seqs, "ism")
    assert np.allclose(np.asarray(stored.values), here.values, atol=1e-5, equal_nan=True)

    whole, effects = np.asarray(stored.values), np.asarray(stored.extra["effects"])
    part = stored[1:4]  # 33, 38 and 25 nt: cut to 38 columns, still unread
    assert isinstance(part.values, StoredArray) and isinstance(part.extra["effects"], StoredArray)
    assert part.values.shape == (3, 38) and part.extra["effects"].shape == (3, 38, 4)
    assert np.array_equal(np.asarray(part.values), whole[1:4, :38], equal_nan=True)
    assert np.array_equal(np.asarray(part.extra["effects"]), effects[1:4, :38], equal_nan=True)
    assert list(part.sequences) == seqs[1:4] and part.identity.digest == here[1:4].identity.digest
    assert repr(part).endswith("chunks of 2 rows, 3 rows selected)")
    part.save(tmp_path / "part.npz")  # an .npz of a selection holds it in memory
    saved = dv.Scores.load(tmp_path / "part.npz")
    assert saved.store is None and saved.sequences == seqs[1:4]
    assert np.array_equal(saved.extra["effects"], effects[1:4, :38], equal_nan=True)
    picked = stored[np.array([4, 0, 3])][1:]  # a selection of a selection: rows 0 and 3
    assert list(picked.sequences) == [seqs[0], seqs[3]] and len(picked[1]) == 25
    assert np.array_equal(picked[1], whole[3, :25]) and np.array_equal(picked.values[0], whole[0])
    assert [b.shape for b in stored[stored.lengths > 30].blocks()] == [(2, 40), (2, 40)]


def _large_store(path: Path, n: int, width: int, rows: int) -> None:
    """A finished store of ``n`` sequences of ``width`` nt: values row i all i, effects zero."""
    seqs = ["ACGT" * (width // 4)] * n
    store = open_for_writing(path, seqs, None, "test", rows, "large", resume=False)
    for chunk in store.pending():
        lo, hi = store.bounds(chunk)
        values = np.repeat(np.arange(lo, hi, dtype=np.float32)[:, None], width, axis=1)
        effects = {"effects": np.zeros((hi - lo, width, 4), dtype=np.float32)}
        store.write_chunk(chunk, values, effects, {"method": "test"})
    store.finish("test", time.time())


def _peak(action) -> tuple[object, int]:
    """What ``action()`` returns and the peak bytes Python and numpy allocated meanwhile."""
    tracemalloc.start()
    try:
        out = action()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_opening_and_selecting_from_a_large_store_reads_no_values(tmp_path):
    # 4,096 x 500: values 8 MB and effects 33 MB in the store; a chunk of 256 rows 0.5 + 2 MB
    path, n, width = tmp_path / "large.zarr", 4096, 500
    _large_store(path, n, width, rows=256)

    def browse():
        s = dv.Scores.open(path)
        part, every_other = s[100:3000], s[np.arange(n) % 2 == 0]
        shown = repr(part) + s._repr_html_() + part._repr_html_() + every_other._repr_html_()
        return part[5], next(every_other.blocks()), part.extra["effects"][7], shown

    (row, block, effects, shown), peak = _peak(browse)
    assert row.shape == (width,) and (row == 105).all() and effects.shape == (width, 4)
    assert block.shape == (256, width) and block[:3, 0].tolist() == [0, 2, 4]
    assert "(2900, 500), not read (lazy)" in shown
    assert peak < 4e6, f"opening and selecting took {peak / 1e6:.1f} MB"
    # the measure sees a read: the selection's values whole are 2900 x 500 x 4 bytes
    values, peak = _peak(lambda: np.asarray(dv.Scores.open(path)[100:3000].values))
    assert values.shape == (2900, width) and peak > 5.8e6
