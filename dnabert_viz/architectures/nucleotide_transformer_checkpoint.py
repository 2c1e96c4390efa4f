"""Nucleotide Transformer v2 checkpoint folders (the published Hugging Face layout) read into the
native architecture.

The published layout (``InstaDeepAI/nucleotide-transformer-v2-*`` and
fine-tunes of it; AgroNT and the 3-mer codon model share it): ``config.json``
with ``model_type: esm``, ``add_bias_fnn: false``, ``position_embedding_type:
rotary`` and an ``auto_map`` into ``esm_config`` / ``modeling_esm`` (never
run here), ``vocab.txt`` (the special tokens, then every k-mer and A T C G
N: 4,107 tokens for 6-mers), weights in ``model.safetensors`` or
``pytorch_model.bin`` with the names of the published ``modeling_esm.py``.
Which head to build comes from ``architectures`` when the config names one,
else from the weight names (``classifier.*``: classifier; ``lm_head.*``:
masked LM; neither: the bare encoder).
"""

from __future__ import annotations

from pathlib import Path

from ..tokenization import DnaTokenizer, KmerTokenizer
from .nucleotide_transformer import (
    NtV2Config,
    NtV2ForMaskedLM,
    NtV2ForSequenceClassification,
    NtV2Model,
    NtV2PreTrainedModel,
)
from .weights import Shapes, classifier_keys, load_native

REMOTE_FILES = ("modeling_esm.", "esm_config.")


def is_nt_v2(config: dict) -> bool:
    """Whether a config.json (as a dict) is NT v2's: an ESM config (or one without
    ``model_type``) whose ``add_bias_fnn`` is false or whose ``auto_map`` points at the published
    remote ESM code. NT v1 (stock ESM: neither) is not."""
    auto_map = config.get("auto_map") or {}
    remote = any(f in str(v) for v in auto_map.values() for f in REMOTE_FILES)
    return config.get("model_type", "esm") == "esm" and (
        config.get("add_bias_fnn") is False or remote
    )


def _head(folder: Path, config: dict, names: set[str]) -> str:
    arch = " ".join(config.get("architectures") or [])
    if "TokenClassification" in arch:
        raise ValueError(
            f"{folder / 'config.json'}: {arch}: a per-token classifier, which the native "
            "Nucleotide Transformer v2 does not build (masked LM, sequence classifier or bare "
            "encoder)"
        )
    if "SequenceClassification" in arch:
        return "classifier"
    if "MaskedLM" in arch:
        return "mlm"
    if any(n.startswith("classifier.") for n in names):
        return "classifier"
    return "mlm" if any(n.startswith("lm_head.") for n in names) else "encoder"


def _check_tokenizer(folder: Path, config: dict, tokenizer: DnaTokenizer) -> None:
    """Check that the tokenizer is NT's (non-overlapping k-mers) and agrees with config.json on
    [PAD] and [MASK] (``load_model`` has checked the vocabulary size)."""
    if not isinstance(tokenizer, KmerTokenizer) or tokenizer.overlapping:
        raise ValueError(
            f"{folder}: a Nucleotide Transformer v2 config.json with a {tokenizer.scheme} "
            "tokenizer; NT v2 reads non-overlapping k-mers (vocab.txt with <cls>, every k-mer and "
            "A T C G N)"
        )
    for key, token, found in (
        ("pad_token_id", "<pad>", tokenizer.pad_id),
        ("mask_token_id", "<mask>", tokenizer.mask_id),
    ):
        said = config.get(key, found)
        if said != found:
            raise ValueError(
                f"{folder / 'config.json'}: {key} {said} but {folder / 'vocab.txt'} has {token} "
                f"at {found}; the vocabulary does not belong to this model"
            )


def _model_config(folder: Path, config: dict, found: Shapes, head: str) -> dict:
    """The keys of the NtV2Config to build: config.json's, with the classes of the classifier
    the weights hold."""
    keys = {
        k: v
        for k, v in config.items()
        if k not in ("_name_or_path", "architectures", "torch_dtype", "dtype", "model_type")
    }
    keys.update(classifier_keys(head, config, found, "classifier.out_proj.weight", folder))
    return keys


def load_nt_v2(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path, found: Shapes
) -> NtV2PreTrainedModel:
    """Build the native Nucleotide Transformer v2 model of a published-layout folder and load its
    weights.

    Parameters and return value: those of every family's loader (:attr:`.families.Family.load`).

    Raises
    ------
    ValueError
        Naming the file: another tokenizer than NT's, [PAD] or [MASK] ids that
        disagree with ``vocab.txt``, a per-token classifier, a config NT v2
        does not take (absolute positions, token dropout, ESMFold), weights
        that do not fit the model config.json builds
        (:func:`~.weights.check_weights`), or a tensor that differs from the
        file's after loading (:func:`~.weights.check_loaded`).
    """
    _check_tokenizer(folder, config, tokenizer)
    head = _head(folder, config, set(found))
    keys = _model_config(folder, config, found, head)
    pooler = any(".pooler." in f".{k}" for k in found)

    def build(keys: dict) -> NtV2PreTrainedModel:
        cfg = NtV2Config(**keys)
        if head == "classifier":
            return NtV2ForSequenceClassification(cfg)
        return NtV2ForMaskedLM(cfg) if head == "mlm" else NtV2Model(cfg, pooler)

    return load_native(
        folder,
        weights,
        found,
        build,
        keys,
        family="Nucleotide Transformer v2",
        what=f"Nucleotide Transformer v2 ({head})",
    )
