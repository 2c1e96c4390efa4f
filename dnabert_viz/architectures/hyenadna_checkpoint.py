"""HyenaDNA checkpoint folders (the published Hugging Face layout) read into the native
architecture.

The published layout (``LongSafari/hyenadna-*-hf`` and fine-tunes of it):
``config.json`` with ``model_type: hyenadna`` and an ``auto_map`` into
``modeling_hyena`` (never run here), ``tokenizer_config.json`` naming
``HyenaDNATokenizer`` (the character tokenizer, no vocabulary file), weights
in ``pytorch_model.bin`` or ``model.safetensors`` with the names of
``modeling_hyena.py``. Which head to build comes from ``architectures`` when
the config names one, else from the weight names (``lm_head.weight``:
causal LM; ``score.weight``: classifier; neither: the backbone alone).
"""

from __future__ import annotations

from pathlib import Path

from ..tokenization import CharTokenizer, DnaTokenizer
from .hyenadna import (
    HyenaDnaConfig,
    HyenaDnaForCausalLM,
    HyenaDnaForSequenceClassification,
    HyenaDnaModel,
    HyenaDnaPreTrainedModel,
)
from .weights import Shapes, classifier_keys, load_native

HEADS = {
    "causal_lm": HyenaDnaForCausalLM,
    "classifier": HyenaDnaForSequenceClassification,
    "backbone": HyenaDnaModel,
}


def is_hyenadna(config: dict) -> bool:
    """Whether a config.json (as a dict) is HyenaDNA's: ``model_type`` or ``auto_map`` into
    ``modeling_hyena``."""
    auto_map = config.get("auto_map") or {}
    return config.get("model_type") == "hyenadna" or any(
        "modeling_hyena." in str(v) for v in auto_map.values()
    )


def _head(config: dict, names: set[str]) -> str:
    arch = " ".join(config.get("architectures") or [])
    if "SequenceClassification" in arch or "score.weight" in names:
        return "classifier"
    if "CausalLM" in arch or "lm_head.weight" in names:
        return "causal_lm"
    return "backbone"


def _model_config(folder: Path, config: dict, found: Shapes, head: str, pad_id: int) -> dict:
    """The keys of the HyenaDnaConfig to build: config.json's, with the tokenizer's [PAD] and the
    classes of the classifier the weights hold."""
    keys = {
        k: v
        for k, v in config.items()
        if k not in ("_name_or_path", "architectures", "auto_map", "torch_dtype", "dtype")
    }
    keys["architectures"] = [HEADS[head].__name__]
    said = keys.setdefault("pad_token_id", pad_id)
    if said != pad_id:
        raise ValueError(
            f"{folder / 'config.json'}: pad_token_id {said} but the tokenizer's [PAD] is {pad_id}"
        )
    keys.update(classifier_keys(head, config, found, "score.weight", folder))
    return keys


def load_hyenadna(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path, found: Shapes
) -> HyenaDnaPreTrainedModel:
    """Build the native HyenaDNA model of a published-layout folder and load its weights.

    Parameters and return value: those of every family's loader (:attr:`.families.Family.load`).

    Raises
    ------
    ValueError
        Naming the file: another tokenizer than the character one, a [PAD]
        that disagrees, a config HyenaDNA does not take, weights that do not
        fit the model config.json builds (:func:`~.weights.check_weights`),
        or a tensor that differs from the file's after loading
        (:func:`~.weights.check_loaded`).
    """
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(
            f"{folder}: a HyenaDNA config.json with a {tokenizer.scheme} tokenizer; HyenaDNA "
            "reads one token per nucleotide (tokenizer_config.json: HyenaDNATokenizer)"
        )
    head = _head(config, set(found))
    keys = _model_config(folder, config, found, head, tokenizer.pad_id)

    def build(keys: dict) -> HyenaDnaPreTrainedModel:
        return HEADS[head](HyenaDnaConfig(**keys))

    return load_native(
        folder, weights, found, build, keys, family="HyenaDNA", what=f"HyenaDNA ({head})"
    )
