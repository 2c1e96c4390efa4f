"""Caduceus and PlantCaduceus checkpoint folders (the published Hugging Face layout) read into
the native architecture.

The published layout (``kuleshov-group/caduceus-ps_*``, ``caduceus-ph_*``,
``PlantCaduceus_l*``): ``config.json`` with ``model_type: caduceus`` and an
``auto_map`` into ``modeling_caduceus`` (never run here), the published keys
(``d_model``, ``n_layer``, ``ssm_cfg``, ``rcps``, ``complement_map`` ...),
``tokenizer_config.json`` naming ``CaduceusTokenizer`` (the character
tokenizer, no vocabulary file; its ``model_max_length`` is the longest
window scored whole), weights in ``model.safetensors`` or
``pytorch_model.bin`` with the names of ``modeling_caduceus.py`` (tied
weights may be left out: the LM head's, ``mamba_rev``'s ``in_proj`` and
``out_proj``). Which head to build comes from ``architectures`` when the
config names one, else from the weight names (``lm_head.*``: masked LM;
``score.weight``: classifier; neither: the backbone alone).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..tokenization import CharTokenizer, DnaTokenizer
from .caduceus import (
    Caduceus,
    CaduceusConfig,
    CaduceusForMaskedLM,
    CaduceusForSequenceClassification,
    CaduceusPreTrainedModel,
)
from .weights import Shapes, classifier_keys, load_native

HEADS = {
    "masked_lm": CaduceusForMaskedLM,
    "classifier": CaduceusForSequenceClassification,
    "backbone": Caduceus,
}
PAIRS = ("AT", "CG")  # what the complement map must swap for reverse-complement equivariance


def is_caduceus(config: dict) -> bool:
    """Whether a config.json (as a dict) is Caduceus's: ``model_type`` or ``auto_map`` into
    ``modeling_caduceus``."""
    auto_map = config.get("auto_map") or {}
    return config.get("model_type") == "caduceus" or any(
        "modeling_caduceus." in str(v) for v in auto_map.values()
    )


def _head(config: dict, names: set[str]) -> str:
    arch = " ".join(config.get("architectures") or [])
    if "SequenceClassification" in arch or "score.weight" in names:
        return "classifier"
    if "MaskedLM" in arch or any(n.startswith("lm_head.") for n in names):
        return "masked_lm"
    return "backbone"


def _max_length(folder: Path, config: dict) -> int | None:
    """The longest window: config.json's ``max_position_embeddings`` (a folder this package
    wrote), else tokenizer_config.json's ``model_max_length``."""
    if "max_position_embeddings" in config:
        return config["max_position_embeddings"]
    path = folder / "tokenizer_config.json"
    said = json.loads(path.read_text()).get("model_max_length") if path.exists() else None
    return said if isinstance(said, int) and 0 < said <= 2**31 else None


def _check_complements(weights: Path, model: CaduceusPreTrainedModel, tokenizer) -> None:
    """An RCPS model's complement maps (the buffers, as loaded) must swap the tokenizer's A and
    T, C and G."""
    for name, ids in model.named_buffers():
        if not name.endswith("complement_map"):
            continue
        wrong = [
            f"{a}->{tokenizer.id_to_token.get(int(ids[tokenizer.vocab[a]]), '?')}"
            for pair in PAIRS
            for a, b in (pair, pair[::-1])
            if ids[tokenizer.vocab[a]] != tokenizer.vocab[b]
        ]
        if wrong:
            raise ValueError(
                f"{weights}: {name} maps {', '.join(wrong)} in the tokenizer's vocabulary; "
                "reverse-complement equivariance needs A<->T and C<->G (config.json's "
                "complement_map)"
            )


def _model_config(folder: Path, config: dict, found: Shapes, head: str, tokenizer) -> dict:
    """The keys of the CaduceusConfig to build: config.json's, with the tokenizer's [PAD], the
    longest window and the classes of the classifier the weights hold."""
    keys = {
        k: v
        for k, v in config.items()
        if k not in ("_name_or_path", "architectures", "auto_map", "torch_dtype", "dtype")
    }
    keys["architectures"] = [HEADS[head].__name__]
    said = keys.setdefault("pad_token_id", tokenizer.pad_id)
    if said != tokenizer.pad_id:
        raise ValueError(
            f"{folder / 'config.json'}: pad_token_id {said} but the tokenizer's [PAD] is "
            f"{tokenizer.pad_id}"
        )
    length = _max_length(folder, config)
    if length is not None:
        keys["max_position_embeddings"] = length
    keys.update(classifier_keys(head, config, found, "score.weight", folder))
    return keys


def load_caduceus(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path, found: Shapes
) -> CaduceusPreTrainedModel:
    """Build the native Caduceus model of a published-layout folder and load its weights.

    Parameters and return value: those of every family's loader (:attr:`.families.Family.load`).

    Raises
    ------
    ValueError
        Naming the file: another tokenizer than the character one, a [PAD]
        that disagrees, a config Caduceus does not take (an unknown ssm_cfg
        key, a bidirectional strategy it lacks, rcps without a complement
        map), a complement map that does not swap A/T and C/G, weights that
        do not fit the model config.json builds (:func:`~.weights.check_weights`),
        or a tensor that differs from the file's after loading
        (:func:`~.weights.check_loaded`).
    """
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(
            f"{folder}: a Caduceus config.json with a {tokenizer.scheme} tokenizer; Caduceus "
            "reads one token per nucleotide (tokenizer_config.json: CaduceusTokenizer)"
        )
    head = _head(config, set(found))
    keys = _model_config(folder, config, found, head, tokenizer)

    def build(keys: dict) -> CaduceusPreTrainedModel:
        return HEADS[head](CaduceusConfig(**keys))

    model = load_native(
        folder, weights, found, build, keys, family="Caduceus", what=f"Caduceus ({head})"
    )
    _check_complements(weights, model, tokenizer)
    return model
