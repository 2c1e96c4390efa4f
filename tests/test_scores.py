import numpy as np
import pytest

import dnabert_viz as dv


def _scores():
    values = np.array([[0.5, -1.25, 3.0], [2.0, np.nan, np.nan]], dtype=np.float32)
    return dv.Scores(
        ["ACG", "T"],
        values,
        "integrated_gradients",
        {"target": 1, "layer": [0, 1]},
        {"convergence_delta": np.array([1e-4, -2e-4], dtype=np.float32)},
    )


def test_round_trip_is_exact(tmp_path):
    s = _scores()
    s.save(tmp_path / "s.npz")
    t = dv.Scores.load(tmp_path / "s.npz")
    assert t.sequences == s.sequences and t.kind == s.kind and t.meta == s.meta
    np.testing.assert_array_equal(t.values, s.values)  # NaN where NaN, bit for bit elsewhere
    np.testing.assert_array_equal(t.extra["convergence_delta"], s.extra["convergence_delta"])
    np.testing.assert_array_equal(t[1], [2.0])


def test_interrupted_save_leaves_old_file_and_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    _scores().save(path)
    before = path.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _scores().save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]


def test_shape_and_version_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"values has shape \(1, 2\), expected \(2, 3\)"):
        dv.Scores(["ACG", "T"], np.zeros((1, 2)), "x")
    np.savez(tmp_path / "other.npz", values=np.zeros(3))
    with pytest.raises(ValueError, match="not a dnabert_viz Scores file"):
        dv.Scores.load(tmp_path / "other.npz")
    s = _scores()
    s.save(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz") as z:
        arrays = dict(z)
    arrays["format_version"] = np.array(99)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ValueError, match="format 99 is newer"):
        dv.Scores.load(tmp_path / "future.npz")


def _four():
    """Four sequences of lengths 5, 2, 4, 3 with per-sequence, per-position and other extras."""
    sequences = ["ACGTA", "CC", "GGTA", "TAC"]
    values = np.full((4, 5), np.nan, dtype=np.float32)
    effects = np.full((4, 5, 4), np.nan, dtype=np.float32)
    for i, seq in enumerate(sequences):
        values[i, : len(seq)] = 10 * i + np.arange(len(seq))
        effects[i, : len(seq)] = -values[i, : len(seq), None]
    return dv.Scores(
        sequences,
        values,
        "ism",
        {"target": 1},
        {"delta": np.arange(4.0), "effects": effects, "steps": np.arange(7)},
        names=["a", "b", "c", "d"],
        source="x.fa",
    )


def test_an_int_gives_a_vector_and_a_selection_gives_scores():
    s = _four()
    assert s[2].tolist() == [20, 21, 22, 23] and s[-1].tolist() == [30, 31, 32]
    part = s[1:3]  # lengths 2 and 4: cut to 4 columns
    assert type(part) is dv.Scores and part.sequences == ["CC", "GGTA"]
    assert part.values.shape == (2, 4) and part[1].tolist() == [20, 21, 22, 23]
    assert part.extra["effects"].shape == (2, 4, 4) and part.extra["effects"][0, 1, 3] == -11
    assert part.extra["delta"].tolist() == [1, 2] and part.extra["steps"].shape == (7,)
    assert (part.names, part.meta, part.kind, part.source) == (
        ["b", "c"],
        {"target": 1},
        "ism",
        "x.fa",
    )
    picked = s[[3, 0]]
    assert picked.sequences == ["TAC", "ACGTA"] and picked[0].tolist() == [30, 31, 32]
    masked = s[np.array([False, True, False, True])]
    assert masked.sequences == ["CC", "TAC"] and masked.values.shape == (2, 3)
    assert masked.identity.digest == dv.Scores(["CC", "TAC"], masked.values, "ism").identity.digest


@pytest.mark.parametrize(
    "key, error, message",
    [
        (slice(2, 2), ValueError, "selects no sequence"),
        ((0, 1), TypeError, "scores.values"),
        ("a", TypeError, "not str"),
        (4, IndexError, "out of range"),
        (np.array([True, False]), IndexError, "boolean index"),
        ([0, 9], IndexError, "out of bounds"),
    ],
)
def test_other_keys_raise(key, error, message):
    with pytest.raises(error, match=message):
        _four()[key]


def test_repr_says_what_the_scores_are():
    s = _four()
    assert repr(s) == "Scores('ism', 4 sequences, 2-5 nt, in memory)"
    html = s._repr_html_()
    for text in ("ism", "4, 2-5 nt, from x.fa", "float32 (4, 5), 0 … 32", "meta.target"):
        assert text in html
    assert "extra.effects</th><td" in html and "float32 (4, 5, 4)" in html
    assert "in memory" in html and "http" not in html
    odd = dv.Scores(["AC"], [[1.0, 2.0]], "<script>alert(1)</script>", {"note": "a & b"})
    assert "<script>" not in odd._repr_html_()
    assert "&lt;script&gt;" in odd._repr_html_() and "a &amp; b" in odd._repr_html_()
