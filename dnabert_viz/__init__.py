"""dnabert_viz: an interpretability workbench for DNA language models.

``import dnabert_viz as dv``; the flow is sequences -> :class:`DnaModel` ->
:class:`Scores` -> motifs -> views. See the README for a tour.
"""

from .attention import AttentionMaps, attention_maps, cls_attention, cls_attention_ensemble
from .attribution import attribute, ism, variant_effects
from .demo import DemoData, load_demo
from .finetune import build_classifier, train_classifier
from .io import read_mutation_file
from .model import DnaModel, load_model
from .scores import Scores
from .sequences import check_sequences
from .tokenization import Encoding, load_tokenizer

__version__ = "0.1.0"

__all__ = [
    "AttentionMaps",
    "DemoData",
    "DnaModel",
    "Encoding",
    "Scores",
    "attention_maps",
    "attribute",
    "build_classifier",
    "check_sequences",
    "cls_attention",
    "cls_attention_ensemble",
    "ism",
    "load_demo",
    "load_model",
    "load_tokenizer",
    "read_mutation_file",
    "train_classifier",
    "variant_effects",
]
