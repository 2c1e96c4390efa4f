"""Motifs: discovery (DNABERT-viz, attribution seqlets, TF-MoDISco), Motif objects, files, JASPAR
matching.
"""

from .discovery import check_background, find_motifs, find_seqlet_motifs
from .formats import (
    load_motifs,
    read_jaspar,
    read_matches,
    read_meme,
    save_motifs,
    write_jaspar,
    write_meme,
)
from .jaspar import jaspar_matrices, match_jaspar
from .modisco import read_modisco
from .motif import Motif, MotifSet, instance_table
from .redundancy import merge_similar
from .scan import genome_hits, hit_enrichment, scan

__all__ = [
    "Motif",
    "MotifSet",
    "check_background",
    "find_motifs",
    "find_seqlet_motifs",
    "instance_table",
    "jaspar_matrices",
    "load_motifs",
    "match_jaspar",
    "merge_similar",
    "read_jaspar",
    "read_matches",
    "read_meme",
    "read_modisco",
    "save_motifs",
    "write_jaspar",
    "write_meme",
    "scan",
    "hit_enrichment",
    "genome_hits",
]
