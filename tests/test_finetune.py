import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv

from .checkpoints import assert_same_weights


@pytest.mark.slow  # two trainings
def test_training_is_reproducible_and_learns(demo_data, device):
    seqs, labels = demo_data.sequences("train")[:1000], demo_data.labels("train")[:1000]
    settings = dict(
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        epochs=5,
        learning_rate=1e-3,  # five epochs: the default 3e-4 stays on the loss plateau (0.50)
        seed=7,
        progress=False,
        device=device,
    )  # on the loss plateau for two epochs, validation accuracy 0.86 at 3, 0.92 at 5 (measured)
    a = dv.train_classifier(seqs, labels, **settings)
    b = dv.train_classifier(seqs, labels, **settings)
    assert_same_weights(a, b)
    columns = ["epoch", "learning_rate", "train_loss", "val_loss", "val_accuracy", "val_auroc"]
    pd.testing.assert_frame_equal(a.history[columns], b.history[columns])
    held, y = demo_data.sequences("heldout")[:300], demo_data.labels("heldout")[:300]
    assert (a.predict(held).argmax(1) == y).mean() > 0.8  # chance is 0.5


def _overfitting_run(demo_data, device, **options):
    """300 training sequences, no dropout, a high learning rate: validation AUROC peaks at epoch 3,
    then falls."""
    seqs, labels = demo_data.sequences("train")[:300], demo_data.labels("train")[:300]
    val = demo_data.sequences("heldout")[:200], demo_data.labels("heldout")[:200]
    settings = dict(
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        epochs=12,
        learning_rate=3e-3,
        warmup_fraction=0.05,
        dropout=0.0,
        seed=1,
        progress=False,
        device=device,
    )
    return dv.train_classifier(seqs, labels, validation=val, **{**settings, **options}), val


@pytest.mark.slow  # a training
def test_early_stopping_restores_the_best_epoch(demo_data, device):
    m, (val, y) = _overfitting_run(demo_data, device, patience=12)
    h = m.history.set_index("epoch")
    assert len(h) == 12 and m.history.attrs["stopped"] == "epochs"
    best = m.history.attrs["best_epoch"]
    assert best == h["val_auroc"].idxmax() == 3  # 0.912 at epoch 3, 0.887 at epoch 12 (measured)
    assert h["val_auroc"].iloc[-1] < h["val_auroc"].max() - 0.015
    np.testing.assert_allclose(
        dv.finetune.auroc(m.predict(val), y), h.loc[best, "val_auroc"], rtol=1e-6
    )
    stopped, _ = _overfitting_run(demo_data, device, patience=2)
    assert stopped.history.attrs == {
        "best_epoch": 3,
        "stopped": "patience",
        "beat_majority": True,
        "validation_sizes": np.bincount(y).tolist(),  # the 200 held-out sequences: 105, 95
        "epochs": 12,
        "patience": 2,
        "max_minutes": 10.0,
    }
    assert len(stopped.history) == 5
    assert_same_weights(m, stopped)
    fig = dv.plot.training_curves(m)
    names = ["training loss", "validation loss", "accuracy", "AUROC", "kept: epoch 3"]
    assert [t.name for t in fig.data] == names
    np.testing.assert_allclose(fig.data[3].y, h["val_auroc"])
    assert fig.layout.title.text == "training: 12 epochs, all that were asked for"
    assert fig.layout.xaxis.dtick == fig.layout.xaxis2.dtick == 2  # whole epochs
    title = dv.plot.training_curves(stopped).layout.title.text
    assert title == "training: 5 epochs, stopped early (no better validation AUROC)"


@pytest.mark.slow  # a training
def test_a_plateau_epoch_is_never_restored(demo_data):
    """300 sequences and a warm-up of half the schedule keep the loss at ln 2 for most epochs:
    epoch 6 ranks best (AUROC 0.821) but still puts every validation sequence in one class,
    epoch 5 is the one that separates them (accuracy 0.66, AUROC 0.819; measured)."""
    seqs, labels = demo_data.sequences("train")[:300], demo_data.labels("train")[:300]
    val = demo_data.sequences("heldout")[:200], demo_data.labels("heldout")[:200]
    m = dv.train_classifier(
        seqs,
        labels,
        validation=val,
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        epochs=6,
        learning_rate=1e-3,
        warmup_fraction=0.5,
        seed=2,
        progress=False,
        device="cpu",
    )
    h = m.history.set_index("epoch")
    majority = np.bincount(val[1]).max() / len(val[1])
    learned = h[h["val_accuracy"] > majority]
    assert h["val_auroc"].idxmax() not in learned.index  # the test exercises the rule
    assert m.history.attrs["best_epoch"] == learned["val_auroc"].idxmax()
    assert (m.predict(val[0]).argmax(1) == val[1]).mean() > majority + 0.1


def test_stratified_split_and_auroc():
    labels = np.array([0] * 90 + [1] * 10)
    train, val = dv.finetune.stratified_split(labels, 0.1, seed=0)
    assert len(val) == 10 and labels[val].sum() == 1 and len(np.intersect1d(train, val)) == 0
    assert len(train) + len(val) == 100
    np.testing.assert_array_equal(val, dv.finetune.stratified_split(labels, 0.1, seed=0)[1])
    assert dv.finetune.auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert dv.finetune.auroc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    three = np.eye(3)[[0, 1, 2, 0]]
    assert dv.finetune.auroc(three, np.array([0, 1, 2, 0])) == 1.0
    with pytest.raises(ValueError, match=r"validation_fraction must be in \[0, 1\)"):
        dv.finetune.stratified_split(labels, 1.0)
    # a class of two keeps a training row even when rounding would hold both out
    train, val = dv.finetune.stratified_split(np.array([0, 0, 1, 1]), 0.9)
    assert len(train) == len(val) == 2 and sorted(np.array([0, 0, 1, 1])[val]) == [0, 1]


def test_chance_p_value():
    # Mann-Whitney under the null: mean 0.5, variance (n1 + n2 + 1) / (12 n1 n2)
    assert dv.finetune.chance_p_value(0.5, [10, 10]) == 0.5
    np.testing.assert_allclose(dv.finetune.chance_p_value(0.8, [10, 10]), 0.011670, rtol=1e-4)
    # three classes: the largest variance, that of a class of 5 against 15
    np.testing.assert_allclose(dv.finetune.chance_p_value(0.8, [5, 5, 10]), 0.024767, rtol=1e-4)


@pytest.mark.slow  # a training
def test_train_command_writes_a_loadable_model(tmp_path, demo_data, capsys):
    from dnabert_viz.cli import main

    seqs, labels = demo_data.sequences("train")[:200], demo_data.labels("train")[:200]
    fasta = tmp_path / "train.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    (tmp_path / "labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    args = [
        "train",
        "--input",
        str(fasta),
        "--labels",
        str(tmp_path / "labels.txt"),
        "--k",
        "3",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "model"),
    ]
    assert main(args) == 0
    out, err = capsys.readouterr()
    m = dv.load_model(tmp_path / "model", device="cpu")
    assert m.k == 3 and m.predict(seqs[:4]).shape == (4, 2)
    history = pd.read_csv(tmp_path / "model" / "history.tsv", sep="\t")
    assert list(history["epoch"]) == [1, 2]
    # a line per epoch on stderr, though it is no terminal here
    assert err == "".join(
        f"dnabert-viz train: epoch {r.epoch}: training loss {r.train_loss:.4f}, validation AUROC "
        f"{r.val_auroc:.3f}, accuracy {r.val_accuracy:.3f} ({r.seconds:.0f} s)\n"
        for r in history.itertuples()
    )
    # one line at the end: the epoch kept, chance, the time budget, the curves
    kept = history.set_index("epoch").loc[
        json.loads((tmp_path / "model" / "training.json").read_text())["best_epoch"]
    ]
    p = dv.finetune.chance_p_value(kept["val_auroc"], [10, 10])  # 200 sequences, half positive
    verdict = "better than chance" if p < 0.05 else "NOT better than chance"
    assert out.startswith(
        f"{tmp_path / 'model'}: epoch {kept.name} of 2 kept; validation AUROC "
        f"{kept['val_auroc']:.3f} (chance 0.5; p = {p:.2g} on 20 sequences): {verdict}"
    ), out
    assert out.endswith(
        f"all 2 epochs ran (not cut by the time budget); curves in "
        f"{tmp_path / 'model' / 'history.tsv'}; load it with "
        f"dv.load_model({str(tmp_path / 'model')!r})\n"
    ), out
    assert json.loads((tmp_path / "model" / "training.json").read_text())["k"] == 3
    (tmp_path / "short.txt").write_text("0\n1\n")
    assert (
        main([*args[:3], "--labels", str(tmp_path / "short.txt"), "--out", str(tmp_path / "m2")])
        == 2
    )
    assert "short.txt: 2 labels for 200 sequences" in capsys.readouterr().err


def test_built_model_has_dnabert_config_keys():
    m = dv.build_classifier(k=4, hidden_size=16, num_layers=1, num_heads=2)
    cfg = m.model.config.to_dict()
    for key in (
        "attention_probs_dropout_prob",
        "hidden_act",
        "hidden_dropout_prob",
        "hidden_size",
        "initializer_range",
        "intermediate_size",
        "max_position_embeddings",
        "num_attention_heads",
        "num_hidden_layers",
        "type_vocab_size",
        "vocab_size",
    ):
        assert key in cfg
    assert cfg["vocab_size"] == 261 and m.k == 4


def test_save_and_reload_gives_the_same_predictions(tmp_path, device):
    m = dv.build_classifier(k=3, hidden_size=16, num_layers=1, num_heads=2, device=device)
    m.save_pretrained(tmp_path / "m")
    again = dv.load_model(tmp_path / "m", device=device)
    seqs = ["ACGTACGGATCCA", "TTTTGGGGCCCAA"]
    np.testing.assert_allclose(m.predict(seqs), again.predict(seqs), rtol=1e-6)


def test_label_errors():
    with pytest.raises(ValueError, match=r"labels has shape \(1,\), expected \(2,\)"):
        dv.train_classifier(["ACGTACGT", "ACGTACGA"], [1], progress=False)
    with pytest.raises(ValueError, match="non-negative integers"):
        dv.train_classifier(["ACGTACGT", "ACGTACGA"], [0.5, 1.0], progress=False)


SEQS = ["ACGTACGTACGG", "TTGACCATGCAG", "GGCATTACGATC", "CATGCATGCATT"] * 3
# case: (labels, train_classifier keywords, what its one-line error says)
TRAINING_CASES = {
    "one class": (
        [1] * 12,
        {},
        "labels: one class (1) in all 12 sequences; a classifier needs two",
    ),
    "labels 0 and 2": (
        [0, 2] * 6,
        {},
        "labels: classes 0, 2, so class 1 has no sequence; classes must be 0 .. C - 1, each with "
        "sequences (renumber them 0 .. 1)",
    ),
    "a class too small to split": (
        [0] * 11 + [1],
        {},
        "labels: class 1 has 1 sequence, and a validation split (validation_fraction 0.1) needs "
        "two of each class",
    ),
    "zero epochs": (
        [0, 1] * 6,
        {"epochs": 0},
        "epochs must be a whole number of at least 1, not 0",
    ),
    "negative epochs": ([0, 1] * 6, {"epochs": -2}, "epochs must be a whole number of at least 1"),
    "batch size 0": ([0, 1] * 6, {"batch_size": 0}, "batch_size must be a whole number"),
    "no time": ([0, 1] * 6, {"max_minutes": 0}, "max_minutes must be above 0 (None: no time"),
    "validation without class 1": (
        [0, 1] * 6,
        {"validation": (SEQS[:2], [0, 0])},
        "validation labels lack class 1: validation AUROC needs sequences of every class",
    ),
    "validation with a class of its own": (
        [0, 1] * 6,
        {"validation": (SEQS[:3], [0, 1, 2])},
        "validation label 2 is not a class of the training labels (0 .. 1)",
    ),
}


@pytest.mark.parametrize("case", TRAINING_CASES)
def test_what_cannot_be_learned_is_refused_before_training(case):
    labels, settings, message = TRAINING_CASES[case]
    epochs_run = []
    with pytest.raises(ValueError) as info:
        dv.train_classifier(SEQS, labels, progress=False, on_epoch=epochs_run.append, **settings)
    assert str(info.value).startswith(message) and "\n" not in str(info.value), str(info.value)
    assert epochs_run == []


def test_a_run_cut_by_the_time_budget_says_so(demo_data):
    seqs, labels = demo_data.sequences("train")[:200], demo_data.labels("train")[:200]
    m = dv.train_classifier(
        seqs, labels, k=3, hidden_size=16, num_layers=1, num_heads=2, max_minutes=1e-6,
        progress=False, device="cpu",
    )  # fmt: skip
    h = m.history
    assert len(h) == 1 and h.attrs["stopped"] == "max_minutes"
    assert h.attrs["validation_sizes"] == np.bincount(labels[stratify_rows(labels)]).tolist()
    p = dv.finetune.chance_p_value(h["val_auroc"][0], h.attrs["validation_sizes"])
    verdict = (
        "better than chance"
        if p < 0.05
        else "NOT better than chance: the model has not learned to tell the classes apart"
    )
    summary = dv.finetune.training_summary(h)
    assert summary.startswith(
        f"epoch 1 of 1 kept; validation AUROC {h['val_auroc'][0]:.3f} (chance 0.5; p = {p:.2g} "
        f"on 20 sequences): {verdict}"
    ), summary
    assert summary.endswith(
        "the time budget (max_minutes 1e-06) cut training in epoch 1 of 30: more time may give "
        "a better model"
    ), summary


def stratify_rows(labels):
    """The validation rows train_classifier holds out by default (seed 0, 10%)."""
    return dv.finetune.stratified_split(labels, 0.1, 0)[1]


@pytest.mark.slow  # builds a model by training it
def test_build_script_reproduces_a_model(tmp_path, device):
    """A short run of scripts/build_demo_model.py (the full run is offline: about 4 minutes)."""
    script = Path(__file__).parents[1] / "scripts" / "build_demo_model.py"
    runs = []
    for name in ("a", "b"):
        r = subprocess.run(
            [
                sys.executable,
                str(script),
                "--out",
                str(tmp_path / name),
                "--epochs",
                "1",
                "--n-train",
                "300",
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        runs.append(json.loads((tmp_path / name / "training.json").read_text()))
    assert runs[0]["heldout_accuracy"] == runs[1]["heldout_accuracy"] and runs[0]["epochs"] == 1
    a, b = (dv.load_model(tmp_path / n, device=device) for n in "ab")
    assert_same_weights(a, b)
