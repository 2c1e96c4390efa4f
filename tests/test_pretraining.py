"""Masked-LM pretraining: DNABERT's span masking, a loop that learns, and the published layouts
loading back."""

import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz.pretraining import build_masked_lm, mask_tokens, train_masked_lm


def test_span_masks_hide_runs_of_k_real_tokens():
    rng = np.random.default_rng(0)
    ids = np.arange(2 * 40).reshape(2, 40) + 10
    real = np.ones((2, 40), bool)
    real[:, 0] = real[:, 39] = real[1, 30:] = False  # [CLS], [SEP] and padding
    masked, labels = mask_tokens(ids, real, span=6, probability=0.3, mask_id=4, rng=rng)
    hidden = labels != -100
    assert hidden.any() and not hidden[~real].any()
    assert (masked[hidden] == 4).all() and (labels[hidden] == ids[hidden]).all()
    assert (masked[~hidden] == ids[~hidden]).all()
    # runs of masked tokens are at least 6 long where they do not meet an edge of the real tokens
    for row, keep in zip(hidden, real):
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0]))
        for start, end in zip(edges[::2], edges[1::2]):
            inner = keep[max(start - 1, 0)] and keep[min(end, len(keep) - 1)]
            assert end - start >= 6 or not inner
    # about the asked share of real tokens, over many rows
    big = np.ones((400, 200), bool)
    _, labels = mask_tokens(np.zeros((400, 200), int), big, span=6, probability=0.15, mask_id=4,
                            rng=rng)  # fmt: skip
    assert 0.12 < (labels != -100).mean() < 0.16


# (settings, what the best epoch must reach: validation loss as a share of a uniform guess's)
SETTINGS = {
    # non-overlapping and BPE tokens are predicted from their context: the repeat is learned
    "nt": ({}, 0.5),
    "dnabert2": ({}, 0.5),
    # overlapping 3-mers under span masking: a model this small learns which k-mers occur (the
    # repeat's 12 of 64) within these steps, not yet to read the masked one off its neighbours
    "dnabert": ({"k": 3}, 0.75),
}


@pytest.mark.slow
@pytest.mark.parametrize("architecture", SETTINGS)
def test_pretraining_learns_saves_and_loads_back(architecture, tmp_path, device):
    """Sequences cut from one repeated 12-mer (any phase): the validation loss falls below a
    uniform guess; the folder loads back to the same scores."""
    rng = np.random.default_rng(1)
    unit = "ACGTTGCAAGGC" * 12
    seqs = [unit[p : p + 60] for p in rng.integers(0, 12, 600)]
    options, share = SETTINGS[architecture]
    m = train_masked_lm(
        seqs,
        architecture=architecture,
        hidden_size=32,
        epochs=5,
        batch_size=16,
        learning_rate=3e-3,
        device=device,
        progress=False,
        **options,
    )
    h = m.history
    assert list(h.columns) == [
        "epoch",
        "seconds",
        "learning_rate",
        "train_loss",
        "val_loss",
        "val_accuracy",
    ]
    assert h.val_loss.min() < share * h.attrs["chance_loss"], h
    assert h.attrs["best_epoch"] == int(h.epoch[h.val_loss.idxmin()])
    assert h.attrs["stopped"] in ("epochs", "patience")
    surprise = dv.score(m, seqs[:3], "lm_surprise")
    if share == 0.5:  # the repeat's bases are expected
        assert np.nanmean(surprise.values) < 0.5 * np.log(4)
    m.save_pretrained(tmp_path / "mlm")
    back = dv.load_model(tmp_path / "mlm", device=device)
    assert type(back.model) is type(m.model) and back.tokenizer.scheme == m.tokenizer.scheme
    again = dv.score(back, seqs[:3], "lm_surprise")
    np.testing.assert_allclose(again.values, surprise.values, atol=1e-5)


def test_bad_settings_are_named():
    seqs = ["ACGTACGTACGT"] * 5
    with pytest.raises(ValueError, match="epochs must be at least 1, not 0"):
        train_masked_lm(seqs, epochs=0)
    with pytest.raises(ValueError, match="5 sequences with validation_fraction 0.05 leave 0"):
        train_masked_lm(seqs, validation_fraction=0.05)
    with pytest.raises(ValueError, match="architecture must be one of"):
        build_masked_lm(architecture="hyena")
    with pytest.raises(ValueError, match="k=4 is DNABERT-1's k-mer length; nt takes no k"):
        build_masked_lm(architecture="nt", k=4)


def test_the_command_line_pretrains_a_folder_that_loads(tmp_path, capsys):
    from dnabert_viz.cli import main

    rng = np.random.default_rng(2)
    fasta = tmp_path / "seqs.fa"
    fasta.write_text(
        "".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), 48))}\n" for i in range(40))
    )
    argv = ["pretrain", "--input", str(fasta), "--architecture", "nt", "--epochs", "2"]
    assert main([*argv, "--out", str(tmp_path / "mlm")]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("dnabert-viz pretrain: epoch") == 2
    assert "for a uniform guess; curves in" in captured.out
    m = dv.load_model(tmp_path / "mlm")
    assert dv.get_method("lm_surprise").unavailable(m) is None
    # --k is DNABERT-1's; --strands reaches the language-model methods
    assert main([*argv, "--k", "4", "--out", str(tmp_path / "other")]) == 2
    assert "--k goes with --architecture dnabert" in capsys.readouterr().err
    score = ["score", "--model", str(tmp_path / "mlm"), "--input", str(fasta)]
    assert (
        main(
            [
                *score,
                "--method",
                "lm_surprise",
                "--strands",
                "both",
                "--out",
                str(tmp_path / "s.npz"),
            ]
        )
        == 0
    )
    assert dv.Scores.load(tmp_path / "s.npz").meta["strands"] == "both"
    assert (
        main([*score, "--method", "cls", "--strands", "both", "--out", str(tmp_path / "t.npz")])
        == 2
    )
    assert "--strands is not an option of cls_attention" in capsys.readouterr().err
