"""GENA-LM checkpoint folders (the published layout) read into the native architecture.

The published layout (``AIRI-Institute/gena-lm-bert-*`` and fine-tunes of
them): ``config.json`` with ``model_type: bert`` and the keys of the
published ``modeling_bert.py`` (``pre_layer_norm``, ``last_layer_norm``),
usually an ``auto_map`` into ``modeling_bert`` (never run here),
``tokenizer.json`` (32k BPE, ``[CLS] ... [SEP]``), weights in
``pytorch_model.bin`` or ``model.safetensors`` with the published names.
A ``bert`` config is GENA-LM's when it sets ``pre_layer_norm`` (a post-LN
one is stock BERT, which transformers builds) or asks for GENA-LM's sparse
attention. Which head to build comes from ``architectures`` when the config
names one, else from the weight names (``classifier.*``: classifier;
``cls.predictions.*``: masked LM; neither: bare encoder).

Refused with one line naming config.json and the key, before any weights
are read: sparse attention (GENA-LM's DeepSpeed sparse ops,
``sparse_config_cls`` / ``sparse_attention``; Hugging Face BigBird's
``attention_type: block_sparse``) and positions other than learned absolute
ones (``position_embedding_type``, the rotary ones of the sparse models).
"""

from __future__ import annotations

from pathlib import Path

from transformers import BertConfig

from ..tokenization import DnaTokenizer
from .dnabert2_checkpoint import bert_head, check_vocab, model_config
from .gena_lm import (
    GenaLmForMaskedLM,
    GenaLmForSequenceClassification,
    GenaLmModel,
    GenaLmPreTrainedModel,
    last_layer_norm,
    pre_layer_norm,
)
from .weights import Shapes, load_native

HEADS = {
    "classifier": GenaLmForSequenceClassification,
    "mlm": GenaLmForMaskedLM,
    "encoder": GenaLmModel,
}
SPARSE_KEYS = ("sparse_config_cls", "sparse_attention")


def is_gena_lm(config: dict) -> bool:
    """Whether a config.json (as a dict) is GENA-LM's: a ``bert`` config with ``pre_layer_norm``
    set or sparse-attention keys, or a block-sparse BigBird one (GENA-LM's
    ``bigbird-base-t2t``), refused by :func:`load_gena_lm`."""
    if config.get("model_type") == "big_bird":
        return config.get("attention_type", "block_sparse") == "block_sparse"
    return config.get("model_type") == "bert" and (
        bool(config.get("pre_layer_norm")) or any(key in config for key in SPARSE_KEYS)
    )


def _refuse_unsupported(folder: Path, config: dict) -> None:
    """One line naming config.json and the key of a GENA-LM setting not built here."""
    where = folder / "config.json"
    for key in SPARSE_KEYS:
        if key in config:
            raise ValueError(
                f"{where}: {key} {config[key]!r}: GENA-LM's sparse attention (DeepSpeed sparse "
                "ops) is not supported; the dense gena-lm-bert-* models load"
            )
    if config.get("model_type") == "big_bird":
        raise ValueError(
            f"{where}: attention_type 'block_sparse': BigBird's block-sparse attention is not "
            "supported (its attention maps are not whole); set attention_type to "
            "'original_full' to run it with full attention"
        )
    positions = config.get("position_embedding_type", "absolute")
    if positions != "absolute":
        raise ValueError(
            f"{where}: position_embedding_type {positions!r} is not supported for GENA-LM "
            "(learned absolute positions only)"
        )


def _check_norms(weights: Path, config: dict, found: Shapes) -> None:
    """config.json's ``pre_layer_norm`` and ``last_layer_norm`` against the LayerNorms the
    weights hold (without it, the weights check would only list tensors)."""
    cfg = BertConfig(
        **{k: config[k] for k in ("pre_layer_norm", "last_layer_norm") if k in config}
    )
    for key, said, tensor in (
        ("pre_layer_norm", pre_layer_norm(cfg), ".pre_attention_ln."),
        ("last_layer_norm", last_layer_norm(cfg), "encoder.last_layer_ln."),
    ):
        held = any(tensor in f".{name}" for name in found)
        if held != said:
            value = str(said).lower()
            value = value if key in config else f"absent (so {value})"
            raise ValueError(
                f"{weights}: config.json's {key} is {value} but the weights "
                f"{'hold' if held else 'lack'} the {tensor.strip('.')} LayerNorms"
            )


def load_gena_lm(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path, found: Shapes
) -> GenaLmPreTrainedModel:
    """Build the native GENA-LM model of a published-layout folder and load its weights.

    Parameters and return value: those of every family's loader (:attr:`.families.Family.load`).

    Raises
    ------
    ValueError
        Naming the file: sparse attention or other positions (the key), a
        vocabulary size or [PAD] that disagree with the tokenizer,
        ``pre_layer_norm`` / ``last_layer_norm`` that disagree with the
        weights, weights that do not fit the model config.json builds
        (:func:`~.weights.check_weights`), or a tensor that differs from the
        file's after loading (:func:`~.weights.check_loaded`).
    """
    _refuse_unsupported(folder, config)
    pad_id = check_vocab(folder, config, tokenizer)
    _check_norms(weights, config, found)
    head = bert_head(config, set(found))
    keys = model_config(config, weights, head, found, pad_id)

    def build(keys: dict) -> GenaLmPreTrainedModel:
        return HEADS[head](BertConfig(**keys))

    return load_native(
        folder, weights, found, build, keys, family="GENA-LM", what=f"GENA-LM ({head})"
    )
