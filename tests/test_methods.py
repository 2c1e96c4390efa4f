"""The registry of scoring methods: every method works from the library, the command line and the
explorer."""

import re

import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz import methods
from dnabert_viz.cli import main
from dnabert_viz.widgets import SequenceExplorer

from . import checkpoints
from .test_cli import write_fasta


@pytest.fixture(scope="module")
def short(demo_data):
    """Two held-out positives cut to 60 nt: ISM and IG stay quick."""
    return [s[:60] for s in demo_data.sequences("heldout", 1)[:2]]


@pytest.fixture(scope="module")
def masked_lm(tmp_path_factory, device):
    """A tiny DNABERT-6 masked LM in the published layout, for the language-model methods."""
    folder = checkpoints.dnabert1(tmp_path_factory.mktemp("mlm") / "k6", k=6, head="mlm")
    return dv.load_model(folder, device=device)


# the one-hot methods that integrate along a path or sample baselines take the longest (make test
# runs them, make check leaves them out)
SLOW = {"onehot_gradient_shap", "onehot_integrated_gradients"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in methods.method_names()],
)
def test_every_method_from_library_cli_and_explorer(
    name, demo_model, masked_lm, short, tmp_path, device
):
    spec = dv.get_method(name)
    model = masked_lm if spec.needs == "lm" else demo_model
    assert spec.unavailable(model) is None
    other = demo_model if model is masked_lm else masked_lm
    # attention runs on both; a class explanation needs the classifier, LM scores the LM head
    assert (spec.unavailable(other) is None) == (spec.needs == "attention")
    s = dv.score(model, short, name)
    assert s.kind == name and s.values.shape == (2, 60) and np.isfinite(s.values).all()
    assert s.values.std() > 0  # a real signal, not a constant
    # the summary is the mean over the three substitutions; the full effects come along
    if name == "ism":
        assert s.extra["effects"].shape == (2, 60, 4)
        assert np.allclose(s.values, s.extra["effects"].sum(-1) / 3)
        assert np.allclose(s.extra["effects"], dv.ism(demo_model, short).extra["effects"])
    model_option = [] if model is demo_model else ["--model", masked_lm.name]

    out = tmp_path / "s.npz"
    argv = [
        "score",
        "--device",
        device,
        "--input",
        str(write_fasta(tmp_path / "in.fa", short)),
        *model_option,
        "--method",
        name,
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert np.allclose(dv.Scores.load(out).values, s.values, atol=1e-5)
    for alias in spec.aliases:  # the command line's short names reach the same method
        assert main([*argv[:-3], alias, "--out", str(tmp_path / "alias.npz")]) == 0
        assert dv.Scores.load(tmp_path / "alias.npz").kind == name

    ex = SequenceExplorer(model, short)
    assert name in [k for _, k in ex.kind_control.options]
    ex.kind = name
    assert np.allclose(ex.figure.data[0].y, s[0], atol=1e-5)


def test_options_reach_the_method_and_bad_ones_are_named(demo_model, short):
    assert np.allclose(
        dv.score(demo_model, short, "cls", layer=0, heads=[2]).values,
        dv.cls_attention(demo_model, short, layer=0, heads=[2]).values,
    )
    few = dv.score(demo_model, short, "ig", n_steps=5)
    assert few.meta["n_steps"] == 5 and not np.allclose(
        few.values, dv.score(demo_model, short, "ig").values
    )
    with pytest.raises(
        ValueError,
        match="'saliency' does not take n_steps \\(it takes target, output, window_size, "
        "stride\\)",
    ):
        dv.score(demo_model, short, "saliency", n_steps=5)
    with pytest.raises(
        ValueError, match="unknown scoring method 'gradcam'; registered: cls_attention \\(cls\\)"
    ):
        dv.score(demo_model, short, "gradcam")


def test_command_line_options_reach_gradient_shap(demo_model, short, tmp_path, device):
    fasta = str(write_fasta(tmp_path / "in.fa", short))
    argv = ["score", "--device", device, "--input", fasta, "--method", "onehot_shap"]
    options = ["--n-samples", "8", "--baseline", "uniform", "--output", "logit"]
    assert main([*argv, *options, "--out", str(tmp_path / "s.npz")]) == 0
    s = dv.Scores.load(tmp_path / "s.npz")
    assert (s.meta["n_samples"], s.meta["baseline"], s.meta["output"]) == (8, "uniform", "logit")
    given = dv.onehot_gradient_shap(
        demo_model, short, n_samples=8, baseline="uniform", output="logit"
    )
    assert np.allclose(s.values, given.values, atol=1e-5)


def test_a_method_registered_once_is_everywhere(demo_model, short, tmp_path, monkeypatch, device):
    # registrations vanish after the test
    monkeypatch.setattr(methods, "_REGISTRY", dict(methods._REGISTRY))

    @dv.register("gc_content", "G or C: 1, else 0", needs=None)
    def _gc(m, sequences, *, batch_size=16, progress=None, weight=1.0):
        values = np.array([[weight * (b in "GC") for b in s] for s in sequences], dtype=np.float32)
        return dv.Scores(sequences, values, "gc_content", {"weight": weight})

    assert dv.score(demo_model, short, "gc_content", weight=2.0)[0].max() == 2.0
    out = tmp_path / "gc.npz"
    assert (
        main(
            [
                "score",
                "--device",
                device,
                "--input",
                str(write_fasta(tmp_path / "in.fa", short)),
                "--method",
                "gc_content",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert dv.Scores.load(out)[1].tolist() == [float(b in "GC") for b in short[1]]
    ex = SequenceExplorer(demo_model, short, kind="gc_content")
    assert ex.figure.data[0].y.tolist() == [float(b in "GC") for b in short[0]]
    with pytest.raises(ValueError, match="already registered"):
        dv.register("ig", "twice")(_gc)


def test_every_option_of_every_method_reaches_the_command_line():
    from dnabert_viz.cli import _method_options, build_parser

    base = ["score", "--input", "in.fa", "--out", "s.npz"]
    parser = build_parser()
    assert parser.parse_args(base).batch_size is None  # each method's own default, not one for all
    for name in dv.method_names():
        spec = dv.get_method(name)
        options = {**({"target": spec.target} if spec.uses_target else {}), **spec.options}
        for option, default in options.items():
            argv = [*base, "--method", name, f"--{option.replace('_', '-')}", str(default)]
            assert _method_options(parser.parse_args(argv), spec) == {option: default}
    # values that are not the default's type: a list of heads, a layer by name
    argv = [*base, "--heads", "1,3", "--layer", "mean"]
    given = _method_options(parser.parse_args(argv), dv.get_method("cls"))
    assert given == {"heads": [1, 3], "layer": "mean"}


def test_a_method_function_must_be_m_sequences_then_keywords_with_defaults(monkeypatch):
    monkeypatch.setattr(methods, "_REGISTRY", dict(methods._REGISTRY))

    def positional(m, sequences, batch_size=16, progress=None):
        return None

    def no_default(m, sequences, *, batch_size=16, progress=None, weight):
        return None

    for function, named in ((positional, "batch_size, progress"), (no_default, "weight")):
        with pytest.raises(
            ValueError, match=f"\\(m, sequences, \\*, option=default, ...\\); {named}"
        ):
            dv.register("bad", "bad")(function)
    with pytest.raises(ValueError, match="'bad': the function takes no progress"):
        dv.register("bad", "bad")(lambda m, sequences, *, batch_size=16: None)
    assert "bad" not in dv.method_names()


@pytest.fixture(scope="module")
def bpe(device):
    """The embedded DNABERT-2 (BPE tokens)."""
    return dv.load_model("dnabert2-demo", device=device)


def test_the_registry_says_up_front_what_a_bpe_model_cannot_run(bpe, demo_model, short):
    """The one-hot bridge's four methods (BPE tokens are no function of a one-hot sequence) and
    the LM scores are refused by the registry, each with its reason, and dv.score refuses them
    with that same line before computing anything."""
    refused = {n: dv.get_method(n).unavailable(bpe) for n in methods.method_names()}
    refused = {n: reason for n, reason in refused.items() if reason is not None}
    bridge = {n for n in methods.method_names() if dv.get_method(n).needs == "bridge"}
    assert bridge == {
        "onehot_gradients",
        "onehot_gradient_x_input",
        "onehot_integrated_gradients",
        "onehot_gradient_shap",
    }
    assert set(refused) == bridge | {n for n in methods.method_names() if n.startswith("lm_")}
    for name in bridge:
        assert "bpe tokens are no differentiable function" in refused[name]
        assert "hypothetical_ism" in refused[name]
        assert dv.get_method(name).unavailable(demo_model) is None  # DNABERT-6 k-mers: it runs
        with pytest.raises(ValueError, match=re.escape(refused[name])):
            dv.score(bpe, short, name)


@pytest.mark.slow
def test_every_method_the_registry_offers_a_bpe_model_runs(bpe, short):
    for name in methods.method_names():
        spec = dv.get_method(name)
        if spec.unavailable(bpe) is None:
            s = dv.score(bpe, short, name, **({"n_steps": 4} if "n_steps" in spec.options else {}))
            assert np.isfinite(s.values).all() and s.values.std() > 0
