"""DNABERT-2 checkpoint folders (the published layout) read into the native architecture.

The published layout: ``config.json`` whose ``auto_map`` points at
``bert_layers`` (and ``alibi_starting_size``), ``tokenizer.json`` (BPE),
weights in ``pytorch_model.bin`` or ``model.safetensors`` with the names of
``bert_layers.py``. Which head to build comes from ``architectures`` when the
config names one, else from the weight names (``classifier.*``: classifier;
``cls.predictions.*``: masked LM; neither: bare encoder). Everything is
checked against the config before any weights are copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..tokenization import BpeTokenizer, DnaTokenizer
from .dnabert2 import (
    DnaBert2Config,
    DnaBert2ForMaskedLM,
    DnaBert2ForSequenceClassification,
    DnaBert2Model,
    DnaBert2PreTrainedModel,
)
from .weights import Shapes, classifier_keys, load_native

PUBLISHED_FILES = Path(__file__).parents[1] / "data" / "dnabert2"


def is_dnabert2(config: dict) -> bool:
    """Whether a config.json (as a dict) is DNABERT-2's: ALiBi size or ``auto_map`` into
    ``bert_layers``."""
    auto_map = config.get("auto_map") or {}
    return "alibi_starting_size" in config or any(
        "bert_layers" in str(v) for v in auto_map.values()
    )


def bert_head(config: dict, names: set[str]) -> str:
    """The head a BERT-layout checkpoint holds: ``classifier``, ``mlm`` or ``encoder``, from
    ``architectures`` when the config names one, else from the weight names."""
    arch = " ".join(config.get("architectures") or [])
    if "SequenceClassification" in arch:
        return "classifier"
    if "MaskedLM" in arch or "PreTraining" in arch:
        return "mlm"
    if "classifier.weight" in names:
        return "classifier"
    return "mlm" if any(n.startswith("cls.predictions.") for n in names) else "encoder"


def check_vocab(folder: Path, config: dict, tokenizer: DnaTokenizer) -> int:
    """The pad id to build with, after checking that tokenizer and config agree on vocabulary
    size: config.json's ``pad_token_id`` as published (DNABERT-S says 0 while its [PAD] is 3;
    it only names the embedding row that gets no gradient, the attention mask does the
    padding), else the tokenizer's [PAD]."""
    size = config.get("vocab_size")
    if size != len(tokenizer.vocab):
        raise ValueError(
            f"{folder / 'config.json'}: vocab_size {size} but {folder / 'tokenizer.json'} has "
            f"{len(tokenizer.vocab)} tokens; the tokenizer does not belong to this model"
        )
    return config.get("pad_token_id", tokenizer.pad_id)


def model_config(config: dict, weights: Path, head: str, found: Shapes, pad_id: int) -> dict:
    """The keys of the DnaBert2Config to build: config.json's, with the pad id of
    :func:`check_vocab` and the classes of the classifier the weights hold."""
    keys = {
        k: v
        for k, v in config.items()
        if k not in ("_name_or_path", "architectures", "torch_dtype", "dtype")
    }
    keys["pad_token_id"] = pad_id
    keys.update(classifier_keys(head, config, found, "classifier.weight", weights))
    return keys


def load_dnabert2(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path, found: Shapes
) -> DnaBert2PreTrainedModel:
    """Build the native DNABERT-2 model of a published-layout folder and load its weights.

    Parameters and return value: those of every family's loader (:attr:`.families.Family.load`).

    Raises
    ------
    ValueError
        Naming the file: a vocabulary size that disagrees with the tokenizer,
        a config DNABERT-2 does not take, or weights that do not fit the
        model config.json builds (:func:`~.weights.check_weights`:
        names it does not have, parameters it lacks, shapes).
    """
    pad_id = check_vocab(folder, config, tokenizer)
    head = bert_head(config, set(found))
    keys = model_config(config, weights, head, found, pad_id)
    pooler = any(".pooler." in f".{k}" for k in found)

    def build(keys: dict) -> DnaBert2PreTrainedModel:
        cfg = DnaBert2Config(**keys)
        if head == "classifier":
            return DnaBert2ForSequenceClassification(cfg)
        return DnaBert2ForMaskedLM(cfg, pooler) if head == "mlm" else DnaBert2Model(cfg, pooler)

    return load_native(
        folder, weights, found, build, keys, family="DNABERT-2", what=f"DNABERT-2 ({head})"
    )


def published_tokenizer() -> BpeTokenizer:
    """DNABERT-2's published 4,096-token BPE tokenizer (shipped with the package)."""
    return BpeTokenizer(PUBLISHED_FILES / "tokenizer.json")


def build_dnabert2_classifier(
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_labels: int = 2,
    seed: int = 0,
    dropout: float = 0.1,
) -> DnaBert2ForSequenceClassification:
    """An untrained DNABERT-2 classifier: the published config keys, sizes reduced, random weights.

    Parameters
    ----------
    hidden_size, num_layers, num_heads : int
        Transformer size (DNABERT-2-117M: 768, 12, 12); the MLM width is 4 x hidden_size as
        published.
    num_labels : int
        Classes.
    seed : int
        Seed of the random initialisation.
    dropout : float
        Hidden dropout (published: 0.1; the attention dropout stays the published 0.0).
    """
    config = published_config(
        hidden_size, num_layers, num_heads, num_labels=num_labels, hidden_dropout_prob=dropout
    )
    torch.manual_seed(seed)
    return DnaBert2ForSequenceClassification(config)


def published_config(hidden_size: int, num_layers: int, num_heads: int, **keys) -> DnaBert2Config:
    """DNABERT-2's published config keys at a reduced size (MLM width 4 x ``hidden_size``, as
    published), the shipped tokenizer's [PAD]; ``keys`` override or add keys."""
    published = json.loads((PUBLISHED_FILES / "config.json").read_text())
    published = {k: v for k, v in published.items() if k not in ("_name_or_path", "torch_dtype")}
    published.update(
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=4 * hidden_size,
        pad_token_id=published_tokenizer().pad_id,
        **keys,
    )
    return DnaBert2Config(**published)
