"""Interactive views for JupyterLab (ipywidgets 8 and plotly FigureWidgets): explorer, motif
gallery, attention, dependency maps, embeddings, the genome (igv.js).

Each view is an ipywidgets box whose state is synced traits (set, observe
and link them: ``ex.index = 3``), draws through :mod:`dnabert_viz.plot`,
shows itself when it is the last expression of a cell, and writes a
standalone offline page with ``save_html(path)``. ``Row`` and ``Column`` put views side by side
or one under another and carry their snapshots (a plain ipywidgets box carries none).
"""

from .attention_view import AttentionView
from .boxes import Column, Row
from .dependency_view import DependencyView
from .embedding_view import EmbeddingView
from .explorer import PositionContext, SequenceExplorer
from .gallery import MotifGallery
from .genome_view import GenomeView

__all__ = [
    "AttentionView",
    "Column",
    "DependencyView",
    "EmbeddingView",
    "GenomeView",
    "MotifGallery",
    "PositionContext",
    "Row",
    "SequenceExplorer",
]
