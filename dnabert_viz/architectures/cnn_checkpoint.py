"""The one-hot CNN's checkpoint folders: built new for :func:`dnabert_viz.train_classifier`, and
read back.

The layout is what ``save_pretrained`` writes: ``config.json`` with
``model_type: dnabert_viz_cnn``, ``model.safetensors`` (the convolutions and
the classifier; the one-hot table is rebuilt from the config) and the
character tokenizer's ``tokenizer_config.json`` (``CharacterTokenizer``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..tokenization import CharTokenizer, DnaTokenizer
from .cnn import OneHotCnnConfig, OneHotCnnForSequenceClassification
from .weights import Shapes, classifier_keys, load_native

TOKENIZER_CLASS = "CharacterTokenizer"


def is_cnn(config: dict) -> bool:
    """Whether a config.json (as a dict) is the one-hot CNN's."""
    return config.get("model_type") == OneHotCnnConfig.model_type


def tokenizer() -> CharTokenizer:
    """The CNN's tokenizer: one token per nucleotide (HyenaDNA's characters and ids)."""
    return CharTokenizer(tokenizer_class=TOKENIZER_CLASS)


def build_cnn(
    *,
    channels: int,
    num_layers: int,
    num_labels: int,
    dropout: float,
    max_position_embeddings: int,
    seed: int,
) -> OneHotCnnForSequenceClassification:
    """An untrained CNN classifier (seeded) reading :func:`tokenizer`'s ids (the parameters:
    :class:`~.cnn.OneHotCnnConfig`'s keys)."""
    tok = tokenizer()
    config = OneHotCnnConfig(
        channels=channels,
        num_hidden_layers=num_layers,
        dropout=dropout,
        vocab_size=len(tok.vocab),
        base_token_ids=[tok.vocab[b] for b in "ACGT"],
        pad_token_id=tok.pad_id,
        max_position_embeddings=max_position_embeddings,
        num_labels=num_labels,
        architectures=[OneHotCnnForSequenceClassification.__name__],
    )
    torch.manual_seed(seed)
    return OneHotCnnForSequenceClassification(config)


def load_cnn(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path, found: Shapes
) -> OneHotCnnForSequenceClassification:
    """Build the CNN of a saved folder and load its weights.

    Parameters and return value: those of every family's loader (:attr:`.families.Family.load`).

    Raises
    ------
    ValueError
        Naming the file: another tokenizer than the character one, base ids that are not the
        tokenizer's A, C, G, T, a config the CNN does not take, weights that do not fit it.
    """
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(
            f"{folder}: a one-hot CNN config.json with a {tokenizer.scheme} tokenizer; the CNN "
            "reads one token per nucleotide (tokenizer_config.json: CharacterTokenizer)"
        )
    bases = [tokenizer.vocab[b] for b in "ACGT"]
    keys = {k: v for k, v in config.items() if k not in ("_name_or_path", "dtype", "torch_dtype")}
    if keys.get("base_token_ids", bases) != bases:
        raise ValueError(
            f"{folder / 'config.json'}: base_token_ids {keys['base_token_ids']} but the "
            f"tokenizer's A, C, G, T are {bases}"
        )
    keys.update(classifier_keys("classifier", config, found, "classifier.weight", folder))
    return load_native(
        folder,
        weights,
        found,
        lambda keys: OneHotCnnForSequenceClassification(OneHotCnnConfig(**keys)),
        keys,
        family="one-hot CNN",
        what="one-hot CNN (classifier)",
    )
