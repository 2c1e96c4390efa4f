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
