"""Looking inside a trained network: feature maps, receptive fields, top activations, plots.

Everything except the plot_* functions works without matplotlib; those need the optional
extra (``pip install cnnkit[viz]``) and import it only when called.
"""

from cnnkit.visualize.feature_maps import feature_maps
from cnnkit.visualize.plots import (
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_top_activations,
)
from cnnkit.visualize.receptive_field import receptive_field
from cnnkit.visualize.top_activations import top_activations

__all__ = [
    "feature_maps",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_top_activations",
    "receptive_field",
    "top_activations",
]
