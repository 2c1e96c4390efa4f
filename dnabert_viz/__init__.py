"""dnabert_viz: an interpretability workbench for DNA language models.

``import dnabert_viz as dv``; the flow is sequences -> :class:`DnaModel` ->
:class:`Scores` -> motifs -> views. See the README for a tour and
ARCHITECTURE.md for the layers. ``dv.plot`` and ``dv.widgets`` (matplotlib,
plotly, ipywidgets) are imported on first use, so ``import dnabert_viz``
stays quick.
"""

import importlib

from . import engines
from .atlas import HeadAtlas, head_atlas
from .attention import AttentionMaps, attention_maps, cls_attention, cls_attention_ensemble
from .attribution import attribute, ism, variant_effects
from .compute import ScoreCache
from .contributions import (
    OneHotBridge,
    hypothetical_ism,
    onehot_gradient_shap,
    onehot_gradients,
    onehot_integrated_gradients,
)
from .demo import DemoData, load_demo
from .dependency import DependencyMap, dependency_map
from .embeddings import Embeddings
from .faithful import Faithfulness, faithfulness, sanity_check
from .fine_tuning import fine_tune
from .finetune import build_classifier, train_classifier
from .intervals import genome_instances, read_intervals
from .io import read_fasta, read_mutation_file, read_sequences, read_table
from .language_model import base_log_probs, lm_scores, lm_variant_effects
from .methods import get_method, method_names, register, score, variant_scores
from .model import DnaModel, load_model
from .motifs import (
    Motif,
    MotifSet,
    find_motifs,
    find_seqlet_motifs,
    genome_hits,
    hit_enrichment,
    load_motifs,
    match_jaspar,
    merge_similar,
    read_jaspar,
    read_meme,
    read_modisco,
    save_motifs,
    scan,
    write_jaspar,
    write_meme,
)
from .motifs import motif as _motif
from .onehot import load_ohe, save_ohe
from .pretraining import build_masked_lm, train_masked_lm
from .probing import probe_layers, random_model
from .scores import Scores
from .sequences import check_sequences, one_hot
from .tokenization import Encoding, load_tokenizer
from .tracks import chrom_sizes, write_bed, write_tracks
from .vcf import read_vcf

__version__ = "0.1.0"


def _draw_cards(motifs):
    """Motif cards with their logos for notebooks (``Motif._repr_html_``), by ``dv.plot``."""
    from .plot.cards import motif_cards

    return motif_cards(motifs, width=None)


_motif.draw_cards = _draw_cards

_LAZY = ("plot", "widgets")


def __getattr__(name: str):
    """Import ``dv.plot`` and ``dv.widgets`` on first use."""
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'dnabert_viz' has no attribute {name!r}")


__all__ = [
    "AttentionMaps",
    "DemoData",
    "DnaModel",
    "Encoding",
    "Motif",
    "MotifSet",
    "OneHotBridge",
    "ScoreCache",
    "Scores",
    "attention_maps",
    "attribute",
    "build_classifier",
    "check_sequences",
    "cls_attention",
    "cls_attention_ensemble",
    "find_motifs",
    "fine_tune",
    "engines",
    "find_seqlet_motifs",
    "genome_instances",
    "get_method",
    "hypothetical_ism",
    "base_log_probs",
    "lm_scores",
    "lm_variant_effects",
    "dependency_map",
    "DependencyMap",
    "ism",
    "load_demo",
    "load_model",
    "load_motifs",
    "load_ohe",
    "load_tokenizer",
    "match_jaspar",
    "merge_similar",
    "method_names",
    "one_hot",
    "onehot_gradients",
    "onehot_gradient_shap",
    "onehot_integrated_gradients",
    "plot",
    "read_fasta",
    "read_intervals",
    "read_jaspar",
    "read_meme",
    "read_modisco",
    "read_mutation_file",
    "read_sequences",
    "read_table",
    "register",
    "save_motifs",
    "save_ohe",
    "score",
    "train_classifier",
    "train_masked_lm",
    "build_masked_lm",
    "variant_effects",
    "variant_scores",
    "widgets",
    "write_bed",
    "write_jaspar",
    "write_meme",
    "Embeddings",
    "probe_layers",
    "random_model",
    "Faithfulness",
    "faithfulness",
    "sanity_check",
    "scan",
    "hit_enrichment",
    "genome_hits",
    "chrom_sizes",
    "write_tracks",
    "read_vcf",
    "HeadAtlas",
    "head_atlas",
]
