"""Static and interactive figures: motif and attribution logos, score tracks, mutation maps, attention heatmaps."""

from .logos import attribution_logo, figure_png, logo, logo_png
from .tracks import attention_heatmap, layer_head_summary, mutation_map, track

__all__ = ["attention_heatmap", "attribution_logo", "figure_png", "layer_head_summary", "logo", "logo_png",
           "mutation_map", "track"]
