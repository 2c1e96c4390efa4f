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

PUBLISHED_FILES = Path(__file__).parents[1] / "data" / "dnabert2"
TIED = "cls.predictions.decoder.weight"


def is_dnabert2(config: dict) -> bool:
    """Whether a config.json (as a dict) is DNABERT-2's: ALiBi size or ``auto_map`` into
    ``bert_layers``."""
    auto_map = config.get("auto_map") or {}
    return "alibi_starting_size" in config or any(
        "bert_layers" in str(v) for v in auto_map.values()
    )


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``.bin`` file, on the CPU.

    ``load_model`` has already checked that the file reads (a corrupt one is
    named there); here a file that holds something else than a state dict is.
    """
    if path.suffix == ".json":
        raise ValueError(
            f"{path}: sharded DNABERT-2 weights are not supported; merge the shards into one file"
        )
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: not a state dict (a mapping of parameter names to tensors)")
    return state


def _head(config: dict, names: set[str]) -> str:
    arch = " ".join(config.get("architectures") or [])
    if "SequenceClassification" in arch:
        return "classifier"
    if "MaskedLM" in arch or "PreTraining" in arch:
        return "mlm"
    if "classifier.weight" in names:
        return "classifier"
    return "mlm" if any(n.startswith("cls.predictions.") for n in names) else "encoder"


def _check_vocab(folder: Path, config: dict, tokenizer: DnaTokenizer) -> int:
    """The pad id, after checking that tokenizer and config agree on vocabulary size and [PAD]."""
    size = config.get("vocab_size")
    if size != len(tokenizer.vocab):
        raise ValueError(
            f"{folder / 'config.json'}: vocab_size {size} but {folder / 'tokenizer.json'} has "
            f"{len(tokenizer.vocab)} tokens; the tokenizer does not belong to this model"
        )
    pad = config.get("pad_token_id", tokenizer.pad_id)
    if pad != tokenizer.pad_id:
        raise ValueError(
            f"{folder / 'config.json'}: pad_token_id {pad} but the tokenizer's [PAD] is "
            f"{tokenizer.pad_id}"
        )
    return pad


def _model_config(
    config: dict, weights: Path, head: str, state: dict, pad_id: int
) -> DnaBert2Config:
    keys = {
        k: v
        for k, v in config.items()
        if k not in ("_name_or_path", "architectures", "torch_dtype", "dtype")
    }
    keys["pad_token_id"] = pad_id
    if head == "classifier" and "classifier.weight" in state:
        n = state["classifier.weight"].shape[0]
        said = len(config["id2label"]) if "id2label" in config else config.get("num_labels", n)
        if said != n:
            raise ValueError(f"{weights}: classifier has {n} classes but config.json says {said}")
        keys["num_labels"] = n
    try:
        return DnaBert2Config(**keys)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{weights.parent / 'config.json'}: not a DNABERT-2 config ({err})"
        ) from None


def load_dnabert2(
    folder: Path, config: dict, tokenizer: DnaTokenizer, weights: Path
) -> DnaBert2PreTrainedModel:
    """Build the native DNABERT-2 model of a published-layout folder and load its weights.

    Parameters
    ----------
    folder : Path
        The checkpoint folder.
    config : dict
        Its ``config.json``, parsed.
    tokenizer : DnaTokenizer
        Its tokenizer (``tokenizer.json``).
    weights : Path
        Its weights file.

    Raises
    ------
    ValueError
        Naming the file: vocabulary size or [PAD] that disagree with the
        tokenizer, an unreadable weights file, weights with names the
        architecture does not have (or lacking ones it has), or shapes that
        disagree with config.json.
    """
    pad_id = _check_vocab(folder, config, tokenizer)
    state = read_state_dict(weights)
    head = _head(config, set(state))
    if head == "encoder" and state and all(k.startswith("bert.") for k in state):
        # a head model's encoder, loaded bare
        state = {k.removeprefix("bert."): v for k, v in state.items()}
    cfg = _model_config(config, weights, head, state, pad_id)
    pooler = any(".pooler." in f".{k}" for k in state)

    def build():
        if head == "classifier":
            return DnaBert2ForSequenceClassification(cfg)
        return DnaBert2ForMaskedLM(cfg, pooler) if head == "mlm" else DnaBert2Model(cfg, pooler)

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build().state_dict().items()}
    unexpected = sorted(set(state) - set(expected))
    missing = sorted(set(expected) - set(state) - {TIED})
    if unexpected:
        raise ValueError(
            f"{weights}: {len(unexpected)} weights DNABERT-2 ({head}) does not have, e.g. "
            f"{unexpected[:3]}; "
            f"expected the published names (bert_layers.py), e.g. {sorted(expected)[:2]}"
        )
    if missing:
        raise ValueError(
            f"{weights}: lacks {len(missing)} DNABERT-2 ({head}) parameters, e.g. {missing[:3]}"
        )
    wrong = [
        f"{k} {tuple(state[k].shape)} (config.json: {expected[k]})"
        for k in expected
        if k in state and tuple(state[k].shape) != expected[k]
    ]
    if wrong:
        raise ValueError(f"{weights}: shapes disagree with config.json: {', '.join(wrong[:3])}")
    model = build()
    # names and shapes checked above; the tied decoder may be absent
    model.load_state_dict(state, strict=False)
    return model.eval()


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
    keys = json.loads((PUBLISHED_FILES / "config.json").read_text())
    keys = {k: v for k, v in keys.items() if k not in ("_name_or_path", "torch_dtype")}
    keys.update(
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=4 * hidden_size,
        num_labels=num_labels,
        hidden_dropout_prob=dropout,
        pad_token_id=published_tokenizer().pad_id,
    )
    torch.manual_seed(seed)
    return DnaBert2ForSequenceClassification(DnaBert2Config(**keys))
