"""The families built natively: how each is recognised in config.json and loaded.

``load_model`` asks :func:`native_family` first; a checkpoint of one of
these families loads without its own (remote) code ever running. Adding a
family is one :class:`Family` line here, with its module pair in this
folder (the network, and the reading of its published layout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .caduceus_checkpoint import is_caduceus, load_caduceus
from .cnn_checkpoint import is_cnn, load_cnn
from .dnabert2_checkpoint import is_dnabert2, load_dnabert2
from .gena_lm_checkpoint import is_gena_lm, load_gena_lm
from .hyenadna_checkpoint import is_hyenadna, load_hyenadna
from .nucleotide_transformer_checkpoint import is_nt_v2, load_nt_v2


@dataclass(frozen=True)
class Family:
    """A natively built family.

    Attributes
    ----------
    name : str
        As users know it.
    detect : callable
        ``detect(config) -> bool`` on config.json as a dict.
    load : callable
        ``load(folder, config, tokenizer, weights, found) -> PreTrainedModel``:
        the checkpoint folder (Path), its config.json parsed (dict), its
        tokenizer (:class:`~dnabert_viz.tokenization.DnaTokenizer`), its
        weights file (Path) and the names and shapes of the file's tensors
        (:func:`~.weights.weight_shapes`) in; the native model of the head
        the folder holds out, in eval mode, every tensor equal to the file's
        (:func:`~.weights.check_loaded`). Bad input raises ValueError naming
        the file, before any computation.
    attention : bool
        Whether the network has attention weights to read.
    """

    name: str
    detect: Callable[[dict], bool]
    load: Callable
    attention: bool


FAMILIES = (
    Family("DNABERT-2", is_dnabert2, load_dnabert2, attention=True),
    Family("HyenaDNA", is_hyenadna, load_hyenadna, attention=False),
    Family("Nucleotide Transformer v2", is_nt_v2, load_nt_v2, attention=True),
    Family("Caduceus", is_caduceus, load_caduceus, attention=False),
    Family("GENA-LM", is_gena_lm, load_gena_lm, attention=True),
    Family("one-hot CNN", is_cnn, load_cnn, attention=False),
)


def native_family(config: dict) -> Family | None:
    """The native family of a config.json (as a dict), or None."""
    return next((family for family in FAMILIES if family.detect(config)), None)
