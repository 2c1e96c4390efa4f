"""The public API's contract, kept as a test so that it cannot drift: every scoring function is
``(m, sequences, *, ...)`` and returns Scores, takes what ``dv.score`` takes, settings are
keywords, one word for one concept, one ``progress`` default."""

import dataclasses
import inspect

import numpy as np
import pandas as pd
import pytest

import dnabert_viz as dv
from dnabert_viz.intervals import COORDINATES

# At most three positional parameters: the data a function works on (m and sequences for a
# scoring function, plus dv.score's method; find_motifs' positives, negatives and their
# scores); everything that is a setting is a keyword.
MAX_POSITIONAL = 3

# A positional parameter with a default is optional data (these names) or, in the methods listed,
# the selection that is the method's whole job; any other is a setting, and settings are keywords.
OPTIONAL_DATA = {"sequences", "scores", "matches", "motifs", "method", "path", "folder", "tracks"}
SELECTIONS = {
    "dv.AttentionMaps.nucleotide",  # (layer, head)
    "dv.DemoData.indices",  # (split, label)
    "dv.DemoData.labels",  # (split)
    "dv.DemoData.sequences",  # (split, label)
    "dv.Scores.check_sequences",  # (sequences, name): the name its messages give
    "dv.check_sequences",  # (sequences, name)
    "dv.widgets.EmbeddingView.colour_values",  # (color_by)
    "dv.widgets.GenomeView.window",  # (feature)
    "dv.widgets.SequenceExplorer.context",  # (position)
    "dv.widgets.SequenceExplorer.values",  # (kind, index)
}

# one spelling per concept in public signatures: the word not to use -> the word to use
FORBIDDEN = {"seqs": "sequences", "seq": "sequence", "reference": "baseline", "i": "index"}


def public_callables() -> dict[str, inspect.Signature]:
    """Every public function, class constructor and public method of dv, dv.plot and
    dv.widgets, by dotted name (a record's dataclass constructor is left out: its fields are its
    parameters)."""
    found = {}
    for prefix, module in (("dv", dv), ("dv.plot", dv.plot), ("dv.widgets", dv.widgets)):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found[f"{prefix}.{name}"] = obj
            elif inspect.isclass(obj):
                if not dataclasses.is_dataclass(obj) and "__init__" in vars(obj):
                    found[f"{prefix}.{name}"] = obj.__init__
                for attr, value in vars(obj).items():
                    value = getattr(value, "__func__", value)
                    if not attr.startswith("_") and inspect.isfunction(value):
                        found[f"{prefix}.{name}.{attr}"] = value
    return {name: inspect.signature(f) for name, f in found.items()}


def positional(signature: inspect.Signature) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [
        p.name
        for p in signature.parameters.values()
        if p.kind in kinds and p.name not in ("self", "cls")
    ]


SIGNATURES = public_callables()
# the scoring functions: every public function that takes sequences and returns Scores
SCORING = {
    name: sig
    for name, sig in SIGNATURES.items()
    if "sequences" in sig.parameters and sig.return_annotation in ("Scores", dv.Scores)
}


def test_the_scoring_functions_are_found():
    assert {
        "dv.score",
        "dv.cls_attention",
        "dv.cls_attention_ensemble",
        "dv.attribute",
        "dv.ism",
        "dv.onehot_gradients",
        "dv.onehot_integrated_gradients",
        "dv.onehot_gradient_shap",
        "dv.hypothetical_ism",
        "dv.lm_scores",
    } <= set(SCORING)


@pytest.mark.parametrize("name", sorted(SCORING))
def test_every_scoring_function_is_m_sequences_then_keywords(name):
    first = "models" if name == "dv.cls_attention_ensemble" else "m"
    method = ["method"] if name == "dv.score" else []  # dv.score(m, sequences, "ism")
    assert positional(SCORING[name]) == [first, "sequences", *method]


def test_every_registered_method_is_a_public_scoring_function():
    public = {
        getattr(dv, name)
        for name in dv.__all__
        if f"dv.{name}" in SCORING and name not in ("score", "cls_attention_ensemble")
    }
    for name in dv.method_names():
        function = dv.get_method(name).function
        assert getattr(function, "func", function) in public, name


def test_no_public_function_takes_settings_positionally():
    over = {name for name, sig in SIGNATURES.items() if len(positional(sig)) > MAX_POSITIONAL}
    assert not over, over


def test_options_after_the_data_are_keywords():
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    optional = {
        name
        for name, sig in SIGNATURES.items()
        if any(
            p.kind in kinds and p.default is not p.empty and p.name not in OPTIONAL_DATA
            for p in sig.parameters.values()
        )
    }
    assert optional == SELECTIONS


def test_one_word_per_concept():
    old = {name for name, sig in SIGNATURES.items() if set(sig.parameters) & set(FORBIDDEN)}
    assert not old, old


def test_one_progress_default():
    defaults = {
        name: sig.parameters["progress"].default
        for name, sig in SIGNATURES.items()
        if "progress" in sig.parameters and name != "dv.DnaModel.batches"
    }
    assert len(defaults) >= 12 and set(defaults.values()) == {None}


@pytest.fixture(scope="module")
def table(demo_data):
    """Two sequences in a read_intervals table, coordinates and all."""
    seqs = [s[:40] for s in demo_data.sequences("heldout", 1)[:2]]
    return pd.DataFrame(
        {
            "chrom": ["chr1", "chr2"],
            "start": [100, 500],
            "end": [140, 540],
            "strand": ["+", "-"],
            "sequence": seqs,
        }
    )


@pytest.mark.parametrize(
    "function, options",
    [
        (dv.cls_attention, {}),
        (dv.attribute, {"method": "saliency"}),
        (dv.ism, {}),
        (dv.onehot_gradients, {}),
        (dv.hypothetical_ism, {}),
    ],
)
def test_every_entry_point_takes_what_score_takes(function, options, demo_model, table):
    # a table: its sequences scored, its coordinates carried, as dv.score does
    given = function(demo_model, table, **options)
    as_list = function(demo_model, table["sequence"].tolist(), **options)
    assert np.allclose(given.values, as_list.values, equal_nan=True)
    assert given.values.shape == (2, 40)
    for column in COORDINATES:
        assert given.extra[column].tolist() == table[column].tolist()
    # one str is one sequence, lower case is read as upper case
    one = function(demo_model, table["sequence"][0].lower(), **options)
    assert np.allclose(one.values, as_list.values[:1], atol=1e-6)
    # a table without a sequence column is refused, not read as its column names
    with pytest.raises(ValueError, match="needs a 'sequence' column"):
        function(demo_model, pd.DataFrame({table["sequence"][0]: [1]}), **options)


def test_ism_returns_scores_with_the_effects(demo_model, table):
    seqs = table["sequence"].tolist()
    x = dv.ism(demo_model, seqs)
    assert isinstance(x, dv.Scores) and x.kind == "ism"
    assert x.extra["effects"].shape == (2, 40, 4)
    # the reference base's column is 0, so the value is the mean of the three substitutions
    ref = np.array([["ACGT".index(b) for b in s] for s in seqs])
    assert (np.take_along_axis(x.extra["effects"], ref[..., None], axis=2) == 0).all()
    assert np.allclose(x.values, x.extra["effects"].sum(-1) / 3)
    assert np.allclose(dv.score(demo_model, seqs, "ism").values, x.values)


def test_settings_are_keywords(demo_model):
    with pytest.raises(TypeError):
        dv.ism(demo_model, "ACGTACGTACGT", 0)
    with pytest.raises(TypeError):
        dv.cls_attention(demo_model, "ACGTACGTACGT", 0)
