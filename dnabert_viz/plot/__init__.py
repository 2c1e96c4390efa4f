"""Static and interactive figures: motif and attribution logos, score tracks, mutation maps,
attention heatmaps.
"""

from .atlas import head_atlas
from .embedding import embedding_scatter
from .export import save_figure
from .faithfulness import faithfulness_curves
from .logos import attribution_logo, contribution_logo, figure_png, logo, logo_png
from .probes import probe_curve
from .static import plotly_png
from .tracks import (
    attention_heatmap,
    dependency_heatmap,
    head_view,
    layer_head_summary,
    mutation_map,
    track,
)
from .training import training_curves
from .variants import variant_logos

__all__ = [
    "attention_heatmap",
    "attribution_logo",
    "contribution_logo",
    "dependency_heatmap",
    "embedding_scatter",
    "figure_png",
    "head_view",
    "layer_head_summary",
    "logo",
    "logo_png",
    "mutation_map",
    "plotly_png",
    "probe_curve",
    "save_figure",
    "track",
    "training_curves",
    "faithfulness_curves",
    "variant_logos",
    "head_atlas",
]
