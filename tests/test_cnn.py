"""The one-hot CNN (``train_classifier(architecture="cnn")``): trained by the one loop, saved and
loaded as a family, and read by every method that needs no attention."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.finetune import build_classifier


@pytest.fixture(scope="module")
def cnn(device):
    """An untrained CNN with 16 channels (seeded): its numbers are its own, whatever they are."""
    return build_classifier(architecture="cnn", hidden_size=16, seed=3, device=device)


@pytest.fixture(scope="module")
def seqs(demo_data):
    return demo_data.sequences("heldout")[:3]


def test_hypothetical_contributions_are_exactly_the_one_hot_gradients(cnn, seqs):
    x = torch.tensor(dv.one_hot(seqs), device=cnn.device, requires_grad=True)
    mask = torch.as_tensor(cnn.encode(seqs).attention_mask, device=cnn.device)
    with torch.enable_grad():
        # the CNN's input is the one-hot sequence; the tokenizer's [SEP] is one zero row more
        rows = torch.nn.functional.pad(x, (0, 0, 0, 1))
        logits = cnn.model(inputs_embeds=rows, attention_mask=mask).logits
        for output, f in (("logit", logits), ("probability", torch.softmax(logits, -1))):
            (grad,) = torch.autograd.grad(f[:, 1].sum(), x, retain_graph=True)
            raw = dv.score(cnn, seqs, "onehot_gradient_x_input", output=output)
            centred = dv.score(cnn, seqs, "onehot_gradients", output=output)
            for i, s in enumerate(seqs):
                g = grad[i, : len(s)].cpu().numpy()
                assert np.array_equal(raw.extra["hypothetical"][i, : len(s)], g)
                assert np.array_equal(
                    centred.extra["hypothetical"][i, : len(s)],
                    g - g.mean(axis=1, keepdims=True),
                )
    assert np.abs(grad.cpu().numpy()).max() > 1e-3  # gradients that are there


def test_padding_in_a_batch_changes_nothing_and_the_tokens_are_nucleotides(cnn, seqs):
    assert len({len(s) for s in seqs}) == 3
    together = cnn.predict(seqs)
    alone = np.concatenate([cnn.predict([s]) for s in seqs])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    enc = cnn.encode(seqs[0])
    assert (enc.spans[0, : len(seqs[0]), 1] - enc.spans[0, : len(seqs[0]), 0] == 1).all()
    assert cnn.tokenizer.scheme == "char" and cnn.n_classes == 2


def test_saved_cnn_loads_back_to_identical_predictions(cnn, seqs, tmp_path):
    cnn.save_pretrained(tmp_path / "cnn")
    assert json.loads((tmp_path / "cnn" / "config.json").read_text())["model_type"] == (
        "dnabert_viz_cnn"
    )
    back = dv.load_model(tmp_path / "cnn", device=cnn.device)
    assert type(back.model).__name__ == "OneHotCnnForSequenceClassification"
    assert np.array_equal(back.predict(seqs), cnn.predict(seqs))
    assert not back.returns_attention


def test_attention_is_refused_in_one_line_and_the_rest_runs(cnn, seqs):
    with pytest.raises(ValueError) as err:
        dv.score(cnn, seqs, "cls_attention")
    message = str(err.value)
    assert "\n" not in message and "a CNN has no attention" in message
    assert "lm_*" not in message  # it has no language-model head to offer
    with pytest.raises(NotImplementedError, match="a CNN has no attention"):
        dv.attention_maps(cnn, seqs[0])
    # ISM: the effects are the prediction's changes
    s = seqs[0]
    effects = dv.ism(cnn, s).extra["effects"][0]
    ref = "ACGT".index(s[5])
    alt = (ref + 1) % 4
    mutant = s[:5] + "ACGT"[alt] + s[6:]
    change = cnn.predict(mutant)[0, 1] - cnn.predict(s)[0, 1]
    assert effects[5, alt] == pytest.approx(change, abs=1e-6) and effects[5, ref] == 0
    # integrated gradients on the one-hot input from the all-zero [PAD] rows: complete
    ig = dv.attribute(cnn, s, output="logit", n_steps=64)
    assert abs(ig.extra["convergence_delta"][0]) < 1e-3
    # variant effects: the same change
    table = pd.DataFrame({"sequence": [s], "position": [5], "ref": [s[5]], "alt": ["ACGT"[alt]]})
    row = dv.variant_effects(cnn, table).iloc[0]
    assert row["p_alt"] - row["p_ref"] == pytest.approx(change, abs=1e-6)


def test_bad_training_input_is_one_line(demo_data):
    seqs = demo_data.sequences("train")[:20]
    with pytest.raises(ValueError, match=r"^labels: one class \(1\) in all 20") as err:
        dv.train_classifier(seqs, [1] * 20, architecture="cnn")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"labels has shape \(19,\), expected \(20,\)"):
        dv.train_classifier(seqs, [0, 1] * 9 + [0], architecture="cnn")
    with pytest.raises(ValueError, match="the CNN reads nucleotides"):
        dv.train_classifier(seqs, [0, 1] * 10, architecture="cnn", k=6)
    with pytest.raises(ValueError, match="architecture must be one of"):
        dv.train_classifier(seqs, [0, 1] * 10, architecture="resnet")


@pytest.mark.slow  # the demo model's one-hot gradients and two explorers: 9 s at load 13
def test_explorer_shows_the_cnn_scores_beside_the_models_own(demo_model, cnn, seqs):
    from dnabert_viz.widgets import SequenceExplorer

    theirs = dv.score(cnn, seqs[:2], "onehot_gradients")
    ex = SequenceExplorer(demo_model, seqs[:2], scores=theirs)
    kinds = [k for _, k in ex.kind_control.options]
    assert kinds[0] == "onehot_gradients (cnn-small)" and "onehot_gradients" in kinds
    ex.kind, ex.index = "onehot_gradients (cnn-small)", 1
    hyp = theirs.extra["hypothetical"][1, : len(seqs[1])]
    np.testing.assert_allclose(ex.hypothetical.data[0].z, hyp.T, atol=1e-7)
    ex.kind = "onehot_gradients"  # the demo model's own, computed
    own = dv.score(demo_model, seqs[1], "onehot_gradients").extra["hypothetical"][0]
    np.testing.assert_allclose(ex.hypothetical.data[0].z, own.T, atol=1e-6)


@pytest.mark.slow  # a training: 0.5 min at load 6, 9 min at load 14 (2 cores)
def test_cnn_trained_on_the_demo_classifies_held_out_sequences(demo_data):
    seqs, labels = demo_data.sequences("train")[:1000], demo_data.labels("train")[:1000]
    m = dv.train_classifier(
        seqs,
        labels,
        architecture="cnn",
        hidden_size=16,
        learning_rate=3e-3,
        epochs=10,
        device="cpu",
        progress=False,
    )
    held, truth = demo_data.sequences("heldout")[:400], demo_data.labels("heldout")[:400]
    accuracy = (m.predict(held).argmax(1) == truth).mean()
    assert accuracy > 0.8  # 0.875 measured (half positives: chance 0.5)
    # the one loop's history: early stopping, validation measures
    assert {"val_auroc", "val_accuracy", "train_loss"} <= set(m.history.columns)
    assert sum(m.history.attrs["validation_sizes"]) == 100  # 10% held out for validation
    # faithfulness reads it unchanged: gradients beat random positions on the positives
    pos = [s for s, y in zip(held, truth) if y == 1][:8]
    checked = dv.faithfulness(m, pos, ["saliency"], ks=(1, 5), n_random=2, n_boot=100)
    row = checked.summary.iloc[0]
    assert row["drop_top"] > 2 * row["drop_random"], checked.summary


@pytest.mark.slow  # a training
def test_train_command_builds_the_cnn(tmp_path, demo_data, capsys):
    from dnabert_viz.cli import main

    seqs, labels = demo_data.sequences("train")[:200], demo_data.labels("train")[:200]
    table = tmp_path / "train.tsv"
    pd.DataFrame({"sequence": seqs, "label": labels}).to_csv(table, sep="\t", index=False)
    args = ["train", "--input", str(table), "--architecture", "cnn", "--epochs", "1"]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path / "cnn")]) == 0
    m = dv.load_model(tmp_path / "cnn", device="cpu")
    assert type(m.model).__name__ == "OneHotCnnForSequenceClassification"
    assert m.predict(seqs[:4]).shape == (4, 2)
    saved = json.loads((tmp_path / "cnn" / "training.json").read_text())
    assert saved["architecture"] == "cnn" and saved["epochs"] == 1
    capsys.readouterr()
    assert main([*args, "--k", "4", "--out", str(tmp_path / "k")]) == 2
    assert "--k goes with --architecture dnabert" in capsys.readouterr().err
    assert not (tmp_path / "k").exists()
