"""dnabert_viz: an interpretability workbench for DNA language models.

``import dnabert_viz as dv``; the flow is sequences -> :class:`DnaModel` ->
:class:`Scores` -> motifs -> views. See the README for a tour.
"""

from . import plot, widgets
from .attention import AttentionMaps, attention_maps, cls_attention, cls_attention_ensemble
from .attribution import attribute, ism, ism_scores, variant_effects
from .demo import DemoData, load_demo
from .finetune import build_classifier, train_classifier
from .io import read_fasta, read_mutation_file, read_sequences, read_table
from .model import DnaModel, load_model
from .motifs import (
    Motif,
    find_motifs,
    find_seqlet_motifs,
    load_motifs,
    match_jaspar,
    read_jaspar,
    read_meme,
    save_motifs,
    write_jaspar,
    write_meme,
)
from .scores import Scores
from .sequences import check_sequences
from .tokenization import Encoding, load_tokenizer

__version__ = "0.1.0"

__all__ = [
    "plot",
    "widgets",
    "write_meme",
    "write_jaspar",
    "save_motifs",
    "read_meme",
    "read_jaspar",
    "match_jaspar",
    "load_motifs",
    "find_seqlet_motifs",
    "find_motifs",
    "Motif",
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
    "ism_scores",
    "read_fasta",
    "read_sequences",
    "read_table",
    "load_demo",
    "load_model",
    "load_tokenizer",
    "read_mutation_file",
    "train_classifier",
    "variant_effects",
]
