"""dv.fine_tune: a loaded checkpoint's encoder under a new head (classification, multi-label,
regression), full or LoRA; predicting and explaining such heads; the fine-tune command."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

import dnabert_viz as dv
from dnabert_viz.cli import main

from . import checkpoints
from .checkpoints import assert_same_weights, dnabert1, dnabert2, hyenadna

CORE = "CACGTGCACGTG"  # a doubled E-box: every phase of non-overlapping 6-mers reads a rotation
OTHER = "GATAAGGATAAG"  # a doubled GATA site, the same way


def planted(n: int, motifs: list[str], *, length: int = 60, seed: int = 0):
    """Uniform random sequences, each motif planted at a random place in about half of them:
    the sequences and an (N, len(motifs)) 0/1 matrix of which were planted."""
    rng = np.random.default_rng(seed)
    seqs, planted = [], rng.random((n, len(motifs))) < 0.5
    for row in planted:
        s = list(rng.choice(list("ACGT"), length))
        places = rng.permutation(length // 24)[: len(motifs)] * 24  # apart, never overlapping
        for j in np.flatnonzero(row):
            start = places[j] + rng.integers(0, 24 - len(motifs[j]))
            s[start : start + len(motifs[j])] = motifs[j]
        seqs.append("".join(s))
    return seqs, planted.astype(int)


def gc_content(n: int, seed: int):
    """Sequences of 60 nt drawn at GC contents from 0.2 to 0.8, and their GC fraction."""
    rng = np.random.default_rng(seed)
    seqs = [
        "".join(rng.choice(list("ACGT"), 60, p=[(1 - q) / 2, q / 2, q / 2, (1 - q) / 2]))
        for q in rng.uniform(0.2, 0.8, n)
    ]
    return seqs, np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs])


@pytest.fixture(scope="module")
def demo_mlm():
    return dv.load_model("demo-mlm", device="cpu")


@pytest.fixture(scope="module")
def tuned(demo_mlm, tmp_path_factory):
    """demo-mlm fully fine-tuned on 600 planted sequences (6 epochs), saved with out=."""
    seqs, y = planted(600, [CORE])
    out = tmp_path_factory.mktemp("tuned") / "model"
    before = {n: t.clone() for n, t in demo_mlm.model.state_dict().items()}
    m = dv.fine_tune(
        demo_mlm,
        seqs,
        y[:, 0],
        epochs=6,
        learning_rate=1e-3,
        batch_size=32,
        progress=False,
        out=out,
    )
    return m, out, before


@pytest.mark.slow  # a fine-tuning (the module fixture)
def test_fine_tuning_the_pretrained_mlm_learns_a_planted_motif(tuned, demo_mlm):
    m, _, before = tuned
    held, y = planted(200, [CORE], seed=1)
    # measured 0.855 held-out (validation 0.903 at epoch 5); chance 0.5
    assert dv.finetune.auroc(m.predict(held), y[:, 0]) > 0.75
    assert m.problem_type == "single_label_classification" and m.n_classes == 2
    np.testing.assert_allclose(m.predict(held).sum(1), 1, rtol=1e-6)  # softmax
    h = m.history
    assert list(h.columns) == [
        "epoch",
        "seconds",
        "learning_rate",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "val_auroc",
    ]
    assert h.attrs["best_epoch"] == h["val_auroc"].idxmax() + 1
    assert sum(h.attrs["validation_sizes"]) == 60  # 10% of each class held out
    assert h.attrs["new_tensors"] == [
        "classifier.dense.bias",
        "classifier.dense.weight",
        "classifier.out_proj.bias",
        "classifier.out_proj.weight",
    ]
    assert h.attrs["trainable_parameters"] == h.attrs["parameters"]  # full fine-tuning
    # the checkpoint it started from is untouched
    for name, tensor in demo_mlm.model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    # the encoder moved: fine-tuning, not a head on frozen features
    moved = m.model.esm.encoder.layer[0].attention.self.query.weight
    assert not torch.equal(moved, before["esm.encoder.layer.0.attention.self.query.weight"])


@pytest.mark.slow  # a fine-tuning (the module fixture)
def test_the_fine_tuned_model_loads_back_with_dv_and_transformers(tuned):
    from transformers import AutoModelForSequenceClassification

    m, out, _ = tuned
    held, _ = planted(20, [CORE], seed=2)
    again = dv.load_model(out, device="cpu")
    assert_same_weights(m, again)
    np.testing.assert_array_equal(again.predict(held), m.predict(held))
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "single_label_classification"
    assert config["architectures"] == ["EsmForSequenceClassification"]
    stock = AutoModelForSequenceClassification.from_pretrained(out).eval()
    enc = m.encode(held)
    with torch.no_grad():
        logits = stock(**m.inputs(enc, np.arange(len(held)))).logits
    np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), m.predict(held), atol=1e-6)
    training = json.loads((out / "training.json").read_text())
    assert training["task"] == "classification" and training["base_model"] == "demo-mlm"


def test_lora_trains_adapters_and_the_head_only_and_merges(tmp_path):
    """A tiny DNABERT-1 masked LM (2 layers, hidden 32, intermediate 64), LoRA r = 4 on query and
    value: 2 layers x 2 modules x r (32 + 32) adapter weights, plus the new pooler and
    classifier in full."""
    base = dv.load_model(dnabert1(tmp_path / "mlm", k=3, head="mlm"), device="cpu")
    seqs, y = planted(64, [CORE], length=48)
    m = dv.fine_tune(
        base,
        seqs,
        y[:, 0],
        lora=dict(r=4, alpha=8, target_modules=["query", "value"]),
        epochs=2,
        batch_size=16,
        progress=False,
        out=tmp_path / "tuned",
    )
    adapters = 2 * 2 * 4 * (32 + 32)
    head = (32 * 32 + 32) + (32 * 2 + 2)  # bert.pooler.dense (new to a masked LM), classifier
    assert m.history.attrs["trainable_parameters"] == adapters + head
    assert m.history.attrs["new_tensors"] == [
        "bert.pooler.dense.bias",
        "bert.pooler.dense.weight",
        "classifier.bias",
        "classifier.weight",
    ]
    # merged: plain BERT names, no adapters; every frozen tensor bit-identical to the base's,
    # query and value moved by the merged adapters
    tuned, start = m.model.state_dict(), base.model.state_dict()
    assert not any("lora" in name or "modules_to_save" in name for name in tuned)
    for name, tensor in tuned.items():
        if name.startswith("bert.") and "pooler" not in name:
            changed = not torch.equal(tensor, start[name])
            assert changed == (name.endswith(("query.weight", "value.weight"))), name
    again = dv.load_model(tmp_path / "tuned", device="cpu")
    held, _ = planted(8, [CORE], length=48, seed=3)
    np.testing.assert_array_equal(again.predict(held), m.predict(held))


def test_gradient_checkpointing_gives_the_same_training_and_bf16_autocast_a_close_one(
    demo_mlm, monkeypatch
):
    """The GPU's memory savers, asked for on the CPU: recomputing activations in the backward
    pass changes no gradient (the same weights after two epochs, dropout included), bfloat16
    autocast (about 3 significant digits) lands near the float32 run."""
    import transformers.modeling_utils

    checkpoint, calls = transformers.modeling_utils.checkpoint, []

    def counted(*args, **kwargs):  # torch's checkpoint, each call counted
        calls.append(1)
        return checkpoint(*args, **kwargs)

    monkeypatch.setattr(transformers.modeling_utils, "checkpoint", counted)
    seqs, y = planted(96, [CORE])
    runs = {
        (checkpointing, bf16): dv.fine_tune(
            demo_mlm,
            seqs,
            y[:, 0],
            epochs=2,
            batch_size=16,
            learning_rate=1e-3,
            progress=False,
            max_minutes=None,
            gradient_checkpointing=checkpointing,
            autocast=bf16,
        )
        for checkpointing, bf16 in [(False, False), (True, False), (False, True)]
    }
    plain = runs[False, False]
    # only the checkpointed run recomputed: a call per layer per training step
    layers = len(demo_mlm.model.base_model.encoder.layer)
    assert len(calls) == layers * 2 * 6  # 2 epochs x 6 batches of 16 (86 sequences: 96 - 10%)
    assert_same_weights(runs[True, False], plain)
    loss = plain.history["train_loss"].to_numpy()
    bf16 = runs[False, True].history["train_loss"].to_numpy()
    assert np.all(np.abs(bf16 - loss) < 0.02 * loss), (bf16, loss)
    assert not np.allclose(bf16, loss, rtol=1e-6)  # it did run in bfloat16
    assert not any(getattr(m, "gradient_checkpointing", False) for m in plain.model.modules())


def test_gradient_checkpointing_on_a_family_without_it_is_one_line(tmp_path):
    base = dv.load_model(hyenadna(tmp_path / "hyena"), device="cpu")
    seqs, y = planted(16, [CORE], length=48)
    with pytest.raises(ValueError, match="cannot be fine-tuned with gradient checkpointing"):
        dv.fine_tune(base, seqs, y[:, 0], epochs=1, gradient_checkpointing=True, progress=False)


@pytest.mark.slow  # two fine-tunings
def test_a_regression_head_learns_gc_content_and_is_explained_as_a_value(demo_mlm, tmp_path):
    seqs, gc = gc_content(400, 0)
    m = dv.fine_tune(
        demo_mlm,
        seqs,
        gc,
        task="regression",
        epochs=8,
        patience=8,
        learning_rate=3e-3,
        batch_size=32,
        progress=False,
        out=tmp_path / "gc",
    )
    held, truth = gc_content(200, 1)
    values = m.predict(held)
    assert values.shape == (200, 1) and m.problem_type == "regression"
    assert spearmanr(values[:, 0], truth)[0] > 0.7  # measured 0.80 (validation 0.745)
    assert m.head == "regression, 1 output" and "val_spearman" in m.history
    again = dv.load_model(tmp_path / "gc", device="cpu")
    assert again.problem_type == "regression"
    np.testing.assert_array_equal(again.predict(held[:5]), m.predict(held[:5]))
    # integrated gradients explain the value itself: completeness, attributions sum to
    # f(x) - f(baseline) up to the convergence delta, with f the raw output (no softmax)
    # the mask baseline: a pad baseline would also move ESM's positions (counted from padding)
    s = dv.score(m, held[:3], method="integrated_gradients", target=0, n_steps=64, baseline="mask")
    assert s.meta["explains"] == "value of output 0"
    enc = m.encode(held[:3])
    inputs = m.inputs(enc, np.arange(3))
    blank = torch.where(
        torch.as_tensor(enc.real),
        torch.full_like(inputs["input_ids"], m.tokenizer.mask_id),
        inputs["input_ids"],
    )
    with torch.no_grad():
        f_base = m.model(input_ids=blank, attention_mask=inputs["attention_mask"]).logits[:, 0]
    gap = values[:3, 0] - f_base.numpy()
    sums = np.nansum(s.values, axis=1)
    np.testing.assert_allclose(sums - s.extra["convergence_delta"], gap, atol=1e-4)
    assert np.abs(gap).max() > 0.01  # a test that can fail
    # ISM: the change in the value per substitution
    x = dv.ism(m, held[:1], target=0)
    mutant = "G" + held[0][1:] if held[0][0] != "G" else "C" + held[0][1:]
    base = "ACGT".index(mutant[0])
    np.testing.assert_allclose(
        x.extra["effects"][0, 0, base], m.predict([mutant])[0, 0] - values[0, 0], atol=1e-6
    )
    with pytest.raises(ValueError, match=r"target 1 is not an output of .*regression, 1 output"):
        dv.attribute(m, held[:1], target=1)
    table = pd.DataFrame(
        {"sequence": held[:1], "position": [0], "ref": [held[0][0]], "alt": [mutant[0]]}
    )
    effects = dv.variant_effects(m, table, target=0)
    assert "log2_odds_ratio" not in effects
    np.testing.assert_allclose(effects["diff"], x.extra["effects"][0, 0, base], atol=1e-6)


@pytest.mark.slow  # a fine-tuning
def test_multilabel_two_planted_motifs(demo_mlm):
    seqs, y = planted(600, [CORE, OTHER])
    m = dv.fine_tune(
        demo_mlm,
        seqs,
        y,
        task="multilabel",
        epochs=6,
        learning_rate=1e-3,
        batch_size=32,
        progress=False,
    )
    held, truth = planted(200, [CORE, OTHER], seed=1)
    p = m.predict(held)
    assert m.problem_type == "multi_label_classification" and p.shape == (200, 2)
    logits = m.model(**m.inputs(m.encode(held[:4]), np.arange(4))).logits.detach()
    np.testing.assert_allclose(p[:4], torch.sigmoid(logits).numpy(), atol=1e-6)
    areas = [dv.finetune.auroc(p[:, j], truth[:, j]) for j in range(2)]
    # measured 0.696 and 0.907 (chance 0.5 each)
    assert min(areas) > 0.6 and np.mean(areas) > 0.7, areas


def test_hyenadna_fine_tunes_and_loads_back(tmp_path):
    base = dv.load_model(hyenadna(tmp_path / "hyena", scale=0.1), device="cpu")
    seqs, y = planted(48, [CORE], length=40)
    m = dv.fine_tune(
        base, seqs, y[:, 0], epochs=1, batch_size=16, progress=False, out=tmp_path / "tuned"
    )
    assert type(m.model).__name__ == "HyenaDnaForSequenceClassification"
    assert m.history.attrs["new_tensors"] == ["score.weight"]
    again = dv.load_model(tmp_path / "tuned", device="cpu")
    assert again.problem_type == "single_label_classification"
    np.testing.assert_array_equal(again.predict(seqs[:4]), m.predict(seqs[:4]))


def test_dnabert2_fine_tunes_with_lora_and_loads_back(tmp_path):
    """The native DNABERT-2 masked LM (no pooler) gets its published classifier and a new
    pooler; LoRA's merged weights load back through the published layout."""
    base = dv.load_model(dnabert2(tmp_path / "mlm", head="mlm"), device="cpu")
    seqs, y = planted(32, [CORE])
    m = dv.fine_tune(
        base, seqs, y[:, 0], lora=True, epochs=1, progress=False, out=tmp_path / "tuned"
    )
    assert type(m.model).__name__ == "DnaBert2ForSequenceClassification"
    assert m.history.attrs["new_tensors"] == [
        "bert.pooler.dense.bias",
        "bert.pooler.dense.weight",
        "classifier.bias",
        "classifier.weight",
    ]
    again = dv.load_model(tmp_path / "tuned", device="cpu")
    np.testing.assert_array_equal(again.predict(seqs[:4]), m.predict(seqs[:4]))


# a family's tiny masked LM (tests/checkpoints.py) -> the class fine_tune gives it
FAMILIES = {
    "NT v2": (lambda f: checkpoints.nt_v2(f), "NtV2ForSequenceClassification"),
    "GENA-LM": (lambda f: checkpoints.gena_lm(f), "GenaLmForSequenceClassification"),
    "Caduceus": (
        lambda f: checkpoints.caduceus(f, scale=0.1),
        "CaduceusForSequenceClassification",
    ),
    "GROVER": (lambda f: checkpoints.grover(f), "BertForSequenceClassification"),
    "ModernBERT DNA": (
        lambda f: checkpoints.modernbert_dna(f),
        "ModernBertForSequenceClassification",
    ),
}


@pytest.mark.parametrize("family", FAMILIES, ids=list(FAMILIES))
def test_every_family_fine_tunes_and_loads_back(family, tmp_path):
    """The families added natively (and stock ones) plug in through their own
    *ForSequenceClassification: one epoch, LoRA, saved and loaded back to equal predictions."""
    build, cls = FAMILIES[family]
    base = dv.load_model(build(tmp_path / "mlm"), device="cpu")
    seqs, y = planted(24, [CORE], length=48)
    m = dv.fine_tune(
        base,
        seqs,
        y[:, 0],
        lora=True,
        epochs=1,
        batch_size=8,
        progress=False,
        out=tmp_path / "tuned",
    )
    assert type(m.model).__name__ == cls and 0 < m.history.attrs["trainable_parameters"]
    again = dv.load_model(tmp_path / "tuned", device="cpu")
    assert again.problem_type == "single_label_classification"
    np.testing.assert_allclose(again.predict(seqs[:4]), m.predict(seqs[:4]), atol=1e-6)


# case: (labels, fine_tune keywords, the one-line error)
BAD = {
    "count": ([0, 1, 0], {}, r"labels has shape \(3,\), expected \(4,\)"),
    "one class": ([1, 1, 1, 1], {}, r"labels: one class \(1\) in all 4 sequences"),
    "nan": ([0.1, np.nan, 0.3, 0.2], {"task": "regression"}, r"labels: row 1 is \[nan\]"),
    "text": ([0.1, "high", 0.3, 0.2], {"task": "regression"}, r"labels: 'high' is not a number"),
    "multilabel": ([[0, 1], [1, 2], [0, 1], [1, 0]], {"task": "multilabel"}, "must be 0 or 1"),
    "task": ([0, 1, 0, 1], {"task": "ranking"}, "task must be one of classification"),
    "lora key": ([0, 1, 0, 1], {"lora": {"rank": 4}}, "lora: unknown setting 'rank'"),
    "lora modules": (
        [0, 1, 0, 1],
        {"lora": {"target_modules": ["Wqkv"]}},
        r"lora target_modules \['Wqkv'\]",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_one_line(case, demo_mlm, tmp_path):
    labels, options, message = BAD[case]
    seqs = planted(4, [CORE])[0]
    with pytest.raises(ValueError, match=message) as err:
        dv.fine_tune(
            demo_mlm,
            seqs,
            labels,
            validation_fraction=0,
            progress=False,
            out=tmp_path / "m",
            **options,
        )
    assert "\n" not in str(err.value)
    assert not (tmp_path / "m").exists()


def test_a_head_less_model_points_at_fine_tune(demo_mlm):
    with pytest.raises(ValueError, match=r"dv\.fine_tune\(m, sequences, labels\)"):
        demo_mlm.predict(["ACGTACGTACGT"])


@pytest.mark.slow  # a fine-tuning in a command
def test_fine_tune_command(tmp_path, capsys):
    seqs, gc = gc_content(80, 0)
    fasta = tmp_path / "train.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    (tmp_path / "values.txt").write_text("\n".join(f"{v:.4f}" for v in gc) + "\n")
    args = ["fine-tune", "--model", "demo-mlm", "--input", str(fasta), "--task", "regression"]
    args += ["--epochs", "2", "--device", "cpu", "--lora", "--out", str(tmp_path / "model")]
    assert main([*args, "--labels", str(tmp_path / "values.txt")]) == 0
    out, err = capsys.readouterr()
    assert err.count("dnabert-viz fine-tune: epoch") == 2 and "validation Spearman" in err
    assert out.startswith(f"{tmp_path / 'model'}: epoch ") and "validation Spearman" in out
    m = dv.load_model(tmp_path / "model", device="cpu")
    assert m.problem_type == "regression" and m.predict(seqs[:2]).shape == (2, 1)
    training = json.loads((tmp_path / "model" / "training.json").read_text())
    assert training["lora"]["r"] == 8 and training["trainable_parameters"] < 30_000
    # bad input: exit 2, one line, nothing written
    (tmp_path / "bad.txt").write_text("0.5\nhigh\n" + "0.5\n" * 78)
    bad = [*args[:-1], str(tmp_path / "other"), "--labels", str(tmp_path / "bad.txt")]
    assert main(bad) == 2
    _, err = capsys.readouterr()
    assert err == f"dnabert-viz fine-tune: error: {tmp_path / 'bad.txt'}: 'high' is not a number\n"
    assert not (tmp_path / "other").exists()
